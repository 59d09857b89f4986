//! The app as a user installs it (issue 13): `./x test` builds the .deb, installs it with apt and
//! runs this test on the installed package, named by `DHS_INSTALLED_PACKAGE`. It is ignored in a
//! plain `cargo test`, which has no package installed.

use std::path::Path;
use std::process::Command;

use dhs_e2e::{App, Profile};

/// The files `dpkg` installed for `package`.
fn installed_files(package: &str) -> Vec<String> {
    let out = Command::new("dpkg").args(["-L", package]).output().expect("dpkg runs");
    assert!(
        out.status.success(),
        "{package} is not installed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

#[tokio::test]
#[ignore = "needs the .deb installed: run by ./x test after apt installs it"]
async fn the_installed_package_has_a_desktop_entry_and_opens_in_sandbox() {
    let package = std::env::var("DHS_INSTALLED_PACKAGE")
        .expect("DHS_INSTALLED_PACKAGE names the installed package (./x test sets it)");
    let files = installed_files(&package);
    let bin = files
        .iter()
        .find(|f| f.starts_with("/usr/bin/") && Path::new(f).is_file())
        .unwrap_or_else(|| panic!("{package} installs no program in /usr/bin: {files:?}"));
    let desktop = files
        .iter()
        .find(|f| f.starts_with("/usr/share/applications/") && f.ends_with(".desktop"))
        .unwrap_or_else(|| panic!("{package} installs no desktop entry: {files:?}"));
    let entry = std::fs::read_to_string(desktop).expect("desktop entry readable");
    let name = Path::new(bin).file_name().and_then(|n| n.to_str()).expect("binary name");
    assert!(
        entry
            .lines()
            .any(|l| l == format!("Exec={name}") || l.starts_with(&format!("Exec={name} "))),
        "the desktop entry starts {name}:\n{entry}"
    );
    let icon =
        entry.lines().find_map(|l| l.strip_prefix("Icon=")).expect("the entry names an icon");
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("/usr/share/icons/hicolor/")
                && f.ends_with(&format!("/{icon}.png"))),
        "the icon {icon} is installed in the hicolor theme: {files:?}"
    );
    let kind = Command::new("file").arg("-b").arg(bin).output().expect("file runs");
    let kind = String::from_utf8_lossy(&kind.stdout).into_owned();
    assert!(kind.contains(", stripped"), "the shipped binary is stripped: {kind}");

    let profile = Profile::new();
    let app = App::start_binary("installed", &profile, Path::new(bin)).await;
    let banner = app.text("sandbox-banner").await;
    assert!(banner.contains("Sandbox"), "the installed app opens in Sandbox, got {banner:?}");
    app.wait_text("simulator-status", "that the simulator is reachable", |t| {
        t.contains("Simulator reachable")
    })
    .await;
    app.wait_testid("screen-connect").await;
    app.screenshot("installed-sandbox").await;
    app.quit().await;
}
