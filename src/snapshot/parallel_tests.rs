//! The parallel read of `read_all` gives what the sequential one gives:
//! the same wire values and the same diagnostics in the same order, on the
//! sample configuration and on every broken tree of `tests/data/diag`
//! (whose readers refuse files, so the order of their diagnostics shows).

use std::collections::BTreeMap;
use std::path::Path;

use super::{Limits, Parse, read_all_with};
use crate::diag::Source;

/// Every file under `root`, by path relative to it (`/`-separated).
fn files_of(root: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                let rel = path.strip_prefix(root).expect("under root");
                files.insert(rel.to_string_lossy().replace('\\', "/"), text);
            }
        }
    }
    files
}

fn trees() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut trees = vec![root.join("sample-repo")];
    for entry in std::fs::read_dir(root.join("tests/data/diag")).expect("diag trees") {
        trees.push(entry.expect("entry").path());
    }
    trees.sort();
    trees
}

#[test]
fn the_parallel_read_equals_the_sequential_one() {
    let limits = Limits::default();
    let mut checked = 0;
    for tree in trees() {
        let files = files_of(&tree);
        let sources: BTreeMap<&str, Source> = files
            .iter()
            .map(|(p, t)| (p.as_str(), Source::new(p, t)))
            .collect();
        let sequential = format!("{:?}", read_all_with(&sources, &limits, Parse::Sequential));
        let parallel = format!("{:?}", read_all_with(&sources, &limits, Parse::Parallel));
        assert_eq!(sequential, parallel, "{}", tree.display());
        checked += usize::from(!files.is_empty());
    }
    assert!(checked > 50, "only {checked} trees read");
}
