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

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::environment::{Environment, CALLBACK_PATH};
use crate::hubspot::oauth::state_matches;
use crate::secrets::Secret;

/// Default time the listener waits for the browser.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

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
        let (listeners, port) = bind_loopback(ports).await?;
        let addrs: Vec<SocketAddr> = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
        let (tx, rx) = oneshot::channel();
        let shared = Arc::new(Shared { expected_state, tx: Mutex::new(Some(tx)) });
        let router = axum::Router::new()
            .route(CALLBACK_PATH, get(callback))
            .fallback(|| async { (StatusCode::NOT_FOUND, "Not found") })
            .with_state(shared);
        let shutdown = CancellationToken::new();
        for listener in listeners {
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
}
