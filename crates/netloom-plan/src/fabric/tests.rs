use super::*;
use crate::{plan, PlanOptions};
use netloom_model::{
    Addressing, Endpoint, Ha, IfName, LabName, Link, Node, NodeName, NodeRouting, Routing,
};
use proptest::prelude::*;

fn node(name: &str, kind: NodeKind) -> Node {
    Node::new(NodeName::new(name).unwrap(), kind)
}

fn ep(node: &str, iface: &str) -> Endpoint {
    Endpoint {
        node: NodeName::new(node).unwrap(),
        iface: IfName::new(iface).unwrap(),
    }
}

fn link(a: (&str, &str), b: (&str, &str)) -> Link {
    Link::new(ep(a.0, a.1), ep(b.0, b.1))
}

fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn addressing(p2p: &str, loopback: &str, lan: &str) -> Addressing {
    Addressing {
        p2p: Some(p(p2p)),
        loopback: Some(p(loopback)),
        lan: Some(p(lan)),
        ..Default::default()
    }
}

/// A random lab: `n` routers, router links given as index pairs, and a
/// host behind some routers.
fn lab(n: usize, pairs: &[(usize, usize)], hosts: &[usize], a: Addressing) -> Topology {
    let mut nodes = Vec::new();
    let mut links = Vec::new();
    let mut next: Vec<usize> = vec![1; n];
    let mut iface = |i: usize| {
        next[i] += 1;
        format!("eth{}", next[i] - 1)
    };
    for i in 0..n {
        nodes.push(node(&format!("r{i}"), NodeKind::Router));
    }
    for &(x, y) in pairs {
        let (x, y) = (x % n, y % n);
        if x == y {
            continue;
        }
        let (ix, iy) = (iface(x), iface(y));
        links.push(link((&format!("r{x}"), &ix), (&format!("r{y}"), &iy)));
    }
    for (k, &r) in hosts.iter().enumerate() {
        let r = r % n;
        let h = format!("h{k}");
        nodes.push(node(&h, NodeKind::Host));
        let ir = iface(r);
        links.push(link((&format!("r{r}"), &ir), (&h, "eth1")));
    }
    let mut t = Topology::new(LabName::new("t").unwrap(), nodes, links);
    t.addressing = Some(a);
    t.routing = Some(Routing {
        protocol: RoutingProtocol::Bgp,
        ..Default::default()
    });
    t
}

fn fabric_of(t: &Topology) -> BTreeMap<String, NodeFabric> {
    plan(t, &PlanOptions::default())
        .unwrap()
        .nodes
        .into_iter()
        .filter_map(|n| n.fabric.map(|f| (n.name.to_string(), f)))
        .collect()
}

fn big() -> Addressing {
    addressing("10.0.0.0/16", "10.255.0.0/16", "10.128.0.0/10")
}

fn shape_strategy() -> impl Strategy<Value = (usize, Vec<(usize, usize)>, Vec<usize>)> {
    (1usize..60).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec((0..n, 0..n), 0..120),
            prop::collection::vec(0..n, 0..30),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn addresses_are_unique_and_inside_their_pools((n, pairs, hosts) in shape_strategy()) {
        let t = lab(n, &pairs, &hosts, big());
        let f = fabric_of(&t);
        let a = t.addressing.clone().unwrap();
        let mut seen = BTreeSet::new();
        for (name, nf) in &f {
            for (iface, list) in &nf.addresses {
                for q in list {
                    prop_assert!(seen.insert(q.addr), "{} used twice ({name}:{iface})", q.addr);
                    let pool = if iface == "lo" {
                        a.loopback
                    } else if q.len == 31 {
                        a.p2p
                    } else {
                        a.lan
                    };
                    prop_assert!(pool.unwrap().contains(q), "{q} of {name}:{iface} outside {pool:?}");
                }
            }
        }
        // Router ids and ASNs are unique too.
        let asns: BTreeSet<u32> = f.values().filter_map(|x| x.asn).collect();
        prop_assert_eq!(asns.len(), n);
    }

    #[test]
    fn link_order_and_direction_do_not_matter(
        (n, pairs, hosts) in shape_strategy(),
        seed in any::<u64>(),
    ) {
        let t = lab(n, &pairs, &hosts, big());
        let before = fabric_of(&t);
        let mut u = t.clone();
        // A deterministic shuffle from the seed, and every other link
        // written the other way round.
        let mut s = seed;
        for i in (1..u.links.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            u.links.swap(i, (s >> 33) as usize % (i + 1));
        }
        for l in u.links.iter_mut().step_by(2) {
            std::mem::swap(&mut l.a, &mut l.b);
        }
        prop_assert_eq!(before, fabric_of(&u));
    }

    /// Adding a router and its link moves nothing whenever the new objects'
    /// home slots are free (see `slots`); a pool at most half full.
    #[test]
    fn adding_a_router_moves_nothing_when_its_homes_are_free(
        (n, pairs, hosts) in shape_strategy(),
        to in any::<usize>(),
    ) {
        let small = addressing("10.0.0.0/22", "10.255.0.0/24", "10.128.0.0/16");
        let t = lab(n, &pairs, &hosts, small.clone());
        let before = fabric_of(&t);
        let mut u = t.clone();
        let to = format!("r{}", to % n);
        u.nodes.insert(NodeName::new("new").unwrap(), node("new", NodeKind::Router));
        u.links.push(link(("new", "eth1"), (&to, "ethnew")));
        let after = fabric_of(&u);

        let loopbacks = ipam::Pool { field: "", prefix: small.loopback.unwrap(), slot_len: 32, what: "" };
        let p2p = ipam::Pool { field: "", prefix: small.p2p.unwrap(), slot_len: 31, what: "" };
        let link_id = format!("{}|{}", ep("new", "eth1").min(ep(&to, "ethnew")), ep("new", "eth1").max(ep(&to, "ethnew")));
        let used: BTreeSet<Prefix> = before.values().flat_map(|f| f.addresses.values().flatten()).map(|q| q.network()).collect();
        let ids: BTreeSet<u32> = before.values().filter_map(|f| f.asn).collect();
        let lo_free = !used.contains(&loopbacks.home("new"));
        let p2p_free = !used.iter().any(|q| p2p.home(&link_id).contains(q));
        let id_free = !ids.contains(&(ASN_BASE + 1 + slots::home((1 << 24) - 1, "new") as u32));
        prop_assume!(lo_free && p2p_free && id_free);
        for (name, old) in &before {
            let new = &after[name];
            prop_assert_eq!(old.asn, new.asn);
            prop_assert_eq!(old.router_id, new.router_id);
            for (iface, list) in &old.addresses {
                prop_assert_eq!(Some(list), new.addresses.get(iface), "{}:{} moved", name, iface);
            }
        }
    }

    #[test]
    fn exhaustion_is_detected_exactly_when_needed(len in 26u8..=31, links in 0usize..40) {
        let a = Addressing { p2p: Some(Prefix { addr: "10.0.0.0".parse().unwrap(), len }), ..Default::default() };
        let pairs: Vec<(usize, usize)> = (0..links).map(|i| (0, i + 1)).collect();
        let t = lab(links + 1, &pairs, &[], a);
        let room = 1usize << (31 - len);
        match plan(&t, &PlanOptions::default()) {
            Ok(_) => prop_assert!(links <= room),
            Err(e) => {
                prop_assert!(links > room, "{e}");
                let want = format!("addressing.p2p: 10.0.0.0/{len} has room for {room} links, the lab has {links}");
                prop_assert_eq!(e.to_string(), want);
            }
        }
    }
}

/// How often adding a router moves anything at all, on a 40-router ring
/// in pools a tenth full: it stays rare.
#[test]
fn additions_rarely_move_anything() {
    let a = addressing("10.0.0.0/22", "10.255.0.0/23", "10.128.0.0/16");
    let pairs: Vec<(usize, usize)> = (0..40).map(|i| (i, (i + 1) % 40)).collect();
    let t = lab(40, &pairs, &[], a);
    let before = fabric_of(&t);
    let mut moved = 0;
    for k in 0..200 {
        let mut u = t.clone();
        let name = format!("x{k}");
        u.nodes
            .insert(NodeName::new(&name).unwrap(), node(&name, NodeKind::Router));
        u.links
            .push(link((&name, "eth1"), (&format!("r{}", k % 40), "ethx")));
        let after = fabric_of(&u);
        if before.iter().any(|(n, f)| {
            f.addresses
                .iter()
                .any(|(i, l)| after[n].addresses.get(i) != Some(l))
        }) {
            moved += 1;
        }
    }
    assert!(moved < 30, "{moved} of 200 additions moved an address");
}

#[test]
fn explicit_addresses_are_never_reused() {
    let mut t = lab(
        3,
        &[(0, 1), (1, 2)],
        &[0],
        addressing("10.0.0.0/30", "10.255.0.0/30", "10.128.0.0/23"),
    );
    // r0 takes the first /31 by hand and h0 a whole /24 of the lan pool;
    // r1's loopback is explicit; the other link and segment must go around.
    let r0 = t.nodes.get_mut("r0").unwrap();
    r0.addresses.insert("lo".into(), vec![p("10.255.0.1/32")]);
    let r2 = t.nodes.get_mut("r2").unwrap();
    r2.frr = Some(netloom_model::FrrConfig {
        config: Some("interface lo\n ip address 10.255.0.2/32\n!\n".into()),
        config_origin: None,
        daemons: None,
    });
    let f = fabric_of(&t);
    assert_eq!(f["r0"].loopback, Some(p("10.255.0.1/32")));
    assert_eq!(f["r2"].loopback, Some(p("10.255.0.2/32")));
    let r1 = f["r1"].loopback.unwrap();
    assert!(r1 != p("10.255.0.1/32") && r1 != p("10.255.0.2/32"));
    // The pool has 4 loopbacks, 2 of them taken: a fourth router fails.
    let mut u = t.clone();
    for extra in ["r3", "r4"] {
        u.nodes
            .insert(NodeName::new(extra).unwrap(), node(extra, NodeKind::Router));
    }
    let err = plan(&u, &PlanOptions::default()).unwrap_err().to_string();
    assert_eq!(
        err,
        "addressing.loopback: 10.255.0.0/30 has room for 2 routers, the lab has 3"
    );
}

#[test]
fn host_segments_share_a_switch_and_ha_pairs_are_checked() {
    let mut t = lab(2, &[], &[], big());
    for n in ["sw", "ha", "hb"] {
        let kind = if n == "sw" {
            NodeKind::Switch
        } else {
            NodeKind::Host
        };
        t.nodes.insert(NodeName::new(n).unwrap(), node(n, kind));
    }
    t.links.push(link(("r1", "eth1"), ("sw", "p1")));
    t.links.push(link(("r0", "eth1"), ("sw", "p2")));
    t.links.push(link(("hb", "eth1"), ("sw", "p3")));
    t.links.push(link(("ha", "eth1"), ("sw", "p4")));
    t.nodes.get_mut("r0").unwrap().ha = Some(Ha {
        peer: NodeName::new("r1").unwrap(),
        vip: "10.128.0.254".parse().unwrap(),
        priority: None,
        advert_ms: None,
    });
    let f = fabric_of(&t);
    let addr = |n: &str| f[n].addresses["eth1"][0];
    let (r0, r1, ha, hb) = (addr("r0"), addr("r1"), addr("ha"), addr("hb"));
    assert_eq!(r0.network(), hb.network());
    let host = |q: Prefix| {
        crate::fabric::ipam::to_u128(q.addr) - crate::fabric::ipam::to_u128(q.network().addr)
    };
    assert_eq!(
        [host(r0), host(r1), host(ha), host(hb)],
        [1, 2, 3, 4],
        "routers first, then hosts, in name order"
    );
    // The pair's vip names the subnet and is the hosts' gateway.
    assert_eq!(r0.network(), p("10.128.0.0/24"));
    assert_eq!(f["ha"].gateway, Some("10.128.0.254".parse().unwrap()));

    // The peer on another segment is refused, naming ha.peer.
    let mut u = t.clone();
    u.links.retain(|l| l.a.node.as_str() != "r1");
    let err = plan(&u, &PlanOptions::default()).unwrap_err().to_string();
    assert!(
        err.contains("ha.peer `r1`") && err.contains("segment"),
        "{err}"
    );
    let mut u = t.clone();
    u.nodes.get_mut("r0").unwrap().ha.as_mut().unwrap().peer = NodeName::new("ha").unwrap();
    let err = plan(&u, &PlanOptions::default()).unwrap_err().to_string();
    assert!(err.contains("is a host, not a router"), "{err}");
}

#[test]
fn intent_that_cannot_be_met_is_refused() {
    // router_id: loopback without a loopback pool.
    let mut t = lab(
        2,
        &[(0, 1)],
        &[],
        Addressing {
            p2p: Some(p("10.0.0.0/24")),
            ..Default::default()
        },
    );
    t.routing.as_mut().unwrap().router_id = RouterIdFrom::Loopback;
    let err = plan(&t, &PlanOptions::default()).unwrap_err().to_string();
    assert!(
        err.contains("routing.router_id") && err.contains("r0"),
        "{err}"
    );
    // Numbered BGP without addresses on a link.
    let t = lab(2, &[(0, 1)], &[], Addressing::default());
    let err = plan(&t, &PlanOptions::default()).unwrap_err().to_string();
    assert!(err.contains("addressing.p2p"), "{err}");
    // ... but unnumbered BGP needs none.
    let mut t = lab(2, &[(0, 1)], &[], Addressing::default());
    t.routing.as_mut().unwrap().peering = BgpPeering::Interface;
    let p1 = plan(&t, &PlanOptions::default()).unwrap();
    let cfg = &p1.node("r0").unwrap().frr.as_ref().unwrap().config;
    assert!(
        cfg.contains(" neighbor eth1 interface remote-as external\n"),
        "{cfg}"
    );
    // Overlapping pools.
    let t = lab(
        2,
        &[(0, 1)],
        &[],
        addressing("10.0.0.0/16", "10.0.1.0/24", "10.128.0.0/16"),
    );
    let err = plan(&t, &PlanOptions::default()).unwrap_err().to_string();
    assert!(
        err.contains("addressing.p2p") && err.contains("addressing.loopback"),
        "{err}"
    );
    // ASN collision between linked routers, naming both.
    let mut t = lab(2, &[(0, 1)], &[], big());
    for r in ["r0", "r1"] {
        t.nodes.get_mut(r).unwrap().routing = Some(NodeRouting {
            asn: Some(65000),
            ..Default::default()
        });
    }
    let err = plan(&t, &PlanOptions::default()).unwrap_err().to_string();
    assert!(
        err.contains("`r0` and `r1`") && err.contains("65000"),
        "{err}"
    );
}

#[test]
fn explicit_asns_in_the_private_range_reserve_their_id() {
    let mut t = lab(2, &[(0, 1)], &[], big());
    let taken = fabric_of(&t)["r1"].asn.unwrap();
    t.nodes.get_mut("r0").unwrap().routing = Some(NodeRouting {
        asn: Some(taken),
        ..Default::default()
    });
    let f = fabric_of(&t);
    assert_eq!(f["r0"].asn, Some(taken));
    assert_ne!(f["r1"].asn, Some(taken));
}

#[test]
fn the_default_route_never_passes_the_filter() {
    let mut t = lab(2, &[(0, 1)], &[0], big());
    t.nodes.get_mut("r0").unwrap().routing = Some(NodeRouting {
        originate_default: true,
        ..Default::default()
    });
    let p1 = plan(&t, &PlanOptions::default()).unwrap();
    let cfg = &p1.node("r0").unwrap().frr.as_ref().unwrap().config;
    assert!(cfg.contains("ip route 0.0.0.0/0 blackhole\n"));
    assert!(cfg.contains("  network 0.0.0.0/0\n"));
    // Every neighbour has the filter both ways.
    for line in cfg.lines().filter(|l| l.ends_with(" activate")) {
        let n = line.split_whitespace().nth(1).unwrap();
        assert!(cfg.contains(&format!("  neighbor {n} route-map NETLOOM-OUT out")));
        assert!(cfg.contains(&format!("  neighbor {n} route-map NETLOOM-IN in")));
    }
    let f = fabric_filter(true, 8);
    assert!(!permits(&f, &p("0.0.0.0/0")));
    for e in &f {
        assert!(cfg.contains(&e.render("NETLOOM-OUT")));
    }
}

#[test]
fn a_stub_router_sends_only_what_it_originates() {
    let mut t = lab(3, &[(0, 1), (1, 2)], &[0], big());
    t.nodes.get_mut("r0").unwrap().routing = Some(NodeRouting {
        stub: true,
        ..Default::default()
    });
    let p1 = plan(&t, &PlanOptions::default()).unwrap();
    let cfg = |n: &str| p1.node(n).unwrap().frr.as_ref().unwrap().config.clone();
    let stub = cfg("r0");
    assert!(
        stub.contains("bgp as-path access-list NETLOOM-OWN seq 5 permit ^$\n"),
        "{stub}"
    );
    assert!(
        stub.contains("bgp as-path access-list NETLOOM-OWN seq 10 permit ^[0-9]+$\n"),
        "{stub}"
    );
    let out = stub
        .split("route-map NETLOOM-OUT permit 10")
        .nth(1)
        .unwrap();
    assert!(
        out.split("exit")
            .next()
            .unwrap()
            .contains(" match as-path NETLOOM-OWN"),
        "{stub}"
    );
    let inbound = stub.split("route-map NETLOOM-IN permit 10").nth(1).unwrap();
    assert!(
        !inbound.split("exit").next().unwrap().contains("as-path"),
        "{stub}"
    );
    // Routers that carry transit traffic are unchanged.
    assert!(!cfg("r1").contains("NETLOOM-OWN"));
}

#[test]
fn update_delay_is_on_by_default_and_can_be_turned_off() {
    let mut t = lab(2, &[(0, 1)], &[], big());
    let cfg = |t: &Topology| {
        let p = plan(t, &PlanOptions::default()).unwrap();
        p.node("r0").unwrap().frr.as_ref().unwrap().config.clone()
    };
    let on = cfg(&t);
    let block = on.split("router bgp").nth(1).unwrap();
    assert!(block.contains("\n update-delay 30 10\n"), "{on}");
    t.routing.as_mut().unwrap().update_delay = Some(netloom_model::UpdateDelay {
        max: 120,
        establish_wait: 60,
    });
    assert!(cfg(&t).contains("\n update-delay 120 60\n"));
    t.routing.as_mut().unwrap().update_delay = None;
    let off = cfg(&t);
    assert!(!off.contains("update-delay"), "{off}");
    // A lab stored before the field existed gets the default.
    let mut json = serde_json::to_value(t.routing.as_ref().unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("update_delay");
    let back: Routing = serde_json::from_value(json).unwrap();
    assert_eq!(back.update_delay, Some(netloom_model::UpdateDelay::DEFAULT));
}

#[test]
fn plans_without_fabric_fields_still_load() {
    let t = lab(2, &[(0, 1)], &[0], big());
    let plan1 = plan(&t, &PlanOptions::default()).unwrap();
    let mut json: serde_json::Value = serde_json::to_value(&plan1).unwrap();
    for n in json["nodes"].as_array_mut().unwrap() {
        n.as_object_mut().unwrap().remove("fabric");
    }
    let back: crate::Plan = serde_json::from_value(json).unwrap();
    assert!(back.nodes.iter().all(|n| n.fabric.is_none()));
    assert_eq!(natural_cmp("eth2", "eth10"), std::cmp::Ordering::Less);
}

/// r1 and r2 on sw1 with h1, both linked to core, h2 behind core.
fn ha_lab(protocol: RoutingProtocol) -> Topology {
    let mut t = lab(
        0,
        &[],
        &[],
        addressing("10.0.0.0/24", "10.255.0.0/24", "172.16.0.0/16"),
    );
    t.routing = Some(Routing {
        protocol,
        ..Routing::default()
    });
    for (n, k) in [
        ("r1", NodeKind::Router),
        ("r2", NodeKind::Router),
        ("core", NodeKind::Router),
        ("sw1", NodeKind::Switch),
        ("h1", NodeKind::Host),
        ("h2", NodeKind::Host),
    ] {
        t.nodes.insert(NodeName::new(n).unwrap(), node(n, k));
    }
    t.links = vec![
        link(("r1", "eth1"), ("sw1", "p1")),
        link(("r2", "eth1"), ("sw1", "p2")),
        link(("h1", "eth1"), ("sw1", "p3")),
        link(("r1", "eth2"), ("core", "eth1")),
        link(("r2", "eth2"), ("core", "eth2")),
        link(("core", "eth3"), ("h2", "eth1")),
    ];
    for (me, peer) in [("r1", "r2"), ("r2", "r1")] {
        t.nodes.get_mut(me).unwrap().ha = Some(Ha {
            peer: NodeName::new(peer).unwrap(),
            vip: "192.168.50.1".parse().unwrap(),
            priority: None,
            advert_ms: Some(100),
        });
    }
    t
}

#[test]
fn ha_pairs_get_vrrp_a_macvlan_and_the_vip_as_gateway() {
    let t = ha_lab(RoutingProtocol::Bgp);
    let pl = plan(&t, &PlanOptions::default()).unwrap();
    let f = fabric_of(&t);
    let (v1, v2) = (&f["r1"].vrrp[0], &f["r2"].vrrp[0]);
    assert_eq!((v1.primary, v2.primary), (true, false));
    assert_eq!((v1.priority, v2.priority), (200, 100));
    assert_eq!(v1.vrid, v2.vrid);
    assert!(v1.vrid >= 1);
    assert_eq!(v1.vip, p("192.168.50.1/24"));
    assert_eq!(v1.advert_ms, 100);
    assert_eq!(v1.iface.as_str(), "eth1");
    assert_eq!(f["r1"].addresses["eth1"], [p("192.168.50.2/24")]);
    assert_eq!(f["r2"].addresses["eth1"], [p("192.168.50.3/24")]);
    assert_eq!(f["h1"].addresses["eth1"], [p("192.168.50.4/24")]);
    assert_eq!(f["h1"].gateway, Some("192.168.50.1".parse().unwrap()));
    assert!(f["core"].vrrp.is_empty());

    // The macvlans: after the links, before FRR starts; undone by delete.
    let phases = pl.phases();
    let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(at("links") < at("macvlans") && at("ports") < at("macvlans"));
    assert!(at("macvlans") < at("routers"));
    let steps = &phases[at("macvlans")].steps;
    assert_eq!(steps.len(), 2);
    match &steps[0] {
        s @ crate::Step::CreateMacvlan {
            node,
            lower,
            name,
            mac,
            address,
            ..
        } => {
            assert_eq!(node.as_str(), "r1");
            assert_eq!(lower.as_str(), "eth1");
            assert_eq!(*name, format!("vrrp4-{}", v1.vrid));
            assert!(name.len() <= 15);
            assert_eq!(*mac, [0, 0, 0x5e, 0, 1, v1.vrid]);
            assert_eq!(*address, p("192.168.50.1/24"));
            assert!(matches!(
                s.inverse(),
                Some(crate::Step::DeleteMacvlan { name: n, .. }) if n == *name
            ));
        }
        other => panic!("{other:?}"),
    }

    // FRR: vrrpd runs; both render the instance; only the backup prepends.
    let conf = |n: &str| pl.node(n).unwrap().frr.clone().unwrap();
    let (c1, c2) = (conf("r1"), conf("r2"));
    for c in [&c1, &c2] {
        assert!(c.daemons.contains(&"vrrpd".to_string()), "{:?}", c.daemons);
        let id = v1.vrid;
        assert!(c.config.contains(&format!(" vrrp {id} version 3\n")));
        assert!(c
            .config
            .contains(&format!(" vrrp {id} advertisement-interval 100\n")));
        assert!(c.config.contains(&format!(" vrrp {id} ip 192.168.50.1\n")));
    }
    assert!(c1.config.contains(" priority 200\n") && !c1.config.contains("prepend"));
    let asn2 = f["r2"].asn.unwrap();
    assert!(c2.config.contains(" priority 100\n"));
    assert!(c2
        .config
        .contains("ip prefix-list NETLOOM-HA seq 5 permit 192.168.50.0/24\n"));
    assert!(c2.config.contains(&format!(
        "route-map NETLOOM-OUT permit 5\n match ip address prefix-list NETLOOM-HA\n set as-path prepend {asn2} {asn2}\n"
    )));
    // The default-route filter stays in force after the prepend entry.
    let pos = |t: &str| c2.config.find(t).unwrap();
    assert!(pos("route-map NETLOOM-OUT permit 5") < pos("route-map NETLOOM-OUT permit 10"));
    assert!(!conf("core").daemons.contains(&"vrrpd".to_string()));
}

#[test]
fn ha_backup_is_dearer_in_ospf_and_priorities_decide_the_primary() {
    let t = ha_lab(RoutingProtocol::Ospf);
    let pl = plan(&t, &PlanOptions::default()).unwrap();
    let conf = |n: &str| pl.node(n).unwrap().frr.clone().unwrap().config;
    assert!(conf("r2").contains(" ip ospf cost 1000\n"));
    assert!(!conf("r1").contains("ip ospf cost"));

    // An explicit priority makes r2 the primary: roles swap.
    let mut u = t.clone();
    u.nodes.get_mut("r2").unwrap().ha.as_mut().unwrap().priority = Some(250);
    let f = fabric_of(&u);
    assert!(f["r2"].vrrp[0].primary && !f["r1"].vrrp[0].primary);
    assert_eq!(f["r2"].vrrp[0].priority, 250);
    let pl = plan(&u, &PlanOptions::default()).unwrap();
    let conf = |n: &str| pl.node(n).unwrap().frr.clone().unwrap().config;
    assert!(conf("r1").contains(" ip ospf cost 1000\n"));
    assert!(!conf("r2").contains("ip ospf cost"));

    // Equal priorities are refused, naming the field.
    let mut u = t.clone();
    u.nodes.get_mut("r2").unwrap().ha.as_mut().unwrap().priority = Some(200);
    let err = plan(&u, &PlanOptions::default()).unwrap_err().to_string();
    assert!(err.contains("ha.priority"), "{err}");
}

#[test]
fn ha_vip_must_fit_the_segment() {
    let t = ha_lab(RoutingProtocol::Bgp);
    // An explicit address names another subnet.
    let mut u = t.clone();
    u.nodes
        .get_mut("h1")
        .unwrap()
        .addresses
        .insert("eth1".into(), vec![p("192.168.60.10/24")]);
    let err = plan(&u, &PlanOptions::default()).unwrap_err().to_string();
    assert!(
        err.contains("ha.vip") && err.contains("192.168.60.0/24"),
        "{err}"
    );
    // The vip is a member's address.
    let mut u = t.clone();
    u.nodes
        .get_mut("h1")
        .unwrap()
        .addresses
        .insert("eth1".into(), vec![p("192.168.50.1/24")]);
    let err = plan(&u, &PlanOptions::default()).unwrap_err().to_string();
    assert!(err.contains("ha.vip") && err.contains("h1:eth1"), "{err}");
    // Explicit addresses in the vip's subnet are kept; nobody gets the vip.
    let mut u = t.clone();
    u.nodes
        .get_mut("r2")
        .unwrap()
        .addresses
        .insert("eth1".into(), vec![p("192.168.50.2/24")]);
    let f = fabric_of(&u);
    assert_eq!(f["r2"].addresses["eth1"], [p("192.168.50.2/24")]);
    assert_eq!(f["r1"].addresses["eth1"], [p("192.168.50.3/24")]);
    // IPv6 vips are refused.
    let mut u = t.clone();
    for n in ["r1", "r2"] {
        u.nodes.get_mut(n).unwrap().ha.as_mut().unwrap().vip = "fd00::1".parse().unwrap();
    }
    let err = plan(&u, &PlanOptions::default()).unwrap_err().to_string();
    assert!(err.contains("ha.vip") && err.contains("IPv6"), "{err}");
    // Sharing only a host is not a VRRP segment.
    let mut u = t.clone();
    u.links.retain(|l| l.a.node.as_str() != "h1");
    u.links[0] = link(("r1", "eth1"), ("h1", "eth1"));
    u.links[1] = link(("r2", "eth1"), ("h1", "eth2"));
    let err = plan(&u, &PlanOptions::default()).unwrap_err().to_string();
    assert!(
        err.contains("ha.peer") && err.contains("only a host"),
        "{err}"
    );
}

#[test]
fn ha_vrids_are_stable_and_distinct() {
    let t = ha_lab(RoutingProtocol::Bgp);
    let vrid = fabric_of(&t)["r1"].vrrp[0].vrid;
    // Node order in the input does not matter; a second pair on another
    // segment gets another VRID.
    let mut u = t.clone();
    for (n, k) in [
        ("r3", NodeKind::Router),
        ("r4", NodeKind::Router),
        ("sw2", NodeKind::Switch),
        ("h3", NodeKind::Host),
    ] {
        u.nodes.insert(NodeName::new(n).unwrap(), node(n, k));
    }
    u.links.push(link(("r3", "eth1"), ("sw2", "p1")));
    u.links.push(link(("r4", "eth1"), ("sw2", "p2")));
    u.links.push(link(("h3", "eth1"), ("sw2", "p3")));
    u.links.push(link(("r3", "eth2"), ("core", "eth4")));
    u.links.push(link(("r4", "eth2"), ("core", "eth5")));
    u.nodes.get_mut("r3").unwrap().ha = Some(Ha {
        peer: NodeName::new("r4").unwrap(),
        vip: "192.168.51.1".parse().unwrap(),
        priority: None,
        advert_ms: None,
    });
    let f = fabric_of(&u);
    assert_eq!(f["r3"].vrrp[0].vrid, f["r4"].vrrp[0].vrid);
    assert_ne!(f["r3"].vrrp[0].vrid, f["r1"].vrrp[0].vrid);
    assert_eq!(f["r3"].vrrp[0].advert_ms, 1000);
    assert_eq!(f["h3"].gateway, Some("192.168.51.1".parse().unwrap()));
    let mut v = u.clone();
    v.links.reverse();
    assert_eq!(fabric_of(&v), f);
    // Adding the pair did not renumber the first (its home slot was free).
    assert_eq!(f["r1"].vrrp[0].vrid, vrid);
}
