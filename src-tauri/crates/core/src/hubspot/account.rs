//! Account card data: the portal's details (`GET /account-info/2026-03/details`). Token metadata
//! (hub domain, user, scopes) comes from introspection in [`crate::hubspot::oauth`].

use crate::hubspot::client::HubSpotClient;
use crate::hubspot::error::Result;
use crate::hubspot::models::AccountDetails;
use crate::hubspot::paths;

impl HubSpotClient {
    /// The connected portal's details (portal id, UI domain, time zone...). Also a cheap way to
    /// validate a token.
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`].
    pub async fn account_details(&self) -> Result<AccountDetails> {
        self.get(&paths::account_details(), &[]).await
    }
}

/// Scopes of `required` missing from `granted`.
pub fn missing_scopes(required: &[&str], granted: &[String]) -> Vec<String> {
    required.iter().filter(|r| !granted.iter().any(|g| g == *r)).map(|r| (*r).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn missing_scopes_lists_the_gap() {
        let granted = vec!["oauth".to_owned(), "crm.objects.contacts.read".to_owned()];
        let m = super::missing_scopes(
            &["oauth", "crm.objects.contacts.read", "crm.schemas.contacts.write"],
            &granted,
        );
        assert_eq!(m, vec!["crm.schemas.contacts.write".to_owned()], "only the missing one");
    }
}
