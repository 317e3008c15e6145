//! HA gateway pairs: VRRPv3 with FRR's vrrpd over a macvlan.
//!
//! Choices:
//! - A pair serves the switch segment both routers are on (switches joined
//!   by links count as one). With several, the one whose subnet holds the
//!   vip; the vip's own subnet (of `addressing.lan_len`, default /24) is
//!   the segment's subnet unless a member has an explicit address there,
//!   so a user who names the vip knows the subnet.
//! - The VRID of each pair: a slot of 1..=255 placed by the stable hash of
//!   the pair's identity (`r1|r2`), distinct across the lab, so one macvlan
//!   name `vrrp4-<vrid>` never clashes on a router in two pairs.
//! - Priorities: a member's `ha.priority`, else 200 for the member whose
//!   name sorts first and 100 for the other; the higher one is the
//!   primary. Equal priorities are refused (VRRP would break the tie by
//!   address, and the routing preference could point the other way).
//! - The vip lives on the macvlan (MAC 00:00:5e:00:01:<vrid>, bridge mode)
//!   with the segment's prefix length, never on the parent; vrrpd keeps
//!   the backup's macvlan in protodown. Preemption is FRR's default (on).
//! - Routing prefers the primary: the backup prepends its own ASN twice on
//!   the segment (BGP) or raises the segment interface's cost (OSPF).

use super::{slots, Shape};
use crate::PlanError;
use netloom_model::{IfName, NodeKind, Prefix, Topology};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Default VRRP priorities of the primary and the backup.
pub const PRIMARY_PRIORITY: u8 = 200;
pub const BACKUP_PRIORITY: u8 = 100;
/// Default advertisement interval, milliseconds (VRRPv3's 1 s).
pub const ADVERT_MS: u32 = 1000;
/// The OSPF cost of the backup's segment interface.
pub const BACKUP_OSPF_COST: u32 = 1000;

/// One router's part in an HA pair (`netloom inspect`, and what the
/// executor creates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vrrp {
    /// The other router of the pair.
    pub peer: String,
    /// The segment interface (the macvlan's parent).
    pub iface: IfName,
    pub vrid: u8,
    /// The virtual address with the segment's prefix length.
    pub vip: Prefix,
    pub priority: u8,
    pub advert_ms: u32,
    /// The pair's preferred member.
    pub primary: bool,
}

impl Vrrp {
    /// The macvlan that carries the vip (at most 9 characters).
    pub fn macvlan(&self) -> String {
        format!("vrrp4-{}", self.vrid)
    }

    /// The IPv4 virtual MAC of the VRID (RFC 5798).
    pub fn mac(&self) -> [u8; 6] {
        [0x00, 0x00, 0x5e, 0x00, 0x01, self.vrid]
    }
}

/// A pair as declared, before addresses exist.
#[derive(Debug, Clone)]
pub(crate) struct Pair {
    /// `a|b`, names sorted.
    pub id: String,
    pub members: [String; 2],
    /// The segment both serve (a [`super::Segment`] id).
    pub segment: String,
    pub vip: IpAddr,
}

fn err(node: &str, field: &str, why: String) -> PlanError {
    PlanError::Ha {
        node: node.to_string(),
        field: field.to_string(),
        why,
    }
}

/// The pairs of the lab and the segment each serves. `check_ha` has run:
/// every `ha` is on a router whose peer is another router sharing a switch
/// or a host with it.
pub(crate) fn pairs(topo: &Topology, shape: &Shape) -> Result<Vec<Pair>, PlanError> {
    let mut out: BTreeMap<String, Pair> = BTreeMap::new();
    for node in topo.nodes.values().filter(|n| n.kind == NodeKind::Router) {
        let Some(ha) = &node.ha else { continue };
        let (me, peer) = (node.name.as_str(), ha.peer.as_str());
        let members = if me < peer {
            [me.to_string(), peer.to_string()]
        } else {
            [peer.to_string(), me.to_string()]
        };
        let id = format!("{}|{}", members[0], members[1]);
        if let Some(p) = out.get(&id) {
            if p.vip != ha.vip {
                return Err(err(
                    me,
                    "ha.vip",
                    format!(
                        "`{}` differs from `{peer}`'s vip `{}`; both routers of a pair serve one address",
                        ha.vip, p.vip
                    ),
                ));
            }
            continue;
        }
        if !ha.vip.is_ipv4() {
            return Err(err(
                me,
                "ha.vip",
                format!("`{}` is IPv6; HA pairs carry an IPv4 vip", ha.vip),
            ));
        }
        // A router can be in one pair only (one `ha:`); the peer's `ha`,
        // if any, must name this router back.
        if let Some(theirs) = topo.node(peer).and_then(|n| n.ha.as_ref()) {
            if theirs.peer.as_str() != me {
                return Err(err(
                    me,
                    "ha.peer",
                    format!(
                        "`{peer}` names `{}` as its peer, not `{me}`; both routers of a pair name each other",
                        theirs.peer
                    ),
                ));
            }
        }
        let switches = |r: &str| -> BTreeSet<String> {
            shape
                .attached
                .get(r)
                .into_iter()
                .flatten()
                .filter_map(|a| a.strip_prefix("switch:").map(str::to_string))
                .collect()
        };
        let shared: Vec<String> = switches(me)
            .intersection(&switches(peer))
            .cloned()
            .collect();
        if shared.is_empty() {
            return Err(err(
                me,
                "ha.peer",
                format!(
                    "`{peer}` shares only a host with `{me}`; VRRP needs both routers on one switch with the hosts they serve"
                ),
            ));
        }
        let served: Vec<&String> = shared
            .iter()
            .filter(|c| shape.segments.iter().any(|s| &s.id == *c))
            .collect();
        let Some(segment) = served.first() else {
            return Err(err(
                me,
                "ha.peer",
                format!(
                    "the switch `{}` `{me}` shares with `{peer}` has no host on it; an HA pair is a gateway for hosts",
                    shared[0]
                ),
            ));
        };
        out.insert(
            id.clone(),
            Pair {
                id,
                members,
                segment: segment.to_string(),
                vip: ha.vip,
            },
        );
    }
    Ok(out.into_values().collect())
}

/// Per router, its part in its pair, once the segments have subnets.
/// `known` gives every address of an interface.
pub(crate) fn members(
    topo: &Topology,
    shape: &Shape,
    pairs: &[Pair],
    subnets: &BTreeMap<String, Prefix>,
    known: &dyn Fn(&str, &str) -> Vec<Prefix>,
) -> Result<BTreeMap<String, Vrrp>, PlanError> {
    let ids: Vec<String> = pairs.iter().map(|p| p.id.clone()).collect();
    if ids.len() > 255 {
        return Err(err(
            &pairs[255].members[0],
            "ha",
            format!(
                "the lab has {} HA pairs; VRRP has 255 virtual router ids",
                ids.len()
            ),
        ));
    }
    let vrids = slots::place(255, &ids, &[]);
    let mut out = BTreeMap::new();
    for pair in pairs {
        let seg = shape
            .segments
            .iter()
            .find(|s| s.id == pair.segment)
            .expect("pairs() picked an existing segment");
        let first = &pair.members[0];
        let Some(subnet) = subnets.get(&seg.id).copied() else {
            return Err(err(
                first,
                "ha.vip",
                format!("`{}`: segment `{}` has no IPv4 subnet", pair.vip, seg.id),
            ));
        };
        let vip = Prefix {
            addr: pair.vip,
            len: subnet.len,
        };
        let net = subnet.network();
        let last = super::ipam::to_u128(net.addr) + (1u128 << (32 - u32::from(net.len))) - 1;
        if !subnet.contains(&Prefix {
            addr: pair.vip,
            len: 32,
        }) {
            return Err(err(
                first,
                "ha.vip",
                format!(
                    "`{}` is not in the subnet {net} of segment `{}` the pair serves",
                    pair.vip, seg.id
                ),
            ));
        }
        if net.len < 31 && (pair.vip == net.addr || super::ipam::to_u128(pair.vip) == last) {
            return Err(err(
                first,
                "ha.vip",
                format!(
                    "`{}` is the network or broadcast address of {net}",
                    pair.vip
                ),
            ));
        }
        for e in seg.routers.iter().chain(&seg.hosts) {
            if known(e.node.as_str(), e.iface.as_str())
                .iter()
                .any(|p| p.addr == pair.vip)
            {
                return Err(err(
                    first,
                    "ha.vip",
                    format!("`{}` is the address of {e}", pair.vip),
                ));
            }
        }
        let vrid = u8::try_from(vrids[&pair.id] + 1).expect("255 slots");
        let prio = |name: &str, index: usize| -> u8 {
            topo.node(name)
                .and_then(|n| n.ha.as_ref())
                .and_then(|h| h.priority)
                .unwrap_or(if index == 0 {
                    PRIMARY_PRIORITY
                } else {
                    BACKUP_PRIORITY
                })
        };
        let advert = |name: &str| -> Option<u32> {
            topo.node(name)
                .and_then(|n| n.ha.as_ref())
                .and_then(|h| h.advert_ms)
        };
        let (p0, p1) = (prio(first, 0), prio(&pair.members[1], 1));
        if p0 == p1 {
            return Err(err(
                first,
                "ha.priority",
                format!(
                    "{p0} equals `{}`'s; the primary of a pair has the higher priority",
                    pair.members[1]
                ),
            ));
        }
        for (i, name) in pair.members.iter().enumerate() {
            let other = &pair.members[1 - i];
            let ends: Vec<_> = seg
                .routers
                .iter()
                .filter(|r| r.node.as_str() == name)
                .collect();
            // One interface per router on a segment; more would be a loop.
            let Some(end) = ends.first() else {
                return Err(err(
                    name,
                    "ha.peer",
                    format!("`{name}` is not on segment `{}`", seg.id),
                ));
            };
            if out.contains_key(name) {
                return Err(err(
                    name,
                    "ha.peer",
                    format!("`{name}` is in two HA pairs; a router serves one pair"),
                ));
            }
            let priority = if i == 0 { p0 } else { p1 };
            out.insert(
                name.clone(),
                Vrrp {
                    peer: other.clone(),
                    iface: end.iface.clone(),
                    vrid,
                    vip,
                    priority,
                    // Both ends use one interval: the member's own, else
                    // its peer's, else VRRP's default.
                    advert_ms: advert(name).or(advert(other)).unwrap_or(ADVERT_MS),
                    primary: priority == p0.max(p1),
                },
            );
        }
    }
    Ok(out)
}
