//! What the kernel says about a lab's nodes.

use crate::frr::{frr_pathspace, run_dir};
use crate::netlink::Netlink;
use crate::ns::{enter, open_netns};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteProtocol};
use netlink_packet_route::AddressFamily;
use netloom_plan::NodePlan;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;

/// The observed state of a lab, node by node (in plan order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabObserved {
    pub lab: String,
    pub nodes: Vec<NodeObserved>,
}

impl LabObserved {
    pub fn node(&self, name: &str) -> Option<&NodeObserved> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// One node as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeObserved {
    /// The node's name.
    pub name: String,
    pub netns: String,
    /// The namespace exists and is bound at `/run/netns/<netns>`.
    pub netns_present: bool,
    /// FRR daemons of routers, in plan order.
    pub daemons: Vec<DaemonObserved>,
    pub interfaces: Vec<InterfaceObserved>,
    /// Why the node could not be observed completely.
    pub error: Option<String>,
}

/// One FRR daemon of a router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DaemonObserved {
    /// The daemon (`zebra`, `bgpd`, ...).
    pub name: String,
    /// From its pid file.
    pub pid: Option<u32>,
    /// The pid is alive and inside the router's namespace.
    pub alive: bool,
}

/// One network interface inside a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceObserved {
    pub name: String,
    pub index: u32,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Carrier and protocol up (`IFF_RUNNING`).
    pub running: bool,
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    /// The bridge it is a port of.
    pub master: Option<String>,
    /// Addresses in CIDR form (`10.0.0.1/24`, `fe80::1/64`).
    pub addresses: Vec<String>,
}

/// One route of a node's main table, as the kernel has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct KernelRoute {
    /// The destination in CIDR form (`10.0.0.1/32`, `::/0`).
    pub dst: String,
    /// Who installed it: `kernel` (connected), `static`, `bgp`, `ospf`,
    /// `zebra`, or the protocol's number.
    pub protocol: String,
    /// How many next hops it has (2 or more: equal-cost multipath). A
    /// route through a kernel next-hop group counts 1 and names the group.
    pub nexthops: usize,
    /// The next-hop group (`nhid`) it uses, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<u32>,
}

fn protocol_name(p: RouteProtocol) -> String {
    match p {
        RouteProtocol::Kernel => "kernel".into(),
        RouteProtocol::Boot => "boot".into(),
        RouteProtocol::Static => "static".into(),
        RouteProtocol::Zebra => "zebra".into(),
        RouteProtocol::Bgp => "bgp".into(),
        RouteProtocol::Ospf => "ospf".into(),
        RouteProtocol::Isis => "isis".into(),
        RouteProtocol::Rip => "rip".into(),
        RouteProtocol::Babel => "babel".into(),
        RouteProtocol::KeepAlived => "keepalived".into(),
        other => u8::from(other).to_string(),
    }
}

fn kernel_route(r: &RouteMessage) -> KernelRoute {
    let mut dst = None;
    let mut nexthops = 1;
    let mut group = None;
    for a in &r.attributes {
        match a {
            RouteAttribute::Destination(RouteAddress::Inet(ip)) => dst = Some(IpAddr::V4(*ip)),
            RouteAttribute::Destination(RouteAddress::Inet6(ip)) => dst = Some(IpAddr::V6(*ip)),
            RouteAttribute::MultiPath(hops) => nexthops = hops.len(),
            RouteAttribute::NhId(id) => group = Some(*id),
            _ => {}
        }
    }
    let v6 = r.header.address_family == AddressFamily::Inet6;
    let dst = dst.unwrap_or(if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    });
    KernelRoute {
        dst: format!("{dst}/{}", r.header.destination_prefix_length),
        protocol: protocol_name(r.header.protocol),
        nexthops,
        group,
    }
}

/// The main-table routes of one node. Runs on a worker thread, which it
/// moves into the node's namespace.
pub(crate) fn routes(node: &NodePlan) -> Result<Vec<KernelRoute>, String> {
    let file = open_netns(&node.netns).map_err(|e| format!("cannot open namespace: {e}"))?;
    enter(&file, &node.netns).map_err(|e| crate::error::chain(&e))?;
    let mut nl = Netlink::open().map_err(|e| format!("cannot open netlink: {e}"))?;
    let routes = nl
        .routes()
        .map_err(|e| format!("cannot list routes: {e}"))?;
    Ok(routes.iter().map(kernel_route).collect())
}

fn mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn interfaces(links: &[LinkMessage], addrs: &[AddressMessage]) -> Vec<InterfaceObserved> {
    let names: BTreeMap<u32, String> = links
        .iter()
        .filter_map(|l| {
            l.attributes.iter().find_map(|a| match a {
                LinkAttribute::IfName(n) => Some((l.header.index, n.clone())),
                _ => None,
            })
        })
        .collect();
    let mut by_index: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for a in addrs {
        let ip = a
            .attributes
            .iter()
            .find_map(|x| match x {
                AddressAttribute::Local(ip) => Some(*ip),
                _ => None,
            })
            .or_else(|| {
                a.attributes.iter().find_map(|x| match x {
                    AddressAttribute::Address(ip) => Some(*ip),
                    _ => None,
                })
            });
        if let Some(ip) = ip {
            by_index
                .entry(a.header.index)
                .or_default()
                .push(format!("{ip}/{}", a.header.prefix_len));
        }
    }
    links
        .iter()
        .map(|l| {
            let mut obs = InterfaceObserved {
                name: names.get(&l.header.index).cloned().unwrap_or_default(),
                index: l.header.index,
                up: l.header.flags.contains(LinkFlags::Up),
                running: l.header.flags.contains(LinkFlags::Running),
                mac: None,
                mtu: None,
                master: None,
                addresses: by_index.remove(&l.header.index).unwrap_or_default(),
            };
            for a in &l.attributes {
                match a {
                    LinkAttribute::Address(b) => obs.mac = Some(mac(b)),
                    LinkAttribute::Mtu(m) => obs.mtu = Some(*m),
                    LinkAttribute::Controller(m) => obs.master = names.get(m).cloned(),
                    _ => {}
                }
            }
            obs
        })
        .collect()
}

/// Observes one node. Runs on a worker thread, which it moves into the
/// node's namespace.
pub(crate) fn node(node: &NodePlan) -> NodeObserved {
    let mut obs = NodeObserved {
        name: node.name.to_string(),
        netns: node.netns.clone(),
        netns_present: false,
        daemons: Vec::new(),
        interfaces: Vec::new(),
        error: None,
    };
    let file = open_netns(&node.netns).ok();
    obs.netns_present = file.is_some();
    let ns_ino = file
        .as_ref()
        .and_then(|f| f.metadata().ok())
        .map(|m| m.ino());
    if let Some(frr) = &node.frr {
        let run = run_dir(&frr_pathspace(&frr.pathspace));
        for daemon in &frr.daemons {
            let pid = std::fs::read_to_string(run.join(format!("{daemon}.pid")))
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok());
            let alive = pid.is_some_and(|p| {
                crate::procs::alive(p as i32)
                    && std::fs::metadata(format!("/proc/{p}/ns/net"))
                        .ok()
                        .map(|m| m.ino())
                        == ns_ino
            });
            obs.daemons.push(DaemonObserved {
                name: daemon.clone(),
                pid,
                alive,
            });
        }
    }
    let Some(file) = file else {
        return obs;
    };
    let result = (|| -> Result<_, String> {
        enter(&file, &node.netns).map_err(|e| crate::error::chain(&e))?;
        let mut nl = Netlink::open().map_err(|e| format!("cannot open netlink: {e}"))?;
        let links = nl.links().map_err(|e| format!("cannot list links: {e}"))?;
        let addrs = nl
            .addresses()
            .map_err(|e| format!("cannot list addresses: {e}"))?;
        Ok(interfaces(&links, &addrs))
    })();
    match result {
        Ok(ifaces) => obs.interfaces = ifaces,
        Err(e) => obs.error = Some(e),
    }
    obs
}
