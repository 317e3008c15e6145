//! FRR configuration and daemon selection for routers.

use netloom_model::FRR_DAEMONS;

/// Daemons every router runs whatever its configuration says.
const BASE_DAEMONS: &[&str] = &["zebra", "staticd"];

/// The integrated configuration a router starts with: the user's text as
/// given, or a minimal one naming the router.
pub fn render_frr_config(node: &str, given: Option<&str>) -> String {
    match given {
        Some(text) => {
            let mut text = text.to_string();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text
        }
        None => format!(
            "frr defaults traditional\nhostname {node}\nservice integrated-vtysh-config\n!\n"
        ),
    }
}

/// The daemons a configuration needs, in start order: zebra and staticd,
/// plus one per routing protocol the text configures.
pub fn daemons_for_config(config: &str) -> Vec<String> {
    let mut wanted: Vec<&str> = BASE_DAEMONS.to_vec();
    for line in config.lines() {
        let line = line.trim();
        let words: Vec<&str> = line.split_whitespace().collect();
        let daemon = match words.as_slice() {
            ["router", "bgp", ..] => Some("bgpd"),
            ["router", "ospf", ..] | ["ip", "ospf", ..] => Some("ospfd"),
            ["router", "ospf6", ..] | ["ipv6", "ospf6", ..] => Some("ospf6d"),
            ["router", "rip", ..] | ["ip", "rip", ..] => Some("ripd"),
            ["router", "ripng", ..] | ["ipv6", "ripng", ..] => Some("ripngd"),
            ["router", "isis", ..]
            | ["ip", "router", "isis", ..]
            | ["ipv6", "router", "isis", ..] => Some("isisd"),
            ["router", "openfabric", ..] | ["ip", "router", "openfabric", ..] => Some("fabricd"),
            ["router", "eigrp", ..] => Some("eigrpd"),
            ["router", "babel", ..] => Some("babeld"),
            ["bfd"] | ["bfd", ..] => Some("bfdd"),
            ["router", "pim", ..] | ["ip", "pim", ..] | ["ip", "igmp", ..] => Some("pimd"),
            ["mpls", "ldp", ..] => Some("ldpd"),
            ["vrrp", ..] => Some("vrrpd"),
            ["pbr-map", ..] | ["pbr", ..] => Some("pbrd"),
            _ => None,
        };
        if let Some(d) = daemon {
            if !wanted.contains(&d) {
                wanted.push(d);
            }
        }
    }
    order(&wanted)
}

/// A `daemons` file's list with the base daemons added, in start order.
pub(crate) fn with_base_daemons(list: &[String]) -> Vec<String> {
    let mut wanted: Vec<&str> = BASE_DAEMONS.to_vec();
    for d in list {
        if !wanted.contains(&d.as_str()) {
            wanted.push(d);
        }
    }
    order(&wanted)
}

fn order(wanted: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = FRR_DAEMONS
        .iter()
        .filter(|d| wanted.contains(d))
        .map(|d| d.to_string())
        .collect();
    // Names netloom does not know keep their given order at the end; the
    // executor reports them if the machine's FRR lacks them.
    for d in wanted {
        if !FRR_DAEMONS.contains(d) {
            out.push(d.to_string());
        }
    }
    out
}
