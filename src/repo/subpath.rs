//! The folder of a repository that holds the configuration (`--path`),
//! normalised once for every backend: slashes trimmed and collapsed, and
//! no `.` or `..` component (refused: the configuration root never leaves
//! the repository or folder it was given).

use super::error::Error;

/// A normalised sub-folder: `/`-separated components, none empty, `.` or
/// `..`; the empty path is the repository's root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubPath(String);

impl SubPath {
    /// Normalise `raw`: leading, trailing and repeated slashes go; a `.` or
    /// `..` component is refused.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let mut parts = Vec::new();
        for part in raw.split('/').filter(|p| !p.is_empty()) {
            if part == "." || part == ".." {
                return Err(Error::BadSubPath {
                    path: raw.to_owned(),
                });
            }
            parts.push(part);
        }
        Ok(SubPath(parts.join("/")))
    }

    /// `raw` normalised, the root for `None`.
    pub fn from_option(raw: Option<&str>) -> Result<Self, Error> {
        raw.map_or_else(|| Ok(SubPath::default()), SubPath::parse)
    }

    /// The folder, or `None` for the root.
    pub fn prefix(&self) -> Option<&str> {
        (!self.0.is_empty()).then_some(self.0.as_str())
    }

    /// The path as a string (empty for the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Each component, in order.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|p| !p.is_empty())
    }

    /// `path` (relative to the repository root) relative to this folder,
    /// or `None` when it lies outside.
    pub fn strip<'p>(&self, path: &'p str) -> Option<&'p str> {
        match self.prefix() {
            None => Some(path),
            Some(p) => path.strip_prefix(p).and_then(|r| r.strip_prefix('/')),
        }
    }

    /// `rel` (relative to this folder) relative to the repository root.
    pub fn join(&self, rel: &str) -> String {
        match self.prefix() {
            None => rel.to_owned(),
            Some(p) => format!("{p}/{rel}"),
        }
    }

    /// Whether `path` is this folder or one of the folders above it.
    pub fn is_at_or_below(&self, path: &str) -> bool {
        self.prefix()
            .is_some_and(|p| path == p || p.starts_with(&format!("{path}/")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_paths_are_normalised_once_and_never_climb() {
        for (raw, want) in [
            ("", ""),
            ("/", ""),
            ("config", "config"),
            ("/admin//security config/", "admin/security config"),
        ] {
            assert_eq!(SubPath::parse(raw).expect(raw).as_str(), want, "{raw}");
        }
        for bad in ["..", "a/../b", "./a", "a/.", "/../etc"] {
            assert!(
                matches!(SubPath::parse(bad), Err(Error::BadSubPath { .. })),
                "{bad}"
            );
        }
        let s = SubPath::parse("a/b").expect("a/b");
        assert_eq!(s.strip("a/b/c"), Some("c"));
        assert_eq!(s.strip("a/bc"), None);
        assert_eq!(s.join("x"), "a/b/x");
        assert!(s.is_at_or_below("a") && s.is_at_or_below("a/b") && !s.is_at_or_below("a/b/c"));
        assert_eq!(SubPath::default().strip("x"), Some("x"));
    }
}
