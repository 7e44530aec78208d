//! A syntax check of an LDAP search filter (RFC 4515), so that a filter
//! that would not parse is a diagnostic at its `groups.xml` entry rather
//! than a failed sync: parentheses, `&`, `|`, `!`, the item forms (`=`,
//! `~=`, `>=`, `<=`, presence `=*`, substrings, extensible matches such as
//! Active Directory's `memberOf:1.2.840.113556.1.4.1941:=`), `\XX`
//! escapes. Bounded: the text's length first, then the nesting depth as
//! it is read (the checker recurses only into parentheses, one frame per
//! level, so at most `max_depth` frames). The filter is only checked,
//! never rewritten. A leaf of `directory`.

use std::fmt;

/// Why a filter was refused: what and at which byte of the text as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.at)
    }
}

impl std::error::Error for FilterError {}

/// The deepest nesting a filter may have, whatever `max_depth` says: the
/// check recurses once per level.
pub const MAX_FILTER_DEPTH_CEILING: usize = 64;

/// Check `text` as one RFC 4515 filter, at most `max_bytes` long and
/// `max_depth` parentheses deep (capped at [`MAX_FILTER_DEPTH_CEILING`]).
pub fn check(text: &str, max_bytes: usize, max_depth: usize) -> Result<(), FilterError> {
    if text.len() > max_bytes {
        return Err(FilterError {
            at: 0,
            message: format!(
                "the filter is {} bytes long; at most {max_bytes} are allowed",
                text.len()
            ),
        });
    }
    let mut c = Checker {
        s: text.as_bytes(),
        i: 0,
        max_depth: max_depth.min(MAX_FILTER_DEPTH_CEILING),
    };
    if c.peek() != Some(b'(') {
        return c.fail("a filter starts with `(`, e.g. `(department=QA)`");
    }
    c.filter(1)?;
    if c.i < c.s.len() {
        return c.fail("text after the filter's closing `)`");
    }
    Ok(())
}

struct Checker<'a> {
    s: &'a [u8],
    i: usize,
    max_depth: usize,
}

impl Checker<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError {
            at: self.i,
            message: message.into(),
        })
    }

    fn expect(&mut self, b: u8, what: &str) -> Result<(), FilterError> {
        if self.peek().is_none() && b == b')' {
            return self.fail("the filter ends before its closing `)`");
        }
        if self.peek() != Some(b) {
            return self.fail(format!("expected {what}"));
        }
        self.i += 1;
        Ok(())
    }

    /// `( filtercomp )` at nesting `depth`.
    fn filter(&mut self, depth: usize) -> Result<(), FilterError> {
        if depth > self.max_depth {
            return self.fail(format!(
                "the filter is nested deeper than {} levels",
                self.max_depth
            ));
        }
        self.expect(b'(', "`(`")?;
        match self.peek() {
            Some(b'&' | b'|') => {
                self.i += 1;
                if self.peek() != Some(b'(') {
                    return self.fail("`&` and `|` need at least one filter in parentheses");
                }
                while self.peek() == Some(b'(') {
                    self.filter(depth + 1)?;
                }
            }
            Some(b'!') => {
                self.i += 1;
                if self.peek() != Some(b'(') {
                    return self.fail("`!` needs one filter in parentheses");
                }
                self.filter(depth + 1)?;
            }
            _ => self.item()?,
        }
        self.expect(b')', "`)`")
    }

    /// `attr op value`, or an extensible match.
    fn item(&mut self) -> Result<(), FilterError> {
        if self.peek() == Some(b':') {
            return self.extensible(false);
        }
        self.attribute_description()?;
        match self.peek() {
            Some(b'=') => {
                self.i += 1;
                self.substrings()
            }
            Some(b'~' | b'>' | b'<') => {
                self.i += 1;
                self.expect(b'=', "`=` after `~`, `>` or `<`")?;
                self.value(false)
            }
            Some(b':') => self.extensible(true),
            _ => self.fail("expected `=`, `~=`, `>=`, `<=` or `:` after the attribute"),
        }
    }

    /// `[:dn] [:oid] :=value` (with an attribute before it, or without:
    /// then the matching rule is required).
    fn extensible(&mut self, has_attribute: bool) -> Result<(), FilterError> {
        let mut rule = false;
        if self.s[self.i..].starts_with(b":dn:") || self.s[self.i..].starts_with(b":DN:") {
            self.i += 3;
        }
        if self.s.get(self.i + 1) != Some(&b'=') {
            self.expect(b':', "`:`")?;
            self.oid_or_descr("a matching rule")?;
            rule = true;
        }
        if !has_attribute && !rule {
            return self.fail("an extensible match without attribute names a matching rule");
        }
        self.expect(b':', "`:=`")?;
        self.expect(b'=', "`:=`")?;
        self.value(false)
    }

    /// `type *(;option)`.
    fn attribute_description(&mut self) -> Result<(), FilterError> {
        self.oid_or_descr("an attribute (`uid`, `memberOf`, `2.5.4.3`…)")?;
        while self.peek() == Some(b';') {
            self.i += 1;
            let start = self.i;
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-')
            {
                self.i += 1;
            }
            if self.i == start {
                return self.fail("an empty attribute option after `;`");
            }
        }
        Ok(())
    }

    /// A descriptor (`uid`) or a numeric OID (`1.2.840.113556.1.4.1941`).
    fn oid_or_descr(&mut self, what: &str) -> Result<(), FilterError> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        {
            self.i += 1;
        }
        let t = &self.s[start..self.i];
        let descr = t.first().is_some_and(u8::is_ascii_alphabetic)
            && t.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-');
        let oid = t.first().is_some_and(u8::is_ascii_digit)
            && t.split(|c| *c == b'.')
                .all(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit));
        if descr || oid {
            return Ok(());
        }
        self.i = start;
        self.fail(format!("expected {what}"))
    }

    /// After `attr=`: a value, `*` (presence) or substrings (`a*b*c`,
    /// `*a*`), no two `*` in a row.
    fn substrings(&mut self) -> Result<(), FilterError> {
        let mut last_star = false;
        loop {
            match self.peek() {
                Some(b'*') => {
                    if last_star {
                        return self.fail("an empty substring between two `*`");
                    }
                    last_star = true;
                    self.i += 1;
                }
                Some(b')') | None => return Ok(()),
                _ => {
                    last_star = false;
                    self.value(true)?;
                }
            }
        }
    }

    /// A value up to `)` (or `*` when `stop_at_star`): no `(`, no NUL or
    /// other control character, `\` only as `\XX`.
    fn value(&mut self, stop_at_star: bool) -> Result<(), FilterError> {
        while let Some(c) = self.peek() {
            match c {
                b')' => return Ok(()),
                b'*' if stop_at_star => return Ok(()),
                b'*' => return self.fail("`*` is allowed only after `=`; write `\\2a` for a star"),
                b'(' => return self.fail("`(` in a value must be written `\\28`"),
                b'\\' => {
                    let hex = |k: usize| self.s.get(self.i + k).is_some_and(u8::is_ascii_hexdigit);
                    if !(hex(1) && hex(2)) {
                        return self.fail("`\\` in a value must be followed by two hex digits");
                    }
                    self.i += 2;
                }
                c if c < 0x20 || c == 0x7f => {
                    return self.fail("a control character in a filter");
                }
                _ => {}
            }
            self.i += 1;
        }
        self.fail("the filter ends before its closing `)`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(f: &str) -> bool {
        check(f, 4096, 8).is_ok()
    }

    #[test]
    fn the_forms_of_rfc_4515_parse() {
        let good = [
            "(department=QA)",
            "(cn=Babs Jensen)",
            "(!(cn=Tim Howes))",
            "(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))",
            "(o=univ*of*mich*)",
            "(seeAlso=)",
            "(cn=*)",
            "(cn=*a*)",
            "(cn~=jensen)",
            "(uidNumber>=1000)",
            "(uidNumber<=1000)",
            "(cn:caseExactMatch:=Fred Flintstone)",
            "(cn:=Betty Rubble)",
            "(sn:dn:2.4.6.8.10:=Barney Rubble)",
            "(o:dn:=Ace Industry)",
            "(:1.2.3:=Wilma Flintstone)",
            "(:DN:2.4.6.8.10:=Dino)",
            "(memberOf:1.2.840.113556.1.4.1941:=cn=qa,ou=groups,dc=example,dc=org)",
            "(o=Parens R Us \\28for all your parenthetical needs\\29)",
            "(cn=*\\2A*)",
            "(filename=C:\\5cMyFile)",
            "(sn=Lu\\c4\\8di\\c4\\87)",
            "(cn;lang-de=Jürgen)",
        ];
        for f in good {
            assert!(ok(f), "{f}: {:?}", check(f, 4096, 8));
        }
    }

    #[test]
    fn broken_filters_are_refused_where_they_break() {
        let bad = [
            ("department=QA", 0, "starts with"),
            ("(department=QA", 14, "closing"),
            ("(department=QA))", 15, "after the filter"),
            ("()", 1, "attribute"),
            ("(&)", 2, "at least one"),
            ("(|uid=a)", 2, "at least one"),
            ("(!)", 2, "`!`"),
            ("(cn=a(b)", 5, "\\28"),
            ("(cn=a\\zz)", 5, "hex"),
            ("(cn=a**b)", 6, "empty substring"),
            ("(cn~=a*)", 6, "`*`"),
            ("(cn>a)", 4, "`=`"),
            ("(=a)", 1, "attribute"),
            ("(1x=a)", 1, "attribute"),
            ("(:=a)", 1, "matching rule"),
            ("(cn=a\u{0}b)", 5, "control"),
            ("(cn;=a)", 4, "option"),
            ("(&(a=b)(c=d)", 12, "closing `)`"),
        ];
        for (f, at, why) in bad {
            let e = check(f, 4096, 8).expect_err(f);
            assert!(e.message.contains(why), "{f}: {e}");
            assert_eq!(e.at, at, "{f}: {e}");
        }
    }

    #[test]
    fn depth_and_length_are_bounded() {
        let nested = |n: usize| format!("{}(a=b){}", "(!".repeat(n), ")".repeat(n));
        assert!(check(&nested(7), 4096, 8).is_ok());
        let e = check(&nested(8), 4096, 8).expect_err("nine levels");
        assert!(e.message.contains("deeper than 8"), "{e}");
        // A hostile depth is refused at the bound, not by the stack.
        assert!(check(&nested(100_000), usize::MAX, 8).is_err());
        // So is one whose configured bound is hostile: the ceiling holds.
        let e = check(&nested(100_000), usize::MAX, usize::MAX).expect_err("deep");
        assert!(e.message.contains("deeper than 64"), "{e}");
        assert!(check(&nested(63), 4096, usize::MAX).is_ok());
        let e = check(&format!("(cn={})", "a".repeat(100)), 50, 8).expect_err("long");
        assert!(e.message.contains("at most 50"), "{e}");
    }
}
