//! What the rendered access file names, for the policy tests: its groups
//! (members resolved through `@group` and `&alias`, on demand), its
//! repositories, the users it names, and where each rule section of the
//! source access file is (for the notes of a failed `[[svn]]`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::authz;
use crate::diag::Source;

/// The names of one access file.
#[derive(Debug, Default)]
pub struct AccessNames {
    /// `[groups]`: each group's members as written (`@g`, `&a`, logins).
    groups: HashMap<String, Vec<String>>,
    /// `[aliases]`: alias → login.
    aliases: HashMap<String, String>,
    /// Repositories of `[repository:/path]` sections.
    pub repositories: BTreeSet<String>,
    /// Logins named in `[groups]`, `[aliases]` or a rule line.
    pub users: HashSet<String>,
}

impl AccessNames {
    pub fn of(text: &str) -> AccessNames {
        let doc = authz::parse(text);
        let mut names = AccessNames::default();
        for section in &doc.sections {
            let name = section.name.as_str();
            for e in &section.entries {
                match name {
                    "groups" => {
                        let members: Vec<String> = e
                            .value
                            .split(',')
                            .map(str::trim)
                            .filter(|m| !m.is_empty())
                            .map(str::to_owned)
                            .collect();
                        for m in &members {
                            if !m.starts_with(['@', '&']) {
                                names.users.insert(m.clone());
                            }
                        }
                        names.groups.insert(e.name.clone(), members);
                    }
                    "aliases" => {
                        names.users.insert(e.value.trim().to_owned());
                        names
                            .aliases
                            .insert(e.name.clone(), e.value.trim().to_owned());
                    }
                    _ => {
                        let who = e.name.trim_start_matches('~');
                        if !who.starts_with(['@', '&', '$', '*']) {
                            names.users.insert(who.to_owned());
                        }
                    }
                }
            }
            if let Some((repo, _)) = name.split_once(":/")
                && !repo.is_empty()
                && !name.starts_with(":glob:")
            {
                names.repositories.insert(repo.to_owned());
            }
        }
        names
    }

    /// The logins of a group, through nested groups and aliases (each
    /// group visited once, so a cycle ends); `None` when there is no such
    /// group.
    pub fn members(&self, group: &str) -> Option<BTreeSet<String>> {
        self.groups.get(group)?;
        let mut out = BTreeSet::new();
        let mut seen: HashSet<&str> = HashSet::from([group]);
        let mut work: Vec<&str> = vec![group];
        while let Some(g) = work.pop() {
            for m in self.groups.get(g).into_iter().flatten() {
                if let Some(sub) = m.strip_prefix('@') {
                    if seen.insert(sub) {
                        work.push(sub);
                    }
                } else if let Some(alias) = m.strip_prefix('&') {
                    if let Some(login) = self.aliases.get(alias) {
                        out.insert(login.clone());
                    }
                } else {
                    out.insert(m.clone());
                }
            }
        }
        Some(out)
    }
}

/// Line of each section header of an access file, by section name (the
/// first of a name).
pub fn section_lines(path: &str, text: &str) -> BTreeMap<String, u32> {
    let src = Source::new(path, text);
    let mut lines = BTreeMap::new();
    for s in authz::parse(text).sections {
        lines
            .entry(s.name.clone())
            .or_insert_with(|| src.line_col(s.header.start).0);
    }
    lines
}

/// Whether the rule path of section `name` covers `path` (a canonical
/// path): the same path or an ancestor. `:glob:` sections may cover any
/// path and are always listed.
pub fn covers(name: &str, path: &str) -> bool {
    if name.starts_with(":glob:") {
        return true;
    }
    let rule = match name.find(":/") {
        Some(i) if !name.starts_with('/') => &name[i + 1..],
        _ => name,
    };
    let rule = authz::canonicalize(rule);
    rule == "/"
        || rule == path
        || path
            .strip_prefix(rule.as_str())
            .is_some_and(|r| r.starts_with('/'))
}
