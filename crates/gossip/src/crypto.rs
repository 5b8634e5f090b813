//! Packet and frame envelopes: a version byte, then either plaintext (no keyring)
//! or AES-GCM ciphertext under the keyring's primary key with a random 96-bit nonce.
//! Decryption tries every installed key, primary first.
//!
//! Layout: `0x00 ‖ plaintext` or `0x01 ‖ nonce[12] ‖ ciphertext ‖ tag[16]`; the
//! version byte is the associated data.

use aws_lc_rs::aead::{self, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::error::SecurityError;
use crate::keyring::{Keyring, SecretKey};

/// Version byte of a plaintext envelope.
const PLAIN: u8 = 0;
/// Version byte of an AES-GCM envelope.
const AES_GCM: u8 = 1;
/// Bytes an encrypted envelope adds to its plaintext.
pub(crate) const OVERHEAD: usize = 1 + NONCE_LEN + 16;

/// Wraps `plain` for the wire: encrypted with the primary key when a keyring is given.
pub(crate) fn seal(keyring: Option<&Keyring>, plain: &[u8]) -> Result<Vec<u8>, SecurityError> {
    let Some(keyring) = keyring else {
        let mut out = Vec::with_capacity(plain.len() + 1);
        out.push(PLAIN);
        out.extend_from_slice(plain);
        return Ok(out);
    };
    let key = aead_key(keyring.primary())?;
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| SecurityError::SealFailed)?;
    let mut body = plain.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from([AES_GCM]),
        &mut body,
    )
    .map_err(|_| SecurityError::SealFailed)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
    out.push(AES_GCM);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Unwraps an envelope. With a keyring only ciphertext is accepted, without one only
/// plaintext; a mismatch or a message no key authenticates is an error.
pub(crate) fn open(keyring: Option<&Keyring>, data: &[u8]) -> Result<Vec<u8>, SecurityError> {
    let (&version, rest) = data.split_first().ok_or(SecurityError::TooSmall)?;
    match (version, keyring) {
        (PLAIN, None) => Ok(rest.to_vec()),
        (PLAIN, Some(_)) => Err(SecurityError::PlainRemoteState),
        (AES_GCM, None) => Err(SecurityError::EncryptedRemoteState),
        (AES_GCM, Some(keyring)) => decrypt(keyring, rest),
        (other, _) => Err(SecurityError::UnknownVersion(other)),
    }
}

fn decrypt(keyring: &Keyring, data: &[u8]) -> Result<Vec<u8>, SecurityError> {
    if data.len() < NONCE_LEN + 16 {
        return Err(SecurityError::TooSmall);
    }
    let (nonce, body) = data.split_at(NONCE_LEN);
    for secret in keyring.keys() {
        let Ok(key) = aead_key(secret) else { continue };
        let Ok(nonce) = Nonce::try_assume_unique_for_key(nonce) else {
            return Err(SecurityError::TooSmall);
        };
        let mut buf = body.to_vec();
        if let Ok(plain) = key.open_in_place(nonce, Aad::from([AES_GCM]), &mut buf) {
            let len = plain.len();
            buf.truncate(len);
            return Ok(buf);
        }
    }
    Err(SecurityError::NoKeyDecrypts)
}

fn aead_key(secret: &SecretKey) -> Result<LessSafeKey, SecurityError> {
    let algorithm = match secret.as_bytes().len() {
        16 => &aead::AES_128_GCM,
        24 => &aead::AES_192_GCM,
        _ => &aead::AES_256_GCM,
    };
    let unbound =
        UnboundKey::new(algorithm, secret.as_bytes()).map_err(|_| SecurityError::SealFailed)?;
    Ok(LessSafeKey::new(unbound))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(byte: u8, len: usize) -> Keyring {
        Keyring::new(SecretKey::new(vec![byte; len]).unwrap())
    }

    #[test]
    fn round_trip_every_key_size() {
        for len in [16, 24, 32] {
            let ring = ring(3, len);
            let sealed = seal(Some(&ring), b"hello gossip").unwrap();
            assert_eq!(sealed.len(), b"hello gossip".len() + OVERHEAD);
            assert_ne!(&sealed[1 + NONCE_LEN..], b"hello gossip");
            assert_eq!(open(Some(&ring), &sealed).unwrap(), b"hello gossip");
        }
    }

    #[test]
    fn nonces_differ_between_packets() {
        let ring = ring(3, 32);
        assert_ne!(
            seal(Some(&ring), b"x").unwrap(),
            seal(Some(&ring), b"x").unwrap()
        );
    }

    #[test]
    fn wrong_key_is_rejected_with_consul_text() {
        let sealed = seal(Some(&ring(1, 32)), b"secret").unwrap();
        let err = open(Some(&ring(2, 32)), &sealed).unwrap_err();
        assert_eq!(err, SecurityError::NoKeyDecrypts);
        assert_eq!(
            err.to_string(),
            "No installed keys could decrypt the message"
        );
    }

    #[test]
    fn secondary_keys_decrypt() {
        let old = ring(1, 16);
        let sealed = seal(Some(&old), b"rotating").unwrap();
        let mut new = ring(2, 32);
        new.install(old.primary().clone());
        assert_eq!(open(Some(&new), &sealed).unwrap(), b"rotating");
    }

    #[test]
    fn tampering_is_detected() {
        let ring = ring(1, 32);
        let mut sealed = seal(Some(&ring), b"payload").unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(
            open(Some(&ring), &sealed),
            Err(SecurityError::NoKeyDecrypts)
        );
    }

    #[test]
    fn plain_and_encrypted_do_not_mix() {
        let ring = ring(1, 32);
        let plain = seal(None, b"p").unwrap();
        assert_eq!(open(None, &plain).unwrap(), b"p");
        assert_eq!(
            open(Some(&ring), &plain),
            Err(SecurityError::PlainRemoteState)
        );
        let sealed = seal(Some(&ring), b"p").unwrap();
        assert_eq!(
            open(None, &sealed),
            Err(SecurityError::EncryptedRemoteState)
        );
        assert_eq!(open(Some(&ring), &[1, 2]), Err(SecurityError::TooSmall));
        assert_eq!(open(None, &[]), Err(SecurityError::TooSmall));
        assert_eq!(open(None, &[9]), Err(SecurityError::UnknownVersion(9)));
    }
}
