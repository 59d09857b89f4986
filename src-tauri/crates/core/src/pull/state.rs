//! The pull's part of the one state database ([`crate::run::store`], `sync.sqlite3`), reached
//! through [`Store::pull`]:
//!
//! - `pull_contacts`: per HubSpot record id, the email, the last "Didomi Changed" counter
//!   handled, the values both sides agreed on after the last pull (the conflict baseline) and
//!   whether the last attempt failed (retried first by the next pull);
//! - `meta` key `pull_watermark`: the search watermark (epoch ms of HubSpot's
//!   `lastmodifieddate`).
//!
//! The scope is the store's one scope: a scope change drops the per-contact state of both
//! directions and the watermark (see [`Store::ensure_scope`]).
//!
//! Data folders of the released version kept this state in a second file, `pull.sqlite3`: the
//! store's migration imports it (see `migrate`) and then renames it `pull.sqlite3.imported`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::push::values::Values;
use crate::run::store::{Result, Store};

/// The file the released version kept the pull's state in, inside the data folder.
pub const LEGACY_FILE_NAME: &str = "pull.sqlite3";

/// What [`LEGACY_FILE_NAME`] is renamed to once imported.
pub const IMPORTED_FILE_NAME: &str = "pull.sqlite3.imported";

/// What the state knows about one contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PulledContact {
    /// Email at the last pull.
    pub email: String,
    /// Last counter handled.
    pub counter: i64,
    /// The values agreed on after the last pull.
    pub baseline: Option<Values>,
    /// The last attempt failed.
    pub failed: bool,
}

/// A contact the pull handled (see [`PullState::record_done`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    /// HubSpot record id.
    pub hubspot_id: String,
    /// Its normalized email (empty when it has none that is valid).
    pub email: String,
    /// The "Didomi Changed" counter handled.
    pub counter: i64,
    /// The values both sides now agree on (`None` keeps the stored baseline).
    pub baseline: Option<Values>,
}

impl Handled {
    /// A handled contact whose baseline stays as stored.
    pub fn keeping_baseline(hubspot_id: &str, email: &str, counter: i64) -> Self {
        Self { hubspot_id: hubspot_id.to_owned(), email: email.to_owned(), counter, baseline: None }
    }
}

/// A contact whose pull failed (see [`PullState::record_failed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedContact {
    /// HubSpot record id.
    pub hubspot_id: String,
    /// Its normalized email (how the next pull reads it again).
    pub email: String,
}

/// The pull's view of the state database.
#[derive(Debug, Clone, Copy)]
pub struct PullState<'a> {
    store: &'a Store,
}

impl Store {
    /// The pull's per-contact state and watermark in this database.
    pub fn pull(&self) -> PullState<'_> {
        PullState { store: self }
    }
}

impl PullState<'_> {
    /// The search watermark (epoch ms), `0` before the first pull.
    ///
    /// # Errors
    /// Database failures.
    pub fn watermark(&self) -> Result<i64> {
        self.store.with(|c| {
            let v: Option<String> = c
                .query_row("SELECT value FROM meta WHERE key = 'pull_watermark'", [], |r| r.get(0))
                .optional()?;
            Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
        })
    }

    /// Moves the watermark forward (never back).
    ///
    /// # Errors
    /// Database failures.
    pub fn advance_watermark(&self, ms: i64) -> Result<()> {
        if ms > self.watermark()? {
            self.store.with(|c| set_watermark(c, ms))?;
        }
        Ok(())
    }

    /// The state of these record ids (absent = never pulled).
    ///
    /// # Errors
    /// Database failures.
    pub fn contacts(&self, ids: &[&str]) -> Result<HashMap<String, PulledContact>> {
        self.store.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT email, counter, baseline, failed FROM pull_contacts WHERE hubspot_id = ?1",
            )?;
            let mut out = HashMap::new();
            for id in ids {
                let row = st
                    .query_row([id], |r| {
                        Ok(PulledContact {
                            email: r.get(0)?,
                            counter: r.get(1)?,
                            baseline: r
                                .get::<_, Option<String>>(2)?
                                .and_then(|b| serde_json::from_str(&b).ok()),
                            failed: r.get::<_, i64>(3)? != 0,
                        })
                    })
                    .optional()?;
                if let Some(row) = row {
                    out.insert((*id).to_owned(), row);
                }
            }
            Ok(out)
        })
    }

    /// Records handled contacts and clears their failed mark.
    ///
    /// # Errors
    /// Database failures.
    pub fn record_done(&self, items: &[Handled]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        self.store.with(|c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO pull_contacts(hubspot_id, email, counter, baseline, failed)
                     VALUES(?1, ?2, ?3, ?4, 0)
                     ON CONFLICT(hubspot_id) DO UPDATE SET email = excluded.email,
                       counter = excluded.counter, failed = 0,
                       baseline = COALESCE(excluded.baseline, baseline)",
                )?;
                for h in items {
                    let b = h.baseline.as_ref().map(|b| serde_json::to_string(b).expect("values"));
                    st.execute(params![h.hubspot_id, h.email, h.counter, b])?;
                }
            }
            tx.commit()
        })
    }

    /// Marks contacts failed (their counter is not advanced, so they are retried).
    ///
    /// # Errors
    /// Database failures.
    pub fn record_failed(&self, items: &[FailedContact]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        self.store.with(|c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO pull_contacts(hubspot_id, email, counter, failed)
                     VALUES(?1, ?2, 0, 1)
                     ON CONFLICT(hubspot_id) DO UPDATE SET failed = 1, email = excluded.email",
                )?;
                for f in items {
                    st.execute(params![f.hubspot_id, f.email])?;
                }
            }
            tx.commit()
        })
    }

    /// Drops the pull's per-contact state and watermark: the next pull looks at every contact
    /// with a "Didomi Changed" counter again (what moving the pull's database aside did).
    ///
    /// # Errors
    /// Database failures.
    pub fn forget(&self) -> Result<()> {
        self.store.with(|c| {
            let tx = c.transaction()?;
            forget(&tx)?;
            tx.commit()
        })
    }

    /// Emails of the contacts whose last pull failed.
    ///
    /// # Errors
    /// Database failures.
    pub fn failed_emails(&self, limit: u32) -> Result<Vec<String>> {
        self.store.with(|c| {
            let mut st = c.prepare(
                "SELECT email FROM pull_contacts WHERE failed = 1 ORDER BY hubspot_id LIMIT ?1",
            )?;
            let rows = st.query_map([limit], |r| r.get(0))?;
            rows.collect()
        })
    }
}

fn set_watermark(c: &Connection, ms: i64) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO meta(key, value) VALUES('pull_watermark', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [ms.to_string()],
    )
    .map(|_| ())
}

/// The pull's tables.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pull_contacts (
  hubspot_id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  counter INTEGER NOT NULL,
  baseline TEXT,
  failed INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pull_contacts_failed ON pull_contacts(failed);
";

/// Drops the pull's per-contact state and watermark (a scope change; inside the store's
/// transaction).
pub(crate) fn forget(c: &Connection) -> rusqlite::Result<()> {
    c.execute("DELETE FROM pull_contacts", [])?;
    c.execute("DELETE FROM meta WHERE key = 'pull_watermark'", [])?;
    Ok(())
}

/// The store's migration step of the pull, inside its write transaction and under the opening
/// lock: creates the pull's tables and imports the released version's `pull.sqlite3` of
/// `data_dir` once (the `meta` key `pull_imported` says it was; [`retire_legacy`] renames the
/// file after the commit).
pub(crate) fn migrate(c: &Connection, data_dir: &Path) -> rusqlite::Result<()> {
    c.execute_batch(SCHEMA)?;
    let legacy = data_dir.join(LEGACY_FILE_NAME);
    let imported: bool = c.prepare("SELECT 1 FROM meta WHERE key = 'pull_imported'")?.exists([])?;
    if imported || !legacy.exists() {
        return Ok(());
    }
    let old = read_legacy(&legacy).map_err(|e| {
        let why = format!("the pull state {} cannot be imported: {e}", legacy.display());
        rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(why)))
    })?;
    import(c, &old)?;
    c.execute("INSERT INTO meta(key, value) VALUES('pull_imported', '1')", [])?;
    Ok(())
}

/// Renames an imported `pull.sqlite3` (with its lock file) out of the way, after the import's
/// commit. Until it is renamed, opening the store again only retries this.
pub(crate) fn retire_legacy(c: &Connection, data_dir: &Path) -> rusqlite::Result<()> {
    let legacy = data_dir.join(LEGACY_FILE_NAME);
    let imported: bool = c.prepare("SELECT 1 FROM meta WHERE key = 'pull_imported'")?.exists([])?;
    if !imported || !legacy.exists() {
        return Ok(());
    }
    std::fs::rename(&legacy, data_dir.join(IMPORTED_FILE_NAME))
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let mut lock: PathBuf = legacy;
    lock.as_mut_os_string().push(".open-lock");
    let _ = std::fs::remove_file(lock);
    Ok(())
}

/// What the released version's `pull.sqlite3` holds.
struct Legacy {
    scope: Option<String>,
    watermark: Option<i64>,
    contacts: Vec<(String, String, i64, Option<String>, i64)>,
}

fn read_legacy(path: &Path) -> rusqlite::Result<Legacy> {
    // Read-write (not created): opening folds a write-ahead log left by a crash.
    let old = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    old.busy_timeout(std::time::Duration::from_secs(5))?;
    let meta = |key: &str| {
        old.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get::<_, String>(0))
            .optional()
    };
    let scope = meta("scope")?;
    let watermark = meta("watermark")?.and_then(|v| v.parse().ok());
    let mut st =
        old.prepare("SELECT hubspot_id, email, counter, baseline, failed FROM contacts")?;
    let contacts = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Legacy { scope, watermark, contacts })
}

fn import(c: &Connection, old: &Legacy) -> rusqlite::Result<()> {
    let scope: Option<String> =
        c.query_row("SELECT value FROM meta WHERE key = 'scope'", [], |r| r.get(0)).optional()?;
    match (&scope, &old.scope) {
        (None, Some(s)) => {
            c.execute("INSERT INTO meta(key, value) VALUES('scope', ?1)", [s])?;
        }
        (Some(current), Some(s)) if !same_scope(current, s) => {
            // State of a portal this folder has left since: the released version dropped it at
            // its next pull. The renamed file keeps it.
            tracing::warn!(pull_scope = %s, scope = %current, "pull state of another scope not imported");
            return Ok(());
        }
        _ => {}
    }
    let mut st = c.prepare(
        "INSERT OR REPLACE INTO pull_contacts(hubspot_id, email, counter, baseline, failed)
         VALUES(?1, ?2, ?3, ?4, ?5)",
    )?;
    for (id, email, counter, baseline, failed) in &old.contacts {
        st.execute(params![id, email, counter, baseline, failed])?;
    }
    if let Some(ms) = old.watermark {
        set_watermark(c, ms)?;
    }
    Ok(())
}

/// The pull's scope `pull` is the store's `current`, or its older spelling by the CLI's direct
/// mode (which the released version renamed at the next pull; see [`crate::jobs`]).
fn same_scope(current: &str, pull: &str) -> bool {
    if current == pull {
        return true;
    }
    let (c, p): (Vec<&str>, Vec<&str>) =
        (current.rsplitn(3, '|').collect(), pull.rsplitn(3, '|').collect());
    c.len() == 3
        && p.len() == 3
        && p[1] == crate::jobs::LEGACY_CLI_PORTAL
        && (c[0], c[2]) == (p[0], p[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_scope_change_resets() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_in(dir.path()).expect("opens");
        let s = store.pull();
        store.ensure_scope("a").unwrap();
        assert_eq!(s.watermark().unwrap(), 0, "no watermark yet");
        s.advance_watermark(50).unwrap();
        s.advance_watermark(40).unwrap();
        assert_eq!(s.watermark().unwrap(), 50, "never moves back");
        let base: Values = [("p".to_owned(), "true".to_owned())].into();
        let done = Handled {
            baseline: Some(base.clone()),
            ..Handled::keeping_baseline("1", "a@x.com", 3)
        };
        s.record_done(&[done]).unwrap();
        s.record_failed(&[FailedContact { hubspot_id: "2".into(), email: "b@x.com".into() }])
            .unwrap();
        let st = s.contacts(&["1", "2", "3"]).unwrap();
        assert_eq!(st["1"].counter, 3, "counter kept");
        assert_eq!(st["1"].baseline.as_ref(), Some(&base), "baseline kept");
        assert!(st["2"].failed, "failure kept");
        assert!(!st.contains_key("3"), "unknown absent");
        assert_eq!(s.failed_emails(10).unwrap(), ["b@x.com"], "failed listed");
        s.record_done(&[Handled::keeping_baseline("1", "a@x.com", 4)]).unwrap();
        assert_eq!(
            s.contacts(&["1"]).unwrap()["1"].baseline.as_ref(),
            Some(&base),
            "None keeps the baseline"
        );
        store.ensure_scope("b").unwrap();
        assert_eq!(s.watermark().unwrap(), 0, "scope change resets the watermark");
        assert!(s.contacts(&["1"]).unwrap().is_empty(), "and the contacts");
    }

    /// A released `pull.sqlite3` with `scope`, one contact and a watermark, in `dir`.
    fn legacy_file(dir: &Path, scope: &str) {
        let c = Connection::open(dir.join(LEGACY_FILE_NAME)).expect("legacy file");
        c.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE contacts (hubspot_id TEXT PRIMARY KEY, email TEXT NOT NULL,
               counter INTEGER NOT NULL, baseline TEXT, failed INTEGER NOT NULL DEFAULT 0)
               WITHOUT ROWID;
             INSERT INTO meta VALUES('watermark', '1234');
             INSERT INTO contacts VALUES('7', 'a@x.com', 3, NULL, 1);",
        )
        .expect("released schema");
        c.execute("INSERT INTO meta VALUES('scope', ?1)", [scope]).expect("scope");
    }

    /// The scope decides what is imported: the store's own, its old CLI spelling or any when
    /// the store has none (it then takes the pull's); another portal's state is left in the
    /// renamed file, as the released version dropped it at its next pull.
    #[test]
    fn the_released_pull_file_is_imported_under_the_store_s_scope_only() {
        let now = crate::run::state_scope("https://h/", "4242", "acme");
        let cli = crate::run::state_scope("https://h/", "token", "acme");
        let other = crate::run::state_scope("https://h/", "77", "acme");
        for (store_scope, pull_scope, imported) in [
            (None, now.as_str(), true),
            (Some(now.as_str()), now.as_str(), true),
            (Some(now.as_str()), cli.as_str(), true),
            (Some(now.as_str()), other.as_str(), false),
        ] {
            let dir = tempfile::tempdir().expect("temp dir");
            if let Some(scope) = store_scope {
                Store::open_in(dir.path()).expect("store").ensure_scope(scope).expect("scope");
            }
            legacy_file(dir.path(), pull_scope);
            let store = Store::open_in(dir.path()).expect("opens and imports");
            let case = format!("{store_scope:?} <- {pull_scope}");
            assert!(dir.path().join(IMPORTED_FILE_NAME).exists(), "{case}: renamed");
            assert!(!dir.path().join(LEGACY_FILE_NAME).exists(), "{case}: moved aside");
            let st = store.pull().contacts(&["7"]).expect("contacts");
            assert_eq!(st.contains_key("7"), imported, "{case}: contacts");
            assert_eq!(
                store.pull().watermark().unwrap(),
                if imported { 1234 } else { 0 },
                "{case}"
            );
            if imported {
                assert!(st["7"].failed && st["7"].counter == 3, "{case}: as it was");
            }
            // The push's first act: the store's scope (the pull's when it had none) keeps it.
            store.ensure_scope(store_scope.unwrap_or(pull_scope)).expect("scope");
            assert_eq!(
                store.pull().contacts(&["7"]).unwrap().contains_key("7"),
                imported,
                "{case}"
            );
        }
    }

    #[test]
    fn the_old_cli_spelling_of_a_scope_is_the_same_scope() {
        let now = crate::run::state_scope("https://api.hubapi.com/", "4242", "acme");
        let cli = crate::run::state_scope("https://api.hubapi.com/", "token", "acme");
        let other = crate::run::state_scope("https://api.hubapi.com/", "77", "acme");
        assert!(same_scope(&now, &now) && same_scope(&now, &cli), "same portal");
        assert!(!same_scope(&now, &other), "another portal");
        assert!(!same_scope(&cli, &now), "only the old spelling is carried forward");
    }
}
