//! Revision ordering, for `min_revision`: whether the loaded revision is
//! the wanted one or newer.

use super::{Backend, Source};

impl Source {
    /// Whether `loaded` is `wanted` or newer: SVN revisions by number, Git
    /// commits by ancestry (`wanted` reachable from `loaded`); anything else
    /// only when equal. Blocking (Git runs on the repository).
    pub fn is_at_least(&self, loaded: &str, wanted: &str) -> bool {
        if loaded == wanted {
            return true;
        }
        if let (Ok(l), Ok(w)) = (loaded.parse::<u64>(), wanted.parse::<u64>()) {
            return l >= w;
        }
        let Backend::Git { path, .. } = &self.0 else {
            return false;
        };
        super::git_commits_between(path, loaded, wanted).is_ok_and(|missing| missing.is_empty())
    }
}
