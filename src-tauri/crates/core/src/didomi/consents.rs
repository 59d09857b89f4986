//! Reading Didomi users (consent status) page by page (didomi-api.md §2–3):
//! `GET /v1/consents/users?organization_id=…[&$cursor=…]` answers `{data, limit, cursor}` with
//! 100 users per page and `cursor: null` at the end. `/consents/*` is not rate limited (without
//! `$include_full_tree`, which is never sent here).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::didomi::client::DidomiClient;
use crate::didomi::error::Result;

/// One purpose choice of a user: `enabled` (`true`/`false`/`null`) and the selected preference
/// values, keyed by preference id.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PurposeChoice {
    /// Purpose id.
    pub id: String,
    /// `None` = no explicit choice on the purpose itself.
    pub enabled: Option<bool>,
    /// Preference id → `{ "value": "<valueId>[,<valueId>…]" }`.
    pub values: BTreeMap<String, PreferenceChoice>,
}

/// The selected values of one preference: a comma-separated string of value ids (`""` = the
/// user emptied the preference).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PreferenceChoice {
    /// Comma-separated value ids.
    pub value: String,
}

impl PreferenceChoice {
    /// The selected value ids (empty entries dropped).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.value.split(',').map(str::trim).filter(|s| !s.is_empty())
    }
}

/// A user's consents (only the parts the sync reads).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct UserConsents {
    /// Purpose choices.
    pub purposes: Vec<PurposeChoice>,
}

/// A Didomi user as `GET /v1/consents/users` returns it (fields the sync needs).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ConsentUser {
    /// Didomi user id.
    pub id: String,
    /// The organization's id for the user (an email for this integration); may be absent.
    pub organization_user_id: Option<String>,
    /// Record version.
    pub version: Option<u64>,
    /// ISO-8601 time of the last change (used to pick the newest of duplicate users).
    pub updated_at: Option<String>,
    /// Consent status.
    pub consents: UserConsents,
}

impl ConsentUser {
    /// The purpose choice for `purpose_id`, if the user has one.
    pub fn purpose(&self, purpose_id: &str) -> Option<&PurposeChoice> {
        self.consents.purposes.iter().find(|p| p.id == purpose_id)
    }
}

/// The fields of a listed user that decide which user owns an email (the push's scan reads
/// only these: the consents, most of each user's bytes, are skipped without being built).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct UserKey {
    /// Didomi user id.
    pub id: String,
    /// The organization's id for the user (an email for this integration); may be absent.
    pub organization_user_id: Option<String>,
    /// ISO-8601 time of the last change.
    pub updated_at: Option<String>,
}

/// One page of users: whole users ([`ConsentUser`]) or only their keys ([`UserKey`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UsersPage<U = ConsentUser> {
    /// The users.
    pub data: Vec<U>,
    /// Page size.
    pub limit: Option<u64>,
    /// Cursor of the next page; `None` at the end.
    pub cursor: Option<String>,
}

impl DidomiClient {
    /// One page of the organization's users; pass the previous page's `cursor` to go on.
    ///
    /// # Errors
    /// See [`crate::didomi::Error`].
    pub async fn users_page<U: serde::de::DeserializeOwned + Default>(
        &self,
        cursor: Option<&str>,
    ) -> Result<UsersPage<U>> {
        let org = self.organization_id().to_owned();
        let mut query: Vec<(&str, &str)> = vec![("organization_id", &org)];
        if let Some(c) = cursor {
            query.push(("$cursor", c));
        }
        self.get("/v1/consents/users", &query).await
    }

    /// The users whose `organization_user_id` is exactly `ouid` (usually zero or one): Didomi's
    /// `organization_user_id` filter, one request, whatever the number of users.
    ///
    /// # Errors
    /// See [`crate::didomi::Error`].
    pub async fn users_by_organization_user_id(&self, ouid: &str) -> Result<Vec<ConsentUser>> {
        let org = self.organization_id().to_owned();
        let page: UsersPage = self
            .get("/v1/consents/users", &[("organization_id", &org), ("organization_user_id", ouid)])
            .await?;
        Ok(page.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reference_user() {
        let u: ConsentUser = serde_json::from_str(
            r#"{"id":"6f1d","organization_id":"acme","organization_user_id":"jane@example.com",
            "version":4,"updated_at":"2024-05-18T16:02:10.004Z","metadata":{},
            "consents":{"purposes":[{"id":"newsletter-Ab12Cd","enabled":true,"values":{
            "topics-Xy34Zw":{"value":"sports-1a2b,travel-3c4d"},"frequency-Qr56St":{"value":"weekly-5e6f"}}},
            {"id":"sms_marketing-Ef78Gh","enabled":null}],
            "vendors":{"enabled":[],"disabled":[],"enabled_li":[],"disabled_li":[]}}}"#,
        )
        .expect("the reference example parses");
        let p = u.purpose("newsletter-Ab12Cd").expect("purpose present");
        assert_eq!(p.enabled, Some(true), "enabled kept");
        let ids: Vec<_> = p.values["topics-Xy34Zw"].ids().collect();
        assert_eq!(ids, ["sports-1a2b", "travel-3c4d"], "comma-separated value ids split");
        assert_eq!(u.purpose("sms_marketing-Ef78Gh").unwrap().enabled, None, "null is None");
        let page: UsersPage =
            serde_json::from_str(r#"{"data":[],"limit":100,"cursor":null}"#).expect("page");
        assert!(page.cursor.is_none(), "null cursor ends paging");
    }

    proptest::proptest! {
        /// The scan reads users as [`UserKey`]s, the writing pass as whole [`ConsentUser`]s:
        /// both must see the same id, email and change time, or they would pick different
        /// owners for a shared email.
        #[test]
        fn a_user_key_reads_what_the_whole_user_reads(
            id in "[a-zA-Z0-9-]{0,12}",
            ouid in proptest::option::of("[ -~àé]{0,20}"),
            updated in proptest::option::of("2026-0[1-9]-1[0-9]T0[0-9]:00:00(\\.[0-9]{3})?Z"),
            enabled in proptest::option::of(proptest::bool::ANY),
            ouid_first in proptest::bool::ANY,
        ) {
            let mut fields = vec![
                format!("\"id\":{}", serde_json::json!(id)),
                format!("\"updated_at\":{}", serde_json::json!(updated)),
                format!(
                    "\"consents\":{{\"purposes\":[{{\"id\":\"p\",\"enabled\":{},\"values\":{{\"q\":{{\"value\":\"a,b\"}}}}}}],\"vendors\":{{\"enabled\":[]}}}}",
                    serde_json::json!(enabled)
                ),
                "\"metadata\":{\"nested\":[1,{\"id\":\"not this\"}]}".to_owned(),
            ];
            let o = format!("\"organization_user_id\":{}", serde_json::json!(ouid));
            if ouid_first { fields.insert(0, o) } else { fields.push(o) }
            let body = format!("{{\"data\":[{{{}}}],\"cursor\":\"c\"}}", fields.join(","));
            let whole: UsersPage = serde_json::from_str(&body).expect("whole");
            let keys: UsersPage<UserKey> = serde_json::from_str(&body).expect("keys");
            let (w, k) = (&whole.data[0], &keys.data[0]);
            proptest::prop_assert_eq!(&w.id, &k.id);
            proptest::prop_assert_eq!(&w.organization_user_id, &k.organization_user_id);
            proptest::prop_assert_eq!(&w.updated_at, &k.updated_at);
            proptest::prop_assert_eq!(&whole.cursor, &keys.cursor);
        }
    }
}
