//! `bench`: the engine's throughput and memory against the simulator binary, run as a separate
//! process so only the engine's memory is measured (peak RSS = `VmHWM` of this process).
//!
//! Steps: start `simulator --users N --time-scale F`, map every purpose, preference and value
//! (properties created), add the asked latencies through the simulator's fault injection, push
//! everything with upsert on, re-run with nothing changed, print one JSON object. The ceiling is
//! 100 contacts × the allowed requests per second (110 per 10 s × F).
//!
//! `ratio_to_ceiling` divides the whole push (scan included) by the ceiling, so the first
//! window's free burst flatters a short run; `steady_ratio_to_ceiling` counts only the whole
//! HubSpot windows after the first one of the writing phase (`null` when the push wrote in fewer
//! than three windows: one burst measures noise). `local_disk_mb_written` is this process's
//! `write_bytes` from `/proc/self/io` over the push and the re-run (the state database and its
//! WAL; the simulator is another process); `state_db_mb` the state database's size after them.
//! `peak_rss_mb` is the process's peak over both runs, `push_peak_rss_mb` up to the end of the
//! push (the re-run's scan comes on top of what the allocator kept from the push).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use crate::run::core_err;
use anyhow::{bail, Context, Result};
use clap::Args;
use dhs_core::jobs::RunResources;
use dhs_core::push::{automap, EngineConfig, PushJob};
use dhs_core::settings::SyncOptions;
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
    /// Latency added to every Didomi page of users (`GET /v1/consents/users`), in real ms
    /// (not divided by the time scale), through the simulator's fault injection.
    #[arg(long, default_value_t = 0)]
    didomi_latency_ms: u64,
    /// Latency added to every HubSpot contact batch (`POST /crm/objects/…`: batch reads,
    /// updates, upserts), in real ms, through the simulator's fault injection.
    #[arg(long, default_value_t = 0)]
    hubspot_latency_ms: u64,
    /// After the pushes, look this many people up with the contact inspector (spread over the
    /// population) and report the lookup times and the most requests one lookup made.
    #[arg(long, default_value_t = 0, value_name = "N")]
    inspect: u32,
    /// Keep the state database's folder (printed on stderr) instead of deleting it, to look at
    /// where its bytes are (`sqlite3 FOLDER/sync.sqlite3 'SELECT name, SUM(pgsize) FROM dbstat
    /// GROUP BY name'`).
    #[arg(long)]
    keep_state: bool,
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

/// Bytes this process caused to be written to storage (`write_bytes` of `/proc/self/io`).
fn disk_bytes_written() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    let line = io.lines().find(|l| l.starts_with("write_bytes:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Contacts written per second in the steady state, from `(time since push start, contacts
/// written)` samples: from the first write after one window (the first window's burst is free)
/// to the first write after the start of the last whole window, both taken at the moment writes
/// resume, so the pacer's bursts (110 requests, then a wait) count whole. `None` when the
/// writes span fewer than three windows.
fn steady_rate(samples: &[(f64, u64)], window: f64) -> Option<f64> {
    let start = samples.iter().find(|(_, w)| *w > 0)?.0;
    let end = samples.last()?.0;
    let windows = ((end - start) / window).floor();
    if windows < 3.0 {
        return None;
    }
    // The first rise at or after `t`: its time and the count just before it.
    let rise = |t: f64| {
        samples.windows(2).find(|p| p[1].0 >= t && p[1].1 > p[0].1).map(|p| (p[1].0, p[0].1))
    };
    let (ta, wa) = rise(start + window)?;
    let (tb, wb) = rise(start + (windows - 1.0) * window)?;
    (tb > ta).then(|| (wb - wa) as f64 / (tb - ta))
}

/// The fault rules that add the asked latencies (none when both are 0).
fn latency_rules(didomi_ms: u64, hubspot_ms: u64) -> Value {
    let mut rules = Vec::new();
    if didomi_ms > 0 {
        rules.push(json!({"api": "didomi", "path_prefix": "/v1/consents/users", "method": "GET", "latency_ms": didomi_ms}));
    }
    if hubspot_ms > 0 {
        rules.push(json!({"api": "hubspot", "path_prefix": "/crm/objects/", "method": "POST", "latency_ms": hubspot_ms}));
    }
    json!({"seed": 0, "rules": rules})
}

fn total_requests(s: &Value) -> u64 {
    s["requests"].as_object().map(|m| m.values().filter_map(Value::as_u64).sum()).unwrap_or(0)
}

/// Runs the benchmark and prints the JSON object.
pub async fn run(args: &BenchArgs) -> Result<u8> {
    let (sim, info) = start_simulator(args).await?;
    let http = dhs_core::hubspot::client::http_client();
    let bench = setup(args, &info).await?;
    let (on_progress, samples, t0) = sampler();
    // The setup above (property reads and creations) used part of the rolling window; let it
    // pass so the measured push starts with the whole window, as a push on a quiet portal does.
    tracing::info!("setup done; waiting one window");
    tokio::time::sleep(bench.cfg.rate_window + bench.cfg.rate_margin).await;
    let rules = latency_rules(args.didomi_latency_ms, args.hubspot_latency_ms);
    http.put(format!("{}/_sim/faults", info.hubspot))
        .json(&rules)
        .send()
        .await?
        .error_for_status()
        .context("setting the simulator's latencies")?;
    http.post(format!("{}/_sim/hubspot/stats/reset", info.hubspot)).send().await?;
    let before = stats(&http, &info.hubspot).await?;
    tracing::info!("the measured push starts");
    let disk0 = disk_bytes_written();
    *t0.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    let started = Instant::now();
    let first = push_once(&bench, Arc::new(on_progress)).await?;
    let push_s = started.elapsed().as_secs_f64();
    let push_rss = peak_rss_mb();
    let disk_mid = disk_bytes_written();
    let mid = stats(&http, &info.hubspot).await?;
    let t1 = Instant::now();
    let second = push_once(&bench, Arc::new(|_| {})).await?;
    let rerun_s = t1.elapsed().as_secs_f64();
    let disk1 = disk_bytes_written();
    let after = stats(&http, &info.hubspot).await?;
    let lookups = inspect_bench(&bench.job, args).await.map_err(core_err)?;
    let db_mb = std::fs::metadata(bench.dir.join(dhs_core::run::store::FILE_NAME))
        .ok()
        .map(|m| m.len() as f64 / 1e6);
    drop(sim);
    if args.keep_state {
        eprintln!("state database kept in {}", bench.dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&bench.dir);
    }
    let Progress { samples, scan_s } = samples.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let measured = Measured {
        first,
        second,
        push_s,
        rerun_s,
        samples,
        scan_s,
        stats: [before, mid, after],
        disk: [disk0, disk_mid, disk1],
        push_rss,
        db_mb,
        lookups,
    };
    println!("{}", report(args, &bench, &measured));
    Ok(0)
}

/// Starts the simulator binary and reads its one JSON line.
async fn start_simulator(args: &BenchArgs) -> Result<(SimProcess, dhs_simulator::Info)> {
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
    Ok((sim, info))
}

/// What the measured pushes run: the job, its configuration and the state folder.
struct Bench {
    job: PushJob,
    cfg: EngineConfig,
    mapping: dhs_core::mapping::Mapping,
    dir: std::path::PathBuf,
}

/// Everything mapped (properties created), and the job the app and the CLI would build (scope,
/// databases), paced at the bench's time scale and limit.
async fn setup(args: &BenchArgs, info: &dhs_simulator::Info) -> Result<Bench> {
    let direct = crate::run::Direct::from_simulator(info)?;
    let (hubspot, didomi) = (direct.hubspot(), direct.didomi());
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
    let mut base = EngineConfig { rate_limit: args.rate_limit, ..EngineConfig::default() };
    if let Some(c) = args.concurrency {
        base.concurrency = c;
    }
    if let Some(m) = args.margin_ms {
        base.rate_margin = std::time::Duration::from_millis(m);
    }
    let cfg = base.scaled(args.time_scale);
    let inputs =
        direct.job_inputs(Some(true), dir.clone(), SyncOptions::default(), mapping.clone()).await?;
    let (job, _) = RunResources::default().push_job(&inputs).map_err(core_err)?;
    let job = PushJob { pacer: Arc::new(cfg.pacer()), ..job };
    Ok(Bench { job, cfg, mapping, dir })
}

/// What the progress of the measured push showed: samples of (seconds since its start,
/// contacts written), and when the scan of the listing (the first pass) last reported.
#[derive(Default, Clone)]
struct Progress {
    samples: Vec<(f64, u64)>,
    scan_s: f64,
}

/// The [`Progress`] the sampler fills.
type Samples = Arc<std::sync::Mutex<Progress>>;

fn sampler(
) -> (impl Fn(dhs_core::SyncProgress) + Send + Sync, Samples, Arc<std::sync::Mutex<Instant>>) {
    let last = std::sync::Mutex::new(Instant::now());
    let samples: Samples = Arc::default();
    let t0 = Arc::new(std::sync::Mutex::new(Instant::now()));
    let (samples_in, t0_in) = (samples.clone(), t0.clone());
    let on_progress = move |p: dhs_core::SyncProgress| {
        let since = t0_in.lock().unwrap_or_else(|e| e.into_inner()).elapsed().as_secs_f64();
        let mut seen = samples_in.lock().unwrap_or_else(|e| e.into_inner());
        seen.samples.push((since, p.written));
        if p.phase == "scanning" {
            seen.scan_s = since;
        }
        drop(seen);
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
    (on_progress, samples, t0)
}

/// One incremental push of the bench's job.
async fn push_once(
    bench: &Bench,
    on_progress: Arc<dyn Fn(dhs_core::SyncProgress) + Send + Sync>,
) -> Result<dhs_core::RunReport> {
    let req = SyncRequest { direction: SyncDirection::Push, dry_run: false, full: false };
    dhs_core::push::push(
        bench.job.clone(),
        req,
        bench.cfg.clone(),
        on_progress,
        CancellationToken::new(),
    )
    .await
    .map_err(core_err)
}

/// What the two pushes measured: reports, times, progress samples, the simulator's stats and
/// this process's disk bytes written (before, between, after), memory, the database's size.
struct Measured {
    first: dhs_core::RunReport,
    second: dhs_core::RunReport,
    push_s: f64,
    rerun_s: f64,
    samples: Vec<(f64, u64)>,
    scan_s: f64,
    stats: [Value; 3],
    disk: [Option<u64>; 3],
    push_rss: Option<f64>,
    db_mb: Option<f64>,
    lookups: Value,
}

/// The bench's JSON object.
fn report(args: &BenchArgs, bench: &Bench, m: &Measured) -> Value {
    let [before, mid, after] = &m.stats;
    let cfg = &bench.cfg;
    let written = m.first.summary.counts.written;
    let requests = total_requests(mid) - total_requests(before);
    let allowed_per_s = args.rate_limit as f64 / 10.0 * args.time_scale;
    let rate = written as f64 / m.push_s.max(1e-9);
    let window_s = 10.0 / args.time_scale;
    let steady = steady_rate(&m.samples, window_s);
    let num = |k: &str, v: &Value| v[k].as_u64().unwrap_or(0);
    let http_429 = ["rateLimitedTenSecondly", "rateLimitedSecondly", "rateLimitedDaily"]
        .iter()
        .map(|k| num(k, after) - num(k, before))
        .sum::<u64>();
    let mb = |a: Option<u64>, b: Option<u64>| a.zip(b).map(|(a, b)| (b - a) as f64 / 1e6);
    let [disk0, disk_mid, disk1] = m.disk;
    json!({
        "users": args.users,
        "time_scale": args.time_scale,
        "concurrency": cfg.concurrency,
        "max_in_flight": cfg.max_in_flight,
        "pacer_window_ms": (cfg.rate_window + cfg.rate_margin).as_secs_f64() * 1000.0,
        "mapped_properties": bench.mapping.entries.len(),
        "didomi_users_read": m.first.summary.counts.read,
        "contacts_written": written,
        "contacts_created": m.first.summary.counts.created,
        "push_seconds": m.push_s,
        "scan_seconds": m.scan_s,
        "contacts_per_s": rate,
        "ceiling_contacts_per_s": 100.0 * allowed_per_s,
        "ratio_to_ceiling": rate / (100.0 * allowed_per_s),
        "steady_ratio_to_ceiling": steady.map(|r| r / (100.0 * allowed_per_s)),
        "didomi_latency_ms": args.didomi_latency_ms,
        "hubspot_latency_ms": args.hubspot_latency_ms,
        "hubspot_requests": requests,
        "hubspot_requests_per_written_contact": requests as f64 / (written.max(1) as f64),
        "http_429": http_429,
        "failed": m.first.summary.counts.failed + m.second.summary.counts.failed,
        "rerun_wall_s": m.rerun_s,
        "local_disk_mb_written": mb(disk0, disk1),
        "push_disk_mb_written": mb(disk0, disk_mid),
        "rerun_disk_mb_written": mb(disk_mid, disk1),
        "rerun_hubspot_writes": num("writeRequests", after) - num("writeRequests", mid),
        "state_db_mb": m.db_mb,
        "peak_rss_mb": peak_rss_mb(),
        "push_peak_rss_mb": m.push_rss,
        "inspect": m.lookups,
    })
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
        .filter(|e| dhs_core::push::values::normalize_email(Some(e)).is_ok())
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

#[cfg(test)]
mod tests {
    use super::steady_rate;

    #[test]
    fn the_steady_rate_skips_the_first_burst_and_counts_whole_cycles() {
        // Bursts of 11,000 every 10.16 s (the pacer on loopback), sampled every 0.1 s.
        let samples: Vec<(f64, u64)> = (0..460)
            .map(|i| {
                let t = i as f64 * 0.1;
                (t, 11_000 * ((t / 10.16).floor() as u64 + 1))
            })
            .collect();
        let r = steady_rate(&samples, 10.0).expect("four windows");
        assert!((r / 1100.0 - 10.0 / 10.16).abs() < 0.01, "≈ 0.984 of 1,100/s: {r}");
        // A steady 900/s from the first write.
        let even: Vec<(f64, u64)> = (1..500).map(|i| (i as f64 * 0.1, i as u64 * 90)).collect();
        let r = steady_rate(&even, 10.0).expect("steady");
        assert!((r - 900.0).abs() < 1.0, "900/s: {r}");
        assert_eq!(steady_rate(&even[..250], 10.0), None, "two windows measure one burst");
    }
}
