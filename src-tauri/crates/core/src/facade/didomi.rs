//! Didomi operations of the facade: connect (validated by creating a session and reading the
//! PMP configuration), disconnect, status, and the lazily built client.

use std::sync::Arc;

use super::{lock, now_rfc3339, Connections, DidomiAccount, DidomiState, DidomiStatus, NamedItem};
use crate::didomi::{DidomiClient, Session};
use crate::error::{Error, ErrorCode};
use crate::secrets::{Secret, SecretKey};

impl Connections {
    /// Connects Didomi: creates a session with the key and secret (wrong → `DidomiBadCredentials`),
    /// reads the organization's purposes, preferences and configuration tree (wrong organization
    /// → `DidomiWrongOrganization`; host down → `DidomiUnreachable`), then stores the secret in
    /// the keychain and the key and organization in the settings. With `api_secret = None` the
    /// stored secret (or, in Sandbox, the simulator's) is used.
    ///
    /// # Errors
    /// See above, plus `InvalidInput` and `KeychainUnavailable`.
    pub async fn didomi_connect(
        &self,
        api_key: String,
        api_secret: Option<String>,
        organization_id: String,
    ) -> Result<DidomiAccount, Error> {
        let api_key = api_key.trim().to_owned();
        let organization_id = organization_id.trim().to_owned();
        if api_key.is_empty() || organization_id.is_empty() {
            return Err(Error::invalid_input(
                "Enter the Didomi private API key and the organization id (Didomi Console → Settings → Private API keys).",
            ));
        }
        let secret = match api_secret.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
            Some(s) => Secret::new(s),
            None => match self.shared.secrets.get(SecretKey::DidomiApiSecret).await? {
                Some(s) => s,
                None => self
                    .shared
                    .env
                    .prefill
                    .as_ref()
                    .map(|p| p.didomi_api_secret.clone())
                    .ok_or_else(|| Error::invalid_input("Enter the Didomi API secret."))?,
            },
        };
        let session = Arc::new(Session::new(
            self.shared.http.clone(),
            self.shared.env.didomi_api_base.clone(),
            api_key.clone(),
            secret.clone(),
        ));
        let client = DidomiClient::new(
            self.shared.http.clone(),
            self.shared.env.didomi_api_base.clone(),
            session,
            organization_id.clone(),
        );
        client.session().token().await?;
        let purposes = client.list_purposes().await?;
        let preferences = client.list_preferences().await?;
        let tree = client.config_tree().await?;
        self.shared.secrets.set(SecretKey::DidomiApiSecret, &secret).await?;
        let connected_at = now_rfc3339();
        self.shared.update_settings(|s| {
            s.didomi.api_key = Some(api_key.clone());
            s.didomi.organization_id = Some(organization_id.clone());
            s.didomi.connected_at = Some(connected_at.clone());
        })?;
        let account = DidomiAccount {
            purpose_count: u32::try_from(purposes.len()).unwrap_or(u32::MAX),
            preference_count: u32::try_from(preferences.len()).unwrap_or(u32::MAX),
            api_key,
            organization_id,
            purposes: purposes
                .iter()
                .map(|p| NamedItem { id: p.id.clone(), name: p.description.text("en") })
                .collect(),
            preferences: preferences
                .iter()
                .map(|p| NamedItem { id: p.id.clone(), name: p.name.text("en") })
                .collect(),
            config_tree: tree.is_some(),
            tree_purpose_count: tree
                .as_ref()
                .map_or(0, |t| u32::try_from(t.selected_purposes.len()).unwrap_or(u32::MAX)),
            tree_preference_count: tree
                .as_ref()
                .map_or(0, |t| u32::try_from(t.preference_count()).unwrap_or(u32::MAX)),
            connected_at: Some(connected_at),
        };
        *lock(&self.didomi_account) = Some(account.clone());
        *self.didomi.lock().await = Some(Arc::new(client));
        tracing::info!(organization = %account.organization_id, "Didomi connected");
        Ok(account)
    }

    /// Disconnects Didomi: deletes the API secret from the keychain and marks the connection
    /// gone (the key and organization id stay in the settings to prefill the form).
    ///
    /// # Errors
    /// `KeychainUnavailable`.
    pub async fn didomi_disconnect(&self) -> Result<(), Error> {
        *self.didomi.lock().await = None;
        self.shared.secrets.delete(SecretKey::DidomiApiSecret).await?;
        *lock(&self.didomi_account) = None;
        self.shared.update_settings(|s| s.didomi.connected_at = None)?;
        tracing::info!("Didomi disconnected");
        Ok(())
    }

    /// The Didomi client, built from the settings and the keychain on first use.
    ///
    /// # Errors
    /// `DidomiNotConnected`, `KeychainUnavailable`.
    pub async fn didomi(&self) -> Result<Arc<DidomiClient>, Error> {
        let mut guard = self.didomi.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let s = self.shared.settings().didomi;
        let not_connected = || {
            Error::new(
                ErrorCode::DidomiNotConnected,
                "Didomi is not connected. Connect it on the Connect screen first",
            )
        };
        let (Some(key), Some(org), Some(_)) = (s.api_key, s.organization_id, s.connected_at) else {
            return Err(not_connected());
        };
        let secret =
            self.shared.secrets.get(SecretKey::DidomiApiSecret).await?.ok_or_else(not_connected)?;
        let session = Arc::new(Session::new(
            self.shared.http.clone(),
            self.shared.env.didomi_api_base.clone(),
            key,
            secret,
        ));
        let client = Arc::new(DidomiClient::new(
            self.shared.http.clone(),
            self.shared.env.didomi_api_base.clone(),
            session,
            org,
        ));
        *guard = Some(client.clone());
        Ok(client)
    }

    pub(super) fn didomi_status(&self) -> DidomiStatus {
        let s = self.shared.settings().didomi;
        if s.connected_at.is_none() {
            return DidomiStatus { state: DidomiState::NotConnected, account: None };
        }
        let account = lock(&self.didomi_account).clone().unwrap_or_else(|| DidomiAccount {
            api_key: s.api_key.clone().unwrap_or_default(),
            organization_id: s.organization_id.clone().unwrap_or_default(),
            purposes: Vec::new(),
            preferences: Vec::new(),
            purpose_count: 0,
            preference_count: 0,
            config_tree: false,
            tree_purpose_count: 0,
            tree_preference_count: 0,
            connected_at: s.connected_at.clone(),
        });
        DidomiStatus { state: DidomiState::Connected, account: Some(account) }
    }
}
