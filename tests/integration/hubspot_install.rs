//! The OAuth install against the simulated HubSpot, with the test playing the browser.

use std::time::Duration;

use dhs_core::{CoreOptions, ErrorCode, HubSpotState, SecretKey};
use dhs_tests::{consent, follow, install, start, start_with, Consent};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_success_stores_tokens_and_fills_the_account_card() {
    let h = start(&[21010, 21011], 1.0).await;
    let (account, _) = install(&h).await;
    let portal = h.sim.hubspot.portal_id();
    assert_eq!(account.portal_id, Some(portal), "portal id from account info");
    assert_eq!(account.ui_domain.as_deref(), Some("app-eu1.hubspot.com"), "ui domain");
    assert!(account.user.is_some(), "user from introspection: {account:?}");
    assert!(account.hub_domain.is_some(), "hub domain from introspection");
    assert!(account.missing_scopes.is_empty(), "all scopes granted: {:?}", account.missing_scopes);
    assert!(account.contact_property_count.unwrap_or(0) > 0, "connect check read properties");
    for key in [
        SecretKey::HubSpotAccessToken,
        SecretKey::HubSpotRefreshToken,
        SecretKey::HubSpotClientSecret,
    ] {
        assert!(h.secrets.get(key).await.unwrap().is_some(), "{key:?} in the keychain");
    }
    let saved = h.saved.lock().unwrap().clone().expect("settings persisted");
    assert_eq!(saved.hubspot.portal_id, Some(portal), "portal saved");
    assert!(saved.hubspot.access_token_expires_at.is_some(), "expiry saved for restarts");
    let status = h.core.connections().status().await;
    assert_eq!(status.hubspot.state, HubSpotState::Connected, "status connected");
    assert!(status.hubspot_api_reachable && status.didomi_api_reachable, "both hosts answer");
    // The client works for later features.
    let props =
        h.core.connections().hubspot().await.unwrap().list_contact_properties().await.unwrap();
    assert!(props.iter().any(|p| p.name == "email"), "standard property listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_first_port_falls_back_to_the_next_registered_one() {
    let _taken = tokio::net::TcpListener::bind(("127.0.0.1", 21020)).await.unwrap();
    let h = start(&[21020, 21021], 1.0).await;
    let (account, loc) = install(&h).await;
    assert!(loc.starts_with("http://localhost:21021/oauth/callback"), "second port used: {loc}");
    assert!(account.portal_id.is_some(), "connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_fails_the_install_with_denied() {
    let h = start(&[21030], 1.0).await;
    h.sim.hubspot.set_redirect_on_deny(true);
    let start = h.core.connections().hubspot_install_start(h.client_id(), None).await.unwrap();
    let core = h.core.clone();
    let waiter = tokio::spawn(async move { core.connections().hubspot_install_wait().await });
    let Consent::Redirect(loc) = consent(&start.authorize_url, "deny").await else {
        panic!("deny redirects when enabled");
    };
    assert!(loc.contains("error=access_denied"), "denial carried: {loc}");
    follow(&loc).await;
    let e = waiter.await.unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::HubSpotOAuthDenied, "denied: {e:?}");
    assert_eq!(
        h.core.connections().status().await.hubspot.state,
        HubSpotState::NotConnected,
        "not connected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_state_is_ignored_and_the_right_callback_still_completes() {
    let h = start(&[21040], 1.0).await;
    let start = h.core.connections().hubspot_install_start(h.client_id(), None).await.unwrap();
    let core = h.core.clone();
    let waiter = tokio::spawn(async move { core.connections().hubspot_install_wait().await });
    let Consent::Redirect(loc) = consent(&start.authorize_url, "grant").await else {
        panic!("grant")
    };
    let url = url::Url::parse(&loc).unwrap();
    let code = url.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let forged = format!("http://localhost:21040/oauth/callback?code={code}&state=forged");
    assert_eq!(follow(&forged).await.0, 400, "wrong state refused");
    assert!(!waiter.is_finished(), "still waiting after a wrong state");
    // Pasting a URL with a wrong state is refused too.
    let e = h.core.connections().hubspot_install_paste(forged.clone()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::HubSpotOAuthStateMismatch, "paste with wrong state");
    assert_eq!(follow(&loc).await.0, 200, "right callback accepted");
    assert!(waiter.await.unwrap().is_ok(), "install completes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_code_is_reported_as_expired() {
    // Codes live 600 s / 1200 = 0.5 s.
    let h = start(&[21050], 1200.0).await;
    let start = h.core.connections().hubspot_install_start(h.client_id(), None).await.unwrap();
    let core = h.core.clone();
    let waiter = tokio::spawn(async move { core.connections().hubspot_install_wait().await });
    let Consent::Redirect(loc) = consent(&start.authorize_url, "grant").await else {
        panic!("grant")
    };
    tokio::time::sleep(Duration::from_millis(900)).await;
    follow(&loc).await;
    let e = waiter.await.unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::HubSpotCodeExpired, "expired code: {e:?}");
    assert!(e.message.contains("Install again"), "says what to do: {}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_fallback_reused_code_and_local_expiry() {
    let h = start(&[21060], 1.0).await;
    // A paste completes the install (the listener is never hit) and wait reports that result.
    let start = h.core.connections().hubspot_install_start(h.client_id(), None).await.unwrap();
    assert!(start.paste_seconds_left > 3500, "an hour to paste: {}", start.paste_seconds_left);
    let core = h.core.clone();
    let waiter = tokio::spawn(async move { core.connections().hubspot_install_wait().await });
    let Consent::Redirect(loc) = consent(&start.authorize_url, "grant").await else {
        panic!("grant")
    };
    let account =
        h.core.connections().hubspot_install_paste(loc.clone()).await.expect("paste works");
    assert!(account.portal_id.is_some(), "connected by paste");
    assert_eq!(waiter.await.unwrap().unwrap(), account, "wait reports the paste's result");

    // The same code again (bare) in a new install: HubSpot refuses a used code.
    let start = h.core.connections().hubspot_install_start(h.client_id(), None).await.unwrap();
    let code = url::Url::parse(&loc)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let e = h.core.connections().hubspot_install_paste(code).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::HubSpotCodeInvalid, "reused code: {e:?}");

    // An expired paste window is refused locally, before calling HubSpot.
    h.core.set_options(CoreOptions {
        open_browser: false,
        paste_window: Duration::from_millis(200),
        ..CoreOptions::default()
    });
    let _ = h.core.connections().hubspot_install_start(h.client_id(), None).await.unwrap();
    let before = h.token_calls().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let e = h.core.connections().hubspot_install_paste("some-code".into()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::HubSpotCodeExpired, "local expiry");
    assert_eq!(h.token_calls().await, before, "HubSpot was not called for an expired paste");
    drop(start);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unregistered_redirect_is_refused_by_hubspot_and_cancel_ends_the_wait() {
    // The core binds 21070; the app only registers 21071.
    let h = start_with(&[21070], &[21071], 1.0).await;
    let start = h.core.connections().hubspot_install_start(h.client_id(), None).await.unwrap();
    let core = h.core.clone();
    let waiter = tokio::spawn(async move { core.connections().hubspot_install_wait().await });
    match consent(&start.authorize_url, "grant").await {
        Consent::Page(400, body) => {
            assert!(body.contains("redirect URL"), "HubSpot names the redirect: {body}")
        }
        other => panic!("authorize must refuse an unregistered redirect: {other:?}"),
    }
    h.core.connections().hubspot_install_cancel();
    let e = waiter.await.unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::HubSpotOAuthCancelled, "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_from_another_redirect_uri_is_a_redirect_mismatch() {
    let h = start(&[21080, 21081], 1.0).await;
    // Install 1 on 21080: the test takes the code but never delivers it.
    let s1 = h.core.connections().hubspot_install_start(h.client_id(), None).await.unwrap();
    let Consent::Redirect(loc) = consent(&s1.authorize_url, "grant").await else { panic!("grant") };
    h.core.connections().hubspot_install_cancel();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Install 2 lands on 21081 because 21080 is taken now.
    let _taken = tokio::net::TcpListener::bind(("127.0.0.1", 21080)).await.unwrap();
    let s2 = h.core.connections().hubspot_install_start(h.client_id(), None).await.unwrap();
    assert!(s2.redirect_uri.contains("21081"), "second port: {}", s2.redirect_uri);
    let code = url::Url::parse(&loc)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let e = h.core.connections().hubspot_install_paste(code).await.unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::HubSpotRedirectMismatch,
        "code bound to another redirect URI: {e:?}"
    );
    assert!(e.message.contains("redirect URI"), "says what to do: {}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_timeout_is_reported() {
    let h = start(&[21090], 1.0).await;
    h.core.set_options(CoreOptions {
        open_browser: false,
        callback_timeout: Duration::from_millis(300),
        ..CoreOptions::default()
    });
    h.core.connections().hubspot_install_start(h.client_id(), None).await.unwrap();
    let e = h.core.connections().hubspot_install_wait().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::HubSpotOAuthTimeout, "timeout");
}
