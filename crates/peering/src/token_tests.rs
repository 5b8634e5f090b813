//! Unit and property tests of the token codec and its validation.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;

use super::*;

fn ok_ca(_: &str) -> Result<(), String> {
    Ok(())
}

fn sample() -> PeeringToken {
    PeeringToken {
        ca: vec!["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into()],
        manual_server_addresses: vec![],
        server_addresses: vec!["10.0.0.1:8503".into(), "server.example.com:8503".into()],
        server_name: "server.dc1.peering.11111111-2222-3333-4444-555555555555.consul".into(),
        peer_id: "9e650110-ac74-4c5a-a6a8-9348b2bed4e9".into(),
        establishment_secret: "5a2e0c3b-3b1f-4c8e-9d0e-1f2a3b4c5d6e".into(),
        remote: TokenRemote {
            partition: "default".into(),
            datacenter: "dc1".into(),
        },
    }
}

fn b64(json: &str) -> String {
    STANDARD.encode(json)
}

#[test]
fn json_has_consuls_field_names_order_and_nil_slice() {
    let json = String::from_utf8(STANDARD.decode(sample().encode()).unwrap()).unwrap();
    assert_eq!(
        json,
        concat!(
            r#"{"CA":["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"],"#,
            r#""ManualServerAddresses":null,"#,
            r#""ServerAddresses":["10.0.0.1:8503","server.example.com:8503"],"#,
            r#""ServerName":"server.dc1.peering.11111111-2222-3333-4444-555555555555.consul","#,
            r#""PeerID":"9e650110-ac74-4c5a-a6a8-9348b2bed4e9","#,
            r#""EstablishmentSecret":"5a2e0c3b-3b1f-4c8e-9d0e-1f2a3b4c5d6e","#,
            r#""Remote":{"Partition":"default","Datacenter":"dc1"}}"#
        )
    );
}

#[test]
fn decodes_what_it_encodes_and_consul_shaped_tokens() {
    let t = sample();
    assert_eq!(PeeringToken::decode(&t.encode()).unwrap(), t);
    // A token as Consul writes it, with null lists and a wrapped line.
    let consul = b64(
        r#"{"CA":null,"ManualServerAddresses":["lb.example.com:443"],"ServerAddresses":null,"ServerName":"","PeerID":"abc","EstablishmentSecret":"s","Remote":{"Partition":"","Datacenter":"dc9"}}"#,
    );
    let (a, b) = consul.split_at(20);
    let got = PeeringToken::decode(&format!("{a}\n{b}\r\n")).unwrap();
    assert!(got.ca.is_empty());
    assert_eq!(got.dial_addresses(), ["lb.example.com:443"]);
    assert_eq!(got.remote.datacenter, "dc9");
    // Missing fields default (`{}` decodes; validation then refuses it).
    let empty = PeeringToken::decode("e30K").unwrap();
    assert_eq!(empty.validate(ok_ca), Err(TokenError::EmptyServerAddresses));
}

#[test]
fn decode_errors_are_distinct() {
    assert_eq!(PeeringToken::decode(""), Err(TokenError::Empty));
    assert_eq!(PeeringToken::decode("\n"), Err(TokenError::Empty));
    assert!(matches!(
        PeeringToken::decode("+++/+++"),
        Err(TokenError::Base64 { .. })
    ));
    assert_eq!(
        PeeringToken::decode("not base64!").unwrap_err().to_string(),
        "failed to decode token: illegal base64 data at input byte 3"
    );
    assert_eq!(
        PeeringToken::decode(&b64(r#"{"CA":["#)),
        Err(TokenError::Truncated)
    );
    assert!(matches!(
        PeeringToken::decode("Cg=="),
        Err(TokenError::Truncated)
    ));
    assert!(matches!(
        PeeringToken::decode(&b64("hello")),
        Err(TokenError::Syntax(_))
    ));
    assert!(matches!(
        PeeringToken::decode(&b64(r#"{"CA":"x"}"#)),
        Err(TokenError::Shape(_))
    ));
    assert!(matches!(
        PeeringToken::decode(&b64("[1]")),
        Err(TokenError::Shape(_))
    ));
    let truncated = sample().encode();
    assert!(PeeringToken::decode(&truncated[..truncated.len() - 8]).is_err());
}

#[test]
fn validation_follows_consuls_order_and_texts() {
    let mut t = sample();
    assert_eq!(t.validate(ok_ca), Ok(()));
    assert_eq!(
        t.validate(|_| Err("bad pem".into()))
            .unwrap_err()
            .to_string(),
        "peering token invalid CA: bad pem"
    );
    t.server_addresses = vec!["10.0.0.1".into()];
    assert_eq!(
        t.validate(ok_ca).unwrap_err().to_string(),
        "10.0.0.1 is not a valid peering server address"
    );
    t.server_addresses = vec!["10.0.0.1:8503".into()];
    t.manual_server_addresses = vec!["lb:0".into()];
    assert_eq!(
        t.validate(ok_ca),
        Err(TokenError::InvalidServerAddress("lb:0".into()))
    );
    t.manual_server_addresses.clear();
    t.server_name.clear();
    assert_eq!(
        t.validate(ok_ca).unwrap_err().to_string(),
        "peering token server name value is empty"
    );
    t.ca.clear();
    t.peer_id.clear();
    assert_eq!(
        t.validate(ok_ca).unwrap_err().to_string(),
        "peering token peer ID value is empty"
    );
    t.server_addresses.clear();
    assert_eq!(
        t.validate(ok_ca).unwrap_err().to_string(),
        "peering token server addresses value is empty"
    );
}

#[test]
fn server_addresses_follow_go_split_host_port() {
    for ok in [
        "10.0.0.1:8503",
        "host:1",
        "host:65535",
        "[::1]:8503",
        "[fe80::1%eth0]:443",
        ":8503",
        "host:+80",
    ] {
        assert!(valid_server_address(ok), "{ok} should be valid");
    }
    for bad in [
        "host",
        "host:",
        "host:0",
        "host:65536",
        "host:port",
        "::1:8503",
        "[::1]8503",
        "[::1]:",
        "a]:1",
        "[a:1",
        "host:-1",
        "host:123456",
        "",
    ] {
        assert!(!valid_server_address(bad), "{bad} should be invalid");
    }
}

fn arb_token() -> impl Strategy<Value = PeeringToken> {
    let s = "\\PC{0,24}";
    (
        prop::collection::vec(s, 0..3),
        prop::collection::vec(s, 0..3),
        prop::collection::vec(s, 0..3),
        (s, s, s, s, s),
    )
        .prop_map(
            |(ca, manual, servers, (name, id, secret, part, dc))| PeeringToken {
                ca,
                manual_server_addresses: manual,
                server_addresses: servers,
                server_name: name,
                peer_id: id,
                establishment_secret: secret,
                remote: TokenRemote {
                    partition: part,
                    datacenter: dc,
                },
            },
        )
}

proptest! {
    #[test]
    fn encode_decode_round_trip(t in arb_token()) {
        prop_assert_eq!(PeeringToken::decode(&t.encode()).unwrap(), t);
    }

    #[test]
    fn decode_never_panics_on_text(text in "\\PC{0,200}") {
        let _ = PeeringToken::decode(&text);
    }

    #[test]
    fn decode_never_panics_on_base64_of_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = PeeringToken::decode(&STANDARD.encode(&bytes));
    }

    #[test]
    fn decode_never_panics_on_prefixes(t in arb_token(), cut in 0usize..400) {
        let text = t.encode();
        let cut = cut.min(text.len());
        let _ = PeeringToken::decode(&text[..cut]);
    }

    #[test]
    fn validate_never_panics(t in arb_token()) {
        let _ = t.validate(ok_ca);
    }

    #[test]
    fn port_range_is_exact(port in 0u32..70000) {
        prop_assert_eq!(
            valid_server_address(&format!("h:{port}")),
            (1..=65535).contains(&port)
        );
    }
}
