//! Validated domain types of netloom.
//!
//! A [`Topology`] is what a topology file means once it has been parsed and
//! checked: a lab name, a map of [`Node`]s and a list of [`Link`]s between
//! [`Endpoint`]s. Every value here is valid by construction of the parser
//! (`netloom-spec`); the planner (`netloom-plan`) takes these values as
//! given. Identifiers are newtypes ([`LabName`], [`NodeName`], [`IfName`])
//! whose constructors enforce the naming rules that keep kernel object names
//! short and unambiguous.
//!
//! This crate has no I/O and no dependencies beyond serde and schemars.

pub mod cities;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} `{value}` is longer than {max} characters")]
    TooLong {
        what: &'static str,
        value: String,
        max: usize,
    },
    #[error("{what} `{value}` contains `{ch}`; allowed are {allowed}")]
    BadChar {
        what: &'static str,
        value: String,
        ch: char,
        allowed: &'static str,
    },
    #[error("{what} `{value}` must start with a letter or a digit")]
    BadStart { what: &'static str, value: String },
}

fn check_name(
    what: &'static str,
    value: &str,
    max: usize,
    allowed: &'static str,
    ok: impl Fn(char) -> bool,
) -> Result<(), NameError> {
    if value.is_empty() {
        return Err(NameError::Empty { what });
    }
    if value.chars().count() > max {
        return Err(NameError::TooLong {
            what,
            value: value.to_string(),
            max,
        });
    }
    if let Some(ch) = value.chars().find(|c| !ok(*c)) {
        return Err(NameError::BadChar {
            what,
            value: value.to_string(),
            ch,
            allowed,
        });
    }
    if !value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return Err(NameError::BadStart {
            what,
            value: value.to_string(),
        });
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$m:meta])* $ty:ident, $what:literal, $max:expr, $allowed:literal, $ok:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(String);

        impl $ty {
            /// Longest accepted value, in characters.
            pub const MAX_LEN: usize = $max;

            pub fn new(value: impl Into<String>) -> Result<Self, NameError> {
                let value = value.into();
                check_name($what, &value, $max, $allowed, $ok)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $ty {
            type Error = NameError;
            fn try_from(value: String) -> Result<Self, NameError> {
                Self::new(value)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $ty {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// A lab's name. It is part of every kernel object name netloom makes,
    /// so it is short and has no `.` (the separator between lab and node).
    LabName,
    "lab name",
    32,
    "letters, digits, `-` and `_`",
    |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_'
);

name_type!(
    /// A node's name, unique within its lab.
    NodeName,
    "node name",
    32,
    "letters, digits, `-`, `_` and `.`",
    |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
);

name_type!(
    /// A network interface name inside a node (Linux allows 15 bytes).
    IfName,
    "interface name",
    15,
    "letters, digits, `-`, `_` and `.`",
    |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
);

/// What a node is. Each kind has its own planning module in `netloom-plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// FRR routing daemons in their own network namespace.
    Router,
    /// A Linux bridge in its own network namespace.
    Switch,
    /// A plain network namespace whose `exec` commands run at deploy.
    Host,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Router => "router",
            NodeKind::Switch => "switch",
            NodeKind::Host => "host",
        }
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The FRR daemons netloom knows how to start, in start order.
pub const FRR_DAEMONS: &[&str] = &[
    "zebra", "mgmtd", "staticd", "bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd",
    "ldpd", "nhrpd", "eigrpd", "babeld", "sharpd", "pbrd", "bfdd", "fabricd", "vrrpd", "pathd",
];

/// A router's FRR configuration as the file gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrrConfig {
    /// Integrated configuration (`frr.conf`) text, if any.
    pub config: Option<String>,
    /// Where the configuration came from, for messages (`r1/frr.conf`,
    /// `inline`, `bind r1/frr.conf`).
    pub config_origin: Option<String>,
    /// Daemons requested by a `daemons` file (`bgpd=yes`), if one was bound.
    pub daemons: Option<Vec<String>>,
}

/// A bind mount as the file gave it (`host:container[:mode]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bind {
    /// Host path, resolved against the topology file's directory.
    pub host: String,
    pub container: String,
    pub mode: Option<String>,
}

/// One device of a lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub name: NodeName,
    pub kind: NodeKind,
    /// Recorded only: locally FRR nodes use the machine's FRR and hosts are
    /// plain namespaces.
    pub image: Option<String>,
    /// Routers only.
    pub frr: Option<FrrConfig>,
    /// Shell commands run in order inside the node at deploy.
    pub exec: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub binds: Vec<Bind>,
    /// The site (`sites:` key) the node stands in.
    #[serde(default)]
    pub site: Option<String>,
    /// Routers: routing overrides.
    #[serde(default)]
    pub routing: Option<NodeRouting>,
    /// Routers: HA gateway pair membership.
    #[serde(default)]
    pub ha: Option<Ha>,
    /// Routers: configuration lines merged into the rendered config.
    #[serde(default)]
    pub config_extra: Option<String>,
    /// Explicit addresses per interface; they win over the pools.
    #[serde(default)]
    pub addresses: BTreeMap<String, Vec<Prefix>>,
    /// Where the node is drawn on a canvas (the web UI), if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// What the supervisor does when the node fails.
    #[serde(default, skip_serializing_if = "is_default_restart")]
    pub restart: RestartPolicy,
    /// Routers: keep a hot standby twin (namespace, FRR running with the
    /// configuration, no links) that takes over when the node fails.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub standby: bool,
}

fn is_default_restart(r: &RestartPolicy) -> bool {
    *r == RestartPolicy::OnFailure
}

/// What the daemon's supervisor does when a node fails (a process it
/// needs dies or hangs, or its namespace disappears).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Repair it, also when its processes end on their own.
    Always,
    /// Repair it when it fails (the default).
    #[default]
    OnFailure,
    /// Report the failure and leave the node as it is.
    Never,
}

impl RestartPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "never",
        }
    }

    pub fn parse(s: &str) -> Option<RestartPolicy> {
        match s {
            "always" => Some(RestartPolicy::Always),
            "on-failure" => Some(RestartPolicy::OnFailure),
            "never" => Some(RestartPolicy::Never),
            _ => None,
        }
    }
}

/// A node's place on a canvas, in pixels (`x` to the right, `y` down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Position {
    pub x: i64,
    pub y: i64,
}

/// One end of a link.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    pub node: NodeName,
    pub iface: IfName,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.node, self.iface)
    }
}

/// A fraction in millionths: 1% is `Ppm(10_000)`, 100% is `Ppm(1_000_000)`.
/// Integers keep every value comparable and hashable.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ppm(pub u32);

impl Ppm {
    pub const ZERO: Ppm = Ppm(0);
    pub const ONE: Ppm = Ppm(1_000_000);

    /// As a probability in `0.0..=1.0`.
    pub fn prob(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// As a percentage.
    pub fn percent(self) -> f64 {
        self.0 as f64 / 1e4
    }
}

impl fmt::Display for Ppm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.percent())
    }
}

/// How packets are lost on one direction of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum Loss {
    /// Each packet is lost with probability `p`.
    Random { p: Ppm },
    /// Gilbert-Elliott: a good and a bad state; `p` = P(good -> bad),
    /// `r` = P(bad -> good), `h` = loss probability in the bad state,
    /// `k` = loss probability in the good state. Bursty loss.
    Gilbert { p: Ppm, r: Ppm, h: Ppm, k: Ppm },
}

/// Limit of the queue in front of a rate-limited direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueLimit {
    Packets(u32),
    Bytes(u64),
}

/// Impairments of one direction of a link, as the file gave them: `None`
/// means "not said here" (a wider scope or a default applies).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Impairments {
    /// One-way delay, nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ns: Option<u64>,
    /// Jitter (spread of the delay), nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ns: Option<u64>,
    /// Allow jitter to reorder packets (off: a packet never overtakes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Loss>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<Ppm>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<Ppm>,
    /// Rate limit, bits per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_bps: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueLimit>,
}

impl Impairments {
    /// Nothing is said.
    pub fn is_empty(&self) -> bool {
        *self == Impairments::default()
    }

    /// `self` where it says something, else `wider`.
    pub fn or(&self, wider: &Impairments) -> Impairments {
        Impairments {
            delay_ns: self.delay_ns.or(wider.delay_ns),
            jitter_ns: self.jitter_ns.or(wider.jitter_ns),
            reorder: self.reorder.or(wider.reorder),
            loss: self.loss.or(wider.loss),
            duplicate: self.duplicate.or(wider.duplicate),
            corrupt: self.corrupt.or(wider.corrupt),
            rate_bps: self.rate_bps.or(wider.rate_bps),
            queue: self.queue.or(wider.queue),
        }
    }
}

/// How a link is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkMode {
    /// A kernel veth pair: fastest, no impairments.
    Veth,
    /// Two TAP devices joined by netloom's wire, which applies impairments.
    Emulated,
}

/// A point-to-point link between two endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub a: Endpoint,
    pub b: Endpoint,
    pub mtu: Option<u32>,
    /// `mode:` as written; `None` lets the planner decide.
    #[serde(default)]
    pub mode: Option<LinkMode>,
    /// Impairments for both directions.
    #[serde(default)]
    pub both: Impairments,
    /// Per direction (`a_to_b:` / `b_to_a:`), overriding `both`.
    #[serde(default)]
    pub a_to_b: Impairments,
    #[serde(default)]
    pub b_to_a: Impairments,
    /// `state: down` starts the link with its carrier down.
    #[serde(default = "yes")]
    pub up: bool,
}

fn yes() -> bool {
    true
}

/// An IPv4 or IPv6 prefix, or an interface address with its prefix length
/// (`10.0.0.0/16`, `10.0.0.1/31`, `2001:db8::/48`). Written as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Prefix {
    pub addr: std::net::IpAddr,
    pub len: u8,
}

impl Prefix {
    pub fn new(addr: std::net::IpAddr, len: u8) -> Result<Prefix, String> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if len > max {
            return Err(format!("prefix length /{len} is longer than /{max}"));
        }
        Ok(Prefix { addr, len })
    }

    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// The network: the address with the host bits cleared.
    pub fn network(&self) -> Prefix {
        match self.addr {
            std::net::IpAddr::V4(a) => {
                let mask = if self.len == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.len)
                };
                Prefix {
                    addr: std::net::Ipv4Addr::from(u32::from(a) & mask).into(),
                    len: self.len,
                }
            }
            std::net::IpAddr::V6(a) => {
                let mask = if self.len == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.len)
                };
                Prefix {
                    addr: std::net::Ipv6Addr::from(u128::from(a) & mask).into(),
                    len: self.len,
                }
            }
        }
    }

    /// Whether `other` (an address or a smaller prefix) lies inside.
    pub fn contains(&self, other: &Prefix) -> bool {
        other.is_ipv4() == self.is_ipv4()
            && other.len >= self.len
            && Prefix {
                addr: other.addr,
                len: self.len,
            }
            .network()
                == self.network()
    }
}

impl std::str::FromStr for Prefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Prefix, String> {
        let (addr, len) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` has no prefix length (like `10.0.0.0/16`)"))?;
        let addr: std::net::IpAddr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IP address"))?;
        let len: u8 = len
            .parse()
            .map_err(|_| format!("`/{len}` is not a prefix length"))?;
        Prefix::new(addr, len)
    }
}

impl TryFrom<String> for Prefix {
    type Error = String;
    fn try_from(s: String) -> Result<Prefix, String> {
        s.parse()
    }
}

impl From<Prefix> for String {
    fn from(p: Prefix) -> String {
        p.to_string()
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Address pools (`addressing:`). Every pool is optional: without `p2p`
/// router links get no addresses unless the configs give them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addressing {
    /// A /31 per router-router link.
    pub p2p: Option<Prefix>,
    /// A /32 loopback per router.
    pub loopback: Option<Prefix>,
    /// Host segments behind routers, one subnet each.
    pub lan: Option<Prefix>,
    /// Prefix length of each host segment (default 24).
    pub lan_len: Option<u8>,
    /// A /127 per router-router link.
    pub p2p6: Option<Prefix>,
    /// A /128 loopback per router.
    pub loopback6: Option<Prefix>,
}

/// Which routing protocol a fabric runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoutingProtocol {
    Bgp,
    Ospf,
    None,
}

/// How BGP sessions are addressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BgpPeering {
    /// To the neighbour's address on the /31.
    #[default]
    Numbered,
    /// BGP unnumbered: `neighbor eth1 interface remote-as external`.
    Interface,
}

/// Where a router's router-id comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouterIdFrom {
    /// The router's 24-bit id as a dotted quad (0.x.y.z).
    #[default]
    Id,
    /// Its IPv4 loopback.
    Loopback,
}

/// Fabric intent (`routing:` at lab level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    pub protocol: RoutingProtocol,
    /// Never advertise a prefix shorter than this, nor a default route.
    pub min_prefix_len: u8,
    /// ECMP paths (`maximum-paths`).
    pub maximum_paths: u8,
    /// BGP keepalive and hold time, seconds.
    pub timers: Option<(u16, u16)>,
    pub peering: BgpPeering,
    pub router_id: RouterIdFrom,
    /// BGP read-only mode after bgpd starts (`update-delay MAX WAIT`):
    /// no best paths and no updates until every peer that came up within
    /// WAIT seconds has sent its End-of-RIB, at most MAX seconds. `None`
    /// turns it off. Stored labs from before the field get the default.
    #[serde(default = "default_update_delay")]
    pub update_delay: Option<UpdateDelay>,
}

/// `update-delay MAX WAIT`, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UpdateDelay {
    /// The longest read-only mode lasts.
    pub max: u16,
    /// How long to wait for configured peers to come up (establish-wait);
    /// peers that come up later are not waited for. At most `max`.
    pub establish_wait: u16,
}

impl UpdateDelay {
    /// When many routers start together, FRR's churn while sessions come up
    /// can cost more than everything else (bench/fabric: a 300-router Clos
    /// converged in 56-75 s with it, 82-163 s without; 100 routers in 11 s
    /// instead of 17). A router whose peers are all up ends read-only mode
    /// once each has sent its End-of-RIB or first keepalive, or at once for
    /// peers that have just started themselves (their OPEN says so).
    pub const DEFAULT: UpdateDelay = UpdateDelay {
        max: 30,
        establish_wait: 10,
    };
}

fn default_update_delay() -> Option<UpdateDelay> {
    Some(UpdateDelay::DEFAULT)
}

impl Default for Routing {
    fn default() -> Self {
        Routing {
            protocol: RoutingProtocol::None,
            min_prefix_len: 8,
            maximum_paths: 16,
            timers: None,
            peering: BgpPeering::Numbered,
            router_id: RouterIdFrom::Id,
            update_delay: Some(UpdateDelay::DEFAULT),
        }
    }
}

/// Per-router routing overrides (`routing:` on a node).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRouting {
    pub protocol: Option<RoutingProtocol>,
    /// A fixed ASN instead of the allocated one.
    pub asn: Option<u32>,
    /// A hub: accepts BGP sessions from any neighbour on its links
    /// (`bgp listen range`) instead of configuring each one.
    pub hub: bool,
    /// Originate a default route (to test that the fabric filters it).
    pub originate_default: bool,
    /// BGP: pass on only its own prefixes (loopback, host segments) and
    /// those its peers originate, never routes that crossed a peer: a Clos
    /// leaf. Spines then hold one path per leaf prefix instead of one per
    /// leaf, and still reach each other's loopbacks.
    #[serde(default)]
    pub stub: bool,
}

/// An HA gateway pair member (`ha:` on a router).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ha {
    /// The other router of the pair.
    pub peer: NodeName,
    /// The virtual gateway address hosts use (`192.168.1.254`), on the
    /// segment the two routers share.
    pub vip: std::net::IpAddr,
    /// VRRP priority; the higher one is the primary (default: the peer
    /// whose name sorts first gets 200, the other 100).
    pub priority: Option<u8>,
    /// VRRP advertisement interval, milliseconds (default 1000).
    pub advert_ms: Option<u32>,
}

/// Where nodes stand on the planet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub name: String,
    /// Latitude and longitude in micro-degrees (integers keep `Eq`).
    pub lat_udeg: i64,
    pub lon_udeg: i64,
    /// The built-in city it was taken from, if any.
    pub city: Option<String>,
}

impl Site {
    pub fn lat(&self) -> f64 {
        self.lat_udeg as f64 / 1e6
    }
    pub fn lon(&self) -> f64 {
        self.lon_udeg as f64 / 1e6
    }
}

/// A measured round-trip time between two sites (`sites_latency:` file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteLatency {
    pub a: String,
    pub b: String,
    pub rtt_ns: u64,
}

/// Lab-wide link settings (`link_defaults:`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkDefaults {
    #[serde(default)]
    pub mode: Option<LinkMode>,
    #[serde(default)]
    pub impairments: Impairments,
}

/// A validated lab description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    pub name: LabName,
    /// Nodes by name, in name order.
    pub nodes: BTreeMap<NodeName, Node>,
    pub links: Vec<Link>,
    /// The file this came from, if any (absolute path).
    pub source: Option<String>,
    #[serde(default)]
    pub sites: BTreeMap<String, Site>,
    /// Measured RTTs between sites that override the distance model.
    #[serde(default)]
    pub sites_latency: Vec<SiteLatency>,
    #[serde(default)]
    pub link_defaults: LinkDefaults,
    #[serde(default)]
    pub addressing: Option<Addressing>,
    #[serde(default)]
    pub routing: Option<Routing>,
}

impl Node {
    /// A node with nothing but a name and a kind.
    pub fn new(name: NodeName, kind: NodeKind) -> Node {
        Node {
            name,
            kind,
            image: None,
            frr: None,
            exec: Vec::new(),
            env: BTreeMap::new(),
            labels: BTreeMap::new(),
            binds: Vec::new(),
            site: None,
            routing: None,
            ha: None,
            config_extra: None,
            addresses: BTreeMap::new(),
            position: None,
            restart: RestartPolicy::OnFailure,
            standby: false,
        }
    }
}

impl Link {
    /// A link with no properties: up, mode left to the planner.
    pub fn new(a: Endpoint, b: Endpoint) -> Link {
        Link {
            a,
            b,
            mtu: None,
            mode: None,
            both: Impairments::default(),
            a_to_b: Impairments::default(),
            b_to_a: Impairments::default(),
            up: true,
        }
    }
}

impl Topology {
    /// A lab of these nodes and links and nothing else.
    pub fn new(name: LabName, nodes: impl IntoIterator<Item = Node>, links: Vec<Link>) -> Topology {
        Topology {
            name,
            nodes: nodes.into_iter().map(|n| (n.name.clone(), n)).collect(),
            links,
            source: None,
            sites: BTreeMap::new(),
            sites_latency: Vec::new(),
            link_defaults: LinkDefaults::default(),
            addressing: None,
            routing: None,
        }
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_and_contain() {
        let p: Prefix = "10.0.0.0/16".parse().unwrap();
        assert!(p.contains(&"10.0.255.1/32".parse().unwrap()));
        assert!(!p.contains(&"10.1.0.0/24".parse().unwrap()));
        assert!(!p.contains(&"10.0.0.0/8".parse().unwrap()));
        assert_eq!(
            "10.0.0.7/24"
                .parse::<Prefix>()
                .unwrap()
                .network()
                .to_string(),
            "10.0.0.0/24"
        );
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
        assert!("10.0.0.0".parse::<Prefix>().is_err());
        assert!("2001:db8::/48"
            .parse::<Prefix>()
            .unwrap()
            .contains(&"2001:db8::1/128".parse().unwrap()));
    }

    #[test]
    fn names_are_checked() {
        assert!(LabName::new("lab-1_a").is_ok());
        assert!(matches!(
            LabName::new("a.b"),
            Err(NameError::BadChar { ch: '.', .. })
        ));
        assert!(matches!(LabName::new(""), Err(NameError::Empty { .. })));
        assert!(matches!(
            LabName::new("-x"),
            Err(NameError::BadStart { .. })
        ));
        assert!(matches!(
            IfName::new("a234567890123456"),
            Err(NameError::TooLong { .. })
        ));
        assert!(IfName::new("eth1").is_ok());
        assert!(NodeName::new("r1.core").is_ok());
    }

    #[test]
    fn names_roundtrip_through_serde() {
        let n: NodeName = serde_json::from_str("\"r1\"").unwrap();
        assert_eq!(n.as_str(), "r1");
        assert!(serde_json::from_str::<NodeName>("\"r 1\"").is_err());
    }
}
