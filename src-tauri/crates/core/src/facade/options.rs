//! Options screen operations of the facade: upsert mode and the bidirectional flow (which
//! creates, idempotently, the Didomi property group and the "Didomi Changed" number property).

use super::Configuration;
use crate::error::{Error, ErrorCode};
use crate::hubspot::HubSpotClient;
use crate::options::{
    didomi_changed_property, didomi_group, is_counter, parse_account_id, BidirectionalSetup,
};
use crate::settings::SyncOptions;

impl Configuration {
    /// Turns upsert mode on or off (a push then creates contacts for unmatched emails, or skips
    /// and counts them) and saves it.
    ///
    /// # Errors
    /// `SettingsInvalid` when the settings cannot be saved.
    pub async fn options_set_upsert(&self, on: bool) -> Result<SyncOptions, Error> {
        self.shared.update_settings(|s| s.options.upsert = on)?;
        Ok(self.shared.settings().options)
    }

    /// Enables the bidirectional flow. `account` = the HubSpot account id or a pasted HubSpot URL
    /// (id taken from the path); it must equal the connected portal id, else
    /// `BidirectionalAccountMismatch` naming both ids and nothing is enabled. Then the property
    /// group and the "Didomi Changed" number property are created if absent: an existing one of
    /// the right type is reused; the same name with another type → `PropertyConflict`, left
    /// untouched and the flow stays off.
    ///
    /// # Errors
    /// `InvalidInput`, `HubSpotNotConnected`, `BidirectionalAccountMismatch`, `PropertyConflict`,
    /// HubSpot API errors, `SettingsInvalid`.
    pub async fn options_enable_bidirectional(
        &self,
        account: String,
    ) -> Result<BidirectionalSetup, Error> {
        let given = parse_account_id(&account).map_err(Error::invalid_input)?;
        let client = self.conn.hubspot().await?;
        let connected = self.shared.settings().hubspot.portal_id.ok_or_else(|| {
            Error::new(
                ErrorCode::HubSpotNotConnected,
                "The connected HubSpot account's id is unknown. Reconnect HubSpot on the Connect screen, then try again",
            )
        })?;
        if given != connected {
            return Err(Error::new(
                ErrorCode::BidirectionalAccountMismatch,
                format!(
                    "The account {given} is not the connected HubSpot account {connected}. Enter {connected} (or paste a URL of that account), or connect account {given} on the Connect screen first. The bidirectional flow was not enabled"
                ),
            ));
        }
        let options = self.shared.settings().options;
        let name = options.didomi_changed_property.clone();
        // Check the property BEFORE creating anything, so a conflict leaves HubSpot untouched.
        let existing = client.get_contact_property(&name).await?;
        if let Some(p) = &existing {
            if !is_counter(p) {
                return Err(conflict(&name, &format!("{}/{}", p.type_, p.field_type)));
            }
        } else if let Some(p) = client.get_archived_contact_property(&name).await? {
            return Err(Error::new(
                ErrorCode::PropertyConflict,
                format!(
                    "An archived HubSpot property is named \"{name}\" ({}/{}). Restore it in HubSpot (Settings → Properties → Archived) if it is a number, or delete it for good, then enable again. Nothing was changed",
                    p.type_, p.field_type
                ),
            ));
        }
        let group_created = self.ensure_property_group(&client, &options.property_group).await?;
        let property_created = match existing {
            Some(_) => false,
            None => {
                match client
                    .create_contact_property(&didomi_changed_property(
                        &name,
                        &options.property_group,
                    ))
                    .await
                {
                    Ok(_) => true,
                    Err(e) if e.status() == Some(409) => {
                        // Created meanwhile (another app instance): reuse it if it is a number.
                        match client.get_contact_property(&name).await? {
                            Some(p) if is_counter(&p) => false,
                            Some(p) => {
                                return Err(conflict(
                                    &name,
                                    &format!("{}/{}", p.type_, p.field_type),
                                ))
                            }
                            None => return Err(e.into()),
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        self.shared.update_settings(|s| {
            s.options.bidirectional = true;
            s.options.hubspot_account_id = Some(connected);
        })?;
        tracing::info!(group_created, property_created, property = %name, "bidirectional flow enabled");
        Ok(BidirectionalSetup {
            options: self.shared.settings().options,
            group_created,
            property_created,
            property_name: name,
        })
    }

    /// Turns the bidirectional flow off. Deletes nothing in HubSpot (the group and the
    /// "Didomi Changed" property stay, with their values).
    ///
    /// # Errors
    /// `SettingsInvalid` when the settings cannot be saved.
    pub async fn options_disable_bidirectional(&self) -> Result<SyncOptions, Error> {
        self.shared.update_settings(|s| s.options.bidirectional = false)?;
        Ok(self.shared.settings().options)
    }

    /// Creates the contact property group `name` unless it exists; `true` when created now.
    pub(super) async fn ensure_property_group(
        &self,
        client: &HubSpotClient,
        name: &str,
    ) -> Result<bool, Error> {
        if client.get_contact_property_group(name).await?.is_some() {
            return Ok(false);
        }
        match client.create_contact_property_group(&didomi_group(name)).await {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(409) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

fn conflict(name: &str, found: &str) -> Error {
    Error::new(
        ErrorCode::PropertyConflict,
        format!(
            "The HubSpot property \"{name}\" exists as {found}, but the bidirectional flow needs a number. It was left untouched: rename or delete it in HubSpot, then enable again"
        ),
    )
}
