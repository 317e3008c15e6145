use super::*;
use netloom_model::{Endpoint, FrrConfig, Link, Node, NodeKind, Topology};

fn node(name: &str, kind: NodeKind, config: Option<&str>) -> Node {
    let mut n = Node::new(NodeName::new(name).unwrap(), kind);
    n.frr = config.map(|c| FrrConfig {
        config: Some(c.to_string()),
        config_origin: Some("inline".into()),
        daemons: None,
    });
    n
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
    let mut jumbo = Link::new(ep("r1:eth2"), ep("sw1:p1"));
    jumbo.mtu = Some(9000);
    let links = vec![
        Link::new(ep("r1:eth1"), ep("r2:eth1")),
        jumbo,
        Link::new(ep("h1:eth1"), ep("sw1:p2")),
    ];
    Topology::new(LabName::new("t1").unwrap(), nodes, links)
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
fn hubs_start_last() {
    // "a-hub" comes first by name but has the most links: it starts last;
    // routers with as many links keep their name order.
    let nodes = ["a-hub", "r1", "r2", "r3"].map(|n| node(n, NodeKind::Router, None));
    let links = vec![
        Link::new(ep("a-hub:eth1"), ep("r1:eth1")),
        Link::new(ep("a-hub:eth2"), ep("r2:eth1")),
        Link::new(ep("a-hub:eth3"), ep("r3:eth1")),
        Link::new(ep("r1:eth2"), ep("r3:eth2")),
    ];
    let t = Topology::new(LabName::new("t1").unwrap(), nodes.to_vec(), links);
    let p = plan(&t, &PlanOptions::default()).unwrap();
    let routers = p
        .phases()
        .into_iter()
        .find(|ph| ph.name == "routers")
        .unwrap();
    let order: Vec<&str> = routers.steps.iter().map(|s| s.node().as_str()).collect();
    assert_eq!(order, ["r2", "r1", "r3", "a-hub"]);
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

fn with_link_change(f: impl FnOnce(&mut Topology)) -> Result<Plan, PlanError> {
    let mut t = lab();
    f(&mut t);
    plan(&t, &PlanOptions::default())
}

#[test]
fn impaired_links_are_emulated_with_taps_and_a_wire() {
    let p = with_link_change(|t| {
        t.links[0].both.delay_ns = Some(20_000_000);
        t.links[0].a_to_b.loss = Some(netloom_model::Loss::Random {
            p: netloom_model::Ppm(50_000),
        });
    })
    .unwrap();
    let Realisation::Emulated { a_to_b, b_to_a } = &p.links[0].realisation else {
        panic!("not emulated: {:?}", p.links[0].realisation);
    };
    assert_eq!(a_to_b.delay_ns, 20_000_000);
    assert_eq!(b_to_a.delay_ns, 20_000_000);
    assert!(a_to_b.loss.is_some() && b_to_a.loss.is_none());
    assert_eq!(a_to_b.sources["loss"], "link a_to_b");
    assert_eq!(a_to_b.sources["delay"], "link");
    assert_eq!(p.links[1].realisation, Realisation::Veth);
    let phases = p.phases();
    let links = phases.iter().find(|ph| ph.name == "links").unwrap();
    let taps = links
        .steps
        .iter()
        .filter(|s| matches!(s, Step::CreateTap { .. }))
        .count();
    assert_eq!(taps, 2);
    let wires = phases.iter().find(|ph| ph.name == "wires").unwrap();
    assert!(matches!(&wires.steps[0], Step::StartWire { id, .. } if id == "t1#0"));
    // Teardown stops the wire before anything else.
    assert!(matches!(p.teardown()[0], Step::StopWire { .. }));
}

#[test]
fn veth_mode_with_impairments_is_refused() {
    let err = with_link_change(|t| {
        t.links[0].mode = Some(netloom_model::LinkMode::Veth);
        t.links[0].both.jitter_ns = Some(1_000_000);
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("mode: veth") && msg.contains("jitter"),
        "{msg}"
    );
}

#[test]
fn lab_default_mode_and_sites_decide_realisation() {
    let p = with_link_change(|t| {
        t.link_defaults.mode = Some(netloom_model::LinkMode::Emulated);
    })
    .unwrap();
    assert!(p
        .links
        .iter()
        .all(|l| matches!(l.realisation, Realisation::Emulated { .. })));

    let p = with_link_change(|t| {
        let site = |name: &str, lat: f64, lon: f64, city: &str| netloom_model::Site {
            name: name.into(),
            lat_udeg: (lat * 1e6) as i64,
            lon_udeg: (lon * 1e6) as i64,
            city: Some(city.into()),
        };
        t.sites
            .insert("tok".into(), site("tok", 35.6895, 139.6917, "Tokyo"));
        t.sites
            .insert("lon".into(), site("lon", 51.5074, -0.1278, "London"));
        t.sites
            .insert("x".into(), site("x", 0.0, 0.0, "Null Island"));
        t.nodes.get_mut("r1").unwrap().site = Some("tok".into());
        t.nodes.get_mut("r2").unwrap().site = Some("lon".into());
        t.nodes.get_mut("sw1").unwrap().site = Some("x".into());
    })
    .unwrap();
    // r1-r2: Tokyo-London, the typical measured RTT halved.
    let Realisation::Emulated { a_to_b, .. } = &p.links[0].realisation else {
        panic!()
    };
    assert_eq!(a_to_b.delay_ns, 112_500_000);
    assert!(
        a_to_b.sources["delay"].contains("measured"),
        "{:?}",
        a_to_b.sources
    );
    // r1-sw1: Tokyo-(0,0), the distance model.
    let Realisation::Emulated { a_to_b, .. } = &p.links[1].realisation else {
        panic!()
    };
    assert!(a_to_b.sources["delay"].contains("great circle"));
    assert!(a_to_b.delay_ns > 50_000_000);
    // h1 has no site: h1-sw1 stays a veth pair.
    assert_eq!(p.links[2].realisation, Realisation::Veth);
}

#[test]
fn live_values_are_checked() {
    use netloom_model::{Impairments, Loss, Ppm};
    let ok = Impairments {
        loss: Some(Loss::Random { p: Ppm(10_000) }),
        ..Default::default()
    };
    assert!(check_impairments(&ok).is_ok());
    let bad = Impairments {
        loss: Some(Loss::Random { p: Ppm(1_500_000) }),
        ..Default::default()
    };
    assert!(check_impairments(&bad).unwrap_err().contains("150%"));
    let bad = Impairments {
        delay_ns: Some(61_000_000_000),
        ..Default::default()
    };
    assert!(check_impairments(&bad).unwrap_err().contains("60 s"));
}

#[test]
fn a_link_that_starts_down_is_emulated() {
    let p = with_link_change(|t| t.links[1].up = false).unwrap();
    assert!(matches!(
        p.links[1].realisation,
        Realisation::Emulated { .. }
    ));
    assert!(!p.links[1].up);
    let err = with_link_change(|t| {
        t.links[1].up = false;
        t.links[1].mode = Some(netloom_model::LinkMode::Veth);
    })
    .unwrap_err();
    assert!(err.to_string().contains("state: down"));
}

#[test]
fn veth_on_the_link_wins_over_lab_defaults() {
    let p = with_link_change(|t| {
        t.link_defaults.impairments.jitter_ns = Some(200_000);
        t.links[2].mode = Some(netloom_model::LinkMode::Veth);
    })
    .unwrap();
    assert!(matches!(
        p.links[0].realisation,
        Realisation::Emulated { .. }
    ));
    assert_eq!(p.links[2].realisation, Realisation::Veth);
}

#[test]
fn changes_between_plans_name_nodes_and_links() {
    let old = plan(&lab(), &PlanOptions::default()).unwrap();
    assert!(changes(&old, &old).is_empty());
    let new = with_link_change(|t| {
        t.nodes.remove("h1");
        t.links.pop();
        t.links[0].both.delay_ns = Some(1_000_000);
        t.nodes.get_mut("r2").unwrap().exec = vec!["true".into()];
    })
    .unwrap();
    let c = changes(&old, &new);
    assert!(c.contains(&"- node h1".to_string()), "{c:?}");
    assert!(
        c.contains(&"- link h1:eth1 <-> sw1:p2".to_string()),
        "{c:?}"
    );
    assert!(
        c.contains(&"~ link r1:eth1 <-> r2:eth1: properties".to_string()),
        "{c:?}"
    );
    assert!(
        c.iter()
            .any(|l| l.starts_with("~ node r2") && l.contains("exec")),
        "{c:?}"
    );
}

mod transition {
    use super::*;
    use crate::transition::transition;

    fn planned(t: &Topology) -> Plan {
        plan(t, &PlanOptions::default()).unwrap()
    }

    fn steps(t: &crate::transition::Transition) -> Vec<&Step> {
        t.phases.iter().flat_map(|p| &p.steps).collect()
    }

    #[test]
    fn same_plan_is_no_change() {
        let old = planned(&lab());
        let mut new = old.clone();
        let t = transition(&old, &mut new);
        assert!(t.is_empty(), "{t:?}");
        assert_eq!(new, old);
    }

    #[test]
    fn adding_a_host_on_a_switch_touches_only_it() {
        let old = planned(&lab());
        let mut topo = lab();
        topo.nodes.insert(
            NodeName::new("h2").unwrap(),
            node("h2", NodeKind::Host, None),
        );
        topo.links.push(Link::new(ep("h2:eth1"), ep("sw1:p3")));
        let mut new = planned(&topo);
        let t = transition(&old, &mut new);
        assert!(t.teardown.is_empty(), "{:?}", t.teardown);
        assert_eq!(t.added, vec![NodeName::new("h2").unwrap()]);
        assert!(
            t.rebuilt.is_empty(),
            "sw1 only gained a port: {:?}",
            t.rebuilt
        );
        let s = steps(&t);
        assert!(s
            .iter()
            .any(|s| matches!(s, Step::CreateNetns { node, .. } if node.as_str() == "h2")));
        assert!(!s
            .iter()
            .any(|s| matches!(s, Step::CreateNetns { node, .. } if node.as_str() != "h2")));
        // The switch that stays gets its new port attached.
        assert!(s.iter().any(|s| matches!(s, Step::AttachPort { node, port, .. } if node.as_str() == "sw1" && port.as_str() == "p3")));
        // Kept links keep their ids; the new one has an unused id.
        for l in &old.links {
            assert!(new.links.iter().any(|n| n.id == l.id && n.a == l.a));
        }
        let fresh = new
            .links
            .iter()
            .find(|l| l.a.node.as_str() == "h2")
            .unwrap();
        assert!(!old.links.iter().any(|l| l.id == fresh.id), "{}", fresh.id);
    }

    #[test]
    fn removing_a_link_deletes_only_it() {
        let old = planned(&lab());
        let mut topo = lab();
        topo.links.remove(0); // r1:eth1 <-> r2:eth1
        let mut new = planned(&topo);
        let t = transition(&old, &mut new);
        assert!(t.phases.is_empty(), "{:?}", t.phases);
        assert_eq!(
            t.teardown,
            vec![Step::DeleteVeth {
                a: old.links[0].a.clone()
            }]
        );
        // Putting it back would recreate exactly that link.
        let back: Vec<&Step> = t.restore.iter().flat_map(|p| &p.steps).collect();
        assert!(
            matches!(back.as_slice(), [Step::CreateVeth { .. }]),
            "{back:?}"
        );
        // Ids of the links that stay do not move.
        assert_eq!(new.links[0].id, old.links[1].id);
    }

    #[test]
    fn a_changed_router_is_rebuilt_with_its_links() {
        let old = planned(&lab());
        let mut topo = lab();
        topo.nodes
            .get_mut(&NodeName::new("r2").unwrap())
            .unwrap()
            .exec = vec!["true".into()];
        let mut new = planned(&topo);
        let t = transition(&old, &mut new);
        assert_eq!(t.rebuilt, vec![NodeName::new("r2").unwrap()]);
        assert!(t
            .teardown
            .iter()
            .any(|s| matches!(s, Step::DeleteNetns { node, .. } if node.as_str() == "r2")));
        assert!(t
            .teardown
            .iter()
            .any(|s| matches!(s, Step::StopFrr { node, .. } if node.as_str() == "r2")));
        // The link to r1 goes with r2's namespace and comes back.
        let s = steps(&t);
        assert!(s
            .iter()
            .any(|s| matches!(s, Step::CreateVeth { a, .. } if a.node.as_str() == "r1")));
        assert!(s
            .iter()
            .any(|s| matches!(s, Step::StartFrr { node, .. } if node.as_str() == "r2")));
        assert!(!s
            .iter()
            .any(|s| matches!(s, Step::StartFrr { node, .. } if node.as_str() == "r1")));
    }

    #[test]
    fn removing_a_node_with_an_emulated_link_stops_its_wire_first() {
        let mut topo = lab();
        topo.links[2].mode = Some(netloom_model::LinkMode::Emulated); // h1 <-> sw1
        let old = planned(&topo);
        topo.nodes.remove(&NodeName::new("h1").unwrap());
        topo.links.remove(2);
        let mut new = planned(&topo);
        let t = transition(&old, &mut new);
        assert_eq!(t.removed, vec![NodeName::new("h1").unwrap()]);
        let pos = |f: &dyn Fn(&Step) -> bool| t.teardown.iter().position(f).unwrap();
        let stop = pos(&|s| matches!(s, Step::StopWire { .. }));
        let tap = pos(&|s| matches!(s, Step::DeleteTap { end } if end.node.as_str() == "sw1"));
        let ns = pos(&|s| matches!(s, Step::DeleteNetns { node, .. } if node.as_str() == "h1"));
        assert!(stop < tap && tap < ns, "{:?}", t.teardown);
        // h1's own TAP goes with its namespace.
        assert!(!t
            .teardown
            .iter()
            .any(|s| matches!(s, Step::DeleteTap { end } if end.node.as_str() == "h1")));
    }

    #[test]
    fn new_impairments_on_an_emulated_link_retune_it_in_place() {
        let mut topo = lab();
        topo.links[0].mode = Some(netloom_model::LinkMode::Emulated);
        let old = planned(&topo);
        topo.links[0].both.delay_ns = Some(5_000_000);
        let mut new = planned(&topo);
        let t = transition(&old, &mut new);
        assert!(t.teardown.is_empty() && t.phases.is_empty(), "{t:?}");
        assert_eq!(t.retune.len(), 1);
        assert_eq!(t.retune[0].id, old.links[0].id);
    }

    #[test]
    fn a_veth_link_that_becomes_emulated_is_rebuilt() {
        let old = planned(&lab());
        let mut topo = lab();
        topo.links[0].both.delay_ns = Some(5_000_000);
        let mut new = planned(&topo);
        let t = transition(&old, &mut new);
        assert_eq!(
            t.teardown,
            vec![Step::DeleteVeth {
                a: old.links[0].a.clone()
            }]
        );
        let s = steps(&t);
        assert_eq!(
            s.iter()
                .filter(|s| matches!(s, Step::CreateTap { .. }))
                .count(),
            2
        );
        assert!(s.iter().any(|s| matches!(s, Step::StartWire { .. })));
    }

    #[test]
    fn rebuilding_a_node_brings_it_back_with_the_same_links() {
        let p = planned(&lab());
        let t = crate::transition::rebuild(&p, "r1");
        assert!(t
            .teardown
            .iter()
            .any(|s| matches!(s, Step::DeleteNetns { node, .. } if node.as_str() == "r1")));
        assert!(t
            .teardown
            .iter()
            .any(|s| matches!(s, Step::StopFrr { node, .. } if node.as_str() == "r1")));
        assert!(!t
            .teardown
            .iter()
            .any(|s| matches!(s, Step::DeleteNetns { node, .. } if node.as_str() != "r1")));
        let s = steps(&t);
        let made: Vec<&LinkEnd> = s
            .iter()
            .filter_map(|s| match s {
                Step::CreateVeth { a, .. } => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(made.len(), 2, "r1's two links: {s:?}");
        // The switch that stays gets the port back.
        assert!(s.iter().any(|s| matches!(s, Step::AttachPort { node, port, .. } if node.as_str() == "sw1" && port.as_str() == "p1")));
        assert!(s
            .iter()
            .any(|s| matches!(s, Step::StartFrr { node, .. } if node.as_str() == "r1")));
        assert!(!s
            .iter()
            .any(|s| matches!(s, Step::CreateNetns { node, .. } if node.as_str() != "r1")));
    }

    #[test]
    fn rebuilding_a_node_rebuilds_the_hosts_on_its_links() {
        let mut topo = lab();
        topo.links.push(Link::new(ep("r2:eth2"), ep("h9:eth1")));
        topo.nodes.insert(
            NodeName::new("h9").unwrap(),
            node("h9", NodeKind::Host, None),
        );
        let p = planned(&topo);
        let t = crate::transition::rebuild(&p, "r2");
        let names: Vec<&str> = t.rebuilt.iter().map(NodeName::as_str).collect();
        assert_eq!(names, ["h9", "r2"]);
        // h1 hangs off the switch, not off r2: it stays.
        assert!(!t
            .teardown
            .iter()
            .any(|s| matches!(s, Step::DeleteNetns { node, .. } if node.as_str() == "h1")));
    }

    /// The lab with r2 as a standby router and a host behind it.
    fn standby_lab() -> Topology {
        let mut topo = lab();
        topo.links.push(Link::new(ep("r2:eth2"), ep("h9:eth1")));
        topo.nodes.insert(
            NodeName::new("h9").unwrap(),
            node("h9", NodeKind::Host, None),
        );
        topo.nodes
            .get_mut(&NodeName::new("r2").unwrap())
            .unwrap()
            .standby = true;
        topo
    }

    fn patch_ns(p: &Plan) -> String {
        p.patch_netns()
    }

    #[test]
    fn links_of_a_standby_router_go_through_the_patch_namespace() {
        let p = planned(&standby_lab());
        assert_eq!(patch_ns(&p), "nl-t1.~patch");
        assert!(crate::is_patch_netns(&patch_ns(&p)));
        let patched: Vec<&LinkPlan> = p.links.iter().filter(|l| p.patched(l)).collect();
        // r1-r2 and r2-h9; r1-sw1 and h1-sw1 have no standby end.
        assert_eq!(patched.len(), 2);
        let all: Vec<Step> = p.phases().into_iter().flat_map(|ph| ph.steps).collect();
        let ns = patch_ns(&p);
        assert_eq!(
            all.iter()
                .filter(|s| matches!(s, Step::CreateNetns { netns, .. } if *netns == ns))
                .count(),
            1
        );
        for l in &patched {
            let bridge = crate::patch::bridge(l);
            assert!(all.iter().any(|s| matches!(s, Step::CreateBridge { netns, bridge: b, .. } if *netns == ns && *b == bridge)));
            // Each end a pair of its own into the patch namespace, attached
            // to the link's bridge; no pair joins the two ends directly.
            for (end, e) in [&l.a, &l.b].into_iter().enumerate() {
                let port = crate::patch::port(l, end, None);
                assert!(all.iter().any(|s| matches!(s, Step::CreateVeth { a, b, .. } if a == e && b.netns == ns && b.iface == port)), "{e:?}");
                assert!(all.iter().any(|s| matches!(s, Step::AttachPort { netns, bridge: b, port: q, .. } if *netns == ns && *b == bridge && *q == port)));
            }
            assert!(!all
                .iter()
                .any(|s| matches!(s, Step::CreateVeth { a, b, .. } if *a == l.a && *b == l.b)));
        }
        // Twin ports are numbered by twin and end.
        assert_eq!(
            crate::patch::port(patched[0], 1, Some(12)).as_str(),
            "p0bt12"
        );
        assert_eq!(crate::patch::twin_number("nl-t1.r2~s12"), Some(12));
        // The teardown takes the patch namespace too.
        assert!(p
            .teardown()
            .iter()
            .any(|s| matches!(s, Step::DeleteNetns { netns, .. } if *netns == ns)));
        // Without a standby router there is no patch namespace.
        let plain = planned(&lab());
        assert!(!plain.has_patch());
        assert!(!plain
            .phases()
            .iter()
            .flat_map(|ph| &ph.steps)
            .any(|s| matches!(s, Step::CreateNetns { netns, .. } if crate::is_patch_netns(netns))));
    }

    #[test]
    fn rebuilding_a_standby_router_leaves_its_neighbours_alone() {
        let p = planned(&standby_lab());
        let ns = patch_ns(&p);
        let t = crate::transition::rebuild(&p, "r2");
        // h9 is behind the patch panel: its interface stays, so it stays.
        let names: Vec<&str> = t.rebuilt.iter().map(NodeName::as_str).collect();
        assert_eq!(names, ["r2"]);
        // Nothing of r1 or h9 is deleted; only r2's planned ports.
        for s in &t.teardown {
            match s {
                Step::DeleteVeth { a } => {
                    assert_eq!(a.netns, ns, "{s:?}");
                    assert_eq!(a.node.as_str(), "r2");
                }
                Step::DeleteBridge { .. } => panic!("a bridge goes: {s:?}"),
                Step::DeleteNetns { node, .. } => assert_eq!(node.as_str(), "r2"),
                _ => {}
            }
        }
        let s = steps(&t);
        let made: Vec<(&LinkEnd, &LinkEnd)> = s
            .iter()
            .filter_map(|s| match s {
                Step::CreateVeth { a, b, .. } => Some((a, b)),
                _ => None,
            })
            .collect();
        assert_eq!(made.len(), 2, "{s:?}");
        assert!(made
            .iter()
            .all(|(a, b)| a.node.as_str() == "r2" && b.netns == ns));
        assert!(!s.iter().any(|s| matches!(s, Step::CreateBridge { .. } | Step::CreateNetns { netns: _, .. } if !matches!(s, Step::CreateNetns { node, .. } if node.as_str() == "r2"))));
        assert_eq!(
            s.iter()
                .filter(|s| matches!(s, Step::AttachPort { netns, .. } if *netns == ns))
                .count(),
            2
        );
    }

    #[test]
    fn the_patch_namespace_comes_and_goes_with_standby_routers() {
        let old = planned(&lab());
        let mut new = planned(&standby_lab());
        let t = transition(&old, &mut new);
        let ns = patch_ns(&new);
        assert!(steps(&t)
            .iter()
            .any(|s| matches!(s, Step::CreateNetns { netns, .. } if *netns == ns)));
        // r2 changed (standby): rebuilt, and r1-r2 goes through the panel.
        assert!(t.rebuilt.iter().any(|n| n.as_str() == "r2"));
        let back = planned(&lab());
        let mut again = back.clone();
        let t = transition(&new, &mut again);
        assert!(t
            .teardown
            .iter()
            .any(|s| matches!(s, Step::DeleteNetns { netns, .. } if *netns == ns)));
        // r1 keeps its namespace; its end of r1-r2 is deleted on its own.
        assert!(t.teardown.iter().any(|s| matches!(s, Step::DeleteVeth { a } if a.node.as_str() == "r1" && a.iface.as_str() == "eth1")));
        let r1 = new.node("r1").unwrap().netns.clone();
        assert!(!t
            .teardown
            .iter()
            .any(|s| matches!(s, Step::DeleteNetns { netns, .. } if *netns == r1)));
    }

    #[test]
    fn a_lost_patch_namespace_is_rebuilt_with_its_links_and_hosts() {
        let p = planned(&standby_lab());
        let ns = patch_ns(&p);
        let t = crate::rebuild_patch(&p);
        let names: Vec<&str> = t.rebuilt.iter().map(NodeName::as_str).collect();
        assert_eq!(names, ["h9"]);
        assert!(t
            .teardown
            .iter()
            .any(|s| matches!(s, Step::DeleteNetns { netns, .. } if *netns == ns)));
        let s = steps(&t);
        assert!(s
            .iter()
            .any(|s| matches!(s, Step::CreateNetns { netns, .. } if *netns == ns)));
        assert_eq!(
            s.iter()
                .filter(|s| matches!(s, Step::CreateBridge { .. }))
                .count(),
            2
        );
        assert_eq!(
            s.iter()
                .filter(|s| matches!(s, Step::CreateVeth { .. }))
                .count(),
            4
        );
        // Routers keep running: zebra gives their new interfaces addresses.
        assert!(!s.iter().any(|s| matches!(s, Step::StartFrr { .. })));
        assert!(
            s.iter()
                .any(|s| matches!(s, Step::RunExec { node, .. } if node.as_str() == "h9"))
                || p.node("h9").unwrap().exec.is_empty()
        );
    }
}
