//! Harness for the real-window tests: starts `tauri-driver` (which starts WebKitWebDriver and the
//! app), opens a WebDriver session on the app's window, and offers small helpers keyed on the
//! UI's `data-testid` attributes.
//!
//! Each [`App`] gets its own data and config folders (so tests do not share settings) unless a
//! test passes the folders of an earlier run to check what survives a restart. The keychain is
//! the Secret Service of the surrounding `dbus-run-session` (see `./x test`).
//!
//! Environment: `TAURI_DRIVER` (path of tauri-driver), `TAURI_APP` (path of the built app),
//! optional `DHS_E2E_SHOTS` (folder for screenshots; default `target/e2e-shots`).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};

/// Default time allowed for something to appear in the window.
pub const WAIT: Duration = Duration::from_secs(20);

/// Folders that hold one app installation's state (settings store, database, logs).
#[derive(Debug)]
pub struct Profile {
    dir: tempfile::TempDir,
}

impl Profile {
    /// A fresh, empty profile.
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temporary profile folder") }
    }

    /// A folder put first on the app's `PATH` that holds a fake `xdg-open`: it records every URL
    /// the app asks the system browser to open (see [`Profile::opened_urls`]) instead of opening it.
    fn fake_browser_dir(&self) -> PathBuf {
        let dir = self.dir.path().join("bin");
        std::fs::create_dir_all(&dir).expect("fake browser folder");
        let script = dir.join("xdg-open");
        let log = self.dir.path().join("opened-urls.txt");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", log.display()),
        )
        .expect("fake xdg-open");
        let _ = Command::new("chmod").arg("+x").arg(&script).status();
        dir
    }

    /// The folder the app's save/open dialogs are replaced by (`DHS_TEST_DIALOG_DIR`): exports
    /// land in `export.json`, imports are read from `import.json`, CSVs are
    /// `run-<run>-not-written.csv`.
    pub fn dialog_dir(&self) -> PathBuf {
        let p = self.dir.path().join("dialogs");
        std::fs::create_dir_all(&p).expect("dialog folder");
        p
    }

    /// The URLs the app asked the system browser to open, oldest first.
    pub fn opened_urls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("opened-urls.txt"))
            .map(|s| s.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The profile's `$HOME`.
    pub fn home(&self) -> PathBuf {
        let p = self.dir.path().join("home");
        std::fs::create_dir_all(&p).expect("profile home");
        p
    }

    fn runtime_dir(&self) -> PathBuf {
        let p = self.dir.path().join("run");
        std::fs::create_dir_all(&p).expect("profile runtime dir");
        let _ = Command::new("chmod").arg("700").arg(&p).status();
        p
    }

    /// The folder that plays `$XDG_DATA_HOME`.
    pub fn data_home(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn config_home(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    fn cache_home(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// Every file below the profile, concatenated (for "no secret on disk" checks).
    pub fn all_file_contents(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(p: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let Ok(rd) = std::fs::read_dir(p) else { return };
            for e in rd.flatten() {
                let path = e.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    out.push((path, bytes));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out
    }
}

impl Default for Profile {
    fn default() -> Self {
        Self::new()
    }
}

/// A running app driven over WebDriver. Dropping it stops tauri-driver (and so the app).
#[derive(Debug)]
pub struct App {
    /// The WebDriver session on the app's main window.
    pub client: Client,
    driver: Child,
    name: String,
}

fn env_path(var: &str, default: &str) -> PathBuf {
    let p = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default));
    std::fs::canonicalize(&p).unwrap_or_else(|e| panic!("{var}={}: {e}", p.display()))
}

impl App {
    /// Starts the app (`TAURI_APP`) with `profile` and waits until its window has loaded the UI.
    pub async fn start(name: &str, profile: &Profile) -> App {
        App::start_binary(name, profile, &env_path("TAURI_APP", "../../target/debug/dhs-app")).await
    }

    /// Starts the app binary `app_bin` with `profile` and waits until its window has loaded
    /// the UI.
    pub async fn start_binary(name: &str, profile: &Profile, app_bin: &Path) -> App {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "the real-window tests need DISPLAY (run them through ./x test)"
        );
        let driver_bin = env_path("TAURI_DRIVER", "tauri-driver");
        // Each profile is a user of its own: its own HOME, XDG folders, D-Bus session and
        // gnome-keyring (unlocked with a throw-away password; the keyring file lives in the
        // profile's HOME, so a restart with the same profile sees the same secrets).
        let mut cmd = Command::new("dbus-run-session");
        cmd.arg("--")
            .arg("sh")
            .arg("-c")
            .arg(
                "printf %s e2e-keyring-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null \
                 && exec \"$0\" --port 4444 --native-port 4445",
            )
            .arg(driver_bin)
            .env("HOME", profile.home())
            .env("XDG_DATA_HOME", profile.data_home())
            .env("XDG_CONFIG_HOME", profile.config_home())
            .env("XDG_CACHE_HOME", profile.cache_home())
            .env("XDG_RUNTIME_DIR", profile.runtime_dir())
            .env("NO_AT_BRIDGE", "1")
            .env("DHS_MODE", "sandbox")
            .env("DHS_TEST_DIALOG_DIR", profile.dialog_dir())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    profile.fake_browser_dir().display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let driver = cmd.spawn().expect("tauri-driver starts");

        let caps: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({
                "browserName": "wry",
                "tauri:options": { "application": app_bin, "args": [] }
            }))
            .expect("capabilities");
        // tauri-driver listens at once but WebKitWebDriver comes up a moment later.
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect("http://127.0.0.1:4444")
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("no WebDriver session after 30 s: {e}"),
            }
        };
        let app = App { client, driver, name: name.to_string() };
        app.wait_testid("nav-connect").await;
        app
    }

    /// CSS locator of a `data-testid`.
    pub fn css(testid: &str) -> String {
        format!("[data-testid=\"{testid}\"]")
    }

    /// Waits until the element with `testid` exists, and returns it.
    pub async fn wait_testid(&self, testid: &str) -> Element {
        let css = Self::css(testid);
        self.client.wait().at_most(WAIT).for_element(Locator::Css(&css)).await.unwrap_or_else(|e| {
            panic!("[{}] {testid} did not appear within {WAIT:?}: {e}", self.name)
        })
    }

    /// Whether an element with `testid` exists right now.
    pub async fn exists(&self, testid: &str) -> bool {
        self.client.find(Locator::Css(&Self::css(testid))).await.is_ok()
    }

    /// Clicks the element with `testid` once it is enabled, as a person waits for a greyed-out
    /// button: WebDriver's click on a disabled button succeeds and does nothing, so a click that
    /// lands while a screen is still loading its state would be lost silently.
    pub async fn click(&self, testid: &str) {
        let deadline = Instant::now() + WAIT;
        let el = loop {
            let el = self.wait_testid(testid).await;
            if el.is_enabled().await.unwrap_or(false) {
                break el;
            }
            if Instant::now() >= deadline {
                let shot =
                    self.screenshot(&format!("failed-{}-{testid}-disabled", self.name)).await;
                panic!(
                    "[{}] {testid} stayed disabled for {WAIT:?}; screenshot {}",
                    self.name,
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        el.click().await.unwrap_or_else(|e| panic!("[{}] click {testid}: {e}", self.name));
    }

    /// Replaces the value of the input with `testid`.
    pub async fn fill(&self, testid: &str, value: &str) {
        let el = self.wait_testid(testid).await;
        // Select all and delete with keys, as a person would: WebDriver's `clear` empties the DOM
        // value without React (react-aria) seeing it, so the old text would come back.
        el.send_keys("\u{e009}a\u{e000}\u{e003}")
            .await
            .unwrap_or_else(|e| panic!("clear {testid}: {e}"));
        el.send_keys(value).await.unwrap_or_else(|e| panic!("type into {testid}: {e}"));
    }

    /// Waits until the element with `testid` has `attr` = `value`; fails with a screenshot.
    pub async fn wait_attr(&self, testid: &str, attr: &str, value: &str) {
        for _ in 0..300 {
            if self.attr(testid, attr).await.as_deref() == Some(value) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let shot = self.screenshot(&format!("failed-{testid}-{attr}-{value}")).await;
        panic!("{testid} never had {attr}={value} (screenshot {})", shot.display());
    }

    /// The visible text of the element with `testid`.
    pub async fn text(&self, testid: &str) -> String {
        self.wait_testid(testid)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {testid}: {e}"))
    }

    /// Waits until the text of `testid` satisfies `pred`; returns that text.
    pub async fn wait_text(&self, testid: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(&Self::css(testid))).await {
                if let Ok(t) = el.text().await {
                    if pred(&t) {
                        return t;
                    }
                    last = t;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let shot = self.screenshot(&format!("failed-{}-{testid}", self.name)).await;
        panic!(
            "[{}] {testid} never showed {what}; last text: {last:?}; screenshot {}",
            self.name,
            shot.display()
        )
    }

    /// An attribute of the element with `testid`.
    pub async fn attr(&self, testid: &str, attr: &str) -> Option<String> {
        self.wait_testid(testid)
            .await
            .attr(attr)
            .await
            .unwrap_or_else(|e| panic!("attr {attr} of {testid}: {e}"))
    }

    /// Saves a screenshot of the window as `<shots>/<name>.png` (after two animation frames, so
    /// the picture shows the current DOM).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let _ = self
            .client
            .execute_async(
                "const d=arguments[arguments.length-1]; requestAnimationFrame(()=>requestAnimationFrame(()=>d(null)))",
                vec![],
            )
            .await;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = std::env::var_os("DHS_E2E_SHOTS").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-shots")
        });
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Starts recording every IPC answer the UI receives from here on (see [`App::ipc_log`]).
    pub async fn record_ipc(&self) {
        self.client
            .execute(
                // Tauri's `invoke` is a non-writable property, but its IPC answers arrive
                // through `fetch` of the `ipc:` custom protocol, which can be wrapped.
                r#"window.__ipcLog = [];
                   const orig = window.fetch.bind(window);
                   window.fetch = async (input, init) => {
                     const r = await orig(input, init);
                     const url = typeof input === 'string' ? input : input.url;
                     if (url.startsWith('ipc:') || url.includes('ipc.localhost')) {
                       try { window.__ipcLog.push(url + ' ' + await r.clone().text()); } catch (e) { window.__ipcLog.push(url + ' <unreadable>'); }
                     }
                     return r;
                   };"#,
                vec![],
            )
            .await
            .expect("install the IPC recorder");
    }

    /// Every IPC answer recorded since [`App::record_ipc`], as JSON text.
    pub async fn ipc_log(&self) -> Vec<String> {
        let v = self
            .client
            .execute("return window.__ipcLog || []", vec![])
            .await
            .expect("read IPC log");
        serde_json::from_value(v).expect("IPC log is a list of strings")
    }

    /// The text of the whole page (what the user can read, not input values).
    pub async fn page_text(&self) -> String {
        let v =
            self.client.execute("return document.body.innerText", vec![]).await.expect("page text");
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Waits until the app has asked the system browser to open a URL starting with `prefix`
    /// (beyond the first `already` recorded ones) and returns it.
    pub async fn wait_opened_url(&self, profile: &Profile, already: usize) -> String {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(u) = profile.opened_urls().get(already) {
                return u.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("[{}] the app never opened the system browser", self.name)
    }

    /// Every element with `testid`.
    pub async fn all(&self, testid: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(&Self::css(testid))).await.unwrap_or_default()
    }

    /// Runs JavaScript in the window and returns its result.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("js {script}: {e}"))
    }

    /// The base URLs of the in-process simulator, read from the Sandbox status line
    /// (`HubSpot http://… · Didomi http://…`).
    pub async fn simulator_urls(&self) -> (String, String) {
        let text = self.page_text().await;
        let url_after = |label: &str| {
            let from = text.find(&format!("{label} http")).map(|i| i + label.len() + 1)?;
            text[from..].split_whitespace().next().map(|u| u.trim_end_matches('/').to_owned())
        };
        (
            url_after("HubSpot").expect("the status line shows the HubSpot URL"),
            url_after("Didomi").expect("the status line shows the Didomi URL"),
        )
    }

    /// Connects HubSpot (Install, the consent page granted, the loopback callback) and Didomi
    /// (the Sandbox key), as an admin would on the Connect screen.
    pub async fn connect_both(&self, profile: &Profile) {
        self.click("nav-connect").await;
        let before = profile.opened_urls().len();
        self.click("hubspot-install").await;
        let opened = self.wait_opened_url(profile, before).await;
        let location = consent(&opened, "grant").await.location();
        let (status, _) = follow(&location).await;
        assert_eq!(status, 200, "the loopback listener accepts the callback");
        self.wait_text("hubspot-account", "the connected portal", |t| t.contains("Portal id"))
            .await;
        self.click("didomi-connect").await;
        self.wait_testid("didomi-account").await;
    }

    /// Ends the session (which closes the app) and stops tauri-driver.
    pub async fn quit(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        stop_driver(&mut self.driver);
    }
}

fn stop_driver(driver: &mut Child) {
    // SIGTERM to the whole process group: tauri-driver stops WebKitWebDriver (SIGKILL would
    // orphan it), and the profile's D-Bus daemon and keyring daemon end too.
    let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", driver.id())]).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = driver.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = driver.kill();
    let _ = driver.wait();
}

impl Drop for App {
    fn drop(&mut self) {
        stop_driver(&mut self.driver);
    }
}

/// Plays the admin's browser on the simulated HubSpot consent page: opens `authorize_url`,
/// submits the form with `decision` (`grant` or `deny`) for the first account, and returns the
/// `Location` HubSpot redirects to (the app's loopback callback), without following it.
pub async fn consent(authorize_url: &str, decision: &str) -> Consent {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let page = http.get(authorize_url).send().await.expect("authorize page loads");
    assert_eq!(page.status().as_u16(), 200, "the consent page opens for {authorize_url}");
    let body = page.text().await.expect("consent page body");
    let action = between(&body, "<form method=\"post\" action=\"", "\"").expect("a consent form");
    let mut form: Vec<(String, String)> = Vec::new();
    for input in body.split("<input type=\"hidden\" ").skip(1) {
        let name = between(input, "name=\"", "\"").expect("hidden input name");
        let value = between(input, "value=\"", "\"").expect("hidden input value");
        form.push((name, html_unescape(&value)));
    }
    let account = between(&body, "<option value=\"", "\"").expect("an account to choose");
    form.push(("account".into(), account));
    form.push(("decision".into(), decision.into()));
    let base = url::Url::parse(authorize_url).expect("authorize URL");
    let target = base.join(&action).expect("form action URL");
    let r = http.post(target).form(&form).send().await.expect("consent form submits");
    if r.status().as_u16() == 302 {
        let loc =
            r.headers().get("location").and_then(|v| v.to_str().ok()).expect("redirect location");
        return Consent::Redirect(loc.to_owned());
    }
    Consent::Page(r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// What HubSpot's consent page did after the decision.
#[derive(Debug)]
pub enum Consent {
    /// A redirect to this location (the app's loopback callback).
    Redirect(String),
    /// A page and no redirect (HubSpot sends nothing to the app when the user declines).
    Page(u16, String),
}

impl Consent {
    /// The redirect location; panics with the page when there was none.
    pub fn location(self) -> String {
        match self {
            Consent::Redirect(l) => l,
            Consent::Page(status, body) => {
                panic!("expected a redirect, got a {status} page: {body}")
            }
        }
    }
}

/// Follows the redirect to the app's loopback listener, as the browser would; returns the page.
pub async fn follow(location: &str) -> (u16, String) {
    let r = reqwest::get(location).await.expect("the app's loopback listener answers");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(s[from..from + len].to_owned())
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

// Helpers of the journeys through the screens (mapping, sync, the simulated HubSpot API).

/// Calls the in-process simulator's HubSpot API with its private-app token.
pub async fn hubspot_get(base: &str, path: &str) -> (u16, serde_json::Value) {
    let info: serde_json::Value = reqwest::get(format!("{base}/_sim/hubspot/info"))
        .await
        .expect("simulator admin route")
        .json()
        .await
        .expect("info JSON");
    let token = info["privateAppToken"].as_str().expect("token in info").to_owned();
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("HubSpot API answers");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// The mapping rows of one kind (`boolean` or `text`), as (data-item JSON, row element).
pub async fn rows_of_kind(app: &App, kind: &str) -> Vec<(String, fantoccini::elements::Element)> {
    let mut out = Vec::new();
    for row in app.all("mapping-row").await {
        if row.attr("data-kind").await.ok().flatten().as_deref() == Some(kind) {
            let item = row.attr("data-item").await.ok().flatten().unwrap_or_default();
            out.push((item, row));
        }
    }
    out
}

/// Opens the row's dropdown, types `query`, and returns the internal names offered.
pub async fn offered(app: &App, row: &fantoccini::elements::Element, query: &str) -> Vec<String> {
    let css = "[data-testid=\"mapping-combobox\"]";
    // The row shows a look-alike field until first focused or pressed, then swaps in the live
    // combobox: bring it to the middle of the view, focus it, then find the input again.
    let field = row.find(Locator::Css(css)).await.expect("row combobox");
    let arg = serde_json::to_value(&field).expect("element as a script argument");
    app.client
        .execute("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", vec![arg])
        .await
        .expect("focus combobox");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let input = row.find(Locator::Css(css)).await.expect("live row combobox");
    input.send_keys("\u{e009}a\u{e000}\u{e003}").await.expect("clear combobox");
    input.send_keys(query).await.expect("type into combobox");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut names = Vec::new();
    for o in app.all("mapping-option").await {
        if let Ok(Some(n)) = o.attr("data-name").await {
            names.push(n);
        }
    }
    names
}

/// Chooses `name` in the row's dropdown.
pub async fn choose(app: &App, row: &fantoccini::elements::Element, name: &str) {
    let names = offered(app, row, name).await;
    assert!(names.iter().any(|n| n == name), "{name} is offered for this row; offered: {names:?}");
    let css = format!("[data-testid=\"mapping-option\"][data-name=\"{name}\"]");
    app.client
        .find(Locator::Css(&css))
        .await
        .expect("the option")
        .click()
        .await
        .expect("choose it");
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// Waits until `testid` shows a final run status; returns it lower-cased.
pub async fn final_status(app: &App, testid: &str) -> String {
    app.wait_text(testid, "a final status", |t| {
        let t = t.to_lowercase();
        t.contains("succeeded")
            || t.contains("partial")
            || t.contains("failed")
            || t.contains("cancelled")
    })
    .await
    .to_lowercase()
}

/// A seeded contact on both sides whose boolean `property` holds `true` or `false` (pushed):
/// its HubSpot record id, its email and whether the value is `true`.
pub async fn pushed_contact_on_both_sides(
    hubspot: &str,
    didomi: &str,
    property: &str,
) -> (String, String, bool) {
    let (_, contacts) = hubspot_get(
        hubspot,
        &format!("/crm/v3/objects/contacts?limit=100&properties=email,{property}"),
    )
    .await;
    for c in contacts["results"].as_array().expect("contacts") {
        let value = c["properties"][property].as_str().unwrap_or_default().to_owned();
        let email = c["properties"]["email"].as_str().unwrap_or_default().to_owned();
        if value != "true" && value != "false" {
            continue;
        }
        let r = reqwest::get(format!("{didomi}/_sim/didomi/users/{email}"))
            .await
            .expect("didomi admin");
        if r.status().as_u16() == 200 {
            return (c["id"].as_str().expect("id").to_owned(), email, value == "true");
        }
    }
    panic!("no contact on both sides with {property} pushed");
}
