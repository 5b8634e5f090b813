//! `service-splitter`: weighted traffic splits. Weights are rounded to 0.01 and must sum to 100;
//! a destination (service, subset, namespace, partition) appears once.

use serde_json::Map;
use serde_json::Value;

use super::KindSpec;
use super::common;
use super::schema::Field;
use super::schema::Omit::Empty;
use super::schema::Omit::Never;
use super::schema::Shape;
use super::schema::field;
use super::schema::list_of;
use super::schema::str_of;

static SPLIT: &[Field] = &[
    field("Weight", "", Shape::Float, Never),
    field("Service", "", Shape::Str, Empty),
    field("ServiceSubset", "service_subset", Shape::Str, Empty),
    field("Namespace", "", Shape::Str, Empty),
    field("Partition", "", Shape::Str, Empty),
    field("RequestHeaders", "request_headers", Shape::Any, Empty),
    field("ResponseHeaders", "response_headers", Shape::Any, Empty),
];

static FIELDS: &[Field] = &[
    field("Kind", "", Shape::Str, Never),
    field("Name", "", Shape::Str, Never),
    field("Splits", "", Shape::List(SPLIT), Never),
    field("Meta", "", Shape::StrMap, Empty),
];

/// The kind's table entry.
pub(super) static SPEC: KindSpec = KindSpec {
    kind: "service-splitter",
    fields: FIELDS,
    normalize,
    validate,
    fixed_name: None,
};

/// A weight in hundredths of a percent, rounded as Consul's `scaleWeight` does.
fn scaled(weight: &Value) -> i64 {
    let w = weight.as_f64().unwrap_or(0.0) as f32;
    (f64::from(w) * 100.0).round() as i64
}

/// A scaled weight as Go writes the float32: integers without a fraction.
fn weight_value(scaled: i64) -> Value {
    if scaled % 100 == 0 {
        Value::from(scaled / 100)
    } else {
        serde_json::Number::from_f64(scaled as f64 / 100.0).map_or(Value::from(0), Value::Number)
    }
}

fn normalize(body: &mut Map<String, Value>) -> Result<(), String> {
    if let Some(Value::Array(splits)) = body.get_mut("Splits") {
        for split in splits.iter_mut().filter_map(Value::as_object_mut) {
            let w = split.get("Weight").map_or(0, scaled);
            split.insert("Weight".into(), weight_value(w));
        }
    }
    Ok(())
}

fn validate(body: &Map<String, Value>) -> Result<(), String> {
    common::require_name(body)?;
    let name = str_of(body, "Name");
    let splits = list_of(body, "Splits");
    if splits.is_empty() {
        return Err("no splits configured".to_string());
    }
    common::validate_meta(body)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut sum = 0;
    for split in splits.iter().filter_map(Value::as_object) {
        let service = match str_of(split, "Service") {
            "" => name,
            s => s,
        };
        let key = (
            service,
            str_of(split, "ServiceSubset"),
            str_of(split, "Namespace"),
            str_of(split, "Partition"),
        );
        if !seen.insert(key) {
            return Err(format!(
                "split destination occurs more than once: service={:?}, subset={:?}, namespace={:?}, partition={:?}",
                key.0, key.1, key.2, key.3
            ));
        }
        sum += split.get("Weight").map_or(0, scaled);
    }
    if sum != 100 * 100 {
        return Err(format!(
            "the sum of all split weights must be 100, not {:.6}",
            sum as f64 / 100.0
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config_entry::EntryError;
    use crate::config_entry::decode;

    #[test]
    fn good_entry_rounds_weights() {
        let e = decode(
            &json!({"Kind": "service-splitter", "Name": "web", "Splits": [
            {"Weight": 33.333, "service_subset": "v1"}, {"Weight": "33.33", "ServiceSubset": "v2"},
            {"Weight": 33.34, "ServiceSubset": "v3"}]}),
        )
        .unwrap();
        assert_eq!(
            e.body["Splits"][0],
            json!({"Weight": 33.33, "ServiceSubset": "v1"})
        );
        let e = decode(&json!({"Kind": "service-splitter", "Name": "web",
            "Splits": [{"Weight": 100}]}))
        .unwrap();
        assert_eq!(
            e.body,
            json!({"Kind": "service-splitter", "Name": "web", "Splits": [{"Weight": 100}]})
        );
    }

    #[test]
    fn weights_must_sum_to_100() {
        assert_eq!(
            decode(&json!({"Kind": "service-splitter", "Name": "web",
                "Splits": [{"Weight": 50, "ServiceSubset": "a"}, {"Weight": 40, "ServiceSubset": "b"}]}))
            .unwrap_err(),
            EntryError::Invalid("the sum of all split weights must be 100, not 90.000000".into())
        );
    }

    #[test]
    fn other_errors() {
        assert_eq!(
            decode(&json!({"Kind": "service-splitter", "Name": "web"})).unwrap_err(),
            EntryError::Invalid("no splits configured".into())
        );
        let err = decode(&json!({"Kind": "service-splitter", "Name": "web",
            "Splits": [{"Weight": 50}, {"Weight": 50, "Service": "web"}]}))
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("split destination occurs more than once")
        );
    }
}
