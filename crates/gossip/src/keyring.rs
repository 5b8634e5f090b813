//! The gossip keyring: the primary key that encrypts, plus every installed key that
//! may decrypt. Install / use / remove / list follow Consul's semantics and errors.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::KeyringError;

/// One AES key of 16, 24 or 32 bytes (AES-128/192/256-GCM).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// Wraps raw key bytes, checking the length.
    pub fn new(bytes: Vec<u8>) -> Result<Self, KeyringError> {
        match bytes.len() {
            16 | 24 | 32 => Ok(Self(bytes)),
            _ => Err(KeyringError::InvalidKeySize),
        }
    }

    /// Parses a key in Consul's `encrypt` format: standard base64.
    pub fn from_base64(text: &str) -> Result<Self, KeyringError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| KeyringError::InvalidBase64(e.to_string()))?;
        Self::new(bytes)
    }

    /// The key in Consul's base64 form.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(<{} bytes>)", self.0.len())
    }
}

/// The installed keys. `primary` encrypts; every key in `keys` (which always
/// contains the primary) is tried when decrypting, primary first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyring {
    primary: SecretKey,
    keys: Vec<SecretKey>,
}

impl Keyring {
    /// A keyring holding one key, which is primary.
    pub fn new(primary: SecretKey) -> Self {
        Self {
            keys: vec![primary.clone()],
            primary,
        }
    }

    /// A keyring holding `keys`, the first one primary (the order of Consul's keyring
    /// file). `None` when `keys` is empty.
    pub fn from_keys(keys: Vec<SecretKey>) -> Option<Self> {
        let primary = keys.first()?.clone();
        let mut ring = Self::new(primary);
        for key in keys {
            ring.install(key);
        }
        Some(ring)
    }

    /// Whether `key` is installed.
    pub fn contains(&self, key: &SecretKey) -> bool {
        self.keys.contains(key)
    }

    /// A keyring from Consul's `encrypt` value (base64).
    pub fn from_base64(primary: &str) -> Result<Self, KeyringError> {
        Ok(Self::new(SecretKey::from_base64(primary)?))
    }

    /// The key used to encrypt.
    pub fn primary(&self) -> &SecretKey {
        &self.primary
    }

    /// Every installed key, primary first.
    pub fn keys(&self) -> impl Iterator<Item = &SecretKey> {
        std::iter::once(&self.primary).chain(self.keys.iter().filter(|k| **k != self.primary))
    }

    /// Installs a key for decryption. Installing an installed key is a no-op.
    pub fn install(&mut self, key: SecretKey) {
        if !self.keys.contains(&key) {
            self.keys.push(key);
        }
    }

    /// Makes an installed key the primary.
    pub fn use_key(&mut self, key: &SecretKey) -> Result<(), KeyringError> {
        if !self.keys.contains(key) {
            return Err(KeyringError::KeyNotInstalled);
        }
        self.primary = key.clone();
        Ok(())
    }

    /// Removes a key. Removing the primary fails; removing an unknown key is a no-op.
    pub fn remove(&mut self, key: &SecretKey) -> Result<(), KeyringError> {
        if *key == self.primary {
            return Err(KeyringError::RemovePrimary);
        }
        self.keys.retain(|k| k != key);
        Ok(())
    }

    /// Every installed key in base64, primary first (what `consul keyring -list` shows).
    pub fn list(&self) -> Vec<String> {
        self.keys().map(SecretKey::to_base64).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8, len: usize) -> SecretKey {
        SecretKey::new(vec![byte; len]).unwrap()
    }

    #[test]
    fn key_sizes_follow_aes() {
        for len in [16, 24, 32] {
            assert!(SecretKey::new(vec![0; len]).is_ok());
        }
        for len in [0, 15, 17, 31, 33, 64] {
            assert_eq!(
                SecretKey::new(vec![0; len]),
                Err(KeyringError::InvalidKeySize)
            );
        }
    }

    #[test]
    fn base64_round_trip_and_errors() {
        let k = key(7, 32);
        assert_eq!(SecretKey::from_base64(&k.to_base64()).unwrap(), k);
        assert!(matches!(
            SecretKey::from_base64("not base64!"),
            Err(KeyringError::InvalidBase64(_))
        ));
        assert_eq!(
            SecretKey::from_base64("AAAA"),
            Err(KeyringError::InvalidKeySize)
        );
    }

    #[test]
    fn install_use_remove_list() {
        let (a, b) = (key(1, 16), key(2, 32));
        let mut ring = Keyring::new(a.clone());
        ring.install(b.clone());
        ring.install(b.clone());
        assert_eq!(ring.list(), vec![a.to_base64(), b.to_base64()]);

        ring.use_key(&b).unwrap();
        assert_eq!(ring.primary(), &b);
        assert_eq!(ring.list(), vec![b.to_base64(), a.to_base64()]);

        ring.remove(&a).unwrap();
        assert_eq!(ring.list(), vec![b.to_base64()]);
        ring.remove(&a).unwrap();
    }

    #[test]
    fn from_keys_keeps_file_order_primary_first() {
        let (a, b) = (key(1, 16), key(2, 32));
        assert_eq!(Keyring::from_keys(Vec::new()), None);
        let ring = Keyring::from_keys(vec![b.clone(), a.clone(), b.clone()]).unwrap();
        assert_eq!(ring.primary(), &b);
        assert_eq!(ring.list(), vec![b.to_base64(), a.to_base64()]);
        assert!(ring.contains(&a));
        assert!(!ring.contains(&key(3, 16)));
    }

    #[test]
    fn consul_error_texts() {
        let (a, b) = (key(1, 16), key(2, 16));
        let mut ring = Keyring::new(a.clone());
        let err = ring.remove(&a).unwrap_err();
        assert_eq!(err.to_string(), "Removing the primary key is not allowed");
        let err = ring.use_key(&b).unwrap_err();
        assert_eq!(err.to_string(), "Requested key is not in the keyring");
    }
}
