//! Diagnostics: what rolesync reports about a configuration, where, and how.
//!
//! Every problem found while reading, validating or rendering becomes one
//! [`Diagnostic`] with a stable kebab-case [`Code`], a [`Severity`], the file
//! it is about (relative to the config repository root) and a byte span in
//! that file. Line and column are computed once, at creation, from the file's
//! [`Source`]. Rendering comes in three forms: one line per diagnostic
//! (`path:line:col: error[code]: message`), a rich view with the source
//! snippet (for terminals), and JSON (for machines).
//!
//! Every code is documented in `docs/diagnostics.md`; a test keeps the list
//! here and the headings there in step.

use std::fmt;
use std::ops::Range;

/// How bad a diagnostic is. Errors make a configuration invalid; warnings
/// do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $sev:ident;)*) => {
        /// A stable diagnostic code. Scripts and documentation rely on the
        /// names: never rename one, only add.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The kebab-case name printed as `error[name]`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// The severity every diagnostic with this code has.
            pub fn severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$sev,)*
                }
            }
        }
    };
}

codes! {
    // ---- files and XML
    /// A file is larger than the configured limit.
    FileTooLarge = "file-too-large", Error;
    /// A file is not valid UTF-8.
    FileEncoding = "file-encoding", Error;
    /// XML that is not well-formed.
    XmlMalformed = "xml-malformed", Error;
    /// A DTD or entity declaration (refused: no entity is ever expanded).
    XmlDoctype = "xml-doctype", Error;
    /// The root element is not the one this file must have.
    XmlWrongRoot = "xml-wrong-root", Error;
    /// An element rolesync does not know (ignored).
    XmlUnknownElement = "xml-unknown-element", Warning;
    /// An attribute rolesync does not know (ignored).
    XmlUnknownAttribute = "xml-unknown-attribute", Warning;
    /// A required attribute is missing.
    XmlMissingAttribute = "xml-missing-attribute", Error;
    /// An attribute or field value outside its allowed set.
    XmlInvalidValue = "xml-invalid-value", Error;
    // ---- identifiers
    /// A login that breaks the login rule.
    InvalidLogin = "invalid-login", Error;
    /// A role id that could not be written safely into the access file.
    InvalidRoleId = "invalid-role-id", Error;
    /// A user-group id that breaks the identifier rule.
    InvalidGroupId = "invalid-group-id", Error;
    /// A project folder name that cannot be a project id.
    InvalidProjectId = "invalid-project-id", Error;
    /// A custom-set id that breaks the identifier rule.
    InvalidCustomsetId = "invalid-customset-id", Error;
    /// A permission name that is empty or malformed.
    InvalidPermissionName = "invalid-permission-name", Error;
    // ---- the model
    /// Two projects with the same id.
    DuplicateProjectId = "duplicate-project-id", Error;
    /// Two custom sets with the same id in one permissions.xml.
    DuplicateCustomsetId = "duplicate-customset-id", Error;
    /// `@SET.action` names a custom set that is not defined.
    UnknownCustomset = "unknown-customset", Error;
    /// A custom set whose query cannot be parsed.
    InvalidCustomsetQuery = "invalid-customset-query", Error;
    /// A role defined twice in roles.xml.
    DuplicateRoleDefinition = "duplicate-role-definition", Error;
    /// A user group defined twice in groups.xml.
    DuplicateUserGroup = "duplicate-user-group", Error;
    /// Two roles whose access-file groups would have the same name.
    RoleGroupCollision = "role-group-collision", Error;
    /// A role assigned in a scope where it does not exist.
    RoleScopeMismatch = "role-scope-mismatch", Warning;
    /// permissions.xml names a role that exists in no scope it could apply to.
    UnknownRole = "unknown-role", Warning;
    /// Two logins that differ only in case.
    LoginCaseConflict = "login-case-conflict", Warning;
    /// A role holder without a user account (left out of every group).
    UnknownAccount = "unknown-account", Warning;
    /// A role given to a user group that groups.xml does not define.
    UnknownUserGroup = "unknown-user-group", Warning;
    /// The same role given twice to the same holder in one file.
    DuplicateAssignment = "duplicate-assignment", Warning;
    // ---- the directory (LDAP / Active Directory, `groups.xml` `ldap=`)
    /// A DN in `ldap=` or `ldap-base=` that is empty or does not parse.
    LdapInvalidDn = "ldap-invalid-dn", Error;
    /// An `ldap-filter=` that does not parse as an LDAP filter (RFC 4515)
    /// or exceeds its bounds.
    LdapInvalidFilter = "ldap-invalid-filter", Error;
    /// A group that names both a directory group and a search.
    LdapReferenceConflict = "ldap-reference-conflict", Error;
    /// The directory has no entry for a group's DN (or search base).
    LdapUnknownGroup = "ldap-unknown-group", Warning;
    /// A directory member whose user attribute is no valid login (left out).
    LdapInvalidMember = "ldap-invalid-member", Warning;
    /// A directory-backed group's directory members are not known (no
    /// directory snapshot, or none for this reference yet).
    LdapMembersUnknown = "ldap-members-unknown", Warning;
    // ---- the access file
    /// There is no `.polarion/access`; only the generated groups are rendered.
    AccessFileMissing = "access-file-missing", Warning;
    /// A line Subversion's INI reader rejects.
    AuthzSyntax = "authz-syntax", Error;
    /// A section header Subversion does not accept.
    AuthzInvalidSection = "authz-invalid-section", Error;
    /// A section that repeats another one.
    AuthzDuplicateSection = "authz-duplicate-section", Error;
    /// A group or alias name Subversion does not accept.
    AuthzInvalidName = "authz-invalid-name", Error;
    /// A group or alias defined twice.
    AuthzDuplicateDefinition = "authz-duplicate-definition", Error;
    /// A reference to a group that will not exist after rendering.
    AuthzUndefinedGroup = "authz-undefined-group", Error;
    /// A reference to an alias that is not defined.
    AuthzUndefinedAlias = "authz-undefined-alias", Error;
    /// Groups that contain each other.
    AuthzGroupCycle = "authz-group-cycle", Error;
    /// An access-entry name Subversion does not accept.
    AuthzInvalidEntry = "authz-invalid-entry", Error;
    /// An access mode Subversion does not accept.
    AuthzInvalidAccess = "authz-invalid-access", Error;
    /// A rule naming a group without members (Subversion ignores the line).
    AuthzEmptyGroupRule = "authz-empty-group-rule", Warning;
    /// Group definitions in the access file while a global groups file is used.
    AuthzGroupsFileConflict = "authz-groups-file-conflict", Error;
    /// A hand-written group whose name is a role group's, in a file that
    /// already has rolesync's markers.
    GroupCollidesWithRole = "group-collides-with-role", Error;
    /// A role group in an access file without rolesync's markers, replaced
    /// by the generated one (the first synchronisation).
    RoleGroupTakenOver = "role-group-taken-over", Warning;
    // ---- limits on configuration input (`snapshot::Limits`)
    /// XML elements nested deeper than the limit.
    XmlTooDeep = "xml-too-deep", Error;
    /// More XML elements in one file than the limit.
    XmlTooManyElements = "xml-too-many-elements", Error;
    /// An attribute value or text longer than the limit.
    ValueTooLong = "value-too-long", Error;
    /// A login, id or permission name longer than the limit.
    NameTooLong = "name-too-long", Error;
    /// A custom-set query nested deeper than the limit.
    QueryTooDeep = "query-too-deep", Error;
    /// A custom-set query uses a query expander (SQL, linkedWorkItems,
    /// PLAN, TEST_RECORDS), which only Polarion's database can expand.
    QueryExpander = "query-expander", Warning;
    /// The files of one revision together are larger than the limit.
    InputTooLarge = "input-too-large", Error;
    /// The rendered access file would be larger than the limit.
    AccessFileTooLarge = "access-file-too-large", Error;
    /// The rendered access file costs Subversion more to load (users named
    /// × rule sections) than `Limits::warn_access_cost`.
    AccessFileExpensive = "access-file-expensive", Warning;
    /// Neither `.polarion/security/user-roles.xml` nor `.polarion/access`.
    NoConfiguration = "no-configuration", Error;
    /// An id with a bidi control, an invisible or a non-ASCII character.
    ConfusableId = "confusable-id", Error;
    // ---- guard rails (`.polarion/rolesync.toml`, `rails`)
    /// `.polarion/rolesync.toml` is not valid TOML.
    RailsTomlSyntax = "rails-toml-syntax", Error;
    /// A key or table of `.polarion/rolesync.toml` rolesync does not know.
    RailsUnknownKey = "rails-unknown-key", Error;
    /// A value of `.polarion/rolesync.toml` of the wrong type or outside its range.
    RailsInvalidValue = "rails-invalid-value", Error;
    /// The change leaves no active account with the global `admin` role.
    RailLastAdmin = "rail-last-admin", Error;
    /// The change takes write access to the configuration from every
    /// account that could commit it (or disables every listed maintainer).
    RailMaintainerLockout = "rail-maintainer-lockout", Error;
    /// A rule of the access file names a group the change empties
    /// (a warning unless `emptied_group = "error"`).
    RailEmptiedGroup = "rail-emptied-group", Warning;
    /// The change removes access from more logins than the threshold, and
    /// its message lacks `Rolesync-Allow: mass-change`.
    RailMassChange = "rail-mass-change", Error;
    // ---- signed commits (`require_signed`, `repo::signature`)
    /// The commit is not signed, and only signed commits are applied.
    CommitUnsigned = "commit-unsigned", Error;
    /// The commit is signed by a key the allowed-signers file does not list.
    CommitSignerNotAllowed = "commit-signer-not-allowed", Error;
    /// The commit's signature does not verify (the commit was changed
    /// after signing, or the signature is malformed or too large).
    CommitSignatureBad = "commit-signature-bad", Error;
    /// The signature could not be checked (`ssh-keygen` missing, failing or
    /// too slow).
    CommitSignatureUnchecked = "commit-signature-unchecked", Error;
    // ---- policy tests (`.polarion/tests/*.toml`, `policytest`)
    /// A policy-test file that is not valid TOML.
    PolicyTestSyntax = "policy-test-syntax", Error;
    /// A table or key a policy-test file does not take (a typo would
    /// silently test nothing).
    PolicyTestUnknownKey = "policy-test-unknown-key", Error;
    /// An assertion with a missing key, a value of the wrong type or
    /// outside its allowed set, or one that cannot be answered.
    PolicyTestInvalid = "policy-test-invalid", Error;
    /// An assertion names a user, permission, repository or group the
    /// configuration never names (it still runs).
    PolicyTestUnknownName = "policy-test-unknown-name", Warning;
    /// An assertion names a project that does not exist.
    PolicyTestUnknownProject = "policy-test-unknown-project", Error;
    /// An assertion that does not hold for this revision.
    PolicyTestFailed = "policy-test-failed", Error;
    /// A file under `.polarion/tests/` that is no `*.toml` directly in it
    /// (not run).
    PolicyTestIgnoredFile = "policy-test-ignored-file", Warning;
    /// More policy-test files or assertions than the limits allow.
    PolicyTestsTooMany = "policy-tests-too-many", Error;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file's text with a line index, so byte offsets turn into line:column.
/// The index is built the first time a position past the file's start is
/// asked for (most files of a build that reuses its parses never are).
#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub path: &'a str,
    pub text: &'a str,
    positions: std::sync::OnceLock<Positions>,
    /// `path`, shared (made the first time it is asked for).
    shared_path: std::sync::OnceLock<std::sync::Arc<str>>,
}

#[derive(Debug, Clone)]
struct Positions {
    line_starts: Vec<usize>,
    /// Characters before each multiple of [`CHAR_MARK`] bytes (rounded
    /// down to a character boundary), so a column costs at most that many
    /// bytes of counting however long the line is.
    char_marks: Vec<usize>,
}

/// Bytes between two entries of `Source::char_marks`.
const CHAR_MARK: usize = 4096;

impl Positions {
    fn of(text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut char_marks = vec![0];
        let mut from = 0;
        let mut chars = 0;
        while char_marks.len() * CHAR_MARK <= text.len() {
            let to = floor_char_boundary(text, char_marks.len() * CHAR_MARK);
            chars += text[from..to].chars().count();
            char_marks.push(chars);
            from = to;
        }
        Positions {
            line_starts,
            char_marks,
        }
    }
}

impl<'a> Source<'a> {
    pub fn new(path: &'a str, text: &'a str) -> Self {
        Source {
            path,
            text,
            positions: std::sync::OnceLock::new(),
            shared_path: std::sync::OnceLock::new(),
        }
    }

    /// The path, shared: every call gives the same `Arc` (a place of this
    /// file costs a reference count, not a copy of its name).
    pub fn shared_path(&self) -> std::sync::Arc<str> {
        std::sync::Arc::clone(self.shared_path.get_or_init(|| self.path.into()))
    }

    fn positions(&self) -> &Positions {
        self.positions.get_or_init(|| Positions::of(self.text))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        if offset == 0 {
            return (1, 1);
        }
        let line_starts = &self.positions().line_starts;
        let line = line_starts.partition_point(|&s| s <= offset) - 1;
        let start = line_starts[line];
        let col = if offset - start <= CHAR_MARK {
            self.text[start..offset].chars().count()
        } else {
            self.chars_before(offset) - self.chars_before(start)
        } + 1;
        (to_u32(line + 1), to_u32(col))
    }

    /// Characters in `text[..offset]` (`offset` on a character boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let char_marks = &self.positions().char_marks;
        let mark = (offset / CHAR_MARK).min(char_marks.len() - 1);
        let from = floor_char_boundary(self.text, mark * CHAR_MARK);
        char_marks[mark] + self.text[from..offset].chars().count()
    }

    /// A diagnostic about `span` of this file.
    pub fn diag(&self, code: Code, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        let (line, col) = self.line_col(span.start);
        Diagnostic {
            code,
            severity: code.severity(),
            file: self.path.to_owned(),
            span,
            line,
            col,
            message: message.into(),
            notes: Vec::new(),
            related: Vec::new(),
        }
    }

    /// A related location in this file (e.g. the first definition of a
    /// duplicate), labelled `label` ("first").
    pub fn related(&self, span: Range<usize>, label: impl Into<String>) -> Related {
        let (line, col) = self.line_col(span.start);
        Related {
            file: self.path.to_owned(),
            span,
            line,
            col,
            label: label.into(),
        }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// Path relative to the root of the config repository.
    pub file: String,
    /// Byte range in the file (may be empty, e.g. at the end of a file).
    pub span: Range<usize>,
    pub line: u32,
    pub col: u32,
    pub message: String,
    /// Extra lines: hints.
    pub notes: Vec<String>,
    /// Other places the diagnostic refers to, printed as `(label at line N)`.
    pub related: Vec<Related>,
}

/// A second location of a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub file: String,
    pub span: Range<usize>,
    pub line: u32,
    pub col: u32,
    pub label: String,
}

impl Diagnostic {
    /// A diagnostic about a whole file (line 1, column 1), for problems
    /// found before the text could be read (size, encoding, absence).
    pub fn file(code: Code, path: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            file: path.to_owned(),
            span: 0..0,
            line: 1,
            col: 1,
            message: message.into(),
            notes: Vec::new(),
            related: Vec::new(),
        }
    }

    pub fn with_related(mut self, related: Related) -> Self {
        self.related.push(related);
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `path:line:col: error[code]: message`, with related locations as
    /// `(first at line N)`; control characters are escaped
    /// ([`escape_controls`]), so the line is always one line.
    pub fn one_line(&self) -> String {
        let mut out = format!(
            "{}:{}:{}: {}[{}]: {}",
            self.file,
            self.line,
            self.col,
            self.severity.as_str(),
            self.code,
            self.message
        );
        for r in &self.related {
            if r.file == self.file {
                out.push_str(&format!(" ({} at line {})", r.label, r.line));
            } else {
                out.push_str(&format!(
                    " ({} at {}:{}:{})",
                    r.label, r.file, r.line, r.col
                ));
            }
        }
        escape_controls(&out).into_owned()
    }

    /// The one JSON shape of a diagnostic: `validate --format json` and
    /// `/v1/status` (errors and warnings) print it, and the audit log writes
    /// it; `text` is [`Self::one_line`].
    pub fn to_json(&self) -> DiagnosticJson<'_> {
        DiagnosticJson {
            code: self.code.as_str(),
            column: self.col,
            file: &self.file,
            line: self.line,
            message: &self.message,
            notes: &self.notes,
            related: self
                .related
                .iter()
                .map(|r| RelatedJson {
                    column: r.col,
                    file: &r.file,
                    label: &r.label,
                    line: r.line,
                })
                .collect(),
            severity: self.severity.as_str(),
            span: [self.span.start, self.span.end],
            text: self.one_line(),
        }
    }
}

/// The one JSON shape of a diagnostic ([`Diagnostic::to_json`]); fields in
/// alphabetical order, as `json!` wrote them.
#[derive(Debug, serde::Serialize)]
pub struct DiagnosticJson<'a> {
    code: &'static str,
    column: u32,
    file: &'a str,
    line: u32,
    message: &'a str,
    notes: &'a [String],
    related: Vec<RelatedJson<'a>>,
    severity: &'static str,
    span: [usize; 2],
    text: String,
}

/// A second location, in [`DiagnosticJson`].
#[derive(Debug, serde::Serialize)]
pub struct RelatedJson<'a> {
    column: u32,
    file: &'a str,
    label: &'a str,
    line: u32,
}

/// Sort diagnostics by file, position and code, the order every printer uses.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.file, a.span.start, a.code, &a.message).cmp(&(
            &b.file,
            b.span.start,
            b.code,
            &b.message,
        ))
    });
}

/// True when any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// The rich, snippet-bearing view of one diagnostic. `text` is the file's
/// content when it is known (a file that could not be read has none).
pub fn render_rich(diag: &Diagnostic, text: Option<&str>) -> String {
    use codespan_reporting::diagnostic::{Diagnostic as Cs, Label};
    use codespan_reporting::files::SimpleFile;
    use codespan_reporting::term::{Config, emit_into_string};

    let cs = match diag.severity {
        Severity::Error => Cs::error(),
        Severity::Warning => Cs::warning(),
    }
    .with_code(diag.code.as_str())
    .with_message(&diag.message)
    .with_notes(diag.notes.clone());
    let text = text.unwrap_or("");
    let cs = if text.is_empty() {
        cs
    } else {
        let clamp = |span: &Range<usize>| {
            let start = floor_char_boundary(text, span.start.min(text.len()));
            let end = floor_char_boundary(text, span.end.clamp(start, text.len()));
            start..end
        };
        let mut labels = vec![Label::primary((), clamp(&diag.span))];
        for r in diag.related.iter().filter(|r| r.file == diag.file) {
            labels.push(Label::secondary((), clamp(&r.span)).with_message(&r.label));
        }
        cs.with_labels(labels)
    };
    let file = SimpleFile::new(diag.file.as_str(), text);
    emit_into_string(&Config::default(), &file, &cs).unwrap_or_else(|_| diag.one_line() + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_in_characters() {
        let src = Source::new("f", "ab\nçd\n");
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(3), (2, 1));
        assert_eq!(src.line_col(5), (2, 2));
        assert_eq!(src.line_col(100), (3, 1));
    }

    #[test]
    fn columns_on_long_lines_count_characters() {
        let text = "é".repeat(5000) + "x" + &"ab".repeat(6000) + "\nçç" + &"y".repeat(9000);
        let src = Source::new("f", &text);
        for offset in [
            0, 2, 8190, 10_000, 10_001, 16_000, 22_001, 22_003, 22_005, 30_000,
        ] {
            let offset = floor_char_boundary(&text, offset.min(text.len()));
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let line = 1 + text[..offset].matches('\n').count();
            let col = text[start..offset].chars().count() + 1;
            assert_eq!(
                src.line_col(offset),
                (to_u32(line), to_u32(col)),
                "{offset}"
            );
        }
    }

    #[test]
    fn one_line_format_is_path_line_col_severity_code_message() {
        let src = Source::new("a/b.xml", "<x>\n  <y/>\n");
        let d = src.diag(Code::XmlUnknownElement, 6..10, "unknown element <y>");
        assert_eq!(
            d.one_line(),
            "a/b.xml:2:3: warning[xml-unknown-element]: unknown element <y>"
        );
    }

    #[test]
    fn rich_view_shows_the_source_line() {
        let text = "<user-roles>\n  <user name=\"bob smith\"/>\n</user-roles>\n";
        let src = Source::new("u.xml", text);
        let d = src.diag(Code::InvalidLogin, 26..35, "login `bob smith` contains ' '");
        let rich = render_rich(&d, Some(text));
        assert!(rich.contains("error[invalid-login]"), "{rich}");
        assert!(rich.contains("<user name=\"bob smith\"/>"), "{rich}");
        assert!(rich.contains("u.xml:2:14"), "{rich}");
    }

    #[test]
    fn codes_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "duplicate code {name}");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    && !name.starts_with('-')
                    && !name.ends_with('-')
                    && !name.contains("--"),
                "{name} is not kebab-case"
            );
        }
    }

    #[test]
    fn every_code_has_a_heading_in_the_docs() {
        let docs = include_str!("../docs/diagnostics.md");
        let headings: Vec<&str> = docs
            .lines()
            .filter_map(|l| l.strip_prefix("### "))
            .map(str::trim)
            .collect();
        for code in Code::ALL {
            assert!(
                headings.contains(&code.as_str()),
                "docs/diagnostics.md has no heading `### {code}`"
            );
        }
        for h in &headings {
            assert!(
                Code::ALL.iter().any(|c| c.as_str() == *h),
                "docs/diagnostics.md documents `{h}`, which is no code"
            );
        }
    }
}

/// `s` with every control character written as an escape, so that a name
/// from a repository (a folder, a file, a value quoted in a message) cannot
/// move the cursor, clear the screen, forge a line or reorder text when it
/// is printed: C0 (newline and tab included), DEL and C1 become `\x1b`
/// style, the bidirectional controls (U+061C, U+200E/F, U+202A–E,
/// U+2066–9) and the line and paragraph separators become `\u{202e}`
/// style. Everything the CLI, the hooks and the logs print about a path
/// goes through it (`Diagnostic::one_line` applies it to its whole line).
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    fn needs(c: char) -> bool {
        c.is_control()
            || matches!(
                c,
                '\u{061c}'
                    | '\u{200e}'
                    | '\u{200f}'
                    | '\u{2028}'
                    | '\u{2029}'
                    | '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
            )
    }
    if !s.chars().any(needs) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs(c) {
            out.push(c);
        } else if u32::from(c) <= 0xff {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod escape_tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_controls("Dept A/lib ü"), "Dept A/lib ü");
        assert_eq!(escape_controls("a\u{1b}[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape_controls("a\nb\tc\u{7f}"), "a\\x0ab\\x09c\\x7f");
        assert_eq!(escape_controls("\u{9b}31m"), "\\x9b31m");
        assert_eq!(
            escape_controls("x\u{202e}y\u{2066}"),
            "x\\u{202e}y\\u{2066}"
        );
    }
}
