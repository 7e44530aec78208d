//! The validation socket's protocol (`daemon::validate`): one request, one
//! answer per connection, both length-prefixed binary (integers
//! little-endian, strings `u32 len` then UTF-8), and the hook's side of it
//! ([`ask`]).
//!
//! ```text
//! request:  "RSVALRQ\0" u32 version
//!           str identity          (`Source::cache_identity` of the hook's source)
//!           str limits            (the hook's `Limits`, as `{:?}`: other limits, no answer)
//!           str base              (the revision in force the hook expects)
//!           str revision          (the change's: transaction name, commit id)
//!           u8 meta (0/1), then str author, i64 time, str message
//!           str what, str invalid, u8 warn   (`validate_verdict::Named`, `check`'s `warn`)
//!           u32 count, then per changed file: str path, u8 kept (0: removed),
//!                                             then u64 len, bytes
//! answer:   "RSVALAN\0" u32 version
//!           str revision          (the revision in force the daemon judged against)
//!           u8 verdict            (0 accepted, 1 accepted with warnings, 2 invalid,
//!                                  3 unreadable, 255 refused: the hook builds itself)
//!           u64 len, bytes        (what the hook prints; a refusal's reason)
//! ```
//!
//! A decoder never reads past what it was given and never allocates more
//! than the bytes it holds; anything else is an error (the daemon refuses,
//! the hook builds itself).

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use super::validate_verdict::Verdict;
use crate::snapshot::RevisionMeta;

/// The validation socket's file name in the state folder.
pub const VALIDATE_SOCKET: &str = "rolesync-validate.sock";
const REQUEST_MAGIC: &[u8; 8] = b"RSVALRQ\0";
const ANSWER_MAGIC: &[u8; 8] = b"RSVALAN\0";
const VERSION: u32 = 1;
/// Bytes of an answer the hook reads at most: 16 MiB of messages.
pub const MAX_ANSWER_BYTES: usize = 16 << 20;
/// How long the hook waits for the daemon's answer (connect, send, read)
/// before it builds itself.
pub const TIMEOUT: Duration = Duration::from_secs(2);
const REFUSED: u8 = 255;

/// A hook's change to judge, against the revision in force `base`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub identity: String,
    pub limits: String,
    pub base: String,
    pub revision: String,
    pub meta: Option<RevisionMeta>,
    pub what: String,
    pub invalid: String,
    pub warn: bool,
    /// The files the change adds or changes (`Some`) or removes (`None`),
    /// relative to the files of `base`.
    pub changed: Vec<(String, Option<Vec<u8>>)>,
}

/// The daemon's answer: the verdict on the change and what the hook
/// prints (`None`: refused, with why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The revision in force the change was judged against.
    pub revision: String,
    pub verdict: Result<Verdict, String>,
    pub messages: Vec<u8>,
}

/// Why a request or an answer cannot be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed {0}")]
pub struct Malformed(&'static str);

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

impl Request {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = REQUEST_MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        for s in [&self.identity, &self.limits, &self.base, &self.revision] {
            put_str(&mut out, s);
        }
        match &self.meta {
            None => out.push(0),
            Some(m) => {
                out.push(1);
                put_str(&mut out, &m.author);
                out.extend_from_slice(&m.time.to_le_bytes());
                put_str(&mut out, &m.message);
            }
        }
        put_str(&mut out, &self.what);
        put_str(&mut out, &self.invalid);
        out.push(u8::from(self.warn));
        out.extend_from_slice(&(self.changed.len() as u32).to_le_bytes());
        for (path, bytes) in &self.changed {
            put_str(&mut out, path);
            match bytes {
                None => out.push(0),
                Some(b) => {
                    out.push(1);
                    put_bytes(&mut out, b);
                }
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Request, Malformed> {
        let mut r = Reader::start(bytes, REQUEST_MAGIC, "request")?;
        let mut req = Request {
            identity: r.string()?,
            limits: r.string()?,
            base: r.string()?,
            revision: r.string()?,
            ..Request::default()
        };
        req.meta = match r.byte()? {
            0 => None,
            1 => Some(RevisionMeta {
                author: r.string()?,
                time: i64::from_le_bytes(r.array()?),
                message: r.string()?,
            }),
            _ => return Err(r.malformed()),
        };
        req.what = r.string()?;
        req.invalid = r.string()?;
        req.warn = r.flag()?;
        let count = u32::from_le_bytes(r.array()?);
        for _ in 0..count {
            let path = r.string()?;
            let kept = r
                .flag()?
                .then(|| r.bytes().map(<[u8]>::to_vec))
                .transpose()?;
            req.changed.push((path, kept));
        }
        r.end()?;
        Ok(req)
    }
}

impl Answer {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = ANSWER_MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        put_str(&mut out, &self.revision);
        let (code, messages) = match &self.verdict {
            Ok(v) => (verdict_code(v), self.messages.as_slice()),
            Err(why) => (REFUSED, why.as_bytes()),
        };
        out.push(code);
        put_bytes(&mut out, messages);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Answer, Malformed> {
        let mut r = Reader::start(bytes, ANSWER_MAGIC, "answer")?;
        let revision = r.string()?;
        let code = r.byte()?;
        let messages = r.bytes()?.to_vec();
        r.end()?;
        let verdict = match code {
            REFUSED => Err(String::from_utf8_lossy(&messages).into_owned()),
            c => Ok(code_verdict(c).ok_or(Malformed("answer"))?),
        };
        Ok(Answer {
            revision,
            verdict,
            messages,
        })
    }
}

fn verdict_code(v: &Verdict) -> u8 {
    match v {
        Verdict::Accepted { warnings: false } => 0,
        Verdict::Accepted { warnings: true } => 1,
        Verdict::Invalid => 2,
        Verdict::Unreadable => 3,
    }
}

fn code_verdict(c: u8) -> Option<Verdict> {
    Some(match c {
        0 => Verdict::Accepted { warnings: false },
        1 => Verdict::Accepted { warnings: true },
        2 => Verdict::Invalid,
        3 => Verdict::Unreadable,
        _ => return None,
    })
}

/// Reads a request or an answer, never past its end.
struct Reader<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn start(bytes: &'a [u8], magic: &[u8; 8], what: &'static str) -> Result<Self, Malformed> {
        let mut r = Reader { rest: bytes, what };
        if r.take(8)? != magic || u32::from_le_bytes(r.array()?) != VERSION {
            return Err(r.malformed());
        }
        Ok(r)
    }

    fn malformed(&self) -> Malformed {
        Malformed(self.what)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if n > self.rest.len() {
            return Err(self.malformed());
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Malformed> {
        let head = self.take(N)?;
        head.try_into().map_err(|_| self.malformed())
    }

    fn byte(&mut self) -> Result<u8, Malformed> {
        Ok(self.array::<1>()?[0])
    }

    fn flag(&mut self) -> Result<bool, Malformed> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.malformed()),
        }
    }

    fn string(&mut self) -> Result<String, Malformed> {
        let len = u32::from_le_bytes(self.array()?) as usize;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.malformed())
    }

    fn bytes(&mut self) -> Result<&'a [u8], Malformed> {
        let len = u64::from_le_bytes(self.array()?);
        self.take(usize::try_from(len).map_err(|_| self.malformed())?)
    }

    fn end(&self) -> Result<(), Malformed> {
        match self.rest.is_empty() {
            true => Ok(()),
            false => Err(self.malformed()),
        }
    }
}

/// Ask the daemon whose state folder is `dir` to judge `request`: its
/// answer, or why there is none (no daemon, no answer within [`TIMEOUT`],
/// a malformed one). Only an answer judged against `request.base` is
/// returned.
pub fn ask(dir: &Path, request: &Request) -> Result<Answer, String> {
    let deadline = Instant::now() + TIMEOUT;
    let mut stream = std::os::unix::net::UnixStream::connect(dir.join(VALIDATE_SOCKET))
        .map_err(|e| format!("no validation socket: {e}"))?;
    stream
        .set_write_timeout(Some(TIMEOUT))
        .and_then(|()| stream.write_all(&request.encode()))
        .and_then(|()| stream.shutdown(std::net::Shutdown::Write))
        .map_err(|e| format!("sending the request: {e}"))?;
    let bytes = read_until(&mut stream, deadline)?;
    let answer = Answer::decode(&bytes).map_err(|e| e.to_string())?;
    if answer.revision != request.base {
        return Err(format!("judged against revision {}", answer.revision));
    }
    Ok(answer)
}

/// Everything `stream` sends until it closes, before `deadline`, at most
/// [`MAX_ANSWER_BYTES`].
fn read_until(
    stream: &mut std::os::unix::net::UnixStream,
    deadline: Instant,
) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let mut chunk = vec![0; 64 << 10];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("no answer in time".to_owned());
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) if bytes.len() + n <= MAX_ANSWER_BYTES => bytes.extend_from_slice(&chunk[..n]),
            Ok(_) => return Err("answer too large".to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading the answer: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            identity: "svn:uuid:/cfg".into(),
            limits: "Limits { .. }".into(),
            base: "7".into(),
            revision: "7-a".into(),
            meta: Some(RevisionMeta {
                author: "alice".into(),
                time: 1_700_000_000,
                message: "Rails-Override: x".into(),
            }),
            what: "this commit".into(),
            invalid: "makes the configuration invalid".into(),
            warn: true,
            changed: vec![
                ("a.xml".into(), Some(b"<x/>".to_vec())),
                ("b.xml".into(), None),
            ],
        }
    }

    #[test]
    fn a_request_and_an_answer_read_back_as_written() {
        let req = request();
        assert_eq!(Request::decode(&req.encode()), Ok(req));
        for verdict in [Ok(Verdict::Invalid), Err("busy".to_owned())] {
            let answer = Answer {
                revision: "7".into(),
                messages: match &verdict {
                    Ok(_) => b"rolesync: ...\n".to_vec(),
                    Err(why) => why.clone().into_bytes(),
                },
                verdict,
            };
            assert_eq!(Answer::decode(&answer.encode()), Ok(answer));
        }
    }

    /// Every truncation, every appended byte and every changed byte of
    /// the header is refused, never a crash nor a read past the end.
    #[test]
    fn a_truncated_padded_or_garbled_message_is_malformed() {
        let bytes = request().encode();
        for n in 0..bytes.len() {
            assert!(Request::decode(&bytes[..n]).is_err(), "cut at {n}");
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(Request::decode(&padded).is_err());
        for i in 0..12 {
            let mut garbled = bytes.clone();
            garbled[i] ^= 0x40;
            assert!(Request::decode(&garbled).is_err(), "byte {i}");
        }
        let one = Request {
            changed: vec![("a".into(), Some(b"x".to_vec()))],
            ..request()
        };
        let bytes = one.encode();
        let mut huge = bytes[..bytes.len() - 9].to_vec();
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(Request::decode(&huge).is_err());
        assert!(Answer::decode(b"RSVALAN\0\x01\0\0\0\0\0\0\0\x09").is_err());
    }
}
