//! A distinguished name (RFC 4514) in the one form rolesync keys on:
//! attribute types case-folded, the spaces around `=`, `,` and `+`
//! dropped, every value (and each escape in it) kept as written. Anything
//! the RFC does not allow — an empty DN or value, an unescaped special
//! character, a bad escape, a `;` separator, a control character — is
//! refused with the position of the first problem. A leaf of `directory`.

use std::fmt;

/// Why a DN was refused: what and at which byte of the text as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for DnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.at)
    }
}

impl std::error::Error for DnError {}

fn err<T>(at: usize, message: impl Into<String>) -> Result<T, DnError> {
    Err(DnError {
        at,
        message: message.into(),
    })
}

/// `text` as a normalised DN, or why it is none. `max_bytes` bounds the
/// text before anything else is looked at.
pub fn normalise(text: &str, max_bytes: usize) -> Result<String, DnError> {
    if text.len() > max_bytes {
        return err(
            0,
            format!(
                "the DN is {} bytes long; at most {max_bytes} are allowed",
                text.len()
            ),
        );
    }
    if text.trim().is_empty() {
        return err(0, "the DN is empty");
    }
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        out: String::with_capacity(text.len()),
    };
    p.dn()?;
    Ok(p.out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    out: String,
}

/// Characters a value must escape (RFC 4514 §2.4, `;` for RFC 1779's
/// separator, which is refused rather than read as `,`).
const SPECIAL: &[u8] = b"\"+,;<>\\=#";

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn dn(&mut self) -> Result<(), DnError> {
        loop {
            self.ava()?;
            match self.peek() {
                None => return Ok(()),
                Some(b',') => self.out.push(','),
                Some(b'+') => self.out.push('+'),
                Some(b';') => return err(self.i, "`;` separates RDNs only in old DNs; write `,`"),
                Some(c) => {
                    return err(self.i, format!("unexpected `{}`", char::from(c)));
                }
            }
            self.i += 1;
        }
    }

    /// `type=value`, with the spaces around both dropped.
    fn ava(&mut self) -> Result<(), DnError> {
        self.skip_spaces();
        self.attribute_type()?;
        self.skip_spaces();
        if self.peek() != Some(b'=') {
            return err(self.i, "expected `=` after the attribute type");
        }
        self.i += 1;
        self.out.push('=');
        self.skip_spaces();
        self.value()
    }

    fn attribute_type(&mut self) -> Result<(), DnError> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if !(c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
                break;
            }
            self.i += 1;
        }
        let t = &self.s[start..self.i];
        let descr = t.first().is_some_and(u8::is_ascii_alphabetic)
            && t.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-');
        let oid = t.first().is_some_and(u8::is_ascii_digit)
            && t.split(|c| *c == b'.').all(|n| {
                !n.is_empty() && n.iter().all(u8::is_ascii_digit) && (n.len() == 1 || n[0] != b'0')
            });
        if !(descr || oid) {
            return err(start, "expected an attribute type (`cn`, `ou`, `2.5.4.3`…)");
        }
        let t = std::str::from_utf8(t).expect("checked: ASCII only");
        self.out.push_str(&t.to_ascii_lowercase());
        Ok(())
    }

    /// A value up to the next unescaped `,` or `+` (or the end), its
    /// trailing unescaped spaces dropped.
    fn value(&mut self) -> Result<(), DnError> {
        let start = self.i;
        if self.peek() == Some(b'#') {
            return self.hex_value(start);
        }
        // Where the value ends once unescaped trailing spaces are dropped.
        let mut end = start;
        while let Some(c) = self.peek() {
            match c {
                b',' | b'+' | b';' => break,
                b'\\' => {
                    self.escape()?;
                    end = self.i;
                    continue;
                }
                b' ' => {}
                c if c < 0x20 || c == 0x7f => {
                    return err(self.i, "a control character in a DN");
                }
                b'"' | b'<' | b'>' => {
                    return err(
                        self.i,
                        format!("`{}` must be escaped in a value", char::from(c)),
                    );
                }
                _ => end = self.i + 1,
            }
            self.i += 1;
        }
        if end == start {
            return err(start, "an attribute value is empty");
        }
        let v = std::str::from_utf8(&self.s[start..end]).expect("a slice of a str at ASCII bytes");
        self.out.push_str(v);
        Ok(())
    }

    /// `\` and a special character or two hex digits.
    fn escape(&mut self) -> Result<(), DnError> {
        let at = self.i;
        let next = self.s.get(at + 1).copied();
        let hex = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_hexdigit());
        if hex(next) && hex(self.s.get(at + 2).copied()) {
            self.i += 3;
        } else if next.is_some_and(|c| c == b' ' || SPECIAL.contains(&c)) {
            self.i += 2;
        } else {
            return err(
                at,
                "`\\` must be followed by a special character or two hex digits",
            );
        }
        Ok(())
    }

    /// `#` and an even number of hex digits (a BER value).
    fn hex_value(&mut self, start: usize) -> Result<(), DnError> {
        self.i += 1;
        while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
            self.i += 1;
        }
        let digits = self.i - start - 1;
        if digits == 0 || digits % 2 == 1 {
            return err(start, "a `#` value needs pairs of hex digits");
        }
        let v = std::str::from_utf8(&self.s[start..self.i]).expect("ASCII");
        self.out.push_str(v);
        self.skip_spaces();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> Result<String, String> {
        normalise(s, 1024).map_err(|e| e.message)
    }

    #[test]
    fn types_are_case_folded_and_spaces_dropped_values_kept() {
        assert_eq!(
            norm(" CN = QA Team , OU=Groups,  DC=Example ,dc=org ").as_deref(),
            Ok("cn=QA Team,ou=Groups,dc=Example,dc=org")
        );
        assert_eq!(norm("cn=a + uid=b,dc=x").as_deref(), Ok("cn=a+uid=b,dc=x"));
        assert_eq!(norm("2.5.4.3=qa").as_deref(), Ok("2.5.4.3=qa"));
    }

    #[test]
    fn escapes_are_kept_as_written() {
        assert_eq!(
            norm(r"cn=Smith\, John,dc=x").as_deref(),
            Ok(r"cn=Smith\, John,dc=x")
        );
        assert_eq!(norm(r"cn=a\2Cb,dc=x").as_deref(), Ok(r"cn=a\2Cb,dc=x"));
        // An escaped trailing space is part of the value.
        assert_eq!(norm(r"cn=a\ , dc=x").as_deref(), Ok(r"cn=a\ ,dc=x"));
        assert_eq!(
            norm("cn=#04024869,dc=x").as_deref(),
            Ok("cn=#04024869,dc=x")
        );
        assert_eq!(norm("cn=a=b,dc=x").as_deref(), Ok("cn=a=b,dc=x"));
        assert_eq!(norm("cn=Jürgen,dc=x").as_deref(), Ok("cn=Jürgen,dc=x"));
    }

    #[test]
    fn broken_dns_are_refused_with_their_reason() {
        let refused = [
            ("", "empty"),
            ("   ", "empty"),
            ("cn=", "empty"),
            ("cn=a,", "attribute type"),
            ("=a", "attribute type"),
            ("cn", "expected `=`"),
            ("cn=a;dc=x", "`;`"),
            ("cn=a\"b", "escaped"),
            ("cn=a<b", "escaped"),
            (r"cn=a\q", "`\\`"),
            (r"cn=a\", "`\\`"),
            ("cn=#0", "hex"),
            ("cn=a\nb", "control"),
            ("1cn=a", "attribute type"),
            ("01.2=a", "attribute type"),
            ("cn=a,,dc=x", "attribute type"),
        ];
        for (dn, why) in refused {
            let e = norm(dn).expect_err(dn);
            assert!(e.contains(why), "{dn:?}: {e}");
        }
        assert!(normalise(&"cn=a,".repeat(300), 1024).is_err());
    }
}
