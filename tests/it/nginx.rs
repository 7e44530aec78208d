//! End to end: Debian's nginx with `auth_request` in front of a small local
//! endpoint (a second nginx server on loopback), asking a real `rolesync
//! serve` at `/v1/authorize`. A refused call reaches the client as 403 with
//! exactly Polarion's body (nginx's `error_page 403` hands it to a named
//! location that asks `/v1/authorize` again and passes its answer on).
//! nginx must be installed (`scripts/test.sh` installs it); loopback only.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::daemon::{Daemon, wait_until};
use crate::util;

const FORBIDDEN: &str = r#"{"errors":[{"status":"403","title":"Forbidden","detail":"Sorry, you do not have the necessary permissions to perform this operation. Please contact your Administrator if you need additional permissions.","source":null}]}"#;

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

/// The two servers: `front` (auth_request to rolesync) and `backend`.
fn config(dir: &Path, front: u16, backend: u16, rolesync: &str) -> String {
    let d = dir.display();
    let ask = |extra: &str| {
        format!(
            "{extra}
            proxy_pass http://{rolesync};
            proxy_pass_request_body off;
            proxy_set_header Content-Length \"\";
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Remote-User $remote_user;"
        )
    };
    format!(
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

    # The small local endpoint the proxy guards.
    server {{
        listen 127.0.0.1:{backend};
        location / {{
            default_type application/json;
            return 200 '{{"data":"$request_method $uri"}}';
        }}
    }}

    server {{
        listen 127.0.0.1:{front};
        location /polarion/rest/v1/ {{
            auth_basic "Polarion";
            auth_basic_user_file {d}/htpasswd;
            auth_request /_rolesync;
            error_page 403 = @rolesync_refused;
            proxy_pass http://127.0.0.1:{backend};
        }}
        location = /_rolesync {{
            internal;
            {}
        }}
        location @rolesync_refused {{
            {}
        }}
    }}
}}
"#,
        ask("rewrite ^ /v1/authorize break;"),
        ask("rewrite ^ /v1/authorize break;"),
    )
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

/// One request through the proxy: (status, content type, body).
fn call(port: u16, method: &str, path: &str, login: Option<&str>) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to nginx");
    let auth = login
        .map(|l| {
            format!(
                "Authorization: Basic {}\r\n",
                base64(format!("{l}:pw-{l}").as_bytes())
            )
        })
        .unwrap_or_default();
    let body = if method == "POST" {
        "{\"data\":{}}"
    } else {
        ""
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

#[test]
fn nginx_auth_request_allows_and_refuses_with_the_exact_body() {
    let dir = tempfile::tempdir().expect("temp dir");
    let daemon = Daemon::start(
        &util::data("policy/rest-example"),
        &dir.path().join("access"),
        &dir.path().join("state"),
        &[],
    );
    wait_until(Duration::from_secs(20), "rolesync loads", || {
        daemon.http("GET", "/healthz", None).0 == 200
    });
    let conf_dir = dir.path().join("nginx");
    std::fs::create_dir_all(conf_dir.join("tmp")).expect("mkdir");
    std::fs::write(
        conf_dir.join("htpasswd"),
        "u:{PLAIN}pw-u\nv:{PLAIN}pw-v\nroot:{PLAIN}pw-root\n",
    )
    .expect("htpasswd");
    let (front, backend) = (util::free_port(), util::free_port());
    let conf = conf_dir.join("nginx.conf");
    std::fs::write(&conf, config(&conf_dir, front, backend, &daemon.addr)).expect("nginx.conf");
    let child = Command::new(nginx_binary())
        .arg("-p")
        .arg(&conf_dir)
        .arg("-e")
        .arg(conf_dir.join("error.log"))
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    let _nginx = Nginx { child };
    wait_until(Duration::from_secs(10), "nginx listens", || {
        TcpStream::connect(("127.0.0.1", front)).is_ok()
            && TcpStream::connect(("127.0.0.1", backend)).is_ok()
    });
    let log = || std::fs::read_to_string(conf_dir.join("error.log")).unwrap_or_default();

    // Allowed: the endpoint answers.
    let allowed = [
        ("u", "GET", "/polarion/rest/v1/projects/A/workitems"),
        ("u", "GET", "/polarion/rest/v1/projects"),
        ("u", "PATCH", "/polarion/rest/v1/projects/A/workitems/A-1"),
        ("root", "DELETE", "/polarion/rest/v1/projects/B"),
    ];
    for (login, method, path) in allowed {
        let (status, _, body) = call(front, method, path, Some(login));
        assert_eq!(status, 200, "{login} {method} {path}: {body}\n{}", log());
        assert_eq!(body, format!("{{\"data\":\"{method} {path}\"}}"));
    }
    // Refused: 403 with exactly Polarion's body, from rolesync.
    let refused = [
        ("u", "GET", "/polarion/rest/v1/projects/B/workitems"),
        ("v", "POST", "/polarion/rest/v1/projects/B/workitems"),
        ("v", "GET", "/polarion/rest/v1/projects"),
    ];
    for (login, method, path) in refused {
        let (status, content_type, body) = call(front, method, path, Some(login));
        assert_eq!(status, 403, "{login} {method} {path}: {body}\n{}", log());
        assert_eq!(body, FORBIDDEN, "{login} {method} {path}");
        assert_eq!(content_type, "application/json");
    }
    // Without credentials nginx asks for them before rolesync is asked.
    assert_eq!(
        call(front, "GET", "/polarion/rest/v1/projects", None).0,
        401
    );
}
