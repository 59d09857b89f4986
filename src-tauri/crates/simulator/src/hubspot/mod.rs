//! The simulated HubSpot: OAuth (authorize page, token, introspect, revoke, legacy v1 metadata),
//! account info, contact properties and groups, contacts (single, list, batch, search), rate
//! limits and HubSpot's error bodies, following `shared/reference/hubspot-api.md` §0–§4.
//!
//! Every CRM path is served under both the date version and `v3`
//! (`/crm/objects/2026-03/contacts…` == `/crm/v3/objects/contacts…`,
//! `/crm/properties/2026-03/contacts…` == `/crm/v3/properties/contacts…`), OAuth under
//! `/oauth/2026-03/…`, `/oauth/v3/…` and `/oauth/v1/…`. Test/Sandbox admin routes live under
//! `/_sim/hubspot/…` (no auth, not rate limited).
//!
//! The user "admin@acme-demo.test" sees two portals: "Acme Demo" (seeded with the people
//! generator's HubSpot contacts) and "Acme Dev Sandbox" (same properties, no contacts).
//!
//! Module map: [`auth`] (bearer auth, scopes, rate-limit middleware), [`limits`] (rolling
//! windows), [`oauth`] + [`consent_page`] (OAuth), [`tokens`] (HMAC tokens), [`properties`] +
//! [`standard_properties`] (property model and seed), [`store`] (compact contacts), [`values`]
//! (value validation), [`crm`] (shared write/render logic), [`contacts`], [`batch`], [`search`],
//! [`admin`], [`errors`].

pub mod admin;
pub mod auth;
pub mod batch;
pub mod consent_page;
pub mod contacts;
pub mod crm;
pub mod errors;
pub mod limits;
pub mod oauth;
pub mod portal_page;
pub mod properties;
pub mod query;
pub mod search;
pub mod standard_properties;
pub mod store;
pub mod tokens;
pub mod values;
pub mod workflow;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::routing::get;
use serde::Serialize;

use crate::Clock;
use crm::Crm;
use store::{Contact, ContactStore, Source, SourceType};

/// Formats epoch ms as ISO 8601 with milliseconds and `Z` (HubSpot's timestamp format).
pub fn iso(ms: i64) -> String {
    let dt = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    dt.format(&fmt).unwrap_or_default()
}

/// The simulated HubSpot user who installs the app.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    /// User id.
    pub id: u64,
    /// Login email.
    pub email: String,
}

/// One portal (HubSpot account) the user can see.
#[derive(Debug)]
pub struct Portal {
    /// Portal (hub) id.
    pub id: u64,
    /// Account name shown on the consent page.
    pub name: String,
    /// `hub_domain`.
    pub domain: String,
    /// Properties and contacts.
    pub crm: RwLock<Crm>,
    /// Rate-limit windows.
    pub limiter: Mutex<limits::Limiter>,
}

/// Counters for tests and benchmarks (`GET /_sim/hubspot/stats`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Authenticated API requests by route kind (`contacts.read`, `contacts.write`,
    /// `contacts.batch`, `contacts.search`, `properties.read`, `properties.write`, `account`),
    /// counting the ones refused with 429 too.
    pub requests: BTreeMap<String, u64>,
    /// OAuth endpoint requests by kind (`authorize`, `token`, `introspect`, `revoke`, `v1`).
    pub oauth_requests: BTreeMap<String, u64>,
    /// Tokens issued by the token endpoints (v3 and v1), by `grant_type`
    /// (`authorization_code`, `refresh_token`); refused grants are not counted.
    pub oauth_grants: BTreeMap<String, u64>,
    /// 429s sent for the rolling 10-second window.
    pub rate_limited_ten_secondly: u64,
    /// 429s sent for the per-second search window.
    pub rate_limited_secondly: u64,
    /// 429s sent for the daily limit.
    pub rate_limited_daily: u64,
    /// 401 answers (missing, invalid, expired or revoked token).
    pub unauthorized: u64,
    /// Accepted requests that write contacts or properties.
    pub write_requests: u64,
    /// Contacts created or updated (each record of a batch counts once).
    pub records_written: u64,
}

impl Stats {
    /// Total 429s sent.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited_ten_secondly + self.rate_limited_secondly + self.rate_limited_daily
    }
}

/// A contact as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactView {
    /// Record id.
    pub id: u64,
    /// Every non-empty value, computed properties included.
    pub properties: BTreeMap<String, String>,
    /// Creation time, ms.
    pub created_ms: i64,
    /// Last modification time, ms.
    pub updated_ms: i64,
    /// Archived.
    pub archived: bool,
}

/// One history entry as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Value.
    pub value: String,
    /// Timestamp, ms.
    pub timestamp_ms: i64,
    /// `sourceType`.
    pub source_type: String,
    /// `sourceId`.
    pub source_id: String,
}

/// State of the simulated HubSpot.
#[derive(Debug)]
pub struct HubSpot {
    clock: Clock,
    seed: u64,
    base_url: String,
    app: crate::HubSpotApp,
    app_id: u64,
    user: User,
    portals: Vec<Portal>,
    keys: tokens::TokenKeys,
    oauth: Mutex<oauth::OAuthState>,
    redirect_on_deny: AtomicBool,
    stats: Mutex<Stats>,
    requests_per_10s: u32,
    private_requests_per_10s: u32,
    private_daily: u64,
    search_per_s: u32,
    private_token: String,
    app_source: Arc<Source>,
    private_source: Arc<Source>,
}

fn derived_number(seed: u64, label: &str, modulo: u64) -> u64 {
    let b = tokens::derive(seed, label);
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) % modulo
}

fn new_crm(seed_people: Option<(u64, u64)>, now: i64, user_id: u64) -> Crm {
    let props = standard_properties::seeded_store(now, user_id);
    let email = props.index("email").expect("email property");
    let first = props.index("firstname").expect("firstname property");
    let last = props.index("lastname").expect("lastname property");
    let mut contacts = ContactStore::new(email);
    if let Some((seed, n)) = seed_people {
        contacts.reserve((n as usize) * 86 / 100);
        for person in crate::people::people(seed, n).filter(crate::people::Person::on_hubspot) {
            let mut c = Contact::new(person.created_at_ms);
            c.put(email, Some(&person.hubspot_email));
            c.put(first, Some(person.first_name));
            c.put(last, Some(person.last_name));
            contacts.push(c);
        }
    }
    Crm { props, contacts, seeded: crm::seeded_source(), workflow: Default::default() }
}

impl HubSpot {
    /// Seeds a portal from the config: app credentials, user, two portals, properties and the
    /// `on_hubspot()` people of the population as contacts. Everything derives from the seed, so
    /// a restart with the same seed gives the same app, portal ids and valid tokens.
    pub fn new(config: &crate::Config, clock: Clock, base_url: &str) -> Self {
        let seed = config.seed;
        let user = User {
            id: 2_000_000 + derived_number(seed, "user", 1_000_000),
            email: "admin@acme-demo.test".into(),
        };
        let portal_id = 146_000_000 + derived_number(seed, "portal", 1_000_000);
        let app_id = 3_000_000 + derived_number(seed, "app", 1_000_000);
        let now = clock.now_ms();
        let portals = vec![
            Portal {
                id: portal_id,
                name: "Acme Demo".into(),
                domain: "acme-demo.test".into(),
                crm: RwLock::new(new_crm(Some((seed, config.users)), now, user.id)),
                limiter: Mutex::new(limits::Limiter::default()),
            },
            Portal {
                id: portal_id + 1_000_000,
                name: "Acme Dev Sandbox".into(),
                domain: "dev.acme-demo.test".into(),
                crm: RwLock::new(new_crm(None, now, user.id)),
                limiter: Mutex::new(limits::Limiter::default()),
            },
        ];
        let id_bytes = tokens::derive(seed, "client-id");
        let client_id =
            uuid::Builder::from_random_bytes(id_bytes[..16].try_into().expect("16 bytes"))
                .into_uuid()
                .to_string();
        let client_secret = uuid::Builder::from_random_bytes(
            tokens::derive(seed, "client-secret")[..16].try_into().expect("16 bytes"),
        )
        .into_uuid()
        .to_string();
        let private_token =
            format!("pat-sim-{}", tokens::hex(&tokens::derive(seed, "private-app-token")[..16]));
        let app_source = Arc::new(Source {
            kind: SourceType::Integration,
            id: app_id.to_string(),
            label: Some("Didomi HubSpot Sync".into()),
            user_id: None,
        });
        let private_source = Arc::new(Source {
            kind: SourceType::Integration,
            id: (app_id + 1).to_string(),
            label: Some("Private app".into()),
            user_id: None,
        });
        Self {
            clock,
            seed,
            base_url: base_url.to_string(),
            app: crate::HubSpotApp {
                client_id,
                client_secret,
                redirect_uris: config.redirect_uris.clone(),
            },
            app_id,
            user,
            portals,
            keys: tokens::TokenKeys::new(seed),
            oauth: Mutex::new(oauth::OAuthState::default()),
            redirect_on_deny: AtomicBool::new(false),
            stats: Mutex::new(Stats::default()),
            requests_per_10s: config.hubspot_requests_per_10s,
            private_requests_per_10s: config.hubspot_private_app_requests_per_10s,
            private_daily: config.hubspot_private_app_daily,
            search_per_s: config.hubspot_search_per_s,
            private_token,
            app_source,
            private_source,
        }
    }

    /// The simulated app's OAuth credentials.
    pub fn app(&self) -> crate::HubSpotApp {
        self.app.clone()
    }

    /// The app id (`app_id` of token metadata, `sourceId` of the app's writes).
    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    /// A private-app token of the main portal (`pat-sim-…`; all app scopes; gets the daily
    /// rate-limit headers).
    pub fn private_app_token(&self) -> String {
        self.private_token.clone()
    }

    /// Base URL the simulator serves on.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The installing user.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// Id of the main ("Acme Demo") portal.
    pub fn portal_id(&self) -> u64 {
        self.portals[0].id
    }

    /// Id of the second portal the user can pick ("Acme Dev Sandbox", no contacts).
    pub fn other_portal_id(&self) -> u64 {
        self.portals[1].id
    }

    /// The portals the user can see.
    pub fn portals(&self) -> &[Portal] {
        &self.portals
    }

    /// The portal with an id (the main one when unknown, which cannot happen for valid tokens).
    pub fn portal(&self, hub_id: u64) -> &Portal {
        self.portals.iter().find(|p| p.id == hub_id).unwrap_or(&self.portals[0])
    }

    fn main(&self) -> &Portal {
        &self.portals[0]
    }

    fn crm_read(&self) -> std::sync::RwLockReadGuard<'_, Crm> {
        self.main().crm.read().unwrap_or_else(|e| e.into_inner())
    }

    fn crm_write(&self) -> std::sync::RwLockWriteGuard<'_, Crm> {
        self.main().crm.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The clock.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Number of non-archived contacts in the main portal.
    pub fn contact_count(&self) -> usize {
        self.crm_read().contacts.iter().filter(|(_, c)| !c.archived()).count()
    }

    /// The contact of the main portal with an id.
    pub fn contact(&self, id: u64) -> Option<ContactView> {
        let crm = self.crm_read();
        let c = crm.contacts.get(id)?;
        Some(view(&crm, id, c))
    }

    /// The non-archived contact of the main portal with an email (case-insensitive).
    pub fn contact_by_email(&self, email: &str) -> Option<ContactView> {
        let crm = self.crm_read();
        let id = crm.contacts.id_by_email(email)?;
        crm.contacts.get(id).map(|c| view(&crm, id, c))
    }

    /// A property definition of the main portal (archived ones included).
    pub fn property(&self, name: &str) -> Option<properties::Property> {
        self.crm_read().props.by_name(name).cloned()
    }

    /// Every property definition of the main portal (archived ones included).
    pub fn properties(&self) -> Vec<properties::Property> {
        self.crm_read().props.all().to_vec()
    }

    /// History of a property on a contact, newest first.
    pub fn history(&self, contact_id: u64, name: &str) -> Vec<HistoryEntry> {
        let crm = self.crm_read();
        let (Some(c), Some(idx)) = (crm.contacts.get(contact_id), crm.props.index(name)) else {
            return Vec::new();
        };
        c.history_of(idx, &crm.seeded)
            .into_iter()
            .map(|h| HistoryEntry {
                value: h.value.to_string(),
                timestamp_ms: h.ts,
                source_type: h.source.kind.as_str().into(),
                source_id: h.source.id.clone(),
            })
            .collect()
    }

    /// Sets a value as a user would in the HubSpot UI (history `sourceType` `CRM_UI`,
    /// `sourceId` `userId:<id>`). Same validation as the API, but read-only properties are
    /// rejected too.
    ///
    /// # Errors
    /// The validation message, or "contact not found".
    pub fn set_property_value_as_user(
        &self,
        contact_id: u64,
        name: &str,
        value: &str,
    ) -> Result<(), String> {
        let src = Arc::new(Source {
            kind: SourceType::CrmUi,
            id: format!("userId:{}", self.user.id),
            label: None,
            user_id: Some(self.user.id),
        });
        self.set_with_source(contact_id, name, value, src)
    }

    /// Sets a value as a workflow action would (`sourceType` `WORKFLOW`).
    ///
    /// # Errors
    /// The validation message, or "contact not found".
    pub fn set_property_value_as_workflow(
        &self,
        contact_id: u64,
        name: &str,
        value: &str,
    ) -> Result<(), String> {
        self.set_with_source(contact_id, name, value, workflow_source())
    }

    /// The "Increase or decrease property value" workflow action on a number property: an
    /// empty value counts as 0 (an [INF] choice; the reference leaves it open). Returns the new value.
    ///
    /// # Errors
    /// Not a number property, or contact not found.
    pub fn increment_property_as_workflow(
        &self,
        contact_id: u64,
        name: &str,
        by: f64,
    ) -> Result<String, String> {
        let mut crm = self.crm_write();
        let idx = crm.props.index(name).ok_or_else(|| format!("property {name} does not exist"))?;
        if crm.props.get(idx).type_ != "number" {
            return Err(format!("property {name} is not a number"));
        }
        let c =
            crm.contacts.get(contact_id).filter(|c| !c.archived()).ok_or("contact not found")?;
        let current: f64 = c.stored(idx).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let next = current + by;
        let text = if next.fract() == 0.0 && next.abs() < 1e15 {
            format!("{}", next as i64)
        } else {
            next.to_string()
        };
        let now = self.clock.now_ms();
        crm.update(contact_id, &[(idx, text.clone())], &workflow_source(), now)
            .map_err(|e| e.message.clone())?;
        Ok(text)
    }

    fn set_with_source(
        &self,
        contact_id: u64,
        name: &str,
        value: &str,
        src: Arc<Source>,
    ) -> Result<(), String> {
        let mut crm = self.crm_write();
        let mut input = serde_json::Map::new();
        input.insert(name.into(), serde_json::Value::String(value.into()));
        let current =
            crm.contacts.get(contact_id).filter(|c| !c.archived()).ok_or("contact not found")?;
        let values = crm.validate(&input, Some(current), true).map_err(|e| e.message.clone())?;
        let now = self.clock.now_ms();
        crm.update(contact_id, &values, &src, now).map_err(|e| e.message.clone())
    }

    /// A copy of the counters.
    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Zeroes the counters.
    pub fn reset_stats(&self) {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = Stats::default();
    }

    /// Updates the counters under their lock.
    pub(crate) fn with_stats(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.stats.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Revokes every OAuth token issued so far (as an uninstall would): later calls get 401 and
    /// refreshes get `BAD_REFRESH_TOKEN`. The private-app token is not affected.
    pub fn revoke_all_tokens(&self) {
        self.oauth.lock().unwrap_or_else(|e| e.into_inner()).revoke_all(self.clock.now_ms());
    }

    /// Whether "Deny" on the consent page redirects with `error=access_denied` (default `false`:
    /// like HubSpot, which sends no request when the user declines; §1.2).
    pub fn set_redirect_on_deny(&self, enabled: bool) {
        self.redirect_on_deny.store(enabled, Ordering::SeqCst);
    }

    /// Current setting of [`HubSpot::set_redirect_on_deny`].
    pub fn redirect_on_deny(&self) -> bool {
        self.redirect_on_deny.load(Ordering::SeqCst)
    }

    /// Issues an access/refresh token pair for the main portal without the browser flow (for
    /// tests of the sync engine). `scopes` are taken as granted.
    pub fn issue_tokens(&self, scopes: &[&str]) -> oauth::TokenResponse {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        self.issue_token_pair(self.portal_id(), &scopes)
    }

    /// The rate limits of a request by `app` now: its app's burst and window (scaled), and the
    /// account's daily allowance for the private app.
    pub fn quota(&self, app: limits::App) -> limits::Quota {
        let (max, daily) = match app {
            limits::App::OAuth => (self.requests_per_10s, None),
            limits::App::Private => (self.private_requests_per_10s, Some(self.private_daily)),
        };
        limits::Quota {
            max,
            window: self.clock.scaled(std::time::Duration::from_secs(10)),
            daily,
            day: limits::account_day(self.clock.now_ms()),
        }
    }

    fn limiter(&self) -> std::sync::MutexGuard<'_, limits::Limiter> {
        self.main().limiter.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Another consumer of `app`'s budget in the main portal (another process using the same
    /// app) sends `n` requests now, without going through the API: they fill the rolling window
    /// and, for the private app, the daily count (up to what the window and the day allow, as
    /// HubSpot would refuse the rest). Returns how many fitted, and the usage after them.
    pub fn consume_rate_limit(&self, app: limits::App, n: u32) -> (u32, limits::Usage) {
        self.limiter().consume(std::time::Instant::now(), app, n, self.quota(app))
    }

    /// The usage of `app` in the main portal now (what the next answer's headers would say,
    /// before counting that request).
    pub fn rate_limit_usage(&self, app: limits::App) -> limits::Usage {
        self.limiter().peek(std::time::Instant::now(), app, self.quota(app))
    }

    /// Sets the daily calls the main portal's private apps used today (`0`: after midnight).
    pub fn set_daily_used(&self, used: u64) {
        self.limiter().set_daily_used(used, limits::account_day(self.clock.now_ms()));
    }

    /// Daily calls the main portal's private apps used today.
    pub fn daily_used(&self) -> u64 {
        self.limiter().daily_used(limits::account_day(self.clock.now_ms()))
    }

    /// Approximate heap bytes of the main portal's contacts (values, history, email index).
    pub fn contacts_heap_bytes(&self) -> usize {
        self.crm_read().contacts.heap_bytes()
    }
}

fn workflow_source() -> Arc<Source> {
    Arc::new(Source {
        kind: SourceType::Workflow,
        id: "workflow:1001".into(),
        label: Some("Didomi Changed counter".into()),
        user_id: None,
    })
}

fn view(crm: &Crm, id: u64, c: &Contact) -> ContactView {
    let mut properties = BTreeMap::new();
    for (idx, p) in crm.props.all().iter().enumerate() {
        if let Some(v) = store::value_of(&crm.props, id, c, idx as u16) {
            properties.insert(p.name.clone(), v);
        }
    }
    ContactView {
        id,
        properties,
        created_ms: c.created_ms,
        updated_ms: c.updated_ms,
        archived: c.archived(),
    }
}

/// The HubSpot routes (state applied inside).
pub fn router(state: Arc<HubSpot>) -> axum::Router {
    let crm = axum::Router::new()
        .merge(contacts::routes("/crm/v3/objects/{objectType}"))
        .merge(contacts::routes("/crm/objects/2026-03/{objectType}"))
        .merge(properties_routes("/crm/v3/properties/{objectType}"))
        .merge(properties_routes("/crm/properties/2026-03/{objectType}"))
        .route("/account-info/v3/details", get(oauth::account_details))
        .route("/account-info/2026-03/details", get(oauth::account_details))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate));
    axum::Router::new()
        .merge(crm)
        .merge(oauth::routes())
        .merge(admin::routes())
        .merge(workflow::routes().merge(portal_page::routes()))
        .fallback(|| async {
            errors::ApiError::not_found(
                "Resource not found (the simulator does not serve this path)",
            )
        })
        .with_state(state)
}

fn properties_routes(prefix: &str) -> axum::Router<Arc<HubSpot>> {
    use axum::routing::post;
    axum::Router::new()
        .route(prefix, get(properties::list).post(properties::create))
        .route(&format!("{prefix}/batch/read"), post(properties::batch_read))
        .route(&format!("{prefix}/batch/create"), post(properties::batch_create))
        .route(&format!("{prefix}/batch/archive"), post(properties::batch_archive))
        .route(
            &format!("{prefix}/groups"),
            get(properties::list_groups).post(properties::create_group),
        )
        .route(
            &format!("{prefix}/groups/{{groupName}}"),
            get(properties::get_group)
                .patch(properties::update_group)
                .delete(properties::archive_group),
        )
        .route(
            &format!("{prefix}/{{propertyName}}"),
            get(properties::get_one).patch(properties::update).delete(properties::archive),
        )
}
