//! Lenient field lookup over a decoded JSON object, the way Consul decodes definitions.
//!
//! Go's `encoding/json` matches field names case-insensitively and Consul adds snake_case
//! aliases (`deregister_critical_service_after`, `tls_skip_verify`, …). One normalisation —
//! lowercase and strip underscores — covers both, so every definition field is looked up
//! through [`Fields`] by its normalised name. Type errors read like Go's decoder.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Map;
use serde_json::Value;

use super::error::DefinitionError;

/// Normalises a field name: lowercase, underscores removed (`Service_ID` → `serviceid`).
pub fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// A JSON object indexed by normalised key, with Go-like typed accessors.
pub(crate) struct Fields<'a> {
    /// Normalised key → (original key, value). The first spelling in document order wins.
    index: BTreeMap<String, (&'a str, &'a Value)>,
    /// Go struct name used in decode errors (`ServiceDefinition`, `CheckType`, …).
    owner: &'static str,
}

impl<'a> Fields<'a> {
    /// Indexes `value`, which must be a JSON object (`null` reads as an empty object).
    pub(crate) fn new(value: &'a Value, owner: &'static str) -> Result<Self, DefinitionError> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let obj = match value {
            Value::Object(obj) => obj,
            Value::Null => EMPTY.get_or_init(Map::new),
            other => {
                return Err(DefinitionError::Decode(format!(
                    "json: cannot unmarshal {} into Go value of type structs.{owner}",
                    go_json_type(other)
                )));
            }
        };
        let mut index = BTreeMap::new();
        for (key, val) in obj {
            index
                .entry(normalize_key(key))
                .or_insert((key.as_str(), val));
        }
        Ok(Fields { index, owner })
    }

    /// Rejects keys whose normalised form is not in `known` (config-file strictness).
    pub(crate) fn reject_unknown(&self, known: &[&str], path: &str) -> Result<(), DefinitionError> {
        for (norm, (orig, _)) in &self.index {
            if !known.contains(&norm.as_str()) {
                let key = if path.is_empty() {
                    (*orig).to_string()
                } else {
                    format!("{path}.{orig}")
                };
                return Err(DefinitionError::UnknownKey(key));
            }
        }
        Ok(())
    }

    /// The first present, non-null value among the normalised `names`.
    pub(crate) fn get(&self, names: &[&str]) -> Option<&'a Value> {
        names
            .iter()
            .filter_map(|n| self.index.get(*n))
            .map(|(_, v)| *v)
            .find(|v| !v.is_null())
    }

    fn type_error(&self, field: &str, value: &Value, go_type: &str) -> DefinitionError {
        DefinitionError::Decode(format!(
            "json: cannot unmarshal {} into Go struct field {}.{field} of type {go_type}",
            go_json_type(value),
            self.owner
        ))
    }

    /// A string field; absent → `""`.
    pub(crate) fn string(&self, names: &[&str], field: &str) -> Result<String, DefinitionError> {
        match self.get(names) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.type_error(field, other, "string")),
        }
    }

    /// A boolean field; absent → `false`.
    pub(crate) fn boolean(&self, names: &[&str], field: &str) -> Result<bool, DefinitionError> {
        match self.get(names) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.type_error(field, other, "bool")),
        }
    }

    /// An integer field; absent → `0`.
    pub(crate) fn int(&self, names: &[&str], field: &str) -> Result<i64, DefinitionError> {
        match self.get(names) {
            None => Ok(0),
            Some(v @ Value::Number(n)) => {
                n.as_i64().ok_or_else(|| self.type_error(field, v, "int"))
            }
            Some(other) => Err(self.type_error(field, other, "int")),
        }
    }

    /// A list of strings; absent → empty.
    pub(crate) fn strings(
        &self,
        names: &[&str],
        field: &str,
    ) -> Result<Vec<String>, DefinitionError> {
        match self.get(names) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.type_error(field, other, "string")),
                })
                .collect(),
            Some(other) => Err(self.type_error(field, other, "[]string")),
        }
    }

    /// A string → string map; absent → empty.
    pub(crate) fn string_map(
        &self,
        names: &[&str],
        field: &str,
    ) -> Result<BTreeMap<String, String>, DefinitionError> {
        match self.get(names) {
            None => Ok(BTreeMap::new()),
            Some(Value::Object(obj)) => obj
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    other => Err(self.type_error(field, other, "string")),
                })
                .collect(),
            Some(other) => Err(self.type_error(field, other, "map[string]string")),
        }
    }

    /// An HTTP header map (`map[string][]string`); a bare string value is taken as one item.
    pub(crate) fn header_map(
        &self,
        names: &[&str],
        field: &str,
    ) -> Result<BTreeMap<String, Vec<String>>, DefinitionError> {
        match self.get(names) {
            None => Ok(BTreeMap::new()),
            Some(Value::Object(obj)) => {
                let mut out = BTreeMap::new();
                for (k, v) in obj {
                    let values = match v {
                        Value::String(s) => vec![s.clone()],
                        Value::Null => Vec::new(),
                        Value::Array(items) => items
                            .iter()
                            .map(|item| match item {
                                Value::String(s) => Ok(s.clone()),
                                other => Err(self.type_error(field, other, "string")),
                            })
                            .collect::<Result<_, _>>()?,
                        other => return Err(self.type_error(field, other, "[]string")),
                    };
                    out.insert(k.clone(), values);
                }
                Ok(out)
            }
            Some(other) => Err(self.type_error(field, other, "map[string][]string")),
        }
    }

    /// A duration: a Go duration string or a number of nanoseconds. Other JSON types are
    /// ignored, as Consul does. Zero and negative durations read as `Duration::ZERO`.
    pub(crate) fn duration(&self, names: &[&str]) -> Result<Duration, DefinitionError> {
        match self.get(names) {
            Some(Value::String(s)) => parse_go_duration(s),
            Some(Value::Number(n)) => {
                let nanos = n.as_f64().unwrap_or(0.0);
                if nanos.is_finite() && nanos > 0.0 {
                    // Truncation toward zero matches Go's time.Duration(float64).
                    Ok(Duration::from_nanos(nanos.min(u64::MAX as f64) as u64))
                } else {
                    Ok(Duration::ZERO)
                }
            }
            _ => Ok(Duration::ZERO),
        }
    }
}

/// Parses a Go duration string; negative values read as zero (Consul only asks "> 0").
pub(crate) fn parse_go_duration(s: &str) -> Result<Duration, DefinitionError> {
    let nanos = legate_types::go_duration::parse_signed(s)
        .map_err(|e| DefinitionError::Decode(e.to_string()))?;
    Ok(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)))
}

/// The JSON type name Go's decoder uses in its error messages.
fn go_json_type(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(_) => "bool".to_string(),
        Value::Number(n) => format!("number {n}"),
        Value::String(_) => "string".to_string(),
        Value::Array(_) => "array".to_string(),
        Value::Object(_) => "object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn normalises_case_and_underscores() {
        assert_eq!(
            normalize_key("DeregisterCriticalServiceAfter"),
            "deregistercriticalserviceafter"
        );
        assert_eq!(
            normalize_key("deregister_critical_service_after"),
            "deregistercriticalserviceafter"
        );
        assert_eq!(normalize_key("TLS_Skip_Verify"), "tlsskipverify");
    }

    #[test]
    fn first_spelling_wins_and_null_is_absent() {
        let v = json!({"Name": "a", "name": "b", "Port": null});
        let f = Fields::new(&v, "T").unwrap();
        assert_eq!(f.string(&["name"], "Name").unwrap(), "a");
        assert_eq!(f.int(&["port"], "Port").unwrap(), 0);
    }

    #[test]
    fn type_errors_read_like_go() {
        let v = json!({"Port": "x"});
        let f = Fields::new(&v, "ServiceDefinition").unwrap();
        assert_eq!(
            f.int(&["port"], "Port").unwrap_err().to_string(),
            "Request decode failed: json: cannot unmarshal string into Go struct field \
             ServiceDefinition.Port of type int"
        );
    }

    #[test]
    fn unknown_keys_are_reported_with_path() {
        let v = json!({"name": "a", "bogus": 1});
        let f = Fields::new(&v, "T").unwrap();
        assert_eq!(
            f.reject_unknown(&["name"], "service")
                .unwrap_err()
                .to_string(),
            "invalid config key service.bogus"
        );
    }
}
