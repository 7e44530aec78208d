//! `.polarion/rolesync.toml`: which guard rails apply, read with spans so
//! that every problem is a located diagnostic (`rails-toml-syntax`,
//! `rails-unknown-key`, `rails-invalid-value`). A leaf: `snapshot::build`
//! parses the file through it, and it knows nothing of snapshots.
//!
//! Every key is optional; a file that is absent (or a key that is) leaves
//! the default, which protects a newcomer (README, "Guard rails").

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{Code, Diagnostic, Severity, Source};
use crate::ident::Login;
use crate::limits::Limits;

/// The rails' settings, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `last_admin`: refuse a change that leaves no active global `admin`
    /// when there was one. Default on.
    pub last_admin: bool,
    /// `maintainer_lockout`: refuse a change that takes write access to
    /// the configuration from every account that could commit it (SVN), or
    /// that leaves none of `maintainers` an active account. Default on.
    pub maintainer_lockout: bool,
    /// `config_repository`: the repository name the access file gives the
    /// configuration repository (`[NAME:/path]` sections). Default: the SVN
    /// repository's folder name; `""`: repository-neutral sections only.
    pub config_repository: Option<String>,
    /// `config_path`: the path of the configuration in that repository.
    /// Default: the folder it is read from (`--path`), `/` without one.
    pub config_path: Option<String>,
    /// `maintainers`: logins of which at least one must stay an active
    /// account. Default none (for Git the only way to name maintainers).
    pub maintainers: Vec<Login>,
    /// `emptied_group`: `"warning"` (default), `"error"` or `"off"`.
    pub emptied_group: Option<Severity>,
    /// `mass_change`: refuse a change that removes access from more than
    /// the threshold without the trailer. Default on.
    pub mass_change: bool,
    /// `mass_change_logins`: the threshold's floor. Default 50.
    pub mass_change_logins: u64,
    /// `mass_change_percent`: the threshold as a share of the active
    /// accounts (0 to 100). Default 10.
    pub mass_change_percent: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            last_admin: true,
            maintainer_lockout: true,
            config_repository: None,
            config_path: None,
            maintainers: Vec::new(),
            emptied_group: Some(Severity::Warning),
            mass_change: true,
            mass_change_logins: 50,
            mass_change_percent: 10,
        }
    }
}

/// Read `src` (the text of `.polarion/rolesync.toml`): the settings, and
/// a diagnostic for every problem (a key with a problem keeps its default).
pub fn parse(src: &Source, limits: &Limits) -> (Config, Vec<Diagnostic>) {
    let mut config = Config::default();
    let mut diags = Vec::new();
    let (doc, errors) = DeTable::parse_recoverable(src.text);
    if !errors.is_empty() {
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            diags.push(src.diag(Code::RailsTomlSyntax, span, e.message().trim().to_owned()));
        }
        return (config, diags);
    }
    let mut cx = Cx {
        src,
        limits,
        diags: &mut diags,
    };
    for (key, value) in doc.get_ref() {
        match (key.get_ref().as_ref(), value.get_ref()) {
            ("rails", DeValue::Table(table)) => cx.rails(table, &mut config),
            ("rails", _) => cx.invalid(value.span(), "`rails` must be a table: [rails]"),
            (other, _) => cx.unknown(
                key.span(),
                &format!("no top-level key or table `{other}` (known: [rails])"),
            ),
        }
    }
    (config, diags)
}

/// The keys of `[rails]`, for messages.
const KEYS: &str = "last_admin, maintainer_lockout, config_repository, config_path, maintainers, \
                    emptied_group, mass_change, mass_change_logins, mass_change_percent";

struct Cx<'a, 's> {
    src: &'a Source<'s>,
    limits: &'a Limits,
    diags: &'a mut Vec<Diagnostic>,
}

impl Cx<'_, '_> {
    fn rails(&mut self, table: &DeTable, config: &mut Config) {
        for (key, value) in table {
            let span = value.span();
            match key.get_ref().as_ref() {
                "last_admin" => self.boolean(value, &mut config.last_admin),
                "maintainer_lockout" => self.boolean(value, &mut config.maintainer_lockout),
                "mass_change" => self.boolean(value, &mut config.mass_change),
                "config_repository" => config.config_repository = self.string(value),
                "config_path" => match self.string(value) {
                    Some(p) if !p.starts_with('/') => {
                        self.invalid(span, "config_path must start with `/`")
                    }
                    p => config.config_path = p.or(config.config_path.take()),
                },
                "maintainers" => config.maintainers = self.logins(value),
                "emptied_group" => match self.string(value).as_deref() {
                    Some("warning") => config.emptied_group = Some(Severity::Warning),
                    Some("error") => config.emptied_group = Some(Severity::Error),
                    Some("off") => config.emptied_group = None,
                    Some(_) => {
                        self.invalid(span, "emptied_group is \"warning\", \"error\" or \"off\"")
                    }
                    None => {}
                },
                "mass_change_logins" => {
                    if let Some(n) = self.count(value, u64::MAX) {
                        config.mass_change_logins = n;
                    }
                }
                "mass_change_percent" => {
                    if let Some(n) = self.count(value, 100) {
                        config.mass_change_percent = n;
                    }
                }
                other => self.unknown(
                    key.span(),
                    &format!("[rails] has no key `{other}` (known: {KEYS})"),
                ),
            }
        }
    }

    fn boolean(&mut self, value: &Spanned<DeValue>, into: &mut bool) {
        match value.get_ref() {
            DeValue::Boolean(b) => *into = *b,
            v => self.invalid(
                value.span(),
                &format!("expected true or false, found {}", v.type_str()),
            ),
        }
    }

    fn string(&mut self, value: &Spanned<DeValue>) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            v => {
                self.invalid(
                    value.span(),
                    &format!("expected a string, found {}", v.type_str()),
                );
                None
            }
        }
    }

    /// A non-negative integer of at most `max`.
    fn count(&mut self, value: &Spanned<DeValue>, max: u64) -> Option<u64> {
        let n = match value.get_ref() {
            DeValue::Integer(i) => u64::from_str_radix(i.as_str(), i.radix()).ok(),
            v => {
                let found = v.type_str();
                self.invalid(value.span(), &format!("expected an integer, found {found}"));
                return None;
            }
        };
        match n {
            Some(n) if n <= max => Some(n),
            _ => {
                self.invalid(
                    value.span(),
                    &format!("expected an integer from 0 to {max}"),
                );
                None
            }
        }
    }

    fn logins(&mut self, value: &Spanned<DeValue>) -> Vec<Login> {
        let DeValue::Array(items) = value.get_ref() else {
            let found = value.get_ref().type_str();
            self.invalid(
                value.span(),
                &format!("expected a list of logins, found {found}"),
            );
            return Vec::new();
        };
        let mut logins = Vec::new();
        for item in items.iter() {
            let Some(s) = self.string(item) else { continue };
            match Login::new_within(&s, self.limits) {
                Ok(login) => logins.push(login),
                Err(why) => self.invalid(item.span(), &format!("login `{s}` {why}")),
            }
        }
        logins
    }

    fn invalid(&mut self, span: Range<usize>, message: &str) {
        self.diags.push(
            self.src
                .diag(Code::RailsInvalidValue, span, message.to_owned()),
        );
    }

    fn unknown(&mut self, span: Range<usize>, message: &str) {
        self.diags.push(
            self.src
                .diag(Code::RailsUnknownKey, span, message.to_owned())
                .with_note("a misspelt key would leave its rail at the default; README, \"Guard rails\", lists the keys"),
        );
    }
}
