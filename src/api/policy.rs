//! Permission routes over the current snapshot's `policy::Index`:
//!
//! - `GET /v1/check?user=U&permission=P[&project=X][&object=k=v…]` (or
//!   `rest=VERB /path` in place of permission and project): one decision;
//! - `POST /v1/check`: many permissions × many projects for one user in one
//!   call (like Jira's bulk permission check);
//! - `GET /v1/explain?…` (the parameters of `GET /v1/check`): the chain;
//! - `GET /v1/users/{login}`: roles by scope, groups, login and assignable
//!   status, disabled;
//! - `/v1/authorize` (any method): a reverse proxy's sub-request. The
//!   original method and URI come in the headers of the configured
//!   [`ProxyKind`] only (nginx: `X-Original-Method` / `X-Original-URI`;
//!   forward-auth: `X-Forwarded-Method` / `X-Forwarded-Uri`), the user in
//!   the configured header (`--user-header`); the answer is 204, or 403 with
//!   exactly the body Polarion's REST API refuses calls with. A missing,
//!   repeated or conflicting header, or a path `policy::RestPath` refuses,
//!   is a 403: never decided on.
//!
//! Every JSON answer carries the revision that answered (`/v1/authorize`
//! in the `X-Rolesync-Revision` header, since its 403 body is fixed). An
//! optional `min_revision` parameter makes the answer 409 while the loaded
//! revision is older. Each route has its file, with its answer types
//! (`Serialize` DTOs, fields in the order the answers have always had):
//! `check` (one decision, [`Decided`](check::Decided)), `bulk`, `explain`
//! (also the roles of `user`), `user`, `authorize`; `params` is the query
//! of check and explain. This file only declares them and their routes.

use std::sync::Arc;

use axum::Router;
use axum::routing::{any, get};

use crate::api::shared::Shared;

mod authorize;
mod bulk;
mod check;
mod explain;
mod params;
mod user;

pub use crate::api::proxy::{AuthorizeLayers, ProxyKind};
pub use crate::api::reply::REVISION_HEADER;
pub use explain::{explanation_json, rest_explanation_json};

/// The permission routes; `api::router` guards them like `/v1/status`.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/check", get(check::check_get).post(bulk::check_post))
        .route("/v1/explain", get(explain::explain))
        .route("/v1/users/{login}", get(user::user))
        .route("/v1/authorize", any(authorize::authorize))
}
