//! The core is pure: `diag`, `ident`, `xml`, `model`, `policy`, `authz` and `snapshot`
//! never touch the file system, processes, the network, the environment or
//! the clock. This test reads their source and fails on such imports.

use std::path::Path;

use crate::util;

const PURE: &[&str] = &[
    "diag.rs",
    "fxhash.rs",
    "ident.rs",
    "xml",
    "model",
    "policy",
    "authz",
    "snapshot.rs",
];
const FORBIDDEN: &[&str] = &[
    "std::fs",
    "fs_err",
    "std::process",
    "std::net",
    "std::env",
    "std::time",
    "std::thread",
    "tokio",
    "std::io::stdin",
    "std::io::stdout",
    "std::io::stderr",
    "git2",
];

fn rust_files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read folder") {
            rust_files(&entry.expect("entry").path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

#[test]
fn pure_modules_do_no_io() {
    let mut files = Vec::new();
    for m in PURE {
        rust_files(&util::root().join("src").join(m), &mut files);
    }
    assert!(files.len() >= PURE.len(), "pure module files not found");
    let mut offences = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read source");
        // Unit tests may use temporary files; only the code above them counts.
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        for (i, line) in code.lines().enumerate() {
            if let Some(bad) = FORBIDDEN.iter().find(|f| line.contains(*f)) {
                offences.push(format!("{}:{}: uses {bad}", file.display(), i + 1));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "I/O in the pure core:\n{}",
        offences.join("\n")
    );
}
