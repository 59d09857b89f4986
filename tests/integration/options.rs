//! Options against the simulator: upsert, and the bidirectional flow's account check and its
//! idempotent HubSpot setup (group + "Didomi Changed" number property; conflicts untouched).

use dhs_core::hubspot::models::PropertyCreate;
use dhs_core::ErrorCode;
use dhs_tests::{start, Harness};

/// A harness with both systems connected (HubSpot by private-app token, Didomi by key).
pub(crate) async fn connected(port: u16) -> Harness {
    let h = start(&[port], 1.0).await;
    h.core
        .connections()
        .hubspot_connect_private_token(h.sim.info.hubspot_private_app_token.clone())
        .await
        .expect("HubSpot connects");
    let k = h.sim.info.didomi_api_key.clone();
    h.core
        .connections()
        .didomi_connect(k.key, Some(k.secret), h.sim.info.didomi_organization_id.clone())
        .await
        .expect("Didomi connects");
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_is_saved_with_the_settings() {
    let h = connected(22010).await;
    let o = h.core.configuration().options_set_upsert(true).await.expect("set");
    assert!(o.upsert, "returned options carry upsert");
    let saved = h.saved.lock().unwrap().clone().expect("persisted");
    assert!(saved.options.upsert, "persisted through the sink");
    let o = h.core.configuration().options_set_upsert(false).await.expect("unset");
    assert!(!o.upsert, "off again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_account_is_refused_and_nothing_is_created() {
    let h = connected(22020).await;
    let portal = h.sim.hubspot.portal_id();
    let other = h.sim.hubspot.other_portal_id();
    for given in [
        other.to_string(),
        format!("https://app-eu1.hubspot.com/contacts/{other}/objects/0-1/views/all/list"),
    ] {
        let e =
            h.core.configuration().options_enable_bidirectional(given.clone()).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::BidirectionalAccountMismatch, "{given}: {e:?}");
        assert!(
            e.message.contains(&portal.to_string()) && e.message.contains(&other.to_string()),
            "both ids named: {}",
            e.message
        );
    }
    let e =
        h.core.configuration().options_enable_bidirectional("not an id".into()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "garbage is invalid input: {e:?}");
    assert!(!h.core.settings().options.bidirectional, "not enabled");
    assert!(h.sim.hubspot.property("didomi_changed").is_none(), "no property created");
    let client = h.core.connections().hubspot().await.expect("client");
    assert!(
        client.get_contact_property_group("didomi").await.expect("read").is_none(),
        "no group created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_number_creates_group_and_property_then_reuses_them() {
    let h = connected(22030).await;
    let portal = h.sim.hubspot.portal_id();
    let setup = h
        .core
        .configuration()
        .options_enable_bidirectional(portal.to_string())
        .await
        .expect("enables");
    assert!(setup.group_created && setup.property_created, "both created: {setup:?}");
    assert_eq!(setup.property_name, "didomi_changed", "default name");
    assert!(setup.options.bidirectional, "enabled");
    assert_eq!(setup.options.hubspot_account_id, Some(portal), "account kept");
    let p = h.sim.hubspot.property("didomi_changed").expect("property in the simulator");
    assert_eq!(
        (p.type_.as_str(), p.field_type.as_str(), p.group_name.as_str()),
        ("number", "number", "didomi"),
        "a number in the group"
    );
    let again = h
        .core
        .configuration()
        .options_enable_bidirectional(portal.to_string())
        .await
        .expect("again");
    assert!(!again.group_created && !again.property_created, "idempotent: reused, {again:?}");
    let count = h.sim.hubspot.properties().iter().filter(|p| p.name == "didomi_changed").count();
    assert_eq!(count, 1, "one property");
    let off = h.core.configuration().options_disable_bidirectional().await.expect("disable");
    assert!(!off.bidirectional, "off");
    assert!(
        h.sim.hubspot.property("didomi_changed").is_some_and(|p| !p.archived),
        "disable deletes nothing"
    );
    let saved = h.saved.lock().unwrap().clone().expect("persisted");
    assert!(!saved.options.bidirectional, "persisted off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pasted_url_enables() {
    let h = connected(22040).await;
    let portal = h.sim.hubspot.portal_id();
    let url = format!("https://app-eu1.hubspot.com/contacts/{portal}/objects/0-1/views/all/list");
    let setup =
        h.core.configuration().options_enable_bidirectional(url).await.expect("URL accepted");
    assert!(setup.options.bidirectional && setup.property_created, "enabled: {setup:?}");
    assert!(h.sim.hubspot.property("didomi_changed").is_some(), "property appears");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_property_is_reported_and_left_untouched() {
    let h = connected(22050).await;
    let client = h.core.connections().hubspot().await.expect("client");
    client
        .create_contact_property(&PropertyCreate {
            name: "didomi_changed".into(),
            label: "Someone else's text".into(),
            type_: "string".into(),
            field_type: "text".into(),
            group_name: "contactinformation".into(),
            ..Default::default()
        })
        .await
        .expect("pre-existing text property");
    let portal = h.sim.hubspot.portal_id();
    let e =
        h.core.configuration().options_enable_bidirectional(portal.to_string()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::PropertyConflict, "conflict: {e:?}");
    assert!(
        e.message.contains("string/text") && e.message.contains("untouched"),
        "says what and that nothing changed: {}",
        e.message
    );
    let p = h.sim.hubspot.property("didomi_changed").expect("still there");
    assert_eq!(
        (p.type_.as_str(), p.label.as_str()),
        ("string", "Someone else's text"),
        "never overwritten"
    );
    assert!(!h.core.settings().options.bidirectional, "not enabled");
}
