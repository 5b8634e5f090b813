//! The schema engine behind config-entry decoding: a kind's fields as a static table, and the
//! walk that turns a client's JSON into the canonical entry Consul would store. Keys match
//! case-insensitively or by their snake_case alias (as Consul's mapstructure decoding with key
//! translation does), values are weakly typed (`"5"` is an int), unknown keys are collected as
//! errors, and the output lists fields in Consul's struct order with Go's zero values and
//! `omitempty` rules applied.

use serde_json::Map;
use serde_json::Value;

/// One field of a config-entry struct.
#[derive(Debug)]
pub(crate) struct Field {
    /// Canonical (PascalCase) JSON name.
    pub(crate) name: &'static str,
    /// The snake_case alias Consul also accepts (`""` when none beyond case folding).
    pub(crate) alias: &'static str,
    /// What the value is.
    pub(crate) shape: Shape,
    /// Whether an empty value is written out.
    pub(crate) omit: Omit,
}

/// When a field is written to the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Omit {
    /// Always written; Go's zero value when absent.
    Never,
    /// Go's `omitempty`: skipped when empty.
    Empty,
    /// Accepted on input and kept only when given, for the kind's normaliser to check and
    /// remove (fields Consul does not write, like the mesh entry's name).
    Hidden,
}

/// The type of a field's value.
#[derive(Debug)]
pub(crate) enum Shape {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// A float (split weights).
    Float,
    /// A boolean.
    Bool,
    /// A Go duration, written as its string form (`"15s"`).
    Duration,
    /// A list of strings.
    StrList,
    /// A string-to-string map.
    StrMap,
    /// Opaque JSON kept as given (Consul's `map[string]interface{}` and deep structures this
    /// decoder does not model).
    Any,
    /// A struct value: written as an object even when empty.
    Struct(&'static [Field]),
    /// A pointer to a struct: `null` when absent.
    Ptr(&'static [Field]),
    /// A list of structs.
    List(&'static [Field]),
    /// A map of structs keyed by user-chosen names.
    Map(&'static [Field]),
}

/// Shorthand for building field tables.
pub(crate) const fn field(
    name: &'static str,
    alias: &'static str,
    shape: Shape,
    omit: Omit,
) -> Field {
    Field {
        name,
        alias,
        shape,
        omit,
    }
}

/// What went wrong while decoding: unknown keys and values of the wrong type.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct DecodeErrors {
    /// Keys no field accepts, with their path (`Sources[0].Foo`).
    pub(crate) unused: Vec<String>,
    /// Type mismatches, already worded.
    pub(crate) types: Vec<String>,
}

impl DecodeErrors {
    fn is_empty(&self) -> bool {
        self.unused.is_empty() && self.types.is_empty()
    }
}

/// Decode `input` (an object) against `fields`, returning the canonical object.
pub(crate) fn decode_object(
    input: &Value,
    fields: &'static [Field],
    top_level: bool,
) -> Result<Map<String, Value>, DecodeErrors> {
    let mut errors = DecodeErrors::default();
    let out = object(input, fields, "", top_level, &mut errors);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Find the field a key names: exact or case-insensitive name, or the snake_case alias.
pub(crate) fn lookup(fields: &'static [Field], key: &str) -> Option<&'static Field> {
    fields
        .iter()
        .find(|f| f.name == key)
        .or_else(|| fields.iter().find(|f| f.name.eq_ignore_ascii_case(key)))
        .or_else(|| {
            fields
                .iter()
                .find(|f| !f.alias.is_empty() && f.alias.eq_ignore_ascii_case(key))
        })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn object(
    input: &Value,
    fields: &'static [Field],
    path: &str,
    top_level: bool,
    errors: &mut DecodeErrors,
) -> Map<String, Value> {
    let mut given: Vec<(&'static Field, Value)> = Vec::new();
    match unwrap_single(input) {
        Value::Object(map) => {
            // A canonical key wins over an alias spelling of the same field, as Consul's key
            // translation leaves an existing canonical key alone.
            for (key, value) in map {
                if top_level && matches!(key.as_str(), "CreateIndex" | "ModifyIndex") {
                    continue;
                }
                let Some(field) = lookup(fields, key) else {
                    if top_level && key == "kind" {
                        continue;
                    }
                    errors.unused.push(join(path, key));
                    continue;
                };
                let exact = field.name.eq_ignore_ascii_case(key);
                if let Some(slot) = given.iter_mut().find(|(f, _)| std::ptr::eq(*f, field)) {
                    if exact {
                        slot.1 = value.clone();
                    }
                    continue;
                }
                given.push((field, value.clone()));
            }
        }
        Value::Null => {}
        other => errors.types.push(format!(
            "'{path}' expected a map, got '{}'",
            json_type(other)
        )),
    }
    let mut out = Map::new();
    for field in fields {
        let child = join(path, field.name);
        let value = given
            .iter()
            .find(|(f, _)| std::ptr::eq(*f, field))
            .map(|(_, v)| value(v, &field.shape, &child, errors));
        let value = match (value, field.omit) {
            (Some(v), _) => v,
            (None, Omit::Hidden) => continue,
            (None, _) => zero(&field.shape),
        };
        match field.omit {
            Omit::Empty if is_empty(&value, &field.shape) => {}
            _ => {
                out.insert(field.name.to_string(), value);
            }
        }
    }
    out
}

/// Consul's decoder accepts a one-element list where a single value is expected (HCL's quirk).
fn unwrap_single(input: &Value) -> &Value {
    match input {
        Value::Array(items) if items.len() == 1 => &items[0],
        other => other,
    }
}

fn value(input: &Value, shape: &Shape, path: &str, errors: &mut DecodeErrors) -> Value {
    match shape {
        Shape::List(fields) => match input {
            Value::Null => Value::Null,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        Value::Object(object(item, fields, &format!("{path}[{i}]"), false, errors))
                    })
                    .collect(),
            ),
            single @ Value::Object(_) => Value::Array(vec![Value::Object(object(
                single,
                fields,
                &format!("{path}[0]"),
                false,
                errors,
            ))]),
            other => type_error(path, "slice", other, errors),
        },
        Shape::StrList => match input {
            Value::Null => Value::Null,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| scalar(item, &Shape::Str, &format!("{path}[{i}]"), errors))
                    .collect(),
            ),
            single => Value::Array(vec![scalar(
                single,
                &Shape::Str,
                &format!("{path}[0]"),
                errors,
            )]),
        },
        Shape::Map(fields) => match unwrap_single(input) {
            Value::Null => Value::Null,
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let child = format!("{path}[{k}]");
                        (
                            k.clone(),
                            Value::Object(object(v, fields, &child, false, errors)),
                        )
                    })
                    .collect(),
            ),
            other => type_error(path, "map", other, errors),
        },
        Shape::StrMap => match unwrap_single(input) {
            Value::Null => Value::Null,
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let child = format!("{path}[{k}]");
                        (k.clone(), scalar(v, &Shape::Str, &child, errors))
                    })
                    .collect(),
            ),
            other => type_error(path, "map[string]string", other, errors),
        },
        Shape::Struct(fields) | Shape::Ptr(fields) => match unwrap_single(input) {
            Value::Null if matches!(shape, Shape::Ptr(_)) => Value::Null,
            obj => Value::Object(object(obj, fields, path, false, errors)),
        },
        Shape::Any => input.clone(),
        scalar_shape => scalar(unwrap_single(input), scalar_shape, path, errors),
    }
}

fn scalar(input: &Value, shape: &Shape, path: &str, errors: &mut DecodeErrors) -> Value {
    match (shape, input) {
        (_, Value::Null) => zero(shape),
        (Shape::Str, Value::String(_)) => input.clone(),
        (Shape::Str, Value::Number(n)) => Value::String(n.to_string()),
        (Shape::Str, Value::Bool(b)) => Value::String(if *b { "1" } else { "0" }.to_string()),
        (Shape::Int, Value::Number(n)) => match n.as_i64() {
            Some(i) => Value::from(i),
            None => n.as_f64().map_or_else(
                || type_error(path, "int", input, errors),
                |f| Value::from(f.trunc() as i64),
            ),
        },
        (Shape::Int, Value::Bool(b)) => Value::from(i64::from(*b)),
        (Shape::Int, Value::String(s)) if s.is_empty() => Value::from(0),
        (Shape::Int, Value::String(s)) => match s.parse::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => type_error(path, "int", input, errors),
        },
        (Shape::Float, Value::Number(_)) => input.clone(),
        (Shape::Float, Value::String(s)) => match s.parse::<f64>() {
            Ok(f) => serde_json::Number::from_f64(f)
                .map_or_else(|| type_error(path, "float32", input, errors), Value::Number),
            Err(_) => type_error(path, "float32", input, errors),
        },
        (Shape::Bool, Value::Bool(_)) => input.clone(),
        (Shape::Bool, Value::Number(n)) => Value::Bool(n.as_f64().is_some_and(|f| f != 0.0)),
        (Shape::Bool, Value::String(s)) if s.is_empty() => Value::Bool(false),
        (Shape::Bool, Value::String(s)) => match s.as_str() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Value::Bool(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Value::Bool(false),
            _ => type_error(path, "bool", input, errors),
        },
        (Shape::Duration, Value::String(s)) if s.is_empty() => Value::String(String::new()),
        (Shape::Duration, Value::String(s)) => match legate_types::go_duration::parse(s) {
            Ok(d) => Value::String(legate_types::go_duration::format(d)),
            Err(_) => {
                errors.types.push(format!(
                    "error decoding '{path}': time: invalid duration \"{s}\""
                ));
                Value::Null
            }
        },
        (Shape::Duration, Value::Number(n)) => match n.as_u64() {
            Some(0) => Value::String(String::new()),
            Some(ns) => Value::String(legate_types::go_duration::format(
                std::time::Duration::from_nanos(ns),
            )),
            None => type_error(path, "time.Duration", input, errors),
        },
        (other, _) => type_error(path, go_type(other), input, errors),
    }
}

fn type_error(path: &str, want: &str, got: &Value, errors: &mut DecodeErrors) -> Value {
    errors.types.push(format!(
        "'{path}' expected type '{want}', got unconvertible type '{}', value: '{}'",
        json_type(got),
        got
    ));
    Value::Null
}

fn go_type(shape: &Shape) -> &'static str {
    match shape {
        Shape::Str => "string",
        Shape::Int => "int",
        Shape::Float => "float32",
        Shape::Bool => "bool",
        Shape::Duration => "time.Duration",
        _ => "struct",
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Go's zero value of a field, as `encoding/json` writes it.
fn zero(shape: &Shape) -> Value {
    match shape {
        Shape::Str | Shape::Duration => Value::String(String::new()),
        Shape::Int | Shape::Float => Value::from(0),
        Shape::Bool => Value::Bool(false),
        Shape::Struct(fields) => {
            let mut errors = DecodeErrors::default();
            Value::Object(object(&Value::Null, fields, "", false, &mut errors))
        }
        _ => Value::Null,
    }
}

/// Go's `omitempty` test. Structs are never empty (Go writes them regardless).
fn is_empty(value: &Value, shape: &Shape) -> bool {
    if matches!(shape, Shape::Struct(_)) {
        return false;
    }
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty() && !matches!(shape, Shape::Ptr(_)),
    }
}

/// Read a string field of a decoded object (`""` when absent).
pub(crate) fn str_of<'a>(obj: &'a Map<String, Value>, name: &str) -> &'a str {
    obj.get(name).and_then(Value::as_str).unwrap_or("")
}

/// Read a list field of a decoded object (empty when absent or null).
pub(crate) fn list_of<'a>(obj: &'a Map<String, Value>, name: &str) -> &'a [Value] {
    obj.get(name)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    static INNER: &[Field] = &[
        field("Name", "", Shape::Str, Omit::Never),
        field("MaxConnections", "max_connections", Shape::Int, Omit::Empty),
    ];
    static OUTER: &[Field] = &[
        field("Kind", "", Shape::Str, Omit::Never),
        field("Name", "", Shape::Str, Omit::Never),
        field("Items", "", Shape::List(INNER), Omit::Empty),
        field("Inner", "", Shape::Struct(INNER), Omit::Empty),
        field("Ptr", "", Shape::Ptr(INNER), Omit::Empty),
        field("Enabled", "", Shape::Bool, Omit::Empty),
        field("Timeout", "request_timeout", Shape::Duration, Omit::Empty),
        field("Meta", "", Shape::StrMap, Omit::Empty),
    ];

    #[test]
    fn keys_fold_case_and_aliases_and_output_is_canonical_order() {
        let input = json!({"name": "web", "kind": "x", "items": [{"name": "a", "max_connections": "5"}],
            "REQUEST_TIMEOUT": "1500ms"});
        let out = decode_object(&input, OUTER, true).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"Kind": "x", "Name": "web", "Items": [{"Name": "a", "MaxConnections": 5}],
                "Inner": {"Name": ""}, "Timeout": "1.5s"})
        );
    }

    #[test]
    fn unknown_keys_are_reported_with_their_path() {
        let input = json!({"Name": "web", "Bogus": 1, "Items": [{"Name": "a", "Nope": true}]});
        let err = decode_object(&input, OUTER, true).unwrap_err();
        assert_eq!(
            err.unused,
            vec!["Bogus".to_string(), "Items[0].Nope".to_string()]
        );
    }

    #[test]
    fn wrong_types_are_reported() {
        let input = json!({"Enabled": "maybe", "Items": [{"MaxConnections": "many"}]});
        let err = decode_object(&input, OUTER, true).unwrap_err();
        assert_eq!(err.types.len(), 2);
        assert!(err.types[0].starts_with("'Items[0].MaxConnections' expected type 'int'"));
    }

    #[test]
    fn weak_typing_matches_mapstructure() {
        let input = json!({"Name": 5, "Enabled": "true", "Ptr": [{"Name": "p"}], "Meta": {"a": 1}});
        let out = decode_object(&input, OUTER, true).unwrap();
        assert_eq!(out["Name"], json!("5"));
        assert_eq!(out["Enabled"], json!(true));
        assert_eq!(out["Ptr"], json!({"Name": "p"}));
        assert_eq!(out["Meta"], json!({"a": "1"}));
    }

    #[test]
    fn canonical_spelling_wins_over_alias() {
        let input = json!({"request_timeout": "1s", "Timeout": "2s"});
        let out = decode_object(&input, OUTER, true).unwrap();
        assert_eq!(out["Timeout"], json!("2s"));
    }
}
