//! Private-app token (or service key) connect.

use dhs_core::settings::HubSpotAuthMode;
use dhs_core::{ErrorCode, HubSpotState, SecretKey};
use dhs_tests::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_token_connects_and_is_validated() {
    let h = start(&[21210], 1.0).await;
    let token = h.sim.info.hubspot_private_app_token.clone();
    let account =
        h.core.connections().hubspot_connect_private_token(token.clone()).await.expect("connects");
    assert_eq!(account.auth_mode, HubSpotAuthMode::PrivateApp, "mode");
    assert_eq!(account.portal_id, Some(h.sim.hubspot.portal_id()), "portal from account info");
    assert!(account.contact_property_count.unwrap_or(0) > 0, "properties readable");
    let stored = h.secrets.get(SecretKey::HubSpotPrivateAppToken).await.unwrap().unwrap();
    assert_eq!(stored.expose(), token, "token in the keychain");
    assert_eq!(
        h.core.connections().status().await.hubspot.state,
        HubSpotState::Connected,
        "connected"
    );
    let props = h.core.connections().hubspot().await.unwrap().list_contact_properties().await;
    assert!(props.is_ok(), "client usable: {props:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_prefill_is_used_for_an_empty_token() {
    let h = start(&[21220], 1.0).await;
    let account =
        h.core.connections().hubspot_connect_private_token("  ".into()).await.expect("prefill");
    assert_eq!(account.portal_id, Some(h.sim.hubspot.portal_id()), "simulator portal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_private_token_is_refused_and_nothing_is_stored() {
    let h = start(&[21230], 1.0).await;
    let e = h
        .core
        .connections()
        .hubspot_connect_private_token("pat-na1-wrong".into())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::HubSpotInvalidToken, "invalid token: {e:?}");
    assert!(e.message.contains("paste it again"), "says what to do: {}", e.message);
    assert!(
        h.secrets.get(SecretKey::HubSpotPrivateAppToken).await.unwrap().is_none(),
        "not stored"
    );
    assert_eq!(
        h.core.connections().status().await.hubspot.state,
        HubSpotState::NotConnected,
        "not connected"
    );
}
