//! Config snapshots at a revision, read from where the configuration lives.
//!
//! Every backend produces the same [`snapshot::Input`]: the files that
//! `snapshot::classify` knows, by path relative to the configuration root.
//! Backends are variants of one enum (no trait objects, no mocks): a plain
//! folder, a Git repository and a local SVN repository. A remote
//! repository is followed through a local mirror (`remote`).

pub mod cache;
mod error;
mod folder;
mod folder_walk;
mod git;
mod git_since;
mod mirror;
mod mirror_git;
mod mirror_svn;
#[cfg(test)]
mod mirror_tests;
mod order;
mod remote;
mod remote_trust;
pub mod signature;
mod signature_gpg;
mod signature_run;
mod subpath;
mod svn;
mod svn_dump;
mod svn_ra;
mod svn_since;
mod svnlook;
#[cfg(test)]
pub(crate) mod test_util;
mod watch;

use std::path::{Path, PathBuf};

pub use error::Error;
pub use remote::{Credentials, FetchBounds, Fetched, Remote, RemoteError, RemoteKind, RemoteUrl};
pub use remote_trust::{MAX_TRUST_FILE_BYTES, ServerTrust};
pub use subpath::SubPath;
pub use watch::{HeadFiles, Meaning, Touch, Watch};

use crate::diag;
use crate::snapshot::{self, Input, Limits};

/// What [`Source::open`] is told besides the path: the branch to follow
/// (Git only) and the folder that holds the configuration.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The branch to read (default: the repository's HEAD); an error for
    /// anything but a Git repository.
    pub branch: Option<String>,
    /// The folder of the repository (or plain folder) that holds the
    /// configuration, as given (`--path`); normalised by [`SubPath`].
    pub subpath: Option<String>,
}

/// What to read: a committed revision (`None`: the newest) or an SVN
/// transaction that is being committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At<'a> {
    Revision(Option<&'a str>),
    Transaction(&'a str),
}

/// The kind of a source, for messages and for what only one kind has
/// (where hooks are installed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Folder,
    Git,
    Svn,
}

impl Kind {
    /// `a plain folder`, `a Git repository`, `an SVN repository`.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Folder => "a plain folder",
            Kind::Git => "a Git repository",
            Kind::Svn => "an SVN repository",
        }
    }
}

impl Source {
    /// Read the newest revision; `prev`, an earlier read of this source,
    /// lets a backend read only what changed since (SVN by its changed
    /// paths, Git by the trees' object ids, a folder by its files' stamps,
    /// see `folder`); the result is the full read's. `prev` is taken by
    /// value: its files move into the new read (no copy of the bytes that
    /// did not change).
    pub fn read_newest(&self, prev: Option<Input>, limits: Limits) -> Result<Input, Error> {
        match (&self.0, prev) {
            (Backend::Svn { path, subpath, ra }, Some(prev)) => {
                svn::read_since(path, prev, Some(subpath), limits, Some(ra))
            }
            (Backend::Folder(root, stamps), prev) => {
                folder::read_newest(root, prev, limits, stamps)
            }
            (Backend::Git { .. }, prev) => match self.git_since() {
                Some(since) => git_since::read_newest(since, prev, limits),
                None => self.read(None, limits),
            },
            _ => self.read(None, limits),
        }
    }

    /// The newest revision, without reading any file (`None` for folders,
    /// which have no revisions).
    pub fn newest_revision(&self) -> Result<Option<String>, Error> {
        match &self.0 {
            Backend::Folder(..) => Ok(None),
            Backend::Git { path, branch, .. } => git::head(path, branch.as_deref()).map(Some),
            Backend::Svn { path, .. } => svn::youngest(path).map(Some),
        }
    }

    /// Where the configuration lives, for the guard rails: an SVN
    /// repository by its folder name (the name an access file gives it in
    /// `[NAME:/path]` when served with `SVNParentPath` / `svnserve -r`) and
    /// the configuration's folder in it.
    pub fn rails_target(&self) -> crate::rails::Target {
        match &self.0 {
            Backend::Svn { path, subpath, .. } => crate::rails::Target::Svn {
                repository: std::path::absolute(path)
                    .ok()
                    .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .unwrap_or_default(),
                path: format!("/{}", subpath.as_str()),
            },
            Backend::Git { .. } => crate::rails::Target::Git,
            Backend::Folder(..) => crate::rails::Target::Folder,
        }
    }

    /// The kind of this source.
    pub fn kind(&self) -> Kind {
        match &self.0 {
            Backend::Folder(..) => Kind::Folder,
            Backend::Git { .. } => Kind::Git,
            Backend::Svn { .. } => Kind::Svn,
        }
    }

    /// The path the source was opened at (for a folder: with the sub-path).
    pub fn path(&self) -> &Path {
        match &self.0 {
            Backend::Folder(path, _) | Backend::Git { path, .. } | Backend::Svn { path, .. } => {
                path
            }
        }
    }

    /// What changes when a commit lands, to watch for file events: the Git
    /// folder (`HEAD`, `packed-refs`) and `refs/heads/` of a Git
    /// repository, `db/` of an SVN repository (every commit rewrites
    /// `db/current` by rename into it), or the whole plain folder.
    pub fn watch_paths(&self) -> Result<Vec<Watch>, Error> {
        let watch = |path: PathBuf, recursive| Watch { path, recursive };
        Ok(match &self.0 {
            Backend::Folder(root, _) => vec![watch(root.clone(), true)],
            Backend::Git { path, .. } => {
                let git_dir = git::git_dir(path)?;
                let heads = git_dir.join("refs/heads");
                let mut paths = vec![watch(git_dir, false)];
                if heads.is_dir() {
                    paths.push(watch(heads, true));
                }
                paths
            }
            Backend::Svn { path, .. } => vec![watch(path.join("db"), false)],
        })
    }

    /// The files whose replacement moves the head, for the watcher to
    /// tell the rename that completes a commit from the commit's other
    /// writes (`watch.rs`).
    pub fn head_files(&self) -> Result<HeadFiles, Error> {
        Ok(match &self.0 {
            Backend::Folder(..) => HeadFiles::Folder,
            Backend::Git { path, .. } => HeadFiles::Git(git::git_dir(path)?),
            Backend::Svn { path, .. } => HeadFiles::Svn(path.join("db")),
        })
    }

    /// The branch a Git source follows: the one it was opened with, else
    /// the one HEAD names (`None`: HEAD is detached, or not Git).
    pub fn branch(&self) -> Result<Option<String>, Error> {
        match &self.0 {
            Backend::Git {
                branch: Some(b), ..
            } => Ok(Some(b.clone())),
            Backend::Git { path, .. } => git::head_branch(path),
            _ => Ok(None),
        }
    }

    /// The revisions a push from `old` to `new` brings, oldest first: Git
    /// commits reachable from `new` but not from `old` (all of them when
    /// `old` is the null id), SVN revision numbers in `(old, new]`.
    pub fn pushed_revisions(&self, old: &str, new: &str) -> Result<Vec<String>, Error> {
        match &self.0 {
            Backend::Git { path, .. } => git::commits_between(path, old, new),
            Backend::Svn { path, .. } => {
                let number = |r: &str| {
                    r.parse::<u64>().map_err(|_| Error::Svn {
                        path: path.clone(),
                        message: format!("`{}` is no revision number", diag::escape_controls(r)),
                    })
                };
                Ok((number(old)? + 1..=number(new)?)
                    .map(|r| r.to_string())
                    .collect())
            }
            Backend::Folder(root, _) => Err(Error::NoRevisions(root.clone())),
        }
    }

    /// Whether a transaction or revision touches the configuration: a
    /// changed configuration file, a changed folder that may hold (or have
    /// held) configuration, or a folder on the way to the sub-path. Only SVN
    /// answers from what changed; Git and folders always count as touched.
    pub fn touches_config(&self, at: At) -> Result<bool, Error> {
        let Backend::Svn { path, subpath, .. } = &self.0 else {
            return match at {
                At::Revision(_) => Ok(true),
                At::Transaction(_) => Err(Error::NoTransactions(self.path().to_owned())),
            };
        };
        Ok(svn::changed(path, at)?.into_iter().any(|(path, is_dir)| {
            if subpath.is_at_or_below(&path) {
                return true;
            }
            subpath
                .strip(&path)
                .is_some_and(|rel| is_dir || expected_kind(rel).is_some())
        }))
    }

    /// Read the configuration at `at`: a revision as [`Source::read`] does,
    /// or an SVN transaction being committed.
    pub fn read_at(&self, at: At, limits: Limits) -> Result<Input, Error> {
        match (&self.0, at) {
            (Backend::Svn { path, subpath, .. }, at) => svn::read(path, at, Some(subpath), limits),
            (_, At::Revision(rev)) => self.read(rev, limits),
            (_, At::Transaction(_)) => Err(Error::NoTransactions(self.path().to_owned())),
        }
    }

    /// Read `at` of an SVN source file by file (one `svnlook cat` each),
    /// the read that [`Source::read_at`]'s one-process read of a revision
    /// must equal: for the test that compares the two. Any other source
    /// reads as `read_at` does.
    pub fn read_at_per_file(&self, at: At, limits: Limits) -> Result<Input, Error> {
        match &self.0 {
            Backend::Svn { path, subpath, .. } => svn::read_listed(path, at, Some(subpath), limits),
            _ => self.read_at(at, limits),
        }
    }

    /// The folder the repository runs its hooks from. Git: `core.hooksPath`
    /// when it is set (relative to the repository for a bare one, to the top
    /// of the work tree otherwise, as Git resolves it), else the `hooks`
    /// folder of the (common) Git folder; SVN: `hooks/`; a folder has none.
    pub fn hooks_dir(&self) -> Result<PathBuf, Error> {
        match &self.0 {
            Backend::Git { path, .. } => git::hooks_dir(path),
            Backend::Svn { path, .. } => Ok(path.join("hooks")),
            Backend::Folder(root, _) => Err(Error::NoHooks(root.clone())),
        }
    }
}

/// Commits reachable from `new` but not from `old`, oldest first (for
/// revision ordering; see `Source::pushed_revisions` for hooks).
pub(crate) fn git_commits_between(path: &Path, old: &str, new: &str) -> Result<Vec<String>, Error> {
    git::commits_between(path, old, new)
}

/// Where a configuration is read from: a plain folder, a Git or an SVN
/// repository. Callers go through the methods; the backends are private.
#[derive(Debug, Clone)]
pub struct Source(Backend);

/// The backend of a [`Source`], matched only inside `repo`.
#[derive(Debug, Clone)]
enum Backend {
    /// A plain folder (with the sub-path joined): the files as they are on
    /// disk, and the stamps of the last read (for `read_newest`).
    Folder(PathBuf, folder::Stamps),
    /// A Git repository, bare or not: the committed tree, never the work tree.
    Git {
        path: PathBuf,
        /// The branch to read (default: the repository's HEAD).
        branch: Option<String>,
        /// The folder of the tree that holds the configuration.
        subpath: SubPath,
        /// The last complete walk of the configuration's tree (for
        /// `read_newest`).
        last: git_since::LastWalk,
    },
    /// A local SVN repository, read with `svnadmin dump` and `svnlook`.
    Svn {
        path: PathBuf,
        /// The folder of the repository that holds the configuration.
        subpath: SubPath,
        /// The long-lived `svnserve` session of `read_newest` (the
        /// daemon's), shared by the clones; never started by another read
        /// (the hooks').
        ra: svn_ra::Shared,
    },
}

/// Entries of a Git or SVN tree walked for one read, at most: bounds the
/// walk of a tree that repeats one subtree under many names.
pub const MAX_TREE_ENTRIES: usize = 1_000_000;

/// Whether `rel` (relative to the configuration root) is a folder on the
/// way to a configuration file: `.polarion`, `.polarion/security`,
/// `.polarion/user-management`, its `users` folder and each account's
/// folder, `.polarion/tests` (the policy tests), and every project's
/// `.polarion` and `.polarion/security`.
pub fn is_config_folder(rel: &str) -> bool {
    const GLOBAL: &[&str] = &[
        ".polarion",
        ".polarion/security",
        ".polarion/user-management",
        ".polarion/user-management/users",
        ".polarion/tests",
    ];
    if GLOBAL.contains(&rel) {
        return true;
    }
    if let Some(login) = rel.strip_prefix(snapshot::USERS_DIR) {
        return !login.is_empty() && !login.contains('/');
    }
    let folder = rel
        .strip_suffix("/.polarion")
        .or_else(|| rel.strip_suffix("/.polarion/security"));
    folder.is_some_and(|f| !f.is_empty() && f != ".polarion" && !f.starts_with(".polarion/"))
}

/// What a configuration path must be (`file` or `folder`), or `None` for a
/// path rolesync does not read.
pub fn expected_kind(rel: &str) -> Option<&'static str> {
    if snapshot::is_classified(rel) {
        Some("file")
    } else if is_config_folder(rel) {
        Some("folder")
    } else {
        None
    }
}

/// Add `len` bytes to the running `total` of a read; true once the
/// revision's files together exceed `Limits::max_total_bytes`. The reader
/// then keeps the file that crossed the bound, stops, and names it in
/// `Input::incomplete`, so that `snapshot::build` reports
/// `input-too-large` (a diagnostic, like every other limit).
fn add_total(total: &mut usize, len: usize, limits: Limits) -> bool {
    *total = total.saturating_add(len);
    *total > limits.max_total_bytes
}

impl Source {
    /// Detect what kind of repository `path` is, and apply `options`: the
    /// sub-path is normalised (and refused with `..`), a branch is refused
    /// for anything but Git.
    pub fn open(path: &Path, options: &Options) -> Result<Self, Error> {
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(Error::NotAFolder(path.to_owned()));
        }
        let subpath = SubPath::from_option(options.subpath.as_deref())?;
        let kind = if svn::is_repository(path) {
            Kind::Svn
        } else if git::is_repository(path) {
            Kind::Git
        } else {
            Kind::Folder
        };
        if options.branch.is_some() && kind != Kind::Git {
            return Err(Error::BranchNeedsGit {
                path: path.to_owned(),
                kind: kind.describe(),
            });
        }
        let path = path.to_owned();
        Ok(Source(match kind {
            Kind::Svn => Backend::Svn {
                path,
                subpath,
                ra: svn_ra::Shared::default(),
            },
            Kind::Git => Backend::Git {
                path,
                branch: options.branch.clone(),
                subpath,
                last: git_since::LastWalk::default(),
            },
            Kind::Folder => match subpath.prefix() {
                Some(sub) => Backend::Folder(path.join(sub), folder::Stamps::default()),
                None => Backend::Folder(path, folder::Stamps::default()),
            },
        }))
    }

    /// Read the configuration at `rev`, or at the newest revision (for a
    /// folder: as it is on disk; folders have no revisions).
    pub fn read(&self, rev: Option<&str>, limits: Limits) -> Result<Input, Error> {
        match &self.0 {
            Backend::Folder(root, _) if rev.is_some() => Err(Error::NoRevisions(root.clone())),
            Backend::Folder(root, _) => folder::read(root, limits),
            Backend::Git {
                path,
                branch,
                subpath,
                ..
            } => git::read(path, rev, branch.as_deref(), subpath, limits),
            Backend::Svn { path, subpath, .. } => {
                svn::read(path, At::Revision(rev), Some(subpath), limits)
            }
        }
    }
}

// The hooks' read (issue 13): from the daemon's cache of the last
// applied revision, only what a change touched.

impl Source {
    /// What a cache of this source's files (`repo::cache`) is keyed by, so
    /// that a cache of another repository, branch or folder is never
    /// taken: an SVN repository's UUID and path, a Git folder and branch,
    /// and the configuration's folder in either. `None` for a plain folder.
    pub fn cache_identity(&self) -> Result<Option<String>, Error> {
        let canonical = |p: &Path| {
            std::fs::canonicalize(p).map_err(|source| Error::Io {
                path: p.to_owned(),
                source,
            })
        };
        Ok(match &self.0 {
            Backend::Folder(..) => None,
            Backend::Svn { path, subpath, .. } => Some(format!(
                "svn {:?} {:?} {:?}",
                svn::uuid(path)?,
                canonical(path)?,
                subpath.as_str()
            )),
            Backend::Git { path, subpath, .. } => Some(format!(
                "git {:?} {:?} {:?}",
                canonical(&git::git_dir(path)?)?,
                self.branch()?.unwrap_or_default(),
                subpath.as_str()
            )),
        })
    }

    /// Read `at` as [`Source::read_at`] does, starting from `base`, an
    /// earlier read of this source (the daemon's cache, or the revision
    /// before): only what changed between the two is read (SVN: `svnlook
    /// changed`, copied folders walked; Git: the trees whose ids differ).
    /// The same files as a full read; where the change cannot be followed
    /// it is one.
    pub fn read_at_from(&self, at: At, base: &Input, limits: Limits) -> Result<Input, Error> {
        match (&self.0, at) {
            (Backend::Svn { path, subpath, .. }, at) => {
                svn::read_from(path, at, base, Some(subpath), limits)
            }
            (Backend::Git { .. }, At::Revision(rev)) => match self.git_since() {
                Some(since) => git_since::read_at(since, Some(base.clone()), rev, limits),
                None => self.read_at(at, limits),
            },
            _ => self.read_at(at, limits),
        }
    }

    /// What the incremental Git read needs of a Git source (`None`: not Git).
    fn git_since(&self) -> Option<git_since::Since<'_>> {
        match &self.0 {
            Backend::Git {
                path,
                branch,
                subpath,
                last,
            } => Some(git_since::Since {
                path,
                branch: branch.as_deref(),
                subpath,
                last,
            }),
            _ => None,
        }
    }

    /// The daemon's cache in the state folder `dir` as a read of this
    /// source, when it is whole, of this source and fits `limits` (every
    /// file within `max_file_bytes`, all within `max_total_bytes`, every
    /// path a configuration file's); `None` otherwise, said at debug level.
    pub fn load_cache(&self, dir: &Path, limits: Limits) -> Option<Input> {
        let ignored = |why: &dyn std::fmt::Display| {
            tracing::debug!(dir = %dir.display(), "the cache of the last applied revision is ignored: {why}");
        };
        let identity = match self.cache_identity() {
            Ok(Some(identity)) => identity,
            Ok(None) => return None,
            Err(e) => {
                ignored(&e);
                return None;
            }
        };
        let cached = match cache::load(dir, &identity, limits.max_total_bytes) {
            Ok(cached) => cached,
            Err(e) => {
                ignored(&e);
                return None;
            }
        };
        if let Some((path, _)) = cached
            .files
            .iter()
            .find(|(p, b)| b.len() > limits.max_file_bytes || !snapshot::is_classified(p))
        {
            ignored(&format!(
                "{} is no configuration file or is over the file limit",
                diag::escape_controls(path)
            ));
            return None;
        }
        if let (Some(since), Some(entries)) = (self.git_since(), cached.entries) {
            git_since::seed(since, &cached.revision, entries);
        }
        tracing::debug!(revision = %cached.revision, files = cached.files.len(), "read from the cache of the last applied revision");
        Some(Input {
            revision: cached.revision,
            meta: None,
            files: cached.files,
            limits,
            incomplete: None,
            directory: None,
        })
    }

    /// Write `input` (a complete read of this source) as the cache in the
    /// state folder `dir`, atomically; a source without revisions has none.
    pub fn store_cache(&self, dir: &Path, input: &Input) -> Result<(), String> {
        let Some(identity) = self.cache_identity().map_err(|e| e.to_string())? else {
            return Ok(());
        };
        if input.incomplete.is_some() {
            return Err("the read is incomplete".to_owned());
        }
        // Git: the entry count of the revision's walk, when the last walk
        // of this source (its clones share it) was of that tree.
        let entries = self
            .git_since()
            .and_then(|since| git_since::entries_of(since, &input.revision));
        cache::store(
            dir,
            &identity,
            (&input.revision, entries),
            &input.files,
            input.limits.max_total_bytes,
        )
        .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_folders_are_the_folders_on_the_way_to_config_files() {
        for yes in [
            ".polarion",
            ".polarion/security",
            ".polarion/user-management",
            ".polarion/user-management/users",
            ".polarion/user-management/users/bob",
            "lib/.polarion",
            "Dept A/lib/.polarion/security",
        ] {
            assert!(is_config_folder(yes), "{yes}");
        }
        for no in [
            "lib",
            ".polarion/tracker",
            ".polarion/user-management/users/bob/x",
            ".polarion/x/.polarion",
            "lib/.polarion/tracker",
        ] {
            assert!(!is_config_folder(no), "{no}");
        }
        assert_eq!(expected_kind(".polarion/access"), Some("file"));
        assert_eq!(expected_kind(".polarion"), Some("folder"));
        assert_eq!(expected_kind("README.md"), None);
        // The policy tests: a link there is refused like any configuration's.
        assert_eq!(expected_kind(".polarion/tests"), Some("folder"));
        assert_eq!(expected_kind(".polarion/tests/admins.toml"), Some("file"));
        assert_eq!(expected_kind(".polarion/tests/notes.md"), Some("file"));
    }

    #[test]
    fn open_normalises_the_sub_path_and_refuses_a_branch_without_git() {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = |branch: Option<&str>, subpath: Option<&str>| Options {
            branch: branch.map(str::to_owned),
            subpath: subpath.map(str::to_owned),
        };
        let source = Source::open(dir.path(), &options(None, Some("/cfg//x/"))).expect("opens");
        assert_eq!(source.path(), dir.path().join("cfg/x"));
        assert_eq!(source.kind(), Kind::Folder);
        let err = Source::open(dir.path(), &options(None, Some("cfg/../.."))).expect_err("..");
        assert!(matches!(err, Error::BadSubPath { .. }), "{err}");
        let err = Source::open(dir.path(), &options(Some("main"), None)).expect_err("branch");
        assert!(err.to_string().ends_with("is a plain folder"), "{err}");
        let watched = source.watch_paths().expect("watch");
        assert_eq!(
            watched,
            [Watch {
                path: dir.path().join("cfg/x"),
                recursive: true
            }]
        );
    }

    /// A folder with three configuration files of 400 bytes each.
    fn three_files_of_400_bytes() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let security = dir.path().join(".polarion/security");
        std::fs::create_dir_all(&security).expect("mkdir");
        for name in ["user-roles.xml", "roles.xml", "permissions.xml"] {
            std::fs::write(security.join(name), [b' '; 400]).expect("write");
        }
        dir
    }

    #[test]
    fn a_folder_read_stops_once_the_files_together_exceed_the_total() {
        let dir = three_files_of_400_bytes();
        // (the total, whether the read stops over it): it keeps the file
        // that crosses the total either way.
        for (max_total_bytes, over) in [(1000, true), (1200, false)] {
            let limits = Limits {
                max_total_bytes,
                ..Limits::default()
            };
            let input = Source(Backend::Folder(
                dir.path().to_owned(),
                folder::Stamps::default(),
            ))
            .read(None, limits)
            .expect("read");
            assert_eq!(input.incomplete.is_some(), over, "{max_total_bytes}");
            assert_eq!(input.files.len(), 3, "{max_total_bytes}");
        }
    }

    #[test]
    fn a_git_read_stops_once_the_files_together_exceed_the_total() {
        let dir = three_files_of_400_bytes();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(["-c", "user.name=A", "-c", "user.email=a@example"])
                .args(args)
                .status()
                .expect("git runs");
            assert!(ok.success(), "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "three files"]);
        let source = Source::open(dir.path(), &Options::default()).expect("a repository");
        let limits = Limits {
            max_total_bytes: 1000,
            ..Limits::default()
        };
        let input = source.read(None, limits).expect("read");
        assert!(input.incomplete.is_some(), "over the total");
        assert_eq!(input.files.len(), 3, "stops at the file that crosses it");
    }
}
