//! Reaching the directory: the URLs tried in order until one connects (TCP,
//! then TLS by `ldaps://` or StartTLS, the chain and host name verified
//! against `ca_file` or the system's roots) and accepts the bind.

use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
use native_tls::{Certificate, TlsConnector};

use super::error::{SettingsError, SyncError, quoted, result_text};
use super::settings::{LdapSettings, Secret};

/// A bound session with one server.
#[derive(Debug)]
pub(crate) struct Session {
    pub url: String,
    pub ldap: Ldap,
}

/// The first server that connects and accepts the bind. A refused bind
/// ends the search at once (the next server would refuse it too, and a
/// wrong password should not be tried everywhere); an unreachable server,
/// or one whose certificate does not verify, sends it on to the next.
pub(crate) async fn open(
    settings: &LdapSettings,
    password: Option<&Secret>,
) -> Result<Session, SyncError> {
    // Made at the first URL that puts TLS on the connection: parsing the
    // roots is most of a plain sync's CPU otherwise.
    let mut tls: Option<TlsConnector> = None;
    let mut tried = Vec::new();
    for url in &settings.urls {
        let connector = if needs_tls(settings, url) {
            if tls.is_none() {
                tls = Some(connector(settings)?);
            }
            tls.clone()
        } else {
            None
        };
        let attempt =
            tokio::time::timeout(settings.connect_timeout, connect(settings, url, connector)).await;
        let mut ldap = match attempt {
            Ok(Ok(ldap)) => ldap,
            Ok(Err(why)) => {
                tried.push(format!("{url}: {why}"));
                continue;
            }
            Err(_) => {
                tried.push(format!(
                    "{url}: no connection within {}",
                    human(settings.connect_timeout)
                ));
                continue;
            }
        };
        bind(settings, url, &mut ldap, password).await?;
        return Ok(Session {
            url: url.clone(),
            ldap,
        });
    }
    Err(SyncError::Unreachable { tried })
}

/// Whether the connection to `url` is under TLS: StartTLS, or any scheme
/// but plain `ldap://` and `ldapi://` (so that ldap3 never makes a
/// connector of its own, with other roots than `ca_file`).
fn needs_tls(settings: &LdapSettings, url: &str) -> bool {
    let plain = ["ldap://", "ldapi://"].iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    });
    settings.starttls || !plain
}

async fn connect(
    settings: &LdapSettings,
    url: &str,
    tls: Option<TlsConnector>,
) -> Result<Ldap, String> {
    let mut conn_settings = LdapConnSettings::new()
        .set_conn_timeout(settings.connect_timeout)
        .set_starttls(settings.starttls);
    if let Some(tls) = tls {
        conn_settings = conn_settings.set_connector(tls);
    }
    let (conn, ldap) = LdapConnAsync::with_settings(conn_settings, url)
        .await
        .map_err(|e| quoted(&e.to_string()))?;
    // The connection lives while a handle does: the last one dropped ends it.
    tokio::spawn(async move {
        if let Err(e) = conn.drive().await {
            tracing::debug!(error = %e, "ldap connection ended");
        }
    });
    Ok(ldap)
}

async fn bind(
    settings: &LdapSettings,
    url: &str,
    ldap: &mut Ldap,
    password: Option<&Secret>,
) -> Result<(), SyncError> {
    let (Some(dn), Some(password)) = (&settings.bind_dn, password) else {
        return Ok(());
    };
    let refused = |why: String| SyncError::Bind {
        url: url.to_owned(),
        dn: dn.clone(),
        why,
    };
    let result = ldap
        .simple_bind(dn, password.expose())
        .await
        .map_err(|e| refused(quoted(&e.to_string())))?;
    if result.rc != 0 {
        return Err(refused(result_text(&result)));
    }
    Ok(())
}

/// The TLS connector: `ca_file`'s certificates the only roots when given.
fn connector(settings: &LdapSettings) -> Result<TlsConnector, SyncError> {
    let mut builder = TlsConnector::builder();
    if let Some(path) = &settings.ca_file {
        let bad = |why: String| SettingsError::CaFile {
            path: path.clone(),
            why,
        };
        let pem = fs_err::read(path).map_err(|e| bad(e.kind().to_string()))?;
        let certs = Certificate::stack_from_pem(&pem).map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("no PEM certificate in it".to_owned()).into());
        }
        builder.disable_built_in_roots(true);
        for cert in certs {
            builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| SyncError::Unreachable {
        tried: vec![format!("TLS set-up: {e}")],
    })
}

pub(crate) fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_url_without_starttls_goes_without_tls() {
        let mut s = LdapSettings::from_toml("urls = [\"ldap://a\"]\nbase_dn = \"dc=x\"\n")
            .expect("settings");
        assert!(!needs_tls(&s, "ldap://dc1.example"));
        assert!(!needs_tls(&s, "LDAP://dc1.example"));
        assert!(!needs_tls(&s, "ldapi://%2Frun%2Fslapd"));
        assert!(needs_tls(&s, "ldaps://dc1.example"));
        assert!(needs_tls(&s, "LDAPS://dc1.example"));
        assert!(needs_tls(&s, "ldap:/x"));
        assert!(needs_tls(&s, "other://dc1.example"));
        s.starttls = true;
        assert!(needs_tls(&s, "ldap://dc1.example"));
    }
}
