//! How a followed Git remote's server is trusted (issue 14): an `https://`
//! server's certificate, an `ssh://` server's host key. Without
//! configuration libgit2 decides: the system's CA store (or the bundle
//! `SSL_CERT_FILE` names when rolesync starts) and `~/.ssh/known_hosts`;
//! a server it does not trust is refused. With `remote_ca_file` the
//! certificate must verify against that bundle alone (chain and host name,
//! by OpenSSL); with `remote_known_hosts` the host key must be listed for
//! the host in that file (OpenSSH's format, plain or hashed names; no
//! wildcard patterns, no `@cert-authority`; a `@revoked` key is refused).
//! Both files are read once, at start, within `MAX_TRUST_FILE_BYTES`.
//!
//! A leaf of `mirror_git.rs`: `check` is its certificate callback.

use std::io::Read as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use git2::CertificateCheckStatus;
use git2::cert::Cert;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509, X509StoreContext};

use super::remote::RemoteError;

/// The most a CA bundle or a known_hosts file may hold.
pub const MAX_TRUST_FILE_BYTES: u64 = 1024 * 1024;

/// A trust file as read at start.
#[derive(Debug, Clone)]
struct TrustFile {
    path: PathBuf,
    text: Vec<u8>,
}

/// The operator's trust settings for the remote's server (none: libgit2's
/// defaults).
#[derive(Debug, Clone, Default)]
pub struct ServerTrust {
    ca: Option<TrustFile>,
    known_hosts: Option<TrustFile>,
}

impl ServerTrust {
    /// Read `ca` (PEM certificates) and `known_hosts`, each checked to
    /// parse, so that a wrong file stops the start, not every fetch.
    pub fn load(ca: Option<&Path>, known_hosts: Option<&Path>) -> Result<ServerTrust, RemoteError> {
        let ca = ca.map(read).transpose()?;
        if let Some(f) = &ca {
            let certs = X509::stack_from_pem(&f.text).unwrap_or_default();
            if certs.is_empty() {
                return Err(refused(&f.path, "no PEM certificate in it".into()));
            }
        }
        let known_hosts = known_hosts.map(read).transpose()?;
        if let Some(f) = &known_hosts
            && std::str::from_utf8(&f.text).is_err()
        {
            return Err(refused(&f.path, "not UTF-8 text".into()));
        }
        Ok(ServerTrust { ca, known_hosts })
    }

    /// The certificate callback's verdict on `cert`, presented by `host`
    /// (the URL's `port`): passed through to libgit2 when nothing is
    /// configured for its kind, accepted when the configured file trusts
    /// it, else why not.
    pub(super) fn check(
        &self,
        cert: &Cert<'_>,
        host: &str,
        port: Option<u16>,
    ) -> Result<CertificateCheckStatus, String> {
        if let Some(x509) = cert.as_x509() {
            let Some(ca) = &self.ca else {
                return Ok(CertificateCheckStatus::CertificatePassthrough);
            };
            return verify_x509(&ca.text, x509.data(), host)
                .map(|()| CertificateCheckStatus::CertificateOk)
                .map_err(|why| {
                    format!(
                        "the server's certificate is not trusted by remote_ca_file {}: {why}",
                        ca.path.display()
                    )
                });
        }
        let (Some(key), Some(file)) = (
            cert.as_hostkey().and_then(|k| k.hostkey()),
            &self.known_hosts,
        ) else {
            return Ok(CertificateCheckStatus::CertificatePassthrough);
        };
        let name = known_hosts_name(host, port);
        let text = String::from_utf8_lossy(&file.text);
        match known_host(&text, &name, key) {
            HostKey::Known => Ok(CertificateCheckStatus::CertificateOk),
            refusal => Err(format!(
                "the SSH host key of {name} {} remote_known_hosts {}",
                refusal.says(),
                file.path.display()
            )),
        }
    }
}

/// `path`, read within the bound.
fn read(path: &Path) -> Result<TrustFile, RemoteError> {
    let file = std::fs::File::open(path).map_err(|e| refused(path, e.to_string()))?;
    let mut text = Vec::new();
    file.take(MAX_TRUST_FILE_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| refused(path, e.to_string()))?;
    if text.len() as u64 > MAX_TRUST_FILE_BYTES {
        return Err(refused(
            path,
            format!("larger than {MAX_TRUST_FILE_BYTES} bytes"),
        ));
    }
    Ok(TrustFile {
        path: path.to_owned(),
        text,
    })
}

fn refused(path: &Path, message: String) -> RemoteError {
    RemoteError::Trust {
        path: path.to_owned(),
        message,
    }
}

/// Verify the server's certificate `der` for `host` against the PEM
/// bundle `ca` alone (OpenSSL's chain and host-name checks).
fn verify_x509(ca: &[u8], der: &[u8], host: &str) -> Result<(), String> {
    let ssl = |e: openssl::error::ErrorStack| e.to_string();
    let leaf = X509::from_der(der).map_err(ssl)?;
    let mut store = X509StoreBuilder::new().map_err(ssl)?;
    for cert in X509::stack_from_pem(ca).map_err(ssl)? {
        store.add_cert(cert).map_err(ssl)?;
    }
    let mut param = X509VerifyParam::new().map_err(ssl)?;
    match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => param.set_ip(ip),
        Err(_) => param.set_host(host),
    }
    .map_err(ssl)?;
    store.set_param(&param).map_err(ssl)?;
    let store = store.build();
    let chain = openssl::stack::Stack::new().map_err(ssl)?;
    let mut ctx = X509StoreContext::new().map_err(ssl)?;
    let verdict = ctx
        .init(&store, &leaf, &chain, |c| {
            Ok(if c.verify_cert()? {
                None
            } else {
                Some(c.error())
            })
        })
        .map_err(ssl)?;
    match verdict {
        None => Ok(()),
        Some(e) => Err(e.error_string().to_owned()),
    }
}

/// How `host` is named in known_hosts: `host`, or `[host]:port` off port 22.
fn known_hosts_name(host: &str, port: Option<u16>) -> String {
    match port {
        Some(p) if p != 22 => format!("[{}]:{p}", host.trim_matches(['[', ']'])),
        _ => host.to_owned(),
    }
}

/// What a known_hosts file says of a host's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostKey {
    Known,
    /// The host is listed with other keys only.
    Changed,
    Unknown,
    Revoked,
}

impl HostKey {
    fn says(self) -> &'static str {
        match self {
            HostKey::Known => "is in",
            HostKey::Changed => "changed: it is not the key listed for it in",
            HostKey::Unknown => "is unknown: the host is not listed in",
            HostKey::Revoked => "is revoked in",
        }
    }
}

/// The verdict of known_hosts `text` on host `name` presenting `key` (the
/// key's wire blob).
fn known_host(text: &str, name: &str, key: &[u8]) -> HostKey {
    let mut listed = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let mut hosts = fields.next().unwrap_or_default();
        let revoked = hosts == "@revoked";
        if revoked || hosts == "@cert-authority" {
            if !revoked {
                continue;
            }
            hosts = fields.next().unwrap_or_default();
        }
        let (_kind, blob) = (fields.next(), fields.next().unwrap_or_default());
        if !hosts.split(',').any(|p| host_matches(p, name)) {
            continue;
        }
        let same = openssl::base64::decode_block(blob).is_ok_and(|b| b == key);
        match (revoked, same) {
            (true, true) => return HostKey::Revoked,
            (false, true) => return HostKey::Known,
            (false, false) => listed = true,
            (true, false) => {}
        }
    }
    if listed {
        HostKey::Changed
    } else {
        HostKey::Unknown
    }
}

/// Whether the known_hosts pattern `pattern` names `name`: the name
/// itself, or its hashed form `|1|salt|HMAC-SHA1(salt, name)`.
fn host_matches(pattern: &str, name: &str) -> bool {
    let Some(hashed) = pattern.strip_prefix("|1|") else {
        return pattern == name;
    };
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (
        openssl::base64::decode_block(salt),
        openssl::base64::decode_block(hash),
    ) else {
        return false;
    };
    hmac_sha1(&salt, name.as_bytes()).is_some_and(|h| h == hash)
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    let key = openssl::pkey::PKey::hmac(key).ok()?;
    let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha1(), &key).ok()?;
    signer.update(data).ok()?;
    signer.sign_to_vec().ok()
}

#[cfg(test)]
#[path = "remote_trust_tests.rs"]
mod tests;
