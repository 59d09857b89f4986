//! The `simulator` binary: one JSON line on stdout when ready, both APIs answer, fault flags
//! apply, and SIGTERM / SIGINT stop it cleanly.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dhs_simulator::Info;
use serde_json::{json, Value};

/// Starts the binary and reads its one JSON line.
fn spawn(args: &[&str]) -> (Child, Info) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_simulator"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout piped"));
    let mut line = String::new();
    out.read_line(&mut line).expect("a line on stdout");
    let info: Info = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("not Info JSON ({e}): {line:?}"));
    // Nothing else may ever be written to stdout: keep reading it in the background.
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = out.read_to_string(&mut rest);
        assert!(rest.is_empty(), "stdout carries only the one JSON line, then got {rest:?}");
    });
    (child, info)
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args(["-s", sig, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "signal {sig} delivered");
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        assert!(Instant::now() < deadline, "the simulator exits within 10 s of the signal");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn prints_info_serves_both_apis_and_stops_on_sigterm() {
    let (mut child, info) = spawn(&["--seed", "7", "--users", "120"]);
    assert!(info.hubspot.starts_with("http://127.0.0.1:"), "HubSpot on loopback: {}", info.hubspot);
    assert!(info.didomi.starts_with("http://127.0.0.1:"), "Didomi on loopback: {}", info.didomi);
    assert_ne!(info.hubspot, info.didomi, "two ports");
    assert_eq!(
        info.hubspot_app.redirect_uris,
        dhs_simulator::DEFAULT_REDIRECT_URIS,
        "default redirect URIs"
    );
    let c = reqwest::Client::new();

    let res = c
        .post(format!("{}/v1/sessions", info.didomi))
        .json(&json!({ "type": "api-key", "key": info.didomi_api_key.key, "secret": info.didomi_api_key.secret }))
        .send()
        .await
        .expect("Didomi answers");
    assert_eq!(res.status(), 200, "the printed Didomi key works");
    let tok = res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
    let page: Value = c
        .get(format!(
            "{}/v1/consents/users?organization_id={}",
            info.didomi, info.didomi_organization_id
        ))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["limit"], 100, "a users page: {page}");

    let res = c.get(format!("{}/_sim/faults", info.hubspot)).send().await.expect("HubSpot answers");
    assert_eq!(res.status(), 200, "the HubSpot server serves its admin route");
    let res = c
        .get(format!("{}/crm/v3/properties/contacts", info.hubspot))
        .bearer_auth(&info.hubspot_private_app_token)
        .send()
        .await
        .expect("HubSpot answers");
    assert_eq!(res.status(), 200, "the printed private-app token works on a HubSpot API route");
    let props: Value = res.json().await.expect("json");
    assert!(
        props["results"].as_array().is_some_and(|r| !r.is_empty()),
        "contact properties listed"
    );

    signal(&child, "TERM");
    let status = wait_exit(&mut child);
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("simulator ready"), "logs go to stderr: {err}");
    assert!(!err.contains(&info.didomi_api_key.secret), "the Didomi secret is never logged");
}

#[tokio::test]
async fn fault_flags_apply_and_sigint_stops_it() {
    let (mut child, info) = spawn(&[
        "--users",
        "10",
        "--fault-5xx-share",
        "1",
        "--fault-route",
        "/v1/config-trees",
        "--fault-seed",
        "3",
        "--redirect-uri",
        "http://localhost:9999/cb",
    ]);
    assert_eq!(
        info.hubspot_app.redirect_uris,
        vec!["http://localhost:9999/cb".to_string()],
        "--redirect-uri replaces the list"
    );
    let c = reqwest::Client::new();
    let res = c.get(format!("{}/v1/config-trees", info.didomi)).send().await.unwrap();
    assert!(res.status().is_server_error(), "the faulted route fails: {}", res.status());
    let res = c.get(format!("{}/v1/preferences", info.didomi)).send().await.unwrap();
    assert_eq!(res.status(), 401, "other routes are not faulted (401: no token)");
    let faults: Value =
        c.get(format!("{}/_sim/faults", info.didomi)).send().await.unwrap().json().await.unwrap();
    assert_eq!(faults["config"]["seed"], 3, "the fault seed is in force: {faults}");
    assert_eq!(faults["counters"]["server_errors"], 1, "one 5xx counted: {faults}");
    signal(&child, "INT");
    assert!(wait_exit(&mut child).success(), "clean exit on SIGINT");
}

#[test]
fn help_documents_the_flags_and_bad_faults_are_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_simulator")).arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--port",
        "--didomi-port",
        "--seed",
        "--users",
        "--time-scale",
        "--hubspot-rate-limit",
        "--redirect-uri",
        "--fault-latency-ms",
        "--fault-429-share",
        "--fault-5xx-share",
        "--fault-drop-share",
        "--fault-malformed-share",
        "--fault-route",
        "--fault-seed",
        "--didomi-languages",
    ] {
        assert!(help.contains(flag), "--help documents {flag}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_simulator"))
        .args(["--fault-5xx-share", "0.7", "--fault-drop-share", "0.7"])
        .output()
        .expect("runs");
    assert!(!out.status.success(), "shares adding up above 1 are refused");
    assert!(out.stdout.is_empty(), "and nothing is printed on stdout");
}

#[tokio::test]
async fn didomi_languages_flag_sets_the_organization_languages() {
    let (mut child, info) = spawn(&["--users", "10", "--didomi-languages", "fr"]);
    let c = reqwest::Client::new();
    let res = c
        .post(format!("{}/v1/sessions", info.didomi))
        .json(&json!({ "type": "api-key", "key": info.didomi_api_key.key, "secret": info.didomi_api_key.secret }))
        .send()
        .await
        .expect("Didomi answers");
    let tok = res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
    let org = &info.didomi_organization_id;
    let prefs: Value = c
        .get(format!("{}/v1/preferences?organization_id={org}", info.didomi))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let freq = prefs["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|p| p["id"] == "email_frequency-F2w8Qe")
        .expect("email frequency");
    assert_eq!(freq["name"], json!({"fr": "Fréquence des e-mails"}), "French only: {freq}");
    assert_eq!(freq["values"][0]["name"], json!({"fr": "Quotidienne"}), "values too: {freq}");
    let purposes: Value = c
        .get(format!("{}/v1/metadata/purposes?organization_id={org}", info.didomi))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        purposes["data"][0]["description"], "Lettre d'information",
        "an untranslated name is in the organization's language: {purposes}"
    );
    signal(&child, "TERM");
    assert!(wait_exit(&mut child).success(), "clean exit");

    let out = Command::new(env!("CARGO_BIN_EXE_simulator"))
        .args(["--didomi-languages", "fr,fr"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "a repeated language is refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"fr\" is listed twice"), "says why: {err}");
    assert!(out.stdout.is_empty(), "and nothing is printed on stdout");
}
