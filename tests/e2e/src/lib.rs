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
    /// Starts the app with `profile` and waits until its window has loaded the UI.
    pub async fn start(name: &str, profile: &Profile) -> App {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "the real-window tests need DISPLAY (run them through ./x test)"
        );
        let driver_bin = env_path("TAURI_DRIVER", "tauri-driver");
        let app_bin = env_path("TAURI_APP", "../../target/debug/dhs-app");
        let mut cmd = Command::new(driver_bin);
        cmd.args(["--port", "4444", "--native-port", "4445"])
            .env("XDG_DATA_HOME", profile.data_home())
            .env("XDG_CONFIG_HOME", profile.config_home())
            .env("XDG_CACHE_HOME", profile.cache_home())
            .env("DHS_MODE", "sandbox")
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

    /// Clicks the element with `testid`.
    pub async fn click(&self, testid: &str) {
        self.wait_testid(testid)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("[{}] click {testid}: {e}", self.name));
    }

    /// Replaces the value of the input with `testid`.
    pub async fn fill(&self, testid: &str, value: &str) {
        let el = self.wait_testid(testid).await;
        el.clear().await.unwrap_or_else(|e| panic!("clear {testid}: {e}"));
        el.send_keys(value).await.unwrap_or_else(|e| panic!("type into {testid}: {e}"));
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
        panic!("[{}] {testid} never showed {what}; last text: {last:?}", self.name)
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

    /// Ends the session (which closes the app) and stops tauri-driver.
    pub async fn quit(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        stop_driver(&mut self.driver);
    }
}

fn stop_driver(driver: &mut Child) {
    // SIGTERM lets tauri-driver stop WebKitWebDriver too; SIGKILL would orphan it.
    let _ = Command::new("kill").args(["-TERM", &driver.id().to_string()]).status();
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
