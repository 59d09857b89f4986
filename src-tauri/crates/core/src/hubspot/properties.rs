//! Contact properties and property groups (hubspot-api.md §2): list (used by the Connect check),
//! read one, create properties and groups, list and read archived properties (to tell an
//! archived mapping target from a deleted one), archive a property.

use reqwest::Method;

use crate::hubspot::client::HubSpotClient;
use crate::hubspot::error::{Error, Result};
use crate::hubspot::models::property::Results;
use crate::hubspot::models::{Property, PropertyCreate, PropertyGroup, PropertyGroupCreate};
use crate::hubspot::paths;

impl HubSpotClient {
    /// Every (non-archived, non-sensitive) contact property. The list is not paged.
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`] (403 `MISSING_SCOPES` without `crm.schemas.contacts.read`).
    pub async fn list_contact_properties(&self) -> Result<Vec<Property>> {
        let r: Results<Property> = self.get(&paths::contact_properties(), &[]).await?;
        Ok(r.results)
    }

    /// One contact property; `None` when it does not exist (404).
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn get_contact_property(&self, name: &str) -> Result<Option<Property>> {
        match self.get(&paths::contact_property(name), &[]).await {
            Ok(p) => Ok(Some(p)),
            Err(Error::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a contact property (201). An existing name answers 409 (`CONFLICT`).
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn create_contact_property(&self, property: &PropertyCreate) -> Result<Property> {
        self.post(&paths::contact_properties(), property).await
    }

    /// Every contact property group.
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn list_contact_property_groups(&self) -> Result<Vec<PropertyGroup>> {
        let r: Results<PropertyGroup> = self.get(&paths::contact_property_groups(), &[]).await?;
        Ok(r.results)
    }

    /// One property group; `None` when it does not exist.
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn get_contact_property_group(&self, name: &str) -> Result<Option<PropertyGroup>> {
        match self.get(&paths::contact_property_group(name), &[]).await {
            Ok(g) => Ok(Some(g)),
            Err(Error::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a contact property group (201; 409 when it exists).
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn create_contact_property_group(
        &self,
        group: &PropertyGroupCreate,
    ) -> Result<PropertyGroup> {
        self.send(Method::POST, &paths::contact_property_groups(), &[], Some(group)).await
    }

    /// The archived contact properties (`?archived=true`).
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn list_archived_contact_properties(&self) -> Result<Vec<Property>> {
        let r: Results<Property> =
            self.get(&paths::contact_properties(), &[("archived", "true")]).await?;
        Ok(r.results)
    }

    /// One archived contact property; `None` when no archived property has that name.
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn get_archived_contact_property(&self, name: &str) -> Result<Option<Property>> {
        match self.get(&paths::contact_property(name), &[("archived", "true")]).await {
            Ok(p) => Ok(Some(p)),
            Err(Error::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Archives (HubSpot's "delete") a contact property (204).
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`] (404 unknown, 400 not archivable).
    pub async fn archive_contact_property(&self, name: &str) -> Result<()> {
        self.send(Method::DELETE, &paths::contact_property(name), &[], None::<&()>).await
    }
}
