//! HubSpot wire types (request and response bodies), kept apart from the request code.

pub mod account;
pub mod error;
pub mod property;
pub mod token;

pub use account::AccountDetails;
pub use error::{ApiErrorBody, OAuthErrorBody};
pub use property::{Property, PropertyCreate, PropertyGroup, PropertyGroupCreate, PropertyOption};
pub use token::{HubSpotTokenFields, HubSpotTokenResponse, TokenInfo};
