//! Certificate common names in Consul's formats. SPIFFE URIs are the real identity; common
//! names only have to be short (at most 64 bytes), DNS-safe and recognisable:
//! `pri-<uid>.consul.ca.<td8>.consul` for roots, `<svc>.svc.<ns>.<td8>.consul` for services,
//! `server.<dc>.<td8>.consul` for servers (`<td8>`: the first 8 characters of the trust domain).

use aws_lc_rs::rand::SecureRandom;
use aws_lc_rs::rand::SystemRandom;

use crate::error::CaError;
use crate::identity::TrustDomain;

/// Longest common name X.509 allows.
const MAX_CN: usize = 64;

/// Lowercase `s` and drop everything but ASCII letters and digits.
fn sanitize(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

fn truncate(mut s: String, n: usize) -> String {
    s.truncate(n.min(s.len()));
    s
}

/// 8 random base-36 characters (Consul's `CompactUID`), to make root common names unique.
pub(crate) fn compact_uid() -> Result<String, CaError> {
    let mut raw = [0u8; 8];
    SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| CaError::Generation("no randomness available".to_string()))?;
    let mut n = u64::from_le_bytes(raw);
    let mut out = String::new();
    while out.len() < 8 {
        let digit = u32::try_from(n % 36).unwrap_or(0);
        out.push(char::from_digit(digit, 36).unwrap_or('0'));
        n /= 36;
    }
    Ok(out)
}

/// Common name of a primary datacenter's root: `pri-<uid>.consul.ca.<td8>.consul`.
pub(crate) fn root_cn(uid: &str, trust_domain: &TrustDomain) -> String {
    format!(
        "pri-{}.consul.ca.{}.consul",
        truncate(sanitize(uid), 8),
        trust_domain.short()
    )
}

/// Common name of a service leaf: `<svc>.svc.<ns>.<td8>.consul`, the names cut to fit.
pub(crate) fn service_cn(service: &str, namespace: &str, trust_domain: &TrustDomain) -> String {
    let suffix = format!(".{}.consul", trust_domain.short());
    let room = MAX_CN - suffix.len() - ".svc.".len();
    let mut svc = sanitize(service);
    let mut ns = sanitize(namespace);
    // Cut the longer of the two first so both stay recognisable.
    while svc.len() + ns.len() > room {
        if svc.len() >= ns.len() {
            svc.pop();
        } else {
            ns.pop();
        }
    }
    format!("{svc}.svc.{ns}{suffix}")
}

/// Common name of a server's certificate: `server.<dc>.<td8>.consul`.
pub(crate) fn server_cn(dc: &str, trust_domain: &TrustDomain) -> String {
    let suffix = format!(".{}.consul", trust_domain.short());
    let dc = truncate(sanitize(dc), MAX_CN - suffix.len() - "server.".len());
    format!("server.{dc}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn td() -> TrustDomain {
        TrustDomain::from_cluster_id("3d0dfd90-1f58-5dc9-4707-e89ff37c5be2")
    }

    #[test]
    fn root_cn_matches_consul() {
        assert_eq!(
            root_cn("13gejk3n", &td()),
            "pri-13gejk3n.consul.ca.3d0dfd90.consul"
        );
    }

    #[test]
    fn compact_uid_is_eight_base36_chars() {
        let uid = compact_uid().unwrap();
        assert_eq!(uid.len(), 8);
        assert!(
            uid.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
    }

    #[test]
    fn service_and_server_cns_fit() {
        assert_eq!(
            service_cn("Web_API", "default", &td()),
            "webapi.svc.default.3d0dfd90.consul"
        );
        let long = service_cn(&"s".repeat(100), &"n".repeat(100), &td());
        assert!(long.len() <= MAX_CN, "{long}");
        assert!(long.contains("ss.svc.nn"));
        assert_eq!(server_cn("dc1", &td()), "server.dc1.3d0dfd90.consul");
        assert!(server_cn(&"d".repeat(200), &td()).len() <= MAX_CN);
    }
}
