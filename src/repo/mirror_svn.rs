//! The SVN mirror of a followed remote: a private repository in the state
//! folder (`svnadmin create`), brought up to the remote's youngest
//! revision by `svnrdump dump --incremental -r M+1:N URL` piped into
//! `svnadmin load` — only the revisions the mirror lacks cross the
//! network, one process pair per fetch, no hook or revision-property
//! set-up in the mirror (svnsync needs both, and a lock in it). Each poll
//! first asks `svn info --xml URL` for the youngest revision and the UUID:
//! a remote below the mirror, or of another UUID, is refused. The dump
//! passes through rolesync, counted against `FetchBounds::max_bytes`;
//! a watchdog kills the processes at the time-out. The password goes to
//! the processes on their standard input (`--password-from-stdin`), never
//! on a command line.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use super::remote::{Fetched, Remote};

/// Create the mirror repository at `path` unless it is there.
pub(super) fn init(path: &Path) -> Result<(), String> {
    if path.join("format").is_file() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let out = Command::new("svnadmin")
        .arg("create")
        .arg("--")
        .arg(path)
        .output()
        .map_err(|e| format!("svnadmin create: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "svnadmin create: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// The remote's youngest revision and UUID, from `svn info --xml`.
fn remote_info(remote: &Remote, deadline: Instant) -> Result<(u64, String), String> {
    let mut cmd = client("svn", remote);
    cmd.args(["info", "--xml", "--"]).arg(remote.url.as_str());
    let (out, _) = run_bounded(cmd, password(remote), deadline, 1 << 20, None)?;
    let text = String::from_utf8_lossy(&out);
    parse_info(&text).ok_or_else(|| "svn info: no revision or UUID in its answer".to_owned())
}

/// The `revision` attribute of `<entry>` and the text of `<uuid>`.
fn parse_info(xml: &str) -> Option<(u64, String)> {
    let entry = &xml[xml.find("<entry")?..];
    let rev = entry[entry.find("revision=\"")? + 10..]
        .split('"')
        .next()?
        .parse()
        .ok()?;
    let uuid = xml[xml.find("<uuid>")? + 6..].split('<').next()?.trim();
    Some((rev, uuid.to_owned()))
}

/// An `svn` or `svnrdump` command, never asking, never caching a password.
fn client(program: &str, remote: &Remote) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(["--non-interactive", "--no-auth-cache"]);
    if let Some(c) = &remote.credentials {
        cmd.args(["--username", &c.username, "--password-from-stdin"]);
    }
    cmd
}

fn password(remote: &Remote) -> Option<Vec<u8>> {
    remote
        .credentials
        .as_ref()
        .map(|c| format!("{}\n", c.password).into_bytes())
}

/// Bring the mirror up to the remote's youngest revision.
pub(super) fn fetch(remote: &Remote, _applied: Option<&str>) -> Result<Fetched, String> {
    let deadline = Instant::now() + remote.bounds.timeout;
    let (youngest, uuid) = remote_info(remote, deadline)?;
    let mirror = remote.mirror();
    let have: u64 = super::svnlook::youngest(mirror)
        .map_err(|e| e.to_string())?
        .parse()
        .map_err(|_| "the mirror's youngest revision is no number".to_owned())?;
    let ours = super::svnlook::uuid(mirror).map_err(|e| e.to_string())?;
    let head = youngest.to_string();
    let refused = if have > 0 && ours != uuid {
        Some(format!(
            "r{youngest}: the remote's UUID {uuid} is not the mirror's {ours} (another repository); remove {} to follow it",
            mirror.display()
        ))
    } else if youngest < have {
        Some(format!(
            "r{youngest}: the remote's youngest revision is below the mirror's r{have} (the remote was replaced by an older copy)"
        ))
    } else {
        None
    };
    if refused.is_none() && youngest > have {
        load(remote, have, youngest, deadline)?;
    }
    Ok(Fetched { head, refused })
}

/// `svnrdump dump` of revisions `have+1..=youngest` into `svnadmin load`,
/// through a counting copy.
fn load(remote: &Remote, have: u64, youngest: u64, deadline: Instant) -> Result<(), String> {
    let mut dump = client("svnrdump", remote);
    dump.args(["dump", "--quiet"]);
    if have == 0 {
        dump.arg(format!("--revision=0:{youngest}"));
    } else {
        dump.args([
            format!("--revision={}:{youngest}", have + 1),
            "--incremental".to_owned(),
        ]);
    }
    dump.arg("--").arg(remote.url.as_str());
    let mut load = Command::new("svnadmin");
    load.args(["load", "--quiet"]);
    if have == 0 {
        load.arg("--force-uuid");
    }
    load.arg("--").arg(remote.mirror());
    let loader = load
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("svnadmin load: {e}"))?;
    let (_, loaded) = run_bounded(
        dump,
        password(remote),
        deadline,
        remote.bounds.max_bytes,
        Some(loader),
    )?;
    match loaded {
        Some(Err(e)) => Err(format!("svnadmin load: {e}")),
        _ => Ok(()),
    }
}

/// What a bounded run gives: the output kept, and the sink's result.
type Ran = (Vec<u8>, Option<Result<(), String>>);

/// Run `cmd` (its standard input: `stdin`), reading at most `max` bytes
/// of its output until `deadline` (then it is killed): into memory, or
/// into `sink`'s standard input when given (the sink is waited for too,
/// its error returned beside the output).
fn run_bounded(
    mut cmd: Command,
    stdin: Option<Vec<u8>>,
    deadline: Instant,
    max: u64,
    sink: Option<Child>,
) -> Result<Ran, String> {
    let name = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{name}: {e}"))?;
    if let (Some(bytes), Some(mut input)) = (stdin, child.stdin.take()) {
        // A short password fits the pipe; an error shows in the exit status.
        let _ = input.write_all(&bytes);
    }
    let err = drain(child.stderr.take());
    let mut sink = sink;
    let sink_err = drain(sink.as_mut().and_then(|s| s.stderr.take()));
    let mut to = sink.as_mut().and_then(|s| s.stdin.take());
    let out = child.stdout.take();
    let (done, watchdog) = watchdog(child, sink, deadline);
    let copied = copy(out, to.as_mut(), max);
    drop(to);
    let _ = done.send(copied.is_err());
    let (mut child, sink, killed) = watchdog.join().map_err(|_| format!("{name}: watchdog"))?;
    let status = child.wait().map_err(|e| format!("{name}: {e}"))?;
    let sunk = sink.map(|mut s| match s.wait() {
        Ok(st) if st.success() => Ok(()),
        Ok(_) => Err(joined(sink_err)),
        Err(e) => Err(e.to_string()),
    });
    if killed {
        return Err(format!("{name}: took longer than the fetch time-out"));
    }
    let out = copied?;
    if !status.success() {
        return Err(format!("{name}: {}", joined(err)));
    }
    Ok((out, sunk))
}

type Watchdog = std::thread::JoinHandle<(Child, Option<Child>, bool)>;

/// A thread that kills `child` and `sink` at `deadline` unless told the
/// copy ended (`true`: ended over the bound, kill them now too); it hands
/// them back with whether it killed them at the deadline.
fn watchdog(
    child: Child,
    sink: Option<Child>,
    deadline: Instant,
) -> (mpsc::Sender<bool>, Watchdog) {
    let (tx, rx) = mpsc::channel::<bool>();
    let handle = std::thread::spawn(move || {
        let (mut child, mut sink) = (child, sink);
        let wait = deadline.saturating_duration_since(Instant::now());
        let (kill, late) = match rx.recv_timeout(wait) {
            Ok(over) => (over, false),
            Err(_) => (true, true),
        };
        if kill {
            let _ = child.kill();
            if let Some(s) = sink.as_mut() {
                let _ = s.kill();
            }
        }
        (child, sink, late)
    });
    (tx, handle)
}

/// Copy `out` into `to` (or memory, when there is no `to`), at most `max`
/// bytes.
fn copy(
    out: Option<std::process::ChildStdout>,
    mut to: Option<&mut std::process::ChildStdin>,
    max: u64,
) -> Result<Vec<u8>, String> {
    let Some(mut out) = out else {
        return Ok(Vec::new());
    };
    let (mut kept, mut total, mut buf) = (Vec::new(), 0u64, vec![0u8; 64 * 1024]);
    loop {
        let n = out.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(kept);
        }
        total += n as u64;
        if total > max {
            return Err(format!(
                "the remote sent more than {max} bytes (the fetch bound)"
            ));
        }
        match to.as_mut() {
            Some(to) => to.write_all(&buf[..n]).map_err(|e| e.to_string())?,
            None => kept.extend_from_slice(&buf[..n]),
        }
    }
}

/// The first 8 KiB of a process's standard error, read on a thread (the
/// rest is read and dropped, so the process never blocks on it).
fn drain(err: Option<std::process::ChildStderr>) -> Option<std::thread::JoinHandle<String>> {
    let mut err = err?;
    Some(std::thread::spawn(move || {
        let mut kept = Vec::new();
        let _ = (&mut err).take(8 * 1024).read_to_end(&mut kept);
        let _ = std::io::copy(&mut err, &mut std::io::sink());
        String::from_utf8_lossy(&kept).trim().to_owned()
    }))
}

fn joined(err: Option<std::thread::JoinHandle<String>>) -> String {
    err.and_then(|h| h.join().ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svn_info_xml_gives_the_youngest_revision_and_uuid() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<info>
<entry
   kind="dir"
   path="config"
   revision="42">
<url>svn://127.0.0.1/config</url>
<repository>
<root>svn://127.0.0.1/config</root>
<uuid>0b5c1a7e-7a1e-4c7e-9f0e-1c2d3e4f5a6b</uuid>
</repository>
</entry>
</info>"#;
        assert_eq!(
            parse_info(xml),
            Some((42, "0b5c1a7e-7a1e-4c7e-9f0e-1c2d3e4f5a6b".to_owned()))
        );
        assert_eq!(parse_info("<info></info>"), None);
    }
}
