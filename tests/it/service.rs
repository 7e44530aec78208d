//! `rolesync serve` as systemd runs it: the readiness datagrams read from
//! a `NOTIFY_SOCKET` the test creates (READY, RELOADING with
//! MONOTONIC_USEC, WATCHDOG, STOPPING, STATUS), and SIGHUP re-reading the
//! TOML file (a live setting applied, a restart-only one reported and
//! kept, a broken file refused) and the token file.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::daemon::{Config, Daemon, wait_until};
use crate::util;

const LIMIT: Duration = Duration::from_secs(20);

/// A daemon whose stderr lines are kept for the test to read.
struct Logged {
    daemon: Daemon,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Logged {
    fn spawn(mut cmd: Command) -> Logged {
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        let daemon = Daemon::spawn(cmd);
        Logged {
            lines: daemon.log.clone(),
            daemon,
        }
    }

    /// The stderr lines so far that contain every one of `words`.
    fn logged(&self, words: &[&str]) -> Vec<String> {
        let lines = self.lines.lock().expect("lines");
        let hit = |l: &&String| words.iter().all(|w| l.contains(w));
        lines.iter().filter(hit).cloned().collect()
    }

    fn wait_logged(&self, words: &[&str]) -> String {
        let start = Instant::now();
        loop {
            if let Some(found) = self.logged(words).pop() {
                return found;
            }
            let lines = self.lines.lock().expect("lines").join("\n");
            assert!(
                start.elapsed() < LIMIT,
                "no line with {words:?} in:\n{lines}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn signal(&self, name: &str) {
        let pid = self.daemon.child.id().to_string();
        let status = Command::new("kill").args([name, &pid]).status();
        assert!(status.expect("kill runs").success());
    }
}

/// A config file serving `cfg`'s repository, with `extra` lines.
fn write_config(cfg: &Config, extra: &str) -> std::path::PathBuf {
    let toml = cfg.path("rolesync.toml");
    let text = format!(
        "repo = {:?}\naccess_out = {:?}\nstate_dir = {:?}\nlisten = \"127.0.0.1:0\"\n{extra}",
        cfg.work(),
        cfg.path("access"),
        cfg.path("state")
    );
    std::fs::write(&toml, text).expect("config file");
    toml
}

/// The next datagram on `socket` (within `LIMIT`) that is not a watchdog
/// ping; the pings seen are counted in `pings`.
fn next_message(socket: &UnixDatagram, pings: &mut usize) -> String {
    let start = Instant::now();
    let mut buf = vec![0u8; 4096];
    loop {
        assert!(start.elapsed() < LIMIT, "no notification in {LIMIT:?}");
        let n = socket.recv(&mut buf).expect("a notification");
        let text = String::from_utf8(buf[..n].to_vec()).expect("text");
        if text == "WATCHDOG=1" {
            *pings += 1;
        } else {
            return text;
        }
    }
}

#[test]
fn systemd_hears_ready_reloading_watchdog_and_stopping() {
    let cfg = Config::new();
    let toml = write_config(&cfg, "poll_interval = \"0s\"\n");
    let sock_path = cfg.path("notify.sock");
    let socket = UnixDatagram::bind(&sock_path).expect("bind the notify socket");
    socket.set_read_timeout(Some(LIMIT)).expect("timeout");
    let mut cmd = util::rolesync();
    cmd.arg("serve").arg("--config").arg(&toml);
    cmd.env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "200000");
    let mut d = Logged::spawn(cmd);
    let mut pings = 0;
    let ready = next_message(&socket, &mut pings);
    assert!(ready.starts_with("READY=1\nSTATUS=serving "), "{ready}");
    // Ready means published: the access file is in place.
    let access = std::fs::read_to_string(cfg.path("access")).expect("published");
    assert!(access.contains("[groups]"), "{access}");
    let head = cfg.head();
    assert_eq!(ready, format!("READY=1\nSTATUS=serving {head}"));

    d.signal("-HUP");
    let reloading = next_message(&socket, &mut pings);
    let usec = reloading
        .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
        .unwrap_or_else(|| panic!("RELOADING with the time: {reloading}"));
    assert!(usec.parse::<u64>().expect("microseconds") > 0);
    assert_eq!(
        next_message(&socket, &mut pings),
        format!("READY=1\nSTATUS=serving {head}")
    );

    // A refused commit: the status says the daemon is stale.
    let bad = cfg.commit_edit(
        ".polarion/security/user-roles.xml",
        "<user name=\"carol\">",
        "<user name=\"carol smith\">",
        "a broken login",
    );
    let stale = next_message(&socket, &mut pings);
    assert_eq!(
        stale,
        format!("STATUS=serving {head}, stale: revision {bad} is refused")
    );
    // Pings every 100 ms (half WATCHDOG_USEC) while it runs.
    let start = Instant::now();
    let mut buf = [0u8; 64];
    while pings < 3 {
        let n = socket.recv(&mut buf).expect("a watchdog ping");
        assert_eq!(&buf[..n], b"WATCHDOG=1");
        pings += 1;
        assert!(start.elapsed() < LIMIT, "no watchdog pings");
    }
    d.signal("-TERM");
    assert_eq!(next_message(&socket, &mut pings), "STOPPING=1");
    assert!(d.daemon.child.wait().expect("exits").success());
}

#[test]
fn without_notify_socket_nothing_is_sent_and_the_daemon_serves() {
    let cfg = Config::new();
    let d = Daemon::start(&cfg.work(), &cfg.path("access"), &cfg.path("state"), &[]);
    wait_until(LIMIT, "the first publication", || {
        d.applied_revision().is_some()
    });
}

/// `/v1/status`'s count of poll triggers.
fn polls(d: &Daemon) -> u64 {
    d.status()["triggers"]["poll"].as_u64().unwrap_or(0)
}

#[test]
fn sighup_applies_a_live_setting_reports_a_restart_only_one_and_survives_bad_toml() {
    let cfg = Config::new();
    let toml = write_config(&cfg, "poll_interval = \"0s\"\n");
    let mut cmd = util::rolesync();
    cmd.args(["serve", "-v", "--config"]).arg(&toml);
    let d = Logged::spawn(cmd);
    wait_until(LIMIT, "the first publication", || {
        d.daemon.applied_revision().is_some()
    });
    assert_eq!(polls(&d.daemon), 0);

    util::edit(&toml, "poll_interval = \"0s\"", "poll_interval = \"20ms\"");
    util::edit(
        &toml,
        "listen = \"127.0.0.1:0\"",
        "listen = \"127.0.0.1:1\"",
    );
    d.signal("-HUP");
    wait_until(LIMIT, "polls at the new interval", || polls(&d.daemon) >= 3);
    let changed = d.wait_logged(&["setting changed", "poll_interval", "20ms"]);
    assert!(changed.contains("0s"), "{changed}");
    let restart = d.wait_logged(&["needs a restart", "listen"]);
    assert!(restart.contains("127.0.0.1:1"), "{restart}");
    // The address in force is kept: the API still answers where it was.
    assert_eq!(d.daemon.http("GET", "/healthz", None).0, 200);

    std::fs::write(&toml, "poll_interval = [\n").expect("break the file");
    d.signal("-HUP");
    let error = d.wait_logged(&["configuration not re-read"]);
    assert!(
        error.contains("rolesync.toml") && error.contains("line 1"),
        "{error}"
    );
    let before = polls(&d.daemon);
    wait_until(LIMIT, "the 20ms poll going on", || {
        polls(&d.daemon) > before + 2
    });
    assert_eq!(d.daemon.status()["triggers"]["signal"], 2);
}

fn reload_with(d: &Daemon, token: &str) -> u16 {
    d.http("POST", "/v1/reload", Some(token)).0
}

#[test]
fn sighup_takes_the_new_token_of_the_token_file() {
    let cfg = Config::new();
    let token = cfg.path("token");
    write_secret(&token, "first-s3cret\n");
    let mut cmd = util::rolesync();
    cmd.args([
        "serve",
        "-v",
        "--poll-interval",
        "0s",
        "--listen",
        "127.0.0.1:0",
    ])
    .arg("--repo")
    .arg(cfg.work())
    .arg("--token-file")
    .arg(&token);
    let d = Logged::spawn(cmd);
    assert_eq!(reload_with(&d.daemon, "first-s3cret"), 202);

    write_secret(&token, "second-s3cret\n");
    d.signal("-HUP");
    wait_until(LIMIT, "the new token accepted", || {
        reload_with(&d.daemon, "second-s3cret") == 202
    });
    assert_eq!(reload_with(&d.daemon, "first-s3cret"), 401);
    let line = d.wait_logged(&["setting changed", "token"]);
    assert!(!line.contains("s3cret"), "{line}");
    let lines = d.lines.lock().expect("lines");
    assert!(lines.iter().all(|l| !l.contains("s3cret")), "{lines:?}");
}

/// Write a token file only its owner can read.
fn write_secret(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text).expect("token file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

#[test]
fn beyond_loopback_sighup_never_drops_the_token() {
    let cfg = Config::new();
    let token = cfg.path("token");
    write_secret(&token, "kept-s3cret\n");
    let line = format!("token_file = {token:?}\npoll_interval = \"0s\"\n");
    let toml = write_config(&cfg, &line);
    util::edit(&toml, "listen = \"127.0.0.1:0\"", "listen = \"0.0.0.0:0\"");
    let mut cmd = util::rolesync();
    cmd.args(["serve", "-v", "--config"]).arg(&toml);
    let d = Logged::spawn(cmd);
    assert_eq!(reload_with(&d.daemon, "kept-s3cret"), 202);

    util::edit(&toml, &line, "poll_interval = \"0s\"\n");
    d.signal("-HUP");
    d.wait_logged(&["configuration not re-read", "needs a token"]);
    assert_eq!(reload_with(&d.daemon, "kept-s3cret"), 202);
    assert_eq!(d.daemon.http("GET", "/v1/status", None).0, 401);
}
