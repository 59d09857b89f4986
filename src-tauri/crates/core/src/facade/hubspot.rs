//! HubSpot operations of the facade: OAuth install (loopback + paste fallback), private-app
//! token, disconnect, status, and the lazily built client.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{
    lock, now_rfc3339, rfc3339, Connections, HubSpotAccount, HubSpotState, HubSpotStatus,
    InstallStart,
};
use crate::error::{Error, ErrorCode};
use crate::hubspot::account::missing_scopes;
use crate::hubspot::client::{OAuthSession, RefreshHook};
use crate::hubspot::loopback::{LoopbackError, LoopbackListener};
use crate::hubspot::oauth::{self, OAuthApp, Tokens};
use crate::hubspot::{HubSpotClient, REQUIRED_SCOPES};
use crate::secrets::{Secret, SecretKey};
use crate::settings::HubSpotAuthMode;

type InstallResult = Option<Result<HubSpotAccount, Error>>;

static NEXT_INSTALL_ID: AtomicU64 = AtomicU64::new(1);

/// An install waiting for its callback or a paste.
pub(super) struct PendingInstall {
    id: u64,
    app: OAuthApp,
    state: Secret,
    pkce_verifier: Secret,
    started: Instant,
    started_at: time::OffsetDateTime,
    authorize_url: String,
    browser_opened: bool,
    listener: Option<LoopbackListener>,
    cancel: CancellationToken,
    done_tx: watch::Sender<InstallResult>,
}

impl PendingInstall {
    fn progress(&self, window: Duration) -> InstallStart {
        let left = window.saturating_sub(self.started.elapsed());
        InstallStart {
            authorize_url: self.authorize_url.clone(),
            redirect_uri: self.app.redirect_uri.clone(),
            started_at: rfc3339(self.started_at),
            paste_expires_at: rfc3339(self.started_at + window),
            paste_seconds_left: u32::try_from(left.as_secs()).unwrap_or(u32::MAX),
            browser_opened: self.browser_opened,
        }
    }
}

fn no_install() -> Error {
    Error::invalid_input("No HubSpot install is in progress. Click Install to start one.")
}

fn install_cancelled() -> Error {
    Error::new(
        ErrorCode::HubSpotOAuthCancelled,
        "The HubSpot install was cancelled. Click Install to start again.",
    )
}

impl Connections {
    /// Starts an OAuth install: saves the client id (and the secret to the keychain when given),
    /// binds the loopback listener, builds the authorize URL (scopes, random state, PKCE), opens
    /// the system browser and returns at once. In Sandbox an empty secret uses the simulator's.
    ///
    /// # Errors
    /// `InvalidInput` (empty client id, no secret), `KeychainUnavailable`,
    /// `HubSpotCallbackPortsBusy`.
    pub async fn hubspot_install_start(
        &self,
        client_id: String,
        client_secret: Option<String>,
    ) -> Result<InstallStart, Error> {
        let client_id = client_id.trim().to_owned();
        if client_id.is_empty() {
            return Err(Error::invalid_input(
                "Enter the client id of your HubSpot app (Development → Apps → your app → Auth).",
            ));
        }
        let client_secret = self.resolve_client_secret(client_secret).await?;
        self.hubspot_install_cancel();
        let cancel = CancellationToken::new();
        *lock(&self.install_cancel) = cancel.clone();

        let state = oauth::new_state();
        let listener = LoopbackListener::bind(&self.shared.env.redirect_ports, state.clone())
            .await
            .map_err(|e| {
                Error::new(
                    ErrorCode::HubSpotCallbackPortsBusy,
                    format!("{e}. Close the program using these ports (or another running install) and try again, or use the paste fallback"),
                )
            })?;
        let app = OAuthApp {
            client_id: client_id.clone(),
            client_secret,
            redirect_uri: listener.redirect_uri(),
            api_base: self.shared.env.hubspot_api_base.clone(),
            app_base: self.shared.env.hubspot_app_base.clone(),
        };
        let request = app.authorize(REQUIRED_SCOPES, &state).map_err(Error::from)?;
        self.shared.update_settings(|s| {
            s.hubspot.client_id = Some(client_id.clone());
            s.hubspot.redirect_uri = Some(app.redirect_uri.clone());
        })?;
        let options = self.shared.options();
        let authorize_url = request.url.to_string();
        let browser_opened = options.open_browser && open_browser(&authorize_url).await;
        let (done_tx, _) = watch::channel(None);
        let pending = PendingInstall {
            id: NEXT_INSTALL_ID.fetch_add(1, Ordering::Relaxed),
            app,
            state,
            pkce_verifier: request.pkce_verifier,
            started: Instant::now(),
            started_at: time::OffsetDateTime::now_utc(),
            authorize_url,
            browser_opened,
            listener: Some(listener),
            cancel,
            done_tx,
        };
        let start = pending.progress(options.paste_window);
        *self.install.lock().await = Some(pending);
        tracing::info!(redirect_uri = %start.redirect_uri, "HubSpot install started");
        Ok(start)
    }

    /// Waits for the browser's callback and exchanges the code. Resolves with the connected
    /// account; if the install is completed by a paste meanwhile, resolves with that result.
    ///
    /// # Errors
    /// `HubSpotOAuthDenied`, `HubSpotOAuthTimeout`, `HubSpotOAuthCancelled`, and the exchange
    /// errors (`HubSpotCodeExpired`, `HubSpotRedirectMismatch`, `HubSpotBadClient`...).
    pub async fn hubspot_install_wait(&self) -> Result<HubSpotAccount, Error> {
        let (id, listener, cancel, mut done_rx) = {
            let mut guard = self.install.lock().await;
            // Cancelled before this wait began: the cancel took the install away.
            if guard.is_none() && lock(&self.install_cancel).is_cancelled() {
                return Err(install_cancelled());
            }
            let p = guard.as_mut().ok_or_else(no_install)?;
            let listener = p
                .listener
                .take()
                .ok_or_else(|| Error::invalid_input("This install is already being waited on."))?;
            (p.id, listener, p.cancel.clone(), p.done_tx.subscribe())
        };
        let timeout = self.shared.options().callback_timeout;
        let outcome = listener.wait(timeout, cancel).await;
        // Whatever happened, this install is over unless a paste already took it over.
        let pending = self.take_install(id).await;
        match (outcome, pending) {
            (Ok(code), Some(pending)) => self.finish_install(pending, code).await,
            (Err(LoopbackError::Denied { error, description }), _) => Err(Error::new(
                ErrorCode::HubSpotOAuthDenied,
                format!(
                    "HubSpot did not authorize the app ({error}{}). Click Install and approve the app; you need Super Admin or App Marketplace access in that account",
                    description.map(|d| format!(": {d}")).unwrap_or_default()
                ),
            )),
            (Err(LoopbackError::Timeout(t)), _) => Err(Error::new(
                ErrorCode::HubSpotOAuthTimeout,
                format!(
                    "No answer from the browser within {} minutes. Click Install again, or paste the address HubSpot redirected to",
                    t.as_secs().div_ceil(60)
                ),
            )),
            (Err(LoopbackError::PortsBusy(_)), _) => {
                Err(Error::new(ErrorCode::Internal, "the callback listener was not bound"))
            }
            // Cancelled while the install was still ours (the cancel could not take it because
            // this wait held the lock at that moment): nobody else will finish it. Waiting on
            // `done_rx` here would wait forever, since its sender lives in `pending`.
            (Err(_), Some(_)) => Err(install_cancelled()),
            // Cancelled, or completed by a paste meanwhile: report the paste's outcome if any.
            _ => loop {
                if let Some(r) = done_rx.borrow_and_update().clone() {
                    return r;
                }
                if done_rx.changed().await.is_err() {
                    return Err(install_cancelled());
                }
            },
        }
    }

    /// Removes the pending install if it is still install `id`.
    async fn take_install(&self, id: u64) -> Option<PendingInstall> {
        let mut guard = self.install.lock().await;
        if guard.as_ref().is_some_and(|p| p.id == id) {
            guard.take()
        } else {
            None
        }
    }

    /// Cancels the install in progress (the listener stops; `hubspot_install_wait` returns
    /// `HubSpotOAuthCancelled`).
    pub fn hubspot_install_cancel(&self) {
        lock(&self.install_cancel).cancel();
        if let Ok(mut guard) = self.install.try_lock() {
            guard.take();
        }
    }

    /// Completes the install with a pasted redirect URL (its `state` is checked) or a bare code.
    /// Refuses locally with `HubSpotCodeExpired` once the paste window since install start has
    /// passed.
    ///
    /// # Errors
    /// `InvalidInput`, `HubSpotOAuthStateMismatch`, `HubSpotCodeExpired`, exchange errors.
    pub async fn hubspot_install_paste(
        &self,
        redirect_url_or_code: String,
    ) -> Result<HubSpotAccount, Error> {
        let pasted = oauth::parse_paste(&redirect_url_or_code)?;
        let window = self.shared.options().paste_window;
        let pending = {
            let mut guard = self.install.lock().await;
            let p = guard.as_ref().ok_or_else(no_install)?;
            if p.started.elapsed() >= window {
                return Err(Error::new(
                    ErrorCode::HubSpotCodeExpired,
                    "The install was started too long ago for this code to be valid. Click Install again and paste the new address",
                ));
            }
            if let Some(state) = &pasted.state {
                if !oauth::state_matches(&p.state, state) {
                    return Err(Error::new(
                        ErrorCode::HubSpotOAuthStateMismatch,
                        "The pasted address belongs to another install attempt. Paste the address from the latest attempt, or click Install again",
                    ));
                }
            }
            guard.take().expect("checked above")
        };
        // Stop the listener: the paste completes this install.
        pending.cancel.cancel();
        self.finish_install(pending, pasted.code).await
    }

    async fn finish_install(
        &self,
        pending: PendingInstall,
        code: Secret,
    ) -> Result<HubSpotAccount, Error> {
        let result = self.exchange_and_connect(&pending, &code).await;
        pending.done_tx.send_replace(Some(result.clone()));
        result
    }

    async fn exchange_and_connect(
        &self,
        pending: &PendingInstall,
        code: &Secret,
    ) -> Result<HubSpotAccount, Error> {
        let app = pending.app.clone();
        let tokens = app.exchange_code(&self.shared.http, code, &pending.pkce_verifier).await?;
        self.shared.secrets.set(SecretKey::HubSpotClientSecret, &app.client_secret).await?;
        self.shared.secrets.set(SecretKey::HubSpotAccessToken, &tokens.access_token).await?;
        if let Some(r) = &tokens.refresh_token {
            self.shared.secrets.set(SecretKey::HubSpotRefreshToken, r).await?;
        }
        self.shared.secrets.delete(SecretKey::HubSpotPrivateAppToken).await?;
        let session = OAuthSession::from_tokens(
            app.clone(),
            self.shared.http.clone(),
            self.shared.secrets.clone(),
            &tokens,
            Some(self.refresh_hook()),
        )?;
        let expires_at = session.expires_at().await;
        let session = Arc::new(session);
        let client = Arc::new(HubSpotClient::with_oauth(
            self.shared.http.clone(),
            self.shared.env.hubspot_api_base.clone(),
            session,
        ));
        let account = self.oauth_account(&client, &app, &tokens).await;
        self.save_account(&account, expires_at)?;
        *self.hubspot.lock().await = Some(client);
        *lock(&self.hubspot_notice) = None;
        tracing::info!(portal = ?account.portal_id, "HubSpot connected by OAuth");
        Ok(account)
    }

    /// Account card data after an OAuth install: introspection (hub domain, user, scopes) and
    /// account details (portal, UI domain); each is best effort, falling back to the token
    /// response.
    async fn oauth_account(
        &self,
        client: &HubSpotClient,
        app: &OAuthApp,
        tokens: &Tokens,
    ) -> HubSpotAccount {
        let info = match app
            .introspect(&self.shared.http, &tokens.access_token, "access_token")
            .await
        {
            Ok(i) => Some(i),
            Err(e) => {
                tracing::warn!(error = %e, "token introspection failed; using the token response");
                None
            }
        };
        let scopes = match &info {
            Some(i) if !i.scopes.is_empty() => i.scopes.clone(),
            _ => tokens.scopes.clone(),
        };
        let mut account = self.account_from_client(client, HubSpotAuthMode::OAuth).await;
        account.portal_id =
            account.portal_id.or(info.as_ref().and_then(|i| i.hub_id)).or(tokens.hub_id);
        account.hub_domain = info.as_ref().and_then(|i| i.hub_domain.clone());
        account.user = info.as_ref().and_then(|i| i.user.clone());
        account.missing_scopes = missing_scopes(REQUIRED_SCOPES, &scopes);
        account.scopes = scopes;
        account
    }

    /// Account details + the Connect check (reading contact properties).
    async fn account_from_client(
        &self,
        client: &HubSpotClient,
        mode: HubSpotAuthMode,
    ) -> HubSpotAccount {
        let details = match client.account_details().await {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::warn!(error = %e, "account details unavailable");
                None
            }
        };
        let contact_property_count = match client.list_contact_properties().await {
            Ok(p) => Some(u32::try_from(p.len()).unwrap_or(u32::MAX)),
            Err(e) => {
                tracing::warn!(error = %e, code = ?e.code(), "contact properties not readable");
                None
            }
        };
        HubSpotAccount {
            auth_mode: mode,
            portal_id: details.as_ref().and_then(|d| d.portal_id),
            hub_domain: None,
            ui_domain: details.as_ref().and_then(|d| d.ui_domain.clone()),
            user: None,
            scopes: Vec::new(),
            missing_scopes: Vec::new(),
            account_type: details.as_ref().and_then(|d| d.account_type.clone()),
            time_zone: details.as_ref().and_then(|d| d.time_zone.clone()),
            data_hosting_location: details.as_ref().and_then(|d| d.data_hosting_location.clone()),
            contact_property_count,
            connected_at: Some(now_rfc3339()),
        }
    }

    fn save_account(
        &self,
        account: &HubSpotAccount,
        expires_at: Option<SystemTime>,
    ) -> Result<(), Error> {
        *lock(&self.hubspot_account) = Some(account.clone());
        self.shared.update_settings(|s| {
            let h = &mut s.hubspot;
            h.auth_mode = Some(account.auth_mode);
            h.portal_id = account.portal_id;
            h.hub_domain = account.hub_domain.clone();
            h.ui_domain = account.ui_domain.clone();
            h.user = account.user.clone();
            h.scopes = account.scopes.clone();
            h.connected_at = account.connected_at.clone();
            h.access_token_expires_at = expires_at.map(|t| rfc3339(t.into()));
        })
    }

    fn refresh_hook(&self) -> RefreshHook {
        let this = self.this.clone();
        Box::new(move |expires_at| {
            if let Some(core) = this.upgrade() {
                let r = core.shared.update_settings(|s| {
                    s.hubspot.access_token_expires_at = Some(rfc3339(expires_at.into()));
                });
                if let Err(e) = r {
                    tracing::warn!(error = %e, "could not persist the token expiry");
                }
            }
        })
    }

    /// Connects with a private-app token or service key: validated with one API call (account
    /// details), then stored in the keychain. In Sandbox an empty token uses the simulator's.
    ///
    /// # Errors
    /// `InvalidInput`, `HubSpotInvalidToken`, `HubSpotUnavailable`, `KeychainUnavailable`.
    pub async fn hubspot_connect_private_token(
        &self,
        token: String,
    ) -> Result<HubSpotAccount, Error> {
        let token = match token.trim() {
            "" => self
                .shared
                .env
                .prefill
                .as_ref()
                .map(|p| p.hubspot_private_app_token.clone())
                .ok_or_else(|| {
                    Error::invalid_input("Paste the private-app token or service key.")
                })?,
            t => Secret::new(t),
        };
        let client = HubSpotClient::with_token(
            self.shared.http.clone(),
            self.shared.env.hubspot_api_base.clone(),
            token.clone(),
        );
        // The one validating call: a wrong token fails here with HubSpotInvalidToken.
        let details = client.account_details().await?;
        let mut account = self.account_from_client(&client, HubSpotAuthMode::PrivateApp).await;
        account.portal_id = account.portal_id.or(details.portal_id);
        if account.contact_property_count.is_none() {
            account.missing_scopes = vec!["crm.schemas.contacts.read".into()];
        }
        self.hubspot_install_cancel();
        self.shared.secrets.set(SecretKey::HubSpotPrivateAppToken, &token).await?;
        for key in [SecretKey::HubSpotAccessToken, SecretKey::HubSpotRefreshToken] {
            self.shared.secrets.delete(key).await?;
        }
        self.save_account(&account, None)?;
        *self.hubspot.lock().await = Some(Arc::new(client));
        *lock(&self.hubspot_notice) = None;
        tracing::info!(portal = ?account.portal_id, "HubSpot connected with a private-app token");
        Ok(account)
    }

    /// Disconnects HubSpot: revokes the refresh token at HubSpot (best effort: if that fails the
    /// status `notice` says so), deletes every HubSpot secret and clears the account settings
    /// (the client id is kept to ease reconnecting).
    ///
    /// # Errors
    /// `KeychainUnavailable` when the secrets cannot be deleted.
    pub async fn hubspot_disconnect(&self) -> Result<(), Error> {
        self.hubspot_install_cancel();
        let client = match self.hubspot().await {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::debug!(error = %e, "no usable HubSpot client to revoke with");
                None
            }
        };
        let mut notice = None;
        if let Some(session) = client.as_ref().and_then(|c| c.oauth()) {
            let refresh = session.refresh_token().await;
            if let Err(e) = session.app().revoke(&self.shared.http, &refresh, "refresh_token").await
            {
                tracing::warn!(error = %e, "revoking the HubSpot refresh token failed");
                notice = Some(format!(
                    "Disconnected on this computer, but HubSpot could not be told ({e}). To revoke access, uninstall the app in HubSpot (Settings → Integrations → Connected apps)."
                ));
            }
        }
        *self.hubspot.lock().await = None;
        for key in crate::secrets::SecretKey::HUBSPOT {
            self.shared.secrets.delete(key).await?;
        }
        *lock(&self.hubspot_account) = None;
        *lock(&self.hubspot_notice) = notice;
        self.shared.update_settings(|s| {
            let client_id = s.hubspot.client_id.take();
            s.hubspot = Default::default();
            s.hubspot.client_id = client_id;
        })?;
        tracing::info!("HubSpot disconnected");
        Ok(())
    }

    /// The HubSpot client, built from the settings and the keychain on first use.
    ///
    /// # Errors
    /// `HubSpotNotConnected`, `HubSpotReconnectNeeded` (a stored secret is missing),
    /// `KeychainUnavailable`.
    pub async fn hubspot(&self) -> Result<Arc<HubSpotClient>, Error> {
        let mut guard = self.hubspot.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let settings = self.shared.settings().hubspot;
        let reconnect = |what: &str| {
            Error::new(
                ErrorCode::HubSpotReconnectNeeded,
                format!("The stored HubSpot {what} is missing from the keychain. Click Reconnect to install again"),
            )
        };
        let client = match settings.auth_mode {
            None => {
                return Err(Error::new(
                    ErrorCode::HubSpotNotConnected,
                    "HubSpot is not connected. Connect it on the Connect screen first",
                ))
            }
            Some(HubSpotAuthMode::PrivateApp) => {
                let token = self
                    .shared
                    .secrets
                    .get(SecretKey::HubSpotPrivateAppToken)
                    .await?
                    .ok_or_else(|| reconnect("private-app token"))?;
                HubSpotClient::with_token(
                    self.shared.http.clone(),
                    self.shared.env.hubspot_api_base.clone(),
                    token,
                )
            }
            Some(HubSpotAuthMode::OAuth) => {
                let secret = self
                    .shared
                    .secrets
                    .get(SecretKey::HubSpotClientSecret)
                    .await?
                    .ok_or_else(|| reconnect("client secret"))?;
                let refresh = self
                    .shared
                    .secrets
                    .get(SecretKey::HubSpotRefreshToken)
                    .await?
                    .ok_or_else(|| reconnect("refresh token"))?;
                let access = self.shared.secrets.get(SecretKey::HubSpotAccessToken).await?;
                let expires_at = settings
                    .access_token_expires_at
                    .as_deref()
                    .and_then(|s| {
                        time::OffsetDateTime::parse(
                            s,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                    })
                    .map(SystemTime::from);
                let app = OAuthApp {
                    client_id: settings.client_id.clone().unwrap_or_default(),
                    client_secret: secret,
                    redirect_uri: settings
                        .redirect_uri
                        .clone()
                        .unwrap_or_else(|| self.shared.env.redirect_uris().remove(0)),
                    api_base: self.shared.env.hubspot_api_base.clone(),
                    app_base: self.shared.env.hubspot_app_base.clone(),
                };
                let session = OAuthSession::new(
                    app,
                    self.shared.http.clone(),
                    self.shared.secrets.clone(),
                    access,
                    expires_at,
                    refresh,
                    Some(self.refresh_hook()),
                );
                HubSpotClient::with_oauth(
                    self.shared.http.clone(),
                    self.shared.env.hubspot_api_base.clone(),
                    Arc::new(session),
                )
            }
        };
        let client = Arc::new(client);
        *guard = Some(client.clone());
        Ok(client)
    }

    pub(super) async fn hubspot_status(&self) -> HubSpotStatus {
        let settings = self.shared.settings().hubspot;
        let client_secret_stored =
            matches!(self.shared.secrets.get(SecretKey::HubSpotClientSecret).await, Ok(Some(_)));
        let mut status = HubSpotStatus {
            state: HubSpotState::NotConnected,
            account: None,
            install: None,
            notice: lock(&self.hubspot_notice).clone(),
            client_id: settings.client_id.clone(),
            client_secret_stored,
            reason: None,
        };
        let window = self.shared.options().paste_window;
        if let Some(p) = self.install.lock().await.as_ref() {
            status.state = HubSpotState::Installing;
            status.install = Some(p.progress(window));
            return status;
        }
        let Some(mode) = settings.auth_mode else {
            return status;
        };
        let account = lock(&self.hubspot_account).clone().unwrap_or_else(|| HubSpotAccount {
            auth_mode: mode,
            portal_id: settings.portal_id,
            hub_domain: settings.hub_domain.clone(),
            ui_domain: settings.ui_domain.clone(),
            user: settings.user.clone(),
            missing_scopes: if mode == HubSpotAuthMode::OAuth {
                missing_scopes(REQUIRED_SCOPES, &settings.scopes)
            } else {
                Vec::new()
            },
            scopes: settings.scopes.clone(),
            account_type: None,
            time_zone: None,
            data_hosting_location: None,
            contact_property_count: None,
            connected_at: settings.connected_at.clone(),
        });
        status.account = Some(account);
        status.state = HubSpotState::Connected;
        match self.hubspot().await {
            Ok(c) if c.reconnect_needed() => {
                status.state = HubSpotState::ReconnectNeeded;
                status.reason = Some(
                    "HubSpot refused the stored refresh token (app uninstalled or access revoked). Click Reconnect.".into(),
                );
            }
            Ok(_) => {}
            Err(e) if e.code == ErrorCode::HubSpotReconnectNeeded => {
                status.state = HubSpotState::ReconnectNeeded;
                status.reason = Some(e.message);
            }
            Err(e) => status.reason = Some(e.message),
        }
        status
    }

    async fn resolve_client_secret(&self, given: Option<String>) -> Result<Secret, Error> {
        if let Some(s) = given.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
            let s = Secret::new(s);
            self.shared.secrets.set(SecretKey::HubSpotClientSecret, &s).await?;
            return Ok(s);
        }
        if let Some(s) = self.shared.secrets.get(SecretKey::HubSpotClientSecret).await? {
            return Ok(s);
        }
        if let Some(p) = &self.shared.env.prefill {
            return Ok(p.hubspot_client_secret.clone());
        }
        Err(Error::invalid_input(
            "Enter the client secret of your HubSpot app (Development → Apps → your app → Auth). It is kept in the OS keychain.",
        ))
    }
}

async fn open_browser(url: &str) -> bool {
    match crate::browser::open(url, crate::browser::LAUNCH_WAIT).await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "could not open the system browser; the UI shows the link");
            false
        }
    }
}
