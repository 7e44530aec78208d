//! The parallel read of `read_all` gives what the sequential one gives:
//! the same wire values and the same diagnostics in the same order, on the
//! sample configuration and on every broken tree of `tests/data/diag`
//! (whose readers refuse files, so the order of their diagnostics shows);
//! and a build on its pools (lowering, role groups) gives what a build on
//! one thread gives.

use std::collections::BTreeMap;
use std::path::Path;

use super::Sources;
use super::{Limits, Parse, read_all_with};

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
        let sources = Sources::new(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
        let sequential = format!("{:?}", read_all_with(&sources, &limits, Parse::Sequential));
        let parallel = format!("{:?}", read_all_with(&sources, &limits, Parse::Parallel));
        assert_eq!(sequential, parallel, "{}", tree.display());
        checked += usize::from(!files.is_empty());
    }
    assert!(checked > 50, "only {checked} trees read");
}

/// A configuration of `projects` project folders, enough for the
/// lowering and the role groups to run on their pools: valid, or (`broken`)
/// with some refused (a bad id, a duplicate id, a broken user-roles.xml, a
/// bad login, an unknown role).
fn many_projects(projects: usize, broken: bool) -> crate::snapshot::Files {
    use super::incremental_tests::Rng;
    use super::{USER_ROLES, USERS_DIR};
    let rng = &mut Rng(17);
    let all_logins = [
        "alice", "bob", "carol", "dave", "Alice", "ghost", "bad name",
    ];
    let all_roles = ["project_admin", "project_user", "auditor", "user", "nope"];
    let (logins, roles) = match broken {
        true => (&all_logins[..], &all_roles[..]),
        false => (&all_logins[..4], &all_roles[..4]),
    };
    let mut files = BTreeMap::new();
    let mut put = |path: String, text: String| files.insert(path, text.into());
    for login in &all_logins[..5] {
        let disabled = if *login == "bob" {
            " disabled=\"true\""
        } else {
            ""
        };
        put(
            format!("{USERS_DIR}{login}/user.xml"),
            format!("<user{disabled}/>"),
        );
    }
    put(
        super::GROUPS.into(),
        "<user-groups><group id=\"g1\"><user name=\"carol\"/></group></user-groups>".into(),
    );
    put(
        USER_ROLES.into(),
        "<user-roles><user name=\"alice\"><role name=\"admin\"/></user></user-roles>".into(),
    );
    for p in 0..projects {
        let folder = match p {
            3 if broken => "bad id/p3".to_owned(),
            7 if broken => "D/p0006".to_owned(),
            _ => format!("{}/p{p:04}", ["A", "B", "C"][p % 3]),
        };
        let base = format!("{folder}/.polarion");
        put(
            format!("{base}/polarion-project.xml"),
            "<project><field id=\"lead\">alice</field></project>".into(),
        );
        let mut xml = String::from("<user-roles>\n");
        for _ in 0..rng.below(6) {
            let (kind, name) = match rng.below(5) {
                0 => ("group", ["g1", "nogroup"][rng.below(2)]),
                _ => ("user", rng.pick(logins)),
            };
            xml.push_str(&format!("  <{kind} name=\"{name}\">"));
            for _ in 0..1 + rng.below(3) {
                xml.push_str(&format!("<role name=\"{}\"/>", rng.pick(roles)));
            }
            xml.push_str(&format!("</{kind}>\n"));
        }
        if broken && p % 11 == 5 {
            xml.push_str("<broken");
        }
        xml.push_str("</user-roles>\n");
        put(format!("{base}/security/user-roles.xml"), xml);
    }
    files
}

#[test]
fn a_build_on_its_pools_equals_the_build_on_one_thread() {
    let input = |threads, broken| super::Input {
        revision: "r1".into(),
        files: many_projects(160, broken),
        limits: Limits {
            max_build_threads: threads,
            ..Limits::default()
        },
        ..super::Input::default()
    };
    // `limits` differ (the threads): everything else is equal.
    let shown = |r: &super::Report| {
        format!("{r:#?}").replace("max_build_threads: 4", "max_build_threads: 1")
    };
    for broken in [false, true] {
        let one = super::build(&input(1, broken));
        let pools = super::build(&input(4, broken));
        assert_eq!(one.snapshot.is_some(), !broken, "{:#?}", one.diagnostics);
        assert!(!broken || one.diagnostics.len() > 20);
        assert_eq!(shown(&one), shown(&pools));
    }
    // And a cached build that lowers every project again (other limits
    // of the names' length: nothing kept) is the full build too.
    let mut memo = super::Memo::default();
    super::build_cached(&input(4, false), &mut memo);
    let mut other = input(4, false);
    other.limits.max_name_bytes = 200;
    let cached = super::build_cached(&other, &mut memo);
    assert_eq!(
        format!("{cached:#?}"),
        format!("{:#?}", super::build(&other))
    );
}
