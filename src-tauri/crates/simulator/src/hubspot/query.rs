//! Query-string extraction in HubSpot's manner: a list parameter may be sent comma-separated
//! (`properties=a,b`) or repeated (`properties=a&properties=b`), and a malformed query is a 400
//! with HubSpot's standard error body rather than axum's plain-text rejection.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::Uri;
use serde::de::DeserializeOwned;

use super::errors::ApiError;

/// Like `axum::extract::Query`, merging repeated keys with commas.
#[derive(Debug, Clone)]
pub struct HsQuery<T>(pub T);

/// Merges repeated keys of a raw query string (`a=1&a=2` → `a=1,2`), keeping first-seen order.
pub fn merge_repeated(raw: &str) -> String {
    let mut merged: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        match merged.iter_mut().find(|(x, _)| *x == k) {
            Some(e) => {
                e.1.push(',');
                e.1.push_str(&v);
            }
            None => merged.push((k.into_owned(), v.into_owned())),
        }
    }
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&merged).finish()
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for HsQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let merged = merge_repeated(parts.uri.query().unwrap_or(""));
        let uri: Uri = format!("/?{merged}")
            .parse()
            .map_err(|e| ApiError::validation(format!("Invalid query string: {e}")))?;
        Query::<T>::try_from_uri(&uri)
            .map(|Query(t)| HsQuery(t))
            .map_err(|e| ApiError::validation(format!("Invalid query string: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_merge() {
        assert_eq!(
            merge_repeated("properties=a&limit=2&properties=b%2Cc"),
            "properties=a%2Cb%2Cc&limit=2",
            "repeats joined with commas, other keys kept"
        );
    }
}
