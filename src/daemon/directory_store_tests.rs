//! `directory.snapshot`: round trips, and every way a file is refused.

use super::*;

fn sample() -> DirectorySnapshot {
    let member = |login: &str, via: &[&str]| Member {
        login: login.to_owned(),
        via: via.iter().map(|s| (*s).to_owned()).collect(),
    };
    let groups = BTreeMap::from([
        (
            GroupRef::Dn("cn=qa,ou=groups,dc=example,dc=org".to_owned()),
            GroupAnswer::Members(vec![
                member("alice", &[]),
                member("bob", &["cn=qa-leads,ou=groups,dc=example,dc=org"]),
            ]),
        ),
        (
            GroupRef::Search {
                base: "ou=people,dc=example,dc=org".to_owned(),
                filter: "(departmentNumber=42)".to_owned(),
            },
            GroupAnswer::NotFound,
        ),
    ]);
    let accounts = BTreeMap::from([
        ("alice".to_owned(), AccountState::Active),
        (
            "bob".to_owned(),
            AccountState::Locked {
                by: "pwdAccountLockedTime".to_owned(),
            },
        ),
    ]);
    DirectorySnapshot::new(groups, Some(accounts))
}

#[test]
fn an_answer_round_trips_through_the_file() {
    let s = sample();
    assert_eq!(decode(&encode(&s)), Ok(s));
    let no_state = DirectorySnapshot::new(sample().groups, None);
    assert_eq!(decode(&encode(&no_state)), Ok(no_state));
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(matches!(load(dir.path()), Err(StoreError::Io(_))));
    store(dir.path(), &sample()).expect("stored");
    assert_eq!(load(dir.path()), Ok(sample()));
}

#[test]
fn a_damaged_or_foreign_file_is_refused() {
    let bytes = encode(&sample());
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    let header_end = text.find('\n').expect("header");
    let cases: Vec<(Vec<u8>, StoreError)> = vec![
        (b"RSCACHE\0".to_vec(), StoreError::Magic),
        (
            text.replacen(" 1 ", " 2 ", 1).into_bytes(),
            StoreError::Version("2".into()),
        ),
        (
            text.replacen("alice", "mallo", 1).into_bytes(),
            StoreError::Checksum,
        ),
        (bytes[..bytes.len() - 1].to_vec(), StoreError::Checksum),
        (
            vec![b'x'; MAX_BYTES + 1],
            StoreError::TooLarge(MAX_BYTES + 1, MAX_BYTES),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(decode(&bytes), Err(want));
    }
    // Content changed and the checksum made again: the revision says no.
    let body = text[header_end + 1..].replacen("alice", "mallo", 1);
    let forged = format!(
        "{MAGIC} {VERSION} {:x}\n{body}",
        Sha256::digest(body.as_bytes())
    );
    assert_eq!(decode(forged.as_bytes()), Err(StoreError::Revision));
    let junk = "{\"revision\":\"x\",\"groups\":[{\"members\":null}],\"accounts\":null}";
    let junk = format!(
        "{MAGIC} {VERSION} {:x}\n{junk}",
        Sha256::digest(junk.as_bytes())
    );
    assert!(matches!(
        decode(junk.as_bytes()),
        Err(StoreError::Malformed(_))
    ));
}
