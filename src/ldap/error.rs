//! What can go wrong in reading the directory: every error names what and
//! where (the server's URL, the DN), never the bind password. A leaf.

use std::path::PathBuf;

/// The `[ldap]` table cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("[ldap]: {0}")]
    Toml(String),
    #[error("[ldap] {key}: {why}")]
    Invalid { key: &'static str, why: String },
    #[error("[ldap] password_file {}: {why}", path.display())]
    Password { path: PathBuf, why: String },
    #[error("[ldap] ca_file {}: {why}", path.display())]
    CaFile { path: PathBuf, why: String },
}

/// A sync that yielded no snapshot, and why.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("no LDAP server could be used: {}", tried.join("; "))]
    Unreachable { tried: Vec<String> },
    #[error("{url}: bind as {dn:?} refused: {why}")]
    Bind {
        url: String,
        dn: String,
        why: String,
    },
    #[error("{url}: search below {base:?} failed: {why}")]
    Search {
        url: String,
        base: String,
        why: String,
    },
    #[error("{url}: the answer below {base:?} is incomplete: {why}")]
    Incomplete {
        url: String,
        base: String,
        why: String,
    },
    #[error("{url}: {what} at {dn:?} goes past {bound} = {limit}")]
    Bound {
        url: String,
        dn: String,
        what: String,
        bound: &'static str,
        limit: usize,
    },
    #[error("{url}: malformed answer at {dn:?}: {why}")]
    Malformed {
        url: String,
        dn: String,
        why: String,
    },
    #[error("{}: the sync did not finish within {after} (timeout)", url.as_deref().unwrap_or("connecting"))]
    Timeout { url: Option<String>, after: String },
}

/// A server's own text, as an error may quote it: control characters
/// escaped, at most 200 characters.
pub(crate) fn quoted(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(200)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(200).is_some() {
        out.push('…');
    }
    out
}

/// A result code with its name and the server's text, quoted.
pub(crate) fn result_text(result: &ldap3::LdapResult) -> String {
    let text = if result.text.is_empty() {
        String::new()
    } else {
        format!(": {}", quoted(&result.text))
    };
    let name = result.to_string();
    let name = name.split(", dn:").next().unwrap_or_default().to_owned();
    format!("{name}{text}")
}
