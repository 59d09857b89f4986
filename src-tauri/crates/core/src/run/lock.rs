//! One run at a time per data folder, across processes.
//!
//! Every push and pull (started in the window, by auto-sync or by the CLI) holds an exclusive OS
//! file lock on `run.lock` in the data folder for its whole life. A second run, in this process
//! or another, is refused at once with [`ErrorCode::SyncAlreadyRunning`] naming the holder
//! (program, pid, since when), which the holder writes into the file. The OS releases the lock
//! when the holder's process ends, however it ends (`kill -9` included), so a crashed holder
//! never blocks the next run; and because only the lock holder can have a run `Running` in the
//! history, the next holder may mark every such run as interrupted.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};

/// The lock file's name inside the data folder.
pub const FILE_NAME: &str = "run.lock";

/// Who holds the lock (written into the file for the next one who asks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// `app` or `cli` (or the program's file name when it is neither).
    pub program: String,
    /// Process id.
    pub pid: u32,
    /// When the run took the lock (RFC 3339, UTC).
    pub since: String,
    /// What runs: `push` or `pull`.
    pub run: String,
}

impl Holder {
    /// This process, starting a `run` now.
    pub fn this_process(run: &str) -> Self {
        let exe = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_default();
        let program = match exe.as_str() {
            "dhs-app" | "didomi-hubspot-sync-app" => "app".to_owned(),
            "didomi-hubspot-sync" => "cli".to_owned(),
            "" => "unknown".to_owned(),
            other => other.to_owned(),
        };
        let since = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Self { program, pid: std::process::id(), since, run: run.to_owned() }
    }

    fn describe(&self) -> String {
        let who = match self.program.as_str() {
            "app" => "the app".to_owned(),
            "cli" => "the command-line tool (didomi-hubspot-sync)".to_owned(),
            other => format!("the program {other:?}"),
        };
        format!("a {} run of {who} (process {}) since {}", self.run, self.pid, self.since)
    }
}

/// A held run lock; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock of `data_dir` for `holder`, or refuses at once.
    ///
    /// # Errors
    /// [`ErrorCode::SyncAlreadyRunning`] when another run holds it (naming the holder);
    /// [`ErrorCode::SyncStateUnavailable`] when the file cannot be opened.
    pub fn acquire(data_dir: &Path, holder: &Holder) -> Result<Self, Error> {
        let path = data_dir.join(FILE_NAME);
        let unavailable = |e: std::io::Error| {
            Error::new(
                ErrorCode::SyncStateUnavailable,
                format!(
                    "The run lock {} cannot be opened ({e}). Check the permissions of the app data folder.",
                    path.display()
                ),
            )
        };
        std::fs::create_dir_all(data_dir).map_err(unavailable)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(unavailable)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let who = serde_json::from_str::<Holder>(&text)
                    .map(|h| h.describe())
                    .unwrap_or_else(|_| "another run".to_owned());
                return Err(Error::new(
                    ErrorCode::SyncAlreadyRunning,
                    format!(
                        "Another sync is running on this data folder: {who}. Only one run at a time may write, so this one did not start. Wait for it to finish (or cancel it there), then start again."
                    ),
                ));
            }
            Err(TryLockError::Error(e)) => return Err(unavailable(e)),
        }
        let json = serde_json::to_string(holder).expect("holder serializes");
        let written = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(json.as_bytes()));
        if let Err(e) = written {
            tracing::warn!(error = %e, "cannot write the run lock's holder");
        }
        Ok(Self { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Runs `open` (a database's creation, schema and migrations) while holding an OS lock on
/// `<path>.open-lock`: processes and threads opening one new data folder at once then set it up
/// one after the other. SQLite's own busy wait does not cover this: switching a new database to
/// WAL answers "database is locked" at once when another connection holds it.
///
/// # Errors
/// The lock file's error; `open`'s own result is inside.
pub fn while_opening<T>(path: &Path, open: impl FnOnce() -> T) -> std::io::Result<T> {
    let mut name = path.as_os_str().to_owned();
    name.push(".open-lock");
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(name)?;
    file.lock()?;
    let r = open();
    drop(file);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_is_refused_naming_the_holder_and_runs_after_release() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = Holder {
            program: "cli".into(),
            pid: 4242,
            since: "2026-12-03T08:00:00Z".into(),
            run: "push".into(),
        };
        let held = RunLock::acquire(dir.path(), &first).expect("first run takes the lock");
        let err = RunLock::acquire(dir.path(), &Holder::this_process("pull"))
            .expect_err("second run refused");
        assert_eq!(err.code, ErrorCode::SyncAlreadyRunning, "code");
        assert!(err.message.contains("process 4242"), "names the pid: {}", err.message);
        assert!(err.message.contains("command-line tool"), "names the program: {}", err.message);
        assert!(err.message.contains("2026-12-03T08:00:00Z"), "says since when: {}", err.message);
        drop(held);
        RunLock::acquire(dir.path(), &Holder::this_process("push")).expect("free again");
    }
}
