//! `didomi-hubspot-sync`: the app's push engine as a command line, built without Tauri so it
//! runs on a server with no display or GTK.
//!
//! Where the connections come from (first match):
//! 1. `--sandbox`: an in-process simulator (its own credentials; everything mapped unless
//!    `--config` says otherwise);
//! 2. `--hubspot-base-url` / `--didomi-base-url` (or only the credential variables):
//!    `HUBSPOT_ACCESS_TOKEN` (private-app token or service key), `DIDOMI_API_KEY`,
//!    `DIDOMI_API_SECRET`, `DIDOMI_ORGANIZATION_ID`;
//! 3. otherwise the desktop app's saved settings ([`app`]) and OS keychain (Live mode).
//!
//! `--config FILE` takes the options and the mapping from an exported configuration file.
//! Progress goes to stderr, the report (JSON) to stdout. Exit codes: 0 everything written,
//! 2 partial (some records failed), 1 failed or cancelled.

/// jemalloc instead of glibc's malloc: the push's threads (the engine, the runtime's workers
/// building bodies and decoding answers, SQLite's) allocate and free across each other, and with
/// glibc that cost about a sixth of the push's time at time scale 1000 and more than half of a
/// re-run's at 1,000,000 people. It is built to give freed pages back at once
/// (`JEMALLOC_SYS_WITH_MALLOC_CONF` in `.cargo/config.toml`), so that the peak does not grow with
/// the length of a push (README, "Benchmark", rounds 6 and 7). The desktop app keeps the system
/// allocator: its memory is WebKit's and its pushes are paced by HubSpot.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod app;
mod bench;
mod config;
mod inspect;
mod pull;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Pushes Didomi consents and preferences to HubSpot contact properties, headless.
#[derive(Debug, Parser)]
#[command(name = "didomi-hubspot-sync", version, about, long_about = LONG_ABOUT)]
struct Cli {
    #[command(flatten)]
    source: Source,
    #[command(subcommand)]
    command: Command,
}

const LONG_ABOUT: &str = "\
Pushes Didomi consents and preferences to HubSpot contact properties with the desktop app's \
engine: incremental by default (only people whose mapped values changed since the last \
successful push), batched (100 contacts a request), paced under HubSpot's rolling limit, \
resumable after a crash.

Connections, first match:
  --sandbox                       an in-process simulator (try it without any account)
  --hubspot-base-url / --didomi-base-url, or the variables below set
                                  HUBSPOT_ACCESS_TOKEN (private-app token or service key),
                                  DIDOMI_API_KEY, DIDOMI_API_SECRET, DIDOMI_ORGANIZATION_ID
  (default)                       the desktop app's saved settings (Live mode) and OS keychain

The options and the mapping come from the app's settings, or from --config FILE (a file the \
app exported). `config export FILE` / `config import FILE` write and read that file with the \
app's saved settings. Progress is written to stderr, the run report as JSON to stdout.

Exit codes: 0 everything written (or nothing to write), 2 partial (some records failed; see \
the report and the app's History), 1 the run failed or was cancelled (Ctrl-C cancels after the \
batches in flight).";

/// Where connections, options and state come from.
#[derive(Debug, Args)]
struct Source {
    /// Take the options and mapping from this exported configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run against an in-process simulator instead of HubSpot and Didomi.
    #[arg(long, global = true)]
    sandbox: bool,
    /// People in the sandbox simulator.
    #[arg(long, global = true, default_value_t = 300, value_name = "N")]
    sandbox_users: u64,
    /// HubSpot API host (credentials from HUBSPOT_ACCESS_TOKEN).
    #[arg(long, global = true, value_name = "URL")]
    hubspot_base_url: Option<url::Url>,
    /// Didomi API host (credentials from DIDOMI_API_KEY, DIDOMI_API_SECRET, DIDOMI_ORGANIZATION_ID).
    #[arg(long, global = true, value_name = "URL")]
    didomi_base_url: Option<url::Url>,
    /// Folder of the sync state and history database (default: the app's data folder).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Create missing contacts (overrides the saved upsert option).
    #[arg(long, global = true, conflicts_with = "no_upsert")]
    upsert: bool,
    /// Skip people without a contact (overrides the saved upsert option).
    #[arg(long, global = true)]
    no_upsert: bool,
    /// Log filter for stderr (e.g. `info`, `dhs_core=debug`).
    #[arg(long, global = true, default_value = "warn", value_name = "FILTER")]
    log: String,
}

impl Source {
    /// `--upsert` / `--no-upsert`, when given (else the saved or exported options decide).
    fn upsert_override(&self) -> Option<bool> {
        match (self.upsert, self.no_upsert) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Synchronize.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Export or import the options and mapping (the app's saved settings and keychain).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Benchmark the engine against the simulator binary (separate process) and print JSON.
    Bench(bench::BenchArgs),
    /// Show one person on both sides: Didomi's users and answers, what the push would write,
    /// HubSpot's values and history, the runs that touched them. Exit code 0 found, 3 known
    /// to neither Didomi nor HubSpot, 1 failed.
    Inspect(InspectArgs),
}

/// `inspect` arguments.
#[derive(Debug, Args)]
struct InspectArgs {
    /// The email (compared trimmed and lower-cased, as the push does).
    email: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Write the options and mapping to FILE (JSON; no secret).
    Export {
        /// Where to write.
        file: PathBuf,
    },
    /// Check FILE against the live Didomi configuration and HubSpot properties, print the
    /// preview (errors, warnings, changes) on stderr, and apply it when it has no error.
    Import {
        /// The exported file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum SyncCommand {
    /// Push Didomi → HubSpot.
    Push(PushArgs),
    /// Pull HubSpot → Didomi: the contacts whose "Didomi Changed" rose (bidirectional flow).
    Pull(PullArgs),
    /// Push, then pull.
    Both(PullArgs),
}

/// `sync pull` / `sync both` flags.
#[derive(Debug, Args)]
struct PullArgs {
    /// Plan only: report what would be written; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Progress as JSON lines on stderr (instead of text).
    #[arg(long)]
    json: bool,
}

/// `sync push` flags.
#[derive(Debug, Args)]
struct PushArgs {
    /// Plan only: report what would be created, updated, skipped; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Full reconcile: compare everyone with HubSpot's current values and write every difference.
    #[arg(long)]
    full: bool,
    /// Progress as JSON lines on stderr (instead of text).
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.source.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let rt =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("error: the async runtime could not start: {e}");
                return ExitCode::from(1);
            }
        };
    let result = rt.block_on(async {
        match cli.command {
            Command::Sync(SyncCommand::Push(args)) => run::push(&cli.source, &args).await,
            Command::Sync(SyncCommand::Pull(args)) => pull::run(&cli.source, &args, false).await,
            Command::Sync(SyncCommand::Both(args)) => pull::run(&cli.source, &args, true).await,
            Command::Config(ConfigCommand::Export { file }) => config::export(&file).await,
            Command::Config(ConfigCommand::Import { file }) => config::import(&file).await,
            Command::Bench(args) => bench::run(&args).await,
            Command::Inspect(args) => inspect::run(&cli.source, &args).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
