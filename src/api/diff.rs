//! `GET /v1/diff?from=REV&to=REV`: what the change from one revision to
//! another does (docs/diff.md, the version-1 JSON of `rolesync diff
//! --format json`).
//!
//! The API knows no repository: `Config::read_snapshot` reads and builds a
//! revision (wired by the daemon to `repo::Source::read_at` +
//! `snapshot::build`). `from` and `to` must be revision-shaped — a Git
//! commit id (4 to 64 hex digits) or an SVN revision number — so a client
//! cannot name refs, paths or options. Both snapshots are read, built and
//! diffed on the blocking pool behind the heavy-request semaphore; the
//! loaded snapshot is reused when it is one of the two. The answer is
//! bounded by `diff::Bounds` and refused (413) beyond `max_answer_bytes`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::reply::{Reply, error, heavy, loaded};
use super::shared::Shared;
use crate::diff;
use crate::snapshot::Snapshot;

/// The diff route; `api::router` guards it like `/v1/status`.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/v1/diff", get(diff_get))
}

/// The longest revision accepted (a SHA-256 commit id).
const MAX_REVISION: usize = 64;
/// The longest SVN revision number accepted.
const MAX_SVN_DIGITS: usize = 10;

/// A Git commit id (4 to 64 hex digits) or an SVN revision number.
pub fn is_revision_shaped(rev: &str) -> bool {
    let digits =
        !rev.is_empty() && rev.len() <= MAX_SVN_DIGITS && rev.bytes().all(|b| b.is_ascii_digit());
    let hex = (4..=MAX_REVISION).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit());
    digits || hex
}

#[derive(Debug, serde::Deserialize)]
struct Params {
    from: Option<String>,
    to: Option<String>,
}

async fn diff_get(
    State(shared): State<Arc<Shared>>,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Reply {
    let loaded_rev = loaded(&shared);
    let bad = |m: String| error(StatusCode::BAD_REQUEST, loaded_rev.as_deref(), m);
    let Query(params) = params.map_err(|e| bad(e.body_text()))?;
    let (Some(from), Some(to)) = (params.from, params.to) else {
        return Err(bad("both `from` and `to` are required".into()));
    };
    for rev in [&from, &to] {
        if !is_revision_shaped(rev) {
            return Err(bad(format!(
                "`{}` is no revision: a commit id (4 to 64 hex digits) or an SVN revision number",
                crate::diag::escape_controls(&rev.chars().take(MAX_REVISION).collect::<String>())
            )));
        }
    }
    let Some(read) = shared.config.read_snapshot.clone() else {
        return Err(error(
            StatusCode::NOT_IMPLEMENTED,
            loaded_rev.as_deref(),
            "this server reads no revisions",
        ));
    };
    let current = shared.current.snapshot.load_full();
    let cap = shared.config.http.max_answer_bytes;
    let rev = loaded_rev.clone();
    heavy(&shared, loaded_rev.as_deref(), move || {
        let get = |r: &str| -> Result<Arc<Snapshot>, String> {
            match &current {
                Some(c) if c.revision == r => Ok(c.clone()),
                _ => read(r).map(Arc::new),
            }
        };
        let unprocessable = |m: String| error(StatusCode::UNPROCESSABLE_ENTITY, rev.as_deref(), m);
        let old = get(&from).map_err(unprocessable)?;
        let new = get(&to).map_err(unprocessable)?;
        let d = diff::diff(&old, &new).map_err(|e| unprocessable(e.to_string()))?;
        let body = serde_json::to_vec(&diff::json::to_json(&d)).map_err(|e| {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                rev.as_deref(),
                e.to_string(),
            )
        })?;
        if body.len() > cap {
            return Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                rev.as_deref(),
                format!(
                    "the diff would be larger than max_answer_bytes = {cap}; use `rolesync diff`"
                ),
            ));
        }
        Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::is_revision_shaped;

    #[test]
    fn revisions_are_commit_ids_or_numbers() {
        for ok in [
            "1",
            "42",
            "abcd",
            "0123456789abcdef0123456789abcdef01234567",
        ] {
            assert!(is_revision_shaped(ok), "{ok}");
        }
        for bad in [
            "",
            "main",
            "HEAD~1",
            "--all",
            "abc",
            "a/b",
            "1.5",
            &"a".repeat(65),
        ] {
            assert!(!is_revision_shaped(bad), "{bad}");
        }
    }
}
