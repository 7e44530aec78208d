use super::*;

fn sample() -> Cached {
    Cached {
        identity: "svn 1234 /srv/svn/config /".to_owned(),
        revision: "42".to_owned(),
        entries: Some(12_105),
        files: [
            (".polarion/access", b"[/]\n* = r\n".to_vec()),
            (
                ".polarion/security/user-roles.xml",
                b"<userRoles/>".to_vec(),
            ),
            ("Dept A/lib/.polarion/polarion-project.xml", Vec::new()),
        ]
        .into_iter()
        .map(|(p, b)| (p.to_owned(), b.into()))
        .collect(),
    }
}

fn enc(c: &Cached) -> Vec<u8> {
    encode(&c.identity, &c.revision, c.entries, &c.files)
}

const BOUND: usize = 1 << 20;

#[test]
fn a_cache_reads_back_as_it_was_written() {
    let c = sample();
    assert_eq!(decode(&enc(&c), BOUND), Ok(c));
    let empty = Cached::default();
    assert_eq!(decode(&enc(&empty), BOUND), Ok(empty));
}

#[test]
fn every_truncation_is_refused() {
    let bytes = enc(&sample());
    for len in 0..bytes.len() {
        assert!(decode(&bytes[..len], BOUND).is_err(), "cut at {len}");
    }
}

#[test]
fn a_changed_byte_anywhere_is_refused() {
    let bytes = enc(&sample());
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x20;
        assert!(decode(&bad, BOUND).is_err(), "byte {i} flipped");
    }
}

#[test]
fn another_format_version_is_refused() {
    let mut bytes = enc(&sample());
    // Version 1 (no entry count) reads as no cache.
    bytes[MAGIC.len()] = 1;
    assert_eq!(decode(&bytes, BOUND), Err(CacheError::Version(1)));
    assert_eq!(
        decode(b"<xml>not a cache at all</xml>", BOUND),
        Err(CacheError::Magic)
    );
}

#[test]
fn a_cache_over_the_bound_is_refused() {
    let mut c = sample();
    c.files.insert(
        ".polarion/security/roles.xml".to_owned(),
        vec![b' '; 1000].into(),
    );
    let bytes = enc(&c);
    // The files together pass the bound on the files...
    assert!(matches!(
        decode(&bytes, 1000),
        Err(CacheError::TooLarge(_, 1000))
    ));
    // ... or the file passes the bound on the whole.
    assert!(matches!(
        decode(&vec![0; bound(10) + 1], 10),
        Err(CacheError::TooLarge(..))
    ));
    assert!(decode(&bytes, 2000).is_ok());
}

/// A valid checksum over a body that lies about its lengths or order.
fn resealed(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&Sha256::digest(body));
    out
}

#[test]
fn a_well_sealed_but_malformed_body_is_refused() {
    let good = enc(&sample());
    let body = &good[..good.len() - CHECKSUM_BYTES];
    // A file count larger than the files there.
    let mut more = body.to_vec();
    let at = MAGIC.len() + 4 + 4 + sample().identity.len() + 4 + 2 + 8;
    more[at..at + 4].copy_from_slice(&100u32.to_le_bytes());
    assert_eq!(decode(&resealed(&more), BOUND), Err(CacheError::Truncated));
    // Bytes after the last file.
    let mut trailing = body.to_vec();
    trailing.push(0);
    assert_eq!(
        decode(&resealed(&trailing), BOUND),
        Err(CacheError::Trailing)
    );
}

#[test]
fn load_refuses_a_cache_of_another_source_and_a_missing_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(matches!(
        load(dir.path(), "x", BOUND),
        Err(CacheError::Io(_))
    ));
    let c = sample();
    store(
        dir.path(),
        &c.identity,
        (&c.revision, c.entries),
        &c.files,
        BOUND,
    )
    .expect("stored");
    assert_eq!(load(dir.path(), &c.identity, BOUND), Ok(c.clone()));
    assert_eq!(
        load(dir.path(), "git /elsewhere main /", BOUND),
        Err(CacheError::OtherSource(c.identity.clone()))
    );
    // Not written beyond the bound.
    assert!(
        store(
            dir.path(),
            &c.identity,
            (&c.revision, c.entries),
            &c.files,
            4
        )
        .is_err()
    );
}
