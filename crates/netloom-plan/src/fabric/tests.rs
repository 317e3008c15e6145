use super::*;
use crate::{plan, PlanOptions};
use netloom_model::{
    Addressing, Endpoint, Ha, IfName, LabName, Link, Node, NodeName, NodeRouting, Routing,
};
use proptest::prelude::*;

fn node(name: &str, kind: NodeKind) -> Node {
    Node {
        name: NodeName::new(name).unwrap(),
        kind,
        image: None,
        frr: None,
        exec: vec![],
        env: Default::default(),
        labels: Default::default(),
        binds: vec![],
        site: None,
        routing: None,
        ha: None,
        config_extra: None,
        addresses: Default::default(),
    }
}

fn ep(node: &str, iface: &str) -> Endpoint {
    Endpoint {
        node: NodeName::new(node).unwrap(),
        iface: IfName::new(iface).unwrap(),
    }
}

fn link(a: (&str, &str), b: (&str, &str)) -> Link {
    Link {
        a: ep(a.0, a.1),
        b: ep(b.0, b.1),
        mtu: None,
        mode: None,
        both: Default::default(),
        a_to_b: Default::default(),
        b_to_a: Default::default(),
        up: true,
    }
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
    Topology {
        name: LabName::new("t").unwrap(),
        nodes: nodes.into_iter().map(|n| (n.name.clone(), n)).collect(),
        links,
        source: None,
        sites: Default::default(),
        sites_latency: vec![],
        link_defaults: Default::default(),
        addressing: Some(a),
        routing: Some(Routing {
            protocol: RoutingProtocol::Bgp,
            ..Default::default()
        }),
    }
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
    assert_eq!(f["ha"].gateway, Some(r0.addr));

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
