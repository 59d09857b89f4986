//! HubSpot: OAuth install (loopback listener, PKCE, paste fallback), token refresh, private-app
//! tokens, and the typed API client.
//!
//! Files: [`client`] (bearer auth, single-flight refresh, error parsing), [`error`],
//! [`oauth`] (authorize URL, code/refresh exchanges, revoke, introspect, paste parsing),
//! [`loopback`] (the one-shot callback listener), [`account`] (account card data),
//! [`properties`] (contact properties and groups), [`models`] (wire types).
//!
//! Every path is built from [`API_VERSION`] in [`paths`]: change the date there to move to a
//! newer HubSpot API version.

pub mod account;
pub mod client;
pub mod contacts;
pub mod error;
pub mod loopback;
pub mod models;
pub mod oauth;
pub mod properties;
pub mod search;

pub use client::{HubSpotClient, RefreshStats};
pub use error::{Error, Result};

/// The HubSpot date-based API version used for every call.
pub const API_VERSION: &str = "2026-03";

/// Scopes requested at install and required to sync (hubspot-api.md §1.1).
pub const REQUIRED_SCOPES: &[&str] = &[
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
];

/// Every API path, built from [`API_VERSION`].
pub mod paths {
    use super::API_VERSION;

    /// Authorize page (on the app host, not versioned: hubspot-api.md §1.2).
    pub const AUTHORIZE: &str = "/oauth/authorize";

    /// `POST` token endpoint (code and refresh grants).
    pub fn token() -> String {
        format!("/oauth/{API_VERSION}/token")
    }

    /// `POST` token introspection.
    pub fn introspect() -> String {
        format!("/oauth/{API_VERSION}/token/introspect")
    }

    /// `POST` token revocation.
    pub fn revoke() -> String {
        format!("/oauth/{API_VERSION}/token/revoke")
    }

    /// `GET` account details (portal id, uiDomain...).
    pub fn account_details() -> String {
        format!("/account-info/{API_VERSION}/details")
    }

    /// Contact properties collection.
    pub fn contact_properties() -> String {
        format!("/crm/properties/{API_VERSION}/contacts")
    }

    /// One contact property.
    pub fn contact_property(name: &str) -> String {
        format!("/crm/properties/{API_VERSION}/contacts/{}", encode(name))
    }

    /// Contact property groups collection.
    pub fn contact_property_groups() -> String {
        format!("/crm/properties/{API_VERSION}/contacts/groups")
    }

    /// One contact property group.
    pub fn contact_property_group(name: &str) -> String {
        format!("/crm/properties/{API_VERSION}/contacts/groups/{}", encode(name))
    }

    /// Contacts collection.
    pub fn contacts() -> String {
        format!("/crm/objects/{API_VERSION}/contacts")
    }

    /// Percent-encodes one path segment (property names are `[a-z0-9_]`, but be safe).
    fn encode(segment: &str) -> String {
        let mut out = String::with_capacity(segment.len());
        for b in segment.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn paths_carry_the_date_version() {
            assert_eq!(super::token(), "/oauth/2026-03/token", "token path");
            assert_eq!(super::revoke(), "/oauth/2026-03/token/revoke", "revoke path");
            assert_eq!(super::introspect(), "/oauth/2026-03/token/introspect", "introspect");
            assert_eq!(super::contact_properties(), "/crm/properties/2026-03/contacts", "props");
            assert_eq!(super::contacts(), "/crm/objects/2026-03/contacts", "contacts");
            assert_eq!(
                super::contact_property("a b"),
                "/crm/properties/2026-03/contacts/a%20b",
                "enc"
            );
        }
    }
}
