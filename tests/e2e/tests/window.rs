//! Real-window tests: the built app in its WebKitGTK window, driven through tauri-driver.
//! Run through `./x test` (Xvfb, a private D-Bus session, an unlocked throw-away keyring).

use dhs_e2e::{App, Profile};

const SCREENS: &[&str] = &["connect", "options", "mapping", "sync", "history"];

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
