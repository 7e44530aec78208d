//! Fast hooks (issue 13): the daemon's cache of the last applied
//! revision's files (`last-good.files`), and hooks that read only what a
//! change touched and take the rest from it. Random transactions (real
//! `svn commit` through the installed hooks, real `git push` to a bare
//! repository) read from a fresh, stale, missing or broken cache equal the
//! full read, and the hook says the same with the cache as without.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rolesync::repo::{At, Options, Source, cache};
use rolesync::snapshot::{Input, Limits};

use crate::daemon::{Config, Daemon, wait_until};
use crate::svn::{Svn, run};
use crate::util::{self, git, git_output};

const LIMIT: Duration = Duration::from_secs(60);

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

/// What the hook finds in the state folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CacheKind {
    /// The youngest revision (the branch's tip): the daemon is up to date.
    Fresh,
    /// An older revision: the daemon is behind.
    Stale,
    Missing,
    Truncated,
    /// One byte changed: the checksum does not hold.
    Corrupt,
    /// Of another repository (another identity).
    OtherSource,
    /// Of a later format version.
    OtherVersion,
}

const KINDS: [CacheKind; 7] = [
    CacheKind::Fresh,
    CacheKind::Stale,
    CacheKind::Missing,
    CacheKind::Truncated,
    CacheKind::Corrupt,
    CacheKind::OtherSource,
    CacheKind::OtherVersion,
];

/// Put a cache of `kind` into `state`: of `fresh` (the revision in force)
/// or `stale` (an older one), read in full from `source`. Whether the hook
/// may use it.
fn place_cache(state: &Path, source: &Source, kind: CacheKind, fresh: &str, stale: &str) -> bool {
    let limits = Limits::default();
    std::fs::create_dir_all(state).expect("state folder");
    let file = state.join(cache::CACHE_FILE);
    let _ = std::fs::remove_file(&file);
    let rev = if kind == CacheKind::Stale {
        stale
    } else {
        fresh
    };
    let input = source.read(Some(rev), limits).expect("full read");
    if kind == CacheKind::Missing {
        return false;
    }
    source.store_cache(state, &input).expect("cache written");
    let mut bytes = std::fs::read(&file).expect("cache");
    match kind {
        CacheKind::Fresh | CacheKind::Stale | CacheKind::Missing => return true,
        CacheKind::Truncated => bytes.truncate(bytes.len() / 2),
        CacheKind::Corrupt => {
            let i = bytes.len() / 3;
            bytes[i] ^= 1;
        }
        // Version 1 (before the entry count) reads as no cache.
        CacheKind::OtherVersion => bytes[8] = 1,
        CacheKind::OtherSource => {
            cache::store(
                state,
                "svn \"another repository\"",
                (&input.revision, None),
                &input.files,
                limits.max_total_bytes,
            )
            .expect("cache written");
            return false;
        }
    }
    std::fs::write(&file, bytes).expect("broken cache");
    false
}

/// What a read gave, comparable: revision, metadata, files, incomplete
/// (or the error).
type Read = Result<(String, String, Vec<(String, Vec<u8>)>, Option<String>), String>;

/// `comparable`, keeping the input.
fn comparable_kept(read: Result<Input, rolesync::repo::Error>) -> (Read, Option<Input>) {
    let kept = read.as_ref().ok().cloned();
    (comparable(read), kept)
}

fn comparable(read: Result<Input, rolesync::repo::Error>) -> Read {
    read.map(|i| {
        (
            i.revision,
            format!("{:?}", i.meta),
            i.files.into_iter().map(|(p, b)| (p, b.to_vec())).collect(),
            i.incomplete,
        )
    })
    .map_err(|e| e.to_string())
}

/// `at` read as the hook reads it: from the cache in `state` (if usable)
/// to the revision in force `tip`, and from there to `at`.
fn read_as_the_hook(source: &Source, state: &Path, tip: At, at: At) -> (Read, bool) {
    let limits = Limits::default();
    let base = source.load_cache(state, limits);
    let used = base.is_some();
    let tip_read = match &base {
        Some(b) => source.read_at_from(tip, b, limits),
        None => source.read_at(tip, limits),
    };
    let tip_read = comparable_kept(tip_read);
    assert_same(
        &tip_read.0,
        &comparable(source.read_at(tip, limits)),
        "the revision in force, from the cache",
    );
    let read = match &tip_read.1 {
        Some(t) => source.read_at_from(at, t, limits),
        None => source.read_at(at, limits),
    };
    (comparable(read), used)
}

/// `a` and `b` are the same read; else a panic naming what differs (the
/// paths, not the bytes).
#[track_caller]
fn assert_same(a: &Read, b: &Read, what: &str) {
    if a == b {
        return;
    }
    let (Ok(x), Ok(y)) = (a, b) else {
        panic!("{what}: {:?} vs {:?}", a.as_ref().err(), b.as_ref().err());
    };
    let paths = |r: &[(String, Vec<u8>)], o: &[(String, Vec<u8>)]| -> Vec<String> {
        r.iter()
            .filter(|f| !o.contains(f))
            .map(|f| f.0.clone())
            .collect()
    };
    panic!(
        "{what}: revision {:?} vs {:?}, meta {} vs {}, incomplete {:?} vs {:?}, files differing: {:?} / {:?}",
        x.0,
        y.0,
        x.1,
        y.1,
        x.3,
        y.3,
        paths(&x.2, &y.2),
        paths(&y.2, &x.2)
    );
}

/// The hook's exit code and what it printed, with the state folder and
/// without: the cache changes neither.
fn same_verdict(with: Output, without: Output, what: &str) -> bool {
    assert_eq!(with.status.code(), without.status.code(), "{what}");
    assert_eq!(
        util::stderr(&with),
        util::stderr(&without),
        "{what}: the same messages"
    );
    with.status.success()
}

/// Every file of `wc` at `rel/.polarion/security/user-roles.xml` (projects).
fn project_folders(wc: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for group in std::fs::read_dir(wc).expect("wc").flatten() {
        let name = group.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !group.path().is_dir() {
            continue;
        }
        for project in std::fs::read_dir(group.path()).expect("group").flatten() {
            if project.path().join(".polarion").is_dir() {
                found.push(format!("{name}/{}", project.file_name().to_string_lossy()));
            }
        }
    }
    found.sort();
    found
}

/// One random change to the working copy `wc` (files and the commands
/// that schedule them), as `svn` (`vcs: "svn"`) or `git` sees it; its
/// description. `n` makes names unique.
fn random_svn_change(rng: &mut Rng, wc: &Path, n: usize, vcs: &dyn Fn(&[&str])) -> String {
    let projects = project_folders(wc);
    let project = &projects[rng.below(projects.len())];
    let roles = format!("{project}/.polarion/security/user-roles.xml");
    match rng.below(10) {
        0 | 1 => {
            append(&wc.join(&roles), &format!("<!-- edit {n} -->\n"));
            format!("edit {roles}")
        }
        2 => {
            vcs(&["propset", "rs:note", &n.to_string(), &roles]);
            format!("a property of {roles}")
        }
        3 => {
            vcs(&["propset", "rs:note", &n.to_string(), project]);
            format!("a property of the folder {project}")
        }
        4 => {
            let copy = format!("Engineering/copy{n}");
            vcs(&["cp", project, &copy]);
            format!("copy {project} to {copy}")
        }
        5 if projects.len() > 2 => {
            vcs(&["rm", project]);
            format!("delete {project}")
        }
        6 => {
            let user = format!(".polarion/user-management/users/u{n}");
            std::fs::create_dir_all(wc.join(&user)).expect("mkdir");
            std::fs::write(
                wc.join(&user).join("user.xml"),
                format!("<user id=\"u{n}\" name=\"U {n}\"/>\n"),
            )
            .expect("write");
            vcs(&["add", &user]);
            format!("add the user u{n}")
        }
        7 if projects.len() > 1 => {
            // Replace one project by a copy of another in one change.
            let other = projects
                .iter()
                .find(|p| *p != project)
                .expect("two projects");
            vcs(&["rm", project]);
            vcs(&["cp", other, project]);
            format!("replace {project} by a copy of {other}")
        }
        8 => {
            append(&wc.join(&roles), "<broken");
            format!("break {roles}")
        }
        _ => {
            std::fs::write(wc.join(format!("NOTES{n}.txt")), "notes\n").expect("write");
            vcs(&["add", &format!("NOTES{n}.txt")]);
            append(&wc.join(".polarion/access"), &format!("# {n}\n"));
            "a file outside the configuration, and the access file".to_owned()
        }
    }
}

fn append(path: &Path, text: &str) {
    let mut s = std::fs::read_to_string(path).expect("read");
    s.push_str(text);
    std::fs::write(path, s).expect("write");
}

/// The SVN set-up of the pre-commit tests: no policy tests (they assert
/// an admin too: the rails are what is tested), the hooks installed behind
/// `install_pausing_hook` (its sync folder returned).
fn paused_svn_without_policy_tests() -> (Svn, PathBuf) {
    let svn = Svn::new();
    svn_in_wc(&svn, &["rm", "-q", ".polarion/tests"]);
    svn_in_wc(&svn, &["commit", "-q", "-m", "no policy tests"]);
    svn.install_hooks();
    let sync = install_pausing_hook(&svn);
    svn.install_hooks();
    (svn, sync)
}

/// A pre-commit hook that runs before rolesync's (installed as the hook
/// rolesync chains): it writes the transaction's name to `sync/txn` and
/// waits for `sync/go`, so that the test reads the live transaction.
fn install_pausing_hook(svn: &Svn) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let sync = svn.path("sync");
    std::fs::create_dir_all(&sync).expect("mkdir");
    let d = sync.display();
    let script = format!(
        "#!/bin/sh\nprintf '%s' \"$2\" > '{d}/txn.tmp' && mv '{d}/txn.tmp' '{d}/txn'\n\
         while [ ! -e '{d}/go' ]; do sleep 0.01; done\nrm -f '{d}/go'\nexit 0\n"
    );
    let hook = svn.config_repo().join("hooks/pre-commit");
    std::fs::write(&hook, script).expect("hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    sync
}

/// `svn commit` of the working copy on a thread; the transaction's name
/// once the pausing hook holds it (`None`: the commit ended before, e.g.
/// nothing to commit).
fn commit_paused(svn: &Svn, sync: &Path) -> (Option<String>, std::thread::JoinHandle<Output>) {
    let wc = svn.wc();
    let client = svn.path("client");
    let commit = std::thread::spawn(move || {
        run(Command::new("svn")
            .args(["commit", "-m", "random change"])
            .arg(&wc)
            .arg("--config-dir")
            .arg(&client))
    });
    let started = Instant::now();
    let txn = loop {
        if let Ok(txn) = std::fs::read_to_string(sync.join("txn")) {
            break Some(txn);
        }
        if commit.is_finished() {
            break None;
        }
        assert!(started.elapsed() < LIMIT, "the commit reaches pre-commit");
        std::thread::sleep(Duration::from_millis(10));
    };
    (txn, commit)
}

fn svn_pre_commit(svn: &Svn, txn: &str, state: Option<&Path>) -> Output {
    let mut cmd = util::rolesync();
    cmd.args(["hook", "pre-commit"])
        .arg(svn.config_repo())
        .arg(txn);
    if let Some(state) = state {
        cmd.arg("--state-dir").arg(state);
    }
    cmd.env("LC_ALL", "C.UTF-8").output().expect("runs")
}

#[test]
fn svn_transactions_read_from_the_cache_equal_full_reads() {
    let svn = Svn::new();
    svn.install_hooks();
    let sync = install_pausing_hook(&svn);
    svn.install_hooks(); // chains the pausing hook before rolesync's
    let state = svn.path("state");
    let source = Source::open(&svn.config_repo(), &Options::default()).expect("SVN");
    let limits = Limits::default();
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let svn_cmd = |args: &[&str]| svn_in_wc(&svn, args);
    let (mut accepted, mut refused, mut used) = (0, 0, 0);
    for n in 0..24 {
        let change = random_svn_change(&mut rng, &svn.wc(), n, &svn_cmd);
        let youngest: u64 = svn.youngest().parse().expect("a number");
        let stale = youngest.saturating_sub(1 + rng.below(3) as u64).max(1);
        let kind = KINDS[rng.below(KINDS.len())];
        let usable = place_cache(
            &state,
            &source,
            kind,
            &youngest.to_string(),
            &stale.to_string(),
        );
        let (txn, commit) = commit_paused(&svn, &sync);
        let Some(txn) = txn else {
            let out = commit.join().expect("svn");
            panic!("step {n} ({change}): {}", util::stderr(&out));
        };
        let at = At::Transaction(&txn);
        let (fast, was_used) = read_as_the_hook(&source, &state, At::Revision(None), at);
        assert_eq!(was_used, usable, "step {n}: cache {kind:?}");
        used += usize::from(was_used);
        // The read file by file is the reference; the hook's read with no
        // cache (the base revision by `svnadmin dump`, then the
        // transaction's changes) equals it too.
        let full = comparable(source.read_at_per_file(at, limits));
        assert_same(
            &fast,
            &full,
            &format!("step {n} ({change}, cache {kind:?})"),
        );
        assert_same(
            &comparable(source.read_at(at, limits)),
            &full,
            &format!("step {n} ({change}): the read without a cache"),
        );
        // From the stale revision straight to the transaction, too.
        let old = source.read(Some(&stale.to_string()), limits).expect("read");
        let from_old = comparable(source.read_at_from(at, &old, limits));
        assert_same(
            &from_old,
            &full,
            &format!("step {n} ({change}) from r{stale}"),
        );
        let ok = same_verdict(
            svn_pre_commit(&svn, &txn, Some(&state)),
            svn_pre_commit(&svn, &txn, None),
            &format!("step {n} ({change}, cache {kind:?})"),
        );
        std::fs::remove_file(sync.join("txn")).expect("rm");
        std::fs::write(sync.join("go"), "").expect("go");
        let out = commit.join().expect("svn");
        assert_eq!(
            out.status.success(),
            ok,
            "step {n} ({change}): the installed hook decides the same: {}",
            util::stderr(&out)
        );
        if ok {
            accepted += 1;
            let up = run(Command::new("svn")
                .args(["update", "-q", "--config-dir"])
                .arg(svn.path("client"))
                .arg(svn.wc()));
            assert!(up.status.success(), "{}", util::stderr(&up));
        } else {
            refused += 1;
            fresh_checkout(&svn);
        }
    }
    assert!(
        accepted >= 5 && refused >= 2,
        "{accepted} accepted, {refused} refused"
    );
    assert!(used >= 3, "the cache was used {used} times");
}

/// Throw the working copy away and check out the youngest revision again.
fn fresh_checkout(svn: &Svn) {
    std::fs::remove_dir_all(svn.wc()).expect("rm wc");
    let out = run(Command::new("svn")
        .args(["checkout", "-q"])
        .arg(crate::svn::url(&svn.config_repo()))
        .arg(svn.wc())
        .arg("--config-dir")
        .arg(svn.path("client")));
    assert!(out.status.success(), "{}", util::stderr(&out));
}

/// One random change to the Git work tree `wc`; its description.
fn random_git_change(rng: &mut Rng, wc: &Path, n: usize) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let projects = project_folders(wc);
    let project = &projects[rng.below(projects.len())];
    let security = wc.join(project).join(".polarion/security");
    let roles = security.join("user-roles.xml");
    match rng.below(10) {
        0 | 1 => {
            append(&roles, &format!("<!-- edit {n} -->\n"));
            format!("edit {project}")
        }
        2 => {
            let mode = std::fs::metadata(&roles)
                .expect("stat")
                .permissions()
                .mode();
            std::fs::set_permissions(&roles, std::fs::Permissions::from_mode(mode ^ 0o111))
                .expect("chmod");
            format!("the mode of {project}'s roles")
        }
        3 => {
            util::copy_tree(&wc.join(project), &wc.join(format!("Engineering/copy{n}")));
            format!("copy {project}")
        }
        4 if projects.len() > 2 => {
            std::fs::remove_dir_all(wc.join(project)).expect("rm");
            format!("delete {project}")
        }
        5 => {
            let user = wc.join(format!(".polarion/user-management/users/u{n}"));
            std::fs::create_dir_all(&user).expect("mkdir");
            std::fs::write(
                user.join("user.xml"),
                format!("<user id=\"u{n}\" name=\"U {n}\"/>\n"),
            )
            .expect("write");
            format!("add the user u{n}")
        }
        6 => {
            git(wc, &["mv", project, &format!("Engineering/moved{n}")]);
            format!("rename {project}")
        }
        7 => {
            append(&roles, "<broken");
            format!("break {project}")
        }
        8 => {
            let link = security.join("permissions.xml");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink("user-roles.xml", &link).expect("symlink");
            format!("a link in {project}")
        }
        _ => {
            std::fs::write(wc.join(format!("NOTES{n}.txt")), "notes\n").expect("write");
            append(&wc.join(".polarion/access"), &format!("# {n}\n"));
            "a file outside the configuration, and the access file".to_owned()
        }
    }
}

/// `rolesync hook pre-receive` in the repository `dir` for one pushed ref.
fn git_pre_receive(dir: &Path, old: &str, new: &str, state: Option<&Path>, log: bool) -> Output {
    use std::io::Write as _;
    let mut cmd = util::rolesync();
    cmd.args(["hook", "pre-receive"]).current_dir(dir);
    if let Some(state) = state {
        cmd.arg("--state-dir").arg(state);
    }
    if log {
        cmd.env("ROLESYNC_LOG", "rolesync=debug");
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{old} {new} refs/heads/main").expect("write");
    drop(stdin);
    child.wait_with_output().expect("waits")
}

#[test]
fn git_pushes_read_from_the_cache_equal_full_reads() {
    let cfg = Config::new();
    let (bare, clone) = crate::hooks::bare_with_hooks(&cfg);
    let state = cfg.path("state");
    let local = cfg.path("local-state");
    let bare_source = Source::open(&bare, &Options::default()).expect("Git");
    let source = Source::open(&clone, &Options::default()).expect("Git");
    let limits = Limits::default();
    let mut rng = Rng(0x0dd_ba11_c0ff_ee00);
    let (mut accepted, mut refused, mut used) = (0, 0, 0);
    for n in 0..24 {
        let old = git(&clone, &["rev-parse", "HEAD"]);
        let mut changes = Vec::new();
        for c in 0..1 + rng.below(2) {
            changes.push(random_git_change(&mut rng, &clone, 2 * n + c));
            git(&clone, &["add", "-A"]);
            git(&clone, &["commit", "-q", "--allow-empty", "-m", "change"]);
        }
        let new = git(&clone, &["rev-parse", "HEAD"]);
        let history = git(&clone, &["rev-list", "--first-parent", &old]);
        let history: Vec<&str> = history.lines().collect();
        let stale = history[rng.below(history.len().min(4))];
        let kind = KINDS[rng.below(KINDS.len())];
        place_cache(&state, &bare_source, kind, &old, stale);
        let usable = place_cache(&local, &source, kind, &old, stale);
        let what = format!("step {n} ({changes:?}, cache {kind:?})");
        let (fast, was_used) = read_as_the_hook(
            &source,
            &local,
            At::Revision(Some(&old)),
            At::Revision(Some(&new)),
        );
        assert_eq!(was_used, usable, "{what}");
        used += usize::from(was_used);
        let full = comparable(source.read_at(At::Revision(Some(&new)), limits));
        assert_same(&fast, &full, &what);
        let logged = util::stderr(&git_pre_receive(&clone, &old, &new, Some(&local), true));
        assert_eq!(logged.contains("is ignored"), !usable, "{what}: {logged}");
        let ok = same_verdict(
            git_pre_receive(&clone, &old, &new, Some(&local), false),
            git_pre_receive(&clone, &old, &new, None, false),
            &what,
        );
        let out = git_output(&clone, &["push", "-q", "origin", "main"]);
        assert_eq!(out.status.success(), ok, "{what}: {}", util::stderr(&out));
        if ok {
            accepted += 1;
        } else {
            refused += 1;
            git(&clone, &["reset", "-q", "--hard", &old]);
            git(&clone, &["clean", "-fdq"]);
        }
    }
    assert!(
        accepted >= 5 && refused >= 2,
        "{accepted} accepted, {refused} refused"
    );
    assert!(used >= 3, "the cache was used {used} times");
}

#[test]
fn the_daemon_writes_the_cache_of_each_applied_revision() {
    let cfg = Config::new();
    let (bare, clone) = crate::hooks::bare_with_hooks(&cfg);
    let state = cfg.path("state");
    let access = cfg.path("access");
    let _d = Daemon::start(&bare, &access, &state, &[]);
    let source = Source::open(&bare, &Options::default()).expect("Git");
    let limits = Limits::default();
    let cached = |rev: &str| {
        source.load_cache(&state, limits).is_some_and(|c| {
            c.revision == rev
                && Some(c.files) == source.read(Some(rev), limits).ok().map(|i| i.files)
        })
    };
    let head = git(&bare, &["rev-parse", "main"]);
    wait_until(LIMIT, "the cache of the first revision", || cached(&head));
    let file = clone.join("Engineering/elibrary/.polarion/security/user-roles.xml");
    for (n, text) in ["<!-- one -->\n", "<!-- two -->\n"].iter().enumerate() {
        if n == 1 {
            // A cache broken by hand: the daemon never reads it, and
            // writes the next one whole.
            std::fs::write(state.join(cache::CACHE_FILE), "garbage").expect("write");
        }
        append(&file, text);
        git(&clone, &["commit", "-q", "-am", "edit"]);
        git(&clone, &["push", "-q", "origin", "main"]);
        let head = git(&bare, &["rev-parse", "main"]);
        wait_until(LIMIT, "the cache of the pushed revision", || cached(&head));
    }
}

/// `svn` in the working copy of `svn`, which must succeed.
fn svn_in_wc(svn: &Svn, args: &[&str]) {
    let out = run(Command::new("svn")
        .args(args)
        .arg("--config-dir")
        .arg(svn.path("client"))
        .current_dir(svn.wc()));
    assert!(out.status.success(), "svn {args:?}: {}", util::stderr(&out));
}

/// The pre-commit hook's verdict and messages on one live transaction are
/// the same with a fresh cache (of the youngest revision: built while the
/// transaction is read), a stale one (the youngest revision read and built
/// on top of the cache's) and none, for an accepted change, a broken one,
/// one the guard rails refuse and one accepted after them.
#[test]
fn svn_pre_commit_says_the_same_with_a_fresh_a_stale_and_no_cache() {
    const ROLES: &str = ".polarion/security/user-roles.xml";
    let (svn, sync) = paused_svn_without_policy_tests();
    let (fresh, stale) = (svn.path("fresh"), svn.path("stale"));
    let source = Source::open(&svn.config_repo(), &Options::default()).expect("SVN");
    let roles = svn.wc().join(ROLES);
    let edit = |from: &str, to: &str| {
        let text = std::fs::read_to_string(&roles).expect("read");
        assert!(text.contains(from), "{from} in {ROLES}");
        std::fs::write(&roles, text.replacen(from, to, 1)).expect("write");
    };
    // What changes, the change, the code of its refusal (`None`: accepted).
    type Step<'a> = (&'a str, &'a dyn Fn(), Option<&'a str>);
    let changes: [Step; 4] = [
        ("a comment", &|| append(&roles, "<!-- one -->\n"), None),
        ("broken", &|| append(&roles, "<broken"), Some("error[")),
        (
            "the last admin removed",
            &|| edit("<role name=\"admin\"/>", ""),
            Some("error[rail-last-admin]"),
        ),
        (
            "another comment",
            &|| append(&roles, "<!-- two -->\n"),
            None,
        ),
    ];
    for (what, change, refusal) in changes {
        change();
        let youngest: u64 = svn.youngest().parse().expect("a number");
        let (now, before) = (youngest.to_string(), (youngest - 1).to_string());
        assert!(place_cache(
            &fresh,
            &source,
            CacheKind::Fresh,
            &now,
            &before
        ));
        assert!(place_cache(
            &stale,
            &source,
            CacheKind::Stale,
            &now,
            &before
        ));
        let (Some(txn), commit) = commit_paused(&svn, &sync) else {
            panic!("{what}: the commit reaches pre-commit");
        };
        let none = svn_pre_commit(&svn, &txn, None);
        for state in [&fresh, &stale] {
            let with = svn_pre_commit(&svn, &txn, Some(state));
            same_verdict(with, none.clone(), &format!("{what}, {}", state.display()));
        }
        std::fs::remove_file(sync.join("txn")).expect("rm");
        std::fs::write(sync.join("go"), "").expect("go");
        let out = commit.join().expect("svn");
        match refusal {
            None => {
                assert!(out.status.success(), "{what}: {}", util::stderr(&out));
                svn_in_wc(&svn, &["update", "-q"]);
            }
            Some(code) => {
                assert!(!out.status.success(), "{what} is refused");
                assert!(
                    util::stderr(&none).contains(code),
                    "{what}: {}",
                    util::stderr(&none)
                );
                svn_in_wc(&svn, &["revert", "-q", ROLES]);
            }
        }
    }
}

/// pre-commit with `state`, logging whether the daemon judged the change.
fn svn_pre_commit_logged(svn: &Svn, txn: &str, state: &Path) -> (Output, bool) {
    let out = util::rolesync()
        .args(["hook", "pre-commit"])
        .arg(svn.config_repo())
        .arg(txn)
        .arg("--state-dir")
        .arg(state)
        .env("LC_ALL", "C.UTF-8")
        .env("ROLESYNC_LOG", "rolesync::cmd::hook=debug")
        .output()
        .expect("runs");
    let judged = util::stderr(&out).contains("judged by the daemon");
    (out, judged)
}

/// A fake daemon on the validation socket of `state` that answers every
/// request with `answer` (garbage, a well-formed answer of another
/// revision, a refusal): the hook must build itself.
fn fake_validator(state: &Path, answer: Vec<u8>) -> std::thread::JoinHandle<()> {
    use std::io::{Read as _, Write as _};
    let path = state.join(rolesync::daemon::validate_wire::VALIDATE_SOCKET);
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut request = Vec::new();
            let _ = s.read_to_end(&mut request);
            let _ = s.write_all(&answer);
        }
        let _ = std::fs::remove_file(&path);
    })
}

/// The daemon judges a live transaction for the pre-commit hook (issue
/// 13): its verdict and messages equal the hook's own build's (no state
/// folder), for an accepted change, a broken one, one the guard rails
/// refuse and one accepted after them. A fake daemon that answers
/// garbage, accepts against another revision, refuses, or one that does
/// not run changes nothing: the hook builds itself.
#[test]
fn svn_pre_commit_judged_by_the_daemon_says_what_the_hook_says() {
    use rolesync::daemon::validate_verdict::Verdict;
    use rolesync::daemon::validate_wire::Answer;
    const ROLES: &str = ".polarion/security/user-roles.xml";
    let (svn, sync) = paused_svn_without_policy_tests();
    let (state, fakes) = (svn.path("state"), svn.path("fakes"));
    let _d = Daemon::start(&svn.config_repo(), &svn.path("access"), &state, &[]);
    let source = Source::open(&svn.config_repo(), &Options::default()).expect("SVN");
    let roles = svn.wc().join(ROLES);
    let edit = |from: &str, to: &str| {
        let text = std::fs::read_to_string(&roles).expect("read");
        std::fs::write(&roles, text.replacen(from, to, 1)).expect("write");
    };
    let accept = |revision: &str| Answer {
        revision: revision.to_owned(),
        verdict: Ok(Verdict::Accepted { warnings: false }),
        messages: Vec::new(),
    };
    type Step<'a> = (&'a str, &'a dyn Fn(), bool);
    let changes: [Step; 4] = [
        ("a comment", &|| append(&roles, "<!-- one -->\n"), true),
        ("broken", &|| append(&roles, "<broken"), false),
        (
            "the last admin removed",
            &|| edit("<role name=\"admin\"/>", ""),
            false,
        ),
        (
            "another comment",
            &|| append(&roles, "<!-- two -->\n"),
            true,
        ),
    ];
    for (what, change, accepted) in changes {
        let youngest = svn.youngest();
        wait_until(LIMIT, "the cache of the youngest revision", || {
            source
                .load_cache(&state, Limits::default())
                .is_some_and(|c| c.revision == youngest)
        });
        change();
        let (Some(txn), commit) = commit_paused(&svn, &sync) else {
            panic!("{what}: the commit reaches pre-commit");
        };
        let none = svn_pre_commit(&svn, &txn, None);
        assert_eq!(none.status.success(), accepted, "{what}");
        // The daemon judges once it built the revision it applied.
        wait_until(LIMIT, "the daemon judges", || {
            svn_pre_commit_logged(&svn, &txn, &state).1
        });
        same_verdict(svn_pre_commit(&svn, &txn, Some(&state)), none.clone(), what);
        let hostile = [
            b"garbage".to_vec(),
            accept("1").encode(),
            accept(&youngest).encode()[..20].to_vec(),
            Answer {
                verdict: Err("busy".into()),
                ..accept(&youngest)
            }
            .encode(),
            Vec::new(),
        ];
        for (n, answer) in hostile.into_iter().enumerate() {
            std::fs::create_dir_all(&fakes).expect("mkdir");
            assert!(place_cache(
                &fakes,
                &source,
                CacheKind::Fresh,
                &youngest,
                &youngest
            ));
            let fake = fake_validator(&fakes, answer);
            let (with, judged) = svn_pre_commit_logged(&svn, &txn, &fakes);
            assert!(!judged, "{what}, fake answer {n}: not judged by it");
            assert_eq!(with.status.code(), none.status.code(), "{what}, fake {n}");
            fake.join().expect("fake");
            same_verdict(svn_pre_commit(&svn, &txn, Some(&fakes)), none.clone(), what);
        }
        std::fs::remove_file(sync.join("txn")).expect("rm");
        std::fs::write(sync.join("go"), "").expect("go");
        let out = commit.join().expect("svn");
        assert_eq!(
            out.status.success(),
            accepted,
            "{what}: {}",
            util::stderr(&out)
        );
        match accepted {
            true => svn_in_wc(&svn, &["update", "-q"]),
            false => svn_in_wc(&svn, &["revert", "-q", ROLES]),
        }
    }
}

/// The daemon judges the commits of a live push for the pre-receive hook
/// (issue 13): its verdict and messages equal the hook's own build's (no
/// state folder), for pushes of one and of two commits, accepted, broken
/// in the second commit, and refused by the guard rails; every commit is
/// judged by it. A fake daemon that answers garbage, accepts against
/// another revision or refuses changes nothing: the hook builds itself.
#[test]
fn git_pre_receive_judged_by_the_daemon_says_what_the_hook_says() {
    use rolesync::daemon::validate_verdict::Verdict;
    use rolesync::daemon::validate_wire::Answer;
    const ROLES: &str = ".polarion/security/user-roles.xml";
    let cfg = Config::new();
    // The sample's policy tests assert an admin: without them the guard
    // rail is what refuses the admin's removal.
    git(&cfg.work(), &["rm", "-r", "-q", ".polarion/tests"]);
    git(&cfg.work(), &["commit", "-q", "-m", "no policy tests"]);
    let (bare, clone) = crate::hooks::bare_with_hooks(&cfg);
    let (state, fakes) = (cfg.path("state"), cfg.path("fakes"));
    let _d = Daemon::start(&bare, &cfg.path("access"), &state, &[]);
    let source = Source::open(&bare, &Options::default()).expect("Git");
    let roles = clone.join(ROLES);
    let accept = |revision: &str| Answer {
        revision: revision.to_owned(),
        verdict: Ok(Verdict::Accepted { warnings: false }),
        messages: Vec::new(),
    };
    let comment = |n: usize| {
        let roles = roles.clone();
        Box::new(move || append(&roles, &format!("<!-- {n} -->\n"))) as Box<dyn Fn()>
    };
    let broken = Box::new(|| append(&roles, "<broken")) as Box<dyn Fn()>;
    let no_admin = Box::new(|| {
        let text = std::fs::read_to_string(&roles).expect("read");
        let text = text.replacen("<role name=\"admin\"/>", "", 1);
        std::fs::write(&roles, text).expect("write");
    }) as Box<dyn Fn()>;
    type Step<'a> = (&'a str, Vec<Box<dyn Fn() + 'a>>, bool);
    let steps: Vec<Step> = vec![
        ("a comment", vec![comment(1)], true),
        ("a comment, then broken", vec![comment(2), broken], false),
        ("the last admin removed", vec![no_admin], false),
        ("two comments", vec![comment(3), comment(4)], true),
    ];
    let judged = |out: &Output| util::stderr(out).matches("judged by the daemon").count();
    for (what, changes, accepted) in steps {
        let old = git(&bare, &["rev-parse", "main"]);
        wait_until(LIMIT, "the cache of the tip", || {
            source
                .load_cache(&state, Limits::default())
                .is_some_and(|c| c.revision == old)
        });
        for change in &changes {
            change();
            git(&clone, &["commit", "-q", "-am", what]);
        }
        let new = git(&clone, &["rev-parse", "HEAD"]);
        // The commits in the bare repository, not yet on its branch.
        let from = clone.to_str().expect("UTF-8 path");
        git(&bare, &["fetch", "-q", from, "+HEAD:refs/candidate"]);
        let none = git_pre_receive(&bare, &old, &new, None, false);
        assert_eq!(
            none.status.success(),
            accepted,
            "{what}: {}",
            util::stderr(&none)
        );
        // The daemon judges every commit once it built the tip it applied.
        wait_until(LIMIT, "the daemon judges", || {
            judged(&git_pre_receive(&bare, &old, &new, Some(&state), true)) == changes.len()
        });
        let with = git_pre_receive(&bare, &old, &new, Some(&state), false);
        same_verdict(with, none.clone(), what);
        let hostile = [
            b"garbage".to_vec(),
            accept("1").encode(),
            Answer {
                verdict: Err("busy".into()),
                ..accept(&old)
            }
            .encode(),
        ];
        for (n, answer) in hostile.into_iter().enumerate() {
            std::fs::create_dir_all(&fakes).expect("mkdir");
            assert!(place_cache(&fakes, &source, CacheKind::Fresh, &old, &old));
            let fake = fake_validator(&fakes, answer);
            let logged = git_pre_receive(&bare, &old, &new, Some(&fakes), true);
            assert_eq!(
                judged(&logged),
                0,
                "{what}, fake answer {n}: not judged by it"
            );
            assert_eq!(logged.status.code(), none.status.code(), "{what}, fake {n}");
            fake.join().expect("fake");
            let with = git_pre_receive(&bare, &old, &new, Some(&fakes), false);
            same_verdict(with, none.clone(), what);
        }
        let out = git_output(&clone, &["push", "-q", "origin", "main"]);
        assert_eq!(
            out.status.success(),
            accepted,
            "{what}: {}",
            util::stderr(&out)
        );
        if !accepted {
            git(&clone, &["reset", "-q", "--hard", &old]);
        }
    }
}
