//! Export / import against the simulator: export → import round-trips to the identical
//! configuration and never contains a secret; every file of the bad-file corpus
//! (`tests/fixtures/import/`) gives its clear error and changes nothing; another portal or
//! organization only warns; a v0 draft migrates; a file changed after its preview is refused.

use std::path::PathBuf;

use dhs_core::mapping::{DidomiItem, Mapping, MappingEntry, ValueEncoding};
use dhs_core::ErrorCode;

use crate::options::connected;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/import").join(name)
}

fn saved_mapping() -> Mapping {
    let n = "newsletter-7Kq2Xa".to_owned();
    Mapping {
        entries: vec![
            MappingEntry {
                item: DidomiItem::Purpose { purpose_id: n.clone() },
                property: "sim_bool_checkbox".into(),
                encoding: ValueEncoding::Labels,
            },
            MappingEntry {
                item: DidomiItem::Preference {
                    purpose_id: n.clone(),
                    preference_id: "topics-T6n3Yu".into(),
                },
                property: "sim_textarea".into(),
                encoding: ValueEncoding::Ids,
            },
            MappingEntry {
                item: DidomiItem::Value {
                    purpose_id: n,
                    preference_id: "topics-T6n3Yu".into(),
                    value_id: "events-3c4D".into(),
                },
                property: "sim_yes_no_select".into(),
                encoding: ValueEncoding::Labels,
            },
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_round_trips_and_holds_no_secret() {
    let h = connected(22210).await;
    let portal = h.sim.hubspot.portal_id();
    h.core.configuration().options_set_upsert(true).await.expect("upsert");
    h.core
        .configuration()
        .options_enable_bidirectional(portal.to_string())
        .await
        .expect("bidirectional");
    h.core.configuration().mapping_save(saved_mapping()).await.expect("saved");
    let before = h.core.settings();
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("export.json");
    let summary = h.core.configuration().config_export(path.clone()).await.expect("exports");
    assert_eq!(summary.entries, 3, "every mapping written");
    let text = std::fs::read_to_string(&path).expect("file written");
    let secrets = [
        h.sim.info.hubspot_private_app_token.clone(),
        h.sim.info.didomi_api_key.secret.clone(),
        h.sim.info.hubspot_app.client_secret.clone(),
    ];
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "no secret in the export");
    }
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["format"], "didomi-hubspot-sync.mapping-config", "format name");
    assert_eq!(v["version"], 1, "version");
    // `$schema` names a file an editor can open: relative, and written next to the export.
    let schema_ref = v["$schema"].as_str().expect("$schema");
    assert!(!schema_ref.contains("example.invalid"), "not a placeholder URL: {schema_ref}");
    let schema_file = dir.path().join(schema_ref);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_file).expect("schema beside it"))
            .expect("the schema is JSON");
    assert_eq!(
        schema["title"], "Didomi ⇄ HubSpot sync: mapping configuration",
        "the schema of this format"
    );
    assert_eq!(v["hubspotPortalId"], portal, "portal for information");
    assert_eq!(
        v["mappings"][2]["didomiLabel"], "Newsletter › Topics › Events",
        "labels for people"
    );
    assert_eq!(v["mappings"][2]["propertyFieldType"], "select", "types for drift checks");

    // Change everything, then import the export back.
    h.core.configuration().options_set_upsert(false).await.expect("change");
    h.core.configuration().options_disable_bidirectional().await.expect("change");
    h.core
        .configuration()
        .mapping_save(Mapping { entries: vec![saved_mapping().entries[0].clone()] })
        .await
        .expect("change");
    let preview =
        h.core.configuration().config_import_preview(path.clone()).await.expect("preview");
    assert!(preview.can_apply && preview.errors.is_empty(), "valid: {:?}", preview.errors);
    assert!(preview.warnings.is_empty(), "same portal and organization: {:?}", preview.warnings);
    assert_eq!(preview.file_version, Some(1), "version");
    assert_eq!(preview.diff.added.len(), 2, "two rows come back: {:?}", preview.diff);
    assert!(preview.diff.changed.is_empty() && preview.diff.removed.is_empty(), "nothing else");
    let names: Vec<&str> = preview.diff.options.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, vec!["upsert", "bidirectional"], "option changes listed");
    assert_eq!(h.core.settings().mapping.entries.len(), 1, "preview applies nothing");
    let after =
        h.core.configuration().config_import_apply(path, preview.token).await.expect("applies");
    assert_eq!(after.mapping, before.mapping, "identical mapping");
    assert_eq!(after.options, before.options, "identical options");
    let persisted = h.saved.lock().unwrap().clone().expect("persisted");
    assert_eq!(persisted.mapping, before.mapping, "saved with the settings");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_file_gives_its_clear_error_and_changes_nothing() {
    let h = connected(22220).await;
    h.core.configuration().mapping_save(saved_mapping()).await.expect("saved");
    let before = h.core.settings();
    let props_before = h.sim.hubspot.properties().len();
    let dir = tempfile::tempdir().expect("tmp");
    let huge = dir.path().join("huge.json");
    let mut big = String::from("{\"version\": 1, \"pad\": \"");
    big.push_str(&"x".repeat(6 * 1024 * 1024));
    big.push_str("\"}");
    std::fs::write(&huge, big).expect("huge file");
    // (file, JSON path of the first error, words of its message, line when serde_json knows it)
    let corpus: Vec<(PathBuf, &str, &str, Option<u32>)> = vec![
        (fixture("not-json.json"), "options", "not valid JSON", Some(4)),
        (fixture("not-a-config.json"), ".", "expected an object", None),
        (fixture("wrong-version.json"), "version", "reads up to 1", None),
        (fixture("wrong-format.json"), "format", "\"some-other-tool.export\"", None),
        (fixture("wrong-shape.json"), "mappings[0].property", "expected a string", Some(5)),
        (
            fixture("unknown-field.json"),
            "mappings[0].propertee",
            "unknown field `propertee`",
            Some(5),
        ),
        (fixture("unknown-ids.json"), "mappings[0].item", "not in the Didomi configuration", None),
        (
            fixture("missing-property.json"),
            "mappings[0].property",
            "no contact property \"no_such_property\"",
            None,
        ),
        (fixture("incompatible-type.json"), "mappings[0].property", "cannot be used", None),
        (
            fixture("duplicate-targets.json"),
            "mappings[1].property",
            "already used by \"Newsletter\"",
            None,
        ),
        (fixture("bad-options.json"), "options.batchSize", "between 1 and 100", None),
        (huge, ".", "larger than 5 MB", None),
    ];
    for (path, want_path, words, line) in corpus {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let preview = h
            .core
            .configuration()
            .config_import_preview(path.clone())
            .await
            .expect("a preview, not a crash");
        assert!(!preview.can_apply, "{name} cannot be applied");
        let problem = preview
            .errors
            .iter()
            .find(|p| p.path == want_path)
            .unwrap_or_else(|| panic!("{name}: error at {want_path}: {:?}", preview.errors));
        assert!(
            problem.message.contains(words),
            "{name}: message says {words:?}: {}",
            problem.message
        );
        if line.is_some() {
            assert_eq!(problem.line, line, "{name}: line given: {problem:?}");
            assert!(problem.column.is_some(), "{name}: column given");
        }
        let e = h.core.configuration().config_import_apply(path, preview.token).await.unwrap_err();
        assert!(
            matches!(e.code, ErrorCode::ImportInvalid | ErrorCode::ImportIncompatible),
            "{name}: {e:?}"
        );
        assert!(e.message.contains("Nothing was imported"), "{name}: {}", e.message);
        assert_eq!(h.core.settings(), before, "{name} changed nothing");
    }
    assert_eq!(h.sim.hubspot.properties().len(), props_before, "nothing created in HubSpot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_portal_warns_v0_migrates_and_a_changed_file_is_refused() {
    let h = connected(22230).await;
    let preview = h
        .core
        .configuration()
        .config_import_preview(fixture("another-portal.json"))
        .await
        .expect("preview");
    assert!(preview.can_apply, "valid elsewhere too: {:?}", preview.errors);
    assert_eq!(preview.warnings.len(), 2, "portal and organization: {:?}", preview.warnings);
    assert!(preview.warnings[0].contains("HubSpot account 1"), "{}", preview.warnings[0]);
    assert!(preview.warnings[1].contains("another-org"), "{}", preview.warnings[1]);

    let v0 = h
        .core
        .configuration()
        .config_import_preview(fixture("v0-draft.json"))
        .await
        .expect("v0 preview");
    assert_eq!(v0.file_version, Some(0), "a v0 draft");
    assert!(v0.can_apply, "migrates: {:?}", v0.errors);
    assert_eq!(v0.diff.added.len(), 3, "three rows: {:?}", v0.diff.added);
    let s = h
        .core
        .configuration()
        .config_import_apply(fixture("v0-draft.json"), v0.token)
        .await
        .expect("applies");
    assert_eq!(s.mapping.entries[1].encoding, ValueEncoding::Ids, "useIds migrated");
    assert!(s.options.upsert, "options migrated");

    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("a.json");
    std::fs::copy(fixture("another-portal.json"), &path).expect("copy");
    let preview =
        h.core.configuration().config_import_preview(path.clone()).await.expect("preview");
    let text =
        std::fs::read_to_string(&path).unwrap().replace("\"upsert\": true", "\"upsert\": false");
    std::fs::write(&path, text).unwrap();
    let before = h.core.settings();
    let e = h.core.configuration().config_import_apply(path, preview.token).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ImportChanged, "{e:?}");
    assert_eq!(h.core.settings(), before, "nothing applied");
}
