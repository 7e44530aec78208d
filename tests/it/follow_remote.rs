//! `rolesync serve --remote` over Git's `https://` and `ssh://` (issue 14):
//! Apache httpd serving the bare repository through `git http-backend`
//! (CGI) over TLS, with a self-signed certificate made by `openssl req`
//! and Basic auth; and OpenSSH's `sshd` (non-forking, on a high loopback
//! port, with a test host key and an authorized key whose private half
//! has a passphrase). Followers converge after a push; a certificate or
//! host key they do not trust is refused, with why in the status; the
//! password and the passphrase are in neither the status nor the logs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::follow::{Follower, GitRemote, Server, converged, credentials_file};
use crate::util::{self, git};

const PASSWORD: &str = "https-pw-9f3";
const PASSPHRASE: &str = "key-phrase-7d1";

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", util::stderr(&out));
    util::stdout(&out)
}

fn running_as_root() -> bool {
    ok(Command::new("id").arg("-u")).trim() == "0"
}

/// A self-signed certificate for 127.0.0.1 (`dir/NAME.pem`, key
/// `dir/NAME.key`), made now.
fn certificate(dir: &Path, name: &str) -> PathBuf {
    let cert = dir.join(format!("{name}.pem"));
    ok(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(dir.join(format!("{name}.key")))
        .arg("-out")
        .arg(&cert));
    cert
}

/// Apache httpd serving `cfg`'s `served/` through `git http-backend` at
/// `https://127.0.0.1:PORT/git/`, Basic auth (`mirror`, `PASSWORD`).
fn apache(cfg: &crate::daemon::Config) -> (Server, String) {
    let dir = cfg.path("web");
    std::fs::create_dir_all(&dir).expect("mkdir");
    certificate(&dir, "server");
    let htpasswd = dir.join("htpasswd");
    ok(Command::new("htpasswd")
        .args(["-c", "-b", "-m"])
        .arg(&htpasswd)
        .args(["mirror", PASSWORD]));
    let modules = "/usr/lib/apache2/modules";
    let load: String = [
        "mpm_event",
        "authn_core",
        "authz_core",
        "authn_file",
        "auth_basic",
        "authz_user",
        "alias",
        "cgid",
        "env",
        "ssl",
    ]
    .iter()
    .map(|m| format!("LoadModule {m}_module {modules}/mod_{m}.so\n"))
    .collect();
    let user = if running_as_root() {
        "User www-data\nGroup www-data\n"
    } else {
        ""
    };
    let exec = git(&dir, &["--exec-path"]);
    let conf = dir.join("httpd.conf");
    let text = format!(
        "{load}ServerName 127.0.0.1\nListen 127.0.0.1:@PORT@\n{user}\
         PidFile {d}/httpd.pid\nErrorLog {d}/error.log\nDefaultRuntimeDir {d}\nMutex file:{d} default\n\
         ScriptSock {d}/cgid.sock\nSSLEngine on\nSSLCertificateFile {d}/server.pem\n\
         SSLCertificateKeyFile {d}/server.key\nSetEnv GIT_PROJECT_ROOT {served}\n\
         SetEnv GIT_HTTP_EXPORT_ALL 1\nSetEnv GIT_CONFIG_COUNT 1\n\
         SetEnv GIT_CONFIG_KEY_0 safe.directory\nSetEnv GIT_CONFIG_VALUE_0 *\n\
         ScriptAlias /git/ {exec}/git-http-backend/\n\
         <Location /git>\n  AuthType Basic\n  AuthName \"config\"\n  AuthUserFile {htpasswd}\n\
         \x20 Require valid-user\n</Location>\n",
        d = dir.display(),
        served = cfg.path("served").display(),
        exec = exec.trim(),
        htpasswd = htpasswd.display(),
    );
    // Apache switches to www-data as root: it must read the repository.
    let root = cfg.path("");
    ok(Command::new("chmod").args(["-R", "a+rX"]).arg(&root));
    let mut parent = root.parent();
    while let Some(p) = parent {
        let _ = Command::new("chmod").arg("a+x").arg(p).status();
        parent = p.parent();
    }
    let server = Server::start(Box::new(move |port| {
        std::fs::write(&conf, text.replace("@PORT@", &port.to_string())).expect("httpd.conf");
        let mut cmd = Command::new("apache2");
        cmd.args(["-DFOREGROUND", "-f"]).arg(&conf);
        cmd
    }));
    let url = format!("https://127.0.0.1:{}/git/config.git", server.port);
    (server, url)
}

#[test]
fn https_followers_converge_behind_basic_auth_and_refuse_an_untrusted_certificate() {
    let remote = GitRemote::served(apache);
    let dir = remote.cfg.path("followers");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let creds = credentials_file(
        &dir,
        &format!("username = \"mirror\"\npassword = \"{PASSWORD}\"\n"),
    );
    let ca = remote.cfg.path("web/server.pem");
    let config = dir.join("rolesync.toml");
    std::fs::write(
        &config,
        format!(
            "remote_ca_file = \"{}\"\nremote_poll = \"1h\"\n",
            ca.display()
        ),
    )
    .expect("toml");
    let config = config.display().to_string();
    // Two trust the certificate through remote_ca_file, one through SSL_CERT_FILE.
    let flags = ["--remote-credentials-file", &creds];
    let url = remote.url();
    let mut followers: Vec<Follower> = (0..2)
        .map(|i| {
            let extra = [&flags[..], &["--config", &config]].concat();
            Follower::start(&dir, &format!("ca{i}"), &url, &extra)
        })
        .collect();
    let env = [("SSL_CERT_FILE", ca.as_path())];
    let extra = [&flags[..], &["--remote-poll", "1h"]].concat();
    followers.push(Follower::start_env(&dir, "env", &url, &extra, &env));
    let first = crate::daemon::render_at(&remote.cfg.work(), &remote.cfg.head());
    converged(&followers, &first, "the first revision over https");
    let (commit, rendered) = remote.push(0);
    followers.iter().for_each(Follower::notify);
    converged(&followers, &rendered, "the notified push over https");
    for f in &followers {
        assert_eq!(f.status()["remote"]["head"], commit.as_str());
    }
    // Untrusted: the system's CA store, another CA, a wrong password.
    let untrusted = Follower::start(&dir, "system", &url, &flags);
    let err = untrusted.refused("certificate is not trusted");
    assert!(err.contains("remote_ca_file"), "{err}");
    let other = certificate(&dir, "other");
    let other_toml = dir.join("other.toml");
    std::fs::write(
        &other_toml,
        format!("remote_ca_file = \"{}\"\n", other.display()),
    )
    .expect("toml");
    let pinned = Follower::start(
        &dir,
        "other",
        &url,
        &[&flags[..], &["--config", &other_toml.display().to_string()]].concat(),
    );
    pinned.refused("not trusted by remote_ca_file");
    let wrong_dir = dir.join("wrong");
    std::fs::create_dir_all(&wrong_dir).expect("mkdir");
    let wrong = credentials_file(
        &wrong_dir,
        "username = \"mirror\"\npassword = \"not-it-5e2\"\n",
    );
    let refused = Follower::start_env(
        &dir,
        "wrong",
        &url,
        &["--remote-credentials-file", &wrong],
        &env,
    );
    refused.refused("credentials");
    for f in followers.iter().chain([&untrusted, &pinned, &refused]) {
        let (status, log) = (f.status().to_string(), f.log());
        for secret in [PASSWORD, "not-it-5e2"] {
            assert!(!status.contains(secret), "{status}");
            assert!(!log.contains(secret), "the password in the log");
        }
    }
}

/// OpenSSH's sshd on a free loopback port in `dir`: host key `host`,
/// `authorized_keys` holding `client.pub`.
fn sshd(dir: &Path) -> Server {
    if running_as_root() {
        // Its privilege separation folder (made by the service otherwise).
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
    }
    std::fs::copy(dir.join("client.pub"), dir.join("authorized_keys")).expect("authorized_keys");
    let conf = dir.join("sshd_config");
    let text = format!(
        "Port @PORT@\nListenAddress 127.0.0.1\nHostKey {d}/host\nAuthorizedKeysFile {d}/authorized_keys\n\
         PidFile {d}/sshd.pid\nUsePAM no\nStrictModes no\nPasswordAuthentication no\n\
         KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n",
        d = dir.display()
    );
    Server::start(Box::new(move |port| {
        std::fs::write(&conf, text.replace("@PORT@", &port.to_string())).expect("sshd_config");
        let mut cmd = Command::new("/usr/sbin/sshd");
        cmd.args(["-D", "-e", "-f"]).arg(&conf);
        cmd
    }))
}

/// `ssh-keygen` a new ed25519 key `dir/name` (passphrase `phrase`).
fn keygen(dir: &Path, name: &str, phrase: &str) {
    ok(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", phrase, "-C", name, "-f"])
        .arg(dir.join(name)));
}

/// A known_hosts file `name` listing `key` (a `.pub` file; none: empty)
/// for the server, and a TOML file naming it; the TOML file's path.
fn known_hosts(dir: &Path, name: &str, port: u16, key: Option<&str>) -> String {
    let public = key.map_or(String::new(), |k| {
        let public = std::fs::read_to_string(dir.join(k)).expect("pub");
        format!("[127.0.0.1]:{port} {public}")
    });
    let path = dir.join(name);
    std::fs::write(&path, public).expect("known_hosts");
    let toml = dir.join(format!("{name}.toml"));
    let text = format!(
        "remote_known_hosts = \"{}\"\nremote_poll = \"1h\"\n",
        path.display()
    );
    std::fs::write(&toml, text).expect("toml");
    toml.display().to_string()
}

#[test]
fn ssh_followers_converge_with_a_key_and_refuse_an_unknown_host_key() {
    let keys = tempfile::tempdir().expect("temp dir");
    let keys = keys.path();
    keygen(keys, "host", "");
    keygen(keys, "other-host", "");
    keygen(keys, "client", PASSPHRASE);
    let remote = GitRemote::served(|cfg| {
        let server = sshd(keys);
        let user = ok(Command::new("id").arg("-un"));
        let served = cfg.path("served/config.git");
        let url = format!(
            "ssh://{}@127.0.0.1:{}{}",
            user.trim(),
            server.port,
            served.display()
        );
        (server, url)
    });
    let dir = remote.cfg.path("followers");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let key = keys.join("client");
    let creds = credentials_file(
        &dir,
        &format!(
            "ssh_key = \"{}\"\nssh_key_passphrase = \"{PASSPHRASE}\"\n",
            key.display()
        ),
    );
    let port = remote.port();
    let good = known_hosts(keys, "known", port, Some("host.pub"));
    let followers = remote.followers(&["--remote-credentials-file", &creds, "--config", &good]);
    let (commit, rendered) = remote.push(0);
    followers.iter().for_each(Follower::notify);
    converged(&followers, &rendered, "the notified push over ssh");
    assert_eq!(followers[0].status()["remote"]["head"], commit.as_str());
    // A changed host key, and a host not listed.
    let flags = ["--remote-credentials-file", &creds, "--config"];
    let refused = |name: &str, key: Option<&str>, why: &str| {
        let toml = known_hosts(keys, name, port, key);
        let f = Follower::start(&dir, name, &remote.url(), &[&flags[..], &[&toml]].concat());
        let error = f.refused(why);
        assert!(error.contains("host key of [127.0.0.1]:"), "{error}");
        f
    };
    let f = refused("changed", Some("other-host.pub"), "changed");
    let u = refused("unknown", None, "is unknown");
    for f in followers.iter().chain([&f, &u]) {
        let (status, log) = (f.status().to_string(), f.log());
        assert!(!status.contains(PASSPHRASE), "{status}");
        assert!(!log.contains(PASSPHRASE), "the passphrase in the log");
    }
}
