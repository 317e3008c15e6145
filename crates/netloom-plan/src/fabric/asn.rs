//! Router ids and AS numbers.
//!
//! Every router gets a unique 24-bit id in `1..=2^24-1`, placed by a stable
//! hash of its name (see [`super::slots`]). Its ASN is `4_200_000_000 + id`
//! (the 4-byte private range) unless `routing.asn` on the node, or the
//! `router bgp N` of its startup-config, gives one; its router-id is the id
//! as a dotted quad (`0.x.y.z`) or, with `router_id: loopback`, its IPv4
//! loopback. An explicit ASN inside the private range reserves the id it
//! stands for, so no allocated ASN equals an explicit one.

use super::explicit::Explicit;
use super::slots;
use crate::PlanError;
use netloom_model::{Prefix, Topology};
use std::collections::BTreeMap;

/// First ASN of the allocated range (`4_200_000_000 + id`, id >= 1).
pub const ASN_BASE: u32 = 4_200_000_000;

/// Number of 24-bit ids (0 is not one).
const IDS: u128 = (1 << 24) - 1;

#[derive(Debug, Default)]
pub(crate) struct Ids {
    /// 24-bit id per router.
    pub id: BTreeMap<String, u32>,
    /// Effective ASN per router.
    pub asn: BTreeMap<String, u32>,
}

/// The explicit ASN of a router, if any: `routing.asn`, else its
/// startup-config's `router bgp N`.
fn explicit_asn(topo: &Topology, explicit: &Explicit, router: &str) -> Option<u32> {
    topo.node(router)
        .and_then(|n| n.routing.as_ref())
        .and_then(|r| r.asn)
        .or_else(|| explicit.config_asn.get(router).copied())
}

pub(crate) fn allocate(
    topo: &Topology,
    routers: &[String],
    explicit: &Explicit,
) -> Result<Ids, PlanError> {
    let reserved: Vec<(u128, u128)> = routers
        .iter()
        .filter_map(|r| explicit_asn(topo, explicit, r))
        .filter(|asn| (ASN_BASE + 1..=ASN_BASE + IDS as u32).contains(asn))
        .map(|asn| {
            let idx = u128::from(asn - ASN_BASE - 1);
            (idx, idx + 1)
        })
        .collect();
    let blocked = slots::merge(IDS, reserved);
    let room = slots::free_count(IDS, &blocked);
    if routers.len() as u128 > room {
        return Err(PlanError::PoolExhausted {
            field: "routing".into(),
            pool: Prefix {
                addr: std::net::Ipv4Addr::UNSPECIFIED.into(),
                len: 8,
            },
            room,
            what: "router ids",
            need: routers.len(),
        });
    }
    let placed = slots::place(IDS, routers, &blocked);
    let mut out = Ids::default();
    for (router, idx) in placed {
        let id = idx as u32 + 1;
        let asn = explicit_asn(topo, explicit, &router).unwrap_or(ASN_BASE + id);
        out.id.insert(router.clone(), id);
        out.asn.insert(router, asn);
    }
    Ok(out)
}

/// The id as a dotted quad: `0.x.y.z`.
pub(crate) fn id_quad(id: u32) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(id)
}
