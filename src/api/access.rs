//! `GET /v1/access?user=&path=&repository=[&recursive=true][&min_revision=]`:
//! what the published access file grants, answered like `rolesync access`
//! (`svnauthz accessof`) from the current snapshot's access file, with the
//! revision that decided.
//!
//! Parameters: `user` (required; empty is the anonymous user), `path`
//! (required; canonicalised once — a leading `/`, no empty or `.` segment,
//! no trailing `/` — and refused with a `..` segment, which no server asks
//! about), `repository` (optional; empty or absent: repository-neutral
//! sections only), `recursive` (`true`/`false`: `svnauthz accessof -R`),
//! `min_revision`. Bounds: `user` and `repository` at most
//! [`MAX_NAME_BYTES`], `path` at most [`MAX_PATH_BYTES`]; no control
//! character; every parameter at most once; anything else is 400.
//!
//! The access file is loaded into an [`Authz`] once per snapshot (on the
//! blocking pool, behind the heavy-request semaphore) and kept beside a
//! weak reference to the snapshot it belongs to; a decision on it is a few
//! lookups and runs on the async worker, a recursive one (a pass over the
//! rule tree) on the blocking pool.

use std::sync::{Arc, Mutex, Weak};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;

use super::decisions::{Endpoint, Outcome};
use super::error::ApiError;
use super::reply::{Reply, error, heavy, loaded, snapshot};
use super::shared::Shared;
use crate::authz::{Access, Authz, canonicalize};
use crate::snapshot::Snapshot;

/// The longest `user` or `repository` accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// The longest `path` accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 4096;

/// The `/v1/access` route; `api::router` guards it like `/v1/status`.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    let cache = Arc::new(AuthzCache::default());
    Router::new().route(
        "/v1/access",
        get(move |state, query| access_get(state, query, cache.clone())),
    )
}

/// One question of `/v1/access`, checked and canonicalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessQuery {
    /// `None`: the anonymous user.
    pub user: Option<String>,
    /// Canonical.
    pub path: String,
    pub repository: Option<String>,
    pub recursive: bool,
    pub min_revision: Option<String>,
}

/// The one decision of `/v1/access` (what a decision counter wraps).
pub fn answer(authz: &Authz, q: &AccessQuery) -> Access {
    let (user, repo) = (q.user.as_deref(), q.repository.as_deref());
    if q.recursive {
        authz.access_below(user, repo, &q.path)
    } else {
        authz.access(user, repo, Some(&q.path))
    }
}

/// Parse the query's pairs; the error is the 400 message.
pub fn parse(pairs: Vec<(String, String)>) -> Result<AccessQuery, String> {
    let (mut user, mut path, mut repository, mut recursive, mut min_revision) =
        (None, None, None, None, None);
    for (k, v) in pairs {
        let (slot, max) = match k.as_str() {
            "user" => (&mut user, MAX_NAME_BYTES),
            "path" => (&mut path, MAX_PATH_BYTES),
            "repository" => (&mut repository, MAX_NAME_BYTES),
            "recursive" => (&mut recursive, 5),
            "min_revision" => (&mut min_revision, MAX_NAME_BYTES),
            other => {
                let shown: String = other.chars().take(64).collect();
                return Err(format!(
                    "unknown parameter `{}`",
                    crate::diag::escape_controls(&shown)
                ));
            }
        };
        if slot.is_some() {
            return Err(format!("the parameter `{k}` is given twice"));
        }
        if v.len() > max {
            return Err(format!("`{k}` is longer than {max} bytes"));
        }
        if v.chars().any(char::is_control) {
            return Err(format!("`{k}` holds a control character"));
        }
        *slot = Some(v);
    }
    let user = user.ok_or("the parameter `user` is required (empty: the anonymous user)")?;
    let path = path.ok_or("the parameter `path` is required")?;
    if path.split('/').any(|s| s == "..") {
        return Err("`path` holds a `..` segment; give the path it means".into());
    }
    let recursive = match recursive.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err("`recursive` is `true` or `false`".into()),
    };
    Ok(AccessQuery {
        user: Some(user).filter(|u| !u.is_empty()),
        path: canonicalize(&path),
        repository: repository.filter(|r| !r.is_empty()),
        recursive,
        min_revision: min_revision.filter(|r| !r.is_empty()),
    })
}

/// The answer of `/v1/access` (fields in alphabetical order).
#[derive(Debug, Serialize)]
struct AccessAnswer<'a> {
    access: &'static str,
    path: &'a str,
    recursive: bool,
    repository: Option<&'a str>,
    revision: &'a str,
    user: Option<&'a str>,
}

/// The access file of the snapshot last asked about, loaded.
#[derive(Debug, Default)]
struct AuthzCache {
    held: Mutex<Option<(Weak<Snapshot>, Arc<Authz>)>>,
}

impl AuthzCache {
    /// The loaded access file of `snap`, if it is the one held.
    fn get(&self, snap: &Arc<Snapshot>) -> Option<Arc<Authz>> {
        let held = self.held.lock().ok()?;
        let (weak, authz) = held.as_ref()?;
        // A live weak reference keeps its allocation: equal pointers are
        // the same snapshot.
        (weak.upgrade().is_some() && Weak::as_ptr(weak) == Arc::as_ptr(snap))
            .then(|| Arc::clone(authz))
    }

    fn put(&self, snap: &Arc<Snapshot>, authz: &Arc<Authz>) {
        if let Ok(mut held) = self.held.lock() {
            *held = Some((Arc::downgrade(snap), Arc::clone(authz)));
        }
    }
}

async fn access_get(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
    cache: Arc<AuthzCache>,
) -> Reply {
    let started = std::time::Instant::now();
    let answered = access_answer(&shared, pairs, cache).await;
    let outcome = match &answered {
        Err(_) => Outcome::Error,
        Ok((_, Access::No)) => Outcome::Deny,
        Ok(_) => Outcome::Allow,
    };
    shared.decisions.record(Endpoint::Access, outcome, started);
    answered.map(|(response, _)| response)
}

/// The answer and the access it gives.
async fn access_answer(
    shared: &Arc<Shared>,
    pairs: Vec<(String, String)>,
    cache: Arc<AuthzCache>,
) -> Result<(axum::response::Response, Access), ApiError> {
    let q =
        parse(pairs).map_err(|e| error(StatusCode::BAD_REQUEST, loaded(shared).as_deref(), e))?;
    let snap = snapshot(shared, q.min_revision.as_deref()).await?;
    if let Some(authz) = cache.get(&snap)
        && !q.recursive
    {
        return Ok(respond(&snap, &q, answer(&authz, &q)));
    }
    let revision = snap.revision.clone();
    heavy(shared, Some(&revision), move || {
        let authz = match cache.get(&snap) {
            Some(a) => a,
            None => {
                let a = Arc::new(Authz::load(&snap.access, None).map_err(|d| {
                    let first = d.first().map(|d| d.one_line()).unwrap_or_default();
                    error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        Some(&snap.revision),
                        format!("the published access file does not load: {first}"),
                    )
                })?);
                cache.put(&snap, &a);
                a
            }
        };
        Ok(respond(&snap, &q, answer(&authz, &q)))
    })
    .await
}

fn respond(snap: &Snapshot, q: &AccessQuery, access: Access) -> (axum::response::Response, Access) {
    let response = axum::Json(AccessAnswer {
        access: access.as_str(),
        path: &q.path,
        recursive: q.recursive,
        repository: q.repository.as_deref(),
        revision: &snap.revision,
        user: q.user.as_deref(),
    })
    .into_response();
    (response, access)
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
