//! A router's whole configuration: header, interfaces (addresses and
//! per-interface protocol lines), filters, the protocol block, then the
//! user's `config_extra`.

use super::{bgp, natural_cmp, ospf, Vrrp};
use netloom_model::{Prefix, Routing, RoutingProtocol};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

/// One router-router link seen from one end.
#[derive(Debug, Clone)]
pub(crate) struct PeerView {
    pub iface: String,
    pub peer: String,
    pub peer_iface: String,
    pub peer_asn: u32,
    pub peer_v4: Option<IpAddr>,
    pub peer_v6: Option<IpAddr>,
    /// Both ends run BGP.
    pub bgp: bool,
    /// Both ends run OSPF.
    pub ospf: bool,
    /// This end configures the session (a hub lets its spokes dial).
    pub dial: bool,
}

/// What rendering needs to know about one router.
#[derive(Debug, Clone)]
pub(crate) struct RouterView {
    pub name: String,
    pub protocol: RoutingProtocol,
    pub asn: u32,
    pub router_id: Ipv4Addr,
    pub lo4: Option<Prefix>,
    pub lo6: Option<Prefix>,
    /// In interface order.
    pub peers: Vec<PeerView>,
    /// Host-facing interfaces and their subnets.
    pub segments: Vec<(String, Prefix)>,
    pub originate_default: bool,
    /// BGP: advertise only its own prefixes (`routing: {stub: true}`).
    pub stub: bool,
    /// Hub listen ranges.
    pub listen4: Vec<Prefix>,
    pub listen6: Vec<Prefix>,
    /// The fabric carries IPv6.
    pub v6: bool,
    /// HA pair membership.
    pub vrrp: Vec<Vrrp>,
}

impl RouterView {
    /// The subnets this router serves as the backup of an HA pair.
    pub fn backup_segments(&self) -> impl Iterator<Item = (&str, Prefix)> + '_ {
        self.vrrp.iter().filter(|v| !v.primary).filter_map(|v| {
            self.segments
                .iter()
                .find(|(iface, _)| iface.as_str() == v.iface.as_str())
                .map(|(iface, subnet)| (iface.as_str(), subnet.network()))
        })
    }
}

/// The VRRP lines of the segment interface of each HA pair the router is
/// in.
pub(crate) fn vrrp_lines(vrrp: &[Vrrp], lines: &mut BTreeMap<String, Vec<String>>) {
    for v in vrrp {
        let role = if v.primary { "primary" } else { "backup" };
        let l = lines.entry(v.iface.to_string()).or_default();
        l.push(format!(
            "! HA pair with {}: {role}, vip on macvlan {}; preemption on (FRR's default)",
            v.peer,
            v.macvlan()
        ));
        let id = v.vrid;
        l.push(format!("vrrp {id} version 3"));
        l.push(format!("vrrp {id} priority {}", v.priority));
        l.push(format!("vrrp {id} advertisement-interval {}", v.advert_ms));
        l.push(format!("vrrp {id} ip {}", v.vip.addr));
    }
}

/// The header every rendered configuration starts with.
fn header(out: &mut String, name: &str, datacenter: bool) {
    let profile = if datacenter {
        "datacenter"
    } else {
        "traditional"
    };
    let _ = writeln!(
        out,
        "frr defaults {profile}\nhostname {name}\nservice integrated-vtysh-config\n!"
    );
}

/// `interface X` blocks, `lo` last.
pub(crate) fn interfaces(out: &mut String, lines: &BTreeMap<String, Vec<String>>) {
    let mut names: Vec<&String> = lines.keys().filter(|k| !lines[*k].is_empty()).collect();
    names.sort_by(|a, b| {
        (a.as_str() == "lo")
            .cmp(&(b.as_str() == "lo"))
            .then_with(|| natural_cmp(a, b))
    });
    for name in names {
        let _ = writeln!(out, "interface {name}");
        for l in &lines[name] {
            let _ = writeln!(out, " {l}");
        }
        out.push_str("exit\n!\n");
    }
}

pub(crate) fn address_lines(
    addrs: &BTreeMap<String, Vec<Prefix>>,
) -> BTreeMap<String, Vec<String>> {
    addrs
        .iter()
        .map(|(iface, list)| {
            let lines = list
                .iter()
                .map(|p| {
                    let family = if p.is_ipv4() { "ip" } else { "ipv6" };
                    format!("{family} address {p}")
                })
                .collect();
            (iface.clone(), lines)
        })
        .collect()
}

pub(crate) fn extra(out: &mut String, extra: Option<&str>) {
    if let Some(text) = extra.filter(|t| !t.trim().is_empty()) {
        out.push_str("! config_extra\n");
        out.push_str(text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("!\n");
    }
}

/// The configuration of a router netloom renders in full. `addrs` are the
/// addresses zebra applies (explicit `addresses:` and allocated ones).
pub(crate) fn router_config(
    v: &RouterView,
    routing: &Routing,
    addrs: &BTreeMap<String, Vec<Prefix>>,
    config_extra: Option<&str>,
) -> String {
    let mut out = String::new();
    header(&mut out, &v.name, v.protocol != RoutingProtocol::None);
    match v.protocol {
        RoutingProtocol::Bgp => {
            let _ = writeln!(
                out,
                "! netloom fabric: bgp, asn {}, router-id {}\n!",
                v.asn, v.router_id
            );
        }
        RoutingProtocol::Ospf => {
            let _ = writeln!(out, "! netloom fabric: ospf, router-id {}\n!", v.router_id);
        }
        RoutingProtocol::None => out.push_str("! netloom fabric: addresses only\n!\n"),
    }
    let bgp_on = v.protocol == RoutingProtocol::Bgp;
    if bgp_on && v.originate_default {
        out.push_str("ip route 0.0.0.0/0 blackhole\n!\n");
    }
    let mut lines = address_lines(addrs);
    if v.protocol == RoutingProtocol::Ospf {
        ospf::interface_lines(v, &mut lines);
    }
    vrrp_lines(&v.vrrp, &mut lines);
    interfaces(&mut out, &lines);
    match v.protocol {
        RoutingProtocol::Bgp => {
            let (fam4, fam6) = bgp::families(v, routing);
            if fam4 {
                bgp::render_ha_prepend(v, routing, &mut out);
            }
            bgp::render_filters(routing, fam4, fam6, v.stub, &mut out);
            bgp::render_router(v, routing, &mut out);
        }
        RoutingProtocol::Ospf => ospf::render_router(v, routing, &mut out),
        RoutingProtocol::None => {}
    }
    extra(&mut out, config_extra);
    out
}
