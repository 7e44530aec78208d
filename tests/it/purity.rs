//! The core is pure: `diag`, `fxhash`, `ident`, `xml`, `model`, `policy`,
//! `authz` and `snapshot` never touch the file system, processes, the
//! network, the environment or the clock, and never import the I/O modules
//! (`repo`, `daemon`, `api`, `publish`, `cmd`) or tokio. This test reads
//! their whole source and fails on such imports.
//!
//! Test-only code may use the standard library's I/O (a test runs a deep
//! case on a thread with a bigger stack, or reads a temporary file), but
//! never the I/O modules or tokio. Test-only code is the body of an inline
//! `#[cfg(test)] mod … { … }` and every file of a module declared
//! `#[cfg(test)] mod …;` (with its own sub-modules).
//!
//! No file of `src/` imports, through its `use` lines, a file that imports
//! it back, directly or through others (test-only code aside): the files
//! form a DAG, shared types live in leaf files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::util;

const PURE: &[&str] = &[
    "diag.rs",
    "diff",
    "directory.rs",
    "fxhash.rs",
    "ident.rs",
    "limits.rs",
    "xml",
    "model",
    "policy",
    "rails",
    "policytest",
    "authz",
    "snapshot.rs",
    "snapshot",
];
/// Forbidden everywhere, tests included: the crate's I/O modules and the
/// runtime.
const FORBIDDEN_PATHS: &[&str] = &[
    "crate::repo",
    "crate::daemon",
    "crate::api",
    "crate::publish",
    "crate::cmd",
    "rolesync::repo",
    "rolesync::daemon",
    "rolesync::api",
    "rolesync::publish",
    "tokio",
    "git2",
];
/// Forbidden outside test-only code.
const FORBIDDEN_IO: &[&str] = &[
    "std::fs",
    "fs_err",
    "std::process",
    "std::net",
    "std::env",
    "std::time",
    "std::thread",
    "std::io::stdin",
    "std::io::stdout",
    "std::io::stderr",
];

fn rust_files(path: &Path, out: &mut BTreeSet<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read folder") {
            rust_files(&entry.expect("entry").path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.insert(path.to_owned());
    }
}

/// The folder that holds the files of `file`'s child modules.
fn child_dir(file: &Path) -> PathBuf {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match name {
        "mod.rs" | "lib.rs" => file.parent().expect("a parent").to_owned(),
        _ => file.with_extension(""),
    }
}

/// Out-of-line module declarations of `text`: (file of the child, whether
/// it is declared under `#[cfg(test)]`).
fn child_modules(file: &Path, text: &str) -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    let (mut cfg_test, mut path_attr) = (false, None::<String>);
    for line in text.lines().map(str::trim) {
        if line.starts_with("#[") {
            cfg_test |= line == "#[cfg(test)]";
            if let Some(p) = line.strip_prefix("#[path = \"") {
                path_attr = p.strip_suffix("\"]").map(str::to_owned);
            }
            continue;
        }
        let decl = line
            .strip_prefix("pub ")
            .or_else(|| line.strip_prefix("pub(crate) "))
            .unwrap_or(line);
        if let Some(name) = decl.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
            let child = match &path_attr {
                Some(p) => file.parent().expect("a parent").join(p),
                None => {
                    let dir = child_dir(file);
                    let flat = dir.join(format!("{name}.rs"));
                    if flat.exists() {
                        flat
                    } else {
                        dir.join(name).join("mod.rs")
                    }
                }
            };
            out.push((child, cfg_test));
        }
        cfg_test = false;
        path_attr = None;
    }
    out
}

/// The lines of `text` with a flag: inside an inline `#[cfg(test)] mod`.
/// rustfmt closes a module with `}` at the indentation of its `mod` line.
fn lines_with_test_flag(text: &str) -> Vec<(usize, &str, bool)> {
    let mut out = Vec::new();
    let mut cfg_test = false;
    let mut closing: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(end) = &closing {
            let done = line == end;
            out.push((i + 1, line, true));
            if done {
                closing = None;
            }
            continue;
        }
        let t = line.trim_start();
        if t.starts_with("#[") {
            cfg_test |= t.trim_end() == "#[cfg(test)]";
        } else {
            let is_mod = t.starts_with("mod ") || t.starts_with("pub mod ");
            if cfg_test && is_mod && t.trim_end().ends_with('{') {
                let indent = &line[..line.len() - t.len()];
                closing = Some(format!("{indent}}}"));
                out.push((i + 1, line, true));
                cfg_test = false;
                continue;
            }
            cfg_test = false;
        }
        out.push((i + 1, line, false));
    }
    out
}

/// Every path a `use` statement of `text` names, braces expanded
/// (`use std::{fs, io};` names `std::fs` and `std::io`).
fn use_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut start: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if start.is_none() {
            let body = t
                .strip_prefix("pub ")
                .or_else(|| t.strip_prefix("pub(crate) "))
                .or_else(|| t.strip_prefix("pub(super) "))
                .unwrap_or(t);
            if let Some(rest) = body.strip_prefix("use ") {
                start = Some((i + 1, String::new()));
                if let Some((_, acc)) = &mut start {
                    acc.push_str(rest);
                }
            }
        } else if let Some((_, acc)) = &mut start {
            acc.push_str(t);
        }
        if let Some((at, acc)) = &start
            && acc.ends_with(';')
        {
            // Renames (`as x`) dropped, then the whitespace.
            let mut words = acc.split_whitespace();
            let mut stmt = String::new();
            while let Some(w) = words.next() {
                match w {
                    "as" => {
                        // `x as y,` keeps what follows the alias.
                        let alias = words.next().unwrap_or("");
                        stmt.push_str(
                            alias.trim_start_matches(|c: char| c == '_' || c.is_alphanumeric()),
                        );
                    }
                    _ => stmt.push_str(w),
                }
            }
            expand("", stmt.trim_end_matches(';'), &mut |p| out.push((*at, p)));
            start = None;
        }
    }
    out
}

fn expand(prefix: &str, tree: &str, emit: &mut dyn FnMut(String)) {
    match tree.find('{') {
        None => emit(format!("{prefix}{tree}")),
        Some(open) => {
            let head = format!("{prefix}{}", &tree[..open]);
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let (mut depth, mut from) = (0, 0);
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&head, &inner[from..i], emit);
                        from = i + 1;
                    }
                    _ => {}
                }
            }
            if from < inner.len() {
                expand(&head, &inner[from..], emit);
            }
        }
    }
}

fn names(path: &str, forbidden: &str) -> bool {
    path == forbidden
        || path
            .strip_prefix(forbidden)
            .is_some_and(|r| r.starts_with("::"))
}

/// The offences of one file; `test_file`: the whole file is test-only.
fn offences(file: &Path, text: &str, test_file: bool) -> Vec<String> {
    // One offence a line at most.
    let mut out = BTreeMap::new();
    let lines = lines_with_test_flag(text);
    let in_test = |n: usize| test_file || lines.get(n - 1).is_some_and(|l| l.2);
    for (n, path) in use_paths(text) {
        let bad = FORBIDDEN_PATHS
            .iter()
            .chain(if in_test(n) { &[][..] } else { FORBIDDEN_IO })
            .find(|f| names(&path, f));
        if let Some(bad) = bad {
            let msg = format!("{}:{n}: imports {path} ({bad})", file.display());
            out.entry(n).or_insert(msg);
        }
    }
    for (n, line, test) in lines {
        let code = line.split("//").next().unwrap_or(line);
        let io: &[&str] = if test || test_file { &[] } else { FORBIDDEN_IO };
        let in_code = FORBIDDEN_PATHS.iter().map(|f| (*f, format!("{f}::")));
        let bad = in_code
            .chain(io.iter().map(|f| (*f, (*f).to_owned())))
            .find(|(_, needle)| code.contains(needle.as_str()));
        if let Some((bad, _)) = bad {
            out.entry(n)
                .or_insert_with(|| format!("{}:{n}: uses {bad}", file.display()));
        }
    }
    out.into_values().collect()
}

/// The test-only files among `texts`: declared under `#[cfg(test)]`, or
/// children of one.
fn test_only_files(texts: &[(PathBuf, String)]) -> BTreeSet<PathBuf> {
    let mut test_files = BTreeSet::new();
    loop {
        let before = test_files.len();
        for (file, text) in texts {
            for (child, cfg_test) in child_modules(file, text) {
                if cfg_test || test_files.contains(file) {
                    test_files.insert(child);
                }
            }
        }
        if test_files.len() == before {
            return test_files;
        }
    }
}

/// The offences of the pure modules under `src`.
fn pure_core_offences(src: &Path) -> Vec<String> {
    let mut files = BTreeSet::new();
    for m in PURE {
        rust_files(&src.join(m), &mut files);
    }
    assert!(files.len() >= PURE.len(), "pure module files not found");
    let texts: Vec<(PathBuf, String)> = files
        .iter()
        .map(|f| (f.clone(), std::fs::read_to_string(f).expect("read source")))
        .collect();
    let test_files = test_only_files(&texts);
    texts
        .iter()
        .flat_map(|(file, text)| offences(file, text, test_files.contains(file)))
        .collect()
}

#[test]
fn pure_modules_do_no_io() {
    let offences = pure_core_offences(&util::root().join("src"));
    assert!(
        offences.is_empty(),
        "I/O in the pure core:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_purity_check_sees_grouped_imports_and_tests() {
    let file = Path::new("src/policy/x.rs");
    let check = |text: &str| offences(file, text, false);
    assert_eq!(check("use crate::{diag, ident};\n"), Vec::<String>::new());
    assert_eq!(check("use crate::{diag, repo::Source};\n").len(), 1);
    assert_eq!(
        check("use std::{\n    collections::HashMap,\n    fs,\n};\n").len(),
        1
    );
    assert_eq!(check("fn f() { crate::daemon::run() }\n").len(), 1);
    assert_eq!(check("use crate::daemon as d;\n").len(), 1);
    assert_eq!(check("use crate::{repo as r, diag};\n").len(), 1);
    assert_eq!(check("fn f() { std::thread::spawn(|| ()) }\n").len(), 1);
    let in_tests = "#[cfg(test)]\nmod tests {\n    use std::thread;\n}\nuse std::fs;\n";
    assert_eq!(
        check(in_tests),
        vec!["src/policy/x.rs:5: imports std::fs (std::fs)".to_owned()]
    );
    assert_eq!(
        check("#[cfg(test)]\nmod tests {\n    use tokio::time;\n}\n").len(),
        1
    );
    assert!(offences(file, "use std::thread;\n", true).is_empty());
    assert_eq!(offences(file, "use crate::api;\n", true).len(), 1);
}

/// The module path of a file relative to `src` (`authz/eval/mod.rs`:
/// `authz::eval`; `lib.rs`: the root).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

/// The file (its label) that a `use` path of module `here` names: the
/// longest prefix of the path that is a module with a file; `None` for
/// other crates.
fn imported_file<'m>(
    path: &str,
    here: &[String],
    modules: &'m BTreeMap<Vec<String>, String>,
) -> Option<&'m String> {
    let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let (mut full, rest) = match *segs.first()? {
        "crate" | "rolesync" => (Vec::new(), &segs[1..]),
        "self" => (here.to_vec(), &segs[1..]),
        "super" => {
            let ups = segs.iter().take_while(|s| **s == "super").count();
            (
                here[..here.len().saturating_sub(ups)].to_vec(),
                &segs[ups..],
            )
        }
        first => {
            // A path relative to the module: its child.
            let mut child = here.to_vec();
            child.push(first.to_owned());
            if !modules.contains_key(&child) {
                return None;
            }
            (here.to_vec(), &segs[..])
        }
    };
    full.extend(
        rest.iter()
            .filter(|s| **s != "self" && **s != "*")
            .map(|s| (*s).to_owned()),
    );
    (0..=full.len()).rev().find_map(|n| modules.get(&full[..n]))
}

/// The files each file of the crate imports through the `use` lines of
/// its non-test code, by label (`src/authz/eval/mod.rs`); test-only files
/// left out.
fn import_graph(root: &Path, texts: &[(PathBuf, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let src = root.join("src");
    let test_files = test_only_files(texts);
    let label = |f: &Path| {
        f.strip_prefix(root)
            .unwrap_or(f)
            .to_string_lossy()
            .into_owned()
    };
    let files: Vec<(Vec<String>, String, &String)> = texts
        .iter()
        .filter(|(f, _)| !test_files.contains(f) && !f.ends_with("src/main.rs"))
        .map(|(f, text)| (module_of(f.strip_prefix(&src).unwrap_or(f)), label(f), text))
        .collect();
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|(m, l, _)| (m.clone(), l.clone()))
        .collect();
    let mut graph = BTreeMap::new();
    for (here, from, text) in &files {
        let lines = lines_with_test_flag(text);
        let in_test = |n: usize| lines.get(n - 1).is_some_and(|l| l.2);
        let to: BTreeSet<String> = use_paths(text)
            .into_iter()
            .filter(|(n, _)| !in_test(*n))
            .filter_map(|(_, path)| imported_file(&path, here, &modules))
            .filter(|to| *to != from)
            .cloned()
            .collect();
        graph.insert(from.clone(), to);
    }
    graph
}

/// Every cycle a depth-first walk of `graph` meets, as `a -> b -> a`.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(at) = path.iter().position(|p| p == next) {
                let mut cycle = path[at..].to_vec();
                cycle.push(next.clone());
                out.push(cycle.join(" -> "));
            } else if !done.contains(next) {
                visit(next, graph, done, path, out);
            }
        }
        path.pop();
        done.insert(node.to_owned());
    }
    let (mut done, mut out) = (BTreeSet::new(), Vec::new());
    for node in graph.keys() {
        if !done.contains(node) {
            visit(node, graph, &mut done, &mut Vec::new(), &mut out);
        }
    }
    out
}

#[test]
fn no_import_cycle_between_files() {
    let root = util::root();
    let mut files = BTreeSet::new();
    rust_files(&root.join("src"), &mut files);
    let texts: Vec<(PathBuf, String)> = files
        .iter()
        .map(|f| (f.clone(), std::fs::read_to_string(f).expect("read source")))
        .collect();
    let graph = import_graph(&root, &texts);
    assert!(graph.len() > 50, "source files not found");
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles between files of src/ (a child that uses `super::X` while its parent \
         uses the child is one): move what both need into a leaf file\n{}",
        found.join("\n")
    );
}

#[test]
fn the_cycle_check_sees_children_that_import_their_parent() {
    let root = Path::new("/nowhere");
    let graph_of = |files: &[(&str, &str)]| {
        let texts: Vec<(PathBuf, String)> = files
            .iter()
            .map(|(p, t)| (root.join("src").join(p), (*t).to_owned()))
            .collect();
        cycles(&import_graph(root, &texts))
    };
    fn tree(x: &str) -> Vec<(&str, &str)> {
        vec![
            ("lib.rs", "pub mod a;\npub mod b;\nmod daemon;\n"),
            ("a/mod.rs", "mod x;\npub use x::{self as y, Thing};\n"),
            ("a/x.rs", x),
            ("b.rs", "use crate::a::Thing;\n"),
        ]
    }
    assert!(graph_of(&tree("use std::fmt;\nuse crate::Top;\n")).is_empty());
    assert_eq!(
        graph_of(&tree("use super::{\n    Other,\n};\n")),
        vec!["src/a/mod.rs -> src/a/x.rs -> src/a/mod.rs".to_owned()]
    );
    assert_eq!(
        graph_of(&tree("pub(crate) use crate::{b::*, c};\n")),
        vec!["src/a/mod.rs -> src/a/x.rs -> src/b.rs -> src/a/mod.rs".to_owned()]
    );
    // Test-only code does not count.
    let in_tests = "#[cfg(test)]\nmod tests {\n    use super::super::Other;\n}\n";
    assert!(graph_of(&tree(in_tests)).is_empty());
}
