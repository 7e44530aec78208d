//! What an operator observes of a real `rolesync serve`: the `/metrics`
//! page, linted by Prometheus' own `promtool check metrics` (Debian's
//! `prometheus` package) and carrying every family with its type after a
//! reload and some decisions; and the decision log, which records allowed
//! and refused `/v1/authorize` and `/v1/check` calls with what decided
//! them and stays within its bounds under a burst of 20,000 requests.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::daemon::{Daemon, wait_until};
use crate::util;

const LIMIT: Duration = Duration::from_secs(30);

/// A kept-alive HTTP/1.1 connection.
struct Conn {
    reader: BufReader<TcpStream>,
    addr: String,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect to the API");
        Conn {
            reader: BufReader::new(stream),
            addr: addr.to_owned(),
        }
    }

    /// One exchange: (status, body).
    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.reader
            .get_mut()
            .write_all(head.as_bytes())
            .expect("send");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a status line");
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a status line: {line:?}"));
        let mut length = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("a header");
            if line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().expect("a length");
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("the body");
        (status, String::from_utf8(body).expect("UTF-8"))
    }
}

/// A daemon on `policy/rest-example` (the user in `X-User`) with
/// `config` as its TOML file, once it has loaded.
fn serve(config: &str) -> (tempfile::TempDir, Daemon) {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = dir.path().join("rolesync.toml");
    std::fs::write(&toml, config).expect("write the config file");
    let d = Daemon::start(
        &util::data("policy/rest-example"),
        &dir.path().join("access"),
        &dir.path().join("state"),
        &[
            "--user-header",
            "X-User",
            "--config",
            toml.to_str().expect("UTF-8"),
        ],
    );
    // The status counts the reload after the snapshot is served.
    wait_until(LIMIT, "the first reload recorded", || {
        d.http("GET", "/healthz", None).0 == 200 && d.status()["reloads"]["applied"] == 1
    });
    (dir, d)
}

fn authorize(c: &mut Conn, method: &str, uri: &str, user: &str) -> u16 {
    let headers = [
        ("X-Original-Method", method),
        ("X-Original-URI", uri),
        ("X-User", user),
        ("Authorization", "Bearer never-logged"),
    ];
    c.send("GET", "/v1/authorize", &headers, "").0
}

/// The value of the series `series` (name and labels as written).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

/// Each family's type, from the `# TYPE` lines.
fn types(metrics: &str) -> BTreeMap<&str, &str> {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .collect()
}

/// `promtool check metrics` on `text`: its complaints (none: it passed).
fn promtool(text: &str) -> Result<(), String> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (Debian's prometheus package; scripts/test.sh installs it)");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(text.as_bytes())
        .expect("promtool reads the page");
    let out = child.wait_with_output().expect("promtool ends");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn promtool_accepts_the_metrics_page_with_every_family() {
    let (_dir, d) = serve("decision_log = \"-\"\n");
    let mut c = Conn::open(&d.addr);
    assert_eq!(
        authorize(&mut c, "GET", "/polarion/rest/v1/projects/A/workitems", "u"),
        204
    );
    assert_eq!(
        authorize(&mut c, "GET", "/polarion/rest/v1/projects/B/workitems", "u"),
        403
    );
    let (status, _) = c.send(
        "GET",
        "/v1/check?user=u&permission=x&project=nowhere",
        &[],
        "",
    );
    assert_eq!(status, 404);
    let (status, body) = c.send("GET", "/v1/access?user=u&path=/", &[], "");
    assert_eq!(status, 200, "{body}");
    let (_, metrics) = c.send("GET", "/metrics", &[], "");
    promtool(&metrics).unwrap_or_else(|e| panic!("promtool: {e}\n{metrics}"));
    let types = types(&metrics);
    for (family, kind) in [
        ("rolesync_build_info", "gauge"),
        ("rolesync_reloads_total", "counter"),
        ("rolesync_reload_duration_seconds", "histogram"),
        ("rolesync_last_reload_duration_seconds", "gauge"),
        ("rolesync_last_reload_success", "gauge"),
        ("rolesync_applied_timestamp_seconds", "gauge"),
        ("rolesync_stale_seconds", "gauge"),
        ("rolesync_diagnostics", "gauge"),
        ("rolesync_applied_revision_info", "gauge"),
        ("rolesync_attempted_revision_info", "gauge"),
        ("rolesync_decisions_total", "counter"),
        ("rolesync_decision_duration_seconds", "histogram"),
        ("rolesync_decision_log_lines_total", "counter"),
        ("rolesync_decision_log_dropped_total", "counter"),
    ] {
        assert_eq!(types.get(family), Some(&kind), "{family}\n{metrics}");
    }
    let revision = d.applied_revision().expect("a revision is applied");
    for series in [
        format!("rolesync_applied_revision_info{{revision=\"{revision}\"}}"),
        format!("rolesync_attempted_revision_info{{revision=\"{revision}\"}}"),
        "rolesync_last_reload_success".to_owned(),
        "rolesync_reload_duration_seconds_count".to_owned(),
        "rolesync_decisions_total{endpoint=\"authorize\",result=\"allow\"}".to_owned(),
        "rolesync_decisions_total{endpoint=\"authorize\",result=\"deny\"}".to_owned(),
        "rolesync_decisions_total{endpoint=\"check\",result=\"error\"}".to_owned(),
        "rolesync_decision_duration_seconds_count{endpoint=\"authorize\"}".to_owned(),
        "rolesync_decision_duration_seconds_count{endpoint=\"access\"}".to_owned(),
    ] {
        let v = sample(&metrics, &series);
        assert!(v.is_some_and(|v| v >= 1.0), "{series} = {v:?}\n{metrics}");
    }
    assert_eq!(
        sample(
            &metrics,
            "rolesync_decision_duration_seconds_count{endpoint=\"authorize\"}"
        ),
        Some(2.0)
    );
    assert!(
        metrics.contains("rolesync_build_info{version=\""),
        "{metrics}"
    );
}

/// Decision log lines from the live file and the rotated ones.
fn log_lines(dir: &std::path::Path) -> Vec<Value> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("the log folder")
        .map(|e| e.expect("an entry").path())
        .collect();
    names.sort();
    names
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .expect("a log file")
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn find<'a>(lines: &'a [Value], key: &str, value: &str, decision: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l[key] == value && l["decision"] == decision)
        .unwrap_or_else(|| panic!("no {decision} line with {key} = {value}: {lines:#?}"))
}

/// An allowed and a refused call of each endpoint, each line naming the
/// revision, the layer and rule that decided, and its latency.
fn records_allowed_and_refused(d: &Daemon, logs: &std::path::Path) {
    let mut c = Conn::open(&d.addr);
    assert_eq!(
        authorize(&mut c, "GET", "/polarion/rest/v1/projects/A/workitems", "u"),
        204
    );
    assert_eq!(
        authorize(
            &mut c,
            "POST",
            "/polarion/rest/v1/projects/A/workitems",
            "v"
        ),
        403
    );
    let ok = "user=u&rest=GET%20%2Fpolarion%2Frest%2Fv1%2Fprojects%2FA%2Fworkitems";
    let (status, body) = c.send("GET", &format!("/v1/check?{ok}"), &[], "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"decision\":\"allow\""), "{body}");
    let bulk = r#"{"user":"v","project_permissions":[{"permissions":["com.polarion.rest.endpoint.post"],"projects":["A"]}]}"#;
    let (status, body) = c.send("POST", "/v1/check", &[], bulk);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"decision\":\"deny\""), "{body}");
    wait_until(LIMIT, "four lines", || log_lines(logs).len() >= 4);
    let lines = log_lines(logs);
    let revision = d.applied_revision().expect("applied");
    let allowed = find(
        &lines,
        "path",
        "/polarion/rest/v1/projects/A/workitems",
        "allow",
    );
    assert_eq!(allowed["endpoint"], "authorize", "{allowed}");
    assert_eq!(allowed["user"], "u");
    assert_eq!(allowed["method"], "GET");
    assert_eq!(allowed["revision"], revision.as_str());
    assert_eq!(allowed["layer"], "endpoint");
    assert_eq!(allowed["reason"], "granted");
    assert!(
        allowed["at"]
            .as_str()
            .is_some_and(|a| a.contains("permissions.xml:")),
        "{allowed}"
    );
    assert!(allowed["latency_us"].is_u64(), "{allowed}");
    let refused = find(&lines, "user", "v", "deny");
    assert!(
        refused["time"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{refused}"
    );
    let checked = find(&lines, "endpoint", "check", "allow");
    assert_eq!(
        checked["rest"], "GET /polarion/rest/v1/projects/A/workitems",
        "{checked}"
    );
    assert_eq!(checked["permission"], "com.polarion.rest.endpoint.get");
    let bulk = find(&lines, "endpoint", "check_bulk", "deny");
    assert_eq!(bulk["project"], "A", "{bulk}");
    assert_eq!(bulk["reason"], "not-granted", "{bulk}");
    let text = lines.iter().map(Value::to_string).collect::<String>();
    assert!(
        !text.contains("never-logged"),
        "a header reached the log: {text}"
    );
}

#[test]
fn the_decision_log_records_decisions_and_stays_within_its_bounds() {
    let logs = tempfile::tempdir().expect("temp dir");
    let file = logs.path().join("decisions.jsonl");
    let (_dir, d) = serve(&format!(
        "decision_log = {:?}\ndecision_log_max_bytes = 65536\ndecision_log_keep = 1\n\
         decision_log_rate = 200\ndecision_log_burst = 400\n",
        file.to_str().expect("UTF-8")
    ));
    records_allowed_and_refused(&d, logs.path());
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..4 {
            let addr = d.addr.clone();
            s.spawn(move || {
                let mut c = Conn::open(&addr);
                for i in 0..5000 {
                    let user = format!("burst{t}-{i}");
                    let code = authorize(
                        &mut c,
                        "GET",
                        "/polarion/rest/v1/projects/A/workitems",
                        &user,
                    );
                    assert_eq!(code, 403, "{user}");
                }
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut c = Conn::open(&d.addr);
    assert_eq!(
        authorize(&mut c, "GET", "/polarion/rest/v1/projects/A/workitems", "u"),
        204,
        "still answering"
    );
    let (_, metrics) = c.send("GET", "/metrics", &[], "");
    let lines = sample(&metrics, "rolesync_decision_log_lines_total").expect("lines counted");
    let budget = 400.0 + 200.0 * (elapsed + 1.0) + 5.0;
    assert!(
        lines <= budget,
        "{lines} lines in {elapsed:.1}s, budget {budget}"
    );
    let dropped = sample(
        &metrics,
        "rolesync_decision_log_dropped_total{reason=\"rate_limit\"}",
    )
    .expect("drops counted");
    assert!(dropped > 0.0, "{metrics}");
    let denied = sample(
        &metrics,
        "rolesync_decisions_total{endpoint=\"authorize\",result=\"deny\"}",
    );
    assert!(denied.is_some_and(|n| n >= 20_000.0), "{denied:?}");
    for entry in std::fs::read_dir(logs.path()).expect("the log folder") {
        let entry = entry.expect("an entry");
        let len = entry.metadata().expect("a file").len();
        assert!(len <= 65536, "{:?}: {len} bytes", entry.file_name());
    }
    let names = std::fs::read_dir(logs.path())
        .expect("the log folder")
        .count();
    assert_eq!(names, 2, "the live file and one rotated (keep = 1)");
}
