//! The push facade: `push_run`, `run_cancel` and the history, over [`crate::push`] and [`crate::run`].
//!
//! One sync at a time per [`Core`]; one [`Pacer`] per HubSpot portal for the whole process (so
//! two runs against one portal can never double the request rate); the state database lives in
//! `Environment.data_dir`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::Runs;
use crate::didomi::DidomiClient;
use crate::error::{Error, ErrorCode};
use crate::hubspot::HubSpotClient;
use crate::jobs::JobInputs;
use crate::push::push;
use crate::run::{
    RecordOutcome, RunReport, RunSummary, Store, SyncDirection, SyncProgress, SyncRequest,
};
use crate::settings::Settings;

impl Runs {
    /// Checks that a sync can start: both systems connected, something mapped, nothing stale.
    pub(super) async fn ensure_ready(
        &self,
    ) -> Result<(Arc<HubSpotClient>, Arc<DidomiClient>, Settings, String), Error> {
        let settings = self.shared.settings();
        let hubspot = self.conn.hubspot().await.map_err(|e| {
            if e.code == ErrorCode::HubSpotNotConnected {
                Error::new(ErrorCode::HubSpotNotConnected, "HubSpot is not connected, so nothing can be synced. Connect HubSpot on the Connect screen, then start the sync again.")
            } else {
                e
            }
        })?;
        let didomi = self.conn.didomi().await.map_err(|e| {
            if e.code == ErrorCode::DidomiNotConnected {
                Error::new(ErrorCode::DidomiNotConnected, "Didomi is not connected, so there is nothing to read. Connect Didomi on the Connect screen, then start the sync again.")
            } else {
                e
            }
        })?;
        // Non-empty and nothing stale against freshly read schemas (MappingEmpty / MappingStale
        // naming every stale entry).
        let ready = self.config.mapping_ready().await?;
        let settings = Settings { mapping: ready.mapping, ..settings };
        // Labels are written in the language the Mapping screen shows, so a pull reads them back.
        Ok((hubspot, didomi, settings, ready.schemas.language.clone()))
    }

    /// What the job constructors need, from this core's environment.
    pub(super) fn job_inputs(
        &self,
        hubspot: Arc<HubSpotClient>,
        didomi: Arc<DidomiClient>,
        settings: Settings,
        lang: String,
    ) -> JobInputs {
        JobInputs {
            hubspot,
            didomi,
            hubspot_base: self.shared.env.hubspot_api_base.clone(),
            data_dir: self.shared.env.data_dir.clone(),
            settings,
            lang,
        }
    }

    /// Runs a sync. Refuses to start (clear [`Error`]) while HubSpot or Didomi is not
    /// connected, the mapping is empty or stale, or another sync runs. Progress goes to `on_progress` at
    /// most ~10 times a second; `cancel` (or [`Runs::run_cancel`]) stops after the batches in
    /// flight.
    ///
    /// # Errors
    /// The refusals above; [`ErrorCode::SyncStateUnavailable`]; HubSpot/Didomi errors that
    /// stopped the run (the run is in the history as `Failed`).
    pub async fn push_run(
        &self,
        req: SyncRequest,
        on_progress: impl Fn(SyncProgress) + Send + Sync + 'static,
        cancel: CancellationToken,
    ) -> Result<RunReport, Error> {
        if req.direction != SyncDirection::Push {
            return Err(Error::invalid_input(
                "Only the push (Didomi → HubSpot) is available; choose Push and start again.",
            ));
        }
        let (hubspot, didomi, settings, lang) = self.ensure_ready().await?;
        let _running = self.begin(cancel.clone())?;
        let inputs = self.job_inputs(hubspot, didomi, settings, lang);
        let (job, cfg) = self.resources.push_job(&inputs)?;
        push(job, req, cfg, Arc::new(on_progress), cancel).await
    }

    /// Cancels the running run, push or pull (one runs at a time), if any; it stops after the
    /// requests in flight.
    pub async fn run_cancel(&self) {
        self.cancel();
    }

    /// The latest runs, newest first.
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub async fn history_list(&self, limit: u32) -> Result<Vec<RunSummary>, Error> {
        Ok(self.resources.store(&self.shared.env.data_dir)?.list_runs(limit)?)
    }

    /// The failures and skips of a run, in order.
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub async fn history_records(
        &self,
        run_id: i64,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<RecordOutcome>, Error> {
        Ok(self
            .resources
            .store(&self.shared.env.data_dir)?
            .records(run_id, false, limit, offset)?)
    }

    /// Writes every record of a run that was not written (failed, skipped for lack of a
    /// contact, invalid, duplicate) to `path` as CSV, with its outcome; returns the number of
    /// rows.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidInput`] for an unknown run or a file that cannot be written;
    /// [`ErrorCode::SyncStateUnavailable`].
    pub async fn history_records_csv(&self, run_id: i64, path: PathBuf) -> Result<u64, Error> {
        let store = self.resources.store(&self.shared.env.data_dir)?;
        if store.run(run_id)?.is_none() {
            return Err(Error::invalid_input(format!(
                "There is no run {run_id} in the history: pick a run from the History screen."
            )));
        }
        tokio::task::spawn_blocking(move || write_records_csv(&store, run_id, &path))
            .await
            .map_err(|e| Error::new(ErrorCode::Internal, format!("The CSV export stopped: {e}")))?
    }
}

/// The header of the CSV of records not written.
pub const RECORDS_CSV_HEADER: [&str; 6] =
    ["email", "outcome", "action", "hubspot_error", "message", "correlation_id"];

/// Streams the records of `run_id` that were not written into a CSV file at `path`: written next
/// to it, then renamed, so the file is never seen half written and a failure leaves no partial
/// file.
///
/// # Errors
/// [`ErrorCode::InvalidInput`] when the file cannot be written.
pub fn write_records_csv(store: &Store, run_id: i64, path: &Path) -> Result<u64, Error> {
    let io = |e: &dyn std::fmt::Display| {
        Error::invalid_input(format!(
            "The records could not be written to {}: {e}. Choose a folder you can write to.",
            path.display()
        ))
    };
    let part = path.with_extension("csv.part");
    let written = write_csv_rows(store, run_id, &part, &io)
        .and_then(|rows| std::fs::rename(&part, path).map(|()| rows).map_err(|e| io(&e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    written
}

fn write_csv_rows(
    store: &Store,
    run_id: i64,
    path: &Path,
    io: &dyn Fn(&dyn std::fmt::Display) -> Error,
) -> Result<u64, Error> {
    let mut w = csv::Writer::from_path(path).map_err(|e| io(&e))?;
    w.write_record(RECORDS_CSV_HEADER).map_err(|e| io(&e))?;
    let mut rows = 0u64;
    let page = 1000u32;
    loop {
        let recs = store.records(run_id, false, page, rows as u32)?;
        for r in &recs {
            let cells = [
                r.email.as_str(),
                r.outcome(),
                r.action.as_str(),
                r.category.as_deref().unwrap_or(""),
                r.message.as_str(),
                r.correlation_id.as_deref().unwrap_or(""),
            ];
            let cells = cells.map(|c| safe_cell(c).into_owned());
            w.write_record(&cells).map_err(|e| io(&e))?;
        }
        rows += recs.len() as u64;
        if recs.len() < page as usize {
            break;
        }
    }
    w.flush().map_err(|e| io(&e))?;
    Ok(rows)
}

/// A cell that a spreadsheet shows as text, never runs as a formula (OWASP CSV injection): a
/// value starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`. NUL
/// bytes are dropped (some readers stop at them).
pub fn safe_cell(value: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let value: Cow<'_, str> = if value.contains('\0') {
        Cow::Owned(value.replace('\0', ""))
    } else {
        Cow::Borrowed(value)
    };
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{RecordAction, RecordStatus, RunMode};

    fn rec(
        email: &str,
        action: RecordAction,
        status: RecordStatus,
        message: &str,
    ) -> RecordOutcome {
        RecordOutcome {
            email: email.into(),
            action,
            status,
            category: (status == RecordStatus::Failed).then(|| "VALIDATION_ERROR".into()),
            message: message.into(),
            correlation_id: None,
        }
    }

    /// A run with 1 failure, 2 skipped (no contact), 2 invalid and 1 duplicate.
    fn run_with_every_outcome(dir: &Path) -> (Store, i64) {
        let store = Store::open_in(dir).expect("store");
        let run = store
            .begin_run(SyncDirection::Push, RunMode::Incremental, false, "2026-12-01T10:00:00Z")
            .expect("run");
        let (f, s) = (RecordStatus::Failed, RecordStatus::Skipped);
        store
            .add_records(
                run,
                &[
                    rec("a@x.y", RecordAction::Update, f, "Property values were not valid"),
                    rec("b@x.y", RecordAction::Skip, s, "No HubSpot contact has this email"),
                    rec("c@x.y", RecordAction::Skip, s, "No HubSpot contact has this email"),
                    rec("not-an-email", RecordAction::Invalid, s, "Not pushed: no @"),
                    rec("(Didomi user 7)", RecordAction::Invalid, s, "Not pushed: empty"),
                    rec("d@x.y", RecordAction::Duplicate, s, "shares this email"),
                ],
            )
            .expect("records");
        (store, run)
    }

    #[test]
    fn every_record_not_written_is_exported_with_its_outcome() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, run) = run_with_every_outcome(dir.path());
        let path = dir.path().join("records.csv");
        let rows = write_records_csv(&store, run, &path).expect("export");
        assert_eq!(rows, 6, "failures, skips, invalid and duplicates are all exported");
        let mut r = csv::Reader::from_path(&path).expect("read back");
        assert_eq!(r.headers().expect("header"), RECORDS_CSV_HEADER.as_slice(), "header");
        let got: Vec<(String, String)> = r
            .records()
            .map(|x| x.expect("row"))
            .map(|x| (x[0].to_owned(), x[1].to_owned()))
            .collect();
        let want = [
            ("a@x.y", "failed"),
            ("b@x.y", "skipped (no contact)"),
            ("c@x.y", "skipped (no contact)"),
            ("not-an-email", "invalid"),
            ("(Didomi user 7)", "invalid"),
            ("d@x.y", "duplicate"),
        ];
        let want: Vec<(String, String)> =
            want.iter().map(|(e, o)| (e.to_string(), o.to_string())).collect();
        assert_eq!(got, want, "one row per record, with the outcome the UI shows");
        assert!(!dir.path().join("records.csv.part").exists(), "no partial file left");
    }

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_neutralised_and_nul_is_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_in(dir.path()).expect("store");
        let run = store
            .begin_run(SyncDirection::Push, RunMode::Incremental, false, "2026-12-01T10:00:00Z")
            .expect("run");
        let s = RecordStatus::Skipped;
        let hostile = [
            "=HYPERLINK(\"https://evil.example\",\"x\")@x.y",
            "+1-555@x.y",
            "-2+3@x.y",
            "@SUM(A1)@x.y",
            "\tcmd@x.y",
            "\rcmd@x.y",
            "nul\0byte@x.y",
        ];
        let recs: Vec<_> =
            hostile.iter().map(|e| rec(e, RecordAction::Invalid, s, "=1+1")).collect();
        store.add_records(run, &recs).expect("records");
        let path = dir.path().join("records.csv");
        write_records_csv(&store, run, &path).expect("export");
        let bytes = std::fs::read(&path).expect("file");
        assert!(!bytes.contains(&0), "no NUL byte in the file");
        let mut r = csv::Reader::from_path(&path).expect("read back");
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
        let emails: Vec<&str> = rows.iter().map(|x| &x[0]).collect();
        assert_eq!(
            emails,
            [
                "'=HYPERLINK(\"https://evil.example\",\"x\")@x.y",
                "'+1-555@x.y",
                "'-2+3@x.y",
                "'@SUM(A1)@x.y",
                "'\tcmd@x.y",
                "'\rcmd@x.y",
                "nulbyte@x.y",
            ],
            "formula starts get a leading quote; the rest is kept as is"
        );
        assert!(
            rows.iter().all(|x| &x[4] == "'=1+1"),
            "every column is neutralised, not only email"
        );
        assert_eq!(safe_cell("plain@x.y"), "plain@x.y", "ordinary values are untouched");
    }
}
