//! Reading certificates and keys from PEM text.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use super::error::TlsError;

/// Every `CERTIFICATE` block of `pem`, in order; at least one.
pub fn certificates(
    what: &'static str,
    pem: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| TlsError::BadPem {
            what,
            reason: err.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { what });
    }
    Ok(certs)
}

/// The certificates of several PEM strings (CA roots, one or more per string).
pub fn all_certificates(
    what: &'static str,
    pems: &[String],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let mut out = Vec::new();
    for pem in pems {
        out.extend(certificates(what, pem)?);
    }
    if out.is_empty() {
        return Err(TlsError::NoCertificate { what });
    }
    Ok(out)
}

/// The private key of `pem` (PKCS#8, SEC1 or PKCS#1).
pub fn private_key(what: &'static str, pem: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|err| TlsError::BadPem {
        what,
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_has_no_certificate() {
        assert!(matches!(
            certificates("chain", ""),
            Err(TlsError::NoCertificate { what: "chain" })
        ));
        assert!(matches!(
            all_certificates("roots", &[]),
            Err(TlsError::NoCertificate { what: "roots" })
        ));
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(private_key("key", "not a pem").is_err());
    }

    #[test]
    fn damaged_pem_is_reported() {
        let bad = "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            certificates("chain", bad),
            Err(TlsError::BadPem { .. })
        ));
    }
}
