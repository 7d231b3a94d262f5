//! The accept loop: every TCP connection the server holds, under a cap and
//! timeouts, so slow or silent clients cannot lock the others out.
//!
//! - **A connection cap** ([`Connections::max`]): at the cap the loop stops
//!   accepting (new clients wait in the kernel's listen backlog) and logs it
//!   once, until a connection closes. The cap is what keeps the server below
//!   its descriptor limit: without it, `accept` fails with "too many open
//!   files" and nobody is served.
//! - **Header and idle timeout** ([`Connections::header_timeout`]): a request's
//!   headers must be complete this long after the connection opens or its
//!   previous response ends (hyper's header-read timer covers both), or the
//!   connection is closed.
//! - The **body timeout** is the router's (`routes::guard`): the whole body must
//!   arrive within it, or the answer is 408.
//! - **A send timeout**: an answer that makes no progress for 30 s (a client
//!   that stopped reading) closes its connection, and a stop waits at most
//!   30 s for the connections still open.
//! - **JSON for hyper's own errors**: a request hyper cannot parse (a
//!   malformed head, a URI over 64 KiB, headers over 96 KiB or 100 fields)
//!   is answered by hyper itself, with an empty body, before the router sees
//!   it. [`JsonErrors`] gives those answers the `{"error": …}` body every
//!   other 4xx has.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::Log;

/// Limits on the connections the server holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// Most connections open at once; more wait in the listen backlog.
    pub max: usize,
    /// How long a request's headers may take, counted from the connection's
    /// start or the end of its previous response (so also the idle keep-alive
    /// time).
    pub header_timeout: Duration,
    /// How long a request's whole body may take to arrive.
    pub body_timeout: Duration,
}

impl Default for Connections {
    fn default() -> Self {
        Self { max: 512, header_timeout: Duration::from_secs(30), body_timeout: Duration::from_secs(30) }
    }
}

/// Accepts connections on `listener` and serves `router` on each until
/// `shutdown` resolves; then stops accepting, lets requests in flight finish
/// (idle connections are closed) and returns.
pub(crate) async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Connections,
    log: Log,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // One contiguous write per flush, so JsonErrors sees whole heads.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_headers(100)
        .max_header_size(MAX_HEAD)
        .writev(false);
    tokio::pin!(shutdown);
    // When the cap was last reported: once a minute at most, a server at its
    // cap fills no log.
    let mut reported: Option<std::time::Instant> = None;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if reported.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                    log(&format!(
                        "warning: {} connections open, the most allowed (--max-connections): new clients wait until one closes",
                        limits.max
                    ));
                    reported = Some(std::time::Instant::now());
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A client that went away before it was accepted: nothing to say.
                Err(e) if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
                ) => continue,
                Err(e) => {
                    // Out of descriptors or memory for a moment: wait, do not spin.
                    log(&format!("warning: accepting a connection failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(JsonErrors::new(stream)), service));
        tokio::spawn(async move {
            // A client that goes away or times out ends its connection; nothing to report.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_WAIT, graceful.shutdown()).await.is_err() {
        log(&format!("warning: connections still open {} s after the stop were closed", SHUTDOWN_WAIT.as_secs()));
    }
}

/// How long a stop waits for the requests in flight.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(30);

/// How long an answer may make no progress (a client that stopped reading)
/// before its connection is closed.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest request head (request line and headers) read, in bytes:
/// above hyper's URI limit (64 KiB), so a long URI is a 414.
const MAX_HEAD: usize = 96 << 10;

/// The answers hyper writes itself, for requests it cannot parse, and what
/// each says.
const HYPER_ERRORS: [(&[u8], &str); 3] = [
    (b"400 Bad Request", "a malformed HTTP request"),
    (b"414 URI Too Long", "the request's URI is longer than 65,534 bytes"),
    (b"431 Request Header Fields Too Large", "the request's headers are over 96 KiB or 100 fields"),
];

/// A connection whose outgoing bytes pass unchanged, except hyper's own
/// error answers, which gain a JSON body.
///
/// hyper writes such an answer as the connection's last bytes: a head of
/// exactly `HTTP/1.1 <status>`, `connection: close`, `content-length: 0` and
/// `date`. The router never answers 400, 414 or 431 without a body, so that
/// head is hyper's; it is recognised only at the end of a write and replaced
/// whole.
///
/// It also bounds how long an answer may stall: a write that makes no
/// progress for [`SEND_TIMEOUT`] (a client that stopped reading) fails, and
/// the connection closes, freeing its slot under the cap.
pub(crate) struct JsonErrors<S> {
    inner: S,
    /// The replacement answer still to write, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
    /// Since when writing has made no progress.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> JsonErrors<S> {
    fn new(inner: S) -> Self {
        Self { inner, pending: None, stalled: None }
    }
}

/// Where an automatic error head starts in `buf` (it must end `buf`), and
/// the answer with a JSON body to send instead.
fn automatic_error(buf: &[u8]) -> Option<(usize, Vec<u8>)> {
    // The head is under 200 bytes: only the end of a write is looked at.
    let from = buf.len().saturating_sub(256);
    let (start, tail) =
        (from..buf.len()).rev().find_map(|i| buf[i..].starts_with(b"HTTP/1.1 ").then(|| (i, &buf[i..])))?;
    let rest = &tail[b"HTTP/1.1 ".len()..];
    let (status, message) = HYPER_ERRORS.iter().find(|(s, _)| rest.starts_with(s))?;
    let fields = rest[status.len()..].strip_prefix(b"\r\nconnection: close\r\ncontent-length: 0\r\ndate: ")?;
    let date_end = fields.windows(2).position(|w| w == b"\r\n")?;
    if &fields[date_end..] != b"\r\n\r\n" {
        return None;
    }
    let body = serde_json::to_vec(&serde_json::json!({ "error": message })).expect("JSON");
    let mut answer = Vec::with_capacity(160 + body.len());
    answer.extend_from_slice(b"HTTP/1.1 ");
    answer.extend_from_slice(status);
    answer.extend_from_slice(b"\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ");
    answer.extend_from_slice(body.len().to_string().as_bytes());
    answer.extend_from_slice(b"\r\ndate: ");
    answer.extend_from_slice(&fields[..date_end]);
    answer.extend_from_slice(b"\r\n\r\n");
    answer.extend_from_slice(&body);
    Some((start, answer))
}

/// `poll` of a write to the client, failing it once writes have made no
/// progress for [`SEND_TIMEOUT`] (`stalled` holds since when).
fn progress<T>(
    stalled: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    cx: &mut Context<'_>,
    poll: Poll<io::Result<T>>,
) -> Poll<io::Result<T>> {
    if poll.is_ready() {
        *stalled = None;
        return poll;
    }
    let timer = stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(SEND_TIMEOUT)));
    match std::future::Future::poll(timer.as_mut(), cx) {
        Poll::Ready(()) => {
            Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client read nothing of its answer for 30 s")))
        }
        Poll::Pending => Poll::Pending,
    }
}

impl<S: AsyncWrite + Unpin> JsonErrors<S> {
    /// Writes what is left of the replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((answer, written)) = &mut self.pending {
            if *written == answer.len() {
                self.pending = None;
                break;
            }
            let poll = Pin::new(&mut self.inner).poll_write(cx, &answer[*written..]);
            match progress(&mut self.stalled, cx, poll) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonErrors<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonErrors<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.poll_pending(cx)?.is_pending() {
            return Poll::Pending;
        }
        match automatic_error(buf) {
            // The bytes before the head first, as they are.
            Some((start, _)) if start > 0 => {
                let poll = Pin::new(&mut this.inner).poll_write(cx, &buf[..start]);
                progress(&mut this.stalled, cx, poll)
            }
            Some((_, answer)) => {
                this.pending = Some((answer, 0));
                // Taken whole: what is not written yet goes out on the next
                // write, flush or shutdown.
                let _ = this.poll_pending(cx)?;
                Poll::Ready(Ok(buf.len()))
            }
            None => {
                let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
                progress(&mut this.stalled, cx, poll)
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.poll_pending(cx)?.is_pending() {
            return Poll::Pending;
        }
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        progress(&mut this.stalled, cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.poll_pending(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &[u8] = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\ndate: Sun, 06 Dec 2026 18:59:34 GMT\r\n\r\n";

    #[test]
    fn hypers_error_heads_gain_a_json_body_and_nothing_else_changes() {
        let (start, answer) = automatic_error(HEAD).unwrap();
        assert_eq!(start, 0);
        let text = String::from_utf8(answer).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(head.contains("content-type: application/json") && head.contains("date: Sun, 06 Dec 2026"));
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(json["error"].as_str().unwrap().contains("URI"));
        // After a pipelined answer: found where it starts.
        let mut two = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".to_vec();
        two.extend_from_slice(HEAD);
        assert_eq!(automatic_error(&two).unwrap().0, two.len() - HEAD.len());
        // Not at the end, with a body, or another status: left alone.
        let mut more = HEAD.to_vec();
        more.push(b'x');
        assert!(automatic_error(&more).is_none());
        let body = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert!(automatic_error(body).is_none());
        assert!(automatic_error(&HEAD.iter().map(|&b| if b == b'4' { b'5' } else { b }).collect::<Vec<_>>()).is_none());
    }
}
