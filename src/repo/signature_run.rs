//! One bounded child process for the signature check (a leaf of
//! `repo::signature`): its input written from a thread, its output read
//! up to a limit, and the process killed once it runs past a time-out.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Bytes of stdout or stderr kept from one process; the rest is not read.
pub(super) const MAX_OUTPUT_BYTES: u64 = 64 * 1024;

/// What a process that ended gave back.
#[derive(Debug)]
pub(super) struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// The first line of stderr (else of stdout), for a message.
    pub fn first_line(&self) -> &str {
        let text = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        text.lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
    }
}

/// Run `cmd` with `stdin` as its input, waiting at most `timeout`; an
/// `Err` says why it could not be run or was stopped.
pub(super) fn run(mut cmd: Command, stdin: &[u8], timeout: Duration) -> Result<Ran, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let input = stdin.to_vec();
    let mut pipe = child.stdin.take();
    // A process that stops reading early closes the pipe: the write fails, which is fine.
    let writer = std::thread::spawn(move || {
        if let Some(p) = pipe.as_mut() {
            let _ = p.write_all(&input);
        }
    });
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program} took more than {}",
                    humantime::format_duration(timeout)
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(format!("waiting for {program}: {e}")),
        }
    };
    let _ = writer.join();
    Ok(Ran {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// A thread reading `pipe` up to [`MAX_OUTPUT_BYTES`].
fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(p) = pipe {
            let _ = p.take(MAX_OUTPUT_BYTES).read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_past_its_time_out_is_killed() {
        let mut cmd = Command::new("sleep");
        cmd.arg("5");
        let started = Instant::now();
        let err = run(cmd, b"", Duration::from_millis(100)).expect_err("stopped");
        assert!(err.contains("took more than 100ms"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn input_reaches_the_process_and_output_comes_back() {
        let ran = run(Command::new("cat"), b"payload", Duration::from_secs(5)).expect("ran");
        assert!(ran.status.success());
        assert_eq!(ran.stdout, "payload");
    }

    #[test]
    fn output_is_read_up_to_the_bound() {
        let mut cmd = Command::new("head");
        cmd.args(["-c", "200000", "/dev/zero"]);
        let ran = run(cmd, b"", Duration::from_secs(5)).expect("ran");
        assert_eq!(ran.stdout.len() as u64, MAX_OUTPUT_BYTES);
    }
}
