//! The last good directory answer on disk (`directory.snapshot` in the
//! state folder): written by the daemon after each good sync, read back at
//! its start (so a restart with the directory down builds on the last
//! answer, never on none) and by the hooks (so a commit is judged against
//! the directory the daemon builds with).
//!
//! Format, version 1: one header line, then the answer as JSON:
//!
//! ```text
//! rolesync-directory-snapshot 1 <hex SHA-256 of the JSON>\n
//! {"revision":"…","groups":[{"dn":"…","members":[{"login":"bob","via":[]}]},
//!   {"base":"…","filter":"…","members":null}], "accounts":[{"login":"bob","locked_by":null}]}
//! ```
//!
//! (`members: null`: the reference was not found; `accounts: null`: no
//! account state.) A file that is missing, of another version, larger
//! than [`MAX_BYTES`], whose checksum fails or whose revision is not the
//! digest of its content is not used: the daemon syncs afresh, a hook
//! builds without it and says so at debug level.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::directory::{AccountState, DirectorySnapshot, GroupAnswer, GroupRef, Member};

/// The file's name in the state folder.
pub const FILE: &str = "directory.snapshot";
const MAGIC: &str = "rolesync-directory-snapshot";
const VERSION: u32 = 1;
/// The largest file read back: 256 MiB (an answer of 10,000 users in 500
/// groups takes a few MiB).
pub const MAX_BYTES: usize = 256 << 20;

/// Why a stored answer was not used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("not a rolesync directory snapshot")]
    Magic,
    #[error("format version {0}, this rolesync reads version {VERSION}")]
    Version(String),
    #[error("{0} bytes, more than the bound of {1}")]
    TooLarge(usize, usize),
    #[error("checksum mismatch")]
    Checksum,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("its revision is not the digest of its content")]
    Revision,
    #[error("{0}")]
    Io(String),
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDto {
    revision: String,
    groups: Vec<GroupDto>,
    accounts: Option<Vec<AccountDto>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupDto {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filter: Option<String>,
    members: Option<Vec<MemberDto>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberDto {
    login: String,
    via: Vec<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountDto {
    login: String,
    locked_by: Option<String>,
}

/// The file's bytes for `snapshot`.
pub fn encode(snapshot: &DirectorySnapshot) -> Vec<u8> {
    let groups = (snapshot.groups.iter()).map(|(r, answer)| {
        let (dn, base, filter) = match r {
            GroupRef::Dn(dn) => (Some(dn.clone()), None, None),
            GroupRef::Search { base, filter } => (None, Some(base.clone()), Some(filter.clone())),
        };
        let members = match answer {
            GroupAnswer::NotFound => None,
            GroupAnswer::Members(m) => Some(
                m.iter()
                    .map(|m| MemberDto {
                        login: m.login.clone(),
                        via: m.via.clone(),
                    })
                    .collect(),
            ),
        };
        GroupDto {
            dn,
            base,
            filter,
            members,
        }
    });
    let accounts = snapshot.accounts.as_ref().map(|a| {
        a.iter()
            .map(|(login, state)| AccountDto {
                login: login.clone(),
                locked_by: match state {
                    AccountState::Active => None,
                    AccountState::Locked { by } => Some(by.clone()),
                },
            })
            .collect()
    });
    let dto = FileDto {
        revision: snapshot.revision.clone(),
        groups: groups.collect(),
        accounts,
    };
    // Plain strings and vectors: serialising them cannot fail.
    let body = serde_json::to_vec(&dto).unwrap_or_default();
    let mut out = format!("{MAGIC} {VERSION} {:x}\n", Sha256::digest(&body)).into_bytes();
    out.extend_from_slice(&body);
    out
}

/// The answer in `bytes`, checked whole and true to its revision.
pub fn decode(bytes: &[u8]) -> Result<DirectorySnapshot, StoreError> {
    if bytes.len() > MAX_BYTES {
        return Err(StoreError::TooLarge(bytes.len(), MAX_BYTES));
    }
    let newline = (bytes.iter().position(|b| *b == b'\n')).ok_or(StoreError::Magic)?;
    let header = std::str::from_utf8(&bytes[..newline]).map_err(|_| StoreError::Magic)?;
    let mut words = header.split(' ');
    if words.next() != Some(MAGIC) {
        return Err(StoreError::Magic);
    }
    match words.next() {
        Some(v) if v == VERSION.to_string() => {}
        other => return Err(StoreError::Version(other.unwrap_or("").to_owned())),
    }
    let body = &bytes[newline + 1..];
    if words.next() != Some(&format!("{:x}", Sha256::digest(body))) || words.next().is_some() {
        return Err(StoreError::Checksum);
    }
    let dto: FileDto =
        serde_json::from_slice(body).map_err(|e| StoreError::Malformed(e.to_string()))?;
    let snapshot = DirectorySnapshot::new(groups_of(dto.groups)?, accounts_of(dto.accounts)?);
    if snapshot.revision != dto.revision {
        return Err(StoreError::Revision);
    }
    Ok(snapshot)
}

fn groups_of(list: Vec<GroupDto>) -> Result<BTreeMap<GroupRef, GroupAnswer>, StoreError> {
    let mut groups = BTreeMap::new();
    for g in list {
        let r = match (g.dn, g.base, g.filter) {
            (Some(dn), None, None) => GroupRef::Dn(dn),
            (None, Some(base), Some(filter)) => GroupRef::Search { base, filter },
            _ => return Err(malformed("a group is neither a DN nor a search")),
        };
        let answer = match g.members {
            None => GroupAnswer::NotFound,
            Some(m) => GroupAnswer::Members(
                m.into_iter()
                    .map(|m| Member {
                        login: m.login,
                        via: m.via,
                    })
                    .collect(),
            ),
        };
        if groups.insert(r, answer).is_some() {
            return Err(malformed("a group twice"));
        }
    }
    Ok(groups)
}

fn accounts_of(
    list: Option<Vec<AccountDto>>,
) -> Result<Option<BTreeMap<String, AccountState>>, StoreError> {
    let Some(list) = list else {
        return Ok(None);
    };
    let mut accounts = BTreeMap::new();
    for a in list {
        let state = match a.locked_by {
            None => AccountState::Active,
            Some(by) => AccountState::Locked { by },
        };
        if accounts.insert(a.login, state).is_some() {
            return Err(malformed("an account twice"));
        }
    }
    Ok(Some(accounts))
}

fn malformed(what: &str) -> StoreError {
    StoreError::Malformed(what.to_owned())
}

/// Write `snapshot` into the state folder `dir`, atomically (a temporary
/// file, then rename, as the access file is written).
pub fn store(dir: &Path, snapshot: &DirectorySnapshot) -> Result<(), StoreError> {
    crate::publish::publish(&dir.join(FILE), &encode(snapshot))
        .map(|_| ())
        .map_err(|e| StoreError::Io(e.to_string()))
}

/// The answer stored in the state folder `dir`, if it is there and whole;
/// why not otherwise.
pub fn load(dir: &Path) -> Result<DirectorySnapshot, StoreError> {
    use std::io::Read as _;
    let path = dir.join(FILE);
    let io = |e: std::io::Error| StoreError::Io(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(&path).map_err(io)?;
    let mut bytes = Vec::new();
    // One byte past the bound is enough to know it is too large.
    (file.take(MAX_BYTES as u64 + 1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    decode(&bytes)
}

#[cfg(test)]
#[path = "directory_store_tests.rs"]
mod tests;
