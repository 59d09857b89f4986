//! The one-shot loopback listener that receives HubSpot's OAuth redirect
//! (`http://localhost:<port>/oauth/callback?code=…&state=…`).
//!
//! Behaviour (peers-and-practice.md §3):
//! - binds the first free port of the configured list on **127.0.0.1 and ::1** (a browser may
//!   resolve `localhost` to either); if ::1 cannot be bound because the machine has no IPv6
//!   loopback, 127.0.0.1 alone is used and logged; if ::1's port is taken by someone else, the
//!   next port is tried. Never binds a non-loopback address.
//! - accepts exactly ONE callback whose `state` matches (constant-time compare). A callback with
//!   a wrong or missing `state` is **not accepted and does not end the wait**: the browser gets an
//!   error page and the listener keeps waiting for the right one. Rationale: any local page can
//!   hit the port, so a forged request must neither complete nor cancel the install.
//! - `error=…` (e.g. `access_denied`) with the right `state` ends the wait as denied.
//! - the right `state` without `code` or `error` gets an error page and the wait continues.
//! - anything else (favicon, scanners, other paths) gets 404 and the wait continues; raw junk
//!   is answered 400 by the HTTP layer.
//! - after success, further callbacks get an "already done" page until the listener shuts down
//!   (then: connection refused).
//! - ends on timeout or cancellation; the servers stop when the listener is waited on or dropped.
//! - cannot be starved: a connection idle for [`IDLE_TIMEOUT`] (nothing read or written) is
//!   closed, and at most [`MAX_OPEN`] connections are kept open over both addresses; a new
//!   one beyond that closes the oldest. Idle sockets held open by another local program (1,100
//!   of them under a 1,024 descriptor limit) therefore neither exhaust the app's descriptors
//!   nor queue the browser's real callback behind them.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::environment::{Environment, CALLBACK_PATH};
use crate::hubspot::oauth::state_matches;
use crate::secrets::Secret;

/// Default time the listener waits for the browser.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// A connection with nothing read or written for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Most connections kept open at once (both addresses together); one more closes the oldest.
pub const MAX_OPEN: usize = 64;

/// Why the wait ended without a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoopbackError {
    /// None of the ports could be bound.
    #[error("none of the callback ports {0:?} is free on 127.0.0.1")]
    PortsBusy(Vec<u16>),
    /// No matching callback in time.
    #[error("no answer from the browser within {0:?}")]
    Timeout(Duration),
    /// Cancelled by the app.
    #[error("cancelled")]
    Cancelled,
    /// HubSpot (or the user) refused: `error` with the right `state`.
    #[error("authorization refused: {error}")]
    Denied {
        /// The `error` parameter, e.g. `access_denied`.
        error: String,
        /// The `error_description` parameter.
        description: Option<String>,
    },
}

enum Outcome {
    Code(Secret),
    Denied { error: String, description: Option<String> },
}

struct Shared {
    expected_state: Secret,
    tx: Mutex<Option<oneshot::Sender<Outcome>>>,
}

/// A bound, waiting callback listener.
#[derive(Debug)]
pub struct LoopbackListener {
    port: u16,
    addrs: Vec<SocketAddr>,
    rx: Option<oneshot::Receiver<Outcome>>,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outcome")
    }
}

impl LoopbackListener {
    /// Binds the first usable port of `ports` and starts serving; `expected_state` is the
    /// install's `state`.
    ///
    /// # Errors
    /// [`LoopbackError::PortsBusy`] when no port can be bound.
    pub async fn bind(ports: &[u16], expected_state: Secret) -> Result<Self, LoopbackError> {
        Self::bind_with(ports, expected_state, IDLE_TIMEOUT, MAX_OPEN).await
    }

    /// [`Self::bind`] with other connection limits (tests).
    async fn bind_with(
        ports: &[u16],
        expected_state: Secret,
        idle: Duration,
        max_open: usize,
    ) -> Result<Self, LoopbackError> {
        let (listeners, port) = bind_loopback(ports).await?;
        let addrs: Vec<SocketAddr> = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
        let (tx, rx) = oneshot::channel();
        let shared = Arc::new(Shared { expected_state, tx: Mutex::new(Some(tx)) });
        let router = axum::Router::new()
            .route(CALLBACK_PATH, get(callback))
            .fallback(|| async { (StatusCode::NOT_FOUND, "Not found") })
            .with_state(shared);
        let shutdown = CancellationToken::new();
        let open = Arc::new(Mutex::new(Open::default()));
        for listener in listeners {
            let listener =
                Guarded { inner: listener, open: open.clone(), limits: Limits { idle, max_open } };
            let router = router.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let serve = axum::serve(listener, router)
                    .with_graceful_shutdown(async move { stop.cancelled().await });
                if let Err(e) = serve.await {
                    tracing::warn!(error = %e, "OAuth callback listener stopped with an error");
                }
            });
        }
        tracing::info!(port, ?addrs, "OAuth callback listener ready");
        Ok(Self { port, addrs, rx: Some(rx), shutdown })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The addresses listened on (127.0.0.1 and, when available, ::1).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// `http://localhost:<port>/oauth/callback`.
    pub fn redirect_uri(&self) -> String {
        Environment::redirect_uri(self.port)
    }

    /// Waits for the matching callback, the timeout or `cancel`. The servers stop afterwards.
    ///
    /// # Errors
    /// [`LoopbackError::Timeout`], [`LoopbackError::Cancelled`], [`LoopbackError::Denied`].
    pub async fn wait(
        mut self,
        timeout: Duration,
        cancel: CancellationToken,
    ) -> Result<Secret, LoopbackError> {
        let Some(rx) = self.rx.take() else { return Err(LoopbackError::Cancelled) };
        let result = tokio::select! {
            r = tokio::time::timeout(timeout, rx) => match r {
                Ok(Ok(Outcome::Code(code))) => Ok(code),
                Ok(Ok(Outcome::Denied { error, description })) => {
                    Err(LoopbackError::Denied { error, description })
                }
                Ok(Err(_)) => Err(LoopbackError::Cancelled),
                Err(_) => Err(LoopbackError::Timeout(timeout)),
            },
            _ = cancel.cancelled() => Err(LoopbackError::Cancelled),
        };
        // Graceful shutdown: no new connections; the page being written still completes.
        self.shutdown.cancel();
        result
    }

    /// Stops the servers now.
    pub fn close(&self) {
        self.shutdown.cancel();
    }
}

impl Drop for LoopbackListener {
    fn drop(&mut self) {
        if self.rx.is_some() {
            self.shutdown.cancel();
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    idle: Duration,
    max_open: usize,
}

/// The open connections, oldest first, each with the token that closes it.
#[derive(Debug, Default)]
struct Open {
    next_id: u64,
    conns: VecDeque<(u64, CancellationToken)>,
}

/// A loopback listener that keeps at most `max_open` connections (closing the oldest to make
/// room) and hands out connections that close themselves when idle.
#[derive(Debug)]
struct Guarded {
    inner: TcpListener,
    open: Arc<Mutex<Open>>,
    limits: Limits,
}

impl axum::serve::Listener for Guarded {
    type Io = GuardedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let close = CancellationToken::new();
                    let id = {
                        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
                        while open.conns.len() >= self.limits.max_open {
                            if let Some((_, oldest)) = open.conns.pop_front() {
                                oldest.cancel();
                            }
                        }
                        open.next_id += 1;
                        let id = open.next_id;
                        open.conns.push_back((id, close.clone()));
                        id
                    };
                    let idle = self.limits.idle;
                    return (
                        GuardedStream {
                            inner: stream,
                            idle,
                            deadline: Box::pin(tokio::time::sleep(idle)),
                            closed: Box::pin(close.cancelled_owned()),
                            id,
                            open: self.open.clone(),
                        },
                        addr,
                    );
                }
                Err(e) => {
                    // Out of descriptors or a connection reset before it was accepted: wait a
                    // little (idle connections are closing) and go on.
                    tracing::debug!(error = %e, "OAuth callback listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// An accepted connection that fails (so the server closes it) once idle for `idle`, or when
/// the listener closes it to make room.
struct GuardedStream {
    inner: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    closed: Pin<Box<WaitForCancellationFutureOwned>>,
    id: u64,
    open: Arc<Mutex<Open>>,
}

impl std::fmt::Debug for GuardedStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedStream").field("id", &self.id).finish_non_exhaustive()
    }
}

impl GuardedStream {
    fn touched(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.idle);
    }

    /// The error that ends the connection, if it must end now.
    fn must_close(&mut self, cx: &mut Context<'_>) -> Option<std::io::Error> {
        use std::io::{Error, ErrorKind};
        if self.closed.as_mut().poll(cx).is_ready() {
            return Some(Error::new(ErrorKind::ConnectionAborted, "closed to make room"));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Some(Error::new(ErrorKind::TimedOut, "idle connection closed"));
        }
        None
    }
}

impl GuardedStream {
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<std::io::Result<usize>>,
    ) -> Poll<std::io::Result<usize>> {
        match r {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.touched();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending => match self.must_close(cx) {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            },
            other => other,
        }
    }
}

impl Drop for GuardedStream {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.conns.retain(|(id, _)| *id != self.id);
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.touched();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.must_close(cx) {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.after_write(cx, r)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.after_write(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Binds the first usable port; when all are busy, retries briefly, because the listener of a
/// just-finished install releases its port asynchronously.
async fn bind_loopback(ports: &[u16]) -> Result<(Vec<TcpListener>, u16), LoopbackError> {
    for attempt in 0..10 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if let Some(bound) = try_bind(ports).await {
            return Ok(bound);
        }
    }
    Err(LoopbackError::PortsBusy(ports.to_vec()))
}

async fn try_bind(ports: &[u16]) -> Option<(Vec<TcpListener>, u16)> {
    for &port in ports {
        let v4 = match TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(port, error = %e, "callback port busy on 127.0.0.1");
                continue;
            }
        };
        let port = v4.local_addr().map(|a| a.port()).unwrap_or(port);
        match TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))).await {
            Ok(v6) => return Some((vec![v4, v6], port)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                tracing::debug!(port, "callback port busy on ::1; trying the next one");
                continue;
            }
            Err(e) => {
                tracing::info!(port, error = %e, "IPv6 loopback unavailable; listening on 127.0.0.1 only");
                return Some((vec![v4], port));
            }
        }
    }
    None
}

async fn callback(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let mut tx = shared.tx.lock().unwrap_or_else(|p| p.into_inner());
    if tx.is_none() {
        return page(
            StatusCode::GONE,
            "Already done",
            "This sign-in has already been completed. You can close this tab.",
        );
    }
    let state_ok = params.get("state").is_some_and(|s| state_matches(&shared.expected_state, s));
    if !state_ok {
        tracing::warn!("OAuth callback with a missing or wrong state ignored");
        return page(
            StatusCode::BAD_REQUEST,
            "This link does not match",
            "This response does not belong to the sign-in in progress, so it was ignored. \
             Go back to the app and click Install again if the problem persists.",
        );
    }
    if let Some(error) = params.get("error") {
        let description = params.get("error_description").cloned();
        if let Some(tx) = tx.take() {
            let _ = tx.send(Outcome::Denied { error: error.clone(), description });
        }
        return page(
            StatusCode::OK,
            "Not connected",
            "The app was not authorized. You can close this tab; click Install in the app to try again.",
        );
    }
    match params.get("code").filter(|c| !c.is_empty()) {
        Some(code) => {
            if let Some(tx) = tx.take() {
                let _ = tx.send(Outcome::Code(Secret::new(code.clone())));
            }
            page(
                StatusCode::OK,
                "Connected — you can close this tab",
                "HubSpot sent the authorization to the app, which finishes the connection now.",
            )
        }
        None => page(
            StatusCode::BAD_REQUEST,
            "Missing code",
            "HubSpot's answer had no authorization code. Go back to the app and click Install again.",
        ),
    }
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\">\
         <h1>{title}</h1><p>{text}</p><p>Didomi ⇄ HubSpot Sync</p></body></html>"
    );
    (status, [("cache-control", "no-store")], Html(html)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

    async fn get(port: u16, path_and_query: &str) -> (u16, String) {
        let r = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}{path_and_query}"))
            .send()
            .await
            .expect("request");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    fn free_ports(n: u16, base: u16) -> Vec<u16> {
        (base..base + n).collect()
    }

    #[tokio::test]
    async fn binds_loopback_only_and_accepts_one_matching_callback() {
        let l = LoopbackListener::bind(&free_ports(5, 17110), Secret::new("st4te")).await.unwrap();
        let port = l.port();
        assert!(
            l.local_addrs().iter().all(|a| a.ip().is_loopback()),
            "only loopback addresses: {:?}",
            l.local_addrs()
        );
        assert!(l.local_addrs().iter().any(|a| a.is_ipv4()), "127.0.0.1 always bound");
        assert_eq!(l.redirect_uri(), format!("http://localhost:{port}/oauth/callback"), "uri");
        let waiter = tokio::spawn(l.wait(Duration::from_secs(10), CancellationToken::new()));

        assert_eq!(get(port, "/favicon.ico").await.0, 404, "favicon ignored");
        assert_eq!(get(port, "/other?code=x&state=st4te").await.0, 404, "wrong path ignored");
        assert_eq!(get(port, "/oauth/callback?code=x&state=wrong").await.0, 400, "wrong state");
        assert_eq!(get(port, "/oauth/callback?code=x").await.0, 400, "missing state");
        assert_eq!(get(port, "/oauth/callback?state=st4te").await.0, 400, "missing code");
        // Raw junk on the socket must not crash the listener.
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"\x16\x03\x01junk\r\n\r\n").await.unwrap();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut buf)).await;
        assert!(!waiter.is_finished(), "garbage must not end the wait");

        let (status, body) = get(port, "/oauth/callback?code=the-code&state=st4te").await;
        assert_eq!(status, 200, "matching callback accepted");
        assert!(body.contains("Connected"), "success page: {body}");
        let code = waiter.await.unwrap().expect("code delivered");
        assert_eq!(code.expose(), "the-code", "the code from the matching callback");

        // A second callback right after: "already done" (or refused once shut down).
        match reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/oauth/callback?code=again&state=st4te"))
            .send()
            .await
        {
            Ok(r) => assert_eq!(r.status().as_u16(), 410, "second callback is refused"),
            Err(e) => assert!(e.is_connect(), "or the listener is gone: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(),
            "listener shut down after use"
        );
    }

    #[tokio::test]
    async fn denial_with_matching_state_ends_the_wait() {
        let l = LoopbackListener::bind(&free_ports(5, 17120), Secret::new("s")).await.unwrap();
        let port = l.port();
        let waiter = tokio::spawn(l.wait(Duration::from_secs(10), CancellationToken::new()));
        assert_eq!(
            get(port, "/oauth/callback?error=access_denied&state=forged").await.0,
            400,
            "a forged denial is ignored"
        );
        assert!(!waiter.is_finished(), "still waiting after forged denial");
        get(port, "/oauth/callback?error=access_denied&error_description=no&state=s").await;
        assert_eq!(
            waiter.await.unwrap().unwrap_err(),
            LoopbackError::Denied { error: "access_denied".into(), description: Some("no".into()) },
            "denied"
        );
    }

    #[tokio::test]
    async fn timeout_and_cancel() {
        let l = LoopbackListener::bind(&free_ports(5, 17130), Secret::new("s")).await.unwrap();
        let r = l.wait(Duration::from_millis(100), CancellationToken::new()).await;
        assert_eq!(r.unwrap_err(), LoopbackError::Timeout(Duration::from_millis(100)), "timeout");

        let l = LoopbackListener::bind(&free_ports(5, 17140), Secret::new("s")).await.unwrap();
        let cancel = CancellationToken::new();
        let c2 = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            c2.cancel();
        });
        let r = l.wait(Duration::from_secs(10), cancel).await;
        assert_eq!(r.unwrap_err(), LoopbackError::Cancelled, "cancelled");
    }

    #[tokio::test]
    async fn busy_ports_are_skipped_and_all_busy_is_an_error() {
        let taken = TcpListener::bind(("127.0.0.1", 17150)).await.unwrap();
        let l = LoopbackListener::bind(&[17150, 17151], Secret::new("s")).await.unwrap();
        assert_eq!(l.port(), 17151, "first free port used");
        let e = LoopbackListener::bind(&[17150], Secret::new("s")).await.unwrap_err();
        assert_eq!(e, LoopbackError::PortsBusy(vec![17150]), "all busy");
        drop(taken);
    }

    #[tokio::test]
    async fn idle_connections_are_closed_and_the_oldest_makes_room() {
        let l = LoopbackListener::bind_with(
            &free_ports(5, 17170),
            Secret::new("s"),
            Duration::from_millis(300),
            3,
        )
        .await
        .unwrap();
        let port = l.port();
        let waiter = tokio::spawn(l.wait(Duration::from_secs(20), CancellationToken::new()));
        // An idle connection is closed by the listener (EOF) after the idle time.
        let mut idle = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let started = std::time::Instant::now();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buf))
            .await
            .expect("the listener closes an idle connection")
            .unwrap_or(0);
        assert_eq!(n, 0, "closed without an answer");
        assert!(started.elapsed() >= Duration::from_millis(250), "not before the idle time");
        // Three open connections, then a fourth: the oldest is closed at once to make room.
        let mut first = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let _second = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let _third = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let started = std::time::Instant::now();
        let (status, _) = get(port, "/oauth/callback?code=c&state=s").await;
        assert_eq!(status, 200, "the callback is served beyond the cap");
        let n = tokio::time::timeout(Duration::from_secs(5), first.read(&mut buf))
            .await
            .expect("the oldest connection was closed")
            .unwrap_or(0);
        assert_eq!(n, 0, "closed without an answer");
        assert!(
            started.elapsed() < Duration::from_millis(250),
            "closed to make room, not for being idle: {:?}",
            started.elapsed()
        );
        assert_eq!(waiter.await.unwrap().unwrap().expose(), "c", "code delivered");
    }

    const FLOOD_CHILD: &str = "DHS_LOOPBACK_FLOOD_CHILD";

    /// Issue 10: 1,100 idle connections to the callback port of an app limited to 1,024
    /// descriptors kept the browser's callback out. The listener runs in a child process (this
    /// test, re-run under `ulimit -n 1024`); this process opens the idle connections. Where
    /// this process may hold fewer than 2,300 descriptors, both figures are scaled down.
    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_callback_gets_through_1100_idle_connections_under_1024_descriptors() {
        const NAME: &str = "the_callback_gets_through_1100_idle_connections_under_1024_descriptors";
        if std::env::var_os(FLOOD_CHILD).is_some() {
            let l = LoopbackListener::bind(&free_ports(5, 17180), Secret::new("fl00d"))
                .await
                .expect("bind");
            println!("PORT={}", l.port());
            let code = l.wait(Duration::from_secs(90), CancellationToken::new()).await;
            assert_eq!(code.expect("the callback arrives").expose(), "real", "the code");
            return;
        }
        let test = format!("{}::{NAME}", module_path!().split_once("::").expect("crate::path").1);
        let own_limit: usize = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|l| {
                let line = l.lines().find(|l| l.starts_with("Max open files"))?.to_owned();
                line.split_whitespace().nth(3)?.parse().ok()
            })
            .unwrap_or(1024);
        let child_limit = 1024.min(own_limit / 2);
        let flood = child_limit * 1100 / 1024;
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {child_limit} && exec \"$0\" \"$@\""))
            .arg(std::env::current_exe().expect("test binary"))
            .args(["--exact", &test, "--nocapture", "--test-threads=1"])
            .env(FLOOD_CHILD, "1")
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("child test process");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let port: u16 = loop {
            let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
                .await
                .expect("the child prints its port")
                .expect("read")
                .expect("the child prints its port before it ends");
            // The harness writes "test <name> ... " before it on the same line.
            if let Some((_, p)) = line.split_once("PORT=") {
                break p.trim().parse().expect("port");
            }
        };
        let mut idle = Vec::new();
        for _ in 0..flood {
            let c = tokio::time::timeout(
                Duration::from_secs(3),
                tokio::net::TcpStream::connect(("127.0.0.1", port)),
            )
            .await;
            if let Ok(Ok(s)) = c {
                idle.push(s);
            }
        }
        assert!(
            idle.len() > child_limit,
            "more idle connections than the listener's descriptors: {} of {flood}",
            idle.len()
        );
        let answer = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/oauth/callback?code=real&state=fl00d"))
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .map(|r| r.status().as_u16());
        assert_eq!(answer.ok(), Some(200), "the real callback got through");
        let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .expect("the child ends")
            .expect("child status");
        assert!(status.success(), "the child received the code: {status}");
        drop(idle);
    }
}
