//! Real-window tests: the built app in its WebKitGTK window, driven through tauri-driver.
//! Run through `./x test` (Xvfb, a private D-Bus session, an unlocked throw-away keyring).

use dhs_e2e::{App, Profile};

const SCREENS: &[&str] = &["connect", "options", "mapping", "sync", "history", "inspect"];

/// The app opens in Sandbox, reaches its in-process simulator, and every screen opens.
#[tokio::test]
async fn opens_in_sandbox_and_every_screen_opens() {
    let profile = Profile::new();
    let app = App::start("screens", &profile).await;

    let banner = app.text("sandbox-banner").await;
    assert!(
        banner.to_lowercase().contains("sandbox"),
        "the Sandbox banner says Sandbox, got {banner:?}"
    );
    app.wait_text("simulator-status", "that the simulator is reachable", |t| {
        t.to_lowercase().contains("reachable") && !t.to_lowercase().contains("unreachable")
    })
    .await;

    for screen in SCREENS {
        app.click(&format!("nav-{screen}")).await;
        app.wait_testid(&format!("screen-{screen}")).await;
        for other in SCREENS.iter().filter(|s| *s != screen) {
            assert!(
                !app.exists(&format!("screen-{other}")).await,
                "only {screen} is shown, but {other} is too"
            );
        }
        app.screenshot(&format!("screen-{screen}")).await;
    }
    app.quit().await;
}

use dhs_e2e::{consent, follow};

/// Waits until the error alert shows `code`; returns its message.
async fn expect_error(app: &App, code: &str) -> String {
    let deadline = std::time::Instant::now() + dhs_e2e::WAIT;
    loop {
        if app.exists("error").await
            && app.attr("error", "data-code").await.as_deref() == Some(code)
        {
            return app.text("error").await;
        }
        assert!(std::time::Instant::now() < deadline, "the error alert never showed {code}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Install (browser + loopback) and Didomi connect in the window; both survive a restart; then
/// Disconnect really disconnects, also after another restart.
#[tokio::test]
async fn install_and_connect_survive_restart_and_disconnect() {
    let profile = Profile::new();
    let app = App::start("install", &profile).await;
    app.wait_testid("screen-connect").await;

    app.click("hubspot-install").await;
    let opened = app.wait_opened_url(&profile, 0).await;
    assert!(
        opened.contains("/oauth/authorize?"),
        "the system browser gets HubSpot's authorize page: {opened}"
    );
    for want in [
        "client_id=",
        "redirect_uri=http%3A%2F%2Flocalhost%3A5313",
        "state=",
        "code_challenge=",
        "scope=",
    ] {
        assert!(opened.contains(want), "the authorize URL carries {want}: {opened}");
    }
    let shown = app.attr("hubspot-authorize-url", "href").await.unwrap_or_default();
    assert_eq!(shown, opened, "the link shown while waiting is the URL the browser was sent to");
    app.screenshot("connect-waiting").await;

    let location = consent(&opened, "grant").await.location();
    assert!(
        location.starts_with("http://localhost:5313"),
        "HubSpot redirects to the app's loopback listener: {location}"
    );
    let (status, page) = follow(&location).await;
    assert_eq!(status, 200, "the listener accepts the callback");
    assert!(
        page.to_lowercase().contains("close this tab"),
        "the browser is told it can close the tab: {page}"
    );

    let card =
        app.wait_text("hubspot-account", "the connected portal", |t| t.contains("Portal id")).await;
    assert!(card.chars().any(|c| c.is_ascii_digit()), "the card shows the portal id: {card}");

    app.click("didomi-connect").await;
    let didomi = app.text("didomi-account").await;
    assert!(!didomi.is_empty(), "Didomi shows its connected card");
    app.screenshot("connect-connected").await;
    app.quit().await;

    // Restart: nothing is asked again.
    let app = App::start("install-restart", &profile).await;
    app.wait_testid("hubspot-account").await;
    app.wait_testid("didomi-account").await;
    assert!(!app.exists("hubspot-install").await, "no Install button while connected");

    app.click("hubspot-disconnect").await;
    app.click("confirm-ok").await;
    app.wait_testid("hubspot-install").await;
    app.click("didomi-disconnect").await;
    app.click("confirm-ok").await;
    app.wait_testid("didomi-connect").await;
    assert!(
        !app.exists("hubspot-account").await && !app.exists("didomi-account").await,
        "both cards are gone"
    );
    app.screenshot("connect-disconnected").await;
    app.quit().await;

    let app = App::start("disconnect-restart", &profile).await;
    app.wait_testid("hubspot-install").await;
    app.wait_testid("didomi-connect").await;
    assert!(!app.exists("hubspot-account").await, "still disconnected after a restart");
    app.quit().await;
}

/// The paste fallback: the admin pastes the redirect URL instead of letting the browser reach
/// the listener; before that, a declined install is cancelled.
#[tokio::test]
async fn denied_install_then_paste_fallback() {
    let profile = Profile::new();
    let app = App::start("paste", &profile).await;

    app.click("hubspot-install").await;
    let opened = app.wait_opened_url(&profile, 0).await;
    // Like HubSpot, the simulator sends nothing to the app when the admin declines: the app
    // keeps waiting until the admin cancels.
    match consent(&opened, "deny").await {
        dhs_e2e::Consent::Page(200, _) => {}
        other => panic!("declining shows HubSpot's page and redirects nowhere, got {other:?}"),
    }
    app.wait_testid("hubspot-authorize-url").await;
    app.click("hubspot-cancel").await;
    app.wait_testid("hubspot-install").await;
    app.screenshot("connect-cancelled").await;

    app.click("hubspot-install").await;
    let opened = app.wait_opened_url(&profile, 1).await;
    let location = consent(&opened, "grant").await.location();
    let left = app.text("hubspot-paste-time-left").await;
    assert!(
        left.contains("59:") || left.starts_with("1:00:"),
        "about an hour is left to paste: {left}"
    );
    app.fill("hubspot-paste-input", &location).await;
    app.screenshot("connect-paste").await;
    app.click("hubspot-paste-submit").await;
    app.wait_text("hubspot-account", "the connected portal", |t| t.contains("Portal id")).await;
    app.quit().await;
}

/// A canary secret typed by the admin never reaches the settings store, the logs or anything the
/// UI receives.
#[tokio::test]
async fn canary_secrets_stay_in_the_keychain() {
    const CANARY_HS: &str = "canary-hubspot-secret-7f3a91";
    const CANARY_DIDOMI: &str = "canary-didomi-secret-5b2c77";
    let profile = Profile::new();
    let app = App::start("canary", &profile).await;
    app.record_ipc().await;

    app.fill("hubspot-client-secret", CANARY_HS).await;
    app.click("hubspot-install").await;
    let opened = app.wait_opened_url(&profile, 0).await;
    assert!(!opened.contains(CANARY_HS), "the client secret is not in the authorize URL");
    let location = consent(&opened, "grant").await.location();
    let _ = follow(&location).await;
    let msg = expect_error(&app, "HubSpotBadClient").await;
    assert!(!msg.contains(CANARY_HS), "the error message does not echo the secret");

    app.fill("didomi-api-secret", CANARY_DIDOMI).await;
    app.click("didomi-connect").await;
    expect_error(&app, "DidomiBadCredentials").await;

    let ipc = app.ipc_log().await;
    assert!(!ipc.is_empty(), "IPC answers were recorded");
    for answer in &ipc {
        assert!(
            !answer.contains(CANARY_HS) && !answer.contains(CANARY_DIDOMI),
            "an IPC answer carries a secret: {answer}"
        );
    }
    let text = app.page_text().await;
    assert!(!text.contains(CANARY_HS) && !text.contains(CANARY_DIDOMI), "the page shows a secret");
    app.quit().await;

    let files = profile.all_file_contents();
    assert!(
        files.iter().any(|(p, _)| p.to_string_lossy().contains("settings.sandbox.json")),
        "the settings store was written"
    );
    assert!(
        files.iter().any(|(p, _)| p.to_string_lossy().contains("log")),
        "a log file was written"
    );
    for (path, bytes) in files {
        let s = String::from_utf8_lossy(&bytes);
        assert!(
            !s.contains(CANARY_HS) && !s.contains(CANARY_DIDOMI),
            "{} holds a secret",
            path.display()
        );
    }
}
