//! `rolesync serve` on real Git repositories, driven by the real `git` CLI:
//! commits reach the access file, bad commits leave it alone, bursts
//! coalesce, SIGKILL never leaves a partial file, restarts change nothing,
//! and the HTTP API guards reload with the token.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, git};

/// A work folder with a Git repository holding `sample-repo/`, committed.
pub struct Config {
    pub dir: tempfile::TempDir,
}

impl Config {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let work = dir.path().join("config");
        util::copy_tree(&util::root().join("sample-repo"), &work);
        git(&work, &["init", "-q"]);
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "initial configuration"]);
        Config { dir }
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Replace text in a file of the work tree and commit; returns the commit id.
    pub fn commit_edit(&self, file: &str, from: &str, to: &str, message: &str) -> String {
        let path = self.work().join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
        git(&self.work(), &["commit", "-q", "-am", message]);
        git(&self.work(), &["rev-parse", "HEAD"])
    }

    pub fn head(&self) -> String {
        git(&self.work(), &["rev-parse", "HEAD"])
    }
}

/// A running `rolesync serve`, killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub addr: String,
    /// Its stderr lines after the address (the last `MAX_LOG_LINES`).
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// How many of a daemon's stderr lines a test keeps.
const MAX_LOG_LINES: usize = 10_000;

impl Daemon {
    pub fn start(repo: &Path, access: &Path, state: &Path, extra: &[&str]) -> Daemon {
        let mut cmd = util::rolesync();
        cmd.arg("serve")
            .arg("--repo")
            .arg(repo)
            .arg("--access-out")
            .arg(access)
            .arg("--state-dir")
            .arg(state)
            .args(["--listen", "127.0.0.1:0", "--poll-interval", "0s"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        Daemon::spawn(cmd)
    }

    /// Spawn `rolesync serve` as `cmd` says (stderr is piped here) and read
    /// its address from the first lines of stderr.
    pub fn spawn(mut cmd: Command) -> Daemon {
        let mut child = cmd
            .stderr(Stdio::piped())
            .spawn()
            .expect("rolesync serve starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the daemon prints its address before anything fails")
                .expect("stderr is text");
            if let Some(rest) = line.strip_prefix("rolesync: listening on http://") {
                break rest.trim().to_owned();
            }
        };
        // Keep draining stderr so that the daemon never blocks on a full pipe.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut kept = kept.lock().expect("log lines");
                if kept.len() == MAX_LOG_LINES {
                    kept.remove(0);
                }
                kept.push(line);
            }
        });
        Daemon { child, addr, log }
    }

    /// The stderr lines so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().expect("log lines").clone()
    }

    /// One HTTP/1.1 request; returns the status code and the body.
    pub fn http(&self, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
        http_to(&self.addr, method, path, token)
    }

    pub fn status(&self) -> serde_json::Value {
        status_at(&self.addr)
    }

    /// The revision the daemon serves (`/v1/status`): its access file is
    /// in place. The file itself names no revision.
    pub fn applied_revision(&self) -> Option<String> {
        applied_revision_at(&self.addr)
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        self.child.wait().expect("the daemon exits")
    }
}

/// One HTTP/1.1 request to the API at `addr`; returns the status code and the body.
pub fn http_to(addr: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the API");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n")
            .expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// `/v1/status` of the API at `addr`.
pub fn status_at(addr: &str) -> serde_json::Value {
    let (code, body) = http_to(addr, "GET", "/v1/status", None);
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).expect("status is JSON")
}

/// The applied revision in `/v1/status` of the API at `addr`.
pub fn applied_revision_at(addr: &str) -> Option<String> {
    status_at(addr)["applied"]["revision"]
        .as_str()
        .map(str::to_owned)
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Wait until `cond` holds, polling; panics with `what` after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_commit_that_changes_a_role_reaches_the_access_file() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || {
        read(&access).contains("elibrary-project_user = carol\n")
    });
    let commit = cfg.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"dave\">",
        "<user name=\"grace\">",
        "grace joins elibrary",
    );
    wait_until(LIMIT, "the new group", || {
        read(&access).contains("elibrary-project_user = carol, grace\n")
    });
    wait_until(LIMIT, "the status to name the commit", || {
        d.applied_revision().as_deref() == Some(commit.as_str())
    });
    util::svnauthz_validate(&access).expect("svnauthz accepts the published file");
    // The audit line is written just after the file is in place.
    let last = audit_line(&cfg.path("state"), &commit);
    assert_eq!(last["result"], "applied");
    assert_eq!(last["author"], "Admin");
    assert_eq!(
        last["gained"]["grace"],
        serde_json::json!(["elibrary-project_user"])
    );
}

/// The audit line of `commit` in the state folder `state`, once written.
pub fn audit_line(state: &Path, commit: &str) -> serde_json::Value {
    let path = state.join("audit.jsonl");
    wait_until(LIMIT, "the audit line", || read(&path).contains(commit));
    let audit = read(&path);
    let line = audit
        .lines()
        .find(|l| l.contains(commit))
        .expect("the commit's audit line");
    serde_json::from_str(line).expect("JSON")
}

#[test]
fn the_audit_line_of_a_role_change_carries_the_path_and_group_diff() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let state = cfg.path("state");
    let d = Daemon::start(&cfg.work(), &access, &state, &[]);
    let first = cfg.head();
    let initial = audit_line(&state, &first);
    assert_eq!(initial["result"], "applied");
    assert_eq!(
        initial["diff"],
        serde_json::Value::Null,
        "nothing applied before: {initial}"
    );
    // At the start every member of every role group gained it (expanded
    // by the audit writer, off the reload's path).
    assert!(
        initial["gained"]["carol"]
            .as_array()
            .is_some_and(|g| g.contains(&serde_json::json!("elibrary-project_user"))),
        "{initial}"
    );
    let commit = cfg.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"carol\">",
        "<user name=\"grace\">",
        "carol's elibrary roles go to grace",
    );
    wait_until(LIMIT, "the status to name the commit", || {
        d.applied_revision().as_deref() == Some(commit.as_str())
    });
    let line = audit_line(&state, &commit);
    let diff = &line["diff"];
    assert_eq!(
        (
            &diff["version"],
            &diff["from"],
            &diff["to"],
            &diff["complete"]
        ),
        (
            &1.into(),
            &first.as_str().into(),
            &commit.as_str().into(),
            &true.into()
        ),
        "{line}"
    );
    assert_eq!(line["diff_error"], serde_json::Value::Null);
    let paths = diff["paths"]["changes"].as_array().expect("path changes");
    for (login, from, to) in [("carol", "rw", "no"), ("grace", "no", "rw")] {
        let want = serde_json::json!({
            "repository": null, "path": "/elibrary", "login": login, "from": from, "to": to
        });
        assert!(paths.contains(&want), "no {want} in {line}");
    }
    let groups = diff["groups"]["changes"].as_array().expect("group changes");
    for (login, change) in [("carol", "left"), ("grace", "joined")] {
        let want = serde_json::json!({
            "group": "elibrary-project_user", "project": "elibrary", "role": "project_user",
            "login": login, "change": change, "reasons": ["direct"]
        });
        assert!(groups.contains(&want), "no {want} in {line}");
    }
    // The groups a login gained or lost are still there.
    let gained = line["gained"]["grace"]
        .as_array()
        .expect("grace gained groups");
    assert!(gained.contains(&"elibrary-project_user".into()), "{line}");
    let losing = diff["losing"].as_array().expect("losing");
    assert!(losing.contains(&"carol".into()), "{line}");
}

#[test]
fn a_bad_commit_keeps_the_last_good_file_and_shows_in_status_and_health() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    let good = read(&access);
    // The file is in place a moment before the snapshot is swapped in.
    wait_until(LIMIT, "health", || d.http("GET", "/healthz", None).0 == 200);
    let (code, body) = d.http("GET", "/healthz", None);
    assert_eq!((code, body.contains("\"ok\"")), (200, true), "{body}");

    let bad = cfg.commit_edit(
        ".polarion/security/user-roles.xml",
        "<user name=\"carol\">",
        "<user name=\"carol smith\">",
        "a broken login",
    );
    wait_until(LIMIT, "the failed attempt", || {
        d.status()["attempted"]["revision"] == bad.as_str()
    });
    let status = d.status();
    assert_eq!(status["status"], "degraded");
    assert_eq!(status["attempted"]["result"], "failed");
    let error = &status["attempted"]["errors"][0];
    assert_eq!(error["file"], ".polarion/security/user-roles.xml");
    assert_eq!(error["code"], "invalid-login");
    assert!(error["line"].as_u64().is_some_and(|l| l > 1), "{error}");
    let (code, body) = d.http("GET", "/healthz", None);
    assert_eq!((code, body.contains("degraded")), (200, true), "{body}");
    assert_eq!(
        read(&access),
        good,
        "a bad commit must not touch the access file"
    );
    let (_, metrics) = d.http("GET", "/metrics", None);
    assert!(
        metrics.contains("rolesync_reloads_total{result=\"failed\"} 1"),
        "{metrics}"
    );

    let fixed = cfg.commit_edit(
        ".polarion/security/user-roles.xml",
        "<user name=\"carol smith\">",
        "<user name=\"carol\">",
        "fix the login",
    );
    wait_until(LIMIT, "the recovery", || {
        d.applied_revision().as_deref() == Some(fixed.as_str())
    });
    assert_eq!(read(&access), good, "the fix restores the good file");
    wait_until(LIMIT, "the status to recover", || {
        d.status()["status"] == "ok"
    });
    assert_eq!(d.status()["applied"]["revision"], fixed.as_str());
}

#[test]
fn a_burst_of_commits_ends_in_the_last_one_and_never_goes_back() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    let file = "Quality Assurance/qa-tools/.polarion/security/user-roles.xml";
    let mut order = vec![cfg.head()];
    let sampler = Sampler::start(&d.addr, &access);
    for i in 0..200 {
        let path = cfg.work().join(file);
        let mut text = read(&path);
        // Every tenth commit moves frank in or out of qa-tools; all others
        // only touch a comment (a new revision all the same).
        if i % 10 == 0 {
            text = if text.contains("<user name=\"frank\">") {
                text.replace("    <user name=\"frank\">\n        <role name=\"project_admin\"/>\n    </user>\n", "")
            } else {
                text.replace("</user-roles>", "    <user name=\"frank\">\n        <role name=\"project_admin\"/>\n    </user>\n</user-roles>")
            };
        }
        std::fs::write(&path, text + &format!("<!-- {i} -->\n")).expect("write");
        git(&cfg.work(), &["commit", "-q", "-am", &format!("burst {i}")]);
        order.push(cfg.head());
    }
    let last = order.last().expect("commits").clone();
    wait_until(LIMIT, "the last commit", || {
        d.applied_revision().as_deref() == Some(last.as_str())
    });
    let (seen, texts) = sampler.stop();
    assert_in_order(&seen, &order);
    // The commits make two renderings, with frank and without.
    let complete = [&order[0], &order[1]].map(|rev| render_at(&cfg.work(), rev));
    assert_quick_commits_clean(&d, &texts, &complete);
    assert_eq!(read(&access), render_at(&cfg.work(), &last));
}

/// After a run of quick commits: no reload failed (none read a
/// half-written commit), only the head's moves were triggers (none of the
/// commits' other writes), and every text of the access file seen is one
/// of `complete`.
pub fn assert_quick_commits_clean(
    d: &Daemon,
    texts: &std::collections::HashSet<String>,
    complete: &[String],
) {
    let status = d.status();
    assert_eq!(status["reloads"]["failed"], 0, "no reload failed");
    let moved = status["triggers"]["head"].as_u64();
    assert!(moved >= Some(1), "the head moved: {}", status["triggers"]);
    let waited = &status["triggers"]["watch"];
    assert!(waited.is_null(), "no other write is a trigger: {waited}");
    for text in texts {
        let whole = complete.contains(text);
        assert!(
            whole,
            "the file is no complete rendering of a commit:\n{text}"
        );
    }
}

/// What a running daemon showed, sampled every millisecond from another
/// thread: each revision the status named (in the order first seen) and
/// each distinct text of the access file.
pub struct Sampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<(Vec<String>, std::collections::HashSet<String>)>,
}

impl Sampler {
    pub fn start(addr: &str, access: &Path) -> Sampler {
        let (addr, access) = (addr.to_owned(), access.to_owned());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut seen, mut texts) = (Vec::new(), std::collections::HashSet::new());
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(rev) = applied_revision_at(&addr)
                    && seen.last() != Some(&rev)
                {
                    seen.push(rev);
                }
                texts.insert(read(&access));
                std::thread::sleep(Duration::from_millis(1));
            }
            (seen, texts)
        });
        Sampler { stop, thread }
    }

    /// The revisions seen and the texts of the file.
    pub fn stop(self) -> (Vec<String>, std::collections::HashSet<String>) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().expect("the sampler thread")
    }
}

/// That every revision in `seen` is one of `order` and none comes after
/// a newer one.
pub fn assert_in_order(seen: &[String], order: &[String]) {
    let positions: Vec<usize> = seen
        .iter()
        .map(|rev| {
            order
                .iter()
                .position(|c| c == rev)
                .unwrap_or_else(|| panic!("published unknown revision {rev}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "a file older than a published one was published: {positions:?}"
    );
}

/// `rolesync render` of `repo` at `rev`.
pub fn render_at(repo: &Path, rev: &str) -> String {
    let out = util::rolesync()
        .args(["render", "--rev", rev, "--repo"])
        .arg(repo)
        .output()
        .expect("render");
    util::stdout(&out)
}

#[test]
fn sigkill_during_reloads_never_leaves_a_partial_file() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let state = cfg.path("state");
    let mut renders: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut render_at = |rev: &str| -> String {
        renders
            .entry(rev.to_owned())
            .or_insert_with(|| {
                let out = util::rolesync()
                    .args(["render", "--rev", rev, "--repo"])
                    .arg(cfg.work())
                    .output()
                    .expect("render");
                util::stdout(&out)
            })
            .clone()
    };
    let file = ".polarion/security/user-roles.xml";
    // The complete renderings of every revision committed so far (the
    // file names no revision, so it is compared with each).
    let mut complete = std::collections::HashSet::from([render_at(&cfg.head())]);
    let mut seed: u64 = 0x5eed;
    for round in 0..50 {
        let mut d = Daemon::start(&cfg.work(), &access, &state, &["--debounce", "1ms"]);
        // A few commits, then a kill at a pseudo-random moment.
        for i in 0..3 {
            let path = cfg.work().join(file);
            std::fs::write(&path, read(&path) + &format!("<!-- {round}.{i} -->\n")).expect("write");
            git(
                &cfg.work(),
                &["commit", "-q", "-am", &format!("round {round}.{i}")],
            );
            complete.insert(render_at(&cfg.head()));
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_micros(seed >> 54));
        d.kill();
        let text = read(&access);
        if text.is_empty() {
            continue; // killed before the first publication
        }
        assert!(
            complete.contains(&text),
            "round {round}: the file is not the complete rendering of a revision:\n{text}"
        );
    }
    let names: Vec<_> = std::fs::read_dir(cfg.dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    // Temporary files of killed writers may stay; they are never the target.
    assert!(
        names.iter().all(|n| n.starts_with(".access.rolesync-")),
        "{names:?}"
    );
}

#[test]
fn a_restart_with_nothing_new_leaves_the_file_untouched() {
    use std::os::unix::fs::MetadataExt as _;
    let cfg = Config::new();
    let access = cfg.path("access");
    let state = cfg.path("state");
    let mut d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    assert!(d.terminate().success(), "SIGTERM ends the daemon cleanly");
    let before = std::fs::metadata(&access).expect("published");
    std::thread::sleep(Duration::from_millis(20));
    let d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_until(LIMIT, "the restarted daemon's first reload", || {
        d.status()["status"] == "ok"
    });
    let after = std::fs::metadata(&access).expect("still there");
    assert_eq!(
        (before.ino(), before.mtime_nsec(), before.mtime()),
        (after.ino(), after.mtime_nsec(), after.mtime())
    );
}

#[test]
fn a_restart_on_a_bad_head_serves_the_last_applied_revision() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let state = cfg.path("state");
    let mut d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    assert!(d.terminate().success());
    let good = read(&access);
    let good_revision = cfg.head();
    cfg.commit_edit(
        ".polarion/security/user-roles.xml",
        "<user-roles>",
        "<user-roles><oops>",
        "break the XML",
    );
    let d = Daemon::start(&cfg.work(), &access, &state, &[]);
    wait_until(LIMIT, "the failed attempt", || {
        d.status()["reloads"]["failed"] == 1
    });
    let status = d.status();
    assert_eq!(status["status"], "degraded", "{status}");
    assert_eq!(
        status["applied"]["revision"].as_str(),
        Some(good_revision.as_str())
    );
    assert_eq!(read(&access), good);
}

#[test]
fn reload_needs_the_token_when_one_is_configured() {
    let cfg = Config::new();
    let token = cfg.path("token");
    std::fs::write(&token, "s3cret\n").expect("token file");
    let token_arg = token.to_str().expect("utf-8 path");
    let d = Daemon::start(
        &cfg.work(),
        &cfg.path("access"),
        &cfg.path("state"),
        &["--token-file", token_arg],
    );
    assert_eq!(d.http("POST", "/v1/reload", None).0, 401);
    assert_eq!(d.http("POST", "/v1/reload", Some("wrong")).0, 401);
    assert_eq!(d.http("POST", "/v1/reload", Some("s3cret")).0, 202);
    // On loopback, reading needs no token.
    assert_eq!(d.http("GET", "/v1/status", None).0, 200);
}

#[test]
fn listening_beyond_loopback_without_a_token_is_refused() {
    let cfg = Config::new();
    let out = util::rolesync()
        .args(["serve", "--listen", "0.0.0.0:0", "--repo"])
        .arg(cfg.work())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        util::stderr(&out).contains("token"),
        "{}",
        util::stderr(&out)
    );
}

#[test]
fn sighup_reloads_and_a_config_file_supplies_the_options() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let toml = cfg.path("rolesync.toml");
    std::fs::write(
        &toml,
        format!(
            "repo = {:?}\naccess_out = {:?}\nstate_dir = {:?}\npoll_interval = \"0s\"\ndebounce = \"5ms\"\nlisten = \"127.0.0.1:0\"\n",
            cfg.work(),
            access,
            cfg.path("state")
        ),
    )
    .expect("config file");
    let mut cmd = util::rolesync();
    cmd.arg("serve").arg("--config").arg(&toml);
    let d = Daemon::spawn(cmd);
    wait_until(LIMIT, "the first publication", || !read(&access).is_empty());
    let pid = d.child.id().to_string();
    Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill runs");
    // A forced reload of the same revision changes nothing.
    wait_until(LIMIT, "the SIGHUP reload", || {
        d.status()["reloads"]["unchanged"] == 1
    });
    assert_eq!(d.status()["triggers"]["signal"], 1);
    assert_eq!(d.status()["reloads"]["applied"], 1);
}

#[test]
fn an_unknown_option_in_the_config_file_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = dir.path().join("rolesync.toml");
    std::fs::write(&toml, "acces_out = \"/tmp/x\"\n").expect("config file");
    let out = util::rolesync()
        .arg("serve")
        .arg("--config")
        .arg(&toml)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        util::stderr(&out).contains("acces_out"),
        "{}",
        util::stderr(&out)
    );
}

#[test]
fn a_branch_and_a_sub_folder_are_followed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("repo");
    std::fs::create_dir_all(work.join("docs")).expect("mkdir");
    std::fs::write(work.join("docs/README"), "not configuration\n").expect("write");
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "docs"]);
    git(&work, &["checkout", "-q", "-b", "security"]);
    util::copy_tree(&util::root().join("sample-repo"), &work.join("config"));
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "configuration"]);
    git(&work, &["checkout", "-q", "main"]);
    let access = dir.path().join("access");
    let _d = Daemon::start(
        &work,
        &access,
        &dir.path().join("state"),
        &["--branch", "security", "--path", "config"],
    );
    wait_until(LIMIT, "the first publication", || {
        read(&access).contains("elibrary-project_admin = bob\n")
    });
    // A commit on the followed branch is seen although HEAD names another.
    git(&work, &["checkout", "-q", "security"]);
    let roles = work.join("config/Engineering/elibrary/.polarion/security/user-roles.xml");
    std::fs::write(
        &roles,
        read(&roles).replace("<user name=\"bob\">", "<user name=\"heidi\">"),
    )
    .expect("edit");
    git(
        &work,
        &["commit", "-q", "-am", "heidi administers elibrary"],
    );
    git(&work, &["checkout", "-q", "main"]);
    wait_until(LIMIT, "the commit on the branch", || {
        read(&access).contains("elibrary-project_admin = heidi\n")
    });
}

/// Seed 003, "Synchronizing Roles with Repository": the daemon's first
/// publication from a configuration whose access file is Polarion's own
/// (role groups, no rolesync markers) takes the role groups over, keeps the
/// rest, and reports each taken-over group as a warning in `/v1/status`.
#[test]
fn the_first_publication_takes_a_polarion_access_file_over() {
    let cfg = Config::new();
    let source = read(&util::data("polarion-access/access"));
    std::fs::write(cfg.work().join(".polarion/access"), &source).expect("write");
    git(
        &cfg.work(),
        &["commit", "-q", "-am", "the access file Polarion kept"],
    );
    let access = cfg.path("access");
    let d = Daemon::start(&cfg.work(), &access, &cfg.path("state"), &[]);
    // The file is in place before the snapshot (and its warnings) is
    // swapped in: wait for the status to name the revision.
    wait_until(LIMIT, "the first publication", || {
        d.status()["applied"]["revision"] == cfg.head().as_str()
    });
    let published = read(&access);
    assert!(
        published.contains(
            "\n# rolesync: BEGIN generated groups; edit the role files, not these lines\n"
        ),
        "{published}"
    );
    for line in [
        "admin = alice\n",
        "everyone = alice, bob, carol, erin, frank, grace, heidi\n",
        "elibrary-project_user = carol\n",
    ] {
        let name = line.split(" =").next().expect("a name");
        let defined = published
            .lines()
            .filter(|l| l.starts_with(&format!("{name} =")))
            .count();
        assert_eq!(defined, 1, "{name} is defined once:\n{published}");
        assert!(published.contains(line), "{line}\n{published}");
    }
    assert!(published.contains("\nlegacy-project_user = bob\n"));
    assert_eq!(
        util::without_groups(&published),
        util::without_groups(&source)
    );
    util::svnauthz_validate(&access).expect("svnauthz accepts the published file");
    let status = d.status();
    let warnings = status["applied"]["warnings"]
        .as_array()
        .expect("warnings")
        .clone();
    let taken: Vec<&str> = warnings
        .iter()
        .filter(|w| w["code"] == "role-group-taken-over")
        .filter_map(|w| w["message"].as_str())
        .collect();
    assert_eq!(taken.len(), 18, "{warnings:?}");
    assert!(
        taken
            .iter()
            .any(|m| m.starts_with("the role group `everyone`")
                && m.ends_with("added none; removed dave, olduser")),
        "{taken:?}"
    );
}
