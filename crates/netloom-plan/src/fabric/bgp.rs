//! eBGP: the fabric filter and the `router bgp` block.
//!
//! Choices (FRR 8.4 syntax):
//! - `no bgp default ipv4-unicast`, and every neighbour is activated
//!   explicitly in the address family it carries: one rule for IPv4, IPv6,
//!   numbered and unnumbered sessions.
//! - Loopbacks and host segments are advertised with `network` statements,
//!   not `redistribute connected`, which would also leak the /31s of the
//!   links; `network` only advertises what is in the RIB (FRR's import
//!   check), so nothing is announced before its interface is up.
//! - Every neighbour gets the same filter both ways (`NETLOOM-IN` in,
//!   `NETLOOM-OUT` out, both backed by the prefix list `NETLOOM-OUT`): no
//!   default route and nothing shorter than `min_prefix_len`. Inbound is
//!   defence in depth: a neighbour whose configuration a user changed
//!   still cannot push a default into the fabric.
//! - The backup of an HA pair advertises the pair's segment with its own
//!   ASN prepended twice (`route-map NETLOOM-OUT permit 5`, matching the
//!   prefix list `NETLOOM-HA`, before the filter's `permit 10`), so the
//!   fabric prefers the primary. Only segments the fabric filter permits
//!   are listed, so the entry cannot let through what the filter denies.
//! - `timers bgp` (global) rather than per neighbour, so that dynamic
//!   neighbours of a hub get them too.
//! - `update-delay` (`routing.update_delay`, on by default): a bgpd that
//!   has just started stays read-only (no best paths, no updates) until its
//!   peers are up and have sent their End-of-RIB (or a first keepalive; a
//!   peer that has just started itself counts once its session is up), so
//!   a fabric that starts at once exchanges each table once instead of
//!   reacting to every session that comes up.

use super::render::{PeerView, RouterView};
use netloom_model::{BgpPeering, Prefix, Routing};
use std::fmt::Write;
use std::net::IpAddr;

/// Permit or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Permit,
    Deny,
}

/// One `ip prefix-list` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixListEntry {
    pub seq: u32,
    pub action: Action,
    pub prefix: Prefix,
    pub ge: Option<u8>,
    pub le: Option<u8>,
}

impl PrefixListEntry {
    /// FRR's matching rule: `p` lies inside the entry's prefix and its
    /// length is in range (exactly the entry's length without `ge`/`le`;
    /// `ge` alone runs to the family maximum; `le` alone starts at the
    /// entry's length).
    pub fn matches(&self, p: &Prefix) -> bool {
        if p.is_ipv4() != self.prefix.is_ipv4() || !self.prefix.contains(p) {
            return false;
        }
        let max = if p.is_ipv4() { 32 } else { 128 };
        let (lo, hi) = match (self.ge, self.le) {
            (None, None) => (self.prefix.len, self.prefix.len),
            (Some(g), None) => (g, max),
            (None, Some(l)) => (self.prefix.len, l),
            (Some(g), Some(l)) => (g, l),
        };
        (lo..=hi).contains(&p.len)
    }

    /// The configuration line.
    pub fn render(&self, name: &str) -> String {
        let family = if self.prefix.is_ipv4() { "ip" } else { "ipv6" };
        let action = match self.action {
            Action::Permit => "permit",
            Action::Deny => "deny",
        };
        let mut line = format!(
            "{family} prefix-list {name} seq {} {action} {}",
            self.seq, self.prefix
        );
        if let Some(g) = self.ge {
            let _ = write!(line, " ge {g}");
        }
        if let Some(l) = self.le {
            let _ = write!(line, " le {l}");
        }
        line
    }
}

/// Whether a prefix list permits `p`: the first matching entry decides;
/// no match is a deny (FRR's implicit deny).
pub fn permits(entries: &[PrefixListEntry], p: &Prefix) -> bool {
    entries
        .iter()
        .find(|e| e.matches(p))
        .is_some_and(|e| e.action == Action::Permit)
}

/// The fabric filter of one family: deny the default route, deny anything
/// shorter than `min_prefix_len`, permit the rest.
pub fn fabric_filter(v4: bool, min_prefix_len: u8) -> Vec<PrefixListEntry> {
    let max: u8 = if v4 { 32 } else { 128 };
    let any = Prefix {
        addr: if v4 {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        },
        len: 0,
    };
    let min = min_prefix_len.min(max);
    let mut out = vec![PrefixListEntry {
        seq: 5,
        action: Action::Deny,
        prefix: any,
        ge: None,
        le: None,
    }];
    if min > 1 {
        out.push(PrefixListEntry {
            seq: 10,
            action: Action::Deny,
            prefix: any,
            ge: Some(1),
            le: Some(min - 1),
        });
    }
    out.push(PrefixListEntry {
        seq: 15,
        action: Action::Permit,
        prefix: any,
        ge: None,
        le: Some(max),
    });
    out
}

/// The prefix lists and route maps of the families in use. A stub router
/// also sends only what it originates itself (an empty AS path) or what its
/// peers originate (one AS): it never carries traffic between two of its
/// peers' networks, yet its peers still reach each other's loopbacks.
pub(crate) fn render_filters(routing: &Routing, v4: bool, v6: bool, stub: bool, out: &mut String) {
    if stub && (v4 || v6) {
        out.push_str(
            "bgp as-path access-list NETLOOM-OWN seq 5 permit ^$\nbgp as-path access-list NETLOOM-OWN seq 10 permit ^[0-9]+$\n!\n",
        );
    }
    for (on, is_v4, list, suffix) in [
        (v4, true, "NETLOOM-OUT", ""),
        (v6, false, "NETLOOM-OUT6", "6"),
    ] {
        if !on {
            continue;
        }
        for e in fabric_filter(is_v4, routing.min_prefix_len) {
            let _ = writeln!(out, "{}", e.render(list));
        }
        out.push_str("!\n");
        let family = if is_v4 { "ip" } else { "ipv6" };
        for dir in ["IN", "OUT"] {
            let own = if stub && dir == "OUT" {
                "\n match as-path NETLOOM-OWN"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "route-map NETLOOM-{dir}{suffix} permit 10\n match {family} address prefix-list {list}{own}\nexit\n!"
            );
        }
    }
}

/// The backup of an HA pair: the prefix list of its HA segments and the
/// prepend entry of `NETLOOM-OUT` (rendered before [`render_filters`]).
pub(crate) fn render_ha_prepend(v: &RouterView, routing: &Routing, out: &mut String) {
    let filter = fabric_filter(true, routing.min_prefix_len);
    let mut nets: Vec<Prefix> = v
        .backup_segments()
        .map(|(_, net)| net)
        .filter(|net| net.is_ipv4() && permits(&filter, net))
        .collect();
    nets.sort_by_key(|n| (super::ipam::to_u128(n.addr), n.len));
    nets.dedup();
    if nets.is_empty() {
        return;
    }
    for (i, net) in nets.iter().enumerate() {
        let _ = writeln!(
            out,
            "ip prefix-list NETLOOM-HA seq {} permit {net}",
            5 * (i + 1)
        );
    }
    let _ = writeln!(
        out,
        "!\nroute-map NETLOOM-OUT permit 5\n match ip address prefix-list NETLOOM-HA\n set as-path prepend {0} {0}\nexit\n!",
        v.asn
    );
}

/// The networks a router advertises in one family.
fn networks(v: &RouterView, v4: bool) -> Vec<Prefix> {
    let mut out: Vec<Prefix> = Vec::new();
    let lo = if v4 { v.lo4 } else { v.lo6 };
    out.extend(lo.map(|p| p.network()));
    for (_, subnet) in &v.segments {
        if subnet.is_ipv4() == v4 {
            out.push(subnet.network());
        }
    }
    if v4 && v.originate_default {
        out.push(Prefix {
            addr: std::net::Ipv4Addr::UNSPECIFIED.into(),
            len: 0,
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(*p));
    out
}

fn peer_addr(p: &PeerView, v4: bool) -> Option<IpAddr> {
    if v4 {
        p.peer_v4
    } else {
        p.peer_v6
    }
}

/// Which families the router's BGP carries: (IPv4, IPv6).
pub(crate) fn families(v: &RouterView, routing: &Routing) -> (bool, bool) {
    let unnumbered = routing.peering == BgpPeering::Interface;
    let fam = |v4: bool| {
        !networks(v, v4).is_empty()
            || v.peers.iter().any(|p| {
                p.bgp
                    && (if unnumbered {
                        v4 || v.v6
                    } else {
                        peer_addr(p, v4).is_some()
                    })
            })
    };
    (fam(true), fam(false))
}

/// The `router bgp` block.
pub(crate) fn render_router(v: &RouterView, routing: &Routing, out: &mut String) {
    let unnumbered = routing.peering == BgpPeering::Interface;
    let (fam4, fam6) = families(v, routing);
    let _ = writeln!(out, "router bgp {}", v.asn);
    let _ = writeln!(out, " bgp router-id {}", v.router_id);
    out.push_str(" no bgp ebgp-requires-policy\n");
    out.push_str(" no bgp default ipv4-unicast\n");
    out.push_str(" bgp bestpath as-path multipath-relax\n");
    if let Some((ka, hold)) = routing.timers {
        let _ = writeln!(out, " timers bgp {ka} {hold}");
    }
    if let Some(d) = routing.update_delay {
        let _ = writeln!(out, " update-delay {} {}", d.max, d.establish_wait);
    }
    // A hub does not configure the neighbours that dial it: they are
    // accepted from its listen ranges. (Unnumbered sessions need no
    // addresses, so a hub with `peering: interface` lists them all.)
    let dynamic = v.peers.iter().filter(|p| p.bgp && !p.dial).count();
    let mut groups: [(bool, &str); 2] = [(false, "HUBPEERS"), (false, "HUBPEERS6")];
    if !unnumbered && dynamic > 0 {
        for (i, ranges) in [&v.listen4, &v.listen6].into_iter().enumerate() {
            if ranges.is_empty() {
                continue;
            }
            let name = groups[i].1;
            groups[i].0 = true;
            let _ = writeln!(out, " neighbor {name} peer-group");
            let _ = writeln!(out, " neighbor {name} remote-as external");
            for r in ranges {
                let _ = writeln!(out, " bgp listen range {r} peer-group {name}");
            }
        }
        if dynamic > 100 {
            let _ = writeln!(out, " bgp listen limit {}", dynamic.min(65535));
        }
    }
    for p in v.peers.iter().filter(|p| p.bgp && (p.dial || unnumbered)) {
        if unnumbered {
            let _ = writeln!(out, " neighbor {} interface remote-as external", p.iface);
            let _ = writeln!(
                out,
                " neighbor {} description {}:{}",
                p.iface, p.peer, p.peer_iface
            );
            continue;
        }
        for a in [p.peer_v4, p.peer_v6].into_iter().flatten() {
            let _ = writeln!(out, " neighbor {a} remote-as {}", p.peer_asn);
            let _ = writeln!(out, " neighbor {a} description {}:{}", p.peer, p.peer_iface);
        }
    }
    for (on, v4) in [(fam4, true), (fam6, false)] {
        if !on {
            continue;
        }
        let (family, suffix, group) = if v4 {
            ("ipv4", "", groups[0])
        } else {
            ("ipv6", "6", groups[1])
        };
        out.push_str(" !\n");
        let _ = writeln!(out, " address-family {family} unicast");
        for n in networks(v, v4) {
            let _ = writeln!(out, "  network {n}");
        }
        let mut names: Vec<String> = Vec::new();
        if group.0 {
            names.push(group.1.to_string());
        }
        for p in v.peers.iter().filter(|p| p.bgp && (p.dial || unnumbered)) {
            if unnumbered {
                if v4 || v.v6 {
                    names.push(p.iface.clone());
                }
            } else if let Some(a) = peer_addr(p, v4) {
                names.push(a.to_string());
            }
        }
        for n in names {
            let _ = writeln!(out, "  neighbor {n} activate");
            let _ = writeln!(out, "  neighbor {n} route-map NETLOOM-IN{suffix} in");
            let _ = writeln!(out, "  neighbor {n} route-map NETLOOM-OUT{suffix} out");
        }
        let _ = writeln!(out, "  maximum-paths {}", routing.maximum_paths);
        out.push_str(" exit-address-family\n");
    }
    out.push_str("exit\n!\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    #[test]
    fn the_filter_denies_default_and_short_prefixes() {
        let f = fabric_filter(true, 8);
        assert!(!permits(&f, &p("0.0.0.0/0")));
        assert!(!permits(&f, &p("10.0.0.0/7")));
        assert!(!permits(&f, &p("128.0.0.0/1")));
        assert!(permits(&f, &p("10.0.0.0/8")));
        assert!(permits(&f, &p("192.168.1.0/24")));
        assert!(permits(&f, &p("10.255.0.7/32")));
        assert_eq!(
            f.iter()
                .map(|e| e.render("NETLOOM-OUT"))
                .collect::<Vec<_>>(),
            [
                "ip prefix-list NETLOOM-OUT seq 5 deny 0.0.0.0/0",
                "ip prefix-list NETLOOM-OUT seq 10 deny 0.0.0.0/0 ge 1 le 7",
                "ip prefix-list NETLOOM-OUT seq 15 permit 0.0.0.0/0 le 32",
            ]
        );
    }

    #[test]
    fn min_prefix_len_one_keeps_only_the_default_rule() {
        let f = fabric_filter(true, 1);
        assert_eq!(f.len(), 2);
        assert!(!permits(&f, &p("0.0.0.0/0")));
        assert!(permits(&f, &p("128.0.0.0/1")));
        let f = fabric_filter(true, 24);
        assert!(!permits(&f, &p("10.1.0.0/23")));
        assert!(permits(&f, &p("10.1.0.0/24")));
    }

    #[test]
    fn the_v6_filter_has_the_same_shape() {
        let f = fabric_filter(false, 8);
        assert!(!permits(&f, &p("::/0")));
        assert!(!permits(&f, &p("2000::/3")));
        assert!(permits(&f, &p("2001:db8::1/128")));
        assert!(!permits(&f, &p("10.0.0.0/24")), "families do not mix");
        assert_eq!(
            f[2].render("NETLOOM-OUT6"),
            "ipv6 prefix-list NETLOOM-OUT6 seq 15 permit ::/0 le 128"
        );
    }

    #[test]
    fn exact_entries_match_one_length_only() {
        let e = PrefixListEntry {
            seq: 1,
            action: Action::Permit,
            prefix: p("10.0.0.0/8"),
            ge: None,
            le: None,
        };
        assert!(e.matches(&p("10.0.0.0/8")));
        assert!(!e.matches(&p("10.1.0.0/16")));
        let e = PrefixListEntry { ge: Some(16), ..e };
        assert!(e.matches(&p("10.1.0.0/16")) && e.matches(&p("10.1.1.1/32")));
        assert!(!e.matches(&p("10.0.0.0/8")) && !e.matches(&p("11.0.0.0/16")));
    }
}
