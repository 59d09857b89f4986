//! `inspect EMAIL [--json]`: the contact inspector headless, on the same core function as the
//! app's Inspect screen ([`dhs_core::inspect::inspect`]). Exit codes: 0 found, 3 the email is
//! known to neither Didomi nor HubSpot, 1 the lookup failed.

use std::sync::Arc;

use anyhow::{Context, Result};
use dhs_core::inspect::{Inspection, Lookup};
use dhs_core::run::Store;

use crate::run::{config_file, sandbox_direct, saved_or_file, Direct};
use crate::{InspectArgs, Source};

/// Exit code when neither side knows the email.
pub const UNKNOWN: u8 = 3;

/// `inspect`.
pub async fn run(src: &Source, args: &InspectArgs) -> Result<u8> {
    let from_file = src.config.as_deref().map(config_file).transpose()?;
    let fail = |e: dhs_core::Error| anyhow::anyhow!("{} ({:?})", e.message, e.code);
    let direct = src.hubspot_base_url.is_some()
        || src.didomi_base_url.is_some()
        || std::env::var_os("HUBSPOT_ACCESS_TOKEN").is_some();
    let found = if src.sandbox {
        sandbox(src, &args.email).await?
    } else if direct {
        let direct = Direct::from_env(src)?;
        let (data_dir, _, mapping) = saved_or_file(src, from_file)?;
        let store = Store::open_in(&data_dir).map_err(|e| fail(e.into()))?;
        let (hubspot, didomi) = (direct.hubspot(), direct.didomi());
        let lookup = Lookup {
            hubspot: &hubspot,
            didomi: &didomi,
            store: &store,
            mapping: &mapping,
            schemas: None,
        };
        dhs_core::inspect::inspect(lookup, &args.email).await.map_err(fail)?
    } else {
        let core = crate::run::app_core(src, from_file)?;
        core.runs().inspect(args.email.clone()).await.map_err(fail)?
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found).context("inspection to JSON")?);
    } else {
        print!("{}", text(&found));
    }
    Ok(if found.found { 0 } else { UNKNOWN })
}

/// Against an in-process simulator with everything mapped (nothing pushed yet unless
/// `--data-dir` holds a state).
async fn sandbox(src: &Source, email: &str) -> Result<Inspection> {
    let (sim, direct) = sandbox_direct(src).await?;
    let (hubspot, didomi) = (direct.hubspot(), direct.didomi());
    let err = |e: dhs_core::didomi::Error| anyhow::anyhow!(dhs_core::Error::from(e).message);
    let tree = didomi.config_tree().await.map_err(err)?.context("the sandbox has no tree")?;
    let mapping = dhs_core::push::automap::full_mapping(&tree);
    dhs_core::push::automap::ensure_properties(
        &hubspot,
        &mapping,
        &dhs_core::settings::SyncOptions::default().property_group,
    )
    .await
    .map_err(|e| anyhow::anyhow!(dhs_core::Error::from(e).message))?;
    let dir = crate::run::sandbox_data_dir(src);
    let store = Arc::new(
        Store::open_in(&dir).map_err(|e| anyhow::anyhow!(dhs_core::Error::from(e).message))?,
    );
    let lookup = Lookup {
        hubspot: &hubspot,
        didomi: &didomi,
        store: &store,
        mapping: &mapping,
        schemas: None,
    };
    let r = dhs_core::inspect::inspect(lookup, email)
        .await
        .map_err(|e| anyhow::anyhow!("{} ({:?})", e.message, e.code));
    sim.shutdown().await;
    r
}

/// The inspection as text for a terminal.
fn text(i: &Inspection) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "{} (taken {})", i.email, i.taken_at);
    if !i.found {
        let _ = writeln!(s, "Neither Didomi nor HubSpot knows this email.");
        return s;
    }
    let _ = writeln!(s, "\nDidomi users:");
    for u in &i.didomi_users {
        let _ = writeln!(
            s,
            "  {} {} · {} · changed {}",
            if u.wins { "★" } else { " " },
            u.id,
            u.organization_user_id.as_deref().unwrap_or("(no organization user id)"),
            u.updated_at.as_deref().unwrap_or("at an unknown time")
        );
    }
    let _ = writeln!(s, "  {}", i.winner_reason);
    let _ = writeln!(
        s,
        "\nHubSpot contact: {}",
        i.hubspot_contact.as_deref().unwrap_or("none with this email")
    );
    let _ = writeln!(s, "\nMapped items (Didomi → push would write → HubSpot):");
    let shown = |v: &Option<String>| match v.as_deref() {
        None => "—".to_owned(),
        Some("") => "(empty)".to_owned(),
        Some(x) => x.to_owned(),
    };
    for r in &i.rows {
        let _ = writeln!(
            s,
            "  {} [{}]: {} → {} → {} · {:?}: {}",
            r.didomi_item,
            r.property,
            r.didomi,
            shown(&r.expected),
            shown(&r.hubspot),
            r.matches,
            r.explanation
        );
    }
    if !i.hubspot_history.is_empty() {
        let _ = writeln!(s, "\nHubSpot history:");
        for h in &i.hubspot_history {
            let _ = writeln!(s, "  {} {} = {:?} · {}", h.timestamp, h.property, h.value, h.source);
        }
    }
    if !i.runs.is_empty() {
        let _ = writeln!(s, "\nRuns:");
        for r in &i.runs {
            let _ = writeln!(
                s,
                "  #{} {:?} {:?}{} {} · {}",
                r.id,
                r.direction,
                r.status,
                if r.dry_run { " (dry run)" } else { "" },
                r.started_at,
                r.message
            );
        }
    }
    let _ = writeln!(s, "\nRequests: HubSpot {}, Didomi {}", i.requests.hubspot, i.requests.didomi);
    s
}
