//! Scale of the simulated HubSpot: a 1,000,000-person population (about 850,000 contacts) must
//! fit in modest memory and still answer reads, writes and searches over HTTP. Run with
//! `cargo test -p dhs-simulator --release --test hubspot_scale -- --ignored --nocapture`
//! (ignored by default: it takes a few seconds in release and much longer in debug builds).

mod hubspot_common;

use std::time::Instant;

use hubspot_common::*;
use serde_json::{json, Value};

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
#[ignore = "slow: seeds 1,000,000 people; run explicitly (release) to measure"]
async fn one_million_people_fit_in_modest_memory() {
    let before = rss_kib().unwrap_or(0);
    let t = Instant::now();
    let sim = sim_with(|c| c.users = 1_000_000).await;
    let seeded_in = t.elapsed();
    let after = rss_kib().unwrap_or(0);
    let hs = &sim.hubspot;
    let count = hs.contact_count();
    let heap = hs.contacts_heap_bytes();
    println!(
        "contacts={count} seeded_in={seeded_in:?} contacts_heap={} MiB rss_delta={} MiB heap_bytes/contact={}",
        heap / (1 << 20),
        after.saturating_sub(before) / 1024,
        heap / count.max(1)
    );
    assert!(
        (800_000..900_000).contains(&count),
        "about 85% of 1M people are contacts, got {count}"
    );
    assert!(heap / count < 160, "compact storage: {} bytes per contact", heap / count);
    let p = dhs_simulator::people::people(42, 1_000_000)
        .filter(|p| p.on_hubspot())
        .last()
        .expect("someone");
    let t = Instant::now();
    let c = hs.contact_by_email(&p.hubspot_email.to_uppercase()).expect("found by email");
    println!("lookup by email: {:?}", t.elapsed());
    hs.set_property_value_as_user(c.id, "sim_number", "7").expect("edit");
    assert_eq!(hs.history(c.id, "sim_number")[0].value, "7", "write works at scale");
    let since = hs.contact(c.id).expect("c").updated_ms;
    let http = client();
    let t = Instant::now();
    let res: Value = http
        .post(format!("{}/crm/v3/objects/contacts/search", sim.info.hubspot))
        .bearer_auth(token(&sim))
        .json(&json!({"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": since.to_string()}]}],
                      "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}], "limit": 200}))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    println!("search over {count} contacts: {:?}", t.elapsed());
    assert_eq!(res["total"], 1, "only the edited contact is that recent");
    let t = Instant::now();
    let page: Value = http
        .get(format!("{}/crm/v3/objects/contacts?limit=100&after=800000", sim.info.hubspot))
        .bearer_auth(token(&sim))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    println!("list page deep in the id range: {:?}", t.elapsed());
    assert_eq!(page["results"][0]["id"], "800001", "cursor paging jumps straight to the id");
    sim.shutdown().await;
}
