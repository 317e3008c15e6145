//! Address allocation: /31 (/127) per router-router link, /32 (/128)
//! loopback per router, one subnet per host segment, and the addresses of
//! the routers and hosts on each segment.
//!
//! Explicit addresses (see [`super::explicit`]) are collected first: a pool
//! slot that overlaps any of them is never handed out, and an object whose
//! interface already has an explicit address of that family gets nothing
//! from the pool. Pool slots are placed by [`super::slots`], so the result
//! depends only on the identities of the objects, not on input order.

use super::explicit::{Explicit, Iface};
use super::slots;
use super::Shape;
use crate::PlanError;
use netloom_model::{Addressing, Prefix};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(crate) fn bits(p: &Prefix) -> u8 {
    if p.is_ipv4() {
        32
    } else {
        128
    }
}

pub(crate) fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

pub(crate) fn from_u128(v: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

fn overlaps(a: &Prefix, b: &Prefix) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// One pool cut into equal slots.
pub(crate) struct Pool {
    /// The field it came from, for messages (`addressing.p2p`).
    pub field: &'static str,
    pub prefix: Prefix,
    pub slot_len: u8,
    /// What one slot is for, plural (`links`).
    pub what: &'static str,
}

/// IPv6 pools use at most 2^16 slots (65,536 links or loopbacks), from the
/// start of the pool: hashing over a whole /64 would give unreadable
/// addresses (`fd00::1:e1e7:3db4:2cbd:c9a2`).
const MAX_SLOT_BITS_V6: u8 = 16;

impl Pool {
    fn check(&self, want_v4: bool) -> Result<(), PlanError> {
        let bad = |why: String| PlanError::BadPool {
            field: self.field.to_string(),
            pool: self.prefix,
            why,
        };
        if self.prefix.is_ipv4() != want_v4 {
            return Err(bad(format!(
                "is not an {} prefix",
                if want_v4 { "IPv4" } else { "IPv6" }
            )));
        }
        if self.slot_len < self.prefix.len || self.slot_len > bits(&self.prefix) {
            return Err(bad(format!("cannot hold a /{}", self.slot_len)));
        }
        Ok(())
    }

    fn n(&self) -> u128 {
        let bits = self.slot_len - self.prefix.len;
        if self.prefix.is_ipv4() {
            1u128 << bits
        } else {
            1u128 << bits.min(MAX_SLOT_BITS_V6)
        }
    }

    fn shift(&self) -> u32 {
        u32::from(bits(&self.prefix) - self.slot_len)
    }

    /// The network of slot `idx`.
    pub fn slot(&self, idx: u128) -> Prefix {
        let base = to_u128(self.prefix.network().addr);
        let off = idx.checked_shl(self.shift()).unwrap_or(0);
        Prefix {
            addr: from_u128(base + off, self.prefix.is_ipv4()),
            len: self.slot_len,
        }
    }

    /// Slots that overlap an explicit address's network.
    fn blocked(&self, explicit: &[Prefix]) -> Vec<(u128, u128)> {
        let n = self.n();
        let pool = self.prefix.network();
        let base = to_u128(pool.addr);
        let mut out = Vec::new();
        for e in explicit.iter().filter(|e| e.is_ipv4() == pool.is_ipv4()) {
            let e = e.network();
            if e.len <= pool.len {
                if e.contains(&pool) {
                    out.push((0, n));
                }
                continue;
            }
            if !pool.contains(&e) {
                continue;
            }
            let start = (to_u128(e.addr) - base)
                .checked_shr(self.shift())
                .unwrap_or(0);
            let count = if e.len >= self.slot_len {
                1
            } else {
                1u128
                    .checked_shl(u32::from(self.slot_len - e.len))
                    .unwrap_or(u128::MAX)
            };
            out.push((start, start.saturating_add(count)));
        }
        slots::merge(n, out)
    }

    /// A slot for each item (identity), around the explicit addresses.
    pub fn allocate(
        &self,
        items: &[String],
        explicit: &[Prefix],
    ) -> Result<BTreeMap<String, Prefix>, PlanError> {
        let n = self.n();
        let blocked = self.blocked(explicit);
        let room = slots::free_count(n, &blocked);
        if items.len() as u128 > room {
            return Err(PlanError::PoolExhausted {
                field: self.field.to_string(),
                pool: self.prefix,
                room,
                what: self.what,
                need: items.len(),
            });
        }
        Ok(slots::place(n, items, &blocked)
            .into_iter()
            .map(|(id, idx)| (id, self.slot(idx)))
            .collect())
    }

    /// The home slot of an identity (for the stability property).
    #[cfg(test)]
    pub fn home(&self, id: &str) -> Prefix {
        self.slot(slots::home(self.n(), id))
    }
}

/// Everything the pools decided.
#[derive(Debug, Default)]
pub(crate) struct Addresses {
    /// Addresses netloom assigns (not explicit), per interface.
    pub assigned: BTreeMap<Iface, Vec<Prefix>>,
    /// Each segment's subnet, by segment id.
    pub segment_subnet: BTreeMap<String, Prefix>,
}

impl Addresses {
    fn push(&mut self, node: &str, iface: &str, p: Prefix) {
        self.assigned
            .entry((node.to_string(), iface.to_string()))
            .or_default()
            .push(p);
    }
}

pub(crate) fn p2p_pool(a: &Addressing) -> Option<Pool> {
    a.p2p.map(|prefix| Pool {
        field: "addressing.p2p",
        prefix,
        slot_len: 31,
        what: "links",
    })
}

pub(crate) fn p2p6_pool(a: &Addressing) -> Option<Pool> {
    a.p2p6.map(|prefix| Pool {
        field: "addressing.p2p6",
        prefix,
        slot_len: 127,
        what: "links",
    })
}

/// Allocates every pool of `addressing` for the lab's `shape`.
pub(crate) fn allocate(
    addressing: &Addressing,
    shape: &Shape,
    explicit: &Explicit,
    vips: &BTreeMap<String, IpAddr>,
) -> Result<Addresses, PlanError> {
    let lan_len = addressing.lan_len.unwrap_or(24);
    // The vip of an HA pair names its segment's subnet (unless a member's
    // explicit address does): no pool hands that subnet out, and nobody
    // gets the vip.
    let vip_subnet = |vip: IpAddr| {
        Prefix {
            addr: vip,
            len: lan_len.min(if vip.is_ipv4() { 32 } else { 128 }),
        }
        .network()
    };
    let pools: [(Option<Pool>, bool); 5] = [
        (p2p_pool(addressing), true),
        (
            addressing.loopback.map(|prefix| Pool {
                field: "addressing.loopback",
                prefix,
                slot_len: 32,
                what: "routers",
            }),
            true,
        ),
        (
            addressing.lan.map(|prefix| Pool {
                field: "addressing.lan",
                prefix,
                slot_len: lan_len,
                what: "host segments",
            }),
            true,
        ),
        (p2p6_pool(addressing), false),
        (
            addressing.loopback6.map(|prefix| Pool {
                field: "addressing.loopback6",
                prefix,
                slot_len: 128,
                what: "routers",
            }),
            false,
        ),
    ];
    for (pool, v4) in &pools {
        if let Some(pool) = pool {
            pool.check(*v4)?;
        }
    }
    let given: Vec<&Pool> = pools.iter().filter_map(|p| p.0.as_ref()).collect();
    for (i, a) in given.iter().enumerate() {
        for b in &given[i + 1..] {
            if overlaps(&a.prefix, &b.prefix) {
                return Err(PlanError::PoolsOverlap {
                    a: a.field.to_string(),
                    a_pool: a.prefix,
                    b: b.field.to_string(),
                    b_pool: b.prefix,
                });
            }
        }
    }
    let [(p2p, _), (loopback, _), (lan, _), (p2p6, _), (loopback6, _)] = pools;
    let mut all_explicit = explicit.all();
    all_explicit.extend(vips.values().map(|v| vip_subnet(*v)));
    let mut out = Addresses::default();

    // Router-router links: the lower address to the endpoint that sorts
    // first.
    for (pool, v4) in [(p2p, true), (p2p6, false)] {
        let Some(pool) = pool else { continue };
        let has = |node: &str, iface: &str| {
            if v4 {
                explicit.v4_on(node, iface).is_some()
            } else {
                explicit.v6_on(node, iface).is_some()
            }
        };
        let items: Vec<String> = shape
            .p2p
            .iter()
            .filter(|l| {
                !has(l.lo.node.as_str(), l.lo.iface.as_str())
                    && !has(l.hi.node.as_str(), l.hi.iface.as_str())
            })
            .map(|l| l.id.clone())
            .collect();
        let got = pool.allocate(&items, &all_explicit)?;
        for l in &shape.p2p {
            if let Some(net) = got.get(&l.id) {
                let first = to_u128(net.addr);
                for (end, off) in [(&l.lo, 0), (&l.hi, 1)] {
                    let p = Prefix {
                        addr: from_u128(first + off, v4),
                        len: net.len,
                    };
                    out.push(end.node.as_str(), end.iface.as_str(), p);
                }
            }
        }
    }

    // Loopbacks.
    for (pool, v4) in [(loopback, true), (loopback6, false)] {
        let Some(pool) = pool else { continue };
        let items: Vec<String> = shape
            .routers
            .iter()
            .filter(|r| {
                let e = if v4 {
                    explicit.v4_on(r, "lo")
                } else {
                    explicit.v6_on(r, "lo")
                };
                e.is_none()
            })
            .cloned()
            .collect();
        let got = pool.allocate(&items, &all_explicit)?;
        for (router, p) in got {
            out.push(&router, "lo", p);
        }
    }

    // Host segments: a subnet each (unless a member has an explicit IPv4
    // address there), then routers first, hosts after, in name order.
    let mut subnets: BTreeMap<String, Prefix> = BTreeMap::new();
    let mut items = Vec::new();
    for seg in &shape.segments {
        // A member's explicit address names the subnet: routers first.
        let given = seg
            .routers
            .iter()
            .chain(&seg.hosts)
            .find_map(|e| explicit.v4_on(e.node.as_str(), e.iface.as_str()));
        let given = given.or_else(|| vips.get(&seg.id).map(|v| vip_subnet(*v)));
        match given {
            Some(p) => {
                subnets.insert(seg.id.clone(), p.network());
            }
            None => items.push(seg.id.clone()),
        }
    }
    if let Some(pool) = lan {
        subnets.extend(pool.allocate(&items, &all_explicit)?);
    }
    let used: BTreeSet<IpAddr> = all_explicit
        .iter()
        .map(|p| p.addr)
        .chain(vips.values().copied())
        .collect();
    for seg in &shape.segments {
        let Some(subnet) = subnets.get(&seg.id).copied() else {
            continue;
        };
        let want: Vec<_> = seg
            .routers
            .iter()
            .chain(&seg.hosts)
            .filter(|e| explicit.v4_on(e.node.as_str(), e.iface.as_str()).is_none())
            .collect();
        let mut free = usable(subnet).filter(|a| !used.contains(a));
        let mut got = Vec::with_capacity(want.len());
        for end in &want {
            match free.next() {
                Some(a) => got.push((end, a)),
                None => {
                    return Err(PlanError::SegmentFull {
                        segment: seg.id.clone(),
                        subnet,
                        need: want.len(),
                    })
                }
            }
        }
        for (end, a) in got {
            out.push(
                end.node.as_str(),
                end.iface.as_str(),
                Prefix {
                    addr: a,
                    len: subnet.len,
                },
            );
        }
        out.segment_subnet.insert(seg.id.clone(), subnet);
    }
    Ok(out)
}

/// Host addresses of an IPv4 subnet, in order (a /31 has two, a /32 one).
fn usable(subnet: Prefix) -> impl Iterator<Item = IpAddr> {
    let net = to_u128(subnet.network().addr);
    let size = 1u128 << (32 - subnet.len.min(32));
    let (first, last) = if size <= 2 {
        (net, net + size - 1)
    } else {
        (net + 1, net + size - 2)
    };
    (first..=last).map(|v| from_u128(v, true))
}
