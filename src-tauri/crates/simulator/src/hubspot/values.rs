//! Value validation and normalisation on contact writes (reference §2.2, §2.4).
//!
//! Values travel as strings. Enumeration values must equal an option `value` (case-sensitive,
//! `INVALID_OPTION`); multi-checkbox values are `;`-joined and a leading `;` appends to the
//! current ones; bools are `true`/`false` only; numbers have no thousands separators and at most
//! one `.`; dates are midnight-UTC ms or `YYYY-MM-DD` (stored and returned as `YYYY-MM-DD`);
//! datetimes are ms or ISO 8601 (returned as ISO with milliseconds and `Z`); strings are at most
//! 65,536 characters; `""` clears. Error codes follow HubSpot where known (`INVALID_OPTION`,
//! `INVALID_EMAIL`, `INVALID_DATE`); `INVALID_NUMBER`/`INVALID_BOOLEAN`/`MAX_LENGTH_EXCEEDED`
//! are the simulator's names for cases the reference does not name.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use super::errors::ErrorDetail;
use super::properties::Property;

/// Longest string value accepted.
pub const MAX_STRING: usize = 65_536;

/// Validates `raw` for property `p` given the current stored value; returns the value to store
/// (`""` = clear).
pub fn normalize(p: &Property, raw: &str, current: Option<&str>) -> Result<String, ErrorDetail> {
    if raw.is_empty() {
        return Ok(String::new());
    }
    let bad = |code: &str, msg: String| ErrorDetail::property(code, &p.name, msg);
    match p.type_.as_str() {
        "enumeration" if p.field_type == "checkbox" => {
            let (append, list) = match raw.strip_prefix(';') {
                Some(rest) => (true, rest),
                None => (false, raw),
            };
            let mut values: Vec<String> = if append {
                current.unwrap_or("").split(';').filter(|s| !s.is_empty()).map(str::to_string).collect()
            } else {
                Vec::new()
            };
            for v in list.split(';').filter(|s| !s.is_empty()) {
                if !p.external_options && !p.options.iter().any(|o| o.value == v) {
                    return Err(invalid_option(p, v));
                }
                if !values.iter().any(|x| x == v) {
                    values.push(v.to_string());
                }
            }
            Ok(values.join(";"))
        }
        "enumeration" | "bool" => {
            if p.type_ == "bool" && raw != "true" && raw != "false" {
                return Err(bad(
                    "INVALID_BOOLEAN",
                    format!("{raw:?} is not a valid boolean for property {}; use \"true\" or \"false\"", p.name),
                ));
            }
            if p.external_options || p.options.iter().any(|o| o.value == raw) {
                Ok(raw.to_string())
            } else {
                Err(invalid_option(p, raw))
            }
        }
        "number" => {
            if valid_number(raw) {
                Ok(raw.to_string())
            } else {
                Err(bad("INVALID_NUMBER", format!("{raw:?} is not a valid number for property {}", p.name)))
            }
        }
        "date" => parse_date(raw)
            .map(|d| d.to_string())
            .ok_or_else(|| bad("INVALID_DATE", format!("{raw:?} is not a valid date for property {}: use YYYY-MM-DD or a midnight-UTC epoch in milliseconds", p.name))),
        "datetime" => parse_datetime_ms(raw)
            .map(super::iso)
            .ok_or_else(|| bad("INVALID_DATE", format!("{raw:?} is not a valid datetime for property {}: use epoch milliseconds or ISO 8601", p.name))),
        _ => {
            if raw.chars().count() > MAX_STRING {
                return Err(bad(
                    "MAX_LENGTH_EXCEEDED",
                    format!("Value for property {} exceeds the maximum length of {MAX_STRING} characters", p.name),
                ));
            }
            if p.name == "email" && !valid_email(raw) {
                return Err(bad("INVALID_EMAIL", format!("Email address {raw} is invalid")));
            }
            Ok(raw.to_string())
        }
    }
}

fn invalid_option(p: &Property, v: &str) -> ErrorDetail {
    let allowed: Vec<&str> = p.options.iter().map(|o| o.value.as_str()).collect();
    ErrorDetail::property(
        "INVALID_OPTION",
        &p.name,
        format!("{v:?} was not one of the allowed options: [{}]", allowed.join(", ")),
    )
}

/// `true` for `-?digits(.digits)?` (no thousands separators, at most one `.`).
pub fn valid_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let mut parts = s.split('.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    if parts.next().is_some() {
        return false;
    }
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    match frac {
        None => digits(int),
        Some(f) => (int.is_empty() || digits(int)) && digits(f),
    }
}

fn valid_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// A date from `YYYY-MM-DD` or midnight-UTC epoch ms.
pub fn parse_date(raw: &str) -> Option<Date> {
    if let Ok(ms) = raw.parse::<i64>() {
        let dt = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).ok()?;
        return (dt.time() == time::Time::MIDNIGHT).then_some(dt.date());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw, &fmt).ok()
}

/// Epoch ms from epoch ms, ISO 8601 / RFC 3339, or `YYYY-MM-DD` (midnight UTC).
pub fn parse_datetime_ms(raw: &str) -> Option<i64> {
    if let Ok(ms) = raw.parse::<i64>() {
        return Some(ms);
    }
    if let Ok(dt) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some((dt.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    parse_date(raw).map(|d| (d.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hubspot::standard_properties::custom;

    fn prop(name: &str) -> Property {
        custom(0, 1).into_iter().find(|p| p.name == name).expect("custom property exists")
    }

    #[test]
    fn enumerations_and_bools() {
        let multi = prop("sim_multi_checkbox");
        assert_eq!(
            normalize(&multi, "email;sms", None).ok().as_deref(),
            Some("email;sms"),
            "multi values"
        );
        assert_eq!(
            normalize(&multi, ";post", Some("email")).ok().as_deref(),
            Some("email;post"),
            "leading ; appends"
        );
        assert_eq!(
            normalize(&multi, "Email", None).map_err(|e| e.code),
            Err(Some("INVALID_OPTION".into())),
            "case-sensitive"
        );
        let b = prop("sim_bool_checkbox");
        assert!(normalize(&b, "true", None).is_ok(), "true is a bool");
        assert!(normalize(&b, "yes", None).is_err(), "yes is not a bool");
        let only_true = prop("sim_enum_true_only");
        assert!(
            normalize(&only_true, "false", None).is_err(),
            "false is not an option of the true-only enum"
        );
    }

    #[test]
    fn numbers_and_dates() {
        let n = prop("sim_number");
        for ok in ["17", "-3.5", ".5", "0"] {
            assert!(normalize(&n, ok, None).is_ok(), "{ok} is a number");
        }
        for bad in ["1,000", "1.2.3", "abc", "1e5"] {
            assert!(normalize(&n, bad, None).is_err(), "{bad} is not a number");
        }
        let d = prop("sim_date");
        assert_eq!(
            normalize(&d, "1572480000000", None).ok().as_deref(),
            Some("2019-10-31"),
            "midnight ms"
        );
        assert!(normalize(&d, "1572480000001", None).is_err(), "not midnight");
        let dt = prop("sim_datetime");
        assert_eq!(
            normalize(&dt, "2025-07-07T20:27:17.947Z", None).ok().as_deref(),
            Some("2025-07-07T20:27:17.947Z"),
            "ISO round trip"
        );
        assert_eq!(
            normalize(&dt, "0", None).ok().as_deref(),
            Some("1970-01-01T00:00:00.000Z"),
            "ms epoch"
        );
    }
}
