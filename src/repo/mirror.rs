//! A followed remote's mirror (`remote.rs`'s leaf types): created in the
//! state folder and fetched into, by the Git (`mirror_git.rs`) or SVN
//! (`mirror_svn.rs`) half.

use super::remote::{Fetched, Remote, RemoteError, RemoteKind};

impl Remote {
    /// Create the mirror when it is not there yet (an empty bare Git
    /// repository, or `svnadmin create`).
    pub fn init_mirror(&self) -> Result<(), RemoteError> {
        let setup = |message: String| RemoteError::Setup {
            url: self.url.as_str().to_owned(),
            message,
        };
        match self.kind {
            RemoteKind::Git => super::mirror_git::init(self.mirror(), self.branch.as_deref()),
            RemoteKind::Svn => super::mirror_svn::init(self.mirror()),
        }
        .map_err(setup)
    }

    /// Fetch the remote's newest revision into the mirror, unless it would
    /// go back from `applied` (the revision being served). Blocking, within
    /// `bounds`. The error is the remote's, with the password redacted.
    pub fn fetch(&self, applied: Option<&str>) -> Result<Fetched, String> {
        let fetched = match self.kind {
            RemoteKind::Git => super::mirror_git::fetch(self, applied),
            RemoteKind::Svn => super::mirror_svn::fetch(self, applied),
        };
        fetched.map_err(|e| self.redact(&e))
    }
}
