//! Contact search (hubspot-api.md §3.4) and the changed-contact finder of the pull.
//!
//! [`HubSpotClient::contacts_search`] sends one `POST …/contacts/search`. [`ChangedFinder`]
//! walks every contact modified since a watermark that has a "Didomi Changed" counter, with
//! **keyset windows** instead of offset paging, so it never meets the 10,000-result cap and
//! never skips a record that moves while it pages:
//!
//! - time mode: `lastmodifieddate GTE <boundary>` sorted ascending, `after` always 0; the
//!   records already seen at the boundary timestamp are skipped on the next page;
//! - when a page brings no record past the boundary (at least half a page shares one
//!   timestamp), id mode for that timestamp: `lastmodifieddate EQ <t> AND hs_object_id GT
//!   <last id>` sorted by id, until it runs dry; then time mode resumes with `GT <t>`.
//!
//! Every request moves a strictly increasing key (timestamp, then id), so the walk ends; a
//! record modified while the walk runs moves later and is met again (callers dedupe on the
//! counter). Cost: one search per page of new records, independent of the portal size.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::hubspot::client::HubSpotClient;
use crate::hubspot::error::Result;
use crate::hubspot::paths;

/// Largest search page.
pub const MAX_LIMIT: u32 = 200;

/// One search request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    /// OR of AND groups.
    pub filter_groups: Vec<Value>,
    /// One sort rule.
    pub sorts: Vec<Value>,
    /// Properties to return.
    pub properties: Vec<String>,
    /// Page size (≤ 200).
    pub limit: u32,
    /// Offset cursor (always `"0"` for the finder).
    pub after: String,
}

/// One contact of a search answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchRecord {
    /// Record id.
    pub id: String,
    /// Requested properties (`None` = unset).
    pub properties: BTreeMap<String, Option<String>>,
    /// Last modification (ISO 8601).
    pub updated_at: Option<String>,
}

impl SearchRecord {
    /// A property's value, `None` when unset or empty.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.properties.get(name).and_then(|v| v.as_deref()).filter(|v| !v.is_empty())
    }

    /// `lastmodifieddate` in epoch ms (falls back to `updatedAt`).
    pub fn modified_ms(&self) -> Option<i64> {
        self.value("lastmodifieddate").or(self.updated_at.as_deref()).and_then(parse_ms)
    }

    /// The record id as a number.
    pub fn numeric_id(&self) -> Option<u64> {
        self.id.parse().ok()
    }
}

/// A search answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchPage {
    /// Matches of the query.
    pub total: u64,
    /// This page.
    pub results: Vec<SearchRecord>,
}

/// Epoch ms of an ISO 8601 timestamp or a number of ms.
pub fn parse_ms(s: &str) -> Option<i64> {
    if let Ok(n) = s.trim().parse::<i64>() {
        return Some(n);
    }
    time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

impl HubSpotClient {
    /// `POST …/contacts/search`.
    ///
    /// # Errors
    /// See [`crate::hubspot::Error`] (a 429 here has `policyName: SECONDLY`).
    pub async fn contacts_search(&self, req: &SearchRequest) -> Result<SearchPage> {
        self.post_once(&format!("{}/search", paths::contacts()), req).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    /// `lastmodifieddate GTE from` (or `GT` when not inclusive).
    Time { from: i64, inclusive: bool },
    /// `lastmodifieddate EQ at AND hs_object_id GT after_id`.
    Ids { at: i64, after_id: u64 },
}

/// Walks the contacts with a counter modified since a watermark (see the module docs).
#[derive(Debug, Clone)]
pub struct ChangedFinder {
    counter: String,
    properties: Vec<String>,
    limit: u32,
    cursor: Cursor,
    /// Largest `lastmodifieddate` seen, and the ids seen at it.
    boundary: i64,
    boundary_ids: HashSet<u64>,
    done: bool,
    requests: u64,
}

impl ChangedFinder {
    /// A walk of the contacts whose `counter` is set and that were modified at or after
    /// `since_ms`, returning `properties` (plus the counter, email and modification date).
    pub fn new(counter: &str, properties: &[String], since_ms: i64, limit: u32) -> Self {
        let mut props: Vec<String> = properties.to_vec();
        for p in [counter, "email", "lastmodifieddate", "hs_object_id"] {
            if !props.iter().any(|x| x == p) {
                props.push(p.to_owned());
            }
        }
        Self {
            counter: counter.to_owned(),
            properties: props,
            limit: limit.clamp(2, MAX_LIMIT),
            cursor: Cursor::Time { from: since_ms, inclusive: true },
            boundary: i64::MIN,
            boundary_ids: HashSet::new(),
            done: false,
            requests: 0,
        }
    }

    /// `true` once every matching contact was returned.
    pub fn done(&self) -> bool {
        self.done
    }

    /// Searches sent so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// The latest modification time seen (`None` before any record).
    pub fn max_modified_ms(&self) -> Option<i64> {
        (self.boundary != i64::MIN).then_some(self.boundary)
    }

    /// The next request to send (`None` when done).
    pub fn next_request(&self) -> Option<SearchRequest> {
        if self.done {
            return None;
        }
        let has_counter = json!({"propertyName": self.counter, "operator": "HAS_PROPERTY"});
        let (filters, sort) = match self.cursor {
            Cursor::Time { from, inclusive } => (
                vec![
                    json!({"propertyName": "lastmodifieddate",
                           "operator": if inclusive { "GTE" } else { "GT" },
                           "value": from.to_string()}),
                    has_counter,
                ],
                json!({"propertyName": "lastmodifieddate", "direction": "ASCENDING"}),
            ),
            Cursor::Ids { at, after_id } => (
                vec![
                    json!({"propertyName": "lastmodifieddate", "operator": "EQ", "value": at.to_string()}),
                    json!({"propertyName": "hs_object_id", "operator": "GT", "value": after_id.to_string()}),
                    has_counter,
                ],
                json!({"propertyName": "hs_object_id", "direction": "ASCENDING"}),
            ),
        };
        Some(SearchRequest {
            filter_groups: vec![json!({ "filters": filters })],
            sorts: vec![sort],
            properties: self.properties.clone(),
            limit: self.limit,
            after: "0".into(),
        })
    }

    /// Takes the answer to [`ChangedFinder::next_request`]; returns the records not returned
    /// before and moves the window.
    pub fn accept(&mut self, page: SearchPage) -> Vec<SearchRecord> {
        self.requests += 1;
        let full = page.results.len() as u32 >= self.limit;
        let mut fresh = Vec::with_capacity(page.results.len());
        match self.cursor {
            Cursor::Time { .. } => {
                let start_boundary = self.boundary;
                for r in page.results {
                    let (Some(ts), Some(id)) = (r.modified_ms(), r.numeric_id()) else {
                        continue;
                    };
                    if ts == self.boundary && self.boundary_ids.contains(&id) {
                        continue;
                    }
                    if ts > self.boundary {
                        self.boundary = ts;
                        self.boundary_ids.clear();
                    }
                    if ts == self.boundary {
                        self.boundary_ids.insert(id);
                    }
                    fresh.push(r);
                }
                if !full || self.boundary == i64::MIN {
                    self.done = true;
                } else if self.boundary == start_boundary
                    || self.boundary_ids.len() as u32 * 2 >= self.limit
                {
                    // No progress past the boundary (or too slow): walk its timestamp by id.
                    self.cursor = Cursor::Ids { at: self.boundary, after_id: 0 };
                } else {
                    self.cursor = Cursor::Time { from: self.boundary, inclusive: true };
                }
            }
            Cursor::Ids { at, after_id } => {
                let mut last = after_id;
                for r in page.results {
                    let Some(id) = r.numeric_id() else { continue };
                    last = last.max(id);
                    if r.modified_ms() != Some(at) {
                        continue;
                    }
                    if self.boundary_ids.insert(id) {
                        fresh.push(r);
                    }
                }
                self.cursor = if full && last > after_id {
                    Cursor::Ids { at, after_id: last }
                } else {
                    // Everything at `at` was seen: continue strictly after it.
                    self.boundary_ids.clear();
                    Cursor::Time { from: at, inclusive: false }
                };
            }
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u64, ts: i64) -> SearchRecord {
        let mut properties = BTreeMap::new();
        properties.insert("lastmodifieddate".to_owned(), Some(ts.to_string()));
        SearchRecord { id: id.to_string(), properties, updated_at: None }
    }

    /// A fake search over `(id, ts)` pairs following the request's filters and sort.
    fn answer(data: &[(u64, i64)], req: &SearchRequest) -> SearchPage {
        let f = &req.filter_groups[0]["filters"];
        let num = |i: usize| f[i]["value"].as_str().unwrap().parse::<i64>().unwrap();
        let mut rows: Vec<(u64, i64)> = match f[0]["operator"].as_str().unwrap() {
            "GTE" => data.iter().copied().filter(|(_, t)| *t >= num(0)).collect(),
            "GT" => data.iter().copied().filter(|(_, t)| *t > num(0)).collect(),
            "EQ" => {
                data.iter().copied().filter(|(i, t)| *t == num(0) && *i as i64 > num(1)).collect()
            }
            other => panic!("unexpected operator {other}"),
        };
        if req.sorts[0]["propertyName"] == "hs_object_id" {
            rows.sort_by_key(|r| r.0);
        } else {
            // Ties in reverse id order, to prove the finder does not rely on tie order.
            rows.sort_by_key(|r| (r.1, std::cmp::Reverse(r.0)));
        }
        SearchPage {
            total: rows.len() as u64,
            results: rows.iter().take(req.limit as usize).map(|(i, t)| rec(*i, *t)).collect(),
        }
    }

    fn walk(data: &[(u64, i64)], since: i64, limit: u32) -> (Vec<u64>, u64) {
        let mut f = ChangedFinder::new("didomi_changed", &[], since, limit);
        let mut out = Vec::new();
        while let Some(req) = f.next_request() {
            let page = answer(data, &req);
            out.extend(f.accept(page).iter().map(|r| r.numeric_id().unwrap()));
            assert!(f.requests() < 10_000, "the walk must end");
        }
        (out, f.requests())
    }

    #[test]
    fn finds_each_record_once_across_shared_timestamps() {
        let mut data = Vec::new();
        let mut id = 1;
        for (ts, n) in [(100, 3), (200, 450), (201, 1), (300, 199), (301, 2), (400, 7)] {
            for _ in 0..n {
                data.push((id, ts));
                id += 1;
            }
        }
        let (mut got, requests) = walk(&data, 0, 20);
        let n = got.len();
        got.sort_unstable();
        got.dedup();
        assert_eq!(got.len(), n, "no record returned twice");
        assert_eq!(n, data.len(), "every record returned");
        assert!(requests < 80, "cost follows the records ({requests} requests)");
    }

    #[test]
    fn since_filters_and_empty_ends_at_once() {
        let data = [(1, 10), (2, 20), (3, 30)];
        let (got, _) = walk(&data, 20, 200);
        assert_eq!(got, [2, 3], "only records at or after the watermark");
        let (got, requests) = walk(&[], 0, 200);
        assert!(got.is_empty(), "nothing to find");
        assert_eq!(requests, 1, "one search answers an empty portal");
    }

    #[test]
    fn parses_iso_and_ms() {
        assert_eq!(parse_ms("2025-07-07T20:27:17.947Z"), Some(1_751_920_037_947), "ISO with ms");
        assert_eq!(parse_ms("1717200000000"), Some(1_717_200_000_000), "plain ms");
        assert_eq!(parse_ms("yesterday"), None, "garbage");
    }
}
