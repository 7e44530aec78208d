//! End to end: Debian's nginx with `auth_request`, loading the README's
//! recipe (`docs/recipes/nginx.conf`, only addresses and paths replaced), in
//! front of a tiny upstream that records the request target it received,
//! asking a real `rolesync serve` at `/v1/authorize`. A refused call reaches
//! the client as 403 with exactly Polarion's body. Every spelling of a path
//! (the table in `proxy.rs`, and random ones) is sent; a call that reaches
//! the upstream must be one the user may make in the context Polarion's
//! Tomcat routes it to. nginx must be installed (`scripts/test.sh`
//! installs it); loopback only.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::daemon::{Daemon, wait_until};
use crate::proxy::{self, Expect, FORBIDDEN, FORMS, Rng, TOMCAT, Upstream};
use crate::util;

fn nginx_binary() -> PathBuf {
    let candidates = [
        PathBuf::from("/usr/sbin/nginx"),
        PathBuf::from("/usr/bin/nginx"),
    ];
    candidates
        .into_iter()
        .find(|p| p.exists())
        .expect("nginx is installed (Debian's `nginx`; scripts/test.sh installs it)")
}

/// A running nginx, stopped when dropped.
struct Nginx {
    child: Child,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The main configuration: process settings and temp paths, then the
/// README's recipe, included as is but for addresses and paths.
fn write_config(dir: &Path, front: u16, upstream: u16, rolesync: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("tmp")).expect("mkdir");
    std::fs::write(
        dir.join("htpasswd"),
        "u:{PLAIN}pw-u\nv:{PLAIN}pw-v\nroot:{PLAIN}pw-root\n",
    )
    .expect("htpasswd");
    let htpasswd = dir.join("htpasswd");
    let recipe = proxy::recipe(
        "nginx.conf",
        &[
            ("127.0.0.1:8080", &format!("127.0.0.1:{upstream}")),
            ("127.0.0.1:8411", rolesync),
            ("listen 80;", &format!("listen 127.0.0.1:{front};")),
            ("/etc/nginx/htpasswd", htpasswd.to_str().expect("UTF-8")),
        ],
    );
    std::fs::write(dir.join("recipe.conf"), recipe).expect("recipe.conf");
    let d = dir.display();
    let main = format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    include {d}/recipe.conf;
}}
"#
    );
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, main).expect("nginx.conf");
    conf
}

/// rolesync, the upstream and nginx with the recipe, all listening.
struct Front {
    port: u16,
    upstream: Upstream,
    dir: PathBuf,
    _nginx: Nginx,
    _daemon: Daemon,
    _tmp: tempfile::TempDir,
}

impl Front {
    fn start() -> Front {
        Front::start_with(&[])
    }

    /// The same, with more arguments for `rolesync serve`.
    fn start_with(extra: &[&str]) -> Front {
        let tmp = tempfile::tempdir().expect("temp dir");
        let daemon = proxy::daemon(tmp.path(), extra);
        let upstream = Upstream::start();
        let dir = tmp.path().join("nginx");
        let front = util::free_port();
        let conf = write_config(&dir, front, upstream.port, &daemon.addr);
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let nginx = Nginx { child };
        wait_until(Duration::from_secs(10), "nginx listens", || {
            TcpStream::connect(("127.0.0.1", front)).is_ok()
        });
        Front {
            port: front,
            upstream,
            dir,
            _nginx: nginx,
            _daemon: daemon,
            _tmp: tmp,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    /// One call as `login`: the answer and the target the upstream received.
    fn call(
        &self,
        login: Option<&str>,
        method: &str,
        target: &[u8],
        extra: &[(&str, &str)],
    ) -> (proxy::Answer, Option<String>) {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = format!("n{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let auth = login.map(proxy::basic);
        let mut headers = vec![("X-Test-Id", id.as_str())];
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        headers.extend_from_slice(extra);
        let answer = proxy::request(self.port, method, target, &headers);
        let received = self.upstream.received(&id);
        (answer, received)
    }

    /// `u` sends `method target`: whatever the answer, anything that reached
    /// the upstream must be a call `u` may make where Tomcat routes it.
    /// Returns the status and whether the upstream saw the call.
    fn check_u(&self, method: &str, target: &[u8]) -> (u16, Option<String>) {
        let shown = String::from_utf8_lossy(target);
        let (answer, received) = self.call(Some("u"), method, target, &[]);
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
                "{method} {shown}: the upstream received {got:?} ({route:?}) for u\n{}",
                self.log()
            );
            assert_eq!(answer.status, 200, "{method} {shown}");
        }
        if answer.status == 403 {
            assert_eq!(answer.body, FORBIDDEN, "{method} {shown}");
        }
        (answer.status, received)
    }
}

#[test]
fn the_nginx_recipe_loads() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("nginx");
    let conf = write_config(&dir, util::free_port(), util::free_port(), "127.0.0.1:1");
    let out = Command::new(nginx_binary())
        .arg("-t")
        .arg("-p")
        .arg(&dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(&conf)
        .output()
        .expect("nginx -t runs");
    assert!(
        out.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn nginx_auth_request_allows_and_refuses_with_the_exact_body() {
    let front = Front::start();
    // Allowed: the endpoint answers, and receives the path as sent.
    let allowed = [
        ("u", "GET", "/polarion/rest/v1/projects/A/workitems"),
        ("u", "GET", "/polarion/rest/v1/projects"),
        ("u", "PATCH", "/polarion/rest/v1/projects/A/workitems/A-1"),
        ("root", "DELETE", "/polarion/rest/v1/projects/B"),
    ];
    for (login, method, path) in allowed {
        let (a, received) = front.call(Some(login), method, path.as_bytes(), &[]);
        assert_eq!(
            a.status,
            200,
            "{login} {method} {path}: {}\n{}",
            a.body,
            front.log()
        );
        assert_eq!(received.as_deref(), Some(path));
    }
    // Refused: 403 with exactly Polarion's body, from rolesync.
    let refused = [
        ("u", "GET", "/polarion/rest/v1/projects/B/workitems"),
        ("v", "POST", "/polarion/rest/v1/projects/B/workitems"),
        ("v", "GET", "/polarion/rest/v1/projects"),
    ];
    for (login, method, path) in refused {
        let (a, received) = front.call(Some(login), method, path.as_bytes(), &[]);
        assert_eq!(
            a.status,
            403,
            "{login} {method} {path}: {}\n{}",
            a.body,
            front.log()
        );
        assert_eq!(a.body, FORBIDDEN, "{login} {method} {path}");
        assert_eq!(a.header("content-type"), Some("application/json"));
        assert!(a.header("x-rolesync-revision").is_some());
        assert_eq!(received, None);
    }
    // Without credentials nginx asks for them before rolesync is asked.
    let (a, _) = front.call(None, "GET", b"/polarion/rest/v1/projects", &[]);
    assert_eq!(a.status, 401);
    // A client's own X-Original-* and user headers are replaced by nginx's.
    let (a, received) = front.call(
        Some("u"),
        "GET",
        b"/polarion/rest/v1/projects/B/workitems",
        &[
            ("X-Original-URI", "/polarion/rest/v1/projects/A/workitems"),
            ("X-Original-Method", "GET"),
            ("X-Remote-User", "root"),
        ],
    );
    assert_eq!((a.status, received), (403, None));
}

#[test]
fn nginx_passes_no_spelling_of_a_forbidden_path() {
    let front = Front::start();
    for (method, path, expect) in FORMS {
        let (status, received) = front.check_u(method, path.as_bytes());
        match expect {
            Expect::Allow => {
                assert_eq!(status, 200, "{method} {path}\n{}", front.log());
                assert_eq!(received.as_deref(), Some(*path), "{method} {path}");
            }
            Expect::Deny => {
                assert_eq!(
                    (status, received.as_deref()),
                    (403, None),
                    "{method} {path}"
                );
            }
            // Refused by nginx (400, 404) or rolesync (403), or sent to
            // Polarion's web UI, which is not the REST API.
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
    // Raw bytes a client can put in a request line.
    for raw in [
        &b"/polarion/rest/v1/projects/A/\xff/../B"[..],
        b"/polarion/rest/v1/projects/A/\x01/../B",
        b"/polarion/rest/v1/projects/A/..\\B",
        b"/polarion/rest/v1/projects/\xc3\xa9/../B",
        b"http://localhost/polarion/rest/v1/projects/B/workitems",
        b"http://localhost/polarion/rest/v1/projects/A/../B/workitems",
    ] {
        let (status, received) = front.check_u("GET", raw);
        assert_ne!(status, 200, "{}", String::from_utf8_lossy(raw));
        assert_eq!(received, None);
    }
}

#[test]
fn nginx_passes_no_random_spelling_of_a_forbidden_path() {
    let front = Front::start();
    let mut rng = Rng::new(0x5eed_0002);
    let mut passed = 0;
    for _ in 0..200 {
        let path = proxy::random_path(&mut rng);
        let method = rng.pick(&["GET", "PATCH"]);
        if front.check_u(method, path.as_bytes()).0 == 200 {
            passed += 1;
        }
    }
    assert!(passed > 0, "some spellings are plain enough to pass");
}

/// 000/001, "REST operations require two sets of permissions", behind
/// nginx: with `--authorize-layers both`, rolesync also decides the item
/// layer, and nginx passes the item body on. In `rest-example`, `u` is
/// project_admin in A (every verb) and may read Project A and modify its
/// work items, but not delete them.
#[test]
fn nginx_both_layers_refuse_an_item_with_its_body() {
    let front = Front::start_with(&["--authorize-layers", "both"]);
    let (a, received) = front.call(
        Some("u"),
        "DELETE",
        b"/polarion/rest/v1/projects/A/workitems/A-1",
        &[],
    );
    assert_eq!(a.status, 403, "{}", front.log());
    assert_eq!(
        a.body,
        r#"{"errors":[{"status":"403","title":"Forbidden","detail":"You do not have permission to delete Work Item 'A-1'."}]}"#
    );
    assert_eq!(received, None);
    for (method, path) in [
        ("GET", "/polarion/rest/v1/projects/A"),
        ("PATCH", "/polarion/rest/v1/projects/A/workitems/A-1"),
        ("GET", "/polarion/rest/v1/projects/A/workitems"),
    ] {
        let (a, received) = front.call(Some("u"), method, path.as_bytes(), &[]);
        assert_eq!(a.status, 200, "{method} {path}\n{}", front.log());
        assert!(received.is_some(), "{method} {path}");
    }
    // The endpoint layer still refuses first, with its own body.
    let (a, _) = front.call(
        Some("u"),
        "GET",
        b"/polarion/rest/v1/projects/B/workitems",
        &[],
    );
    assert_eq!((a.status, a.body.as_str()), (403, FORBIDDEN));
}
