//! Finding the emails several Didomi users share, and the newest user of each, in memory that
//! does not grow with the population.
//!
//! The scan sees every user once, as (email key, rank) pairs of 40 bytes. Holding them all
//! would cost 40 MB at 1,000,000 people (and twice that while the vector grows), so the pairs
//! are gathered in chunks of [`CHUNK`]; a full chunk is sorted and written to an anonymous
//! file in the data folder (deleted when closed, also after a crash), and the sorted chunks are
//! merged at the end. Disk: 40 bytes per user, written once (4 MB for 100,000 people).
//!
//! The merge finds the shared emails ([`SharedEmails`]). They are kept in a SQLite file of the
//! run in the data folder, with what the writing pass learns about them (the winner once met,
//! the losers met before it), and in memory only as 8 bytes each (a sorted filter that spares
//! the other users a lookup in that table): 88 KB at 1,000,000 people with one in 89 sharing an email. The
//! file also keeps the rank of each email's only user, so that the writing pass can tell a user
//! the scan did not see as it is now (the listing left it out, or it changed since): ≈ 45 bytes
//! an email, written once.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use super::engine::Rank;

/// The winner of a shared email as the writing pass met it: its Didomi id and `updated_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    pub(crate) id: String,
    pub(crate) updated: String,
}

/// A Didomi user that lost its email to a newer one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loser {
    pub(crate) email: String,
    pub(crate) ouid: String,
    pub(crate) user_id: String,
    pub(crate) updated: String,
}

/// Pairs gathered before a chunk is sorted and written (2 MB).
pub(crate) const CHUNK: usize = (2 << 20) / ENTRY_BYTES;

/// One user's entry: its email's key (in two halves, so that an entry takes 40 bytes in memory
/// rather than the 48 a `u128`'s alignment would round it to) and its rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    key: [u64; 2],
    rank: Rank,
}

impl Entry {
    fn new(key: u128, rank: Rank) -> Self {
        Self { key: [(key >> 64) as u64, key as u64], rank }
    }

    fn key(&self) -> u128 {
        (u128::from(self.key[0]) << 64) | u128::from(self.key[1])
    }
}

const ENTRY_BYTES: usize = 40;

/// The read buffers of all the chunks together during the merge (so that they do not grow with
/// the population: 19 chunks at 1,000,000 people read 6.7 KB at a time each).
const READ_BUFFERS: usize = 128 * 1024;

/// Read buffer of each chunk during the merge: a share of [`READ_BUFFERS`], at least a page.
fn read_buffer(chunks: usize) -> usize {
    (READ_BUFFERS / chunks.max(1)).max(4096)
}

/// The order of the merge: by email key, newest first within an email (so the first entry of
/// a run of equal keys is the winner).
fn order(e: &Entry) -> ([u64; 2], Reverse<Rank>) {
    (e.key, Reverse(e.rank))
}

/// Gathers (email key, rank) pairs, spilling sorted chunks to disk.
#[derive(Debug)]
pub(crate) struct KeySorter {
    dir: PathBuf,
    chunk: usize,
    buffer: Vec<Entry>,
    runs: Vec<File>,
}

impl KeySorter {
    /// A sorter spilling to anonymous files in `dir`.
    pub(crate) fn new(dir: &Path) -> Self {
        Self::with_chunk(dir, CHUNK)
    }

    /// With chunks of `chunk` pairs (tests use small ones).
    pub(crate) fn with_chunk(dir: &Path, chunk: usize) -> Self {
        let chunk = chunk.max(1);
        Self { dir: dir.to_path_buf(), chunk, buffer: Vec::with_capacity(chunk), runs: Vec::new() }
    }

    /// Adds one user's pair.
    ///
    /// # Errors
    /// Writing a full chunk to disk failed.
    pub(crate) fn push(&mut self, key: u128, rank: Rank) -> std::io::Result<()> {
        self.buffer.push(Entry::new(key, rank));
        if self.buffer.len() >= self.chunk {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        self.buffer.sort_unstable_by_key(order);
        std::fs::create_dir_all(&self.dir)?;
        let mut file = tempfile::tempfile_in(&self.dir)?;
        {
            let mut w = BufWriter::new(&mut file);
            for e in self.buffer.drain(..) {
                let (ms, prefix, hash) = e.rank;
                w.write_all(&e.key().to_le_bytes())?;
                w.write_all(&ms.to_le_bytes())?;
                w.write_all(&prefix.to_le_bytes())?;
                w.write_all(&hash.to_le_bytes())?;
            }
            w.flush()?;
        }
        file.seek(SeekFrom::Start(0))?;
        self.runs.push(file);
        Ok(())
    }

    /// Each email, in key order: its key, the winner's rank and how many users have it.
    ///
    /// # Errors
    /// Reading a chunk back failed, or `each` failed.
    fn merge(
        mut self,
        mut each: impl FnMut(u128, Rank, u32) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        self.buffer.sort_unstable_by_key(order);
        let one = read_buffer(self.runs.len());
        let mut sources: Vec<Source> =
            self.runs.into_iter().map(|f| Source::File(BufReader::with_capacity(one, f))).collect();
        sources.push(Source::Memory(self.buffer.into_iter()));
        let mut heap = BinaryHeap::new();
        for (i, s) in sources.iter_mut().enumerate() {
            if let Some(e) = s.next_entry()? {
                heap.push(Reverse((order(&e), i, e)));
            }
        }
        let mut current: Option<(u128, Rank, u32)> = None;
        while let Some(Reverse((_, i, e))) = heap.pop() {
            if let Some(next) = sources[i].next_entry()? {
                heap.push(Reverse((order(&next), i, next)));
            }
            current = match current {
                Some((key, winner, n)) if key == e.key() => Some((key, winner, n + 1)),
                done => {
                    if let Some((key, winner, n)) = done {
                        each(key, winner, n)?;
                    }
                    Some((e.key(), e.rank, 1))
                }
            };
        }
        if let Some((key, winner, n)) = current {
            each(key, winner, n)?;
        }
        Ok(())
    }

    /// The emails shared by several users with their winners, and the only user's rank of
    /// each other email, kept in a file of the run in the sorter's folder (see the module
    /// documentation).
    ///
    /// # Errors
    /// Reading a chunk back, or making or writing the file, failed.
    pub(crate) fn shared(self) -> std::io::Result<SharedEmails> {
        let file = RunFile::create(&self.dir)?;
        file.conn.execute_batch("BEGIN").map_err(sql)?;
        let mut shared = SharedEmails { filter: Vec::new(), file: Some(file) };
        self.merge(|key, winner, n| match n {
            1 => shared.add_single(key, winner),
            _ => shared.add(key, winner),
        })?;
        shared.added()?;
        Ok(shared)
    }
}

/// A sorted run: a chunk on disk, or the last one still in memory.
enum Source {
    File(BufReader<File>),
    Memory(std::vec::IntoIter<Entry>),
}

impl Source {
    fn next_entry(&mut self) -> std::io::Result<Option<Entry>> {
        match self {
            Source::Memory(it) => Ok(it.next()),
            Source::File(reader) => {
                let mut buf = [0u8; ENTRY_BYTES];
                match reader.read_exact(&mut buf) {
                    Ok(()) => Ok(Some(decode(&buf))),
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }
}

fn decode(b: &[u8; ENTRY_BYTES]) -> Entry {
    let mut k = [0u8; 16];
    k.copy_from_slice(&b[..16]);
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        w
    };
    let rank =
        (i64::from_le_bytes(word(16)), u64::from_le_bytes(word(24)), u64::from_le_bytes(word(32)));
    Entry::new(u128::from_le_bytes(k), rank)
}

/// The file of a run's owners of emails in the data folder: `push-owners-<random>.sqlite3`.
const FILE_PREFIX: &str = "push-owners-";
const FILE_SUFFIX: &str = ".sqlite3";

/// SQLite's page cache for the file: the rest stays on disk (≈ 90 bytes a shared email, ≈ 45
/// bytes an email of one user).
const CACHE_KIB: i64 = 256;

const SCHEMA: &str = "
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA locking_mode = EXCLUSIVE;
CREATE TABLE shared (
  key BLOB PRIMARY KEY,
  winner BLOB NOT NULL,
  kept_id TEXT,
  kept_updated TEXT
) WITHOUT ROWID;
CREATE TABLE single (
  key BLOB PRIMARY KEY,
  rank BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE waiting (
  seq INTEGER PRIMARY KEY,
  key BLOB NOT NULL,
  email TEXT NOT NULL,
  ouid TEXT NOT NULL,
  user_id TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE INDEX waiting_key ON waiting(key);
";

/// The emails several users share, their winners' ranks, and what the writing pass learns
/// about them: the winner once met ([`Kept`]), the losers met before it ([`Loser`]); and the
/// rank of the only user of each other email ([`SharedEmails::single`]). Held in a SQLite file
/// of the run in the data folder (deleted when the run ends; one a crash left is deleted by the
/// next push, [`remove_left_files`]), and in memory only as a sorted filter of the shared keys'
/// first halves. The file has no journal: it is only ever read by the run that writes it.
#[derive(Debug, Default)]
pub(crate) struct SharedEmails {
    /// The first half of each shared email's key, sorted (8 bytes each).
    filter: Vec<u64>,
    file: Option<RunFile>,
}

#[derive(Debug)]
struct RunFile {
    conn: Connection,
    /// Deletes the file when the run ends (after `conn` is closed: fields drop in order).
    _path: tempfile::TempPath,
}

fn sql(e: rusqlite::Error) -> std::io::Error {
    std::io::Error::other(e)
}

fn key_bytes(key: u128) -> [u8; 16] {
    key.to_be_bytes()
}

fn rank_bytes((ms, prefix, hash): Rank) -> [u8; 24] {
    let mut b = [0u8; 24];
    b[..8].copy_from_slice(&ms.to_le_bytes());
    b[8..16].copy_from_slice(&prefix.to_le_bytes());
    b[16..].copy_from_slice(&hash.to_le_bytes());
    b
}

fn rank_of(b: &[u8]) -> Option<Rank> {
    let word = |at: usize| -> Option<[u8; 8]> { b.get(at..at + 8)?.try_into().ok() };
    Some((
        i64::from_le_bytes(word(0)?),
        u64::from_le_bytes(word(8)?),
        u64::from_le_bytes(word(16)?),
    ))
}

impl SharedEmails {
    fn file(&self) -> std::io::Result<&RunFile> {
        self.file
            .as_ref()
            .ok_or_else(|| std::io::Error::other("the run's file of owners is not made"))
    }

    /// Adds a shared email (in key order).
    fn add(&mut self, key: u128, winner: Rank) -> std::io::Result<()> {
        self.file()?
            .conn
            .prepare_cached("INSERT INTO shared(key, winner) VALUES(?1, ?2)")
            .and_then(|mut st| st.execute(params![key_bytes(key), rank_bytes(winner)]))
            .map_err(sql)?;
        self.filter.push((key >> 64) as u64);
        Ok(())
    }

    /// Adds an email only one user has (in key order).
    fn add_single(&self, key: u128, rank: Rank) -> std::io::Result<()> {
        self.file()?
            .conn
            .prepare_cached("INSERT INTO single(key, rank) VALUES(?1, ?2)")
            .and_then(|mut st| st.execute(params![key_bytes(key), rank_bytes(rank)]))
            .map_err(sql)?;
        Ok(())
    }

    /// Ends the adding.
    fn added(&mut self) -> std::io::Result<()> {
        self.filter.shrink_to_fit();
        self.file()?.conn.execute_batch("COMMIT").map_err(sql)
    }

    /// The rank of the only user the scan saw with the email `key`; `None` if the scan saw
    /// several (see [`SharedEmails::get`]) or none.
    ///
    /// # Errors
    /// Reading the file failed.
    pub(crate) fn single(&self, key: u128) -> std::io::Result<Option<Rank>> {
        let Some(file) = &self.file else { return Ok(None) };
        let rank: Option<Vec<u8>> = file
            .conn
            .prepare_cached("SELECT rank FROM single WHERE key = ?1")
            .and_then(|mut st| st.query_row([key_bytes(key)], |r| r.get(0)).optional())
            .map_err(sql)?;
        rank.map(|b| {
            rank_of(&b).ok_or_else(|| std::io::Error::other("a rank unreadable in the run's file"))
        })
        .transpose()
    }

    /// Makes `key` an email several users have, with `winner` as its winner so far: the
    /// writing pass met a user of it that the scan did not see as it is now.
    ///
    /// # Errors
    /// Writing the file failed.
    pub(crate) fn share(&mut self, key: u128, winner: Rank) -> std::io::Result<()> {
        let file = self.file()?;
        file.conn
            .prepare_cached("DELETE FROM single WHERE key = ?1")
            .and_then(|mut st| st.execute([key_bytes(key)]))
            .map_err(sql)?;
        file.conn
            .prepare_cached("INSERT INTO shared(key, winner) VALUES(?1, ?2)")
            .and_then(|mut st| st.execute(params![key_bytes(key), rank_bytes(winner)]))
            .map_err(sql)?;
        let hi = (key >> 64) as u64;
        if let Err(at) = self.filter.binary_search(&hi) {
            self.filter.insert(at, hi);
        }
        Ok(())
    }

    /// Makes `winner` the winner of the shared email `key` (a newer user than the one the scan
    /// saw win it), not met yet.
    ///
    /// # Errors
    /// Writing the file failed.
    pub(crate) fn set_winner(&self, key: u128, winner: Rank) -> std::io::Result<()> {
        self.file()?
            .conn
            .prepare_cached(
                "UPDATE shared SET winner = ?2, kept_id = NULL, kept_updated = NULL WHERE key = ?1",
            )
            .and_then(|mut st| st.execute(params![key_bytes(key), rank_bytes(winner)]))
            .map_err(sql)?;
        Ok(())
    }

    /// The winner's rank of the email `key` if several users share it, and the winner if the
    /// writing pass has met it ([`SharedEmails::keep`]).
    ///
    /// # Errors
    /// Reading the file failed.
    pub(crate) fn get(&self, key: u128) -> std::io::Result<Option<(Rank, Option<Kept>)>> {
        let Some(file) = &self.file else { return Ok(None) };
        if self.filter.binary_search(&((key >> 64) as u64)).is_err() {
            return Ok(None);
        }
        let mut st = file
            .conn
            .prepare_cached("SELECT winner, kept_id, kept_updated FROM shared WHERE key = ?1")
            .map_err(sql)?;
        let row = st
            .query_row([key_bytes(key)], |r| {
                let winner: Vec<u8> = r.get(0)?;
                let kept = match (r.get(1)?, r.get(2)?) {
                    (Some(id), Some(updated)) => Some(Kept { id, updated }),
                    _ => None,
                };
                Ok((winner, kept))
            })
            .optional()
            .map_err(sql)?;
        row.map(|(winner, kept)| {
            rank_of(&winner).map(|w| (w, kept)).ok_or_else(|| {
                std::io::Error::other("a winner's rank unreadable in the run's file")
            })
        })
        .transpose()
    }

    /// Remembers the winner of `key` as the writing pass met it, and returns the losers that
    /// were waiting for it (in the order they were met).
    ///
    /// # Errors
    /// Reading or writing the file failed.
    pub(crate) fn keep(&self, key: u128, winner: &Kept) -> std::io::Result<Vec<Loser>> {
        let Some(file) = &self.file else { return Ok(Vec::new()) };
        let k = key_bytes(key);
        file.conn
            .prepare_cached("UPDATE shared SET kept_id = ?2, kept_updated = ?3 WHERE key = ?1")
            .and_then(|mut st| st.execute(params![k, winner.id, winner.updated]))
            .map_err(sql)?;
        file.take_waiting("WHERE key = ?1", params![k])
    }

    /// Keeps `loser` until the winner of `key` is met.
    ///
    /// # Errors
    /// Writing the file failed.
    pub(crate) fn wait(&self, key: u128, loser: &Loser) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Err(std::io::Error::other("a loser of an email no user shares"));
        };
        file.conn
            .prepare_cached(
                "INSERT INTO waiting(key, email, ouid, user_id, updated) VALUES(?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    key_bytes(key),
                    loser.email,
                    loser.ouid,
                    loser.user_id,
                    loser.updated
                ])
            })
            .map_err(sql)?;
        Ok(())
    }

    /// Up to `limit` of the losers still waiting (their winner was never met), oldest first.
    ///
    /// # Errors
    /// Reading or writing the file failed.
    pub(crate) fn take_unmet(&self, limit: u32) -> std::io::Result<Vec<Loser>> {
        match &self.file {
            Some(file) => file.take_waiting(
                "WHERE seq IN (SELECT seq FROM waiting ORDER BY seq LIMIT ?1)",
                params![limit],
            ),
            None => Ok(Vec::new()),
        }
    }
}

/// Deletes the files of shared emails that runs which crashed left in `dir`. Only a push calls
/// it, holding the run lock of the data folder: no other run is using one.
pub(crate) fn remove_left_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(FILE_PREFIX) && name.ends_with(FILE_SUFFIX) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl RunFile {
    /// A new, empty file in `dir`.
    fn create(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = tempfile::Builder::new()
            .prefix(FILE_PREFIX)
            .suffix(FILE_SUFFIX)
            .tempfile_in(dir)?
            .into_temp_path();
        let conn = Connection::open(&path).map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB).map_err(sql)?;
        Ok(Self { conn, _path: path })
    }

    /// Removes the waiting losers that `filter` selects and returns them, oldest first.
    fn take_waiting(
        &self,
        filter: &str,
        args: impl rusqlite::Params + Copy,
    ) -> std::io::Result<Vec<Loser>> {
        let select =
            format!("SELECT email, ouid, user_id, updated FROM waiting {filter} ORDER BY seq");
        let losers = self
            .conn
            .prepare_cached(&select)
            .and_then(|mut st| {
                st.query_map(args, |r| {
                    Ok(Loser {
                        email: r.get(0)?,
                        ouid: r.get(1)?,
                        user_id: r.get(2)?,
                        updated: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(sql)?;
        if !losers.is_empty() {
            self.conn
                .prepare_cached(&format!("DELETE FROM waiting {filter}"))
                .and_then(|mut st| st.execute(args))
                .map_err(sql)?;
        }
        Ok(losers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// The rule, written plainly: per email, the newest rank and the number of users.
    fn in_memory(entries: &[(u128, Rank)]) -> HashMap<u128, (Rank, u32)> {
        let mut all: HashMap<u128, (Rank, u32)> = HashMap::new();
        for (key, rank) in entries {
            let e = all.entry(*key).or_insert((*rank, 0));
            e.0 = e.0.max(*rank);
            e.1 += 1;
        }
        all
    }

    fn sorter(dir: &Path, chunk: usize, entries: &[(u128, Rank)]) -> KeySorter {
        let mut sorter = KeySorter::with_chunk(dir, chunk);
        for (k, r) in entries {
            sorter.push(*k, *r).expect("push");
        }
        sorter
    }

    fn loser(n: u32) -> Loser {
        Loser {
            email: format!("p{n}@example.com"),
            ouid: format!("P{n}@Example.com"),
            user_id: format!("user-{n}"),
            updated: format!("2026-01-0{}T00:00:00Z", n % 9 + 1),
        }
    }

    proptest! {
        /// Any population, any chunk size (so any number of spilled chunks, including none and
        /// one per user): the emails, their winners and counts are those of sorting everything
        /// in memory, in key order; and the run's file answers for exactly those, as shared
        /// emails when several users have them and as emails of one user otherwise.
        /// Few distinct keys and ranks make shares and ties on each part of the rank common;
        /// keys differ in both halves, and some share their first half.
        #[test]
        fn spilled_chunks_find_the_same_owners_as_sorting_in_memory(
            entries in prop::collection::vec(
                ((0u128..40).prop_map(|k| (k % 5) << 64 | k), (0i64..6, 0u64..3, 0u64..3)),
                0..400,
            ),
            chunk in 1usize..70,
        ) {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut merged = Vec::new();
            sorter(dir.path(), chunk, &entries)
                .merge(|k, w, n| {
                    merged.push((k, (w, n)));
                    Ok(())
                })
                .expect("merge");
            let want = in_memory(&entries);
            prop_assert!(merged.windows(2).all(|w| w[0].0 < w[1].0), "in key order, once each");
            prop_assert_eq!(merged.iter().copied().collect::<HashMap<_, _>>(), want.clone());

            let shared = sorter(dir.path(), chunk, &entries).shared().expect("shared");
            for k in (0u128..40).map(|k| (k % 5) << 64 | k) {
                let got = shared.get(k).expect("get");
                let several = want.get(&k).filter(|(_, n)| *n > 1);
                prop_assert_eq!(got, several.map(|(w, _)| (*w, None)));
                let one = want.get(&k).filter(|(_, n)| *n == 1);
                prop_assert_eq!(shared.single(k).expect("single"), one.map(|(w, _)| *w));
            }
        }

        /// Losers met before their winner wait for it, and come back, in the order met, once:
        /// with the winner when it is met, or as unmet at the end. A winner met is answered from
        /// then on.
        #[test]
        fn losers_wait_for_their_winner(
            events in prop::collection::vec((0u128..6, any::<bool>()), 0..60),
        ) {
            let dir = tempfile::tempdir().expect("temp dir");
            // Keys 0..6 are each shared by two users of rank 1 and 2.
            let entries: Vec<(u128, Rank)> =
                (0u128..6).flat_map(|k| [(k, (1, 0, 0)), (k, (2, 0, 0))]).collect();
            let shared = sorter(dir.path(), 4, &entries).shared().expect("shared");
            let mut waiting: HashMap<u128, Vec<Loser>> = HashMap::new();
            let mut met: HashMap<u128, Kept> = HashMap::new();
            for (n, (key, is_winner)) in events.iter().enumerate() {
                let (winner, kept) = shared.get(*key).expect("get").expect("shared");
                prop_assert_eq!(winner, (2, 0, 0));
                prop_assert_eq!(kept.as_ref(), met.get(key));
                if *is_winner {
                    let k = Kept { id: format!("winner-{n}"), updated: format!("t{n}") };
                    let back = shared.keep(*key, &k).expect("keep");
                    prop_assert_eq!(back, waiting.remove(key).unwrap_or_default());
                    met.insert(*key, k);
                } else if kept.is_none() {
                    let l = loser(n as u32);
                    shared.wait(*key, &l).expect("wait");
                    waiting.entry(*key).or_default().push(l);
                }
            }
            let mut unmet = Vec::new();
            loop {
                let some = shared.take_unmet(3).expect("unmet");
                if some.is_empty() {
                    break;
                }
                prop_assert!(some.len() <= 3);
                unmet.extend(some);
            }
            let mut want: Vec<Loser> = waiting.into_values().flatten().collect();
            want.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            unmet.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            prop_assert_eq!(unmet, want);
        }
    }

    #[test]
    fn spilled_files_leave_nothing_in_the_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut sorter = KeySorter::with_chunk(dir.path(), 3);
        for k in 0..20u128 {
            sorter.push(k % 7, (k as i64, 0, 0)).expect("push");
        }
        assert_eq!(sorter.runs.len(), 6, "six chunks spilled");
        let shared = sorter.shared().expect("merge");
        assert_eq!(shared.filter.len(), 7, "every key is shared");
        assert_eq!(shared.get(0).expect("get"), Some(((14, 0, 0), None)), "the newest of 0, 7, 14");
        let files = || std::fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(files(), 1, "only the run's file of shared emails");
        drop(shared);
        assert_eq!(files(), 0, "no file left");
    }

    /// Emails of one user are answered as such; one the writing pass finds shared after all
    /// (a user the scan did not see) becomes shared, with the winner given and then a newer one.
    #[test]
    fn an_email_of_one_user_can_become_shared() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut shared =
            sorter(dir.path(), 3, &[(1, (1, 0, 0)), (2, (1, 0, 0))]).shared().expect("shared");
        assert_eq!(shared.get(1).expect("get"), None);
        assert_eq!(shared.single(1).expect("single"), Some((1, 0, 0)));
        assert_eq!(shared.single(3).expect("single"), None, "an email the scan did not see");
        shared.share(1, (1, 0, 0)).expect("share");
        assert_eq!(shared.single(1).expect("single"), None);
        assert_eq!(shared.get(1).expect("get"), Some(((1, 0, 0), None)));
        let kept = Kept { id: "a".into(), updated: "t1".into() };
        assert!(shared.keep(1, &kept).expect("keep").is_empty());
        shared.set_winner(1, (2, 0, 0)).expect("set winner");
        assert_eq!(shared.get(1).expect("get"), Some(((2, 0, 0), None)), "newer, not met yet");
        assert_eq!(shared.get(2).expect("get"), None, "the other email is still of one user");
        drop(shared);
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "no file left");
    }

    #[test]
    fn a_crashed_runs_file_goes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let shared =
            sorter(dir.path(), 3, &[(1, (1, 0, 0)), (1, (2, 0, 0))]).shared().expect("shared");
        assert_eq!(shared.get(1).expect("get"), Some(((2, 0, 0), None)));
        let left = dir.path().join(format!("{FILE_PREFIX}crashed{FILE_SUFFIX}"));
        std::fs::write(&left, b"").expect("write");
        let other = dir.path().join("sync.sqlite3");
        std::fs::write(&other, b"").expect("write");
        remove_left_files(dir.path());
        assert!(!left.exists(), "the file a crashed run left is deleted");
        assert!(other.exists(), "nothing else is touched");
    }
}
