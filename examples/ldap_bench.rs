//! Benchmark: one directory sync (issue 16) of 10,000 users in 500 nested
//! groups served by a real slapd on loopback (`tests/it/slapd.rs`): 400
//! groups of 25 users, 90 groups of 4 or 5 of those and one user each,
//! 10 groups of 9 of those (the first nests the second: four levels); all
//! 500 asked for, account state on. The reference of the same run: the
//! same subtree read by `ldapsearch` with paged results (what the server
//! takes to send it, and OpenLDAP's own client to read it). Then one
//! membership change (`ldapmodify`) and the sync again.
//!
//! Then the daemon end to end: `rolesync serve` on a Git repository of the
//! synthetic 10,000-user configuration (`common/synthetic.rs`) whose 50 role-holding user groups
//! are directory groups (and the other 450 of the directory named too),
//! `[ldap] sync_interval = "1s"`; ROUNDS membership changes (one member
//! added to, then removed from, a group that holds a role in 20 projects),
//! each timed from `ldapmodify` to the access file replaced, and the
//! daemon's own figures of that change: the sync (`directory synced` ms)
//! and the reload it triggered (the `reload` line's ms: build, diff, rails,
//! publish), with its phases. The reference of the same run: the full
//! `snapshot::build` of the same files with the same answer, in process.
//! Before the daemon, in process: `snapshot::build_cached` with the answer
//! after the change on the memo of the answer before (`directory_change_build`,
//! on its own frame for callgrind), beside the cold build.
//!
//! Run: `cargo run --release --example ldap_bench [ROUNDS] [--in-process]`
//! (default 5; `cargo build --release` first, for the daemon binary;
//! `--in-process`: without the daemon).

#[path = "common/bench.rs"]
mod bench;
#[path = "../tests/it/slapd.rs"]
#[allow(dead_code)] // the tests use the rest of it
mod slapd;
#[path = "common/synthetic.rs"]
mod synthetic;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rolesync::directory::{DirectorySnapshot, GroupAnswer, GroupRef};
use rolesync::ldap::LdapSettings;
use slapd::{Options, Slapd, group, group_dn, person, person_dn};

const USERS: usize = 10_000;
const LEAVES: usize = 400;
const MIDS: usize = 90;
const TOPS: usize = 10;

fn directory() -> String {
    let mut ldif = String::new();
    for u in 0..USERS {
        ldif.push_str(&person(&format!("u{u:05}"), ""));
    }
    for l in 0..LEAVES {
        let members: Vec<String> = (0..25)
            .map(|i| person_dn(&format!("u{:05}", l * 25 + i)))
            .collect();
        ldif.push_str(&group(&format!("leaf{l:03}"), &members));
    }
    for m in 0..MIDS {
        let mut members: Vec<String> = (0..LEAVES)
            .filter(|l| l % MIDS == m)
            .map(|l| group_dn(&format!("leaf{l:03}")))
            .collect();
        members.push(person_dn(&format!("u{:05}", m * 100)));
        ldif.push_str(&group(&format!("mid{m:02}"), &members));
    }
    for t in 0..TOPS {
        let mut members: Vec<String> = (0..MIDS)
            .filter(|m| m % TOPS == t)
            .map(|m| group_dn(&format!("mid{m:02}")))
            .collect();
        if t == 0 {
            members.push(group_dn("top1"));
        }
        ldif.push_str(&group(&format!("top{t}"), &members));
    }
    ldif
}

fn refs() -> Vec<GroupRef> {
    let names = (0..LEAVES)
        .map(|l| format!("leaf{l:03}"))
        .chain((0..MIDS).map(|m| format!("mid{m:02}")))
        .chain((0..TOPS).map(|t| format!("top{t}")));
    names.map(|n| GroupRef::Dn(group_dn(&n))).collect()
}

fn sync(
    runtime: &tokio::runtime::Runtime,
    settings: &LdapSettings,
    refs: &[GroupRef],
) -> (DirectorySnapshot, Duration) {
    let start = Instant::now();
    let snapshot = runtime
        .block_on(rolesync::ldap::sync(settings, refs))
        .expect("sync");
    (snapshot, start.elapsed())
}

fn ldapsearch(server: &Slapd) -> Duration {
    let start = Instant::now();
    let out = Command::new("ldapsearch")
        .args([
            "-x",
            "-LLL",
            "-H",
            &server.url(),
            "-D",
            slapd::READER_DN,
            "-y",
        ])
        .arg(server.password_file())
        .args([
            "-E",
            "pr=500/noprompt",
            "-b",
            slapd::SUFFIX,
            "(|(uid=*)(objectClass=groupOfNames))",
        ])
        .args(["uid", "objectClass", "member", "pwdAccountLockedTime"])
        .output()
        .expect("ldapsearch runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let ldif = directory();
    let start = Instant::now();
    let server = Slapd::new(
        Options {
            size_limit: Some(1000),
            ..Options::default()
        },
        &ldif,
    );
    let loaded = start.elapsed();
    let settings = LdapSettings::from_toml(&server.settings_toml("")).expect("settings");
    let refs = refs();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut report = format!(
        "directory: {USERS} users, {} groups ({LEAVES}×25 users, {MIDS} of leaves, {TOPS} of those; 4 levels), {} KiB of LDIF, slapadd + start {:.2?}\n{}\n",
        refs.len(),
        ldif.len() / 1024,
        loaded,
        synthetic::load()
    );
    let (first, _) = sync(&runtime, &settings, &refs);
    let memberships: usize = first
        .groups
        .values()
        .map(|a| match a {
            GroupAnswer::Members(m) => m.len(),
            GroupAnswer::NotFound => 0,
        })
        .sum();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.push(sync(&runtime, &settings, &refs).1);
        theirs.push(ldapsearch(&server));
    }
    let (ours, theirs) = (median(ours), median(theirs));
    let _ = writeln!(
        report,
        "sync (500 groups resolved, {memberships} memberships, {} accounts): median {ours:.2?} of {rounds}\nreference: ldapsearch -E pr=500 of the same subtree: median {theirs:.2?} (ratio {:.2})",
        first.accounts.as_ref().map_or(0, |a| a.len()),
        ours.as_secs_f64() / theirs.as_secs_f64(),
    );
    server.modify(&format!(
        "dn: {}\nchangetype: modify\nadd: member\nmember: {}\n",
        group_dn("leaf000"),
        person_dn("u09998")
    ));
    let (changed, took) = sync(&runtime, &settings, &refs);
    assert_ne!(changed.revision, first.revision, "the change is seen");
    let _ = writeln!(
        report,
        "after one membership change (ldapmodify): sync {took:.2?}, new revision {}",
        &changed.revision[..12]
    );
    print!("{report}");
    let files = configuration(&refs);
    in_process(&files, [&first, &changed], rounds);
    if std::env::args().nth(2).as_deref() != Some("--in-process") {
        daemon_rounds(&server, &files, &changed, rounds);
    }
}

/// `snapshot::build_cached` of the same files with the answer before and
/// after the change in turns (the memo of the other one), beside a full
/// build with the memo empty.
fn in_process(files: &BTreeMap<String, Vec<u8>>, answers: [&DirectorySnapshot; 2], rounds: usize) {
    let mut memo = rolesync::snapshot::Memo::default();
    let files = shared(files);
    let inputs = answers.map(|a| with_answer(&files, a));
    let full = Instant::now();
    let report = rolesync::snapshot::build_cached(&inputs[0], &mut memo);
    let full = full.elapsed();
    assert!(report.snapshot.is_some(), "the configuration builds");
    let mut took = Vec::new();
    for round in 0..rounds.max(2) * 2 {
        let start = Instant::now();
        let report = directory_change_build(&inputs[(round + 1) % 2], &mut memo);
        took.push(start.elapsed());
        assert!(report.snapshot.is_some(), "the configuration builds");
    }
    println!(
        "in process, build_cached after one membership change (the memo of the answer before): median {:.1?} of {}; the cold build of the same files {full:.1?} ({:.1}×)",
        median(took.clone()),
        took.len(),
        full.as_secs_f64() / median(took).as_secs_f64()
    );
}

/// The build of a directory change, on its own frame (for
/// `callgrind --toggle-collect=*directory_change_build*`).
#[inline(never)]
fn directory_change_build(
    input: &rolesync::snapshot::Input,
    memo: &mut rolesync::snapshot::Memo,
) -> rolesync::snapshot::Report {
    rolesync::snapshot::build_cached(input, memo)
}

fn input(
    files: &BTreeMap<String, Vec<u8>>,
    answer: &DirectorySnapshot,
) -> rolesync::snapshot::Input {
    with_answer(&shared(files), answer)
}

/// The files as an input's buffers (a clone shares them, as the daemon's
/// reads of an unchanged file do).
fn shared(files: &BTreeMap<String, Vec<u8>>) -> rolesync::snapshot::Input {
    rolesync::snapshot::Input {
        revision: "bench".into(),
        files: files
            .iter()
            .map(|(p, b)| (p.clone(), b.clone().into()))
            .collect(),
        ..rolesync::snapshot::Input::default()
    }
}

/// `files` (cloned: the same buffers) with `answer`.
fn with_answer(
    files: &rolesync::snapshot::Input,
    answer: &DirectorySnapshot,
) -> rolesync::snapshot::Input {
    rolesync::snapshot::Input {
        directory: Some(Arc::new(answer.clone())),
        ..files.clone()
    }
}

/// The synthetic configuration with user groups `g00`–`g49` (each holds
/// `project_tester` in 20 projects) taken from every tenth directory group,
/// and the other 450 named as groups `x…` of their own.
fn configuration(refs: &[GroupRef]) -> BTreeMap<String, Vec<u8>> {
    let mut files = synthetic::config();
    let mut groups = String::from("<user-groups>\n");
    for (i, r) in refs.iter().enumerate() {
        let GroupRef::Dn(dn) = r else { continue };
        let id = if i % 10 == 0 {
            format!("g{:02}", i / 10)
        } else {
            format!("x{i:03}")
        };
        let _ = writeln!(groups, "  <group id=\"{id}\" ldap=\"{dn}\"/>");
    }
    groups.push_str("</user-groups>\n");
    files.insert(rolesync::snapshot::GROUPS.into(), groups.into_bytes());
    files
}

/// The daemon with its `directory synced` and `reload` figures (ms) as
/// they come.
struct Daemon {
    child: Child,
    synced: Figures,
    reloads: Figures,
    /// Each `reload phase` line's phase and µs, in order.
    phases: Arc<Mutex<Vec<(String, u64)>>>,
}

/// Figures (ms) a reader thread appends to.
type Figures = Arc<Mutex<Vec<u64>>>;

impl Daemon {
    fn start(repo: &Path, base: &Path, toml: &Path) -> Daemon {
        let mut cmd = Command::new(bench::binary());
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--poll-interval", "0s"])
            .arg("--repo")
            .arg(repo)
            .arg("--access-out")
            .arg(base.join("access"))
            .arg("--state-dir")
            .arg(base.join("state"))
            .arg("--config")
            .arg(toml)
            .env("ROLESYNC_LOG", "info,rolesync::daemon::reload=debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("rolesync serve");
        let lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let (synced, reloads) = (Arc::default(), Arc::default());
        let (s, r): (Figures, Figures) = (Arc::clone(&synced), Arc::clone(&reloads));
        let phases = Arc::new(Mutex::new(Vec::new()));
        let p = Arc::clone(&phases);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.contains("reload phase") {
                    if let (Some(name), Some(us)) = (field(&line, "phase="), field(&line, "us="))
                        && let Ok(us) = us.parse()
                    {
                        p.lock().expect("phases").push((name, us));
                    }
                    continue;
                }
                let sink = if line.contains("directory synced") {
                    &s
                } else if line.contains(" reload") && line.contains("result=\"applied\"") {
                    &r
                } else {
                    continue;
                };
                if let Some(ms) = field(&line, "ms=").and_then(|v| v.parse().ok()) {
                    sink.lock().expect("figures").push(ms);
                }
            }
        });
        Daemon {
            child,
            synced,
            reloads,
            phases,
        }
    }

    /// The newest figure of `which` once there are more than `seen`.
    fn next(which: &Mutex<Vec<u64>>, seen: usize) -> u64 {
        let start = Instant::now();
        loop {
            if let Some(&ms) = which.lock().expect("figures").get(seen) {
                return ms;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "no figure");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `key=value` of a text log line (ANSI colours and quotes dropped).
fn field(line: &str, key: &str) -> Option<String> {
    let at = line.find(key)? + key.len();
    let rest = &line[at..];
    let end = rest.find([' ', '\x1b']).unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"').to_owned())
}

/// The access file's bytes, once they differ from `old`.
fn changed_from(access: &Path, old: &[u8]) -> Vec<u8> {
    let start = Instant::now();
    loop {
        if let Ok(now) = std::fs::read(access)
            && now != old
        {
            return now;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no new file");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn daemon_rounds(
    server: &Slapd,
    files: &BTreeMap<String, Vec<u8>>,
    answer: &DirectorySnapshot,
    rounds: usize,
) {
    let base = tempfile::tempdir().expect("temp dir");
    let repo = base.path().join("git");
    for (path, bytes) in files {
        let full = repo.join(path);
        std::fs::create_dir_all(full.parent().expect("a parent")).expect("mkdir");
        std::fs::write(full, bytes).expect("write");
    }
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "initial"],
    ] {
        let out = bench::git(&repo).args(args).output().expect("git runs");
        assert!(out.status.success(), "git {args:?}");
    }
    let reference = full_build(files, answer);
    let toml = base.path().join("rolesync.toml");
    let ldap = server.settings_toml("sync_interval = \"1s\"\ntimeout = \"30s\"\n");
    std::fs::write(&toml, format!("[ldap]\n{ldap}")).expect("write the config file");
    let access = base.path().join("access");
    let daemon = Daemon::start(&repo, base.path(), &toml);
    let mut text = changed_from(&access, b"");
    // The start's sync and reload, before the rounds count theirs.
    Daemon::next(&daemon.synced, 0);
    Daemon::next(&daemon.reloads, 0);
    let (mut synced, mut reloads) = (
        daemon.synced.lock().expect("figures").len(),
        daemon.reloads.lock().expect("figures").len(),
    );
    let (mut ends, mut syncs, mut builds) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let verb = if round % 2 == 0 { "delete" } else { "add" };
        let start = Instant::now();
        server.modify(&format!(
            "dn: {}\nchangetype: modify\n{verb}: member\nmember: {}\n",
            group_dn("leaf000"),
            person_dn("u09998")
        ));
        text = changed_from(&access, &text);
        ends.push(start.elapsed());
        syncs.push(Daemon::next(&daemon.synced, synced));
        builds.push(Daemon::next(&daemon.reloads, reloads));
        synced = daemon.synced.lock().expect("figures").len();
        reloads = daemon.reloads.lock().expect("figures").len();
    }
    let ms = |xs: &mut Vec<u64>| {
        xs.sort_unstable();
        xs[xs.len() / 2]
    };
    let phases = phase_medians(&daemon.phases.lock().expect("phases"));
    println!(
        "daemon, {} files, 50 of 500 user groups from the directory: {rounds} membership changes\n  ldapmodify → access file replaced: median {:.0?} (sync_interval 1 s: includes the wait for the next sync, 0–1 s)\n  the change's directory sync: median {} ms; the reload it triggered (build, diff, rails, publish): median {} ms\n  its phases (median µs, the start's left out): {phases}\n  reference: the full snapshot::build of the same files and answer, in process: {:.0?}\n{}",
        files.len(),
        median(ends),
        ms(&mut syncs),
        ms(&mut builds),
        reference,
        synthetic::load()
    );
}

/// The median µs of each phase but its first (the start's), in the order
/// the phases first came.
fn phase_medians(lines: &[(String, u64)]) -> String {
    let mut names: Vec<&str> = Vec::new();
    let mut by: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (name, us) in lines {
        if !names.contains(&name.as_str()) {
            names.push(name);
            by.insert(name, Vec::new());
        } else if let Some(v) = by.get_mut(name.as_str()) {
            v.push(*us);
        }
    }
    let mut out = String::new();
    for name in names {
        let mut v = by.remove(name).unwrap_or_default();
        v.sort_unstable();
        if let Some(m) = v.get(v.len() / 2) {
            let _ = write!(out, "{name} {m} ");
        }
    }
    out
}

/// One full build of `files` with `answer` (the reference).
fn full_build(files: &BTreeMap<String, Vec<u8>>, answer: &DirectorySnapshot) -> Duration {
    let input = input(files, answer);
    let start = Instant::now();
    let report = rolesync::snapshot::build(&input);
    let took = start.elapsed();
    assert!(report.snapshot.is_some(), "the reference builds");
    took
}
