//! Fabric automation: from the lab's `addressing:` and `routing:` intent to
//! addresses, router ids, ASNs, FRR configurations and host commands.
//!
//! Pure like the rest of the planner. The parts:
//! - `explicit`: addresses (and ASNs) the user gave, collected first;
//! - `ipam`: pools cut into slots placed by `slots` (stable hash of
//!   each object's identity, linear probing, see there for the stability
//!   guarantee);
//! - `asn`: 24-bit router ids, ASNs and router-ids;
//! - `render`, `bgp`, `ospf`: FRR 8.4 configuration text.
//!
//! Decisions:
//! - A router with its own startup-config keeps it verbatim: netloom only
//!   appends the interface addresses it allocated (and `addresses:`), then
//!   `config_extra`; its routing is the user's. Its neighbours peer with
//!   the ASN of its `router bgp N` line. The plan notes this in
//!   [`NodeFabric::note`].
//! - `config_extra` is appended after the rendered text. FRR applies later
//!   lines on top of earlier ones, so it merges; a line re-entering
//!   `router bgp` must give the same ASN (printed in the rendered config).
//! - Identities: a router is its name; a router-router link is its sorted
//!   endpoint pair (`leaf1:eth1|spine1:eth1`), and the endpoint that sorts
//!   first gets the lower address (so the order a link is written in does
//!   not matter); a host segment is its switch (the smallest switch name of
//!   switches joined together) or the sorted pair of a direct router-host
//!   link. On a segment the routers get the first usable addresses, the
//!   hosts the following ones, each in name order.
//! - HA pairs (`ha`, see `ha`): VRRPv3 over a macvlan on the switch
//!   segment both routers serve; the vip names the segment's subnet and is
//!   the default gateway of its hosts; the backup is made less preferred
//!   (AS-path prepend or OSPF cost) so traffic returns through the primary.

mod asn;
mod bgp;
mod explicit;
mod ha;
mod ipam;
mod ospf;
mod render;
mod slots;
#[cfg(test)]
mod tests;

pub use asn::ASN_BASE;
pub use bgp::{fabric_filter, permits, Action, PrefixListEntry};
pub use ha::Vrrp;

use crate::PlanError;
use explicit::Explicit;
use netloom_model::{
    BgpPeering, Endpoint, NodeKind, Prefix, RouterIdFrom, Routing, RoutingProtocol, Topology,
};
use render::{PeerView, RouterView};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

/// What the fabric planner decided for one node (`netloom inspect`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeFabric {
    /// Routers running BGP: their AS number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Routers running a protocol: their router-id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub router_id: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loopback: Option<Prefix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loopback6: Option<Prefix>,
    /// Every address the node has by interface: explicit and allocated.
    pub addresses: BTreeMap<String, Vec<Prefix>>,
    /// Hosts: the default gateway netloom set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    /// Why part of the intent was not applied (a startup-config).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Routers of an HA pair: their VRRP instance (the executor creates
    /// its macvlan).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vrrp: Vec<Vrrp>,
}

/// The fabric's decisions for one node.
#[derive(Debug, Clone, Default)]
pub(crate) struct NodeOut {
    pub fabric: NodeFabric,
    /// Routers: the whole FRR configuration.
    pub config: Option<String>,
    /// Hosts: commands run before the user's `exec`.
    pub exec_prefix: Vec<String>,
}

/// Compares interface names with digits as numbers (`eth2` < `eth10`).
pub(crate) fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(s: &str) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        let mut text = String::new();
        let mut num: Option<u64> = None;
        for c in s.chars() {
            if let Some(d) = c.to_digit(10) {
                num = Some(
                    num.unwrap_or(0)
                        .saturating_mul(10)
                        .saturating_add(u64::from(d)),
                );
            } else {
                if let Some(n) = num.take() {
                    out.push((std::mem::take(&mut text), n));
                }
                text.push(c);
            }
        }
        out.push((text, num.unwrap_or(0)));
        out
    }
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// A router-router link; `lo` sorts before `hi`.
#[derive(Debug, Clone)]
pub(crate) struct P2p {
    pub id: String,
    pub lo: Endpoint,
    pub hi: Endpoint,
}

/// A host segment: router and host interfaces on one switch (or one
/// direct router-host link).
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub id: String,
    pub routers: Vec<Endpoint>,
    pub hosts: Vec<Endpoint>,
}

/// The lab seen as a fabric.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    /// Router names, in order.
    pub routers: Vec<String>,
    /// By id.
    pub p2p: Vec<P2p>,
    /// By id.
    pub segments: Vec<Segment>,
    /// Where each router is attached: `switch:<component>` or
    /// `host:<name>` (for HA checks).
    pub attached: BTreeMap<String, BTreeSet<String>>,
}

impl Shape {
    pub fn of(topo: &Topology) -> Shape {
        let kind = |e: &Endpoint| topo.node(e.node.as_str()).map(|n| n.kind);
        // Switches joined by links form one segment, named after the
        // smallest switch name.
        let mut comp: BTreeMap<String, String> = topo
            .nodes
            .values()
            .filter(|n| n.kind == NodeKind::Switch)
            .map(|n| (n.name.to_string(), n.name.to_string()))
            .collect();
        loop {
            let mut changed = false;
            for l in &topo.links {
                if kind(&l.a) == Some(NodeKind::Switch) && kind(&l.b) == Some(NodeKind::Switch) {
                    let (ca, cb) = (
                        comp[l.a.node.as_str()].clone(),
                        comp[l.b.node.as_str()].clone(),
                    );
                    if ca != cb {
                        let min = ca.clone().min(cb.clone());
                        for v in comp.values_mut() {
                            if *v == ca || *v == cb {
                                *v = min.clone();
                            }
                        }
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut shape = Shape {
            routers: topo
                .nodes
                .values()
                .filter(|n| n.kind == NodeKind::Router)
                .map(|n| n.name.to_string())
                .collect(),
            ..Shape::default()
        };
        let mut on_switch: BTreeMap<String, Segment> = BTreeMap::new();
        for l in &topo.links {
            let (lo, hi) = if l.a <= l.b {
                (&l.a, &l.b)
            } else {
                (&l.b, &l.a)
            };
            let id = format!("{lo}|{hi}");
            match (kind(lo), kind(hi)) {
                (Some(NodeKind::Router), Some(NodeKind::Router)) => shape.p2p.push(P2p {
                    id,
                    lo: lo.clone(),
                    hi: hi.clone(),
                }),
                (Some(NodeKind::Router), Some(NodeKind::Host))
                | (Some(NodeKind::Host), Some(NodeKind::Router)) => {
                    let (r, h) = if kind(lo) == Some(NodeKind::Router) {
                        (lo, hi)
                    } else {
                        (hi, lo)
                    };
                    shape
                        .attached
                        .entry(r.node.to_string())
                        .or_default()
                        .insert(format!("host:{}", h.node));
                    shape.segments.push(Segment {
                        id,
                        routers: vec![r.clone()],
                        hosts: vec![h.clone()],
                    });
                }
                (Some(k), Some(NodeKind::Switch)) | (Some(NodeKind::Switch), Some(k))
                    if k != NodeKind::Switch =>
                {
                    let (other, sw) = if kind(lo) == Some(NodeKind::Switch) {
                        (hi, lo)
                    } else {
                        (lo, hi)
                    };
                    let c = comp[sw.node.as_str()].clone();
                    let seg = on_switch.entry(c.clone()).or_insert_with(|| Segment {
                        id: c.clone(),
                        routers: vec![],
                        hosts: vec![],
                    });
                    if k == NodeKind::Router {
                        seg.routers.push(other.clone());
                        shape
                            .attached
                            .entry(other.node.to_string())
                            .or_default()
                            .insert(format!("switch:{c}"));
                    } else {
                        seg.hosts.push(other.clone());
                    }
                }
                _ => {}
            }
        }
        shape.segments.extend(
            on_switch
                .into_values()
                .filter(|s| !s.routers.is_empty() && !s.hosts.is_empty()),
        );
        for s in &mut shape.segments {
            s.routers.sort();
            s.hosts.sort();
        }
        shape.segments.sort_by(|a, b| a.id.cmp(&b.id));
        shape.p2p.sort_by(|a, b| a.id.cmp(&b.id));
        shape
    }
}

fn check_ha(topo: &Topology, shape: &Shape) -> Result<(), PlanError> {
    for node in topo.nodes.values() {
        let Some(ha) = &node.ha else { continue };
        let err = |why: String| PlanError::HaPeer {
            node: node.name.to_string(),
            peer: ha.peer.to_string(),
            why,
        };
        if node.kind != NodeKind::Router {
            return Err(err(format!(
                "`{}` is a {}, not a router",
                node.name, node.kind
            )));
        }
        let Some(peer) = topo.node(ha.peer.as_str()) else {
            return Err(err("is not in the topology".into()));
        };
        if peer.kind != NodeKind::Router {
            return Err(err(format!("is a {}, not a router", peer.kind)));
        }
        if peer.name == node.name {
            return Err(err("names the router itself".into()));
        }
        let empty = BTreeSet::new();
        let mine = shape.attached.get(node.name.as_str()).unwrap_or(&empty);
        let theirs = shape.attached.get(peer.name.as_str()).unwrap_or(&empty);
        if mine.is_disjoint(theirs) {
            return Err(err(format!(
                "does not share a segment with `{}` (both must be linked to the same switch or the same host)",
                node.name
            )));
        }
    }
    Ok(())
}

/// Everything [`build`] decided, by node name.
pub(crate) type Fabric = BTreeMap<String, NodeOut>;

/// Plans the fabric of `topo`, or `None` when it has no `addressing:` and
/// no `routing:`.
pub(crate) fn build(topo: &Topology) -> Result<Option<Fabric>, PlanError> {
    if topo.addressing.is_none() && topo.routing.is_none() {
        return Ok(None);
    }
    let addressing = topo.addressing.clone().unwrap_or_default();
    let routing = topo.routing.clone().unwrap_or_default();
    let shape = Shape::of(topo);
    check_ha(topo, &shape)?;
    let pairs = ha::pairs(topo, &shape)?;
    let explicit = Explicit::collect(topo);
    let vips: BTreeMap<String, IpAddr> = pairs.iter().map(|p| (p.segment.clone(), p.vip)).collect();
    let addrs = ipam::allocate(&addressing, &shape, &explicit, &vips)?;
    let ids = asn::allocate(topo, &shape.routers, &explicit)?;

    // Every address of an interface: explicit first, then allocated.
    let known = |node: &str, iface: &str| -> Vec<Prefix> {
        let mut v = explicit.on(node, iface);
        if let Some(a) = addrs.assigned.get(&(node.to_string(), iface.to_string())) {
            v.extend(a.iter().copied());
        }
        v
    };
    let first = |node: &str, iface: &str, v4: bool| {
        known(node, iface).into_iter().find(|p| p.is_ipv4() == v4)
    };
    let vrrp = ha::members(topo, &shape, &pairs, &addrs.segment_subnet, &known)?;
    let has_config = |name: &str| {
        topo.node(name)
            .and_then(|n| n.frr.as_ref())
            .is_some_and(|f| f.config.is_some())
    };
    let protocol = |name: &str| -> RoutingProtocol {
        if has_config(name) {
            return match explicit.config_protocols.get(name) {
                Some((true, _)) => RoutingProtocol::Bgp,
                Some((false, true)) => RoutingProtocol::Ospf,
                _ => RoutingProtocol::None,
            };
        }
        topo.node(name)
            .and_then(|n| n.routing.as_ref())
            .and_then(|r| r.protocol)
            .unwrap_or(routing.protocol)
    };
    let hub = |name: &str| {
        !has_config(name)
            && topo
                .node(name)
                .and_then(|n| n.routing.as_ref())
                .is_some_and(|r| r.hub)
    };

    // eBGP only: two linked BGP routers may not share an ASN.
    for l in &shape.p2p {
        let (a, b) = (l.lo.node.as_str(), l.hi.node.as_str());
        if a != b
            && protocol(a) == RoutingProtocol::Bgp
            && protocol(b) == RoutingProtocol::Bgp
            && ids.asn[a] == ids.asn[b]
        {
            return Err(PlanError::AsnCollision {
                a: a.to_string(),
                b: b.to_string(),
                asn: ids.asn[a],
            });
        }
    }

    // The interfaces of each node that have addresses, explicit or not.
    let mut ifaces: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (node, iface) in explicit
        .node_given
        .keys()
        .chain(explicit.config_given.keys())
        .chain(explicit.exec_given.keys())
        .chain(addrs.assigned.keys())
    {
        ifaces
            .entry(node.clone())
            .or_default()
            .insert(iface.clone());
    }
    let all_addresses = |node: &str| -> BTreeMap<String, Vec<Prefix>> {
        ifaces
            .get(node)
            .into_iter()
            .flatten()
            .map(|i| (i.clone(), known(node, i)))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    };
    // The addresses netloom applies itself: `addresses:` and allocated.
    let applied = |node: &str| -> BTreeMap<String, Vec<Prefix>> {
        let mut out: BTreeMap<String, Vec<Prefix>> = BTreeMap::new();
        for ((n, i), v) in explicit.node_given.iter().chain(&addrs.assigned) {
            if n == node {
                out.entry(i.clone()).or_default().extend(v.iter().copied());
            }
        }
        out
    };

    let mut fabric = Fabric::new();
    for node in topo.nodes.values().filter(|n| n.kind != NodeKind::Switch) {
        let name = node.name.as_str();
        let mut out = NodeOut::default();
        out.fabric.addresses = all_addresses(name);
        out.fabric.vrrp.extend(vrrp.get(name).cloned());
        match node.kind {
            NodeKind::Router => {
                let proto = protocol(name);
                let lo4 = first(name, "lo", true);
                let lo6 = first(name, "lo", false);
                out.fabric.loopback = lo4;
                out.fabric.loopback6 = lo6;
                if has_config(name) {
                    out.fabric.asn = (proto == RoutingProtocol::Bgp).then(|| ids.asn[name]);
                    out.fabric.note = Some(
                        "startup-config kept as given: netloom appended only the addresses it allocated; the routing intent is not rendered for this router".into(),
                    );
                    let mut text = crate::render_frr_config(
                        name,
                        node.frr.as_ref().and_then(|f| f.config.as_deref()),
                    );
                    let mut lines = render::address_lines(&applied(name));
                    render::vrrp_lines(&out.fabric.vrrp, &mut lines);
                    if lines.values().any(|l| !l.is_empty()) {
                        text.push_str("!\n! netloom addressing\n");
                        render::interfaces(&mut text, &lines);
                    }
                    render::extra(&mut text, node.config_extra.as_deref());
                    out.config = Some(text);
                } else {
                    let router_id = match routing.router_id {
                        RouterIdFrom::Id => asn::id_quad(ids.id[name]),
                        RouterIdFrom::Loopback => match lo4.map(|p| p.addr) {
                            Some(IpAddr::V4(a)) => a,
                            _ if proto == RoutingProtocol::None => asn::id_quad(ids.id[name]),
                            _ => {
                                return Err(PlanError::RouterIdNeedsLoopback {
                                    node: name.to_string(),
                                })
                            }
                        },
                    };
                    let mut view = router_view(
                        topo, &routing, &shape, &addrs, &ids, name, proto, router_id, lo4, lo6,
                        &first, &protocol, &hub,
                    )?;
                    view.vrrp = out.fabric.vrrp.clone();
                    if proto != RoutingProtocol::None {
                        out.fabric.router_id = Some(router_id);
                    }
                    if proto == RoutingProtocol::Bgp {
                        out.fabric.asn = Some(ids.asn[name]);
                    }
                    out.config = Some(render::router_config(
                        &view,
                        &routing,
                        &applied(name),
                        node.config_extra.as_deref(),
                    ));
                }
            }
            NodeKind::Host => {
                let mine = applied(name);
                let mut names: Vec<&String> = mine.keys().collect();
                names.sort_by(|a, b| natural_cmp(a, b));
                for iface in &names {
                    for p in &mine[*iface] {
                        out.exec_prefix.push(format!("ip addr add {p} dev {iface}"));
                    }
                }
                if !explicit.exec_default.contains(name) {
                    out.fabric.gateway =
                        names.iter().find_map(|iface| {
                            let own = mine[*iface].iter().find(|p| p.is_ipv4())?;
                            let seg = shape.segments.iter().find(|s| {
                                s.hosts.iter().any(|h| {
                                    h.node.as_str() == name && h.iface.as_str() == iface.as_str()
                                })
                            })?;
                            // An HA segment: the pair's vip.
                            if let Some(v) = seg.routers.iter().find_map(|r| {
                                vrrp.get(r.node.as_str()).filter(|v| v.iface == r.iface)
                            }) {
                                return own.contains(&v.vip).then_some(v.vip.addr);
                            }
                            seg.routers.iter().find_map(|r| {
                                let gw = first(r.node.as_str(), r.iface.as_str(), true)?;
                                (gw.network() == own.network() && gw.addr != own.addr)
                                    .then_some(gw.addr)
                            })
                        });
                    if let Some(gw) = out.fabric.gateway {
                        out.exec_prefix
                            .push(format!("ip route add default via {gw}"));
                    }
                }
            }
            NodeKind::Switch => {}
        }
        fabric.insert(name.to_string(), out);
    }
    Ok(Some(fabric))
}

#[allow(clippy::too_many_arguments)]
fn router_view(
    topo: &Topology,
    routing: &Routing,
    shape: &Shape,
    addrs: &ipam::Addresses,
    ids: &asn::Ids,
    name: &str,
    proto: RoutingProtocol,
    router_id: Ipv4Addr,
    lo4: Option<Prefix>,
    lo6: Option<Prefix>,
    first: &dyn Fn(&str, &str, bool) -> Option<Prefix>,
    protocol: &dyn Fn(&str) -> RoutingProtocol,
    hub: &dyn Fn(&str) -> bool,
) -> Result<RouterView, PlanError> {
    let node = topo.node(name);
    let routing_of = node.and_then(|n| n.routing.as_ref());
    let i_am_hub = hub(name);
    let numbered = routing.peering == BgpPeering::Numbered;
    let mut peers = Vec::new();
    for l in &shape.p2p {
        let (me, other) = if l.lo.node.as_str() == name {
            (&l.lo, &l.hi)
        } else if l.hi.node.as_str() == name {
            (&l.hi, &l.lo)
        } else {
            continue;
        };
        let peer = other.node.as_str();
        let bgp = proto == RoutingProtocol::Bgp && protocol(peer) == RoutingProtocol::Bgp;
        let ospf = proto == RoutingProtocol::Ospf && protocol(peer) == RoutingProtocol::Ospf;
        let dial = !i_am_hub || (hub(peer) && name < peer);
        let (iface, peer_iface) = (me.iface.as_str(), other.iface.as_str());
        let missing = |what: &str| PlanError::NoLinkAddress {
            link: format!("{me} <-> {other}"),
            what: what.to_string(),
        };
        let mine4 = first(name, iface, true);
        let mine6 = first(name, iface, false);
        let peer_v4 = first(peer, peer_iface, true);
        let peer_v6 = first(peer, peer_iface, false);
        if bgp && numbered {
            let v4 = mine4.is_some() && peer_v4.is_some();
            let v6 = mine6.is_some() && peer_v6.is_some();
            if !v4 && !v6 {
                return Err(missing("numbered BGP"));
            }
        }
        if ospf && (mine4.is_none() || peer_v4.is_none()) {
            return Err(missing("OSPF"));
        }
        peers.push(PeerView {
            iface: iface.to_string(),
            peer: peer.to_string(),
            peer_iface: peer_iface.to_string(),
            peer_asn: ids.asn[peer],
            peer_v4: mine4.and(peer_v4).map(|p| p.addr),
            peer_v6: mine6.and(peer_v6).map(|p| p.addr),
            bgp,
            ospf,
            dial,
        });
    }
    peers.sort_by(|a, b| natural_cmp(&a.iface, &b.iface));

    let mut segments = Vec::new();
    for s in &shape.segments {
        for r in s.routers.iter().filter(|r| r.node.as_str() == name) {
            if let Some(subnet) = addrs.segment_subnet.get(&s.id) {
                segments.push((r.iface.to_string(), *subnet));
            }
        }
    }
    segments.sort_by(|a, b| natural_cmp(&a.0, &b.0));

    // A hub listens on the p2p pools and on the subnets of its links that
    // lie outside them.
    let mut listen4 = Vec::new();
    let mut listen6 = Vec::new();
    if i_am_hub {
        let addressing = topo.addressing.clone().unwrap_or_default();
        listen4.extend(addressing.p2p);
        listen6.extend(addressing.p2p6);
        for p in peers.iter().filter(|p| p.bgp && !p.dial) {
            for v4 in [true, false] {
                let list = if v4 { &mut listen4 } else { &mut listen6 };
                if let Some(net) = first(name, &p.iface, v4).map(|a| a.network()) {
                    if !list.iter().any(|r| r.contains(&net)) {
                        list.push(net);
                    }
                }
            }
        }
    }
    let addressing = topo.addressing.clone().unwrap_or_default();
    Ok(RouterView {
        name: name.to_string(),
        protocol: proto,
        asn: ids.asn[name],
        router_id,
        lo4,
        lo6,
        peers,
        segments,
        originate_default: routing_of.is_some_and(|r| r.originate_default),
        stub: routing_of.is_some_and(|r| r.stub),
        listen4,
        listen6,
        vrrp: Vec::new(),
        v6: addressing.p2p6.is_some() || addressing.loopback6.is_some() || lo6.is_some(),
    })
}
