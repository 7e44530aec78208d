//! What the repository readers refuse, with real folders, real `git`
//! (including crafted trees) and real `svnadmin`/`svn`/`svnlook`: links,
//! submodules and special entries where configuration is expected,
//! duplicate tree entries, oversized files (read at most up to the limit),
//! folder names that look like options; and what the hooks do with
//! `core.hooksPath`, warnings and control characters in names.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::util::{self, edit, git, git_output};

const USERS: &str = ".polarion/user-management/users";

/// `validate --repo PATH ARGS…`.
pub fn validate(repo: &Path, args: &[&str]) -> Output {
    util::rolesync()
        .arg("validate")
        .arg("--repo")
        .arg(repo)
        .args(args)
        .output()
        .expect("rolesync runs")
}

/// `validate` must refuse (exit 2, the source cannot be read as it is) and
/// name `path` on stderr.
pub fn assert_refused(out: &Output, path: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "must refuse: {stderr}");
    assert!(stderr.contains(path), "names {path}: {stderr}");
}

/// A non-bare Git repository holding `sample-repo/`, committed.
fn git_sample(dir: &Path) -> PathBuf {
    let work = dir.join("config");
    util::copy_tree(&util::root().join("sample-repo"), &work);
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "initial configuration"]);
    work
}

/// A bare `config.git` cloned from `work` (the `config` folder of `dir`),
/// with rolesync's hooks installed, and `origin` of `work` pointing at it.
fn bare_with_hooks(dir: &Path, work: &Path) -> PathBuf {
    git(dir, &["clone", "-q", "--bare", "config", "config.git"]);
    let bare = dir.join("config.git");
    install_hooks(&bare, &[]);
    git(work, &["remote", "add", "origin", "../config.git"]);
    bare
}

/// `rolesync hook install --repo REPO ARGS…`, which must succeed.
fn install_hooks(repo: &Path, args: &[&str]) {
    let out = util::rolesync()
        .args(["hook", "install"])
        .args(args)
        .arg("--repo")
        .arg(repo)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
}

/// A folder `elsewhere` with one account `dave`, enabled there.
fn elsewhere_users(dir: &Path) -> PathBuf {
    let other = dir.join("elsewhere");
    std::fs::create_dir_all(other.join("dave")).expect("mkdir");
    std::fs::write(
        other.join("dave/user.xml"),
        "<user><field id=\"name\">Dave</field></user>\n",
    )
    .expect("write");
    other
}

#[test]
fn folder_links_and_fifos_where_configuration_is_expected_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("config");
    util::copy_tree(&util::root().join("sample-repo"), &root);
    let other = elsewhere_users(dir.path());
    assert_eq!(validate(&root, &[]).status.code(), Some(0));

    std::fs::remove_dir_all(root.join(USERS)).expect("rm users");
    std::os::unix::fs::symlink(&other, root.join(USERS)).expect("symlink");
    assert_refused(&validate(&root, &[]), USERS);
    std::fs::remove_file(root.join(USERS)).expect("rm link");
    util::copy_tree(
        &util::root().join("sample-repo").join(USERS),
        &root.join(USERS),
    );

    let access = root.join(".polarion/access");
    std::fs::rename(&access, dir.path().join("access")).expect("move");
    std::os::unix::fs::symlink(dir.path().join("access"), &access).expect("symlink");
    assert_refused(&validate(&root, &[]), ".polarion/access");
    std::fs::remove_file(&access).expect("rm link");

    let ok = Command::new("mkfifo")
        .arg(&access)
        .status()
        .expect("mkfifo");
    assert!(ok.success());
    assert_refused(&validate(&root, &[]), ".polarion/access");
}

#[test]
fn git_links_and_submodules_where_configuration_is_expected_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = git_sample(dir.path());
    let good = git(&work, &["rev-parse", "HEAD"]);
    let other = elsewhere_users(dir.path());

    // A symbolic link instead of the users folder.
    git(&work, &["rm", "-q", "-r", USERS]);
    std::os::unix::fs::symlink(&other, work.join(USERS)).expect("symlink");
    git(&work, &["add", USERS]);
    git(&work, &["commit", "-q", "-m", "users elsewhere"]);
    assert_refused(&validate(&work, &[]), USERS);

    // A submodule (gitlink) instead of the users folder.
    git(&work, &["rm", "-q", USERS]);
    git(
        &work,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{good},{USERS}"),
        ],
    );
    git(&work, &["commit", "-q", "-m", "users as a submodule"]);
    assert_refused(&validate(&work, &[]), USERS);

    // A symbolic link instead of the access file.
    git(&work, &["reset", "-q", "--hard", &good]);
    let access = work.join(".polarion/access");
    std::fs::remove_file(&access).expect("rm");
    std::os::unix::fs::symlink("/etc/hostname", &access).expect("symlink");
    git(&work, &["add", ".polarion/access"]);
    git(&work, &["commit", "-q", "-m", "access elsewhere"]);
    assert_refused(&validate(&work, &[]), ".polarion/access");

    // A link as a project's .polarion folder.
    git(&work, &["reset", "-q", "--hard", &good]);
    let project = work.join("Engineering/elibrary/.polarion/security");
    std::fs::remove_dir_all(&project).expect("rm");
    std::os::unix::fs::symlink("../../drivepilot/.polarion/security", &project).expect("symlink");
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "security elsewhere"]);
    assert_refused(
        &validate(&work, &[]),
        "Engineering/elibrary/.polarion/security",
    );
}

#[test]
fn a_pre_receive_hook_refuses_a_pushed_link_where_the_users_folder_belongs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = git_sample(dir.path());
    bare_with_hooks(dir.path(), &work);
    git(&work, &["rm", "-q", "-r", USERS]);
    std::os::unix::fs::symlink("/tmp", work.join(USERS)).expect("symlink");
    git(&work, &["add", USERS]);
    git(&work, &["commit", "-q", "-m", "users elsewhere"]);
    let out = git_output(&work, &["push", "origin", "main"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the push must be refused: {stderr}");
    assert!(stderr.contains(USERS), "{stderr}");
}

/// Write `content` as a loose object of `kind` with `git hash-object
/// --literally` (which checks nothing) and return its id.
fn hash_literally(work: &Path, kind: &str, content: &[u8]) -> String {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(work)
        .args(["hash-object", "-w", "--literally", "-t", kind, "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("git runs");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), content).expect("write");
    let out = child.wait_with_output().expect("git runs");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// One raw tree entry: mode, name, binary id.
fn tree_entry(mode: &str, name: &str, id: &str) -> Vec<u8> {
    let mut e = format!("{mode} {name}\0").into_bytes();
    e.extend((0..20).map(|i| u8::from_str_radix(&id[2 * i..2 * i + 2], 16).expect("hex")));
    e
}

#[test]
fn git_trees_with_duplicate_entries_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = git_sample(dir.path());
    let security = git(&work, &["rev-parse", "HEAD:.polarion/security"]);
    let listing = git(&work, &["ls-tree", &security]);
    // The security folder again, with a second, different user-roles.xml
    // after the first: one reader may take the first, another the second.
    let evil = hash_literally(
        &work,
        "blob",
        b"<user-roles><user name=\"erin\"><role name=\"admin\"/></user></user-roles>\n",
    );
    let mut raw = Vec::new();
    for line in listing.lines() {
        let (meta, name) = line.split_once('\t').expect("ls-tree line");
        let mut parts = meta.split_whitespace();
        let (mode, _, id) = (parts.next(), parts.next(), parts.next());
        let (Some(mode), Some(id)) = (mode, id) else {
            panic!("{line}")
        };
        raw.extend(tree_entry(mode.trim_start_matches('0'), name, id));
        if name == "user-roles.xml" {
            raw.extend(tree_entry("100644", name, &evil));
        }
    }
    let new_security = hash_literally(&work, "tree", &raw);
    let polarion = git(&work, &["rev-parse", "HEAD:.polarion"]);
    let mut raw = Vec::new();
    for line in git(&work, &["ls-tree", &polarion]).lines() {
        let (meta, name) = line.split_once('\t').expect("ls-tree line");
        let parts: Vec<&str> = meta.split_whitespace().collect();
        let id = if name == "security" {
            new_security.as_str()
        } else {
            parts[2]
        };
        raw.extend(tree_entry(parts[0].trim_start_matches('0'), name, id));
    }
    let new_polarion = hash_literally(&work, "tree", &raw);
    let top = git(&work, &["rev-parse", "HEAD^{tree}"]);
    let mut raw = Vec::new();
    for line in git(&work, &["ls-tree", &top]).lines() {
        let (meta, name) = line.split_once('\t').expect("ls-tree line");
        let parts: Vec<&str> = meta.split_whitespace().collect();
        let id = if name == ".polarion" {
            new_polarion.as_str()
        } else {
            parts[2]
        };
        raw.extend(tree_entry(parts[0].trim_start_matches('0'), name, id));
    }
    let new_top = hash_literally(&work, "tree", &raw);
    let commit = git(&work, &["commit-tree", &new_top, "-p", "HEAD", "-m", "dup"]);
    git(&work, &["update-ref", "refs/heads/main", &commit]);
    assert_refused(&validate(&work, &[]), ".polarion/security/user-roles.xml");
}

/// Run `rolesync ARGS…` with its address space limited to `kib` KiB.
///
/// mimalloc reserves its arena (1 GiB by default) by address space, and
/// under `ulimit -v` it takes whatever part of the limit it can get, leaving
/// the C libraries' `malloc` (libgit2, OpenSSL's initialisation) without
/// room: with a limit just above 160 MiB the process failed to start. The
/// README ("Run it as a service") says to set `MIMALLOC_ARENA_RESERVE` with
/// an address-space limit; so does this test.
fn with_memory_limit(kib: u64, args: &[&std::ffi::OsStr]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_rolesync"))
        .args(args)
        .env("MIMALLOC_ARENA_RESERVE", "16MiB")
        .env_remove("ROLESYNC_LOG");
    cmd.output().expect("sh runs")
}

/// A file of `bytes` zeros (sparse, so it costs no disk).
fn zeros(path: &Path, bytes: u64) {
    let f = std::fs::File::create(path).expect("create");
    f.set_len(bytes).expect("set_len");
}

/// 256 MiB of zeros compress to a few hundred KiB: the reader must look at
/// the size before it inflates them.
const HUGE: u64 = 256 << 20;
/// Far below what reading the huge file whole needs.
const MEMORY_KIB: u64 = 160 << 10;

#[test]
fn a_huge_git_blob_is_measured_not_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = git_sample(dir.path());
    let sample = validate(&work, &[]);
    assert_eq!(sample.status.code(), Some(0));
    let file = work.join(".polarion/security/permissions.xml");
    zeros(&file, HUGE);
    git(
        &work,
        &[
            "-c",
            "core.bigFileThreshold=1g",
            "commit",
            "-q",
            "-am",
            "huge",
        ],
    );
    std::fs::remove_file(&file).expect("rm");
    let out = with_memory_limit(
        MEMORY_KIB,
        &["validate".as_ref(), "--repo".as_ref(), work.as_os_str()],
    );
    let stdout = util::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", util::stderr(&out));
    assert!(
        stdout.contains(".polarion/security/permissions.xml:1:1: error[file-too-large]"),
        "{stdout}"
    );
}

/// `svn` with a private configuration folder.
fn svn(dir: &Path, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new("svn")
        .arg("--config-dir")
        .arg(dir.join("client"))
        .args(args)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("svn runs");
    assert!(
        out.status.success(),
        "svn {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An SVN repository `config` holding `sample-repo/` and its working copy `wc`.
fn svn_sample(dir: &Path) -> (PathBuf, PathBuf) {
    let repo = dir.join("config");
    let wc = dir.join("wc");
    let ok = Command::new("svnadmin")
        .arg("create")
        .arg(&repo)
        .status()
        .expect("svnadmin runs");
    assert!(ok.success());
    let url = format!("file://{}", repo.display());
    svn(
        dir,
        &[
            "import".as_ref(),
            "-q".as_ref(),
            "-m".as_ref(),
            "initial".as_ref(),
            util::root().join("sample-repo").as_os_str(),
            url.as_ref(),
        ],
    );
    svn(
        dir,
        &[
            "checkout".as_ref(),
            "-q".as_ref(),
            url.as_ref(),
            wc.as_os_str(),
        ],
    );
    (repo, wc)
}

fn svn_commit(dir: &Path, wc: &Path) -> Output {
    Command::new("svn")
        .args(["commit", "-m", "change"])
        .arg(wc)
        .arg("--config-dir")
        .arg(dir.join("client"))
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("svn runs")
}

#[test]
fn a_huge_svn_file_is_read_only_up_to_the_limit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (repo, wc) = svn_sample(dir.path());
    zeros(&wc.join(".polarion/security/permissions.xml"), HUGE);
    let out = svn_commit(dir.path(), &wc);
    assert!(out.status.success(), "{}", util::stderr(&out));
    let out = with_memory_limit(
        MEMORY_KIB,
        &["validate".as_ref(), "--repo".as_ref(), repo.as_os_str()],
    );
    let stdout = util::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", util::stderr(&out));
    assert!(
        stdout.contains(".polarion/security/permissions.xml:1:1: error[file-too-large]"),
        "{stdout}"
    );
}

#[test]
fn svn_links_where_configuration_is_expected_are_refused_also_by_pre_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (repo, wc) = svn_sample(dir.path());
    let other = elsewhere_users(dir.path());
    svn(
        dir.path(),
        &["rm".as_ref(), "-q".as_ref(), wc.join(USERS).as_os_str()],
    );
    std::os::unix::fs::symlink(&other, wc.join(USERS)).expect("symlink");
    svn(
        dir.path(),
        &["add".as_ref(), "-q".as_ref(), wc.join(USERS).as_os_str()],
    );
    let out = svn_commit(dir.path(), &wc);
    assert!(out.status.success(), "{}", util::stderr(&out));
    assert_refused(&validate(&repo, &[]), USERS);

    install_hooks(&repo, &[]);
    let access = wc.join(".polarion/access");
    svn(
        dir.path(),
        &["rm".as_ref(), "-q".as_ref(), access.as_os_str()],
    );
    std::os::unix::fs::symlink("/etc/hostname", &access).expect("symlink");
    svn(
        dir.path(),
        &["add".as_ref(), "-q".as_ref(), access.as_os_str()],
    );
    let out = svn_commit(dir.path(), &wc);
    let stderr = util::stderr(&out);
    assert!(
        !out.status.success(),
        "the commit must be refused: {stderr}"
    );
    assert!(stderr.contains(".polarion/access"), "{stderr}");
}

#[test]
fn svn_folders_that_look_like_options_are_read_as_paths() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (repo, wc) = svn_sample(dir.path());
    let project = wc.join("-x/.polarion");
    std::fs::create_dir_all(&project).expect("mkdir");
    std::fs::copy(
        util::root().join("sample-repo/Engineering/elibrary/.polarion/polarion-project.xml"),
        project.join("polarion-project.xml"),
    )
    .expect("copy");
    std::fs::write(
        project.join("user-roles.xml"),
        "<user-roles><user name=\"carol\"><role name=\"project_user\"/></user></user-roles>\n",
    )
    .expect("write");
    std::fs::create_dir_all(project.join("security")).expect("mkdir");
    std::fs::rename(
        project.join("user-roles.xml"),
        project.join("security/user-roles.xml"),
    )
    .expect("move");
    svn(
        dir.path(),
        &[
            "add".as_ref(),
            "-q".as_ref(),
            "--".as_ref(),
            wc.join("-x").as_os_str(),
        ],
    );
    let out = svn_commit(dir.path(), &wc);
    assert!(out.status.success(), "{}", util::stderr(&out));
    let out = util::rolesync()
        .arg("render")
        .arg("--repo")
        .arg(&repo)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    assert!(
        util::stdout(&out).contains("-x-project_user = carol"),
        "{}",
        util::stdout(&out)
    );
}

#[test]
fn hook_install_writes_where_core_hooks_path_points() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = git_sample(dir.path());
    git(
        dir.path(),
        &["clone", "-q", "--bare", "config", "config.git"],
    );
    let bare = dir.path().join("config.git");
    git(&bare, &["config", "core.hooksPath", "custom-hooks"]);
    let out = util::rolesync()
        .args(["hook", "install", "--repo"])
        .arg(&bare)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    assert!(bare.join("custom-hooks/pre-receive").is_file());
    assert!(
        util::stdout(&out).contains("custom-hooks"),
        "{}",
        util::stdout(&out)
    );
    git(&work, &["remote", "add", "origin", "../config.git"]);
    let file = work.join(".polarion/security/roles.xml");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("scope=\"global\"", "scope=\"galaxy\"")).expect("break");
    git(&work, &["commit", "-q", "-am", "bad scope"]);
    let out = git_output(&work, &["push", "origin", "main"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the push must be refused: {stderr}");
    assert!(stderr.contains("error[xml-invalid-value]"), "{stderr}");
}

/// A misspelt role in permissions.xml silently drops a grant: the pusher
/// (and the committer) must hear about it, though it is accepted.
#[test]
fn the_pusher_sees_warnings_of_an_accepted_push() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = git_sample(dir.path());
    bare_with_hooks(dir.path(), &work);
    edit(
        &work.join(".polarion/security/permissions.xml"),
        "<role name=\"project_tester\">",
        "<role name=\"project_testr\">",
    );
    git(&work, &["commit", "-q", "-am", "typo"]);
    let out = git_output(&work, &["push", "origin", "main"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "accepted: {stderr}");
    assert!(
        stderr.contains("remote: .polarion/security/permissions.xml:")
            && stderr.contains("warning[unknown-role]"),
        "{stderr}"
    );
}

#[test]
fn the_committer_sees_warnings_of_an_accepted_svn_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (repo, wc) = svn_sample(dir.path());
    install_hooks(&repo, &[]);
    edit(
        &wc.join(".polarion/security/permissions.xml"),
        "<role name=\"project_tester\">",
        "<role name=\"project_testr\">",
    );
    let out = svn_commit(dir.path(), &wc);
    // Subversion prints a failed post-commit hook's output on stdout, as
    // `Warning: post-commit hook failed (exit code 1) with output:`.
    let shown = util::stdout(&out) + &util::stderr(&out);
    assert!(out.status.success(), "accepted: {shown}");
    assert!(
        shown.contains("post-commit hook failed (exit code 1) with output:")
            && shown.contains(".polarion/security/permissions.xml:18:32: warning[unknown-role]"),
        "{shown}"
    );
}

/// Hooks installed with `--allow-non-ascii-ids` accept a non-ASCII role
/// id in every hook: post-commit must not report the accepted commit as
/// broken (it used to run with ASCII-only ids).
#[test]
fn an_svn_commit_accepted_with_non_ascii_ids_is_not_reported_by_post_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (repo, wc) = svn_sample(dir.path());
    install_hooks(&repo, &["--allow-non-ascii-ids"]);
    edit(
        &wc.join(".polarion/security/user-roles.xml"),
        "<role name=\"user\"/>",
        "<role name=\"user\"/><role name=\"prüfer\"/>",
    );
    let out = svn_commit(dir.path(), &wc);
    let shown = util::stdout(&out) + &util::stderr(&out);
    assert!(out.status.success(), "accepted: {shown}");
    assert!(!shown.contains("confusable-id"), "{shown}");
    assert!(!shown.contains("post-commit hook failed"), "{shown}");
}

#[test]
fn control_characters_in_folder_names_are_escaped_when_printed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("config");
    util::copy_tree(&util::root().join("sample-repo"), &root);
    let evil = root.join("evil\u{1b}[2J\u{202e}/.polarion");
    std::fs::create_dir_all(&evil).expect("mkdir");
    std::fs::write(evil.join("polarion-project.xml"), "<project>").expect("write");
    let out = validate(&root, &[]);
    let stdout = util::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "raw ESC printed: {stdout:?}");
    assert!(!stdout.contains('\u{202e}'), "raw bidi control: {stdout:?}");
    assert!(
        stdout.contains("evil\\x1b[2J\\u{202e}/.polarion/polarion-project.xml:"),
        "{stdout}"
    );
}

#[test]
fn the_daemon_keeps_the_last_good_file_when_a_link_replaces_the_users_folder() {
    use crate::daemon::{Config, Daemon, wait_until};
    use std::time::Duration;
    let cfg = Config::new();
    let access = cfg.path("access");
    let d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    wait_until(Duration::from_secs(20), "the first publication", || {
        access.exists()
    });
    let good = std::fs::read_to_string(&access).expect("read");
    let work = cfg.work();
    git(&work, &["rm", "-q", "-r", USERS]);
    std::os::unix::fs::symlink("/tmp", work.join(USERS)).expect("symlink");
    git(&work, &["add", USERS]);
    git(&work, &["commit", "-q", "-m", "users elsewhere"]);
    wait_until(Duration::from_secs(20), "the refused reload", || {
        d.status()["reloads"]["failed"].as_u64() >= Some(1)
    });
    let status = d.status();
    assert_eq!(status["status"], "degraded", "{status}");
    let message = status["attempted"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(USERS), "{status}");
    assert_eq!(std::fs::read_to_string(&access).expect("read"), good);
}
