//! Leaf certificates signed by a [`RootCa`]: for servers (what the peering TLS port presents:
//! URI SAN `spiffe://<td>/agent/server/dc/<dc>`, DNS SAN `server.<dc>.peering.<td>`) and for
//! services and agents (URI SAN = their SPIFFE ID). Each gets a fresh EC P-256 key, client and
//! server auth, and is valid from a minute before `now` (clock skew between servers) for
//! [`LEAF_CERT_TTL`], never past the root's own expiry.

use std::time::Duration;

use rcgen::CertificateParams;
use rcgen::DistinguishedName;
use rcgen::DnType;
use rcgen::ExtendedKeyUsagePurpose;
use rcgen::IsCa;
use rcgen::Issuer;
use rcgen::KeyIdMethod;
use rcgen::KeyPair;
use rcgen::KeyUsagePurpose;
use rcgen::PublicKeyData;
use rcgen::SanType;
use time::OffsetDateTime;

use crate::error::CaError;
use crate::hex::colon_hex;
use crate::hex::key_id;
use crate::identity::TrustDomain;
use crate::names::server_cn;
use crate::names::service_cn;
use crate::root::RootCa;
use crate::root::random_serial;
use crate::root::serial_number;
use crate::root::whole_seconds;
use crate::spiffe::SpiffeId;

/// Default leaf validity, Consul's `LeafCertTTL` of `72h`.
pub const LEAF_CERT_TTL: Duration = Duration::from_secs(72 * 3600);
/// How far before `now` a leaf becomes valid.
const BACKDATE: Duration = Duration::from_secs(60);

/// A signed leaf certificate and its private key.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub private_key_pem: String,
    /// Serial number, colon hex.
    pub serial_number: String,
    /// Start of validity.
    pub valid_after: OffsetDateTime,
    /// End of validity.
    pub valid_before: OffsetDateTime,
}

impl std::fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCert")
            .field("serial_number", &self.serial_number)
            .field("valid_after", &self.valid_after)
            .field("valid_before", &self.valid_before)
            .field("private_key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The TLS name servers of datacenter `dc` present to peers: `server.<dc>.peering.<td>`
/// (the `ServerName` of a peering token).
pub fn server_name(dc: &str, trust_domain: &TrustDomain) -> String {
    format!("server.{dc}.peering.{trust_domain}")
}

/// A certificate for the servers of datacenter `dc`, signed by `root`.
pub fn sign_server_cert(
    root: &RootCa,
    dc: &str,
    trust_domain: &TrustDomain,
    now: OffsetDateTime,
) -> Result<IssuedCert, CaError> {
    let id = SpiffeId::server(trust_domain, dc);
    check_trust_domain(root, &id)?;
    let sans = vec![
        SanType::URI(id.to_string().try_into()?),
        SanType::DnsName(server_name(dc, trust_domain).try_into()?),
    ];
    sign(root, server_cn(dc, trust_domain), sans, now)
}

/// A certificate for a service, client agent or mesh gateway identity, signed by `root`.
pub fn sign_service_leaf(
    root: &RootCa,
    spiffe_id: &SpiffeId,
    now: OffsetDateTime,
) -> Result<IssuedCert, CaError> {
    check_trust_domain(root, spiffe_id)?;
    let td = spiffe_id.trust_domain();
    let cn = match spiffe_id {
        SpiffeId::Service {
            namespace, service, ..
        } => service_cn(service, namespace, td),
        SpiffeId::Agent { node, .. } => service_cn(node, "agnt", td),
        SpiffeId::MeshGateway { datacenter, .. } => service_cn("mesh-gateway", datacenter, td),
        SpiffeId::Signing { .. } | SpiffeId::Server { .. } => {
            return Err(CaError::InvalidSpiffeId {
                id: spiffe_id.to_string(),
                reason: "a leaf is signed for a service, agent or mesh gateway".to_string(),
            });
        }
    };
    let sans = vec![SanType::URI(spiffe_id.to_string().try_into()?)];
    sign(root, cn, sans, now)
}

/// Leaves are only signed inside the root's own trust domain.
fn check_trust_domain(root: &RootCa, id: &SpiffeId) -> Result<(), CaError> {
    match root.trust_domain() {
        Some(td) if td == id.trust_domain() => Ok(()),
        Some(td) => Err(CaError::InvalidSpiffeId {
            id: id.to_string(),
            reason: format!("not in the CA's trust domain {td}"),
        }),
        None => Err(CaError::InvalidCertificate(
            "the root has no spiffe:// trust domain".to_string(),
        )),
    }
}

fn sign(
    root: &RootCa,
    common_name: String,
    sans: Vec<SanType>,
    now: OffsetDateTime,
) -> Result<IssuedCert, CaError> {
    let issuer = Issuer::from_ca_cert_pem(root.cert_pem(), root.key_pair()?)?;
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.subject_alt_names = sans;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::DataEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let start = whole_seconds(now) - BACKDATE;
    params.not_before = start;
    params.not_after = (start + LEAF_CERT_TTL).min(root.not_after());
    let serial = serial_number(random_serial()?);
    params.serial_number = Some(serial.clone());
    params.key_identifier_method =
        KeyIdMethod::PreSpecified(key_id(&key.subject_public_key_info()));
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer)?;
    Ok(IssuedCert {
        cert_pem: cert.pem(),
        private_key_pem: key.serialize_pem(),
        serial_number: colon_hex(&serial.to_bytes()),
        valid_after: params.not_before,
        valid_before: params.not_after,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::server::WebPkiClientVerifier;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::ServerName;
    use rustls_pki_types::UnixTime;
    use rustls_pki_types::pem::PemObject;

    use super::*;
    use crate::parse::ParsedCert;

    fn td() -> TrustDomain {
        TrustDomain::from_cluster_id("3d0dfd90-1f58-5dc9-4707-e89ff37c5be2")
    }

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }

    fn roots_of(root: &RootCa) -> Arc<rustls::RootCertStore> {
        let mut store = rustls::RootCertStore::empty();
        store
            .add(CertificateDer::from_pem_slice(root.cert_pem().as_bytes()).unwrap())
            .unwrap();
        Arc::new(store)
    }

    fn der(pem: &str) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
    }

    fn unix(t: OffsetDateTime) -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(
            u64::try_from(t.unix_timestamp()).unwrap(),
        ))
    }

    #[test]
    fn server_cert_chains_to_root_for_its_peering_name() {
        let now = OffsetDateTime::now_utc();
        let root = RootCa::generate(&td(), now).unwrap();
        let issued = sign_server_cert(&root, "dc1", &td(), now).unwrap();
        let parsed = ParsedCert::from_pem(&issued.cert_pem).unwrap();
        let name = format!("server.dc1.peering.{}", td());
        assert_eq!(server_name("dc1", &td()), name);
        assert_eq!(parsed.dns_sans, std::slice::from_ref(&name));
        assert_eq!(
            parsed.uri_sans,
            [format!("spiffe://{}/agent/server/dc/dc1", td())]
        );
        assert!(!parsed.is_ca);
        assert_eq!(issued.valid_before - issued.valid_after, LEAF_CERT_TTL);

        let verifier = WebPkiServerVerifier::builder_with_provider(roots_of(&root), provider())
            .build()
            .unwrap();
        let peering_name = ServerName::try_from(name).unwrap();
        verifier
            .verify_server_cert(&der(&issued.cert_pem), &[], &peering_name, &[], unix(now))
            .expect("server cert verifies against the root");

        let wrong = ServerName::try_from("server.dc2.peering.example.consul").unwrap();
        assert!(
            verifier
                .verify_server_cert(&der(&issued.cert_pem), &[], &wrong, &[], unix(now))
                .is_err()
        );
        let other_root = RootCa::generate(&td(), now).unwrap();
        let other = WebPkiServerVerifier::builder_with_provider(roots_of(&other_root), provider())
            .build()
            .unwrap();
        let name = ServerName::try_from(server_name("dc1", &td())).unwrap();
        assert!(
            other
                .verify_server_cert(&der(&issued.cert_pem), &[], &name, &[], unix(now))
                .is_err(),
            "a different root must not verify it"
        );
    }

    #[test]
    fn service_leaf_verifies_as_client_cert() {
        let now = OffsetDateTime::now_utc();
        let root = RootCa::generate(&td(), now).unwrap();
        let id = SpiffeId::service(&td(), "dc1", "web");
        let issued = sign_service_leaf(&root, &id, now).unwrap();
        let parsed = ParsedCert::from_pem(&issued.cert_pem).unwrap();
        assert_eq!(parsed.uri_sans, [id.to_string()]);
        assert_eq!(parsed.subject, "CN=web.svc.default.3d0dfd90.consul");
        assert!(issued.private_key_pem.contains("PRIVATE KEY"));

        let verifier = WebPkiClientVerifier::builder_with_provider(roots_of(&root), provider())
            .build()
            .unwrap();
        verifier
            .verify_client_cert(&der(&issued.cert_pem), &[], unix(now))
            .expect("leaf verifies against the root");
        let expired = unix(now + LEAF_CERT_TTL + Duration::from_secs(3600));
        assert!(
            verifier
                .verify_client_cert(&der(&issued.cert_pem), &[], expired)
                .is_err()
        );
    }

    #[test]
    fn refuses_foreign_trust_domains_and_ca_identities() {
        let now = OffsetDateTime::now_utc();
        let root = RootCa::generate(&td(), now).unwrap();
        let foreign = TrustDomain::from_cluster_id("00000000-0000-0000-0000-000000000000");
        let err =
            sign_service_leaf(&root, &SpiffeId::service(&foreign, "dc1", "web"), now).unwrap_err();
        assert!(
            err.to_string().contains("not in the CA's trust domain"),
            "{err}"
        );
        assert!(sign_server_cert(&root, "dc1", &foreign, now).is_err());
        let signing = SpiffeId::Signing { trust_domain: td() };
        assert!(sign_service_leaf(&root, &signing, now).is_err());
        assert!(sign_service_leaf(&root, &SpiffeId::server(&td(), "dc1"), now).is_err());
    }

    #[test]
    fn leaf_never_outlives_root() {
        let now = OffsetDateTime::now_utc();
        let root = RootCa::generate_with_ttl(&td(), now, Duration::from_secs(3600)).unwrap();
        let issued = sign_service_leaf(&root, &SpiffeId::agent(&td(), "dc1", "n1"), now).unwrap();
        assert_eq!(issued.valid_before, root.not_after());
        assert!(format!("{issued:?}").contains("<redacted>"));
    }
}
