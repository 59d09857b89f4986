//! Integration tests of the core crate against the simulator (one test binary).

// OAuth install: success, deny, wrong state, expired/reused code, redirect mismatch, paste, cancel.
mod hubspot_install;
// Token lifecycle: refresh before expiry, on 401, single-flight, revoked refresh token, disconnect.
mod hubspot_tokens;
// Private-app token connect and its errors.
mod hubspot_private;
// Didomi connect: success, bad credentials, wrong organization, unreachable, token re-mint.
mod didomi;
// Secrets never leak into settings, DTOs, errors or logs.
mod canary;
// Push engine: upsert/update-only, semantics, invalid/duplicates, incremental/full, dry run, cancel, resume.
mod sync_push;
// Options: upsert, bidirectional account check and idempotent HubSpot setup.
mod options;
// Mapping: rows, compatible properties, duplicates, create, suggest, stale, mapping_ready.
mod mapping;
// Export/import: round trip, no secret, bad-file corpus, warnings, v0 migration, changed file.
mod config_file;
// Push engine under faults: 429 storms, 5xx/drops/malformed, latency, 207, split, token expiry.
mod sync_faults;
// Pull (HubSpot → Didomi): counters, decoding, conflicts, idempotent retries, 10k+ walk, faults.
mod pull;
// No echo between push and pull with the simulated workflow on.
mod echo;
// Pull: `$disable_integrations` follows the forwarding setting; a pull across an OAuth token expiry.
mod pull_integrations;
// Auto-sync: the interval, one auto run (push, then pull), skipped runs.
mod auto_sync;
// HubSpot's rate-limit headers: the stated limit (190), another consumer of the window, the daily reserve.
mod rate_limits;
// The organization's language: French-only names mapped, pushed and pulled as French labels; en+fr keeps English.
mod languages;
// Consents are never wrong: duplicate emails, cleared answers, transient errors, one run at a
// time, and the randomized differential test against a reference model.
mod consents;
// Contact inspector: both sides, one side, duplicates, a person's HubSpot edit, budgets, runs of one.
mod inspect;
// Data folders of the released version (two databases) open, keep every row and re-send nothing.
mod store_upgrade;
