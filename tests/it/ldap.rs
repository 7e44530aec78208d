//! `rolesync::ldap::sync` against a real slapd (`slapd.rs`): nested groups
//! with a cycle, paged reads under a size limit, account state, StartTLS,
//! failover, a refused bind, hostile values (issue 16's Done-when items of
//! the directory client).

use std::collections::BTreeMap;

use rolesync::directory::{AccountState, DirectorySnapshot, GroupAnswer, GroupRef, Member};
use rolesync::ldap::{LdapSettings, SyncError};

use crate::slapd::{self, Options, Slapd, account, group, group_dn, person, person_dn};

fn settings(server: &Slapd, extra: &str) -> LdapSettings {
    LdapSettings::from_toml(&server.settings_toml(extra)).expect("settings")
}

fn sync(settings: &LdapSettings, refs: &[GroupRef]) -> Result<DirectorySnapshot, SyncError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(rolesync::ldap::sync(settings, refs))
}

fn dn(group: &str) -> GroupRef {
    GroupRef::Dn(group_dn(group))
}

/// A group's members as `login<via1<via2` strings (via as the group's cn).
fn members(snapshot: &DirectorySnapshot, r: &GroupRef) -> Vec<String> {
    match &snapshot.groups[r] {
        GroupAnswer::NotFound => vec!["(not found)".to_owned()],
        GroupAnswer::Members(ms) => ms.iter().map(shown).collect(),
    }
}

fn shown(m: &Member) -> String {
    let mut s = m.login.clone();
    for dn in &m.via {
        let cn = dn
            .split(',')
            .next()
            .unwrap_or_default()
            .trim_start_matches("cn=");
        s.push('<');
        s.push_str(cn);
    }
    s
}

#[test]
fn nested_groups_three_levels_deep_with_a_cycle_resolve_once_each() {
    let people: String = ["alice", "bob", "carol", "dave"]
        .iter()
        .map(|u| person(u, ""))
        .collect();
    let ldif = format!(
        "{people}{}{}{}",
        group("top", &[person_dn("alice"), group_dn("mid")]),
        group("mid", &[person_dn("bob"), group_dn("low")]),
        group(
            "low",
            &[person_dn("carol"), group_dn("top"), person_dn("alice")]
        ),
    );
    let server = Slapd::new(Options::default(), &ldif);
    let refs = [dn("top"), dn("low"), dn("absent")];
    let snapshot = sync(&settings(&server, ""), &refs).expect("sync");
    assert_eq!(
        members(&snapshot, &refs[0]),
        ["alice", "bob<mid", "carol<mid<low"]
    );
    assert_eq!(
        members(&snapshot, &refs[1]),
        ["alice", "bob<top<mid", "carol"]
    );
    assert_eq!(members(&snapshot, &refs[2]), ["(not found)"]);
    let accounts = snapshot.accounts.as_ref().expect("account state on");
    let active: Vec<&str> = accounts.keys().map(String::as_str).collect();
    assert_eq!(active, ["alice", "bob", "carol", "dave"]);
    assert!(accounts.values().all(|s| *s == AccountState::Active));
    let again = sync(&settings(&server, "account_state = false\n"), &refs).expect("sync");
    assert_eq!(again.accounts, None);
    assert_eq!(again.groups, snapshot.groups);
}

#[test]
fn a_locked_account_is_reported_locked_and_an_outage_is_an_error() {
    let ldif = format!(
        "{}{}{}",
        person("alice", ""),
        person("bob", "pwdAccountLockedTime: 000001010000Z\n"),
        group("team", &[person_dn("alice"), person_dn("bob")]),
    );
    let mut server = Slapd::new(Options::default(), &ldif);
    let s = settings(&server, "");
    let state = |snapshot: &DirectorySnapshot| -> BTreeMap<String, String> {
        let accounts = snapshot.accounts.clone().expect("account state on");
        accounts
            .into_iter()
            .map(|(login, state)| (login, format!("{state:?}")))
            .collect()
    };
    let first = sync(&s, &[dn("team")]).expect("sync");
    let locked = "Locked { by: \"pwdAccountLockedTime\" }";
    assert_eq!(
        state(&first),
        BTreeMap::from([
            ("alice".into(), "Active".into()),
            ("bob".into(), locked.into())
        ])
    );
    assert_eq!(members(&first, &dn("team")), ["alice", "bob"]);
    server.modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: pwdAccountLockedTime\npwdAccountLockedTime: 20260101000000Z\n",
        person_dn("alice")
    ));
    let second = sync(&s, &[dn("team")]).expect("sync");
    assert_eq!(state(&second)["alice"], locked);
    assert_ne!(first.revision, second.revision);
    server.stop();
    let down = sync(&s, &[dn("team")])
        .expect_err("the server is down")
        .to_string();
    assert!(down.contains(&server.url()), "{down}");
    server.start();
    assert_eq!(
        sync(&s, &[dn("team")]).expect("sync").revision,
        second.revision
    );
}

#[test]
fn ns_account_lock_and_user_account_control_lock_an_account() {
    let ldif = format!(
        "{}{}{}{}{}{}",
        account("alice", "nsAccountLock: false\n"),
        account("bob", "nsAccountLock: TRUE\n"),
        account("carol", "userAccountControl: 512\n"),
        account("dave", "userAccountControl: 514\n"),
        account("erin", "userAccountControl: 66050\n"),
        group(
            "team",
            &["alice", "bob", "carol", "dave", "erin"].map(person_dn)
        ),
    );
    let server = Slapd::new(Options::default(), &ldif);
    let s = settings(&server, "");
    let snapshot = sync(&s, &[dn("team")]).expect("sync");
    let accounts = snapshot.accounts.clone().expect("account state on");
    let shown: BTreeMap<&str, String> = accounts
        .iter()
        .map(|(login, state)| (login.as_str(), format!("{state:?}")))
        .collect();
    let locked = |by: &str| format!("Locked {{ by: \"{by}\" }}");
    assert_eq!(
        shown,
        BTreeMap::from([
            ("alice", "Active".to_owned()),
            ("bob", locked("nsAccountLock")),
            ("carol", "Active".to_owned()),
            // 514 = NORMAL_ACCOUNT | ACCOUNTDISABLE; 66050 also has DONT_EXPIRE_PASSWORD.
            ("dave", locked("userAccountControl")),
            ("erin", locked("userAccountControl")),
        ])
    );
    // With account state off, nobody is locked: the attributes are not judged.
    let off = sync(&settings(&server, "account_state = false\n"), &[dn("team")]).expect("sync");
    assert_eq!(off.accounts, None);
    // Unlocked in the directory, active at the next sync. (A userAccountControl
    // that is no number cannot be stored: the schema's INTEGER syntax refuses it.)
    server.modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: nsAccountLock\nnsAccountLock: false\n",
        person_dn("bob")
    ));
    let again = sync(&s, &[dn("team")]).expect("sync");
    assert_eq!(again.accounts.expect("state")["bob"], AccountState::Active);
    assert_ne!(again.revision, snapshot.revision);
}

#[test]
fn starttls_verifies_the_chain_and_refuses_another_ca() {
    let server = Slapd::new(
        Options {
            tls: true,
            ..Options::default()
        },
        &format!(
            "{}{}",
            person("alice", ""),
            group("team", &[person_dn("alice")])
        ),
    );
    let at = |ca: &std::path::Path| {
        let url = format!("ldap://localhost:{}", server.port);
        LdapSettings::from_toml(
            &server
                .settings_toml(&format!("starttls = true\nca_file = {ca:?}\n"))
                .replacen(&server.url(), &url, 1),
        )
        .expect("settings")
    };
    let good = sync(&at(&server.ca_file()), &[dn("team")]).expect("StartTLS with the CA");
    assert_eq!(members(&good, &dn("team")), ["alice"]);
    let other = server.path("other-ca");
    slapd::make_certificates(&other);
    let refused = sync(&at(&other.join("ca.pem")), &[dn("team")]).expect_err("another CA");
    let refused = refused.to_string();
    assert!(
        refused.contains("localhost") && refused.contains("certificate"),
        "{refused}"
    );
}

#[test]
fn a_dead_first_url_fails_over_to_the_next() {
    let server = Slapd::new(
        Options::default(),
        &format!(
            "{}{}",
            person("alice", ""),
            group("team", &[person_dn("alice")])
        ),
    );
    let dead = format!("ldap://127.0.0.1:{}", crate::util::free_port());
    let toml = server
        .settings_toml("")
        .replacen("urls = [", &format!("urls = [{dead:?}, "), 1);
    let s = LdapSettings::from_toml(&toml).expect("settings");
    let snapshot = sync(&s, &[dn("team")]).expect("the second URL answers");
    assert_eq!(members(&snapshot, &dn("team")), ["alice"]);
    let toml = server.settings_toml("").replacen(&server.url(), &dead, 1);
    let toml = toml.replacen(
        "urls = [",
        &format!(
            "urls = [{:?}, ",
            format!("ldap://127.0.0.1:{}", crate::util::free_port())
        ),
        1,
    );
    let err = sync(&LdapSettings::from_toml(&toml).expect("settings"), &[]).expect_err("all dead");
    assert!(
        matches!(err, SyncError::Unreachable { ref tried } if tried.len() == 2),
        "{err}"
    );
}

#[test]
fn a_wrong_password_is_refused_and_never_shown() {
    let server = Slapd::new(Options::default(), &person("alice", ""));
    let wrong = "Wr0ng-but-secret-pw";
    std::fs::write(server.password_file(), format!("{wrong}\n")).expect("write");
    let err = sync(&settings(&server, ""), &[]).expect_err("wrong password");
    let shown = format!("{err} {err:?}");
    assert!(matches!(err, SyncError::Bind { .. }), "{shown}");
    assert!(
        shown.contains(slapd::READER_DN) && shown.contains(&server.url()),
        "{shown}"
    );
    assert!(shown.contains("invalidCredentials"), "{shown}");
    assert!(
        !shown.contains(wrong) && !shown.contains(slapd::READER_PASSWORD),
        "{shown}"
    );
}

#[test]
fn a_group_of_2500_is_read_in_pages_under_a_size_limit_of_1000_and_refused_unpaged() {
    let logins: Vec<String> = (0..2500).map(|i| format!("u{i:04}")).collect();
    let people: String = logins.iter().map(|u| person(u, "")).collect();
    let dns: Vec<String> = logins.iter().map(|u| person_dn(u)).collect();
    let options = Options {
        size_limit: Some(1000),
        ..Options::default()
    };
    let server = Slapd::new(options, &format!("{people}{}", group("big", &dns)));
    let snapshot = sync(&settings(&server, ""), &[dn("big")]).expect("paged sync");
    assert_eq!(members(&snapshot, &dn("big")), logins);
    assert_eq!(snapshot.accounts.as_ref().map(|a| a.len()), Some(2500));
    let unpaged = sync(&settings(&server, "page_size = 0\n"), &[dn("big")]);
    let err = unpaged.expect_err("refused, not truncated");
    let shown = err.to_string();
    assert!(matches!(err, SyncError::Incomplete { .. }), "{shown}");
    assert!(
        shown.contains("sizeLimitExceeded") && shown.contains(slapd::SUFFIX),
        "{shown}"
    );
}

#[test]
fn hostile_logins_pass_through_raw_and_oversized_answers_are_refused() {
    let entry = |cn: &str, uid_line: &str| {
        format!(
            "dn: cn={cn},{}\nobjectClass: inetOrgPerson\ncn: {cn}\nsn: x\n{uid_line}\n\n",
            slapd::PEOPLE
        )
    };
    let newline = "dWlkOgpldmlsCg=="; // base64 of "uid:\nevil\n"
    let ldif = format!(
        "{}{}{}{}{}",
        entry("comma", "uid: ev,il"),
        entry("newline", &format!("uid:: {newline}")),
        entry("long", &format!("uid: {}", "x".repeat(100))),
        group(
            "hostile",
            &[
                format!("cn=comma,{}", slapd::PEOPLE),
                format!("cn=newline,{}", slapd::PEOPLE)
            ]
        ),
        group("wide", &[format!("cn=long,{}", slapd::PEOPLE)]),
    );
    let server = Slapd::new(Options::default(), &ldif);
    let snapshot = sync(&settings(&server, ""), &[dn("hostile")]).expect("sync");
    assert_eq!(
        members(&snapshot, &dn("hostile")),
        ["ev,il", "uid:\nevil\n"]
    );
    let accounts = snapshot.accounts.expect("accounts");
    assert!(accounts.contains_key("ev,il") && accounts.contains_key("uid:\nevil\n"));
    let short =
        sync(&settings(&server, "max_value_bytes = 64\n"), &[]).expect_err("a 100-byte uid");
    let shown = short.to_string();
    assert!(
        shown.contains("cn=long") && shown.contains("max_value_bytes = 64"),
        "{shown}"
    );
    let narrow =
        sync(&settings(&server, "max_members = 1\n"), &[dn("hostile")]).expect_err("2 members");
    assert!(narrow.to_string().contains("max_members = 1"), "{narrow}");
}

#[test]
fn nesting_deeper_than_max_depth_and_a_login_given_twice_are_refused() {
    let ldif = format!(
        "{}{}{}{}",
        person("alice", "uid: alias\n"),
        group("a", &[group_dn("b")]),
        group("b", &[group_dn("c")]),
        group("c", &[person_dn("bob")]),
    );
    let server = Slapd::new(Options::default(), &ldif);
    let deep = sync(
        &settings(&server, "max_depth = 1\naccount_state = false\n"),
        &[dn("a")],
    );
    let shown = deep.expect_err("two levels of nesting").to_string();
    assert!(
        shown.contains("max_depth = 1") && shown.contains("cn=c,"),
        "{shown}"
    );
    let twice = sync(&settings(&server, ""), &[]).expect_err("two uids");
    assert!(twice.to_string().contains("uid=alice"), "{twice}");
}

#[test]
fn ldap_sync_prints_the_groups_resolved_in_text_and_json() {
    let ldif = format!(
        "{}{}{}{}{}",
        person("alice", ""),
        person("bob", "pwdAccountLockedTime: 000001010000Z\n"),
        group("top", &[person_dn("alice"), group_dn("mid")]),
        group("mid", &[person_dn("bob")]),
        group("other", &[person_dn("alice")]),
    );
    let server = Slapd::new(Options::default(), &ldif);
    let config = server.path("rolesync.toml");
    std::fs::write(
        &config,
        format!(
            "repo = \"/srv/config\"\n[ldap]\n{}",
            server.settings_toml("")
        ),
    )
    .expect("write");
    let run = |extra: &[&str]| {
        let mut cmd = crate::util::rolesync();
        cmd.args(["ldap", "sync", "--config"]).arg(&config);
        cmd.args(["--group", &group_dn("top"), "--group", &group_dn("absent")]);
        cmd.args(extra).output().expect("rolesync runs")
    };
    let text = run(&["--members"]);
    assert!(text.status.success(), "{}", crate::util::stderr(&text));
    let text = crate::util::stdout(&text);
    assert!(
        text.contains(&format!(
            "{}: 2 members (1 through nested groups)\n  alice\n  bob < {}\n",
            group_dn("top"),
            group_dn("mid")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}: not found\n", group_dn("absent"))),
        "{text}"
    );
    assert!(
        text.contains("accounts: 2 (1 locked)\n  locked: bob (pwdAccountLockedTime)\n"),
        "{text}"
    );
    let json = run(&["--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let top = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["dn"] == group_dn("top"))
        .expect("top");
    assert_eq!(
        (top["member_count"].as_u64(), top["found"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(json["accounts"]["locked"][0]["login"], "bob");
    let repo = server.path("config");
    let groups = repo.join(".polarion/user-management");
    std::fs::create_dir_all(&groups).expect("mkdir");
    std::fs::write(
        groups.join("groups.xml"),
        format!(
            "<user-groups>\n  <group id=\"t\" ldap=\"CN=Top, OU=groups, DC=example, DC=org\"/>\n  \
             <group id=\"a\" ldap-base=\"{}\" ldap-filter=\"(uid=a*)\"/>\n  <group id=\"local\"/>\n</user-groups>\n",
            slapd::PEOPLE
        ),
    )
    .expect("write groups.xml");
    let mut cmd = crate::util::rolesync();
    cmd.args(["ldap", "sync", "--config"])
        .arg(&config)
        .arg("--repo")
        .arg(&repo);
    let from_repo = cmd.output().expect("rolesync runs");
    let text = crate::util::stdout(&from_repo);
    assert!(
        from_repo.status.success(),
        "{}",
        crate::util::stderr(&from_repo)
    );
    // The DN as groups.xml's normalisation keeps it (attribute types lowercased).
    let top = format!("cn=Top,{}", slapd::GROUPS);
    let line = format!("{top}: 2 members (1 through nested groups)\n");
    assert!(text.contains(&line), "{text}");
    assert!(
        text.contains(&format!(
            "(uid=a*) below {}: 1 members (0 through nested groups)\n",
            slapd::PEOPLE
        )),
        "{text}"
    );
    assert_eq!(text.lines().count(), 5, "{text}");
    std::fs::write(server.password_file(), "not-the-password").expect("write");
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(2));
    let err = crate::util::stderr(&refused);
    assert!(
        err.contains(&server.url()) && err.contains("invalidCredentials"),
        "{err}"
    );
    assert!(!err.contains("not-the-password"), "{err}");
}
