//! Keyboard only, in the real window (issue 13): connect HubSpot by pasting the redirect URL,
//! connect Didomi, map one row, save, dry run, push, open the run in History — with Tab,
//! Shift+Tab, Enter, Space, the arrow keys and Escape only, and a visible focus ring at every
//! stop (an outline of 2px or more on the focused element, a near ancestor, or the visible part
//! of its label).

use std::time::Duration;

use dhs_e2e::{consent, App, Profile};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;

/// Presses `keys` together (the first ones held, e.g. Shift then Tab).
async fn chord(app: &App, keys: &[char]) {
    let mut a = KeyActions::new("keyboard".into());
    for k in keys {
        a = a.then(KeyAction::Down { value: *k });
    }
    for k in keys.iter().rev() {
        a = a.then(KeyAction::Up { value: *k });
    }
    app.client.perform_actions(a).await.expect("keys pressed");
}

async fn key(app: &App, k: Key) {
    chord(app, &[k.into()]).await;
}

/// Types `text` key by key.
async fn type_text(app: &App, text: &str) {
    let mut a = KeyActions::new("keyboard".into());
    for c in text.chars() {
        a = a.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
    }
    app.client.perform_actions(a).await.expect("text typed");
}

const RING: &str = r#"
  const el = document.activeElement;
  if (el === null || el === document.body) return 'nothing focused';
  const ringed = (e) => { const s = getComputedStyle(e); return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; };
  const c = [el];
  for (let p = el.parentElement, i = 0; p !== null && i < 3; p = p.parentElement, i++) c.push(p);
  const label = el.closest('label');
  if (label !== null) c.push(...label.querySelectorAll('*'));
  return c.some(ringed) ? '' : 'no ring on ' + el.outerHTML.slice(0, 160);
"#;

/// Waits (up to half a second, as a person would see it) for a focus ring; panics naming what
/// has focus without one.
async fn expect_ring(app: &App, after: &str) {
    let mut problem = String::new();
    for _ in 0..10 {
        problem = app.js(RING).await.as_str().unwrap_or_default().to_owned();
        if problem.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let shot = app.screenshot("failed-keyboard-ring").await;
    panic!("after {after}: {problem} (screenshot {})", shot.display());
}

/// Presses Tab (or Shift+Tab) until the focused element matches `css`, checking the ring at
/// every stop.
async fn tab_to(app: &App, css: &str, back: bool) {
    let matches = format!("return document.activeElement?.matches('{css}') ?? false");
    for _ in 0..60 {
        if back {
            chord(app, &[Key::Shift.into(), Key::Tab.into()]).await;
        } else {
            key(app, Key::Tab).await;
        }
        expect_ring(app, &format!("Tab towards {css}")).await;
        if app.js(&matches).await.as_bool() == Some(true) {
            return;
        }
    }
    let shot = app.screenshot("failed-keyboard-tab").await;
    panic!("{css} was not reached with Tab (screenshot {})", shot.display());
}

fn id(testid: &str) -> String {
    format!("[data-testid=\"{testid}\"]")
}

#[tokio::test]
async fn keyboard_only_connect_map_save_dry_run_push_history() {
    let profile = Profile::new();
    let app = App::start("keyboard", &profile).await;
    app.wait_testid("screen-connect").await;

    // HubSpot by paste: Install, approve in the (test's) browser, paste the redirect URL.
    tab_to(&app, &id("hubspot-install"), false).await;
    key(&app, Key::Enter).await;
    let opened = app.wait_opened_url(&profile, 0).await;
    // Not followed: the admin copies the URL the browser landed on instead.
    let location = consent(&opened, "grant").await.location();
    app.wait_testid("hubspot-paste-input").await;
    tab_to(&app, &id("hubspot-paste-input"), false).await;
    type_text(&app, &location).await;
    key(&app, Key::Enter).await;
    app.wait_text("hubspot-account", "the connected portal", |t| t.contains("Portal id")).await;

    // Didomi with the Sandbox key (prefilled), pressed with Space.
    tab_to(&app, &id("didomi-connect"), false).await;
    key(&app, Key::Space).await;
    app.wait_testid("didomi-account").await;

    // Mapping: the first row's list opens with ↓, closes with Escape; ↓ again, ↓ to the first
    // property (after "New HubSpot property…"), Enter chooses it; then Save.
    tab_to(&app, &id("nav-mapping"), true).await;
    key(&app, Key::Enter).await;
    app.wait_testid("mapping-row").await;
    tab_to(&app, &id("mapping-combobox"), false).await;
    key(&app, Key::Down).await;
    app.wait_testid("mapping-option").await;
    expect_ring(&app, "↓ opened the list").await;
    key(&app, Key::Escape).await;
    for _ in 0..20 {
        if !app.exists("mapping-option").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!app.exists("mapping-option").await, "Escape closed the list");
    key(&app, Key::Down).await;
    app.wait_testid("mapping-option").await;
    key(&app, Key::Down).await;
    key(&app, Key::Enter).await;
    app.wait_testid("mapping-dirty").await;
    expect_ring(&app, "Enter chose a property").await;
    app.screenshot("keyboard-mapping-chosen").await;
    tab_to(&app, &id("mapping-save"), true).await;
    key(&app, Key::Enter).await;
    for _ in 0..100 {
        if !app.exists("mapping-dirty").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!app.exists("mapping-dirty").await, "saved with Enter");

    // Sync: a dry run with Enter, a push with Space, then its run in History.
    tab_to(&app, &id("nav-sync"), true).await;
    key(&app, Key::Enter).await;
    app.wait_testid("screen-sync").await;
    tab_to(&app, &id("sync-dry-run"), false).await;
    key(&app, Key::Enter).await;
    app.wait_testid("dry-run-plan").await;
    tab_to(&app, &id("sync-push"), false).await;
    key(&app, Key::Space).await;
    let status = app
        .wait_text("sync-status", "a final status", |t| {
            ["Succeeded", "Partial", "Failed", "Cancelled"].iter().any(|s| t.contains(s))
        })
        .await;
    assert_eq!(status, "Succeeded", "the push succeeds");
    tab_to(&app, &id("sync-open-history"), false).await;
    key(&app, Key::Enter).await;
    app.wait_testid("history-run").await;
    let selected = app
        .js("return document.querySelector('[data-testid=\"history-run\"][aria-selected=\"true\"]')?.dataset.status ?? null")
        .await;
    assert_eq!(selected.as_str(), Some("Succeeded"), "History opens on the push just made");
    app.screenshot("keyboard-history").await;
    app.quit().await;
}
