//! The HTTP bounds of a real `rolesync serve`: idle and slow connections
//! are cut off by the header-read timeout, a flood of connections neither
//! exhausts the daemon's file descriptors (reloads go on) nor keeps
//! `/healthz` away for good, oversized headers, bodies and bulk answers
//! are refused with the bound named, and heavy requests run off the async
//! workers so `/healthz` and `/v1/authorize` stay prompt.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::daemon::{Config, Daemon, wait_until};

const LIMIT: Duration = Duration::from_secs(30);

/// Short timeouts so that the tests need not wait for the defaults.
const FAST: &str = "[http]\nheader_read_timeout = \"1s\"\nidle_timeout = \"2s\"\n";

/// `rolesync serve` on `cfg` with at most `nofile` file descriptors (soft
/// and hard) and `http` as the config file's text, once it has loaded.
fn start(cfg: &Config, nofile: u32, http: &str) -> Daemon {
    let toml = cfg.path("rolesync.toml");
    std::fs::write(&toml, http).expect("write the config file");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -n \"$0\" && exec \"$@\""])
        .arg(nofile.to_string())
        .arg(env!("CARGO_BIN_EXE_rolesync"))
        .arg("serve")
        .arg("--config")
        .arg(&toml)
        .arg("--repo")
        .arg(cfg.work())
        .arg("--access-out")
        .arg(cfg.path("access"))
        .arg("--state-dir")
        .arg(cfg.path("state"))
        .args(["--listen", "127.0.0.1:0", "--poll-interval", "0s"])
        .env_remove("ROLESYNC_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let d = Daemon::spawn(cmd);
    wait_until(LIMIT, "the first load", || {
        exchange(&d.addr, &get("/healthz"), Duration::from_secs(2)).is_some_and(|r| r.0 == 200)
    });
    d
}

fn sock(addr: &str) -> SocketAddr {
    addr.parse().expect("an address")
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: rolesync\r\nConnection: close\r\n\r\n")
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: rolesync\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Status, lower-case headers, body.
type Answer = (u16, Vec<(String, String)>, String);

/// One request on a fresh connection: (status, lower-case headers, body),
/// or `None` when the daemon does not answer within `timeout`.
fn exchange(addr: &str, raw: &str, timeout: Duration) -> Option<Answer> {
    let mut stream = TcpStream::connect_timeout(&sock(addr), timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    stream.write_all(raw.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some((status, headers, body.to_owned()))
}

/// Whether the daemon closes `stream` within `limit` (EOF or reset),
/// writing `drip` one byte at a time meanwhile, if given.
fn closed_within(stream: &mut TcpStream, limit: Duration, drip: Option<&[u8]>) -> bool {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    let mut sent = 0;
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        if let Some(drip) = drip {
            let byte = [drip[sent % drip.len()]];
            if stream.write_all(&byte).is_err() {
                return true;
            }
            sent += 1;
        }
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn a_flood_of_idle_connections_neither_blocks_reloads_nor_health_for_good() {
    let cfg = Config::new();
    let access = cfg.path("access");
    let d = start(&cfg, 256, FAST);
    wait_until(LIMIT, "the first publication", || {
        read(&access).contains("elibrary-project_user = carol\n")
    });
    // Four times the daemon's descriptors, all idle (each of 11 clients
    // stops at the first connection the daemon no longer takes).
    let addr = sock(&d.addr);
    let held: Vec<TcpStream> = (0..11)
        .map(|_| {
            std::thread::spawn(move || {
                (0..100)
                    .map_while(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(3)).ok())
                    .collect::<Vec<_>>()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|t| t.join().expect("a client"))
        .collect();
    cfg.commit_edit(
        "Engineering/elibrary/.polarion/security/user-roles.xml",
        "<user name=\"dave\">",
        "<user name=\"grace\">",
        "grace joins elibrary",
    );
    // Reloads keep descriptors of their own: the commit is published.
    wait_until(LIMIT, "the new group despite the flood", || {
        read(&access).contains("elibrary-project_user = carol, grace\n")
    });
    // The idle connections are cut off and /healthz answers again.
    wait_until(LIMIT, "/healthz despite the flood", || {
        exchange(&d.addr, &get("/healthz"), Duration::from_secs(1)).is_some_and(|r| r.0 == 200)
    });
    assert_eq!(
        held.len(),
        1100,
        "every connection is taken, or closed at once"
    );
    for mut s in held {
        assert!(
            closed_within(&mut s, LIMIT, None),
            "an idle connection is closed"
        );
    }
}

#[test]
fn a_slow_client_sending_headers_byte_by_byte_is_cut_off() {
    let cfg = Config::new();
    let d = start(&cfg, 1024, FAST);
    let mut s = TcpStream::connect(&d.addr).expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: rolesync\r\n")
        .expect("send");
    assert!(
        closed_within(&mut s, LIMIT, Some(b"X-Slow: aaaaaaaaaaaaaaaaaaaa\r\n")),
        "the slow client is still connected"
    );
}

#[test]
fn an_idle_keep_alive_connection_is_closed_by_the_header_read_timeout() {
    let cfg = Config::new();
    // hyper's header-read timer also runs while a kept-alive connection
    // waits for its next request: the idle timer is out of the way here.
    let d = start(
        &cfg,
        1024,
        "[http]\nheader_read_timeout = \"1s\"\nidle_timeout = \"1h\"\n",
    );
    let mut s = TcpStream::connect(&d.addr).expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: rolesync\r\n\r\n")
        .expect("send");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    s.set_read_timeout(Some(LIMIT)).expect("read timeout");
    while !String::from_utf8_lossy(&seen).contains("\"status\"") {
        let n = s.read(&mut buf).expect("the answer");
        assert!(n > 0, "closed before the answer");
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(
        closed_within(&mut s, LIMIT, None),
        "the idle keep-alive connection is still open"
    );
}

#[test]
fn a_silent_connection_is_closed_by_the_idle_timer() {
    let cfg = Config::new();
    let d = start(
        &cfg,
        1024,
        "[http]\nheader_read_timeout = \"1h\"\nidle_timeout = \"1s\"\n",
    );
    let mut s = TcpStream::connect(&d.addr).expect("connect");
    assert!(
        closed_within(&mut s, LIMIT, None),
        "the silent connection is still open"
    );
}

#[test]
fn a_stalled_upload_is_answered_408() {
    let cfg = Config::new();
    let d = start(
        &cfg,
        1024,
        "[http]\nrequest_timeout = \"1s\"\nidle_timeout = \"1h\"\n",
    );
    let raw = "POST /v1/check HTTP/1.1\r\nHost: rolesync\r\nConnection: close\r\n\
               Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"user\":";
    let (code, _, body) = exchange(&d.addr, raw, LIMIT).expect("an answer");
    assert_eq!(code, 408, "{body}");
    assert!(body.contains("request_timeout"), "{body}");
}

#[test]
fn connections_beyond_the_limit_are_turned_away_at_once() {
    let cfg = Config::new();
    let d = start(
        &cfg,
        1024,
        "[http]\nmax_connections = 2\nheader_read_timeout = \"1h\"\n",
    );
    let a = TcpStream::connect(&d.addr).expect("connect");
    let b = TcpStream::connect(&d.addr).expect("connect");
    // Both slots are taken once the daemon has accepted them.
    wait_until(LIMIT, "a refusal", || {
        exchange(&d.addr, &get("/healthz"), Duration::from_secs(2)).is_some_and(
            |(code, h, body)| {
                code == 503
                    && h.iter().any(|(k, v)| k == "retry-after" && v == "1")
                    && body.contains("max_connections = 2")
            },
        )
    });
    drop((a, b));
    wait_until(LIMIT, "/healthz once the slots are free", || {
        exchange(&d.addr, &get("/healthz"), Duration::from_secs(2)).is_some_and(|r| r.0 == 200)
    });
}

#[test]
fn http_limits_of_zero_are_refused_at_start() {
    let cfg = Config::new();
    let toml = cfg.path("rolesync.toml");
    for text in [
        "[http]\nmax_connections = 0\n",
        "[http]\nheader_read_timeout = \"0s\"\n",
        "[http]\nno_such_limit = 1\n",
    ] {
        std::fs::write(&toml, text).expect("write");
        let out = crate::util::run([
            "serve".as_ref(),
            "--config".as_ref(),
            toml.as_os_str(),
            "--repo".as_ref(),
            cfg.work().as_os_str(),
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
        ]);
        assert!(!out.status.success(), "{text}");
        let err = crate::util::stderr(&out);
        assert!(
            err.contains("http") || err.contains("no_such_limit"),
            "{text}: {err}"
        );
    }
}

#[test]
fn oversized_headers_are_refused_with_431() {
    let cfg = Config::new();
    let d = start(&cfg, 1024, FAST);
    let raw = format!(
        "GET /healthz HTTP/1.1\r\nHost: rolesync\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let (code, _, _) = exchange(&d.addr, &raw, LIMIT).expect("an answer");
    assert_eq!(code, 431);
}

fn perms(n: usize, width: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("com.polarion.persistence.object.{i:0>width$}.read"))
        .collect()
}

fn refusal(d: &Daemon, body: &Value) -> (u16, Value) {
    let (code, _, text) =
        exchange(&d.addr, &post("/v1/check", &body.to_string()), LIMIT).expect("an answer");
    assert!(
        text.len() < 4096,
        "{code}: a refusal is short: {}",
        text.len()
    );
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (code, v)
}

#[test]
fn a_bulk_check_asking_too_many_decisions_is_refused_with_413() {
    let cfg = Config::new();
    let d = start(&cfg, 1024, FAST);
    // 18 KB asking 300 × 300 decisions, some 10 MB of answer.
    let projects: Vec<String> = (0..300).map(|i| format!("p{i}")).collect();
    let body = json!({
        "user": "carol",
        "project_permissions": [{ "permissions": perms(300, 0), "projects": projects }],
    });
    assert!(body.to_string().len() < 20_000);
    let (code, v) = refusal(&d, &body);
    assert_eq!(code, 413, "{v}");
    let e = v["error"].as_str().expect("an error");
    assert!(
        e.contains("max_bulk_decisions") && e.contains("10000"),
        "{e}"
    );
}

#[test]
fn a_bulk_check_whose_answer_is_too_large_is_refused_with_413() {
    let cfg = Config::new();
    let d = start(&cfg, 1024, FAST);
    // 5,000 decisions on 400-character permission names: over 2 MiB.
    let projects: Vec<String> = (0..100).map(|i| format!("p{i}")).collect();
    let body = json!({
        "user": "carol",
        "project_permissions": [{ "permissions": perms(50, 400), "projects": projects }],
    });
    let (code, v) = refusal(&d, &body);
    assert_eq!(code, 413, "{v}");
    let e = v["error"].as_str().expect("an error");
    assert!(e.contains("max_answer_bytes"), "{e}");
}

#[test]
fn a_request_body_above_the_bound_is_refused_with_413() {
    let cfg = Config::new();
    let d = start(&cfg, 1024, FAST);
    let body = json!({ "user": "carol", "global_permissions": perms(1000, 1500) });
    let (code, v) = refusal(&d, &body);
    assert_eq!(code, 413, "{v}");
    let e = v["error"].as_str().expect("an error");
    assert!(e.contains("max_body_bytes"), "{e}");
}

#[test]
fn heavy_bulk_checks_leave_health_and_authorize_prompt() {
    let cfg = Config::new();
    let d = start(&cfg, 1024, FAST);
    let projects: Vec<String> = (0..100)
        .map(|i| ["elibrary", "drivepilot", "nope"][i % 3].to_owned())
        .collect();
    let body = json!({
        "user": "carol",
        "project_permissions": [{ "permissions": perms(95, 0), "projects": projects }],
    })
    .to_string();
    let raw = post("/v1/check", &body);
    let heavy: Vec<_> = (0..20)
        .map(|_| {
            let (addr, raw) = (d.addr.clone(), raw.clone());
            std::thread::spawn(move || exchange(&addr, &raw, Duration::from_secs(120)))
        })
        .collect();
    let authorize = "GET /v1/authorize HTTP/1.1\r\nHost: rolesync\r\nConnection: close\r\n\
                     X-Original-Method: GET\r\nX-Original-URI: /polarion/rest/v1/projects/elibrary\r\n\
                     X-Remote-User: carol\r\n\r\n";
    let mut rounds = 0;
    while !heavy.iter().all(|h| h.is_finished()) || rounds < 5 {
        for raw in [get("/healthz"), authorize.to_owned()] {
            let (code, _, body) = exchange(&d.addr, &raw, Duration::from_secs(2))
                .unwrap_or_else(|| panic!("no answer within 2 s under load: {raw}"));
            assert!([200, 204, 403].contains(&code), "{code}: {body}");
        }
        rounds += 1;
    }
    let mut answered = 0;
    for h in heavy {
        let (code, headers, text) = h
            .join()
            .expect("the thread")
            .expect("a heavy request is answered");
        match code {
            200 => answered += 1,
            503 => assert!(
                headers.iter().any(|(k, _)| k == "retry-after"),
                "a 503 says when to retry: {headers:?}"
            ),
            _ => panic!("{code}: {text}"),
        }
    }
    assert!(answered > 0, "some heavy request is answered");
}

#[test]
fn shutdown_is_prompt_with_idle_and_kept_alive_connections_open() {
    let cfg = Config::new();
    // The timers are out of the way: only graceful shutdown closes these.
    let mut d = start(
        &cfg,
        1024,
        "[http]\nheader_read_timeout = \"1h\"\nidle_timeout = \"1h\"\n",
    );
    let _silent = TcpStream::connect(&d.addr).expect("connect");
    let mut kept = TcpStream::connect(&d.addr).expect("connect");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: rolesync\r\n\r\n")
        .expect("send");
    kept.set_read_timeout(Some(LIMIT)).expect("read timeout");
    let mut buf = [0u8; 4096];
    assert!(kept.read(&mut buf).expect("the answer") > 0);
    let pid = d.child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    let mut status = None;
    wait_until(LIMIT, "the daemon to exit", || {
        status = d.child.try_wait().expect("wait");
        status.is_some()
    });
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}
