//! `netloom generate`: topology files for common fabric shapes, with
//! routing intent included (no addresses, no ASNs: the planner allocates).

use clap::{Args, ValueEnum};
use std::fmt::Write;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Protocol {
    Bgp,
    Ospf,
    None,
}

impl Protocol {
    fn as_str(self) -> &'static str {
        match self {
            Protocol::Bgp => "bgp",
            Protocol::Ospf => "ospf",
            Protocol::None => "none",
        }
    }
}

/// A two-tier Clos (leaf-spine) fabric.
#[derive(Args)]
pub struct Clos {
    #[arg(long, default_value_t = 2)]
    pub spines: u32,
    #[arg(long, default_value_t = 4)]
    pub leaves: u32,
    /// Hosts behind each leaf (more than one share a switch).
    #[arg(long, default_value_t = 1)]
    pub hosts_per_leaf: u32,
    #[arg(long, value_enum, default_value = "bgp")]
    pub protocol: Protocol,
    /// BGP keepalive and hold time in seconds, `KEEPALIVE/HOLD` (default
    /// 3/9, FRR's datacenter timers). Longer ones keep the sessions of a
    /// large fabric up while its routers start on a few CPUs.
    #[arg(long, value_name = "KEEPALIVE/HOLD")]
    pub timers: Option<String>,
    /// Lab name.
    #[arg(long, default_value = "clos")]
    pub name: String,
}

/// Renders the Clos topology file.
pub fn clos(c: &Clos) -> Result<String, String> {
    if c.spines == 0 || c.leaves == 0 {
        return Err("a Clos needs at least one spine and one leaf".into());
    }
    if c.spines + c.leaves > 60_000 {
        return Err("more than 60000 routers: the p2p pool would not hold the links".into());
    }
    netloom_model::LabName::new(c.name.clone()).map_err(|e| e.to_string())?;
    let timers = match (&c.timers, c.protocol) {
        (None, _) => (3, 9),
        (Some(t), Protocol::Bgp) => parse_timers(t)?,
        (Some(_), _) => {
            return Err("--timers is a BGP setting; this fabric runs another protocol".into())
        }
    };
    let mut y = String::new();
    let w = &mut y;
    let _ = writeln!(
        w,
        "# netloom generate clos --spines {} --leaves {} --hosts-per-leaf {} --protocol {}{}",
        c.spines,
        c.leaves,
        c.hosts_per_leaf,
        c.protocol.as_str(),
        c.timers
            .as_ref()
            .map(|_| format!(" --timers {}/{}", timers.0, timers.1))
            .unwrap_or_default()
    );
    let _ = writeln!(
        w,
        "# No addresses and no ASNs: netloom allocates them from the pools below."
    );
    let _ = writeln!(w, "name: {}", c.name);
    let _ = writeln!(w, "addressing:");
    let _ = writeln!(w, "  p2p: 10.0.0.0/16");
    let _ = writeln!(w, "  loopback: 10.255.0.0/16");
    let _ = writeln!(w, "  lan: 172.16.0.0/12");
    let _ = writeln!(w, "routing:");
    let _ = writeln!(w, "  protocol: {}", c.protocol.as_str());
    if c.protocol == Protocol::Bgp {
        let (ka, hold) = timers;
        let _ = writeln!(w, "  timers: {{keepalive: {ka}, hold: {hold}}}");
    }
    let _ = writeln!(w, "topology:");
    let _ = writeln!(w, "  nodes:");
    for s in 1..=c.spines {
        let _ = writeln!(w, "    spine{s}: {{kind: router, labels: {{role: spine}}}}");
    }
    // Leaves carry no traffic between spines: each advertises only its own
    // prefixes, so spines hold one path per prefix instead of one per leaf.
    let leaf_routing = if c.protocol == Protocol::Bgp {
        ", routing: {stub: true}"
    } else {
        ""
    };
    for l in 1..=c.leaves {
        let _ = writeln!(
            w,
            "    leaf{l}: {{kind: router, labels: {{role: leaf}}{leaf_routing}}}"
        );
        if c.hosts_per_leaf > 1 {
            let _ = writeln!(w, "    sw{l}: {{kind: switch}}");
        }
        for h in 1..=c.hosts_per_leaf {
            let _ = writeln!(w, "    h{l}-{h}: {{kind: host}}");
        }
    }
    let _ = writeln!(w, "  links:");
    for s in 1..=c.spines {
        for l in 1..=c.leaves {
            let _ = writeln!(
                w,
                "    - endpoints: [\"spine{s}:eth{l}\", \"leaf{l}:eth{s}\"]"
            );
        }
    }
    let down = c.spines + 1;
    for l in 1..=c.leaves {
        if c.hosts_per_leaf > 1 {
            let _ = writeln!(w, "    - endpoints: [\"leaf{l}:eth{down}\", \"sw{l}:p0\"]");
            for h in 1..=c.hosts_per_leaf {
                let _ = writeln!(w, "    - endpoints: [\"h{l}-{h}:eth1\", \"sw{l}:p{h}\"]");
            }
        } else if c.hosts_per_leaf == 1 {
            let _ = writeln!(
                w,
                "    - endpoints: [\"leaf{l}:eth{down}\", \"h{l}-1:eth1\"]"
            );
        }
    }
    Ok(y)
}

/// `KEEPALIVE/HOLD` in seconds, with the rules of a topology file's
/// `routing.timers`.
fn parse_timers(text: &str) -> Result<(u16, u16), String> {
    let bad =
        || format!("--timers {text:?}: expected KEEPALIVE/HOLD in seconds, like 3/9 or 20/60");
    let (ka, hold) = text.split_once('/').ok_or_else(bad)?;
    let ka: u16 = ka.trim().parse().map_err(|_| bad())?;
    let hold: u16 = hold.trim().parse().map_err(|_| bad())?;
    netloom_spec::spec::check_timers(ka, hold).map_err(|e| {
        let hint = if hold >= 3 && hold <= ka {
            format!(
                " (usually three keepalives: {ka}/{})",
                netloom_spec::spec::usual_hold(ka)
            )
        } else {
            String::new()
        };
        format!("--timers {text}: {e}{hint}")
    })?;
    Ok((ka, hold))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(spines: u32, leaves: u32, hosts: u32) -> Clos {
        Clos {
            spines,
            leaves,
            hosts_per_leaf: hosts,
            protocol: Protocol::Bgp,
            timers: None,
            name: "clos".into(),
        }
    }

    #[test]
    fn clos_files_load_with_the_right_shape() {
        for (s, l, h) in [(2, 4, 1), (1, 1, 0), (4, 8, 3)] {
            let text = clos(&c(s, l, h)).unwrap();
            let loaded = netloom_spec::load_str(&text, "clos.yml", std::path::Path::new("/"))
                .unwrap_or_else(|d| panic!("{d}\n{text}"));
            let t = loaded.topology;
            let switches = if h > 1 { l } else { 0 };
            assert_eq!(t.nodes.len() as u32, s + l + l * h + switches);
            let host_links = if h > 1 { l * (h + 1) } else { l * h };
            assert_eq!(t.links.len() as u32, s * l + host_links);
            assert!(loaded.warnings.is_empty());
        }
    }

    #[test]
    fn timers_reach_the_file_and_bad_ones_are_refused() {
        let mut g = c(2, 4, 1);
        g.timers = Some("20/60".into());
        let text = clos(&g).unwrap();
        assert!(text.contains("timers: {keepalive: 20, hold: 60}"), "{text}");
        netloom_spec::load_str(&text, "clos.yml", std::path::Path::new("/"))
            .unwrap_or_else(|d| panic!("{d}\n{text}"));
        assert!(clos(&c(2, 4, 1))
            .unwrap()
            .contains("timers: {keepalive: 3, hold: 9}"));
        for (bad, says) in [
            ("20", "KEEPALIVE/HOLD"),
            ("a/9", "KEEPALIVE/HOLD"),
            ("0/9", "at least 1 second"),
            ("1/2", "at least 3 seconds"),
            ("10/10", "longer than the keepalive"),
            ("3/70000", "KEEPALIVE/HOLD"),
        ] {
            g.timers = Some(bad.into());
            let err = clos(&g).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        g.timers = Some("3/9".into());
        g.protocol = Protocol::Ospf;
        assert!(clos(&g).unwrap_err().contains("BGP setting"));
    }

    #[test]
    fn degenerate_shapes_are_refused() {
        assert!(clos(&c(0, 4, 1)).is_err());
        let mut bad = c(1, 1, 1);
        bad.name = "no good".into();
        assert!(clos(&bad).is_err());
    }
}
