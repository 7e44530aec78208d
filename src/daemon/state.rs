//! What the daemon keeps across restarts (the last applied revision) and
//! its audit log (one JSON line per reload: who gained or lost which group).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::snapshot::Snapshot;

const STATE_FILE: &str = "state.json";
const AUDIT_FILE: &str = "audit.jsonl";

/// The persisted state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Persisted {
    /// The revision whose access file was last published.
    pub applied_revision: Option<String>,
}

/// Read the state; a missing file is the empty state.
pub fn load(dir: &Path) -> anyhow::Result<Persisted> {
    let path = dir.join(STATE_FILE);
    match fs_err::read(&path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Persisted::default()),
        Err(e) => Err(e.into()),
    }
}

/// Write the state atomically (same way as the access file).
pub fn save(dir: &Path, state: &Persisted) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(state)?;
    crate::publish::publish(&dir.join(STATE_FILE), &bytes)?;
    Ok(())
}

/// Group membership changes between two snapshots, by login.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub gained: BTreeMap<String, BTreeSet<String>>,
    pub lost: BTreeMap<String, BTreeSet<String>>,
}

/// Who gained or lost which role group from `old` to `new`.
pub fn changes(old: Option<&Snapshot>, new: &Snapshot) -> Changes {
    let members = |s: &Snapshot| -> BTreeMap<String, BTreeSet<String>> {
        let mut by_login: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for g in s.model.role_groups() {
            for m in &g.members {
                by_login
                    .entry(m.to_string())
                    .or_default()
                    .insert(g.name.clone());
            }
        }
        by_login
    };
    let before = old.map(members).unwrap_or_default();
    let after = members(new);
    let mut out = Changes::default();
    let logins: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let empty = BTreeSet::new();
    for login in logins {
        let b = before.get(login).unwrap_or(&empty);
        let a = after.get(login).unwrap_or(&empty);
        let gained: BTreeSet<String> = a.difference(b).cloned().collect();
        let lost: BTreeSet<String> = b.difference(a).cloned().collect();
        if !gained.is_empty() {
            out.gained.insert(login.clone(), gained);
        }
        if !lost.is_empty() {
            out.lost.insert(login.clone(), lost);
        }
    }
    out
}

/// The audit log in a state folder.
#[derive(Debug, Clone)]
pub struct Audit {
    path: PathBuf,
}

impl Audit {
    pub fn new(dir: &Path) -> Self {
        Audit {
            path: dir.join(AUDIT_FILE),
        }
    }

    /// Append one record (one line of JSON) and flush it to disk.
    pub fn append(&self, record: &serde_json::Value) -> anyhow::Result<()> {
        let mut file = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        file.write_all(&line)?;
        file.sync_data()?;
        Ok(())
    }
}
