//! What the API is configured with ([`Config`]) and the router's state
//! ([`Shared`]): a leaf every route file reads, so that no route file
//! imports the module that declares it.

use std::sync::Arc;

use super::decision_log::{DecisionLog, LogConfig};
use super::decisions::Decisions;
use super::proxy::{AuthorizeLayers, ProxyKind};
use super::serve::HttpLimits;
use crate::current::Current;

/// Whether the loaded revision (first) is the wanted one (second) or
/// newer. Blocking: the API runs it on the blocking pool.
pub type RevisionOrder = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// Reads and builds one revision of the configuration repository (for
/// `GET /v1/diff`); the error says why it cannot. Blocking: the API runs it
/// on the blocking pool.
pub type SnapshotReader =
    Arc<dyn Fn(&str) -> Result<crate::snapshot::Snapshot, String> + Send + Sync>;

/// Everything the API is configured with (from flags and the config file).
#[derive(Clone)]
pub struct Config {
    /// The bearer token at start (none: `POST /v1/reload` is refused); the
    /// one in force is `Current::token`, which SIGHUP replaces.
    pub token: Option<String>,
    /// Whether the API listens beyond loopback (then the token guards
    /// everything but `/healthz`).
    pub beyond_loopback: bool,
    /// The request header that names the user for `/v1/authorize`.
    pub user_header: axum::http::HeaderName,
    /// Which proxy's headers carry the original method and URI.
    pub proxy: ProxyKind,
    /// Which layers of a REST call `/v1/authorize` decides.
    pub authorize_layers: AuthorizeLayers,
    /// Every bound of the HTTP API.
    pub http: HttpLimits,
    /// How revisions order, for `min_revision`.
    pub is_at_least: RevisionOrder,
    /// How to read a revision's snapshot, for `GET /v1/diff` (`None`: the
    /// route answers 501).
    pub read_snapshot: Option<SnapshotReader>,
    /// The decision log (none: off).
    pub decision_log: Option<LogConfig>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("beyond_loopback", &self.beyond_loopback)
            .field("user_header", &self.user_header)
            .field("proxy", &self.proxy)
            .field("authorize_layers", &self.authorize_layers)
            .field("http", &self.http)
            .field("decision_log", &self.decision_log)
            .finish_non_exhaustive()
    }
}

/// The router's state: the current snapshot and status, the configuration,
/// the slots for heavy requests (bulk check, explain, user view), the
/// decision counters and the decision log.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) current: Arc<Current>,
    pub(crate) config: Config,
    pub(crate) heavy: Arc<tokio::sync::Semaphore>,
    pub(crate) decisions: Decisions,
    pub(crate) log: Option<DecisionLog>,
}

impl Shared {
    /// The decision log, when it is on and admits a line now.
    pub(crate) fn log_admits(&self) -> Option<&DecisionLog> {
        self.log.as_ref().filter(|l| l.admit())
    }
}
