//! The daemon's settings, from flags and the config file; which of them
//! SIGHUP changes is `reconfig`'s.

use std::path::PathBuf;
use std::time::Duration;

use crate::publish;
use crate::repo;
use crate::snapshot::Limits;

/// Everything the daemon needs to know, from flags and the config file.
#[derive(Debug, Clone)]
pub struct Settings {
    pub source: repo::Source,
    /// The remote followed (`--remote`): `source` is its mirror, fetched
    /// before each reload; none for a local repository or folder.
    pub remote: Option<std::sync::Arc<repo::Remote>>,
    /// Where the synchronised access file is published.
    pub access_out: Option<PathBuf>,
    /// Where the last applied revision and the audit log are kept.
    pub state_dir: Option<PathBuf>,
    /// A safety-net poll, in case a file event is lost.
    pub poll_interval: Duration,
    /// How long a burst of triggers must be quiet before the reload.
    pub debounce: Duration,
    /// The bearer token of the HTTP API.
    pub token: Option<String>,
    /// Whether the HTTP API listens beyond loopback (then the token guards
    /// everything but `/healthz`).
    pub beyond_loopback: bool,
    pub limits: Limits,
    /// Mode and group of the published access file (default: those of the
    /// previous file).
    pub publish: publish::Options,
    /// The request header that names the user for `/v1/authorize`.
    pub user_header: axum::http::HeaderName,
    /// Which proxy's headers carry the original method and URI.
    pub proxy: crate::api::policy::ProxyKind,
    /// Which layers of a REST call `/v1/authorize` decides.
    pub authorize_layers: crate::api::policy::AuthorizeLayers,
    /// Every bound of the HTTP API.
    pub http: crate::api::HttpLimits,
    /// Apply only commits signed by these keys (`require_signed`).
    pub trust: Option<repo::signature::Trust>,
    /// The decision log (none: off).
    pub decision_log: Option<crate::api::decision_log::LogConfig>,
    /// When the audit log is rotated (`audit_max_bytes`, `audit_keep`).
    pub audit: super::state::Rotation,
    /// Where readiness goes (`sd_notify`; nowhere when not under systemd).
    pub notify: super::sdnotify::Notifier,
    /// Re-reads the config and token files on SIGHUP (none: SIGHUP only
    /// reloads the repository).
    pub reread: Option<super::reconfig::Reread>,
    /// The settings that need a restart, as shown, for SIGHUP to compare.
    pub fixed: Vec<super::reconfig::Setting>,
    /// The directory synced (`[ldap]`), none without one.
    pub directory: Option<super::directory::DirectorySettings>,
}

impl Settings {
    /// The settings SIGHUP may change, as they are now.
    pub fn live(&self) -> super::reconfig::Live {
        super::reconfig::Live {
            poll_interval: self.poll_interval,
            debounce: self.debounce,
            token: self.token.clone(),
            limits: self.limits,
            publish: self.publish,
            hold_back: self.directory.as_ref().map(|d| d.hold_back),
        }
    }
}
