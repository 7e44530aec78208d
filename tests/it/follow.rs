//! `rolesync serve --remote` (issue 14): three followers of a bare Git
//! repository served by a real `git daemon`, and of an SVN repository
//! served by a real `svnserve` (password-protected), all on loopback.
//! After a push every follower's access file is `rolesync render` of the
//! pushed revision: at once with `POST /v1/reload` (the notifying hook's
//! call), within one poll without it. A stopped remote leaves the
//! followers healthy and serving, with `remote.unreachable_since` set;
//! back, they converge. A force-push to an older commit is refused, not
//! applied. Credentials never show in the status or the logs. A remote
//! that never answers is reported after the time-out and holds one
//! connection, however many polls pass.

use std::io::{BufRead as _, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::daemon::{Config, http_to, render_at, status_at, wait_until};
use crate::util::{self, git};

const LIMIT: Duration = Duration::from_secs(30);
const TOKEN: &str = "follow-token";

/// A server process on a fixed loopback port (restartable on it), killed
/// when dropped.
pub(crate) struct Server {
    child: Option<Child>,
    pub(crate) port: u16,
    command: Box<dyn Fn(u16) -> Command>,
}

impl Server {
    pub(crate) fn start(command: Box<dyn Fn(u16) -> Command>) -> Self {
        let mut server = Server {
            child: None,
            port: util::free_port(),
            command,
        };
        server.resume();
        server
    }

    fn resume(&mut self) {
        let child = (self.command)(self.port)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        self.child = Some(child);
        let port = self.port;
        wait_until(LIMIT, "the server to listen", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `git daemon` serving the bare repositories below `base` (the
/// `git-daemon` program itself: `git daemon` would leave it running when
/// killed).
fn git_daemon(base: &Path) -> Server {
    let base = base.to_owned();
    let exec = git(&base, &["--exec-path"]);
    let program = Path::new(&exec).join("git-daemon");
    Server::start(Box::new(move |port| {
        let mut cmd = Command::new(&program);
        cmd.args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(&base);
        cmd
    }))
}

/// A `rolesync serve --remote` with its own access file and state folder;
/// its log (stderr, at debug level) kept.
pub(crate) struct Follower {
    child: Child,
    pub(crate) addr: String,
    access: PathBuf,
    state: PathBuf,
    log: Arc<Mutex<String>>,
}

impl Follower {
    pub(crate) fn start(dir: &Path, name: &str, url: &str, extra: &[&str]) -> Follower {
        Follower::start_env(dir, name, url, extra, &[])
    }

    /// As `start`, with `env` added to the follower's environment.
    pub(crate) fn start_env(
        dir: &Path,
        name: &str,
        url: &str,
        extra: &[&str],
        env: &[(&str, &Path)],
    ) -> Follower {
        let token = dir.join("token");
        std::fs::write(&token, TOKEN).expect("token");
        let (access, state) = (dir.join(format!("{name}.access")), dir.join(name));
        let mut child = util::rolesync()
            .args(["serve", "--remote", url, "--listen", "127.0.0.1:0"])
            .arg("--access-out")
            .arg(&access)
            .arg("--state-dir")
            .arg(&state)
            .arg("--token-file")
            .arg(&token)
            .args(extra)
            .envs(env.iter().copied())
            .env("ROLESYNC_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rolesync serve starts");
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let addr = loop {
            let line = lines.next().expect("an address line").expect("text");
            log.lock().expect("log").push_str(&line);
            if let Some(rest) = line.strip_prefix("rolesync: listening on http://") {
                break rest.trim().to_owned();
            }
        };
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut log = kept.lock().expect("log");
                log.push_str(&line);
                log.push('\n');
            }
        });
        Follower {
            child,
            addr,
            access,
            state,
            log,
        }
    }

    pub(crate) fn status(&self) -> serde_json::Value {
        status_at(&self.addr)
    }

    pub(crate) fn notify(&self) {
        let (code, body) = http_to(&self.addr, "POST", "/v1/reload", Some(TOKEN));
        assert_eq!(code, 202, "{body}");
    }

    pub(crate) fn file(&self) -> String {
        std::fs::read_to_string(&self.access).unwrap_or_default()
    }

    /// The log so far (stderr, debug level).
    pub(crate) fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// Wait until the status's `remote.error` says `what`; the error.
    pub(crate) fn refused(&self, what: &str) -> String {
        let started = Instant::now();
        loop {
            let error = self.status()["remote"]["error"].to_string();
            if error.contains(what) {
                break;
            }
            assert!(started.elapsed() < LIMIT, "waiting for {what}: {error}");
            std::thread::sleep(Duration::from_millis(20));
        }
        let (code, _) = http_to(&self.addr, "GET", "/healthz", None);
        assert_eq!(code, 503, "nothing was applied");
        assert!(self.file().is_empty());
        self.status()["remote"]["error"].to_string()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three followers of `url` in `dir` (`extra` flags), once each serves `first`.
pub(crate) fn three(dir: &Path, url: &str, extra: &[&str], first: &str) -> Vec<Follower> {
    std::fs::create_dir_all(dir).expect("mkdir");
    let followers: Vec<Follower> = (0..3)
        .map(|i| Follower::start(dir, &format!("f{i}"), url, extra))
        .collect();
    converged(&followers, first, "the first revision on every follower");
    followers
}

/// Wait until every follower's access file is `expected`; how long it took.
pub(crate) fn converged(followers: &[Follower], expected: &str, what: &str) -> Duration {
    let started = Instant::now();
    wait_until(LIMIT, what, || {
        followers.iter().all(|f| f.file() == expected)
    });
    started.elapsed()
}

/// A credentials file holding `text` in `dir`, readable by its owner only;
/// its path.
pub(crate) fn credentials_file(dir: &Path, text: &str) -> String {
    let credentials = dir.join("credentials.toml");
    std::fs::write(&credentials, text).expect("creds");
    let mut perms = std::fs::metadata(&credentials).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    std::fs::set_permissions(&credentials, perms).expect("chmod");
    credentials.display().to_string()
}

/// A Git configuration (sample-repo) pushed to `served/config.git`, which
/// a server (`git daemon`, Apache, sshd) serves at `url`.
pub(crate) struct GitRemote {
    pub(crate) cfg: Config,
    server: Server,
    url: String,
}

impl GitRemote {
    fn new() -> Self {
        GitRemote::served(|cfg| {
            let server = git_daemon(&cfg.path("served"));
            let url = format!("git://127.0.0.1:{}/config.git", server.port);
            (server, url)
        })
    }

    /// The bare repository, served by `serve` (the server and the URL).
    pub(crate) fn served(serve: impl FnOnce(&Config) -> (Server, String)) -> Self {
        let cfg = Config::new();
        let bare = cfg.path("served/config.git");
        git(
            &cfg.work(),
            &["clone", "-q", "--bare", ".", &bare.display().to_string()],
        );
        git(
            &cfg.work(),
            &["remote", "add", "origin", &bare.display().to_string()],
        );
        let (server, url) = serve(&cfg);
        GitRemote { cfg, server, url }
    }

    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    pub(crate) fn port(&self) -> u16 {
        self.server.port
    }

    /// Three followers (`extra` flags), once each serves the first revision.
    pub(crate) fn followers(&self, extra: &[&str]) -> Vec<Follower> {
        let first = render_at(&self.cfg.work(), &self.cfg.head());
        three(&self.cfg.path("followers"), &self.url(), extra, &first)
    }

    /// Commit one role change and push it; the commit and its rendering.
    pub(crate) fn push(&self, n: usize) -> (String, String) {
        let file = "Engineering/elibrary/.polarion/security/user-roles.xml";
        let (from, to) = if n.is_multiple_of(2) {
            ("<user name=\"dave\">", "<user name=\"grace\">")
        } else {
            ("<user name=\"grace\">", "<user name=\"dave\">")
        };
        let commit = self.cfg.commit_edit(file, from, to, &format!("push {n}"));
        git(&self.cfg.work(), &["push", "-q", "origin", "HEAD:main"]);
        let rendered = render_at(&self.cfg.work(), &commit);
        (commit, rendered)
    }
}

#[test]
fn git_followers_converge_on_notification_and_never_go_back() {
    let remote = GitRemote::new();
    // A poll longer than the test: only the notification moves them.
    let followers = remote.followers(&["--remote-poll", "1h"]);
    let mut times = Vec::new();
    for n in 0..3 {
        let (_, rendered) = remote.push(n);
        followers.iter().for_each(Follower::notify);
        times.push(converged(&followers, &rendered, "the notified push"));
    }
    times.sort();
    eprintln!("notified convergence of 3 followers: {times:?}");
    // Force-push back to an older commit: refused, reported, not applied.
    let kept = followers[0].file();
    let applied = remote.cfg.head();
    git(
        &remote.cfg.work(),
        &["push", "-q", "-f", "origin", "HEAD~2:main"],
    );
    followers.iter().for_each(Follower::notify);
    for f in &followers {
        wait_until(LIMIT, "the refusal in the status", || {
            f.status()["remote"]["refused"].is_string()
        });
        let status = f.status();
        let refused = status["remote"]["refused"].as_str().unwrap_or_default();
        assert!(refused.contains("not a descendant"), "{refused}");
        assert_eq!(status["applied"]["revision"], applied.as_str());
        assert_eq!(status["status"], "ok", "{status}");
        assert_eq!(f.file(), kept);
        let audit = std::fs::read_to_string(f.state.join("audit.jsonl")).expect("audit");
        assert!(audit.contains("\"result\":\"refused\""), "{audit}");
    }
    let (code, metrics) = http_to(&followers[0].addr, "GET", "/metrics", None);
    assert_eq!(code, 200);
    assert!(metrics.contains("rolesync_remote_behind 1\n"), "{metrics}");
    assert!(
        metrics.contains("rolesync_remote_unreachable_seconds 0\n"),
        "{metrics}"
    );
}

#[test]
fn git_followers_converge_by_polling_and_outlive_the_remote() {
    let mut remote = GitRemote::new();
    let poll = Duration::from_millis(500);
    let followers = remote.followers(&["--remote-poll", "500ms"]);
    let (_, rendered) = remote.push(0);
    let took = converged(&followers, &rendered, "the polled push");
    eprintln!("poll-only convergence (poll {poll:?}): {took:?}");
    assert!(took < poll * 4, "{took:?}");
    // The remote goes away: healthy, stale, the file kept.
    remote.server.stop();
    for f in &followers {
        wait_until(LIMIT, "the remote unreachable", || {
            f.status()["remote"]["unreachable_since"].is_string()
        });
        let (code, health) = http_to(&f.addr, "GET", "/healthz", None);
        assert_eq!(code, 200, "{health}");
        assert!(health.contains("\"ok\""), "{health}");
        assert!(f.status()["remote"]["error"].is_string());
        assert_eq!(f.file(), rendered);
    }
    let (_, metrics) = http_to(&followers[0].addr, "GET", "/metrics", None);
    assert!(
        !metrics.contains("rolesync_remote_unreachable_seconds 0\n"),
        "{metrics}"
    );
    // A push while it is away, then it comes back: they converge.
    let (commit, rendered) = remote.push(1);
    remote.server.resume();
    converged(
        &followers,
        &rendered,
        "the push made while the remote was away",
    );
    for f in &followers {
        wait_until(LIMIT, "reachable again", || {
            f.status()["remote"]["unreachable_since"].is_null()
        });
        assert_eq!(f.status()["remote"]["head"], commit.as_str());
        // The file is in place a moment before the snapshot is swapped.
        wait_until(LIMIT, "not behind", || {
            http_to(&f.addr, "GET", "/metrics", None)
                .1
                .contains("rolesync_remote_behind 0\n")
        });
        let (_, metrics) = http_to(&f.addr, "GET", "/metrics", None);
        assert!(
            metrics.contains("rolesync_remote_last_fetch_timestamp_seconds "),
            "{metrics}"
        );
    }
}

#[test]
fn a_remote_url_with_credentials_is_refused_without_echoing_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = util::rolesync()
        .args(["serve", "--remote", "svn://bob:s3cret@127.0.0.1/config"])
        .arg("--state-dir")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", util::stderr(&out));
    let err = util::stderr(&out);
    assert!(err.contains("a password in the URL"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let toml = dir.path().join("rolesync.toml");
    std::fs::write(&toml, "remote = \"git://alice:pw123@127.0.0.1/c.git\"\n").expect("toml");
    let out = util::rolesync()
        .args(["serve", "--config"])
        .arg(&toml)
        .arg("--state-dir")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !util::stderr(&out).contains("pw123"),
        "{}",
        util::stderr(&out)
    );
    let out = util::rolesync()
        .args(["serve", "--remote", "git://127.0.0.1/c.git"])
        .output()
        .expect("runs");
    assert!(
        util::stderr(&out).contains("needs --state-dir"),
        "{}",
        util::stderr(&out)
    );
}

/// An SVN configuration repository (sample-repo) behind `svnserve`, which
/// asks for a password.
fn svnserve(root: &Path) -> Server {
    let root = root.to_owned();
    Server::start(Box::new(move |port| {
        let mut cmd = Command::new("svnserve");
        cmd.args(["-d", "--foreground", "--listen-host", "127.0.0.1"])
            .arg(format!("--listen-port={port}"))
            .arg("-r")
            .arg(&root);
        cmd
    }))
}

#[test]
fn svn_followers_converge_behind_a_password_that_never_shows() {
    let svn = crate::svn::Svn::new();
    let conf = svn.config_repo().join("conf");
    std::fs::write(
        conf.join("svnserve.conf"),
        "[general]\nanon-access = none\nauth-access = read\npassword-db = passwd\n",
    )
    .expect("svnserve.conf");
    std::fs::write(conf.join("passwd"), "[users]\nmirror = s3cret-pw\n").expect("passwd");
    let mut server = svnserve(&svn.path(""));
    let url = format!("svn://127.0.0.1:{}/config", server.port);
    let dir = svn.path("followers");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let creds = credentials_file(&dir, "username = \"mirror\"\npassword = \"s3cret-pw\"\n");
    let first = render_at(&svn.config_repo(), &svn.youngest());
    let flags = [
        "--remote-poll",
        "500ms",
        "--remote-credentials-file",
        &creds,
    ];
    let followers = three(&dir, &url, &flags, &first);
    let out = svn.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"dave\">",
        "<user name=\"grace\">",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rendered = render_at(&svn.config_repo(), &svn.youngest());
    followers.iter().for_each(Follower::notify);
    let took = converged(&followers, &rendered, "the notified SVN commit");
    eprintln!("notified SVN convergence of 3 followers: {took:?}");
    server.stop();
    for f in &followers {
        wait_until(LIMIT, "the SVN remote unreachable", || {
            f.status()["remote"]["unreachable_since"].is_string()
        });
        assert_eq!(f.file(), rendered);
        assert_eq!(f.status()["remote"]["head"], svn.youngest().as_str());
    }
    let out = svn.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"grace\">",
        "<user name=\"dave\">",
    );
    assert!(out.status.success());
    let rendered = render_at(&svn.config_repo(), &svn.youngest());
    server.resume();
    converged(
        &followers,
        &rendered,
        "the SVN commit made while the remote was away",
    );
    for f in &followers {
        let status = f.status().to_string();
        assert!(!status.contains("s3cret-pw"), "{status}");
        let log = f.log();
        assert!(!log.contains("s3cret-pw"), "the password in the log");
        assert!(log.contains("cannot fetch the remote"), "{log}");
    }
}

/// `svnadmin create` + import of sample-repo at `path`, with `uuid` when given.
fn fresh_svn_repository(path: &Path, client: &Path, uuid: Option<&str>) {
    let ok = |cmd: &mut Command| {
        let out = crate::svn::run(cmd);
        assert!(out.status.success(), "{cmd:?}: {}", util::stderr(&out));
    };
    ok(Command::new("svnadmin").arg("create").arg(path));
    if let Some(uuid) = uuid {
        ok(Command::new("svnadmin").arg("setuuid").arg(path).arg(uuid));
    }
    ok(Command::new("svn")
        .args(["import", "-q", "-m", "a copy"])
        .arg(util::root().join("sample-repo"))
        .arg(crate::svn::url(path))
        .arg("--config-dir")
        .arg(client));
}

#[test]
fn an_svn_remote_replaced_by_another_or_an_older_copy_is_refused() {
    let svn = crate::svn::Svn::new();
    let repo = svn.config_repo();
    let url = crate::svn::url(&repo);
    let out = svn.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"dave\">",
        "<user name=\"grace\">",
    );
    assert!(out.status.success());
    let applied = render_at(&repo, "2");
    let followers = three(
        &svn.path("followers"),
        &url,
        &["--remote-poll", "200ms"],
        &applied,
    );
    let f = &followers[0];
    let uuid = |p: &Path| {
        util::stdout(&crate::svn::run(Command::new("svnlook").arg("uuid").arg(p)))
            .trim()
            .to_owned()
    };
    let original = uuid(&repo);
    let refused = |why: &str| {
        wait_until(LIMIT, why, || {
            f.status()["remote"]["refused"]
                .as_str()
                .is_some_and(|r| r.contains(why))
        });
        assert_eq!(f.status()["applied"]["revision"], "2");
        assert_eq!(f.file(), applied);
    };
    // An older copy (one revision, the same UUID) in its place.
    std::fs::rename(&repo, svn.path("moved")).expect("move");
    fresh_svn_repository(&repo, &svn.path("client"), Some(&original));
    refused("below the mirror's r2");
    // Another repository (another UUID) in its place.
    std::fs::remove_dir_all(&repo).expect("remove");
    fresh_svn_repository(&repo, &svn.path("client"), None);
    refused("is not the mirror's");
    let audit = std::fs::read_to_string(f.state.join("audit.jsonl")).expect("audit");
    // Each head refused is audited once (a poll may also see a copy half
    // made, at r0).
    let refusals: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("\"result\":\"refused\""))
        .collect();
    assert!(
        refusals.iter().any(|l| l.contains("below the mirror's r2")),
        "{audit}"
    );
    assert!(
        refusals.iter().any(|l| l.contains("is not the mirror's")),
        "{audit}"
    );
    let heads: std::collections::HashSet<&str> = refusals
        .iter()
        .filter_map(|l| l.split("\"message\":\"").nth(1))
        .filter_map(|m| m.split("\",\"result\"").next())
        .collect();
    assert_eq!(heads.len(), refusals.len(), "{audit}");
}

#[test]
fn a_git_remote_sending_more_than_the_bound_is_stopped() {
    let remote = GitRemote::new();
    let dir = remote.cfg.path("bounded");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let config = dir.join("rolesync.toml");
    std::fs::write(&config, "remote_max_bytes = 1000\nremote_poll = \"1h\"\n").expect("toml");
    let config = config.display().to_string();
    let f = Follower::start(&dir, "f", &remote.url(), &["--config", &config]);
    f.refused("more than 1000 bytes");
}

#[test]
fn a_git_remote_that_never_answers_holds_one_connection_and_is_reported() {
    // A "server" that accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let kept = held.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            kept.lock().expect("held").push(stream);
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("rolesync.toml");
    std::fs::write(
        &config,
        "remote_timeout = \"1s\"\nremote_poll = \"200ms\"\n",
    )
    .expect("toml");
    let url = format!("git://127.0.0.1:{port}/config.git");
    let config = config.display().to_string();
    let f = Follower::start(dir.path(), "f", &url, &["--config", &config]);
    // Reported after the time-out; later polls find the first fetch still
    // hanging and start no other.
    f.refused("the previous fetch has not ended");
    assert!(f.status()["remote"]["unreachable_since"].is_string());
    let log = f.log();
    assert!(log.contains("the fetch took longer than 1s"), "{log}");
    assert_eq!(held.lock().expect("held").len(), 1, "one connection only");
}
