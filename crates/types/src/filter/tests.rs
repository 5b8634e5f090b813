//! Filter tests: the examples from Consul's filtering docs, operator semantics on JSON
//! types, error texts, and property tests that parsing and evaluation never panic.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::Value;
use serde_json::json;

use super::*;

fn filter(expr: &str) -> Filter {
    match Filter::parse(expr) {
        Ok(f) => f,
        Err(e) => panic!("{expr:?} failed to parse: {e}"),
    }
}

fn eval(expr: &str, doc: &Value) -> Result<bool, FilterError> {
    filter(expr).matches(doc)
}

/// `/v1/agent/services` from the "Agent API" example of Consul's filtering docs.
fn agent_services() -> BTreeMap<String, Value> {
    let svc = |id: &str, tags: &[&str], meta: Value, port: u16| {
        json!({
            "ID": id, "Service": "redis", "Tags": tags, "Meta": meta, "Port": port,
            "Address": "", "Weights": {"Passing": 1, "Warning": 1}, "EnableTagOverride": false
        })
    };
    BTreeMap::from([
        (
            "redis1".to_owned(),
            svc(
                "redis1",
                &["primary", "production"],
                json!({"env": "production", "foo": "bar"}),
                1234,
            ),
        ),
        (
            "redis2".to_owned(),
            svc(
                "redis2",
                &["secondary", "production"],
                json!({"env": "production", "foo": "bar"}),
                1235,
            ),
        ),
        (
            "redis3".to_owned(),
            svc("redis3", &["primary", "qa"], json!({"env": "qa"}), 1234),
        ),
    ])
}

/// `/v1/catalog/service/api-internal` from the "Catalog API" example.
fn catalog_service_nodes() -> Vec<Value> {
    let node = |node: &str, meta: Value, tags: &[&str], env: &str, idx: u64| {
        json!({
            "ID": "b4f64e8c", "Node": node, "Address": "198.18.0.1", "Datacenter": "dc1",
            "TaggedAddresses": null, "NodeMeta": meta, "ServiceKind": "", "ServiceID": "api-internal",
            "ServiceName": "api-internal", "ServiceTags": tags, "ServiceAddress": "",
            "ServiceWeights": {"Passing": 1, "Warning": 1}, "ServiceMeta": {"environment": env},
            "ServicePort": 9090, "ServiceEnableTagOverride": false, "ServiceProxy": {}, "ServiceConnect": {},
            "CreateIndex": idx, "ModifyIndex": idx
        })
    };
    vec![
        node(
            "node-1",
            json!({"agent": "true", "arch": "i386", "os": "darwin"}),
            &["tag"],
            "qa",
            30,
        ),
        node(
            "node-2",
            json!({"arch": "arm", "os": "linux"}),
            &["test", "tag"],
            "production",
            29,
        ),
        node(
            "node-4",
            json!({"arch": "i386", "os": "freebsd"}),
            &[],
            "qa",
            28,
        ),
    ]
}

/// `/v1/health/node/node-1` from the "Health API" example.
fn node_checks() -> Vec<Value> {
    let check = |id: &str, name: &str, status: &str, svc: &str, idx: u64| {
        json!({
            "Node": "node-1", "CheckID": id, "Name": name, "Status": status, "Notes": "", "Output": "",
            "ServiceID": "", "ServiceName": svc, "ServiceTags": [], "Definition": {},
            "CreateIndex": idx, "ModifyIndex": idx
        })
    };
    vec![
        check("node-health", "Node level check", "critical", "", 13),
        check(
            "svc-web-health",
            "Service level check - web",
            "warning",
            "web",
            18,
        ),
    ]
}

/// A `/v1/health/service/:service` element (CheckServiceNode).
fn check_service_node() -> Value {
    json!({
        "Node": {"Node": "n1", "Address": "10.0.0.1", "Meta": {"rack": "r1"}, "TaggedAddresses": {"lan": "10.0.0.1"}},
        "Service": {
            "ID": "web1", "Service": "web", "Tags": ["primary", "v2"], "Port": 8080, "Meta": {},
            "TaggedAddresses": {"lan_ipv4": {"Address": "10.0.0.1", "Port": 8080}},
            "Proxy": {"Config": {"protocol": "http", "nested": {"deep": 1}}}
        },
        "Checks": [
            {"CheckID": "serfHealth", "Status": "passing", "ServiceName": ""},
            {"CheckID": "service:web1", "Status": "critical", "ServiceName": "web"}
        ]
    })
}

#[test]
fn doc_example_agent_services() {
    let kept = apply_map(&filter(r#"Meta.env == "qa""#), agent_services()).unwrap();
    assert_eq!(kept.keys().collect::<Vec<_>>(), ["redis3"]);
}

#[test]
fn doc_example_catalog_service() {
    let kept = apply(
        &filter(r#"NodeMeta.os == "linux""#),
        catalog_service_nodes(),
    )
    .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["Node"], "node-2");
}

#[test]
fn doc_example_health_node() {
    let kept = apply(&filter(r#"ServiceName != """#), node_checks()).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["CheckID"], "svc-web-health");
}

#[test]
fn doc_selector_forms() {
    let nodes = catalog_service_nodes();
    for expr in [
        r#"ServiceMeta.environment == "qa""#,
        r#"ServiceMeta["environment"] == "qa""#,
        "ServiceMeta.environment == qa",
    ] {
        let kept = apply(&filter(expr), nodes.clone()).unwrap();
        assert_eq!(kept.len(), 2, "{expr}");
    }
}

/// Expression → which of redis1..3 it keeps.
#[test]
fn operator_table_on_agent_services() {
    let cases: &[(&str, &[&str])] = &[
        (r#""primary" in Tags"#, &["redis1", "redis3"]),
        (r#""primary" not in Tags"#, &["redis2"]),
        (r#"Tags contains "qa""#, &["redis3"]),
        (r#"Tags not contains "qa""#, &["redis1", "redis2"]),
        ("Tags is empty", &[]),
        ("Tags is not empty", &["redis1", "redis2", "redis3"]),
        (r#"Meta contains "foo""#, &["redis1", "redis2"]),
        (r#""foo" not in Meta"#, &["redis3"]),
        ("Meta.foo == bar", &["redis1", "redis2"]),
        ("Meta.foo != bar", &["redis3"]),
        ("Meta.foo is empty", &["redis3"]),
        (r#"Meta["foo"] is not empty"#, &["redis1", "redis2"]),
        (r#"Meta.foo matches "^b""#, &["redis1", "redis2"]),
        (r#"Meta.foo not matches "^b""#, &["redis3"]),
        (r#"ID matches "[13]$""#, &["redis1", "redis3"]),
        (r#"ID not matches `\d$`"#, &[]),
        (r#""dis" in Service"#, &["redis1", "redis2", "redis3"]),
        ("Port == 1234", &["redis1", "redis3"]),
        ("Port != 1234", &["redis2"]),
        (r#"Port == "0x4d2""#, &["redis1", "redis3"]),
        (r#"Port == "1_234""#, &["redis1", "redis3"]),
        (
            "EnableTagOverride == false",
            &["redis1", "redis2", "redis3"],
        ),
        ("EnableTagOverride == T", &[]),
        ("Weights.Passing == 1", &["redis1", "redis2", "redis3"]),
        ("Address == \"\"", &["redis1", "redis2", "redis3"]),
        ("Address is empty", &["redis1", "redis2", "redis3"]),
        (r#"Meta.env == qa or ID == redis1"#, &["redis1", "redis3"]),
        (
            r#"Meta.env == production and "primary" in Tags"#,
            &["redis1"],
        ),
        (r#"not Meta.env == production"#, &["redis3"]),
        (r#"not not Meta.env == qa"#, &["redis3"]),
        (
            r#"ID == redis1 and not "qa" in Tags or ID == redis2"#,
            &["redis1", "redis2"],
        ),
        (
            r#"ID == redis3 and (Port == 1 or Port == 1234)"#,
            &["redis3"],
        ),
        (
            r#"(ID == redis1 or ID == redis2) and Port == 1235"#,
            &["redis2"],
        ),
        (r#"  ( ID == "redis1" )  "#, &["redis1"]),
        ("ID == \"re\\x64is\\u0031\"", &["redis1"]),
        ("", &["redis1", "redis2", "redis3"]),
    ];
    for (expr, want) in cases {
        let kept =
            apply_map(&filter(expr), agent_services()).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(
            kept.keys().map(String::as_str).collect::<Vec<_>>(),
            *want,
            "{expr}"
        );
    }
}

#[test]
fn nested_paths_and_implicit_any_over_lists() {
    let doc = check_service_node();
    let cases: &[(&str, bool)] = &[
        ("Checks.Status == passing", true),
        ("Checks.Status == warning", false),
        ("Checks.Status != passing", true),
        (r#"Checks.CheckID == "service:web1""#, true),
        (r#"Service.Tags contains "v2""#, true),
        ("Node.Meta.rack == r1", true),
        ("Node.Meta.zone == r1", false),
        ("Node.Meta.zone != r1", true),
        ("Node.Meta.zone.deeper == r1", false),
        ("Node.TaggedAddresses.lan == \"10.0.0.1\"", true),
        ("Service.TaggedAddresses.lan_ipv4.Port == 8080", true),
        ("Service.TaggedAddresses.wan.Port == 8080", false),
        ("Service.Proxy.Config.protocol == http", true),
        ("Service.Proxy.Config.nested.deep == 1", true),
        ("Service.Proxy.Config.nested.other == 1", false),
        ("Service.Meta is empty", true),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(expr, &doc), Ok(*want), "{expr}");
    }
    let empty_checks = json!({"Checks": []});
    assert_eq!(eval("Checks.Status != passing", &empty_checks), Ok(false));
}

#[test]
fn evaluation_errors_read_like_consul() {
    let svc = &agent_services()["redis1"];
    let cases: &[(&str, &str)] = &[
        ("Bogus == 1", r#"Selector "Bogus" is not valid"#),
        (
            "Weights.Bogus == 1",
            r#"Selector "Weights.Bogus" is not valid"#,
        ),
        ("Port.Value == 1", r#"Selector "Port.Value" is not valid"#),
        (
            "Tags == primary",
            r#"Invalid match operator "Equal" for selector "Tags""#,
        ),
        (
            "Meta != x",
            r#"Invalid match operator "Not Equal" for selector "Meta""#,
        ),
        (
            "Port contains 1",
            r#"Invalid match operator "In" for selector "Port""#,
        ),
        (
            "Weights is empty",
            r#"Invalid match operator "Is Empty" for selector "Weights""#,
        ),
        (
            "Port matches 1",
            r#"Invalid match operator "Matches" for selector "Port""#,
        ),
        (
            "Port == abc",
            r#"Failed to coerce value "abc" for selector "Port": strconv.ParseInt: parsing "abc": invalid syntax"#,
        ),
        (
            "Port == 1.5",
            r#"Failed to coerce value "1.5" for selector "Port": strconv.ParseInt: parsing "1.5": invalid syntax"#,
        ),
        (
            "EnableTagOverride == yes",
            r#"Failed to coerce value "yes" for selector "EnableTagOverride": strconv.ParseBool: parsing "yes": invalid syntax"#,
        ),
    ];
    for (expr, want) in cases {
        let err = eval(expr, svc).expect_err(expr);
        assert_eq!(err.to_string(), *want, "{expr}");
        assert!(err.is_parse_error());
        assert_eq!(
            err.consul_message(),
            format!("Failed to create boolean expression evaluator: {want}")
        );
    }
}

#[test]
fn parse_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "foo",
            r#"1:4 (3): no match found, expected: "!=", ".", "==", "[", [ \t\r\n] or [a-zA-Z0-9_]"#,
        ),
        (
            "   ",
            r#"1:4 (3): no match found, expected: "(", "-", "0", "\"", "`", "not", [ \t\r\n], [1-9] or [a-zA-Z]"#,
        ),
        (
            r#"Service matches "(""#,
            r#"Failed to compile regular expression "(": unclosed group"#,
        ),
        (
            "Port == 3x",
            r#"1:10 (9): rule "number": Invalid number literal"#,
        ),
    ];
    for (expr, want) in cases {
        let err = Filter::parse(expr).expect_err(expr);
        assert_eq!(err.to_string(), *want, "{expr}");
        assert!(err.is_parse_error());
        assert!(!err.to_string().contains('\n'));
    }
    let err = Filter::parse("foo").unwrap_err();
    assert!(err.consul_message().starts_with(PARSE_ERROR_PREFIX));
}

#[test]
fn omitted_fields_are_known_but_absent() {
    #[derive(Debug, Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct AgentService {
        #[serde(skip_serializing_if = "String::is_empty")]
        kind: String,
        service: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        proxy: Option<Proxy>,
    }
    #[derive(Debug, Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Proxy {
        destination_service_name: String,
    }
    let items = [
        AgentService {
            kind: String::new(),
            service: "web".into(),
            proxy: None,
        },
        AgentService {
            kind: "connect-proxy".into(),
            service: "web-proxy".into(),
            proxy: Some(Proxy {
                destination_service_name: "web".into(),
            }),
        },
    ];
    let names = |expr: &str| -> Vec<String> {
        let kept = apply(&filter(expr), items.iter().collect::<Vec<_>>())
            .unwrap_or_else(|e| panic!("{expr}: {e}"));
        kept.iter().map(|s| s.service.clone()).collect()
    };
    assert_eq!(names(r#"Kind == "connect-proxy""#), ["web-proxy"]);
    assert_eq!(names(r#"Kind == """#), ["web"]);
    assert_eq!(names(r#"Kind != "connect-proxy""#), ["web"]);
    assert_eq!(names("Kind is empty"), ["web"]);
    assert_eq!(names("Proxy.DestinationServiceName == web"), ["web-proxy"]);
    assert_eq!(names("Proxy.DestinationServiceName != web"), ["web"]);
    let err = apply(&filter("Knd == x"), items.iter().collect::<Vec<_>>()).unwrap_err();
    assert_eq!(
        err,
        FilterError::InvalidSelector {
            selector: "Knd".into()
        }
    );
}

#[test]
fn values_and_selectors_print_as_go() {
    let doc = json!({"Meta": {"a.b": "x", "with space": "y"}, "Name": "Meta.a"});
    assert_eq!(eval(r#"Meta["a.b"] == x"#, &doc), Ok(true));
    assert_eq!(eval(r#"Meta[ "with space" ] == `y`"#, &doc), Ok(true));
    // A selector used as a value is its dotted text.
    assert_eq!(eval("Name == Meta.a", &doc), Ok(true));
    assert_eq!(eval(r#"Name == Meta["a"]"#, &doc), Ok(true));
}

#[test]
fn numbers_compare_by_field_type() {
    let doc = json!({"Int": -3, "Big": u64::MAX, "Float": 0.5});
    assert_eq!(eval("Int == -3", &doc), Ok(true));
    assert_eq!(eval("Big == 18446744073709551615", &doc), Ok(true));
    assert_eq!(eval("Float == 0.5", &doc), Ok(true));
    assert_eq!(eval(r#"Float == "5e-1""#, &doc), Ok(true));
    // Unquoted numbers follow the grammar: no exponents, prefixes or separators.
    assert!(Filter::parse("Float == 5e-1").is_err());
    assert!(Filter::parse("Port == 0x4d2").is_err());
    assert!(eval("Int == 1.0", &doc).is_err());
    let list = json!({"L": [1, "two", true, 2.5]});
    for (expr, want) in [
        ("1 in L", true),
        ("two in L", true),
        ("true in L", true),
        ("2.5 in L", true),
        ("3 in L", false),
    ] {
        assert_eq!(eval(expr, &list), Ok(want), "{expr}");
    }
}

#[test]
fn nulls_behave_like_absent_values() {
    let doc = json!({"TaggedAddresses": null, "Tags": null, "S": null});
    assert_eq!(eval("TaggedAddresses.lan == x", &doc), Ok(false));
    assert_eq!(eval("TaggedAddresses is empty", &doc), Ok(true));
    assert_eq!(eval(r#""x" in Tags"#, &doc), Ok(false));
    assert_eq!(eval(r#""x" not in Tags"#, &doc), Ok(true));
    assert_eq!(eval("S matches x", &doc), Ok(false));
    assert_eq!(eval("S not matches x", &doc), Ok(true));
}

#[test]
fn and_or_short_circuit_like_go() {
    let doc = json!({"A": 1});
    assert_eq!(eval("A == 1 or Bogus == 1", &doc), Ok(true));
    assert_eq!(eval("A == 2 and Bogus == 1", &doc), Ok(false));
    assert!(eval("A == 1 and Bogus == 1", &doc).is_err());
}

#[test]
fn empty_filter_matches_everything() {
    let f = Filter::parse("").unwrap();
    assert!(f.is_match_all());
    assert_eq!(f.matches(&json!(null)), Ok(true));
    assert_eq!(apply(&f, vec![1, 2]).unwrap(), vec![1, 2]);
}

#[test]
fn serialize_errors_are_evaluation_errors() {
    let err = FilterError::Serialize("boom".into());
    assert!(!err.is_parse_error());
    assert_eq!(
        err.consul_message(),
        "failed to serialize element for filtering: boom"
    );
}

proptest! {
    #[test]
    fn parse_never_panics(s in "\\PC{0,64}") {
        let _ = Filter::parse(&s);
    }

    #[test]
    fn parse_and_eval_never_panic_on_grammar_soup(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("("), Just(")"), Just(" "), Just("and"), Just("or"), Just("not"), Just("=="),
                Just("!="), Just("in"), Just("contains"), Just("is"), Just("empty"), Just("matches"),
                Just("."), Just("["), Just("]"), Just("\""), Just("`"), Just("\\"), Just("-"),
                Just("0"), Just("12"), Just("1.5"), Just("Meta"), Just("Tags"), Just("Port"),
                Just("Service"), Just("x"), Just("\"a\""), Just("`b`"), Just("\n"),
            ],
            0..24,
        )
    ) {
        let src: String = parts.concat();
        if let Ok(f) = Filter::parse(&src) {
            for doc in agent_services().values() {
                let _ = f.matches(doc);
            }
            let _ = f.matches(&check_service_node());
        }
    }

    #[test]
    fn generated_equalities_evaluate(key in "[a-z]{1,8}", val in "[ !#-~]{0,12}") {
        let doc = json!({"Meta": {key.clone(): val.clone()}});
        let quoted = serde_json::to_string(&val).unwrap_or_default();
        let expr = format!("Meta[\"{key}\"] == {quoted}");
        // JSON string escapes are a subset of Go's, so the value round-trips. (A `"` can
        // never appear inside a bexpr double-quoted string, escaped or not.)
        prop_assert_eq!(filter(&expr).matches(&doc), Ok(true));
    }
}
