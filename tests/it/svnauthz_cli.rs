//! `rolesync access` and `rolesync authz validate` as drop-ins for
//! `svnauthz accessof` and `svnauthz validate`: the real binaries, side by
//! side, on a generated sample of access files (groups, nested groups,
//! aliases, `*`, `$authenticated`, `$anonymous`, `~` inverted entries,
//! repository sections, a few globs; a third with a global groups file;
//! about one in five broken) × users × repositories × paths, with every
//! flag both share (`--username`, `--path`, `--repository`, `--is`,
//! `--groups-file`, `-R`). Standard output and exit status must be equal.
//!
//! Deterministic: `ROLESYNC_SVNAUTHZ_SEED` (default 20261202) picks the
//! sample, `ROLESYNC_SVNAUTHZ_FILES` (default 60) its size; each file gets
//! one validation and `QUERIES` queries, each an `svnauthz` and a
//! `rolesync` process run at once (about 1,100 processes each, a few
//! seconds). Missing `svnauthz` makes the test fail, never skip.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::util::Rng;

const USERS: &[&str] = &["alice", "bob", "carol", "dave", "Alice"];
const QUERY_USERS: &[&str] = &["alice", "bob", "carol", "dave", "Alice", "zed", ""];
const GROUPS: &[&str] = &["g1", "g2", "g3", "g4"];
const ALIASES: &[(&str, &str)] = &[("a1", "alice"), ("a2", "bob")];
const REPOS: &[&str] = &["r1", "r2"];
const SEGS: &[&str] = &["a", "b", "c", "x.txt", "a b"];
const RIGHTS: &[&str] = &["", "r", "rw", "rw", "r"];
/// What makes a file broken (one of these added).
const BROKEN: &[&str] = &[
    "[/a]\nalice = w\n",
    "[/q]\n@undefined = r\n",
    "[/q]\n&nobody = r\n",
    "[/q/]\nalice = r\n",
    "[/q/../b]\nalice = r\n",
    "[r1:/q]\nalice = r\n[r1:/q]\nbob = r\n",
    "[/q]\nalice = x\n",
    "[/q\nalice = r\n",
    "",
];
/// Queries per valid file.
const QUERIES: usize = 8;

struct Sample {
    authz: String,
    groups: Option<String>,
    paths: Vec<String>,
}

struct Gen {
    rng: Rng,
}

impl Gen {
    fn path(&mut self) -> String {
        let depth = self.rng.range(0, 3);
        let mut p = String::new();
        for _ in 0..depth {
            p.push('/');
            let seg: &&str = self.rng.pick(SEGS);
            p.push_str(seg);
        }
        if p.is_empty() { "/".to_owned() } else { p }
    }

    fn who(&mut self) -> String {
        let base = match self.rng.below(10) {
            0..=3 => (*self.rng.pick(USERS)).to_owned(),
            4..=5 => format!("@{}", self.rng.pick(GROUPS)),
            6 => format!("&{}", self.rng.pick(ALIASES).0),
            7 => "*".to_owned(),
            8 => "$authenticated".to_owned(),
            _ => "$anonymous".to_owned(),
        };
        if base != "*" && self.rng.chance(0.2) {
            format!("~{base}")
        } else {
            base
        }
    }

    fn groups_section(&mut self, broken: bool) -> String {
        let mut s = String::from("[groups]\n");
        for (i, g) in GROUPS.iter().enumerate() {
            let mut members: Vec<String> = Vec::new();
            for _ in 0..self.rng.below(4) {
                members.push(match self.rng.below(6) {
                    0 => format!("&{}", self.rng.pick(ALIASES).0),
                    // Nested, only to later groups: no cycle.
                    1 if i + 1 < GROUPS.len() => format!("@{}", GROUPS[self.rng.range(i + 1, 3)]),
                    _ => (*self.rng.pick(USERS)).to_owned(),
                });
            }
            let _ = writeln!(s, "{g} = {}", members.join(", "));
        }
        if broken && self.rng.chance(0.3) {
            s.push_str("g5 = @nope\n");
        }
        s
    }

    fn sample(&mut self) -> Sample {
        let broken = self.rng.chance(0.2);
        let with_groups_file = self.rng.chance(0.33);
        let groups = self.groups_section(broken);
        let mut authz = String::new();
        if !with_groups_file || (broken && self.rng.chance(0.2)) {
            authz.push_str(&groups);
        }
        authz.push_str("[aliases]\n");
        for (a, u) in ALIASES {
            let _ = writeln!(authz, "{a} = {u}");
        }
        let mut paths = vec!["/".to_owned()];
        let mut seen = std::collections::HashSet::new();
        for n in 0..self.rng.range(2, 6) {
            let path = if n == 0 { "/".to_owned() } else { self.path() };
            let header = match self.rng.below(10) {
                0..=1 => format!("{}:{path}", self.rng.pick(REPOS)),
                2 => format!(":glob:{path}/*"),
                _ => path.clone(),
            };
            if !seen.insert(header.clone()) {
                continue;
            }
            paths.push(path.clone());
            paths.push(format!(
                "{}/{}",
                path.trim_end_matches('/'),
                self.rng.pick(SEGS)
            ));
            let _ = writeln!(authz, "[{header}]");
            for _ in 0..self.rng.range(1, 4) {
                let _ = writeln!(authz, "{} = {}", self.who(), self.rng.pick(RIGHTS));
            }
        }
        if broken {
            let broken_part: &&str = self.rng.pick(BROKEN);
            authz.push_str(broken_part);
        }
        Sample {
            authz,
            groups: with_groups_file.then_some(groups),
            paths,
        }
    }

    /// One query's arguments (shared by both programs, file excluded).
    fn query(&mut self, s: &Sample, groups_file: Option<&Path>) -> Vec<String> {
        let mut args: Vec<String> = Vec::new();
        if self.rng.chance(0.9) {
            args.extend(["--username".into(), (*self.rng.pick(QUERY_USERS)).into()]);
        }
        if self.rng.chance(0.35) {
            args.extend(["--repository".into(), (*self.rng.pick(REPOS)).into()]);
        }
        let with_path = self.rng.chance(0.9);
        if with_path {
            let p = self.rng.pick(&s.paths).clone();
            args.extend(["--path".into(), p]);
            if self.rng.chance(0.3) {
                args.push("-R".into());
            }
        }
        if self.rng.chance(0.35) {
            args.extend(["--is".into(), (*self.rng.pick(&["rw", "r", "no"])).into()]);
        }
        if let Some(g) = groups_file {
            args.extend(["--groups-file".into(), g.display().to_string()]);
        }
        args
    }
}

/// Both programs at once: (svnauthz, rolesync).
fn both(svn: &[String], ours: &[String]) -> (Output, Output) {
    let spawn = |program: &str, args: &[String]| {
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} runs (Debian's subversion for svnauthz): {e}"))
    };
    let s = spawn("svnauthz", svn);
    let o = spawn(env!("CARGO_BIN_EXE_rolesync"), ours);
    (
        s.wait_with_output().expect("svnauthz ends"),
        o.wait_with_output().expect("rolesync ends"),
    )
}

/// An exit status as svnauthz's CLI would have it: a crash (Subversion's
/// undetected group cycle, SIGSEGV) is "invalid".
fn status(o: &Output) -> i32 {
    o.status.code().unwrap_or(1)
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn access_and_validate_agree_with_svnauthz() {
    let seed = env_num("ROLESYNC_SVNAUTHZ_SEED", 20_261_202);
    let files = env_num("ROLESYNC_SVNAUTHZ_FILES", 60);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut g = Gen { rng: Rng(seed) };
    let mut mismatches: Vec<String> = Vec::new();
    let (mut invalid, mut queries, mut mismatched_is, mut recursive) = (0, 0, 0, 0);
    for n in 0..files {
        let s = g.sample();
        let file = dir.path().join(format!("case{n}.authz"));
        std::fs::write(&file, &s.authz).expect("write the access file");
        let gfile = s.groups.as_ref().map(|text| {
            let p = dir.path().join(format!("case{n}.groups"));
            std::fs::write(&p, text).expect("write the groups file");
            p
        });
        let f = file.display().to_string();
        let context = format!(
            "case {n} (seed {seed})\nauthz = {:?}\ngroups = {:?}",
            s.authz, s.groups
        );
        // Validity: svnauthz validate has no --groups-file; accessof checks the pair.
        let (svn_args, our_args): (Vec<String>, Vec<String>) = match &gfile {
            None => (
                vec!["validate".into(), f.clone()],
                vec!["authz".into(), "validate".into(), f.clone()],
            ),
            Some(gp) => {
                let gp = gp.display().to_string();
                (
                    vec![
                        "accessof".into(),
                        "--groups-file".into(),
                        gp.clone(),
                        f.clone(),
                    ],
                    vec![
                        "authz".into(),
                        "validate".into(),
                        "--groups-file".into(),
                        gp,
                        f.clone(),
                    ],
                )
            }
        };
        let (svn, ours) = both(&svn_args, &our_args);
        if status(&svn) != status(&ours) {
            mismatches.push(format!(
                "VALIDATE {context}\nsvnauthz {} {}\nrolesync {} {}",
                status(&svn),
                String::from_utf8_lossy(&svn.stderr),
                status(&ours),
                String::from_utf8_lossy(&ours.stderr)
            ));
        }
        let valid = status(&svn) == 0;
        if !valid {
            invalid += 1;
        }
        for _ in 0..if valid { QUERIES } else { 1 } {
            let args = g.query(&s, gfile.as_deref());
            let mut svn_args = vec!["accessof".to_owned()];
            svn_args.extend(args.iter().cloned());
            svn_args.push(f.clone());
            let mut our_args = vec!["access".to_owned()];
            our_args.extend(args.iter().cloned());
            our_args.push(f.clone());
            let (svn, ours) = both(&svn_args, &our_args);
            queries += 1;
            recursive += usize::from(args.iter().any(|a| a == "-R"));
            mismatched_is += usize::from(status(&svn) == 3);
            if (status(&svn), &svn.stdout) != (status(&ours), &ours.stdout) {
                mismatches.push(format!(
                    "ACCESSOF {args:?} {context}\nsvnauthz {} {:?} {}\nrolesync {} {:?} {}",
                    status(&svn),
                    String::from_utf8_lossy(&svn.stdout),
                    String::from_utf8_lossy(&svn.stderr),
                    status(&ours),
                    String::from_utf8_lossy(&ours.stdout),
                    String::from_utf8_lossy(&ours.stderr)
                ));
            }
        }
    }
    eprintln!(
        "svnauthz CLI: seed {seed}: {files} files ({invalid} invalid), {queries} queries \
         ({recursive} with -R, {mismatched_is} --is mismatches), {} disagreements",
        mismatches.len()
    );
    for m in mismatches.iter().take(8) {
        eprintln!("{m}\n");
    }
    assert!(
        mismatches.is_empty(),
        "{} disagreements with svnauthz",
        mismatches.len()
    );
    if files >= 60 {
        assert!(
            invalid >= 5 && invalid < files as usize / 2,
            "{invalid} invalid files"
        );
        assert!(
            recursive >= 50 && mismatched_is >= 20,
            "{recursive} -R, {mismatched_is} exit 3"
        );
    }
}
