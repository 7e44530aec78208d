//! The question of `GET /v1/check` and `GET /v1/explain`: the query
//! parameters, what they ask, and the status of a question that cannot be
//! decided.

use std::sync::Arc;

use axum::http::StatusCode;

use crate::api::error::ApiError;
use crate::api::reply::{error, loaded, snapshot};
use crate::api::shared::Shared;
use crate::policy::{Object, Request, RequestError, RestCall};
use crate::snapshot::Snapshot;

/// The parameters of `GET /v1/check` and `GET /v1/explain`.
#[derive(Debug, Default)]
pub(super) struct Params {
    pub(super) user: Option<String>,
    pub(super) permission: Option<String>,
    pub(super) project: Option<String>,
    /// Parsed (and its path canonicalised) as it comes in.
    pub(super) rest: Option<RestCall>,
    pub(super) object: Object,
    pub(super) min_revision: Option<String>,
}

impl Params {
    fn parse(pairs: Vec<(String, String)>) -> Result<Params, String> {
        let mut p = Params::default();
        for (k, v) in pairs {
            match k.as_str() {
                "user" => p.user = Some(v),
                "permission" => p.permission = Some(v),
                "project" => p.project = Some(v).filter(|s| !s.is_empty()),
                "rest" => p.rest = Some(RestCall::parse_line(&v).map_err(|e| e.to_string())?),
                "object" => p.object.push_pair(&v)?,
                "min_revision" => p.min_revision = Some(v).filter(|s| !s.is_empty()),
                other => return Err(format!("unknown parameter `{other}`")),
            }
        }
        Ok(p)
    }
}

/// The question a parameter set asks.
pub(super) fn request(p: &Params) -> Result<Request<'_>, String> {
    let (user, permission, project) = resolve(p)?;
    Ok(Request {
        user,
        permission,
        project,
        object: &p.object,
    })
}

/// Parse a GET query and find the snapshot to answer from
/// (`min_revision` honoured); an error is the response to send.
pub(super) async fn prepared(
    shared: &Shared,
    pairs: Vec<(String, String)>,
) -> Result<(Params, Arc<Snapshot>), ApiError> {
    let params = Params::parse(pairs)
        .map_err(|e| error(StatusCode::BAD_REQUEST, loaded(shared).as_deref(), e))?;
    let snap = snapshot(shared, params.min_revision.as_deref()).await?;
    Ok((params, snap))
}

/// The user, permission and project a parameter set asks about.
fn resolve(p: &Params) -> Result<(&str, &str, Option<&str>), String> {
    let user = p
        .user
        .as_deref()
        .ok_or("the parameter `user` is required")?;
    match (&p.rest, &p.permission) {
        (Some(_), Some(_)) => Err("give `permission` or `rest`, not both".into()),
        (Some(call), None) => {
            if p.project.is_some() {
                return Err("`rest` names its project in the path; drop `project`".into());
            }
            Ok((user, call.verb.permission(), call.project()))
        }
        (None, Some(perm)) => Ok((user, perm.as_str(), p.project.as_deref())),
        (None, None) => Err("the parameter `permission` (or `rest`) is required".into()),
    }
}

/// The status of a request that could not be decided: 404 for an unknown
/// project, 422 for a decision that depends on a query expander the caller
/// did not expand.
pub(super) fn request_error(e: &RequestError, revision: Option<&str>) -> ApiError {
    let code = match e {
        RequestError::UnknownProject(_) => StatusCode::NOT_FOUND,
        RequestError::Unexpanded { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    };
    error(code, revision, e.to_string())
}
