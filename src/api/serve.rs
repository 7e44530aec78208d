//! Serving the API over hyper directly, with the bounds `axum::serve`
//! lacks: a connection limit, a header-read timeout, an idle timeout, a
//! request timeout and a maximum header size. Every HTTP bound lives in
//! one [`HttpLimits`] value with documented defaults (the bulk and body
//! bounds are applied by the routes).
//!
//! What each timer covers (hyper 1.x, verified by `tests/it/http_limits.rs`):
//! hyper's header-read timer starts whenever the connection is ready for a
//! request head — at accept and again after each answer — so it bounds a
//! client that never sends, a slowloris that sends its head a byte at a
//! time, and the keep-alive wait between requests alike. It does not cover
//! the body or the answer: `request_timeout` bounds one request from its
//! complete head to the handler's answer (a stalled upload included: 408),
//! and our own idle timer closes a connection that moves no byte either
//! way for `idle_timeout` while no handler is running (a client that stops
//! reading its answer).
//!
//! Beyond `max_connections` a new connection is closed at once, after a
//! best-effort `503` line, rather than left in the kernel's backlog: a
//! flood then costs one descriptor for an instant and is not queued ahead
//! of the clients that come after it.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::response::IntoResponse as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use super::error::ApiError;

/// Descriptors kept for everything but connections: reloads (Git packs,
/// `svnlook` pipes, the published file), the hook socket, the file
/// watcher, the state folder and logs.
pub const RESERVED_FDS: u64 = 128;

/// Every bound of the HTTP API, with its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// From the moment a connection can take a request (accept, or the end
    /// of the previous answer) until the request head is complete.
    /// Default: 10 s.
    pub header_read_timeout: Duration,
    /// A connection that moves no byte either way for this long, with no
    /// handler running, is closed. Default: 60 s.
    pub idle_timeout: Duration,
    /// One request, from its head to the handler's answer (body included);
    /// beyond it the answer is 408. Default: 30 s.
    pub request_timeout: Duration,
    /// The request line and headers together. Beyond: 431. Default: 32 KiB.
    pub max_header_bytes: usize,
    /// Open connections at once; beyond, a new one is closed at once.
    /// Lowered at start to fit the descriptor limit (see
    /// [`HttpLimits::fit_descriptors`]). Default: 512.
    pub max_connections: usize,
    /// A request body. Beyond: 413. Default: 1 MiB.
    pub max_body_bytes: usize,
    /// Decisions asked by one `POST /v1/check`. Beyond: 413. Default: 10,000.
    pub max_bulk_decisions: usize,
    /// The JSON answer of one `POST /v1/check`, counted while it is built.
    /// Beyond: 413. Default: 2 MiB.
    pub max_answer_bytes: usize,
    /// Heavy requests (bulk check, explain, user view) running at once on
    /// the blocking pool; beyond, 503 with `Retry-After: 1`. Default: 4.
    pub max_heavy_requests: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            max_header_bytes: 32 * 1024,
            max_connections: 512,
            max_body_bytes: 1024 * 1024,
            max_bulk_decisions: 10_000,
            max_answer_bytes: 2 * 1024 * 1024,
            max_heavy_requests: 4,
        }
    }
}

impl HttpLimits {
    /// The limits with `max_connections` lowered so that connections leave
    /// [`RESERVED_FDS`] descriptors of `nofile` free (or half of them, when
    /// the limit is that small).
    pub fn fit_descriptors(self, nofile: u64) -> HttpLimits {
        let room = nofile.saturating_sub(RESERVED_FDS).max(nofile / 2).max(1);
        let room = usize::try_from(room).unwrap_or(usize::MAX);
        HttpLimits {
            max_connections: self.max_connections.min(room),
            ..self
        }
    }
}

/// When a connection last moved a byte, and how many of its requests are
/// in a handler.
#[derive(Debug)]
struct Activity {
    start: Instant,
    /// Milliseconds since `start`.
    last: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last.load(Ordering::Relaxed))
    }

    fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) > 0
    }
}

/// Counts a request as in a handler while alive.
#[derive(Debug)]
struct InFlight(Arc<Activity>);

impl InFlight {
    fn enter(a: &Arc<Activity>) -> Self {
        a.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(a.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A TCP stream that records when it last moved a byte.
#[derive(Debug)]
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// How long shutdown waits for open connections to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serve `router` on `listener` within `limits` until `stop` turns true;
/// then stop accepting, let open requests finish (at most
/// [`SHUTDOWN_GRACE`]) and return.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_header_bytes.max(8192) + 8192);
    let mut refused: u64 = 0;
    loop {
        let stream = tokio::select! {
            () = stopped(&mut stop) => break,
            r = listener.accept() => match r {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept:
                    // wait a little rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    refused,
                    "too many connections; new ones are closed"
                );
            }
            refuse(&stream, limits.max_connections);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let builder = builder.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            connection(stream, router, &builder, limits, stop).await;
            drop(permit);
        });
    }
    drop(listener);
    let all = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    if tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace; dropped");
    }
    Ok(())
}

/// Until `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// A best-effort 503 on a connection beyond the limit; it is then closed.
fn refuse(stream: &TcpStream, max: usize) {
    let body = ApiError::bare(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("too many connections (max_connections = {max})"),
    )
    .body_text();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(head.as_bytes());
}

/// One connection, until it closes, idles out or shutdown has let its
/// request finish.
async fn connection(
    stream: TcpStream,
    router: Router,
    builder: &http1::Builder,
    limits: HttpLimits,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let inner = TowerToHyperService::new(router);
    let timeout = limits.request_timeout;
    let seen = activity.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let guard = InFlight::enter(&seen);
        let answer = inner.call(req);
        async move {
            let _guard = guard;
            match tokio::time::timeout(timeout, answer).await {
                Ok(r) => r,
                Err(_) => Ok::<Response<Body>, Infallible>(timed_out(timeout)),
            }
        }
    });
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        let deadline = if activity.busy() {
            Instant::now() + limits.idle_timeout
        } else {
            activity.last() + limits.idle_timeout
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection closed");
                }
                return;
            }
            () = stopped(&mut stop), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(deadline) => {
                if !activity.busy() && activity.last() + limits.idle_timeout <= Instant::now() {
                    tracing::debug!(idle_timeout = ?limits.idle_timeout, "idle connection closed");
                    return;
                }
            }
        }
    }
}

fn timed_out(limit: Duration) -> Response<Body> {
    ApiError::bare(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the request took longer than request_timeout = {}",
            humantime::format_duration(limit)
        ),
    )
    .with_header(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_leave_reserved_descriptors() {
        let l = HttpLimits::default();
        assert_eq!(l.fit_descriptors(1 << 20).max_connections, 512);
        assert_eq!(l.fit_descriptors(1024).max_connections, 512);
        assert_eq!(l.fit_descriptors(512).max_connections, 384);
        assert_eq!(l.fit_descriptors(256).max_connections, 128);
        assert_eq!(l.fit_descriptors(100).max_connections, 50);
        assert_eq!(l.fit_descriptors(0).max_connections, 1);
    }

    #[tokio::test]
    async fn a_timed_out_request_answers_408_with_the_bound() {
        let r = timed_out(Duration::from_millis(1500));
        assert_eq!(r.status(), StatusCode::REQUEST_TIMEOUT);
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .expect("body");
        assert_eq!(
            std::str::from_utf8(&bytes).expect("UTF-8"),
            r#"{"error":"the request took longer than request_timeout = 1s 500ms"}"#
        );
    }

    #[tokio::test]
    async fn a_connection_beyond_the_limit_gets_these_bytes() {
        use tokio::io::AsyncReadExt as _;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut client = TcpStream::connect(addr).await.expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        server.writable().await.expect("writable");
        refuse(&server, 7);
        drop(server);
        let mut got = String::new();
        client.read_to_string(&mut got).await.expect("read");
        assert_eq!(
            got,
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 54\r\n\r\n{\"error\":\"too many connections (max_connections = 7)\"}"
        );
    }
}
