//! Where raft snapshots (state-machine bytes plus openraft's meta) are kept.
//!
//! With a data dir, snapshots are files in `<data_dir>/raft/snapshots/`, written atomically:
//! write `*.tmp`, fsync it, rename it into place, fsync the directory. The two newest are kept.
//! Without a data dir the latest snapshot is kept in memory. File layout:
//! `LGSNAP01` magic, big-endian u64 meta length, JSON meta, then the raw state bytes.

use std::fs;
use std::io;
use std::io::Write as _;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;

use crate::types::SnapshotMeta;

const MAGIC: &[u8; 8] = b"LGSNAP01";
const SUFFIX: &str = ".snap";
const KEEP: usize = 2;

/// The latest snapshot: its meta, and its bytes when held in memory.
#[derive(Clone)]
struct Current {
    meta: SnapshotMeta,
    location: Location,
}

#[derive(Clone)]
enum Location {
    Memory(Arc<Vec<u8>>),
    File(PathBuf),
}

/// Persists and loads the latest snapshot.
pub(crate) struct SnapshotStore {
    dir: Option<PathBuf>,
    current: Mutex<Option<Current>>,
}

impl SnapshotStore {
    /// Open the store; with a directory, find the newest readable snapshot in it.
    pub(crate) fn open(dir: Option<PathBuf>) -> io::Result<Self> {
        let mut current = None;
        if let Some(dir) = &dir {
            fs::create_dir_all(dir)?;
            for path in list(dir, ".tmp")? {
                let _ = fs::remove_file(path);
            }
            // Newest first; skip (and warn about) unreadable files.
            for path in list(dir, SUFFIX)?.into_iter().rev() {
                match read_file(&path) {
                    Ok((meta, _)) => {
                        current = Some(Current {
                            meta,
                            location: Location::File(path),
                        });
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable raft snapshot")
                    }
                }
            }
        }
        Ok(Self {
            dir,
            current: Mutex::new(current),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<Current>> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Meta of the latest snapshot, if any.
    #[cfg(test)]
    pub(crate) fn current_meta(&self) -> Option<SnapshotMeta> {
        self.lock().as_ref().map(|c| c.meta.clone())
    }

    /// The latest snapshot's meta and bytes, if any.
    pub(crate) fn load_current(&self) -> io::Result<Option<(SnapshotMeta, Vec<u8>)>> {
        let current = self.lock().clone();
        match current {
            None => Ok(None),
            Some(Current {
                meta,
                location: Location::Memory(data),
            }) => Ok(Some((meta, data.as_ref().clone()))),
            Some(Current {
                location: Location::File(path),
                ..
            }) => read_file(&path).map(Some),
        }
    }

    /// Durably store a snapshot and make it the current one.
    pub(crate) fn save(&self, meta: &SnapshotMeta, data: Vec<u8>) -> io::Result<()> {
        let Some(dir) = &self.dir else {
            *self.lock() = Some(Current {
                meta: meta.clone(),
                location: Location::Memory(Arc::new(data)),
            });
            return Ok(());
        };
        let index = meta.last_log_id.as_ref().map_or(0, |id| id.index + 1);
        let name = format!("snapshot-{index:020}{SUFFIX}");
        let path = dir.join(&name);
        let tmp = dir.join(format!("{name}.tmp"));
        let meta_json =
            serde_json::to_vec(meta).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(MAGIC)?;
            f.write_all(&(meta_json.len() as u64).to_be_bytes())?;
            f.write_all(&meta_json)?;
            f.write_all(&data)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        fs::File::open(dir)?.sync_all()?;
        *self.lock() = Some(Current {
            meta: meta.clone(),
            location: Location::File(path),
        });

        let files = list(dir, SUFFIX)?;
        for old in files.iter().take(files.len().saturating_sub(KEEP)) {
            if let Err(e) = fs::remove_file(old) {
                tracing::warn!(path = %old.display(), error = %e, "failed to remove old raft snapshot");
            }
        }
        Ok(())
    }
}

/// Files in `dir` whose names end in `suffix`, sorted by name (oldest first).
fn list(dir: &Path, suffix: &str) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("snapshot-") && n.ends_with(suffix))
        {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn read_file(path: &Path) -> io::Result<(SnapshotMeta, Vec<u8>)> {
    let bytes = fs::read(path)?;
    let bad = |msg: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {msg}", path.display()),
        )
    };
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| bad("bad magic"))?;
    let (len, rest) = rest
        .split_first_chunk::<8>()
        .ok_or_else(|| bad("truncated header"))?;
    let len = usize::try_from(u64::from_be_bytes(*len)).map_err(|_| bad("meta too long"))?;
    if rest.len() < len {
        return Err(bad("truncated meta"));
    }
    let (meta, data) = rest.split_at(len);
    let meta = serde_json::from_slice(meta).map_err(|e| bad(&e.to_string()))?;
    Ok((meta, data.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StoredMembership;

    fn meta(index: Option<u64>) -> SnapshotMeta {
        SnapshotMeta {
            last_log_id: index.map(|i| {
                openraft::LogId::new(
                    openraft::alias::CommittedLeaderIdOf::<crate::types::TypeConfig>::new(1),
                    i,
                )
            }),
            last_membership: StoredMembership::default(),
        }
    }

    #[test]
    fn file_store_round_trips_and_keeps_two_newest() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(Some(dir.path().to_path_buf())).unwrap();
        assert!(store.load_current().unwrap().is_none());
        for i in [3, 7, 11] {
            store.save(&meta(Some(i)), vec![i as u8; 4]).unwrap();
        }
        let (m, data) = store.load_current().unwrap().unwrap();
        assert_eq!(m, meta(Some(11)));
        assert_eq!(data, vec![11; 4]);
        assert_eq!(list(dir.path(), SUFFIX).unwrap().len(), 2);

        // Reopening finds the newest snapshot; a torn temp file is cleaned up.
        fs::write(dir.path().join("snapshot-99.snap.tmp"), b"junk").unwrap();
        let reopened = SnapshotStore::open(Some(dir.path().to_path_buf())).unwrap();
        assert_eq!(reopened.current_meta(), Some(meta(Some(11))));
        assert!(list(dir.path(), ".tmp").unwrap().is_empty());
    }

    #[test]
    fn corrupt_newest_file_falls_back_to_older() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(Some(dir.path().to_path_buf())).unwrap();
        store.save(&meta(Some(1)), b"old".to_vec()).unwrap();
        fs::write(
            dir.path().join(format!("snapshot-{:020}{SUFFIX}", 50)),
            b"LGSNAP01garbage",
        )
        .unwrap();
        let reopened = SnapshotStore::open(Some(dir.path().to_path_buf())).unwrap();
        let (m, data) = reopened.load_current().unwrap().unwrap();
        assert_eq!(m, meta(Some(1)));
        assert_eq!(data, b"old");
    }

    #[test]
    fn memory_store_keeps_latest() {
        let store = SnapshotStore::open(None).unwrap();
        store.save(&meta(None), b"a".to_vec()).unwrap();
        store.save(&meta(Some(2)), b"b".to_vec()).unwrap();
        assert_eq!(
            store.load_current().unwrap(),
            Some((meta(Some(2)), b"b".to_vec()))
        );
    }
}
