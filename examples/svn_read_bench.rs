//! Benchmark: the daemon's read of one new SVN revision
//! (`Source::read_newest` from the previous read) on the 10,000-user tree
//! (`/tmp/rolesync-scale-10k/svn`, made by `scale_latency --only svn`;
//! copied to a scratch folder first, never committed into), with the
//! long-lived `svnserve -t` session beside the same read without it (one
//! incremental `svnadmin dump`), in the same run: each commit is one
//! project's `user-roles.xml` changed by `svnmucc`, then read. Each way
//! runs in a child process of its own; the dump's with a `PATH` that
//! holds `svnadmin`, `svnlook` and `svnmucc` but no `svnserve`, so the session never
//! starts there.
//!
//! `cargo run --release --example svn_read_bench [-- COMMITS]`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rolesync::repo::{Options, Source};
use rolesync::snapshot::Limits;

const TREE: &str = "/tmp/rolesync-scale-10k/svn";
const FILE: &str = "Dept 0/p0000/.polarion/security/user-roles.xml";

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("the tool runs");
    assert!(out.status.success(), "{cmd:?}: {out:?}");
    out.stdout
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Commit `commits` edits to `repo` and time the read of each.
fn measure(repo: &Path, commits: usize) -> Vec<f64> {
    let source = Source::open(repo, &Options::default()).expect("an SVN repository");
    let limits = Limits::default();
    let mut prev = source.read_newest(None, limits).expect("the full read");
    let url = format!("file://{}", repo.display());
    let text = run(Command::new("svnlook").arg("cat").arg(repo).arg(FILE));
    let scratch = repo.with_extension(format!("put.{}", std::process::id()));
    let mut ms = Vec::new();
    // One more than measured: the first read starts the session.
    for i in 0..=commits {
        let mut t = text.clone();
        t.extend_from_slice(format!("<!-- edit {i} {} -->\n", std::process::id()).as_bytes());
        std::fs::write(&scratch, t).expect("write");
        run(Command::new("svnmucc")
            .args(["-m", "edit", "put"])
            .arg(&scratch)
            .arg(format!("{url}/{FILE}")));
        let started = Instant::now();
        prev = source.read_newest(Some(prev), limits).expect("a read");
        if i > 0 {
            ms.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    ms
}

fn child(way: &str, repo: &Path, commits: usize, path: Option<&Path>) -> String {
    let mut cmd = Command::new(std::env::current_exe().expect("the example"));
    cmd.args(["--child", way])
        .arg(repo)
        .arg(commits.to_string());
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    String::from_utf8_lossy(&run(&mut cmd)).into_owned()
}

fn report(ms: &mut [f64]) -> String {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {:.2} ms  p99 {:.2} ms  min {:.2} ms  ({} reads)",
        at(0.5),
        at(0.99),
        ms[0],
        ms.len()
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let repo = PathBuf::from(&args[3]);
        let commits = args[4].parse().expect("a count");
        println!("{}", report(&mut measure(&repo, commits)));
        return;
    }
    let commits: usize = args.get(1).map_or(30, |c| c.parse().expect("a count"));
    assert!(
        Path::new(TREE).join("format").is_file(),
        "{TREE} is missing: run `scale_latency --only svn` first"
    );
    let scratch = std::env::temp_dir().join(format!("rolesync-svn-read-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch");
    let repo = scratch.join("svn");
    run(Command::new("cp").arg("-a").arg(TREE).arg(&repo));
    // A PATH without svnserve: the dump's way.
    let bin = scratch.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    for tool in ["svnadmin", "svnlook", "svnmucc"] {
        let real = String::from_utf8_lossy(&run(
            Command::new("sh").args(["-c", &format!("command -v {tool}")])
        ))
        .trim()
        .to_owned();
        std::os::unix::fs::symlink(real, bin.join(tool)).expect("symlink");
    }
    let files = run(Command::new("svnlook")
        .args(["tree", "--full-paths"])
        .arg(&repo))
    .split(|&b| b == b'\n')
    .filter(|l| !l.is_empty() && !l.ends_with(b"/"))
    .count();
    println!(
        "svn read of one new revision, {files} files in the repository, {commits} commits each, load {}",
        loadavg()
    );
    for round in 0..2 {
        let ra = child("session", &repo, commits, None);
        println!("  round {round} svnserve session: {}", ra.trim());
        let dump = child("dump", &repo, commits, Some(&bin));
        println!("  round {round} svnadmin dump:    {}", dump.trim());
    }
    println!("load after {}", loadavg());
    let _ = std::fs::remove_dir_all(&scratch);
}
