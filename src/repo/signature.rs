//! Signed commits: whether a Git commit is signed by a trusted key, checked
//! as `git verify-commit` checks an SSH signature (`gpg.format = ssh`).
//!
//! The signature and the data it signs are the commit object split as
//! Git splits it (libgit2's `extract_signature`: the `gpgsig` header out,
//! the rest byte for byte). `ssh-keygen -Y find-principals` names the
//! allowed-signers entries whose key made the signature, and `ssh-keygen
//! -Y verify -n git -I PRINCIPAL` checks it against the signed data; a
//! signature no entry names is told from a broken one by `ssh-keygen -Y
//! check-novalidate`. Every step is bounded: the commit's and the
//! signature's size (checked before they are read), each process's
//! running time and output. A commit that does not pass is a [`Refusal`]
//! with its own diagnostic code; the daemon then keeps what it applied.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::signature_run::{self as child, Ran};
use super::{Backend, Source};
use crate::diag::{Code, Diagnostic};

/// Bytes of a signature, at most (an SSH signature is under 2 KiB).
pub const MAX_SIGNATURE_BYTES: usize = 16 * 1024;
/// Bytes of a signed commit object, at most (headers and message).
pub const MAX_COMMIT_BYTES: usize = 1024 * 1024;
/// How long one `ssh-keygen` may run by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Allowed-signers entries tried for one signature, at most.
const MAX_PRINCIPALS: usize = 16;

/// Which signatures the daemon trusts: SSH signatures by the keys of an
/// allowed-signers file (`ssh-keygen(1)`, "ALLOWED SIGNERS", as Git's
/// `gpg.ssh.allowedSignersFile`), checked with `ssh_keygen`, and OpenPGP
/// signatures by any key of the keyring in `gpg_home` (a `GNUPGHOME`),
/// checked with `gpg`; each process within `timeout`.
#[derive(Debug, Clone)]
pub struct Trust {
    pub allowed_signers: Option<PathBuf>,
    pub gpg_home: Option<PathBuf>,
    pub ssh_keygen: PathBuf,
    pub gpg: PathBuf,
    pub timeout: Duration,
}

impl Trust {
    /// The keys of `allowed_signers` and of `gpg_home`, checked with the
    /// `ssh-keygen` and `gpg` of the `PATH` within [`DEFAULT_TIMEOUT`].
    pub fn new(allowed_signers: Option<PathBuf>, gpg_home: Option<PathBuf>) -> Self {
        Trust {
            allowed_signers,
            gpg_home,
            ssh_keygen: PathBuf::from("ssh-keygen"),
            gpg: PathBuf::from("gpg"),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The trust `require_signed`, `allowed_signers` and `gpg_home` (flags
    /// or the config file) ask for: none when signatures are not required;
    /// an error when keys are given without `require_signed` (keys that
    /// check nothing would look like protection) or `require_signed`
    /// without keys, when a file cannot be read, or when the source is no
    /// Git repository.
    pub fn configure(
        require_signed: bool,
        allowed_signers: Option<PathBuf>,
        gpg_home: Option<PathBuf>,
        kind: super::Kind,
    ) -> anyhow::Result<Option<Trust>> {
        let keys = allowed_signers.is_some() || gpg_home.is_some();
        match (require_signed, keys) {
            (false, false) => return Ok(None),
            (false, true) => anyhow::bail!(
                "allowed_signers and gpg_home check nothing without require_signed = true (--require-signed)"
            ),
            (true, false) => anyhow::bail!(
                "require_signed needs allowed_signers (--allowed-signers FILE) or gpg_home (--gpg-home DIR)"
            ),
            (true, true) => {}
        }
        if kind != super::Kind::Git {
            anyhow::bail!(
                "require_signed needs a Git repository; the source is {}",
                kind.describe()
            );
        }
        for path in allowed_signers.iter().chain(&gpg_home) {
            fs_err::metadata(path)?;
        }
        Ok(Some(Trust::new(allowed_signers, gpg_home)))
    }
}

/// Who signed a commit that passed: the allowed-signers principal and
/// the key's fingerprint as `ssh-keygen` printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub principal: String,
    pub key: String,
}

/// Why a commit is not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the commit is not signed, and only signed commits are applied")]
    Unsigned,
    #[error("the commit is signed by a key that is not trusted ({detail})")]
    NotAllowed { detail: String },
    #[error("the commit's signature does not verify: {detail}")]
    Bad { detail: String },
    #[error("the commit's signature could not be checked: {detail}")]
    Unchecked { detail: String },
}

impl Refusal {
    /// The diagnostic code of this refusal.
    pub fn code(&self) -> Code {
        match self {
            Refusal::Unsigned => Code::CommitUnsigned,
            Refusal::NotAllowed { .. } => Code::CommitSignerNotAllowed,
            Refusal::Bad { .. } => Code::CommitSignatureBad,
            Refusal::Unchecked { .. } => Code::CommitSignatureUnchecked,
        }
    }

    /// The refusal of `revision` as a diagnostic (its "file" is the commit).
    pub fn diagnostic(&self, revision: &str) -> Diagnostic {
        Diagnostic::file(self.code(), &format!("commit {revision}"), self.to_string()).with_note(
            "the last applied revision stays in force; push a commit signed by a trusted key",
        )
    }
}

impl Source {
    /// Whether the commit `revision` is signed by a key `trust` allows;
    /// only a Git source has signed commits (anything else is refused).
    pub fn check_signature(&self, revision: &str, trust: &Trust) -> Result<Signer, Refusal> {
        let Backend::Git { path, .. } = &self.0 else {
            return Err(Refusal::Unchecked {
                detail: format!("{} has no signed commits", self.kind().describe()),
            });
        };
        let (signature, signed) = extract(path, revision)?;
        verify(&signature, &signed, trust)
    }
}

/// The report of a refused `revision` (`None`: signed by a trusted key,
/// or no trust asked for), for the daemon to reject before building it.
pub fn refused(
    source: &Source,
    revision: &str,
    trust: Option<&Trust>,
) -> Option<crate::snapshot::Report> {
    let trust = trust?;
    match source.check_signature(revision, trust) {
        Ok(signer) => {
            tracing::info!(%revision, principal = %signer.principal, key = %signer.key, "signed by a trusted key");
            None
        }
        Err(refusal) => Some(crate::snapshot::Report {
            revision: revision.to_owned(),
            snapshot: None,
            diagnostics: vec![refusal.diagnostic(revision)],
            tests: Vec::new(),
        }),
    }
}

/// The commit's signature and the data it signs, each within its bound.
fn extract(path: &Path, revision: &str) -> Result<(Vec<u8>, Vec<u8>), Refusal> {
    let unchecked = |e: git2::Error| Refusal::Unchecked {
        detail: e.message().to_owned(),
    };
    let repo = super::git::open(path).map_err(unchecked)?;
    let oid = git2::Oid::from_str(revision).map_err(unchecked)?;
    let (size, _) = repo
        .odb()
        .and_then(|o| o.read_header(oid))
        .map_err(unchecked)?;
    if size > MAX_COMMIT_BYTES + MAX_SIGNATURE_BYTES {
        return Err(Refusal::Bad {
            detail: format!(
                "the commit object has {size} bytes, more than {MAX_COMMIT_BYTES} signed and {MAX_SIGNATURE_BYTES} of signature"
            ),
        });
    }
    let (signature, signed) = match repo.extract_signature(&oid, None) {
        Ok(pair) => pair,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Err(Refusal::Unsigned),
        Err(e) => return Err(unchecked(e)),
    };
    if signature.len() > MAX_SIGNATURE_BYTES {
        return Err(Refusal::Bad {
            detail: format!(
                "a signature of {} bytes, more than {MAX_SIGNATURE_BYTES}",
                signature.len()
            ),
        });
    }
    Ok((signature.to_vec(), signed.to_vec()))
}

/// The kind of an armored signature, by its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Armor {
    Ssh,
    OpenPgp,
    Other,
}

fn armor(signature: &[u8]) -> Armor {
    let first = signature.split(|b| *b == b'\n').next().unwrap_or_default();
    match first.trim_ascii() {
        b"-----BEGIN SSH SIGNATURE-----" => Armor::Ssh,
        b"-----BEGIN PGP SIGNATURE-----" => Armor::OpenPgp,
        _ => Armor::Other,
    }
}

/// Check `signature` of `signed` by its armor: SSH against the
/// allowed-signers file, OpenPGP against the keyring; a kind of signature
/// no key was given for is a signer not allowed.
fn verify(signature: &[u8], signed: &[u8], trust: &Trust) -> Result<Signer, Refusal> {
    let not_given = |kind: &str, key: &str| Refusal::NotAllowed {
        detail: format!("an {kind} signature, and no {key} is given"),
    };
    match armor(signature) {
        Armor::Ssh => {
            let allowed = trust
                .allowed_signers
                .as_deref()
                .ok_or_else(|| not_given("SSH", "allowed_signers"))?;
            verify_ssh(signature, signed, allowed, trust)
        }
        Armor::OpenPgp => {
            let home = trust
                .gpg_home
                .as_deref()
                .ok_or_else(|| not_given("OpenPGP", "gpg_home"))?;
            verify_gpg(signature, signed, home, trust)
        }
        Armor::Other => Err(Refusal::Bad {
            detail: "the signature is neither SSH nor OpenPGP armor".to_owned(),
        }),
    }
}

/// Check an OpenPGP signature of `signed` against the keyring in `home`.
fn verify_gpg(
    signature: &[u8],
    signed: &[u8],
    home: &Path,
    trust: &Trust,
) -> Result<Signer, Refusal> {
    use super::signature_gpg::{self as gpg, Verdict};
    let file = SignatureFile::write(signature)?;
    match gpg::verify(&trust.gpg, &file.0, signed, home, trust.timeout) {
        Verdict::Good { principal, key } => Ok(Signer { principal, key }),
        Verdict::Bad(detail) => Err(Refusal::Bad { detail }),
        Verdict::NotTrusted(detail) => Err(Refusal::NotAllowed { detail }),
        Verdict::None(detail) => Err(Refusal::Unchecked { detail }),
    }
}

/// Check an SSH signature of `signed` as Git does: the principals whose
/// key made it, then each one's verification, until one holds.
fn verify_ssh(
    signature: &[u8],
    signed: &[u8],
    allowed: &Path,
    trust: &Trust,
) -> Result<Signer, Refusal> {
    let file = SignatureFile::write(signature)?;
    let keygen = |args: &[&str], stdin| keygen(trust, allowed, args, &file, stdin);
    let found = keygen(&["-Y", "find-principals", "-f"], None)?;
    let principals = principals(&found);
    if principals.is_empty() {
        return Err(not_found(trust, &file, signed, &found));
    }
    let mut last = String::new();
    for principal in principals {
        let ran = keygen(
            &["-Y", "verify", "-n", "git", "-I", principal, "-f"],
            Some(signed),
        )?;
        if ran.status.success() {
            return Ok(Signer {
                principal: principal.to_owned(),
                key: key_of(&ran.stdout).unwrap_or_default().to_owned(),
            });
        }
        last = ran.first_line().to_owned();
    }
    Err(Refusal::Bad { detail: last })
}

/// No allowed-signers entry names the key: a signature that is sound by
/// itself is a signer not allowed, any other a bad signature.
fn not_found(trust: &Trust, file: &SignatureFile, signed: &[u8], found: &Ran) -> Refusal {
    let mut cmd = Command::new(&trust.ssh_keygen);
    cmd.args(["-Y", "check-novalidate", "-n", "git", "-s"])
        .arg(&file.0);
    match child::run(cmd, signed, trust.timeout) {
        Ok(ran) if ran.status.success() => Refusal::NotAllowed {
            detail: key_of(&ran.stdout)
                .map(|k| format!("key {k}"))
                .unwrap_or_else(|| found.first_line().to_owned()),
        },
        Ok(ran) => Refusal::Bad {
            detail: ran.first_line().to_owned(),
        },
        Err(detail) => Refusal::Unchecked { detail },
    }
}

/// `ssh-keygen ARGS… ALLOWED_SIGNERS -s SIGNATURE_FILE` with `stdin`.
fn keygen(
    trust: &Trust,
    allowed: &Path,
    args: &[&str],
    file: &SignatureFile,
    stdin: Option<&[u8]>,
) -> Result<Ran, Refusal> {
    let mut cmd = Command::new(&trust.ssh_keygen);
    cmd.args(args).arg(allowed).arg("-s").arg(&file.0);
    child::run(cmd, stdin.unwrap_or_default(), trust.timeout)
        .map_err(|detail| Refusal::Unchecked { detail })
}

/// The principals `find-principals` printed, one a line, at most [`MAX_PRINCIPALS`].
fn principals(found: &Ran) -> Vec<&str> {
    if !found.status.success() {
        return Vec::new();
    }
    found
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(MAX_PRINCIPALS)
        .collect()
}

/// The key of `Good "git" signature … with ED25519 key SHA256:…`.
fn key_of(stdout: &str) -> Option<&str> {
    let (_, rest) = stdout.split_once(" key ")?;
    rest.split_whitespace().next()
}

/// The signature in a file of its own (`ssh-keygen -s` reads a file; the
/// signed data goes to its stdin): created exclusively under a random
/// name, mode 0600, removed when dropped.
struct SignatureFile(PathBuf);

impl SignatureFile {
    fn write(signature: &[u8]) -> Result<Self, Refusal> {
        let unchecked = |e: std::io::Error| Refusal::Unchecked {
            detail: format!("the signature's temporary file: {e}"),
        };
        let name = format!(
            "rolesync-{}.sig",
            crate::publish::random_suffix().map_err(unchecked)?
        );
        let path = std::env::temp_dir().join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(unchecked)?;
        let guard = SignatureFile(path);
        file.write_all(signature).map_err(unchecked)?;
        Ok(guard)
    }
}

impl Drop for SignatureFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armor_is_told_by_the_first_line() {
        assert_eq!(armor(b"-----BEGIN SSH SIGNATURE-----\nU1NI\n"), Armor::Ssh);
        assert_eq!(armor(b"-----BEGIN PGP SIGNATURE-----\n\n"), Armor::OpenPgp);
        assert_eq!(armor(b"x"), Armor::Other);
    }

    #[test]
    fn the_key_is_read_from_ssh_keygen_s_line() {
        let line = "Good \"git\" signature for alice with ED25519 key SHA256:abc/def\n";
        assert_eq!(key_of(line), Some("SHA256:abc/def"));
        assert_eq!(key_of("nothing"), None);
    }

    #[test]
    fn each_refusal_has_its_own_code() {
        let codes: std::collections::BTreeSet<_> = [
            Refusal::Unsigned,
            Refusal::NotAllowed {
                detail: String::new(),
            },
            Refusal::Bad {
                detail: String::new(),
            },
            Refusal::Unchecked {
                detail: String::new(),
            },
        ]
        .iter()
        .map(Refusal::code)
        .collect();
        assert_eq!(codes.len(), 4);
    }
}
