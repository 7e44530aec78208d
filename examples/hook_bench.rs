//! Benchmark: the pre-commit / pre-receive hooks on the generated
//! 10,000-user configuration (examples/common/synthetic.rs: 10,000 users,
//! 1,000 projects, 51,254 assignments, 12,105 files, 3.8 MiB), end to end: `svn commit` of one
//! project's user-roles.xml to an SVN repository with the hooks installed,
//! and `git push` of the same change to a bare repository with
//! pre-receive, each with the daemon's cache of the last applied revision
//! in the state folder (`last-good.files`, written here as the daemon
//! writes it after each applied revision: the daemon keeps up).
//!
//! Beside them, in the same run: the same commit or push with no hook (what
//! Subversion or Git cost alone), with the hook but no cache (it reads the
//! youngest revision or the tip in full), and `rolesync validate` of the
//! repository (one full read and one build). For Git, the installed
//! pre-receive also runs alone with the push's stdin (the hook without
//! Git's part); in process, the hook's two builds with one memo are split
//! into the configuration in force and the change on top.
//!
//! Then the same with `rolesync serve` running on the repository with
//! the hooks' state folder: the hook sends the files its change touches to
//! the daemon's validation socket and the daemon judges them against the
//! revision it applied (each commit made once the daemon applied the one
//! before, as a commit a while after the last one finds it).
//!
//! Run: `cargo build --release && cargo run --release --example hook_bench [COMMITS]`
//! (COMMITS per measured series, default 20; the series without a cache
//! run 3).

#[path = "common/bench.rs"]
mod bench;
#[path = "common/synthetic.rs"]
mod synthetic;
use bench::binary;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rolesync::repo::{At, Options, Source};
use rolesync::snapshot::{Input, Limits};

fn ok(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn run(cmd: &mut Command, what: &str) -> Output {
    ok(
        cmd.env("LC_ALL", "C.UTF-8")
            .output()
            .expect("the tool runs"),
        what,
    )
}

fn git(dir: &Path, args: &[&str]) -> Output {
    run(bench::git(dir).args(args), &format!("git {args:?}"))
}

fn svn(wc: &Path, args: &[&str]) -> Output {
    run(
        Command::new("svn")
            .args(args)
            .arg("--config-dir")
            .arg(wc.with_extension("client"))
            .current_dir(wc),
        &format!("svn {args:?}"),
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// p50 / p99 / max of `runs`, with the load average.
fn report(what: &str, mut runs: Vec<Duration>) {
    runs.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| runs[((runs.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<58} n={:<3} p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  (loadavg {})",
        runs.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(runs[runs.len() - 1]),
        loadavg()
    );
}

/// Write the synthetic configuration into `dir`.
fn write_tree(dir: &Path) {
    for (path, bytes) in synthetic::config() {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("a folder")).expect("mkdir");
        std::fs::write(file, bytes).expect("write");
    }
}

/// One project's roles gain a user (`n` picks the project and the user):
/// a change the guard rails accept.
fn change_one_project(tree: &Path, n: usize) -> PathBuf {
    let p = (n * 37) % synthetic::PROJECTS;
    let file = tree.join(format!(
        "Dept {}/{}/.polarion/security/user-roles.xml",
        p % 10,
        synthetic::project(p)
    ));
    let text = std::fs::read_to_string(&file).expect("read");
    let user = synthetic::user((n * 7919) % synthetic::USERS);
    let text = text.replace(
        "</user-roles>",
        &format!("  <user name=\"{user}\"><role name=\"project_user\"/></user>\n</user-roles>"),
    );
    std::fs::write(&file, text).expect("write");
    file
}

/// Write the cache as the daemon does after applying the newest revision
/// (read, as the daemon reads it, from the revision read before).
fn refresh_cache(repo: &Path, state: &Path, last: &mut Option<Input>) {
    let source = Source::open(repo, &Options::default()).expect("a repository");
    let limits = Limits::default();
    let newest = At::Revision(None);
    let input = match last.as_ref() {
        Some(prev) => source.read_at_from(newest, prev, limits),
        None => source.read_at(newest, limits),
    }
    .expect("read");
    source.store_cache(state, &input).expect("cache written");
    *last = Some(input);
}

/// `rolesync serve` on `repo` with `state` as its state folder (the
/// hooks' one): it writes the cache and judges the hooks' changes.
struct Serve(std::process::Child);

impl Serve {
    fn start(repo: &Path, state: &Path) -> Serve {
        let child = Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--poll-interval", "1s"])
            .arg("--repo")
            .arg(repo)
            .arg("--access-out")
            .arg(state.with_extension("access"))
            .arg("--state-dir")
            .arg(state)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("rolesync serve");
        Serve(child)
    }

    /// Wait until the daemon applied the newest revision of `repo` (its
    /// cache names it), then a moment for the validator to build it.
    fn applied(&self, repo: &Path, state: &Path) {
        let source = Source::open(repo, &Options::default()).expect("a repository");
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let newest = source.newest_revision().expect("the newest revision");
            let cached = source.load_cache(state, Limits::default());
            if newest.is_some() && cached.map(|c| c.revision) == newest {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon applies the newest revision"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `rolesync serve` started on `repo` (state folder `state`), then `runs`
/// times `commit` (one commit or push, timed) once the daemon applied the
/// one before. The first commit is untimed: its request builds the
/// validator's model (it builds nothing until a hook asks).
fn judged_series(
    repo: &Path,
    state: &Path,
    runs: usize,
    mut commit: impl FnMut() -> Vec<Duration>,
) -> (Serve, Vec<Duration>) {
    let daemon = Serve::start(repo, state);
    daemon.applied(repo, state);
    commit();
    let judged = (0..runs)
        .flat_map(|_| {
            daemon.applied(repo, state);
            commit()
        })
        .collect();
    (daemon, judged)
}

/// `rolesync hook install` into `repo` (with `state` as the state folder).
fn install(repo: &Path, state: Option<&Path>) {
    let mut cmd = Command::new(binary());
    cmd.args(["hook", "install", "--repo"]).arg(repo);
    if let Some(state) = state {
        cmd.arg("--state-dir").arg(state);
    }
    run(&mut cmd, "hook install");
}

/// Remove every hook of an SVN repository (its `.tmpl` files stay).
fn remove_hooks(hooks: &Path) {
    for e in std::fs::read_dir(hooks).expect("hooks").flatten() {
        if !e.file_name().to_string_lossy().ends_with(".tmpl") {
            std::fs::remove_file(e.path()).expect("rm hook");
        }
    }
}

/// `rolesync validate` of `repo` (a full read and one build), timed.
fn validate(repo: &Path, runs: usize) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            run(
                Command::new(binary())
                    .arg("validate")
                    .arg("--repo")
                    .arg(repo),
                "validate",
            );
            start.elapsed()
        })
        .collect()
}

struct Svn {
    repo: PathBuf,
    wc: PathBuf,
    state: PathBuf,
    n: usize,
    last: Option<Input>,
}

impl Svn {
    fn new(dir: &Path) -> Svn {
        let tree = dir.join("tree");
        write_tree(&tree);
        let repo = dir.join("svnrepo");
        run(
            Command::new("svnadmin").arg("create").arg(&repo),
            "svnadmin",
        );
        let wc = dir.join("wc");
        let url = format!("file://{}", repo.display());
        run(
            Command::new("svn")
                .args(["import", "-q", "-m", "the synthetic configuration"])
                .arg(&tree)
                .arg(&url)
                .arg("--config-dir")
                .arg(wc.with_extension("client")),
            "svn import",
        );
        run(
            Command::new("svn")
                .args(["checkout", "-q", &url])
                .arg(&wc)
                .arg("--config-dir")
                .arg(wc.with_extension("client")),
            "svn checkout",
        );
        Svn {
            repo,
            wc,
            state: dir.join("svn-state"),
            n: 0,
            last: None,
        }
    }

    /// `svn commit` of one project's change, timed; the cache refreshed
    /// after it (untimed) when `cache`.
    fn commits(&mut self, runs: usize, cache: bool) -> Vec<Duration> {
        (0..runs)
            .map(|_| {
                self.n += 1;
                let file = change_one_project(&self.wc, self.n);
                let file = file.to_string_lossy();
                // Only the file: the client does not crawl the working copy.
                let start = Instant::now();
                svn(
                    &self.wc,
                    &["commit", "-q", "-m", "one project's roles", &file],
                );
                let took = start.elapsed();
                if cache {
                    refresh_cache(&self.repo, &self.state, &mut self.last);
                }
                took
            })
            .collect()
    }
}

struct Git {
    bare: PathBuf,
    clone: PathBuf,
    state: PathBuf,
    n: usize,
    last: Option<Input>,
}

impl Git {
    fn new(dir: &Path) -> Git {
        let work = dir.join("gitwork");
        write_tree(&work);
        git(&work, &["init", "-q"]);
        git(&work, &["add", "-A"]);
        git(
            &work,
            &["commit", "-q", "-m", "the synthetic configuration"],
        );
        let bare = dir.join("config.git");
        git(dir, &["clone", "-q", "--bare", "gitwork", "config.git"]);
        git(dir, &["clone", "-q", "config.git", "gitclone"]);
        Git {
            bare,
            clone: dir.join("gitclone"),
            state: dir.join("git-state"),
            n: 0,
            last: None,
        }
    }

    /// The installed pre-receive run on its own, as Git runs it for a push
    /// of one new commit (the same stdin, in the bare repository, the
    /// cache at the branch's tip; the commit fetched into the bare
    /// repository beside the branch, which stays where it is): what the hook
    /// costs without Git's part. With `daemon`, once it applied the tip;
    /// how many runs it judged is printed.
    fn hook_alone(&mut self, runs: usize, daemon: Option<&Serve>) -> Vec<Duration> {
        let mut judged = 0;
        let took = (0..runs)
            .map(|_| {
                self.n += 1;
                change_one_project(&self.clone, 5000 + self.n);
                git(&self.clone, &["commit", "-q", "-am", "one project's roles"]);
                let from = self.clone.to_str().expect("UTF-8 path");
                git(&self.bare, &["fetch", "-q", from, "+HEAD:refs/candidate"]);
                let id = |dir: &Path, rev: &str| {
                    let out = git(dir, &["rev-parse", rev]).stdout;
                    String::from_utf8(out).expect("id").trim().to_owned()
                };
                let (old, new) = (id(&self.bare, "main"), id(&self.clone, "HEAD"));
                match daemon {
                    Some(d) => d.applied(&self.bare, &self.state),
                    None => refresh_cache(&self.bare, &self.state, &mut self.last),
                }
                let start = Instant::now();
                let mut hook = Command::new(self.bare.join("hooks/pre-receive"))
                    .current_dir(&self.bare)
                    .env("GIT_DIR", &self.bare)
                    .env("ROLESYNC_LOG", "rolesync::cmd::hook=debug")
                    .stdin(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("the hook runs");
                let line = format!("{old} {new} refs/heads/main\n");
                std::io::Write::write_all(&mut hook.stdin.take().expect("stdin"), line.as_bytes())
                    .expect("stdin written");
                let out = hook.wait_with_output().expect("the hook ends");
                let took = start.elapsed();
                assert!(out.status.success(), "the hook accepts");
                let stderr = String::from_utf8_lossy(&out.stderr);
                judged += usize::from(stderr.contains("judged by the daemon"));
                git(&self.clone, &["reset", "-q", "--hard", &old]);
                took
            })
            .collect();
        if daemon.is_some() {
            println!("  (the daemon judged {judged} of {runs})");
        }
        took
    }

    fn pushes(&mut self, runs: usize, cache: bool) -> Vec<Duration> {
        (0..runs)
            .map(|_| {
                self.n += 1;
                change_one_project(&self.clone, 5000 + self.n);
                git(&self.clone, &["commit", "-q", "-am", "one project's roles"]);
                let start = Instant::now();
                git(&self.clone, &["push", "-q", "origin", "main"]);
                let took = start.elapsed();
                if cache {
                    refresh_cache(&self.bare, &self.state, &mut self.last);
                }
                took
            })
            .collect()
    }
}

/// The hook's work in process, phase by phase, for a change of one
/// project already committed as the newest revision: the cache loaded, the
/// newest revision read from the revision before (as a hook reads a change
/// from the cache), a full read for comparison, one `snapshot::build`, and
/// the diff and guard rails of the two.
fn phases(repo: &Path, state: &Path, previous: &str) {
    let source = Source::open(repo, &Options::default()).expect("a repository");
    let limits = Limits::default();
    let timed = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64() * 1e3
    };
    let mut base = None;
    let load = timed(&mut || base = source.load_cache(state, limits));
    let base = base.expect("the cache is usable");
    assert_eq!(
        base.revision, previous,
        "the cache holds the revision before"
    );
    let mut new = None;
    let changed = timed(&mut || {
        new = Some(
            source
                .read_at_from(At::Revision(None), &base, limits)
                .expect("read"),
        );
    });
    let new = new.expect("read");
    let full = timed(&mut || {
        let again = source.read_at(At::Revision(None), limits).expect("read");
        assert_eq!(again.files, new.files, "the same files");
    });
    // What the daemon pays after a publication: the copy it hands to the
    // cache writer (on the reload's path) and the write (in the background).
    let mut copy = None;
    let handed = timed(&mut || copy = Some(new.clone()));
    let store = timed(&mut || {
        let copy = copy.as_ref().expect("copied");
        source.store_cache(state, copy).expect("cache written");
    });
    let mut built = None;
    let build = timed(&mut || built = rolesync::snapshot::build(&new).snapshot);
    let old = rolesync::snapshot::build(&base).snapshot.expect("valid");
    let built = built.expect("valid");
    // The hook's two builds (in force, the change): as two full builds on
    // two threads (before issue 13's third session) and with one memo,
    // one after the other (the hook now), in the same run.
    let two_threads = timed(&mut || {
        std::thread::scope(|s| {
            let other = s.spawn(|| rolesync::snapshot::build(&base));
            let _ = rolesync::snapshot::build(&new);
            let _ = other.join();
        });
    });
    let one_memo = timed(&mut || {
        let mut memo = rolesync::snapshot::Memo::default();
        let _ = rolesync::snapshot::build_cached(&base, &mut memo);
        let _ = rolesync::snapshot::build_cached(&new, &mut memo);
    });
    println!(
        "  the hook's two builds: two full builds on two threads {two_threads:.0} ms, \
         one memo in a row {one_memo:.0} ms (loadavg {})",
        loadavg()
    );
    let mut memo = rolesync::snapshot::Memo::default();
    let mut first = 0.0;
    let mut second = 0.0;
    for (t, input) in [(&mut first, &base), (&mut second, &new)] {
        *t = timed(&mut || {
            let _ = rolesync::snapshot::build_cached(input, &mut memo);
        });
    }
    println!(
        "  one memo split: the configuration in force {first:.0} ms, the change on top {second:.0} ms ({:?})",
        memo.stats()
    );
    let mut report = rolesync::snapshot::build(&new);
    let judge = timed(&mut || {
        let diff = rolesync::diff::diff(&old, &built).expect("diff");
        rolesync::rails::apply(&mut report, Some(&old), &source.rails_target(), Some(&diff));
    });
    println!(
        "  in process: cache loaded {load:.1} ms, the change read on top {changed:.1} ms \
         (a full read {full:.0} ms), snapshot::build {build:.0} ms, diff + guard rails {judge:.0} ms; \
         the daemon's copy for the cache writer {handed:.1} ms, the cache written {store:.1} ms (loadavg {})",
        loadavg()
    );
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "{} users, {} projects; the change: one project's user-roles.xml (loadavg {})",
        synthetic::USERS,
        synthetic::PROJECTS,
        loadavg()
    );

    let mut s = Svn::new(dir.path());
    let hooks = s.repo.join("hooks");
    let no_hooks = s.commits(runs, false);
    report("svn commit, no hooks (Subversion alone)", no_hooks);
    install(&s.repo, Some(&s.state));
    // pre-commit alone: post-commit (it reads the revision too) removed.
    std::fs::remove_file(hooks.join("post-commit")).expect("rm post-commit");
    refresh_cache(&s.repo, &s.state, &mut s.last);
    let cached = s.commits(runs, true);
    report("svn commit, pre-commit with the cache", cached);
    install(&s.repo, Some(&s.state));
    refresh_cache(&s.repo, &s.state, &mut s.last);
    let both = s.commits(runs.div_ceil(2), true);
    report(
        "svn commit, pre-commit and post-commit with the cache",
        both,
    );
    {
        std::fs::remove_file(hooks.join("post-commit")).expect("rm post-commit");
        let (repo, state) = (s.repo.clone(), s.state.clone());
        let (daemon, judged) = judged_series(&repo, &state, runs, || s.commits(1, false));
        report("svn commit, pre-commit judged by the daemon", judged);
        daemon.applied(&s.repo, &s.state);
        s.last = None;
        refresh_cache(&s.repo, &s.state, &mut s.last);
    }
    let previous = s.last.as_ref().map(|i| i.revision.clone()).expect("read");
    s.commits(1, false);
    phases(&s.repo, &s.state, &previous);
    remove_hooks(&hooks);
    install(&s.repo, None);
    std::fs::remove_file(hooks.join("post-commit")).expect("rm post-commit");
    let uncached = s.commits(1, false);
    report(
        "reference: svn commit, pre-commit without a cache",
        uncached,
    );
    let full = validate(&s.repo, 1);
    report("reference: rolesync validate of the SVN repository", full);

    let mut g = Git::new(dir.path());
    report("git push, no hooks (Git alone)", g.pushes(runs, false));
    install(&g.bare, Some(&g.state));
    refresh_cache(&g.bare, &g.state, &mut g.last);
    report("git push, pre-receive with the cache", g.pushes(runs, true));
    report(
        "pre-receive alone (the same stdin), with the cache",
        g.hook_alone(runs, None),
    );
    {
        let (bare, state) = (g.bare.clone(), g.state.clone());
        let (daemon, judged) = judged_series(&bare, &state, runs, || g.pushes(1, false));
        report("git push, pre-receive judged by the daemon", judged);
        daemon.applied(&g.bare, &g.state);
        let judged = g.hook_alone(runs, Some(&daemon));
        report(
            "pre-receive alone (the same stdin), judged by the daemon",
            judged,
        );
        daemon.applied(&g.bare, &g.state);
        g.last = None;
        refresh_cache(&g.bare, &g.state, &mut g.last);
    }
    let previous = g.last.as_ref().map(|i| i.revision.clone()).expect("read");
    install(&g.bare, None);
    let uncached = g.pushes(3, false);
    report("reference: git push, pre-receive without a cache", uncached);
    phases(&g.bare, &g.state, &previous);
    let full = validate(&g.bare, 3);
    report("reference: rolesync validate of the bare repository", full);
}
