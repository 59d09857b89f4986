//! `sync push`: build the connections, run the engine, stream progress to stderr, print the
//! report as JSON on stdout and turn the run status into the exit code.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use dhs_core::didomi::{DidomiClient, Session};
use dhs_core::hubspot::HubSpotClient;
use dhs_core::jobs::{JobInputs, RunResources};
use dhs_core::mapping::Mapping;
use dhs_core::run::RunStatus;
use dhs_core::settings::{HubSpotAuthMode, SyncOptions};
use dhs_core::{
    Core, Environment, RunReport, SecretStore, Settings, SyncDirection, SyncProgress, SyncRequest,
};
use tokio_util::sync::CancellationToken;

use crate::{app, PushArgs, Source};

/// Options and mapping read from `--config`.
pub(crate) fn config_file(path: &Path) -> Result<(SyncOptions, Mapping)> {
    let bytes = match dhs_core::config_file::read_capped(path).map_err(anyhow::Error::msg)? {
        dhs_core::config_file::Capped::Whole(bytes) => bytes,
        dhs_core::config_file::Capped::TooLarge(_) => {
            bail!("{}: {}", path.display(), dhs_core::config_file::too_large_message())
        }
    };
    let (file, _) = dhs_core::config_file::parse(&bytes).map_err(|p| {
        let at = match (p.line, p.column) {
            (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
            _ => String::new(),
        };
        anyhow::anyhow!(
            "{} is not a usable configuration file at {}{at}: {}",
            path.display(),
            p.path,
            p.message
        )
    })?;
    let o = file.options;
    let options = SyncOptions {
        property_group: o.property_group,
        batch_size: o.batch_size,
        upsert: o.upsert,
        bidirectional: o.bidirectional,
        hubspot_account_id: o.hubspot_account_id,
        didomi_changed_property: o.didomi_changed_property,
        conflict_winner: o.conflict_winner,
        forward_to_integrations: o.forward_to_integrations,
        auto_sync_minutes: None,
    };
    let entries = file
        .mappings
        .into_iter()
        .map(|e| dhs_core::mapping::MappingEntry {
            item: e.item,
            property: e.property,
            encoding: e.encoding,
        })
        .collect();
    Ok((options, Mapping { entries }))
}

pub(crate) fn env(name: &str) -> Result<String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => bail!("{name} is not set: export it (see --help) or run without --hubspot-base-url/--didomi-base-url to use the app's saved connection"),
    }
}

/// Progress printer: text (or JSON lines) on stderr, at most once a second for text.
pub(crate) fn progress(json: bool) -> impl Fn(SyncProgress) + Send + Sync + 'static {
    let last = std::sync::Mutex::new(None::<Instant>);
    move |p: SyncProgress| {
        if json {
            eprintln!("{}", serde_json::to_string(&p).unwrap_or_default());
            return;
        }
        let mut l = last.lock().unwrap_or_else(|e| e.into_inner());
        if p.phase != "finishing" && l.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return;
        }
        *l = Some(Instant::now());
        let eta = p.eta_seconds.map(|s| format!(", ~{s:.0} s left")).unwrap_or_default();
        eprintln!(
            "[{}] read {} · to write {} · written {} (created {}, updated {}) · unchanged {} · skipped {} · invalid {} · duplicates {} · failed {} · {:.0}/s{eta}",
            p.phase, p.read, p.to_write, p.written, p.created, p.updated, p.unchanged, p.skipped,
            p.invalid, p.duplicates, p.failed, p.rate_per_s
        );
    }
}

/// Cancels on Ctrl-C / SIGTERM (after the batches in flight).
pub(crate) fn cancel_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut term) = signal(SignalKind::terminate()) else { return };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("cancelling after the batches in flight…");
        t.cancel();
    });
    token
}

/// The exit code of a run.
pub fn exit_code(status: RunStatus) -> u8 {
    match status {
        RunStatus::Succeeded => 0,
        RunStatus::Partial => 2,
        _ => 1,
    }
}

/// `sync push`.
pub async fn push(src: &Source, args: &PushArgs) -> Result<u8> {
    let req =
        SyncRequest { direction: SyncDirection::Push, dry_run: args.dry_run, full: args.full };
    let from_file = src.config.as_deref().map(config_file).transpose()?;
    let cancel = cancel_on_signal();
    let direct = src.hubspot_base_url.is_some()
        || src.didomi_base_url.is_some()
        || std::env::var_os("HUBSPOT_ACCESS_TOKEN").is_some();
    let report = if src.sandbox {
        sandbox(src, req, from_file, args.json, cancel).await?
    } else if direct {
        let direct = Direct::from_env(src)?;
        let (data_dir, options, mapping) = saved_or_file(src, from_file)?;
        let inputs = direct.job_inputs(src.upsert_override(), data_dir, options, mapping).await?;
        run_push(&RunResources::default(), &inputs, req, args.json, cancel).await?
    } else {
        app_connection(src, req, from_file, args.json, cancel).await?
    };
    println!("{}", serde_json::to_string_pretty(&report).context("report to JSON")?);
    Ok(exit_code(report.summary.status))
}

/// Both APIs reached directly (not through the app's saved connection): a HubSpot private-app
/// token or service key, and a Didomi API key for one organization.
pub(crate) struct Direct {
    http: reqwest::Client,
    hubspot_base: url::Url,
    token: dhs_core::Secret,
    didomi_base: url::Url,
    key: String,
    secret: dhs_core::Secret,
    /// The Didomi organization id.
    pub(crate) org: String,
}

impl Direct {
    /// From `--hubspot-base-url` / `--didomi-base-url` (default: the real APIs) and the
    /// credential environment variables.
    pub(crate) fn from_env(src: &Source) -> Result<Self> {
        Ok(Self {
            http: dhs_core::hubspot::client::http_client(),
            hubspot_base: src
                .hubspot_base_url
                .clone()
                .unwrap_or_else(|| "https://api.hubapi.com".parse().expect("url")),
            token: env("HUBSPOT_ACCESS_TOKEN")?.into(),
            didomi_base: src
                .didomi_base_url
                .clone()
                .unwrap_or_else(|| "https://api.didomi.io".parse().expect("url")),
            key: env("DIDOMI_API_KEY")?,
            secret: env("DIDOMI_API_SECRET")?.into(),
            org: env("DIDOMI_ORGANIZATION_ID")?,
        })
    }

    /// From a simulator's startup line (its private-app token and seeded Didomi key).
    pub(crate) fn from_simulator(info: &dhs_simulator::Info) -> Result<Self> {
        Ok(Self {
            http: dhs_core::hubspot::client::http_client(),
            hubspot_base: info.hubspot.parse()?,
            token: info.hubspot_private_app_token.as_str().into(),
            didomi_base: info.didomi.parse()?,
            key: info.didomi_api_key.key.clone(),
            secret: info.didomi_api_key.secret.as_str().into(),
            org: info.didomi_organization_id.clone(),
        })
    }

    /// A HubSpot client with the token.
    pub(crate) fn hubspot(&self) -> HubSpotClient {
        HubSpotClient::with_token(self.http.clone(), self.hubspot_base.clone(), self.token.clone())
    }

    /// A Didomi client with its own session.
    pub(crate) fn didomi(&self) -> DidomiClient {
        let session = Session::new(
            self.http.clone(),
            self.didomi_base.clone(),
            self.key.clone(),
            self.secret.clone(),
        );
        DidomiClient::new(
            self.http.clone(),
            self.didomi_base.clone(),
            Arc::new(session),
            self.org.clone(),
        )
    }

    /// What the job constructors need: the clients, the portal id the token belongs to (so the
    /// state scope and the pull's event ids are the app's), the options and mapping with the
    /// `--upsert`/`--no-upsert` override (`upsert`), and the label language.
    pub(crate) async fn job_inputs(
        &self,
        upsert: Option<bool>,
        data_dir: PathBuf,
        mut options: SyncOptions,
        mapping: Mapping,
    ) -> Result<JobInputs> {
        let hubspot = Arc::new(self.hubspot());
        let didomi = Arc::new(self.didomi());
        let details = hubspot.account_details().await.map_err(|e| core_err(e.into()))?;
        if let Some(upsert) = upsert {
            options.upsert = upsert;
        }
        let mut settings = Settings { options, mapping, ..Settings::default() };
        settings.hubspot.portal_id = details.portal_id;
        settings.hubspot.auth_mode = Some(HubSpotAuthMode::PrivateApp);
        settings.didomi.organization_id = Some(self.org.clone());
        let lang = label_language(&didomi).await?;
        let hubspot_base = self.hubspot_base.clone();
        Ok(JobInputs { hubspot, didomi, hubspot_base, data_dir, settings, lang })
    }
}

/// The data folder, and the options and mapping of `--config FILE` (else the app's saved ones).
///
/// # Errors
/// When the app's settings cannot be read, or nothing is mapped.
pub(crate) fn saved_or_file(
    src: &Source,
    from_file: Option<(SyncOptions, Mapping)>,
) -> Result<(std::path::PathBuf, SyncOptions, Mapping)> {
    let data_dir = match &src.data_dir {
        Some(d) => d.clone(),
        None => app::data_dir()?,
    };
    let (options, mapping) = match from_file {
        Some(f) => f,
        None => {
            let s = app::load(&data_dir)?;
            (s.options, s.mapping)
        }
    };
    if mapping.is_empty() {
        bail!("nothing is mapped: pass --config FILE (a configuration exported by the app) or map properties in the app first");
    }
    Ok((data_dir, options, mapping))
}

/// The language labels are written and read in: the one the app's Mapping screen shows for
/// this organization, so the app and the CLI write and parse the same labels.
pub(crate) async fn label_language(didomi: &DidomiClient) -> Result<String> {
    let config = dhs_core::mapping::rows::DidomiConfig::read(didomi)
        .await
        .map_err(|e| anyhow::anyhow!("reading the Didomi configuration failed: {e}"))?;
    Ok(config.language())
}

/// `--sandbox`: an in-process simulator with `--sandbox-users` people, and its credentials.
pub(crate) async fn sandbox_direct(src: &Source) -> Result<(dhs_simulator::Simulator, Direct)> {
    let sim = dhs_simulator::start(dhs_simulator::Config {
        users: src.sandbox_users,
        ..Default::default()
    })
    .await
    .context("starting the sandbox simulator")?;
    let direct = Direct::from_simulator(&sim.info)?;
    Ok((sim, direct))
}

/// A core error as the CLI prints it.
pub(crate) fn core_err(e: dhs_core::Error) -> anyhow::Error {
    anyhow::anyhow!("{} ({:?})", e.message, e.code)
}

/// Runs the push built by the core's job constructor.
pub(crate) async fn run_push(
    runs: &RunResources,
    inputs: &JobInputs,
    req: SyncRequest,
    json: bool,
    cancel: CancellationToken,
) -> Result<RunReport> {
    let (job, cfg) = runs.push_job(inputs).map_err(core_err)?;
    dhs_core::push::push(job, req, cfg, Arc::new(progress(json)), cancel).await.map_err(core_err)
}

async fn sandbox(
    src: &Source,
    req: SyncRequest,
    from_file: Option<(SyncOptions, Mapping)>,
    json: bool,
    cancel: CancellationToken,
) -> Result<RunReport> {
    let (sim, direct) = sandbox_direct(src).await?;
    let didomi = direct.didomi();
    let (options, mapping) = match from_file {
        Some(f) => f,
        None => {
            let tree = didomi
                .config_tree()
                .await
                .map_err(|e| anyhow::anyhow!(dhs_core::Error::from(e).message))?
                .context("the sandbox has no configuration tree")?;
            (
                SyncOptions { upsert: true, ..SyncOptions::default() },
                dhs_core::push::automap::full_mapping(&tree),
            )
        }
    };
    dhs_core::push::automap::ensure_properties(
        &direct.hubspot(),
        &mapping,
        &options.property_group,
    )
    .await
    .map_err(|e| anyhow::anyhow!(dhs_core::Error::from(e).message))?;
    let data_dir = sandbox_data_dir(src);
    let r = match direct.job_inputs(src.upsert_override(), data_dir, options, mapping).await {
        Ok(inputs) => run_push(&RunResources::default(), &inputs, req, json, cancel).await,
        Err(e) => Err(e),
    };
    sim.shutdown().await;
    r
}

async fn app_connection(
    src: &Source,
    req: SyncRequest,
    from_file: Option<(SyncOptions, Mapping)>,
    json: bool,
    cancel: CancellationToken,
) -> Result<RunReport> {
    let core = app_core(src, from_file)?;
    core.runs().push_run(req, progress(json), cancel).await.map_err(core_err)
}

/// The app's saved connection (Live mode, OS keychain) as a [`Core`], with the options and
/// mapping of `--config` when given and the `--upsert`/`--no-upsert` override.
///
/// # Errors
/// When the app's settings cannot be read.
pub(crate) fn app_core(
    src: &Source,
    from_file: Option<(SyncOptions, Mapping)>,
) -> Result<Arc<Core>> {
    let app_dir = app::data_dir()?;
    let mut settings = app::load(&app_dir)?;
    if let Some((options, mapping)) = from_file {
        settings.options = options;
        settings.mapping = mapping;
    }
    if src.upsert {
        settings.options.upsert = true;
    } else if src.no_upsert {
        settings.options.upsert = false;
    }
    let data_dir = src.data_dir.clone().unwrap_or_else(|| app_dir.clone());
    let env = Environment::live(data_dir);
    let secrets = SecretStore::keyring(env.keyring_service.clone());
    let sink_dir = app_dir;
    Ok(Core::new(env, settings, secrets, Box::new(move |s| app::save_hubspot(&sink_dir, s))))
}

/// The data folder of a sandbox run: `--data-dir`, else a fresh folder in the temp dir.
pub(crate) fn sandbox_data_dir(src: &Source) -> std::path::PathBuf {
    src.data_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("didomi-hubspot-sync-sandbox-{}", std::process::id()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_status() {
        assert_eq!(exit_code(RunStatus::Succeeded), 0, "all written");
        assert_eq!(exit_code(RunStatus::Partial), 2, "partial");
        assert_eq!(exit_code(RunStatus::Failed), 1, "failed");
        assert_eq!(exit_code(RunStatus::Cancelled), 1, "cancelled is not success");
    }

    /// Issue 10: `sync push --config` hung on a FIFO and read `/dev/zero` until memory ran out.
    #[cfg(unix)]
    #[test]
    fn config_refuses_a_fifo_a_device_and_an_oversized_file_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("mapping.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(made.success(), "mkfifo");
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(config_file(&path).map(|_| ()).map_err(|e| e.to_string()));
        });
        let e = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("--config on a FIFO must not hang")
            .expect_err("a FIFO is refused");
        assert!(e.contains("named pipe"), "{e}");
        let e = config_file(Path::new("/dev/zero")).map(|_| ()).expect_err("a device");
        assert!(e.to_string().contains("is a device"), "{e}");
        let big = dir.path().join("big.json");
        std::fs::File::create(&big).and_then(|f| f.set_len(1 << 30)).expect("sparse 1 GB file");
        let e = config_file(&big).map(|_| ()).expect_err("too large");
        assert!(e.to_string().contains("larger than 5 MB"), "{e}");
    }
}
