//! The JSON form of a diff, version 1 (docs/diff.md): its own DTOs, so the
//! diff's types are no wire format.

use serde::Serialize;

use super::types::{Diff, GroupChange, Part, Reason, Tally};

/// The version of the shape below; a change of the shape changes it.
pub const VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct DiffJson {
    pub version: u32,
    pub from: String,
    pub to: String,
    pub complete: bool,
    pub losing: Vec<String>,
    pub gaining: Vec<String>,
    pub groups: PartJson<GroupJson>,
    pub paths: PartJson<PathJson>,
    pub permissions: PartJson<PermissionJson>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PartJson<T> {
    pub total: usize,
    pub listed: usize,
    pub unevaluated: usize,
    pub top: Vec<TopJson>,
    pub changes: Vec<T>,
}

#[derive(Debug, Serialize)]
pub struct TopJson {
    pub what: String,
    pub gained: usize,
    pub lost: usize,
}

#[derive(Debug, Serialize)]
pub struct GroupJson {
    pub group: String,
    /// `null`: global.
    pub project: Option<String>,
    pub role: String,
    pub login: String,
    /// `joined` or `left`.
    pub change: &'static str,
    pub reasons: Vec<String>,
    /// The directory's part in the change, when it has one (left out
    /// otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory: Option<DirectoryJson>,
}

/// What the directory did in a role-group change.
#[derive(Debug, Serialize)]
pub struct DirectoryJson {
    /// The revision of the directory answer the reason comes from.
    pub snapshot: Option<String>,
    /// The directory groups that put the login in the user groups of the
    /// reasons (joined: in the new revision; left: in the old one).
    pub member_of: Vec<MemberOfJson>,
    /// `locked`, `absent` or `active`: the directory changed the account's
    /// state (`null`: it did not).
    pub account: Option<&'static str>,
    /// What locked the account (`pwdAccountLockedTime`, …), when locked.
    pub locked_by: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MemberOfJson {
    /// The user group of groups.xml.
    pub group: String,
    /// The directory group it names (a DN, or `FILTER below BASE`).
    pub reference: String,
    /// The nested groups' DNs between, outermost first.
    pub via: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PathJson {
    /// `null`: the repository-neutral rules.
    pub repository: Option<String>,
    pub path: String,
    pub login: String,
    /// `rw`, `r` or `no`.
    pub from: &'static str,
    pub to: &'static str,
}

#[derive(Debug, Serialize)]
pub struct PermissionJson {
    /// `null`: the global context.
    pub project: Option<String>,
    pub permission: String,
    pub login: String,
    /// `allow` or `deny`.
    pub from: &'static str,
    pub to: &'static str,
}

fn part<T, J>(p: &Part<T>, top: &[(String, Tally)], f: impl Fn(&T) -> J) -> PartJson<J> {
    PartJson {
        total: p.total,
        listed: p.listed.len(),
        unevaluated: p.unevaluated,
        top: top
            .iter()
            .map(|(what, t)| TopJson {
                what: what.clone(),
                gained: t.gained,
                lost: t.lost,
            })
            .collect(),
        changes: p.listed.iter().map(f).collect(),
    }
}

/// The version-1 JSON value of a diff.
pub fn to_json(d: &Diff) -> DiffJson {
    DiffJson {
        version: VERSION,
        from: d.from.clone(),
        to: d.to.clone(),
        complete: d.is_complete(),
        losing: d.losing.iter().cloned().collect(),
        gaining: d.gaining.iter().cloned().collect(),
        groups: part(&d.groups, &d.top_groups, |c| GroupJson {
            group: c.group.clone(),
            project: c.scope.project().map(|p| p.as_str().to_owned()),
            role: c.role.as_str().to_owned(),
            login: c.login.as_str().to_owned(),
            change: c.direction.as_str(),
            reasons: c.reasons.iter().map(Reason::code).collect(),
            directory: directory_of(c),
        }),
        paths: part(&d.paths, &d.top_paths, |c| PathJson {
            repository: c.repository.clone(),
            path: c.path.clone(),
            login: c.login.clone(),
            from: c.from.as_str(),
            to: c.to.as_str(),
        }),
        permissions: part(&d.permissions, &d.top_permissions, |c| PermissionJson {
            project: c.project.as_ref().map(|p| p.as_str().to_owned()),
            permission: c.permission.clone(),
            login: c.login.as_str().to_owned(),
            from: c.from.as_str(),
            to: c.to.as_str(),
        }),
        notes: d.notes.clone(),
    }
}

/// The directory's part of a change, when one of its reasons is the
/// directory's.
fn directory_of(c: &GroupChange) -> Option<DirectoryJson> {
    if !c.reasons.iter().any(Reason::is_directory) {
        return None;
    }
    let mut out = DirectoryJson {
        snapshot: c
            .reasons
            .iter()
            .find_map(Reason::snapshot)
            .map(str::to_owned),
        member_of: Vec::new(),
        account: None,
        locked_by: None,
    };
    for r in &c.reasons {
        match r {
            Reason::DirectoryGroup(w) => out.member_of.push(MemberOfJson {
                group: w.group.to_string(),
                reference: w.reference.clone(),
                via: w.via.clone(),
            }),
            Reason::LockedInDirectory { by, .. } => {
                out.account = Some("locked");
                out.locked_by = Some(by.clone());
            }
            Reason::NotInDirectory { .. } => out.account = Some("absent"),
            Reason::ActiveInDirectory { .. } => out.account = Some("active"),
            _ => {}
        }
    }
    Some(out)
}
