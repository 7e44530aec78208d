//! `rolesync hook …`: the repository side of the daemon. Git's
//! `pre-receive` refuses a push whose commits do not validate or cannot be
//! read (the pusher sees the `path:line:col` lines as `remote:` output) and
//! SVN's `pre-commit` refuses a commit likewise (the committer sees them);
//! an accepted push shows its warnings the same way, an accepted SVN commit
//! through `post-commit` (Subversion shows hook output only on failure, so
//! post-commit exits 1 when there are warnings). The guard rails
//! (`rails`) judge each change against the configuration in force — the
//! branch's tip, the youngest revision (post-commit: the revision before) —
//! and an accepted change's diff summary is printed. `post-receive` /
//! `post-commit` notify the daemon; `install` puts the hooks where Git runs
//! them (`core.hooksPath`) or into the SVN repository's `hooks/`, chaining
//! hooks that were already there.

use std::borrow::Cow;
use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use super::directory_answer::{self as answer, with};
use crate::cli::{
    Hook, HookArgs, InstallArgs, NotifyArgs, PreReceiveArgs, SvnPostCommitArgs, SvnPreCommitArgs,
};
use crate::daemon::notice::Notice;
use crate::daemon::validate_verdict::{Named, Rails, Verdict, check};
use crate::daemon::validate_wire;
use crate::repo;
use crate::snapshot::{self, Limits};

/// Marks a hook file written by `rolesync hook install`.
const MARKER: &str = "# installed by `rolesync hook install`";

pub fn run(args: &HookArgs) -> anyhow::Result<ExitCode> {
    match &args.hook {
        Hook::PreReceive(a) => pre_receive(a),
        Hook::PostReceive(a) => post_receive(a),
        Hook::PreCommit(a) => pre_commit(a),
        Hook::PostCommit(a) => post_commit(a),
        Hook::Install(a) => install(a),
    }
}

/// The repository a hook runs in: `GIT_DIR`, else the current folder.
fn hook_repo() -> PathBuf {
    std::env::var_os("GIT_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

fn pre_receive(args: &PreReceiveArgs) -> anyhow::Result<ExitCode> {
    let hook = &args.hook;
    let options = repo::Options {
        branch: hook.branch.clone(),
        subpath: hook.read.path.clone(),
    };
    let source = repo::Source::open(&hook_repo(), &options)?;
    if source.kind() != repo::Kind::Git {
        bail!(
            "pre-receive runs in a Git repository; {} is {}",
            source.path().display(),
            source.kind().describe()
        );
    }
    let branch = source
        .branch()?
        .context("HEAD names no branch; give --branch")?;
    let wanted = format!("refs/heads/{branch}");
    let limits = hook.read.limits();
    answer::load_for_hook(args.state_dir.as_deref());
    // The last revision read: the daemon's cache at first, then each
    // commit checked; each read starts from it and reads only what changed.
    let mut base = args
        .state_dir
        .as_deref()
        .and_then(|dir| source.load_cache(dir, limits))
        .map(answer::attach);
    let mut refused = false;
    let mut accepted = Vec::new();
    let mut err = std::io::stderr().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading the pushed refs")?;
        let mut parts = line.split_whitespace();
        let (Some(old), Some(new), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if name != wanted {
            continue;
        }
        if new.bytes().all(|b| b == b'0') {
            writeln!(
                err,
                "rolesync: refusing to delete the config branch {branch}"
            )?;
            refused = true;
            continue;
        }
        let push = Push {
            source: &source,
            branch: &branch,
            state_dir: args.state_dir.as_deref(),
            limits,
        };
        refused |= check_push(&mut err, &push, &mut base, (old, new))?;
        accepted.push(new.to_owned());
    }
    // Who pushes, told before the ref moves (the daemon's file watch may
    // reload before post-receive runs).
    if let (false, Some(dir), Some(pusher)) = (refused, &args.state_dir, pusher()) {
        let notice = Notice {
            only_push: true,
            pusher: Some(pusher),
            revisions: accepted,
        };
        notify(dir, &notice, true);
    }
    if refused {
        writeln!(
            err,
            "rolesync: push refused; fix the files above and push again"
        )?;
        return Ok(ExitCode::from(super::EXIT_INVALID));
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a push is checked: the repository, its config branch, the
/// daemon's state folder (when given) and the read limits.
struct Push<'a> {
    source: &'a repo::Source,
    branch: &'a str,
    state_dir: Option<&'a Path>,
    limits: Limits,
}

/// Check the commits a push of the config branch from `old` to `new`
/// brings, each against the branch's tip; whether one is refused. When
/// the daemon's cache is of the tip and the daemon answers on its
/// validation socket, it judges each commit against the tip it applied
/// (the hook builds nothing); from the first commit it does not judge,
/// the hook builds itself.
fn check_push(
    err: &mut dyn std::io::Write,
    push: &Push,
    base: &mut Option<snapshot::Input>,
    (old, new): (&str, &str),
) -> anyhow::Result<bool> {
    let Push {
        source,
        branch,
        limits,
        ..
    } = *push;
    let commits = source.pushed_revisions(old, new)?;
    // The rails of the branch's tip judge every pushed commit. The
    // daemon's cache is most often of the tip (it keeps up): then it is
    // the tip's read.
    let mut cached_tip = base
        .as_ref()
        .filter(|cached| cached.revision == old)
        .cloned();
    let mut daemon = push
        .state_dir
        .filter(|dir| dir.join(validate_wire::VALIDATE_SOCKET).exists());
    // The tip is read (or taken from the cache) once, for the first
    // commit the hook builds itself; a new branch has none.
    let mut tip_unread = !old.bytes().all(|b| b == b'0');
    let mut in_force_snapshot = None;
    let mut refused = false;
    let mut memo = snapshot::Memo::default();
    let mut phases = Phases::start();
    let mut last = None;
    for (i, commit) in commits.iter().enumerate() {
        let short = &commit[..commit.len().min(12)];
        let name = Named {
            what: &format!("commit {short} on {branch}"),
            invalid: "is invalid",
        };
        // The newest commit is what the daemon applies: its warnings
        // reach the pusher (as `remote:` lines).
        let warn = i + 1 == commits.len();
        if let Some((dir, tip_read)) = daemon.zip(cached_tip.as_ref()) {
            let read = read_from(source, base, repo::At::Revision(Some(commit)), limits);
            let request = read
                .ok()
                .and_then(|change| change_request(source, tip_read, change, &name, warn));
            if let Some(verdict) = ask_daemon(err, dir, &request)? {
                phases.lap("judged by the daemon");
                refused |= !matches!(verdict, Verdict::Accepted { .. });
                continue;
            }
            daemon = None;
        }
        // The tip is built before the first commit the hook builds, with
        // the same memo, while the commit is read.
        let tip_read = std::mem::take(&mut tip_unread).then(|| match cached_tip.take() {
            Some(cached) => Ok(cached),
            None => read_from(source, base, repo::At::Revision(Some(old)), limits),
        });
        let (built_tip, read) = build_beside(tip_read.as_ref(), &mut memo, || {
            read_from(source, base, repo::At::Revision(Some(commit)), limits)
        });
        phases.lap("read, build the tip");
        let mut report = read.map(|input| snapshot::build_cached(&input, &mut memo));
        phases.lap("build");
        if let Some(built) = built_tip {
            in_force_snapshot = in_force(err, built)?;
        }
        let rails = Rails {
            in_force: in_force_snapshot.as_ref(),
            target: source.rails_target(),
        };
        let verdict = check(err, &name, &mut report, warn, Some(&rails))?;
        phases.lap("judge");
        refused |= !matches!(verdict, Verdict::Accepted { .. });
        last = Some(report);
    }
    free_at_exit((memo, in_force_snapshot, last, cached_tip));
    Ok(refused)
}

/// Read `at`, from `base` when there is one (only what changed since), and
/// make what was read the next read's base.
fn read_from(
    source: &repo::Source,
    base: &mut Option<snapshot::Input>,
    at: repo::At,
    limits: Limits,
) -> Result<snapshot::Input, repo::Error> {
    let read = with(match base.as_ref() {
        Some(b) => source.read_at_from(at, b, limits),
        None => source.read_at(at, limits),
    });
    if let Ok(input) = &read {
        *base = Some(input.clone());
    }
    read
}

/// What was read, built: the configuration in force (when there is one to
/// build), then the change, with one memo (`snapshot::build_cached`), so
/// that the change's build reuses every file, project and scope it does not
/// touch: the second build costs what the change costs, and each report is
/// exactly a full build's.
fn build_pair(
    in_force: Option<Result<snapshot::Input, repo::Error>>,
    change: Result<snapshot::Input, repo::Error>,
    memo: &mut snapshot::Memo,
) -> (Option<InForce>, Result<snapshot::Report, repo::Error>) {
    let in_force = in_force.map(|read| build_in_force(read.as_ref(), memo));
    let report = change.map(|input| snapshot::build_cached(&input, memo));
    (in_force, report)
}

/// The configuration in force (when there is one to build) built with
/// `memo` on a thread while `read` runs (it reads the change).
fn build_beside<T: Send>(
    in_force: Option<&Result<snapshot::Input, repo::Error>>,
    memo: &mut snapshot::Memo,
    read: impl FnOnce() -> T + Send,
) -> (Option<InForce>, T) {
    std::thread::scope(|s| {
        let built = in_force.map(|input| s.spawn(|| build_in_force(input.as_ref(), memo)));
        let read = read();
        let built = built.map(|b| b.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (built, read)
    })
}

/// The configuration in force built with `memo` (the first of a hook's
/// two builds: [`build_pair`], [`build_beside`]), or why it could not be
/// read.
fn build_in_force(
    read: Result<&snapshot::Input, &repo::Error>,
    memo: &mut snapshot::Memo,
) -> InForce {
    read.map(|input| snapshot::build_cached(input, memo).snapshot)
        .map_err(ToString::to_string)
}

/// The configuration in force, built (`None`: it is invalid), or why it
/// could not be read.
type InForce = Result<Option<snapshot::Snapshot>, String>;

/// Let `values` go without freeing them: the hook's process ends right
/// after, and the system takes its memory back at once, where freeing a
/// 10,000-user model, its index and the memo piece by piece costs tens of
/// milliseconds (examples/hook_bench.rs). Only what is alive at the end
/// goes here, so a push of many commits holds no more than one.
fn free_at_exit<T>(values: T) {
    std::mem::forget(values);
}

/// `debug` lines with how long each phase of a hook took
/// (`ROLESYNC_LOG=rolesync::cmd::hook=debug`), for finding where a slow
/// hook spends its time.
struct Phases(std::time::Instant);

impl Phases {
    fn start() -> Phases {
        Phases(std::time::Instant::now())
    }

    /// The phase `name` ended now; the next one starts.
    fn lap(&mut self, name: &'static str) {
        tracing::debug!(
            phase = name,
            us = self.0.elapsed().as_micros() as u64,
            "hook phase"
        );
        self.0 = std::time::Instant::now();
    }
}

/// The configuration in force (the branch's tip, the youngest revision),
/// built; `None` when it cannot be read or is invalid (said on `err`: then
/// no rail applies).
fn in_force(
    err: &mut dyn std::io::Write,
    built: InForce,
) -> std::io::Result<Option<snapshot::Snapshot>> {
    match built {
        Ok(snapshot) => Ok(snapshot),
        Err(e) => {
            writeln!(
                err,
                "rolesync: the configuration in force cannot be read ({e}); no guard rails apply"
            )?;
            Ok(None)
        }
    }
}

/// Tell the daemon `notice` (`daemon::notice`); a daemon that is not
/// running is no error (it reloads at start, and its poll catches up).
/// `quiet`: say nothing when it cannot be told (pre-receive: the post-receive
/// hook will say so).
pub fn notify(state_dir: &Path, notice: &Notice, quiet: bool) {
    let socket = state_dir.join(crate::daemon::HOOK_SOCKET);
    match std::os::unix::net::UnixStream::connect(&socket) {
        Ok(mut s) => {
            let _ = s.write_all(notice.line().as_bytes());
        }
        Err(_) if quiet => {}
        Err(e) => eprintln!(
            "rolesync: cannot notify the daemon at {}: {e}",
            socket.display()
        ),
    }
}

/// The variables a Git server sets to name who pushes, the first set one
/// wins: smart HTTP (`REMOTE_USER`), gitolite (`GL_USER`), GitLab
/// (`GL_USERNAME`), Gitea and Forgejo (`GITEA_PUSHER_NAME`),
/// `GITLAB_USER_LOGIN`, then the account the hook runs as (`USER`,
/// `LOGNAME`: over SSH the pusher's own account, unless every pusher
/// shares one). `ROLESYNC_PUSHER_VAR` names a variable to read first.
pub const PUSHER_VARS: [&str; 7] = [
    "REMOTE_USER",
    "GL_USER",
    "GL_USERNAME",
    "GITEA_PUSHER_NAME",
    "GITLAB_USER_LOGIN",
    "USER",
    "LOGNAME",
];

/// Who pushes, from the hook's environment (`PUSHER_VARS`); a name that
/// is too long or holds a control character is not sent.
fn pusher() -> Option<String> {
    let custom = std::env::var("ROLESYNC_PUSHER_VAR").ok();
    let value = custom
        .iter()
        .map(String::as_str)
        .chain(PUSHER_VARS)
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))?;
    if crate::daemon::notice::valid_pusher(&value) {
        return Some(value);
    }
    eprintln!(
        "rolesync: the pusher's name is longer than {} bytes or holds a control character; not sent",
        crate::daemon::notice::MAX_PUSHER_BYTES
    );
    None
}

/// The new revision of each ref a push updated (`old new ref` lines; a
/// deleted ref has none), at most `notice::MAX_REVISIONS`.
fn pushed(refs: &str) -> Vec<String> {
    refs.lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|new| !new.bytes().all(|b| b == b'0'))
        .take(crate::daemon::notice::MAX_REVISIONS)
        .map(str::to_owned)
        .collect()
}

fn post_receive(args: &NotifyArgs) -> anyhow::Result<ExitCode> {
    // Drain the pushed refs so that git never sees a broken pipe.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    let notice = Notice {
        only_push: false,
        pusher: pusher(),
        revisions: pushed(&String::from_utf8_lossy(&sink)),
    };
    notify(&args.state_dir, &notice, false);
    Ok(ExitCode::SUCCESS)
}

/// The SVN repository a hook runs for, with the configuration under `path`.
fn svn_source(repos: &Path, path: Option<&String>) -> anyhow::Result<repo::Source> {
    let options = repo::Options {
        branch: None,
        subpath: path.cloned(),
    };
    Ok(repo::Source::open(repos, &options)?)
}

fn pre_commit(args: &SvnPreCommitArgs) -> anyhow::Result<ExitCode> {
    let mut phases = Phases::start();
    let source = svn_source(&args.repos, args.read.path.as_ref())?;
    let at = repo::At::Transaction(&args.txn);
    // Skip quickly when nothing of the configuration changed.
    if !source.touches_config(at)? {
        return Ok(ExitCode::SUCCESS);
    }
    phases.lap("touches");
    let limits = args.read.limits();
    let mut err = std::io::stderr().lock();
    let name = Named {
        what: "this commit",
        invalid: "makes the configuration invalid",
    };
    answer::load_for_hook(args.state_dir.as_deref());
    let cache = args
        .state_dir
        .as_deref()
        .and_then(|dir| source.load_cache(dir, limits))
        .map(answer::attach);
    phases.lap("cache");
    if let (Some(dir), Some(cache)) = (args.state_dir.as_deref(), cache.as_ref())
        && let Some(verdict) = judged_by_daemon(&mut err, dir, &source, cache, at, &name, limits)?
    {
        phases.lap("judged by the daemon");
        free_at_exit(cache);
        return commit_exit(&mut err, verdict);
    }
    let (built, txn, mut memo, youngest) =
        in_force_and_transaction(&source, cache.as_ref(), at, limits);
    phases.lap("build youngest, read transaction");
    let mut report = txn.map(|input| snapshot::build_cached(&input, &mut memo));
    phases.lap("build transaction");
    let in_force_snapshot = in_force(&mut err, built)?;
    let rails = Rails {
        in_force: in_force_snapshot.as_ref(),
        target: source.rails_target(),
    };
    // Subversion shows a pre-commit hook's output only when it refuses;
    // post-commit repeats the warnings where they are seen.
    let verdict = check(&mut err, &name, &mut report, true, Some(&rails))?;
    phases.lap("judge");
    free_at_exit((memo, in_force_snapshot, report, youngest, cache));
    commit_exit(&mut err, verdict)
}

/// How pre-commit ends on `verdict`: the commit goes in, or is refused
/// (said on `err`).
fn commit_exit(err: &mut dyn std::io::Write, verdict: Verdict) -> anyhow::Result<ExitCode> {
    match verdict {
        Verdict::Accepted { .. } => return Ok(ExitCode::SUCCESS),
        Verdict::Unreadable => writeln!(err, "rolesync: commit refused")?,
        Verdict::Invalid => writeln!(
            err,
            "rolesync: commit refused; fix the files above and commit again"
        )?,
    }
    Ok(ExitCode::from(super::EXIT_INVALID))
}

/// The daemon's verdict on the transaction `at` (its messages printed on
/// `err`), when the daemon whose state folder is `dir` answers one judged
/// against the youngest revision, and that is the `cache`'s: the hook
/// then builds nothing. `None`: no daemon, no answer in time
/// (`validate_wire::TIMEOUT`), a refusal or a malformed answer, or the
/// transaction cannot be read from the cache: the hook builds itself.
fn judged_by_daemon(
    err: &mut dyn std::io::Write,
    dir: &Path,
    source: &repo::Source,
    cache: &snapshot::Input,
    at: repo::At,
    name: &Named,
    limits: Limits,
) -> std::io::Result<Option<Verdict>> {
    if !dir.join(validate_wire::VALIDATE_SOCKET).exists()
        || source.newest_revision().ok().flatten().as_deref() != Some(cache.revision.as_str())
    {
        return Ok(None);
    }
    let Ok(txn) = source.read_at_from(at, cache, limits) else {
        return Ok(None);
    };
    ask_daemon(err, dir, &change_request(source, cache, txn, name, true))
}

/// Ask the daemon to judge `request`: its verdict, its messages printed
/// on `err`; `None` (said at debug level) when it gives none.
fn ask_daemon(
    err: &mut dyn std::io::Write,
    dir: &Path,
    request: &Option<validate_wire::Request>,
) -> std::io::Result<Option<Verdict>> {
    let Some(request) = request else {
        return Ok(None);
    };
    let why = match validate_wire::ask(dir, request) {
        Ok(answer) => match answer.verdict {
            Ok(verdict) => {
                err.write_all(&answer.messages)?;
                return Ok(Some(verdict));
            }
            Err(why) => why,
        },
        Err(why) => why,
    };
    tracing::debug!(
        why,
        "the daemon does not judge the change; the hook builds it"
    );
    Ok(None)
}

/// What the daemon is asked to judge: `change` as the files it adds,
/// changes and removes against `base`, the revision in force, named
/// `name` (`warn`: print its warnings). `None`: the change is incomplete
/// (over `Limits::max_total_bytes`) or the source has no identity.
fn change_request(
    source: &repo::Source,
    base: &snapshot::Input,
    change: snapshot::Input,
    name: &Named,
    warn: bool,
) -> Option<validate_wire::Request> {
    let identity = source.cache_identity().ok().flatten()?;
    if change.incomplete.is_some() {
        return None;
    }
    let removed = (base.files.keys())
        .filter(|p| !change.files.contains_key(*p))
        .map(|p| (p.clone(), None));
    let mut changed: Vec<_> = (change.files.iter())
        .filter(|(p, b)| base.files.get(*p) != Some(*b))
        .map(|(p, b)| (p.clone(), Some(b.as_bytes().to_vec())))
        .collect();
    changed.extend(removed);
    let request = validate_wire::Request {
        identity,
        limits: format!("{:?}", base.limits),
        base: base.revision.clone(),
        revision: change.revision.clone(),
        meta: change.meta.clone(),
        what: name.what.to_owned(),
        invalid: name.invalid.to_owned(),
        warn,
        changed,
    };
    free_at_exit(change);
    Some(request)
}

/// The youngest revision (the configuration in force) built, the
/// transaction `at` read from it, and the memo of that build. The daemon's
/// `cache` is most often of the youngest revision (it keeps up): it is
/// built at once, on a thread, while the youngest revision's number and
/// the transaction are read (`svnlook`), and it is then the youngest
/// revision's read (what a read from it would copy). Otherwise the
/// youngest revision is read from the cache (only what changed since) and
/// built with the memo of the cache's build (only what changed since);
/// without a cache, read in full and built while the transaction is read.
/// Each build is exactly a full build's (`build_cached`). The last value:
/// the youngest revision's read, when it was read.
fn in_force_and_transaction(
    source: &repo::Source,
    cache: Option<&snapshot::Input>,
    at: repo::At,
    limits: Limits,
) -> (
    InForce,
    Result<snapshot::Input, repo::Error>,
    snapshot::Memo,
    Option<snapshot::Input>,
) {
    let mut memo = snapshot::Memo::default();
    let Some(cache) = cache else {
        let youngest = with(source.read_at(repo::At::Revision(None), limits));
        let (built, txn) = build_beside(Some(&youngest), &mut memo, || {
            with(match &youngest {
                Ok(y) => source.read_at_from(at, y, limits),
                Err(_) => source.read_at(at, limits),
            })
        });
        return (built.unwrap_or(Ok(None)), txn, memo, youngest.ok());
    };
    let (early, (youngest, txn)) = std::thread::scope(|s| {
        let early = s.spawn(|| snapshot::build_cached(cache, &mut memo).snapshot);
        let youngest = read_youngest(source, cache, limits);
        let txn = with(match &youngest {
            Ok(y) => source.read_at_from(at, y, limits),
            Err(_) => source.read_at(at, limits),
        });
        let early = early.join();
        (early, (youngest, txn))
    });
    let early = early.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    match youngest {
        Ok(Cow::Borrowed(_)) => (Ok(early), txn, memo, None),
        Ok(Cow::Owned(read)) => {
            let built = build_in_force(Ok(&read), &mut memo);
            (built, txn, memo, Some(read))
        }
        Err(e) => (Err(e.to_string()), txn, memo, None),
    }
}

/// The youngest revision: the cache (borrowed) when it is of that
/// revision, else read from the cache (only what changed since).
fn read_youngest<'a>(
    source: &repo::Source,
    cache: &'a snapshot::Input,
    limits: Limits,
) -> Result<Cow<'a, snapshot::Input>, repo::Error> {
    if source.newest_revision()?.as_deref() == Some(cache.revision.as_str()) {
        return Ok(Cow::Borrowed(cache));
    }
    with(source.read_at_from(repo::At::Revision(None), cache, limits)).map(Cow::Owned)
}

/// Notify the daemon, then report the warnings of the committed
/// configuration. Subversion shows a post-commit hook's output only when
/// it fails, as `Warning: post-commit hook failed (exit code 1) with
/// output:`, so a revision with warnings exits 1: the commit is in either
/// way, and this is the only way the committer hears about them.
fn post_commit(args: &SvnPostCommitArgs) -> anyhow::Result<ExitCode> {
    tracing::debug!(repos = %args.repos.display(), rev = %args.rev, "post-commit");
    let limits = args.read.limits();
    let at = repo::At::Revision(Some(&args.rev));
    let source = svn_source(&args.repos, args.read.path.as_ref());
    let touches = source.as_ref().ok().map(|s| s.touches_config(at));
    // The cache is taken before the daemon hears of this revision (and,
    // once it applied it, rewrites the cache).
    answer::load_for_hook(args.state_dir.as_deref());
    let mut base = match (&source, &touches, &args.state_dir) {
        (Ok(source), Some(Ok(true)), Some(dir)) => {
            source.load_cache(dir, limits).map(answer::attach)
        }
        _ => None,
    };
    if let Some(dir) = &args.state_dir {
        // In SVN the revision's author is who committed it: the daemon
        // takes it as the pusher.
        let notice = Notice {
            revisions: vec![args.rev.clone()],
            ..Notice::default()
        };
        notify(dir, &notice, false);
    }
    let source = source?;
    if !touches.transpose()?.unwrap_or(false) {
        return Ok(ExitCode::SUCCESS);
    }
    // The rails judge the revision against the one before it, so that the
    // committer hears their warnings (and, had pre-commit been bypassed,
    // that the daemon will not apply it).
    let previous = match args.rev.parse::<u64>() {
        Ok(r) if r > 1 => {
            let rev = (r - 1).to_string();
            Some(read_from(
                &source,
                &mut base,
                repo::At::Revision(Some(&rev)),
                limits,
            ))
        }
        _ => None,
    };
    let input = read_from(&source, &mut base, at, limits)?;
    let mut err = std::io::stderr().lock();
    let name = Named {
        what: &format!("revision {}", args.rev),
        invalid: "is invalid",
    };
    let mut memo = snapshot::Memo::default();
    let (previous, mut report) = build_pair(previous, Ok(input), &mut memo);
    let previous = match previous {
        Some(built) => in_force(&mut err, built)?,
        None => None,
    };
    let rails = Rails {
        in_force: previous.as_ref(),
        target: source.rails_target(),
    };
    let verdict = check(&mut err, &name, &mut report, true, Some(&rails))?;
    free_at_exit((memo, previous, report));
    match verdict {
        Verdict::Accepted { warnings: false } => Ok(ExitCode::SUCCESS),
        _ => Ok(ExitCode::from(super::EXIT_INVALID)),
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn install(args: &InstallArgs) -> anyhow::Result<ExitCode> {
    let source = repo::Source::open(&args.repo, &repo::Options::default())?;
    let exe = std::env::current_exe().context("locating the rolesync binary")?;
    let exe = shell_quote(&exe.to_string_lossy());
    let hooks = std::path::absolute(source.hooks_dir()?)?;
    if source.kind() == repo::Kind::Svn {
        return install_svn(args, &hooks, &exe);
    }
    let path = source.path();
    // Where Git runs hooks: `core.hooksPath` when it is set.
    if !hooks.starts_with(std::path::absolute(path)?) {
        eprintln!(
            "rolesync: core.hooksPath points outside the repository: every repository that uses {} runs these hooks",
            crate::diag::escape_controls(&hooks.to_string_lossy())
        );
    }
    fs_err::create_dir_all(&hooks)?;
    let mut pre = format!(
        "{exe} hook pre-receive{}",
        args.hook.read.to_flags(shell_quote)
    );
    if let Some(b) = &args.hook.branch {
        pre.push_str(&format!(" --branch {}", shell_quote(b)));
    }
    if let Some(dir) = &args.state_dir {
        let dir = std::path::absolute(dir)?;
        pre.push_str(&format!(
            " --state-dir {}",
            shell_quote(&dir.to_string_lossy())
        ));
    }
    write_hook(&hooks.join("pre-receive"), &pre)?;
    match &args.state_dir {
        Some(dir) => {
            let dir = std::path::absolute(dir)?;
            let post = format!(
                "{exe} hook post-receive --state-dir {}",
                shell_quote(&dir.to_string_lossy())
            );
            write_hook(&hooks.join("post-receive"), &post)?;
        }
        None => eprintln!(
            "rolesync: no --state-dir: post-receive not installed (the daemon's file watch still sees pushes)"
        ),
    }
    println!(
        "rolesync: hooks installed in {}",
        crate::diag::escape_controls(&hooks.to_string_lossy())
    );
    Ok(ExitCode::SUCCESS)
}

/// SVN runs hooks with an empty environment and arguments `REPOS TXN` /
/// `REPOS REV`; the scripts set a PATH (for `svnlook`) and a UTF-8 locale.
fn install_svn(args: &InstallArgs, hooks: &Path, exe: &str) -> anyhow::Result<ExitCode> {
    if args.hook.branch.is_some() {
        bail!(
            "--branch is for Git repositories; {} is an SVN repository",
            args.repo.display()
        );
    }
    let env = "PATH=/usr/local/bin:/usr/bin:/bin LC_ALL=C.UTF-8";
    let flags = args.hook.read.to_flags(shell_quote);
    let mut pre = format!("{env} {exe} hook pre-commit \"$1\" \"$2\"{flags}");
    if let Some(dir) = &args.state_dir {
        let dir = std::path::absolute(dir)?;
        pre.push_str(&format!(
            " --state-dir {}",
            shell_quote(&dir.to_string_lossy())
        ));
    }
    write_hook(&hooks.join("pre-commit"), &pre)?;
    // post-commit reports warnings (the only hook output Subversion shows
    // on success) and, with --state-dir, notifies the daemon.
    let mut post = format!("{env} {exe} hook post-commit \"$1\" \"$2\"{flags}");
    match &args.state_dir {
        Some(dir) => {
            let dir = std::path::absolute(dir)?;
            post.push_str(&format!(
                " --state-dir {}",
                shell_quote(&dir.to_string_lossy())
            ));
        }
        None => eprintln!(
            "rolesync: no --state-dir: post-commit reports warnings but notifies no daemon (the daemon's file watch still sees commits)"
        ),
    }
    write_hook(&hooks.join("post-commit"), &post)?;
    println!(
        "rolesync: hooks installed in {}",
        crate::diag::escape_controls(&hooks.to_string_lossy())
    );
    Ok(ExitCode::SUCCESS)
}

/// Write one hook. A hook that was there before (and is not ours) moves to
/// `<name>.chained` and runs first, with the same input; if it refuses, so
/// does the push.
fn write_hook(path: &Path, command: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let chained = path.with_extension("chained");
    if let Ok(existing) = fs_err::read_to_string(path)
        && !existing.contains(MARKER)
    {
        if chained.exists() {
            bail!(
                "{} exists and so does {}; merge them by hand",
                path.display(),
                chained.display()
            );
        }
        fs_err::rename(path, &chained)?;
    }
    let chained_name = shell_quote(&chained.to_string_lossy());
    let script = format!(
        "#!/bin/sh\n{MARKER}\n# A hook that was here before runs first, as {chained_name}.\n\
         input=$(cat)\n\
         if [ -x {chained_name} ]; then\n    printf '%s\\n' \"$input\" | {chained_name} \"$@\" || exit $?\nfi\n\
         printf '%s\\n' \"$input\" | {command}\n"
    );
    crate::publish::publish(path, script.as_bytes())?;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}
