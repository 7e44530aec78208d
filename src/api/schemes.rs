//! Jira permission schemes: a read-only view of the permission files in the
//! shapes of Jira Cloud's REST API (seed 004, "Permission schemes"), so
//! that integrations that speak Jira's model can read rolesync's.
//!
//! - `GET /v1/permissionschemes[?expand=…]`: `{"permissionSchemes": […]}`,
//!   grants only when `expand` names any value;
//! - `GET /v1/permissionschemes/{id}[?expand=…]`: one scheme, with its
//!   grants;
//! - `GET /v1/permissionschemes/{id}/permission`: its grants,
//!   `{"expand": "user,group,projectRole,field,all", "permissions": […]}`;
//! - `GET /v1/permissionschemes/{id}/permission/{grant}`: one grant.
//!
//! Scheme 0 is the global `permissions.xml`; every project with a
//! `permissions.xml` of its own (an overlay) is one more scheme, its id a
//! hash of the project id. A grant of a permission to a role is a grant
//! whose holder is the role in Jira's terms (`group` for a global role,
//! `projectRole` for a project role, `applicationRole` for `everyone`,
//! `reporter`/`assignee`/`projectLead`/`userCustomField` for the dynamic
//! roles). Denies have no Jira equivalent: they are listed apart, under
//! the extension field `rolesync.denies`, never among the grants. Every
//! choice is written in docs/permissions.md ("Jira permission schemes").
//!
//! The answers are serde DTOs (the model is never serialised); they are
//! built on the blocking pool behind the heavy-request semaphore and
//! written within `max_answer_bytes` (beyond: 413). The revision that
//! answered is in the `X-Rolesync-Revision` header, so that the bodies keep
//! the document's shapes; errors are `{"error": …, "revision": …}`.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::policy::{REVISION_HEADER, error, heavy, loaded, snapshot};
use crate::daemon::Shared;
use crate::ident::{ProjectId, RoleId};
use crate::model::{EVERYONE, Model, PermissionSet, RoleScope, Scope};
use crate::xml::Effect;

/// The id of the global scheme (the global `permissions.xml`).
pub const GLOBAL_SCHEME_ID: u64 = 0;
/// Where the schemes live; `self` links are relative to the API's root.
pub const BASE: &str = "/v1/permissionschemes";
/// Ids fit in 53 bits, so that JavaScript clients read them exactly.
const ID_MASK: u64 = (1 << 53) - 1;
/// What the grants list says may be expanded (seed 004, "Get permission
/// scheme grants", 200 response).
pub const GRANTS_EXPAND: &str = "user,group,projectRole,field,all";

/// `{"permissionSchemes": […]}` (seed 004, "Get all permission schemes").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionSchemes {
    pub permission_schemes: Vec<PermissionScheme>,
}

/// One scheme (seed 004, "Get permission scheme": `id`, `self`, `name`,
/// `description`, `permissions`), plus the extension `rolesync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionScheme {
    pub id: u64,
    #[serde(rename = "self")]
    pub self_link: String,
    pub name: String,
    pub description: String,
    /// Only the grants; absent from the list unless `expand` asks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<PermissionGrant>>,
    pub rolesync: SchemeExtension,
}

/// What Jira's scheme has no field for (an additional property, which the
/// document's `PermissionScheme` allows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemeExtension {
    /// The project whose overlay this is; `null` for the global scheme.
    pub project: Option<String>,
    /// The `permissions.xml` the scheme shows; `null` when there is none.
    pub file: Option<String>,
    /// The denies of the file, in the grants' shape (no `self`); present
    /// whenever `permissions` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denies: Option<Vec<PermissionGrant>>,
}

/// `{"expand": …, "permissions": […]}` (seed 004, "Get permission scheme
/// grants"), plus the denies under `rolesync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionGrants {
    pub expand: &'static str,
    pub permissions: Vec<PermissionGrant>,
    pub rolesync: DeniesExtension,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeniesExtension {
    pub denies: Vec<PermissionGrant>,
}

/// One grant: `id`, `holder`, `permission`, `self` (seed 004, "Get
/// permission scheme grant").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionGrant {
    pub id: u64,
    pub holder: PermissionHolder,
    /// The Polarion permission as the file names it, absolute
    /// (`com.polarion.persistence.object.WorkItem.modify`) or `@SET.action`.
    pub permission: String,
    /// Only grants have one: a deny cannot be fetched as a grant.
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
}

/// `{type, parameter, value}` and, for types that have one, `expand` (the
/// property `expand` can add) and that property when asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionHolder {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expand: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_role: Option<ProjectRole>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
}

/// `holder.group` with `expand=group`: the access-file group of a global role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupName {
    pub name: String,
    pub group_id: String,
}

/// `holder.projectRole` with `expand=projectRole`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectRole {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `holder.field` with `expand=field`: the object attribute that names the
/// user of a dynamic role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub id: String,
    pub key: String,
    pub name: String,
}

/// What `expand` asks for: a comma list of `permissions`, `user`,
/// `group`, `projectRole`, `field`, `all`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expand {
    /// Some value was given: the list then includes the grants.
    pub any: bool,
    pub group: bool,
    pub project_role: bool,
    pub field: bool,
}

impl Expand {
    /// Parse the values of every `expand` parameter; an unknown value is an
    /// error (a typo would otherwise silently give less).
    pub fn parse(text: &str) -> Result<Expand, String> {
        let mut e = Expand::default();
        for v in text.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            e.any = true;
            match v {
                "permissions" | "user" => {}
                "group" => e.group = true,
                "projectRole" => e.project_role = true,
                "field" => e.field = true,
                "all" => {
                    e.group = true;
                    e.project_role = true;
                    e.field = true;
                }
                other => {
                    return Err(format!(
                        "unknown expand value `{other}`; known: permissions, {GRANTS_EXPAND}"
                    ));
                }
            }
        }
        Ok(e)
    }
}

/// FNV-1a (64 bits) of the parts separated by a zero byte, in 53 bits: a
/// published, stable function, so an id depends on names only.
fn id_of(parts: &[&str]) -> u64 {
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h = h.wrapping_mul(PRIME);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    h & ID_MASK
}

/// `id`, or on a collision the next free number (in the order asked).
fn free_id(mut id: u64, taken: &mut BTreeSet<u64>) -> u64 {
    while !taken.insert(id) {
        id = (id + 1) & ID_MASK;
    }
    id
}

/// One scheme before it is shaped: its id and what it shows.
#[derive(Debug, Clone, Copy)]
struct Source<'m> {
    id: u64,
    project: Option<&'m ProjectId>,
    set: Option<&'m PermissionSet>,
}

/// The global scheme, then one per project with a permissions.xml, in
/// project order. Every project gets its id (overlay or not), so that a
/// project gaining a file moves no other scheme.
fn sources(model: &Model) -> Vec<Source<'_>> {
    let mut taken = BTreeSet::from([GLOBAL_SCHEME_ID]);
    let mut out = vec![Source {
        id: GLOBAL_SCHEME_ID,
        project: None,
        set: model.global_permissions.as_ref(),
    }];
    for (pid, project) in &model.projects {
        let id = free_id(id_of(&["project", pid.as_str()]), &mut taken);
        if let Some(set) = &project.permissions {
            out.push(Source {
                id,
                project: Some(pid),
                set: Some(set),
            });
        }
    }
    out
}

/// How each role is told as a Jira holder.
struct Holders<'m> {
    model: &'m Model,
    global: BTreeSet<RoleId>,
    project: BTreeSet<RoleId>,
    assigned_globally: BTreeSet<&'m RoleId>,
}

impl<'m> Holders<'m> {
    fn new(model: &'m Model) -> Self {
        Holders {
            model,
            global: model.defined_roles(&Scope::Global),
            project: model.defined_roles(&Scope::Project(ProjectId::placeholder())),
            assigned_globally: model
                .assignments
                .iter()
                .filter(|a| a.scope == Scope::Global)
                .map(|a| &a.role)
                .collect(),
        }
    }

    fn holder(&self, role: &RoleId, expand: Expand) -> PermissionHolder {
        let name = role.as_str();
        let bare = |kind| PermissionHolder {
            kind,
            parameter: None,
            value: None,
            expand: None,
            group: None,
            project_role: None,
            field: None,
        };
        let named = |kind, expand_name| PermissionHolder {
            parameter: Some(name.to_owned()),
            value: Some(name.to_owned()),
            expand: Some(expand_name),
            ..bare(kind)
        };
        match name {
            EVERYONE => bare("applicationRole"),
            "author" => bare("reporter"),
            "assignee" => bare("assignee"),
            "lead" => bare("projectLead"),
            "document_author" | "comment_author" => PermissionHolder {
                field: expand.field.then(|| Field {
                    id: name.to_owned(),
                    key: name.to_owned(),
                    name: name.to_owned(),
                }),
                ..named("userCustomField", "field")
            },
            _ if self.global.contains(role)
                || (!self.project.contains(role) && self.assigned_globally.contains(role)) =>
            {
                let group = crate::ident::role_group_name(None, role);
                PermissionHolder {
                    parameter: Some(group.clone()),
                    value: Some(group.clone()),
                    group: expand.group.then(|| GroupName {
                        name: group.clone(),
                        group_id: group,
                    }),
                    ..named("group", "group")
                }
            }
            _ => PermissionHolder {
                project_role: expand.project_role.then(|| ProjectRole {
                    name: name.to_owned(),
                    description: self
                        .model
                        .role_definitions
                        .get(role)
                        .filter(|d| d.scope == RoleScope::Project)
                        .and_then(|d| d.description.clone()),
                }),
                ..named("projectRole", "projectRole")
            },
        }
    }
}

/// The text key of a scheme, for grant ids.
fn scheme_key(source: &Source) -> String {
    match source.project {
        None => "global".to_owned(),
        Some(p) => format!("project:{p}"),
    }
}

/// The grants and the denies of a scheme, each once, in file order.
fn entries(
    source: &Source,
    holders: &Holders,
    expand: Expand,
) -> (Vec<PermissionGrant>, Vec<PermissionGrant>) {
    let key = scheme_key(source);
    let mut taken = BTreeSet::new();
    let mut seen: BTreeSet<(bool, &RoleId, &str)> = BTreeSet::new();
    let (mut grants, mut denies) = (Vec::new(), Vec::new());
    for rule in source.set.iter().flat_map(|s| &s.rules) {
        let grant = rule.effect == Effect::Grant;
        if !seen.insert((grant, &rule.role, rule.permission.as_str())) {
            continue;
        }
        let effect = if grant { "grant" } else { "deny" };
        let id = free_id(
            id_of(&[&key, effect, rule.role.as_str(), &rule.permission]),
            &mut taken,
        );
        let entry = PermissionGrant {
            id,
            holder: holders.holder(&rule.role, expand),
            permission: rule.permission.clone(),
            self_link: grant.then(|| format!("{BASE}/{}/permission/{id}", source.id)),
        };
        if grant {
            grants.push(entry);
        } else {
            denies.push(entry);
        }
    }
    (grants, denies)
}

/// One scheme, shaped; `with_grants` adds `permissions` and `rolesync.denies`.
fn shape(
    source: &Source,
    holders: &Holders,
    expand: Expand,
    with_grants: bool,
) -> PermissionScheme {
    let (name, description) = match source.project {
        None => (
            "Global".to_owned(),
            "The global permissions (.polarion/security/permissions.xml); a project without a permissions.xml of its own has exactly these".to_owned(),
        ),
        Some(p) => (
            format!("Project {p}"),
            format!(
                "What project `{p}` sets in its own permissions.xml; the rest is inherited from the global scheme (id {GLOBAL_SCHEME_ID})"
            ),
        ),
    };
    let (permissions, denies) = if with_grants {
        let (g, d) = entries(source, holders, expand);
        (Some(g), Some(d))
    } else {
        (None, None)
    };
    PermissionScheme {
        id: source.id,
        self_link: format!("{BASE}/{}", source.id),
        name,
        description,
        permissions,
        rolesync: SchemeExtension {
            project: source.project.map(|p| p.to_string()),
            file: source.set.map(|s| s.file.clone()),
            denies,
        },
    }
}

fn find(model: &Model, id: u64) -> Result<Source<'_>, String> {
    sources(model)
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| format!("there is no permission scheme {id}"))
}

/// `GET /v1/permissionschemes`: every scheme; grants only when `expand`
/// names any value.
pub fn list(model: &Model, expand: Expand) -> PermissionSchemes {
    let holders = Holders::new(model);
    PermissionSchemes {
        permission_schemes: sources(model)
            .iter()
            .map(|s| shape(s, &holders, expand, expand.any))
            .collect(),
    }
}

/// `GET /v1/permissionschemes/{id}`: one scheme with its grants.
pub fn scheme(model: &Model, id: u64, expand: Expand) -> Result<PermissionScheme, String> {
    let source = find(model, id)?;
    Ok(shape(&source, &Holders::new(model), expand, true))
}

/// `GET /v1/permissionschemes/{id}/permission`.
pub fn grants(model: &Model, id: u64, expand: Expand) -> Result<PermissionGrants, String> {
    let source = find(model, id)?;
    let (permissions, denies) = entries(&source, &Holders::new(model), expand);
    Ok(PermissionGrants {
        expand: GRANTS_EXPAND,
        permissions,
        rolesync: DeniesExtension { denies },
    })
}

/// `GET /v1/permissionschemes/{id}/permission/{grant}` (grants only).
pub fn grant(
    model: &Model,
    id: u64,
    grant: u64,
    expand: Expand,
) -> Result<PermissionGrant, String> {
    let source = find(model, id)?;
    entries(&source, &Holders::new(model), expand)
        .0
        .into_iter()
        .find(|g| g.id == grant)
        .ok_or_else(|| format!("permission scheme {id} has no grant {grant}"))
}

/// The routes; `api::router` guards them like `/v1/status`.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(BASE, get(list_route))
        .route("/v1/permissionschemes/{id}", get(scheme_route))
        .route("/v1/permissionschemes/{id}/permission", get(grants_route))
        .route(
            "/v1/permissionschemes/{id}/permission/{grant}",
            get(grant_route),
        )
}

/// The query parameters of every scheme route.
#[derive(Debug, Default)]
struct Params {
    expand: Expand,
    min_revision: Option<String>,
}

impl Params {
    fn parse(pairs: Vec<(String, String)>) -> Result<Params, String> {
        let mut expand = String::new();
        let mut min_revision = None;
        for (k, v) in pairs {
            match k.as_str() {
                "expand" => {
                    expand.push(',');
                    expand.push_str(&v);
                }
                "min_revision" => min_revision = Some(v).filter(|s| !s.is_empty()),
                other => return Err(format!("unknown parameter `{other}`")),
            }
        }
        Ok(Params {
            expand: Expand::parse(&expand)?,
            min_revision,
        })
    }
}

/// A writer that refuses to hold more than `cap` bytes.
struct Capped {
    buf: Vec<u8>,
    cap: usize,
}

impl io::Write for Capped {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.buf.len().saturating_add(bytes.len()) > self.cap {
            return Err(io::Error::other("max_answer_bytes"));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `value` as JSON within `cap` bytes (else 413), the revision in the header.
fn written<T: Serialize>(value: &T, revision: &str, cap: usize) -> Response {
    let mut out = Capped {
        buf: Vec::new(),
        cap,
    };
    if serde_json::to_writer(&mut out, value).is_err() {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(revision),
            format!(
                "the answer would be larger than max_answer_bytes = {cap}; ask for one scheme, or without expand"
            ),
        );
    }
    let mut r = ([(header::CONTENT_TYPE, "application/json")], out.buf).into_response();
    if let Ok(v) = HeaderValue::from_str(revision) {
        r.headers_mut().insert(REVISION_HEADER, v);
    }
    r
}

/// A number in a path; anything else names no scheme or grant (404).
fn number(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| format!("there is no permission scheme or grant `{text}`"))
}

/// Parse the query, find the snapshot (`min_revision` honoured), and build
/// and write the answer on the blocking pool; an `Err` from `build` is 404.
async fn answer<T, F>(shared: Arc<Shared>, pairs: Vec<(String, String)>, build: F) -> Response
where
    T: Serialize,
    F: FnOnce(&Model, Expand) -> Result<T, String> + Send + 'static,
{
    let params = match Params::parse(pairs) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, loaded(&shared).as_deref(), e),
    };
    let snap = match snapshot(&shared, params.min_revision.as_deref()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let cap = shared.http.max_answer_bytes;
    let revision = snap.revision.clone();
    heavy(&shared, Some(&revision), move || {
        match build(&snap.model, params.expand) {
            Ok(v) => written(&v, &snap.revision, cap),
            Err(e) => error(StatusCode::NOT_FOUND, Some(&snap.revision), e),
        }
    })
    .await
}

async fn list_route(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    answer(shared, pairs, |m, e| Ok(list(m, e))).await
}

async fn scheme_route(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    answer(shared, pairs, move |m, e| scheme(m, number(&id)?, e)).await
}

async fn grants_route(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    answer(shared, pairs, move |m, e| grants(m, number(&id)?, e)).await
}

async fn grant_route(
    State(shared): State<Arc<Shared>>,
    Path((id, grant_id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    answer(shared, pairs, move |m, e| {
        grant(m, number(&id)?, number(&grant_id)?, e)
    })
    .await
}

/// The scheme ids of a model by project (`None`: global), for tests and docs.
pub fn scheme_ids(model: &Model) -> BTreeMap<Option<String>, u64> {
    sources(model)
        .iter()
        .map(|s| (s.project.map(|p| p.to_string()), s.id))
        .collect()
}

#[cfg(test)]
mod tests {
    //! The mapping model → scheme DTO, as data. Configurations go through
    //! the real `snapshot::build`; shapes are checked against the JSON
    //! examples of seed 004 ("Permission schemes").

    use serde_json::{Value, json};

    use super::*;
    use crate::snapshot::{self, Input};

    /// Seed 004, "Get permission scheme", 200 response.
    const DOC_SCHEME: &str = r#"{ "description": "description", "id": 10000, "name": "Example permission scheme", "permissions": [ { "holder": { "expand": "group", "parameter": "jira-core-users", "type": "group", "value": "ca85fac0-d974-40ca-a615-7af99c48d24f" }, "id": 10000, "permission": "ADMINISTER_PROJECTS", "self": "https://your-domain.atlassian.net/rest/api/3/permissionscheme/permission/10000" } ], "self": "https://your-domain.atlassian.net/rest/api/3/permissionscheme/10000" }"#;
    /// Seed 004, "Get all permission schemes", 200 response.
    const DOC_LIST: &str = r#"{ "permissionSchemes": [ { "description": "description", "id": 10000, "name": "Example permission scheme", "self": "https://your-domain.atlassian.net/rest/api/3/permissionscheme/10000" } ] }"#;
    /// Seed 004, "Get permission scheme grants", 200 response.
    const DOC_GRANTS: &str = r#"{ "expand": "user,group,projectRole,field,all", "permissions": [ { "holder": { "expand": "group", "parameter": "jira-core-users", "type": "group", "value": "ca85fac0-d974-40ca-a615-7af99c48d24f" }, "id": 10000, "permission": "ADMINISTER_PROJECTS", "self": "https://your-domain.atlassian.net/rest/api/3/permissionscheme/permission/10000" } ] }"#;

    fn model(files: &[(&str, &str)]) -> Model {
        let mut files: BTreeMap<String, Vec<u8>> = files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec()))
            .collect();
        files
            .entry(snapshot::USER_ROLES.to_owned())
            .or_insert_with(|| b"<user-roles/>".to_vec());
        let input = Input {
            revision: "r1".into(),
            files,
            ..Input::default()
        };
        let report = snapshot::build(&input);
        let errors: Vec<String> = report
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.one_line())
            .collect();
        assert!(errors.is_empty(), "invalid configuration: {errors:#?}");
        report.snapshot.expect("a valid configuration").model
    }

    /// The document's example as a configuration: the global role
    /// `jira-core-users` granted `ADMINISTER_PROJECTS`.
    fn doc_model() -> Model {
        model(&[
            (
                snapshot::ROLES,
                r#"<roles><role id="jira-core-users" scope="global"/></roles>"#,
            ),
            (
                snapshot::USER_ROLES,
                r#"<user-roles><user name="alice"><role name="jira-core-users"/></user></user-roles>"#,
            ),
            (
                snapshot::PERMISSIONS,
                r#"<permissions><role name="jira-core-users"><grant permission="ADMINISTER_PROJECTS"/></role></permissions>"#,
            ),
        ])
    }

    /// The keys of an object, sorted.
    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
        k.sort();
        k
    }

    fn to_json<T: Serialize>(v: &T) -> Value {
        serde_json::to_value(v).expect("DTOs serialise")
    }

    #[test]
    fn shapes_are_the_documents() {
        // Seed 004: "Get permission scheme", "Get all permission schemes",
        // "Get permission scheme grants" (each 200 response): every key of
        // the document's example, and only `rolesync` besides.
        let m = doc_model();
        let doc: Value = serde_json::from_str(DOC_SCHEME).expect("the example is JSON");
        let ours = to_json(&scheme(&m, GLOBAL_SCHEME_ID, Expand::default()).expect("global"));
        let mut want = keys(&doc);
        want.push("rolesync".into());
        want.sort();
        assert_eq!(keys(&ours), want);
        assert_eq!(keys(&ours["permissions"][0]), keys(&doc["permissions"][0]));
        assert_eq!(
            keys(&ours["permissions"][0]["holder"]),
            keys(&doc["permissions"][0]["holder"])
        );
        assert_eq!(
            ours["permissions"][0]["holder"],
            json!({ "expand": "group", "parameter": "jira-core-users", "type": "group", "value": "jira-core-users" })
        );
        assert_eq!(ours["permissions"][0]["permission"], "ADMINISTER_PROJECTS");
        let gid = ours["permissions"][0]["id"].as_u64().expect("a numeric id");
        assert_eq!(
            ours["permissions"][0]["self"],
            format!("/v1/permissionschemes/0/permission/{gid}")
        );
        assert_eq!(ours["self"], "/v1/permissionschemes/0");

        let doc: Value = serde_json::from_str(DOC_LIST).expect("the example is JSON");
        let ours = to_json(&list(&m, Expand::default()));
        assert_eq!(keys(&ours), keys(&doc));
        let mut want = keys(&doc["permissionSchemes"][0]);
        want.push("rolesync".into());
        want.sort();
        assert_eq!(keys(&ours["permissionSchemes"][0]), want);

        let doc: Value = serde_json::from_str(DOC_GRANTS).expect("the example is JSON");
        let ours = to_json(&grants(&m, GLOBAL_SCHEME_ID, Expand::default()).expect("global"));
        let mut want = keys(&doc);
        want.push("rolesync".into());
        want.sort();
        assert_eq!(keys(&ours), want);
        assert_eq!(ours["expand"], doc["expand"]);
        assert_eq!(keys(&ours["permissions"][0]), keys(&doc["permissions"][0]));
    }

    /// (role, its definition in roles.xml if any, the holder expected with
    /// `expand=all`).
    const HOLDERS: &[(&str, Option<&str>, &str)] = &[
        // Seed 004, "About permission schemes and grants": a group holder
        // is `type: group`, the group's name as parameter. A global role
        // is a group of the access file (seed 003, "Synchronizing Roles
        // with Repository"), named as the role.
        (
            "admin",
            None,
            r#"{"type":"group","parameter":"admin","value":"admin","expand":"group","group":{"name":"admin","groupId":"admin"}}"#,
        ),
        (
            "user",
            None,
            r#"{"type":"group","parameter":"user","value":"user","expand":"group","group":{"name":"user","groupId":"user"}}"#,
        ),
        (
            "auditor",
            Some(r#"<role id="auditor" scope="global" description="Reads"/>"#),
            r#"{"type":"group","parameter":"auditor","value":"auditor","expand":"group","group":{"name":"auditor","groupId":"auditor"}}"#,
        ),
        // Seed 004 names `projectRole` among the expand values; a project
        // role is Jira's project role.
        (
            "project_user",
            None,
            r#"{"type":"projectRole","parameter":"project_user","value":"project_user","expand":"projectRole","projectRole":{"name":"project_user"}}"#,
        ),
        (
            "project_tester",
            Some(r#"<role id="project_tester" scope="project" description="Runs test runs"/>"#),
            r#"{"type":"projectRole","parameter":"project_tester","value":"project_tester","expand":"projectRole","projectRole":{"name":"project_tester","description":"Runs test runs"}}"#,
        ),
        // Seed 003: every user holds `everyone` ("By default, a new user
        // is assigned the role everyone"): any logged-in user, Jira's
        // application role without a parameter (not `anyone`, which
        // includes anonymous users).
        ("everyone", None, r#"{"type":"applicationRole"}"#),
        // The dynamic roles: the object's author, assignee, the project's
        // lead; a document's or comment's author is a user field.
        ("author", None, r#"{"type":"reporter"}"#),
        ("assignee", None, r#"{"type":"assignee"}"#),
        ("lead", None, r#"{"type":"projectLead"}"#),
        (
            "document_author",
            None,
            r#"{"type":"userCustomField","parameter":"document_author","value":"document_author","expand":"field","field":{"id":"document_author","key":"document_author","name":"document_author"}}"#,
        ),
    ];

    #[test]
    fn each_role_is_the_most_faithful_holder() {
        for (role, def, want) in HOLDERS {
            let roles = format!("<roles>{}</roles>", def.unwrap_or(""));
            let perms = format!(
                r#"<permissions><permission name="com.polarion"><role name="{role}"><grant permission="persistence.object.WorkItem.read"/></role></permission></permissions>"#
            );
            let m = model(&[(snapshot::ROLES, &roles), (snapshot::PERMISSIONS, &perms)]);
            let all = Expand::parse("all").expect("all");
            let s = to_json(&scheme(&m, GLOBAL_SCHEME_ID, all).expect("global"));
            let want: Value = serde_json::from_str(want).expect("expected JSON");
            assert_eq!(s["permissions"][0]["holder"], want, "role {role}");
            assert_eq!(
                s["permissions"][0]["permission"], "com.polarion.persistence.object.WorkItem.read",
                "role {role}"
            );
            // Without expand: the holder without the expanded property.
            let plain = to_json(&scheme(&m, GLOBAL_SCHEME_ID, Expand::default()).expect("global"));
            let h = &plain["permissions"][0]["holder"];
            assert!(
                h.get("group").is_none()
                    && h.get("projectRole").is_none()
                    && h.get("field").is_none(),
                "role {role}: {h}"
            );
            assert_eq!(h["type"], want["type"], "role {role}");
        }
    }

    /// (expand, the list's schemes carry grants, holder keys of a group).
    const EXPANDS: &[(&str, bool, &[&str])] = &[
        ("", false, &["expand", "parameter", "type", "value"]),
        (
            "permissions",
            true,
            &["expand", "parameter", "type", "value"],
        ),
        ("user", true, &["expand", "parameter", "type", "value"]),
        (
            "projectRole",
            true,
            &["expand", "parameter", "type", "value"],
        ),
        (
            "group",
            true,
            &["expand", "group", "parameter", "type", "value"],
        ),
        (
            "all",
            true,
            &["expand", "group", "parameter", "type", "value"],
        ),
        (
            "permissions,group",
            true,
            &["expand", "group", "parameter", "type", "value"],
        ),
    ];

    #[test]
    fn expand_adds_grants_to_the_list_and_holder_details() {
        // Seed 004, "Get all permission schemes": the example list has no
        // `permissions`; "Get permission scheme grants" names the
        // expandable properties `user,group,projectRole,field,all`.
        let m = doc_model();
        for (expand, with_grants, holder_keys) in EXPANDS {
            let e = Expand::parse(expand).expect("a known expand");
            let l = to_json(&list(&m, e));
            let s = &l["permissionSchemes"][0];
            assert_eq!(
                s.get("permissions").is_some(),
                *with_grants,
                "expand={expand}"
            );
            assert_eq!(
                s["rolesync"].get("denies").is_some(),
                *with_grants,
                "expand={expand}"
            );
            let one = to_json(&scheme(&m, GLOBAL_SCHEME_ID, e).expect("global"));
            assert_eq!(
                keys(&one["permissions"][0]["holder"]),
                *holder_keys,
                "expand={expand}"
            );
        }
        assert!(Expand::parse("groups").is_err());
    }

    /// Seed 002 / 003 example configuration (sample-repo's drivepilot
    /// shape): a project overlay with grants and denies.
    fn overlay_model(project_perms: &str) -> Model {
        model(&[
            (
                snapshot::PERMISSIONS,
                r#"<permissions><permission name="com.polarion"><role name="user"><grant permission="persistence.object.WorkItem.read"/></role></permission></permissions>"#,
            ),
            (
                "Engineering/drivepilot/.polarion/polarion-project.xml",
                "<project/>",
            ),
            (
                "Engineering/elibrary/.polarion/polarion-project.xml",
                "<project/>",
            ),
            (
                "Engineering/drivepilot/.polarion/security/permissions.xml",
                project_perms,
            ),
        ])
    }

    const DRIVEPILOT: &str = r#"<permissions>
  <customset id="WorkItem_approved" title="approved">com.polarion.persistence.object.WorkItem(status:approved)</customset>
  <permission name="com.polarion">
    <role name="project_user">
      <grant permission="persistence.object.Module.modifyContent"/>
      <deny permission="@WorkItem_approved.modify"/>
    </role>
    <role name="project_admin">
      <grant permission="rest.endpoint.patch"/>
      <grant permission="rest.endpoint.patch"/>
    </role>
  </permission>
</permissions>"#;

    #[test]
    fn one_scheme_per_overlay_and_denies_apart() {
        let m = overlay_model(DRIVEPILOT);
        let ids = scheme_ids(&m);
        // The global scheme and drivepilot's overlay; elibrary has no file.
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert_eq!(ids[&None], GLOBAL_SCHEME_ID);
        let dp = ids[&Some("drivepilot".to_owned())];
        assert_eq!(dp, id_of(&["project", "drivepilot"]));
        let s = to_json(&scheme(&m, dp, Expand::default()).expect("drivepilot"));
        assert_eq!(s["rolesync"]["project"], "drivepilot");
        assert_eq!(
            s["rolesync"]["file"],
            "Engineering/drivepilot/.polarion/security/permissions.xml"
        );
        // Grants: each once (the repeated PATCH grant is one grant).
        let perms: Vec<&str> = s["permissions"]
            .as_array()
            .expect("grants")
            .iter()
            .map(|g| g["permission"].as_str().expect("a name"))
            .collect();
        assert_eq!(
            perms,
            [
                "com.polarion.persistence.object.Module.modifyContent",
                "com.polarion.rest.endpoint.patch"
            ]
        );
        // The deny is not a grant: it is under rolesync.denies, without self.
        let denies = s["rolesync"]["denies"].as_array().expect("denies");
        assert_eq!(denies.len(), 1);
        assert_eq!(denies[0]["permission"], "@WorkItem_approved.modify");
        assert_eq!(denies[0]["holder"]["type"], "projectRole");
        assert!(denies[0].get("self").is_none());
        let deny_id = denies[0]["id"].as_u64().expect("an id");
        assert!(grant(&m, dp, deny_id, Expand::default()).is_err());
        // Unknown scheme.
        assert!(scheme(&m, 1, Expand::default()).is_err());
    }

    #[test]
    fn ids_are_stable_across_reloads_and_reorderings() {
        let ids_of = |m: &Model| -> Vec<(u64, Vec<u64>)> {
            list(m, Expand::parse("permissions").expect("permissions"))
                .permission_schemes
                .iter()
                .map(|s| {
                    let mut g: Vec<u64> = s
                        .permissions
                        .iter()
                        .flatten()
                        .chain(s.rolesync.denies.iter().flatten())
                        .map(|g| g.id)
                        .collect();
                    g.sort_unstable();
                    (s.id, g)
                })
                .collect()
        };
        let a = ids_of(&overlay_model(DRIVEPILOT));
        // The same configuration again: the same ids.
        assert_eq!(a, ids_of(&overlay_model(DRIVEPILOT)));
        // The roles in another order: still the same ids.
        let reordered = r#"<permissions>
  <customset id="WorkItem_approved" title="approved">com.polarion.persistence.object.WorkItem(status:approved)</customset>
  <permission name="com.polarion">
    <role name="project_admin"><grant permission="rest.endpoint.patch"/></role>
    <role name="project_user">
      <deny permission="@WorkItem_approved.modify"/>
      <grant permission="persistence.object.Module.modifyContent"/>
    </role>
  </permission>
</permissions>"#;
        assert_eq!(a, ids_of(&overlay_model(reordered)));
        // Every id is exact in a JavaScript number.
        assert!(
            a.iter()
                .all(|(s, g)| *s <= ID_MASK && g.iter().all(|g| *g <= ID_MASK))
        );
    }

    #[test]
    fn a_colliding_id_takes_the_next_free_number() {
        let mut taken = BTreeSet::from([5]);
        assert_eq!(free_id(5, &mut taken), 6);
        assert_eq!(free_id(5, &mut taken), 7);
        assert_eq!(free_id(ID_MASK, &mut taken), ID_MASK);
        assert_eq!(free_id(ID_MASK, &mut taken), 0);
    }
}
