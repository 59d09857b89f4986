//! A tiny stand-in for the HubSpot contacts UI, so the bidirectional flow can be tried offline
//! in Sandbox: `GET /_sim/hubspot/portal` lists the main portal's contacts (search box on email
//! and name, 50 at a time), `?contact=<id>` shows one contact with every property and a form
//! to edit one, and `POST /_sim/hubspot/portal/edit` (form `id`, `property`, `value`) applies the
//! edit as a person would (history `sourceType` `CRM_UI`) — so the [`super::workflow`] fires
//! when the property is one of its triggers. No auth (a `/_sim/` route).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Form;
use serde::Deserialize;

use super::consent_page::escape;
use super::store::value_of;
use super::HubSpot;

/// Contacts listed per page.
pub const PAGE: usize = 50;

#[derive(Debug, Deserialize)]
struct EditForm {
    id: u64,
    property: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    q: String,
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}}\
         .err{{color:#b00020}}</style></head><body><p>Simulated HubSpot portal (Sandbox)</p>{body}</body></html>",
        escape(title)
    )
}

fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The list (and, with `contact`, the detail) page.
fn render(hs: &HubSpot, q: &HashMap<String, String>) -> String {
    let search = q.get("q").map(String::as_str).unwrap_or("").trim().to_lowercase();
    let crm = hs.crm_read();
    let mut body = String::new();
    if let Some(err) = q.get("error") {
        body.push_str(&format!("<p class=\"err\" id=\"error\">{}</p>", escape(err)));
    }
    if let Some(done) = q.get("saved") {
        body.push_str(&format!("<p id=\"saved\">Saved {}.</p>", escape(done)));
    }
    body.push_str(&format!(
        "<h1>Contacts</h1><form method=\"get\" action=\"/_sim/hubspot/portal\">\
         <label>Search <input id=\"q\" name=\"q\" value=\"{}\"></label> <button>Search</button></form>",
        escape(&search)
    ));
    let idx = |n: &str| crm.props.index(n);
    let (email, first, last, counter) =
        (idx("email"), idx("firstname"), idx("lastname"), idx(super::workflow::DEFAULT_COUNTER));
    let get = |c: &super::store::Contact, i: Option<u16>| {
        i.and_then(|i| c.stored(i)).unwrap_or("").to_owned()
    };
    let rows: Vec<String> = crm
        .contacts
        .iter()
        .filter(|(_, c)| !c.archived())
        .filter(|(_, c)| {
            search.is_empty()
                || [email, first, last]
                    .iter()
                    .any(|i| get(c, *i).to_lowercase().contains(&search))
        })
        .take(PAGE)
        .map(|(id, c)| {
            format!(
                "<tr><td><a href=\"/_sim/hubspot/portal?contact={id}&q={}\">{id}</a></td><td>{}</td><td>{} {}</td><td>{}</td></tr>",
                url_escape(&search),
                escape(&get(c, email)),
                escape(&get(c, first)),
                escape(&get(c, last)),
                escape(&get(c, counter)),
            )
        })
        .collect();
    body.push_str(&format!(
        "<table id=\"contacts\"><tr><th>Id</th><th>Email</th><th>Name</th><th>Didomi Changed</th></tr>{}</table>",
        rows.join("")
    ));
    if rows.is_empty() {
        body.push_str("<p id=\"empty\">No contact matches.</p>");
    }
    let selected = q.get("contact").and_then(|s| s.parse::<u64>().ok());
    if let Some((id, c)) = selected.and_then(|id| crm.contacts.get(id).map(|c| (id, c))) {
        let mut props = String::new();
        let mut options = String::new();
        for (i, p) in crm.props.all().iter().enumerate() {
            if p.archived {
                continue;
            }
            if let Some(v) = value_of(&crm.props, id, c, i as u16) {
                props.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&p.label),
                    escape(&p.name),
                    escape(&v)
                ));
            }
            if !p.read_only_value() && !super::store::COMPUTED.contains(&p.name.as_str()) {
                options.push_str(&format!(
                    "<option value=\"{}\">{} ({})</option>",
                    escape(&p.name),
                    escape(&p.label),
                    escape(&p.name)
                ));
            }
        }
        body.push_str(&format!(
            "<h2 id=\"contact\">Contact {id}</h2><table id=\"properties\"><tr><th>Label</th><th>Name</th><th>Value</th></tr>{props}</table>\
             <h3>Edit a property</h3><form method=\"post\" action=\"/_sim/hubspot/portal/edit\">\
             <input type=\"hidden\" name=\"id\" value=\"{id}\"><input type=\"hidden\" name=\"q\" value=\"{}\">\
             <label>Property <select id=\"property\" name=\"property\">{options}</select></label> \
             <label>Value <input id=\"value\" name=\"value\"></label> <button id=\"save\">Save</button></form>",
            escape(&search)
        ));
    }
    page("Contacts", &body)
}

async fn list(
    State(hs): State<Arc<HubSpot>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    Html(render(&hs, &q)).into_response()
}

async fn edit(State(hs): State<Arc<HubSpot>>, Form(f): Form<EditForm>) -> Response {
    let back = match hs.set_property_value_as_user(f.id, &f.property, &f.value) {
        Ok(()) => format!(
            "/_sim/hubspot/portal?contact={}&q={}&saved={}",
            f.id,
            url_escape(&f.q),
            url_escape(&f.property)
        ),
        Err(m) => format!(
            "/_sim/hubspot/portal?contact={}&q={}&error={}",
            f.id,
            url_escape(&f.q),
            url_escape(&m)
        ),
    };
    (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response()
}

/// The portal page routes.
pub fn routes() -> axum::Router<Arc<HubSpot>> {
    axum::Router::new()
        .route("/_sim/hubspot/portal", get(list))
        .route("/_sim/hubspot/portal/edit", post(edit))
}
