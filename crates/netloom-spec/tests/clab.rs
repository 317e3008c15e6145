//! A containerlab-style FRR lab (routers as `kind: linux` running the FRR
//! image, configured by binds into /etc/frr) loads as netloom routers.

use netloom_model::NodeKind;
use std::path::Path;

#[test]
fn clab_style_frr_lab_loads_as_routers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/good/clab-frr.yml");
    let loaded = netloom_spec::load_file(&path).unwrap_or_else(|d| panic!("{d}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let topo = loaded.topology;
    assert_eq!(topo.name.as_str(), "clabfrr");
    assert_eq!(topo.links.len(), 5);
    for (name, daemons) in [
        ("rtr-a", vec!["ospfd"]),
        ("rtr-b", vec!["ospfd", "bfdd"]),
        ("rtr-c", vec!["ospfd"]),
    ] {
        let node = topo.node(name).unwrap();
        assert_eq!(node.kind, NodeKind::Router, "{name}");
        let frr = node.frr.as_ref().unwrap();
        assert_eq!(
            frr.daemons.as_deref(),
            Some(&daemons.iter().map(|d| d.to_string()).collect::<Vec<_>>()[..])
        );
        assert!(frr
            .config
            .as_ref()
            .unwrap()
            .contains(&format!("hostname {name}")));
        assert_eq!(
            frr.config_origin.as_deref(),
            Some(&*format!("bind {name}/frr.conf"))
        );
        assert!(node.binds.is_empty(), "FRR binds are consumed");
    }
    for name in ["pc-a", "pc-c"] {
        let node = topo.node(name).unwrap();
        assert_eq!(node.kind, NodeKind::Host);
        assert!(node.frr.is_none());
        assert_eq!(node.exec.len(), 2);
        assert_eq!(node.labels.get("role").map(String::as_str), Some("pc"));
    }
    assert_eq!(
        topo.source.as_deref(),
        Some(&*std::fs::canonicalize(&path).unwrap().display().to_string())
    );
}

#[test]
fn inheritance_follows_containerlab() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/good/inheritance.yml");
    let topo = netloom_spec::load_file(&path).unwrap().topology;
    let e1 = topo.node("e1").unwrap();
    assert_eq!(e1.kind, NodeKind::Router);
    // exec appends: defaults, kind, group, node.
    assert_eq!(
        e1.exec,
        ["echo defaults", "echo kind", "echo group", "echo node"]
    );
    // env merges, the most specific level wins.
    assert_eq!(e1.env["LEVEL"], "node");
    assert_eq!(e1.env["ONLY_DEFAULTS"], "1");
    let frr = e1.frr.as_ref().unwrap();
    assert_eq!(frr.config_origin.as_deref(), Some("inline"));
    assert_eq!(
        frr.daemons.as_deref(),
        Some(&["bgpd".to_string(), "ospfd".to_string()][..])
    );
    let e2 = topo.node("e2").unwrap();
    assert_eq!(e2.env["LEVEL"], "group");
    assert_eq!(e2.labels["team"], "edge");
    assert_eq!(topo.node("h2").unwrap().kind, NodeKind::Host);
    // A YAML merge key copies h1's env into h3.
    assert_eq!(topo.node("h3").unwrap().env["TZ"], "UTC");
}

#[test]
fn load_str_resolves_against_base_dir_and_has_no_source() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/good");
    let text = "name: s\ntopology:\n  nodes:\n    r2: {kind: frr, startup-config: r2/frr.conf}\n";
    let loaded = netloom_spec::load_str(text, "inline.yml", &dir).unwrap();
    assert_eq!(loaded.topology.source, None);
    let frr = loaded.topology.node("r2").unwrap().frr.clone().unwrap();
    assert!(frr.config.unwrap().contains("hostname r2"));
}

#[test]
fn diagnostics_serialize_and_display() {
    let err = netloom_spec::load_str(
        "name: lab\ntopology:\n  nodes:\n    r1:\n      kind: ciscoo\n",
        "lab.yml",
        Path::new("/"),
    )
    .unwrap_err();
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json[0]["severity"], "error");
    assert_eq!(json[0]["line"], 5);
    assert_eq!(json[0]["column"], 13);
    assert_eq!(json[0]["field"], "topology.nodes.r1.kind");
    let text = err.to_string();
    assert!(text.contains("  --> lab.yml:5:13\n"), "{text}");
    assert!(
        text.contains(
            " 5 |       kind: ciscoo\n   |             ^^^^^^ field `topology.nodes.r1.kind`"
        ),
        "{text}"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert!(boxed.to_string().starts_with("error: kind `ciscoo`"));
}

#[test]
fn missing_file_is_a_diagnostic() {
    let err = netloom_spec::load_file(Path::new("/nonexistent/lab.yml")).unwrap_err();
    assert!(err.0[0]
        .message
        .starts_with("cannot read the topology file"));
}

#[test]
fn an_inherited_error_is_reported_once() {
    let text = "name: lab\ntopology:\n  defaults:\n    kind: host\n    binds: [nothere:/x]\n  nodes:\n    a: {}\n    b: {}\n";
    let err = netloom_spec::load_str(text, "lab.yml", Path::new("/nonexistent")).unwrap_err();
    assert_eq!(err.0.len(), 1, "{err}");
    assert_eq!(err.0[0].field, "topology.defaults.binds[0]");
}
