//! Reading the organization's PMP configuration (didomi-api.md §4): purposes, the preferences
//! library and the configuration tree. Lists are paged with `$limit`/`$skip`.

use serde::de::DeserializeOwned;

use crate::didomi::client::DidomiClient;
use crate::didomi::error::Result;
use crate::didomi::models::{ConfigTree, Page, Preference, Purpose};

/// Page size (the docs say "usually has to be lower than 100").
const PAGE: usize = 100;
/// Safety stop for paging loops.
const MAX_PAGES: usize = 100;

impl DidomiClient {
    async fn all_pages<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>> {
        let org = self.organization_id().to_owned();
        let limit = PAGE.to_string();
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let skip = out.len().to_string();
            let page: Page<T> = self
                .get(path, &[("organization_id", &org), ("$limit", &limit), ("$skip", &skip)])
                .await?;
            let n = page.data.len();
            out.extend(page.data);
            let total = page.total.map(|t| t as usize);
            if n == 0 || total.is_some_and(|t| out.len() >= t) || (total.is_none() && n < PAGE) {
                break;
            }
        }
        Ok(out)
    }

    /// The organization's purposes (plus global ones Didomi returns).
    ///
    /// # Errors
    /// See [`crate::didomi::Error`].
    pub async fn list_purposes(&self) -> Result<Vec<Purpose>> {
        self.all_pages("/v1/metadata/purposes").await
    }

    /// The preferences library.
    ///
    /// # Errors
    /// See [`crate::didomi::Error`].
    pub async fn list_preferences(&self) -> Result<Vec<Preference>> {
        self.all_pages("/v1/preferences").await
    }

    /// The configuration tree (`None` when the organization has none yet).
    ///
    /// # Errors
    /// See [`crate::didomi::Error`].
    pub async fn config_tree(&self) -> Result<Option<ConfigTree>> {
        let org = self.organization_id().to_owned();
        let trees: Vec<ConfigTree> =
            self.get("/v1/config-trees", &[("organization_id", &org)]).await?;
        Ok(trees.into_iter().next())
    }
}
