//! The known_hosts verdicts of `remote_trust.rs` (the certificate and the
//! host key against real servers: tests/it/follow_remote.rs).

use super::*;

const KEY: &[u8] = b"\0\0\0\x0bssh-ed25519\0\0\0\x20the-host-key-of-the-test-server.";
const OTHER: &[u8] = b"\0\0\0\x0bssh-ed25519\0\0\0\x20another-key-for-the-same-server";

fn line(hosts: &str, key: &[u8]) -> String {
    format!(
        "{hosts} ssh-ed25519 {}\n",
        openssl::base64::encode_block(key)
    )
}

fn check(text: &str, name: &str, expect: HostKey) {
    assert_eq!(known_host(text, name, KEY), expect, "{text}");
}

#[test]
fn a_listed_key_is_known_and_another_one_for_the_host_changed() {
    let file = line("git.example,[127.0.0.1]:2222", KEY);
    check(&file, "git.example", HostKey::Known);
    check(&file, "[127.0.0.1]:2222", HostKey::Known);
    check(
        &line("[127.0.0.1]:2222", OTHER),
        "[127.0.0.1]:2222",
        HostKey::Changed,
    );
    check(&file, "127.0.0.1", HostKey::Unknown);
    check(&file, "[127.0.0.1]:2223", HostKey::Unknown);
    check("# only a comment\n\n", "git.example", HostKey::Unknown);
}

#[test]
fn a_revoked_key_is_refused_even_when_listed() {
    let file = format!("@revoked {}{}", line("h", KEY), line("h", KEY));
    check(&file, "h", HostKey::Revoked);
    check(&line("@cert-authority h", KEY), "h", HostKey::Unknown);
}

#[test]
fn hashed_names_match_their_host_only() {
    // RFC 2202's first HMAC-SHA1 test case.
    let digest = hmac_sha1(&[0x0b; 20], b"Hi There").expect("hmac");
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, "b617318655057264e28bc0b6fb378c8ef146be00");
    let salt = b"0123456789abcdefghij";
    let hash = hmac_sha1(salt, b"[127.0.0.1]:2222").expect("hmac");
    let pattern = format!(
        "|1|{}|{}",
        openssl::base64::encode_block(salt),
        openssl::base64::encode_block(&hash)
    );
    check(&line(&pattern, KEY), "[127.0.0.1]:2222", HostKey::Known);
    check(&line(&pattern, KEY), "[127.0.0.1]:2223", HostKey::Unknown);
    check(&line("|1|not base64|x", KEY), "h", HostKey::Unknown);
}

#[test]
fn a_port_off_22_is_named_in_brackets() {
    assert_eq!(known_hosts_name("h", Some(22)), "h");
    assert_eq!(known_hosts_name("h", None), "h");
    assert_eq!(known_hosts_name("h", Some(2222)), "[h]:2222");
    assert_eq!(known_hosts_name("[::1]", Some(2222)), "[::1]:2222");
}

#[test]
fn a_ca_bundle_without_certificates_stops_the_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate\n").expect("write");
    let err = ServerTrust::load(Some(&ca), None)
        .expect_err("no PEM")
        .to_string();
    assert!(err.contains("no PEM certificate"), "{err}");
    let big = dir.path().join("known_hosts");
    std::fs::write(&big, vec![b'#'; MAX_TRUST_FILE_BYTES as usize + 1]).expect("write");
    let err = ServerTrust::load(None, Some(&big))
        .expect_err("too big")
        .to_string();
    assert!(err.contains("larger than"), "{err}");
}
