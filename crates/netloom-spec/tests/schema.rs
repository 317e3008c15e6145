//! The JSON Schema is valid, names the format's keys, and accepts every good
//! golden file.

use std::fs;
use std::path::Path;

#[test]
fn schema_mentions_the_format() {
    let schema = netloom_spec::json_schema();
    let text = serde_json::to_string(&schema).unwrap();
    for word in ["topology", "nodes", "links", "endpoints", "startup-config"] {
        assert!(text.contains(&format!("\"{word}\"")), "schema lacks {word}");
    }
    assert_eq!(schema["required"], serde_json::json!(["name", "topology"]));
    assert!(jsonschema::meta::is_valid(&schema));
}

#[test]
fn good_files_validate_against_the_schema() {
    let schema = netloom_spec::json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/good");
    let mut checked = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yml") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let doc = netloom_spec::yaml_to_json(&text).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        checked += 1;
    }
    assert!(checked >= 3);
}

#[test]
fn schema_rejects_unknown_keys_and_accepts_containerlab_ones() {
    let validator = jsonschema::validator_for(&netloom_spec::json_schema()).unwrap();
    let ok = netloom_spec::yaml_to_json(
        "name: a\nmgmt: {network: x}\ntopology:\n  nodes:\n    r1: {kind: linux, mgmt-ipv4: 1.2.3.4}\n",
    )
    .unwrap();
    assert!(validator.is_valid(&ok));
    let bad =
        netloom_spec::yaml_to_json("name: a\ntopology:\n  nodes:\n    r1: {colour: x}\n").unwrap();
    assert!(!validator.is_valid(&bad));
    let bad = netloom_spec::yaml_to_json("name: a\n").unwrap();
    assert!(!validator.is_valid(&bad));
}

#[test]
fn schema_knows_sites_and_link_emulation() {
    let schema = netloom_spec::json_schema();
    let text = serde_json::to_string(&schema).unwrap();
    for word in [
        "sites",
        "sites_latency",
        "link_defaults",
        "site",
        "a_to_b",
        "b_to_a",
        "delay",
        "jitter",
        "reorder",
        "loss",
        "duplicate",
        "corrupt",
        "rate",
        "queue",
        "mode",
        "state",
    ] {
        assert!(text.contains(&format!("\"{word}\"")), "schema lacks {word}");
    }
    let validator = jsonschema::validator_for(&schema).unwrap();
    let lab = |extra: &str, link: &str| {
        netloom_spec::yaml_to_json(&format!(
            "name: a\n{extra}topology:\n  nodes:\n    r1: {{kind: router}}\n    r2: {{kind: router}}\n  links:\n    - endpoints: [\"r1:e1\", \"r2:e1\"]\n{link}"
        ))
        .unwrap()
    };
    for (extra, link) in [
        ("sites: {t: {city: Tokyo}, p: {lat: 1.5, lon: -2}}\n", ""),
        ("link_defaults: {mode: emulated, delay: 1ms}\n", ""),
        (
            "",
            "      delay: 0.5ms\n      jitter: 100µs\n      rate: 1.5Gbit\n      queue: 64kb\n",
        ),
        (
            "",
            "      loss: {model: gilbert, p: 1%, r: 25%}\n      a_to_b: {loss: 1%}\n",
        ),
        (
            "",
            "      queue: 100\n      mode: veth\n      state: down\n",
        ),
    ] {
        let doc = lab(extra, link);
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{extra}{link}: {errors:?}");
    }
    for (extra, link) in [
        ("sites: {t: {city: Tokyo, lat: 1, lon: 2}}\n", ""),
        ("sites: {t: {lat: 1}}\n", ""),
        ("sites: {t: {lat: 91, lon: 0}}\n", ""),
        ("", "      delay: 20\n"),
        ("", "      rate: 10mbps\n"),
        ("", "      loss: 5\n"),
        ("", "      loss: {model: gilbert, p: 1%}\n"),
        ("", "      a_to_b: {mode: veth}\n"),
        ("", "      mode: tap\n"),
    ] {
        let doc = lab(extra, link);
        assert!(!validator.is_valid(&doc), "accepted {extra}{link}");
    }
}

#[test]
fn schema_knows_fabric_intent() {
    let schema = netloom_spec::json_schema();
    let text = serde_json::to_string(&schema).unwrap();
    for word in [
        "addressing",
        "p2p",
        "loopback",
        "lan",
        "lan_len",
        "p2p6",
        "loopback6",
        "routing",
        "protocol",
        "min_prefix_len",
        "maximum_paths",
        "timers",
        "keepalive",
        "hold",
        "peering",
        "router_id",
        "asn",
        "hub",
        "originate_default",
        "ha",
        "peer",
        "vip",
        "priority",
        "advert",
        "config_extra",
        "addresses",
    ] {
        assert!(text.contains(&format!("\"{word}\"")), "schema lacks {word}");
    }
    let validator = jsonschema::validator_for(&schema).unwrap();
    let lab = |top: &str, node: &str| {
        netloom_spec::yaml_to_json(&format!(
            "name: a\n{top}topology:\n  nodes:\n    r1: {{kind: router{node}}}\n"
        ))
        .unwrap()
    };
    for (top, node) in [
        ("addressing: {p2p: 10.0.0.0/16, lan_len: 24, p2p6: \"fd00::/48\"}\n", ""),
        (
            "routing: {protocol: bgp, timers: {keepalive: 3, hold: 9}, peering: interface, router_id: id}\n",
            "",
        ),
        ("", ", routing: {asn: 65001, hub: true, originate_default: false}"),
        ("", ", ha: {peer: r2, vip: 192.168.1.254, priority: 200, advert: 100ms}"),
        ("", ", addresses: {eth1: 10.0.0.1/31, lo: [10.255.0.1/32, \"fd00::1/128\"]}"),
        ("", ", config_extra: \"bgp log-neighbor-changes\""),
    ] {
        let doc = lab(top, node);
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{top}{node}: {errors:?}");
    }
    for (top, node) in [
        ("routing: {maximum_paths: 4}\n", ""),
        ("routing: {protocol: isis}\n", ""),
        ("routing: {protocol: bgp, timers: {keepalive: 3}}\n", ""),
        ("addressing: {lan_len: 31}\n", ""),
        ("addressing: {pool: 10.0.0.0/8}\n", ""),
        ("", ", routing: {asn: 0}"),
        ("", ", ha: {peer: r2}"),
        ("", ", ha: {peer: r2, vip: 192.168.1.254, priority: 255}"),
        ("", ", addresses: {eth1: {ip: 10.0.0.1/31}}"),
    ] {
        let doc = lab(top, node);
        assert!(!validator.is_valid(&doc), "accepted {top}{node}");
    }
}
