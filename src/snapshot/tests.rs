use super::*;

#[test]
fn a_long_message_keeps_its_end_where_trailers_are() {
    assert_eq!(message_tail(b"short", 64), "short");
    let long = format!("{}\n\nRolesync-Allow: mass-change", "x".repeat(100));
    let kept = message_tail(long.as_bytes(), 40);
    assert_eq!(kept.len(), 40);
    assert!(kept.ends_with("Rolesync-Allow: mass-change"), "{kept}");
    // Cut at a character boundary; invalid UTF-8 replaced.
    assert_eq!(message_tail("ééé".as_bytes(), 3), "é");
    assert_eq!(message_tail(b"a\xffb", 64), "a\u{fffd}b");
}

#[test]
fn classify_knows_every_file_kind() {
    assert_eq!(classify(".polarion/access"), Some(FileKind::AccessFile));
    assert_eq!(classify(".polarion/rolesync.toml"), Some(FileKind::Rails));
    assert_eq!(
        classify(".polarion/security/user-roles.xml"),
        Some(FileKind::UserRoles)
    );
    assert_eq!(
        classify(".polarion/user-management/users/bob/user.xml"),
        Some(FileKind::User {
            login: "bob".into()
        })
    );
    assert_eq!(
        classify("Dept A/lib/.polarion/polarion-project.xml"),
        Some(FileKind::ProjectMarker {
            folder: "Dept A/lib".into()
        })
    );
    assert_eq!(
        classify("lib/.polarion/security/permissions.xml"),
        Some(FileKind::ProjectPermissions {
            folder: "lib".into()
        })
    );
    assert_eq!(
        classify("lib/.polarion/security/roles.xml"),
        Some(FileKind::ProjectRoles {
            folder: "lib".into()
        })
    );
    assert_eq!(classify("lib/.polarion/tracker/x.xml"), None);
    assert_eq!(
        classify(".polarion/user-management/users/a/b/user.xml"),
        None
    );
    assert_eq!(classify("README.md"), None);
    assert_eq!(
        classify(".polarion/tests/admins.toml"),
        Some(FileKind::PolicyTest)
    );
    assert_eq!(
        classify(".polarion/tests/notes.md"),
        Some(FileKind::PolicyTestIgnored)
    );
    assert_eq!(
        classify(".polarion/tests/sub/x.toml"),
        Some(FileKind::PolicyTestIgnored)
    );
    assert_eq!(classify("lib/.polarion/tests/x.toml"), None);
}

#[test]
fn is_classified_agrees_with_classify() {
    for path in [
        ".polarion/access",
        ".polarion/rolesync.toml",
        GROUPS,
        ".polarion/user-management/users/bob/user.xml",
        ".polarion/user-management/users/a/b/user.xml",
        ".polarion/user-management/users//user.xml",
        "Dept A/lib/.polarion/polarion-project.xml",
        "lib/.polarion/security/user-roles.xml",
        "lib/.polarion/security/permissions.xml",
        "lib/.polarion/security/roles.xml",
        "lib/.polarion/tracker/x.xml",
        ".polarion/.polarion/polarion-project.xml",
        "/.polarion/polarion-project.xml",
        ".polarion/tests/admins.toml",
        ".polarion/tests/notes.md",
        "lib/.polarion/tests/x.toml",
        "README.md",
    ] {
        assert_eq!(is_classified(path), classify(path).is_some(), "{path}");
    }
}
