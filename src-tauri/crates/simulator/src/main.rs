//! `simulator`: runs the HubSpot + Didomi simulator on loopback.
//!
//! When both servers accept connections it prints exactly one JSON line on stdout (the
//! [`dhs_simulator::Info`]: base URLs and working credentials); everything else goes to stderr.
//! It stops cleanly on SIGINT or SIGTERM. `simulator --help` lists every flag.

use clap::Parser;
use dhs_simulator::faults::{Api, FaultConfig, FaultRule};
use std::io::Write;

/// The simulator answers every request of a push from freshly built pages and bodies; with
/// the system allocator most of its time went to malloc and free across its threads, taking
/// CPU from the client it serves on the same machine. (The library, run in-process by the
/// app's Sandbox, keeps the app's allocator.)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// In-memory, deterministic simulator of the HubSpot and Didomi APIs.
///
/// Prints one JSON line on stdout when ready: {"hubspot", "didomi", "hubspot_app",
/// "hubspot_private_app_token", "didomi_api_key", "didomi_organization_id"}. Logs go to stderr
/// (filter with RUST_LOG or --log). Admin routes on both servers: GET/PUT/DELETE /_sim/faults;
/// on Didomi: GET /_sim/didomi/stats.
#[derive(Debug, Parser)]
#[command(name = "simulator", version)]
struct Args {
    /// Port of the HubSpot API on 127.0.0.1 (0 = ephemeral).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Port of the Didomi API on 127.0.0.1 (0 = ephemeral).
    #[arg(long, default_value_t = 0)]
    didomi_port: u16,
    /// Seed of all generated data, credentials and token keys (same seed = same data; Didomi
    /// tokens survive a restart with the same seed).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of people in the seeded population (1,000,000 works).
    #[arg(long, default_value_t = 300)]
    users: u64,
    /// Divides every enforced duration (token lifetimes, rate-limit windows) by this factor.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// HubSpot requests allowed per rolling 10 s window (110 = an OAuth app).
    #[arg(long, default_value_t = 110)]
    hubspot_rate_limit: u32,
    /// HubSpot requests a private app may send per rolling 10 s window (100 = Free/Starter,
    /// 190 = Professional/Enterprise, 250 = with the API add-on).
    #[arg(long, default_value_t = 100)]
    hubspot_private_app_rate_limit: u32,
    /// HubSpot CRM search requests allowed per second.
    #[arg(long, default_value_t = 5)]
    hubspot_search_rate_limit: u32,
    /// Didomi non-consent requests allowed per 15 s window.
    #[arg(long, default_value_t = 100)]
    didomi_rate_limit: u32,
    /// A redirect URI registered on the simulated HubSpot app (repeatable; default: the app's
    /// fixed loopback list, ports 53134-53138).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Fault injection: fixed latency added to every matching request, in ms.
    #[arg(long, default_value_t = 0)]
    fault_latency_ms: u64,
    /// Fault injection: extra latency drawn in 0..=N ms.
    #[arg(long, default_value_t = 0)]
    fault_jitter_ms: u64,
    /// Fault injection: answer the next N matching requests with the API's own 429.
    #[arg(long, default_value_t = 0)]
    fault_429_burst: u32,
    /// Fault injection: share (0..1) of matching requests answered 429.
    #[arg(long, default_value_t = 0.0)]
    fault_429_share: f64,
    /// Fault injection: share (0..1) answered 500/502/503/504.
    #[arg(long, default_value_t = 0.0)]
    fault_5xx_share: f64,
    /// Fault injection: share (0..1) whose connection is closed without a response.
    #[arg(long, default_value_t = 0.0)]
    fault_drop_share: f64,
    /// Fault injection: share (0..1) answered 200 with a truncated JSON body.
    #[arg(long, default_value_t = 0.0)]
    fault_malformed_share: f64,
    /// Fault injection: only paths starting with this prefix (repeatable; default: all paths).
    #[arg(long = "fault-route")]
    fault_routes: Vec<String>,
    /// Fault injection: only this HTTP method (e.g. POST).
    #[arg(long)]
    fault_method: Option<String>,
    /// Fault injection: only this API (hubspot or didomi; default: both).
    #[arg(long, value_parser = ["hubspot", "didomi"])]
    fault_api: Option<String>,
    /// Seed of the fault draws (same seed and request sequence = same faults).
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Languages of the Didomi organization's names: purposes, preferences and values carry
    /// only these in their language maps (comma-separated or repeated; default: en,fr). E.g.
    /// `--didomi-languages fr` for an organization without English names.
    #[arg(long, value_delimiter = ',', value_parser = ["en", "fr"])]
    didomi_languages: Vec<String>,
    /// Log filter (overrides RUST_LOG), e.g. "info" or "dhs_simulator=debug".
    #[arg(long)]
    log: Option<String>,
}

impl Args {
    fn faults(&self) -> Result<FaultConfig, String> {
        let template = FaultRule {
            api: match self.fault_api.as_deref() {
                Some("hubspot") => Some(Api::HubSpot),
                Some("didomi") => Some(Api::Didomi),
                _ => None,
            },
            path_prefix: None,
            method: self.fault_method.clone(),
            latency_ms: self.fault_latency_ms,
            jitter_ms: self.fault_jitter_ms,
            burst_429: self.fault_429_burst,
            share_429: self.fault_429_share,
            share_5xx: self.fault_5xx_share,
            share_drop: self.fault_drop_share,
            share_malformed: self.fault_malformed_share,
        };
        let rules = if self.fault_routes.is_empty() {
            vec![template]
        } else {
            self.fault_routes
                .iter()
                .map(|p| FaultRule { path_prefix: Some(p.clone()), ..template.clone() })
                .collect()
        };
        let mut config = FaultConfig { seed: self.fault_seed, rules };
        if config.is_empty() {
            config.rules.clear();
        }
        config.validate()?;
        Ok(config)
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let filter = args
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".into());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .init();
    let faults = match args.faults() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("simulator: invalid fault flags: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut config = dhs_simulator::Config {
        hubspot_port: args.port,
        didomi_port: args.didomi_port,
        seed: args.seed,
        users: args.users,
        time_scale: args.time_scale,
        hubspot_requests_per_10s: args.hubspot_rate_limit,
        hubspot_private_app_requests_per_10s: args.hubspot_private_app_rate_limit,
        hubspot_search_per_s: args.hubspot_search_rate_limit,
        didomi_requests_per_15s: args.didomi_rate_limit,
        faults,
        ..dhs_simulator::Config::default()
    };
    if !args.redirect_uris.is_empty() {
        config.redirect_uris = args.redirect_uris.clone();
    }
    if !args.didomi_languages.is_empty() {
        if let Err(e) = dhs_simulator::didomi::config::check_languages(&args.didomi_languages) {
            eprintln!("simulator: invalid --didomi-languages: {e}");
            return std::process::ExitCode::from(2);
        }
        config.didomi_languages = args.didomi_languages.clone();
    }
    let started = std::time::Instant::now();
    let sim = match dhs_simulator::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("simulator: cannot start: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let line = serde_json::to_string(&sim.info).expect("info serializes");
    {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            eprintln!("simulator: cannot write to stdout");
        }
    }
    tracing::info!(
        hubspot = %sim.info.hubspot,
        didomi = %sim.info.didomi,
        users = args.users,
        seed = args.seed,
        startup_ms = started.elapsed().as_millis() as u64,
        "simulator ready"
    );
    wait_for_signal().await;
    tracing::info!("simulator stopping");
    sim.shutdown().await;
    std::process::ExitCode::SUCCESS
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn didomi_languages_are_parsed_comma_separated_or_repeated() {
        let a = Args::try_parse_from(["simulator"]).expect("no flag");
        assert!(a.didomi_languages.is_empty(), "absent: the default (en, fr) applies");
        let a = Args::try_parse_from(["simulator", "--didomi-languages", "fr"]).expect("fr");
        assert_eq!(a.didomi_languages, ["fr"]);
        let a = Args::try_parse_from(["simulator", "--didomi-languages", "fr,en"]).expect("list");
        assert_eq!(a.didomi_languages, ["fr", "en"]);
        let a = Args::try_parse_from([
            "simulator",
            "--didomi-languages",
            "en",
            "--didomi-languages",
            "fr",
        ])
        .expect("repeated");
        assert_eq!(a.didomi_languages, ["en", "fr"]);
        let e = Args::try_parse_from(["simulator", "--didomi-languages", "de"]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("'de'") && msg.contains("en") && msg.contains("fr"), "{msg}");
    }
}
