//! The organization's language, through the facade against a simulator whose Didomi names
//! carry only the languages the test chose (`Config::didomi_languages`):
//! - a French-only organization: the Mapping rows are named in French; a push writes a
//!   preference mapped to a text property (label encoding) as French labels; the pull right
//!   after (the simulated workflow fired for the push's own writes) writes nothing back and
//!   reports no unknown token; a person typing another French label in HubSpot gets that value
//!   selected in Didomi by the next pull, while an English label typed there is that record's
//!   error naming the token (never guessed) and leaves Didomi alone;
//! - an organization with French and English names (French first) keeps English.

use std::collections::HashMap;

use dhs_core::didomi::consents::ConsentUser;
use dhs_core::mapping::{DidomiItem, Mapping, MappingEntry, ValueEncoding};
use dhs_core::run::{RunStatus, SyncDirection, SyncRequest};
use dhs_simulator::didomi::config::Preference;
use dhs_simulator::Config;
use dhs_tests::{start_connected_with, Harness};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const NEWSLETTER: &str = "newsletter-7Kq2Xa";
const TOPICS: &str = "topics-T6n3Yu";
const FREQUENCY: &str = "email_frequency-F2w8Qe";

/// Which of a seeded name's two texts (English, French) to expect.
#[derive(Clone, Copy)]
enum Lang {
    En,
    Fr,
}

fn pick(t: (&'static str, &'static str), lang: Lang) -> &'static str {
    match lang {
        Lang::En => t.0,
        Lang::Fr => t.1,
    }
}

async fn start(languages: &[&str]) -> Harness {
    start_connected_with(Config {
        users: 200,
        time_scale: 100.0,
        didomi_languages: languages.iter().map(|l| (*l).to_owned()).collect(),
        ..Config::default()
    })
    .await
}

fn library(h: &Harness, id: &str) -> Preference {
    h.sim.didomi.pmp_config().preference(id).expect("seeded preference").clone()
}

/// The text the push should write for `user`'s choice of `pref` under the newsletter: the
/// selected values' labels in `lang`, in the preference's value order, joined with `;`; `None`
/// when the user made no choice.
fn expected_text(user: &ConsentUser, pref: &Preference, lang: Lang) -> Option<String> {
    let choice = user.purpose(NEWSLETTER)?.values.get(pref.id)?;
    let ids: Vec<&str> = choice.ids().collect();
    let labels: Vec<&str> =
        pref.values.iter().filter(|v| ids.contains(&v.id)).map(|v| pick(v.name, lang)).collect();
    Some(labels.join(";"))
}

/// Maps the newsletter's Topics (multi) and Email frequency (single) preferences, as labels, to
/// HubSpot properties the app creates ("New HubSpot property…"); returns the saved mapping and
/// the property of each preference.
async fn map_preferences(h: &Harness) -> (Mapping, HashMap<&'static str, String>) {
    let mut entries = Vec::new();
    let mut props = HashMap::new();
    for pref in [TOPICS, FREQUENCY] {
        let item =
            DidomiItem::Preference { purpose_id: NEWSLETTER.into(), preference_id: pref.into() };
        let p = h
            .core
            .configuration()
            .mapping_create_property(item.clone())
            .await
            .expect("property created");
        props.insert(pref, p.name.clone());
        entries.push(MappingEntry { item, property: p.name, encoding: ValueEncoding::Labels });
    }
    let saved =
        h.core.configuration().mapping_save(Mapping { entries }).await.expect("mapping saved");
    (saved, props)
}

/// Runs a push through the facade (as the Sync screen does) and checks it succeeded.
async fn push(h: &Harness) -> dhs_core::RunReport {
    let req = SyncRequest { direction: SyncDirection::Push, dry_run: false, full: false };
    let r = h.core.runs().push_run(req, |_| {}, CancellationToken::new()).await.expect("push runs");
    assert_eq!(r.summary.status, RunStatus::Succeeded, "push ok: {:?}", r.summary);
    r
}

/// Every contact on both sides whose Didomi user chose something for `pref`, with the text the
/// push should have written and what HubSpot holds.
async fn pushed_texts(
    h: &Harness,
    pref: &Preference,
    property: &str,
    lang: Lang,
) -> Vec<(u64, String, String, Option<String>)> {
    let mut out = Vec::new();
    for u in h.didomi_users().await {
        let Some(want) = expected_text(&u, pref, lang) else { continue };
        let Some(email) = u.organization_user_id.clone() else { continue };
        if h.sim.didomi.user_by_organization_user_id(&email.to_uppercase()).is_some() {
            continue; // a differently-cased duplicate: the newest user wins, skip the ambiguity
        }
        let Some(c) = h.sim.hubspot.contact_by_email(&email) else { continue };
        if c.properties.get("email").map(String::as_str) != Some(email.as_str()) {
            continue;
        }
        out.push((c.id, email, want, c.properties.get(property).cloned()));
    }
    out
}

/// The Didomi value ids of `pref` under the newsletter for `email`.
fn didomi_choice(h: &Harness, email: &str, pref: &str) -> Option<String> {
    let u = h.sim.didomi.user_by_organization_user_id(email).expect("Didomi user");
    let v = serde_json::to_value(&u).expect("user json");
    let u: ConsentUser = serde_json::from_value(v).expect("consent user");
    u.purpose(NEWSLETTER).and_then(|p| p.values.get(pref)).map(|c| c.value.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_french_only_organization_maps_pushes_and_pulls_french_labels() {
    let h = start(&["fr"]).await;
    let cfg = h.sim.didomi.pmp_config().clone();
    assert_eq!(cfg.languages, ["fr"], "the simulated organization is French-only");

    // The Mapping screen: French names, and the language says so.
    let view = h.core.configuration().mapping_load(false).await.expect("mapping loads");
    assert_eq!(view.language, "fr", "the names' language is French");
    assert!(!view.rows.is_empty(), "rows listed");
    let mut seen = (0, 0, 0);
    for row in &view.rows {
        let want = match &row.item {
            DidomiItem::Purpose { purpose_id } => {
                seen.0 += 1;
                pick(cfg.purpose(purpose_id).expect("seeded purpose").1.name, Lang::Fr)
            }
            DidomiItem::Preference { preference_id, .. } => {
                seen.1 += 1;
                pick(cfg.preference(preference_id).expect("seeded preference").name, Lang::Fr)
            }
            DidomiItem::Value { preference_id, value_id, .. } => {
                seen.2 += 1;
                let p = cfg.preference(preference_id).expect("seeded preference");
                pick(p.values.iter().find(|v| v.id == *value_id).expect("value").name, Lang::Fr)
            }
        };
        assert_eq!(row.label, want, "row {:?} is named in French", row.item);
    }
    assert!(seen.0 >= 4 && seen.1 >= 4 && seen.2 >= 10, "every kind of row checked: {seen:?}");
    let freq_row = view
        .rows
        .iter()
        .find(|r| {
            r.item
                == DidomiItem::Preference {
                    purpose_id: NEWSLETTER.into(),
                    preference_id: FREQUENCY.into(),
                }
        })
        .expect("email frequency row");
    assert_eq!(
        freq_row.path, "Lettre d'information › Fréquence des e-mails",
        "the path is French too"
    );
    assert_eq!(freq_row.labels_problem, None, "the French labels can be read back");

    // Bidirectional on, two preferences mapped as labels, the workflow emulated, then a push.
    let portal = h.sim.hubspot.portal_id();
    h.core.configuration().options_set_upsert(true).await.expect("upsert on");
    h.core
        .configuration()
        .options_enable_bidirectional(portal.to_string())
        .await
        .expect("bidirectional on");
    let (mapping, props) = map_preferences(&h).await;
    assert_eq!(mapping.entries.len(), 2, "both preferences mapped: {mapping:?}");
    let base: url::Url = h.sim.info.hubspot.parse().expect("hubspot url");
    let w = h.core.runs().workflow_simulate(&base, true).await.expect("workflow emulated");
    assert_eq!(w.trigger_properties.len(), 2, "both mapped properties trigger: {w:?}");
    let pushed = push(&h).await;
    let written = pushed.summary.counts.written;
    assert!(written >= 20, "the push wrote many contacts: {:?}", pushed.summary.counts);

    // HubSpot holds French labels, exactly the user's choice in value order.
    let (topics, freq) = (library(&h, TOPICS), library(&h, FREQUENCY));
    let mut french_multi = 0;
    for (pref, lang_check) in [(&topics, true), (&freq, false)] {
        let rows = pushed_texts(&h, pref, &props[pref.id], Lang::Fr).await;
        assert!(rows.len() >= 20, "{}: many contacts chose something: {}", pref.id, rows.len());
        for (id, email, want, got) in &rows {
            // HubSpot drops empty values: nothing selected reads as no value.
            assert_eq!(got.as_deref().unwrap_or(""), want, "{} of {email} (contact {id})", pref.id);
            if lang_check && want.contains(';') {
                french_multi += 1;
            }
        }
        let english: Vec<&str> = pref.values.iter().map(|v| v.name.0).collect();
        let french: Vec<&str> = pref.values.iter().map(|v| v.name.1).collect();
        let wrote_english = rows.iter().any(|(_, _, _, got)| {
            got.as_deref().is_some_and(|t| {
                t.split(';').any(|tok| english.contains(&tok) && !french.contains(&tok))
            })
        });
        assert!(!wrote_english, "{}: no English label was written", pref.id);
    }
    assert!(french_multi > 0, "some contacts hold several French topics joined with ';'");
    let bumped = h.sim.hubspot.workflow().increments;
    assert!(bumped >= written, "the workflow fired for the push's writes: {bumped} for {written}");

    // The pull right after: reads those contacts, parses the French labels, writes nothing back.
    let events = h.sim.didomi.events_received();
    let p =
        h.core.runs().pull_run(false, |_| {}, CancellationToken::new()).await.expect("pull runs");
    let c = p.run.summary.counts;
    assert_eq!(p.run.summary.status, RunStatus::Succeeded, "pull ok: {:?}", p.run.summary);
    assert!(c.read >= written, "the pull read every contact the push wrote: {c:?}");
    assert_eq!((c.written, c.invalid, c.failed), (0, 0, 0), "no echo, no error: {c:?}");
    assert!(p.conflicts.is_empty(), "no conflicts: {:?}", p.conflicts);
    let records = h.core.runs().history_records(p.run.summary.id, 1000, 0).await.expect("records");
    assert!(
        records.iter().all(|r| r.category.as_deref() != Some("UNKNOWN_VALUE")),
        "no unknown token: {records:?}"
    );
    assert_eq!(h.sim.didomi.events_received(), events, "Didomi received no event");

    // A person types another French label of Email frequency on one contact, and an English
    // label on another.
    let rows = pushed_texts(&h, &freq, &props[FREQUENCY], Lang::Fr).await;
    let (id_fr, email_fr, before_fr, _) = rows[0].clone();
    let (id_en, email_en, before_en, _) = rows[1].clone();
    let target = freq.values.iter().find(|v| v.name.1 != before_fr).expect("another value");
    h.edit_in_portal(id_fr, &props[FREQUENCY], target.name.1).await;
    let english = freq.values.iter().find(|v| v.name.1 != before_en).expect("another value");
    assert_ne!(english.name.0, english.name.1, "an English label that is not also French");
    h.edit_in_portal(id_en, &props[FREQUENCY], english.name.0).await;
    let didomi_en_before = didomi_choice(&h, &email_en, FREQUENCY);

    let p =
        h.core.runs().pull_run(false, |_| {}, CancellationToken::new()).await.expect("pull runs");
    let c = p.run.summary.counts;
    assert_eq!((c.read, c.written, c.invalid), (2, 1, 1), "one written, one refused: {c:?}");
    assert_eq!(
        didomi_choice(&h, &email_fr, FREQUENCY).as_deref(),
        Some(target.id),
        "\"{}\" typed in HubSpot selected {} in Didomi",
        target.name.1,
        target.id
    );
    let records = h.core.runs().history_records(p.run.summary.id, 100, 0).await.expect("records");
    let rec = records.iter().find(|r| r.email == email_en).expect("the English edit is recorded");
    assert_eq!(rec.category.as_deref(), Some("UNKNOWN_VALUE"), "an unknown token: {rec:?}");
    assert!(
        rec.message.contains(&format!("\"{}\"", english.name.0)),
        "the error names the token \"{}\": {}",
        english.name.0,
        rec.message
    );
    assert!(
        records.iter().all(|r| r.email != email_fr),
        "the French edit is no error: {records:?}"
    );
    assert_eq!(
        didomi_choice(&h, &email_en, FREQUENCY),
        didomi_en_before,
        "the English label was not guessed into Didomi"
    );
    let evs: Vec<_> = h
        .didomi_events(None)
        .await
        .into_iter()
        .filter(|r| r["source"] == "api")
        .map(|r| r["event"]["user"]["organization_user_id"].clone())
        .collect();
    assert_eq!(evs, [json!(email_fr)], "one event, for the French edit only");
    eprintln!(
        "French-only org: properties {props:?}; push wrote {written}; \"{}\" typed → {}; \"{}\" refused: {}",
        target.name.1, target.id, english.name.0, rec.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_with_english_and_french_names_keeps_english() {
    // French first: untranslated purpose names come in French, yet English wins.
    let h = start(&["fr", "en"]).await;
    let view = h.core.configuration().mapping_load(false).await.expect("mapping loads");
    assert_eq!(view.language, "en", "English whenever names have English");
    let cfg = h.sim.didomi.pmp_config().clone();
    for row in &view.rows {
        if let DidomiItem::Preference { preference_id, .. } = &row.item {
            let p = cfg.preference(preference_id).expect("seeded preference");
            assert_eq!(row.label, p.name.0, "preference row in English");
        }
        if let DidomiItem::Purpose { purpose_id } = &row.item {
            let (_, p) = cfg.purpose(purpose_id).expect("seeded purpose");
            assert_eq!(row.label, p.name.0, "purpose row in English");
        }
    }
    h.core.configuration().options_set_upsert(true).await.expect("upsert on");
    let (_, props) = map_preferences(&h).await;
    push(&h).await;
    let topics = library(&h, TOPICS);
    let rows = pushed_texts(&h, &topics, &props[TOPICS], Lang::En).await;
    assert!(rows.len() >= 20, "many contacts chose topics: {}", rows.len());
    for (id, email, want, got) in &rows {
        assert_eq!(got.as_deref().unwrap_or(""), want, "English topics of {email} (contact {id})");
    }
    assert!(
        rows.iter().any(|(_, _, want, _)| want.split(';').any(|t| t == "Product news")),
        "an English-only label was written at least once"
    );
}
