//! `build(revision, files) -> Report`: the one function that `validate`,
//! `render`, the hooks and the daemon all call.
//!
//! Input is the content of the configuration repository at one revision
//! (paths relative to its root, as the `repo` module reads them). Output is
//! either a [`Snapshot`] — the validated model and the rendered access file,
//! which has passed the authz validator — or the diagnostics that explain
//! why there is none. Warnings come with a snapshot too.

use crate::authz;
use crate::diag::{self, Code, Diagnostic, Source};
use crate::model::{self, Model};
use crate::policy;
use crate::policytest;
use crate::rails::config::Config as RailsConfig;

mod access;
mod directory;
mod file_bytes;
mod kind;
mod memo;
mod parsed;
mod read;
mod sources;

pub use access::render_groups;
use access::{access_too_large, render_access};
pub use file_bytes::{FileBytes, Files};
pub use kind::{
    ACCESS_FILE, FileKind, GROUPS, PERMISSIONS, RAILS_FILE, ROLES, USER_ROLES, USERS_DIR, classify,
    is_classified,
};
pub use memo::{Memo, Stats};
pub use read::{PARALLEL_MIN_FILES, Parse, read_all, read_all_with};
pub use sources::Sources;

/// The file that marks a project folder (the model names it too).
pub use crate::limits::Limits;
pub use crate::model::PROJECT_MARKER;

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
    pub files: Files,
    pub limits: Limits,
    /// Set by a reader that stopped because the files read so far together
    /// exceed `Limits::max_total_bytes`: the path of the file that crossed
    /// the bound. `files` is then incomplete, and `build` refuses it.
    pub incomplete: Option<String>,
    /// What the directory (LDAP / Active Directory) answered, when one is
    /// configured: the members of the user groups backed by a directory
    /// group and the accounts' state. `None`: no directory.
    pub directory: Option<std::sync::Arc<crate::directory::DirectorySnapshot>>,
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
    /// Where the generated block of `access` lies, as the renderer wrote it
    /// (`None`: it could not vouch for it): the diff and the lock-out rail
    /// take it instead of reading the block's lines, and read them when it
    /// does not fit `access` (`diff::block`).
    pub access_block: Option<authz::render::BlockMap>,
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

/// What `input` asks of the directory: every reference its `groups.xml`
/// names (`ldap=`, `ldap-base=` + `ldap-filter=`), normalised as the
/// build takes them, sorted, each once — only that file is parsed. The
/// daemon syncs exactly these and puts the answer in `Input::directory`.
pub fn directory_refs(input: &Input) -> Vec<crate::directory::GroupRef> {
    directory::refs_of(
        input.files.get(GROUPS).map(FileBytes::as_bytes),
        &input.limits,
    )
}

/// Build the snapshot of one revision.
pub fn build(input: &Input) -> Report {
    build_cached(input, &mut Memo::one_off())
}

/// [`build`], taking from `memo` what an earlier build computed from the
/// same content and leaving in it what this one computed (and nothing
/// else). The report is the one `build` gives, whatever the memo holds.
pub fn build_cached(input: &Input, memo: &mut Memo) -> Report {
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
    let sources = Sources::new(texts);
    let (model, model_diags) = lower_all(&sources, input, memo);
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
    let has_access_file = input.files.contains_key(ACCESS_FILE);
    let Memo {
        index,
        groups,
        access: access_memo,
        ..
    } = memo;
    let ((policy, policy_diags), (access, access_cost, access_block, access_diags)) = both(
        limits,
        || policy::Index::build_cached(&model, index),
        || {
            let mut d = Vec::new();
            let (access, cost, block) = render_access(
                limits,
                has_access_file,
                &model,
                access_text,
                &mut d,
                (groups, access_memo),
            );
            (access, cost, block, d)
        },
    );
    diags.extend(policy_diags);
    diags.extend(access_diags);
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
        access_block,
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

/// `a` and `b`, at once on a pool of two threads made for the call when
/// `Limits::max_build_threads` allows two (the policy index and the access
/// file depend on the model alone, not on each other), else one after the
/// other; and one after the other when no thread can be started.
fn both<A: Send, B: Send>(
    limits: &Limits,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    let pool = (limits.max_build_threads > 1)
        .then(|| rayon::ThreadPoolBuilder::new().num_threads(2).build().ok())
        .flatten();
    match pool {
        Some(pool) => pool.join(a, b),
        None => (a(), b()),
    }
}

/// Parse the policy-test files and, when the configuration has no error so
/// far (answers on a broken one would mislead), run them.
fn policy_tests(
    input: &Input,
    sources: &Sources,
    subject: &policytest::Subject,
    diags: &mut Vec<Diagnostic>,
) -> Vec<policytest::Outcome> {
    let files: Vec<&Source> = sources
        .iter()
        // `classify` gives `PolicyTest` / `PolicyTestIgnored` by this
        // alone (no other kind's path is under the tests folder), and
        // makes no copy of the path.
        .filter(|(p, _)| policytest::is_test_file(p) == Some(true))
        .map(|(_, s)| s)
        .collect();
    let ignored: Vec<&str> = input
        .files
        .keys()
        .map(String::as_str)
        .filter(|p| policytest::is_test_file(p) == Some(false))
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

/// The configuration files' texts in path order (the input's, so no map
/// is built), each within its bound and UTF-8 (a file that is not is a
/// diagnostic and left out); `None` when the whole input passes its bound.
fn decode<'i>(input: &'i Input, diags: &mut Vec<Diagnostic>) -> Option<Vec<(&'i str, &'i str)>> {
    let limits = &input.limits;
    if let Some(path) = &input.incomplete {
        diags.push(total_too_large(path, limits));
        return None;
    }
    // In path order (the input's): collected, then built in bulk.
    let mut texts: Vec<(&str, &str)> = Vec::with_capacity(input.files.len());
    let mut total: usize = 0;
    for (path, bytes) in &input.files {
        if !is_classified(path) {
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
        // Checked when the bytes were read (`FileBytes`), not again here.
        match bytes.text() {
            Ok(text) => texts.push((path, text)),
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

fn lower_all(sources: &Sources, input: &Input, memo: &mut Memo) -> (Model, Vec<Diagnostic>) {
    let lower = &memo.lower;
    let (mut files, mut diags) = read::read_with_memo(
        sources,
        Some(&input.files),
        &input.limits,
        None,
        (&mut memo.files, |g| lower.kept_accounts(g, &input.limits)),
    );
    files.directory.clone_from(&input.directory);
    let (model, d) = model::lower_with(&files, &mut memo.lower);
    diags.extend(d);
    (model, diags)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod everyone_tests;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
pub(crate) mod incremental_tests;
#[cfg(test)]
mod parallel_tests;
