//! A policy-test file (TOML) → [`Assertion`]s, every problem a located
//! diagnostic: TOML syntax (`policy-test-syntax`), a table or key the
//! format does not take (`policy-test-unknown-key`), a missing key, a
//! value of the wrong type or outside its set (`policy-test-invalid`), and
//! the bounds of `Limits` (`policy-tests-too-many`). The format is in the
//! README ("Policy tests").

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::types::{Assertion, Check, Expect, Spot, Text};
use crate::authz::Access;
use crate::diag::{Code, Diagnostic, Source};
use crate::limits::Limits;
use crate::policy::{Object, RestCall};

/// The kinds of assertion, by table name, with the keys each takes.
const KINDS: &[(&str, &[&str])] = &[
    ("svn", &["user", "path", "repository", "access"]),
    (
        "permission",
        &["user", "permission", "project", "object", "expect"],
    ),
    ("rest", &["user", "call", "object", "expect"]),
    (
        "group",
        &["name", "never_empty", "has_member", "lacks_member"],
    ),
];

/// The assertions of one file, in file order. `budget` is what is left of
/// `Limits::max_test_assertions` for the revision; it is used up here.
pub fn parse(
    src: &Source,
    limits: &Limits,
    budget: &mut usize,
) -> (Vec<Assertion>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let table = match DeTable::parse(src.text) {
        Ok(t) => t,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let msg = format!("not valid TOML: {}", e.message().trim_end());
            diags.push(Spot::new(src, span).diag(Code::PolicyTestSyntax, msg));
            return (Vec::new(), diags);
        }
    };
    // Every assertion of the file, checked against the bounds in file order.
    let mut items: Vec<(&str, &Spanned<DeValue>)> = Vec::new();
    for (key, value) in table.get_ref() {
        let name = key.get_ref().as_ref();
        let Some(&(kind, _)) = KINDS.iter().find(|(k, _)| *k == name) else {
            let msg = format!(
                "unknown table `{name}`; a policy-test file holds [[svn]], [[permission]], [[rest]] and [[group]]"
            );
            diags.push(Spot::new(src, key.span()).diag(Code::PolicyTestUnknownKey, msg));
            continue;
        };
        match value.get_ref().as_array() {
            Some(array) => items.extend(array.iter().map(|v| (kind, v))),
            None => {
                let msg = format!("`{kind}` must be an array of tables: write [[{kind}]]");
                diags.push(Spot::new(src, value.span()).diag(Code::PolicyTestInvalid, msg));
            }
        }
    }
    items.sort_by_key(|(_, v)| v.span().start);
    let mut out = Vec::new();
    for (n, (kind, value)) in items.into_iter().enumerate() {
        if n >= limits.max_test_assertions_per_file || *budget == 0 {
            diags.push(too_many(src, value.span(), n, limits, *budget));
            break;
        }
        *budget -= 1;
        let at = Spot::new(src, value.span());
        let Some(table) = value.get_ref().as_table() else {
            let msg = format!("each `{kind}` must be a table: write [[{kind}]]");
            diags.push(at.diag(Code::PolicyTestInvalid, msg));
            continue;
        };
        let mut f = Fields {
            src,
            kind,
            at: &at,
            table,
            diags: &mut diags,
            ok: true,
        };
        f.unknown_keys();
        if let Some(check) = f.check()
            && f.ok
        {
            out.push(Assertion { at, check });
        }
    }
    (out, diags)
}

fn too_many(
    src: &Source,
    span: Range<usize>,
    n: usize,
    limits: &Limits,
    budget: usize,
) -> Diagnostic {
    let msg = if budget == 0 {
        format!(
            "the policy-test files of this revision hold more than the limit of {} assertions together; nothing from here on is run",
            limits.max_test_assertions
        )
    } else {
        format!(
            "this file holds more than the limit of {} assertions; nothing from assertion {} on is run",
            limits.max_test_assertions_per_file,
            n + 1
        )
    };
    Spot::new(src, span).diag(Code::PolicyTestsTooMany, msg)
}

/// The keys of one `[[kind]]` table, read with their diagnostics.
struct Fields<'a, 'i> {
    src: &'a Source<'a>,
    kind: &'static str,
    at: &'a Spot,
    table: &'a DeTable<'i>,
    diags: &'a mut Vec<Diagnostic>,
    /// False once a key of this table was refused.
    ok: bool,
}

impl<'a, 'i> Fields<'a, 'i> {
    fn invalid(&mut self, span: Range<usize>, msg: String) {
        self.ok = false;
        let d = Spot::new(self.src, span).diag(Code::PolicyTestInvalid, msg);
        self.diags.push(d);
    }

    fn unknown_keys(&mut self) {
        let allowed = KINDS
            .iter()
            .find(|(k, _)| *k == self.kind)
            .map_or(&[][..], |(_, keys)| *keys);
        for key in self.table.keys() {
            if !allowed.contains(&key.get_ref().as_ref()) {
                self.ok = false;
                let msg = format!(
                    "unknown key `{}` in [[{}]]; it takes {}",
                    key.get_ref(),
                    self.kind,
                    allowed.join(", ")
                );
                let d = Spot::new(self.src, key.span()).diag(Code::PolicyTestUnknownKey, msg);
                self.diags.push(d);
            }
        }
    }

    fn value(&self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.table.get(key)
    }

    /// An optional string.
    fn string(&mut self, key: &str) -> Option<Text> {
        let v = self.value(key)?;
        match v.get_ref().as_str() {
            Some(s) => Some(Text {
                value: s.to_owned(),
                at: Spot::new(self.src, v.span()),
            }),
            None => {
                let msg = format!("`{key}` must be a string, not {}", type_name(v.get_ref()));
                self.invalid(v.span(), msg);
                None
            }
        }
    }

    /// A string that must be there.
    fn required(&mut self, key: &str) -> Option<Text> {
        if self.value(key).is_none() {
            let msg = format!("[[{}]] needs `{key}`", self.kind);
            self.invalid(self.at.span.clone(), msg);
            return None;
        }
        self.string(key)
    }

    /// A string or a list of strings (absent: none).
    fn strings(&mut self, key: &str) -> Vec<Text> {
        match self.value(key) {
            Some(v) => self.string_list(&format!("`{key}`"), v),
            None => Vec::new(),
        }
    }

    /// `v` as a string or a list of strings; `what` names it in messages.
    fn string_list(&mut self, what: &str, v: &'a Spanned<DeValue<'i>>) -> Vec<Text> {
        let items: Vec<&Spanned<DeValue>> = match v.get_ref().as_array() {
            Some(a) => a.iter().collect(),
            None => vec![v],
        };
        let mut out = Vec::new();
        for item in items {
            match item.get_ref().as_str() {
                Some(s) => out.push(Text {
                    value: s.to_owned(),
                    at: Spot::new(self.src, item.span()),
                }),
                None => {
                    let msg = format!(
                        "{what} must be a string or a list of strings, not {}",
                        type_name(item.get_ref())
                    );
                    self.invalid(item.span(), msg);
                }
            }
        }
        out
    }

    fn boolean(&mut self, key: &str) -> bool {
        let Some(v) = self.value(key) else {
            return false;
        };
        match v.get_ref().as_bool() {
            Some(b) => b,
            None => {
                let msg = format!(
                    "`{key}` must be true or false, not {}",
                    type_name(v.get_ref())
                );
                self.invalid(v.span(), msg);
                false
            }
        }
    }

    /// A required string out of a fixed set.
    fn choice<T: Copy>(&mut self, key: &str, choices: &[(&str, T)]) -> Option<T> {
        let text = self.required(key)?;
        let found = choices.iter().find(|(name, _)| *name == text.value);
        if found.is_none() {
            let names: Vec<String> = choices.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            let msg = format!(
                "`{key}` is \"{}\"; it must be one of {}",
                text.value.escape_debug(),
                names.join(", ")
            );
            self.invalid(text.at.span, msg);
        }
        found.map(|&(_, t)| t)
    }

    /// `object = { key = "value" | ["value", …] }` (absent: no attributes).
    fn object(&mut self) -> Object {
        let mut object = Object::new();
        let Some(v) = self.value("object") else {
            return object;
        };
        let Some(table) = v.get_ref().as_table() else {
            let msg = format!(
                "`object` must be a table of attributes (object = {{ status = \"open\" }}), not {}",
                type_name(v.get_ref())
            );
            self.invalid(v.span(), msg);
            return object;
        };
        for (key, value) in table {
            let what = format!("the attribute `{}`", key.get_ref());
            for text in self.string_list(&what, value) {
                object.push(key.get_ref(), &text.value);
            }
        }
        object
    }

    fn expect(&mut self) -> Option<Expect> {
        self.choice(
            "expect",
            &[("allow", Expect::Allow), ("deny", Expect::Deny)],
        )
    }

    /// The check of this table's kind; `None` when a required part is
    /// missing or refused (its diagnostic is pushed).
    fn check(&mut self) -> Option<Check> {
        match self.kind {
            "svn" => self.svn(),
            "permission" => self.permission(),
            "rest" => self.rest(),
            _ => self.group(),
        }
    }

    fn svn(&mut self) -> Option<Check> {
        let user = self.required("user");
        let path = self.required("path");
        let repository = self.string("repository");
        let access = self.choice(
            "access",
            &[
                ("rw", Access::ReadWrite),
                ("r", Access::Read),
                ("no", Access::No),
            ],
        );
        if let Some(p) = &path
            && !p.value.starts_with('/')
        {
            let msg = format!("`path` must start with `/`: \"{}\"", p.value.escape_debug());
            self.invalid(p.at.span.clone(), msg);
        }
        Some(Check::Svn {
            user: user?,
            path: path?,
            repository,
            access: access?,
        })
    }

    fn permission(&mut self) -> Option<Check> {
        let user = self.required("user");
        let permission = self.required("permission");
        let project = self.string("project");
        let object = self.object();
        let expect = self.expect();
        Some(Check::Permission {
            user: user?,
            permission: permission?,
            project,
            object,
            expect: expect?,
        })
    }

    fn rest(&mut self) -> Option<Check> {
        let user = self.required("user");
        let call_text = self.required("call");
        let object = self.object();
        let expect = self.expect();
        let call = match call_text.as_ref().map(|t| RestCall::parse_line(&t.value)) {
            Some(Ok(call)) => Some(call),
            Some(Err(e)) => {
                let span = call_text.as_ref().map_or(0..0, |t| t.at.span.clone());
                self.invalid(span, format!("`call`: {e}"));
                None
            }
            None => None,
        };
        Some(Check::Rest {
            user: user?,
            call: call?,
            call_text: call_text?,
            object,
            expect: expect?,
        })
    }

    fn group(&mut self) -> Option<Check> {
        let name = self.required("name");
        let never_empty = self.boolean("never_empty");
        let has_member = self.strings("has_member");
        let lacks_member = self.strings("lacks_member");
        if self.ok && !never_empty && has_member.is_empty() && lacks_member.is_empty() {
            let msg =
                "[[group]] asserts nothing: give never_empty = true, has_member or lacks_member"
                    .to_owned();
            self.invalid(self.at.span.clone(), msg);
        }
        Some(Check::Group {
            name: name?,
            never_empty,
            has_member,
            lacks_member,
        })
    }
}

/// A TOML value's type, as a message names it.
fn type_name(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}
