//! Mapping against the simulator: rows from the seeded configuration tree, only compatible
//! properties offered (the simulator's custom properties cover every field type and the tricky
//! cases), duplicate target refused naming the row, property creation, suggestions, stale
//! detection after archiving, and `mapping_ready`.

use dhs_core::mapping::{DidomiItem, ItemKind, Mapping, MappingEntry, StaleReason, ValueEncoding};
use dhs_core::ErrorCode;

use crate::options::connected;

const NEWSLETTER: &str = "newsletter-7Kq2Xa";
const TOPICS: &str = "topics-T6n3Yu";

fn purpose(id: &str) -> DidomiItem {
    DidomiItem::Purpose { purpose_id: id.into() }
}

fn topics() -> DidomiItem {
    DidomiItem::Preference { purpose_id: NEWSLETTER.into(), preference_id: TOPICS.into() }
}

fn events() -> DidomiItem {
    DidomiItem::Value {
        purpose_id: NEWSLETTER.into(),
        preference_id: TOPICS.into(),
        value_id: "events-3c4D".into(),
    }
}

fn entry(item: DidomiItem, property: &str) -> MappingEntry {
    MappingEntry { item, property: property.into(), encoding: ValueEncoding::Labels }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_lists_the_tree_and_only_compatible_properties() {
    let h = connected(22110).await;
    let view = h.core.configuration().mapping_load(false).await.expect("loads");
    assert_eq!(view.language, "en", "seeded labels are en+fr: English");
    let paths: Vec<&str> = view.rows.iter().map(|r| r.path.as_str()).collect();
    for want in [
        "Newsletter",
        "Newsletter › Topics",
        "Newsletter › Topics › Events",
        "Newsletter › Topics › Events › Event regions",
        "Newsletter › Topics › Events › Event regions › Asia-Pacific",
        "Marketing emails › Email frequency › Weekly",
        "Analytics",
        "Partners SMS › SMS language › German",
    ] {
        assert!(paths.contains(&want), "row {want} listed: {paths:?}");
    }
    let nested = view
        .rows
        .iter()
        .find(|r| r.path == "Newsletter › Topics › Events › Event regions")
        .unwrap();
    assert_eq!(
        (nested.depth, nested.kind),
        (3, ItemKind::Text),
        "nested preference depth and kind"
    );

    let kinds =
        |name: &str| view.properties.iter().find(|p| p.name == name).map(|p| p.compatible.clone());
    for name in [
        "sim_bool_checkbox",
        "sim_enum_checkbox_bool",
        "sim_yes_no_select",
        "sim_yes_no_radio",
        "sim_select_true_false_unknown",
    ] {
        assert_eq!(
            kinds(name),
            Some(vec![ItemKind::Boolean]),
            "{name} offered for boolean rows only"
        );
    }
    for name in ["sim_text", "sim_textarea"] {
        assert_eq!(kinds(name), Some(vec![ItemKind::Text]), "{name} offered for text rows only");
    }
    for name in [
        "sim_enum_true_only",
        "sim_radio",
        "sim_select",
        "sim_multi_checkbox",
        "sim_html",
        "sim_phone",
        "sim_file",
        "sim_number",
        "sim_date",
        "sim_datetime",
        "sim_calculated",
        "sim_unique_id",
        "sim_sensitive_note",
        "sim_hidden",
        "sim_archived",
        "email",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
    ] {
        assert_eq!(kinds(name), None, "{name} is never offered");
    }
    let first_builtin =
        view.properties.iter().position(|p| p.hubspot_defined).expect("some HubSpot-defined text");
    assert!(view.properties[..first_builtin].iter().all(|p| !p.hubspot_defined), "custom first");
    assert!(
        view.properties[first_builtin..].iter().all(|p| p.hubspot_defined),
        "HubSpot-defined after"
    );
    let yes_no = view.properties.iter().find(|p| p.name == "sim_yes_no_select").unwrap();
    assert!(yes_no.options.iter().any(|o| o.value == "true"), "options carried: {yes_no:?}");
    assert!(view.saved.is_empty() && view.stale.is_empty(), "nothing saved yet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_refuses_a_duplicate_target_naming_the_row_and_saves_a_valid_draft() {
    let h = connected(22120).await;
    h.core.configuration().mapping_load(false).await.expect("loads");
    let dup = Mapping {
        entries: vec![
            entry(purpose(NEWSLETTER), "sim_bool_checkbox"),
            entry(events(), "sim_bool_checkbox"),
        ],
    };
    let issues = h.core.configuration().mapping_check(dup.clone()).await.expect("checks");
    assert_eq!(issues.len(), 1, "one issue: {issues:?}");
    assert_eq!(issues[0].held_by, Some(purpose(NEWSLETTER)), "holder given");
    let e = h.core.configuration().mapping_save(dup).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::MappingDuplicateTarget, "{e:?}");
    assert!(e.message.contains("\"Newsletter\""), "the row holding it is named: {}", e.message);
    assert!(h.core.settings().mapping.is_empty(), "nothing saved");

    let wrong = Mapping { entries: vec![entry(topics(), "sim_bool_checkbox")] };
    let e = h.core.configuration().mapping_save(wrong).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::MappingInvalid, "incompatible refused: {e:?}");
    assert!(
        e.message.contains("single-line or multi-line text"),
        "says what is needed: {}",
        e.message
    );

    let good = Mapping {
        entries: vec![
            entry(events(), "sim_yes_no_select"),
            entry(purpose(NEWSLETTER), "sim_bool_checkbox"),
            entry(topics(), "sim_textarea"),
        ],
    };
    let saved = h.core.configuration().mapping_save(good).await.expect("saves");
    let order: Vec<&DidomiItem> = saved.entries.iter().map(|e| &e.item).collect();
    assert_eq!(order, vec![&purpose(NEWSLETTER), &topics(), &events()], "stored in tree order");
    let persisted = h.saved.lock().unwrap().clone().expect("persisted");
    assert_eq!(persisted.mapping, saved, "saved with the settings");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_property_makes_a_compatible_unique_property_in_the_didomi_group() {
    let h = connected(22130).await;
    let b = h.core.configuration().mapping_create_property(events()).await.expect("creates");
    assert_eq!(b.name, "didomi_topics_events", "name from the labels");
    assert_eq!(
        (b.type_.as_str(), b.field_type.as_str()),
        ("bool", "booleancheckbox"),
        "a single checkbox"
    );
    assert_eq!(b.compatible, vec![ItemKind::Boolean], "usable by the row");
    let p = h.sim.hubspot.property("didomi_topics_events").expect("in the simulator");
    assert_eq!(p.group_name, "didomi", "in the Didomi group (created)");
    let again =
        h.core.configuration().mapping_create_property(events()).await.expect("creates again");
    assert_eq!(again.name, "didomi_topics_events_2", "made unique");
    let t = h.core.configuration().mapping_create_property(topics()).await.expect("text");
    assert_eq!(
        (t.type_.as_str(), t.field_type.as_str()),
        ("string", "textarea"),
        "multi preference → multi-line text"
    );
    let view = h.core.configuration().mapping_load(false).await.expect("cached view");
    assert!(
        view.properties.iter().any(|p| p.name == "didomi_topics"),
        "new property offered without a refresh"
    );
    let e = h.core.configuration().mapping_create_property(purpose("nope")).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "unknown row refused: {e:?}");

    let suggestions =
        h.core.configuration().mapping_suggest(Mapping::default()).await.expect("suggests");
    let s = suggestions.iter().find(|s| s.item == events()).expect("a proposal for Events");
    assert!(s.property.starts_with("didomi_topics_events"), "the created property proposed: {s:?}");
    assert!(h.core.settings().mapping.is_empty(), "suggest applies nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_property_is_stale_and_blocks_a_sync() {
    let h = connected(22140).await;
    let e = h.core.configuration().mapping_ready().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::MappingEmpty, "empty mapping blocks: {e:?}");
    let created =
        h.core.configuration().mapping_create_property(purpose(NEWSLETTER)).await.expect("creates");
    h.core
        .configuration()
        .mapping_save(Mapping {
            entries: vec![entry(purpose(NEWSLETTER), &created.name), entry(topics(), "sim_text")],
        })
        .await
        .expect("saves");
    let ready = h.core.configuration().mapping_ready().await.expect("ready");
    assert_eq!(ready.mapping.entries.len(), 2, "the saved mapping");
    h.core
        .connections()
        .hubspot()
        .await
        .unwrap()
        .archive_contact_property(&created.name)
        .await
        .expect("archived in HubSpot");
    let view = h.core.configuration().mapping_load(true).await.expect("refresh");
    assert_eq!(view.stale.len(), 1, "one stale entry: {:?}", view.stale);
    assert_eq!(view.stale[0].reason, StaleReason::PropertyArchived, "archived told apart");
    assert!(
        view.stale[0].message.contains(&created.name),
        "property named: {}",
        view.stale[0].message
    );
    let e = h.core.configuration().mapping_ready().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::MappingStale, "sync refused: {e:?}");
    assert!(
        e.message.contains(&created.name) && e.message.contains("Newsletter"),
        "names them: {}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_row_gone_from_didomi_is_stale_after_a_restart() {
    let h = connected(22150).await;
    h.core
        .configuration()
        .mapping_save(Mapping { entries: vec![entry(purpose(NEWSLETTER), "sim_bool_checkbox")] })
        .await
        .expect("saves");
    // Settings saved by an earlier run that mapped a purpose the organization has since deleted.
    let mut settings = h.core.settings();
    settings.mapping.entries.push(entry(purpose("retired_purpose-Zz99"), "sim_yes_no_radio"));
    let restarted = dhs_core::Core::new(
        h.core.env().clone(),
        settings,
        h.secrets.clone(),
        Box::new(|_| Ok(())),
    );
    let view = restarted.configuration().mapping_load(false).await.expect("loads");
    assert_eq!(view.stale.len(), 1, "only the removed row: {:?}", view.stale);
    assert_eq!(view.stale[0].reason, StaleReason::DidomiItemRemoved, "reason");
    assert!(view.stale[0].message.contains("retired_purpose-Zz99"), "{}", view.stale[0].message);
    let e = restarted.configuration().mapping_ready().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::MappingStale, "sync refused: {e:?}");
}

/// A create whose answer was lost (dropped connection, retried) meets a 409 for its own
/// property: the app uses that property, exactly the one it asked for, instead of making a
/// `_2` twin and leaving an orphan in HubSpot. A different property with the name still
/// gets a fresh name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_property_reuses_its_own_property_after_a_lost_answer() {
    use dhs_core::hubspot::models::property::PropertyOption;
    use dhs_core::hubspot::models::PropertyCreate;
    let h = connected(22135).await;
    // The schema cache is loaded before "our" create lands in HubSpot.
    h.core.configuration().mapping_load(false).await.expect("loads");
    let option = |value: &str, label: &str, order| PropertyOption {
        label: label.into(),
        value: value.into(),
        display_order: Some(order),
        ..Default::default()
    };
    let landed = PropertyCreate {
        name: "didomi_topics_events".into(),
        label: "Newsletter › Topics › Events".into(),
        type_: "bool".into(),
        field_type: "booleancheckbox".into(),
        group_name: "didomi".into(),
        options: vec![option("true", "Yes", 0), option("false", "No", 1)],
        ..Default::default()
    };
    let client = h.core.connections().hubspot().await.unwrap();
    let _ = client
        .create_contact_property_group(&dhs_core::hubspot::models::PropertyGroupCreate {
            name: "didomi".into(),
            label: "Didomi".into(),
            ..Default::default()
        })
        .await;
    client.create_contact_property(&landed).await.expect("the lost create landed");
    let b = h.core.configuration().mapping_create_property(events()).await.expect("creates");
    assert_eq!(b.name, "didomi_topics_events", "its own property is used, no twin");
    assert!(h.sim.hubspot.property("didomi_topics_events_2").is_none(), "no orphan");
    // Someone else's property under the next name: a fresh name, theirs untouched.
    client
        .create_contact_property(&PropertyCreate {
            name: "didomi_topics".into(),
            label: "Topics (marketing)".into(),
            type_: "string".into(),
            field_type: "text".into(),
            group_name: "contactinformation".into(),
            ..Default::default()
        })
        .await
        .expect("someone else's property");
    let t = h.core.configuration().mapping_create_property(topics()).await.expect("text");
    assert_eq!(t.name, "didomi_topics_2", "a different property keeps its name");
}
