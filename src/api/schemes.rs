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
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;

use super::reply::{REVISION_HEADER, Reply, error, heavy, loaded, snapshot};
use super::shared::Shared;
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
pub(crate) fn routes() -> Router<Arc<Shared>> {
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
fn written<T: Serialize>(value: &T, revision: &str, cap: usize) -> Reply {
    let mut out = Capped {
        buf: Vec::new(),
        cap,
    };
    if serde_json::to_writer(&mut out, value).is_err() {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(revision),
            format!(
                "the answer would be larger than max_answer_bytes = {cap}; ask for one scheme, or without expand"
            ),
        ));
    }
    let mut r = ([(header::CONTENT_TYPE, "application/json")], out.buf).into_response();
    if let Ok(v) = HeaderValue::from_str(revision) {
        r.headers_mut().insert(REVISION_HEADER, v);
    }
    Ok(r)
}

/// A number in a path; anything else names no scheme or grant (404).
fn number(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| format!("there is no permission scheme or grant `{text}`"))
}

/// Parse the query, find the snapshot (`min_revision` honoured), and build
/// and write the answer on the blocking pool; an `Err` from `build` is 404.
async fn answer<T, F>(shared: Arc<Shared>, pairs: Vec<(String, String)>, build: F) -> Reply
where
    T: Serialize,
    F: FnOnce(&Model, Expand) -> Result<T, String> + Send + 'static,
{
    let params = Params::parse(pairs)
        .map_err(|e| error(StatusCode::BAD_REQUEST, loaded(&shared).as_deref(), e))?;
    let snap = snapshot(&shared, params.min_revision.as_deref()).await?;
    let cap = shared.config.http.max_answer_bytes;
    let revision = snap.revision.clone();
    heavy(&shared, Some(&revision), move || {
        match build(&snap.model, params.expand) {
            Ok(v) => written(&v, &snap.revision, cap),
            Err(e) => Err(error(StatusCode::NOT_FOUND, Some(&snap.revision), e)),
        }
    })
    .await
}

async fn list_route(
    State(shared): State<Arc<Shared>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    answer(shared, pairs, |m, e| Ok(list(m, e))).await
}

async fn scheme_route(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    answer(shared, pairs, move |m, e| scheme(m, number(&id)?, e)).await
}

async fn grants_route(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
    answer(shared, pairs, move |m, e| grants(m, number(&id)?, e)).await
}

async fn grant_route(
    State(shared): State<Arc<Shared>>,
    Path((id, grant_id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Reply {
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
mod tests;
