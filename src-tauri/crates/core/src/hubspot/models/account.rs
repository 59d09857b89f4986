//! Account details (`GET /account-info/2026-03/details`).

use serde::Deserialize;

/// The portal's details (scope `oauth`, or any token for private apps).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AccountDetails {
    /// Portal (hub) id.
    pub portal_id: Option<u64>,
    /// e.g. `STANDARD`, `SANDBOX`, `DEVELOPER_TEST`.
    pub account_type: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Currency.
    pub company_currency: Option<String>,
    /// UI host, e.g. `app-eu1.hubspot.com`.
    pub ui_domain: Option<String>,
    /// Data hosting location, e.g. `na1`, `eu1`.
    pub data_hosting_location: Option<String>,
    /// UTC offset.
    pub utc_offset: Option<String>,
}
