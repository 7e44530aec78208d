//! Benchmark: commit → access file in place on the synthetic configuration
//! (examples/common/synthetic.rs) at 10k scale (10,000 users, 1,000
//! projects) or, with `--100k`, ten times that, for a Git repository the
//! daemon watches (`git commit` into it) and an SVN repository (`svnmucc`
//! commits, no working copy). Each commit changes one project's roles (a
//! group gains or loses a role); the time runs from the commit command's
//! return to the access file being replaced. Printed beside it: one
//! `rolesync render` of the same tree (the full rebuild), the daemon's peak
//! RSS (VmHWM), its reload phases (`debug` log) and /proc/loadavg.
//!
//! Run: `cargo build --release && cargo build --release --example scale_latency &&
//! target/release/examples/scale_latency [--100k] [--commits N] [--only git|svn]
//! [--debounce DURATION] [--dir PATH] [--clean]`
//! The trees are generated once into /tmp/rolesync-scale-<scale>/ (or
//! `--dir`) and reused; `--clean` deletes them at the end. Each commit's
//! time is printed in order, and the phases of the first reloads one by one
//! (the first commit after the start was once the outlier).

#[path = "common/bench.rs"]
mod bench;
#[path = "common/synthetic.rs"]
mod synthetic;
use bench::{binary, git};

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The command line.
#[derive(Debug, Clone)]
struct Opts {
    big: bool,
    commits: usize,
    only: Option<String>,
    debounce: Option<String>,
    dir: Option<PathBuf>,
    clean: bool,
}

fn opts() -> Opts {
    let mut o = Opts {
        big: false,
        commits: 30,
        only: None,
        debounce: None,
        dir: None,
        clean: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--100k" => o.big = true,
            "--commits" => o.commits = args.next().and_then(|n| n.parse().ok()).expect("N"),
            "--only" => o.only = args.next(),
            "--debounce" => o.debounce = args.next(),
            "--dir" => o.dir = args.next().map(PathBuf::from),
            "--clean" => o.clean = true,
            other => panic!("unknown argument {other}"),
        }
    }
    o
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the tool runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_files(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (rel, bytes) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }
}

/// The generated trees (made once): `tree/` (a plain folder: the render
/// reference reads it), `git/` (a work tree with one commit); the SVN
/// repository `svn/` is loaded from the files by `bench_svn`.
fn ensure_trees(base: &Path, scale: synthetic::Scale) -> BTreeMap<String, Vec<u8>> {
    let files = synthetic::config_at(scale);
    if base.join("complete").exists() {
        return files;
    }
    let _ = std::fs::remove_dir_all(base);
    let started = Instant::now();
    write_files(&base.join("tree"), &files);
    write_files(&base.join("git"), &files);
    run(git(&base.join("git")).args(["init", "-q"]));
    run(git(&base.join("git")).args(["add", "-A"]));
    run(git(&base.join("git")).args(["commit", "-q", "-m", "initial"]));
    std::fs::write(base.join("complete"), "").expect("mark");
    println!(
        "generated the trees in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    files
}

/// The daemon, its phase lines as they come, and its pid.
struct Daemon {
    child: Child,
    phases: Arc<Mutex<Vec<(String, u64)>>>,
}

impl Daemon {
    fn start(repo: &Path, access: &Path, state: &Path, o: &Opts) -> Daemon {
        let _ = std::fs::remove_dir_all(state);
        let _ = std::fs::remove_file(access);
        let mut cmd = Command::new(binary());
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--poll-interval", "0s"])
            .arg("--repo")
            .arg(repo)
            .arg("--access-out")
            .arg(access)
            .arg("--state-dir")
            .arg(state)
            .env("ROLESYNC_LOG", "info,rolesync::daemon::reload=debug")
            .stderr(Stdio::piped());
        if let Some(d) = &o.debounce {
            cmd.args(["--debounce", d]);
        }
        let mut child = cmd.spawn().expect("rolesync serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        for line in lines.by_ref() {
            if line.expect("text").starts_with("rolesync: listening") {
                break;
            }
        }
        let phases = Arc::new(Mutex::new(Vec::new()));
        let sink = phases.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(p) = phase(&line) {
                    sink.lock().expect("phases").push(p);
                }
            }
        });
        Daemon { child, phases }
    }

    /// The daemon's peak and current resident memory, in MiB.
    fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        (kib("VmHWM:") / 1024, kib("VmRSS:") / 1024)
    }

    fn stop(mut self) -> Vec<(String, u64)> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::take(&mut *self.phases.lock().expect("phases"))
    }
}

/// `phase="read" us=123` of a `reload phase` debug line.
fn phase(line: &str) -> Option<(String, u64)> {
    if !line.contains("reload phase") {
        return None;
    }
    let field = |key: &str| {
        let at = line.find(key)? + key.len();
        let rest = &line[at..];
        let end = rest.find([' ', '\x1b']).unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"').to_owned())
    };
    Some((field("phase=")?, field("us=")?.parse().ok()?))
}

/// The access file's identity: it is replaced by rename on publication.
fn stamp(access: &Path) -> Option<(u64, i64, i64)> {
    let m = std::fs::metadata(access).ok()?;
    Some((m.ino(), m.mtime(), m.mtime_nsec()))
}

fn wait_for_new(access: &Path, before: Option<(u64, i64, i64)>, start: Instant) -> Duration {
    // The first publication is a full read (an SVN one reads each file
    // with its own `svnlook`: minutes at 10k).
    let limit = Duration::from_secs(if before.is_none() { 3600 } else { 120 });
    loop {
        let now = stamp(access);
        if now.is_some() && now != before {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "no publication of {}",
            access.display()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The roles file of project `k` and its text with the change toggled: a
/// group that holds no role there gains `project_user`, or loses it again.
fn toggled(
    files: &BTreeMap<String, Vec<u8>>,
    scale: synthetic::Scale,
    k: usize,
) -> (String, String) {
    let p = k % scale.projects;
    let rel = format!(
        "Dept {}/{}/.polarion/security/user-roles.xml",
        p % 10,
        synthetic::project(p)
    );
    let text = String::from_utf8(files[&rel].clone()).expect("utf-8");
    let line = format!(
        "  <group name=\"g{:02}\"><role name=\"project_user\"/></group>\n",
        (p + 1) % scale.groups
    );
    let new = match text.contains(&line) {
        true => text.replace(&line, ""),
        false => text.replace("</user-roles>", &format!("{line}</user-roles>")),
    };
    (rel, new)
}

/// Time `n` commits: `commit(rel, text)` commits one project's change and
/// returns when the commit command did; each is timed until the file is replaced.
fn time_commits(
    access: &Path,
    files: &mut BTreeMap<String, Vec<u8>>,
    o: &Opts,
    scale: synthetic::Scale,
    mut commit: impl FnMut(&str, &str),
) -> Vec<f64> {
    let started = Instant::now();
    wait_for_new(access, None, started);
    println!(
        "    first publication (full read and build at start) {:.1} s  load {}",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    let mut ms = Vec::new();
    for i in 0..o.commits {
        let (rel, text) = toggled(files, scale, i * 7919);
        let before = stamp(access);
        commit(&rel, &text);
        let returned = Instant::now();
        ms.push(wait_for_new(access, before, returned).as_secs_f64() * 1e3);
        files.insert(rel, text.into_bytes());
    }
    ms
}

fn pct(ms: &[f64], p: f64) -> f64 {
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn report(what: &str, ms: &[f64], daemon: &Daemon) {
    let (hwm, rss) = daemon.memory();
    let each: Vec<String> = ms.iter().map(|m| format!("{m:.0}")).collect();
    println!("    each commit in order, ms: {}", each.join(" "));
    println!(
        "{what:<30} n={:<3} p50={:>7.1} ms  p99={:>7.1} ms  max={:>7.1} ms  daemon VmHWM={hwm} MiB VmRSS={rss} MiB  load {}",
        ms.len(),
        pct(ms, 0.5),
        pct(ms, 0.99),
        pct(ms, 1.0),
        loadavg()
    );
}

fn report_phases(phases: &[(String, u64)]) {
    let mut by: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (name, us) in phases {
        by.entry(name).or_default().push(*us as f64 / 1e3);
    }
    let line: Vec<String> = by
        .iter()
        .map(|(name, v)| {
            format!(
                "{name} {:.1}/{:.1} (n={})",
                pct(v, 0.5),
                pct(v, 1.0),
                v.len()
            )
        })
        .collect();
    println!(
        "    reload phases, ms p50/max (how many; incl. the first, full reload): {}",
        line.join(", ")
    );
    // One reload's phases begin with its read.
    let mut reloads: Vec<Vec<String>> = Vec::new();
    for (name, us) in phases {
        if name == "read" || reloads.is_empty() {
            reloads.push(Vec::new());
        }
        if let Some(r) = reloads.last_mut() {
            r.push(format!("{name} {:.1}", *us as f64 / 1e3));
        }
    }
    for (i, r) in reloads.iter().take(4).enumerate() {
        println!("    reload {i} (0: at start), ms: {}", r.join(", "));
    }
    slowest_after_start(phases);
    on_the_path(phases);
}

/// The phases between a new revision and its publication (read, build,
/// the judge, publish), summed per reload after the start's: the
/// daemon's own share, from the moment it wakes. The commit's figure
/// above runs from the commit command's return instead: an SVN commit is
/// visible before `svnmucc` exits, so there a reload can begin, or end,
/// before the clock starts.
fn on_the_path(phases: &[(String, u64)]) {
    const PATH: [&str; 4] = ["read", "build", "rails", "publish"];
    let mut reloads: Vec<f64> = Vec::new();
    for (name, us) in phases {
        if name == "read" {
            reloads.push(0.0);
        }
        if let Some(total) = reloads.last_mut().filter(|_| PATH.contains(&name.as_str())) {
            *total += *us as f64 / 1e3;
        }
    }
    // The first is the start's full read and build.
    let after: Vec<f64> = reloads.into_iter().skip(1).collect();
    if !after.is_empty() {
        println!(
            "    read → published (the daemon's part), n={}  p50={:7.1} ms  p99={:7.1} ms  max={:7.1} ms",
            after.len(),
            pct(&after, 0.5),
            pct(&after, 0.99),
            pct(&after, 1.0)
        );
    }
}

/// The phases of the slowest reload after the start's (a commit's outlier).
fn slowest_after_start(phases: &[(String, u64)]) {
    let mut reloads: Vec<(u64, Vec<String>)> = Vec::new();
    for (name, us) in phases {
        if name == "read" || reloads.is_empty() {
            reloads.push((0, Vec::new()));
        }
        if let Some((total, r)) = reloads.last_mut() {
            *total += us;
            r.push(format!("{name} {:.1}", *us as f64 / 1e3));
        }
    }
    let slowest = reloads
        .iter()
        .enumerate()
        .skip(2)
        .max_by_key(|(_, (t, _))| *t);
    if let Some((i, (_, r))) = slowest {
        println!(
            "    slowest reload after the start: {i}, ms: {}",
            r.join(", ")
        );
    }
}

/// One `rolesync render` of the plain tree: the full rebuild.
fn render_reference(tree: &Path, out: &Path) {
    let started = Instant::now();
    run(Command::new(binary())
        .args(["render", "--repo"])
        .arg(tree)
        .arg("--output")
        .arg(out));
    println!(
        "reference: rolesync render (full read + build + write) {:.0} ms  load {}",
        started.elapsed().as_secs_f64() * 1e3,
        loadavg()
    );
}

fn bench_git(base: &Path, files: &BTreeMap<String, Vec<u8>>, scale: synthetic::Scale, o: &Opts) {
    let work = base.join("git");
    let access = base.join("access-git");
    // Packed, as a repository in use is: otherwise the initial commit's
    // loose objects start a background `git gc --auto` during the commits,
    // and the figures measure git's housekeeping beside the daemon.
    // A background `git gc --auto` of an earlier run (or of the initial
    // commit: minutes at the 100k scale) may still hold the repository's
    // gc lock: wait for it rather than fail the run.
    let mut tries = 0;
    while !git(&work)
        .args(["gc", "-q"])
        .status()
        .expect("git runs")
        .success()
    {
        tries += 1;
        assert!(
            tries < 900,
            "git gc failed {tries} times in {}",
            work.display()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let daemon = Daemon::start(&work, &access, &base.join("state-git"), o);
    let mut files = files.clone();
    let ms = time_commits(&access, &mut files, o, scale, |rel, text| {
        std::fs::write(work.join(rel), text).expect("write");
        run(git(&work)
            .args(["commit", "-q", "-m", "change", "--"])
            .arg(rel));
    });
    report("git commit (watched repo)", &ms, &daemon);
    report_phases(&daemon.stop());
}

/// Files per revision of the repository's first history: one revision
/// of all 121,005 files of the 100k tree (`svn import`) had not ended
/// after 25 min here, a transaction's cost growing with what it already
/// holds; revisions of this many load in seconds each (up to the size
/// of the users folder said below).
const LOAD_FILES_PER_REVISION: usize = 5_000;

/// Load `files` into the empty repository `repo` with `svnadmin load` of
/// a dump written to `dump` (then deleted): revisions of at most
/// [`LOAD_FILES_PER_REVISION`] files in path order, each folder added in
/// the revision of its first file.
fn load_svn(repo: &Path, files: &BTreeMap<String, Vec<u8>>, dump: &Path) {
    use std::collections::BTreeSet;
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::fs::File::create(dump).expect("dump file"));
    let mut w = |bytes: &[u8]| out.write_all(bytes).expect("write the dump");
    w(b"SVN-fs-dump-format-version: 2\n\n");
    let log = b"K 7\nsvn:log\nV 7\ninitial\nPROPS-END\n";
    let mut dirs: BTreeSet<&str> = BTreeSet::new();
    let all: Vec<(&String, &Vec<u8>)> = files.iter().collect();
    for (n, chunk) in all.chunks(LOAD_FILES_PER_REVISION).enumerate() {
        w(format!(
            "Revision-number: {}\nProp-content-length: {len}\nContent-length: {len}\n\n",
            n + 1,
            len = log.len()
        )
        .as_bytes());
        w(log);
        w(b"\n");
        for (path, bytes) in chunk {
            let mut at = 0;
            while let Some(slash) = path[at..].find('/') {
                let dir = &path[..at + slash];
                if dirs.insert(dir) {
                    w(format!(
                        "Node-path: {dir}\nNode-kind: dir\nNode-action: add\nProp-content-length: 10\nContent-length: 10\n\nPROPS-END\n\n\n"
                    )
                    .as_bytes());
                }
                at += slash + 1;
            }
            w(format!(
                "Node-path: {path}\nNode-kind: file\nNode-action: add\nProp-content-length: 10\nText-content-length: {}\nContent-length: {}\n\nPROPS-END\n",
                bytes.len(),
                bytes.len() + 10
            )
            .as_bytes());
            w(bytes);
            w(b"\n\n");
        }
    }
    out.flush().expect("write the dump");
    drop(out);
    let dumped = std::fs::File::open(dump).expect("the dump");
    let status = Command::new("svnadmin")
        // A larger cache than svnadmin's default: revisions of 5,000
        // accounts loaded in 8-14 s each with it, 15-50 s without, here,
        // up to ~45,000 accounts in the users folder; past that (the 100k
        // tree) the next one had not ended after two minutes, whatever the
        // cache, so that the 100k SVN repository is not made here.
        .args(["load", "-q", "-M", "512"])
        .arg(repo)
        .stdin(dumped)
        .status()
        .expect("svnadmin runs");
    assert!(status.success(), "svnadmin load failed");
    let _ = std::fs::remove_file(dump);
}

fn bench_svn(base: &Path, files: &BTreeMap<String, Vec<u8>>, scale: synthetic::Scale, o: &Opts) {
    let repo = base.join("svn");
    let url = format!("file://{}", repo.display());
    if !base.join("svn-complete").exists() {
        let _ = std::fs::remove_dir_all(&repo);
        run(Command::new("svnadmin").arg("create").arg(&repo));
        load_svn(&repo, files, &base.join("initial.dump"));
        std::fs::write(base.join("svn-complete"), "").expect("mark");
    }
    let access = base.join("access-svn");
    let started = Instant::now();
    let daemon = Daemon::start(&repo, &access, &base.join("state-svn"), o);
    wait_for_new(&access, None, started);
    println!(
        "    svn: daemon start → first publication (the cold read and build) {:.2} s  load {}",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    let scratch = base.join("svn-put.xml");
    // The files as the repository holds them now (earlier runs changed some).
    let mut files = files.clone();
    let touched: Vec<String> = (0..o.commits)
        .map(|i| toggled(&files, scale, i * 7919).0)
        .collect();
    for rel in touched {
        let text = run(Command::new("svn").arg("cat").arg(format!("{url}/{rel}")));
        files.insert(rel, format!("{text}\n").into_bytes());
    }
    let ms = time_commits(&access, &mut files, o, scale, |rel, text| {
        std::fs::write(&scratch, text).expect("write");
        run(Command::new("svnmucc")
            .args(["-m", "change", "put"])
            .arg(&scratch)
            .arg(format!("{url}/{rel}")));
    });
    report("svn commit (svnmucc)", &ms, &daemon);
    report_phases(&daemon.stop());
}

fn main() {
    let o = opts();
    let (label, scale) = match o.big {
        true => ("100k", synthetic::SCALE_100K),
        false => ("10k", synthetic::SCALE_10K),
    };
    let base = o
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/rolesync-scale-{label}")));
    let mut files = ensure_trees(&base, scale);
    // The Git work tree as committed (earlier runs committed changes).
    for (rel, bytes) in files.iter_mut() {
        if let Ok(now) = std::fs::read(base.join("git").join(rel)) {
            *bytes = now;
        }
    }
    let bytes: usize = files.values().map(Vec::len).sum();
    println!(
        "input: {} users, {} projects, {} groups: {} files, {:.1} MiB",
        scale.users,
        scale.projects,
        scale.groups,
        files.len(),
        bytes as f64 / 1048576.0
    );
    render_reference(&base.join("tree"), &base.join("rendered"));
    if o.only.as_deref() != Some("svn") {
        bench_git(&base, &files, scale, &o);
    }
    if o.only.as_deref() != Some("git") {
        bench_svn(&base, &files, scale, &o);
    }
    if o.clean {
        let _ = std::fs::remove_dir_all(&base);
    }
}
