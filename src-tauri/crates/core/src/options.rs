//! The Options screen's rules (pure parts): reading the HubSpot account identifier the admin
//! gives to enable the bidirectional flow, the "Didomi Changed" property definition, and the
//! DTO returned when the flow is enabled. The facade (`Configuration::options_*`) does the I/O.

use serde::Serialize;
use ts_rs::TS;

use crate::hubspot::models::{Property, PropertyCreate, PropertyGroupCreate};
use crate::settings::SyncOptions;

/// What enabling the bidirectional flow did.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BidirectionalSetup {
    /// The options after the change.
    pub options: SyncOptions,
    /// The property group was created now (`false`: it existed).
    pub group_created: bool,
    /// The "Didomi Changed" property was created now (`false`: an existing one is reused).
    pub property_created: bool,
    /// Internal name of the "Didomi Changed" property.
    pub property_name: String,
}

/// The HubSpot account (portal) id in `input`: the number itself, or a pasted HubSpot URL whose
/// path carries it (`https://app-eu1.hubspot.com/contacts/146310066/objects/0-1/views/all/list`
/// → 146310066; the first path segment made only of digits).
///
/// # Errors
/// A message saying what is wrong and what to paste.
pub fn parse_account_id(input: &str) -> Result<u64, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err("Enter the HubSpot account id (the number in HubSpot's account menu) or paste a HubSpot page URL".into());
    }
    let digits = text.replace([' ', '\u{a0}'], "");
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        return digits.parse::<u64>().ok().filter(|id| *id > 0).ok_or_else(|| {
            format!("\"{text}\" is not a valid HubSpot account id: it must be a positive number")
        });
    }
    let with_scheme =
        if text.contains("://") { text.to_owned() } else { format!("https://{text}") };
    let url = url::Url::parse(&with_scheme).map_err(|_| {
        format!("\"{text}\" is neither an account id nor a URL. Enter the number, or paste the URL of any page of the HubSpot account")
    })?;
    let id = url
        .path_segments()
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|id| *id > 0);
    id.ok_or_else(|| {
        format!("The URL \"{text}\" carries no account id in its path. Paste the URL of a HubSpot page such as the contacts list (…/contacts/<account id>/…), or enter the number")
    })
}

/// Label of the "Didomi Changed" property.
pub const DIDOMI_CHANGED_LABEL: &str = "Didomi Changed";

/// The "Didomi Changed" number property to create (hubspot-api.md §2.5).
pub fn didomi_changed_property(name: &str, group: &str) -> PropertyCreate {
    PropertyCreate {
        name: name.to_owned(),
        label: DIDOMI_CHANGED_LABEL.into(),
        type_: "number".into(),
        field_type: "number".into(),
        group_name: group.to_owned(),
        description: Some(
            "Raised by a HubSpot workflow when a contact's Didomi properties change; the app pulls those contacts back into Didomi".into(),
        ),
        options: Vec::new(),
        form_field: Some(false),
    }
}

/// The Didomi property group to create.
pub fn didomi_group(name: &str) -> PropertyGroupCreate {
    PropertyGroupCreate { name: name.to_owned(), label: "Didomi".into(), display_order: Some(-1) }
}

/// `true` when an existing property can serve as "Didomi Changed": a number.
pub fn is_counter(p: &Property) -> bool {
    p.type_ == "number" && p.field_type == "number" && !p.archived
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_id_from_number_or_url() {
        let ok = [
            ("146310066", 146310066),
            (" 146 310 066 ", 146310066),
            (
                "https://app-eu1.hubspot.com/contacts/146310066/objects/0-1/views/all/list",
                146310066,
            ),
            ("app.hubspot.com/reports-dashboard/4242/view/1", 4242),
            ("https://app.hubspot.com/contacts/99/record/0-1/1234?x=1", 99),
        ];
        for (input, want) in ok {
            assert_eq!(parse_account_id(input), Ok(want), "{input}");
        }
        for bad in
            ["", "  ", "0", "abc", "https://app.hubspot.com/contacts/", "99999999999999999999999"]
        {
            let e = parse_account_id(bad).expect_err(bad);
            assert!(
                !e.is_empty()
                    && (e.contains("Enter") || e.contains("Paste") || e.contains("number")),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn counter_definition() {
        let c = didomi_changed_property("didomi_changed", "didomi");
        assert_eq!((c.type_.as_str(), c.field_type.as_str()), ("number", "number"), "a number");
        assert_eq!(c.group_name, "didomi", "in the group");
        let p =
            Property { type_: "number".into(), field_type: "number".into(), ..Default::default() };
        assert!(is_counter(&p), "number/number reused");
        let t =
            Property { type_: "string".into(), field_type: "text".into(), ..Default::default() };
        assert!(!is_counter(&t), "a text is a conflict");
    }
}
