//! Stable placement of named objects into numbered slots.
//!
//! Each object (a router, a link, a segment) has an identity string. Its
//! *home* slot is a stable hash of that identity modulo the number of slots;
//! objects are placed in `(home, identity)` order, each at its home or, when
//! that is taken or blocked, at the next free slot (linear probing, wrapping
//! at the end). Nothing depends on the order of the input.
//!
//! Stability: adding one object whose home slot is free in the old
//! placement moves no other object. (Every object placed before it sees the
//! same table; every object placed after it never probed through that slot
//! in the old placement, or it would have taken it, so it sees the same
//! occupancy at every step too.) When the new object's home slot is
//! occupied, it can push later objects of the same probe run one slot on:
//! that happens with a probability about equal to the pool's load factor.

use std::collections::{BTreeMap, BTreeSet};

/// FNV-1a (64 bit) followed by murmur3's `fmix64` finaliser, so that the
/// low bits (used by small moduli) mix well. Written out: std's
/// `DefaultHasher` may change between Rust releases.
pub(crate) fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// The home slot of `id` among `n` slots.
pub(crate) fn home(n: u128, id: &str) -> u128 {
    u128::from(stable_hash(id)) % n
}

/// Sorts and merges `[start, end)` ranges, clamped to `0..n`.
pub(crate) fn merge(n: u128, mut ranges: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    ranges.retain(|r| r.0 < r.1 && r.0 < n);
    for r in &mut ranges {
        r.1 = r.1.min(n);
    }
    ranges.sort();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
            _ => out.push(r),
        }
    }
    out
}

/// Slots of `0..n` outside the (merged) blocked ranges.
pub(crate) fn free_count(n: u128, blocked: &[(u128, u128)]) -> u128 {
    n - blocked.iter().map(|r| r.1 - r.0).sum::<u128>()
}

fn blocked_at(blocked: &[(u128, u128)], idx: u128) -> Option<u128> {
    let i = blocked.partition_point(|r| r.0 <= idx);
    (i > 0 && idx < blocked[i - 1].1).then(|| blocked[i - 1].1)
}

/// Places every item; the caller has checked that
/// `items.len() <= free_count(n, blocked)` (`blocked` merged).
pub(crate) fn place(n: u128, items: &[String], blocked: &[(u128, u128)]) -> BTreeMap<String, u128> {
    debug_assert!(items.len() as u128 <= free_count(n, blocked));
    let mut order: Vec<(u128, &String)> = items.iter().map(|id| (home(n, id), id)).collect();
    order.sort();
    let mut taken = BTreeSet::new();
    let mut out = BTreeMap::new();
    for (h, id) in order {
        let mut idx = h;
        loop {
            if let Some(end) = blocked_at(blocked, idx) {
                idx = if end >= n { 0 } else { end };
            } else if taken.contains(&idx) {
                idx = if idx + 1 >= n { 0 } else { idx + 1 };
            } else {
                break;
            }
        }
        taken.insert(idx);
        out.insert(id.clone(), idx);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fixed() {
        // Pinned: a change here renumbers every lab.
        assert_eq!(stable_hash(""), 0xefd01f60ba992926);
        assert_eq!(stable_hash("leaf1"), 0x2407981577ad863e);
    }

    #[test]
    fn placement_skips_blocked_and_wraps() {
        let items: Vec<String> = (0..8).map(|i| format!("x{i}")).collect();
        let blocked = merge(10, vec![(0, 1), (5, 7)]);
        assert_eq!(free_count(10, &blocked), 7);
        let got = place(10, &items[..7], &blocked);
        let mut slots: Vec<u128> = got.values().copied().collect();
        slots.sort();
        assert_eq!(slots, [1, 2, 3, 4, 7, 8, 9]);
    }
}
