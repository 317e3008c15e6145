//! Addresses and ASNs the user gave: collected before anything is
//! allocated, so that pools are allocated around them and never reuse them.
//!
//! Sources: `addresses:` on a node; `ip address` / `ipv6 address` lines in
//! the `interface X` blocks of a router's startup-config (and its
//! `router bgp N`); `ip addr add A/L dev X` commands in a host's `exec`
//! (and whether that `exec` already adds a default route).

use netloom_model::{NodeKind, Prefix, Topology};
use std::collections::{BTreeMap, BTreeSet};

/// (node, interface).
pub(crate) type Iface = (String, String);

#[derive(Debug, Default)]
pub(crate) struct Explicit {
    /// `addresses:` of nodes: netloom applies them.
    pub node_given: BTreeMap<Iface, Vec<Prefix>>,
    /// A router's startup-config: FRR applies them from that text.
    pub config_given: BTreeMap<Iface, Vec<Prefix>>,
    /// A host's exec: its own commands apply them.
    pub exec_given: BTreeMap<Iface, Vec<Prefix>>,
    /// Hosts whose exec adds an IPv4 default route itself.
    pub exec_default: BTreeSet<String>,
    /// `router bgp N` of routers with a startup-config.
    pub config_asn: BTreeMap<String, u32>,
    /// Routing protocols a router's startup-config runs.
    pub config_protocols: BTreeMap<String, (bool, bool)>,
}

impl Explicit {
    pub fn collect(topo: &Topology) -> Explicit {
        let mut out = Explicit::default();
        for node in topo.nodes.values() {
            let name = node.name.to_string();
            for (iface, list) in &node.addresses {
                out.node_given
                    .entry((name.clone(), iface.clone()))
                    .or_default()
                    .extend(list.iter().copied());
            }
            match node.kind {
                NodeKind::Router => {
                    if let Some(text) = node.frr.as_ref().and_then(|f| f.config.as_deref()) {
                        for (iface, p) in config_addresses(text) {
                            out.config_given
                                .entry((name.clone(), iface))
                                .or_default()
                                .push(p);
                        }
                        if let Some(asn) = config_asn(text) {
                            out.config_asn.insert(name.clone(), asn);
                        }
                        let words = |w: &[&str]| {
                            text.lines().any(|l| {
                                let v: Vec<&str> = l.split_whitespace().collect();
                                v.starts_with(w)
                            })
                        };
                        out.config_protocols.insert(
                            name.clone(),
                            (words(&["router", "bgp"]), words(&["router", "ospf"])),
                        );
                    }
                }
                NodeKind::Host => {
                    for cmd in &node.exec {
                        if let Some((iface, p)) = exec_address(cmd) {
                            out.exec_given
                                .entry((name.clone(), iface))
                                .or_default()
                                .push(p);
                        }
                        if exec_default_route(cmd) {
                            out.exec_default.insert(name.clone());
                        }
                    }
                }
                NodeKind::Switch => {}
            }
        }
        out
    }

    /// Every explicit address of one interface, all sources.
    pub fn on(&self, node: &str, iface: &str) -> Vec<Prefix> {
        let key = (node.to_string(), iface.to_string());
        [&self.node_given, &self.config_given, &self.exec_given]
            .iter()
            .filter_map(|m| m.get(&key))
            .flatten()
            .copied()
            .collect()
    }

    pub fn v4_on(&self, node: &str, iface: &str) -> Option<Prefix> {
        self.on(node, iface).into_iter().find(|p| p.is_ipv4())
    }

    pub fn v6_on(&self, node: &str, iface: &str) -> Option<Prefix> {
        self.on(node, iface).into_iter().find(|p| !p.is_ipv4())
    }

    /// Every explicit address of the lab.
    pub fn all(&self) -> Vec<Prefix> {
        [&self.node_given, &self.config_given, &self.exec_given]
            .iter()
            .flat_map(|m| m.values())
            .flatten()
            .copied()
            .collect()
    }
}

/// `(interface, address)` for each `ip address` / `ipv6 address` line of an
/// `interface X` block of an FRR configuration.
pub(crate) fn config_addresses(text: &str) -> Vec<(String, Prefix)> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["interface", name, ..] => current = Some(name.to_string()),
            ["ip" | "ipv6", "address", addr, ..] => {
                if let (Some(iface), Ok(p)) = (&current, addr.parse::<Prefix>()) {
                    out.push((iface.clone(), p));
                }
            }
            ["!" | "exit" | "end", ..] | ["router" | "vrf" | "route-map", ..] => current = None,
            _ => {}
        }
    }
    out
}

/// The ASN of the first `router bgp N` line.
pub(crate) fn config_asn(text: &str) -> Option<u32> {
    text.lines().find_map(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["router", "bgp", asn, ..] => asn.parse().ok(),
            _ => None,
        }
    })
}

/// `ip [-4|-6] addr add A/L dev X` (any abbreviation of `address`; `add`,
/// `replace` or `change`).
pub(crate) fn exec_address(cmd: &str) -> Option<(String, Prefix)> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let mut it = words.iter().skip_while(|w| **w != "ip").skip(1);
    let object = it.find(|w| !w.starts_with('-'))?;
    if object.is_empty() || !"address".starts_with(object) {
        return None;
    }
    if !matches!(it.next(), Some(&"add" | &"replace" | &"change")) {
        return None;
    }
    let rest: Vec<&str> = it.copied().collect();
    let addr = rest.iter().find_map(|w| w.parse::<Prefix>().ok())?;
    let dev = rest.iter().position(|w| *w == "dev")?;
    Some((rest.get(dev + 1)?.to_string(), addr))
}

/// `ip [-4] route add|replace|append default ...` (or `0.0.0.0/0`).
pub(crate) fn exec_default_route(cmd: &str) -> bool {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let Some(start) = words.iter().position(|w| *w == "ip") else {
        return false;
    };
    let mut v6 = false;
    let mut rest = words[start + 1..].iter();
    let object = loop {
        match rest.next() {
            Some(&"-6") => v6 = true,
            Some(w) if w.starts_with('-') => {}
            Some(w) => break *w,
            None => return false,
        }
    };
    if object.is_empty() || !"route".starts_with(object) || v6 {
        return false;
    }
    matches!(rest.next(), Some(&"add" | &"replace" | &"append"))
        && matches!(rest.next(), Some(&"default" | &"0.0.0.0/0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_blocks_give_addresses_and_asn() {
        let text = "hostname r1\ninterface eth1\n ip address 10.9.0.1/31\n ipv6 address 2001:db8::1/127\nexit\n!\ninterface lo\n ip address 10.255.9.9/32\n!\nip route 0.0.0.0/0 blackhole\nrouter bgp 65010\n neighbor 10.9.0.0 remote-as 65011\n";
        let got = config_addresses(text);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, "eth1");
        assert_eq!(got[2], ("lo".into(), "10.255.9.9/32".parse().unwrap()));
        assert_eq!(config_asn(text), Some(65010));
    }

    #[test]
    fn exec_commands_are_read() {
        assert_eq!(
            exec_address("ip addr add 192.168.7.10/24 dev eth1"),
            Some(("eth1".into(), "192.168.7.10/24".parse().unwrap()))
        );
        assert_eq!(
            exec_address("ip -4 a replace 10.1.1.1/24 dev e0").map(|x| x.0),
            Some("e0".into())
        );
        assert_eq!(exec_address("ip link set eth1 up"), None);
        assert!(exec_default_route("ip route add default via 192.168.7.1"));
        assert!(exec_default_route("ip r replace 0.0.0.0/0 via 1.1.1.1"));
        assert!(!exec_default_route(
            "ip -6 route add default via fe80::1 dev eth1"
        ));
        assert!(!exec_default_route("ip route add 10.0.0.0/8 via 1.1.1.1"));
    }
}
