//! A real OpenLDAP server for the tests (issue 16): Debian's `slapd`
//! started by the test on a free loopback port, from a cn=config made now
//! by `slapadd -n0` in a temporary folder (schemas core, cosine,
//! inetorgperson, nis, and `ACCOUNT_SCHEMA`: 389-DS's `nsAccountLock` and
//! AD's `userAccountControl`; the mdb back end with the ppolicy overlay, so
//! `pwdAccountLockedTime` is known; a size limit when asked), its data
//! loaded by `slapadd` before the start. `stop`/`start` make an outage,
//! `modify` changes the data while it runs, and dropping it kills it.
//! Nothing is written under /etc/ldap and no system-wide slapd is used.
//!
//! It depends on nothing else of the tests, so `examples/ldap_bench.rs`
//! includes it too. The tests bind as `cn=reader` (`READER_DN`), not as the root DN, which
//! OpenLDAP exempts from every limit.

use std::fmt::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const SUFFIX: &str = "dc=example,dc=org";
pub const PEOPLE: &str = "ou=people,dc=example,dc=org";
pub const GROUPS: &str = "ou=groups,dc=example,dc=org";
pub const READER_DN: &str = "cn=reader,dc=example,dc=org";
pub const READER_PASSWORD: &str = "reader-Pa55-not-in-any-log";
const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
const ADMIN_PASSWORD: &str = "admin-pw";

/// How the server is made.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `olcSizeLimit` of the database (entries per search; also the total
    /// of a paged search, which `size.prtotal` leaves unlimited).
    pub size_limit: Option<u32>,
    /// Serve StartTLS with a certificate for `localhost` and 127.0.0.1
    /// signed by a CA made now (`Slapd::ca_file`).
    pub tls: bool,
}

/// A running (or stopped) slapd of its own.
#[derive(Debug)]
pub struct Slapd {
    dir: TempDir,
    pub port: u16,
    child: Option<Child>,
    tls: bool,
}

impl Slapd {
    /// A server holding the base entries (the suffix, `PEOPLE`, `GROUPS`,
    /// the reader) and `ldif`, started.
    pub fn new(options: Options, ldif: &str) -> Slapd {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut slapd = Slapd {
            port: free_port(),
            dir,
            child: None,
            tls: options.tls,
        };
        std::fs::create_dir_all(slapd.path("data")).expect("mkdir data");
        std::fs::create_dir_all(slapd.path("slapd.d")).expect("mkdir slapd.d");
        if options.tls {
            make_certificates(&slapd.path("tls"));
        }
        let config = slapd.config(&options);
        slapd.slapadd("0", &config);
        slapd.slapadd("1", &format!("{}\n{ldif}", base_entries()));
        std::fs::write(slapd.path("reader.pw"), READER_PASSWORD).expect("write password");
        slapd.start();
        slapd
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `ldap://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// The CA that signed the server's certificate (with `Options::tls`).
    pub fn ca_file(&self) -> PathBuf {
        self.path("tls/ca.pem")
    }

    /// The reader's password file.
    pub fn password_file(&self) -> PathBuf {
        self.path("reader.pw")
    }

    /// An `[ldap]` table for this server (bound as the reader), `extra`
    /// lines appended.
    pub fn settings_toml(&self, extra: &str) -> String {
        format!(
            "urls = [{:?}]\nbase_dn = {SUFFIX:?}\nbind_dn = {READER_DN:?}\npassword_file = {:?}\n{extra}",
            self.url(),
            self.password_file(),
        )
    }

    /// Starts the server (again) and waits until it takes connections.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "slapd already running");
        let log = std::fs::File::create(self.path("slapd.log")).expect("log file");
        let child = Command::new("/usr/sbin/slapd")
            .args(["-d", "0", "-h"])
            .arg(format!("{}/", self.url()))
            .arg("-F")
            .arg(self.path("slapd.d"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("slapd (Debian's slapd package) runs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            let log = std::fs::read_to_string(self.path("slapd.log")).unwrap_or_default();
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(exited.is_none(), "slapd exited ({exited:?}): {log}");
            assert!(Instant::now() < deadline, "slapd did not listen: {log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (an outage); `start` brings it back with its data.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Applies an LDIF of changes (`changetype:` records) as the root DN.
    pub fn modify(&self, ldif: &str) {
        let file = self.path("change.ldif");
        std::fs::write(&file, ldif).expect("write ldif");
        std::fs::write(self.path("admin.pw"), ADMIN_PASSWORD).expect("write password");
        let out = Command::new("ldapmodify")
            .args(["-x", "-H", &self.url(), "-D", ADMIN_DN, "-y"])
            .arg(self.path("admin.pw"))
            .arg("-f")
            .arg(&file)
            .output()
            .expect("ldapmodify (ldap-utils) runs");
        assert!(
            out.status.success(),
            "ldapmodify: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn slapadd(&self, db: &str, ldif: &str) {
        let file = self.path(&format!("load{db}.ldif"));
        std::fs::write(&file, ldif).expect("write ldif");
        let out = Command::new("/usr/sbin/slapadd")
            .args(["-q", "-n", db, "-F"])
            .arg(self.path("slapd.d"))
            .arg("-l")
            .arg(&file)
            .output()
            .expect("slapadd (Debian's slapd package) runs");
        assert!(
            out.status.success(),
            "slapadd -n{db}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = std::fs::remove_file(file);
    }

    fn config(&self, options: &Options) -> String {
        let dir = self.dir.path().display();
        let mut global = format!(
            "dn: cn=config\nobjectClass: olcGlobal\ncn: config\n\
             olcPidFile: {dir}/slapd.pid\nolcArgsFile: {dir}/slapd.args\n"
        );
        if self.tls {
            let tls = self.path("tls");
            let tls = tls.display();
            let _ = write!(
                global,
                "olcTLSCACertificateFile: {tls}/ca.pem\nolcTLSCertificateFile: {tls}/server.pem\n\
                 olcTLSCertificateKeyFile: {tls}/server.key\n"
            );
        }
        let limit = options
            .size_limit
            .map(|n| format!("olcLimits: * size.soft={n} size.hard={n} size.prtotal=unlimited\n"))
            .unwrap_or_default();
        let schemas: String = ["core", "cosine", "inetorgperson", "nis"]
            .iter()
            .map(|s| format!("include: file:///etc/ldap/schema/{s}.ldif\n\n"))
            .collect();
        format!(
            "{global}\n\
             dn: cn=module{{0}},cn=config\nobjectClass: olcModuleList\ncn: module{{0}}\n\
             olcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\nolcModuleLoad: ppolicy\n\n\
             dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n\
             {schemas}\
             {ACCOUNT_SCHEMA}\
             dn: olcDatabase={{-1}}frontend,cn=config\nobjectClass: olcDatabaseConfig\n\
             objectClass: olcFrontendConfig\nolcDatabase: {{-1}}frontend\n\n\
             dn: olcDatabase={{0}}config,cn=config\nobjectClass: olcDatabaseConfig\n\
             olcDatabase: {{0}}config\nolcAccess: {{0}}to * by * none\n\n\
             dn: olcDatabase={{1}}mdb,cn=config\nobjectClass: olcDatabaseConfig\n\
             objectClass: olcMdbConfig\nolcDatabase: {{1}}mdb\nolcDbDirectory: {dir}/data\n\
             olcDbMaxSize: 1073741824\nolcSuffix: {SUFFIX}\nolcRootDN: {ADMIN_DN}\n\
             olcRootPW: {ADMIN_PASSWORD}\n{limit}\
             olcDbIndex: objectClass eq\nolcDbIndex: uid eq\nolcDbIndex: member eq\n\
             olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none\n\
             olcAccess: {{1}}to * by * read\n\n\
             dn: olcOverlay={{0}}ppolicy,olcDatabase={{1}}mdb,cn=config\n\
             objectClass: olcOverlayConfig\nobjectClass: olcPPolicyConfig\n\
             olcOverlay: {{0}}ppolicy\n"
        )
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The lock attributes of 389 Directory Server (`nsAccountLock`, its OID
/// and syntax) and of Active Directory (`userAccountControl`, an integer
/// of flags), which OpenLDAP's schemas lack, on a class of OpenLDAP's
/// experimental arc (`1.3.6.1.4.1.4203.666`): a person made by `account`
/// may carry them, so the tests read them from a real server.
const ACCOUNT_SCHEMA: &str = "dn: cn=accounts,cn=schema,cn=config\n\
     objectClass: olcSchemaConfig\ncn: accounts\n\
     olcAttributeTypes: ( 2.16.840.1.113730.3.1.610 NAME 'nsAccountLock' \
     EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )\n\
     olcAttributeTypes: ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' \
     EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )\n\
     olcObjectClasses: ( 1.3.6.1.4.1.4203.666.11.99.1 NAME 'rolesyncTestPerson' \
     SUP inetOrgPerson STRUCTURAL MAY ( nsAccountLock $ userAccountControl ) )\n\n";

/// A person (as `person` makes, of `ACCOUNT_SCHEMA`'s class
/// `rolesyncTestPerson`, an `inetOrgPerson` that may carry `nsAccountLock`
/// and `userAccountControl`) with these attribute lines.
pub fn account(uid: &str, lines: &str) -> String {
    format!(
        "dn: uid={uid},{PEOPLE}\nobjectClass: rolesyncTestPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n{lines}\n"
    )
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn base_entries() -> String {
    format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
         dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n\n\
         dn: {READER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n\
         cn: reader\nuserPassword: {READER_PASSWORD}\n"
    )
}

/// A person below `PEOPLE` (`uid=UID`), `extra` attribute lines added.
pub fn person(uid: &str, extra: &str) -> String {
    format!(
        "dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n{extra}\n"
    )
}

/// The DN of a person made by `person`.
pub fn person_dn(uid: &str) -> String {
    format!("uid={uid},{PEOPLE}")
}

/// The DN of a group made by `group`.
pub fn group_dn(cn: &str) -> String {
    format!("cn={cn},{GROUPS}")
}

/// A groupOfNames below `GROUPS` with these member DNs (at least one).
pub fn group(cn: &str, members: &[String]) -> String {
    let mut ldif = format!(
        "dn: {}\nobjectClass: groupOfNames\ncn: {cn}\n",
        group_dn(cn)
    );
    for m in members {
        let _ = writeln!(ldif, "member: {m}");
    }
    ldif.push('\n');
    ldif
}

/// A CA (`dir/ca.pem`) and the server's certificate it signed, for
/// `localhost` and 127.0.0.1 (`dir/server.pem`, `dir/server.key`).
pub fn make_certificates(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir tls");
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &["-days", "2", "-subj", "/CN=rolesync test CA"],
        &["-keyout", "ca.key", "-out", "ca.pem"],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("write ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext",
        "-out",
        "server.pem",
    ]);
}
