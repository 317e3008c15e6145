//! The patch panel of hot standby routers.
//!
//! A veth link with a `standby` router at one end (or both) is not one
//! veth pair: each end is a pair of its own into the lab's hidden patch
//! namespace (`{prefix}-{lab}.~patch`), where a bridge of the link joins
//! the two. A router's twin gets its own pair for every such link, its
//! patch-side port in the bridge but down. A takeover then only flips
//! ports in the patch namespace: the old router's stop forwarding, the
//! twin's come up. The neighbours keep their interfaces, and no
//! neighbour's namespace sees a link created or deleted.
//!
//! A standby router's interfaces have fixed MAC addresses ([`mac`]), its
//! twin's the same: the neighbours' ARP entries stay right.
//!
//! Names in the patch namespace come from the link's number (`{lab}#{k}`):
//! bridge `p{k}`, the planned ports `p{k}a` and `p{k}b`, and twin `n`'s
//! port `p{k}at{n}` (`b` for the other end).

use crate::{LinkEnd, LinkPlan, Plan, Realisation};
use netloom_model::IfName;

/// What follows the lab in the patch namespace's name (`~` is in no node
/// name).
pub const PATCH_NODE: &str = "~patch";

/// Sysctls set to 1 in the patch namespace.
pub const SYSCTLS: [&str; 2] = [
    "net.ipv6.conf.all.disable_ipv6",
    "net.ipv6.conf.default.disable_ipv6",
];

/// The patch namespace of a lab.
pub fn patch_netns(prefix: &str, lab: &str) -> String {
    format!("{prefix}-{lab}.{PATCH_NODE}")
}

/// Whether a namespace name is a lab's patch namespace.
pub fn is_patch_netns(name: &str) -> bool {
    name.strip_suffix(PATCH_NODE)
        .is_some_and(|rest| rest.ends_with('.'))
}

/// The link's number: `k` of its id `{lab}#{k}` (a link of a plan stored
/// before ids existed has none).
fn number(l: &LinkPlan) -> Option<u64> {
    l.id.rsplit_once('#').and_then(|(_, k)| k.parse().ok())
}

/// The bridge of a patched link in the patch namespace.
pub fn bridge(l: &LinkPlan) -> String {
    format!("p{}", number(l).unwrap_or(0))
}

/// The patch-side port of end `end` (0: `a`, 1: `b`) of a patched link:
/// the planned one, or the one of twin number `twin`.
pub fn port(l: &LinkPlan, end: usize, twin: Option<u64>) -> IfName {
    let side = if end == 0 { 'a' } else { 'b' };
    let name = match twin {
        None => format!("p{}{side}", number(l).unwrap_or(0)),
        Some(n) => format!("p{}{side}t{n}", number(l).unwrap_or(0)),
    };
    IfName::new(name).expect("a link number and a twin number fit an interface name")
}

impl Plan {
    /// The lab's patch namespace.
    pub fn patch_netns(&self) -> String {
        patch_netns(&self.prefix, self.lab.as_str())
    }

    /// Whether a link goes through the patch panel: a veth link with a
    /// standby router at one end.
    pub fn patched(&self, l: &LinkPlan) -> bool {
        matches!(l.realisation, Realisation::Veth)
            && [&l.a, &l.b]
                .iter()
                .any(|e| self.node(e.node.as_str()).is_some_and(|n| n.standby))
    }

    /// The node the patch namespace's own steps name (it is no node): the
    /// first end of the first patched link; `None` without one.
    fn patch_owner(&self) -> Option<&netloom_model::NodeName> {
        self.links
            .iter()
            .find(|l| self.patched(l))
            .map(|l| &l.a.node)
    }

    /// The step that deletes the patch namespace (none without a patched
    /// link).
    pub fn delete_patch_step(&self) -> Option<crate::Step> {
        self.patch_owner().map(|node| crate::Step::DeleteNetns {
            node: node.clone(),
            netns: self.patch_netns(),
        })
    }

    /// The step that creates the patch namespace (none without a patched
    /// link).
    pub fn create_patch_step(&self) -> Option<crate::Step> {
        self.patch_owner().map(|node| crate::Step::CreateNetns {
            node: node.clone(),
            netns: self.patch_netns(),
        })
    }

    /// Whether any link goes through the patch panel.
    pub fn has_patch(&self) -> bool {
        self.links.iter().any(|l| self.patched(l))
    }

    /// The patch-side end of end `end` of a patched link (its planned
    /// port, known by the end's node).
    pub fn patch_end(&self, l: &LinkPlan, end: usize) -> LinkEnd {
        let e = if end == 0 { &l.a } else { &l.b };
        LinkEnd {
            node: e.node.clone(),
            netns: self.patch_netns(),
            iface: port(l, end, None),
        }
    }

    /// The patched links of a node, with the end (0 or 1) it is.
    pub fn patched_links_of<'a>(
        &'a self,
        node: &'a str,
    ) -> impl Iterator<Item = (&'a LinkPlan, usize)> + 'a {
        self.links
            .iter()
            .filter(|l| self.patched(l))
            .filter_map(move |l| {
                if l.a.node.as_str() == node {
                    Some((l, 0))
                } else if l.b.node.as_str() == node {
                    Some((l, 1))
                } else {
                    None
                }
            })
    }
}

/// The number of a standby twin from its namespace name (`…~s{n}`).
pub fn twin_number(twin_netns: &str) -> Option<u64> {
    twin_netns
        .rsplit_once("~s")
        .and_then(|(_, n)| n.parse().ok())
}

/// The fixed MAC address of interface `iface` of standby router `node` of
/// lab `lab` (and of its twins): locally administered, unicast, from a
/// hash of the three names.
pub fn mac(lab: &str, node: &str, iface: &str) -> [u8; 6] {
    // FNV-1a, 64 bits: stable across builds and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in lab
        .bytes()
        .chain([b'/'])
        .chain(node.bytes())
        .chain([b'/'])
        .chain(iface.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64's finalizer: every input bit moves every output byte.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    let b = h.to_be_bytes();
    [0x02, b[0], b[1], b[2], b[3], b[4]]
}
