use super::*;
use netloom_model::{Endpoint, FrrConfig, Link, Node, NodeKind, Topology};

fn node(name: &str, kind: NodeKind, config: Option<&str>) -> Node {
    Node {
        name: NodeName::new(name).unwrap(),
        kind,
        image: None,
        frr: config.map(|c| FrrConfig {
            config: Some(c.to_string()),
            config_origin: Some("inline".into()),
            daemons: None,
        }),
        exec: vec![],
        env: Default::default(),
        labels: Default::default(),
        binds: vec![],
    }
}

fn ep(s: &str) -> Endpoint {
    let (n, i) = s.split_once(':').unwrap();
    Endpoint {
        node: NodeName::new(n).unwrap(),
        iface: IfName::new(i).unwrap(),
    }
}

fn lab() -> Topology {
    let nodes = [
        node(
            "r1",
            NodeKind::Router,
            Some("router bgp 65001\n interface eth1\n ip ospf area 0"),
        ),
        node("r2", NodeKind::Router, None),
        node("sw1", NodeKind::Switch, None),
        node("h1", NodeKind::Host, None),
    ];
    Topology {
        name: LabName::new("t1").unwrap(),
        nodes: nodes.into_iter().map(|n| (n.name.clone(), n)).collect(),
        links: vec![
            Link {
                a: ep("r1:eth1"),
                b: ep("r2:eth1"),
                mtu: None,
            },
            Link {
                a: ep("r1:eth2"),
                b: ep("sw1:p1"),
                mtu: Some(9000),
            },
            Link {
                a: ep("h1:eth1"),
                b: ep("sw1:p2"),
                mtu: None,
            },
        ],
        source: None,
    }
}

#[test]
fn names_carry_the_mark_and_parse_back() {
    let n = netns_name("nl", "lab-1", "r1.core");
    assert_eq!(n, "nl-lab-1.r1.core");
    assert_eq!(parse_netns_name("nl", &n), Some(("lab-1", "r1.core")));
    assert_eq!(parse_netns_name("nlt", &n), None);
    assert_eq!(parse_netns_name("nl", "nl-lab"), None);
    assert_eq!(parse_netns_name("nl", "other"), None);
}

#[test]
fn prefix_is_checked() {
    assert!(check_prefix("nl").is_ok());
    assert!(check_prefix("").is_err());
    assert!(check_prefix("NL").is_err());
    assert!(check_prefix("toolongprefix").is_err());
}

#[test]
fn routers_get_daemons_from_their_config() {
    let p = plan(&lab(), &PlanOptions::default()).unwrap();
    let r1 = p.node("r1").unwrap().frr.as_ref().unwrap();
    assert_eq!(r1.daemons, ["zebra", "staticd", "bgpd", "ospfd"]);
    assert_eq!(r1.pathspace, "nl-t1+r1");
    let r2 = p.node("r2").unwrap().frr.as_ref().unwrap();
    assert_eq!(r2.daemons, ["zebra", "staticd"]);
    assert!(r2.config.contains("hostname r2"));
}

#[test]
fn daemons_file_list_gets_base_daemons() {
    let got = frr::with_base_daemons(&["ospfd".into(), "bgpd".into(), "zebra".into()]);
    assert_eq!(got, ["zebra", "staticd", "bgpd", "ospfd"]);
}

#[test]
fn switch_ports_and_phases() {
    let p = plan(&lab(), &PlanOptions::default()).unwrap();
    let sw = p.node("sw1").unwrap();
    assert_eq!(sw.bridge.as_deref(), Some(SWITCH_BRIDGE));
    assert_eq!(
        sw.ports.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        ["p1", "p2"]
    );
    let names: Vec<_> = p.phases().into_iter().map(|ph| ph.name).collect();
    assert_eq!(
        names,
        [
            "namespaces",
            "bridges",
            "links",
            "ports",
            "sysctls",
            "routers"
        ]
    );
    assert_eq!(p.step_count(), 4 + 1 + 3 + 2 + 4 + 2);
    assert_eq!(p.links[1].mtu, Some(9000));
}

#[test]
fn every_create_step_has_an_inverse() {
    let p = plan(&lab(), &PlanOptions::default()).unwrap();
    for phase in p.phases() {
        for step in phase.steps {
            let needs = !matches!(step, Step::Sysctl { .. } | Step::RunExec { .. });
            assert_eq!(step.inverse().is_some(), needs, "{step:?}");
        }
    }
}

#[test]
fn planning_is_deterministic() {
    let a = plan(&lab(), &PlanOptions::default()).unwrap();
    let b = plan(&lab(), &PlanOptions::default()).unwrap();
    assert_eq!(a, b);
    let json = serde_json::to_string(&a).unwrap();
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(a, back);
}

#[test]
fn teardown_stops_frr_before_namespaces() {
    let p = plan(&lab(), &PlanOptions::default()).unwrap();
    let t = p.teardown();
    assert!(matches!(t[0], Step::StopFrr { .. }));
    assert!(matches!(t.last().unwrap(), Step::DeleteNetns { .. }));
    assert_eq!(t.len(), 2 + 4);
}
