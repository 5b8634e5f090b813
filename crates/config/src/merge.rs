//! Consul's merge rule for config sources applied in order: a later scalar replaces an
//! earlier one, objects merge key by key (recursively), and lists append (services,
//! checks, retry_join, recursors, experiments, …).

use serde_json::{Map, Value};

/// Merges `later` into `base`.
pub(crate) fn merge(base: &mut Map<String, Value>, later: Map<String, Value>) {
    for (key, value) in later {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(b)), Value::Object(l)) => merge(b, l),
            (Some(Value::Array(b)), Value::Array(l)) => b.extend(l),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn scalars_replace_objects_merge_arrays_append() {
        let mut base = obj(json!({"a": 1, "ports": {"http": 1, "dns": 2}, "retry_join": ["x"]}));
        merge(
            &mut base,
            obj(json!({"a": 2, "ports": {"dns": -1}, "retry_join": ["y"], "new": true})),
        );
        assert_eq!(
            Value::Object(base),
            json!({"a": 2, "ports": {"http": 1, "dns": -1}, "retry_join": ["x", "y"], "new": true})
        );
    }

    #[test]
    fn services_append_across_sources() {
        let mut base = obj(json!({"services": [{"name": "a"}]}));
        merge(&mut base, obj(json!({"services": [{"name": "b"}]})));
        assert_eq!(base["services"], json!([{"name": "a"}, {"name": "b"}]));
    }
}
