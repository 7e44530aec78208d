//! Every bound on configuration input (`Limits`) and which characters ids
//! may hold (`IdChars`): a leaf that `ident`, `xml`, `model` and `snapshot`
//! read, so that none of them reaches up into another for its bounds.

/// Which characters beyond ASCII an id (role, user group, project, custom
/// set) may hold. Logins are always ASCII (Polarion's rule).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum IdChars {
    /// ASCII only (the default): no look-alike can reach the access file.
    #[default]
    Ascii,
    /// Non-ASCII letters and digits as well (look-alikes are then possible).
    UnicodeLetters,
}

/// Every bound on what a configuration repository may hold, in one value
/// (`docs/security.md` lists each with its default). Each is checked before
/// the work it bounds; exceeding one is a diagnostic with its file (and,
/// where there is one, line and column), never a crash.
///
/// Measured (debug build): reading costs about 40 bytes of memory per byte
/// of XML at its peak, linear in the input; the defaults keep a hostile
/// revision to a few GB at worst and a real one (10,000 users, 1,000
/// projects: about 10 MB) far inside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one file (checked from the object header or `svnlook
    /// filesize` before the file is read). Default 16 MiB
    /// (`file-too-large`).
    pub max_file_bytes: usize,
    /// Bytes of all files of one revision together. Default 64 MiB
    /// (`input-too-large`).
    pub max_total_bytes: usize,
    /// Nesting depth of XML elements, the root being level 1. Default 64;
    /// the deepest real file has 4 (`xml-too-deep`).
    pub max_xml_depth: usize,
    /// Elements of one XML file. Default 1,000,000 (`xml-too-many-elements`).
    pub max_xml_elements: usize,
    /// Bytes of one XML attribute value or of the text of one element
    /// (whitespace between child elements is not kept). Default 64 KiB
    /// (`value-too-long`).
    pub max_value_bytes: usize,
    /// Bytes of one name: a login, role, group, project or customset id,
    /// a permission name (joined with its `<permission>` wrappers).
    /// Default 255 (`name-too-long`).
    pub max_name_bytes: usize,
    /// Nesting depth of a custom-set query (parentheses, `NOT`). Default
    /// 32, never more than `policy::query::MAX_QUERY_DEPTH_CEILING` (64)
    /// (`query-too-deep`).
    pub max_query_depth: usize,
    /// Bytes of the rendered access file; above it nothing is published and
    /// the last good file stays. The generated groups are counted before
    /// they are built (a member once per assignment that gives the role,
    /// and once in `everyone`), so an input that would render gigabytes
    /// costs no more than this.
    /// Default 64 MiB (`access-file-too-large`).
    pub max_access_bytes: usize,
    /// What the rendered access file may cost Subversion to load, in
    /// Subversion's own terms (SVN-AUTHZ.md §9.3): distinct users named ×
    /// rule sections, each unit about 50 ns of parsing (250 ns at 100,000
    /// users), paid at every connection by svnserve in fork mode. Above it
    /// the file is still published, with a warning. Default 2,000,000
    /// (about 0.1 s per load: 10,000 users and 200 rule sections)
    /// (`access-file-expensive`).
    pub warn_access_cost: u64,
    /// Which characters ids may hold: ASCII (the default) or also
    /// non-ASCII letters and digits (`--allow-non-ascii-ids`). Not a bound,
    /// but a refusal of what could otherwise look like another name
    /// (`confusable-id`).
    pub id_chars: IdChars,
    /// Bytes of a commit message (Git) or log message (SVN) kept in
    /// `RevisionMeta::message`; a longer one keeps its end, where trailers
    /// such as `Rolesync-Allow: mass-change` are. Default 64 KiB.
    pub max_message_bytes: usize,
    /// Policy-test files (`.polarion/tests/*.toml`) in one revision.
    /// Default 100 (`policy-tests-too-many`).
    pub max_test_files: usize,
    /// Assertions (`[[svn]]`, `[[permission]]`, `[[rest]]`, `[[group]]`)
    /// in one policy-test file. Default 1,000 (`policy-tests-too-many`).
    pub max_test_assertions_per_file: usize,
    /// Assertions in all policy-test files of a revision together: each is
    /// answered on every validation, hook and reload. Default 10,000
    /// (`policy-tests-too-many`).
    pub max_test_assertions: usize,
    /// Threads a build parses a large configuration on (from
    /// `snapshot::PARALLEL_MIN_FILES` files on; a pool of its own for that
    /// build, gone when it ends); 1 parses on the calling thread. Default 4:
    /// a build never takes more than four cores, whatever its size.
    pub max_build_threads: usize,
    /// Bytes of a distinguished name in `groups.xml` (`ldap=`,
    /// `ldap-base=`). Default 1,024 (`ldap-invalid-dn`).
    pub max_dn_bytes: usize,
    /// Bytes of an LDAP search filter in `groups.xml` (`ldap-filter=`).
    /// Default 4,096 (`ldap-invalid-filter`).
    pub max_ldap_filter_bytes: usize,
    /// Nesting depth of an LDAP search filter's parentheses. Default 32,
    /// never more than `directory::filter::MAX_FILTER_DEPTH_CEILING` (64)
    /// (`ldap-invalid-filter`).
    pub max_ldap_filter_depth: usize,
}

impl Limits {
    /// The defaults, as a constant (for tests and `const` contexts).
    pub const DEFAULT: Limits = Limits {
        max_file_bytes: 16 << 20,
        max_total_bytes: 64 << 20,
        max_xml_depth: 64,
        max_xml_elements: 1_000_000,
        max_value_bytes: 64 << 10,
        max_name_bytes: 255,
        max_query_depth: 32,
        max_access_bytes: 64 << 20,
        warn_access_cost: 2_000_000,
        id_chars: IdChars::Ascii,
        max_message_bytes: 64 << 10,
        max_test_files: 100,
        max_test_assertions_per_file: 1_000,
        max_test_assertions: 10_000,
        max_build_threads: 4,
        max_dn_bytes: 1024,
        max_ldap_filter_bytes: 4096,
        max_ldap_filter_depth: 32,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
