//! SVN-backed configuration repositories, end to end with real `svnadmin`,
//! `svn`, `svnlook` and `svnserve`: the daemon follows commits to the
//! config repository, and a code repository served by svnserve grants and
//! revokes access as the roles say, without a restart.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::daemon::{
    Daemon, Sampler, assert_in_order, assert_quick_commits_clean, render_at, wait_until,
};
use crate::util;

const LIMIT: Duration = Duration::from_secs(20);

pub fn run(cmd: &mut Command) -> Output {
    cmd.env("LC_ALL", "C.UTF-8")
        .output()
        .expect("the command runs (Debian's `subversion` installed)")
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A config repository (from `sample-repo/`), its working copy, and room
/// for a code repository, all in one temporary folder.
pub struct Svn {
    dir: tempfile::TempDir,
}

impl Svn {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let svn = Svn { dir };
        ok(Command::new("svnadmin")
            .arg("create")
            .arg(svn.config_repo()));
        ok(Command::new("svn")
            .args(["import", "-q", "-m", "initial configuration"])
            .arg(util::root().join("sample-repo"))
            .arg(url(&svn.config_repo()))
            .args(["--config-dir"])
            .arg(svn.path("client")));
        ok(Command::new("svn")
            .args(["checkout", "-q"])
            .arg(url(&svn.config_repo()))
            .arg(svn.wc())
            .arg("--config-dir")
            .arg(svn.path("client")));
        svn
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn config_repo(&self) -> PathBuf {
        self.path("config")
    }

    pub fn wc(&self) -> PathBuf {
        self.path("wc")
    }

    pub fn youngest(&self) -> String {
        ok(Command::new("svnlook")
            .arg("youngest")
            .arg(self.config_repo()))
        .trim()
        .to_owned()
    }

    /// Edit a file of the working copy and `svn commit`; the command's output.
    pub fn commit_edit(&self, file: &str, from: &str, to: &str) -> Output {
        let path = self.wc().join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
        run(Command::new("svn")
            .args(["commit", "-m", "edit"])
            .arg(self.wc())
            .arg("--config-dir")
            .arg(self.path("client")))
    }

    pub fn install_hooks(&self) {
        let out = util::rolesync()
            .args(["hook", "install", "--repo"])
            .arg(self.config_repo())
            .arg("--state-dir")
            .arg(self.path("state"))
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    }
}

/// svnserve on a free loopback port, serving `root`; killed when dropped.
struct Svnserve {
    child: Child,
    port: u16,
}

impl Svnserve {
    fn start(root: &Path) -> Self {
        let port = util::free_port();
        let child = Command::new("svnserve")
            .args([
                "-d",
                "--foreground",
                "--listen-host",
                "127.0.0.1",
                "--listen-port",
                &port.to_string(),
                "-r",
            ])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("svnserve starts");
        wait_until(LIMIT, "svnserve to listen", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Svnserve { child, port }
    }
}

impl Drop for Svnserve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const USERS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];

/// A code repository `code` under `root`, with one folder per project,
/// whose svnserve.conf names `authz` as its authz-db.
fn code_repository(root: &Path, authz: &Path, client: &Path) {
    let repo = root.join("code");
    std::fs::create_dir_all(root).expect("mkdir");
    ok(Command::new("svnadmin").arg("create").arg(&repo));
    let tree = root.parent().expect("a parent folder").join("import");
    for dir in ["elibrary/trunk", "qa-tools/trunk"] {
        std::fs::create_dir_all(tree.join(dir)).expect("mkdir");
        std::fs::write(tree.join(dir).join("README"), "code\n").expect("write");
    }
    ok(Command::new("svn")
        .args(["import", "-q", "-m", "code"])
        .arg(&tree)
        .arg(url(&repo))
        .arg("--config-dir")
        .arg(client));
    std::fs::write(
        repo.join("conf/svnserve.conf"),
        format!(
            "[general]\nanon-access = none\nauth-access = write\npassword-db = passwd\nauthz-db = {}\n",
            authz.display()
        ),
    )
    .expect("svnserve.conf");
    let passwd: String = USERS
        .iter()
        .map(|u| format!("{u} = {u}-secret\n"))
        .collect();
    std::fs::write(repo.join("conf/passwd"), format!("[users]\n{passwd}")).expect("passwd");
}

/// `svn ls` as `user` on the code repository (`base` is the server's URL
/// of the folder holding it): Ok, or the error output.
fn svn_ls(base: &str, user: &str, path: &str, client: &Path) -> Result<(), String> {
    let out = run(Command::new("svn")
        .args([
            "ls",
            "--non-interactive",
            "--no-auth-cache",
            "--username",
            user,
            "--password",
        ])
        .arg(format!("{user}-secret"))
        .arg("--config-dir")
        .arg(client)
        .arg(format!("{base}/code{path}")));
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `svn ls` through svnserve.
fn ls(port: u16, user: &str, path: &str, client: &Path) -> Result<(), String> {
    svn_ls(&format!("svn://127.0.0.1:{port}"), user, path, client)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn an_svn_repository_validates_and_renders_at_any_revision() {
    let svn = Svn::new();
    let render = |rev: Option<&str>| {
        let mut cmd = util::rolesync();
        cmd.arg("render").arg("--repo").arg(svn.config_repo());
        if let Some(rev) = rev {
            cmd.args(["--rev", rev]);
        }
        let out = cmd.output().expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
        util::stdout(&out)
    };
    let first = render(None);
    let folder = util::rolesync()
        .arg("render")
        .arg("--repo")
        .arg(util::root().join("sample-repo"))
        .output()
        .expect("runs");
    // The marker names no revision: the same content renders the same
    // bytes from SVN revision 1 as from the folder.
    assert_eq!(first, util::stdout(&folder));
    let out = svn.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"carol\">",
        "<user name=\"grace\">",
    );
    assert!(out.status.success());
    assert!(render(None).contains("elibrary-project_user = grace\n"));
    assert!(render(Some("1")).contains("elibrary-project_user = carol\n"));
}

#[test]
fn a_config_under_a_sub_folder_is_read_with_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("repo");
    ok(Command::new("svnadmin").arg("create").arg(&repo));
    ok(Command::new("svn")
        .args(["import", "-q", "-m", "init"])
        .arg(util::root().join("sample-repo"))
        .arg(format!("{}/admin/security config", url(&repo)))
        .arg("--config-dir")
        .arg(dir.path().join("client")));
    let out = util::rolesync()
        .arg("validate")
        .arg("--repo")
        .arg(&repo)
        .output()
        .expect("runs");
    assert_ne!(
        util::stdout(&out),
        "",
        "without --path the folder is not the configuration"
    );
    let access = dir.path().join("access");
    let d = Daemon::start(
        &repo,
        &access,
        &dir.path().join("state"),
        &["--path", "admin/security config"],
    );
    wait_until(LIMIT, "the first publication", || {
        read(&access).contains("elibrary-project_admin = bob\n")
    });
    // The status follows the file (the snapshot is swapped after the file
    // is in place), so wait for it too rather than race it.
    wait_until(LIMIT, "the status names the revision", || {
        d.status()["applied"]["revision"] == "1"
    });
}

#[test]
fn pre_commit_refuses_broken_xml_and_nothing_changes() {
    let svn = Svn::new();
    svn.install_hooks();
    let access = svn.path("access");
    let d = Daemon::start(&svn.config_repo(), &access, &svn.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    let before = read(&access);
    let out = svn.commit_edit(
        ".polarion/security/user-roles.xml",
        "<user name=\"bob\">",
        "<user name=\"bob\"><role>",
    );
    assert!(!out.status.success(), "the commit must be refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("error[xml-malformed]"))
        .unwrap_or_else(|| panic!("{stderr}"));
    let location = line.split(": ").next().expect("location");
    assert!(
        location.starts_with(".polarion/security/user-roles.xml:"),
        "{line}"
    );
    assert_eq!(
        location.split(':').count(),
        3,
        "path:line:col, got {location}"
    );
    assert_eq!(svn.youngest(), "1");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(read(&access), before);
    assert_eq!(d.status()["reloads"]["failed"], 0);
}

#[test]
fn roles_grant_and_revoke_svnserve_access_without_a_restart() {
    let svn = Svn::new();
    svn.install_hooks();
    let client = svn.path("client");
    let root = svn.path("served");
    let access = svn.path("out/access");
    code_repository(&root, &access, &client);
    let d = Daemon::start(&svn.config_repo(), &access, &svn.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    let server = Svnserve::start(&root);
    let port = server.port;

    ls(port, "carol", "/elibrary", &client).expect("carol is a project user of elibrary");
    let denied = ls(port, "grace", "/elibrary", &client).expect_err("grace is not in elibrary");
    assert!(denied.contains("Authorization failed"), "{denied}");

    // carol leaves elibrary, grace takes her roles.
    let out = svn.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"carol\">",
        "<user name=\"grace\">",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until(LIMIT, "the new access file", || {
        d.applied_revision().as_deref() == Some("2")
    });
    ls(port, "grace", "/elibrary", &client).expect("grace gained access");
    let denied = ls(port, "carol", "/elibrary", &client).expect_err("carol lost access");
    assert!(denied.contains("Authorization failed"), "{denied}");
    assert!(
        d.status()["triggers"]["hook"].as_u64() >= Some(1),
        "the post-commit hook notified the daemon"
    );
    // In SVN the revision's author committed it: the audit's pusher.
    let audit = svn.path("state/audit.jsonl");
    wait_until(LIMIT, "the audit record", || {
        read(&audit).contains("\"revision\":\"2\"")
    });
    let text = read(&audit);
    let record: serde_json::Value = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|r: &serde_json::Value| r["revision"] == "2")
        .expect("revision 2's record");
    assert!(
        record["author"].as_str().is_some_and(|a| !a.is_empty()),
        "{record}"
    );
    assert_eq!(record["pusher"], record["author"], "{record}");
}

#[test]
fn a_disabled_account_loses_access_at_its_next_connection() {
    let svn = Svn::new();
    let client = svn.path("client");
    let root = svn.path("served");
    let access = svn.path("out/access");
    code_repository(&root, &access, &client);
    let d = Daemon::start(&svn.config_repo(), &access, &svn.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    let server = Svnserve::start(&root);
    ls(server.port, "bob", "/elibrary/trunk", &client).expect("bob administers elibrary");
    let out = svn.commit_edit(
        ".polarion/user-management/users/bob/user.xml",
        "<field id=\"email\">",
        "<field id=\"disabled\">true</field>\n    <field id=\"email\">",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until(LIMIT, "the new access file", || {
        d.applied_revision().as_deref() == Some("2")
    });
    let denied = ls(server.port, "bob", "/elibrary/trunk", &client).expect_err("bob is disabled");
    assert!(denied.contains("Authorization failed"), "{denied}");
    ls(server.port, "carol", "/elibrary/trunk", &client).expect("others keep their access");
}

/// Apache httpd with mod_dav_svn and mod_authz_svn on a free loopback port,
/// serving every repository under `root` at `/svn/`, Basic auth from an
/// htpasswd file, `AuthzSVNAccessFile` naming `authz`; stopped when dropped.
struct Apache {
    child: Child,
    port: u16,
}

impl Apache {
    fn start(dir: &Path, root: &Path, authz: &Path) -> Self {
        let port = util::free_port();
        let htpasswd = dir.join("htpasswd");
        for (i, user) in USERS.iter().enumerate() {
            let mut cmd = Command::new("htpasswd");
            if i == 0 {
                cmd.arg("-c");
            }
            ok(cmd
                .args(["-b", "-m"])
                .arg(&htpasswd)
                .arg(user)
                .arg(format!("{user}-secret")));
        }
        let modules = "/usr/lib/apache2/modules";
        let load: String = [
            ("mpm_event", "mod_mpm_event"),
            ("authn_core", "mod_authn_core"),
            ("authz_core", "mod_authz_core"),
            ("authn_file", "mod_authn_file"),
            ("auth_basic", "mod_auth_basic"),
            ("authz_user", "mod_authz_user"),
            ("dav", "mod_dav"),
            ("dav_svn", "mod_dav_svn"),
            ("authz_svn", "mod_authz_svn"),
        ]
        .iter()
        .map(|(name, file)| format!("LoadModule {name}_module {modules}/{file}.so\n"))
        .collect();
        // Apache will not run as root; it switches to www-data, which must
        // be able to read the files and write the repositories.
        let user = if running_as_root() {
            "User www-data\nGroup www-data\n"
        } else {
            ""
        };
        let conf = dir.join("httpd.conf");
        std::fs::write(
            &conf,
            format!(
                "{load}ServerName 127.0.0.1\nListen 127.0.0.1:{port}\n{user}\
                 PidFile {d}/httpd.pid\nErrorLog {d}/error.log\nDefaultRuntimeDir {d}\nMutex file:{d} default\n\
                 <Location /svn>\n  DAV svn\n  SVNParentPath {root}\n  AuthType Basic\n  AuthName \"rolesync\"\n\
                 \x20 AuthUserFile {htpasswd}\n  Require valid-user\n  AuthzSVNAccessFile {authz}\n</Location>\n",
                d = dir.display(),
                root = root.display(),
                htpasswd = htpasswd.display(),
                authz = authz.display(),
            ),
        )
        .expect("httpd.conf");
        ok(Command::new("chmod").args(["-R", "a+rwX"]).arg(dir));
        let mut parent = dir.parent();
        while let Some(p) = parent {
            let _ = Command::new("chmod").arg("a+x").arg(p).status();
            parent = p.parent();
        }
        let child = Command::new("apache2")
            .args(["-DFOREGROUND", "-f"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("apache2 starts (install Debian's `apache2` and `libapache2-mod-svn`)");
        wait_until(LIMIT, "Apache to listen", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Apache { child, port }
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the tests run as root (then Apache must switch users).
fn running_as_root() -> bool {
    ok(Command::new("id").arg("-u")).trim() == "0"
}

/// `svn ls` through Apache.
fn http_ls(port: u16, user: &str, path: &str, client: &Path) -> Result<(), String> {
    svn_ls(&format!("http://127.0.0.1:{port}/svn"), user, path, client)
}

#[test]
fn roles_grant_and_revoke_apache_access_without_a_restart() {
    let svn = Svn::new();
    let client = svn.path("client");
    let web = svn.path("web");
    let root = web.join("served");
    let access = web.join("out/access");
    std::fs::create_dir_all(access.parent().expect("a folder")).expect("mkdir");
    code_repository(&root, &access, &client);
    let d = Daemon::start(&svn.config_repo(), &access, &svn.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    let apache = Apache::start(&web, &root, &access);
    let port = apache.port;

    let log = || read(&web.join("error.log"));
    http_ls(port, "carol", "/elibrary", &client)
        .unwrap_or_else(|e| panic!("carol is a project user of elibrary: {e}\n{}", log()));
    let denied =
        http_ls(port, "grace", "/elibrary", &client).expect_err("grace is not in elibrary");
    assert!(denied.contains("forbidden"), "{denied}");

    let out = svn.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"carol\">",
        "<user name=\"grace\">",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until(LIMIT, "the new access file", || {
        d.applied_revision().as_deref() == Some("2")
    });
    http_ls(port, "grace", "/elibrary", &client).expect("grace gained access");
    let denied = http_ls(port, "carol", "/elibrary", &client).expect_err("carol lost access");
    assert!(denied.contains("forbidden"), "{denied}");
}

#[test]
fn reading_only_what_changed_equals_a_full_read() {
    use rolesync::repo::{Options, Source};
    use rolesync::snapshot::Limits;
    let svn = Svn::new();
    let limits = Limits::default();
    let source = Source::open(&svn.config_repo(), &Options::default()).expect("an SVN repository");
    let mut prev = source.read(None, limits).expect("full read");
    let svn_cmd = |args: &[&str]| {
        ok(Command::new("svn")
            .args(args)
            .arg("--config-dir")
            .arg(svn.path("client"))
            .current_dir(svn.wc()))
    };
    // An edit, a deleted file, a new project folder, a file outside the
    // configuration, and two revisions at once.
    let steps: Vec<Box<dyn Fn()>> = vec![
        Box::new(|| {
            svn.commit_edit(
                ".polarion/security/roles.xml",
                "Reads everything",
                "Reads all",
            );
        }),
        Box::new(|| {
            svn_cmd(&["rm", "-q", ".polarion/user-management/users/heidi"]);
            svn_cmd(&["commit", "-q", "-m", "heidi leaves"]);
        }),
        Box::new(|| {
            let p = svn.wc().join("New Team/newproj/.polarion");
            std::fs::create_dir_all(&p).expect("mkdir");
            std::fs::write(p.join("polarion-project.xml"), "<project/>\n").expect("write");
            svn_cmd(&["add", "-q", "New Team"]);
            svn_cmd(&["commit", "-q", "-m", "a new project"]);
        }),
        Box::new(|| {
            std::fs::write(svn.wc().join("NOTES.txt"), "not configuration\n").expect("write");
            svn_cmd(&["add", "-q", "NOTES.txt"]);
            svn_cmd(&["commit", "-q", "-m", "notes"]);
            svn.commit_edit(
                ".polarion/access",
                "[/qa-tools]",
                "[/qa-tools]\n@admin = rw",
            );
        }),
    ];
    for step in steps {
        step();
        let incremental = source
            .read_newest(Some(prev), limits)
            .expect("incremental read");
        let full = source.read(None, limits).expect("full read");
        assert_eq!(incremental.revision, full.revision);
        assert_eq!(incremental.files, full.files, "at r{}", full.revision);
        assert_eq!(incremental.meta, full.meta);
        prev = incremental;
    }
    assert_eq!(prev.revision, "6");
}

#[test]
fn pre_commit_skips_commits_that_touch_no_configuration() {
    let svn = Svn::new();
    // A broken configuration committed before the hooks were installed.
    let out = svn.commit_edit(
        ".polarion/security/roles.xml",
        "scope=\"global\"",
        "scope=\"galaxy\"",
    );
    assert!(out.status.success());
    svn.install_hooks();
    svn.install_hooks(); // idempotent
    let hooks: Vec<String> = std::fs::read_dir(svn.config_repo().join("hooks"))
        .expect("hooks folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".tmpl"))
        .collect();
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    let svn_cmd = |args: &[&str]| {
        run(Command::new("svn")
            .args(args)
            .arg("--config-dir")
            .arg(svn.path("client"))
            .current_dir(svn.wc()))
    };
    std::fs::write(svn.wc().join("NOTES.txt"), "not configuration\n").expect("write");
    assert!(svn_cmd(&["add", "-q", "NOTES.txt"]).status.success());
    let out = svn_cmd(&["commit", "-q", "-m", "notes only"]);
    assert!(
        out.status.success(),
        "a commit outside the configuration is not checked: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = svn.commit_edit(
        ".polarion/security/user-roles.xml",
        "<user name=\"bob\">",
        "<user name=\"bob\" >",
    );
    assert!(
        !out.status.success(),
        "a commit of a configuration file is checked"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[xml-invalid-value]"));
}

/// Forty `svnmucc` commits in a row, as fast as they come: the daemon
/// reacts to each `db/current` rename, ends on the newest revision, never
/// goes back, never fails a reload, and every access file it showed is the
/// whole rendering of a revision.
#[test]
fn quick_commits_end_in_the_newest_revision_and_each_file_is_whole() {
    let svn = Svn::new();
    let access = svn.path("access");
    let d = Daemon::start(&svn.config_repo(), &access, &svn.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    let file = "Quality Assurance/qa-tools/.polarion/security/user-roles.xml";
    let mut text = read(&svn.wc().join(file));
    let frank = "    <user name=\"frank\">\n        <role name=\"project_admin\"/>\n    </user>\n";
    let scratch = svn.path("put.xml");
    let sampler = Sampler::start(&d.addr, &access);
    for i in 0..40 {
        // Every fourth commit moves frank in or out of qa-tools; the
        // others only touch a comment.
        if i % 4 == 0 {
            text = match text.contains(frank) {
                true => text.replace(frank, ""),
                false => text.replace("</user-roles>", &format!("{frank}</user-roles>")),
            };
        }
        std::fs::write(&scratch, format!("{text}<!-- {i} -->\n")).expect("write");
        ok(Command::new("svnmucc")
            .args(["-m", "quick", "--config-dir"])
            .arg(svn.path("client"))
            .arg("put")
            .arg(&scratch)
            .arg(format!("{}/{file}", url(&svn.config_repo()))));
    }
    let order: Vec<String> = (1..=41).map(|r| r.to_string()).collect();
    wait_until(LIMIT, "the newest revision", || {
        d.applied_revision().as_deref() == Some("41")
    });
    let (seen, texts) = sampler.stop();
    assert_in_order(&seen, &order);
    // The commits make two renderings, with frank (r2) and without (r1).
    let complete = ["1", "2"].map(|rev| render_at(&svn.config_repo(), rev));
    assert_ne!(complete[0], complete[1]);
    assert_quick_commits_clean(&d, &texts, &complete);
    assert_eq!(read(&access), render_at(&svn.config_repo(), "41"));
}
