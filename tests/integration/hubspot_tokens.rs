//! Token lifecycle against the simulated HubSpot: refresh before expiry, refresh on 401,
//! single-flight refresh, revoked refresh token, disconnect, restart from stored state.

use std::time::Duration;

use dhs_core::{Core, ErrorCode, HubSpotState, SecretKey, Settings};
use dhs_tests::{install, start, Harness};

fn unauthorized(h: &Harness) -> u64 {
    h.sim.hubspot.stats().unauthorized
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_before_expiry_without_a_401() {
    // Access tokens live 1800 s / 300 = 6 s (refreshed 0.6 s before expiry).
    let h = start(&[21110], 300.0).await;
    install(&h).await;
    let client = h.core.connections().hubspot().await.unwrap();
    let (tokens_before, unauth_before) = (h.token_calls().await, unauthorized(&h));
    tokio::time::sleep(Duration::from_millis(6300)).await;
    client.list_contact_properties().await.expect("call after expiry works");
    assert_eq!(h.token_calls().await, tokens_before + 1, "one refresh");
    assert_eq!(unauthorized(&h), unauth_before, "refreshed from expires_in, not after a 401");
    client.list_contact_properties().await.expect("and again");
    assert_eq!(h.token_calls().await, tokens_before + 1, "the fresh token is reused");
    let saved = h.saved.lock().unwrap().clone().unwrap();
    assert!(saved.hubspot.access_token_expires_at.is_some(), "new expiry persisted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_once_on_401_and_retries() {
    let h = start(&[21120], 1.0).await;
    install(&h).await;
    let access = h.secrets.get(SecretKey::HubSpotAccessToken).await.unwrap().unwrap();
    // Revoke only the access token: HubSpot now answers 401 although it has not expired.
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/2026-03/token/revoke", h.sim.info.hubspot))
        .form(&[
            ("token", access.expose()),
            ("token_type_hint", "access_token"),
            ("client_id", &h.client_id()),
            ("client_secret", &h.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "revoked");
    let (tokens_before, unauth_before) = (h.token_calls().await, unauthorized(&h));
    let props = h.core.connections().hubspot().await.unwrap().list_contact_properties().await;
    assert!(props.is_ok(), "the call succeeds after refresh + retry: {props:?}");
    assert_eq!(unauthorized(&h), unauth_before + 1, "exactly one 401");
    assert_eq!(h.token_calls().await, tokens_before + 1, "exactly one refresh");
    let new_access = h.secrets.get(SecretKey::HubSpotAccessToken).await.unwrap().unwrap();
    assert_ne!(new_access, access, "new access token stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_with_an_expired_token_cause_one_refresh() {
    let h = start(&[21130], 300.0).await;
    install(&h).await;
    let client = h.core.connections().hubspot().await.unwrap();
    let refreshes_before = client.refresh_stats().refreshes;
    let tokens_before = h.token_calls().await;
    tokio::time::sleep(Duration::from_millis(6300)).await;
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.list_contact_properties().await.map(|p| p.len()) })
        })
        .collect();
    for c in calls {
        assert!(c.await.unwrap().is_ok(), "every parallel call succeeds");
    }
    assert_eq!(h.token_calls().await, tokens_before + 1, "simulator saw ONE refresh");
    assert_eq!(client.refresh_stats().refreshes, refreshes_before + 1, "client made ONE refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_refresh_token_means_reconnect_needed() {
    let h = start(&[21140], 1.0).await;
    install(&h).await;
    h.sim.hubspot.revoke_all_tokens();
    let e =
        h.core.connections().hubspot().await.unwrap().list_contact_properties().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::HubSpotReconnectNeeded, "refresh refused: {e:?}");
    let ui: dhs_core::Error = e.into();
    assert!(ui.message.contains("Reconnect"), "says what to do: {}", ui.message);
    let status = h.core.connections().status().await;
    assert_eq!(status.hubspot.state, HubSpotState::ReconnectNeeded, "status shows it");
    assert!(status.hubspot.reason.is_some(), "with a reason");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_revokes_and_deletes_every_hubspot_secret() {
    let h = start(&[21150], 1.0).await;
    install(&h).await;
    let refresh = h.secrets.get(SecretKey::HubSpotRefreshToken).await.unwrap().unwrap();
    h.core.connections().hubspot_disconnect().await.expect("disconnect");
    assert_eq!(h.sim.hubspot.stats().oauth_requests.get("revoke"), Some(&1), "revoked at HubSpot");
    for key in SecretKey::HUBSPOT {
        assert!(h.secrets.get(key).await.unwrap().is_none(), "{key:?} deleted");
    }
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/2026-03/token", h.sim.info.hubspot))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.expose()),
            ("client_id", &h.client_id()),
            ("client_secret", &h.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "the revoked refresh token no longer works");
    let saved = h.saved.lock().unwrap().clone().unwrap();
    assert!(
        saved.hubspot.auth_mode.is_none() && saved.hubspot.portal_id.is_none(),
        "account cleared"
    );
    assert_eq!(saved.hubspot.client_id, Some(h.client_id()), "client id kept for reconnecting");
    let status = h.core.connections().status().await;
    assert_eq!(status.hubspot.state, HubSpotState::NotConnected, "not connected");
    assert!(status.hubspot.notice.is_none(), "no warning when revocation worked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_still_deletes_locally_when_hubspot_is_unreachable() {
    let h = start(&[21160], 1.0).await;
    install(&h).await;
    let Harness { sim, core, secrets, .. } = h;
    sim.shutdown().await;
    core.connections().hubspot_disconnect().await.expect("local disconnect succeeds");
    for key in SecretKey::HUBSPOT {
        assert!(secrets.get(key).await.unwrap().is_none(), "{key:?} deleted");
    }
    let status = core.connections().status().await;
    assert_eq!(status.hubspot.state, HubSpotState::NotConnected, "not connected");
    let notice = status.hubspot.notice.expect("the user is told revocation failed");
    assert!(notice.contains("uninstall the app in HubSpot"), "with what to do: {notice}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_core_reuses_stored_tokens() {
    let h = start(&[21170], 1.0).await;
    install(&h).await;
    let settings = h.saved.lock().unwrap().clone().unwrap();
    let tokens_before = h.token_calls().await;
    let core2 = Core::new(
        h.core.env().clone(),
        Settings::from_json(settings.to_json()).unwrap(),
        h.secrets.clone(),
        Box::new(|_| Ok(())),
    );
    let props = core2.connections().hubspot().await.unwrap().list_contact_properties().await;
    assert!(props.is_ok(), "stored tokens work after restart: {props:?}");
    assert_eq!(h.token_calls().await, tokens_before, "unexpired stored access token reused");
    assert_eq!(
        core2.connections().status().await.hubspot.state,
        HubSpotState::Connected,
        "connected"
    );
}
