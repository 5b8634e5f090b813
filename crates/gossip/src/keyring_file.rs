//! The keyring file, as Consul keeps it: `serf/local.keyring` in the data directory, a
//! JSON array of base64 keys with the primary first, written with mode 0600 whenever
//! the keyring changes. At start the file wins over the `encrypt` setting, which only
//! seeds the file when there is none yet (Consul's `setupBaseKeyrings`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::KeyringError;
use crate::keyring::{Keyring, SecretKey};

/// Path of the LAN keyring file inside the data directory.
pub const LAN_KEYRING_FILE: &str = "serf/local.keyring";

/// A keyring file could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringFileError {
    /// Reading or writing the file failed.
    #[error("keyring file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a JSON array of strings.
    #[error("keyring file {path} is not a JSON array of keys: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        reason: String,
    },
    /// The file holds no key.
    #[error("no keys present in keyring file: {0}")]
    Empty(PathBuf),
    /// A key in the file (or the `encrypt` seed) is invalid.
    #[error("invalid key in keyring {path}: {source}")]
    Key {
        /// The file (empty for the `encrypt` seed).
        path: PathBuf,
        /// What is wrong with the key.
        source: KeyringError,
    },
}

/// Reads a keyring file; `Ok(None)` when it does not exist.
pub fn read_keyring_file(path: &Path) -> Result<Option<Keyring>, KeyringFileError> {
    let data = match std::fs::read(path) {
        Ok(data) => data,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(KeyringFileError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let encoded: Vec<String> =
        serde_json::from_slice(&data).map_err(|e| KeyringFileError::Parse {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let keys = encoded
        .iter()
        .map(|k| SecretKey::from_base64(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| KeyringFileError::Key {
            path: path.to_path_buf(),
            source,
        })?;
    Keyring::from_keys(keys)
        .map(Some)
        .ok_or_else(|| KeyringFileError::Empty(path.to_path_buf()))
}

/// Writes `keyring` to `path` (primary first), creating the directory (0700) and the
/// file (0600); the new content replaces the old one atomically.
pub fn write_keyring_file(path: &Path, keyring: &Keyring) -> Result<(), KeyringFileError> {
    let io = |source| KeyringFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let body = serde_json::to_vec_pretty(&keyring.list()).map_err(|e| io(e.into()))?;
    if let Some(dir) = path.parent() {
        create_private_dir(dir).map_err(io)?;
    }
    let tmp = path.with_extension("keyring.tmp");
    let mut file = private_file(&tmp).map_err(io)?;
    file.write_all(&body).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The keyring an agent starts with: the file's when it exists; otherwise the `encrypt`
/// key, which is then written to the file; `None` when neither exists (no encryption).
/// Without a file path (no data directory) only `encrypt` counts.
pub fn setup_keyring(
    file: Option<&Path>,
    encrypt: Option<&str>,
) -> Result<Option<Keyring>, KeyringFileError> {
    let seed = encrypt
        .map(|key| {
            Keyring::from_base64(key).map_err(|source| KeyringFileError::Key {
                path: PathBuf::new(),
                source,
            })
        })
        .transpose()?;
    let Some(path) = file else {
        return Ok(seed);
    };
    if let Some(existing) = read_keyring_file(path)? {
        if let Some(seed) = &seed
            && !existing.contains(seed.primary())
        {
            tracing::warn!(
                file = %path.display(),
                "gossip: the keyring file does not contain the configured encrypt key; using the file"
            );
        }
        return Ok(Some(existing));
    }
    if let Some(seed) = &seed {
        write_keyring_file(path, seed)?;
    }
    Ok(seed)
}

#[cfg(unix)]
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
pub(crate) fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
pub(crate) fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::new(vec![byte; 16]).unwrap()
    }

    #[test]
    fn write_then_read_keeps_order_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LAN_KEYRING_FILE);
        let mut ring = Keyring::new(key(1));
        ring.install(key(2));
        ring.use_key(&key(2)).unwrap();
        write_keyring_file(&path, &ring).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let listed: Vec<String> = serde_json::from_str(&text).unwrap();
        assert_eq!(listed, vec![key(2).to_base64(), key(1).to_base64()]);
        assert!(text.contains("\n  \""), "indented like Consul's file");
        let read = read_keyring_file(&path).unwrap().unwrap();
        assert_eq!(read.list(), ring.list());
        assert_eq!(read.primary(), &key(2));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn missing_file_is_none_and_bad_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("local.keyring");
        assert_eq!(read_keyring_file(&path).unwrap(), None);
        std::fs::write(&path, "[]").unwrap();
        assert!(matches!(
            read_keyring_file(&path),
            Err(KeyringFileError::Empty(_))
        ));
        std::fs::write(&path, "{\"a\":1}").unwrap();
        assert!(matches!(
            read_keyring_file(&path),
            Err(KeyringFileError::Parse { .. })
        ));
        std::fs::write(&path, "[\"AAAA\"]").unwrap();
        let err = read_keyring_file(&path).unwrap_err();
        assert!(
            err.to_string()
                .contains("key size must be 16, 24 or 32 bytes")
        );
    }

    #[test]
    fn encrypt_seeds_only_the_first_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LAN_KEYRING_FILE);
        let (first, second) = (key(1).to_base64(), key(2).to_base64());
        let ring = setup_keyring(Some(&path), Some(&first)).unwrap().unwrap();
        assert_eq!(ring.list(), vec![first.clone()]);
        assert!(path.exists(), "seeded file written");

        // A rotation saved to the file survives a restart with the old `encrypt`.
        let mut rotated = Keyring::new(key(2));
        rotated.install(key(1));
        write_keyring_file(&path, &rotated).unwrap();
        let ring = setup_keyring(Some(&path), Some(&first)).unwrap().unwrap();
        assert_eq!(ring.list(), vec![second, first.clone()]);

        // The file alone enables encryption.
        assert_eq!(setup_keyring(Some(&path), None).unwrap(), Some(rotated));
    }

    #[test]
    fn without_a_data_dir_only_encrypt_counts() {
        assert_eq!(setup_keyring(None, None).unwrap(), None);
        let ring = setup_keyring(None, Some(&key(3).to_base64())).unwrap();
        assert_eq!(ring, Some(Keyring::new(key(3))));
        assert!(matches!(
            setup_keyring(None, Some("nope!")),
            Err(KeyringFileError::Key { .. })
        ));
    }
}
