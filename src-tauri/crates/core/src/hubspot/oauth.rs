//! HubSpot OAuth (hubspot-api.md §1): authorize URL with scopes, random `state` and PKCE (S256),
//! the code and refresh exchanges (through the `oauth2` crate, parsing HubSpot's error bodies with
//! [`OAuthErrorBody`]), revocation and introspection (plain form posts: their bodies are
//! HubSpot-specific), paste-fallback parsing and the constant-time `state` check.
//!
//! HubSpot is a confidential client: `client_id` and `client_secret` travel in the form body
//! ([`oauth2::AuthType::RequestBody`]), never in a URL. PKCE is sent too (harmless if ignored,
//! hubspot-api.md §1.4).

use std::time::Duration;

use oauth2::basic::{BasicRevocationErrorResponse, BasicTokenIntrospectionResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde::Serialize;
use subtle::ConstantTimeEq;
use url::Url;

use crate::environment::endpoint;
use crate::error::ErrorCode;
use crate::hubspot::error::{Error, Grant, Result};
use crate::hubspot::models::{HubSpotTokenResponse, OAuthErrorBody, TokenInfo};
use crate::hubspot::paths;
use crate::secrets::Secret;

type OAuthClient = oauth2::Client<
    OAuthErrorBody,
    HubSpotTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The admin's HubSpot app, as used for one install (or for refreshes afterwards).
#[derive(Debug, Clone)]
pub struct OAuthApp {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Secret,
    /// Redirect URI used at authorize (must be sent again with the code).
    pub redirect_uri: String,
    /// API host (token endpoints).
    pub api_base: Url,
    /// App host (authorize page).
    pub app_base: Url,
}

/// An authorize URL and the values that belong to it.
#[derive(Debug)]
pub struct AuthorizeRequest {
    /// The URL to open in the browser.
    pub url: Url,
    /// The random `state` (CSRF token) expected back.
    pub state: Secret,
    /// The PKCE verifier to send with the code.
    pub pkce_verifier: Secret,
}

/// Tokens returned by the token endpoint.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Access token.
    pub access_token: Secret,
    /// Refresh token (HubSpot always returns one; keep the latest).
    pub refresh_token: Option<Secret>,
    /// Lifetime of the access token.
    pub expires_in: Option<Duration>,
    /// Portal id.
    pub hub_id: Option<u64>,
    /// User id.
    pub user_id: Option<u64>,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

#[derive(Serialize)]
struct TokenForm<'a> {
    token: &'a str,
    token_type_hint: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
}

impl OAuthApp {
    fn client(&self) -> Result<OAuthClient> {
        let auth = AuthUrl::from_url(endpoint(&self.app_base, paths::AUTHORIZE));
        let token = TokenUrl::from_url(endpoint(&self.api_base, &paths::token()));
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|e| Error::Other(format!("invalid redirect URI: {e}")))?;
        Ok(oauth2::Client::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.client_secret.expose().to_owned()))
            .set_auth_uri(auth)
            .set_token_uri(token)
            .set_redirect_uri(redirect)
            .set_auth_type(AuthType::RequestBody))
    }

    /// Builds the authorize URL with `scopes`, the given `state` (see [`new_state`]) and a
    /// fresh PKCE S256 challenge.
    ///
    /// # Errors
    /// When the redirect URI is not a URL.
    pub fn authorize(&self, scopes: &[&str], state: &Secret) -> Result<AuthorizeRequest> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = CsrfToken::new(state.expose().to_owned());
        let (url, state) = self
            .client()?
            .authorize_url(move || state)
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizeRequest {
            url,
            state: Secret::new(state.secret().clone()),
            pkce_verifier: Secret::new(verifier.secret().clone()),
        })
    }

    /// Exchanges an authorization code (with the PKCE verifier) for tokens.
    ///
    /// # Errors
    /// [`Error::OAuth`] when HubSpot refuses (expired/used code, redirect mismatch, bad client),
    /// [`Error::Transport`] when it cannot be reached.
    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        code: &Secret,
        pkce_verifier: &Secret,
    ) -> Result<Tokens> {
        let response = self
            .client()?
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.expose().to_owned()))
            .request_async(http)
            .await
            .map_err(|e| token_error(Grant::Code, e))?;
        Ok(tokens(response))
    }

    /// Exchanges a refresh token for new tokens.
    ///
    /// # Errors
    /// [`Error::OAuth`] (`invalid_grant`/`BAD_REFRESH_TOKEN` = reconnect needed),
    /// [`Error::Transport`].
    pub async fn refresh(&self, http: &reqwest::Client, refresh_token: &Secret) -> Result<Tokens> {
        let refresh = RefreshToken::new(refresh_token.expose().to_owned());
        let response = self
            .client()?
            .exchange_refresh_token(&refresh)
            .request_async(http)
            .await
            .map_err(|e| token_error(Grant::Refresh, e))?;
        Ok(tokens(response))
    }

    /// Revokes `token` (`POST /oauth/2026-03/token/revoke`).
    ///
    /// # Errors
    /// When HubSpot refuses or cannot be reached.
    pub async fn revoke(&self, http: &reqwest::Client, token: &Secret, hint: &str) -> Result<()> {
        let response = http
            .post(endpoint(&self.api_base, &paths::revoke()))
            .form(&TokenForm {
                token: token.expose(),
                token_type_hint: hint,
                client_id: &self.client_id,
                client_secret: self.client_secret.expose(),
            })
            .send()
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(oauth_failure(Grant::Refresh, response).await)
    }

    /// Introspects `token` (`POST /oauth/2026-03/token/introspect`): portal, user, scopes.
    ///
    /// # Errors
    /// When HubSpot refuses or cannot be reached, or answers an unexpected shape.
    pub async fn introspect(
        &self,
        http: &reqwest::Client,
        token: &Secret,
        hint: &str,
    ) -> Result<TokenInfo> {
        let response = http
            .post(endpoint(&self.api_base, &paths::introspect()))
            .form(&TokenForm {
                token: token.expose(),
                token_type_hint: hint,
                client_id: &self.client_id,
                client_secret: self.client_secret.expose(),
            })
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(oauth_failure(Grant::Code, response).await);
        }
        let bytes = response.bytes().await?;
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&bytes)).map_err(
            |e| Error::Decode {
                path: e.path().to_string(),
                message: e.inner().to_string(),
                // Introspection echoes no token, but keep the habit: no raw token bodies.
                body: "<introspection body withheld>".into(),
            },
        )
    }
}

async fn oauth_failure(grant: Grant, response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<OAuthErrorBody>(&body) {
        Ok(body) if body.error.is_some() || body.status.is_some() => {
            Error::OAuth { grant, body: Box::new(body) }
        }
        Ok(body) => Error::Api {
            status,
            body: Box::new(crate::hubspot::models::ApiErrorBody {
                message: body.message,
                correlation_id: body.correlation_id,
                category: body.category,
                ..Default::default()
            }),
            retry_after: None,
        },
        Err(_) => Error::Api { status, body: Default::default(), retry_after: None },
    }
}

fn tokens(r: HubSpotTokenResponse) -> Tokens {
    Tokens {
        access_token: Secret::new(r.access_token().secret().clone()),
        refresh_token: r.refresh_token().map(|t| Secret::new(t.secret().clone())),
        expires_in: r.expires_in(),
        hub_id: r.extra_fields().hub_id,
        user_id: r.extra_fields().user_id,
        scopes: r.extra_fields().scopes.clone(),
    }
}

fn token_error(
    grant: Grant,
    e: RequestTokenError<oauth2::HttpClientError<reqwest::Error>, OAuthErrorBody>,
) -> Error {
    match e {
        RequestTokenError::ServerResponse(body) => Error::OAuth { grant, body: Box::new(body) },
        RequestTokenError::Request(oauth2::HttpClientError::Reqwest(e)) => Error::Transport(*e),
        RequestTokenError::Request(other) => Error::Other(format!("token request failed: {other}")),
        // The raw body of a token response holds tokens: never keep it.
        RequestTokenError::Parse(e, _body) => Error::Decode {
            path: e.path().to_string(),
            message: e.inner().to_string(),
            body: "<token endpoint body withheld>".into(),
        },
        RequestTokenError::Other(msg) => Error::Other(format!("token endpoint: {msg}")),
    }
}

/// A fresh random `state` (CSRF token, 128 bits, base64url).
pub fn new_state() -> Secret {
    Secret::new(CsrfToken::new_random().secret().clone())
}

/// Compares a received `state` with the expected one in constant time.
pub fn state_matches(expected: &Secret, received: &str) -> bool {
    let a = expected.expose().as_bytes();
    let b = received.as_bytes();
    // Lengths are not secret (the state length is fixed); the bytes are compared in constant time.
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// What a user pasted in the fallback field.
#[derive(Debug, Clone)]
pub struct PastedCode {
    /// The authorization code.
    pub code: Secret,
    /// The `state`, when a full redirect URL was pasted.
    pub state: Option<String>,
}

/// Parses the paste-fallback input: a full redirect URL (`…/oauth/callback?code=…&state=…`),
/// its query string, or a bare code.
///
/// # Errors
/// `InvalidInput` for empty or malformed input, `HubSpotOAuthDenied` for a pasted denial.
pub fn parse_paste(input: &str) -> std::result::Result<PastedCode, crate::Error> {
    let input = input.trim();
    if input.is_empty() {
        return Err(crate::Error::invalid_input(
            "Nothing was pasted. Paste the full address HubSpot redirected to (or just its code).",
        ));
    }
    let query = if input.starts_with("http://") || input.starts_with("https://") {
        let url = Url::parse(input).map_err(|_| {
            crate::Error::invalid_input(
                "The pasted address is not a valid URL. Copy the whole address from the browser bar.",
            )
        })?;
        Some(url.query().unwrap_or_default().to_owned())
    } else if input.contains("code=") || input.contains("error=") {
        Some(input.trim_start_matches('?').to_owned())
    } else {
        None
    };
    let Some(query) = query else {
        if input.chars().any(|c| c.is_whitespace() || matches!(c, '&' | '?' | '#' | '=' | '/')) {
            return Err(crate::Error::invalid_input(
                "That does not look like an authorization code. Paste the full address HubSpot redirected to.",
            ));
        }
        return Ok(PastedCode { code: Secret::new(input), state: None });
    };
    let mut code = None;
    let mut state = None;
    let mut error = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            _ => {}
        }
    }
    if let Some(error) = error {
        return Err(crate::Error::new(
            ErrorCode::HubSpotOAuthDenied,
            format!("The pasted address says the install was not approved ({error}). Click Install and approve the app in HubSpot."),
        ));
    }
    match code.filter(|c| !c.is_empty()) {
        Some(code) => Ok(PastedCode { code: Secret::new(code), state }),
        None => Err(crate::Error::invalid_input(
            "The pasted address has no `code`. Copy the address HubSpot redirected to after you approved the app.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> OAuthApp {
        OAuthApp {
            client_id: "cid".into(),
            client_secret: "csecret".into(),
            redirect_uri: "http://localhost:53134/oauth/callback".into(),
            api_base: Url::parse("https://api.hubapi.com").unwrap(),
            app_base: Url::parse("https://app.hubspot.com").unwrap(),
        }
    }

    #[test]
    fn authorize_url_has_scopes_state_pkce_and_no_secret() {
        let a = app().authorize(&["oauth", "crm.objects.contacts.read"], &new_state()).unwrap();
        let q: std::collections::HashMap<_, _> = a.url.query_pairs().into_owned().collect();
        assert_eq!(a.url.path(), "/oauth/authorize", "authorize path");
        assert_eq!(a.url.host_str(), Some("app.hubspot.com"), "app host");
        assert_eq!(q["client_id"], "cid", "client id");
        assert_eq!(q["redirect_uri"], "http://localhost:53134/oauth/callback", "redirect");
        assert_eq!(q["scope"], "oauth crm.objects.contacts.read", "space-separated scopes");
        assert_eq!(q["state"], a.state.expose(), "state in URL");
        assert!(a.state.expose().len() >= 16, "state is random and long enough");
        assert_eq!(q["code_challenge_method"], "S256", "PKCE S256");
        assert!(!q["code_challenge"].is_empty(), "challenge present");
        assert!(!a.url.as_str().contains("csecret"), "client secret never in the URL");
        let b = app().authorize(&["oauth"], &new_state()).unwrap();
        assert_ne!(a.state, b.state, "state is fresh per install");
        assert_ne!(a.pkce_verifier, b.pkce_verifier, "verifier is fresh per install");
    }

    #[test]
    fn state_compare() {
        let s = Secret::new("abcdef");
        assert!(state_matches(&s, "abcdef"), "equal matches");
        assert!(!state_matches(&s, "abcdeg"), "one byte differs");
        assert!(!state_matches(&s, "abc"), "shorter");
        assert!(!state_matches(&s, ""), "empty");
    }

    #[test]
    fn paste_parsing() {
        let p =
            parse_paste(" http://localhost:53134/oauth/callback?code=abc-123&state=xyz ").unwrap();
        assert_eq!(p.code.expose(), "abc-123", "code from URL");
        assert_eq!(p.state.as_deref(), Some("xyz"), "state from URL");
        let p = parse_paste("na1-abcd-1234").unwrap();
        assert_eq!(p.code.expose(), "na1-abcd-1234", "bare code");
        assert!(p.state.is_none(), "bare code has no state");
        let p = parse_paste("?code=c1&state=s1").unwrap();
        assert_eq!((p.code.expose(), p.state.as_deref()), ("c1", Some("s1")), "query string");
        let e = parse_paste("http://localhost:53134/oauth/callback?error=access_denied&state=x")
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::HubSpotOAuthDenied, "pasted denial");
        assert_eq!(parse_paste("  ").unwrap_err().code, ErrorCode::InvalidInput, "empty");
        assert_eq!(
            parse_paste("http://localhost:53134/oauth/callback?state=x").unwrap_err().code,
            ErrorCode::InvalidInput,
            "URL without code"
        );
        assert_eq!(parse_paste("two words").unwrap_err().code, ErrorCode::InvalidInput, "junk");
    }
}
