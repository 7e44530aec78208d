//! The notification line: what the hooks write is read back; hostile
//! lines are ignored field by field, never more than their bounds.

use super::*;

fn notice(pusher: Option<&str>, revisions: &[&str]) -> Notice {
    Notice {
        only_push: false,
        pusher: pusher.map(str::to_owned),
        revisions: revisions.iter().map(|r| (*r).to_owned()).collect(),
    }
}

/// `line` parses to `want` with `warned` warnings.
fn check(line: &str, want: Notice, warned: usize) {
    let (got, warnings) = parse(line);
    assert_eq!(got, want, "{line:?}");
    assert_eq!(warnings.len(), warned, "{line:?}: {warnings:?}");
}

#[test]
fn the_old_hooks_bare_reload_is_a_reload_with_nothing_known() {
    check("reload", Notice::default(), 0);
    check("", Notice::default(), 0);
}

#[test]
fn a_written_line_reads_back_whatever_the_pusher_holds() {
    for pusher in ["alice", "Jane Doe", "a%20b", "jäne@example.org", "x=y"] {
        let n = notice(Some(pusher), &["0123abcd", "42"]);
        let line = n.line();
        // One line of four words, whatever the pusher holds.
        assert_eq!(line.matches('\n').count(), 1, "{line:?}");
        assert_eq!(line.trim_end().split(' ').count(), 4, "{line:?}");
        check(line.trim_end_matches('\n'), n, 0);
    }
}

#[test]
fn push_notes_the_pusher_without_asking_for_a_reload() {
    let (got, _) = parse("push rev=abc pusher=bob");
    assert!(got.only_push);
    assert_eq!(got.pusher.as_deref(), Some("bob"));
}

#[test]
fn an_unknown_verb_or_field_is_a_warning_not_a_refusal() {
    check("frobnicate", Notice::default(), 1);
    check("reload colour=blue pusher=al", notice(Some("al"), &[]), 1);
}

#[test]
fn a_pusher_with_a_control_character_or_too_long_is_ignored() {
    check("reload pusher=a%0Ab", Notice::default(), 1);
    check("reload pusher=a%1B[31m", Notice::default(), 1);
    check("reload pusher=%C2%85", Notice::default(), 1);
    check("reload pusher=", Notice::default(), 1);
    let long = "x".repeat(MAX_PUSHER_BYTES + 1);
    check(&format!("reload pusher={long}"), Notice::default(), 1);
    let most = "x".repeat(MAX_PUSHER_BYTES);
    check(
        &format!("reload pusher={most}"),
        notice(Some(&most), &[]),
        0,
    );
}

#[test]
fn malformed_escapes_and_bad_revisions_are_ignored() {
    check("reload pusher=%G1", Notice::default(), 1);
    check("reload pusher=%4", Notice::default(), 1);
    check("reload pusher=%FF", Notice::default(), 1);
    check("reload rev=../etc", Notice::default(), 1);
    check(
        &format!("reload rev={}", "a".repeat(65)),
        Notice::default(),
        1,
    );
}

#[test]
fn at_most_the_bound_of_revisions_is_kept() {
    let line = format!("reload{}", " rev=ab".repeat(MAX_REVISIONS + 5));
    let (got, warnings) = parse(&line);
    assert_eq!(got.revisions.len(), MAX_REVISIONS);
    assert_eq!(warnings.len(), 5);
}

#[test]
fn an_oversized_or_non_utf8_notification_keeps_no_field() {
    let mut long = b"reload pusher=".to_vec();
    long.resize(MAX_LINE_BYTES + 1, b'x');
    assert_eq!(of_bytes(&long), Notice::default());
    assert_eq!(of_bytes(b"reload pusher=\xff\xfe\n"), Notice::default());
    assert_eq!(
        of_bytes(b"reload rev=ab pusher=al\ntrailing junk"),
        notice(Some("al"), &["ab"])
    );
}

#[test]
fn the_pushes_remember_the_newest_revisions_only() {
    let pushes = Pushes::default();
    pushes.note(&notice(None, &["r0"]));
    assert_eq!(pushes.pusher_of("r0"), None);
    for i in 0..REMEMBERED + 1 {
        pushes.note(&notice(Some(&format!("p{i}")), &[&format!("r{i}")]));
    }
    assert_eq!(pushes.pusher_of("r0"), None, "the oldest is forgotten");
    assert_eq!(pushes.pusher_of("r1").as_deref(), Some("p1"));
    pushes.note(&notice(Some("later"), &["r1"]));
    assert_eq!(pushes.pusher_of("r1").as_deref(), Some("later"));
    let last = format!("r{REMEMBERED}");
    assert_eq!(pushes.pusher_of(&last), Some(format!("p{REMEMBERED}")));
}

#[tokio::test]
async fn a_silent_connection_is_given_up_after_the_timeout() {
    let (client, server) = tokio::net::UnixStream::pair().expect("pair");
    tokio::time::pause();
    let read = tokio::spawn(read(server));
    tokio::time::advance(READ_TIMEOUT + Duration::from_millis(10)).await;
    assert_eq!(read.await.expect("read"), Notice::default());
    drop(client);
}
