//! Differential test of rolesync's authz evaluator against Subversion
//! 1.14.2 itself: random access files (and global groups files) and random
//! queries, answered by libsvn_repos through a persistent Perl oracle
//! (`authz_oracle.pl`, Debian package `libsvn-perl`) and by
//! `rolesync::authz`. Validity and every `rw`/`r`/`no` answer must agree.
//! A few answers are also checked against the real `svnauthz accessof`
//! and `rolesync access` binaries.
//!
//! Deterministic: `ROLESYNC_AUTHZ_DIFF_SEED` (default 20240601) picks the
//! corpus, `ROLESYNC_AUTHZ_DIFF_CASES` (default 1200) its size, and
//! `ROLESYNC_AUTHZ_DIFF_KEEP=DIR` keeps every generated file there. A
//! mismatch prints the file and the query, ready to become a regression
//! test.
//! Missing Subversion tools make the test fail, never skip.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use rolesync::authz::{Access, Authz, validate, validate_with_groups};

use crate::util::Rng;

// ---------------------------------------------------------------- generator

// (random numbers: `util::Rng`)

const USERS: &[&str] = &["alice", "bob", "carol", "dave", "Alice", "jo e", "*"];
const QUERY_USERS: &[&str] = &[
    "alice", "bob", "carol", "dave", "Alice", "ALICE", "jo e", "*", "zed", "yan",
];
const GROUPS: &[&str] = &["g1", "g2", "g3", "g4"];
const ALIASES: &[(&str, &str)] = &[("a1", "alice"), ("a2", "bob"), ("a3", "zed")];
const REPOS: &[&str] = &["r1", "r2"];
const SEGS: &[&str] = &["a", "b", "c", "ab", "ba", "x.txt", ".h", "a b", "é"];
const GLOB_SEGS: &[&str] = &[
    "*", "**", "a*", "*b", "*ab", "?b", "a?", "*.txt", ".*", "a\\*", "*a*", "b*", "***",
];
const SUFFIX_PLAY: &[&str] = &[
    ":glob:/**",
    ":glob:/a/**",
    ":glob:/*b/x",
    ":glob:/**/ab",
    ":glob:/*b",
    ":glob:/a/*b",
    ":glob:/**/ba",
    ":glob:/a/**/ab",
    ":glob:r1:/**",
    ":glob:/*a/**",
];
const RIGHTS: &[&str] = &["", "r", "rw", "wr", " r ", "r w", "rrr"];
const SEPARATORS: &[&str] = &[" = ", "=", ": ", ":", "   =  "];

/// One generated case.
struct Case {
    authz: String,
    groups: Option<String>,
    /// Literal paths worth asking about (section paths, their neighbours).
    paths: Vec<String>,
}

struct Gen {
    rng: Rng,
}

impl Gen {
    fn glob_seg(&mut self) -> String {
        (*self.rng.pick(GLOB_SEGS)).to_owned()
    }

    fn entry_name(&mut self) -> String {
        let r = self.rng.next() % 100;
        match r {
            0..=27 => (*self.rng.pick(USERS)).to_owned(),
            28..=29 => "zed".to_owned(),
            30..=47 => format!("@{}", self.rng.pick(GROUPS)),
            48..=55 => format!("&{}", self.rng.pick(ALIASES).0),
            56..=67 => {
                let inner = match self.rng.below(4) {
                    0 => (*self.rng.pick(&USERS[..6])).to_owned(),
                    1 | 2 => format!("@{}", self.rng.pick(GROUPS)),
                    _ => format!("&{}", self.rng.pick(ALIASES).0),
                };
                format!("~{inner}")
            }
            68..=77 => "*".to_owned(),
            78..=95 => (*self.rng.pick(&[
                "$anonymous",
                "$authenticated",
                "~$anonymous",
                "~$authenticated",
            ]))
            .to_owned(),
            96..=97 => "~".to_owned(),
            _ => String::new(),
        }
    }

    fn rights_line(&mut self, name: &str) -> String {
        // An empty name before an indented separator would make the line a
        // continuation; keep such lines in column 1.
        let sep = if name.is_empty() {
            "= "
        } else {
            *self.rng.pick(SEPARATORS)
        };
        let rights = *self.rng.pick(RIGHTS);
        if rights == "rw" && self.rng.chance(0.08) {
            // The value continued on the next line.
            return format!("{name}{sep}r\n  w");
        }
        format!("{name}{sep}{rights}")
    }

    fn case(&mut self) -> Case {
        let glob_heavy = self.rng.chance(0.3);
        let invalid = self.rng.chance(0.1);
        let crash_cycle = invalid && self.rng.chance(0.15);
        let group_lines = self.group_lines(invalid, crash_cycle);
        let alias_lines = self.alias_lines();
        let mut paths: Vec<String> = Vec::new();
        let sections = self.sections(glob_heavy, invalid, &mut paths);
        let mut all: Vec<(String, Vec<String>)> = Vec::new();
        let use_groups_file = self.rng.chance(0.1);
        if !use_groups_file {
            all.push(("groups".to_owned(), group_lines.clone()));
        } else if self.rng.chance(0.3) {
            all.push(("groups".to_owned(), Vec::new()));
        }
        all.push(("aliases".to_owned(), alias_lines));
        all.extend(sections);
        self.rng.shuffle(&mut all);

        if invalid {
            self.break_one(&mut all);
        }
        let text = self.render(&all);
        let groups = use_groups_file.then(|| {
            let mut g = String::from("[groups]\n");
            for l in &group_lines {
                g.push_str(l);
                g.push('\n');
            }
            if invalid && self.rng.chance(0.3) {
                g.push_str("[/]\nh = r\n");
            }
            g
        });
        self.add_neighbours(&mut paths);
        Case {
            authz: text,
            groups,
            paths,
        }
    }

    /// The `[groups]` lines: forward-only nesting keeps them acyclic,
    /// unless the case is `invalid` (then maybe a cycle).
    fn group_lines(&mut self, invalid: bool, crash_cycle: bool) -> Vec<String> {
        let mut group_lines = Vec::new();
        for (i, g) in GROUPS.iter().enumerate() {
            let mut members: Vec<String> = Vec::new();
            for _ in 0..self.rng.below(4) {
                members.push((*self.rng.pick(USERS)).to_owned());
            }
            if self.rng.chance(0.3) && i + 1 < GROUPS.len() {
                members.push(format!(
                    "@{}",
                    GROUPS[self.rng.range(i + 1, GROUPS.len() - 1)]
                ));
            }
            if self.rng.chance(0.15) {
                members.push(format!("&{}", self.rng.pick(ALIASES).0));
            }
            if self.rng.chance(0.12) {
                members.clear();
            }
            if invalid && i == 3 && self.rng.chance(0.3) {
                members.push("@g1".to_owned()); // maybe a cycle
            }
            if crash_cycle {
                // A cycle that need not pass through the group Subversion
                // starts expanding from: it may crash it.
                match i {
                    0 => members.push("@g2".to_owned()),
                    1 => members.push("@g3".to_owned()),
                    2 => members.push("@g2".to_owned()),
                    _ => {}
                }
            }
            let sep = *self.rng.pick(SEPARATORS);
            let joined = if members.len() > 1 && self.rng.chance(0.15) {
                // Continuation line inside the member list.
                let (a, b) = members.split_at(1);
                format!("{},\n    {}", a.join(", "), b.join(" ,"))
            } else if self.rng.chance(0.1) {
                format!(",{},,", members.join(",,"))
            } else {
                members.join(", ")
            };
            group_lines.push(format!("{g}{sep}{joined}"));
        }
        group_lines
    }

    /// The `[aliases]` lines (one maybe naming a group).
    fn alias_lines(&mut self) -> Vec<String> {
        let mut alias_lines: Vec<String> =
            ALIASES.iter().map(|(a, u)| format!("{a} = {u}")).collect();
        if self.rng.chance(0.05) {
            alias_lines.push("a4 = @g2".to_owned());
        }
        alias_lines
    }

    /// The rule sections with their lines; each plain path goes to `paths`.
    fn sections(
        &mut self,
        glob_heavy: bool,
        invalid: bool,
        paths: &mut Vec<String>,
    ) -> Vec<(String, Vec<String>)> {
        let mut sections: Vec<(String, Vec<String>)> = Vec::new();
        if self.rng.chance(0.6) {
            sections.push(("/".to_owned(), Vec::new()));
        }
        let max = if glob_heavy { 14 } else { 7 };
        for _ in 0..self.rng.range(1, max) {
            let depth = self.rng.range(1, 3);
            let glob_rate = if glob_heavy { 0.85 } else { 0.4 };
            let glob = self.rng.chance(glob_rate);
            let mut segs: Vec<String> = (0..depth)
                .map(|_| (*self.rng.pick(SEGS)).to_owned())
                .collect();
            paths.push(format!("/{}", segs.join("/")));
            if glob {
                if self.rng.chance(0.1) {
                    segs = vec![self.glob_seg()];
                } else {
                    let k = self.rng.below(depth);
                    segs[k] = self.glob_seg();
                    if self.rng.chance(0.2) {
                        let k = self.rng.below(depth);
                        segs[k] = self.glob_seg();
                    }
                }
            }
            let repo = if self.rng.chance(0.4) {
                format!("{}:", self.rng.pick(REPOS))
            } else {
                String::new()
            };
            let kind = if glob { ":glob:" } else { "" };
            let name = format!("{kind}{repo}/{}", segs.join("/"));
            if invalid || !sections.iter().any(|(n, _)| *n == name) {
                sections.push((name, Vec::new()));
            }
        }
        if self.rng.chance(0.3) {
            // Suffix patterns next to `**` rules: the reversal bug and its
            // dependence on which rules a later `**` eclipses.
            for _ in 0..self.rng.range(2, 6) {
                let name = (*self.rng.pick(SUFFIX_PLAY)).to_owned();
                if !sections.iter().any(|(n, _)| *n == name) {
                    sections.push((name, Vec::new()));
                }
            }
        }
        if self.rng.chance(0.2) {
            let name = format!("{}:/", self.rng.pick(REPOS));
            if !sections.iter().any(|(n, _)| *n == name) {
                sections.push((name, Vec::new()));
            }
        }
        for (_, body) in &mut sections {
            for _ in 0..self.rng.below(5) {
                let name = self.entry_name();
                body.push(self.rights_line(&name));
            }
        }
        sections
    }

    /// One defect planted in an `invalid` case.
    fn break_one(&mut self, all: &mut Vec<(String, Vec<String>)>) {
        let k = self.rng.below(all.len());
        let rule = !matches!(all[k].0.as_str(), "groups" | "aliases");
        match self.rng.below(13) {
            0 => {
                let dup = all[k].clone();
                all.push(dup);
            }
            1 if rule => all[k].1.push("bob = w".to_owned()),
            2 => all.push(("/a/".to_owned(), vec!["* = r".to_owned()])),
            3 if rule => all[k].1.push("@nosuch = r".to_owned()),
            4 if rule => all[k].1.push("$nobody = r".to_owned()),
            5 => all.push(("Groups".to_owned(), vec!["x = y".to_owned()])),
            6 if rule => all[k].1.push("~~bob = r".to_owned()),
            7 => {
                all.push((":glob:/a/**/*".to_owned(), vec!["* = r".to_owned()]));
                all.push((":glob:/a/*/**".to_owned(), vec!["* = r".to_owned()]));
            }
            8 if rule => all[k].1.push("bob = rw # comment".to_owned()),
            9 if rule => all[k].1.push("  # indented comment".to_owned()),
            10 if rule => all[k].1.push("&nosuch = r".to_owned()),
            11 => all.push(("//".to_owned(), vec!["* = r".to_owned()])),
            _ => all.push((":glob:/a//b".to_owned(), Vec::new())),
        }
    }

    /// The access file's text: the sections in order, with comments,
    /// blank lines, CRLF and a BOM now and then.
    fn render(&mut self, all: &[(String, Vec<String>)]) -> String {
        let mut text = String::new();
        if self.rng.chance(0.1) {
            text.push_str("# generated\n\n");
        }
        for (name, body) in all {
            text.push('[');
            text.push_str(name);
            text.push(']');
            if self.rng.chance(0.05) {
                text.push_str(" # trailing text");
            }
            text.push('\n');
            for line in body {
                text.push_str(line);
                text.push('\n');
                if self.rng.chance(0.05) {
                    text.push_str("# comment\n");
                }
            }
            if self.rng.chance(0.7) {
                text.push('\n');
            }
        }
        if self.rng.chance(0.05) {
            text = text.replace('\n', "\r\n");
        }
        if self.rng.chance(0.03) {
            text.insert(0, '\u{feff}');
        }
        text
    }

    /// Neighbours of the section paths, and some fixed paths, to query.
    fn add_neighbours(&mut self, paths: &mut Vec<String>) {
        let mut more = Vec::new();
        for p in paths.iter() {
            more.push(format!("{p}/{}", self.rng.pick(SEGS)));
            more.push(format!("{p}/x/{}", self.rng.pick(SEGS)));
            if let Some(parent) = p.rsplit_once('/').map(|(a, _)| a)
                && !parent.is_empty()
            {
                more.push(parent.to_owned());
            }
        }
        paths.extend(more);
        for p in [
            "/",
            "/a",
            "/a/b",
            "/ab",
            "/ba",
            "/b/c/x.txt",
            "/c/.h",
            "/a/b/c",
            "/xy/ab",
            "/a b",
            "/a/..",
            "/.h/ab/b",
            "/a/b/c/a/b/c/x.txt",
            "/ab/ab/ab/ab/ab/ab/ab/ab",
            "/é/a b/.h/x.txt",
        ] {
            paths.push(p.to_owned());
        }
    }

    fn query(&mut self, case: &Case) -> (Option<String>, Option<String>, Option<String>) {
        let user = match self.rng.below(12) {
            0 => None,
            1 => Some(String::new()),
            _ => Some((*self.rng.pick(QUERY_USERS)).to_owned()),
        };
        let repo = match self.rng.below(5) {
            0 | 1 => None,
            2 => Some("r3".to_owned()),
            _ => Some((*self.rng.pick(REPOS)).to_owned()),
        };
        let path = if self.rng.chance(0.06) {
            None
        } else {
            Some(self.rng.pick(&case.paths).clone())
        };
        (user, repo, path)
    }
}

// ---------------------------------------------------------------- oracle

struct Oracle {
    script: PathBuf,
    child: Option<(Child, ChildStdin, BufReader<ChildStdout>)>,
    restarts: usize,
}

/// `-` absent, `=` empty, otherwise every byte outside [A-Za-z0-9/._] as %XX.
fn enc(v: Option<&str>) -> String {
    match v {
        None => "-".to_owned(),
        Some("") => "=".to_owned(),
        Some(s) => {
            let mut out = String::new();
            for b in s.bytes() {
                if b.is_ascii_alphanumeric() || b"/._".contains(&b) {
                    out.push(char::from(b));
                } else {
                    let _ = write!(out, "%{b:02X}");
                }
            }
            out
        }
    }
}

impl Oracle {
    fn new() -> Oracle {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/authz_oracle.pl");
        Oracle {
            script,
            child: None,
            restarts: 0,
        }
    }

    fn start(&mut self) {
        let mut child = Command::new("perl")
            .arg(&self.script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start perl for {}: {e}; install Subversion's Perl bindings \
                     (apt-get install subversion libsvn-perl)",
                    self.script.display()
                )
            });
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        self.child = Some((child, stdin, stdout));
    }

    /// Send lines, read `expect` replies; `None` when the oracle died.
    fn ask(&mut self, lines: &[String], expect: usize) -> Option<Vec<String>> {
        if self.child.is_none() {
            self.start();
        }
        let (child, stdin, stdout) = self.child.as_mut()?;
        let mut batch = String::new();
        for l in lines {
            batch.push_str(l);
            batch.push('\n');
        }
        let mut replies = Vec::with_capacity(expect);
        let mut ok = stdin
            .write_all(batch.as_bytes())
            .and_then(|()| stdin.flush())
            .is_ok();
        while ok && replies.len() < expect {
            let mut reply = String::new();
            match stdout.read_line(&mut reply) {
                Ok(n) if n > 0 => replies.push(reply.trim_end_matches('\n').to_owned()),
                _ => ok = false,
            }
        }
        if ok {
            return Some(replies);
        }
        let _ = child.kill();
        let _ = child.wait();
        self.child = None;
        self.restarts += 1;
        None
    }

    fn quit(&mut self) {
        if let Some((mut child, mut stdin, _)) = self.child.take() {
            let _ = stdin.write_all(b"QUIT\n");
            drop(stdin);
            let _ = child.wait();
        }
    }

    /// Load a file pair and answer the queries in one batch. `None` when
    /// the oracle process itself died (it should not: files are parsed in
    /// forked children).
    fn batch(
        &mut self,
        authz: &Path,
        groups: Option<&Path>,
        queries: &[String],
    ) -> Option<(Verdict, Vec<String>)> {
        let mut load = format!("LOAD {}", enc(authz.to_str()));
        if let Some(g) = groups {
            let _ = write!(load, " {}", enc(g.to_str()));
        }
        let mut lines = vec![load];
        lines.extend(queries.iter().cloned());
        lines.push("END".to_owned());
        let mut replies = self.ask(&lines, 1 + queries.len())?;
        let first = replies.remove(0);
        let verdict = if first == "OK" {
            Verdict::Valid
        } else if first.starts_with("INVALID") {
            Verdict::Invalid
        } else if first.starts_with("CRASH") {
            Verdict::Crashed
        } else {
            panic!("oracle: unexpected reply {first:?}");
        };
        Some((verdict, replies))
    }
}

/// What Subversion made of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Valid,
    Invalid,
    /// Killed by a signal: an undetected group cycle.
    Crashed,
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn tools_present() {
    let perl = Command::new("perl")
        .args(["-MSVN::Core", "-MSVN::Repos", "-e", "1"])
        .output();
    assert!(
        perl.is_ok_and(|o| o.status.success()),
        "the differential test needs Subversion's Perl bindings: apt-get install subversion libsvn-perl"
    );
    let svnauthz = Command::new("svnauthz").arg("--version").output();
    assert!(
        svnauthz.is_ok_and(|o| o.status.success()),
        "the differential test needs svnauthz: apt-get install subversion"
    );
}

fn show(v: Option<&str>) -> String {
    v.map_or_else(|| "None".to_owned(), |s| format!("Some({s:?})"))
}

#[test]
fn authz_agrees_with_subversion() {
    tools_present();
    let seed = env_num("ROLESYNC_AUTHZ_DIFF_SEED", 20_240_601);
    let cases = env_num("ROLESYNC_AUTHZ_DIFF_CASES", 1200);
    let dir = tempfile::tempdir().expect("temp dir");
    let authz_path = dir.path().join("case.authz");
    let groups_path = dir.path().join("case.groups");
    let mut generator = Gen { rng: Rng(seed) };
    let mut recursive = Rng(seed ^ 0x005e_ed0f_2ec0);
    let mut recursive_queries = 0;
    let mut oracle = Oracle::new();
    let started = Instant::now();
    let (mut files, mut invalid, mut crashed, mut queries, mut with_groups) = (0, 0, 0, 0, 0);
    let mut answers = [0usize; 3];
    let mut mismatches: Vec<String> = Vec::new();
    for n in 0..cases {
        let case = generator.case();
        std::fs::write(&authz_path, &case.authz).expect("write case");
        if let Ok(keep) = std::env::var("ROLESYNC_AUTHZ_DIFF_KEEP") {
            std::fs::write(format!("{keep}/case{n:05}.authz"), &case.authz).expect("keep");
            if let Some(g) = &case.groups {
                std::fs::write(format!("{keep}/case{n:05}.groups"), g).expect("keep");
            }
        }
        if let Some(g) = &case.groups {
            std::fs::write(&groups_path, g).expect("write groups");
            with_groups += 1;
        }
        let gpath = case.groups.as_ref().map(|_| groups_path.as_path());
        files += 1;
        let ours = Authz::load(&case.authz, case.groups.as_deref());
        let diags = match &case.groups {
            Some(g) => validate_with_groups("authz", &case.authz, "groups", g),
            None => validate("authz", &case.authz),
        };
        assert_eq!(
            ours.is_ok(),
            !diags.iter().any(|d| d.is_error()),
            "validate and load disagree on case {n}"
        );
        let nq = generator.rng.range(15, 30);
        let qs: Vec<_> = (0..nq).map(|_| generator.query(&case)).collect();
        // Which queries are recursive (`-R`, with a path) comes from a
        // generator of its own, so the corpus stays the one of the seed.
        let rec: Vec<bool> = qs
            .iter()
            .map(|(_, _, p)| p.is_some() && recursive.chance(0.25))
            .collect();
        let lines: Vec<String> = qs
            .iter()
            .zip(&rec)
            .map(|((u, r, p), &rec)| {
                format!(
                    "Q {} {} {}{}",
                    enc(u.as_deref()),
                    enc(r.as_deref()),
                    enc(p.as_deref()),
                    if rec { " R" } else { "" }
                )
            })
            .collect();
        let Some((verdict, replies)) = oracle.batch(&authz_path, gpath, &lines) else {
            mismatches.push(format!(
                "ORACLE DIED on case {n} (seed {seed})\nauthz = {:?}",
                case.authz
            ));
            continue;
        };
        match verdict {
            Verdict::Invalid => invalid += 1,
            Verdict::Crashed => crashed += 1,
            Verdict::Valid => {}
        }
        if (verdict == Verdict::Valid) != ours.is_ok() {
            mismatches.push(format!(
                "VALIDITY case {n} (seed {seed}): subversion {verdict:?} rolesync {}\nauthz = {:?}\ngroups = {:?}\n{:#?}",
                if ours.is_ok() { "valid" } else { "invalid" },
                case.authz,
                case.groups,
                diags
            ));
            continue;
        }
        let Ok(authz) = ours else {
            continue;
        };
        for (((u, r, p), svn), &rec) in qs.iter().zip(replies).zip(&rec) {
            let got = match (p, rec) {
                (Some(p), true) => authz.access_below(u.as_deref(), r.as_deref(), p),
                _ => authz.access(u.as_deref(), r.as_deref(), p.as_deref()),
            };
            queries += 1;
            recursive_queries += usize::from(rec);
            answers[got as usize] += 1;
            if svn != got.as_str() {
                mismatches.push(format!(
                    "ANSWER case {n} (seed {seed}): user {} repository {} path {}{}: subversion {svn} rolesync {got}\n\
                     authz = {:?}\ngroups = {:?}",
                    show(u.as_deref()),
                    show(r.as_deref()),
                    show(p.as_deref()),
                    if rec { " (-R)" } else { "" },
                    case.authz,
                    case.groups
                ));
            }
        }
    }
    oracle.quit();
    eprintln!(
        "authz difftest: seed {seed}: {files} files ({with_groups} with a groups file, {invalid} invalid, \
         {crashed} crashing Subversion), {queries} queries compared ({recursive_queries} recursive; rw {} / r {} / no {}), \
         {} mismatches, oracle restarts {}, {:.1} s",
        answers[Access::ReadWrite as usize],
        answers[Access::Read as usize],
        answers[Access::No as usize],
        mismatches.len(),
        oracle.restarts,
        started.elapsed().as_secs_f64()
    );
    for m in mismatches.iter().take(10) {
        eprintln!("{m}\n");
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches with Subversion",
        mismatches.len()
    );
    if cases >= 1000 {
        assert!(queries >= 20_000, "only {queries} queries compared");
    }
}

/// A few answers straight from the `svnauthz` and `rolesync` binaries, with
/// non-canonical paths that both must canonicalise.
#[test]
fn authz_agrees_with_svnauthz_cli() {
    tools_present();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("authz");
    let text = "[groups]\ndevs = harry, &s\n[aliases]\ns = sally\n[/]\n* = r\n[/trunk]\n@devs = rw\n\
                [repo:/trunk/secret]\n* =\nharry = r\n[:glob:/**/*.key]\n~harry =\n";
    std::fs::write(&file, text).expect("write");
    let authz = Authz::load(text, None).unwrap_or_else(|e| panic!("{e:#?}"));
    let mut checked = 0;
    for user in [None, Some("harry"), Some("sally"), Some("bob"), Some("")] {
        for repo in [None, Some("repo"), Some("other")] {
            for path in [
                None,
                Some("/"),
                Some("trunk//x/"),
                Some("/trunk/./secret"),
                Some("/a/b.key"),
                Some("/trunk/../x"),
            ] {
                let mut args: Vec<&str> = Vec::new();
                if let Some(u) = user {
                    args.extend(["--username", u]);
                }
                if let Some(r) = repo {
                    args.extend(["--repository", r]);
                }
                if let Some(p) = path {
                    args.extend(["--path", p]);
                }
                let svn = Command::new("svnauthz")
                    .arg("accessof")
                    .args(&args)
                    .arg(&file)
                    .output()
                    .expect("svnauthz runs");
                assert_eq!(svn.status.code(), Some(0), "svnauthz {args:?}");
                let want = String::from_utf8_lossy(&svn.stdout).trim().to_owned();
                let got = authz.access(user, repo, path);
                assert_eq!(
                    got.as_str(),
                    want,
                    "user {user:?} repo {repo:?} path {path:?}"
                );
                if path.is_some() && checked % 5 == 0 {
                    let mut ours: Vec<&str> = vec!["access"];
                    if let Some(u) = user {
                        ours.extend(["--user", u]);
                    }
                    if let Some(r) = repo {
                        ours.extend(["--repository", r]);
                    }
                    ours.extend(["--path", path.unwrap_or("/")]);
                    let o = Command::new(env!("CARGO_BIN_EXE_rolesync"))
                        .args(&ours)
                        .arg(&file)
                        .output()
                        .expect("rolesync runs");
                    assert_eq!(
                        String::from_utf8_lossy(&o.stdout).trim(),
                        want,
                        "rolesync {ours:?}"
                    );
                }
                checked += 1;
            }
        }
    }
    // Validity through the CLI, including a crash on an undetected cycle.
    for (text, valid) in [
        ("[/]\nh = w\n", false),
        ("[groups]\na = @b\nb = @c\nc = @b\n[/]\n@a = r\n", false),
        ("[groups]\ne =\n[/]\n~@e = r\n", true),
    ] {
        std::fs::write(&file, text).expect("write");
        let svn = Command::new("svnauthz")
            .arg("validate")
            .arg(&file)
            .output()
            .expect("svnauthz runs");
        assert_eq!(svn.status.success(), valid, "svnauthz validate {text:?}");
        assert_eq!(Authz::load(text, None).is_ok(), valid, "{text:?}");
    }
}
