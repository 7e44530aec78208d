//! `build(revision, files) -> Report`: the one function that `validate`,
//! `render`, the hooks and the daemon all call.
//!
//! Input is the content of the configuration repository at one revision
//! (paths relative to its root, as the `repo` module reads them). Output is
//! either a [`Snapshot`] — the validated model and the rendered access file,
//! which has passed the authz validator — or the diagnostics that explain
//! why there is none. Warnings come with a snapshot too.

use std::collections::BTreeMap;

use crate::authz;
use crate::diag::{self, Code, Diagnostic, Source};
use crate::model::{self, ConfigFiles, Model, ProjectFiles, Read};
use crate::policy;
use crate::policytest;
use crate::rails::config::Config as RailsConfig;
use crate::xml;

/// The access file inside the configuration repository.
pub const ACCESS_FILE: &str = ".polarion/access";
/// Global role assignments.
pub const USER_ROLES: &str = ".polarion/security/user-roles.xml";
/// Global permissions.
pub const PERMISSIONS: &str = ".polarion/security/permissions.xml";
/// Role definitions.
pub const ROLES: &str = ".polarion/security/roles.xml";
/// User groups.
pub const GROUPS: &str = ".polarion/user-management/groups.xml";
/// The guard rails' settings (`rails::config`).
pub const RAILS_FILE: &str = ".polarion/rolesync.toml";
/// The folder that holds one folder per account.
pub const USERS_DIR: &str = ".polarion/user-management/users/";
/// The file that marks a project folder (the model names it too).
pub use crate::limits::Limits;
pub use crate::model::PROJECT_MARKER;

/// What a file of the configuration is, judged by its path alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    AccessFile,
    /// `.polarion/rolesync.toml`: the guard rails' settings.
    Rails,
    UserRoles,
    Permissions,
    Roles,
    Groups,
    User {
        login: String,
    },
    ProjectMarker {
        folder: String,
    },
    ProjectUserRoles {
        folder: String,
    },
    ProjectPermissions {
        folder: String,
    },
    /// A project's own role definitions.
    ProjectRoles {
        folder: String,
    },
    /// A policy-test file, `.polarion/tests/*.toml` (`policytest`).
    PolicyTest,
    /// Another file under `.polarion/tests/`: read only to warn that it
    /// is not run (`policy-test-ignored-file`).
    PolicyTestIgnored,
}

/// Classify a repository path; `None` for files rolesync does not read.
pub fn classify(path: &str) -> Option<FileKind> {
    Some(match path {
        ACCESS_FILE => FileKind::AccessFile,
        RAILS_FILE => FileKind::Rails,
        USER_ROLES => FileKind::UserRoles,
        PERMISSIONS => FileKind::Permissions,
        ROLES => FileKind::Roles,
        GROUPS => FileKind::Groups,
        _ if policytest::is_test_file(path) == Some(true) => FileKind::PolicyTest,
        _ if policytest::is_test_file(path) == Some(false) => FileKind::PolicyTestIgnored,
        _ => {
            if let Some(login) = path
                .strip_prefix(USERS_DIR)
                .and_then(|r| r.strip_suffix("/user.xml"))
            {
                if login.contains('/') {
                    return None;
                }
                return Some(FileKind::User {
                    login: login.to_owned(),
                });
            }
            let (folder, rest) = path.split_once("/.polarion/")?;
            if folder.is_empty() || folder.starts_with(".polarion/") || folder == ".polarion" {
                return None;
            }
            let folder = folder.to_owned();
            match rest {
                "polarion-project.xml" => FileKind::ProjectMarker { folder },
                "security/user-roles.xml" => FileKind::ProjectUserRoles { folder },
                "security/permissions.xml" => FileKind::ProjectPermissions { folder },
                "security/roles.xml" => FileKind::ProjectRoles { folder },
                _ => return None,
            }
        }
    })
}

/// Who made a revision and when (absent for plain folders).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionMeta {
    pub author: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
    /// The commit or log message, at most `Limits::max_message_bytes`
    /// ([`message_tail`]); the guard rails read its trailers.
    pub message: String,
}

/// A message within `max` bytes: a longer one keeps its end (where
/// trailers are), cut at a character boundary; invalid UTF-8 is replaced.
pub fn message_tail(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= max {
        return text.into_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

/// The configuration repository at one revision.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The revision (commit id, SVN revision number, or a digest of a
    /// folder's files).
    pub revision: String,
    pub meta: Option<RevisionMeta>,
    /// Every file `classify` knows, by path relative to the repository root.
    pub files: BTreeMap<String, Vec<u8>>,
    pub limits: Limits,
    /// Set by a reader that stopped because the files read so far together
    /// exceed `Limits::max_total_bytes`: the path of the file that crossed
    /// the bound. `files` is then incomplete, and `build` refuses it.
    pub incomplete: Option<String>,
}

/// A validated configuration and its rendered access file.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub revision: String,
    pub meta: Option<RevisionMeta>,
    pub model: Model,
    /// The model indexed for permission decisions (`policy`).
    pub policy: policy::Index,
    /// The synchronised access file, checked by the authz validator.
    pub access: String,
    /// What `access` costs Subversion to load (users named × rule sections).
    pub access_cost: authz::Cost,
    /// The access file as the repository holds it (`""` without one): the
    /// guard rails locate rule lines in it.
    pub access_source: String,
    /// The guard rails' settings of this revision (`.polarion/rolesync.toml`).
    pub rails: RailsConfig,
}

/// The result of `build`: a snapshot when there was no error, and every
/// diagnostic (sorted) either way.
#[derive(Debug, Clone)]
pub struct Report {
    /// The revision that was built, valid or not.
    pub revision: String,
    pub snapshot: Option<Snapshot>,
    pub diagnostics: Vec<Diagnostic>,
    /// The outcome of each policy test that ran (they run only when the
    /// rest of the configuration has no error); a failed one is also a
    /// `policy-test-failed` diagnostic.
    pub tests: Vec<policytest::Outcome>,
}

impl Report {
    pub fn is_valid(&self) -> bool {
        self.snapshot.is_some()
    }
}

/// Build the snapshot of one revision.
pub fn build(input: &Input) -> Report {
    let limits = &input.limits;
    let mut diags = Vec::new();
    let Some(texts) = decode(input, &mut diags) else {
        return invalid(input, diags);
    };
    if !input.files.contains_key(USER_ROLES) && !input.files.contains_key(ACCESS_FILE) {
        diags.push(
            Diagnostic::file(
                Code::NoConfiguration,
                USER_ROLES,
                format!(
                    "this is no Polarion configuration: there is neither {USER_ROLES} nor {ACCESS_FILE}"
                ),
            )
            .with_note("check --repo (and --path, --branch): rolesync reads the root of the configuration repository"),
        );
        return invalid(input, diags);
    }
    let sources: BTreeMap<&str, Source> =
        texts.iter().map(|(p, t)| (*p, Source::new(p, t))).collect();
    let (model, model_diags) = lower_all(&sources, limits);
    diags.extend(model_diags);
    let access_text = sources.get(ACCESS_FILE).map(|s| s.text);

    // Bound the generated groups before anything expands them: a group
    // with many members holding many roles multiplies.
    let budget = limits
        .max_access_bytes
        .saturating_sub(access_text.map_or(0, str::len));
    if model.role_groups_size(budget).is_none() {
        diags.push(access_too_large(limits));
        return invalid(input, diags);
    }
    let (policy, policy_diags) = policy::Index::build(&model);
    diags.extend(policy_diags);

    let (access, access_cost) = render_access(input, &model, access_text, &mut diags);
    let rails = match sources.get(RAILS_FILE) {
        Some(src) => {
            let (rails, d) = crate::rails::config::parse(src, limits);
            diags.extend(d);
            rails
        }
        None => RailsConfig::default(),
    };
    let subject = policytest::Subject {
        model: &model,
        policy: &policy,
        access: &access,
        source_access: (ACCESS_FILE, access_text),
        revision: &input.revision,
    };
    let tests = policy_tests(input, &sources, &subject, &mut diags);
    diag::sort(&mut diags);
    let snapshot = (!diag::has_errors(&diags)).then(|| Snapshot {
        revision: input.revision.clone(),
        meta: input.meta.clone(),
        model,
        policy,
        access,
        access_cost,
        access_source: access_text.unwrap_or("").to_owned(),
        rails,
    });
    Report {
        revision: input.revision.clone(),
        snapshot,
        diagnostics: diags,
        tests,
    }
}

/// Parse the policy-test files and, when the configuration has no error so
/// far (answers on a broken one would mislead), run them.
fn policy_tests(
    input: &Input,
    sources: &BTreeMap<&str, Source>,
    subject: &policytest::Subject,
    diags: &mut Vec<Diagnostic>,
) -> Vec<policytest::Outcome> {
    let files: Vec<&Source> = sources
        .iter()
        .filter(|(p, _)| classify(p) == Some(FileKind::PolicyTest))
        .map(|(_, s)| s)
        .collect();
    let ignored: Vec<&str> = input
        .files
        .keys()
        .map(String::as_str)
        .filter(|p| classify(p) == Some(FileKind::PolicyTestIgnored))
        .collect();
    let (assertions, parse_diags) = policytest::parse_all(&files, &ignored, &input.limits);
    let config_ok = !diag::has_errors(diags);
    diags.extend(parse_diags);
    if !config_ok {
        return Vec::new();
    }
    let (outcomes, run_diags) = policytest::run(&assertions, subject);
    diags.extend(run_diags);
    outcomes
}

/// The configuration files' texts, each within its bound and UTF-8 (a
/// file that is not is a diagnostic and left out); `None` when the whole
/// input passes its bound.
fn decode<'i>(input: &'i Input, diags: &mut Vec<Diagnostic>) -> Option<BTreeMap<&'i str, &'i str>> {
    let limits = &input.limits;
    if let Some(path) = &input.incomplete {
        diags.push(total_too_large(path, limits));
        return None;
    }
    let mut texts: BTreeMap<&str, &str> = BTreeMap::new();
    if let Some(path) = &input.incomplete {
        diags.push(total_too_large(path, limits));
        return None;
    }
    let mut total: usize = 0;
    for (path, bytes) in &input.files {
        if classify(path).is_none() {
            continue;
        }
        total = total.saturating_add(bytes.len());
        if total > limits.max_total_bytes {
            diags.push(total_too_large(path, limits));
            return None;
        }
        if bytes.len() > input.limits.max_file_bytes {
            diags.push(Diagnostic::file(
                Code::FileTooLarge,
                path,
                format!(
                    "the file is larger than the limit of {} bytes",
                    input.limits.max_file_bytes
                ),
            ));
            continue;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                texts.insert(path, text);
            }
            Err(e) => {
                let src = Source::new(path, "");
                let at = e.valid_up_to();
                let mut d = src.diag(
                    Code::FileEncoding,
                    0..0,
                    format!("not UTF-8: invalid byte at offset {at}"),
                );
                let prefix = std::str::from_utf8(&bytes[..at]).unwrap_or("");
                let (line, col) = Source::new(path, prefix).line_col(at);
                (d.line, d.col) = (line, col);
                diags.push(d);
            }
        }
    }
    Some(texts)
}

/// The access file with the generated `[groups]` rendered in, its
/// diagnostics, and what it costs Subversion to load.
fn render_access(
    input: &Input,
    model: &Model,
    access_text: Option<&str>,
    diags: &mut Vec<Diagnostic>,
) -> (String, authz::Cost) {
    let limits = &input.limits;
    let role_groups = model.role_groups();
    if access_text.is_none() && !input.files.contains_key(ACCESS_FILE) {
        diags.push(Diagnostic::file(
            Code::AccessFileMissing,
            ACCESS_FILE,
            "there is no access file; the rendered file holds only the generated [groups]",
        ));
    }
    let groups = render_groups(&role_groups);
    let rendered = authz::render::render(ACCESS_FILE, access_text.unwrap_or(""), &groups);
    diags.extend(rendered.diagnostics);
    if rendered.text.len() > limits.max_access_bytes {
        diags.push(access_too_large(limits));
    }
    if rendered.cost.units() > limits.warn_access_cost {
        diags.push(access_expensive(rendered.cost, limits));
    }
    (rendered.text, rendered.cost)
}

fn access_expensive(cost: authz::Cost, limits: &Limits) -> Diagnostic {
    Diagnostic::file(
        Code::AccessFileExpensive,
        ACCESS_FILE,
        format!(
            "the rendered access file costs Subversion {} to load ({} users named × {} rule sections), more than {}; svnserve in fork mode pays it at every connection",
            cost.units(),
            cost.users,
            cost.rule_sections,
            limits.warn_access_cost
        ),
    )
    .with_note("run svnserve with -T, split the file per repository, or name fewer users (fewer enumerated groups, $authenticated); docs/diagnostics.md")
}

/// The role groups as the renderer takes them. Colliding role groups are
/// already an error (role-group-collision); only the first of each name
/// is rendered, so the access file is not blamed.
pub fn render_groups(role_groups: &[model::RoleGroup]) -> Vec<authz::render::Group<'_>> {
    let mut names = std::collections::HashSet::new();
    role_groups
        .iter()
        .filter(|g| names.insert(g.name.as_str()))
        .map(|g| authz::render::Group {
            name: &g.name,
            members: g.members.iter().map(|l| l.as_str()).collect(),
        })
        .collect()
}

/// The report of a revision that is refused before it is lowered.
fn invalid(input: &Input, mut diags: Vec<Diagnostic>) -> Report {
    diag::sort(&mut diags);
    Report {
        revision: input.revision.clone(),
        snapshot: None,
        diagnostics: diags,
        tests: Vec::new(),
    }
}

fn total_too_large(path: &str, limits: &Limits) -> Diagnostic {
    Diagnostic::file(
        Code::InputTooLarge,
        path,
        format!(
            "with this file the configuration is larger than the limit of {} bytes for all files of a revision together",
            limits.max_total_bytes
        ),
    )
}

fn access_too_large(limits: &Limits) -> Diagnostic {
    Diagnostic::file(
        Code::AccessFileTooLarge,
        ACCESS_FILE,
        format!(
            "the rendered access file would be larger than the limit of {} bytes; nothing is published",
            limits.max_access_bytes
        ),
    )
    .with_note("a user group with many members holding many roles repeats every member in each role's group")
}

/// One of the `xml::read_*` functions.
type Reader<T> = fn(&Source, &Limits) -> (Option<T>, Vec<Diagnostic>);

fn read<'s, T>(
    diags: &mut Vec<Diagnostic>,
    src: &'s Source<'s>,
    limits: &Limits,
    reader: Reader<T>,
) -> Option<Read<'s, T>> {
    let (value, d) = reader(src, limits);
    diags.extend(d);
    value.map(|value| Read { src, value })
}

fn lower_all(sources: &BTreeMap<&str, Source>, limits: &Limits) -> (Model, Vec<Diagnostic>) {
    let (files, mut diags) = read_all(sources, limits);
    let (model, d) = model::lower(&files);
    diags.extend(d);
    (model, diags)
}

/// Every configuration file read into its wire type (the XML step of
/// `build`, public so that the benchmark can time it), with the readers'
/// diagnostics. Files under a folder that is no project are not read.
///
/// From [`PARALLEL_MIN_FILES`] files on, they are parsed in parallel on a
/// rayon pool of `Limits::max_build_threads` threads made for this call,
/// then put together in path order, so the result is that of
/// [`Parse::Sequential`].
pub fn read_all<'s>(
    sources: &'s BTreeMap<&str, Source<'s>>,
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
    sources: &'s BTreeMap<&str, Source<'s>>,
    limits: &Limits,
    parse: Parse,
) -> (ConfigFiles<'s>, Vec<Diagnostic>) {
    use rayon::prelude::*;
    let classified: Vec<(FileKind, &'s Source<'s>)> = sources
        .iter()
        .filter_map(|(path, src)| Some((classify(path)?, src)))
        .collect();
    let parsed: Vec<Parsed<'s>> = match parse {
        Parse::Sequential => classified
            .into_iter()
            .map(|(kind, src)| parse_one(kind, src, limits))
            .collect(),
        Parse::Parallel => {
            let parallel = |classified: Vec<(FileKind, &'s Source<'s>)>| {
                classified
                    .into_par_iter()
                    .map(|(kind, src)| parse_one(kind, src, limits))
                    .collect()
            };
            // A pool of this build's own, bounded by `max_build_threads`;
            // when no thread can be started, the files are parsed here.
            match rayon::ThreadPoolBuilder::new()
                .num_threads(limits.max_build_threads.max(1))
                .thread_name(|i| format!("rolesync-build-{i}"))
                .build()
            {
                Ok(pool) => pool.install(|| parallel(classified)),
                Err(_) => classified
                    .into_iter()
                    .map(|(kind, src)| parse_one(kind, src, limits))
                    .collect(),
            }
        }
    };
    assemble(parsed, limits)
}

/// One file read into its wire type.
enum Wire<'s> {
    UserRoles(Read<'s, xml::UserRolesFile>),
    Permissions(Read<'s, xml::PermissionsFile>),
    Roles(Read<'s, xml::RolesFile>),
    Groups(Read<'s, xml::GroupsFile>),
    User(Read<'s, xml::UserFile>),
    Project(Read<'s, xml::ProjectFile>),
}

/// A file parsed on its own: what it is, its wire content (`None` when
/// its reader refused it) and the reader's diagnostics.
struct Parsed<'s> {
    kind: FileKind,
    wire: Option<Wire<'s>>,
    diags: Vec<Diagnostic>,
}

fn parse_one<'s>(kind: FileKind, src: &'s Source<'s>, limits: &Limits) -> Parsed<'s> {
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
fn assemble<'s>(parsed: Vec<Parsed<'s>>, limits: &Limits) -> (ConfigFiles<'s>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut files = ConfigFiles {
        limits: *limits,
        ..ConfigFiles::default()
    };
    let mut projects: BTreeMap<String, ProjectFiles> = BTreeMap::new();
    let mut project_parts = Vec::new();
    for Parsed {
        kind,
        wire,
        diags: d,
    } in parsed
    {
        match (kind, wire) {
            (
                FileKind::ProjectUserRoles { folder }
                | FileKind::ProjectPermissions { folder }
                | FileKind::ProjectRoles { folder },
                wire,
            ) => {
                project_parts.push((folder, wire, d));
                continue;
            }
            (FileKind::UserRoles, Some(Wire::UserRoles(r))) => files.user_roles = Some(r),
            (FileKind::Permissions, Some(Wire::Permissions(r))) => files.permissions = Some(r),
            (FileKind::Roles, Some(Wire::Roles(r))) => files.roles = Some(r),
            (FileKind::Groups, Some(Wire::Groups(r))) => files.groups = Some(r),
            (FileKind::User { login }, Some(Wire::User(r))) => files.users.push((login, r)),
            (FileKind::ProjectMarker { folder }, Some(Wire::Project(descriptor))) => {
                projects.insert(
                    folder.clone(),
                    ProjectFiles {
                        folder,
                        descriptor,
                        user_roles: None,
                        permissions: None,
                        roles: None,
                    },
                );
            }
            _ => {}
        }
        diags.extend(d);
    }
    for (folder, wire, d) in project_parts {
        // Files under a folder that is no project are not read at all.
        let Some(p) = projects.get_mut(&folder) else {
            continue;
        };
        diags.extend(d);
        match wire {
            Some(Wire::UserRoles(r)) => p.user_roles = Some(r),
            Some(Wire::Permissions(r)) => p.permissions = Some(r),
            Some(Wire::Roles(r)) => p.roles = Some(r),
            _ => {}
        }
    }
    files.projects = projects.into_values().collect();
    (files, diags)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod everyone_tests;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod parallel_tests;
