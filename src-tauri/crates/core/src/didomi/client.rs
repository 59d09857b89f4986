//! The typed Didomi client: base URL + session bearer + error parsing. A 401 mints a new
//! session token once and retries the call once (every method: GET and POST share `send`).

use std::sync::Arc;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::didomi::error::{ApiErrorBody, Error, Result};
use crate::didomi::session::Session;
use crate::environment::endpoint;
use crate::run::retry::{retry, Backoff};

/// A Didomi client bound to one organization.
#[derive(Debug, Clone)]
pub struct DidomiClient {
    http: reqwest::Client,
    base: Url,
    session: Arc<Session>,
    organization_id: String,
    retry: Backoff,
}

impl DidomiClient {
    /// A client for `organization_id` using `session`.
    pub fn new(
        http: reqwest::Client,
        base: Url,
        session: Arc<Session>,
        organization_id: String,
    ) -> Self {
        Self { http, base, session, organization_id, retry: Backoff::default() }
    }

    /// The same client retrying transient failures by `retry` (every call: 429 after
    /// `Retry-After`, 5xx, dropped connections, malformed answers).
    #[must_use]
    pub fn with_retry(mut self, retry: Backoff) -> Self {
        self.retry = retry;
        self
    }

    /// The organization id.
    pub fn organization_id(&self) -> &str {
        &self.organization_id
    }

    /// The session (token cache).
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// `GET path?query` → `T` (path includes `/v1`).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T> {
        self.send::<(), T>(Method::GET, path, query, None).await
    }

    /// `POST path?query` with a JSON body → `T` (path includes `/v1`).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: &B,
    ) -> Result<T> {
        self.send(Method::POST, path, query, Some(body)).await
    }

    /// One call with the client's retries (see [`DidomiClient::with_retry`]); when they run
    /// out, [`Error::Exhausted`] names the call and the time spent waiting.
    async fn send<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<T> {
        retry(&self.retry, Error::verdict, || self.send_once(method.clone(), path, query, body))
            .await
            .map_err(|g| Error::gave_up(format!("{method} {path}"), g))
    }

    async fn send_once<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<T> {
        let url = endpoint(&self.base, path);
        let (token, generation) = self.session.token().await?;
        let send = |token: String| {
            let mut rb = self.http.request(method.clone(), url.clone()).query(query);
            if let Some(b) = body {
                rb = rb.json(b);
            }
            rb.bearer_auth(token).send()
        };
        let mut response = send(token.expose().to_owned()).await?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            tracing::debug!(%path, "401 from Didomi; minting a new session token once");
            let token = self.session.after_unauthorized(generation).await?;
            response = send(token.expose().to_owned()).await?;
        }
        decode(response).await
    }
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T> {
    let status = response.status();
    let retry_after = crate::run::retry::retry_after(response.headers());
    let bytes = response.bytes().await?;
    if !status.is_success() {
        let body: ApiErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
        return Err(Error::Api { status: status.as_u16(), body, retry_after });
    }
    // The plain decoder first: tracking the path of every value costs about as much as the
    // decoding itself, and it is only needed to name where a body that failed is wrong.
    if let Ok(value) = serde_json::from_slice(&bytes) {
        return Ok(value);
    }
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&bytes)).map_err(
        |e| {
            let raw = String::from_utf8_lossy(&bytes);
            Error::Decode {
                path: e.path().to_string(),
                message: e.inner().to_string(),
                body: raw.chars().take(4000).collect(),
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::didomi::consents::{UserKey, UsersPage};

    fn response(body: &str) -> reqwest::Response {
        reqwest::Response::from(http::Response::new(body.to_owned()))
    }

    #[tokio::test]
    async fn a_body_that_fails_names_where_it_is_wrong() {
        let ok = r#"{"data":[{"id":"a","organization_user_id":"x@example.com"}],"cursor":null}"#;
        let page: UsersPage<UserKey> = decode(response(ok)).await.expect("decodes");
        assert_eq!(page.data[0].organization_user_id.as_deref(), Some("x@example.com"));

        let bad = r#"{"data":[{"id":"a"},{"id":7}],"cursor":null}"#;
        match decode::<UsersPage<UserKey>>(response(bad)).await {
            Err(Error::Decode { path, message, body }) => {
                assert_eq!(path, "data[1].id", "the path of the wrong value");
                assert!(message.contains("expected a string"), "{message}");
                assert_eq!(body, bad, "the body is kept for the log");
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
    }
}
