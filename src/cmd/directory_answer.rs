//! The daemon's stored directory answer (`directory.snapshot` in its state
//! folder, `daemon::directory_store`) for what builds revisions outside the
//! daemon: the hooks judge with the daemon's members, `rolesync diff
//! --state-dir` / `--directory-snapshot` compares with them. No answer (no
//! state folder, no file, a broken one) is never a refusal: it is said at
//! debug (no file) or warn (unusable) level, and the revisions are built
//! without a directory, as before (`ldap-members-unknown` says so).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::daemon::directory_store::{self, StoreError};
use crate::directory::DirectorySnapshot;
use crate::snapshot::Input;

/// A directory answer, or none.
pub type Answer = Option<Arc<DirectorySnapshot>>;

/// The answer stored in the state folder `state_dir`, if there is one and
/// it is whole.
pub fn stored(state_dir: Option<&Path>) -> Answer {
    let dir = state_dir?;
    let answer = directory_store::load(dir);
    said(answer, &dir.join(directory_store::FILE))
}

/// The answer in the file `path` (a copy of a state folder's
/// `directory.snapshot`); an error when it is not there or not whole (the
/// user named it).
pub fn from_file(path: &Path) -> anyhow::Result<Arc<DirectorySnapshot>> {
    use anyhow::Context as _;
    use std::io::Read as _;
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut bytes = Vec::new();
    // One byte past the store's bound is enough for `decode` to refuse it.
    (file.take(directory_store::MAX_BYTES as u64 + 1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    let snapshot = directory_store::decode(&bytes)
        .with_context(|| format!("{} is no directory answer", path.display()))?;
    Ok(Arc::new(snapshot))
}

/// The load's outcome said, the answer kept when there is one.
fn said(answer: Result<DirectorySnapshot, StoreError>, path: &Path) -> Answer {
    match answer {
        Ok(s) => {
            tracing::debug!(path = %path.display(), revision = %s.revision, "the stored directory answer is used");
            Some(Arc::new(s))
        }
        Err(StoreError::Io(e)) => {
            tracing::debug!(error = %e, "no stored directory answer; built without the directory");
            None
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "the stored directory answer is not used; built without the directory");
            None
        }
    }
}

/// The answer of this hook process: loaded once by [`load_for_hook`], put
/// into every `Input` the hook builds by [`attach`] / [`with`].
static HOOK_ANSWER: OnceLock<Answer> = OnceLock::new();

/// Load the stored answer of `state_dir` for this hook process (the first
/// call decides; a hook runs once per process).
pub fn load_for_hook(state_dir: Option<&Path>) {
    HOOK_ANSWER.get_or_init(|| stored(state_dir));
}

/// `input` with this hook's answer as its directory (none before
/// [`load_for_hook`] or without an answer).
pub fn attach(mut input: Input) -> Input {
    input.directory = HOOK_ANSWER.get().cloned().flatten();
    input
}

/// A read, with this hook's answer when it succeeded.
pub fn with<E>(read: Result<Input, E>) -> Result<Input, E> {
    read.map(attach)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_state_folder_no_file_and_a_broken_file_give_no_answer() {
        assert!(stored(None).is_none());
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(stored(Some(dir.path())).is_none(), "no file");
        std::fs::write(dir.path().join(directory_store::FILE), b"garbage").expect("write");
        assert!(stored(Some(dir.path())).is_none(), "a broken file");
        assert!(from_file(&dir.path().join(directory_store::FILE)).is_err());
    }

    #[test]
    fn a_stored_answer_is_read_back_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let answer = DirectorySnapshot::new(Default::default(), Some(Default::default()));
        directory_store::store(dir.path(), &answer).expect("store");
        let got = stored(Some(dir.path())).expect("an answer");
        assert_eq!(got.revision, answer.revision);
        let file = from_file(&dir.path().join(directory_store::FILE)).expect("the file");
        assert_eq!(*file, answer);
    }
}
