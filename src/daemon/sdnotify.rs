//! systemd's readiness protocol (`sd_notify(3)`), written against the
//! protocol: one datagram per message, `KEY=VALUE` lines, sent to the
//! Unix socket named by `NOTIFY_SOCKET` (a path, or an abstract name when
//! it starts with `@`). Without `NOTIFY_SOCKET` (not under systemd, or
//! `Type=` is not `notify`) every call does nothing.
//!
//! The daemon says `READY=1` once the listener is bound and the first
//! reload has ended, `RELOADING=1` with `MONOTONIC_USEC=` (systemd 253 and
//! later check it) when SIGHUP starts a reload and `READY=1` when it ends,
//! `STOPPING=1` at shutdown, a `STATUS=` line after every reload, and
//! `WATCHDOG=1` every half `WATCHDOG_USEC` when the watchdog is on and
//! meant for this process (`WATCHDOG_PID` unset or ours).
//!
//! A failed send is logged at `debug` and otherwise ignored: readiness
//! is a courtesy to the service manager, never a reason to stop serving.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::Arc;
use std::time::Duration;

/// The longest `NOTIFY_SOCKET` accepted: a Unix socket path has 108 bytes.
const MAX_SOCKET_NAME: usize = 107;

/// The longest `STATUS=` text sent; longer text is cut at a character
/// boundary (systemd shows one short line).
pub const MAX_STATUS_BYTES: usize = 200;

/// Where the notifications go: nowhere when not under systemd.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    socket: Option<Arc<(UnixDatagram, SocketAddr)>>,
    watchdog: Option<Duration>,
}

/// What is wrong with `NOTIFY_SOCKET`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddressError {
    #[error("NOTIFY_SOCKET is empty")]
    Empty,
    #[error("NOTIFY_SOCKET is longer than {MAX_SOCKET_NAME} bytes")]
    TooLong,
    #[error("NOTIFY_SOCKET {0:?} is neither an absolute path nor an abstract name (@…)")]
    NotAbsolute(String),
}

/// The socket `NOTIFY_SOCKET` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Path(std::path::PathBuf),
    /// An abstract socket name (without the leading `@`).
    Abstract(Vec<u8>),
}

/// `NOTIFY_SOCKET`'s value as an address.
pub fn parse_address(value: &str) -> Result<Address, AddressError> {
    if value.is_empty() {
        return Err(AddressError::Empty);
    }
    if value.len() > MAX_SOCKET_NAME {
        return Err(AddressError::TooLong);
    }
    match value.strip_prefix('@') {
        Some(name) => Ok(Address::Abstract(name.as_bytes().to_vec())),
        None if value.starts_with('/') => Ok(Address::Path(value.into())),
        None => Err(AddressError::NotAbsolute(value.to_owned())),
    }
}

/// The watchdog's ping interval (half of `WATCHDOG_USEC`), when the
/// watchdog is on and meant for `ours`: `WATCHDOG_PID` unset or equal.
pub fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, ours: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|&u| u > 0)?;
    if let Some(pid) = pid
        && pid.trim().parse::<u32>().ok() != Some(ours)
    {
        return None;
    }
    Some(Duration::from_micros(usec) / 2)
}

/// The `STATUS=` message of `text`: one line (control characters become
/// spaces), at most [`MAX_STATUS_BYTES`].
pub fn status_message(text: &str) -> String {
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.len() > MAX_STATUS_BYTES {
        let mut end = MAX_STATUS_BYTES;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    format!("STATUS={line}")
}

impl Notifier {
    /// The notifier the environment describes (`NOTIFY_SOCKET`,
    /// `WATCHDOG_USEC`, `WATCHDOG_PID`); a bad `NOTIFY_SOCKET` is warned
    /// about and ignored.
    pub fn from_env() -> Notifier {
        let var = |k: &str| std::env::var(k).ok();
        let Some(value) = var("NOTIFY_SOCKET") else {
            return Notifier::default();
        };
        let watchdog = watchdog_interval(
            var("WATCHDOG_USEC").as_deref(),
            var("WATCHDOG_PID").as_deref(),
            std::process::id(),
        );
        match parse_address(&value)
            .map_err(anyhow::Error::from)
            .and_then(connect)
        {
            Ok(socket) => Notifier {
                socket: Some(Arc::new(socket)),
                watchdog,
            },
            Err(e) => {
                tracing::warn!(error = %e, "not notifying systemd");
                Notifier::default()
            }
        }
    }

    /// How often to send `WATCHDOG=1` (None: the watchdog is off).
    pub fn watchdog(&self) -> Option<Duration> {
        self.socket.as_ref().and(self.watchdog)
    }

    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\n{}", status_message(status)));
    }

    pub fn reloading(&self) {
        let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        let usec = now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1_000;
        self.send(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    pub fn status(&self, status: &str) {
        self.send(&status_message(status));
    }

    pub fn watchdog_ping(&self) {
        self.send("WATCHDOG=1");
    }

    fn send(&self, message: &str) {
        let Some(socket) = &self.socket else {
            return;
        };
        let (sock, addr) = &**socket;
        if let Err(e) = sock.send_to_addr(message.as_bytes(), addr) {
            tracing::debug!(error = %e, "sd_notify");
        }
    }

    /// Send `WATCHDOG=1` every [`Notifier::watchdog`] on the runtime until
    /// `stop` turns true (it proves the runtime, which serves the API, is
    /// alive).
    pub fn spawn_watchdog(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let Some(every) = self.watchdog() else {
            return;
        };
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => me.watchdog_ping(),
                    _ = stop.wait_for(|s| *s) => break,
                }
            }
        });
    }
}

/// An unbound datagram socket and the address it sends to.
fn connect(address: Address) -> anyhow::Result<(UnixDatagram, SocketAddr)> {
    let addr = match address {
        Address::Path(p) => SocketAddr::from_pathname(p)?,
        Address::Abstract(name) => {
            use std::os::linux::net::SocketAddrExt as _;
            SocketAddr::from_abstract_name(name)?
        }
    };
    Ok((UnixDatagram::unbound()?, addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_and_an_abstract_name_are_addresses_anything_else_is_refused() {
        assert_eq!(
            parse_address("/run/systemd/notify"),
            Ok(Address::Path("/run/systemd/notify".into()))
        );
        assert_eq!(
            parse_address("@/org/freedesktop/systemd1/notify/1"),
            Ok(Address::Abstract(
                b"/org/freedesktop/systemd1/notify/1".to_vec()
            ))
        );
        assert_eq!(parse_address(""), Err(AddressError::Empty));
        assert!(matches!(
            parse_address("run/notify"),
            Err(AddressError::NotAbsolute(_))
        ));
        assert_eq!(
            parse_address(&format!("/{}", "x".repeat(200))),
            Err(AddressError::TooLong)
        );
    }

    #[test]
    fn the_watchdog_pings_at_half_its_period_only_for_its_own_process() {
        let half = Some(Duration::from_millis(1500));
        assert_eq!(watchdog_interval(Some("3000000"), None, 7), half);
        assert_eq!(watchdog_interval(Some("3000000"), Some("7"), 7), half);
        assert_eq!(watchdog_interval(Some("3000000"), Some("8"), 7), None);
        assert_eq!(watchdog_interval(Some("0"), None, 7), None);
        assert_eq!(watchdog_interval(Some("soon"), None, 7), None);
        assert_eq!(watchdog_interval(None, None, 7), None);
    }

    #[test]
    fn a_status_is_one_bounded_line() {
        assert_eq!(status_message("serving a\nb"), "STATUS=serving a b");
        let long = status_message(&"é".repeat(300));
        assert!(long.len() <= "STATUS=".len() + MAX_STATUS_BYTES);
        assert!(long.ends_with('é'));
    }

    #[test]
    fn without_a_socket_nothing_is_sent_and_there_is_no_watchdog() {
        let n = Notifier::default();
        n.ready("x");
        assert_eq!(n.watchdog(), None);
    }

    #[test]
    fn messages_reach_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt as _;
        let name = format!("rolesync-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).expect("name");
        let server = UnixDatagram::bind_addr(&addr).expect("bind");
        let socket = connect(parse_address(&format!("@{name}")).expect("address")).expect("socket");
        let n = Notifier {
            socket: Some(Arc::new(socket)),
            watchdog: None,
        };
        n.reloading();
        let mut buf = [0u8; 256];
        let len = server.recv(&mut buf).expect("a datagram");
        let text = std::str::from_utf8(&buf[..len]).expect("text");
        let usec = text
            .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
            .expect("RELOADING with the time");
        assert!(usec.parse::<u64>().expect("a number") > 0, "{text}");
    }
}
