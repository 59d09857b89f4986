//! Secrets: the redacting [`Secret`] newtype and the [`SecretStore`] that keeps secrets in the
//! OS keychain (Secret Service on Linux through `keyring` 3.6) or, for tests, in memory.
//!
//! Rules this module enforces:
//! - a [`Secret`] never prints its value (`Debug`/`Display` show `<redacted>`) and cannot be
//!   serialized, so it cannot leak into logs, settings or IPC payloads by accident;
//! - every keyring call runs in [`tokio::task::spawn_blocking`] (the Secret Service client is
//!   synchronous D-Bus);
//! - a missing entry is `Ok(None)`, not an error;
//! - there is **no plaintext fallback**: when the keychain is unavailable the operation fails
//!   with [`SecretError::Unavailable`] and the UI says so.
//!
//! Entries are namespaced by the keyring *service* name (`didomi-hubspot-sync` in Live,
//! `didomi-hubspot-sync.sandbox` in Sandbox), so the two modes never see each other's secrets.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use ts_rs::TS;

/// A secret value (token, client secret, API secret). Prints as `<redacted>`; not `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Call only where the value is actually sent (an HTTP header or form).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty or only whitespace.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The secrets the app keeps. Each maps to one keychain entry (the *account* of the entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKey {
    /// The HubSpot app's OAuth client secret (entered by the admin).
    HubSpotClientSecret,
    /// The current HubSpot OAuth access token.
    HubSpotAccessToken,
    /// The HubSpot OAuth refresh token (the long-lived credential).
    HubSpotRefreshToken,
    /// A HubSpot private-app token or service key (single-account access).
    HubSpotPrivateAppToken,
    /// The Didomi private API secret.
    DidomiApiSecret,
}

impl SecretKey {
    /// Every key, e.g. to wipe them all.
    pub const ALL: [SecretKey; 5] = [
        SecretKey::HubSpotClientSecret,
        SecretKey::HubSpotAccessToken,
        SecretKey::HubSpotRefreshToken,
        SecretKey::HubSpotPrivateAppToken,
        SecretKey::DidomiApiSecret,
    ];

    /// Every HubSpot key (what a HubSpot disconnect deletes).
    pub const HUBSPOT: [SecretKey; 4] = [
        SecretKey::HubSpotClientSecret,
        SecretKey::HubSpotAccessToken,
        SecretKey::HubSpotRefreshToken,
        SecretKey::HubSpotPrivateAppToken,
    ];

    /// The keychain entry's account name.
    pub fn account(self) -> &'static str {
        match self {
            SecretKey::HubSpotClientSecret => "hubspot.client-secret",
            SecretKey::HubSpotAccessToken => "hubspot.access-token",
            SecretKey::HubSpotRefreshToken => "hubspot.refresh-token",
            SecretKey::HubSpotPrivateAppToken => "hubspot.private-app-token",
            SecretKey::DidomiApiSecret => "didomi.api-secret",
        }
    }
}

/// Whether the OS keychain can be used. Crosses IPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "camelCase")]
#[ts(export)]
pub enum KeychainStatus {
    /// Not probed yet.
    Unknown,
    /// Reads and writes work.
    Available,
    /// The keychain cannot be used; `reason` says what to do on this OS (never a secret, never
    /// internals such as D-Bus errors: those are logged).
    Unavailable {
        /// What to do, e.g. "log in to a desktop session with GNOME Keyring or KWallet, …".
        reason: String,
    },
}

/// Why a keychain operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    /// The keychain cannot be reached or refused access. The detail (D-Bus errors and the like)
    /// goes to the log only: the message the user sees is [`keychain_advice`].
    #[error("{}", keychain_advice())]
    Unavailable(String),
}

/// What to do when the keychain cannot be used, for the operating system the app runs on. No
/// internals (D-Bus addresses, daemon names): the user needs the next step, the log has the rest.
pub fn keychain_advice() -> &'static str {
    if cfg!(target_os = "macos") {
        "The macOS Keychain is locked or refused access: unlock the login keychain in Keychain \
         Access (or log in again), allow the app when macOS asks, then restart the app"
    } else if cfg!(target_os = "windows") {
        "Windows Credential Manager refused access: log in to Windows with your own account \
         (not a restricted or temporary profile), then restart the app"
    } else {
        "No keychain (Secret Service) is running or it is locked: log in to a desktop session \
         with GNOME Keyring or KWallet, or start the app with ./x sandbox which starts a private \
         one, then restart the app"
    }
}

/// Where secrets live.
#[derive(Clone)]
enum Backend {
    Keyring { service: Arc<str> },
    Memory { map: Arc<Mutex<HashMap<&'static str, String>>>, unavailable: Option<Arc<str>> },
}

/// The keychain (or an in-memory stand-in for tests). Cheap to clone; clones share storage.
#[derive(Clone)]
pub struct SecretStore {
    backend: Backend,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            Backend::Keyring { service } => {
                f.debug_struct("SecretStore::Keyring").field("service", service).finish()
            }
            Backend::Memory { .. } => f.write_str("SecretStore::Memory"),
        }
    }
}

impl SecretStore {
    /// The OS keychain (Secret Service on Linux), entries under `service`.
    pub fn keyring(service: impl Into<String>) -> Self {
        Self { backend: Backend::Keyring { service: Arc::from(service.into()) } }
    }

    /// An in-memory store shared by all clones (tests, benchmarks).
    pub fn memory() -> Self {
        Self { backend: Backend::Memory { map: Default::default(), unavailable: None } }
    }

    /// An in-memory store that fails every call as an unavailable keychain would (tests).
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self {
            backend: Backend::Memory {
                map: Default::default(),
                unavailable: Some(Arc::from(reason.into())),
            },
        }
    }

    /// Stores `value` under `key`, replacing any previous value.
    ///
    /// # Errors
    /// [`SecretError::Unavailable`] when the keychain cannot be used.
    pub async fn set(&self, key: SecretKey, value: &Secret) -> Result<(), SecretError> {
        match &self.backend {
            Backend::Memory { map, unavailable } => {
                check_available(unavailable)?;
                lock(map).insert(key.account(), value.expose().to_owned());
                Ok(())
            }
            Backend::Keyring { service } => {
                let service = service.clone();
                let value = value.clone();
                blocking(move || entry(&service, key)?.set_password(value.expose())).await
            }
        }
    }

    /// Reads `key`; a missing entry is `Ok(None)`.
    ///
    /// # Errors
    /// [`SecretError::Unavailable`] when the keychain cannot be used.
    pub async fn get(&self, key: SecretKey) -> Result<Option<Secret>, SecretError> {
        match &self.backend {
            Backend::Memory { map, unavailable } => {
                check_available(unavailable)?;
                Ok(lock(map).get(key.account()).cloned().map(Secret))
            }
            Backend::Keyring { service } => {
                let service = service.clone();
                let result = blocking(move || match entry(&service, key)?.get_password() {
                    Ok(v) => Ok(Some(Secret(v))),
                    Err(keyring::Error::NoEntry) => Ok(None),
                    Err(e) => Err(e),
                })
                .await?;
                Ok(result)
            }
        }
    }

    /// Deletes `key`; deleting a missing entry succeeds.
    ///
    /// # Errors
    /// [`SecretError::Unavailable`] when the keychain cannot be used.
    pub async fn delete(&self, key: SecretKey) -> Result<(), SecretError> {
        match &self.backend {
            Backend::Memory { map, unavailable } => {
                check_available(unavailable)?;
                lock(map).remove(key.account());
                Ok(())
            }
            Backend::Keyring { service } => {
                let service = service.clone();
                blocking(move || match entry(&service, key)?.delete_credential() {
                    Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                    Err(e) => Err(e),
                })
                .await
            }
        }
    }

    /// Checks at startup that the keychain works: writes, reads back and deletes a probe entry.
    pub async fn probe(&self) -> KeychainStatus {
        match &self.backend {
            Backend::Memory { unavailable: Some(detail), .. } => {
                tracing::warn!(%detail, "OS keychain unavailable");
                KeychainStatus::Unavailable { reason: keychain_advice().to_owned() }
            }
            Backend::Memory { .. } => KeychainStatus::Available,
            Backend::Keyring { service } => {
                let service = service.clone();
                let result = blocking(move || {
                    let e = keyring_entry(&service, "probe")?;
                    e.set_password("probe")?;
                    let back = e.get_password()?;
                    let _ = e.delete_credential();
                    if back == "probe" {
                        Ok(())
                    } else {
                        Err(keyring::Error::Invalid("probe".into(), "read back differs".into()))
                    }
                })
                .await;
                match result {
                    Ok(()) => KeychainStatus::Available,
                    Err(SecretError::Unavailable(_)) => {
                        KeychainStatus::Unavailable { reason: keychain_advice().to_owned() }
                    }
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn check_available(unavailable: &Option<Arc<str>>) -> Result<(), SecretError> {
    match unavailable {
        Some(reason) => Err(SecretError::Unavailable(reason.to_string())),
        None => Ok(()),
    }
}

fn entry(service: &str, key: SecretKey) -> keyring::Result<keyring::Entry> {
    keyring_entry(service, key.account())
}

/// The Secret Service backend, chosen explicitly rather than through keyring's default builder.
fn keyring_entry(service: &str, account: &str) -> keyring::Result<keyring::Entry> {
    let credential =
        keyring::secret_service::SsCredential::new_with_target(None, service, account)?;
    Ok(keyring::Entry::new_with_credential(Box::new(credential)))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> keyring::Result<T> + Send + 'static,
) -> Result<T, SecretError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        // keyring errors describe the store (D-Bus, locked collection), never the password: they
        // go to the log, the user sees `keychain_advice`.
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "OS keychain call failed");
            Err(SecretError::Unavailable(e.to_string()))
        }
        Err(join) => Err(SecretError::Unavailable(format!("keychain task failed: {join}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new("canary-123");
        assert_eq!(format!("{s:?}"), "<redacted>", "Debug must redact");
        assert_eq!(format!("{s}"), "<redacted>", "Display must redact");
        assert_eq!(format!("{:?}", Some(&s)), "Some(<redacted>)", "nested Debug must redact");
        assert_eq!(s.expose(), "canary-123", "expose gives the value back");
    }

    #[tokio::test]
    async fn memory_store_is_shared_between_clones_and_missing_is_none() {
        let a = SecretStore::memory();
        let b = a.clone();
        assert!(
            a.get(SecretKey::HubSpotRefreshToken).await.unwrap().is_none(),
            "missing entry must be Ok(None)"
        );
        a.set(SecretKey::HubSpotRefreshToken, &Secret::new("r1")).await.unwrap();
        let got = b.get(SecretKey::HubSpotRefreshToken).await.unwrap();
        assert_eq!(got.map(|s| s.expose().to_owned()), Some("r1".into()), "clones share storage");
        b.delete(SecretKey::HubSpotRefreshToken).await.unwrap();
        b.delete(SecretKey::HubSpotRefreshToken).await.expect("deleting twice is fine");
        assert!(a.get(SecretKey::HubSpotRefreshToken).await.unwrap().is_none(), "deleted");
    }

    #[tokio::test]
    async fn unavailable_store_fails_every_call_and_probe_says_what_to_do() {
        let s = SecretStore::unavailable("DBus error: /usr/bin/dbus-launch terminated abnormally");
        assert!(s.set(SecretKey::DidomiApiSecret, &"x".into()).await.is_err(), "set fails");
        assert!(s.get(SecretKey::DidomiApiSecret).await.is_err(), "get fails, no fallback");
        let KeychainStatus::Unavailable { reason } = s.probe().await else {
            panic!("probe must report the keychain unavailable")
        };
        assert_eq!(reason, keychain_advice(), "the reason is the advice for this OS");
        assert!(!reason.contains("dbus-launch"), "no internals in the UI: {reason}");
        assert_eq!(SecretStore::memory().probe().await, KeychainStatus::Available, "memory ok");
    }

    /// Against a real Secret Service. `./x test` runs `cargo test` in a private D-Bus session with
    /// an unlocked gnome-keyring and sets `DHS_SECRET_SERVICE=1`, which makes this test run (and
    /// fail if the keychain does not work). Without the variable there may be no keychain at all,
    /// so it returns at once; by hand: `dbus-run-session -- sh -c 'echo pw |
    /// gnome-keyring-daemon --unlock --components=secrets; DHS_SECRET_SERVICE=1 cargo test -p
    /// dhs-core keyring'`.
    #[tokio::test(flavor = "multi_thread")]
    async fn keyring_roundtrip_on_a_real_secret_service() {
        if std::env::var_os("DHS_SECRET_SERVICE").is_none() {
            eprintln!("no DHS_SECRET_SERVICE: the real keychain round trip runs under ./x test");
            return;
        }
        let service = format!("dhs-core-test-{}", std::process::id());
        let store = SecretStore::keyring(service.clone());
        assert_eq!(store.probe().await, KeychainStatus::Available, "probe");
        let key = SecretKey::HubSpotRefreshToken;
        assert!(store.get(key).await.unwrap().is_none(), "missing entry is None");
        store.set(key, &Secret::new("value-1")).await.unwrap();
        store.set(key, &Secret::new("value-2")).await.unwrap();
        let got = store.get(key).await.unwrap().map(|s| s.expose().to_owned());
        assert_eq!(got.as_deref(), Some("value-2"), "last write wins");
        let other = SecretStore::keyring(format!("{service}.sandbox"));
        assert!(other.get(key).await.unwrap().is_none(), "another service does not see it");
        store.delete(key).await.unwrap();
        store.delete(key).await.expect("deleting a missing entry is fine");
        assert!(store.get(key).await.unwrap().is_none(), "deleted");
    }

    #[test]
    fn advice_names_what_to_do_on_this_os_without_internals() {
        let e = SecretError::Unavailable("DBus error: /usr/bin/dbus-launch terminated".into());
        let text = e.to_string();
        assert!(!text.contains("DBus") && !text.contains("dbus-launch"), "no internals: {text}");
        let wanted: &[&str] = if cfg!(target_os = "macos") {
            &["Keychain Access", "restart the app"]
        } else if cfg!(target_os = "windows") {
            &["Credential Manager", "restart the app"]
        } else {
            &["Secret Service", "GNOME Keyring or KWallet", "./x sandbox", "restart the app"]
        };
        for w in wanted {
            assert!(text.contains(w), "the advice names {w:?}: {text}");
        }
    }

    #[test]
    fn keys_have_distinct_accounts() {
        let mut names: Vec<_> = SecretKey::ALL.iter().map(|k| k.account()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SecretKey::ALL.len(), "each secret has its own keychain entry");
    }
}
