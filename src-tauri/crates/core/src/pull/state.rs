//! The pull's own state: `pull.sqlite3` next to the push's `sync.sqlite3` in the data folder.
//!
//! - `meta`: the scope (portal + organization), the search watermark (epoch ms of HubSpot's
//!   `lastmodifieddate`);
//! - `contacts`: per HubSpot record id, the email, the last "Didomi Changed" counter handled,
//!   the values both sides agreed on after the last pull (the conflict baseline) and whether
//!   the last attempt failed (retried first by the next pull).
//!
//! A scope change drops the per-contact rows and the watermark (ids of another portal mean
//! nothing). The pull's settings are in the app's [`crate::settings::Settings`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, ErrorCode};
use crate::sync::values::Values;

/// The file name inside the data folder.
pub const FILE_NAME: &str = "pull.sqlite3";

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

/// The pull database.
#[derive(Debug)]
pub struct PullState {
    path: PathBuf,
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contacts (
  hubspot_id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  counter INTEGER NOT NULL,
  baseline TEXT,
  failed INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS contacts_failed ON contacts(failed);
";

impl PullState {
    /// Opens (creating) the database in `data_dir`.
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub fn open_in(data_dir: &Path) -> Result<Self, Error> {
        let path = data_dir.join(FILE_NAME);
        std::fs::create_dir_all(data_dir).map_err(|e| db_error(&path, &e))?;
        let conn = crate::sync::lock::while_opening(&path, || {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.execute_batch(SCHEMA)?;
            Ok::<_, rusqlite::Error>(conn)
        })
        .map_err(|e| db_error(&path, &e))?
        .map_err(|e| db_error(&path, &e))?;
        Ok(Self { path, conn: Mutex::new(conn) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, Error> {
        let mut c = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut c).map_err(|e| db_error(&self.path, &e))
    }

    fn meta(&self, key: &str) -> Result<Option<String>, Error> {
        self.with(|c| {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()
        })
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), Error> {
        self.with(|c| {
            c.execute(
                "INSERT INTO meta(key, value) VALUES(?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
        })
        .map(|_| ())
    }

    /// Drops contacts and watermark when `scope` differs from the stored one.
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub fn ensure_scope(&self, scope: &str) -> Result<(), Error> {
        if self.meta("scope")?.as_deref() == Some(scope) {
            return Ok(());
        }
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM contacts", [])?;
            tx.execute("DELETE FROM meta WHERE key = 'watermark'", [])?;
            tx.execute(
                "INSERT INTO meta(key, value) VALUES('scope', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [scope],
            )?;
            tx.commit()
        })
    }

    /// Renames the state's scope from `from` to `to` when it is `from`, keeping the counters,
    /// baselines and watermark; returns whether it did.
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub fn rename_scope(&self, from: &str, to: &str) -> Result<bool, Error> {
        self.with(|c| {
            c.execute("UPDATE meta SET value = ?2 WHERE key = 'scope' AND value = ?1", [from, to])
                .map(|n| n > 0)
        })
    }

    /// The search watermark (epoch ms), `0` before the first pull.
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub fn watermark(&self) -> Result<i64, Error> {
        Ok(self.meta("watermark")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Moves the watermark forward (never back).
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub fn advance_watermark(&self, ms: i64) -> Result<(), Error> {
        if ms > self.watermark()? {
            self.set_meta("watermark", &ms.to_string())?;
        }
        Ok(())
    }

    /// The state of these record ids (absent = never pulled).
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub fn contacts(&self, ids: &[&str]) -> Result<HashMap<String, PulledContact>, Error> {
        self.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT email, counter, baseline, failed FROM contacts WHERE hubspot_id = ?1",
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

    /// Records handled contacts: `(id, email, counter, baseline)`; `baseline: None` keeps the
    /// old one. Clears the failed mark.
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub fn record_done(
        &self,
        items: &[(String, String, i64, Option<Values>)],
    ) -> Result<(), Error> {
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO contacts(hubspot_id, email, counter, baseline, failed)
                     VALUES(?1, ?2, ?3, ?4, 0)
                     ON CONFLICT(hubspot_id) DO UPDATE SET email = excluded.email,
                       counter = excluded.counter, failed = 0,
                       baseline = COALESCE(excluded.baseline, baseline)",
                )?;
                for (id, email, counter, baseline) in items {
                    let b = baseline.as_ref().map(|b| serde_json::to_string(b).expect("values"));
                    st.execute(params![id, email, counter, b])?;
                }
            }
            tx.commit()
        })
    }

    /// Marks contacts failed (their counter is not advanced, so they are retried).
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub fn record_failed(&self, items: &[(String, String)]) -> Result<(), Error> {
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO contacts(hubspot_id, email, counter, failed) VALUES(?1, ?2, 0, 1)
                     ON CONFLICT(hubspot_id) DO UPDATE SET failed = 1, email = excluded.email",
                )?;
                for (id, email) in items {
                    st.execute(params![id, email])?;
                }
            }
            tx.commit()
        })
    }

    /// Emails of the contacts whose last pull failed.
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub fn failed_emails(&self, limit: u32) -> Result<Vec<String>, Error> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT email FROM contacts WHERE failed = 1 ORDER BY hubspot_id LIMIT ?1",
            )?;
            let rows = st.query_map([limit], |r| r.get(0))?;
            rows.collect()
        })
    }
}

fn db_error(path: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::SyncStateUnavailable,
        format!(
            "pull state database {}: {e}. Check the free disk space and the permissions of the app data folder; if the file is damaged, move it aside (the next pull then looks at every contact with a Didomi Changed counter again)",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_scope_change_resets() {
        let dir = tempfile::tempdir().expect("temp dir");
        let s = PullState::open_in(dir.path()).expect("opens");
        s.ensure_scope("a").unwrap();
        assert_eq!(s.watermark().unwrap(), 0, "no watermark yet");
        s.advance_watermark(50).unwrap();
        s.advance_watermark(40).unwrap();
        assert_eq!(s.watermark().unwrap(), 50, "never moves back");
        let base: Values = [("p".to_owned(), "true".to_owned())].into();
        s.record_done(&[("1".into(), "a@x.com".into(), 3, Some(base.clone()))]).unwrap();
        s.record_failed(&[("2".into(), "b@x.com".into())]).unwrap();
        let st = s.contacts(&["1", "2", "3"]).unwrap();
        assert_eq!(st["1"].counter, 3, "counter kept");
        assert_eq!(st["1"].baseline.as_ref(), Some(&base), "baseline kept");
        assert!(st["2"].failed, "failure kept");
        assert!(!st.contains_key("3"), "unknown absent");
        assert_eq!(s.failed_emails(10).unwrap(), ["b@x.com"], "failed listed");
        s.record_done(&[("1".into(), "a@x.com".into(), 4, None)]).unwrap();
        assert_eq!(
            s.contacts(&["1"]).unwrap()["1"].baseline.as_ref(),
            Some(&base),
            "None keeps the baseline"
        );
        s.ensure_scope("b").unwrap();
        assert_eq!(s.watermark().unwrap(), 0, "scope change resets the watermark");
        assert!(s.contacts(&["1"]).unwrap().is_empty(), "and the contacts");
    }
}
