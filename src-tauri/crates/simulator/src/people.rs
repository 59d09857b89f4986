//! The seeded population shared by the simulated HubSpot portal and Didomi organization.
//!
//! Person `i` is a pure function of `(seed, i)`, so either side can generate exactly the people
//! it needs, in any order, without holding the whole population in memory (1,000,000 people
//! must work). The mix is fixed so tests can rely on it:
//!
//! | share | who |
//! |---|---|
//! | ~70 % | on both sides ([`Presence::Both`]); about 1 in 10 of them with a differently-cased email in HubSpot |
//! | ~15 % | HubSpot only |
//! | ~15 % | Didomi only |
//! | 1 in 97 | an invalid email on the Didomi side (`organization_user_id` is not an email) |
//! | 1 in 89 | a second Didomi user with the same email in another case (a duplicate) |

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FIRST: &[&str] = &[
    "Alice", "Bruno", "Chloé", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
    "Kaori", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quentin", "Rosa", "Sven", "Tara", "Umar",
    "Vera", "Wei", "Ximena", "Yusuf", "Zoé",
];
const LAST: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "Andre", "Mercier", "Dupont", "Lambert",
];
const DOMAINS: &[&str] = &["example.com", "acme.test", "mail.example.org", "corp.example.net"];

/// Which side(s) of the integration a person exists on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// A HubSpot contact and a Didomi user.
    Both,
    /// Only a HubSpot contact.
    HubSpotOnly,
    /// Only a Didomi user.
    DidomiOnly,
}

/// One seeded person.
#[derive(Debug, Clone)]
pub struct Person {
    /// Position in the population, `0..n`.
    pub index: u64,
    /// Given name.
    pub first_name: &'static str,
    /// Family name.
    pub last_name: &'static str,
    /// Which sides the person exists on.
    pub presence: Presence,
    /// The email as HubSpot stores it (may differ in case from [`Person::didomi_email`]).
    pub hubspot_email: String,
    /// The `organization_user_id` as Didomi stores it. Not always a valid email: see
    /// [`Person::didomi_email_valid`].
    pub didomi_email: String,
    /// `false` for the few people whose Didomi `organization_user_id` is not an email.
    pub didomi_email_valid: bool,
    /// When set, Didomi holds a second user with this id (same email, other case).
    pub didomi_duplicate: Option<String>,
    /// Creation time, milliseconds since the Unix epoch (spread over the year before 2026-11-01).
    pub created_at_ms: i64,
    /// Whether the person already has consents recorded in Didomi.
    pub has_consents: bool,
}

impl Person {
    /// `true` if the person is a HubSpot contact.
    pub fn on_hubspot(&self) -> bool {
        matches!(self.presence, Presence::Both | Presence::HubSpotOnly)
    }

    /// `true` if the person is a Didomi user.
    pub fn on_didomi(&self) -> bool {
        matches!(self.presence, Presence::Both | Presence::DidomiOnly)
    }
}

/// 2026-11-01T00:00:00Z in milliseconds.
const EPOCH_END_MS: i64 = 1_793_491_200_000;
const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

/// Generates person `index` of the population seeded by `seed`.
pub fn person(seed: u64, index: u64) -> Person {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let first_name = FIRST[rng.random_range(0..FIRST.len())];
    let last_name = LAST[rng.random_range(0..LAST.len())];
    let domain = DOMAINS[rng.random_range(0..DOMAINS.len())];
    let roll: u32 = rng.random_range(0..100);
    let presence = match roll {
        0..70 => Presence::Both,
        70..85 => Presence::HubSpotOnly,
        _ => Presence::DidomiOnly,
    };
    let local = format!(
        "{}.{}{}",
        ascii_fold(first_name).to_lowercase(),
        ascii_fold(last_name).to_lowercase(),
        index
    );
    let email = format!("{local}@{domain}");
    let hubspot_email = if presence == Presence::Both && rng.random_range(0..10) == 0 {
        // Same person, the email typed with capitals in the CRM.
        format!("{}.{}{}@{}", ascii_fold(first_name), ascii_fold(last_name), index, domain)
    } else {
        email.clone()
    };
    let didomi_email_valid = index % 97 != 13;
    let didomi_email =
        if didomi_email_valid { email.clone() } else { format!("{local} at {domain}") };
    let didomi_duplicate =
        (presence != Presence::HubSpotOnly && didomi_email_valid && index % 89 == 5)
            .then(|| email.to_uppercase());
    let created_at_ms = EPOCH_END_MS - rng.random_range(0..YEAR_MS);
    let has_consents = rng.random_range(0..100) < 60;
    Person {
        index,
        first_name,
        last_name,
        presence,
        hubspot_email,
        didomi_email,
        didomi_email_valid,
        didomi_duplicate,
        created_at_ms,
        has_consents,
    }
}

/// Iterates over the population `0..n` seeded by `seed`, lazily.
pub fn people(seed: u64, n: u64) -> impl Iterator<Item = Person> {
    (0..n).map(move |i| person(seed, i))
}

fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' => 'e',
            'É' => 'E',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_mixed() {
        let a: Vec<_> = people(7, 2000).map(|p| p.hubspot_email).collect();
        let b: Vec<_> = people(7, 2000).map(|p| p.hubspot_email).collect();
        assert_eq!(a, b, "same seed must give the same people");
        let ps: Vec<_> = people(7, 2000).collect();
        let both = ps.iter().filter(|p| p.presence == Presence::Both).count();
        let hs_only = ps.iter().filter(|p| p.presence == Presence::HubSpotOnly).count();
        let d_only = ps.iter().filter(|p| p.presence == Presence::DidomiOnly).count();
        assert!((1200..1600).contains(&both), "about 70% on both sides, got {both}");
        assert!(hs_only > 150 && d_only > 150, "both one-sided groups present");
        assert!(
            ps.iter().any(|p| p.on_hubspot()
                && p.hubspot_email != p.didomi_email
                && p.didomi_email_valid),
            "some emails differ in case between the sides"
        );
        assert!(ps.iter().any(|p| !p.didomi_email_valid), "some invalid Didomi emails");
        assert!(ps.iter().any(|p| p.didomi_duplicate.is_some()), "some duplicate Didomi users");
    }
}
