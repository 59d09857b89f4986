//! The HTML of the simulated consent screen: account picker (`<select name="account">`), Grant
//! (`<button id="grant" name="decision" value="grant">`) and Deny (`id="deny"`) in a form that
//! POSTs to `/oauth/authorize/decision` with the original query in hidden fields; plus the error
//! and "declined" pages.

use std::collections::HashMap;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const CARRIED: &[&str] = &[
    "client_id",
    "redirect_uri",
    "scope",
    "optional_scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
<style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto}}button{{margin-right:1rem}}</style>\
</head><body>{body}</body></html>\n",
        escape(title)
    )
}

/// The consent page for the given authorize query and the accounts the user can pick.
pub fn consent_page(q: &HashMap<String, String>, accounts: &[(u64, &str)]) -> String {
    let mut hidden = String::new();
    for k in CARRIED {
        if let Some(v) = q.get(*k) {
            hidden.push_str(&format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">\n",
                escape(v)
            ));
        }
    }
    let options: String = accounts
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            format!(
                "<option value=\"{id}\"{}>{} ({id})</option>",
                if i == 0 { " selected" } else { "" },
                escape(name)
            )
        })
        .collect();
    let scopes: String = q
        .get("scope")
        .map(|s| {
            s.split([' ', '+'])
                .filter(|x| !x.is_empty())
                .map(|x| format!("<li>{}</li>", escape(x)))
                .collect()
        })
        .unwrap_or_default();
    page(
        "Connect app — HubSpot (simulated)",
        &format!(
            "<h1>Connect Didomi HubSpot Sync to HubSpot</h1>\n<p>Choose an account</p>\n\
<form method=\"post\" action=\"/oauth/authorize/decision\">\n{hidden}\
<label for=\"account\">Account</label> <select id=\"account\" name=\"account\">{options}</select>\n\
<p>This app will be able to:</p><ul>{scopes}</ul>\n\
<button id=\"grant\" type=\"submit\" name=\"decision\" value=\"grant\">Connect app</button>\
<button id=\"deny\" type=\"submit\" name=\"decision\" value=\"deny\">Cancel</button>\n</form>"
        ),
    )
}

/// The page shown for an invalid authorize request (no redirect, like HubSpot).
pub fn error_page(message: &str) -> String {
    page(
        "Authorization error",
        &format!("<h1>Something went wrong</h1><p id=\"error\">{}</p>", escape(message)),
    )
}

/// The page shown after the user declined (HubSpot sends no request to the app).
pub fn declined_page() -> String {
    page(
        "Installation cancelled",
        "<h1 id=\"declined\">Installation cancelled</h1><p>The app was not connected. You can close this window.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_query_and_escapes() {
        let mut q = HashMap::new();
        q.insert("state".to_string(), "a\"<b>".to_string());
        q.insert("scope".to_string(), "oauth crm.objects.contacts.read".to_string());
        let html = consent_page(&q, &[(1, "Acme <Demo>"), (2, "Other")]);
        assert!(
            html.contains("name=\"state\" value=\"a&quot;&lt;b&gt;\""),
            "state carried, escaped: {html}"
        );
        assert!(html.contains("Acme &lt;Demo&gt;"), "account names escaped");
        assert!(html.contains("id=\"grant\"") && html.contains("id=\"deny\""), "both buttons");
        assert!(html.contains("<li>crm.objects.contacts.read</li>"), "scopes listed");
    }
}
