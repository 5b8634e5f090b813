//! [`RootCa`]: the built-in provider's self-signed root, with the metadata Consul reports for
//! it (`/v1/connect/ca/roots`). Generated as Consul does: an EC P-256 key, common name
//! `pri-<uid>.consul.ca.<td8>.consul`, URI SAN `spiffe://<trust domain>`, CA:TRUE with key
//! usages cert sign, CRL sign and digital signature, subject and authority key identifiers the
//! SHA-256 of the public key, valid from `now` for the root TTL (10 years by default). The
//! root's ID is the SHA-1 fingerprint of the certificate in colon hex.

use std::fmt;
use std::time::Duration;

use aws_lc_rs::rand::SecureRandom;
use aws_lc_rs::rand::SystemRandom;
use rcgen::BasicConstraints;
use rcgen::CertificateParams;
use rcgen::DistinguishedName;
use rcgen::DnType;
use rcgen::IsCa;
use rcgen::KeyIdMethod;
use rcgen::KeyPair;
use rcgen::KeyUsagePurpose;
use rcgen::PublicKeyData;
use rcgen::SanType;
use rcgen::SerialNumber;
use time::OffsetDateTime;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::error::CaError;
use crate::hex::key_id;
use crate::identity::TrustDomain;
use crate::names::compact_uid;
use crate::names::root_cn;
use crate::parse::ParsedCert;
use crate::spiffe::SpiffeId;

/// The name Consul gives the built-in provider's root (`<provider> CA Primary Cert`).
pub const ROOT_NAME: &str = "Consul CA Primary Cert";
/// Default root validity, Consul's `RootCertTTL` of `87600h`.
pub const ROOT_CERT_TTL: Duration = Duration::from_secs(87_600 * 3600);
/// Key type of generated roots (Consul's default `PrivateKeyType`).
pub const PRIVATE_KEY_TYPE: &str = "ec";
/// Key size of generated roots (Consul's default `PrivateKeyBits`).
pub const PRIVATE_KEY_BITS: u32 = 256;

/// A root CA: its certificate, its private key and the metadata derived from them. Built only
/// by [`RootCa::generate`] or [`RootCa::from_pems`], so the key always matches the certificate.
#[derive(Clone, PartialEq, Eq)]
pub struct RootCa {
    cert_pem: String,
    private_key_pem: String,
    cert: ParsedCert,
    serial_number: u64,
    signing_key_id: String,
    private_key_type: String,
    private_key_bits: u32,
    trust_domain: Option<TrustDomain>,
}

impl RootCa {
    /// A new root for `trust_domain`, valid from `now` for [`ROOT_CERT_TTL`].
    pub fn generate(trust_domain: &TrustDomain, now: OffsetDateTime) -> Result<RootCa, CaError> {
        RootCa::generate_with_ttl(trust_domain, now, ROOT_CERT_TTL)
    }

    /// A new root for `trust_domain`, valid from `now` for `ttl`.
    pub fn generate_with_ttl(
        trust_domain: &TrustDomain,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<RootCa, CaError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, root_cn(&compact_uid()?, trust_domain));
        params.distinguished_name = dn;
        let signing = SpiffeId::Signing {
            trust_domain: trust_domain.clone(),
        };
        params.subject_alt_names = vec![SanType::URI(signing.to_string().try_into()?)];
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let start = whole_seconds(now);
        params.not_before = start;
        params.not_after = start + ttl;
        params.serial_number = Some(serial_number(random_serial()?));
        params.key_identifier_method =
            KeyIdMethod::PreSpecified(key_id(&key.subject_public_key_info()));
        params.use_authority_key_identifier_extension = true;
        let cert = params.self_signed(&key)?;
        RootCa::from_pems(&cert.pem(), &key.serialize_pem())
    }

    /// A root from its certificate and private key PEMs (as stored), checking that the key
    /// belongs to the certificate and that it is a CA.
    pub fn from_pems(cert_pem: &str, private_key_pem: &str) -> Result<RootCa, CaError> {
        let cert = ParsedCert::from_pem(cert_pem)?;
        if !cert.is_ca {
            return Err(CaError::InvalidCertificate(format!(
                "{} is not a CA certificate",
                cert.subject
            )));
        }
        let key = KeyPair::from_pem(private_key_pem)
            .map_err(|err| CaError::InvalidPrivateKey(err.to_string()))?;
        if key.subject_public_key_info() != cert.public_key_info {
            return Err(CaError::InvalidPrivateKey(
                "the private key does not belong to the certificate".to_string(),
            ));
        }
        let (private_key_type, private_key_bits) = key_info(&cert.public_key_info)?;
        let serial_number = serial_u64(&cert.serial_number);
        let signing_key_id = if cert.subject_key_id.is_empty() {
            crate::hex::colon_hex(&key_id(&cert.public_key_info))
        } else {
            cert.subject_key_id.clone()
        };
        let trust_domain = cert
            .uri_sans
            .iter()
            .find_map(|uri| match SpiffeId::parse(uri) {
                Ok(SpiffeId::Signing { trust_domain }) => Some(trust_domain),
                _ => None,
            });
        Ok(RootCa {
            cert_pem: ensure_trailing_newline(cert_pem),
            private_key_pem: ensure_trailing_newline(private_key_pem),
            cert,
            serial_number,
            signing_key_id,
            private_key_type,
            private_key_bits,
            trust_domain,
        })
    }

    /// The root's ID: SHA-1 fingerprint of the certificate, colon hex.
    pub fn id(&self) -> &str {
        &self.cert.fingerprint
    }

    /// Consul's name for the root, [`ROOT_NAME`].
    pub fn name(&self) -> &'static str {
        ROOT_NAME
    }

    /// The certificate's serial number (its low 64 bits, as Consul reports it).
    pub fn serial_number(&self) -> u64 {
        self.serial_number
    }

    /// The subject key identifier, colon hex.
    pub fn signing_key_id(&self) -> &str {
        &self.signing_key_id
    }

    /// Start of validity.
    pub fn not_before(&self) -> OffsetDateTime {
        self.cert.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.cert.not_after
    }

    /// The certificate, PEM, ending in a newline.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key, PEM (PKCS#8 for generated roots). Secret: never to leave the servers.
    pub fn private_key_pem(&self) -> &str {
        &self.private_key_pem
    }

    /// `ec` or `rsa`.
    pub fn private_key_type(&self) -> &str {
        &self.private_key_type
    }

    /// Key size in bits (curve size for EC).
    pub fn private_key_bits(&self) -> u32 {
        self.private_key_bits
    }

    /// The trust domain named by the root's `spiffe://<td>` URI SAN, if it has one.
    pub fn trust_domain(&self) -> Option<&TrustDomain> {
        self.trust_domain.as_ref()
    }

    /// The parsed certificate.
    pub fn cert(&self) -> &ParsedCert {
        &self.cert
    }

    /// The signing key, parsed.
    pub(crate) fn key_pair(&self) -> Result<KeyPair, CaError> {
        KeyPair::from_pem(&self.private_key_pem)
            .map_err(|err| CaError::InvalidPrivateKey(err.to_string()))
    }
}

impl fmt::Debug for RootCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootCa")
            .field("id", &self.id())
            .field("serial_number", &self.serial_number)
            .field("signing_key_id", &self.signing_key_id)
            .field("not_after", &self.cert.not_after)
            .field("private_key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// `now` without its sub-second part: X.509 times have whole seconds.
pub(crate) fn whole_seconds(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_nanosecond(0).unwrap_or(now)
}

/// A random serial number below 2^53, so it survives JSON readers that use doubles.
pub(crate) fn random_serial() -> Result<u64, CaError> {
    let mut raw = [0u8; 8];
    SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| CaError::Generation("no randomness available".to_string()))?;
    Ok((u64::from_be_bytes(raw) & ((1 << 53) - 1)).max(1))
}

/// `n` as a minimal big-endian serial number.
pub(crate) fn serial_number(n: u64) -> SerialNumber {
    let bytes = n.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(7);
    SerialNumber::from_slice(&bytes[first..])
}

/// The low 64 bits of a colon-hex serial number.
fn serial_u64(colon_hex: &str) -> u64 {
    colon_hex
        .split(':')
        .filter_map(|b| u8::from_str_radix(b, 16).ok())
        .fold(0u64, |acc, b| (acc << 8) | u64::from(b))
}

/// Key type and size from a DER SubjectPublicKeyInfo.
fn key_info(spki_der: &[u8]) -> Result<(String, u32), CaError> {
    let bad = |why: &str| CaError::InvalidCertificate(format!("unsupported public key: {why}"));
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der).map_err(|_| bad("malformed"))?;
    match spki.parsed().map_err(|_| bad("malformed"))? {
        PublicKey::EC(point) => {
            let bits = u32::try_from(point.key_size()).map_err(|_| bad("EC size"))?;
            Ok(("ec".to_string(), bits))
        }
        PublicKey::RSA(rsa) => {
            let bits = u32::try_from(rsa.key_size()).map_err(|_| bad("RSA size"))?;
            Ok(("rsa".to_string(), bits))
        }
        _ => Err(bad("neither EC nor RSA")),
    }
}

fn ensure_trailing_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn td() -> TrustDomain {
        TrustDomain::from_cluster_id("3d0dfd90-1f58-5dc9-4707-e89ff37c5be2")
    }

    #[test]
    fn generated_root_has_consul_shape() {
        let now = datetime!(2026-01-02 03:04:05.678 UTC);
        let root = RootCa::generate(&td(), now).unwrap();
        assert_eq!(root.name(), "Consul CA Primary Cert");
        assert_eq!(root.not_before(), datetime!(2026-01-02 03:04:05 UTC));
        assert_eq!(
            root.not_after(),
            datetime!(2026-01-02 03:04:05 UTC) + ROOT_CERT_TTL
        );
        assert_eq!(
            (root.private_key_type(), root.private_key_bits()),
            ("ec", 256)
        );
        assert_eq!(root.id().split(':').count(), 20);
        assert_eq!(root.signing_key_id().split(':').count(), 32);
        assert_eq!(
            root.signing_key_id(),
            crate::hex::colon_hex(&key_id(&root.cert().public_key_info))
        );
        assert!(root.serial_number() > 0 && root.serial_number() < (1 << 53));
        assert_eq!(root.trust_domain(), Some(&td()));
        assert!(root.cert_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(root.cert_pem().ends_with("-----END CERTIFICATE-----\n"));
        let cert = root.cert();
        assert!(cert.is_ca);
        assert!(
            cert.subject.starts_with("CN=pri-")
                && cert.subject.ends_with(".consul.ca.3d0dfd90.consul"),
            "{}",
            cert.subject
        );
        assert_eq!(cert.uri_sans, [format!("spiffe://{}", td())]);
    }

    #[test]
    fn two_roots_differ() {
        let now = OffsetDateTime::now_utc();
        let (a, b) = (
            RootCa::generate(&td(), now).unwrap(),
            RootCa::generate(&td(), now).unwrap(),
        );
        assert_ne!(a.id(), b.id());
        assert_ne!(a.private_key_pem(), b.private_key_pem());
    }

    #[test]
    fn from_pems_round_trips_and_checks_the_key() {
        let now = OffsetDateTime::now_utc();
        let root = RootCa::generate(&td(), now).unwrap();
        let again = RootCa::from_pems(root.cert_pem(), root.private_key_pem()).unwrap();
        assert_eq!(again, root);
        let other = RootCa::generate(&td(), now).unwrap();
        let err = RootCa::from_pems(root.cert_pem(), other.private_key_pem()).unwrap_err();
        assert_eq!(
            err,
            CaError::InvalidPrivateKey(
                "the private key does not belong to the certificate".to_string()
            )
        );
        assert!(matches!(
            RootCa::from_pems(root.cert_pem(), "nope"),
            Err(CaError::InvalidPrivateKey(_))
        ));
        assert!(matches!(
            RootCa::from_pems("nope", root.private_key_pem()),
            Err(CaError::InvalidCertificate(_))
        ));
    }

    #[test]
    fn debug_hides_the_private_key() {
        let root = RootCa::generate(&td(), OffsetDateTime::now_utc()).unwrap();
        let text = format!("{root:?}");
        assert!(text.contains("<redacted>"));
        assert!(!text.contains("PRIVATE KEY"));
    }

    #[test]
    fn serial_numbers_encode_minimally() {
        assert_eq!(serial_number(1).to_bytes(), [1]);
        assert_eq!(serial_number(0x0102).to_bytes(), [1, 2]);
        assert_eq!(serial_u64("01:02"), 0x0102);
        assert_eq!(serial_u64("00:ff:ff:ff:ff:ff:ff:ff:ff"), u64::MAX);
    }
}
