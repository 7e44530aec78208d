//! One search, read whole or refused: paged (RFC 2696, ldap3's
//! `PagedResults`) when `page_size` is set, every entry parsed here from
//! its BER tags (ldap3's `SearchEntry::construct` panics on a malformed
//! entry) keeping only the attributes asked for, each value and DN within
//! `max_value_bytes`, every entry counted against `max_entries`. A size or
//! time limit, a referral or a continuation reference is an incomplete
//! answer: an error, never a shorter list.

use std::collections::HashMap;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::asn1::{PL, StructureTag};
use ldap3::{LdapResult, Scope};

use super::connect::Session;
use super::error::{SyncError, quoted, result_text};
use super::settings::LdapSettings;

/// One entry as read: its DN and the asked-for attributes, by lowercase name.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub dn: String,
    pub attrs: HashMap<String, Vec<String>>,
}

impl Entry {
    /// The values of an attribute (its lowercase name).
    pub fn values(&self, name: &str) -> &[String] {
        self.attrs.get(name).map(Vec::as_slice).unwrap_or_default()
    }
}

/// Searches on one session, counting what they read.
#[derive(Debug)]
pub(crate) struct Reader<'s> {
    pub session: Session,
    pub settings: &'s LdapSettings,
    /// Entries read so far (and base lookups made), against `max_entries`.
    pub read: usize,
}

type Attrs = Vec<String>;

impl Reader<'_> {
    /// The entries below (or at, for `Scope::Base`) `base` matching
    /// `filter`; `None` when `base` does not exist.
    pub async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Option<Vec<Entry>>, SyncError> {
        let url = self.session.url.clone();
        let fail = |why: String| SyncError::Search {
            url: url.clone(),
            base: base.to_owned(),
            why,
        };
        let wanted: Attrs = attrs.iter().map(|a| a.to_ascii_lowercase()).collect();
        let mut adapters: Vec<Box<dyn Adapter<'_, String, Attrs>>> =
            vec![Box::new(EntriesOnly::new())];
        let page_size = self.settings.page_size;
        if page_size > 0 && scope != Scope::Base {
            let size = i32::try_from(page_size).unwrap_or(i32::MAX);
            adapters.push(Box::new(PagedResults::new(size)));
        }
        let mut stream = self
            .session
            .ldap
            .streaming_search_with(adapters, base, scope, filter, wanted.clone())
            .await
            .map_err(|e| fail(quoted(&e.to_string())))?;
        let mut entries = Vec::new();
        loop {
            let item = stream
                .next()
                .await
                .map_err(|e| fail(quoted(&e.to_string())))?;
            let Some(item) = item else { break };
            self.count(base)?;
            entries.push(self.entry(item.0, &wanted)?);
        }
        let result = stream.finish().await;
        self.judge(base, result, entries)
    }

    /// The server's closing word on a search.
    fn judge(
        &self,
        base: &str,
        result: LdapResult,
        entries: Vec<Entry>,
    ) -> Result<Option<Vec<Entry>>, SyncError> {
        let incomplete = |why: String| SyncError::Incomplete {
            url: self.session.url.clone(),
            base: base.to_owned(),
            why,
        };
        match result.rc {
            0 if result.refs.is_empty() => Ok(Some(entries)),
            0 => Err(incomplete(format!(
                "continuation references not followed: {}",
                quoted(&result.refs.join(" "))
            ))),
            32 => Ok(None),
            3 | 4 | 11 => Err(incomplete(format!(
                "{} (page_size = {}; a limit of the server, paged results off or refused)",
                result_text(&result),
                self.settings.page_size
            ))),
            10 => Err(incomplete(format!(
                "a referral not followed: {}",
                quoted(&result.refs.join(" "))
            ))),
            _ => Err(SyncError::Search {
                url: self.session.url.clone(),
                base: base.to_owned(),
                why: result_text(&result),
            }),
        }
    }

    /// Counts one more entry (or lookup) against `max_entries`.
    pub fn count(&mut self, at: &str) -> Result<(), SyncError> {
        self.read += 1;
        if self.read > self.settings.max_entries {
            return Err(self.bound(
                at,
                "the entries read",
                "max_entries",
                self.settings.max_entries,
            ));
        }
        Ok(())
    }

    pub fn bound(&self, dn: &str, what: &str, bound: &'static str, limit: usize) -> SyncError {
        SyncError::Bound {
            url: self.session.url.clone(),
            dn: dn.to_owned(),
            what: what.to_owned(),
            bound,
            limit,
        }
    }

    pub fn malformed(&self, dn: &str, why: String) -> SyncError {
        SyncError::Malformed {
            url: self.session.url.clone(),
            dn: dn.to_owned(),
            why,
        }
    }

    /// A SearchResultEntry ([APPLICATION 4] { dn, { { type, { value } } } }).
    fn entry(&self, tag: StructureTag, wanted: &[String]) -> Result<Entry, SyncError> {
        let bad = |why: &str| self.malformed("?", why.to_owned());
        let mut parts = constructed(tag.match_id(4))
            .ok_or_else(|| bad("not a search entry"))?
            .into_iter();
        let dn = parts
            .next()
            .and_then(|t| primitive(Some(t)))
            .ok_or_else(|| bad("no DN"))?;
        let dn = self.text(dn, "?", "the DN")?;
        let list = constructed(parts.next()).ok_or_else(|| bad("no attribute list"))?;
        let mut attrs: HashMap<String, Vec<String>> = HashMap::new();
        for attr in list {
            let mut attr = constructed(Some(attr))
                .ok_or_else(|| self.malformed(&dn, "an attribute is not a sequence".to_owned()))?
                .into_iter();
            let name = primitive(attr.next())
                .ok_or_else(|| self.malformed(&dn, "an attribute has no name".to_owned()))?;
            let name = String::from_utf8_lossy(&name).to_ascii_lowercase();
            if !wanted.contains(&name) {
                continue;
            }
            let raw = constructed(attr.next())
                .ok_or_else(|| self.malformed(&dn, format!("{name} has no value set")))?;
            let mut values = Vec::with_capacity(raw.len());
            for v in raw {
                let v = primitive(Some(v)).ok_or_else(|| {
                    self.malformed(&dn, format!("a value of {name} is not a string"))
                })?;
                values.push(self.text(v, &dn, &name)?);
            }
            // An attribute may come in more than one part: all are kept.
            attrs.entry(name).or_default().extend(values);
        }
        Ok(Entry { dn, attrs })
    }

    /// A DN or value: UTF-8 (RFC 4511 §4.1.2) within `max_value_bytes`.
    fn text(&self, bytes: Vec<u8>, dn: &str, what: &str) -> Result<String, SyncError> {
        let limit = self.settings.max_value_bytes;
        if bytes.len() > limit {
            let what = format!("{what} ({} bytes)", bytes.len());
            return Err(self.bound(dn, &what, "max_value_bytes", limit));
        }
        String::from_utf8(bytes).map_err(|_| self.malformed(dn, format!("{what} is not UTF-8")))
    }
}

fn constructed(tag: Option<StructureTag>) -> Option<Vec<StructureTag>> {
    match tag?.payload {
        PL::C(tags) => Some(tags),
        PL::P(_) => None,
    }
}

fn primitive(tag: Option<StructureTag>) -> Option<Vec<u8>> {
    match tag?.payload {
        PL::P(bytes) => Some(bytes),
        PL::C(_) => None,
    }
}
