//! Wire types of the configuration's XML files, read with source spans.
//!
//! Each `read_*` function takes one file's [`Source`] and returns what it
//! could read plus every problem found (`None` when the XML itself is
//! broken). These types are what the files say, not what they mean: names
//! are unvalidated strings with spans; `model` validates and lowers them.
//!
//! The wire types are built from a spanned element tree (`tree`) rather
//! than derived with serde, because every value must keep its file:line:col
//! for diagnostics.

pub mod tree;

use std::ops::Range;

use crate::diag::{Code, Diagnostic, Source};
use crate::limits::Limits;
use tree::Element;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl Spanned<String> {
    fn of(attr: &tree::Attr) -> Self {
        Spanned {
            value: attr.value.clone().into_owned(),
            span: attr.value_span.clone(),
        }
    }
}

/// Who holds roles in a user-roles.xml entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderKind {
    User,
    Group,
}

/// `<user name=…>` or `<group name=…>` with its `<role name=…/>` children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub kind: HolderKind,
    pub name: Spanned<String>,
    pub roles: Vec<Spanned<String>>,
}

/// `user-roles.xml`, global or of a project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRolesFile {
    pub holders: Vec<Holder>,
}

/// `<customset id= title=>PROTOTYPE(QUERY)</customset>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomSetWire {
    pub id: Spanned<String>,
    pub title: Option<String>,
    /// The element's text, e.g. `com.polarion.persistence.object.WorkItem(status:approved)`.
    pub body: Spanned<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Grant,
    Deny,
}

/// One `<grant>` or `<deny>` of a role, with the permission name made
/// absolute (joined with the enclosing `<permission name=…>` wrappers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionEntry {
    pub role: Spanned<String>,
    pub effect: Effect,
    pub permission: Spanned<String>,
}

/// `permissions.xml`, global or a project overlay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionsFile {
    pub customsets: Vec<CustomSetWire>,
    pub entries: Vec<PermissionEntry>,
    /// `headingsObeyDeletePermission="true"` on the root.
    pub headings_obey_delete_permission: bool,
}

/// `<role id= scope= description=/>` in roles.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDef {
    pub id: Spanned<String>,
    pub scope: Spanned<RoleScopeWire>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleScopeWire {
    Global,
    Project,
}

/// `roles.xml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolesFile {
    pub roles: Vec<RoleDef>,
}

/// `users/<login>/user.xml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFile {
    pub name: Option<String>,
    pub email: Option<String>,
    pub disabled: bool,
}

/// `<group id=…>` with `<user name=…/>` members, in groups.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDef {
    pub id: Spanned<String>,
    pub members: Vec<Spanned<String>>,
    /// The directory group or search whose members join the local ones.
    pub directory: DirectoryAttrs,
}

/// The group attribute naming a directory group by its DN.
pub const LDAP_DN: &str = "ldap";
/// The group attribute naming the base DN of a directory search.
pub const LDAP_BASE: &str = "ldap-base";
/// The group attribute naming the filter of a directory search.
pub const LDAP_FILTER: &str = "ldap-filter";

/// What a `<group>` of groups.xml says of the directory, as written:
/// `ldap="DN"` (a group entry), or `ldap-base="DN" ldap-filter="(…)"` (a
/// search); the lowering checks that they make one reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryAttrs {
    pub dn: Option<Spanned<String>>,
    pub base: Option<Spanned<String>>,
    pub filter: Option<Spanned<String>>,
}

impl DirectoryAttrs {
    /// Whether the group names the directory at all.
    pub fn is_empty(&self) -> bool {
        self.dn.is_none() && self.base.is_none() && self.filter.is_none()
    }
}

/// `groups.xml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupsFile {
    pub groups: Vec<GroupDef>,
}

/// `polarion-project.xml`: its `<field id=…>` values (e.g. `lead`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFile {
    pub fields: Vec<(String, Spanned<String>)>,
}

impl ProjectFile {
    pub fn field(&self, id: &str) -> Option<&Spanned<String>> {
        self.fields.iter().find(|(k, _)| k == id).map(|(_, v)| v)
    }
}

/// Diagnostics collected while lowering one file.
struct Lower<'s, 'a> {
    src: &'s Source<'a>,
    diags: Vec<Diagnostic>,
}

impl<'s, 'a> Lower<'s, 'a> {
    fn root(src: &'s Source<'a>, limits: &Limits, expected: &str) -> (Self, Option<Element<'a>>) {
        let mut lower = Lower {
            src,
            diags: Vec::new(),
        };
        let root = match tree::parse(src, limits) {
            Ok(root) => root,
            Err(d) => {
                lower.diags.push(*d);
                return (lower, None);
            }
        };
        if root.name != expected {
            let d = src.diag(
                Code::XmlWrongRoot,
                root.name_span.clone(),
                format!(
                    "the root element is <{}>; this file must have <{expected}>",
                    root.name
                ),
            );
            lower.diags.push(d);
            return (lower, None);
        }
        (lower, Some(root))
    }

    /// Warn about attributes outside `known`; return the `required` ones,
    /// or `None` (with an error) when one is missing.
    fn attrs<'e, 't, const N: usize>(
        &mut self,
        el: &'e Element<'t>,
        known: &[&str],
        required: [&str; N],
    ) -> Option<[&'e tree::Attr<'t>; N]> {
        for a in &el.attrs {
            if !known.contains(&&*a.name)
                && !required.contains(&&*a.name)
                && !a.name.starts_with("xmlns")
            {
                self.diags.push(self.src.diag(
                    Code::XmlUnknownAttribute,
                    a.name_span.clone(),
                    format!("unknown attribute `{}` on <{}> is ignored", a.name, el.name),
                ));
            }
        }
        let mut missing = Vec::new();
        let found = required.map(|name| {
            let a = el.attr(name);
            if a.is_none() {
                missing.push(name);
            }
            a
        });
        if !missing.is_empty() {
            for name in missing {
                self.diags.push(self.src.diag(
                    Code::XmlMissingAttribute,
                    el.name_span.clone(),
                    format!("<{}> needs the attribute `{name}`", el.name),
                ));
            }
            return None;
        }
        Some(found.map(|a| a.expect("checked above: no required attribute is missing")))
    }

    fn unknown_element(&mut self, el: &Element, parent: &str) {
        self.diags.push(self.src.diag(
            Code::XmlUnknownElement,
            el.name_span.clone(),
            format!("unknown element <{}> in <{parent}> is ignored", el.name),
        ));
    }
}

/// Read a `user-roles.xml`.
pub fn read_user_roles(src: &Source, limits: &Limits) -> (Option<UserRolesFile>, Vec<Diagnostic>) {
    let (mut lw, root) = Lower::root(src, limits, "user-roles");
    let Some(root) = root else {
        return (None, lw.diags);
    };
    lw.attrs(&root, &[], []);
    let mut file = UserRolesFile::default();
    for el in &root.children {
        let kind = match &*el.name {
            "user" => HolderKind::User,
            "group" => HolderKind::Group,
            _ => {
                lw.unknown_element(el, "user-roles");
                continue;
            }
        };
        let Some([name]) = lw.attrs(el, &[], ["name"]) else {
            continue;
        };
        let mut holder = Holder {
            kind,
            name: Spanned::of(name),
            roles: Vec::new(),
        };
        for r in &el.children {
            if r.name != "role" {
                lw.unknown_element(r, &el.name);
                continue;
            }
            if let Some([role]) = lw.attrs(r, &[], ["name"]) {
                holder.roles.push(Spanned::of(role));
            }
        }
        file.holders.push(holder);
    }
    (Some(file), lw.diags)
}

/// Read a `permissions.xml`.
/// The root attribute of permissions.xml that makes deleting a Heading
/// work item need `WorkItem.delete` (Polarion's system property of the
/// same name; docs/permissions.md).
pub const HEADINGS_OBEY_DELETE: &str = "headingsObeyDeletePermission";

pub fn read_permissions(
    src: &Source,
    limits: &Limits,
) -> (Option<PermissionsFile>, Vec<Diagnostic>) {
    let (mut lw, root) = Lower::root(src, limits, "permissions");
    let Some(root) = root else {
        return (None, lw.diags);
    };
    lw.attrs(&root, &[HEADINGS_OBEY_DELETE], []);
    let mut file = PermissionsFile::default();
    if let Some(a) = root.attr(HEADINGS_OBEY_DELETE) {
        match &*a.value {
            "true" => file.headings_obey_delete_permission = true,
            "false" => {}
            other => lw.diags.push(src.diag(
                Code::XmlInvalidValue,
                a.value_span.clone(),
                format!("`{HEADINGS_OBEY_DELETE}` is `{other}`; it must be `true` or `false`"),
            )),
        }
    }
    // `<permission>` wrappers nest: walk them depth first in document
    // order with an explicit stack of (wrapper, joined prefix, next child).
    let mut stack: Vec<(&Element, Option<String>, usize)> = vec![(&root, None, 0)];
    while let Some(top) = stack.last_mut() {
        let (parent, i) = (top.0, top.2);
        let Some(el) = parent.children.get(i) else {
            stack.pop();
            continue;
        };
        top.2 += 1;
        let prefix = top.1.as_deref();
        if let Some(joined) = permission_child(&mut lw, limits, parent, el, prefix, &mut file) {
            stack.push((el, Some(joined), 0));
        }
    }
    (Some(file), lw.diags)
}

/// One child of `<permissions>` or of a `<permission>` wrapper: custom
/// sets and grants go to `file`; for a wrapper, its joined prefix is
/// returned to descend into. A joined name longer than `max_name_bytes`
/// is refused where it first gets too long, so no name grows with the
/// nesting.
fn permission_child(
    lw: &mut Lower,
    limits: &Limits,
    parent: &Element,
    el: &Element,
    prefix: Option<&str>,
    file: &mut PermissionsFile,
) -> Option<String> {
    let too_long = |lw: &mut Lower, span: &Range<usize>, len: usize| {
        lw.diags.push(lw.src.diag(
            Code::NameTooLong,
            span.clone(),
            format!(
                "the permission name made with the enclosing <permission> names is {len} bytes long; names are at most {} bytes",
                limits.max_name_bytes
            ),
        ));
    };
    match &*el.name {
        "customset" if prefix.is_none() => {
            let [id] = lw.attrs(el, &["title"], ["id"])?;
            file.customsets.push(CustomSetWire {
                id: Spanned::of(id),
                title: el.attr("title").map(|a| a.value.clone().into_owned()),
                body: Spanned {
                    value: el.text.trim().to_owned(),
                    span: el.text_span.clone(),
                },
            });
        }
        "permission" => {
            let [name] = lw.attrs(el, &[], ["name"])?;
            let joined = join_permission(prefix, &name.value);
            if joined.len() > limits.max_name_bytes {
                too_long(lw, &name.value_span, joined.len());
                return None;
            }
            return Some(joined);
        }
        "role" => {
            let [role] = lw.attrs(el, &[], ["name"])?;
            for g in &el.children {
                let effect = match &*g.name {
                    "grant" => Effect::Grant,
                    "deny" => Effect::Deny,
                    _ => {
                        lw.unknown_element(g, "role");
                        continue;
                    }
                };
                let Some([perm]) = lw.attrs(g, &[], ["permission"]) else {
                    continue;
                };
                let value = join_permission(prefix, &perm.value);
                if value.len() > limits.max_name_bytes {
                    too_long(lw, &perm.value_span, value.len());
                    continue;
                }
                file.entries.push(PermissionEntry {
                    role: Spanned::of(role),
                    effect,
                    permission: Spanned {
                        value,
                        span: perm.value_span.clone(),
                    },
                });
            }
        }
        _ => lw.unknown_element(el, &parent.name),
    }
    None
}

/// `com.polarion` + `persistence.object.X.read` → `com.polarion.persistence.object.X.read`;
/// names inside a custom set (`@SET.action`) are never prefixed.
fn join_permission(prefix: Option<&str>, name: &str) -> String {
    match prefix {
        Some(p) if !name.starts_with('@') && !p.is_empty() && !name.is_empty() => {
            format!("{p}.{name}")
        }
        _ => name.to_owned(),
    }
}

/// Read `roles.xml`.
pub fn read_roles(src: &Source, limits: &Limits) -> (Option<RolesFile>, Vec<Diagnostic>) {
    let (mut lw, root) = Lower::root(src, limits, "roles");
    let Some(root) = root else {
        return (None, lw.diags);
    };
    lw.attrs(&root, &[], []);
    let mut file = RolesFile::default();
    for el in &root.children {
        if el.name != "role" {
            lw.unknown_element(el, "roles");
            continue;
        }
        let Some([id, scope]) = lw.attrs(el, &["description"], ["id", "scope"]) else {
            continue;
        };
        let value = match &*scope.value {
            "global" => RoleScopeWire::Global,
            "project" => RoleScopeWire::Project,
            other => {
                lw.diags.push(src.diag(
                    Code::XmlInvalidValue,
                    scope.value_span.clone(),
                    format!("role scope `{other}` is neither `global` nor `project`"),
                ));
                continue;
            }
        };
        file.roles.push(RoleDef {
            id: Spanned::of(id),
            scope: Spanned {
                value,
                span: scope.value_span.clone(),
            },
            description: el.attr("description").map(|a| a.value.clone().into_owned()),
        });
    }
    (Some(file), lw.diags)
}

/// Read a `user.xml`. Fields other than `name`, `email` and `disabled` are
/// Polarion's business and pass silently.
pub fn read_user(src: &Source, limits: &Limits) -> (Option<UserFile>, Vec<Diagnostic>) {
    let (mut lw, root) = Lower::root(src, limits, "user");
    let Some(root) = root else {
        return (None, lw.diags);
    };
    let mut file = UserFile::default();
    for el in root.children.iter().filter(|e| e.name == "field") {
        let Some(id) = el.attr("id") else {
            lw.attrs(el, &[], ["id"]);
            continue;
        };
        let text = el.text.trim();
        match &*id.value {
            "name" => file.name = Some(text.to_owned()),
            "email" => file.email = Some(text.to_owned()),
            "disabled" => match text {
                "true" => file.disabled = true,
                "false" | "" => file.disabled = false,
                other => lw.diags.push(src.diag(
                    Code::XmlInvalidValue,
                    el.text_span.clone(),
                    format!("field `disabled` is `{other}`; it must be `true` or `false`"),
                )),
            },
            _ => {}
        }
    }
    (Some(file), lw.diags)
}

/// Read `groups.xml`.
pub fn read_groups(src: &Source, limits: &Limits) -> (Option<GroupsFile>, Vec<Diagnostic>) {
    let (mut lw, root) = Lower::root(src, limits, "user-groups");
    let Some(root) = root else {
        return (None, lw.diags);
    };
    lw.attrs(&root, &[], []);
    let mut file = GroupsFile::default();
    for el in &root.children {
        if el.name != "group" {
            lw.unknown_element(el, "user-groups");
            continue;
        }
        let known = ["description", LDAP_DN, LDAP_BASE, LDAP_FILTER];
        let Some([id]) = lw.attrs(el, &known, ["id"]) else {
            continue;
        };
        let of = |name: &str| el.attr(name).map(Spanned::of);
        let mut group = GroupDef {
            id: Spanned::of(id),
            members: Vec::new(),
            directory: DirectoryAttrs {
                dn: of(LDAP_DN),
                base: of(LDAP_BASE),
                filter: of(LDAP_FILTER),
            },
        };
        for m in &el.children {
            if m.name != "user" {
                lw.unknown_element(m, "group");
                continue;
            }
            if let Some([name]) = lw.attrs(m, &[], ["name"]) {
                group.members.push(Spanned::of(name));
            }
        }
        file.groups.push(group);
    }
    (Some(file), lw.diags)
}

/// Read a `polarion-project.xml` (only its fields; the id is the folder name).
pub fn read_project(src: &Source, limits: &Limits) -> (Option<ProjectFile>, Vec<Diagnostic>) {
    let (lw, root) = Lower::root(src, limits, "project");
    let Some(root) = root else {
        return (None, lw.diags);
    };
    let fields = root
        .children
        .iter()
        .filter(|e| e.name == "field")
        .filter_map(|e| {
            let id = e.attr("id")?;
            Some((
                id.value.clone().into_owned(),
                Spanned {
                    value: e.text.trim().to_owned(),
                    span: e.text_span.clone(),
                },
            ))
        })
        .collect();
    (Some(ProjectFile { fields }), lw.diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source<'_> {
        Source::new("f.xml", text)
    }

    const L: &Limits = &Limits::DEFAULT;

    #[test]
    fn wrapped_permission_names_are_bounded_where_they_grow_too_long() {
        let name = "n".repeat(100);
        let text = format!(
            "<permissions>{}<role name=\"r\"><grant permission=\"p\"/></role>{}</permissions>",
            format!("<permission name=\"{name}\">").repeat(3),
            "</permission>".repeat(3)
        );
        let s = src(&text);
        let (file, diags) = read_permissions(&s, L);
        let codes: Vec<_> = diags.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::NameTooLong]);
        // The third wrapper makes it 302 bytes.
        assert_eq!(diags[0].span.start, text.rfind(&name).expect("found"));
        assert!(file.expect("read").entries.is_empty());
    }

    #[test]
    fn nested_wrappers_keep_document_order() {
        let s = src(
            r#"<permissions><permission name="a"><role name="r"><grant permission="1"/></role><permission name="b"><role name="r"><grant permission="2"/></role></permission><role name="r"><grant permission="3"/></role></permission><role name="r"><grant permission="4"/></role></permissions>"#,
        );
        let file = read_permissions(&s, L).0.expect("read");
        let names: Vec<_> = file
            .entries
            .iter()
            .map(|e| e.permission.value.as_str())
            .collect();
        assert_eq!(names, ["a.1", "a.b.2", "a.3", "4"]);
    }

    #[test]
    fn user_roles_read_users_and_groups() {
        let text = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<user-roles>
    <user name="alice"><role name="project_admin"/><role name="project_assignable"/></user>
    <group name="qa-team"><role name="project_user"/></group>
</user-roles>"#;
        let s = src(text);
        let (file, diags) = read_user_roles(&s, L);
        assert!(diags.is_empty(), "{diags:?}");
        let file = file.expect("read");
        assert_eq!(file.holders.len(), 2);
        assert_eq!(file.holders[0].kind, HolderKind::User);
        assert_eq!(file.holders[0].roles[1].value, "project_assignable");
        assert_eq!(file.holders[1].kind, HolderKind::Group);
        assert_eq!(&text[file.holders[1].name.span.clone()], "qa-team");
    }

    #[test]
    fn permissions_join_wrapped_names_but_not_customset_names() {
        let text = r#"<permissions>
    <customset id="Frozen" title="t">com.polarion.persistence.object.Module(status:approved)</customset>
    <permission name="com.polarion">
        <role name="user"><grant permission="persistence.object.Project.read"/><deny permission="@Frozen.modifyContent"/></role>
    </permission>
    <role name="admin"><grant permission="com.polarion.rest.endpoint.get"/></role>
</permissions>"#;
        let s = src(text);
        let (file, diags) = read_permissions(&s, L);
        assert!(diags.is_empty(), "{diags:?}");
        let file = file.expect("read");
        assert_eq!(
            file.customsets[0].body.value,
            "com.polarion.persistence.object.Module(status:approved)"
        );
        let names: Vec<_> = file
            .entries
            .iter()
            .map(|e| e.permission.value.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "com.polarion.persistence.object.Project.read",
                "@Frozen.modifyContent",
                "com.polarion.rest.endpoint.get"
            ]
        );
        assert_eq!(file.entries[1].effect, Effect::Deny);
    }

    #[test]
    fn unknown_elements_and_attributes_warn_missing_attributes_err() {
        let s = src(
            r#"<user-roles><user name="a" x="1"><role/><rol name="b"/></user><who/></user-roles>"#,
        );
        let (_, diags) = read_user_roles(&s, L);
        let codes: Vec<_> = diags.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                Code::XmlUnknownAttribute,
                Code::XmlMissingAttribute,
                Code::XmlUnknownElement,
                Code::XmlUnknownElement
            ]
        );
    }

    #[test]
    fn wrong_root_is_an_error() {
        let s = src("<permissions/>");
        let (file, diags) = read_user_roles(&s, L);
        assert!(file.is_none());
        assert_eq!(diags[0].code, Code::XmlWrongRoot);
    }

    #[test]
    fn user_file_reads_disabled() {
        let s = src(
            r#"<user><field id="name">Bob</field><field id="disabled">true</field><field id="x">y</field></user>"#,
        );
        let (file, diags) = read_user(&s, L);
        assert!(diags.is_empty());
        let file = file.expect("read");
        assert!(file.disabled);
        assert_eq!(file.name.as_deref(), Some("Bob"));
        let s = src(r#"<user><field id="disabled">yes</field></user>"#);
        assert_eq!(read_user(&s, L).1[0].code, Code::XmlInvalidValue);
    }

    #[test]
    fn project_file_exposes_fields() {
        let s =
            src(r#"<project><field id="lead">admin</field><field id="name">V</field></project>"#);
        let file = read_project(&s, L).0.expect("read");
        assert_eq!(file.field("lead").map(|f| f.value.as_str()), Some("admin"));
    }

    #[test]
    fn groups_read_their_directory_attributes_with_spans() {
        let text = r#"<user-groups>
    <group id="qa-team" ldap="cn=qa,ou=groups,dc=example,dc=org"><user name="carol"/></group>
    <group id="qa-people" ldap-base="ou=people,dc=example,dc=org" ldap-filter="(&amp;(department=QA)(!(employeeType=contractor)))"/>
    <group id="local"><user name="dave"/></group>
</user-groups>"#;
        let s = src(text);
        let (file, diags) = read_groups(&s, L);
        assert!(diags.is_empty(), "{diags:?}");
        let file = file.expect("read");
        let qa = &file.groups[0].directory;
        let dn = qa.dn.as_ref().expect("ldap=");
        assert_eq!(&text[dn.span.clone()], "cn=qa,ou=groups,dc=example,dc=org");
        assert_eq!(file.groups[0].members[0].value, "carol");
        let search = &file.groups[1].directory;
        assert!(search.dn.is_none());
        assert_eq!(
            search.filter.as_ref().expect("ldap-filter=").value,
            "(&(department=QA)(!(employeeType=contractor)))"
        );
        assert!(search.base.is_some());
        assert!(file.groups[2].directory.is_empty());
    }
}
