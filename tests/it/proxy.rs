//! What the reverse-proxy tests (`nginx`, `caddy`) share: a tiny upstream
//! that records the request target it received, a raw HTTP/1.1 client, the
//! table of REST path forms with what each must give, a seeded generator of
//! random encodings, and the oracle that says which context a server would
//! route a path to. Also the start-up checks of `serve`'s proxy settings
//! (`--proxy`, `--user-header`, the token file's permissions) and the header
//! rules of `/v1/authorize` asked directly.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::daemon::{Daemon, wait_until};
use crate::util;

/// Polarion's 403 body, byte for byte.
pub const FORBIDDEN: &str = r#"{"errors":[{"status":"403","title":"Forbidden","detail":"Sorry, you do not have the necessary permissions to perform this operation. Please contact your Administrator if you need additional permissions.","source":null}]}"#;

/// A recipe from `docs/recipes/`, with `(from, to)` substitutions; each
/// `from` must occur in the file (so a changed recipe breaks the test, not
/// the meaning of the test).
pub fn recipe(name: &str, subst: &[(&str, &str)]) -> String {
    let text = std::fs::read_to_string(util::root().join("docs/recipes").join(name))
        .expect("the recipe exists");
    let readme = std::fs::read_to_string(util::root().join("README.md")).expect("README");
    assert!(
        readme.contains(&text),
        "README.md must hold docs/recipes/{name} verbatim"
    );
    let mut out = text;
    for (from, to) in subst {
        assert!(out.contains(from), "docs/recipes/{name} holds {from:?}");
        out = out.replace(from, to);
    }
    out
}

/// A loopback HTTP server standing in for Polarion: answers 200 to
/// everything and records, per `X-Test-Id` header, the request target it
/// received. It lives as long as the test process.
pub struct Upstream {
    pub port: u16,
    seen: Arc<Mutex<BTreeMap<String, String>>>,
}

impl Upstream {
    pub fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the upstream");
        let port = listener.local_addr().expect("address").port();
        let seen = Arc::new(Mutex::new(BTreeMap::new()));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let record = Arc::clone(&record);
                std::thread::spawn(move || serve_one(stream, &record));
            }
        });
        Upstream { port, seen }
    }

    /// The request target the upstream received for test request `id`.
    pub fn received(&self, id: &str) -> Option<String> {
        self.seen.lock().expect("lock").get(id).cloned()
    }
}

fn serve_one(stream: TcpStream, record: &Mutex<BTreeMap<String, String>>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split(' ').nth(1).unwrap_or_default().to_owned();
    let mut id = None;
    let mut length = 0usize;
    loop {
        let mut h = Vec::new();
        if reader.read_until(b'\n', &mut h).unwrap_or(0) == 0 {
            break;
        }
        let h = String::from_utf8_lossy(&h).trim().to_owned();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "x-test-id" => id = Some(v.trim().to_owned()),
                "content-length" => length = v.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    if let Some(id) = id {
        record.lock().expect("lock").insert(id, target.clone());
    }
    let answer = format!("{{\"upstream\":{}}}", serde_json::json!(target));
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
}

/// An answer: status, headers (lowercase names), body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request with a raw request target and extra header lines.
pub fn request(port: u16, method: &str, target: &[u8], headers: &[(&str, &str)]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut req = Vec::new();
    req.extend_from_slice(method.as_bytes());
    req.push(b' ');
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    let body: &[u8] = if method == "GET" {
        b""
    } else {
        b"{\"data\":{}}"
    };
    req.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    req.extend_from_slice(body);
    stream.write_all(&req).expect("send");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line in {response:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

pub fn basic(login: &str) -> String {
    format!("Basic {}", base64(format!("{login}:pw-{login}").as_bytes()))
}

fn base64(input: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Where a server sends a request target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route {
    /// A global REST endpoint.
    Global,
    /// A REST endpoint of this project.
    Project(String),
    /// Not the REST API (Polarion's web UI, or nothing).
    NotRest,
    /// The server refuses the request (400).
    Refused,
}

/// How a server reads a path; `TOMCAT` is Polarion's, the others are the
/// ways a lenient server in between could.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// Drop `;params` from each segment: before decoding (Tomcat), after, or not at all.
    pub params: Params,
    /// How many times `%XX` is decoded.
    pub decodes: usize,
    /// `\` is a `/` (else: refused, as Tomcat does).
    pub backslash_is_slash: bool,
    /// An encoded `/` is a `/` (else: refused, as Tomcat does).
    pub encoded_slash_is_slash: bool,
    pub case_insensitive: bool,
    /// `//` is `/` (Tomcat); else an empty segment.
    pub merge_slashes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Params {
    BeforeDecoding,
    AfterDecoding,
    Kept,
}

pub const TOMCAT: Reading = Reading {
    params: Params::BeforeDecoding,
    decodes: 1,
    backslash_is_slash: false,
    encoded_slash_is_slash: false,
    case_insensitive: false,
    merge_slashes: true,
};

/// Every reading: Tomcat's and each lenient variation.
pub fn readings() -> Vec<Reading> {
    let mut all = Vec::new();
    for params in [Params::BeforeDecoding, Params::AfterDecoding, Params::Kept] {
        for decodes in [1, 2] {
            for backslash_is_slash in [false, true] {
                for case_insensitive in [false, true] {
                    for merge_slashes in [false, true] {
                        for encoded_slash_is_slash in [false, true] {
                            all.push(Reading {
                                params,
                                decodes,
                                backslash_is_slash,
                                encoded_slash_is_slash,
                                case_insensitive,
                                merge_slashes,
                            });
                        }
                    }
                }
            }
        }
    }
    all
}

fn strip_params(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, seg) in path.split(|&b| b == b'/').enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        let end = seg.iter().position(|&b| b == b';').unwrap_or(seg.len());
        out.extend_from_slice(&seg[..end]);
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// One pass of `%XX` decoding; `None` when a decoded byte would be a `/`
/// or `\` the reading refuses.
fn decode(path: &[u8], r: Reading) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < path.len() {
        if path[i] == b'%'
            && let (Some(h), Some(l)) = (
                path.get(i + 1).copied().and_then(hex),
                path.get(i + 2).copied().and_then(hex),
            )
        {
            let b = h << 4 | l;
            if (b == b'/' && !r.encoded_slash_is_slash) || b == 0 {
                return None;
            }
            out.push(b);
            i += 3;
        } else {
            out.push(path[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Where a server reading paths the `r` way routes `target`.
pub fn route(target: &[u8], r: Reading) -> Route {
    let end = target
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(target.len());
    let mut path = target[..end].to_vec();
    if r.params == Params::BeforeDecoding {
        path = strip_params(&path);
    }
    for _ in 0..r.decodes {
        match decode(&path, r) {
            Some(p) => path = p,
            None => return Route::Refused,
        }
    }
    if r.params == Params::AfterDecoding {
        path = strip_params(&path);
    }
    if path.contains(&b'\\') {
        if !r.backslash_is_slash {
            return Route::Refused;
        }
        path.iter_mut()
            .filter(|b| **b == b'\\')
            .for_each(|b| *b = b'/');
    }
    let text = String::from_utf8_lossy(&path).into_owned();
    // Dot-segment removal (RFC 3986 5.2.4), after merging slashes.
    let mut segs: Vec<&str> = Vec::new();
    let parts: Vec<&str> = text.split('/').skip(1).collect();
    for (i, seg) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        match *seg {
            "." => {
                if last {
                    segs.push("");
                }
            }
            ".." => {
                if segs.pop().is_none() {
                    return Route::Refused;
                }
                if last {
                    segs.push("");
                }
            }
            "" if r.merge_slashes && !last => {}
            s => segs.push(s),
        }
    }
    let eq = |a: &str, b: &str| {
        if r.case_insensitive {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let rest: &[&str] =
        if segs.len() >= 3 && eq(segs[0], "polarion") && eq(segs[1], "rest") && eq(segs[2], "v1") {
            &segs[3..]
        } else if segs.first().is_some_and(|s| eq(s, "polarion")) {
            return Route::NotRest;
        } else {
            // rolesync's own shorthand: `/projects/x` without the prefix.
            &segs
        };
    match rest {
        [p, project, ..] if eq(p, "projects") && !project.is_empty() => {
            Route::Project((*project).to_owned())
        }
        _ => Route::Global,
    }
}

/// Every route any reading gives `target`.
pub fn routes(target: &[u8]) -> Vec<Route> {
    let mut all: Vec<Route> = readings().into_iter().map(|r| route(target, r)).collect();
    all.sort();
    all.dedup();
    all
}

/// Whether user `u` of `policy/rest-example` may make `method` reach `route`:
/// `u` is `project_admin` in A, has no role in B that grants REST calls,
/// and may GET global endpoints.
pub fn u_may(method: &str, route: &Route) -> bool {
    match route {
        Route::Project(p) => p == "A",
        Route::Global => method == "GET" || method == "HEAD",
        Route::NotRest | Route::Refused => true,
    }
}

/// What a form must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Allowed: 200 through the proxy, exit 0 from `check --rest`.
    Allow,
    /// A decision that refuses: 403, exit 1.
    Deny,
    /// The path itself is refused: never decided on (exit 2 from `check`,
    /// 400 from `/v1/check`, 403 from `/v1/authorize`).
    Invalid,
}

/// The path forms, all asked by user `u` (see `u_may`).
pub const FORMS: &[(&str, &str, Expect)] = &[
    // Polarion's real URLs pass.
    (
        "GET",
        "/polarion/rest/v1/projects/A/workitems",
        Expect::Allow,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/workitems?page%5Bsize%5D=10&q=../B",
        Expect::Allow,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/spaces/_default/documents/My%20Doc",
        Expect::Allow,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/workitems/",
        Expect::Allow,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/%41/workitems",
        Expect::Allow,
    ),
    (
        "GET",
        "/polarion/rest/v1/%70rojects/A/workitems",
        Expect::Allow,
    ),
    ("GET", "/polarion/rest/v1/projects", Expect::Allow),
    ("GET", "/polarion/rest/v1/projects/", Expect::Allow),
    ("GET", "/polarion/rest/v1/users/u", Expect::Allow),
    (
        "PATCH",
        "/polarion/rest/v1/projects/A/workitems/A-1",
        Expect::Allow,
    ),
    ("HEAD", "/polarion/rest/v1/projects/A", Expect::Allow),
    // Decided, and refused.
    (
        "GET",
        "/polarion/rest/v1/projects/B/workitems",
        Expect::Deny,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/%42/workitems",
        Expect::Deny,
    ),
    (
        "GET",
        "/polarion/rest/v1/%70rojects/B/workitems",
        Expect::Deny,
    ),
    ("GET", "/polarion/rest/v1/pro%6Aects/B", Expect::Deny),
    ("PATCH", "/polarion/rest/v1/projects", Expect::Deny),
    ("PATCH", "/polarion/rest/v1/users/u", Expect::Deny),
    // Dot segments, plain and encoded, leading, inner and trailing.
    (
        "GET",
        "/polarion/rest/v1/projects/A/../B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/%2e%2e/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/%2E%2e/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/.%2E/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/workitems/../../B/workitems",
        Expect::Invalid,
    ),
    ("GET", "/polarion/rest/v1/projects/A/../B", Expect::Invalid),
    ("PATCH", "/polarion/rest/v1/projects/A/..", Expect::Invalid),
    (
        "PATCH",
        "/polarion/rest/v1/projects/A/%2e%2e/",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/./projects/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/%2e/projects/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/./B/workitems",
        Expect::Invalid,
    ),
    ("GET", "/polarion/rest/v1/projects/A/.", Expect::Invalid),
    (
        "GET",
        "/polarion/rest/v1/projects/B/workitems/..",
        Expect::Invalid,
    ),
    ("GET", "/polarion/x/../rest/v1/projects/B", Expect::Invalid),
    (
        "GET",
        "/polarion/rest/v1/projects/../projects/B",
        Expect::Invalid,
    ),
    // Empty segments.
    (
        "GET",
        "/polarion/rest//v1/projects/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "//polarion/rest/v1/projects/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1//projects/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects//B/workitems",
        Expect::Invalid,
    ),
    // Path parameters (Tomcat drops them).
    (
        "GET",
        "/polarion/rest/v1;x/projects/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects;x/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/B;x/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/..;/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/..%3B/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/;x/rest/v1/projects/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion;x/rest/v1/projects/B/workitems",
        Expect::Invalid,
    ),
    // Encoded and literal slashes, backslashes, NUL, double encoding.
    (
        "GET",
        "/polarion/rest/v1/projects%2fB/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects%2FB/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A%2f..%2fB/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects\\B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects%5cB/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/%5C..%5CB/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/B%00/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/%00/../B",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/%2570rojects/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/projects/A/%252e%252e/B",
        Expect::Invalid,
    ),
    ("GET", "/polarion/rest/v1/projects/B%zz", Expect::Invalid),
    (
        "GET",
        "/polarion/rest/v1/projects/A/%C0%AE%C0%AE/B",
        Expect::Invalid,
    ),
    ("GET", "/polarion/rest/v1/projects/B#x", Expect::Invalid),
    // Mixed case.
    (
        "GET",
        "/polarion/rest/v1/Projects/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/v1/PROJECTS/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/REST/v1/projects/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/Polarion/rest/v1/projects/B/workitems",
        Expect::Invalid,
    ),
    (
        "GET",
        "/polarion/rest/V1/projects/B/workitems",
        Expect::Invalid,
    ),
    // Not the REST API at all, or not a path.
    ("GET", "/polarion/rest/v2/projects/B", Expect::Invalid),
    ("GET", "polarion/rest/v1/projects/B", Expect::Invalid),
    ("GET", "*", Expect::Invalid),
];

/// A small deterministic generator (xorshift64*), so a failure repeats.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A random spelling of a path to project A's or B's work items: encoded
/// characters (either hex case), detours through the other project, dot
/// segments, doubled slashes, `;params`, case changes, encoded or
/// backslashed slashes, NULs, queries.
pub fn random_path(rng: &mut Rng) -> String {
    let project = rng.pick(&["A", "B"]);
    let mut segs: Vec<String> = ["polarion", "rest", "v1", "projects", project, "workitems"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for _ in 0..1 + rng.below(3) {
        let i = rng.below(segs.len());
        match rng.below(9) {
            0 => segs.insert(i, rng.pick(&[".", "%2e", "%2E", "."]).to_owned()),
            1 => {
                let back = rng.pick(&["..", "%2e%2e", ".%2E", "%2E.", "..;"]);
                let detour = rng.pick(&["A", "B", "x", "projects"]);
                segs.insert(i, back.to_owned());
                segs.insert(i, detour.to_owned());
            }
            2 => segs.insert(i, String::new()),
            3 => segs[i].push_str(rng.pick(&[";x", ";", ";jsessionid=1", "%3B"])),
            4 => {
                let s = &mut segs[i];
                if let Some(c) = s.chars().next() {
                    *s = format!("{}{}", c.to_ascii_uppercase(), &s[c.len_utf8()..]);
                }
            }
            5 => {
                let j = rng.below(segs.len());
                let joined = format!(
                    "{}{}{}",
                    segs[i.min(j)],
                    rng.pick(&["%2f", "%2F", "\\", "%5c", "%5C", "%252f"]),
                    segs[i.max(j)]
                );
                segs[i.min(j)] = joined;
                if i != j {
                    segs.remove(i.max(j));
                }
            }
            6 => segs[i].push_str(rng.pick(&["%00", "%0a", "%7f", "%", "%g1", "%C0%AE"])),
            7 => {
                // Percent-encode one character, in either hex case.
                let s = segs[i].clone();
                if !s.is_empty() {
                    let k = rng.below(s.len());
                    if s.is_char_boundary(k) && s.is_char_boundary(k + 1) {
                        let b = s.as_bytes()[k];
                        let enc = if rng.below(2) == 0 {
                            format!("%{b:02x}")
                        } else {
                            format!("%{b:02X}")
                        };
                        segs[i] = format!("{}{enc}{}", &s[..k], &s[k + 1..]);
                    }
                }
            }
            _ => segs.push(rng.pick(&["..", "%2e%2e", ".", ""]).to_owned()),
        }
    }
    let mut path = format!("/{}", segs.join("/"));
    if rng.below(4) == 0 {
        path.push_str(rng.pick(&["?page=1", "?x=/../B", "#f"]));
    }
    path
}

/// `rolesync check --rest` on `policy/rest-example` as user `u`: the exit code.
pub fn check_rest(method: &str, path: &str) -> (i32, String) {
    let out = util::run([
        "check",
        "--repo",
        util::data("policy/rest-example")
            .to_str()
            .expect("UTF-8 path"),
        "--user",
        "u",
        "--rest",
        &format!("{method} {path}"),
    ]);
    let code = out.status.code().expect("an exit code");
    (
        code,
        format!("{}{}", util::stdout(&out), util::stderr(&out)),
    )
}

/// A daemon on `policy/rest-example` with extra flags, loaded.
pub fn daemon(dir: &Path, extra: &[&str]) -> Daemon {
    let daemon = Daemon::start(
        &util::data("policy/rest-example"),
        &dir.join("access"),
        &dir.join("state"),
        extra,
    );
    wait_until(Duration::from_secs(20), "rolesync loads", || {
        daemon.http("GET", "/healthz", None).0 == 200
    });
    daemon
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("host:port")
}

#[test]
fn check_rest_decides_only_on_the_canonical_path() {
    for (method, path, expect) in FORMS {
        let (code, out) = check_rest(method, path);
        let want = match expect {
            Expect::Allow => 0,
            Expect::Deny => 1,
            Expect::Invalid => 2,
        };
        assert_eq!(code, want, "{method} {path}: {out}");
        if code == 0 {
            for r in routes(path.as_bytes()) {
                assert!(
                    u_may(method, &r),
                    "{method} {path} allowed but may reach {r:?}"
                );
            }
        }
    }
}

#[test]
fn check_rest_never_allows_a_random_spelling_that_may_reach_elsewhere() {
    let mut rng = Rng::new(0x5eed_0001);
    let mut allowed = 0;
    for _ in 0..150 {
        let path = random_path(&mut rng);
        let method = rng.pick(&["GET", "PATCH"]);
        let (code, out) = check_rest(method, &path);
        assert!([0, 1, 2].contains(&code), "{method} {path}: {out}");
        if code == 0 {
            allowed += 1;
            for r in routes(path.as_bytes()) {
                assert!(
                    u_may(method, &r),
                    "{method} {path} allowed but may reach {r:?}"
                );
            }
        }
    }
    assert!(allowed > 0, "some spellings are plain enough to be decided");
}

#[test]
fn v1_check_refuses_what_it_cannot_decide_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let daemon = daemon(dir.path(), &[]);
    for (method, path, expect) in FORMS {
        let mut q = String::new();
        for b in format!("{method} {path}").bytes() {
            if b.is_ascii_alphanumeric() {
                q.push(char::from(b));
            } else {
                q.push_str(&format!("%{b:02X}"));
            }
        }
        let (status, body) = daemon.http("GET", &format!("/v1/check?user=u&rest={q}"), None);
        match expect {
            Expect::Invalid => assert_eq!(status, 400, "{method} {path}: {body}"),
            Expect::Allow | Expect::Deny => {
                assert_eq!(status, 200, "{method} {path}: {body}");
                let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
                assert_eq!(v["allowed"], *expect == Expect::Allow, "{method} {path}");
            }
        }
    }
}

/// `/v1/authorize` asked directly, as a proxy would: `headers` and the answer's status.
fn authorize(port: u16, headers: &[(&str, &str)]) -> u16 {
    let a = request(port, "GET", b"/v1/authorize", headers);
    if a.status == 403 {
        assert_eq!(a.body, FORBIDDEN);
    }
    a.status
}

#[test]
fn authorize_reads_only_the_configured_proxy_headers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nginx = daemon(&dir.path().join("n"), &[]);
    let fwd = daemon(&dir.path().join("f"), &["--proxy", "forward-auth"]);
    let (n, f) = (port_of(&nginx.addr), port_of(&fwd.addr));
    let a = "/polarion/rest/v1/projects/A/workitems";
    let b = "/polarion/rest/v1/projects/B/workitems";
    let user = ("X-Remote-User", "u");
    // Each kind reads its own pair.
    assert_eq!(
        authorize(
            n,
            &[("X-Original-Method", "GET"), ("X-Original-URI", a), user]
        ),
        204
    );
    assert_eq!(
        authorize(
            f,
            &[("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", a), user]
        ),
        204
    );
    // The other kind's pair alone is not enough.
    assert_eq!(
        authorize(
            n,
            &[("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", a), user]
        ),
        403
    );
    assert_eq!(
        authorize(
            f,
            &[("X-Original-Method", "GET"), ("X-Original-URI", a), user]
        ),
        403
    );
    // Both pairs (a client adding its own): refused, whichever would win.
    let both = |mine: &'static str, theirs: &'static str| {
        vec![
            ("X-Forwarded-Method", "GET"),
            ("X-Forwarded-Uri", theirs),
            ("X-Original-Method", "GET"),
            ("X-Original-URI", mine),
            user,
        ]
    };
    assert_eq!(authorize(f, &both(a, b)), 403);
    assert_eq!(authorize(f, &both(a, a)), 403);
    assert_eq!(authorize(n, &both(a, a)), 403);
    // Duplicated identity, method or URI headers: refused.
    let dup = |extra: (&'static str, &'static str)| {
        vec![
            ("X-Original-Method", "GET"),
            ("X-Original-URI", a),
            user,
            extra,
        ]
    };
    assert_eq!(authorize(n, &dup(("X-Remote-User", "root"))), 403);
    assert_eq!(authorize(n, &dup(("X-Remote-User", "u"))), 403);
    assert_eq!(authorize(n, &dup(("X-Original-Method", "DELETE"))), 403);
    assert_eq!(authorize(n, &dup(("X-Original-URI", b))), 403);
    // A method must be written as HTTP writes it.
    assert_eq!(
        authorize(
            n,
            &[("X-Original-Method", "get"), ("X-Original-URI", a), user]
        ),
        403
    );
    assert_eq!(
        authorize(
            n,
            &[("X-Original-Method", "PUT"), ("X-Original-URI", a), user]
        ),
        403
    );
}

/// `serve` with `args`, until it listens or exits: (listened, stderr so far).
fn serve_start(args: &[&str]) -> (bool, String) {
    let mut child = util::rolesync()
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--poll-interval", "0s"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rolesync serve starts");
    let stderr = child.stderr.take().expect("piped");
    let mut text = String::new();
    let mut listened = false;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("text");
        text.push_str(&line);
        text.push('\n');
        if line.starts_with("rolesync: listening on") {
            listened = true;
            break;
        }
    }
    let _ = child.kill();
    let status = child.wait().expect("exits");
    if !listened {
        assert_eq!(status.code(), Some(2), "{text}");
    }
    (listened, text)
}

#[test]
fn serve_refuses_a_malformed_user_header_and_an_unknown_proxy_kind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = util::data("policy/rest-example");
    let repo = repo.to_str().expect("UTF-8");
    let state = dir.path().join("state");
    let state = state.to_str().expect("UTF-8");
    for bad in [
        "X Remote User",
        "X-Remote-User:",
        "",
        "Üser",
        "X-Original-URI",
    ] {
        let (listened, err) =
            serve_start(&["--repo", repo, "--state-dir", state, "--user-header", bad]);
        assert!(!listened, "--user-header {bad:?} accepted");
        assert!(err.contains("--user-header"), "{err}");
    }
    let (listened, err) = serve_start(&["--repo", repo, "--state-dir", state, "--proxy", "apache"]);
    assert!(!listened && err.contains("apache"), "{err}");
    let conf = dir.path().join("rolesync.toml");
    std::fs::write(
        &conf,
        "proxy = \"forward-auth\"\nuser_header = \"Remote User\"\n",
    )
    .expect("write");
    let (listened, err) = serve_start(&[
        "--repo",
        repo,
        "--state-dir",
        state,
        "--config",
        conf.to_str().expect("UTF-8"),
    ]);
    assert!(!listened && err.contains("user_header"), "{err}");
    std::fs::write(
        &conf,
        "proxy = \"forward-auth\"\nuser_header = \"X-Auth-User\"\n",
    )
    .expect("write");
    let (listened, err) = serve_start(&[
        "--repo",
        repo,
        "--state-dir",
        state,
        "--config",
        conf.to_str().expect("UTF-8"),
    ]);
    assert!(listened, "{err}");
}

#[test]
fn serve_warns_about_a_token_file_others_can_read() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = util::data("policy/rest-example");
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").expect("write");
    let args = |state: &str| {
        vec![
            "--repo".to_owned(),
            repo.to_str().expect("UTF-8").to_owned(),
            "--state-dir".to_owned(),
            dir.path().join(state).to_str().expect("UTF-8").to_owned(),
            "--token-file".to_owned(),
            token.to_str().expect("UTF-8").to_owned(),
        ]
    };
    for (mode, warned) in [(0o600, false), (0o640, true), (0o604, true), (0o400, false)] {
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let a = args(&format!("s{mode:o}"));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let (listened, err) = serve_start(&a);
        assert!(listened, "{err}");
        assert_eq!(err.contains("readable by"), warned, "mode {mode:o}: {err}");
    }
}
