//! OpenPGP signatures of commits (a leaf of `repo::signature`), checked as
//! `git verify-commit` checks them: `gpg --status-fd=1 --verify SIG -`
//! with the signed data on stdin, under the `GNUPGHOME` whose keyring
//! holds the trusted keys (every key in it is trusted, whatever its owner
//! trust: import only the keys whose commits are to be applied). Only
//! gpg's machine-readable status lines decide. A leaf: its verdict is its
//! own type, which `signature` turns into a refusal.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::signature_run as child;

/// What gpg made of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// A good signature: the user id and the key's fingerprint.
    Good { principal: String, key: String },
    /// The signature does not verify.
    Bad(String),
    /// A key that is not in the keyring, expired or revoked.
    NotTrusted(String),
    /// No verdict (gpg failed, or said neither good nor bad).
    None(String),
}

/// Check the signature in the file `signature` of `signed` with `gpg`
/// under `home`, within `timeout`.
pub(super) fn verify(
    gpg: &Path,
    signature: &Path,
    signed: &[u8],
    home: &Path,
    timeout: Duration,
) -> Verdict {
    let mut cmd = Command::new(gpg);
    cmd.env("GNUPGHOME", home)
        .env("LC_ALL", "C")
        .args(["--batch", "--no-tty", "--status-fd=1", "--verify"])
        .arg(signature)
        .arg("-");
    match child::run(cmd, signed, timeout) {
        Ok(ran) => match judge(&ran.stdout, ran.status.success()) {
            Verdict::None(_) => Verdict::None(ran.first_line().to_owned()),
            verdict => verdict,
        },
        Err(e) => Verdict::None(e),
    }
}

/// The verdict of gpg's status lines (`[GNUPG:] KEYWORD ARGS…`, doc/DETAILS
/// of GnuPG): a good signature needs `GOODSIG` and `VALIDSIG` and a
/// successful exit; an unknown, expired or revoked key is not trusted.
fn judge(status: &str, success: bool) -> Verdict {
    let lines: Vec<(&str, &str)> = status
        .lines()
        .filter_map(|l| l.strip_prefix("[GNUPG:] "))
        .map(|l| l.split_once(' ').unwrap_or((l, "")))
        .collect();
    let arg = |key: &str| lines.iter().find(|(k, _)| *k == key).map(|(_, a)| *a);
    if let Some(a) = arg("BADSIG") {
        return Verdict::Bad(format!("bad OpenPGP signature by {a}"));
    }
    for (key, what) in [
        ("NO_PUBKEY", "not in the keyring"),
        ("EXPKEYSIG", "expired"),
        ("REVKEYSIG", "revoked"),
        ("EXPSIG", "an expired signature"),
    ] {
        if let Some(a) = arg(key) {
            let id = a.split_whitespace().next().unwrap_or(a);
            return Verdict::NotTrusted(format!("OpenPGP key {id}: {what}"));
        }
    }
    match (arg("GOODSIG"), arg("VALIDSIG"), success) {
        (Some(good), Some(valid), true) => Verdict::Good {
            principal: good.split_once(' ').map_or(good, |(_, uid)| uid).to_owned(),
            key: valid
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned(),
        },
        _ => Verdict::None(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goodsig_and_validsig_name_the_signer() {
        let status = "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 0A53DC6346F4A930 Alice <alice@acme.example>\n\
                      [GNUPG:] VALIDSIG CFB6AE917D30BA798C38AB760A53DC6346F4A930 2026-12-02 1796169715 0 4\n";
        assert_eq!(
            judge(status, true),
            Verdict::Good {
                principal: "Alice <alice@acme.example>".to_owned(),
                key: "CFB6AE917D30BA798C38AB760A53DC6346F4A930".to_owned(),
            }
        );
    }

    #[test]
    fn a_good_signature_with_a_failed_exit_is_not_good() {
        let status = "[GNUPG:] GOODSIG 0A5 A\n[GNUPG:] VALIDSIG CFB 2026-12-02\n";
        assert!(matches!(judge(status, false), Verdict::None(_)));
    }

    #[test]
    fn an_unknown_key_is_not_allowed_and_a_bad_signature_bad() {
        let unknown = "[GNUPG:] ERRSIG 0A53DC6346F4A930 22 8 00 1796169715 9 -\n[GNUPG:] NO_PUBKEY 0A53DC6346F4A930\n";
        assert_eq!(
            judge(unknown, false),
            Verdict::NotTrusted("OpenPGP key 0A53DC6346F4A930: not in the keyring".to_owned())
        );
        let bad = "[GNUPG:] BADSIG 0A53DC6346F4A930 Alice\n";
        assert!(matches!(judge(bad, false), Verdict::Bad(_)));
    }
}
