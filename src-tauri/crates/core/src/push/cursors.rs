//! The cursor of every page of the listing, as the scan saw them, kept in an anonymous file in
//! the data folder (deleted when closed, also after a crash) rather than in memory: 10,000 of
//! them at 1,000,000 people. The writing pass reads them back in order, a few at a time
//! (`read_listing` in the engine). Disk: the cursors' bytes plus 4 a page, written once.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The cursors of a scan, written as it goes (the file is made at the first one).
#[derive(Debug)]
pub(crate) struct CursorLog {
    dir: PathBuf,
    file: Option<BufWriter<File>>,
}

impl CursorLog {
    /// A log writing to an anonymous file in `dir`.
    pub(crate) fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf(), file: None }
    }

    /// Appends the next page's cursor.
    ///
    /// # Errors
    /// Making or writing the file failed.
    pub(crate) fn push(&mut self, cursor: &str) -> std::io::Result<()> {
        let file = match &mut self.file {
            Some(f) => f,
            None => {
                std::fs::create_dir_all(&self.dir)?;
                self.file.insert(BufWriter::new(tempfile::tempfile_in(&self.dir)?))
            }
        };
        let len = u32::try_from(cursor.len()).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "a listing cursor over 4 GB")
        })?;
        file.write_all(&len.to_le_bytes())?;
        file.write_all(cursor.as_bytes())
    }

    /// The cursors written, from the first.
    ///
    /// # Errors
    /// Writing the last ones or rewinding the file failed.
    pub(crate) fn finish(self) -> std::io::Result<Cursors> {
        let Some(file) = self.file else { return Ok(Cursors::default()) };
        let mut file = file.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        file.seek(SeekFrom::Start(0))?;
        Ok(Cursors { file: Some(BufReader::with_capacity(4096, file)) })
    }
}

/// The scan's cursors, read back in order.
#[derive(Debug, Default)]
pub(crate) struct Cursors {
    file: Option<BufReader<File>>,
}

impl Iterator for Cursors {
    type Item = std::io::Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        let file = self.file.as_mut()?;
        let mut len = [0u8; 4];
        match file.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                self.file = None;
                return None;
            }
            Err(e) => return Some(Err(e)),
        }
        let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
        Some(file.read_exact(&mut bytes).and_then(|()| {
            String::from_utf8(bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any cursors (empty, long, any characters) come back as written, in order.
        #[test]
        fn cursors_come_back_in_order(cursors in prop::collection::vec(".*", 0..50)) {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut log = CursorLog::new(dir.path());
            for c in &cursors {
                log.push(c).expect("push");
            }
            let back: Vec<String> =
                log.finish().expect("finish").collect::<Result<_, _>>().expect("read");
            prop_assert_eq!(back, cursors);
            prop_assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "no file left");
        }
    }

    #[test]
    fn no_cursor_makes_no_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = CursorLog::new(&dir.path().join("not yet"));
        assert_eq!(log.finish().expect("finish").count(), 0);
        assert!(!dir.path().join("not yet").exists(), "nothing made");
    }
}
