//! Following a remote configuration repository (issue 14): the remote's
//! URL, checked once (a URL with credentials in it is refused; the
//! credentials come from a file or the environment), and its fetch into a
//! private mirror inside the state folder, which the ordinary Git or SVN
//! reading then reads. A fetch never moves the mirror back: a Git head
//! that does not descend from the applied commit, or an SVN remote whose
//! youngest revision is below the mirror's or whose UUID changed, is
//! refused (reported, not applied) unless rewinds are allowed.
//!
//! A leaf: the fetch itself is `mirror.rs`'s (Git: `mirror_git.rs`, git2
//! into a bare mirror, the one branch; SVN: `mirror_svn.rs`, `svnrdump
//! dump --incremental` into `svnadmin load`).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The kind of a remote repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RemoteKind {
    Git,
    Svn,
}

/// A remote's URL as given: a scheme rolesync fetches from, and no
/// credentials in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    url: String,
    scheme: String,
}

/// Why a remote cannot be followed as configured.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("remote {url:?}: {why}")]
    Url { url: String, why: &'static str },
    #[error("remote {url}: {message}")]
    Setup { url: String, message: String },
    #[error("the remote credentials file {}: {message}", path.display())]
    Credentials { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    Trust { path: PathBuf, message: String },
}

impl RemoteUrl {
    /// Check `url`: `git://`, `http(s)://`, `ssh://`, `file://`, `svn://`,
    /// `svn+ssh://`; user information is refused (`user:pass@` always; a
    /// bare user name but for the SSH schemes, where it is the account).
    pub fn parse(url: &str) -> Result<Self, RemoteError> {
        let refuse = |why| RemoteError::Url {
            url: without_userinfo(url),
            why,
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(refuse("not a URL (scheme://host/path)"));
        };
        let scheme = scheme.to_ascii_lowercase();
        const SCHEMES: &[&str] = &["git", "http", "https", "ssh", "file", "svn", "svn+ssh"];
        if !SCHEMES.contains(&scheme.as_str()) {
            return Err(refuse(
                "unknown scheme (git, http, https, ssh, file, svn, svn+ssh)",
            ));
        }
        if url.chars().any(char::is_control) {
            return Err(refuse("a control character in the URL"));
        }
        let authority = rest.split('/').next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if userinfo.contains(':') {
                return Err(refuse(
                    "a password in the URL: give it in the credentials file or the environment",
                ));
            }
            if !scheme.ends_with("ssh") {
                return Err(refuse(
                    "a user name in the URL: give it in the credentials file or the environment",
                ));
            }
        }
        Ok(RemoteUrl {
            url: url.to_owned(),
            scheme,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The URL without user information (an SSH account name), for the
    /// status and the logs.
    pub fn display(&self) -> String {
        without_userinfo(&self.url)
    }

    /// The kind of remote: `given`, else SVN for `svn://`, `svn+ssh://` and
    /// a `file://` SVN repository, else Git.
    pub fn kind(&self, given: Option<RemoteKind>) -> RemoteKind {
        if let Some(kind) = given {
            return kind;
        }
        match self.scheme.as_str() {
            "svn" | "svn+ssh" => RemoteKind::Svn,
            "file"
                if self
                    .file_path()
                    .is_some_and(|p| p.join("db/current").is_file()) =>
            {
                RemoteKind::Svn
            }
            _ => RemoteKind::Git,
        }
    }

    /// The port the URL names, if any (`host:port`, `[v6]:port`).
    pub fn port(&self) -> Option<u16> {
        let rest = self.url.split_once("://").map_or("", |(_, rest)| rest);
        let authority = rest.split('/').next().unwrap_or_default();
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (_, port) = host.rsplit_once(':')?;
        port.parse().ok()
    }

    /// The local path of a `file://` URL (`file:///srv/c`, `file://localhost/srv/c`).
    fn file_path(&self) -> Option<&Path> {
        let rest = self.url.get("file://".len()..)?;
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        path.starts_with('/').then(|| Path::new(path))
    }

    /// The last segment of the URL's path: an SVN mirror's folder is
    /// named after it, so that the guard rails name the repository as the
    /// remote's servers do (`[NAME:/path]`).
    pub fn repository_name(&self) -> String {
        let path = self.url.split_once("://").map_or("", |(_, rest)| rest);
        let name = match path.trim_end_matches('/').split_once('/') {
            Some((_, path)) => path.rsplit('/').next().unwrap_or_default(),
            None => "",
        };
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if plain {
            name.to_owned()
        } else {
            "repository".to_owned()
        }
    }
}

/// `url` with any user information removed, for messages.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{path}"),
        None => url.to_owned(),
    }
}

/// The remote's credentials, from a file or the environment, never the
/// command line: a user name and password (SVN, Git over `http(s)://`),
/// or an SSH private key and its passphrase (Git over `ssh://`).
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    /// Git over SSH: the private key's file.
    pub ssh_key: Option<PathBuf>,
    #[serde(default)]
    pub ssh_key_passphrase: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("ssh_key", &self.ssh_key)
            .finish_non_exhaustive()
    }
}

/// The environment variables that give the remote's credentials.
pub const USERNAME_VAR: &str = "ROLESYNC_REMOTE_USERNAME";
pub const PASSWORD_VAR: &str = "ROLESYNC_REMOTE_PASSWORD";

impl Credentials {
    /// The credentials file (TOML: `username`, `password`, `ssh_key`,
    /// `ssh_key_passphrase`, each optional), else the
    /// environment (`ROLESYNC_REMOTE_USERNAME`, `ROLESYNC_REMOTE_PASSWORD`),
    /// else none.
    pub fn load(file: Option<&Path>) -> Result<Option<Self>, RemoteError> {
        if let Some(path) = file {
            let err = |message: String| RemoteError::Credentials {
                path: path.to_owned(),
                message,
            };
            let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
            // The parse error could quote the file: only its kind is said.
            let c: Credentials = toml::from_str(&text).map_err(|_| {
                err(
                    "not TOML with `username`, `password`, `ssh_key`, `ssh_key_passphrase`"
                        .to_owned(),
                )
            })?;
            return Ok(Some(c));
        }
        match (std::env::var(USERNAME_VAR), std::env::var(PASSWORD_VAR)) {
            (Ok(username), password) => Ok(Some(Credentials {
                username,
                password: password.unwrap_or_default(),
                ..Credentials::default()
            })),
            _ => Ok(None),
        }
    }

    /// `text` with the password and the key's passphrase replaced by
    /// `***` (a remote's error may echo what it was sent).
    pub fn redact(&self, text: &str) -> String {
        [&self.password, &self.ssh_key_passphrase]
            .into_iter()
            .filter(|s| !s.is_empty())
            .fold(text.to_owned(), |t, secret| {
                t.replace(secret.as_str(), "***")
            })
    }
}

/// The bounds of one fetch: how long it may take and how many bytes the
/// remote may send (a hostile or broken remote cannot hold or fill the
/// daemon).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchBounds {
    pub timeout: Duration,
    pub max_bytes: u64,
}

impl Default for FetchBounds {
    fn default() -> Self {
        FetchBounds {
            timeout: Duration::from_secs(30),
            max_bytes: 256 * 1024 * 1024,
        }
    }
}

/// A remote to follow, with its mirror in the state folder.
#[derive(Debug, Clone)]
pub struct Remote {
    pub url: RemoteUrl,
    pub kind: RemoteKind,
    /// Git: the branch to fetch (default: the remote's HEAD branch).
    pub branch: Option<String>,
    pub credentials: Option<Credentials>,
    pub bounds: FetchBounds,
    /// Apply a head that does not descend from the applied one.
    pub allow_rewind: bool,
    /// Git over `https://` and `ssh://`: whom the server must prove to be.
    pub trust: super::remote_trust::ServerTrust,
    mirror: PathBuf,
}

/// What one fetch found: the remote's head, whether the mirror moved to
/// it, and why not when it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub head: String,
    pub refused: Option<String>,
}

impl Remote {
    /// The remote `url` of `kind`, mirrored in `state_dir`: `remote.git`
    /// (a bare repository) or `remote-svn/<name>` (an SVN repository named
    /// as the remote's last path segment).
    pub fn new(url: RemoteUrl, kind: RemoteKind, branch: Option<String>, state_dir: &Path) -> Self {
        let mirror = match kind {
            RemoteKind::Git => state_dir.join("remote.git"),
            RemoteKind::Svn => state_dir.join("remote-svn").join(url.repository_name()),
        };
        Remote {
            url,
            kind,
            branch,
            credentials: None,
            bounds: FetchBounds::default(),
            allow_rewind: false,
            trust: Default::default(),
            mirror,
        }
    }

    /// The mirror's folder (what `Source::open` reads).
    pub fn mirror(&self) -> &Path {
        &self.mirror
    }

    /// `text` with the password redacted.
    pub fn redact(&self, text: &str) -> String {
        match &self.credentials {
            Some(c) => c.redact(text),
            None => text.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_credentials_are_refused_without_echoing_them() {
        for url in [
            "https://bob:s3cret@example.org/config.git",
            "svn://bob:s3cret@example.org/config",
            "ssh://bob:s3cret@example.org/config.git",
        ] {
            let err = RemoteUrl::parse(url).expect_err(url).to_string();
            assert!(err.contains("password in the URL"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
        let err = RemoteUrl::parse("https://bob@example.org/c.git")
            .expect_err("user")
            .to_string();
        assert!(err.contains("user name in the URL"), "{err}");
        assert!(RemoteUrl::parse("ssh://git@example.org/c.git").is_ok());
    }

    #[test]
    fn only_known_schemes_are_followed() {
        for url in ["example.org:c.git", "ftp://example.org/c", "/srv/c.git"] {
            assert!(RemoteUrl::parse(url).is_err(), "{url}");
        }
        for url in [
            "git://127.0.0.1:9418/c.git",
            "file:///srv/c.git",
            "svn://h/c",
        ] {
            assert!(RemoteUrl::parse(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn the_kind_follows_the_scheme_unless_given() {
        let kind = |url: &str, given| RemoteUrl::parse(url).expect(url).kind(given);
        assert_eq!(kind("svn://h/c", None), RemoteKind::Svn);
        assert_eq!(kind("svn+ssh://h/c", None), RemoteKind::Svn);
        assert_eq!(kind("git://h/c.git", None), RemoteKind::Git);
        assert_eq!(kind("https://h/svn/c", None), RemoteKind::Git);
        assert_eq!(
            kind("https://h/svn/c", Some(RemoteKind::Svn)),
            RemoteKind::Svn
        );
    }

    #[test]
    fn the_port_is_the_authority_s() {
        let port = |url: &str| RemoteUrl::parse(url).expect(url).port();
        assert_eq!(port("ssh://git@127.0.0.1:2222/c.git"), Some(2222));
        assert_eq!(port("https://[::1]:8443/c.git"), Some(8443));
        assert_eq!(port("https://[::1]/c.git"), None);
        assert_eq!(port("ssh://h/c:1.git"), None);
    }

    #[test]
    fn an_svn_mirror_is_named_after_the_remote_repository() {
        let name = |url: &str| RemoteUrl::parse(url).expect(url).repository_name();
        assert_eq!(name("svn://h/repos/config/"), "config");
        assert_eq!(name("svn://h"), "repository");
        assert_eq!(name("svn://h/a%20b"), "repository");
    }

    #[test]
    fn the_password_is_redacted_and_never_debug_printed() {
        let c = Credentials {
            username: "bob".into(),
            password: "s3cret".into(),
            ssh_key_passphrase: "k3y-pass".into(),
            ..Credentials::default()
        };
        assert_eq!(
            c.redact("auth s3cret failed, k3y-pass"),
            "auth *** failed, ***"
        );
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
