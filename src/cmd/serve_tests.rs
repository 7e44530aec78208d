//! The example configuration file (`packaging/rolesync.toml.example`)
//! against the parser: it parses as shipped and with every commented key
//! turned on, and it names every key the parser knows, no more.

use std::collections::BTreeSet;

use serde::Deserialize as _;
use serde::de::{self, Visitor};

use super::{FileConfig, HoldBackFile, HttpFile};

const EXAMPLE: &str = include_str!("../../packaging/rolesync.toml.example");

/// A deserializer that only records the field names a struct asks for.
struct Fields(Vec<&'static str>);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stop")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for &mut Fields {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        self.0.extend_from_slice(fields);
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// Every key the parser knows: the top level's and `http.*`.
fn known_keys() -> BTreeSet<String> {
    let mut top = Fields(Vec::new());
    let _ = FileConfig::deserialize(&mut top);
    let mut http = Fields(Vec::new());
    let _ = HttpFile::deserialize(&mut http);
    assert!(
        top.0.len() > 30 && http.0.len() > 5,
        "the probe saw the fields"
    );
    let mut ldap = Fields(Vec::new());
    let _ = crate::ldap::LdapSettings::deserialize(&mut ldap);
    let _ = HoldBackFile::deserialize(&mut ldap);
    let top = top
        .0
        .into_iter()
        .filter(|k| *k != "http" && *k != "ldap")
        .map(str::to_owned);
    top.chain(http.0.iter().map(|k| format!("http.{k}")))
        .chain(ldap.0.iter().map(|k| format!("ldap.{k}")))
        .collect()
}

/// The example with every commented-out `# key = value` line turned on.
fn everything_on() -> String {
    EXAMPLE
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if is_setting(rest) => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `key = value`, a key being lowercase letters and `_`.
fn is_setting(line: &str) -> bool {
    line.split_once(" = ").is_some_and(|(key, _)| {
        !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    })
}

/// The keys set in `text`, `http.*` for the `[http]` table's.
fn keys_of(text: &str) -> BTreeSet<String> {
    let table: toml::Table = toml::from_str(text).expect("the example is TOML");
    let mut keys = BTreeSet::new();
    for (key, value) in table {
        match value.as_table() {
            Some(inner) => keys.extend(inner.keys().map(|k| format!("{key}.{k}"))),
            None => {
                keys.insert(key);
            }
        }
    }
    keys
}

#[test]
fn the_example_parses_as_shipped_and_with_every_key_on() {
    let shipped: FileConfig = toml::from_str(EXAMPLE).expect("the example parses");
    assert!(shipped.http.limits().is_ok());
    let all: FileConfig = toml::from_str(&everything_on()).expect("every key parses");
    assert!(all.http.limits().is_ok());
    assert!(super::limits(&crate::cli::ServeArgs::default(), &all).max_build_threads >= 1);
    assert!(super::ldap_table(&shipped).expect("no directory").is_none());
    let (ldap, rail) = super::ldap_table(&all)
        .expect("every [ldap] key")
        .expect("a directory");
    assert_eq!(ldap.urls.len(), 2);
    assert_eq!(rail, crate::rails::directory::HoldBack::default());
}

#[test]
fn the_ldap_table_is_checked_and_split_between_client_and_rail() {
    let parse = |ldap: &str| -> anyhow::Result<_> {
        let file: FileConfig = toml::from_str(&format!(
            "[ldap]\nurls = [\"ldap://127.0.0.1:389\"]\nbase_dn = \"dc=example,dc=org\"\n{ldap}"
        ))?;
        super::ldap_table(&file)
    };
    let (ldap, rail) =
        parse("max_removed_share = 0.5\nmax_removed_floor = 3\nsync_interval = \"30s\"")
            .expect("valid")
            .expect("a directory");
    assert_eq!(ldap.sync_interval, std::time::Duration::from_secs(30));
    assert_eq!((rail.max_removed_share, rail.max_removed_floor), (0.5, 3));
    let error = |ldap: &str| format!("{:#}", parse(ldap).expect_err(ldap));
    assert!(error("max_removed_share = 1.5").contains("not between 0 and 1"));
    assert!(error("max_removed_share = \"all\"").contains("max_removed_share"));
    assert!(error("max_removed = 3").contains("max_removed"));
    assert!(error("urls = []").contains("urls"));
}

#[test]
fn the_example_names_every_key_the_parser_knows() {
    assert_eq!(keys_of(&everything_on()), known_keys());
}

/// SIGHUP knows what to do with every key: apply it or say it needs a
/// restart (`token_file` is the live `token`, `remote_poll` the live
/// `poll_interval` of a follower).
#[test]
fn sighup_classifies_every_key_as_live_or_restart_only() {
    let file = FileConfig::default();
    let args = crate::cli::ServeArgs::default();
    let live = super::live(&args, &file, false, std::time::Duration::ZERO).expect("defaults");
    let mut classified: BTreeSet<String> = live.shown().iter().map(|s| s.key.to_owned()).collect();
    classified.extend(super::fixed(&args, &file).iter().map(|s| s.key.to_owned()));
    let renamed = |k: &str| match k {
        "token_file" => "token".to_owned(),
        "remote_poll" => "poll_interval".to_owned(),
        k => k.to_owned(),
    };
    let known: BTreeSet<String> = known_keys().iter().map(|k| renamed(k)).collect();
    assert_eq!(known, classified);
}
