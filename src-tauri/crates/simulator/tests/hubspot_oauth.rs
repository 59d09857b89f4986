//! The simulated HubSpot's OAuth as a real client sees it: consent page, validation of
//! client/redirect/scopes, grant and deny, the token endpoint (single-use and expiring codes,
//! mismatched redirect, PKCE, refresh without rotation, client errors, form-only bodies),
//! introspection, revocation, legacy v1 metadata, account info, and token survival across a
//! restart with the same seed.

mod hubspot_common;

use std::time::Duration;

use hubspot_common::*;
use serde_json::Value;

#[tokio::test]
async fn consent_page_lists_accounts_and_carries_the_query() {
    let sim = sim().await;
    let c = client();
    let app = &sim.info.hubspot_app;
    let res = c
        .get(format!("{}/oauth/authorize", sim.info.hubspot))
        .query(&[
            ("client_id", app.client_id.as_str()),
            ("redirect_uri", app.redirect_uris[1].as_str()),
            ("scope", SCOPES),
            ("state", "s&1"),
            ("code_challenge", "abc"),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), 200, "valid request shows the consent page");
    let html = res.text().await.expect("html");
    assert!(html.contains("<select id=\"account\" name=\"account\">"), "account picker present");
    let accounts = accounts_of(&html);
    assert_eq!(
        accounts,
        vec![sim.hubspot.portal_id().to_string(), sim.hubspot.other_portal_id().to_string()],
        "both portals offered, main first"
    );
    assert!(html.contains("Acme Demo"), "the main portal is named Acme Demo");
    assert!(
        html.contains("id=\"grant\" type=\"submit\" name=\"decision\" value=\"grant\""),
        "grant button"
    );
    assert!(html.contains("id=\"deny\""), "deny button");
    let form = form_of(&html);
    assert!(form.contains(&("state".into(), "s&1".into())), "state carried verbatim: {form:?}");
    assert!(
        form.contains(&("redirect_uri".into(), app.redirect_uris[1].clone())),
        "redirect carried"
    );
    assert!(form.contains(&("code_challenge".into(), "abc".into())), "PKCE challenge carried");
}

#[tokio::test]
async fn account_specific_authorize_offers_only_that_account() {
    let sim = sim().await;
    let c = client();
    let app = &sim.info.hubspot_app;
    let other = sim.hubspot.other_portal_id();
    let html = c
        .get(format!("{}/oauth/{other}/authorize", sim.info.hubspot))
        .query(&[
            ("client_id", app.client_id.as_str()),
            ("redirect_uri", app.redirect_uris[0].as_str()),
            ("scope", SCOPES),
        ])
        .send()
        .await
        .expect("authorize")
        .text()
        .await
        .expect("html");
    assert_eq!(accounts_of(&html), vec![other.to_string()], "only the named account");
    let res = c
        .get(format!("{}/oauth/999/authorize", sim.info.hubspot))
        .query(&[
            ("client_id", app.client_id.as_str()),
            ("redirect_uri", app.redirect_uris[0].as_str()),
            ("scope", SCOPES),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), 400, "an account the user cannot see is an error page");
}

#[tokio::test]
async fn authorize_errors_are_pages_without_redirect() {
    let sim = sim().await;
    let c = client();
    let app = &sim.info.hubspot_app;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("client_id", "nope"), ("redirect_uri", &app.redirect_uris[0]), ("scope", SCOPES)],
            "client ID",
        ),
        (
            vec![
                ("client_id", &app.client_id),
                ("redirect_uri", "http://localhost:53134/oauth/callback/"),
                ("scope", SCOPES),
            ],
            "redirect URL",
        ),
        (
            vec![
                ("client_id", &app.client_id),
                ("redirect_uri", "http://localhost:9999/oauth/callback"),
                ("scope", SCOPES),
            ],
            "redirect URL",
        ),
        (
            vec![
                ("client_id", &app.client_id),
                ("redirect_uri", &app.redirect_uris[0]),
                ("scope", "oauth crm.bogus"),
            ],
            "not a valid scope",
        ),
        (
            vec![
                ("client_id", &app.client_id),
                ("redirect_uri", &app.redirect_uris[0]),
                ("scope", "oauth crm.objects.deals.read"),
            ],
            "not configured",
        ),
    ];
    for (q, needle) in cases {
        let res = c
            .get(format!("{}/oauth/authorize", sim.info.hubspot))
            .query(&q)
            .send()
            .await
            .expect("authorize");
        assert_eq!(res.status(), 400, "{q:?} must be refused");
        assert!(res.headers().get("location").is_none(), "{q:?}: no redirect on error");
        let html = res.text().await.expect("html");
        assert!(html.contains(needle), "{q:?}: page says why ({needle}): {html}");
    }
}

#[tokio::test]
async fn deny_shows_a_page_by_default_and_can_redirect() {
    let sim = sim().await;
    let c = client();
    let res = consent(&sim, &c, &[], "deny", None).await;
    assert_eq!(res.status(), 200, "like HubSpot, declining sends no request to the app");
    assert!(res.text().await.expect("html").contains("declined"), "a cancelled page");
    sim.hubspot.set_redirect_on_deny(true);
    let res = consent(&sim, &c, &[], "deny", None).await;
    assert_eq!(res.status(), 302, "with the switch on, deny redirects");
    let q = query_of(res.headers()["location"].to_str().expect("location"));
    assert_eq!(q.get("error").map(String::as_str), Some("access_denied"), "error=access_denied");
    assert_eq!(q.get("state").map(String::as_str), Some("st-123"), "state kept");
    assert!(!q.contains_key("code"), "no code on deny");
}

#[tokio::test]
async fn code_exchange_gives_tokens_in_the_reference_shape_and_codes_are_single_use() {
    let sim = sim().await;
    let c = client();
    let code = code(&sim, &c, &[]).await;
    let res = exchange(&sim, &c, &code, &[]).await;
    assert_eq!(res.status(), 200, "a fresh code is exchanged");
    let body: Value = res.json().await.expect("json");
    assert_shape("token_response.json", &body, &[]);
    assert_eq!(body["expires_in"], 1800, "30 minutes at time scale 1");
    assert_eq!(body["hub_id"], sim.hubspot.portal_id(), "the chosen portal");
    assert_eq!(body["scopes"].as_array().map(Vec::len), Some(5), "all requested scopes granted");
    let code2 =
        hubspot_common::code(&sim, &c, &[("optional_scope", "crm.objects.deals.read e-commerce")])
            .await;
    let narrow: Value = exchange(&sim, &c, &code2, &[]).await.json().await.expect("json");
    assert_eq!(
        narrow["scopes"].as_array().map(Vec::len),
        Some(5),
        "optional scopes the app is not configured with are silently dropped"
    );
    let again = exchange(&sim, &c, &code, &[]).await;
    assert_eq!(again.status(), 400, "a code works once");
    let err: Value = again.json().await.expect("json");
    assert_shape("oauth_error.json", &err, &[]);
    assert_eq!(
        (err["error"].as_str(), err["status"].as_str()),
        (Some("invalid_grant"), Some("BAD_AUTH_CODE")),
        "reuse"
    );
    let bad = exchange(&sim, &c, "not-a-code", &[]).await.json::<Value>().await.expect("json");
    assert_eq!(bad["status"], "BAD_AUTH_CODE", "unknown code");
}

#[tokio::test]
async fn choosing_the_other_account_gives_its_hub_id() {
    let sim = sim().await;
    let c = client();
    let other = sim.hubspot.other_portal_id().to_string();
    let res = consent(&sim, &c, &[], "grant", Some(&other)).await;
    let q = query_of(res.headers()["location"].to_str().expect("location"));
    let body: Value = exchange(&sim, &c, &q["code"], &[]).await.json().await.expect("json");
    assert_eq!(body["hub_id"].to_string(), other, "token of the chosen account");
    let token = body["access_token"].as_str().expect("token");
    let details: Value = c
        .get(format!("{}/account-info/2026-03/details", sim.info.hubspot))
        .bearer_auth(token)
        .send()
        .await
        .expect("details")
        .json()
        .await
        .expect("json");
    assert_eq!(details["portalId"].to_string(), other, "account info is the chosen portal's");
}

#[tokio::test]
async fn expired_code_is_refused() {
    // 10 minutes / 6000 = 100 ms.
    let sim = sim_with(|c| c.time_scale = 6000.0).await;
    let c = client();
    let code = code(&sim, &c, &[]).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    let err: Value = exchange(&sim, &c, &code, &[]).await.json().await.expect("json");
    assert_eq!(err["status"], "EXPIRED_AUTH_CODE", "code older than its (scaled) lifetime: {err}");
}

#[tokio::test]
async fn mismatched_redirect_and_wrong_client_are_refused() {
    let sim = sim().await;
    let c = client();
    let app = sim.info.hubspot_app.clone();
    let code1 = code(&sim, &c, &[]).await;
    let res = c
        .post(format!("{}/oauth/2026-03/token", sim.info.hubspot))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code1.as_str()),
            ("redirect_uri", app.redirect_uris[1].as_str()),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
        ])
        .send()
        .await
        .expect("token");
    let err: Value = res.json().await.expect("json");
    assert_eq!(
        err["status"], "MISMATCH_REDIRECT_URI_AUTH_CODE",
        "redirect must equal the authorize one"
    );
    let code2 = code(&sim, &c, &[]).await;
    let err: Value =
        exchange(&sim, &c, &code2, &[("client_secret", "wrong")]).await.json().await.expect("json");
    assert_eq!(
        err["status"], "BAD_CLIENT_SECRET",
        "secret checked (last value of a repeated field wins)"
    );
    let err: Value = c
        .post(format!("{}/oauth/v3/token", sim.info.hubspot))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code2.as_str()),
            ("client_id", "x"),
            ("client_secret", "y"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (err["error"].as_str(), err["status"].as_str()),
        (Some("invalid_client"), Some("BAD_CLIENT_ID")),
        "unknown client"
    );
}

#[tokio::test]
async fn token_endpoint_takes_form_bodies_only() {
    let sim = sim().await;
    let c = client();
    let app = sim.info.hubspot_app.clone();
    let code = code(&sim, &c, &[]).await;
    let json_body = serde_json::json!({"grant_type": "authorization_code", "code": code,
        "redirect_uri": app.redirect_uris[0], "client_id": app.client_id, "client_secret": app.client_secret});
    let res = c
        .post(format!("{}/oauth/2026-03/token", sim.info.hubspot))
        .json(&json_body)
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 400, "JSON bodies are refused");
    let q = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", app.redirect_uris[0].as_str()),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
    ];
    let res = c
        .post(format!("{}/oauth/2026-03/token", sim.info.hubspot))
        .query(&q)
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 400, "query-only parameters are refused on the new endpoint");
    let res = c
        .post(format!("{}/oauth/v1/token", sim.info.hubspot))
        .query(&q)
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 200, "legacy v1 tolerates query parameters");
}

#[tokio::test]
async fn pkce_verifier_required_when_challenge_given() {
    let sim = sim().await;
    let c = client();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r7wW1gZYDYpeY8";
    let challenge = "xQRovK9Em6xBTgpv4nG76HiqUn5Vn8LrCIEiMTVd18g";
    let pkce = [("code_challenge", challenge), ("code_challenge_method", "S256")];
    let code1 = code(&sim, &c, &pkce).await;
    let res = exchange(&sim, &c, &code1, &[]).await;
    assert_eq!(res.status(), 400, "missing verifier refused");
    let code2 = code(&sim, &c, &pkce).await;
    let res = exchange(
        &sim,
        &c,
        &code2,
        &[("code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier")],
    )
    .await;
    assert_eq!(res.status(), 400, "wrong verifier refused");
    let code3 = code(&sim, &c, &pkce).await;
    let res = exchange(&sim, &c, &code3, &[("code_verifier", verifier)]).await;
    assert_eq!(res.status(), 200, "matching verifier accepted");
}

#[tokio::test]
async fn refresh_keeps_the_refresh_token_and_bad_ones_fail() {
    let sim = sim().await;
    let c = client();
    let app = sim.info.hubspot_app.clone();
    let code = code(&sim, &c, &[]).await;
    let first: Value = exchange(&sim, &c, &code, &[]).await.json().await.expect("json");
    let rt = first["refresh_token"].as_str().expect("rt").to_string();
    let refresh = |rt: String| {
        let c = c.clone();
        let url = format!("{}/oauth/2026-03/token", sim.info.hubspot);
        let app = app.clone();
        async move {
            c.post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                    ("client_id", app.client_id.as_str()),
                    ("client_secret", app.client_secret.as_str()),
                ])
                .send()
                .await
                .expect("refresh")
        }
    };
    let res = refresh(rt.clone()).await;
    assert_eq!(res.status(), 200, "refresh works");
    let second: Value = res.json().await.expect("json");
    assert_shape("token_response.json", &second, &[]);
    assert_eq!(
        second["refresh_token"].as_str(),
        Some(rt.as_str()),
        "HubSpot does not rotate refresh tokens"
    );
    assert_ne!(second["access_token"], first["access_token"], "a new access token");
    let err: Value = refresh(format!("{rt}x")).await.json().await.expect("json");
    assert_shape("oauth_error.json", &err, &[]);
    assert_eq!(err["status"], "BAD_REFRESH_TOKEN", "tampered refresh token");
    let at = second["access_token"].as_str().expect("at").to_string();
    let err: Value = refresh(at).await.json().await.expect("json");
    assert_eq!(err["status"], "BAD_REFRESH_TOKEN", "an access token is not a refresh token");
    let grants = sim.hubspot.stats().oauth_grants;
    assert_eq!(grants.get("authorization_code"), Some(&1), "one code exchanged: {grants:?}");
    assert_eq!(grants.get("refresh_token"), Some(&1), "refused refreshes are not counted");
    assert_eq!(sim.hubspot.stats().oauth_requests.get("token"), Some(&4), "every call counted");
    let over_http: Value = c
        .get(format!("{}/_sim/hubspot/stats", sim.info.hubspot))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(over_http["oauthGrants"]["refresh_token"], 1, "on the stats route: {over_http}");
}

#[tokio::test]
async fn introspect_revoke_and_v1_metadata() {
    let sim = sim().await;
    let c = client();
    let app = sim.info.hubspot_app.clone();
    let code = code(&sim, &c, &[]).await;
    let tokens: Value = exchange(&sim, &c, &code, &[]).await.json().await.expect("json");
    let at = tokens["access_token"].as_str().expect("at").to_string();
    let rt = tokens["refresh_token"].as_str().expect("rt").to_string();
    let introspect = |token: String| {
        let (c, app, url) = (
            c.clone(),
            app.clone(),
            format!("{}/oauth/2026-03/token/introspect", sim.info.hubspot),
        );
        async move {
            c.post(url)
                .form(&[
                    ("token", token.as_str()),
                    ("client_id", &app.client_id),
                    ("client_secret", &app.client_secret),
                ])
                .send()
                .await
                .expect("introspect")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let meta = introspect(at.clone()).await;
    assert_shape("introspect_response.json", &meta, &[]);
    assert_eq!(meta["user"], "admin@acme-demo.test", "the installing user");
    assert_eq!(meta["token_use"], "access_token", "access token");
    assert_eq!(meta["token"], at.as_str(), "the introspected token is echoed");
    let signed = &meta["signed_access_token"];
    assert_eq!(
        (&signed["hubId"], &signed["userId"], &signed["appId"]),
        (&meta["hub_id"], &meta["user_id"], &meta["app_id"]),
        "the signed access token describes the same grant: {signed}"
    );
    let refresh = introspect(rt.clone()).await;
    assert_eq!(refresh["token_use"], "refresh_token", "refresh token introspects too");
    assert_eq!(refresh["token"], rt.as_str(), "the refresh token is echoed");
    assert!(refresh.get("signed_access_token").is_none(), "only access tokens are signed");
    let v1: Value = c
        .get(format!("{}/oauth/v1/access-tokens/{at}", sim.info.hubspot))
        .send()
        .await
        .expect("v1")
        .json()
        .await
        .expect("json");
    assert_shape("v1_access_token_metadata.json", &v1, &[]);
    let res = c
        .post(format!("{}/oauth/2026-03/token/revoke", sim.info.hubspot))
        .form(&[
            ("token", rt.as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ])
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 200, "revoke answers 200");
    assert_eq!(introspect(rt).await["active"], false, "revoked refresh token is inactive");
    let res = c
        .get(format!("{}/crm/v3/objects/contacts", sim.info.hubspot))
        .bearer_auth(&at)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401, "revoking the refresh token revokes its access tokens");
}

#[tokio::test]
async fn account_info_has_the_reference_shape_and_needs_the_oauth_scope() {
    let sim = sim().await;
    let c = client();
    let body: Value = c
        .get(format!("{}/account-info/v3/details", sim.info.hubspot))
        .bearer_auth(token(&sim))
        .send()
        .await
        .expect("details")
        .json()
        .await
        .expect("json");
    assert_shape("account_details.json", &body, &[]);
    assert_eq!(body["portalId"], sim.hubspot.portal_id(), "main portal");
    let narrow = sim.hubspot.issue_tokens(&["crm.objects.contacts.read"]).access_token;
    let res = c
        .get(format!("{}/account-info/2026-03/details", sim.info.hubspot))
        .bearer_auth(narrow)
        .send()
        .await
        .expect("details");
    assert_eq!(res.status(), 403, "oauth scope required");
    let pat = &sim.info.hubspot_private_app_token;
    assert!(pat.starts_with("pat-sim-"), "private token is clearly simulated");
    let res = c
        .get(format!("{}/account-info/2026-03/details", sim.info.hubspot))
        .bearer_auth(pat)
        .send()
        .await
        .expect("details");
    assert_eq!(res.status(), 200, "private-app token works as a bearer token");
}

#[tokio::test]
async fn tokens_survive_a_restart_with_the_same_seed() {
    let sim = sim_with(|c| c.seed = 777).await;
    let c = client();
    let code = code(&sim, &c, &[]).await;
    let tokens: Value = exchange(&sim, &c, &code, &[]).await.json().await.expect("json");
    let app = sim.info.hubspot_app.clone();
    let pat = sim.info.hubspot_private_app_token.clone();
    sim.shutdown().await;
    let sim = sim_with(|c| c.seed = 777).await;
    assert_eq!(sim.info.hubspot_app.client_id, app.client_id, "same app after restart");
    assert_eq!(sim.info.hubspot_private_app_token, pat, "same private token after restart");
    let at = tokens["access_token"].as_str().expect("at");
    let res = c
        .get(format!("{}/crm/v3/objects/contacts?limit=1", sim.info.hubspot))
        .bearer_auth(at)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200, "the access token of the previous run still works");
    let res = c
        .post(format!("{}/oauth/2026-03/token", sim.info.hubspot))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().expect("rt")),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(res.status(), 200, "the refresh token of the previous run still works");
    sim.shutdown().await;
    let other = sim_with(|c| c.seed = 778).await;
    let res = c
        .get(format!("{}/crm/v3/objects/contacts?limit=1", other.info.hubspot))
        .bearer_auth(at)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401, "another seed does not accept the token");
}

#[tokio::test]
async fn revoke_all_tokens_is_an_uninstall() {
    let sim = sim().await;
    let c = client();
    let pair = sim.hubspot.issue_tokens(&SCOPES.split(' ').collect::<Vec<_>>());
    sim.hubspot.revoke_all_tokens();
    let res = c
        .get(format!("{}/crm/v3/objects/contacts", sim.info.hubspot))
        .bearer_auth(&pair.access_token)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401, "revoked access token");
    let app = &sim.info.hubspot_app;
    let err: Value = c
        .post(format!("{}/oauth/2026-03/token", sim.info.hubspot))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", pair.refresh_token.as_str()),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
        ])
        .send()
        .await
        .expect("refresh")
        .json()
        .await
        .expect("json");
    assert_eq!(err["status"], "BAD_REFRESH_TOKEN", "refresh after uninstall");
    let fresh = token(&sim);
    let res = c
        .get(format!("{}/crm/v3/objects/contacts", sim.info.hubspot))
        .bearer_auth(fresh)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200, "a token issued after the revoke works");
}
