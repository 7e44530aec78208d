//! The synthetic configuration the benchmarks share: 10,000 users (1%
//! disabled), 1,000 projects (one in ten with its own permissions.xml and
//! custom sets), 50 user groups of 40 members, about 40,000 project role
//! assignments (about 50,000 with the global ones: the 10k input of issue
//! 13), global custom sets and rules. Deterministic (a fixed seed).
//!
//! Included by each example with `#[path = "common/synthetic.rs"] mod synthetic;`
//! (not an example itself: Cargo only builds `examples/*.rs` and
//! `examples/*/main.rs`).
#![allow(dead_code)] // each example uses part of it

use std::collections::BTreeMap;
use std::time::Instant;

use rolesync::snapshot::{self, Input};

pub const USERS: usize = 10_000;
pub const PROJECTS: usize = 1_000;
pub const GROUPS: usize = 50;

/// xorshift64*: reproducible, no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn user(i: usize) -> String {
    format!("u{i:05}")
}

pub fn project(i: usize) -> String {
    format!("p{i:04}")
}

pub fn user_roles(holders: &BTreeMap<String, Vec<&str>>) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<user-roles>\n");
    for (h, roles) in holders {
        let (kind, name) = match h.strip_prefix('@') {
            Some(g) => ("group", g),
            None => ("user", h.as_str()),
        };
        xml.push_str(&format!("  <{kind} name=\"{name}\">"));
        for r in roles {
            xml.push_str(&format!("<role name=\"{r}\"/>"));
        }
        xml.push_str(&format!("</{kind}>\n"));
    }
    xml.push_str("</user-roles>\n");
    xml
}

pub const GLOBAL_PERMISSIONS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<permissions>
  <customset id="Approved" title="Approved">com.polarion.persistence.object.WorkItem(status:approved)</customset>
  <customset id="Mine" title="Mine">com.polarion.persistence.object.WorkItem(author.id:$[user.id] AND NOT status:(closed OR done))</customset>
  <customset id="Frozen" title="Frozen">com.polarion.persistence.object.Module(status:(inreview OR reviewed OR approved))</customset>
  <permission name="com.polarion">
    <role name="user">
      <grant permission="persistence.object.Project.read"/>
      <grant permission="persistence.object.WorkItem.read"/>
      <grant permission="persistence.object.Module.read"/>
      <grant permission="persistence.object.TestRun.read"/>
      <grant permission="persistence.object.Plan.read"/>
    </role>
    <role name="project_user">
      <grant permission="persistence.object.WorkItem.create"/>
      <grant permission="persistence.object.WorkItem.modify"/>
      <grant permission="persistence.object.Module.modifyContent"/>
      <deny permission="persistence.object.WorkItem.field.severity.modify"/>
      <deny permission="@Approved.modify"/>
      <grant permission="@Mine.delete"/>
      <deny permission="@Frozen.modifyContent"/>
    </role>
    <role name="project_admin">
      <grant permission="persistence.object.WorkItem.delete"/>
      <grant permission="persistence.object.Module.modify"/>
      <grant permission="persistence.object.Plan.create"/>
      <grant permission="persistence.object.Baseline.create"/>
      <grant permission="administration.modify"/>
    </role>
    <role name="project_tester">
      <grant permission="persistence.object.TestRun.modify"/>
    </role>
    <role name="auditor">
      <grant permission="rest.endpoint.get"/>
      <deny permission="persistence.object.WorkItem.field.salary.read"/>
    </role>
    <role name="author">
      <grant permission="persistence.object.WorkItem.delete"/>
    </role>
  </permission>
</permissions>
"#;

pub const PROJECT_PERMISSIONS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<permissions>
  <customset id="Frozen" title="Frozen">com.polarion.persistence.object.Module(status:(reviewed OR approved))</customset>
  <customset id="Approved" title="Approved">com.polarion.persistence.object.WorkItem(status:approved)</customset>
  <permission name="com.polarion">
    <role name="project_user">
      <grant permission="persistence.object.Module.modifyContent"/>
      <deny permission="@Frozen.modifyContent"/>
      <deny permission="@Approved.modify"/>
    </role>
    <role name="project_admin">
      <deny permission="@Frozen.modifyContent"/>
      <grant permission="rest.endpoint.patch"/>
    </role>
  </permission>
</permissions>
"#;

/// The size of a synthetic configuration ([`config_at`]).
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub users: usize,
    pub projects: usize,
    pub groups: usize,
    /// Role assignments drawn per project (fewer after duplicates merge).
    pub per_project: usize,
}

/// The configuration every benchmark uses by default.
pub const DEFAULT_SCALE: Scale = Scale {
    users: USERS,
    projects: PROJECTS,
    groups: GROUPS,
    per_project: 40,
};

/// The enterprise scale of issue 13: 100,000 users, 10,000 projects,
/// about 500,000 role assignments.
pub const LARGE_SCALE: Scale = Scale {
    users: 100_000,
    projects: 10_000,
    groups: 500,
    per_project: 40,
};

/// The names `scale_latency` uses for the two scales.
pub const SCALE_10K: Scale = DEFAULT_SCALE;
pub const SCALE_100K: Scale = LARGE_SCALE;

/// The synthetic configuration, as repository files.
pub fn config() -> BTreeMap<String, Vec<u8>> {
    config_at(DEFAULT_SCALE)
}

/// The synthetic configuration at `scale` (`config` is `DEFAULT_SCALE`).
pub fn config_at(scale: Scale) -> BTreeMap<String, Vec<u8>> {
    let Scale {
        users,
        projects,
        groups: group_count,
        per_project,
    } = scale;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut put = |path: String, text: String| {
        files.insert(path, text.into_bytes());
    };
    put(
        snapshot::ROLES.into(),
        r#"<roles><role id="auditor" scope="global"/><role id="project_tester" scope="project"/></roles>"#.into(),
    );
    let mut global: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for i in 0..users {
        let roles = global.entry(user(i)).or_default();
        roles.push("user");
        if i < 5 {
            roles.push("admin");
        }
        if i % 50 == 0 {
            roles.push("assignable");
        }
        if i % 97 == 0 {
            roles.push("auditor");
        }
        let disabled = i % 100 == 99;
        put(
            format!("{}{}/user.xml", snapshot::USERS_DIR, user(i)),
            format!(
                "<user><field id=\"name\">User {i}</field><field id=\"disabled\">{disabled}</field></user>"
            ),
        );
    }
    let mut groups = String::from("<user-groups>\n");
    for g in 0..group_count {
        groups.push_str(&format!("  <group id=\"g{g:02}\">"));
        for _ in 0..40 {
            groups.push_str(&format!("<user name=\"{}\"/>", user(rng.below(users))));
        }
        groups.push_str("</group>\n");
    }
    groups.push_str("</user-groups>\n");
    put(snapshot::GROUPS.into(), groups);
    put(snapshot::USER_ROLES.into(), user_roles(&global));
    put(snapshot::PERMISSIONS.into(), GLOBAL_PERMISSIONS.into());
    put(
        snapshot::ACCESS_FILE.into(),
        "[/]\n@admin = rw\n* = r\n".into(),
    );
    for p in 0..projects {
        let id = project(p);
        let folder = format!("Dept {}/{id}", p % 10);
        put(
            format!("{folder}/.polarion/polarion-project.xml"),
            format!(
                "<project><field id=\"lead\">{}</field></project>",
                user(rng.below(users))
            ),
        );
        let mut holders: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for k in 0..per_project {
            let role = match k {
                0 | 1 => "project_admin",
                2..=4 => "project_approver",
                5 | 6 => "project_assignable",
                _ => "project_user",
            };
            let roles = holders.entry(user(rng.below(users))).or_default();
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        holders
            .entry(format!("@g{:02}", p % group_count))
            .or_default()
            .push("project_tester");
        put(
            format!("{folder}/.polarion/security/user-roles.xml"),
            user_roles(&holders),
        );
        if p % 10 == 0 {
            put(
                format!("{folder}/.polarion/security/permissions.xml"),
                PROJECT_PERMISSIONS.into(),
            );
        }
    }
    files
}

pub fn build() -> snapshot::Snapshot {
    let files = config();
    let n = files.len();
    let bytes: usize = files.values().map(Vec::len).sum();
    let (snapshot, took) = build_files("synthetic", files);
    println!(
        "configuration: {USERS} users, {PROJECTS} projects, {GROUPS} groups, {n} files ({} KiB); snapshot::build (parse, validate, index, render) {:.0} ms",
        bytes / 1024,
        took.as_secs_f64() * 1e3
    );
    snapshot
}

/// `snapshot::build` of these files (which must be valid), and how long it took.
pub fn build_files(
    revision: &str,
    files: BTreeMap<String, Vec<u8>>,
) -> (snapshot::Snapshot, std::time::Duration) {
    let input = Input {
        revision: revision.into(),
        files: files.into_iter().map(|(p, b)| (p, b.into())).collect(),
        ..Input::default()
    };
    let start = Instant::now();
    let report = snapshot::build(&input);
    let took = start.elapsed();
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.one_line())
        .take(5)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    (report.snapshot.expect("valid"), took)
}

/// The machine's load (`/proc/loadavg`) and core count, printed beside
/// every figure.
pub fn load() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let parts: Vec<&str> = l.split_whitespace().take(3).collect();
    format!(
        "load {} on {} cores",
        parts.join(" "),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )
}
