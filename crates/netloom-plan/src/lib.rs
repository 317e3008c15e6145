//! The pure planner: [`Topology`] in, [`Plan`] and [`Step`]s out.
//!
//! [`plan`] decides every name the kernel will see (namespace names, the
//! FRR pathspace, the bridge), which FRR daemons each router runs and with
//! what configuration, and which sysctls apply. [`Plan::phases`] turns a plan
//! into ordered [`Phase`]s of independent [`Step`]s that an executor applies
//! (steps of one phase may run in parallel). Every step has an inverse
//! ([`Step::inverse`]) so a failed deploy can be undone in reverse.
//!
//! When the topology has `addressing:` or `routing:`, [`fabric`] also
//! decides addresses (pools cut into slots placed by a stable hash),
//! 24-bit router ids and ASNs, and renders each router's FRR configuration
//! (eBGP or OSPF) and each host's address and default route; the result is
//! on [`NodePlan::fabric`].
//!
//! No I/O, no clock, no randomness: the same topology and options always give
//! the same plan. The ownership mark of every kernel object is its name:
//! `{prefix}-{lab}.{node}` for namespaces and FRR pathspaces (see
//! [`netns_name`] and [`parse_netns_name`]).

use netloom_model::{IfName, LabName, NodeKind, NodeName, Prefix, Topology};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub mod fabric;
mod frr;
pub mod geo;
mod links;
pub mod patch;
pub mod transition;

pub use links::{check_impairments, realise, Realisation, WireProps, MAX_DELAY_NS};

pub use fabric::NodeFabric;
pub use frr::{daemons_for_config, render_frr_config};
pub use patch::{is_patch_netns, patch_netns, PATCH_NODE};
pub use transition::{rebuild, rebuild_patch, transition, Transition};

/// The name of the bridge inside every switch namespace.
pub const SWITCH_BRIDGE: &str = "br0";

/// Default ownership prefix of kernel objects.
pub const DEFAULT_PREFIX: &str = "nl";

/// Errors of the planner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("ownership prefix `{0}` must be 1-8 lowercase letters or digits")]
    BadPrefix(String),
    #[error("link {index} names node `{node}`, which is not in the topology")]
    MissingNode { index: usize, node: String },
    #[error(
        "link {index} ({link}) is `mode: veth` but has impairments ({what}); a kernel veth pair cannot delay, drop or shape packets: remove `mode: veth` (or set `mode: emulated`) to get netloom's emulated wire"
    )]
    VethImpaired {
        index: usize,
        link: String,
        what: String,
    },
    #[error(
        "link {index} ({link}) is `mode: veth` and `state: down`; a link that starts down needs netloom's wire: remove `mode: veth`"
    )]
    VethDown { index: usize, link: String },
    #[error("{field}: {pool} has room for {room} {what}, the lab has {need}")]
    PoolExhausted {
        field: String,
        pool: Prefix,
        room: u128,
        what: &'static str,
        need: usize,
    },
    #[error("{field}: {pool} {why}")]
    BadPool {
        field: String,
        pool: Prefix,
        why: String,
    },
    #[error("{a} ({a_pool}) overlaps {b} ({b_pool}); pools must be disjoint")]
    PoolsOverlap {
        a: String,
        a_pool: Prefix,
        b: String,
        b_pool: Prefix,
    },
    #[error(
        "addressing.lan_len: segment {segment} ({subnet}) has room for fewer addresses than its {need} routers and hosts"
    )]
    SegmentFull {
        segment: String,
        subnet: Prefix,
        need: usize,
    },
    #[error(
        "routers `{a}` and `{b}` are linked and share ASN {asn} (routing.asn); iBGP is not supported: give one of them another ASN"
    )]
    AsnCollision { a: String, b: String, asn: u32 },
    #[error("node `{node}`: ha.peer `{peer}` {why}")]
    HaPeer {
        node: String,
        peer: String,
        why: String,
    },
    #[error("node `{node}`: {field} {why}")]
    Ha {
        node: String,
        field: String,
        why: String,
    },
    #[error(
        "node `{node}`: routing.router_id is `loopback` but the router has no IPv4 loopback: set addressing.loopback or give `lo` an address"
    )]
    RouterIdNeedsLoopback { node: String },
    #[error(
        "link {link}: {what} needs an address on both ends: set addressing.p2p, give both ends an address, or use routing.peering: interface"
    )]
    NoLinkAddress { link: String, what: String },
}

/// Options that do not come from the topology file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    /// Prefix of every kernel object name (the ownership mark).
    pub prefix: String,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_string(),
        }
    }
}

/// Checks an ownership prefix.
pub fn check_prefix(prefix: &str) -> Result<(), PlanError> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 8
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(PlanError::BadPrefix(prefix.to_string()))
    }
}

/// The namespace (and FRR pathspace) name of a node: `{prefix}-{lab}.{node}`.
pub fn netns_name(prefix: &str, lab: &str, node: &str) -> String {
    format!("{prefix}-{lab}.{node}")
}

/// The FRR pathspace of a router whose namespace is `netns`.
pub fn frr_pathspace(netns: &str) -> String {
    netns.replace('.', "+")
}

/// The inverse of [`netns_name`]: `(lab, node)` when `name` carries `prefix`.
pub fn parse_netns_name<'a>(prefix: &str, name: &'a str) -> Option<(&'a str, &'a str)> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('-')?;
    let (lab, node) = rest.split_once('.')?;
    if lab.is_empty() || node.is_empty() {
        return None;
    }
    Some((lab, node))
}

/// How FRR runs on one router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrrPlan {
    /// FRR pathspace (`-N`): the namespace name with `.` replaced by `+`
    /// (FRR refuses `.` there; names never contain `+`).
    pub pathspace: String,
    /// Daemons to start, in start order; always begins with zebra.
    pub daemons: Vec<String>,
    /// Integrated configuration applied after the daemons start.
    pub config: String,
}

impl FrrPlan {
    /// Whether `daemon` (`ospfd`, `bgpd`) is among those started.
    pub fn runs(&self, daemon: &str) -> bool {
        self.daemons.iter().any(|d| d == daemon)
    }
}

/// Everything decided about one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePlan {
    pub name: NodeName,
    pub kind: NodeKind,
    pub netns: String,
    /// Switches: the bridge and its ports.
    pub bridge: Option<String>,
    pub ports: Vec<IfName>,
    pub frr: Option<FrrPlan>,
    pub exec: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub sysctls: Vec<(String, String)>,
    /// Interfaces of this node, in link order.
    pub interfaces: Vec<IfName>,
    /// Addresses, router id and ASN decided from the lab's `addressing:`
    /// and `routing:` (none without them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fabric: Option<NodeFabric>,
    /// Routers: a hot standby twin is kept (the daemon builds and uses it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub standby: bool,
}

/// One end of a planned link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkEnd {
    pub node: NodeName,
    pub netns: String,
    pub iface: IfName,
}

/// One link and how it is realised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkPlan {
    /// Stable id within the lab: `{lab}#{index}`.
    #[serde(default)]
    pub id: String,
    pub a: LinkEnd,
    pub b: LinkEnd,
    pub mtu: Option<u32>,
    // Defaults keep plans stored by earlier versions readable.
    #[serde(default = "veth")]
    pub realisation: Realisation,
    /// Carrier up at deploy.
    #[serde(default = "yes")]
    pub up: bool,
}

fn veth() -> Realisation {
    Realisation::Veth
}

fn yes() -> bool {
    true
}

/// The complete, deterministic description of a deployed lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub lab: LabName,
    pub prefix: String,
    pub nodes: Vec<NodePlan>,
    pub links: Vec<LinkPlan>,
}

/// One executor operation. Names are final kernel names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
// Steps are built once per deploy and applied; size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// Create the namespace and bring `lo` up in it.
    CreateNetns {
        node: NodeName,
        netns: String,
    },
    /// Kill every process in the namespace, then delete it.
    DeleteNetns {
        node: NodeName,
        netns: String,
    },
    /// Create a bridge (up, STP off) in a switch's namespace.
    CreateBridge {
        node: NodeName,
        netns: String,
        bridge: String,
    },
    DeleteBridge {
        node: NodeName,
        netns: String,
        bridge: String,
    },
    /// Create a veth pair whose ends live in two namespaces, both up
    /// (`a` with MAC address `mac` when given).
    CreateVeth {
        a: LinkEnd,
        b: LinkEnd,
        mtu: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mac: Option<[u8; 6]>,
    },
    DeleteVeth {
        a: LinkEnd,
    },
    /// Create a persistent TAP device (up) in a namespace, for an emulated
    /// link end.
    CreateTap {
        end: LinkEnd,
        mtu: Option<u32>,
    },
    DeleteTap {
        end: LinkEnd,
    },
    /// Start the wire that carries frames between the two TAPs of an
    /// emulated link.
    StartWire {
        id: String,
        a: LinkEnd,
        b: LinkEnd,
        a_to_b: WireProps,
        b_to_a: WireProps,
        up: bool,
    },
    StopWire {
        id: String,
        a: LinkEnd,
    },
    /// Enslave an interface to a bridge.
    AttachPort {
        node: NodeName,
        netns: String,
        bridge: String,
        port: IfName,
    },
    DetachPort {
        node: NodeName,
        netns: String,
        port: IfName,
    },
    /// Create a macvlan (bridge mode, random IPv6 link-local, up) on
    /// `lower` with a fixed MAC and one address: the vip of an HA pair,
    /// for FRR's vrrpd.
    CreateMacvlan {
        node: NodeName,
        netns: String,
        lower: IfName,
        name: String,
        mac: [u8; 6],
        address: Prefix,
    },
    DeleteMacvlan {
        node: NodeName,
        netns: String,
        name: String,
    },
    /// Write a sysctl inside a namespace (`net.ipv4.ip_forward`).
    Sysctl {
        node: NodeName,
        netns: String,
        key: String,
        value: String,
    },
    /// Start FRR daemons in the namespace and apply the configuration.
    StartFrr {
        node: NodeName,
        netns: String,
        frr: FrrPlan,
    },
    /// Stop the FRR daemons and remove their files.
    StopFrr {
        node: NodeName,
        netns: String,
        pathspace: String,
    },
    /// Run shell commands in order inside the namespace; stop at the first
    /// that fails.
    RunExec {
        node: NodeName,
        netns: String,
        commands: Vec<String>,
        env: BTreeMap<String, String>,
    },
}

impl Step {
    /// The node this step acts on (for links: the `a` end).
    pub fn node(&self) -> &NodeName {
        match self {
            Step::CreateNetns { node, .. }
            | Step::DeleteNetns { node, .. }
            | Step::CreateBridge { node, .. }
            | Step::DeleteBridge { node, .. }
            | Step::AttachPort { node, .. }
            | Step::DetachPort { node, .. }
            | Step::CreateMacvlan { node, .. }
            | Step::DeleteMacvlan { node, .. }
            | Step::Sysctl { node, .. }
            | Step::StartFrr { node, .. }
            | Step::StopFrr { node, .. }
            | Step::RunExec { node, .. } => node,
            Step::CreateVeth { a, .. }
            | Step::DeleteVeth { a }
            | Step::StartWire { a, .. }
            | Step::StopWire { a, .. } => &a.node,
            Step::CreateTap { end, .. } | Step::DeleteTap { end } => &end.node,
        }
    }

    /// A short human description, used in progress output and errors.
    pub fn describe(&self) -> String {
        match self {
            Step::CreateNetns { netns, .. } => format!("create namespace {netns}"),
            Step::DeleteNetns { netns, .. } => format!("delete namespace {netns}"),
            Step::CreateBridge { bridge, .. } => format!("create bridge {bridge}"),
            Step::DeleteBridge { bridge, .. } => format!("delete bridge {bridge}"),
            Step::CreateVeth { a, b, .. } => format!(
                "create link {}:{} <-> {}:{}",
                a.node, a.iface, b.node, b.iface
            ),
            Step::DeleteVeth { a } => format!("delete link {}:{}", a.node, a.iface),
            Step::CreateTap { end, .. } => format!("create tap {}:{}", end.node, end.iface),
            Step::DeleteTap { end } => format!("delete tap {}:{}", end.node, end.iface),
            Step::StartWire { a, b, .. } => format!(
                "start wire {}:{} <-> {}:{}",
                a.node, a.iface, b.node, b.iface
            ),
            Step::StopWire { id, .. } => format!("stop wire {id}"),
            Step::AttachPort { bridge, port, .. } => format!("attach {port} to {bridge}"),
            Step::DetachPort { port, .. } => format!("detach {port}"),
            Step::CreateMacvlan {
                name,
                lower,
                address,
                ..
            } => format!("create macvlan {name} on {lower} ({address})"),
            Step::DeleteMacvlan { name, .. } => format!("delete macvlan {name}"),
            Step::Sysctl { key, value, .. } => format!("set {key}={value}"),
            Step::StartFrr { frr, .. } => format!("start FRR ({})", frr.daemons.join(", ")),
            Step::StopFrr { .. } => "stop FRR".to_string(),
            Step::RunExec { commands, .. } => format!("run {} exec command(s)", commands.len()),
        }
    }

    /// The step that undoes this one, if it leaves anything behind that
    /// deleting the namespace would not remove.
    pub fn inverse(&self) -> Option<Step> {
        match self {
            Step::CreateNetns { node, netns } => Some(Step::DeleteNetns {
                node: node.clone(),
                netns: netns.clone(),
            }),
            Step::CreateBridge {
                node,
                netns,
                bridge,
            } => Some(Step::DeleteBridge {
                node: node.clone(),
                netns: netns.clone(),
                bridge: bridge.clone(),
            }),
            Step::CreateVeth { a, .. } => Some(Step::DeleteVeth { a: a.clone() }),
            Step::CreateTap { end, .. } => Some(Step::DeleteTap { end: end.clone() }),
            Step::StartWire { id, a, .. } => Some(Step::StopWire {
                id: id.clone(),
                a: a.clone(),
            }),
            Step::AttachPort {
                node, netns, port, ..
            } => Some(Step::DetachPort {
                node: node.clone(),
                netns: netns.clone(),
                port: port.clone(),
            }),
            Step::CreateMacvlan {
                node, netns, name, ..
            } => Some(Step::DeleteMacvlan {
                node: node.clone(),
                netns: netns.clone(),
                name: name.clone(),
            }),
            Step::StartFrr { node, netns, frr } => Some(Step::StopFrr {
                node: node.clone(),
                netns: netns.clone(),
                pathspace: frr.pathspace.clone(),
            }),
            // Sysctls and exec commands live in the namespace and go with it.
            Step::Sysctl { .. } | Step::RunExec { .. } => None,
            Step::DeleteNetns { .. }
            | Step::DeleteBridge { .. }
            | Step::DeleteVeth { .. }
            | Step::DeleteTap { .. }
            | Step::StopWire { .. }
            | Step::DetachPort { .. }
            | Step::DeleteMacvlan { .. }
            | Step::StopFrr { .. } => None,
        }
    }
}

/// Steps that may run in parallel; phases run in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    pub steps: Vec<Step>,
}

/// Decides everything about a lab.
pub fn plan(topo: &Topology, opts: &PlanOptions) -> Result<Plan, PlanError> {
    check_prefix(&opts.prefix)?;
    let lab = topo.name.as_str();
    let ns = |node: &NodeName| netns_name(&opts.prefix, lab, node.as_str());

    let mut interfaces: BTreeMap<&NodeName, Vec<IfName>> = BTreeMap::new();
    let mut links = Vec::with_capacity(topo.links.len());
    for (index, link) in topo.links.iter().enumerate() {
        for end in [&link.a, &link.b] {
            if !topo.nodes.contains_key(&end.node) {
                return Err(PlanError::MissingNode {
                    index,
                    node: end.node.to_string(),
                });
            }
            interfaces
                .entry(&end.node)
                .or_default()
                .push(end.iface.clone());
        }
        let realisation = realise(topo, index, link)?;
        links.push(LinkPlan {
            id: format!("{lab}#{index}"),
            realisation,
            up: link.up,
            a: LinkEnd {
                node: link.a.node.clone(),
                netns: ns(&link.a.node),
                iface: link.a.iface.clone(),
            },
            b: LinkEnd {
                node: link.b.node.clone(),
                netns: ns(&link.b.node),
                iface: link.b.iface.clone(),
            },
            mtu: link.mtu,
        });
    }

    let mut fabric = fabric::build(topo)?.unwrap_or_default();

    let nodes = topo
        .nodes
        .values()
        .map(|node| {
            let decided = fabric.remove(node.name.as_str());
            let netns = ns(&node.name);
            let ifaces = interfaces.get(&node.name).cloned().unwrap_or_default();
            let mut plan = NodePlan {
                name: node.name.clone(),
                kind: node.kind,
                netns: netns.clone(),
                bridge: None,
                ports: Vec::new(),
                frr: None,
                exec: node.exec.clone(),
                env: node.env.clone(),
                sysctls: Vec::new(),
                interfaces: ifaces.clone(),
                fabric: None,
                standby: node.standby && node.kind == NodeKind::Router,
            };
            match node.kind {
                NodeKind::Router => {
                    plan.sysctls = vec![
                        ("net.ipv4.ip_forward".into(), "1".into()),
                        ("net.ipv6.conf.all.forwarding".into(), "1".into()),
                    ];
                    let given = node.frr.clone().unwrap_or(netloom_model::FrrConfig {
                        config: None,
                        config_origin: None,
                        daemons: None,
                    });
                    let rendered = decided.as_ref().and_then(|d| d.config.clone());
                    let config = rendered.clone().unwrap_or_else(|| {
                        render_frr_config(node.name.as_str(), given.config.as_deref())
                    });
                    let daemons = match (&given.daemons, rendered.is_some()) {
                        (Some(list), false) => frr::with_base_daemons(list),
                        // A `daemons` file and a rendered configuration:
                        // both sets.
                        (Some(list), true) => {
                            let mut all = list.clone();
                            all.extend(daemons_for_config(&config));
                            frr::with_base_daemons(&all)
                        }
                        (None, _) => daemons_for_config(&config),
                    };
                    plan.frr = Some(FrrPlan {
                        pathspace: frr_pathspace(&netns),
                        daemons,
                        config,
                    });
                }
                NodeKind::Switch => {
                    plan.bridge = Some(SWITCH_BRIDGE.to_string());
                    plan.ports = ifaces;
                }
                NodeKind::Host => {
                    if let Some(d) = &decided {
                        plan.exec = d.exec_prefix.iter().chain(&node.exec).cloned().collect();
                    }
                }
            }
            plan.fabric = decided.map(|d| d.fabric);
            plan
        })
        .collect();

    Ok(Plan {
        lab: topo.name.clone(),
        prefix: opts.prefix.clone(),
        nodes,
        links,
    })
}

impl Plan {
    pub fn node(&self, name: &str) -> Option<&NodePlan> {
        self.nodes.iter().find(|n| n.name.as_str() == name)
    }

    /// The ordered phases that bring this plan up from nothing.
    pub fn phases(&self) -> Vec<Phase> {
        let nodes: Vec<&NodePlan> = self.nodes.iter().collect();
        let links: Vec<(&LinkPlan, Part)> = self.links.iter().map(|l| (l, Part::Whole)).collect();
        build_phases(self, &nodes, &links, self.has_patch())
    }

    /// Number of steps over all phases.
    pub fn step_count(&self) -> usize {
        self.phases().iter().map(|p| p.steps.len()).sum()
    }

    /// The steps that tear this plan down: FRR stopped, then every namespace
    /// deleted (which removes links, bridges and ports with it).
    pub fn teardown(&self) -> Vec<Step> {
        // Wires hold their TAPs (and so their namespaces) open: stop them
        // first.
        let mut steps: Vec<Step> = self
            .links
            .iter()
            .filter(|l| matches!(l.realisation, Realisation::Emulated { .. }))
            .map(|l| Step::StopWire {
                id: l.id.clone(),
                a: l.a.clone(),
            })
            .collect();
        steps.extend(self.nodes.iter().filter_map(|n| {
            n.frr.as_ref().map(|f| Step::StopFrr {
                node: n.name.clone(),
                netns: n.netns.clone(),
                pathspace: f.pathspace.clone(),
            })
        }));
        steps.extend(self.nodes.iter().map(|n| Step::DeleteNetns {
            node: n.name.clone(),
            netns: n.netns.clone(),
        }));
        steps.extend(self.delete_patch_step());
        steps
    }
}

/// Which part of a link to bring up: all of it, or (a patched link whose
/// other end stays) one end's pair into the patch namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Whole,
    Half(usize),
}

/// The phases that create `nodes` and the `wanted` parts of links of
/// `plan` (the patch namespace too when `patch_ns`).
pub(crate) fn build_phases(
    plan: &Plan,
    nodes: &[&NodePlan],
    wanted: &[(&LinkPlan, Part)],
    patch_ns: bool,
) -> Vec<Phase> {
    let mut namespaces = Vec::new();
    let mut bridges = Vec::new();
    let mut ports = Vec::new();
    let mut sysctls = Vec::new();
    let mut routers = Vec::new();
    let mut exec = Vec::new();
    let mut macvlans = Vec::new();
    for node in nodes {
        // HA pairs: the vip's macvlan exists before vrrpd starts.
        for v in node.fabric.iter().flat_map(|f| &f.vrrp) {
            macvlans.push(Step::CreateMacvlan {
                node: node.name.clone(),
                netns: node.netns.clone(),
                lower: v.iface.clone(),
                name: v.macvlan(),
                mac: v.mac(),
                address: v.vip,
            });
        }
        namespaces.push(Step::CreateNetns {
            node: node.name.clone(),
            netns: node.netns.clone(),
        });
        if let Some(bridge) = &node.bridge {
            bridges.push(Step::CreateBridge {
                node: node.name.clone(),
                netns: node.netns.clone(),
                bridge: bridge.clone(),
            });
            for port in &node.ports {
                ports.push(Step::AttachPort {
                    node: node.name.clone(),
                    netns: node.netns.clone(),
                    bridge: bridge.clone(),
                    port: port.clone(),
                });
            }
        }
        for (key, value) in &node.sysctls {
            sysctls.push(Step::Sysctl {
                node: node.name.clone(),
                netns: node.netns.clone(),
                key: key.clone(),
                value: value.clone(),
            });
        }
        if let Some(frr) = &node.frr {
            routers.push(Step::StartFrr {
                node: node.name.clone(),
                netns: node.netns.clone(),
                frr: frr.clone(),
            });
        }
        if !node.exec.is_empty() {
            exec.push(Step::RunExec {
                node: node.name.clone(),
                netns: node.netns.clone(),
                commands: node.exec.clone(),
                env: node.env.clone(),
            });
        }
    }
    let mut links = Vec::new();
    let mut wires = Vec::new();
    if patch_ns {
        if let Some(create) = plan.create_patch_step() {
            // Ports there carry frames, nothing more: no IPv6 addresses to
            // configure each time one goes up.
            for key in patch::SYSCTLS {
                sysctls.push(Step::Sysctl {
                    node: create.node().clone(),
                    netns: plan.patch_netns(),
                    key: key.to_string(),
                    value: "1".to_string(),
                });
            }
            namespaces.push(create);
        }
    }
    for &(l, part) in wanted {
        match &l.realisation {
            Realisation::Veth if plan.patched(l) => {
                let ends: &[usize] = match part {
                    Part::Whole => &[0, 1],
                    Part::Half(0) => &[0],
                    Part::Half(_) => &[1],
                };
                let bridge = patch::bridge(l);
                if part == Part::Whole {
                    bridges.push(Step::CreateBridge {
                        node: l.a.node.clone(),
                        netns: plan.patch_netns(),
                        bridge: bridge.clone(),
                    });
                }
                for &end in ends {
                    let here = plan.patch_end(l, end);
                    let a = if end == 0 { l.a.clone() } else { l.b.clone() };
                    // A standby router's own ends: its twin's have the
                    // same MAC addresses.
                    let standby = plan.node(a.node.as_str()).is_some_and(|n| n.standby);
                    links.push(Step::CreateVeth {
                        mac: standby.then(|| {
                            patch::mac(plan.lab.as_str(), a.node.as_str(), a.iface.as_str())
                        }),
                        a,
                        b: here.clone(),
                        mtu: l.mtu,
                    });
                    ports.push(Step::AttachPort {
                        node: here.node,
                        netns: here.netns,
                        bridge: bridge.clone(),
                        port: here.iface,
                    });
                }
            }
            Realisation::Veth => links.push(Step::CreateVeth {
                a: l.a.clone(),
                b: l.b.clone(),
                mtu: l.mtu,
                mac: None,
            }),
            Realisation::Emulated { a_to_b, b_to_a } => {
                for end in [&l.a, &l.b] {
                    links.push(Step::CreateTap {
                        end: end.clone(),
                        mtu: l.mtu,
                    });
                }
                wires.push(Step::StartWire {
                    id: l.id.clone(),
                    a: l.a.clone(),
                    b: l.b.clone(),
                    a_to_b: a_to_b.clone(),
                    b_to_a: b_to_a.clone(),
                    up: l.up,
                });
            }
        }
    }
    // Routers with the fewest links start first and the hubs last: a
    // router whose peers are not up yet sits quiet while the others start.
    // A 300-router Clos started spines first took 68-87 s to start its
    // daemons instead of 20-30 s, every leaf's start slowed by the BGP work
    // of those already up (docs/benchmarks.md).
    let mut degree: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &plan.links {
        for end in [&l.a, &l.b] {
            *degree.entry(end.node.as_str()).or_default() += 1;
        }
    }
    routers.sort_by_key(|s| degree.get(s.node().as_str()).copied().unwrap_or(0));
    [
        ("namespaces", namespaces),
        ("bridges", bridges),
        ("links", links),
        ("ports", ports),
        ("wires", wires),
        ("macvlans", macvlans),
        ("sysctls", sysctls),
        ("routers", routers),
        ("exec", exec),
    ]
    .into_iter()
    .filter(|(_, steps)| !steps.is_empty())
    .map(|(name, steps)| Phase {
        name: name.to_string(),
        steps,
    })
    .collect()
}

/// Differences between a running plan and a new one, one line each.
pub fn changes(old: &Plan, new: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for n in &new.nodes {
        match old.node(n.name.as_str()) {
            None => out.push(format!("+ node {} ({})", n.name, n.kind)),
            Some(o) if o != n => {
                let mut what = Vec::new();
                if o.kind != n.kind {
                    what.push("kind");
                }
                if o.frr != n.frr {
                    what.push("FRR configuration");
                }
                if o.exec != n.exec || o.env != n.env {
                    what.push("exec");
                }
                if o.interfaces != n.interfaces {
                    what.push("interfaces");
                }
                if what.is_empty() {
                    what.push("settings");
                }
                out.push(format!("~ node {}: {}", n.name, what.join(", ")));
            }
            Some(_) => {}
        }
    }
    for o in &old.nodes {
        if new.node(o.name.as_str()).is_none() {
            out.push(format!("- node {}", o.name));
        }
    }
    let key = |l: &LinkPlan| format!("{}:{} <-> {}:{}", l.a.node, l.a.iface, l.b.node, l.b.iface);
    for l in &new.links {
        match old.links.iter().find(|o| key(o) == key(l)) {
            None => out.push(format!("+ link {}", key(l))),
            Some(o)
                if !o.realisation.same_effect(&l.realisation) || o.mtu != l.mtu || o.up != l.up =>
            {
                out.push(format!("~ link {}: properties", key(l)))
            }
            Some(_) => {}
        }
    }
    for o in &old.links {
        if !new.links.iter().any(|l| key(l) == key(o)) {
            out.push(format!("- link {}", key(o)));
        }
    }
    out
}

#[cfg(test)]
mod tests;
