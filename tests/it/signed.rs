//! Signed commits: `rolesync serve --require-signed` with
//! `--allowed-signers FILE` (SSH) or `--gpg-home DIR` (OpenPGP) on a real
//! Git repository, with keys made by the real `ssh-keygen` and `gpg` and
//! commits signed by the real `git commit -S`. An unsigned commit, one
//! signed by a key that is not trusted and one changed after signing are
//! refused (the previous access file stays); a commit signed by a trusted
//! key is applied, by a local daemon and by a follower of a remote.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::daemon::{Daemon, wait_until};
use crate::follow::Follower;
use crate::util::{self, git};

const LIMIT: Duration = Duration::from_secs(20);
const USER_ROLES: &str = "Engineering/elibrary/.polarion/security/user-roles.xml";
const MESSAGE: &str = "change elibrary's users";

/// A key pair made by `ssh-keygen` in `dir`; returns the private key's path.
fn key(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .output()
        .expect("ssh-keygen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// An allowed-signers file listing `key` for `principal`.
fn allowed_signers(dir: &Path, principal: &str, key: &Path) -> PathBuf {
    let public = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
    let path = dir.join("allowed_signers");
    std::fs::write(&path, format!("{principal} namespaces=\"git\" {public}")).expect("write");
    path
}

/// How `git` signs: its `-c` settings and the `GNUPGHOME` of gpg's keys.
#[derive(Clone)]
struct Signing {
    config: Vec<String>,
    gnupg_home: Option<PathBuf>,
}

impl Signing {
    fn ssh(key: &Path) -> Signing {
        Signing {
            config: vec![
                "gpg.format=ssh".into(),
                format!("user.signingkey={}", key.display()),
            ],
            gnupg_home: None,
        }
    }

    fn gpg(home: &Path, fingerprint: &str) -> Signing {
        Signing {
            config: vec![
                "gpg.format=openpgp".into(),
                format!("user.signingkey={fingerprint}"),
            ],
            gnupg_home: Some(home.to_owned()),
        }
    }

    /// `git ARGS…` in `dir` with these settings; its stdout, trimmed.
    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(dir);
        for c in ["user.name=Admin", "user.email=admin@acme.example"]
            .iter()
            .map(|c| c.to_string())
            .chain(self.config.clone())
        {
            cmd.arg("-c").arg(c);
        }
        if let Some(home) = &self.gnupg_home {
            cmd.env("GNUPGHOME", home);
        }
        let out = cmd.args(args).output().expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

/// `git commit -a` of `from` → `to` in the user roles, signed as `signing`
/// says (unsigned when `None`); returns the commit id.
fn commit(work: &Path, signing: Option<&Signing>, from: &str, to: &str) -> String {
    util::edit(&work.join(USER_ROLES), from, to);
    match signing {
        Some(s) => s.git(work, &["commit", "-q", "-S", "-am", MESSAGE]),
        None => git(work, &["commit", "-q", "-am", MESSAGE]),
    };
    git(work, &["rev-parse", "HEAD"])
}

/// A commit signed as `signing` says (made by `git commit-tree -S`, so no
/// branch ever points at it) whose message is then changed, its signature
/// kept: what someone who rewrites a signed commit makes. The branch is
/// moved to the forgery; returns its id.
fn forge(work: &Path, signing: &Signing, from: &str, to: &str) -> String {
    util::edit(&work.join(USER_ROLES), from, to);
    git(work, &["add", "-A"]);
    let tree = git(work, &["write-tree"]);
    let signed = signing.git(
        work,
        &["commit-tree", "-S", &tree, "-p", "HEAD", "-m", MESSAGE],
    );
    let object = git(work, &["cat-file", "commit", &signed]);
    let forged = object.replace(MESSAGE, "an innocent message");
    assert_ne!(forged, object);
    let mut child = Command::new("git")
        .arg("-C")
        .arg(work)
        .args(["hash-object", "-t", "commit", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("git runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{forged}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("git ends");
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    git(work, &["update-ref", "refs/heads/main", &id]);
    id
}

/// A GnuPG home that stops its agent when dropped.
struct GnupgHome(PathBuf);

impl GnupgHome {
    fn new(path: PathBuf) -> GnupgHome {
        std::fs::create_dir_all(&path).expect("mkdir");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod");
        GnupgHome(path)
    }

    fn gpg(&self, args: &[&str]) -> std::process::Output {
        let out = Command::new("gpg")
            .env("GNUPGHOME", &self.0)
            .args(["--batch", "--no-tty"])
            .args(args)
            .output()
            .expect("gpg runs");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// A new signing key for `uid`; its fingerprint.
    fn new_key(&self, uid: &str) -> String {
        self.gpg(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            uid,
            "ed25519",
            "sign",
            "never",
        ]);
        let out = self.gpg(&["--with-colons", "--list-keys", uid]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let fpr = text
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .expect("a fingerprint");
        fpr.trim_matches(':').to_owned()
    }
}

impl Drop for GnupgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.0)
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

/// Wait until the daemon's last attempt is `revision`; the attempt's first
/// error code.
fn refused_with(d: &Daemon, revision: &str) -> String {
    wait_until(LIMIT, "the refusal", || {
        d.status()["attempted"]["revision"].as_str() == Some(revision)
    });
    let status = d.status();
    assert_eq!(status["attempted"]["result"], "failed", "{status}");
    status["attempted"]["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn only_commits_signed_by_an_allowed_key_are_applied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let alice = Signing::ssh(&key(dir.path(), "alice"));
    let mallory = Signing::ssh(&key(dir.path(), "mallory"));
    let signers = allowed_signers(dir.path(), "alice@acme.example", &dir.path().join("alice"));
    let signers = signers.to_str().expect("utf-8");
    refuses_all_but_the_trusted(
        dir.path(),
        &alice,
        &mallory,
        &["--allowed-signers", signers],
    );
}

#[test]
fn only_commits_signed_by_a_key_of_the_gpg_keyring_are_applied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let signer = GnupgHome::new(dir.path().join("gnupg"));
    let alice_key = signer.new_key("Alice <alice@acme.example>");
    let mallory_key = signer.new_key("Mallory <mallory@acme.example>");
    // The daemon's keyring holds only alice's public key.
    let trusted = GnupgHome::new(dir.path().join("trusted"));
    let public = signer.gpg(&["--armor", "--export", &alice_key]).stdout;
    let file = dir.path().join("alice.asc");
    std::fs::write(&file, public).expect("write");
    trusted.gpg(&["--import", file.to_str().expect("utf-8")]);
    let alice = Signing::gpg(&signer.0, &alice_key);
    let mallory = Signing::gpg(&signer.0, &mallory_key);
    let home = trusted.0.to_str().expect("utf-8");
    refuses_all_but_the_trusted(dir.path(), &alice, &mallory, &["--gpg-home", home]);
}

/// A daemon that requires signatures (`keys`: its key flags) applies the
/// first commit `alice` signs, refuses an unsigned one, one `mallory`
/// signs and a forgery of one `alice` signed, keeping the file (also
/// across a restart), and applies the next commit `alice` signs.
fn refuses_all_but_the_trusted(dir: &Path, alice: &Signing, mallory: &Signing, keys: &[&str]) {
    let work = dir.join("config");
    util::copy_tree(&util::root().join("sample-repo"), &work);
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    let user = |name: &str| format!("<user name=\"{name}\">");
    let first = commit(&work, Some(alice), &user("dave"), &user("erin"));
    let access = dir.join("access");
    let mut flags = vec!["--require-signed"];
    flags.extend(keys);
    let d = Daemon::start(&work, &access, &dir.join("state"), &flags);
    wait_until(LIMIT, "the signed first commit", || {
        d.applied_revision().as_deref() == Some(first.as_str())
    });
    let served = std::fs::read_to_string(&access).expect("published");
    assert!(
        served.contains("elibrary-project_user = carol, erin\n"),
        "{served}"
    );

    let unsigned = commit(&work, None, &user("erin"), &user("frank"));
    assert_eq!(refused_with(&d, &unsigned), "commit-unsigned");
    let stranger = commit(&work, Some(mallory), &user("frank"), &user("grace"));
    assert_eq!(refused_with(&d, &stranger), "commit-signer-not-allowed");
    let forged = forge(&work, alice, &user("grace"), &user("heidi"));
    assert_eq!(refused_with(&d, &forged), "commit-signature-bad");
    assert_eq!(d.applied_revision().as_deref(), Some(first.as_str()));
    assert_eq!(std::fs::read_to_string(&access).expect("kept"), served);
    let (_, health) = d.http("GET", "/healthz", None);
    assert!(health.contains("degraded"), "{health}");
    // A restart on the refused head serves the revision applied before.
    drop(d);
    let d = Daemon::start(&work, &access, &dir.join("state"), &flags);
    assert_eq!(refused_with(&d, &forged), "commit-signature-bad");
    assert_eq!(d.applied_revision().as_deref(), Some(first.as_str()));
    assert_eq!(std::fs::read_to_string(&access).expect("kept"), served);

    let good = commit(&work, Some(alice), &user("heidi"), &user("alice"));
    wait_until(LIMIT, "the signed commit", || {
        d.applied_revision().as_deref() == Some(good.as_str())
    });
    let published = std::fs::read_to_string(&access).expect("published");
    assert!(
        published.contains("elibrary-project_user = alice, carol\n"),
        "{published}"
    );
    let audit = std::fs::read_to_string(dir.join("state/audit.jsonl")).expect("audit");
    assert!(audit.contains("commit-signer-not-allowed"), "{audit}");
}

#[test]
fn a_signature_that_cannot_be_checked_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let alice = key(dir.path(), "alice");
    let signers = allowed_signers(dir.path(), "alice@acme.example", &alice);
    let work = dir.path().join("config");
    util::copy_tree(&util::root().join("sample-repo"), &work);
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    let user = |name: &str| format!("<user name=\"{name}\">");
    let head = commit(
        &work,
        Some(&Signing::ssh(&alice)),
        &user("dave"),
        &user("erin"),
    );
    // No ssh-keygen on the daemon's PATH.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let mut cmd = util::rolesync();
    cmd.env("PATH", &empty)
        .arg("serve")
        .arg("--repo")
        .arg(&work)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--poll-interval",
            "0s",
            "--require-signed",
        ])
        .arg("--allowed-signers")
        .arg(&signers)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let d = Daemon::spawn(cmd);
    assert_eq!(refused_with(&d, &head), "commit-signature-unchecked");
    let status = d.status();
    let message = status["attempted"]["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("cannot run ssh-keygen"), "{status}");
    assert_eq!(d.applied_revision(), None);
}

#[test]
fn require_signed_without_allowed_signers_does_not_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("config");
    util::sample_repository(&work);
    let out = util::run([
        "serve",
        "--repo",
        work.to_str().expect("utf-8"),
        "--require-signed",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", util::stderr(&out));
    assert!(
        util::stderr(&out).contains("allowed_signers"),
        "{}",
        util::stderr(&out)
    );
}

/// A follower of a remote (`serve --remote`, issue 14) that requires
/// signatures applies the pushed commit alice signed, refuses an unsigned
/// push (its file and applied revision kept) and applies the next signed
/// one: the check runs on the mirror's head like on a local repository.
#[test]
fn a_follower_of_a_remote_applies_only_signed_pushes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let alice = Signing::ssh(&key(dir.path(), "alice"));
    let signers = allowed_signers(dir.path(), "alice@acme.example", &dir.path().join("alice"));
    let work = dir.path().join("config");
    util::copy_tree(&util::root().join("sample-repo"), &work);
    git(&work, &["init", "-q"]);
    git(&work, &["add", "-A"]);
    let user = |name: &str| format!("<user name=\"{name}\">");
    let first = commit(&work, Some(&alice), &user("dave"), &user("erin"));
    let bare = dir.path().join("remote.git");
    let bare_arg = bare.to_str().expect("utf-8");
    git(&work, &["clone", "-q", "--bare", ".", bare_arg]);
    git(&work, &["remote", "add", "origin", bare_arg]);
    let flags = [
        "--require-signed",
        "--allowed-signers",
        signers.to_str().expect("utf-8"),
        "--remote-poll",
        "1h",
    ];
    let url = format!("file://{bare_arg}");
    let f = Follower::start(dir.path(), "follower", &url, &flags);
    let applied = |f: &Follower| {
        f.status()["applied"]["revision"]
            .as_str()
            .map(str::to_owned)
    };
    wait_until(LIMIT, "the signed first commit", || {
        applied(&f).as_deref() == Some(first.as_str())
    });
    let served = f.file();
    assert!(
        served.contains("elibrary-project_user = carol, erin\n"),
        "{served}"
    );

    let unsigned = commit(&work, None, &user("erin"), &user("frank"));
    git(&work, &["push", "-q", "origin", "HEAD"]);
    f.notify();
    wait_until(LIMIT, "the unsigned push's refusal", || {
        f.status()["attempted"]["revision"].as_str() == Some(unsigned.as_str())
    });
    let status = f.status();
    assert_eq!(status["attempted"]["result"], "failed", "{status}");
    assert_eq!(
        status["attempted"]["errors"][0]["code"], "commit-unsigned",
        "{status}"
    );
    assert_eq!(applied(&f).as_deref(), Some(first.as_str()));
    assert_eq!(f.file(), served);

    let good = commit(&work, Some(&alice), &user("frank"), &user("grace"));
    git(&work, &["push", "-q", "origin", "HEAD"]);
    f.notify();
    wait_until(LIMIT, "the signed push", || {
        applied(&f).as_deref() == Some(good.as_str())
    });
    assert!(
        f.file().contains("elibrary-project_user = carol, grace\n"),
        "{}",
        f.file()
    );
}
