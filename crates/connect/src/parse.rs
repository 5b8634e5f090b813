//! Reading certificates: [`ParsedCert`] pulls out what Legate needs from one PEM certificate,
//! and [`parse_ca_pems`] checks a list of CA PEMs received from elsewhere (a peering token, a
//! trust bundle), saying which one failed and why.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use crate::error::CaError;
use crate::hex::colon_hex;
use crate::hex::fingerprint;

/// The parts of an X.509 certificate Legate looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedCert {
    /// The DER encoding.
    pub der: Vec<u8>,
    /// The subject, as text (`CN=…`).
    pub subject: String,
    /// SHA-1 fingerprint, colon hex (Consul's root ID format).
    pub fingerprint: String,
    /// Serial number, colon hex.
    pub serial_number: String,
    /// Subject key identifier, colon hex; empty when the certificate has none.
    pub subject_key_id: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Whether basic constraints say CA:TRUE.
    pub is_ca: bool,
    /// URI SANs (SPIFFE IDs).
    pub uri_sans: Vec<String>,
    /// DNS SANs.
    pub dns_sans: Vec<String>,
    /// DER SubjectPublicKeyInfo.
    pub public_key_info: Vec<u8>,
}

impl ParsedCert {
    /// Parse the first PEM block of `pem`, which must be a `CERTIFICATE`.
    pub fn from_pem(pem: &str) -> Result<ParsedCert, CaError> {
        let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
            .map_err(|_| CaError::InvalidCertificate("no PEM-encoded data found".to_string()))?;
        if block.label != "CERTIFICATE" {
            return Err(CaError::InvalidCertificate(format!(
                "first PEM block is {:?}, not CERTIFICATE",
                block.label
            )));
        }
        ParsedCert::from_der(&block.contents)
    }

    /// Parse a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<ParsedCert, CaError> {
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|err| CaError::InvalidCertificate(format!("malformed X.509: {err}")))?;
        if !rest.is_empty() {
            return Err(CaError::InvalidCertificate(
                "trailing bytes after the certificate".to_string(),
            ));
        }
        let mut uri_sans = Vec::new();
        let mut dns_sans = Vec::new();
        let mut subject_key_id = String::new();
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for name in &san.general_names {
                        match name {
                            GeneralName::URI(uri) => uri_sans.push((*uri).to_string()),
                            GeneralName::DNSName(dns) => dns_sans.push((*dns).to_string()),
                            _ => {}
                        }
                    }
                }
                ParsedExtension::SubjectKeyIdentifier(id) => subject_key_id = colon_hex(id.0),
                _ => {}
            }
        }
        let is_ca = cert
            .basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|bc| bc.value.ca);
        Ok(ParsedCert {
            der: der.to_vec(),
            subject: cert.subject().to_string(),
            fingerprint: fingerprint(der),
            serial_number: colon_hex(cert.raw_serial()),
            subject_key_id,
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            is_ca,
            uri_sans,
            dns_sans,
            public_key_info: cert.public_key().raw.to_vec(),
        })
    }
}

/// Parse CA certificates given as PEM strings (one certificate each): every one must be a
/// well-formed X.509 CA certificate. The error names the first PEM that is not, counting from
/// 0, and why.
pub fn parse_ca_pems(pems: &[String]) -> Result<Vec<ParsedCert>, CaError> {
    pems.iter()
        .enumerate()
        .map(|(index, pem)| {
            let invalid = |reason: String| CaError::InvalidCaPem { index, reason };
            let cert = ParsedCert::from_pem(pem).map_err(|err| invalid(err.to_string()))?;
            if !cert.is_ca {
                return Err(invalid(format!(
                    "certificate {} is not a CA certificate",
                    cert.subject
                )));
            }
            Ok(cert)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::identity::TrustDomain;
    use crate::leaf::sign_server_cert;
    use crate::root::RootCa;

    fn root() -> RootCa {
        RootCa::generate(
            &TrustDomain::from_cluster_id("11111111-2222-3333-4444-555555555555"),
            OffsetDateTime::now_utc(),
        )
        .unwrap()
    }

    #[test]
    fn parses_roots_and_reports_which_pem_failed() {
        let (a, b) = (root(), root());
        let certs = parse_ca_pems(&[a.cert_pem().to_string(), b.cert_pem().to_string()]).unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[0].fingerprint, a.id());
        assert!(certs[1].is_ca);
        assert_eq!(
            certs[0].uri_sans,
            ["spiffe://11111111-2222-3333-4444-555555555555.consul"]
        );

        let err = parse_ca_pems(&[a.cert_pem().to_string(), "garbage".to_string()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "CA PEM 1 is invalid: invalid certificate: no PEM-encoded data found"
        );
        let truncated = a.cert_pem()[..a.cert_pem().len() / 2].to_string();
        let err = parse_ca_pems(&[truncated]).unwrap_err();
        assert!(
            matches!(err, CaError::InvalidCaPem { index: 0, .. }),
            "{err}"
        );
    }

    #[test]
    fn rejects_non_ca_and_non_certificate_blocks() {
        let r = root();
        let td = r.trust_domain().unwrap().clone();
        let leaf = sign_server_cert(&r, "dc1", &td, OffsetDateTime::now_utc()).unwrap();
        let err = parse_ca_pems(std::slice::from_ref(&leaf.cert_pem)).unwrap_err();
        assert!(err.to_string().contains("is not a CA certificate"), "{err}");
        let err = parse_ca_pems(std::slice::from_ref(&leaf.private_key_pem)).unwrap_err();
        assert!(err.to_string().contains("not CERTIFICATE"), "{err}");
    }

    proptest! {
        #[test]
        fn garbage_never_panics(s in "\\PC{0,200}") {
            let _ = parse_ca_pems(std::slice::from_ref(&s));
            let pem = format!("-----BEGIN CERTIFICATE-----\n{s}\n-----END CERTIFICATE-----\n");
            prop_assert!(parse_ca_pems(&[pem]).is_err());
        }

        #[test]
        fn random_der_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = ParsedCert::from_der(&bytes);
        }
    }
}
