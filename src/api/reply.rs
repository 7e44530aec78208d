//! What every JSON route of the API answers with: the error answer that
//! names the revision, the current snapshot after `min_revision` is
//! honoured, and the blocking pool for heavy work (at most
//! `max_heavy_requests` at once). Shared by `policy` and `schemes`.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::error::ApiError;
use super::shared::Shared;
use crate::snapshot::Snapshot;

/// The header that carries the revision of a `/v1/authorize` answer.
pub const REVISION_HEADER: &str = "x-rolesync-revision";

/// A JSON error that names the revision (null when none is loaded).
pub(crate) fn error(
    code: StatusCode,
    revision: Option<&str>,
    message: impl Into<String>,
) -> ApiError {
    ApiError::new(code, revision, message)
}

/// What a handler answers: its response, or an error answer.
pub(crate) type Reply = Result<Response, ApiError>;

/// The loaded revision, for answers given before a snapshot is in hand.
pub(crate) fn loaded(shared: &Shared) -> Option<String> {
    shared
        .current
        .snapshot
        .load()
        .as_ref()
        .map(|s| s.revision.clone())
}

/// The current snapshot, after `min_revision` is honoured.
pub(crate) async fn snapshot(
    shared: &Shared,
    min_revision: Option<&str>,
) -> Result<Arc<Snapshot>, ApiError> {
    let Some(current) = shared.current.snapshot.load_full() else {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "no configuration is loaded yet",
        ));
    };
    if let Some(wanted) = min_revision
        && !at_least(shared, &current.revision, wanted).await
    {
        return Err(ApiError::too_old(&current.revision, wanted));
    }
    Ok(current)
}

/// Whether `loaded` is `wanted` or newer, by the configured
/// [`RevisionOrder`](super::RevisionOrder), on the blocking pool.
async fn at_least(shared: &Shared, loaded: &str, wanted: &str) -> bool {
    if loaded == wanted {
        return true;
    }
    let order = shared.config.is_at_least.clone();
    let (loaded, wanted) = (loaded.to_owned(), wanted.to_owned());
    tokio::task::spawn_blocking(move || order(&loaded, &wanted))
        .await
        .unwrap_or(false)
}

/// Run `work` on the blocking pool, at most `max_heavy_requests` at once;
/// beyond, 503 with `Retry-After: 1`. Decision loops and large answers
/// never run on an async worker, so `/healthz` and `/v1/authorize` stay
/// prompt. (`T`: a response, or a response with what it decided.)
pub(crate) async fn heavy<T: Send + 'static>(
    shared: &Shared,
    revision: Option<&str>,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let Ok(permit) = shared.heavy.clone().try_acquire_owned() else {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            revision,
            format!(
                "too many heavy requests at once (max_heavy_requests = {}); retry",
                shared.config.http.max_heavy_requests
            ),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1")));
    };
    match tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    {
        Ok(r) => r,
        Err(e) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            revision,
            format!("the request task failed: {e}"),
        )),
    }
}
