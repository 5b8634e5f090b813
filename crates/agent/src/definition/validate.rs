//! Consul's pure validation rules for service meta and DNS weights, with its message texts.

use std::collections::BTreeMap;

use legate_state::model::Weights;

/// Meta keys starting with this prefix are reserved for Consul itself.
const META_KEY_RESERVED_PREFIX: &str = "consul-";
/// Most meta pairs a service or node may carry.
const META_MAX_KEY_PAIRS: usize = 64;
/// Longest meta key.
const META_KEY_MAX_LENGTH: usize = 128;
/// Longest meta value.
const META_VALUE_MAX_LENGTH: usize = 512;

/// Consul's `validateMetadata` (without the `consul-` allowance): the message is the part
/// after `Invalid Service Meta: `.
pub(crate) fn validate_meta(meta: &BTreeMap<String, String>) -> Result<(), String> {
    if meta.len() > META_MAX_KEY_PAIRS {
        return Err(format!(
            "Node metadata cannot contain more than {META_MAX_KEY_PAIRS} key/value pairs"
        ));
    }
    for (key, value) in meta {
        validate_meta_pair(key, value)
            .map_err(|e| format!("Couldn't load metadata pair ('{key}', '{value}'): {e}"))?;
    }
    Ok(())
}

fn validate_meta_pair(key: &str, value: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("Key cannot be blank".into());
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err("Key contains invalid characters".into());
    }
    if key.len() > META_KEY_MAX_LENGTH {
        return Err(format!(
            "Key is too long (limit: {META_KEY_MAX_LENGTH} characters)"
        ));
    }
    if key.starts_with(META_KEY_RESERVED_PREFIX) {
        return Err(format!(
            "Key prefix '{META_KEY_RESERVED_PREFIX}' is reserved for internal use"
        ));
    }
    if value.len() > META_VALUE_MAX_LENGTH {
        return Err(format!(
            "Value is too long (limit: {META_VALUE_MAX_LENGTH} characters)"
        ));
    }
    Ok(())
}

/// Consul's `ValidateWeights`: the message is the part after `Invalid Weights: `.
pub(crate) fn validate_weights(w: &Weights) -> Result<(), String> {
    if w.passing < 1 {
        return Err("Passing must be greater than 0".into());
    }
    if w.warning < 0 {
        return Err("Warning must be greater or equal than 0".into());
    }
    if w.passing > 65535 || w.warning > 65535 {
        return Err("DNS Weight must be between 0 and 65535".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(k: &str, v: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(k.to_string(), v.to_string())])
    }

    #[test]
    fn meta_rules() {
        assert!(validate_meta(&meta("k_e-y", "v")).is_ok());
        assert_eq!(
            validate_meta(&meta("", "v")).unwrap_err(),
            "Couldn't load metadata pair ('', 'v'): Key cannot be blank"
        );
        assert!(
            validate_meta(&meta("(%key&)", "v"))
                .unwrap_err()
                .ends_with("Key contains invalid characters")
        );
        assert!(
            validate_meta(&meta(&"a".repeat(129), "v"))
                .unwrap_err()
                .ends_with("(limit: 128 characters)")
        );
        assert!(
            validate_meta(&meta("consul-x", "v"))
                .unwrap_err()
                .ends_with("reserved for internal use")
        );
        assert!(
            validate_meta(&meta("k", &"b".repeat(513)))
                .unwrap_err()
                .contains("Value is too long")
        );
        let many: BTreeMap<_, _> = (0..65)
            .map(|i| (format!("k{i}"), "v".to_string()))
            .collect();
        assert_eq!(
            validate_meta(&many).unwrap_err(),
            "Node metadata cannot contain more than 64 key/value pairs"
        );
    }

    #[test]
    fn weight_rules() {
        assert!(
            validate_weights(&Weights {
                passing: 1,
                warning: 0
            })
            .is_ok()
        );
        assert_eq!(
            validate_weights(&Weights {
                passing: 0,
                warning: 1
            })
            .unwrap_err(),
            "Passing must be greater than 0"
        );
        assert_eq!(
            validate_weights(&Weights {
                passing: 1,
                warning: -1
            })
            .unwrap_err(),
            "Warning must be greater or equal than 0"
        );
        assert_eq!(
            validate_weights(&Weights {
                passing: 70000,
                warning: 1
            })
            .unwrap_err(),
            "DNS Weight must be between 0 and 65535"
        );
    }
}
