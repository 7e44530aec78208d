//! Benchmark: how fast a fleet converges (issue 14). A bare Git repository
//! (sample-repo) is served by a real `git daemon` on loopback, and an SVN
//! repository of the same files by a real `svnserve`; each is followed
//! by three `rolesync serve --remote` processes; PUSHES (default 20) role
//! changes are pushed one at a time, and for each the time from `git push`
//! returning to the slowest follower's access file being `rolesync render`
//! of the pushed commit is taken (a follower's time is when its file
//! first changes; every file is then checked to be that rendering): once with the notifying hook's
//! `POST /v1/reload` to each follower (poll 1h: only the notification
//! moves them), once by polling alone (`--remote-poll 1s`). The reference,
//! measured beside them in the same run: one `rolesync serve --repo` on the
//! bare repository (or the SVN repository) itself (the single-server
//! set-up, its file watch).
//!
//! Run: `cargo build --release && cargo run --release --example fleet_bench [PUSHES]`

#[path = "common/bench.rs"]
mod bench;
use bench::binary;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "fleet-bench-token";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = bench::git(dir).args(args).output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A `rolesync serve` (its address read from stderr), killed when dropped.
struct Serve {
    child: Child,
    addr: String,
    access: PathBuf,
}

impl Serve {
    fn start(dir: &Path, name: &str, source: &[&str], extra: &[&str]) -> Serve {
        let access = dir.join(format!("{name}.access"));
        let mut child = Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(source)
            .arg("--access-out")
            .arg(&access)
            .arg("--state-dir")
            .arg(dir.join(name))
            .arg("--token-file")
            .arg(dir.join("token"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rolesync serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let addr = loop {
            let line = lines.next().expect("a line").expect("text");
            if let Some(a) = line.strip_prefix("rolesync: listening on http://") {
                break a.trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Serve {
            child,
            addr,
            access,
        }
    }

    fn notify(&self) {
        let mut s = std::net::TcpStream::connect(&self.addr).expect("connect");
        write!(s, "POST /v1/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").expect("send");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.access).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// When each server's file first differs from `before`, from `start`;
/// waits for all (a file is replaced whole, so its first new content is
/// the new revision's, which the caller checks).
fn until_all_differ(servers: &[&Serve], before: &str, start: Instant) -> Vec<Duration> {
    let mut done = vec![None; servers.len()];
    while done.iter().any(Option::is_none) {
        for (i, s) in servers.iter().enumerate() {
            if done[i].is_none() && s.file() != before {
                done[i] = Some(start.elapsed());
            }
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no convergence");
        std::thread::sleep(Duration::from_micros(500));
    }
    done.into_iter().flatten().collect()
}

/// Wait until every server's file is `expected`.
fn until_all(servers: &[&Serve], expected: &str) {
    let start = Instant::now();
    while servers.iter().any(|s| s.file() != expected) {
        assert!(start.elapsed() < Duration::from_secs(60), "no convergence");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn render(work: &Path) -> String {
    let out = Command::new(binary())
        .args(["render", "--repo"])
        .arg(work)
        .output()
        .expect("render");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn line(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what:<44} p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().expect("times"))
    );
}

/// Where the configuration is committed and how it reaches the remote.
enum Kind {
    /// A Git work tree pushed to the bare repository `git daemon` serves.
    Git { bare: PathBuf },
    /// An SVN working copy committed to the repository `svnserve` serves.
    Svn { repo: PathBuf },
}

struct Fleet {
    dir: PathBuf,
    /// The work tree or working copy the changes are made in.
    work: PathBuf,
    url: String,
    kind: Kind,
    pushes: usize,
}

impl Fleet {
    /// Commit and push change `n` (a user in or out of a role).
    fn push(&self, n: usize) {
        let file = self
            .work
            .join("Engineering/elibrary/.polarion/security/user-roles.xml");
        let text = std::fs::read_to_string(&file).expect("read");
        let (from, to) = if n.is_multiple_of(2) {
            ("<user name=\"dave\">", "<user name=\"grace\">")
        } else {
            ("<user name=\"grace\">", "<user name=\"dave\">")
        };
        std::fs::write(&file, text.replacen(from, to, 1)).expect("write");
        let message = format!("push {n}");
        match &self.kind {
            Kind::Git { .. } => {
                git(&self.work, &["commit", "-q", "-am", &message]);
                git(&self.work, &["push", "-q", "origin", "HEAD:main"]);
            }
            Kind::Svn { .. } => run(Command::new("svn")
                .arg("commit")
                .arg("-q")
                .arg("-m")
                .arg(&message)
                .arg(&self.work)),
        }
    }

    /// The served repository, which the single-server reference reads.
    fn served(&self) -> &Path {
        match &self.kind {
            Kind::Git { bare } => bare,
            Kind::Svn { repo } => repo,
        }
    }

    /// PUSHES pushes to three followers (`poll`; `notify`: each told after
    /// the push) and the local reference; the slowest follower's times and
    /// the reference's.
    fn run(&self, tag: &str, poll: &str, notify: bool) -> (Vec<Duration>, Vec<Duration>) {
        let flags = ["--remote-poll", poll];
        let followers: Vec<Serve> = (0..3)
            .map(|i| {
                let source = ["--remote", self.url.as_str()];
                Serve::start(&self.dir, &format!("{tag}{i}"), &source, &flags)
            })
            .collect();
        let served = self.served().display().to_string();
        let local = Serve::start(
            &self.dir,
            &format!("{tag}-local"),
            &["--repo", &served],
            &[],
        );
        let mut before = render(self.served());
        let all: Vec<&Serve> = followers.iter().chain([&local]).collect();
        until_all(&all, &before);
        let (mut slowest, mut reference) = (Vec::new(), Vec::new());
        for n in 0..self.pushes {
            self.push(n);
            let start = Instant::now();
            if notify {
                followers.iter().for_each(Serve::notify);
            }
            let times = until_all_differ(&all, &before, start);
            slowest.push(*times[..3].iter().max().expect("three"));
            reference.push(times[3]);
            before = render(self.served());
            for s in &all {
                assert_eq!(s.file(), before, "a server's file is the pushed revision's");
            }
        }
        (slowest, reference)
    }

    /// Both runs, notified and polled, printed.
    fn report(&self, what: &str) {
        println!(
            "{} pushes of one role change (sample-repo), 3 followers of {what}",
            self.pushes
        );
        let (notified, local_a) = self.run("notified", "1h", true);
        line("notified (POST /v1/reload), slowest of 3", notified);
        line(
            "  reference: serve --repo on the served repository",
            local_a,
        );
        let (polled, local_b) = self.run("polled", "1s", false);
        line("poll only (--remote-poll 1s), slowest of 3", polled);
        line(
            "  reference: serve --repo on the served repository",
            local_b,
        );
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

fn wait_listening(port: u16) {
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The Git fleet: sample-repo committed, cloned bare into `dir/served`,
/// served by `git daemon`.
fn git_fleet(dir: &Path, pushes: usize) -> (Fleet, Child) {
    let work = dir.join("work");
    bench::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-repo"),
        &work,
    );
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "initial"]);
    let bare = dir.join("served/config.git");
    let bare_arg = bare.display().to_string();
    git(&work, &["clone", "-q", "--bare", ".", &bare_arg]);
    git(&work, &["remote", "add", "origin", &bare_arg]);
    let port = free_port();
    let exec = git(&work, &["--exec-path"]);
    let daemon = Command::new(Path::new(&exec).join("git-daemon"))
        .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", dir.join("served").display()))
        .arg(dir.join("served"))
        .stderr(Stdio::null())
        .spawn()
        .expect("git daemon");
    wait_listening(port);
    let fleet = Fleet {
        dir: dir.to_owned(),
        work,
        url: format!("git://127.0.0.1:{port}/config.git"),
        kind: Kind::Git { bare },
        pushes,
    };
    (fleet, daemon)
}

/// The SVN fleet: sample-repo imported into `dir/served/config`, checked
/// out, served by `svnserve` (anonymous read, the default).
fn svn_fleet(dir: &Path, pushes: usize) -> (Fleet, Child) {
    let repo = dir.join("served/config");
    std::fs::create_dir_all(dir.join("served")).expect("mkdir");
    run(Command::new("svnadmin").arg("create").arg(&repo));
    let url = format!("file://{}", repo.display());
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-repo");
    run(Command::new("svn")
        .args(["import", "-q", "-m", "initial"])
        .arg(&sample)
        .arg(&url));
    let work = dir.join("wc");
    run(Command::new("svn")
        .args(["checkout", "-q", &url])
        .arg(&work));
    let port = free_port();
    let daemon = Command::new("svnserve")
        .args(["-d", "--foreground", "--listen-host", "127.0.0.1"])
        .arg(format!("--listen-port={port}"))
        .arg("-r")
        .arg(dir.join("served"))
        .stderr(Stdio::null())
        .spawn()
        .expect("svnserve");
    wait_listening(port);
    let fleet = Fleet {
        dir: dir.to_owned(),
        work,
        url: format!("svn://127.0.0.1:{port}/config"),
        kind: Kind::Svn { repo },
        pushes,
    };
    (fleet, daemon)
}

fn main() {
    let pushes: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    for (what, make) in [
        (
            "git://, git daemon on loopback",
            git_fleet as fn(&Path, usize) -> (Fleet, Child),
        ),
        ("svn://, svnserve on loopback", svn_fleet),
    ] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (fleet, mut server) = make(tmp.path(), pushes);
        std::fs::write(tmp.path().join("token"), TOKEN).expect("token");
        fleet.report(what);
        let _ = server.kill();
        let _ = server.wait();
    }
}
