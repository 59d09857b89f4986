//! `bench`: the engine's throughput and memory against the simulator binary, run as a separate
//! process so only the engine's memory is measured (peak RSS = `VmHWM` of this process).
//!
//! Steps: start `simulator --users N --time-scale F`, map every purpose, preference and value
//! (properties created), push everything with upsert on, re-run with nothing changed, print
//! one JSON object. The ceiling is 100 contacts × the allowed requests per second (110 per
//! 10 s × F).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use dhs_core::sync::{automap, EngineConfig, PushJob, Store};
use dhs_core::{SyncDirection, SyncRequest};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// `bench` flags.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// People in the simulated population.
    #[arg(long, default_value_t = 100_000)]
    users: u64,
    /// The simulator's time scale (rate-limit windows ÷ F; the ceiling × F).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// The simulator binary (default: `simulator` next to this binary).
    #[arg(long, value_name = "PATH")]
    simulator_bin: Option<PathBuf>,
    /// Seed of the population.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// HubSpot requests per rolling 10 s in the simulator and the engine (110 = an installed
    /// OAuth app; the bench pushes with the simulator's private-app token, whose window is set
    /// to the same value).
    #[arg(long, default_value_t = 110)]
    rate_limit: u32,
    /// Requests in flight at once (default: the engine's).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Pacer safety margin added to the 10 s window, in milliseconds before the time scale
    /// (default: the engine's).
    #[arg(long)]
    margin_ms: Option<u64>,
    /// After the pushes, look this many people up with the contact inspector (spread over the
    /// population) and report the lookup times and the most requests one lookup made.
    #[arg(long, default_value_t = 0, value_name = "N")]
    inspect: u32,
}

/// Kills the simulator when the bench ends, however it ends.
struct SimProcess(Child);

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Peak resident set size of this process in MiB (`VmHWM`).
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

async fn stats(http: &reqwest::Client, base: &str) -> Result<Value> {
    Ok(http
        .get(format!("{base}/_sim/hubspot/stats"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

fn total_requests(s: &Value) -> u64 {
    s["requests"].as_object().map(|m| m.values().filter_map(Value::as_u64).sum()).unwrap_or(0)
}

/// Runs the benchmark and prints the JSON object.
pub async fn run(args: &BenchArgs) -> Result<u8> {
    let bin = match &args.simulator_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no folder around this binary")?
            .join("simulator"),
    };
    if !bin.exists() {
        bail!(
            "the simulator binary {} does not exist: build it (cargo build --release -p dhs-simulator) or pass --simulator-bin",
            bin.display()
        );
    }
    eprintln!(
        "starting {} with {} people (time scale {})…",
        bin.display(),
        args.users,
        args.time_scale
    );
    let mut child = Command::new(&bin)
        .args(["--users", &args.users.to_string(), "--time-scale", &args.time_scale.to_string()])
        .args([
            "--seed",
            &args.seed.to_string(),
            "--hubspot-rate-limit",
            &args.rate_limit.to_string(),
            "--hubspot-private-app-rate-limit",
            &args.rate_limit.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stdout = child.stdout.take().context("simulator stdout")?;
    let sim = SimProcess(child);
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await??;
    let info: dhs_simulator::Info = serde_json::from_str(line.trim())
        .with_context(|| format!("the simulator printed {line:?}"))?;

    let http = dhs_core::hubspot::client::http_client();
    let direct = crate::run::Direct::from_simulator(&info)?;
    let (hubspot, didomi) = (direct.hubspot(), direct.didomi());
    let core_err = |e: dhs_core::Error| anyhow::anyhow!("{} ({:?})", e.message, e.code);
    let tree = didomi
        .config_tree()
        .await
        .map_err(|e| core_err(e.into()))?
        .context("the simulator has no configuration tree")?;
    let mapping = automap::full_mapping(&tree);
    automap::ensure_properties(&hubspot, &mapping, "didomi")
        .await
        .map_err(|e| core_err(e.into()))?;

    let dir = std::env::temp_dir().join(format!("dhs-bench-{}", std::process::id()));
    let store = Store::open_in(&dir).map_err(|e| core_err(e.into()))?;
    let mut base = EngineConfig { rate_limit: args.rate_limit, ..EngineConfig::default() };
    if let Some(c) = args.concurrency {
        base.concurrency = c;
    }
    if let Some(m) = args.margin_ms {
        base.rate_margin = std::time::Duration::from_millis(m);
    }
    let cfg = base.scaled(args.time_scale);
    let job = PushJob {
        hubspot: Arc::new(hubspot),
        didomi: Arc::new(didomi),
        store: Arc::new(store),
        pacer: Arc::new(cfg.pacer()),
        mapping: mapping.clone(),
        upsert: true,
        scope: "bench".into(),
    };
    let req = SyncRequest { direction: SyncDirection::Push, dry_run: false, full: false };
    let last = Arc::new(std::sync::Mutex::new(Instant::now()));
    let on_progress = move |p: dhs_core::SyncProgress| {
        let mut l = last.lock().unwrap_or_else(|e| e.into_inner());
        if l.elapsed().as_secs() >= 5 {
            *l = Instant::now();
            eprintln!(
                "read {} · written {} · {:.0}/s · rss {:.1} MB",
                p.read,
                p.written,
                p.rate_per_s,
                peak_rss_mb().unwrap_or(0.0)
            );
        }
    };
    // The setup above (property reads and creations) used part of the rolling window; let it
    // pass so the measured push starts with the whole window, as a push on a quiet portal does.
    tracing::info!("setup done; waiting one window");
    tokio::time::sleep(cfg.rate_window + cfg.rate_margin).await;
    http.post(format!("{}/_sim/hubspot/stats/reset", info.hubspot)).send().await?;
    let before = stats(&http, &info.hubspot).await?;
    tracing::info!("the measured push starts");
    let t0 = Instant::now();
    let job_parts = job.clone();
    let first = dhs_core::sync::push(
        job.clone(),
        req,
        cfg.clone(),
        Arc::new(on_progress),
        CancellationToken::new(),
    )
    .await
    .map_err(core_err)?;
    let push_s = t0.elapsed().as_secs_f64();
    let mid = stats(&http, &info.hubspot).await?;
    let t1 = Instant::now();
    let second =
        dhs_core::sync::push(job, req, cfg.clone(), Arc::new(|_| {}), CancellationToken::new())
            .await
            .map_err(core_err)?;
    let rerun_s = t1.elapsed().as_secs_f64();
    let after = stats(&http, &info.hubspot).await?;
    let lookups = inspect_bench(&job_parts, args).await.map_err(core_err)?;
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);

    let written = first.summary.counts.written;
    let requests = total_requests(&mid) - total_requests(&before);
    let allowed_per_s = args.rate_limit as f64 / 10.0 * args.time_scale;
    let rate = written as f64 / push_s.max(1e-9);
    let num = |k: &str, v: &Value| v[k].as_u64().unwrap_or(0);
    let http_429 = ["rateLimitedTenSecondly", "rateLimitedSecondly", "rateLimitedDaily"]
        .iter()
        .map(|k| num(k, &after) - num(k, &before))
        .sum::<u64>();
    let out = json!({
        "users": args.users,
        "time_scale": args.time_scale,
        "concurrency": cfg.concurrency,
        "pacer_window_ms": (cfg.rate_window + cfg.rate_margin).as_secs_f64() * 1000.0,
        "mapped_properties": mapping.entries.len(),
        "didomi_users_read": first.summary.counts.read,
        "contacts_written": written,
        "contacts_created": first.summary.counts.created,
        "push_seconds": push_s,
        "contacts_per_s": rate,
        "ceiling_contacts_per_s": 100.0 * allowed_per_s,
        "ratio_to_ceiling": rate / (100.0 * allowed_per_s),
        "hubspot_requests": requests,
        "hubspot_requests_per_written_contact": requests as f64 / (written.max(1) as f64),
        "http_429": http_429,
        "failed": first.summary.counts.failed + second.summary.counts.failed,
        "rerun_seconds": rerun_s,
        "rerun_hubspot_writes": num("writeRequests", &after) - num("writeRequests", &mid),
        "peak_rss_mb": peak_rss_mb(),
        "inspect": lookups,
    });
    println!("{out}");
    Ok(0)
}

/// `--inspect N`: N lookups of people spread over the population, one at a time; their times
/// (ms: median, 95th percentile, max) and the most API requests one lookup made.
async fn inspect_bench(job: &PushJob, args: &BenchArgs) -> Result<Value, dhs_core::Error> {
    if args.inspect == 0 {
        return Ok(Value::Null);
    }
    let step = (args.users / u64::from(args.inspect)).max(1) as usize;
    let emails: Vec<String> = dhs_simulator::people::people(args.seed, args.users)
        .step_by(step)
        .map(|p| if p.on_hubspot() { p.hubspot_email } else { p.didomi_email })
        .filter(|e| dhs_core::sync::values::normalize_email(Some(e)).is_ok())
        .take(args.inspect as usize)
        .collect();
    let mut ms = Vec::with_capacity(emails.len());
    let (mut hubspot, mut didomi, mut found) = (0u32, 0u32, 0usize);
    for email in &emails {
        let lookup = dhs_core::inspect::Lookup {
            hubspot: &job.hubspot,
            didomi: &job.didomi,
            store: &job.store,
            mapping: &job.mapping,
            schemas: None,
        };
        let t = Instant::now();
        let i = dhs_core::inspect::inspect(lookup, email).await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        hubspot = hubspot.max(i.requests.hubspot);
        didomi = didomi.max(i.requests.didomi);
        found += usize::from(i.found);
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    Ok(json!({
        "lookups": ms.len(),
        "found": found,
        "ms_p50": at(0.5),
        "ms_p95": at(0.95),
        "ms_max": at(1.0),
        "max_hubspot_requests": hubspot,
        "max_didomi_requests": didomi,
    }))
}
