//! `rolesync fleet status URL…`: ask each daemon's `/v1/status` (all at
//! once, each within a time-out and a response bound, with hyper's HTTP/1
//! client), then judge the answers together: which revision the fleet
//! serves, and each daemon's state — `ok`, `stale` (its newest revision is
//! bad, its remote unreachable, or nothing applied yet), `unreachable`,
//! `refused` (a commit it would not apply: a force-push back, a signature)
//! or `diverged` (it serves another revision than the fleet). Exit 1
//! unless every daemon is `ok`.
//!
//! The answers are read into DTOs of their own (every field optional, so
//! that a daemon older or newer than this one still answers); the
//! judgement (`assess`) is a pure function of them.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

use crate::cli::{FleetArgs, FleetCommand, FleetFormat, FleetStatusArgs};

/// Bytes of one `/v1/status` answer, at most (the applied revision's
/// warnings are in it).
pub const MAX_STATUS_BYTES: usize = 8 * 1024 * 1024;
/// The port of a URL that names none: `serve`'s default.
const DEFAULT_PORT: u16 = 8411;
/// The environment variable that holds the bearer token.
pub const TOKEN_ENV: &str = "ROLESYNC_TOKEN";

pub fn run(args: &FleetArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        FleetCommand::Status(status) => run_status(status),
    }
}

fn run_status(args: &FleetStatusArgs) -> anyhow::Result<ExitCode> {
    let targets = args
        .urls
        .iter()
        .map(|u| Target::parse(u))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let token = token(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let answers = runtime.block_on(ask_all(&targets, token.as_deref(), args.timeout));
    let fleet = assess(answers);
    match args.format {
        FleetFormat::Text => print!("{}", fleet.text()),
        FleetFormat::Json => println!("{}", serde_json::to_string_pretty(&fleet)?),
    }
    Ok(ExitCode::from(if fleet.all_ok {
        super::EXIT_OK
    } else {
        super::EXIT_INVALID
    }))
}

/// The token of `--token-file`, else of `ROLESYNC_TOKEN` (never a flag's value).
fn token(args: &FleetStatusArgs) -> anyhow::Result<Option<String>> {
    if let Some(path) = &args.token_file {
        return super::serve::read_token(Some(path));
    }
    Ok(std::env::var(TOKEN_ENV)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty()))
}

/// A daemon's API: `http://` + authority (`host:port`) + a path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub authority: String,
    pub prefix: String,
}

impl Target {
    /// `http://HOST[:PORT][/PREFIX]` or `HOST[:PORT]`; `https://` and a
    /// user name or password in the URL are refused.
    pub fn parse(url: &str) -> anyhow::Result<Target> {
        if url.starts_with("https://") {
            bail!("{url}: https is not supported (the daemon's API speaks plain HTTP)");
        }
        let rest = url.strip_prefix("http://").unwrap_or(url);
        if rest.contains("://") {
            bail!("{url}: only http:// URLs are asked");
        }
        let (authority, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() || authority.contains('@') {
            bail!("{url}: give http://HOST:PORT (no user name or password in the URL)");
        }
        let has_port = match authority.rfind(']') {
            Some(end) => authority[end..].contains(':'),
            None => authority.contains(':'),
        };
        let authority = if has_port {
            authority.to_owned()
        } else {
            format!("{authority}:{DEFAULT_PORT}")
        };
        let prefix = prefix.trim_end_matches('/');
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("/{prefix}")
        };
        Ok(Target { authority, prefix })
    }

    /// `http://AUTHORITY/PREFIX`, as printed.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.prefix)
    }
}

/// Every daemon's answer, in the order given.
async fn ask_all(
    targets: &[Target],
    token: Option<&str>,
    timeout: Duration,
) -> Vec<(String, Result<StatusDto, String>)> {
    let tasks: Vec<_> = targets
        .iter()
        .map(|t| {
            let (t, token) = (t.clone(), token.map(str::to_owned));
            tokio::spawn(async move {
                let answer = tokio::time::timeout(timeout, ask(&t, token.as_deref()))
                    .await
                    .unwrap_or_else(|_| {
                        Err(format!(
                            "no answer within {}",
                            humantime::format_duration(timeout)
                        ))
                    });
                (t.url(), answer)
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for (task, target) in tasks.into_iter().zip(targets) {
        answers.push(
            task.await
                .unwrap_or_else(|e| (target.url(), Err(format!("task: {e}")))),
        );
    }
    answers
}

/// `GET PREFIX/v1/status` of one daemon, its answer bounded.
async fn ask(target: &Target, token: Option<&str>) -> Result<StatusDto, String> {
    use axum::http::{Request, StatusCode, header};
    let stream = tokio::net::TcpStream::connect(&target.authority)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(conn);
    let mut request = Request::get(format!("{}/v1/status", target.prefix))
        .header(header::HOST, &target.authority)
        .header(
            header::USER_AGENT,
            concat!("rolesync/", env!("CARGO_PKG_VERSION")),
        );
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let request = request
        .body(axum::body::Body::empty())
        .map_err(|e| format!("request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let status = response.status();
    let body = axum::body::to_bytes(
        axum::body::Body::new(response.into_body()),
        MAX_STATUS_BYTES,
    )
    .await
    .map_err(|e| format!("the answer (at most {MAX_STATUS_BYTES} bytes): {e}"))?;
    if status != StatusCode::OK {
        let text = String::from_utf8_lossy(&body);
        return Err(format!("HTTP {status}: {}", text.trim()));
    }
    serde_json::from_slice(&body).map_err(|e| format!("the answer is no status: {e}"))
}

/// What this command reads of `/v1/status` (every field optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StatusDto {
    pub applied: Option<AppliedDto>,
    pub attempted: Option<AttemptedDto>,
    pub stale_since: Option<String>,
    pub remote: Option<RemoteDto>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppliedDto {
    pub revision: String,
    pub applied_at: Option<String>,
    pub commit_time: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AttemptedDto {
    pub result: Option<String>,
    pub revision: Option<String>,
    pub errors: Vec<ErrorDto>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ErrorDto {
    pub code: String,
    pub message: String,
}

/// The `remote` object of a daemon that follows a remote repository.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RemoteDto {
    pub head: Option<String>,
    pub unreachable_since: Option<String>,
    pub refused: Option<String>,
}

/// A daemon's state in the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Ok,
    Stale,
    Unreachable,
    Refused,
    Diverged,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Stale => "stale",
            State::Unreachable => "unreachable",
            State::Refused => "refused",
            State::Diverged => "diverged",
        }
    }
}

/// How far a daemon is behind the head of its remote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lag {
    pub head: String,
    pub behind: bool,
    /// SVN: revisions between the applied one and the head.
    pub revisions: Option<u64>,
}

/// One daemon, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Server {
    pub url: String,
    pub state: State,
    pub applied_revision: Option<String>,
    pub applied_at: Option<String>,
    pub lag: Option<Lag>,
    /// Why the state is not `ok`.
    pub detail: Option<String>,
}

/// The fleet, judged: the revision most daemons serve and each daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fleet {
    pub revision: Option<String>,
    pub all_ok: bool,
    pub servers: Vec<Server>,
}

/// Judge the answers together: the fleet's revision is the one most
/// daemons serve (a tie goes to the newest commit, then the smallest id);
/// each daemon's state, strongest first, is unreachable, refused, stale,
/// diverged, ok.
pub fn assess(answers: Vec<(String, Result<StatusDto, String>)>) -> Fleet {
    let revision = fleet_revision(&answers);
    let servers: Vec<Server> = answers
        .into_iter()
        .map(|(url, answer)| judge(url, answer, revision.as_deref()))
        .collect();
    Fleet {
        all_ok: servers.iter().all(|s| s.state == State::Ok),
        revision,
        servers,
    }
}

fn fleet_revision(answers: &[(String, Result<StatusDto, String>)]) -> Option<String> {
    let mut votes: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
    for applied in answers
        .iter()
        .filter_map(|(_, a)| a.as_ref().ok()?.applied.as_ref())
    {
        let vote = votes.entry(applied.revision.as_str()).or_default();
        vote.0 += 1;
        vote.1 = vote.1.max(applied.commit_time.unwrap_or(i64::MIN));
    }
    // BTreeMap order: among equal votes and times the smallest id wins.
    votes
        .into_iter()
        .rev()
        .max_by_key(|(_, vote)| *vote)
        .map(|(rev, _)| rev.to_owned())
}

fn judge(url: String, answer: Result<StatusDto, String>, fleet: Option<&str>) -> Server {
    let status = match answer {
        Ok(status) => status,
        Err(e) => {
            return Server {
                url,
                state: State::Unreachable,
                applied_revision: None,
                applied_at: None,
                lag: None,
                detail: Some(e),
            };
        }
    };
    let applied = status.applied.as_ref();
    let revision = applied.map(|a| a.revision.clone());
    let (state, detail) = state_of(&status, fleet);
    Server {
        url,
        state,
        lag: lag(&status),
        applied_at: applied.and_then(|a| a.applied_at.clone()),
        applied_revision: revision,
        detail,
    }
}

/// The state of a daemon that answered, and why it is not `ok`.
fn state_of(status: &StatusDto, fleet: Option<&str>) -> (State, Option<String>) {
    let remote = status.remote.as_ref();
    if let Some(why) = remote.and_then(|r| r.refused.clone()) {
        return (State::Refused, Some(why));
    }
    if let Some(why) = refusal(status.attempted.as_ref()) {
        return (State::Refused, Some(why));
    }
    if let Some(since) = &status.stale_since {
        return (
            State::Stale,
            Some(format!("its newest revision is bad since {since}")),
        );
    }
    if let Some(since) = remote.and_then(|r| r.unreachable_since.as_ref()) {
        return (
            State::Stale,
            Some(format!("its remote is unreachable since {since}")),
        );
    }
    let Some(applied) = &status.applied else {
        return (State::Stale, Some("nothing applied yet".to_owned()));
    };
    match fleet {
        Some(f) if f != applied.revision => (
            State::Diverged,
            Some(format!("serves {}, the fleet {f}", applied.revision)),
        ),
        _ => (State::Ok, None),
    }
}

/// A last attempt that failed on a commit signature (`commit-*` codes).
fn refusal(attempted: Option<&AttemptedDto>) -> Option<String> {
    let a = attempted.filter(|a| a.result.as_deref() == Some("failed"))?;
    let e = a.errors.iter().find(|e| e.code.starts_with("commit-"))?;
    let revision = a.revision.as_deref().unwrap_or("?");
    Some(format!("{revision}: {}: {}", e.code, e.message))
}

fn lag(status: &StatusDto) -> Option<Lag> {
    let head = status.remote.as_ref()?.head.clone()?;
    let applied = &status.applied.as_ref()?.revision;
    let revisions = match (head.parse::<u64>(), applied.parse::<u64>()) {
        (Ok(h), Ok(a)) => Some(h.saturating_sub(a)),
        _ => None,
    };
    Some(Lag {
        behind: head != *applied,
        head,
        revisions,
    })
}

impl Fleet {
    /// One line per daemon, in columns: URL, revision, applied since,
    /// lag, state, then why it is not `ok`.
    pub fn text(&self) -> String {
        let rows: Vec<[String; 5]> = self.servers.iter().map(Server::columns).collect();
        let mut widths = [0; 5];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for (row, server) in rows.iter().zip(&self.servers) {
            let mut line = String::new();
            for (cell, w) in row.iter().zip(widths) {
                line.push_str(&format!("{cell:<w$}  "));
            }
            if let Some(d) = &server.detail {
                line.push_str(d);
            }
            out.push_str(crate::diag::escape_controls(line.trim_end()).as_ref());
            out.push('\n');
        }
        out
    }
}

impl Server {
    fn columns(&self) -> [String; 5] {
        let dash = || "-".to_owned();
        let lag = match &self.lag {
            None => dash(),
            Some(l) if !l.behind => "0".to_owned(),
            Some(Lag {
                revisions: Some(n), ..
            }) => format!("{n} behind"),
            Some(l) => format!("behind {}", short(&l.head)),
        };
        [
            self.url.clone(),
            self.applied_revision.as_deref().map_or_else(dash, short),
            self.applied_at.clone().unwrap_or_else(dash),
            lag,
            self.state.as_str().to_owned(),
        ]
    }
}

/// A Git commit id's first 12 digits; anything shorter as it is.
fn short(revision: &str) -> String {
    revision.chars().take(12).collect()
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
