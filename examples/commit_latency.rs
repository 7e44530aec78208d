//! Benchmark: latency from `git commit` (or `git push`) returning to the new
//! access file being in place, with `rolesync serve` watching the repository.
//!
//! Run: `cargo build --release && cargo run --release --example commit_latency [COMMITS]`
//! It starts the release binary next to this example (target/release/rolesync),
//! makes a Git repository from `sample-repo/`, commits COMMITS (default 100)
//! role changes one at a time, and prints p50 / p99 / max for direct commits
//! for pushes to a bare repository, and for `svn commit` to an SVN config
//! repository (hooks installed).

#[path = "common/bench.rs"]
mod bench;
use bench::binary;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn git(dir: &Path, args: &[&str]) {
    let out = bench::git(dir).args(args).output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn start(repo: &Path, access: &Path, state: &Path) -> std::process::Child {
    let mut child = Command::new(binary())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--poll-interval",
            "0s",
            "--repo",
        ])
        .arg(repo)
        .arg("--access-out")
        .arg(access)
        .arg("--state-dir")
        .arg(state)
        .stderr(Stdio::piped())
        .spawn()
        .expect("rolesync serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    for line in lines.by_ref() {
        if line.expect("text").starts_with("rolesync: listening") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    child
}

/// Wait for the file to hold other bytes than `before` (the file names no
/// revision, and every commit here moves a user in or out of a role
/// group); the time counts from `start`. Returns the time and the new text.
fn wait_for_change(access: &Path, before: &str, start: Instant) -> (Duration, String) {
    loop {
        let text = std::fs::read_to_string(access).unwrap_or_default();
        if !text.is_empty() && text != before {
            return (start.elapsed(), text);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no new publication of {}",
            access.display()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Time `commits` changes: `commit(i)` makes change `i` and returns when
/// the commit (or push) returned; each is timed until the file changes.
fn time_commits(
    access: &Path,
    changes: std::ops::Range<usize>,
    mut commit: impl FnMut(usize) -> Instant,
) -> Vec<f64> {
    let (_, mut text) = wait_for_change(access, "", Instant::now());
    let mut ms = Vec::new();
    for i in changes {
        let returned = commit(i);
        let (took, now) = wait_for_change(access, &text, returned);
        ms.push(took.as_secs_f64() * 1e3);
        text = now;
    }
    ms
}

fn report(what: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{what:<28} n={:<4} p50={:>6.1} ms  p99={:>6.1} ms  max={:>6.1} ms",
        ms.len(),
        pct(0.50),
        pct(0.99),
        ms[ms.len() - 1]
    );
}

fn toggle(file: &Path, i: usize) {
    let text = std::fs::read_to_string(file).expect("read");
    let (from, to) = if i.is_multiple_of(2) {
        ("<user name=\"dave\">", "<user name=\"frank\">")
    } else {
        ("<user name=\"frank\">", "<user name=\"dave\">")
    };
    std::fs::write(file, text.replacen(from, to, 1)).expect("write");
}

fn main() {
    let commits: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path().join("config");
    bench::copy_tree(&root.join("sample-repo"), &work);
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "initial"]);
    let roles = work.join("Engineering/elibrary/.polarion/security/user-roles.xml");

    // 1. Commits into the watched repository.
    let access = tmp.path().join("access");
    let mut daemon = start(&work, &access, &tmp.path().join("state"));
    let direct = time_commits(&access, 0..commits, |i| {
        toggle(&roles, i);
        git(&work, &["commit", "-q", "-am", &format!("change {i}")]);
        Instant::now()
    });
    let _ = daemon.kill();
    let _ = daemon.wait();

    // 2. Pushes to a bare repository with the hooks installed.
    let bare = tmp.path().join("config.git");
    git(
        tmp.path(),
        &["clone", "-q", "--bare", "config", "config.git"],
    );
    let state = tmp.path().join("state2");
    let out = Command::new(binary())
        .args(["hook", "install", "--repo"])
        .arg(&bare)
        .arg("--state-dir")
        .arg(&state)
        .output()
        .expect("install");
    assert!(out.status.success());
    let access2 = tmp.path().join("access2");
    let mut daemon = start(&bare, &access2, &state);
    let pushed = time_commits(&access2, commits..2 * commits, |i| {
        toggle(&roles, i);
        git(&work, &["commit", "-q", "-am", &format!("change {i}")]);
        git(
            &work,
            &["push", "-q", bare.to_str().expect("utf-8"), "main"],
        );
        Instant::now()
    });
    let _ = daemon.kill();
    let _ = daemon.wait();

    // 3. svn commit to an SVN repository with the hooks installed.
    let svn_repo = tmp.path().join("svnrepo");
    let ok = |cmd: &mut Command| {
        let out = cmd.output().expect("svn tools");
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    ok(Command::new("svnadmin").arg("create").arg(&svn_repo));
    let url = format!("file://{}", svn_repo.display());
    ok(Command::new("svn")
        .args(["import", "-q", "-m", "init"])
        .arg(root.join("sample-repo"))
        .arg(&url));
    let wc = tmp.path().join("wc");
    ok(Command::new("svn").args(["checkout", "-q", &url]).arg(&wc));
    let state3 = tmp.path().join("state3");
    ok(Command::new(binary())
        .args(["hook", "install", "--repo"])
        .arg(&svn_repo)
        .arg("--state-dir")
        .arg(&state3));
    let access3 = tmp.path().join("access3");
    let mut daemon = start(&svn_repo, &access3, &state3);
    let svn_roles = wc.join("Engineering/elibrary/.polarion/security/user-roles.xml");
    let committed = time_commits(&access3, 0..commits, |i| {
        toggle(&svn_roles, i);
        ok(Command::new("svn")
            .args(["commit", "-q", "-m", "change"])
            .arg(&wc));
        Instant::now()
    });
    let _ = daemon.kill();
    let _ = daemon.wait();

    println!("commit → access file in place (sample-repo: 3 projects, 8 users)");
    report("git commit (watcher)", direct);
    report("git push (hooks + watcher)", pushed);
    report("svn commit (hooks + watcher)", committed);
}
