//! Secrets must never appear in settings, IPC DTOs, error messages or logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use dhs_core::SecretKey;
use dhs_tests::{consent, follow, start, Consent};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every tracing event of the whole test process (all tests share the simulator seed,
/// so their client secret, private token and Didomi secret are the same values): a
/// process-wide subscriber avoids the callsite-interest caching that makes a thread-local one
/// miss events first seen on other test threads.
fn capture_logs() -> Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("only this test installs one");
        logs
    })
    .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_leak() {
    let logs = capture_logs();

    let h = start(&[21410], 1.0).await;
    let canary = "CANARY-5e7c1d-do-not-leak";
    let mut serialized = Vec::new();

    // Failing connects with a canary secret.
    let e = h
        .core
        .connections()
        .hubspot_connect_private_token(format!("pat-{canary}"))
        .await
        .unwrap_err();
    serialized.push(serde_json::to_string(&e).unwrap());
    let k = h.sim.info.didomi_api_key.clone();
    let org = h.sim.info.didomi_organization_id.clone();
    let e = h
        .core
        .connections()
        .didomi_connect(k.key.clone(), Some(canary.into()), org.clone())
        .await
        .unwrap_err();
    serialized.push(serde_json::to_string(&e).unwrap());

    // Successful connects with the real secrets.
    let start_dto = h
        .core
        .connections()
        .hubspot_install_start(h.client_id(), Some(h.client_secret()))
        .await
        .unwrap();
    serialized.push(serde_json::to_string(&start_dto).unwrap());
    let core = h.core.clone();
    let waiter = tokio::spawn(async move { core.connections().hubspot_install_wait().await });
    let Consent::Redirect(loc) = consent(&start_dto.authorize_url, "grant").await else {
        panic!("grant")
    };
    follow(&loc).await;
    let account = waiter.await.unwrap().unwrap();
    serialized.push(serde_json::to_string(&account).unwrap());
    let d = h
        .core
        .connections()
        .didomi_connect(k.key.clone(), Some(k.secret.clone()), org)
        .await
        .unwrap();
    serialized.push(serde_json::to_string(&d).unwrap());
    // Force a refresh so refresh traffic is logged too.
    let access = h.secrets.get(SecretKey::HubSpotAccessToken).await.unwrap().unwrap();
    let refresh = h.secrets.get(SecretKey::HubSpotRefreshToken).await.unwrap().unwrap();
    h.sim.hubspot.revoke_all_tokens();
    let e: dhs_core::Error = h
        .core
        .connections()
        .hubspot()
        .await
        .unwrap()
        .list_contact_properties()
        .await
        .unwrap_err()
        .into();
    serialized.push(serde_json::to_string(&e).unwrap());
    serialized.push(serde_json::to_string(&h.core.connections().status().await).unwrap());
    serialized.push(serde_json::to_string(&h.core.environment()).unwrap());
    serialized.push(serde_json::to_string(&h.core.settings()).unwrap());
    serialized.push(h.saved.lock().unwrap().as_ref().unwrap().to_json().to_string());
    serialized.push(format!("{:?}", h.core.connections().hubspot().await.unwrap()));
    serialized.push(format!("{:?} {:?}", access, h.core.env()));

    let secrets = [
        canary.to_owned(),
        h.client_secret(),
        h.sim.info.hubspot_private_app_token.clone(),
        k.secret.clone(),
        access.expose().to_owned(),
        refresh.expose().to_owned(),
    ];
    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for expected in
        ["HubSpot connected by OAuth", "Didomi connected", "OAuth callback listener ready"]
    {
        assert!(log_text.contains(expected), "logs were captured: {expected:?} missing");
    }
    for secret in &secrets {
        for (i, s) in serialized.iter().enumerate() {
            assert!(!s.contains(secret.as_str()), "secret found in serialized item {i}: {s}");
        }
        assert!(!log_text.contains(secret.as_str()), "a secret appears in the logs");
    }
}
