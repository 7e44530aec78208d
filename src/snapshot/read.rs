//! Reading the files into their wire types: each file parsed on its own
//! (or taken from the [`Memo`](super::memo::Memo) when its bytes are those
//! it was parsed from), then put together in path order.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::file_bytes::Files;
use super::kind::{FileKind, USERS_DIR, classify};
use super::memo::{FileEntry, FileMemo};
use super::parsed::{Parsed, Wire};
use super::sources::Sources;
use crate::diag::{Diagnostic, Source};
use crate::limits::Limits;
use crate::model::{ConfigFiles, KeptAccounts, ProjectFiles, Read};
use crate::xml;

/// Every configuration file read into its wire type (the XML step of
/// `build`, public so that the benchmark can time it), with the readers'
/// diagnostics. Files under a folder that is no project are not read.
///
/// From [`PARALLEL_MIN_FILES`] files on, they are parsed in parallel on a
/// rayon pool of `Limits::max_build_threads` threads made for this call,
/// then put together in path order, so the result is that of
/// [`Parse::Sequential`].
pub fn read_all<'s>(
    sources: &'s Sources<'s>,
    limits: &Limits,
) -> (ConfigFiles<'s>, Vec<Diagnostic>) {
    let parse = if sources.len() >= PARALLEL_MIN_FILES && limits.max_build_threads > 1 {
        Parse::Parallel
    } else {
        Parse::Sequential
    };
    read_all_with(sources, limits, parse)
}

/// Fewer files than this are parsed on the calling thread: a small
/// configuration starts no thread (each costs a stack and an allocator
/// arena, which a process under `ulimit -v` pays for).
pub const PARALLEL_MIN_FILES: usize = 64;

/// How `read_all_with` parses the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    /// One after the other, on the calling thread.
    Sequential,
    /// On a pool of `max_build_threads` threads, a file a task.
    Parallel,
}

/// `read_all`, with the files parsed as `parse` says.
pub fn read_all_with<'s>(
    sources: &'s Sources<'s>,
    limits: &Limits,
    parse: Parse,
) -> (ConfigFiles<'s>, Vec<Diagnostic>) {
    read_with_memo(
        sources,
        None,
        limits,
        Some(parse),
        (&mut FileMemo::off(), |_| None),
    )
}

/// `read_all_with`, taking from `memo` every file whose path, bytes and
/// limits are those it was parsed under, and parsing only the others
/// (`parse`, or as `read_all` chooses by their number); `memo` then holds
/// exactly the files of `sources` (the rest evicted), each by the buffer
/// of `input` its text borrows (`None` only for a memo that keeps none).
pub(super) fn read_with_memo<'s>(
    sources: &'s Sources<'s>,
    input: Option<&Files>,
    limits: &Limits,
    parse: Option<Parse>,
    (memo, lowered): (&mut FileMemo, impl FnOnce(u64) -> Option<KeptAccounts>),
) -> (ConfigFiles<'s>, Vec<Diagnostic>) {
    // The account files, read only when they are not those kept with
    // their accounts lowered (`FileMemo::begin`).
    let (users_at, users) = sources.under(USERS_DIR);
    let (mut earlier, kept) = memo.begin(limits, users, lowered);
    let skipped = match kept {
        Some(_) => (users_at, users_at + users.len()),
        None => (sources.len(), sources.len()),
    };
    // The input's buffer of a file's text (looked up for a file parsed
    // afresh, or whose kept buffer is another with equal bytes, only).
    let bytes_of = |src: &Source| {
        input?
            .get(src.path)
            .filter(|b| b.is(src.text.as_bytes()))
            .cloned()
    };
    // A file the memo holds was classified when it was parsed: its kind
    // is in its parse (a kind depends on the path alone).
    let classified: Vec<(&'s Source<'s>, Slot)> = sources
        .around(skipped)
        .filter_map(|src| match memo.take(&mut earlier, src, || bytes_of(src)) {
            Some(entry) => Some((src, Slot::Kept(entry))),
            None => Some((src, Slot::Fresh(classify(src.path)?))),
        })
        .collect();
    let missing: Vec<(FileKind, &'s Source<'s>)> = classified
        .iter()
        .filter_map(|(src, slot)| match slot {
            Slot::Fresh(kind) => Some((kind.clone(), *src)),
            Slot::Kept(_) => None,
        })
        .collect();
    let parse = parse.unwrap_or(
        if missing.len() >= PARALLEL_MIN_FILES && limits.max_build_threads > 1 {
            Parse::Parallel
        } else {
            Parse::Sequential
        },
    );
    let mut fresh = parse_files(missing, limits, parse).into_iter();
    let mut parsed = Vec::with_capacity(classified.len());
    for (src, slot) in classified {
        let entry = match slot {
            Slot::Kept(entry) => entry,
            // One fresh result per file without a kept one, in order.
            Slot::Fresh(_) => {
                let file = Arc::new(fresh.next().expect("a parse for every missing file"));
                let Some(bytes) = memo.keeps().then(|| bytes_of(src)).flatten() else {
                    parsed.push((file, src));
                    continue;
                };
                FileEntry::new(src, bytes, file)
            }
        };
        parsed.push((Arc::clone(entry.parsed()), src));
        memo.keep(entry);
    }
    let (mut files, mut diags) = assemble(&parsed, limits);
    if memo.keeps() {
        files.users_generation = Some(memo.users_generation());
        match kept {
            Some(accounts) => {
                diags.extend(memo.users_diags().iter().cloned());
                files.kept_accounts = Some(accounts);
            }
            None => memo.settle_users(),
        }
    }
    (files, diags)
}

/// A file of this build: its entry taken from the memo, or its kind, to
/// be parsed.
enum Slot {
    Kept(FileEntry),
    Fresh(FileKind),
}

/// Parse each file on its own, as `parse` says, in input order.
fn parse_files(files: Vec<(FileKind, &Source)>, limits: &Limits, parse: Parse) -> Vec<Parsed> {
    use rayon::prelude::*;
    let sequential = |files: Vec<(FileKind, &Source)>| {
        files
            .into_iter()
            .map(|(kind, src)| parse_one(kind, src, limits))
            .collect()
    };
    if parse == Parse::Sequential || files.len() < 2 {
        return sequential(files);
    }
    // A pool of this build's own, bounded by `max_build_threads`; when no
    // thread can be started, the files are parsed here.
    match rayon::ThreadPoolBuilder::new()
        .num_threads(limits.max_build_threads.max(1))
        .thread_name(|i| format!("rolesync-build-{i}"))
        .build()
    {
        Ok(pool) => pool.install(|| {
            files
                .into_par_iter()
                .map(|(kind, src)| parse_one(kind, src, limits))
                .collect()
        }),
        Err(_) => sequential(files),
    }
}

/// One of the `xml::read_*` functions.
type Reader<T> = fn(&Source, &Limits) -> (Option<T>, Vec<Diagnostic>);

fn read<T>(
    diags: &mut Vec<Diagnostic>,
    src: &Source,
    limits: &Limits,
    reader: Reader<T>,
) -> Option<Arc<T>> {
    let (value, d) = reader(src, limits);
    diags.extend(d);
    value.map(Arc::new)
}

fn parse_one(kind: FileKind, src: &Source, limits: &Limits) -> Parsed {
    let mut diags = Vec::new();
    let d = &mut diags;
    let wire = match &kind {
        FileKind::AccessFile
        | FileKind::Rails
        | FileKind::PolicyTest
        | FileKind::PolicyTestIgnored => None,
        FileKind::UserRoles | FileKind::ProjectUserRoles { .. } => {
            read(d, src, limits, xml::read_user_roles).map(Wire::UserRoles)
        }
        FileKind::Permissions | FileKind::ProjectPermissions { .. } => {
            read(d, src, limits, xml::read_permissions).map(Wire::Permissions)
        }
        FileKind::Roles | FileKind::ProjectRoles { .. } => {
            read(d, src, limits, xml::read_roles).map(Wire::Roles)
        }
        FileKind::Groups => read(d, src, limits, xml::read_groups).map(Wire::Groups),
        FileKind::User { .. } => read(d, src, limits, xml::read_user).map(Wire::User),
        FileKind::ProjectMarker { .. } => {
            read(d, src, limits, xml::read_project).map(Wire::Project)
        }
    };
    Parsed { kind, wire, diags }
}

/// The parsed files (in path order) put together: the global files, the
/// accounts and the project markers first, then the other files of each
/// project folder that has a marker (the rest are dropped with their
/// diagnostics, as if never read).
fn assemble<'s>(
    parsed: &[(Arc<Parsed>, &'s Source<'s>)],
    limits: &Limits,
) -> (ConfigFiles<'s>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut files = ConfigFiles {
        limits: *limits,
        ..ConfigFiles::default()
    };
    let mut projects: BTreeMap<&str, ProjectFiles> = BTreeMap::new();
    let mut project_parts = Vec::new();
    for (p, src) in parsed {
        let src: &'s Source<'s> = src;
        match (&p.kind, &p.wire) {
            (
                FileKind::ProjectUserRoles { folder }
                | FileKind::ProjectPermissions { folder }
                | FileKind::ProjectRoles { folder },
                _,
            ) => {
                project_parts.push((folder.as_str(), p, src));
                continue;
            }
            (FileKind::UserRoles, Some(Wire::UserRoles(r))) => files.user_roles = shared(src, r),
            (FileKind::Permissions, Some(Wire::Permissions(r))) => {
                files.permissions = shared(src, r);
            }
            (FileKind::Roles, Some(Wire::Roles(r))) => files.roles = shared(src, r),
            (FileKind::Groups, Some(Wire::Groups(r))) => files.groups = shared(src, r),
            (FileKind::User { .. }, Some(Wire::User(r))) => {
                // The login borrowed from the path (no copy per account).
                let login = super::kind::user_login(src.path);
                files.users.extend(login.zip(shared(src, r)));
            }
            (FileKind::ProjectMarker { folder }, Some(Wire::Project(r))) => {
                let pf = shared(src, r).map(|descriptor| ProjectFiles {
                    folder: folder.clone(),
                    descriptor,
                    user_roles: None,
                    permissions: None,
                    roles: None,
                });
                projects.extend(pf.map(|pf| (folder.as_str(), pf)));
            }
            _ => {}
        }
        diags.extend(p.diags.iter().cloned());
    }
    for (folder, p, src) in project_parts {
        // Files under a folder that is no project are not read at all.
        let Some(pf) = projects.get_mut(folder) else {
            continue;
        };
        diags.extend(p.diags.iter().cloned());
        match &p.wire {
            Some(Wire::UserRoles(r)) => pf.user_roles = shared(src, r),
            Some(Wire::Permissions(r)) => pf.permissions = shared(src, r),
            Some(Wire::Roles(r)) => pf.roles = shared(src, r),
            _ => {}
        }
    }
    files.projects = projects.into_values().collect();
    (files, diags)
}

/// A file's wire content, shared with the memo, beside its source.
fn shared<'s, T>(src: &'s Source<'s>, value: &Arc<T>) -> Option<Read<'s, T>> {
    Some(Read {
        src,
        value: Arc::clone(value),
    })
}
