//! Decision tests as data: a small configuration written in a compact
//! form, then lines `user permission [@project] [k=v …] => allow|deny`.
//! Configurations go through the real `snapshot::build`.

use std::collections::BTreeMap;

use super::*;
use crate::snapshot::{self, Input};

/// A configuration in compact form.
#[derive(Debug, Clone, Default)]
struct Cfg {
    files: BTreeMap<String, String>,
}

/// Short permission names: `WorkItem.modify` → the object permission,
/// `rest.get` / `security.…` / `administration.…` → under `com.polarion`.
fn perm(s: &str) -> String {
    if s.starts_with('@') || s.starts_with("com.") {
        s.to_owned()
    } else if s.starts_with(|c: char| c.is_ascii_uppercase()) {
        format!("com.polarion.persistence.object.{s}")
    } else if let Some(verb) = s.strip_prefix("rest.") {
        format!("com.polarion.rest.endpoint.{verb}")
    } else {
        format!("com.polarion.{s}")
    }
}

/// `alice=admin,user bob=user @qa=user` (a leading `@`: a user group).
fn user_roles(spec: &str) -> String {
    let mut xml = String::from("<user-roles>\n");
    for holder in spec.split_whitespace() {
        let (name, roles) = holder.split_once('=').expect("holder=roles");
        let (kind, name) = match name.strip_prefix('@') {
            Some(g) => ("group", g),
            None => ("user", name),
        };
        xml.push_str(&format!("  <{kind} name=\"{name}\">"));
        for r in roles.split(',') {
            xml.push_str(&format!("<role name=\"{r}\"/>"));
        }
        xml.push_str(&format!("</{kind}>\n"));
    }
    xml.push_str("</user-roles>\n");
    xml
}

/// Lines `set ID PROTOTYPE QUERY…` and `ROLE +perm -perm …`.
fn permissions(spec: &str) -> String {
    let mut attrs = String::new();
    let mut xml = String::new();
    for line in spec.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("attr ") {
            let (k, v) = rest.split_once('=').expect("attr k=v");
            attrs.push_str(&format!(" {k}=\"{v}\""));
            continue;
        }
        if let Some(rest) = line.strip_prefix("set ") {
            let mut parts = rest.splitn(3, ' ');
            let id = parts.next().expect("set id");
            let proto = perm(parts.next().expect("set prototype"));
            let query = parts.next().unwrap_or("");
            let query = query.replace('&', "&amp;").replace('<', "&lt;");
            xml.push_str(&format!(
                "  <customset id=\"{id}\" title=\"t\">{proto}({query})</customset>\n"
            ));
            continue;
        }
        let mut parts = line.split_whitespace();
        let role = parts.next().expect("role");
        xml.push_str(&format!("  <role name=\"{role}\">\n"));
        for p in parts {
            let (el, name) = match p.split_at(1) {
                ("+", n) => ("grant", n),
                ("-", n) => ("deny", n),
                _ => panic!("{p}: +grant or -deny"),
            };
            xml.push_str(&format!("    <{el} permission=\"{}\"/>\n", perm(name)));
        }
        xml.push_str("  </role>\n");
    }
    format!("<permissions{attrs}>\n{xml}</permissions>\n")
}

impl Cfg {
    fn new() -> Self {
        Cfg::default()
    }
    fn file(mut self, path: &str, text: String) -> Self {
        self.files.insert(path.to_owned(), text);
        self
    }
    /// Global assignments.
    fn roles(self, spec: &str) -> Self {
        self.file(snapshot::USER_ROLES, user_roles(spec))
    }
    /// Global permissions.
    fn perms(self, spec: &str) -> Self {
        self.file(snapshot::PERMISSIONS, permissions(spec))
    }
    /// Role definitions: `auditor=global tester=project`.
    fn defs(self, spec: &str) -> Self {
        let mut xml = String::from("<roles>\n");
        for d in spec.split_whitespace() {
            let (id, scope) = d.split_once('=').expect("id=scope");
            xml.push_str(&format!("  <role id=\"{id}\" scope=\"{scope}\"/>\n"));
        }
        xml.push_str("</roles>\n");
        self.file(snapshot::ROLES, xml)
    }
    /// User groups: `qa=erin,frank`.
    fn groups(self, spec: &str) -> Self {
        let mut xml = String::from("<user-groups>\n");
        for g in spec.split_whitespace() {
            let (id, members) = g.split_once('=').expect("id=members");
            xml.push_str(&format!("  <group id=\"{id}\">"));
            for m in members.split(',') {
                xml.push_str(&format!("<user name=\"{m}\"/>"));
            }
            xml.push_str("</group>\n");
        }
        xml.push_str("</user-groups>\n");
        self.file(snapshot::GROUPS, xml)
    }
    /// Accounts: `alice bob dave:disabled`.
    fn accounts(mut self, spec: &str) -> Self {
        for a in spec.split_whitespace() {
            let (login, disabled) = match a.strip_suffix(":disabled") {
                Some(l) => (l, "true"),
                None => (a, "false"),
            };
            self = self.file(
                &format!("{}{login}/user.xml", snapshot::USERS_DIR),
                format!("<user><field id=\"disabled\">{disabled}</field></user>"),
            );
        }
        self
    }
    /// A project with an optional lead.
    fn project(self, id: &str, lead: Option<&str>) -> Self {
        let lead = lead
            .map(|l| format!("<field id=\"lead\">{l}</field>"))
            .unwrap_or_default();
        self.file(
            &format!("{id}/.polarion/polarion-project.xml"),
            format!("<project>{lead}</project>"),
        )
    }
    fn project_roles(self, id: &str, spec: &str) -> Self {
        self.file(
            &format!("{id}/.polarion/security/user-roles.xml"),
            user_roles(spec),
        )
    }
    fn project_perms(self, id: &str, spec: &str) -> Self {
        self.file(
            &format!("{id}/.polarion/security/permissions.xml"),
            permissions(spec),
        )
    }

    fn index(&self) -> Index {
        self.snapshot().policy
    }

    fn snapshot(&self) -> snapshot::Snapshot {
        let input = Input {
            revision: "r1".into(),
            files: self
                .files
                .iter()
                .map(|(p, t)| (p.clone(), t.as_str().into()))
                .collect(),
            ..Input::default()
        };
        let report = snapshot::build(&input);
        let errors: Vec<String> = report
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.one_line())
            .collect();
        assert!(
            errors.is_empty(),
            "the configuration is invalid: {errors:#?}"
        );
        report.snapshot.expect("a valid configuration")
    }
}

/// Parse `user perm [@project] [k=v …]` into a request's parts.
fn parse_request(text: &str) -> (String, String, Option<String>, Object) {
    let mut parts = text.split_whitespace();
    let user = parts.next().expect("user").to_owned();
    let permission = perm(parts.next().expect("permission"));
    let mut project = None;
    let mut object = Object::new();
    for p in parts {
        match p.strip_prefix('@') {
            Some(id) => project = Some(id.to_owned()),
            None => object.push_pair(p).expect("k=v"),
        }
    }
    (user, permission, project, object)
}

/// Every line `request => allow|deny` holds, for `check` and `explain`.
fn check(cfg: &Cfg, cases: &str) {
    let ix = cfg.index();
    let mut failures = Vec::new();
    for line in cases.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (request, expect) = line.split_once("=>").expect("request => verdict");
        let (user, permission, project, object) = parse_request(request);
        let req = Request {
            user: &user,
            permission: &permission,
            project: project.as_deref(),
            object: &object,
        };
        let got = ix.check(&req).expect("the request can be answered");
        let explained = ix.explain(&req).expect("the request can be explained");
        assert_eq!(
            explained.verdict, got,
            "explain disagrees with check: {line}"
        );
        if got.as_str() != expect.trim() {
            failures.push(format!(
                "{line}\n    got {}\n{}",
                got.as_str(),
                explained.render("r1")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

mod custom_sets;
mod fields;
mod inherit;
mod random;
mod rest;
mod roles;
