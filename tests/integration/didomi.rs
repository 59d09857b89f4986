//! Didomi connect against the simulated Didomi.

use std::time::Duration;

use dhs_core::{Core, DidomiState, ErrorCode, SecretKey, Settings};
use dhs_tests::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_reads_the_pmp_configuration() {
    let h = start(&[21310], 1.0).await;
    let k = h.sim.info.didomi_api_key.clone();
    let org = h.sim.info.didomi_organization_id.clone();
    let account = h
        .core
        .connections()
        .didomi_connect(k.key.clone(), Some(k.secret.clone()), org.clone())
        .await
        .expect("connects");
    assert_eq!(account.organization_id, org, "org");
    assert!(!account.purposes.is_empty(), "purposes read");
    assert!(!account.preferences.is_empty(), "preferences read");
    assert!(account.config_tree, "config tree read");
    assert!(account.tree_purpose_count > 0, "tree has purposes");
    assert_eq!(account.purpose_count as usize, account.purposes.len(), "count matches list");
    let stored = h.secrets.get(SecretKey::DidomiApiSecret).await.unwrap().unwrap();
    assert_eq!(stored.expose(), k.secret, "secret in the keychain");
    let saved = h.saved.lock().unwrap().clone().unwrap();
    assert_eq!(saved.didomi.api_key.as_deref(), Some(k.key.as_str()), "key in settings");
    assert_eq!(
        h.core.connections().status().await.didomi.state,
        DidomiState::Connected,
        "connected"
    );

    h.core.connections().didomi_disconnect().await.unwrap();
    assert!(h.secrets.get(SecretKey::DidomiApiSecret).await.unwrap().is_none(), "secret deleted");
    assert_eq!(
        h.core.connections().status().await.didomi.state,
        DidomiState::NotConnected,
        "disconnected"
    );
    let e = h.core.connections().didomi().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::DidomiNotConnected, "no client after disconnect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_and_wrong_organization_are_distinct() {
    let h = start(&[21320], 1.0).await;
    let k = h.sim.info.didomi_api_key.clone();
    let org = h.sim.info.didomi_organization_id.clone();
    let e = h
        .core
        .connections()
        .didomi_connect(k.key.clone(), Some("wrong-secret".into()), org.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DidomiBadCredentials, "bad secret: {e:?}");
    assert!(e.message.contains("Private API keys"), "says where to look: {}", e.message);
    let e = h
        .core
        .connections()
        .didomi_connect("no-such-key".into(), Some(k.secret.clone()), org)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DidomiBadCredentials, "bad key: {e:?}");
    let e = h
        .core
        .connections()
        .didomi_connect(k.key.clone(), Some(k.secret.clone()), "other-org".into())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DidomiWrongOrganization, "wrong org: {e:?}");
    assert!(e.message.contains("organization id"), "says what to check: {}", e.message);
    assert!(h.secrets.get(SecretKey::DidomiApiSecret).await.unwrap().is_none(), "nothing stored");
    let e = h.core.connections().didomi_connect(" ".into(), None, "x".into()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "empty key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_host_is_reported_as_unreachable() {
    let h = start(&[21330], 1.0).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut env = h.core.env().clone();
    env.didomi_api_base = format!("http://127.0.0.1:{closed}").parse().unwrap();
    let core =
        Core::new(env, Settings::default(), dhs_core::SecretStore::memory(), Box::new(|_| Ok(())));
    let e = core
        .connections()
        .didomi_connect("k".into(), Some("s".into()), "o".into())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DidomiUnreachable, "closed port: {e:?}");
    assert!(e.message.contains("internet connection"), "says what to do: {}", e.message);
    assert!(!core.connections().status().await.didomi_api_reachable, "status says unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_session_token_is_minted_again() {
    // Didomi tokens live 3600 s / 3600 = 1 s.
    let h = start(&[21340], 3600.0).await;
    let k = h.sim.info.didomi_api_key.clone();
    h.core
        .connections()
        .didomi_connect(
            k.key.clone(),
            Some(k.secret.clone()),
            h.sim.info.didomi_organization_id.clone(),
        )
        .await
        .expect("connects");
    let client = h.core.connections().didomi().await.unwrap();
    let mints = client.session().mint_count();
    assert_eq!(mints, 1, "one session for the whole connect");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let purposes = client.list_purposes().await;
    assert!(purposes.is_ok(), "works after expiry: {purposes:?}");
    assert_eq!(client.session().mint_count(), mints + 1, "exactly one new session");
}
