//! OSPFv2: area 0 everywhere, point-to-point on router links, passive on
//! host segments, the loopback advertised; the backup of an HA pair has a
//! higher cost on its segment. IPv6 addresses are assigned but
//! OSPFv3 is not rendered yet.

use super::render::RouterView;
use netloom_model::Routing;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Interface lines, by interface.
pub(crate) fn interface_lines(v: &RouterView, lines: &mut BTreeMap<String, Vec<String>>) {
    for p in v.peers.iter().filter(|p| p.ospf) {
        let l = lines.entry(p.iface.clone()).or_default();
        l.push("ip ospf area 0".into());
        l.push("ip ospf network point-to-point".into());
    }
    for (iface, subnet) in &v.segments {
        if subnet.is_ipv4() {
            let l = lines.entry(iface.clone()).or_default();
            l.push("ip ospf area 0".into());
            l.push("ip ospf passive".into());
        }
    }
    // The backup of an HA pair: a dearer segment, so traffic to it goes
    // through the primary.
    for (iface, _) in v.backup_segments() {
        lines
            .entry(iface.to_string())
            .or_default()
            .push(format!("ip ospf cost {}", super::ha::BACKUP_OSPF_COST));
    }
    if v.lo4.is_some() {
        lines
            .entry("lo".into())
            .or_default()
            .push("ip ospf area 0".into());
    }
}

pub(crate) fn render_router(v: &RouterView, routing: &Routing, out: &mut String) {
    let _ = writeln!(
        out,
        "router ospf\n ospf router-id {}\n maximum-paths {}\nexit\n!",
        v.router_id, routing.maximum_paths
    );
}
