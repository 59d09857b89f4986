//! Finding the emails several Didomi users share, and the newest user of each, in memory that
//! does not grow with the population.
//!
//! The scan sees every user once, as (email key, rank) pairs of 40 bytes. Holding them all
//! would cost 40 MB at 1,000,000 people (and twice that while the vector grows), so the pairs
//! are gathered in chunks of [`CHUNK`]; a full chunk is sorted and written to an anonymous
//! file in the data folder (deleted when closed, also after a crash), and the sorted chunks are
//! merged at the end. Only the shared emails are kept: their number follows the duplicates,
//! not the population. Disk: 40 bytes per user, written once (4 MB for 100,000 people).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::engine::Rank;

/// Pairs gathered before a chunk is sorted and written (2 MB).
pub(crate) const CHUNK: usize = (2 << 20) / ENTRY_BYTES;

/// An email several users share: its winner's rank, how many of its users the writing pass has
/// still to handle, and the winner once that pass has met it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shared {
    pub(crate) winner: Rank,
    pub(crate) left: u32,
    /// The winner's Didomi id and `updated_at`, kept from when the writing pass meets it until
    /// the last user of the email is handled (to name it to the users it wins over).
    pub(crate) kept: Option<Kept>,
}

impl Shared {
    fn new(winner: Rank, users: u32) -> Self {
        Self { winner, left: users, kept: None }
    }
}

/// A winner's Didomi id and `updated_at` in one allocation: thousands of them may be open at
/// once in a large listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    text: Box<str>,
    id_len: usize,
}

impl Kept {
    pub(crate) fn new(id: &str, updated: &str) -> Self {
        Self { text: [id, updated].concat().into_boxed_str(), id_len: id.len() }
    }

    /// The id and the `updated_at`.
    pub(crate) fn parts(&self) -> (&str, &str) {
        self.text.split_at(self.id_len)
    }
}

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

/// Read buffer of each chunk during the merge (19 chunks on disk at 1,000,000 people: 1.2 MB).
const READ_BUFFER: usize = 64 * 1024;

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

    /// Each email shared by several users: the winner's rank and how many users share it.
    ///
    /// # Errors
    /// Reading a chunk back failed.
    pub(crate) fn shared(mut self) -> std::io::Result<HashMap<u128, Shared>> {
        self.buffer.sort_unstable_by_key(order);
        let mut sources: Vec<Source> = self
            .runs
            .into_iter()
            .map(|f| Source::File(BufReader::with_capacity(READ_BUFFER, f)))
            .collect();
        sources.push(Source::Memory(self.buffer.into_iter()));
        let mut heap = BinaryHeap::new();
        for (i, s) in sources.iter_mut().enumerate() {
            if let Some(e) = s.next_entry()? {
                heap.push(Reverse((order(&e), i, e)));
            }
        }
        let mut shared = HashMap::new();
        let mut current: Option<(u128, Rank, u32)> = None;
        while let Some(Reverse((_, i, e))) = heap.pop() {
            if let Some(next) = sources[i].next_entry()? {
                heap.push(Reverse((order(&next), i, next)));
            }
            current = match current {
                Some((key, winner, n)) if key == e.key() => Some((key, winner, n + 1)),
                done => {
                    if let Some((key, winner, n)) = done.filter(|c| c.2 > 1) {
                        shared.insert(key, Shared::new(winner, n));
                    }
                    Some((e.key(), e.rank, 1))
                }
            };
        }
        if let Some((key, winner, n)) = current.filter(|c| c.2 > 1) {
            shared.insert(key, Shared::new(winner, n));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rule, written plainly: per email, the newest rank and the number of users; kept when
    /// several users share it.
    fn in_memory(entries: &[(u128, Rank)]) -> HashMap<u128, Shared> {
        let mut all: HashMap<u128, Shared> = HashMap::new();
        for (key, rank) in entries {
            let e = all.entry(*key).or_insert(Shared::new(*rank, 0));
            e.winner = e.winner.max(*rank);
            e.left += 1;
        }
        all.retain(|_, s| s.left > 1);
        all
    }

    proptest! {
        /// Any population, any chunk size (so any number of spilled chunks, including none and
        /// one per user): the shared emails, their winners and counts are those of sorting
        /// everything in memory. Few distinct keys and ranks make shares and ties on each part
        /// of the rank common; keys differ in both halves.
        #[test]
        fn spilled_chunks_find_the_same_owners_as_sorting_in_memory(
            entries in prop::collection::vec(
                ((0u128..40).prop_map(|k| (k % 5) << 64 | k), (0i64..6, 0u64..3, 0u64..3)),
                0..400,
            ),
            chunk in 1usize..70,
        ) {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut sorter = KeySorter::with_chunk(dir.path(), chunk);
            for (k, r) in &entries {
                sorter.push(*k, *r).expect("push");
            }
            prop_assert_eq!(sorter.shared().expect("merge"), in_memory(&entries));
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
        assert_eq!(shared.len(), 7, "every key is shared");
        assert_eq!(shared[&0], Shared::new((14, 0, 0), 3), "the newest of 0, 7, 14 wins");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "no file left");
    }

    proptest! {
        /// Whatever the id and the time, even empty or with any characters, both come back.
        #[test]
        fn a_kept_winner_gives_back_its_id_and_time(id in ".*", updated in ".*") {
            let kept = Kept::new(&id, &updated);
            prop_assert_eq!(kept.parts(), (id.as_str(), updated.as_str()));
        }
    }
}
