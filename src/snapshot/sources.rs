//! `Sources`: the configuration files' texts of one build, as
//! `diag::Source`s in path order — a sorted slice, made in one pass from
//! the input's path order and looked up by binary search (a map of 12,000
//! entries sorted and built per build cost a millisecond of a one-file
//! reload). A leaf.

use crate::diag::Source;

/// The files of one build, in strictly increasing path order.
#[derive(Debug, Default)]
pub struct Sources<'s>(Vec<Source<'s>>);

impl<'s> Sources<'s> {
    /// The sources of `(path, text)` pairs; given out of order or with a
    /// path twice (a caller's mistake: `Input::files` is a map), they are
    /// sorted and the last text of a path kept, as a map would.
    pub fn new(texts: impl IntoIterator<Item = (&'s str, &'s str)>) -> Self {
        let mut all: Vec<Source<'s>> = texts
            .into_iter()
            .map(|(path, text)| Source::new(path, text))
            .collect();
        if !all.windows(2).all(|w| w[0].path < w[1].path) {
            all.sort_by(|a, b| a.path.cmp(b.path));
            // `dedup_by` keeps the first of equal ones: reversed, the last.
            all.reverse();
            all.dedup_by(|a, b| a.path == b.path);
            all.reverse();
        }
        Sources(all)
    }

    /// The source of `path`.
    pub fn get(&self, path: &str) -> Option<&Source<'s>> {
        let i = self.0.binary_search_by(|s| s.path.cmp(path)).ok()?;
        Some(&self.0[i])
    }

    /// Every source, with its path, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&'s str, &Source<'s>)> {
        self.0.iter().map(|s| (s.path, s))
    }

    /// The sources whose path starts with `prefix` (a run of them, in
    /// path order), and where that run starts.
    pub(super) fn under(&self, prefix: &str) -> (usize, &[Source<'s>]) {
        let start = self.0.partition_point(|s| s.path < prefix);
        let len = self.0[start..].partition_point(|s| s.path.starts_with(prefix));
        (start, &self.0[start..start + len])
    }

    /// The sources before place `at` and from place `to` on.
    pub(super) fn around(&self, (at, to): (usize, usize)) -> impl Iterator<Item = &Source<'s>> {
        self.0[..at].iter().chain(&self.0[to..])
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_found_by_path_in_any_order_the_last_of_a_path_kept() {
        let sorted = Sources::new([("a", "1"), ("b/c", "2"), ("b/d", "3")]);
        let shuffled = Sources::new([("b/d", "0"), ("a", "1"), ("b/d", "3"), ("b/c", "2")]);
        for s in [&sorted, &shuffled] {
            let listed: Vec<(&str, &str)> = s.iter().map(|(p, src)| (p, src.text)).collect();
            assert_eq!(listed, [("a", "1"), ("b/c", "2"), ("b/d", "3")]);
            assert_eq!(s.get("b/c").map(|src| src.text), Some("2"));
            assert!(s.get("b").is_none() && s.get("z").is_none());
            assert_eq!(s.len(), 3);
        }
        assert!(Sources::new([]).is_empty());
    }
}
