//! Test harness shared by the integration tests: start a simulator whose HubSpot app registers
//! the loopback ports a test chose, build a [`Core`] against it with an in-memory keychain and a
//! settings sink the test can read, and play the browser through the simulated consent page.

use std::sync::{Arc, Mutex};

use dhs_core::{Core, CoreOptions, Environment, Prefill, SecretStore, Settings};
use dhs_simulator::{Config, Simulator};

/// A running simulator plus a core wired to it.
#[derive(Debug)]
pub struct Harness {
    /// The simulator.
    pub sim: Simulator,
    /// The core under test.
    pub core: Arc<Core>,
    /// The in-memory keychain the core uses.
    pub secrets: SecretStore,
    /// The last settings the core persisted.
    pub saved: Arc<Mutex<Option<Settings>>>,
    /// The loopback ports registered on the simulated app and given to the core.
    pub ports: Vec<u16>,
    _dir: tempfile::TempDir,
}

/// Redirect URIs for `ports`.
pub fn redirect_uris(ports: &[u16]) -> Vec<String> {
    ports.iter().map(|p| Environment::redirect_uri(*p)).collect()
}

/// Starts a simulator registering `ports` with `time_scale`, and a core in Sandbox mode on it.
///
/// Each test picks its own callback ports, all below 32768: Linux hands out 32768–60999 to
/// outgoing connections and `bind(0)` listeners (the simulator's own), which made a fixed port in
/// that range busy now and then.
pub async fn start(ports: &[u16], time_scale: f64) -> Harness {
    start_with(ports, ports, time_scale).await
}

/// Like [`start`], but the simulated app registers `registered` while the core binds `ports`.
pub async fn start_with(ports: &[u16], registered: &[u16], time_scale: f64) -> Harness {
    let sim = dhs_simulator::start(Config {
        time_scale,
        redirect_uris: redirect_uris(registered),
        users: 50,
        ..Config::default()
    })
    .await
    .expect("simulator starts");
    harness_on(sim, ports)
}

/// A core in Sandbox mode on `sim` (secrets in memory, settings saved to [`Harness::saved`]),
/// binding the callback `ports` (the environment's defaults when empty).
pub fn harness_on(sim: dhs_simulator::Simulator, ports: &[u16]) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let info = &sim.info;
    let prefill = Prefill {
        hubspot_client_id: info.hubspot_app.client_id.clone(),
        hubspot_client_secret: info.hubspot_app.client_secret.as_str().into(),
        hubspot_private_app_token: info.hubspot_private_app_token.as_str().into(),
        didomi_api_key: info.didomi_api_key.key.clone(),
        didomi_api_secret: info.didomi_api_key.secret.as_str().into(),
        didomi_organization_id: info.didomi_organization_id.clone(),
    };
    let mut env = Environment::sandbox(
        info.hubspot.parse().expect("hubspot url"),
        info.didomi.parse().expect("didomi url"),
        prefill,
        dir.path().to_path_buf(),
    );
    if !ports.is_empty() {
        env.redirect_ports = ports.to_vec();
    }
    let secrets = SecretStore::memory();
    let saved: Arc<Mutex<Option<Settings>>> = Arc::default();
    let sink_saved = saved.clone();
    let core = Core::new(
        env,
        Settings::default(),
        secrets.clone(),
        Box::new(move |s| {
            *sink_saved.lock().unwrap() = Some(s.clone());
            Ok(())
        }),
    );
    core.set_options(CoreOptions { open_browser: false, ..CoreOptions::default() });
    Harness { sim, core, secrets, saved, ports: ports.to_vec(), _dir: dir }
}

impl Harness {
    /// The simulated HubSpot app's client id.
    pub fn client_id(&self) -> String {
        self.sim.info.hubspot_app.client_id.clone()
    }

    /// The simulated HubSpot app's client secret.
    pub fn client_secret(&self) -> String {
        self.sim.info.hubspot_app.client_secret.clone()
    }

    /// GET a simulator HubSpot admin/stats JSON route.
    pub async fn hubspot_admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut rb =
            reqwest::Client::new().request(method, format!("{}{path}", self.sim.info.hubspot));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("admin call");
        r.json().await.unwrap_or(serde_json::Value::Null)
    }

    /// Number of token-endpoint calls the simulated HubSpot received (code + refresh grants).
    pub async fn token_calls(&self) -> u64 {
        self.sim.hubspot.stats().oauth_requests.get("token").copied().unwrap_or(0)
    }
}

/// What the simulated consent page answered.
#[derive(Debug)]
pub enum Consent {
    /// 302 to this location (the app's redirect URI with `code`/`error` and `state`).
    Redirect(String),
    /// A page (error or "cancelled"): status and body.
    Page(u16, String),
}

/// Plays the user's browser: opens the authorize URL, submits the consent form with
/// `decision` (`grant` or `deny`) for the first account, and returns where HubSpot redirects.
pub async fn consent(authorize_url: &str, decision: &str) -> Consent {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = http.get(authorize_url).send().await.expect("authorize page");
    let status = page.status().as_u16();
    let body = page.text().await.unwrap_or_default();
    if status != 200 {
        return Consent::Page(status, body);
    }
    let account = body
        .split("<option value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the consent page lists an account")
        .to_owned();
    let url = url::Url::parse(authorize_url).expect("authorize url");
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.push(("account".into(), account));
    form.push(("decision".into(), decision.into()));
    let base = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    let decision_url = format!("{base}:{}/oauth/authorize/decision", url.port().unwrap_or(80));
    let r = http.post(decision_url).form(&form).send().await.expect("decision");
    let status = r.status().as_u16();
    if status == 302 {
        let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        return Consent::Redirect(loc.to_owned());
    }
    Consent::Page(status, r.text().await.unwrap_or_default())
}

/// Follows a redirect to the app's loopback listener, as the browser would.
pub async fn follow(location: &str) -> (u16, String) {
    let r = reqwest::get(location).await.expect("loopback answers");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// Runs a complete install through the browser; returns the redirect location that was followed.
pub async fn install(h: &Harness) -> (dhs_core::HubSpotAccount, String) {
    let start = h
        .core
        .connections()
        .hubspot_install_start(h.client_id(), None)
        .await
        .expect("install starts");
    let core = h.core.clone();
    let waiter = tokio::spawn(async move { core.connections().hubspot_install_wait().await });
    let Consent::Redirect(loc) = consent(&start.authorize_url, "grant").await else {
        panic!("consent should redirect");
    };
    let (status, _) = follow(&loc).await;
    assert_eq!(status, 200, "loopback accepts the callback");
    let account = waiter.await.expect("join").expect("install succeeds");
    (account, loc)
}

/// Starts a simulator with `users` people and `time_scale`, and a core connected to both sides
/// (HubSpot with the private-app token, Didomi with the seeded key).
pub async fn start_connected(users: u64, time_scale: f64) -> Harness {
    start_connected_with(Config { time_scale, users, ..Config::default() }).await
}

impl Harness {
    /// The data folder the core was given (where the sync state database lives).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().to_path_buf()
    }

    /// What the core's job constructors ([`dhs_core::jobs`]) need to build a job over the core's
    /// clients and settings, with `mapping`, `upsert` and the labels in `lang`.
    pub async fn job_inputs(
        &self,
        mapping: dhs_core::mapping::Mapping,
        upsert: bool,
        lang: &str,
    ) -> dhs_core::jobs::JobInputs {
        let mut settings = self.core.settings();
        settings.mapping = mapping;
        settings.options.upsert = upsert;
        dhs_core::jobs::JobInputs {
            hubspot: self.core.connections().hubspot().await.expect("HubSpot client"),
            didomi: self.core.connections().didomi().await.expect("Didomi client"),
            hubspot_base: self.sim.info.hubspot.parse().expect("hubspot url"),
            data_dir: self.data_dir(),
            settings,
            lang: lang.to_owned(),
        }
    }

    /// A push job built by the core's job constructor (the one the window, auto-sync and the
    /// CLI use: same state scope, same databases) over the core's clients with every purpose,
    /// preference and value mapped (properties created in the simulated portal), and a fresh
    /// pacer following `cfg` (the test's time scale and rate limit).
    pub async fn push_job(
        &self,
        upsert: bool,
        cfg: &dhs_core::push::EngineConfig,
    ) -> dhs_core::push::PushJob {
        let hubspot = self.core.connections().hubspot().await.expect("HubSpot client");
        let didomi = self.core.connections().didomi().await.expect("Didomi client");
        let tree = didomi.config_tree().await.expect("config tree").expect("a tree");
        let mapping = dhs_core::push::automap::full_mapping(&tree);
        dhs_core::push::automap::ensure_properties(&hubspot, &mapping, "didomi")
            .await
            .expect("properties created");
        let inputs = self.job_inputs(mapping, upsert, &cfg.lang).await;
        let (job, _) = dhs_core::jobs::RunResources::default().push_job(&inputs).expect("push job");
        dhs_core::push::PushJob { pacer: Arc::new(cfg.pacer()), ..job }
    }

    /// Every Didomi user, read through the API (the expectation side of a test).
    pub async fn didomi_users(&self) -> Vec<dhs_core::didomi::consents::ConsentUser> {
        let didomi = self.core.connections().didomi().await.expect("Didomi client");
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = didomi.users_page(cursor.as_deref()).await.expect("users page");
            out.extend(page.data);
            match page.cursor {
                Some(c) if !c.is_empty() => cursor = Some(c),
                _ => return out,
            }
        }
    }
}

/// Runs a push with `cfg` and no progress callback or cancel.
pub async fn push(
    job: &dhs_core::push::PushJob,
    req: dhs_core::SyncRequest,
    cfg: &dhs_core::push::EngineConfig,
) -> Result<dhs_core::RunReport, dhs_core::Error> {
    dhs_core::push::push(
        job.clone(),
        req,
        cfg.clone(),
        Arc::new(|_| {}),
        tokio_util::sync::CancellationToken::new(),
    )
    .await
}

/// A push request (direction Push).
pub fn push_request(dry_run: bool, full: bool) -> dhs_core::SyncRequest {
    dhs_core::SyncRequest { direction: dhs_core::SyncDirection::Push, dry_run, full }
}

/// A fast engine configuration for tests: the simulator's 110 requests per 10 s divided by
/// `time_scale`, short backoffs.
pub fn test_engine(time_scale: f64) -> dhs_core::push::EngineConfig {
    dhs_core::push::EngineConfig {
        backoff_base: std::time::Duration::from_millis(5),
        backoff_max: std::time::Duration::from_millis(50),
        ..dhs_core::push::EngineConfig::default().scaled(time_scale)
    }
}

/// A pull job sharing `push`'s clients, state database, mapping and scope (so the push's
/// fingerprints and the pull's writes see each other), with "Didomi Changed" created in the
/// simulated portal and fresh pacers.
pub async fn pull_job(
    h: &Harness,
    push: &dhs_core::push::PushJob,
    cfg: &dhs_core::pull::PullConfig,
    settings: dhs_core::pull::PullSettings,
) -> dhs_core::pull::PullJob {
    let counter = "didomi_changed";
    if push.hubspot.get_contact_property(counter).await.expect("property read").is_none() {
        push.hubspot
            .create_contact_property(&dhs_core::options::didomi_changed_property(counter, "didomi"))
            .await
            .expect("Didomi Changed created");
    }
    let mut inputs = h.job_inputs(push.mapping.clone(), push.upsert, &cfg.lang).await;
    inputs.settings.options.didomi_changed_property = counter.into();
    let (job, _) = dhs_core::jobs::RunResources::default().pull_job(&inputs).expect("pull job");
    assert_eq!(job.scope, push.scope, "push and pull jobs of one folder share a scope");
    // The push's clients, database and pacer (so the tests' fault counters and pacing see one
    // process), the test's pull settings and a fresh search pacer at the test's time scale.
    dhs_core::pull::PullJob {
        hubspot: push.hubspot.clone(),
        didomi: push.didomi.clone(),
        events: dhs_core::didomi::events::EventWriter::new(push.didomi.clone()),
        store: push.store.clone(),
        pacer: push.pacer.clone(),
        search_pacer: Arc::new(cfg.search_pacer()),
        settings,
        ..job
    }
}

/// A fast pull configuration for a simulator at `time_scale`: short backoffs, no lag.
pub fn test_pull_config(time_scale: f64) -> dhs_core::pull::PullConfig {
    dhs_core::pull::PullConfig {
        backoff_base: std::time::Duration::from_millis(5),
        backoff_max: std::time::Duration::from_millis(50),
        ..dhs_core::pull::PullConfig::default().scaled(time_scale)
    }
}

/// Runs a pull of `job` (rebuilt from its parts, since a job is consumed) without progress.
pub async fn run_pull(
    job: dhs_core::pull::PullJob,
    dry_run: bool,
    cfg: &dhs_core::pull::PullConfig,
) -> Result<dhs_core::pull::PullReport, dhs_core::Error> {
    dhs_core::pull::pull(
        job,
        dry_run,
        cfg.clone(),
        Arc::new(|_| {}),
        tokio_util::sync::CancellationToken::new(),
    )
    .await
}

/// Turns the simulated workflow on with the mapped properties of `mapping` as triggers.
pub fn simulate_workflow(h: &Harness, mapping: &dhs_core::mapping::Mapping) {
    let mut triggers: Vec<String> = mapping.entries.iter().map(|e| e.property.clone()).collect();
    triggers.dedup();
    h.sim
        .hubspot
        .set_workflow(dhs_simulator::hubspot::workflow::WorkflowConfig {
            enabled: true,
            trigger_properties: triggers,
            property: "didomi_changed".into(),
        })
        .expect("workflow on");
}

/// Like [`start_connected`], but HubSpot is connected over OAuth: the simulated app registers
/// the loopback `ports` (pick ports of your own below 32768, see [`start`]), the core binds
/// them, and the install is played through the simulated consent page ([`install`]). With
/// `time_scale` F the access token lives 1800 s ÷ F.
pub async fn start_connected_oauth(users: u64, time_scale: f64, ports: &[u16]) -> Harness {
    let sim = dhs_simulator::start(Config {
        time_scale,
        users,
        redirect_uris: redirect_uris(ports),
        ..Config::default()
    })
    .await
    .expect("simulator starts");
    let h = harness_on(sim, ports);
    install(&h).await;
    let k = h.sim.info.didomi_api_key.clone();
    let org = h.sim.info.didomi_organization_id.clone();
    h.core.connections().didomi_connect(k.key, Some(k.secret), org).await.expect("Didomi connects");
    h
}

impl Harness {
    /// Tokens the simulated HubSpot issued for a `refresh_token` grant (refused refreshes not
    /// counted).
    pub fn refresh_grants(&self) -> u64 {
        self.sim.hubspot.stats().oauth_grants.get("refresh_token").copied().unwrap_or(0)
    }

    /// `GET /_sim/didomi/events`, only the events of `ouid` when given: each `{event,
    /// disable_integrations, source}`, oldest first.
    pub async fn didomi_events(&self, ouid: Option<&str>) -> Vec<serde_json::Value> {
        let mut url = url::Url::parse(&format!("{}/_sim/didomi/events", self.sim.info.didomi))
            .expect("admin url");
        if let Some(o) = ouid {
            url.query_pairs_mut().append_pair("organization_user_id", o);
        }
        let r = reqwest::get(url).await.expect("Didomi admin answers");
        assert!(r.status().is_success(), "GET /_sim/didomi/events: {}", r.status());
        let v: serde_json::Value = r.json().await.expect("events JSON");
        v["data"].as_array().cloned().expect("data array")
    }
}

impl Harness {
    /// `n` contacts present on both sides: the HubSpot record id and the email, which is also the
    /// exact OUID of a Didomi user that has no differently-cased duplicate.
    pub async fn both_sides(&self, n: usize) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        for u in self.didomi_users().await {
            let Ok(email) =
                dhs_core::push::values::normalize_email(u.organization_user_id.as_deref())
            else {
                continue;
            };
            if u.organization_user_id.as_deref() != Some(email.as_str())
                || self.sim.didomi.user_by_organization_user_id(&email.to_uppercase()).is_some()
            {
                continue;
            }
            if let Some(c) = self.sim.hubspot.contact_by_email(&email) {
                out.push((c.id, email));
                if out.len() == n {
                    break;
                }
            }
        }
        assert_eq!(out.len(), n, "enough contacts on both sides");
        out
    }
}

/// Like [`start_connected`], but the simulator starts from `config` (e.g. other Didomi
/// languages with [`Config::didomi_languages`]); the core is connected to both sides the same
/// way (HubSpot with the private-app token, Didomi with the seeded key).
pub async fn start_connected_with(config: Config) -> Harness {
    let sim = dhs_simulator::start(config).await.expect("simulator starts");
    let h = harness_on(sim, &[]);
    let token = h.sim.info.hubspot_private_app_token.clone();
    h.core.connections().hubspot_connect_private_token(token).await.expect("HubSpot connects");
    let k = h.sim.info.didomi_api_key.clone();
    let org = h.sim.info.didomi_organization_id.clone();
    h.core.connections().didomi_connect(k.key, Some(k.secret), org).await.expect("Didomi connects");
    h
}

impl Harness {
    /// A person edits `property` of contact `id` in the simulated portal (`CRM_UI`), through
    /// the simulator's admin route (the HubSpot workflow emulation sees it as a UI edit).
    pub async fn edit_in_portal(&self, id: u64, property: &str, value: &str) {
        let r = reqwest::Client::new()
            .post(format!("{}/_sim/hubspot/contacts/{id}/edit", self.sim.info.hubspot))
            .json(&serde_json::json!({"property": property, "value": value, "source": "CRM_UI"}))
            .send()
            .await
            .expect("admin edit answers");
        assert!(r.status().is_success(), "the portal edit is accepted: {}", r.status());
    }
}
