//! Benchmark: permission decisions on a large synthetic configuration.
//!
//! Run: `cargo build --release && cargo run --release --example policy_bench [-- http|heavy]`
//!
//! The configuration has 10,000 users (1% disabled), 1,000 projects (one in
//! ten with its own permissions.xml and custom sets), 50 user groups, about
//! 40,000 project role assignments, global custom sets and rules. It goes
//! through the real `snapshot::build`.
//!
//! - without arguments: decisions in process, on one thread, over a
//!   pre-generated mix of requests (random user, project or global, one of
//!   20 permissions, sometimes object attributes), then the same with
//!   `explain`;
//! - `http`: writes the configuration to a temporary folder, starts the
//!   release binary (`target/release/rolesync serve`) on it, and runs
//!   Debian's `wrk` against `GET /v1/check` with a Lua script that rotates
//!   through 1,000 different requests; prints wrk's latency distribution;
//! - `heavy`: the same daemon; `/healthz` and `/v1/authorize` latency
//!   (p50, p99, max over sequential requests) idle, then while 20 clients
//!   send bulk `POST /v1/check` calls of 10,000 decisions each in a loop;
//!   prints how many bulk calls were answered (200) or turned away (503).
//!   `ROLESYNC_BIN=path` runs another build (e.g. an older one) to compare;
//!   `PROBES=n` sets the requests per latency figure (default 500).

use std::hint::black_box;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rolesync::policy::{Object, Request};
#[path = "common/bench.rs"]
mod bench;
#[path = "common/synthetic.rs"]
mod synthetic;
use bench::binary;

use synthetic::{PROJECTS, Rng, USERS, build, config, project, user};

const PERMISSIONS: &[&str] = &[
    "com.polarion.persistence.object.WorkItem.read",
    "com.polarion.persistence.object.WorkItem.modify",
    "com.polarion.persistence.object.WorkItem.create",
    "com.polarion.persistence.object.WorkItem.delete",
    "com.polarion.persistence.object.WorkItem.field.severity.modify",
    "com.polarion.persistence.object.WorkItem.field.title.modify",
    "com.polarion.persistence.object.WorkItem.field.salary.read",
    "com.polarion.persistence.object.Module.read",
    "com.polarion.persistence.object.Module.modifyContent",
    "com.polarion.persistence.object.Module.manage",
    "com.polarion.persistence.object.TestRun.comment",
    "com.polarion.persistence.object.TestRun.modify",
    "com.polarion.persistence.object.Plan.create",
    "com.polarion.persistence.object.Baseline.create",
    "com.polarion.security.login",
    "com.polarion.rest.endpoint.get",
    "com.polarion.rest.endpoint.patch",
    "com.polarion.security.user.manage",
    "com.polarion.administration.modify",
    "com.example.plugin.export",
];

/// A request as owned parts.
struct Owned {
    user: String,
    permission: &'static str,
    project: Option<String>,
    object: Object,
}

fn requests(n: usize, seed: u64) -> Vec<Owned> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let user = user(rng.below(USERS));
            let permission = PERMISSIONS[rng.below(PERMISSIONS.len())];
            let project = (rng.below(10) != 0).then(|| project(rng.below(PROJECTS)));
            let mut object = Object::new();
            match rng.below(4) {
                0 => object.push("status", "approved"),
                1 => {
                    object.push("status", "draft");
                    object.push("author", &user);
                }
                2 => object.push("status", "reviewed"),
                _ => {}
            }
            Owned {
                user,
                permission,
                project,
                object,
            }
        })
        .collect()
}

fn as_req(r: &Owned) -> Request<'_> {
    Request {
        user: &r.user,
        permission: r.permission,
        project: r.project.as_deref(),
        object: &r.object,
    }
}

fn in_process() {
    let snap = build();
    let ix = &snap.policy;
    let reqs = requests(1 << 20, 42);
    // Warm up, count the mix.
    let allowed = reqs
        .iter()
        .filter(|r| {
            ix.check(&as_req(r))
                .is_ok_and(|v| v == rolesync::policy::Verdict::Allow)
        })
        .count();
    let rounds = 5;
    let start = Instant::now();
    for _ in 0..rounds {
        for r in &reqs {
            black_box(ix.check(black_box(&as_req(r))).ok());
        }
    }
    let took = start.elapsed();
    let n = (reqs.len() * rounds) as f64;
    println!(
        "check: {:.0} decisions/s on one thread ({:.0} ns each; {} requests x {rounds} rounds, {:.0}% allowed)",
        n / took.as_secs_f64(),
        took.as_nanos() as f64 / n,
        reqs.len(),
        allowed as f64 * 100.0 / reqs.len() as f64
    );
    scan_reference(&snap, &reqs[..10_000], took.as_secs_f64() / n);
    let sample = &reqs[..100_000];
    let start = Instant::now();
    for r in sample {
        black_box(ix.explain(black_box(&as_req(r))).ok());
    }
    let took = start.elapsed();
    println!(
        "explain: {:.0} explanations/s on one thread ({:.0} ns each)",
        sample.len() as f64 / took.as_secs_f64(),
        took.as_nanos() as f64 / sample.len() as f64
    );
}

/// The in-run reference: what a decision without the index has to do at
/// the least — find the user's roles by scanning the model's assignments
/// (direct ones only, no groups, no permission rules) — timed on the same
/// requests and printed as a ratio to one indexed decision.
fn scan_reference(snap: &rolesync::snapshot::Snapshot, reqs: &[Owned], indexed: f64) {
    use rolesync::model::Holder;
    let assignments = &snap.model.assignments;
    let start = Instant::now();
    for r in reqs {
        let held = assignments
            .iter()
            .filter(|a| matches!(&a.holder, Holder::User(l) if l.as_str() == r.user))
            .count();
        black_box(held);
    }
    let scan = start.elapsed().as_secs_f64() / reqs.len() as f64;
    println!(
        "reference: scanning the {} assignments for one user's roles takes {:.0} ns; an indexed decision is {:.0}x faster",
        assignments.len(),
        scan * 1e9,
        scan / indexed
    );
}

fn enc(s: &str) -> String {
    s.replace('%', "%25")
        .replace(' ', "%20")
        .replace('=', "%3D")
        .replace('$', "%24")
}

/// A release daemon on the synthetic configuration, once it has loaded:
/// (child, address, folder).
fn start_daemon() -> (std::process::Child, String, PathBuf) {
    let dir = tempfile_dir();
    let repo = dir.join("config");
    for (path, bytes) in config() {
        let target = repo.join(&path);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&target, bytes).expect("write");
    }
    let mut child = Command::new(binary())
        .arg("serve")
        .arg("--repo")
        .arg(&repo)
        .args(["--listen", "127.0.0.1:0", "--poll-interval", "0s"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rolesync serve starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = loop {
        let line = lines.next().expect("the address").expect("text");
        if let Some(rest) = line.strip_prefix("rolesync: listening on http://") {
            break rest.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let start = Instant::now();
    while !Command::new("curl")
        .args(["-sf", "-o", "/dev/null", &format!("http://{addr}/healthz")])
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(start.elapsed() < Duration::from_secs(60), "no load");
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "daemon loaded the configuration in {:.2} s",
        start.elapsed().as_secs_f64()
    );
    (child, addr, dir)
}

fn http() {
    let (mut child, addr, dir) = start_daemon();
    // 1,000 different requests, rotated by the Lua script.
    let mut paths = Vec::new();
    for r in requests(1000, 7) {
        let mut p = format!("/v1/check?user={}&permission={}", r.user, r.permission);
        if let Some(project) = &r.project {
            p.push_str(&format!("&project={project}"));
        }
        for (k, v) in r.object.attrs() {
            p.push_str(&format!("&object={}", enc(&format!("{k}={v}"))));
        }
        paths.push(format!("\"{p}\""));
    }
    let lua = |delay_ms: Option<u32>| {
        let delay = delay_ms
            .map(|d| format!("delay = function()\n  return {d}\nend\n"))
            .unwrap_or_default();
        format!(
            "local paths = {{{}}}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n{delay}",
            paths.join(",\n")
        )
    };
    let duration = std::env::args().nth(2).unwrap_or_else(|| "15s".into());
    // wrk has no fixed rate; a 1 ms pause before each request on 16
    // connections holds the offered load near 10,000 requests per second.
    let runs = [
        ("paced near 10,000 requests/s", 16, Some(1)),
        ("saturated", 8, None),
    ];
    for (what, connections, delay) in runs {
        let script = dir.join("check.lua");
        std::fs::write(&script, lua(delay)).expect("write the script");
        let out = Command::new("wrk")
            .args([
                "-t",
                "1",
                "-c",
                &connections.to_string(),
                "-d",
                &duration,
                "--latency",
                "-s",
            ])
            .arg(&script)
            .arg(format!("http://{addr}/"))
            .output()
            .expect("wrk runs (Debian's `wrk`; scripts/test.sh installs it)");
        println!(
            "{what}: wrk -t1 -c{connections} -d{duration} --latency, GET /v1/check over 1,000 rotating requests{}:\n{}",
            delay
                .map(|d| format!(", {d} ms pause per request"))
                .unwrap_or_default(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// One HTTP/1.1 exchange on a fresh connection: the status and the time taken.
fn exchange(addr: &str, raw: &str) -> (u16, Duration) {
    let start = Instant::now();
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.write_all(raw.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let status = String::from_utf8_lossy(&response[..response.len().min(16)])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, start.elapsed())
}

fn percentiles(mut took: Vec<Duration>) -> String {
    took.sort();
    let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {}",
        at(0.5),
        at(0.99),
        at(1.0),
        took.len()
    )
}

/// `/healthz` and `/v1/authorize` idle and under 20 heavy bulk clients.
fn heavy() {
    let (mut child, addr, dir) = start_daemon();
    let healthz = "GET /healthz HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".to_owned();
    let authorize = format!(
        "GET /v1/authorize HTTP/1.1\r\nHost: b\r\nConnection: close\r\nX-Original-Method: GET\r\n\
         X-Original-URI: /polarion/rest/v1/projects/{}\r\nX-Remote-User: {}\r\n\r\n",
        project(3),
        user(42)
    );
    // PROBES: sequential requests per figure (default 500).
    let probes: usize = std::env::var("PROBES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let probe = |what: &str| {
        for (name, raw) in [("/healthz", &healthz), ("/v1/authorize", &authorize)] {
            let took: Vec<Duration> = (0..probes).map(|_| exchange(&addr, raw).1).collect();
            println!("{what}: {name}: {}", percentiles(took));
        }
    };
    probe("idle");
    let projects: Vec<String> = (0..100).map(project).collect();
    let permissions: Vec<&str> = PERMISSIONS.iter().cycle().take(100).copied().collect();
    let body = format!(
        "{{\"user\":\"{}\",\"project_permissions\":[{{\"permissions\":{:?},\"projects\":{:?}}}]}}",
        user(42),
        permissions,
        projects
    );
    let bulk = format!(
        "POST /v1/check HTTP/1.1\r\nHost: b\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..20)
        .map(|_| {
            let (addr, bulk, stop) = (addr.clone(), bulk.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut ok, mut busy, mut took) = (0u32, 0u32, Vec::new());
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let (status, t) = exchange(&addr, &bulk);
                    match status {
                        200 => {
                            ok += 1;
                            took.push(t);
                        }
                        503 => busy += 1,
                        other => panic!("bulk answered {other}"),
                    }
                }
                (ok, busy, took)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    probe("under 20 bulk clients (10,000 decisions per call)");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut busy, mut took) = (0, 0, Vec::new());
    for c in clients {
        let (o, b, t) = c.join().expect("a client");
        ok += o;
        busy += b;
        took.extend(t);
    }
    println!("bulk calls: {ok} answered (200), {busy} turned away (503, Retry-After)");
    if !took.is_empty() {
        println!("bulk answered: {}", percentiles(took));
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rolesync-policy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        None => in_process(),
        Some("http") => http(),
        Some("heavy") => heavy(),
        Some(other) => {
            eprintln!("usage: policy_bench [http [DURATION] | heavy]  (got {other})");
            std::process::exit(2);
        }
    }
}
