//! Consul's colon-separated lowercase hex (`connect.HexString`), used for root IDs, signing key
//! IDs and serial numbers, and the digests behind them.

use aws_lc_rs::digest;

/// Bytes as lowercase hex pairs joined by `:` (`[0xab, 0x01]` → `"ab:01"`).
pub fn colon_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// SHA-1 of `der`, colon hex: Consul's certificate fingerprint (`CalculateCertFingerprint`),
/// the ID of a CA root.
pub(crate) fn fingerprint(der: &[u8]) -> String {
    colon_hex(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref())
}

/// SHA-256 of a DER SubjectPublicKeyInfo: Consul's key identifier (`connect.KeyId`), written
/// as both subject and authority key identifier.
pub(crate) fn key_id(spki_der: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, spki_der).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn formats_like_go_percent_x_with_colons() {
        assert_eq!(colon_hex(&[]), "");
        assert_eq!(colon_hex(&[0x0a]), "0a");
        assert_eq!(colon_hex(&[0xab, 0x01, 0xff]), "ab:01:ff");
    }

    #[test]
    fn digests_have_consul_lengths() {
        assert_eq!(fingerprint(b"x").split(':').count(), 20);
        assert_eq!(key_id(b"x").len(), 32);
    }

    proptest! {
        #[test]
        fn colon_hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let text = colon_hex(&bytes);
            let back: Vec<u8> = if text.is_empty() {
                Vec::new()
            } else {
                text.split(':').map(|p| u8::from_str_radix(p, 16).unwrap()).collect()
            };
            prop_assert_eq!(back, bytes);
        }
    }
}
