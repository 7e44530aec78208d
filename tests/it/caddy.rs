//! End to end: Debian's Caddy with `forward_auth`, loading the README's
//! recipe (`docs/recipes/Caddyfile`, only addresses and users replaced), in
//! front of the recording upstream of `proxy.rs`, asking a real `rolesync
//! serve --proxy forward-auth`. A client's own `X-Original-*`,
//! `X-Forwarded-*` or user headers never change the decision, and no
//! spelling of a path reaches a project the user is refused in. Caddy must
//! be installed (`scripts/test.sh` installs it); loopback only.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::daemon::{Daemon, wait_until};
use crate::proxy::{self, Expect, FORBIDDEN, FORMS, Rng, TOMCAT, Upstream};
use crate::util;

fn caddy_binary() -> PathBuf {
    ["/usr/bin/caddy", "/usr/local/bin/caddy"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("caddy is installed (Debian's `caddy`; scripts/test.sh installs it)")
}

/// A cheap bcrypt hash (cost 4) of `pw-<login>`, as Caddy's basicauth takes it.
fn bcrypt(login: &str) -> String {
    let out = Command::new("htpasswd")
        .args(["-nbB", "-C", "4", login, &format!("pw-{login}")])
        .output()
        .expect("htpasswd runs (apache2-utils)");
    let line = String::from_utf8(out.stdout).expect("UTF-8");
    let hash = line.trim().split_once(':').expect("login:hash").1;
    hash.replacen("$2y$", "$2a$", 1)
}

struct Caddy {
    child: Child,
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Front {
    port: u16,
    upstream: Upstream,
    _caddy: Caddy,
    _daemon: Daemon,
    _tmp: tempfile::TempDir,
}

impl Front {
    fn start() -> Front {
        let tmp = tempfile::tempdir().expect("temp dir");
        let daemon = proxy::daemon(tmp.path(), &["--proxy", "forward-auth"]);
        let upstream = Upstream::start();
        let port = util::free_port();
        let users = format!("u {}\n\t\t\troot {}", bcrypt("u"), bcrypt("root"));
        let recipe = proxy::recipe(
            "Caddyfile",
            &[
                (":80 {", &format!(":{port} {{")),
                ("127.0.0.1:8411", &daemon.addr),
                ("127.0.0.1:8080", &format!("127.0.0.1:{}", upstream.port)),
                (
                    "alice $2a$14$8Ean2.kqCIBo6/2js25/e.bbObwanGwmBM57Ad21.zAOBG6DWuRvC",
                    &users,
                ),
            ],
        );
        // Global options for a test: no admin endpoint, no certificates, loopback.
        let file = tmp.path().join("Caddyfile");
        std::fs::write(
            &file,
            format!("{{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n}}\n\n{recipe}"),
        )
        .expect("Caddyfile");
        let child = Command::new(caddy_binary())
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&file)
            .env("HOME", tmp.path())
            .env("XDG_DATA_HOME", tmp.path().join("data"))
            .env("XDG_CONFIG_HOME", tmp.path().join("config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("caddy starts");
        let caddy = Caddy { child };
        wait_until(Duration::from_secs(20), "caddy listens", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Front {
            port,
            upstream,
            _caddy: caddy,
            _daemon: daemon,
            _tmp: tmp,
        }
    }

    fn call(
        &self,
        login: &str,
        method: &str,
        target: &[u8],
        extra: &[(&str, &str)],
    ) -> (proxy::Answer, Option<String>) {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = format!("c{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let auth = proxy::basic(login);
        let mut headers = vec![("X-Test-Id", id.as_str()), ("Authorization", auth.as_str())];
        headers.extend_from_slice(extra);
        let answer = proxy::request(self.port, method, target, &headers);
        let received = self.upstream.received(&id);
        if answer.status == 403 {
            assert_eq!(
                answer.body,
                FORBIDDEN,
                "{method} {}",
                String::from_utf8_lossy(target)
            );
        }
        (answer, received)
    }

    /// Like `nginx::Front::check_u`: what reached the upstream, `u` may do.
    fn check_u(
        &self,
        method: &str,
        target: &[u8],
        extra: &[(&str, &str)],
    ) -> (u16, Option<String>) {
        let (answer, received) = self.call("u", method, target, extra);
        if let Some(got) = &received {
            let route = proxy::route(got.as_bytes(), TOMCAT);
            // A REST call rolesync let through is safe however a server on
            // the way normalises it (nginx's own `$uri` included).
            if matches!(route, proxy::Route::Global | proxy::Route::Project(_)) {
                for r in proxy::routes(got.as_bytes()) {
                    assert!(proxy::u_may(method, &r), "{method} {got:?} may reach {r:?}");
                }
            }
            assert!(
                proxy::u_may(method, &route),
                "{method} {}: the upstream received {got:?} ({route:?}) for u",
                String::from_utf8_lossy(target)
            );
        }
        (answer.status, received)
    }
}

const A: &str = "/polarion/rest/v1/projects/A/workitems";
const B: &str = "/polarion/rest/v1/projects/B/workitems";

#[test]
fn caddy_forward_auth_allows_and_refuses_with_the_exact_body() {
    let front = Front::start();
    let (a, received) = front.call("u", "GET", A.as_bytes(), &[]);
    assert_eq!((a.status, received.as_deref()), (200, Some(A)), "{a:?}");
    let (a, received) = front.call("root", "DELETE", b"/polarion/rest/v1/projects/B", &[]);
    assert_eq!((a.status, received.is_some()), (200, true), "{}", a.body);
    let (a, received) = front.call("u", "GET", B.as_bytes(), &[]);
    assert_eq!((a.status, received), (403, None), "{a:?}");
    assert_eq!(a.header("content-type"), Some("application/json"));
    // A wrong password never reaches rolesync.
    let answer = proxy::request(
        front.port,
        "GET",
        A.as_bytes(),
        &[("Authorization", &proxy::basic("nobody"))],
    );
    assert_eq!(answer.status, 401);
}

#[test]
fn a_client_cannot_change_the_decision_with_its_own_headers() {
    let front = Front::start();
    let attempts: &[&[(&str, &str)]] = &[
        &[("X-Original-URI", A), ("X-Original-Method", "GET")],
        &[("X-Forwarded-Uri", A), ("X-Forwarded-Method", "GET")],
        &[("X-Remote-User", "root")],
        &[("X-Remote-User", "root"), ("X-Remote-User", "root")],
        &[
            ("X-Original-URI", A),
            ("X-Remote-User", "root"),
            ("X-Forwarded-Uri", A),
        ],
    ];
    for extra in attempts {
        let (status, received) = front.check_u("GET", B.as_bytes(), extra);
        assert_eq!((status, received), (403, None), "{extra:?}");
        // The same headers on a call u may make: the proxy's own win.
        let (status, _) = front.check_u(
            "PATCH",
            b"/polarion/rest/v1/projects/A/workitems/A-1",
            extra,
        );
        assert!(status == 200 || status == 403, "{extra:?}");
    }
}

#[test]
fn caddy_passes_no_spelling_of_a_forbidden_path() {
    let front = Front::start();
    for (method, path, expect) in FORMS {
        let (status, received) = front.check_u(method, path.as_bytes(), &[]);
        match expect {
            Expect::Allow => assert_eq!(status, 200, "{method} {path}"),
            Expect::Deny => assert_eq!((status, received), (403, None), "{method} {path}"),
            Expect::Invalid => {
                if let Some(got) = received {
                    assert_eq!(
                        proxy::route(got.as_bytes(), TOMCAT),
                        proxy::Route::NotRest,
                        "{method} {path}"
                    );
                }
            }
        }
    }
    // Raw bytes and absolute-form targets a client can put in a request line.
    for raw in [
        &b"/polarion/rest/v1/projects/A/\xff/../B"[..],
        b"/polarion/rest/v1/projects/A/..\\B",
        b"http://localhost/polarion/rest/v1/projects/B/workitems",
        b"http://localhost/polarion/rest/v1/projects/A/../B/workitems",
    ] {
        let (status, received) = front.check_u("GET", raw, &[]);
        assert_ne!(status, 200, "{}", String::from_utf8_lossy(raw));
        assert_eq!(received, None);
    }
    let mut rng = Rng::new(0x5eed_0003);
    for _ in 0..100 {
        let path = proxy::random_path(&mut rng);
        let method = rng.pick(&["GET", "PATCH"]);
        front.check_u(method, path.as_bytes(), &[]);
    }
}
