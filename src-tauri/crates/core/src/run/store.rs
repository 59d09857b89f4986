//! The sync state and run history: one embedded SQLite database (`sync.sqlite3` in the app's
//! data folder), so memory stays flat whatever the number of people.
//!
//! - `contact_state`: per email, the HubSpot record id, the fingerprint of the values last
//!   handled and how (`written`, `skipped`, `failed`), the fingerprint of a write in flight
//!   (`pending_hash`: set before a batch is sent, cleared when its answer is recorded — after a
//!   crash it tells the next run to check HubSpot before writing again), and the Didomi user
//!   that won the email (newest `updated_at`) with the last run that saw it.
//! - `pending`: the journal of writes in flight, appended (one page or two per batch) before a
//!   batch is sent. The push records outcomes in large transactions (see [`Store::record`]):
//!   its journal rows are deleted in the transaction that records their outcomes, and what a
//!   crash leaves in it is folded into `pending_hash` when the next push starts
//!   ([`Store::fold_pending`]), so those people are verified before anything is written again.
//! - `runs`, `run_records`: the history (push and pull), with per-record failures and skips.
//! - `pull_contacts` and the pull's watermark: the pull's per-contact state, reached through
//!   [`Store::pull`] (see [`crate::pull::state`], which also imports the released version's
//!   separate `pull.sqlite3`).
//! - `property_names`: the ids by which a state row keeps the values the push last wrote
//!   (`written`: `[[id, value], …]`, `encode_written`; rows of earlier versions keep the JSON
//!   object of the values until they are written again, and read the same).
//!
//! Disk: every transaction rewrites each B-tree page it touches, and emails spread a batch over
//! as many pages as it has people; so the push marks batches in the small append-only journal
//! and records outcomes by tens of thousands, not per batch.
//!
//! The state is scoped to one HubSpot portal and Didomi organization: when the scope changes,
//! the per-contact state of both directions is dropped (record ids of another portal mean
//! nothing).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use crate::push::values::Values;
use crate::run::dto::{
    RecordAction, RecordOutcome, RecordStatus, RunCounts, RunMode, RunStatus, RunSummary,
    SyncDirection,
};

/// A state-database failure (message says what failed).
#[derive(Debug, thiserror::Error)]
#[error("sync state database {path}: {source}")]
pub struct StoreError {
    path: String,
    #[source]
    source: rusqlite::Error,
}

impl From<StoreError> for crate::Error {
    fn from(e: StoreError) -> Self {
        crate::Error::new(
            crate::ErrorCode::SyncStateUnavailable,
            format!(
                "{e}. Check the free disk space and the permissions of the app data folder; \
                 if the file is damaged, move it aside (the next push then compares everyone \
                 with HubSpot again)"
            ),
        )
    }
}

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, StoreError>;

/// How a person's last values were handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Written to HubSpot.
    Written,
    /// Not written: no contact and upsert off.
    Skipped,
    /// The write failed.
    Failed,
    /// HubSpot holds values the push did not write there (found by the pull: a person's edit
    /// that lost its conflict to Didomi, or an answer Didomi does not have): the next push
    /// rewrites the contact whatever its fingerprint.
    Stale,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Written => "written",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::Stale => "stale",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "written" => Some(Outcome::Written),
            "skipped" => Some(Outcome::Skipped),
            "failed" => Some(Outcome::Failed),
            "stale" => Some(Outcome::Stale),
            _ => None,
        }
    }
}

/// The stored state of one email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactState {
    /// HubSpot record id, once known.
    pub hubspot_id: Option<String>,
    /// Fingerprint of the values last handled.
    pub hash: Option<i64>,
    /// How they were handled.
    pub outcome: Option<Outcome>,
    /// Fingerprint of a write that was sent but whose answer was never recorded.
    pub pending_hash: Option<i64>,
    /// The Didomi user that owns the email (the newest).
    pub user_id: Option<String>,
    /// That user's `updated_at`.
    pub user_updated: Option<String>,
    /// The `organization_user_id` as Didomi spells it.
    pub ouid: Option<String>,
    /// The last run that saw the email (kept for databases of earlier versions; unused).
    pub seen_run: Option<i64>,
    /// The values the push last wrote (or found already in HubSpot), `""` for a property it
    /// cleared: the properties this app manages on the contact.
    pub written: Option<Values>,
}

/// The Didomi user that owned an email when its outcome was recorded.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    /// Didomi user id.
    pub user_id: &'a str,
    /// That user's `updated_at`.
    pub updated: &'a str,
    /// The `organization_user_id` as Didomi spells it.
    pub ouid: &'a str,
}

/// One outcome to record (see [`Store::record`]).
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    /// The normalized email.
    pub email: &'a str,
    /// How the values were handled.
    pub outcome: Outcome,
    /// Their fingerprint (ignored for failures).
    pub hash: i64,
    /// The HubSpot id (`Some("")` forgets a stale one, `None` keeps the stored one).
    pub hubspot_id: Option<&'a str>,
    /// The values now in HubSpot, for written people (`None` keeps the stored ones).
    pub written: Option<&'a Values>,
    /// The same values already in their stored form ([`Store::encode_written`]); used instead
    /// of `written` (an outcome waiting to be recorded keeps only this).
    pub stored: Option<&'a str>,
    /// The Didomi user that owns the email (`None` keeps the stored one).
    pub owner: Option<Owner<'a>>,
}

impl<'a> Recorded<'a> {
    /// An outcome with nothing but the email, outcome, hash and id.
    pub fn new(email: &'a str, outcome: Outcome, hash: i64, hubspot_id: Option<&'a str>) -> Self {
        Self { email, outcome, hash, hubspot_id, written: None, stored: None, owner: None }
    }
}

/// The database.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// The `property_names` table in memory (locked after `conn`).
    names: Mutex<Names>,
}

/// Property names by id and ids by name: a state row keeps its written values by id
/// ([`encode_written`]).
#[derive(Debug, Default)]
struct Names {
    ids: HashMap<String, u32>,
    by_id: HashMap<u32, String>,
}

impl Names {
    /// Reads the table again (another process may have added names).
    fn load(&mut self, c: &Connection) -> rusqlite::Result<()> {
        let mut st = c.prepare("SELECT id, name FROM property_names")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, name) = row?;
            self.ids.insert(name.clone(), id);
            self.by_id.insert(id, name);
        }
        Ok(())
    }

    /// Gives every name of `items`' written values an id (each new name in its own small
    /// statement, before the transaction that uses it, so a rolled-back transaction leaves no
    /// id in memory that the table does not have).
    fn intern<'a>(
        &mut self,
        c: &Connection,
        names: impl Iterator<Item = &'a String>,
    ) -> rusqlite::Result<()> {
        for name in names {
            if self.ids.contains_key(name) {
                continue;
            }
            c.execute("INSERT OR IGNORE INTO property_names(name) VALUES(?1)", [name])?;
            let id: u32 =
                c.query_row("SELECT id FROM property_names WHERE name = ?1", [name], |r| r.get(0))?;
            self.ids.insert(name.clone(), id);
            self.by_id.insert(id, name.clone());
        }
        Ok(())
    }
}

/// One written value in a state row: the property's id, then the value (`0` = `""`, `1` =
/// `"true"`, `2` = `"false"`, else the text).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Kept(u32, KeptValue);

#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum KeptValue {
    Code(u8),
    Text(String),
}

/// The stored form of written values: `[[id, value], …]` with property names by id and the
/// common values by code (`[[3,1],[4,0]]`, ≈ 7 bytes a property instead of ≈ 40 for
/// `{"didomi_purpose_…":"true"}`: the state row, rewritten for every person written, is a
/// third of its JSON size).
fn encode_written(w: &Values, names: &Names) -> String {
    let kept: Vec<Kept> = w
        .iter()
        .map(|(p, v)| {
            let value = match v.as_str() {
                "" => KeptValue::Code(0),
                "true" => KeptValue::Code(1),
                "false" => KeptValue::Code(2),
                other => KeptValue::Text(other.to_owned()),
            };
            Kept(names.ids[p], value)
        })
        .collect();
    serde_json::to_string(&kept).expect("values serialize")
}

/// Written values as stored: the compact form, or the JSON object of the versions before it
/// (rows not rewritten since). `None` when unreadable or naming an id `names` lacks.
fn decode_written(stored: &str, names: &Names) -> Option<Values> {
    if !stored.starts_with('[') {
        return serde_json::from_str(stored).ok();
    }
    let kept: Vec<Kept> = serde_json::from_str(stored).ok()?;
    kept.into_iter()
        .map(|Kept(id, v)| {
            let value = match v {
                KeptValue::Code(0) => String::new(),
                KeptValue::Code(1) => "true".to_owned(),
                KeptValue::Code(2) => "false".to_owned(),
                KeptValue::Code(_) => return None,
                KeptValue::Text(t) => t,
            };
            Some((names.by_id.get(&id)?.clone(), value))
        })
        .collect()
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA wal_autocheckpoint = 16384;
PRAGMA journal_size_limit = 67108864;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contact_state (
  email TEXT PRIMARY KEY,
  hubspot_id TEXT,
  hash INTEGER,
  outcome TEXT,
  pending_hash INTEGER,
  user_id TEXT,
  user_updated TEXT,
  ouid TEXT,
  seen_run INTEGER
) WITHOUT ROWID;
DROP INDEX IF EXISTS contact_state_outcome;
CREATE INDEX IF NOT EXISTS contact_state_failed ON contact_state(email) WHERE outcome = 'failed';
CREATE TABLE IF NOT EXISTS property_names (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS pending (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL,
  hash INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  direction TEXT NOT NULL,
  mode TEXT NOT NULL,
  dry_run INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  duration_ms INTEGER,
  status TEXT NOT NULL,
  counts TEXT NOT NULL,
  message TEXT
);
CREATE TABLE IF NOT EXISTS run_records (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL,
  email TEXT NOT NULL,
  action TEXT NOT NULL,
  status TEXT NOT NULL,
  category TEXT,
  message TEXT NOT NULL,
  correlation_id TEXT
);
CREATE INDEX IF NOT EXISTS run_records_run ON run_records(run_id, seq);
CREATE INDEX IF NOT EXISTS run_records_email ON run_records(lower(trim(email)));
";

/// The states of a page of people (`?1`: an array of emails), one primary-key search each.
const STATES_SQL: &str = "SELECT email, hubspot_id, hash, outcome, pending_hash, user_id,
  user_updated, ouid, seen_run, written FROM contact_state WHERE email IN rarray(?1)";

/// The people whose last outcome failed (`?1`: how many), through the partial index that
/// holds only them, so the outcomes of everyone else cost no index write.
const FAILED_SQL: &str = "SELECT COALESCE(ouid, email) FROM contact_state
  WHERE outcome = 'failed' ORDER BY email LIMIT ?1";

/// The database file name inside the data folder.
pub const FILE_NAME: &str = "sync.sqlite3";

impl Store {
    /// Opens (creating if needed) the database in `data_dir`.
    ///
    /// # Errors
    /// When the folder or file cannot be created or opened.
    pub fn open_in(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join(FILE_NAME);
        let err = |source| StoreError { path: path.display().to_string(), source };
        std::fs::create_dir_all(data_dir)
            .map_err(|e| err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        let conn = super::lock::while_opening(&path, || {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            rusqlite::vtab::array::load_module(&conn)?;
            conn.execute_batch(SCHEMA)?;
            migrate(&conn, data_dir)?;
            crate::pull::state::retire_legacy(&conn, data_dir)?;
            Ok::<_, rusqlite::Error>(conn)
        })
        .map_err(|e| err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?
        .map_err(err)?;
        let mut names = Names::default();
        names.load(&conn).map_err(err)?;
        Ok(Self { path, conn: Mutex::new(conn), names: Mutex::new(names) })
    }

    /// The data folder the database lives in.
    pub fn dir(&self) -> &Path {
        folder_of(&self.path)
    }

    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut c = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut c).map_err(|source| StoreError { path: self.path.display().to_string(), source })
    }

    /// [`Store::with`], with the property names too.
    fn with_names<T>(
        &self,
        f: impl FnOnce(&mut Connection, &mut Names) -> rusqlite::Result<T>,
    ) -> Result<T> {
        self.with(|c| {
            let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
            f(c, &mut names)
        })
    }

    /// Drops the per-contact state of both directions (and the pull's watermark) when `scope`
    /// (portal + organization + mapping owner) is not the one the state was built for.
    ///
    /// # Errors
    /// Database failures.
    pub fn ensure_scope(&self, scope: &str) -> Result<()> {
        self.with(|c| {
            let current: Option<String> = c
                .query_row("SELECT value FROM meta WHERE key = 'scope'", [], |r| r.get(0))
                .optional()?;
            if current.as_deref() != Some(scope) {
                let tx = c.transaction()?;
                tx.execute("DELETE FROM contact_state", [])?;
                crate::pull::state::forget(&tx)?;
                tx.execute(
                    "INSERT INTO meta(key, value) VALUES('scope', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [scope],
                )?;
                tx.commit()?;
            }
            Ok(())
        })
    }

    /// Renames the state's scope from `from` to `to` when it is `from`, keeping every
    /// per-contact row (a data folder written under an older scope key of the same portal);
    /// returns whether it did.
    ///
    /// # Errors
    /// Database failures.
    pub fn rename_scope(&self, from: &str, to: &str) -> Result<bool> {
        self.with(|c| {
            c.execute("UPDATE meta SET value = ?2 WHERE key = 'scope' AND value = ?1", [from, to])
                .map(|n| n > 0)
        })
    }

    /// Copies the write-ahead log into the database file and truncates it (once per push: a
    /// page changed by several transactions of the run is then written to the file once;
    /// SQLite's own checkpoint waits for 64 MB of log).
    ///
    /// # Errors
    /// Database failures.
    pub fn checkpoint(&self) -> Result<()> {
        self.with(|c| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())))
    }

    /// Marks runs left `Running` by a previous process as `Interrupted`; returns how many.
    ///
    /// # Errors
    /// Database failures.
    pub fn mark_interrupted(&self) -> Result<usize> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET status = 'Interrupted',
                 message = COALESCE(message, 'The app stopped during this run; the next run resumed it.')
                 WHERE status = 'Running'",
                [],
            )
        })
    }

    /// Starts a run row.
    ///
    /// # Errors
    /// Database failures.
    pub fn begin_run(
        &self,
        direction: SyncDirection,
        mode: RunMode,
        dry_run: bool,
        started_at: &str,
    ) -> Result<i64> {
        self.with(|c| {
            c.execute(
                "INSERT INTO runs(direction, mode, dry_run, started_at, status, counts)
                 VALUES(?1, ?2, ?3, ?4, 'Running', ?5)",
                params![
                    direction.as_str(),
                    mode.as_str(),
                    dry_run,
                    started_at,
                    serde_json::to_string(&RunCounts::default()).expect("counts serialize")
                ],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// Marks these runs as started by auto-sync (History shows it).
    ///
    /// # Errors
    /// Database failures.
    pub fn mark_auto(&self, ids: &[i64]) -> Result<()> {
        self.with(|c| {
            for id in ids {
                c.execute("UPDATE runs SET auto = 1 WHERE id = ?1", [id])?;
            }
            Ok(())
        })
    }

    /// Saves the counts of a running run (so a crash leaves them).
    ///
    /// # Errors
    /// Database failures.
    pub fn save_counts(&self, run: i64, counts: &RunCounts) -> Result<()> {
        let json = serde_json::to_string(counts).expect("counts serialize");
        self.with(|c| c.execute("UPDATE runs SET counts = ?2 WHERE id = ?1", params![run, json]))
            .map(|_| ())
    }

    /// Ends a run.
    ///
    /// # Errors
    /// Database failures.
    pub fn finish_run(
        &self,
        run: i64,
        status: RunStatus,
        counts: &RunCounts,
        message: Option<&str>,
        finished_at: &str,
        duration_ms: u64,
    ) -> Result<()> {
        let json = serde_json::to_string(counts).expect("counts serialize");
        self.with(|c| {
            c.execute(
                "UPDATE runs SET status = ?2, counts = ?3, message = ?4, finished_at = ?5,
                 duration_ms = ?6 WHERE id = ?1",
                params![run, status.as_str(), json, message, finished_at, duration_ms as i64],
            )
        })
        .map(|_| ())
    }

    /// One run.
    ///
    /// # Errors
    /// Database failures.
    pub fn run(&self, id: i64) -> Result<Option<RunSummary>> {
        self.with(|c| {
            c.query_row(
                "SELECT id, direction, mode, dry_run, started_at, finished_at, duration_ms, status,
                 counts, message, auto FROM runs WHERE id = ?1",
                [id],
                row_to_summary,
            )
            .optional()
        })
    }

    /// The latest runs, newest first.
    ///
    /// # Errors
    /// Database failures.
    pub fn list_runs(&self, limit: u32) -> Result<Vec<RunSummary>> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT id, direction, mode, dry_run, started_at, finished_at, duration_ms, status,
                 counts, message, auto FROM runs ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = st.query_map([limit], row_to_summary)?;
            rows.collect()
        })
    }

    /// The states of `emails` (absent = never seen).
    ///
    /// # Errors
    /// Database failures.
    pub fn states(&self, emails: &[&str]) -> Result<HashMap<String, ContactState>> {
        if emails.is_empty() {
            return Ok(HashMap::new());
        }
        self.with_names(|c, names| {
            let mut out = HashMap::with_capacity(emails.len());
            // One statement for the whole page: SQLite sorts the keys and seeks each once.
            let keys: Vec<rusqlite::types::Value> =
                emails.iter().map(|e| rusqlite::types::Value::Text((*e).to_owned())).collect();
            let mut st = c.prepare_cached(STATES_SQL)?;
            let mut rows = st.query([std::rc::Rc::new(keys)])?;
            let mut reloaded = false;
            while let Some(r) = rows.next()? {
                let mut state = ContactState {
                    hubspot_id: r.get(1)?,
                    hash: r.get(2)?,
                    outcome: r.get::<_, Option<String>>(3)?.and_then(|s| Outcome::parse(&s)),
                    pending_hash: r.get(4)?,
                    user_id: r.get(5)?,
                    user_updated: r.get(6)?,
                    ouid: r.get(7)?,
                    seen_run: r.get(8)?,
                    written: None,
                };
                if let Some(stored) = r.get_ref(9)?.as_str_or_null()? {
                    state.written = decode_written(stored, names);
                    if state.written.is_none() && !reloaded {
                        // A name another process added since this one loaded them.
                        names.load(c)?;
                        reloaded = true;
                        state.written = decode_written(stored, names);
                    }
                }
                out.insert(r.get(0)?, state);
            }
            Ok(out)
        })
    }

    /// `values` in the form a state row keeps them (see [`Recorded::stored`]), giving new
    /// property names their ids.
    ///
    /// # Errors
    /// Database failures.
    pub fn encode_written(&self, values: &Values) -> Result<String> {
        self.with_names(|c, names| {
            names.intern(c, values.keys())?;
            Ok(encode_written(values, names))
        })
    }

    /// Marks writes as in flight (before the batch is sent), in the journal; returns the mark's
    /// first sequence number (see [`Store::record_clearing`]).
    ///
    /// # Errors
    /// Database failures.
    pub fn set_pending(&self, items: &[(&str, i64)]) -> Result<i64> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut first = None;
            {
                let mut st =
                    tx.prepare_cached("INSERT INTO pending(email, hash) VALUES(?1, ?2)")?;
                for (email, hash) in items {
                    st.execute(params![email, hash])?;
                    first.get_or_insert(tx.last_insert_rowid());
                }
            }
            tx.commit()?;
            Ok(first.unwrap_or(i64::MAX))
        })
    }

    /// Folds the journal of writes in flight that a crash left into `pending_hash` (the next
    /// push verifies those people first) and empties it. Returns how many marks it held.
    ///
    /// # Errors
    /// Database failures.
    pub fn fold_pending(&self) -> Result<usize> {
        self.with(|c| {
            let n: i64 = c.query_row("SELECT COUNT(*) FROM pending", [], |r| r.get(0))?;
            if n == 0 {
                return Ok(0);
            }
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO contact_state(email, pending_hash)
                 SELECT email, hash FROM pending WHERE true ORDER BY seq
                 ON CONFLICT(email) DO UPDATE SET pending_hash = excluded.pending_hash",
                [],
            )?;
            tx.execute("DELETE FROM pending", [])?;
            tx.commit()?;
            Ok(n as usize)
        })
    }

    /// Records the outcomes of one batch in one transaction. The hash (and the written values)
    /// are kept for written and skipped people; a failure keeps the old hash (so the record
    /// counts as changed next time). Every outcome clears the in-flight mark. A row is only
    /// touched for people with an outcome: unchanged people cost no write.
    ///
    /// # Errors
    /// Database failures.
    pub fn record(&self, items: &[Recorded<'_>]) -> Result<()> {
        self.record_clearing(items, None)
    }

    /// [`Store::record`], and in the same transaction deletes the journal marks below `below`
    /// (`Some(i64::MAX)`: all): those of batches whose outcomes are recorded now or before.
    ///
    /// # Errors
    /// Database failures.
    pub fn record_clearing(&self, items: &[Recorded<'_>], below: Option<i64>) -> Result<()> {
        if items.is_empty() && below.is_none() {
            return Ok(());
        }
        self.with_names(|c, names| {
            names.intern(c, items.iter().filter_map(|r| r.written).flat_map(|w| w.keys()))?;
            let tx = c.transaction()?;
            if let Some(below) = below {
                tx.execute("DELETE FROM pending WHERE seq < ?1", [below])?;
            }
            {
                let mut ok = tx.prepare_cached(
                    "INSERT INTO contact_state(email, outcome, hash, hubspot_id, written, user_id,
                       user_updated, ouid)
                     VALUES(?1, ?2, ?3, NULLIF(?4, ''), ?5, ?6, ?7, ?8)
                     ON CONFLICT(email) DO UPDATE SET outcome = excluded.outcome,
                       hash = excluded.hash, pending_hash = NULL,
                       hubspot_id = CASE WHEN ?4 IS NULL THEN hubspot_id ELSE NULLIF(?4, '') END,
                       written = COALESCE(?5, written),
                       user_id = COALESCE(?6, user_id), user_updated = COALESCE(?7, user_updated),
                       ouid = COALESCE(?8, ouid)",
                )?;
                let mut failed = tx.prepare_cached(
                    "INSERT INTO contact_state(email, outcome, user_id, user_updated, ouid)
                     VALUES(?1, 'failed', ?3, ?4, ?5)
                     ON CONFLICT(email) DO UPDATE SET outcome = 'failed', pending_hash = NULL,
                       hubspot_id = CASE WHEN ?2 IS NULL THEN hubspot_id ELSE NULLIF(?2, '') END,
                       user_id = COALESCE(?3, user_id), user_updated = COALESCE(?4, user_updated),
                       ouid = COALESCE(?5, ouid)",
                )?;
                // In key order: each page of the table is visited once per transaction, not
                // once per person (stable: a later outcome for the same email still wins).
                let mut sorted: Vec<&Recorded<'_>> = items.iter().collect();
                sorted.sort_by_key(|r| r.email);
                for r in sorted {
                    let (user, updated, ouid) = match r.owner {
                        Some(o) => (Some(o.user_id), Some(o.updated), Some(o.ouid)),
                        None => (None, None, None),
                    };
                    match r.outcome {
                        Outcome::Failed => {
                            failed.execute(params![r.email, r.hubspot_id, user, updated, ouid])?
                        }
                        o => {
                            let written = match (r.stored, r.written) {
                                (Some(s), _) => Some(std::borrow::Cow::Borrowed(s)),
                                (None, Some(w)) => Some(encode_written(w, names).into()),
                                (None, None) => None,
                            };
                            ok.execute(params![
                                r.email,
                                o.as_str(),
                                r.hash,
                                r.hubspot_id,
                                written,
                                user,
                                updated,
                                ouid
                            ])?
                        }
                    };
                }
            }
            tx.commit()
        })
    }

    /// Takes the run lock of this database's data folder (see [`crate::run::lock`]).
    ///
    /// # Errors
    /// [`crate::ErrorCode::SyncAlreadyRunning`] naming the holder.
    pub fn lock_run(
        &self,
        run: &str,
    ) -> std::result::Result<crate::run::lock::RunLock, crate::Error> {
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        crate::run::lock::RunLock::acquire(dir, &crate::run::lock::Holder::this_process(run))
    }

    /// The Didomi spellings of the emails whose last write failed (retried first).
    ///
    /// # Errors
    /// Database failures.
    pub fn failed_ouids(&self, limit: u32) -> Result<Vec<String>> {
        self.with(|c| {
            let mut st = c.prepare(FAILED_SQL)?;
            let rows = st.query_map([limit], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// Appends per-record failures and skips of a run.
    ///
    /// # Errors
    /// Database failures.
    pub fn add_records(&self, run: i64, records: &[RecordOutcome]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO run_records(run_id, email, action, status, category, message,
                     correlation_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for r in records {
                    st.execute(params![
                        run,
                        r.email,
                        r.action.as_str(),
                        match r.status {
                            RecordStatus::Failed => "failed",
                            RecordStatus::Skipped => "skipped",
                        },
                        r.category,
                        r.message,
                        r.correlation_id
                    ])?;
                }
            }
            tx.commit()
        })
    }

    /// The failures and skips of a run, in order.
    ///
    /// # Errors
    /// Database failures.
    pub fn records(
        &self,
        run: i64,
        only_failed: bool,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<RecordOutcome>> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT email, action, status, category, message, correlation_id FROM run_records
                 WHERE run_id = ?1 AND (?2 = 0 OR status = 'failed') ORDER BY seq LIMIT ?3 OFFSET ?4",
            )?;
            let rows =
                st.query_map(params![run, only_failed, limit, offset], |r| record_at(r, 0))?;
            rows.collect()
        })
    }

    /// The newest `limit` records (failures, skips, duplicates, conflicts) of any run about
    /// `email` in any spelling (trimmed, ASCII case ignored), newest first, with their run id:
    /// what the contact inspector shows. Uses the `run_records_email` index.
    ///
    /// # Errors
    /// Database failures.
    pub fn records_about(&self, email: &str, limit: u32) -> Result<Vec<(i64, RecordOutcome)>> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT run_id, email, action, status, category, message, correlation_id
                 FROM run_records WHERE lower(trim(email)) = lower(trim(?1))
                 ORDER BY seq DESC LIMIT ?2",
            )?;
            let rows =
                st.query_map(params![email, limit], |r| Ok((r.get(0)?, record_at(r, 1)?)))?;
            rows.collect()
        })
    }

    /// Counts of `contact_state` rows per outcome (diagnostics and tests).
    ///
    /// # Errors
    /// Database failures.
    pub fn outcome_counts(&self) -> Result<HashMap<String, u64>> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT COALESCE(outcome, '-'), COUNT(*) FROM contact_state GROUP BY 1")?;
            let rows =
                st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
            rows.collect()
        })
    }
}

/// A record from the columns `email, action, status, category, message, correlation_id`
/// starting at column `i`.
fn record_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<RecordOutcome> {
    Ok(RecordOutcome {
        email: r.get(i)?,
        action: RecordAction::parse(&r.get::<_, String>(i + 1)?).unwrap_or(RecordAction::Update),
        status: if r.get::<_, String>(i + 2)? == "failed" {
            RecordStatus::Failed
        } else {
            RecordStatus::Skipped
        },
        category: r.get(i + 3)?,
        message: r.get(i + 4)?,
        correlation_id: r.get(i + 5)?,
    })
}

fn row_to_summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunSummary> {
    let counts: String = r.get(8)?;
    Ok(RunSummary {
        id: r.get(0)?,
        direction: SyncDirection::parse(&r.get::<_, String>(1)?).unwrap_or(SyncDirection::Push),
        mode: if r.get::<_, String>(2)? == "full" { RunMode::Full } else { RunMode::Incremental },
        dry_run: r.get(3)?,
        started_at: r.get(4)?,
        finished_at: r.get(5)?,
        duration_ms: r.get::<_, Option<i64>>(6)?.map(|d| d.max(0) as u64),
        status: RunStatus::parse(&r.get::<_, String>(7)?).unwrap_or(RunStatus::Failed),
        counts: serde_json::from_str(&counts).unwrap_or_default(),
        message: r.get(9)?,
        auto: r.get::<_, Option<bool>>(10)?.unwrap_or(false),
    })
}

/// Brings a database made by an older build up to [`SCHEMA`]: columns added since.
/// Adds what older databases lack. The check and the change run in one write transaction: the
/// app and the CLI may open one data folder at the same moment, and two "column missing, add it"
/// would otherwise collide ("duplicate column name").
/// The folder of `file`: `.` for a bare file name (a data folder given as `""`), whose parent
/// is the empty path, where no file can be created.
fn folder_of(file: &Path) -> &Path {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn migrate(c: &Connection, data_dir: &Path) -> rusqlite::Result<()> {
    c.execute_batch("BEGIN IMMEDIATE")?;
    let r = migrate_in_transaction(c, data_dir);
    c.execute_batch(if r.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    r
}

fn migrate_in_transaction(c: &Connection, data_dir: &Path) -> rusqlite::Result<()> {
    let has_auto =
        c.prepare("SELECT 1 FROM pragma_table_info('runs') WHERE name = 'auto'")?.exists([])?;
    if !has_auto {
        c.execute_batch("ALTER TABLE runs ADD COLUMN auto INTEGER NOT NULL DEFAULT 0")?;
    }
    let has_written = c
        .prepare("SELECT 1 FROM pragma_table_info('contact_state') WHERE name = 'written'")?
        .exists([])?;
    if !has_written {
        c.execute_batch("ALTER TABLE contact_state ADD COLUMN written TEXT")?;
    }
    // The pull's state, once in its own file.
    crate::pull::state::migrate(c, data_dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the kill test: the CLI and another process opening a new data folder at once
    /// both added the same column, and the second open failed ("duplicate column name"), or
    /// switching the new file to WAL failed at once ("database is locked").
    #[test]
    fn processes_opening_one_new_folder_at_once_all_succeed() {
        for _ in 0..20 {
            // A new folder: every first open adds the migrated columns.
            let dir = tempfile::tempdir().expect("temp dir");
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
            let opens: Vec<_> = (0..6)
                .map(|_| {
                    let (dir, barrier) = (dir.path().to_path_buf(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        Store::open_in(&dir).map(|_| ()).map_err(|e| format!("{e:?}"))
                    })
                })
                .collect();
            for o in opens {
                o.join().expect("thread").expect("every open succeeds");
            }
        }
    }

    #[test]
    fn the_folder_of_a_bare_file_name_is_the_current_one() {
        assert_eq!(folder_of(Path::new("sync.sqlite3")), Path::new("."));
        assert_eq!(folder_of(Path::new("data/sync.sqlite3")), Path::new("data"));
        assert_eq!(folder_of(Path::new("/var/dhs/sync.sqlite3")), Path::new("/var/dhs"));
    }

    #[test]
    fn a_database_from_before_auto_runs_gains_the_column() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            // The runs table as the first release made it, with one run.
            let c = Connection::open(dir.path().join(FILE_NAME)).expect("open");
            c.execute_batch(
                "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, direction TEXT NOT NULL,
                 mode TEXT NOT NULL, dry_run INTEGER NOT NULL, started_at TEXT NOT NULL,
                 finished_at TEXT, duration_ms INTEGER, status TEXT NOT NULL, counts TEXT NOT NULL,
                 message TEXT);
                 INSERT INTO runs(direction, mode, dry_run, started_at, status, counts)
                 VALUES('push', 'incremental', 0, '2026-11-01T00:00:00Z', 'Succeeded', '{}');",
            )
            .expect("old schema");
        }
        let s = Store::open_in(dir.path()).expect("opens and migrates");
        let old = s.list_runs(10).expect("runs");
        assert_eq!(old.len(), 1, "the old run is kept");
        assert!(!old[0].auto, "an old run was started by hand");
        let id = s
            .begin_run(SyncDirection::Push, RunMode::Incremental, false, "2026-11-02T00:00:00Z")
            .expect("new run");
        s.mark_auto(&[id]).expect("mark");
        assert!(s.run(id).expect("run").expect("exists").auto, "marked as auto");
        drop(s);
        assert_eq!(Store::open_in(dir.path()).expect("reopens").list_runs(10).unwrap().len(), 2);
    }

    #[test]
    fn state_round_trips_and_scope_change_drops_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let s = Store::open_in(dir.path()).expect("opens");
        s.ensure_scope("portal-1/org").expect("scope");
        s.set_pending(&[("a@x.com", 7), ("b@x.com", 8)]).expect("pending");
        let written: Values = [("p".to_owned(), "true".to_owned())].into();
        s.record(&[
            Recorded {
                written: Some(&written),
                ..Recorded::new("a@x.com", Outcome::Written, 7, Some("101"))
            },
            Recorded::new("b@x.com", Outcome::Failed, 8, None),
        ])
        .expect("record");
        let st = s.states(&["a@x.com", "b@x.com", "c@x.com"]).expect("states");
        assert_eq!(st["a@x.com"].hubspot_id.as_deref(), Some("101"), "id kept");
        assert_eq!(st["a@x.com"].hash, Some(7), "hash kept");
        assert_eq!(st["a@x.com"].pending_hash, None, "in-flight mark cleared");
        assert_eq!(st["a@x.com"].written.as_ref(), Some(&written), "written values kept");
        assert_eq!(st["b@x.com"].outcome, Some(Outcome::Failed), "failure kept");
        assert_eq!(st["b@x.com"].hash, None, "a failure keeps no hash");
        assert!(!st.contains_key("c@x.com"), "never seen");
        assert_eq!(s.failed_ouids(10).expect("failed"), ["b@x.com"], "failed listed");
        s.record(&[Recorded::new("a@x.com", Outcome::Written, 9, Some(""))]).expect("forget id");
        assert_eq!(
            s.states(&["a@x.com"]).unwrap()["a@x.com"].written.as_ref(),
            Some(&written),
            "no new values: the written ones stay"
        );
        assert_eq!(s.states(&["a@x.com"]).unwrap()["a@x.com"].hubspot_id, None, "id forgotten");
        s.ensure_scope("portal-2/org").expect("scope change");
        assert!(s.states(&["a@x.com"]).unwrap().is_empty(), "state of another portal dropped");
    }

    /// Outcomes are recorded in key order; two outcomes of one email in one batch still
    /// leave the later one, and a failure after a success leaves the failure listed.
    #[test]
    fn the_later_of_two_outcomes_in_one_batch_wins() {
        let dir = tempfile::tempdir().expect("temp dir");
        let s = Store::open_in(dir.path()).expect("opens");
        s.record(&[
            Recorded::new("z@x.com", Outcome::Written, 1, Some("9")),
            Recorded::new("a@x.com", Outcome::Written, 1, Some("1")),
            Recorded::new("z@x.com", Outcome::Written, 2, Some("9")),
            Recorded::new("m@x.com", Outcome::Written, 1, Some("5")),
            Recorded::new("m@x.com", Outcome::Failed, 3, None),
        ])
        .expect("record");
        let st = s.states(&["z@x.com", "a@x.com", "m@x.com"]).expect("states");
        assert_eq!(st["z@x.com"].hash, Some(2), "the later outcome of z");
        assert_eq!(st["m@x.com"].outcome, Some(Outcome::Failed), "the later outcome of m");
        assert_eq!(st["a@x.com"].hubspot_id.as_deref(), Some("1"));
        assert_eq!(s.failed_ouids(10).expect("failed"), ["m@x.com"]);
    }

    /// The per-page state lookup and the failed-first list search by key, on a database
    /// that had the index on every outcome (dropped: it cost a write per person).
    #[test]
    fn the_hot_queries_search_by_key_and_the_old_outcome_index_is_gone() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            let c = Connection::open(dir.path().join(FILE_NAME)).expect("open");
            c.execute_batch(
                "CREATE TABLE contact_state (email TEXT PRIMARY KEY, hubspot_id TEXT,
                   hash INTEGER, outcome TEXT, pending_hash INTEGER, user_id TEXT,
                   user_updated TEXT, ouid TEXT, seen_run INTEGER) WITHOUT ROWID;
                 CREATE INDEX contact_state_outcome ON contact_state(outcome);",
            )
            .expect("an earlier version's table");
        }
        let s = Store::open_in(dir.path()).expect("opens");
        s.with(|c| {
            let plan = |sql: &str| -> rusqlite::Result<String> {
                let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows = st
                    .query_map([std::rc::Rc::new(Vec::<rusqlite::types::Value>::new())], |r| {
                        r.get::<_, String>(3)
                    })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?.join(" | "))
            };
            let states = plan(STATES_SQL)?;
            assert!(states.contains("SEARCH contact_state USING PRIMARY KEY"), "{states}");
            assert!(!states.contains("SCAN contact_state"), "{states}");
            let failed = plan(FAILED_SQL)?;
            assert!(failed.contains("contact_state_failed"), "{failed}");
            let old: i64 = c.query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'contact_state_outcome'",
                [],
                |r| r.get(0),
            )?;
            assert_eq!(old, 0, "the index on every outcome is dropped");
            Ok(())
        })
        .expect("plans");
    }

    fn written_of(s: &Store, email: &str) -> Option<Values> {
        s.states(&[email]).expect("states").remove(email).and_then(|st| st.written)
    }

    fn stored_written(dir: &Path, email: &str) -> String {
        let c = Connection::open(dir.join(FILE_NAME)).expect("open");
        c.query_row("SELECT written FROM contact_state WHERE email = ?1", [email], |r| r.get(0))
            .expect("row")
    }

    #[test]
    fn written_values_of_earlier_versions_read_the_same_and_are_rewritten_compact() {
        let dir = tempfile::tempdir().expect("temp dir");
        let s = Store::open_in(dir.path()).expect("opens");
        let old: Values = [
            ("didomi_purpose_analytics".to_owned(), "true".to_owned()),
            ("didomi_purpose_ads".to_owned(), String::new()),
            ("didomi_pref_topics".to_owned(), "Sport;News".to_owned()),
        ]
        .into();
        // A row as the versions before kept it: the values' JSON object.
        s.with(|c| {
            c.execute(
                "INSERT INTO contact_state(email, outcome, hash, written) VALUES(?1, 'written', 5, ?2)",
                params!["a@x.com", serde_json::to_string(&old).unwrap()],
            )
        })
        .expect("old row");
        assert_eq!(written_of(&s, "a@x.com"), Some(old.clone()), "the old form reads as it was");
        let w =
            Recorded { written: Some(&old), ..Recorded::new("a@x.com", Outcome::Written, 5, None) };
        s.record(&[w]).expect("record");
        let stored = stored_written(dir.path(), "a@x.com");
        assert!(stored.starts_with('['), "rewritten in the compact form: {stored}");
        assert!(stored.len() * 3 < serde_json::to_string(&old).unwrap().len(), "{stored}");
        assert_eq!(written_of(&s, "a@x.com"), Some(old), "and reads the same");
    }

    #[test]
    fn a_property_name_another_process_added_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (a, b) =
            (Store::open_in(dir.path()).expect("a"), Store::open_in(dir.path()).expect("b"));
        let one: Values = [("p1".to_owned(), "true".to_owned())].into();
        a.record(&[Recorded {
            written: Some(&one),
            ..Recorded::new("x@x.com", Outcome::Written, 1, None)
        }])
        .expect("a records");
        let two: Values =
            [("p0".to_owned(), "v".to_owned()), ("p2".to_owned(), "false".to_owned())].into();
        b.record(&[Recorded {
            written: Some(&two),
            ..Recorded::new("y@x.com", Outcome::Written, 2, None)
        }])
        .expect("b records");
        assert_eq!(written_of(&a, "y@x.com"), Some(two), "names b added are read by a");
        assert_eq!(written_of(&b, "x@x.com"), Some(one), "and the other way round");
    }

    mod compact {
        use super::*;
        use proptest::prelude::*;

        fn values() -> impl Strategy<Value = Values> {
            let value = prop_oneof![
                Just(String::new()),
                Just("true".to_owned()),
                Just("false".to_owned()),
                ".{0,12}"
            ];
            proptest::collection::btree_map(".{1,20}", value, 0..30)
        }

        proptest! {
            #[test]
            fn written_values_read_back_as_they_were_recorded(w in values(), again in values()) {
                let dir = tempfile::tempdir().expect("temp dir");
                let s = Store::open_in(dir.path()).expect("opens");
                s.record(&[Recorded { written: Some(&w), ..Recorded::new("a@x.com", Outcome::Written, 1, None) }])
                    .expect("record");
                prop_assert_eq!(written_of(&s, "a@x.com"), Some(w));
                s.record(&[Recorded { written: Some(&again), ..Recorded::new("a@x.com", Outcome::Written, 2, None) }])
                    .expect("record again");
                drop(s);
                let s = Store::open_in(dir.path()).expect("reopens");
                prop_assert_eq!(written_of(&s, "a@x.com"), Some(again));
            }
        }
    }

    #[test]
    fn journal_marks_survive_a_crash_and_are_cleared_with_their_outcomes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let s = Store::open_in(dir.path()).expect("opens");
        let first = s.set_pending(&[("a@x.com", 1), ("b@x.com", 2)]).expect("mark 1");
        let second = s.set_pending(&[("c@x.com", 3)]).expect("mark 2");
        assert!(second > first, "marks are ordered");
        // The first batch's outcome is recorded; the second is still out.
        s.record_clearing(
            &[Recorded::new("a@x.com", Outcome::Written, 1, Some("1"))],
            Some(second),
        )
        .expect("record");
        drop(s); // the app dies
        let s = Store::open_in(dir.path()).expect("reopens");
        assert_eq!(s.fold_pending().expect("fold"), 1, "only the batch still out was left");
        let st = s.states(&["a@x.com", "b@x.com", "c@x.com"]).expect("states");
        assert_eq!(st["a@x.com"].pending_hash, None, "recorded: nothing to verify");
        assert!(!st.contains_key("b@x.com"), "its batch was recorded as a whole");
        assert_eq!(st["c@x.com"].pending_hash, Some(3), "the batch still out is verified next");
        assert_eq!(s.fold_pending().expect("fold again"), 0, "the journal is empty");
        s.record_clearing(&[Recorded::new("c@x.com", Outcome::Written, 3, Some("3"))], None)
            .expect("record");
        assert_eq!(s.states(&["c@x.com"]).unwrap()["c@x.com"].pending_hash, None, "cleared");
    }

    #[test]
    fn history_keeps_runs_and_records_and_marks_interrupted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let s = Store::open_in(dir.path()).expect("opens");
        let id =
            s.begin_run(SyncDirection::Push, RunMode::Full, false, "2026-01-01T00:00:00Z").unwrap();
        s.add_records(
            id,
            &[RecordOutcome {
                email: "a@x.com".into(),
                action: RecordAction::Update,
                status: RecordStatus::Failed,
                category: Some("VALIDATION_ERROR".into()),
                message: "bad".into(),
                correlation_id: Some("c-1".into()),
            }],
        )
        .unwrap();
        assert_eq!(s.mark_interrupted().unwrap(), 1, "a running run left behind is interrupted");
        let runs = s.list_runs(10).unwrap();
        assert_eq!(runs[0].status, RunStatus::Interrupted, "status");
        assert_eq!(runs[0].mode, RunMode::Full, "mode");
        let recs = s.records(id, true, 10, 0).unwrap();
        assert_eq!(recs[0].correlation_id.as_deref(), Some("c-1"), "record kept");
    }
}
