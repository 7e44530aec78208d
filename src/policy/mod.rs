//! Permission decisions with Polarion's semantics (the documents in
//! `../shared/seeds/`; docs/permissions.md cites them rule by rule): which roles
//! a user holds in a context, what each role's state of a permission is
//! (explicit or inherited, grant or deny), how the states combine, and the
//! rules around them — global `admin`, login and "[disabled]", custom sets
//! and their queries, parent permissions, field and Document rules, REST
//! endpoint permissions.
//!
//! Pure: values in, values out. [`Index::build`] rearranges a validated
//! [`Model`](crate::model::Model) once per snapshot; [`Index::check`] and
//! [`Index::explain`] answer a [`Request`] along one code path, so the
//! verdict of an explanation is always the verdict of the check.
//!
//! - `state`: the five states and the one table-driven `combine`;
//! - `names`: the table of parent permissions, login and REST names, REST
//!   calls (`VERB /path`) and the exact 403 body;
//! - `query`: the custom-set query language (parse at load, evaluate per
//!   request);
//! - `rest`: the two layers of a REST call (endpoint, then item) and the
//!   table of item permissions;
//! - `index`: the indexes (`build`, or `build_cached` from the parts of
//!   the index before), the decision (`decide`, with the
//!   recorder of `record`) and the user view (`view`);
//! - `explain`: the recorded chain and its text form (a leaf: `index`
//!   fills it in, it knows nothing of `index`).

mod explain;
mod index;
pub mod names;
pub mod query;
pub mod rest;
pub mod state;

pub use explain::AccountStatus;
pub use explain::{
    Context, Explanation, Purpose, Reason, RoleLine, SetLine, Setting, Step, Verdict, Via,
};
pub use index::{Index, IndexMemo, Request, RequestError, RoleHeld, UserView};
pub use names::{
    FORBIDDEN_BODY, LOGIN, MAX_REST_PATH_BYTES, PathRefusal, RestCall, RestError, RestPath, Verb,
};
pub use query::Object;
pub use state::{Level, State};

#[cfg(test)]
mod tests;
