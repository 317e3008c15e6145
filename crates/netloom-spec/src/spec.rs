//! What a topology file said, before inheritance and validation.
//!
//! The `*Spec` types mirror the file's shape. Every value is [`Spanned`]:
//! it knows its line, column and field path, so that later checks can point
//! at it. The same types give the JSON Schema (see [`crate::json_schema`]),
//! so the schema and the parser cannot drift apart.
//!
//! [`walk`] builds them from the positioned YAML tree by hand, reporting
//! every unknown key, wrong type and duplicate key instead of stopping at the
//! first (serde would stop, and loses spans in flattened/untagged types).

use crate::units;
use crate::yaml::{Span, Value, Yaml};
use crate::Sink;
use netloom_model::{
    BgpPeering, LinkMode, Loss, Ppm, Prefix, QueueLimit, RouterIdFrom, RoutingProtocol,
};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use std::borrow::Cow;
use std::net::IpAddr;

/// A value with where it was written: its span and its field path
/// (`topology.nodes.r1.kind`). Its JSON Schema is the value's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
    pub field: String,
}

impl<T> Spanned<T> {
    /// The same place, another value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned {
            value: f(self.value),
            span: self.span,
            field: self.field,
        }
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A YAML mapping whose keys are names (nodes, kinds, groups, env vars), in
/// file order, each key with its position. Its JSON Schema is an object
/// whose values follow `T`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamedMap<T>(pub Vec<(Spanned<String>, T)>);

impl<T> NamedMap<T> {
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k.value == name).map(|(_, v)| v)
    }
}

impl<T: JsonSchema> JsonSchema for NamedMap<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        // `r1: ~` (a node with only inherited properties) is allowed.
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": {
                "anyOf": [generator.subschema_for::<T>(), {"type": "null"}]
            },
        })
    }
}

fn scalar_map_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({
        "type": "object",
        "additionalProperties": {"type": ["string", "number", "boolean"]},
    })
}

/// A netloom topology file (containerlab's format, extended).
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "netloom topology file")]
pub struct TopologyFileSpec {
    /// The lab's name: up to 32 letters, digits, `-` and `_`, starting with
    /// a letter or digit. Every kernel object of the lab carries it.
    pub name: Spanned<String>,
    /// The devices and the links between them.
    pub topology: TopologySpec,
    /// Where nodes stand on the planet, by site name (same rules as node
    /// names): `{city: Tokyo}` (netloom's built-in city table) or
    /// `{lat: 35.69, lon: 139.69}`. Links between sites get the delay of
    /// the distance.
    pub sites: Option<NamedMap<SiteSpec>>,
    /// Measured round-trip times that override the distance model, as CSV:
    /// `site_a,site_b,rtt_ms` lines, an optional header, `#` comments. A
    /// path to the CSV file (relative to the topology file), or the CSV
    /// itself inline: a block scalar (`sites_latency: |`) or any value with
    /// a line break.
    pub sites_latency: Option<Spanned<String>>,
    /// `sites_latency` was written as a block scalar (inline CSV).
    #[schemars(skip)]
    pub sites_latency_block: bool,
    /// Link settings every link inherits unless it sets them itself.
    pub link_defaults: Option<LinkDefaultsSpec>,
    /// Address pools the planner allocates from: a /31 per router-router
    /// link, a /32 loopback per router, a subnet per host segment, and
    /// their IPv6 counterparts. Explicit `addresses` win over the pools.
    pub addressing: Option<AddressingSpec>,
    /// Fabric intent: the routing protocol every router runs and its
    /// settings; a router's own `routing` overrides it.
    pub routing: Option<RoutingSpec>,
}

/// One site: a built-in city, or coordinates.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// A city of netloom's built-in table (case, accents, spaces and `-`
    /// do not matter: `sao paulo`, `New-York`, `NYC`).
    pub city: Option<Spanned<String>>,
    /// Latitude in degrees, -90 (south) to 90 (north).
    #[schemars(range(min = -90, max = 90))]
    pub lat: Option<Spanned<f64>>,
    /// Longitude in degrees, -180 (west) to 180 (east).
    #[schemars(range(min = -180, max = 180))]
    pub lon: Option<Spanned<f64>>,
    #[schemars(skip)]
    pub span: Span,
    #[schemars(skip)]
    pub field: String,
    /// Something in it was already reported.
    #[schemars(skip)]
    pub invalid: bool,
}

/// `link_defaults:`.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkDefaultsSpec {
    /// `veth` (a kernel pair: fastest, no impairments) or `emulated`
    /// (netloom's wire) for every link that does not say.
    pub mode: Option<Spanned<ModeValue>>,
    #[serde(flatten)]
    pub impairments: ImpairmentsSpec,
}

/// How a link is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModeValue {
    /// A kernel veth pair: fastest, cannot delay, drop or shape packets.
    Veth,
    /// Two TAP devices joined by netloom's wire, which applies impairments.
    Emulated,
}

impl ModeValue {
    pub fn to_model(self) -> LinkMode {
        match self {
            ModeValue::Veth => LinkMode::Veth,
            ModeValue::Emulated => LinkMode::Emulated,
        }
    }
}

/// Whether a link starts with its carrier up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StateValue {
    Up,
    Down,
}

macro_rules! value_schema {
    ($(#[$m:meta])* $ty:ident($inner:ty), $name:literal, $schema:tt) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $ty(pub $inner);

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                schemars::json_schema!($schema)
            }
        }
    };
}

value_schema!(
    /// A duration in nanoseconds, written `20ms`, `500us` (or `µs`), `1.5s`.
    Duration(u64),
    "Duration",
    {
        "type": "string",
        "pattern": "^\\s*[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)\\s*([uUµμ][sS]|[mM][sS]|[sS])\\s*$",
        "description": "A duration from 0 to 60s with its unit: `us` (or `µs`), `ms` or `s`; decimals allowed (`0.5ms`).",
        "examples": ["2ms", "500us", "1.5s"],
    }
);

value_schema!(
    /// A percentage as parts per million, written `0.1%`.
    Percent(Ppm),
    "Percent",
    {
        "type": "string",
        "pattern": "^\\s*[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)\\s*%\\s*$",
        "description": "A percentage from 0% to 100%; the `%` is required.",
        "examples": ["0.1%", "5%"],
    }
);

value_schema!(
    /// A rate in bits per second, written `100mbit`.
    Rate(u64),
    "Rate",
    {
        "type": "string",
        "pattern": "^\\s*[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)\\s*([kKmMgG]?[bB][iI][tT])\\s*$",
        "description": "A rate in bits per second, more than 0: `bit`, `kbit` (1000 bit/s), `mbit` or `gbit`; decimals allowed.",
        "examples": ["100mbit", "1.5gbit", "64kbit"],
    }
);

value_schema!(
    /// A queue limit: packets or bytes.
    Queue(QueueLimit),
    "Queue",
    {
        "description": "The queue in front of the rate limit: an integer is packets, a size with `b`, `kb` (1024 bytes) or `mb` is bytes.",
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": 4294967295u64},
            {"type": "string", "pattern": "^\\s*[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)\\s*([kKmM]?[bB]|[pP]|packets)?\\s*$"},
        ],
        "examples": [1000, "64kb"],
    }
);

value_schema!(
    /// How packets are lost: random, or bursty (Gilbert-Elliott).
    LossValue(Loss),
    "Loss",
    {
        "description": "Random loss as a percentage (`0.1%`), or a model: `{model: random, p: 5%}` or `{model: gilbert, p: 1%, r: 25%, h: 100%, k: 0%}` (Gilbert-Elliott: `p` = chance to enter the bad state, `r` = chance to leave it, `h` = loss in the bad state, default 100%, `k` = loss in the good state, default 0%).",
        "anyOf": [
            {"$ref": "#/$defs/Percent"},
            {
                "type": "object",
                "properties": {
                    "model": {"const": "random"},
                    "p": {"$ref": "#/$defs/Percent"},
                },
                "required": ["model", "p"],
                "additionalProperties": false,
            },
            {
                "type": "object",
                "properties": {
                    "model": {"const": "gilbert"},
                    "p": {"$ref": "#/$defs/Percent"},
                    "r": {"$ref": "#/$defs/Percent"},
                    "h": {"$ref": "#/$defs/Percent"},
                    "k": {"$ref": "#/$defs/Percent"},
                },
                "required": ["model", "p", "r"],
                "additionalProperties": false,
            },
        ],
        "examples": ["0.1%", {"model": "gilbert", "p": "1%", "r": "25%"}],
    }
);

/// Impairments of a link: on the link for both directions, or under
/// `a_to_b` / `b_to_a` for one (the first endpoint is `a`).
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpairmentsSpec {
    /// One-way delay, e.g. `2ms`.
    pub delay: Option<Spanned<Duration>>,
    /// Spread of the delay, e.g. `500us`; packets keep their order unless
    /// `reorder: true`.
    pub jitter: Option<Spanned<Duration>>,
    /// Let jitter reorder packets (default false).
    pub reorder: Option<Spanned<bool>>,
    /// Packet loss: `0.1%`, or `{model: gilbert, p: 1%, r: 25%}` for
    /// bursty loss.
    pub loss: Option<Spanned<LossValue>>,
    /// Share of packets sent twice, e.g. `0.1%`.
    pub duplicate: Option<Spanned<Percent>>,
    /// Share of packets with a flipped bit, e.g. `0.1%`.
    pub corrupt: Option<Spanned<Percent>>,
    /// Rate limit, e.g. `100mbit`.
    pub rate: Option<Spanned<Rate>>,
    /// Queue limit in front of the rate limit: packets (`1000`) or bytes
    /// (`64kb`).
    pub queue: Option<Spanned<Queue>>,
    #[schemars(skip)]
    pub span: Span,
}

impl ImpairmentsSpec {
    /// The model's impairments (what was given; the rest `None`).
    pub fn to_model(&self) -> netloom_model::Impairments {
        netloom_model::Impairments {
            delay_ns: self.delay.as_ref().map(|d| d.value.0),
            jitter_ns: self.jitter.as_ref().map(|d| d.value.0),
            reorder: self.reorder.as_ref().map(|r| r.value),
            loss: self.loss.as_ref().map(|l| l.value.0),
            duplicate: self.duplicate.as_ref().map(|p| p.value.0),
            corrupt: self.corrupt.as_ref().map(|p| p.value.0),
            rate_bps: self.rate.as_ref().map(|r| r.value.0),
            queue: self.queue.as_ref().map(|q| q.value.0),
        }
    }

    /// The keys given, in the order the file format lists them.
    pub fn keys(&self) -> Vec<&'static str> {
        let given = [
            self.delay.is_some(),
            self.jitter.is_some(),
            self.reorder.is_some(),
            self.loss.is_some(),
            self.duplicate.is_some(),
            self.corrupt.is_some(),
            self.rate.is_some(),
            self.queue.is_some(),
        ];
        IMPAIRMENT_KEYS
            .iter()
            .zip(given)
            .filter(|(_, g)| *g)
            .map(|(k, _)| *k)
            .collect()
    }
}

/// The `topology:` section.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopologySpec {
    /// Properties every node inherits unless its group, kind or itself sets
    /// them (for example `{kind: router}`).
    pub defaults: Option<NodeSpec>,
    /// Properties per kind name, inherited by the nodes of that kind.
    pub kinds: Option<NamedMap<NodeSpec>>,
    /// Properties per group name, inherited by the nodes whose `group` it is.
    pub groups: Option<NamedMap<NodeSpec>>,
    /// The devices, by name (up to 32 letters, digits, `-`, `_` and `.`).
    pub nodes: Option<NamedMap<NodeSpec>>,
    /// Point-to-point links between node interfaces.
    pub links: Option<Vec<LinkSpec>>,
    #[schemars(skip)]
    pub span: Span,
}

/// One node's properties (also the shape of `defaults`, `kinds.*` and
/// `groups.*`).
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NodeSpec {
    /// `router` (or `frr`): FRR daemons; `host` (or `linux`): a plain
    /// namespace; `switch`: a Linux bridge. A `linux` node whose image is
    /// FRR's or that binds files into `/etc/frr` is a router.
    pub kind: Option<Spanned<String>>,
    /// The group whose properties this node inherits (nodes only).
    pub group: Option<Spanned<String>>,
    /// Recorded only: netloom runs the machine's FRR and plain namespaces.
    pub image: Option<Spanned<String>>,
    /// Routers: FRR configuration, a path relative to the topology file or
    /// inline text: a block scalar (`startup-config: |`) or any value with
    /// a line break.
    pub startup_config: Option<Spanned<String>>,
    /// `startup-config` was written as a block scalar (inline text).
    #[schemars(skip)]
    pub startup_config_block: bool,
    /// Shell commands run in order inside the node at deploy.
    pub exec: Option<Vec<Spanned<String>>>,
    /// Environment variables (merged over inherited ones).
    #[schemars(schema_with = "scalar_map_schema")]
    pub env: Option<NamedMap<Spanned<String>>>,
    /// Free-form labels (merged over inherited ones).
    #[schemars(schema_with = "scalar_map_schema")]
    pub labels: Option<NamedMap<Spanned<String>>>,
    /// `host-path:container-path[:ro|rw]`. Binds into `/etc/frr`
    /// (`frr.conf`, `daemons`, `vtysh.conf`) configure a router; others are
    /// recorded but not mounted.
    pub binds: Option<Vec<Spanned<String>>>,
    /// containerlab's extras; netloom reads `frr.daemons` only.
    pub extras: Option<ExtrasSpec>,
    /// The site (a key of the top-level `sites`) the node stands in.
    pub site: Option<Spanned<String>>,
    /// What the supervisor does when the node fails: `always`,
    /// `on-failure` (default) or `never`.
    pub restart: Option<Spanned<String>>,
    /// Routers: keep a hot standby twin that takes over on failure.
    pub standby: Option<Spanned<bool>>,
    /// Routers: overrides of the lab's `routing` for this router.
    pub routing: Option<NodeRoutingSpec>,
    /// Routers: membership of an HA gateway pair (VRRP). Both routers
    /// name each other and give the same `vip`.
    pub ha: Option<HaSpec>,
    /// Routers: FRR configuration lines merged into the rendered
    /// configuration (a multi-line string, `config_extra: |`).
    #[serde(rename = "config_extra")]
    pub config_extra: Option<Spanned<String>>,
    /// Routers and hosts: explicit addresses by interface (a link
    /// interface of the node, or `lo`): `{eth1: 10.0.0.1/31}` or
    /// `{eth1: [10.0.0.1/31, fd00::1/127]}`. They win over the pools; a
    /// host with addresses gets none allocated.
    #[schemars(schema_with = "addresses_schema")]
    pub addresses: Option<AddressesSpec>,
    /// Where the node is drawn on a canvas (the web UI), in pixels:
    /// `{x: 120, y: -40}` (nodes only, not inherited).
    pub position: Option<PositionSpec>,
    #[schemars(skip)]
    pub span: Span,
    #[schemars(skip)]
    pub field: String,
    /// `kind` was given but was not a string (already reported).
    #[schemars(skip)]
    pub kind_invalid: bool,
}

/// The largest distance from 0 of a `position` coordinate, in pixels.
pub const POSITION_MAX: i64 = 1_000_000_000;

/// `position:` on a node: a point on the canvas, in pixels.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionSpec {
    /// Pixels to the right of the origin, -1000000000 to 1000000000.
    #[schemars(range(min = -1_000_000_000, max = 1_000_000_000))]
    pub x: Option<Spanned<i64>>,
    /// Pixels below the origin, -1000000000 to 1000000000.
    #[schemars(range(min = -1_000_000_000, max = 1_000_000_000))]
    pub y: Option<Spanned<i64>>,
    /// Where the `position` key is.
    #[schemars(skip)]
    pub span: Span,
    #[schemars(skip)]
    pub field: String,
    /// Something in it was already reported.
    #[schemars(skip)]
    pub invalid: bool,
}

impl PositionSpec {
    /// The model's position, if the spec is complete and valid.
    pub fn to_model(&self) -> Option<netloom_model::Position> {
        if self.invalid {
            return None;
        }
        Some(netloom_model::Position {
            x: self.x.as_ref()?.value,
            y: self.y.as_ref()?.value,
        })
    }
}

/// containerlab's per-node `extras`.
#[derive(Debug, Clone, Default, JsonSchema)]
pub struct ExtrasSpec {
    /// FRR settings.
    pub frr: Option<FrrExtrasSpec>,
}

/// `extras.frr`.
#[derive(Debug, Clone, Default, JsonSchema)]
pub struct FrrExtrasSpec {
    /// FRR daemons to start besides zebra and staticd, e.g. `[bgpd, bfdd]`.
    pub daemons: Option<Vec<Spanned<String>>>,
}

/// One link.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// containerlab's extended link form: only `veth` is supported.
    #[serde(rename = "type")]
    pub link_type: Option<Spanned<String>>,
    /// Exactly two endpoints: `"node:interface"` or `{node, interface}`.
    #[schemars(length(min = 2, max = 2))]
    pub endpoints: Vec<EndpointSpec>,
    /// MTU of both interfaces, 68 to 65535.
    #[schemars(range(min = 68, max = 65535))]
    pub mtu: Option<Spanned<u32>>,
    /// `veth` (a kernel pair: fastest, no impairments) or `emulated`
    /// (netloom's wire). Unset: emulated when the link, its sites or
    /// `link_defaults` impair it, else veth.
    pub mode: Option<Spanned<ModeValue>>,
    /// `up` (default) or `down`: the link starts with its carrier down.
    pub state: Option<Spanned<StateValue>>,
    /// Impairments of the direction from the first endpoint to the second
    /// (override the link's own).
    pub a_to_b: Option<ImpairmentsSpec>,
    /// Impairments of the direction from the second endpoint to the first.
    pub b_to_a: Option<ImpairmentsSpec>,
    /// Impairments of both directions.
    #[serde(flatten)]
    pub impairments: ImpairmentsSpec,
    #[schemars(skip)]
    pub span: Span,
    #[schemars(skip)]
    pub field: String,
}

/// One end of a link.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum EndpointSpec {
    /// `node:interface`, e.g. `r1:eth1`.
    Brief(Spanned<String>),
    /// containerlab's extended form.
    Extended(ExtendedEndpointSpec),
}

/// `{node: r1, interface: eth1}`.
#[derive(Debug, Clone, Default, JsonSchema)]
pub struct ExtendedEndpointSpec {
    pub node: Spanned<String>,
    pub interface: Spanned<String>,
    #[schemars(skip)]
    pub span: Span,
    #[schemars(skip)]
    pub field: String,
}

value_schema!(
    /// An IPv4 or IPv6 prefix, or an interface address with its length.
    PrefixValue(Prefix),
    "Prefix",
    {
        "type": "string",
        "pattern": "^[0-9A-Fa-f:.]+/[0-9]{1,3}$",
        "description": "An IPv4 or IPv6 address with a prefix length: `10.0.0.0/16`, `10.0.0.1/31`, `fd00::/48`.",
        "examples": ["10.0.0.0/16", "fd00::1/127"],
    }
);

value_schema!(
    /// An IPv4 or IPv6 address without a prefix length.
    IpValue(IpAddr),
    "IpAddress",
    {
        "type": "string",
        "pattern": "^[0-9A-Fa-f:.]+$",
        "description": "An IPv4 or IPv6 address without a prefix length, e.g. `192.168.1.254`.",
        "examples": ["192.168.1.254", "fd00:1::fe"],
    }
);

/// `addressing:`: the pools the planner allocates from.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressingSpec {
    /// IPv4 pool for router-router links, a /31 each (shorter than /31,
    /// host bits zero), e.g. `10.0.0.0/16`.
    pub p2p: Option<Spanned<PrefixValue>>,
    /// IPv4 pool for router loopbacks, a /32 each (shorter than /32),
    /// e.g. `10.255.0.0/24`.
    pub loopback: Option<Spanned<PrefixValue>>,
    /// IPv4 pool for host segments behind routers, a `/lan_len` each
    /// (shorter than `lan_len`), e.g. `192.168.0.0/16`.
    pub lan: Option<Spanned<PrefixValue>>,
    /// Prefix length of each host segment, 8 to 30 (default 24).
    #[schemars(range(min = 8, max = 30))]
    pub lan_len: Option<Spanned<u8>>,
    /// IPv6 pool for router-router links, a /127 each (shorter than /127),
    /// e.g. `fd00::/48`.
    pub p2p6: Option<Spanned<PrefixValue>>,
    /// IPv6 pool for router loopbacks, a /128 each (shorter than /128),
    /// e.g. `fd00:ff::/64`.
    pub loopback6: Option<Spanned<PrefixValue>>,
    #[schemars(skip)]
    pub span: Span,
    /// Something in it was already reported.
    #[schemars(skip)]
    pub invalid: bool,
}

/// A routing protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolValue {
    /// eBGP on every router-router link.
    Bgp,
    /// OSPF area 0.
    Ospf,
    /// No routing configuration is generated.
    None,
}

impl ProtocolValue {
    pub fn to_model(self) -> RoutingProtocol {
        match self {
            ProtocolValue::Bgp => RoutingProtocol::Bgp,
            ProtocolValue::Ospf => RoutingProtocol::Ospf,
            ProtocolValue::None => RoutingProtocol::None,
        }
    }
}

/// How BGP sessions are addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PeeringValue {
    /// To the neighbour's address on the link (default).
    Numbered,
    /// BGP unnumbered, over the interface's IPv6 link-local address.
    Interface,
}

impl PeeringValue {
    pub fn to_model(self) -> BgpPeering {
        match self {
            PeeringValue::Numbered => BgpPeering::Numbered,
            PeeringValue::Interface => BgpPeering::Interface,
        }
    }
}

/// Where a router's router-id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RouterIdValue {
    /// The router's 24-bit id as a dotted quad (default).
    Id,
    /// Its IPv4 loopback (needs `addressing.loopback`).
    Loopback,
}

impl RouterIdValue {
    pub fn to_model(self) -> RouterIdFrom {
        match self {
            RouterIdValue::Id => RouterIdFrom::Id,
            RouterIdValue::Loopback => RouterIdFrom::Loopback,
        }
    }
}

/// `routing:` at the top level.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingSpec {
    /// `bgp`, `ospf` or `none` (required).
    pub protocol: Option<Spanned<ProtocolValue>>,
    /// Never advertise a default route nor a prefix shorter than this,
    /// 0 to 32 (default 8).
    #[schemars(range(min = 0, max = 32))]
    pub min_prefix_len: Option<Spanned<u8>>,
    /// Equal-cost paths per destination, 1 to 64 (default 16).
    #[schemars(range(min = 1, max = 64))]
    pub maximum_paths: Option<Spanned<u8>>,
    /// BGP timers in seconds, e.g. `{keepalive: 3, hold: 9}` (FRR's
    /// defaults when unset).
    pub timers: Option<TimersSpec>,
    /// BGP sessions: `numbered` (default) or `interface` (unnumbered).
    pub peering: Option<Spanned<PeeringValue>>,
    /// Router-id: `id` (default) or `loopback`.
    pub router_id: Option<Spanned<RouterIdValue>>,
    /// BGP read-only mode after bgpd starts, e.g. `{max: 30,
    /// establish_wait: 10}` (the default); `{max: 0}` turns it off.
    pub update_delay: Option<UpdateDelaySpec>,
    #[schemars(skip)]
    pub span: Span,
    #[schemars(skip)]
    pub field: String,
}

/// BGP `update-delay`: after bgpd starts it computes no best paths and
/// sends no updates until its peers have sent theirs.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDelaySpec {
    /// The longest read-only mode lasts, 0 to 3600 seconds (0: off).
    #[schemars(range(min = 0, max = 3600))]
    pub max: Option<Spanned<u16>>,
    /// Seconds to wait for every configured peer to come up, 1 to `max`
    /// (default 10, or `max` if smaller); later peers are not waited for.
    #[schemars(range(min = 1, max = 3600))]
    pub establish_wait: Option<Spanned<u16>>,
    #[schemars(skip)]
    pub span: Span,
    #[schemars(skip)]
    pub field: String,
}

/// BGP timers.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimersSpec {
    /// Seconds between keepalives, 1 to 65535.
    #[schemars(range(min = 1, max = 65535))]
    pub keepalive: Option<Spanned<u16>>,
    /// Seconds without a message before a session is dropped: 3 to 65535
    /// and more than `keepalive`.
    #[schemars(range(min = 3, max = 65535))]
    pub hold: Option<Spanned<u16>>,
    #[schemars(skip)]
    pub span: Span,
    #[schemars(skip)]
    pub field: String,
}

/// `routing:` on a router.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeRoutingSpec {
    /// This router's protocol, instead of the lab's.
    pub protocol: Option<Spanned<ProtocolValue>>,
    /// A fixed AS number instead of the allocated one, 1 to 4294967294
    /// (BGP only).
    #[schemars(range(min = 1, max = 4294967294u64))]
    pub asn: Option<Spanned<u32>>,
    /// Accept BGP sessions from any neighbour on its links (`bgp listen
    /// range`) instead of configuring each one (BGP only; default false).
    pub hub: Option<Spanned<bool>>,
    /// Originate a default route (default false).
    pub originate_default: Option<Spanned<bool>>,
    /// BGP: advertise only its own prefixes, never routes learned from a
    /// peer (a Clos leaf; default false).
    pub stub: Option<Spanned<bool>>,
    /// Where the `routing` key is.
    #[schemars(skip)]
    pub span: Span,
    #[schemars(skip)]
    pub field: String,
}

impl NodeRoutingSpec {
    pub fn to_model(&self) -> netloom_model::NodeRouting {
        netloom_model::NodeRouting {
            protocol: self.protocol.as_ref().map(|p| p.value.to_model()),
            asn: self.asn.as_ref().map(|a| a.value),
            hub: self.hub.as_ref().is_some_and(|h| h.value),
            originate_default: self.originate_default.as_ref().is_some_and(|o| o.value),
            stub: self.stub.as_ref().is_some_and(|s| s.value),
        }
    }
}

/// `ha:` on a router.
#[derive(Debug, Clone, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HaSpec {
    /// The other router of the pair; its own `ha` names this one back.
    pub peer: Option<Spanned<String>>,
    /// The virtual gateway address hosts use, the same on both routers.
    pub vip: Option<Spanned<IpValue>>,
    /// VRRP priority, 1 to 254; the higher is the primary (default: the
    /// router whose name sorts first gets 200, the other 100).
    #[schemars(range(min = 1, max = 254))]
    pub priority: Option<Spanned<u8>>,
    /// VRRP advertisement interval, 100ms to 40s in steps of 10ms
    /// (default 1s).
    pub advert: Option<Spanned<Duration>>,
    /// Where the `ha` key is.
    #[schemars(skip)]
    pub span: Span,
    #[schemars(skip)]
    pub field: String,
    /// Something in it was already reported.
    #[schemars(skip)]
    pub invalid: bool,
}

/// `addresses:` on a node: addresses by interface name.
#[derive(Debug, Clone, Default)]
pub struct AddressesSpec {
    pub entries: NamedMap<Vec<Spanned<Prefix>>>,
    /// Where the `addresses` key is.
    pub span: Span,
    pub field: String,
}

fn addresses_schema(generator: &mut SchemaGenerator) -> Schema {
    let prefix = generator.subschema_for::<PrefixValue>();
    schemars::json_schema!({
        "type": "object",
        "additionalProperties": {
            "anyOf": [prefix, {"type": "array", "items": prefix}]
        },
        "examples": [{"eth1": "10.0.0.1/31"}, {"eth1": ["10.0.0.1/31", "fd00::1/127"]}],
    })
}

/// Top-level containerlab keys netloom accepts and ignores, with why.
pub(crate) const TOP_IGNORED: &[(&str, &str)] = &[
    (
        "prefix",
        "netloom names every object after the lab; `prefix` is ignored",
    ),
    (
        "mgmt",
        "netloom has no management network; `mgmt` is ignored",
    ),
    (
        "settings",
        "containerlab's `settings` do not apply to netloom; `settings` is ignored",
    ),
];

/// containerlab node keys that only make sense for containers (checked
/// against containerlab's schema and node documentation); accepted with a
/// warning.
pub(crate) const NODE_IGNORED: &[&str] = &[
    "mgmt-ipv4",
    "mgmt-ipv6",
    "mgmt_ipv4",
    "mgmt_ipv6",
    "ports",
    "cmd",
    "entrypoint",
    "user",
    "network-mode",
    "cpu",
    "cpu-set",
    "memory",
    "license",
    "type",
    "enforce-startup-config",
    "suppress-startup-config",
    "auto-remove",
    "restart-policy",
    "publish",
    "sysctls",
    "dns",
    "wait-for",
    "stages",
    "healthcheck",
    "certificate",
    "runtime",
    "components",
    "config",
    "startup-delay",
    "aliases",
    "devices",
    "cap-add",
    "shm-size",
    "image-pull-policy",
    "SANs",
    "sandbox",
    "kernel",
    "env-files",
];

/// Keys of a link's impairments (on the link, in `a_to_b` / `b_to_a` and
/// in `link_defaults`).
pub(crate) const IMPAIRMENT_KEYS: &[&str] = &[
    "delay",
    "jitter",
    "reorder",
    "loss",
    "duplicate",
    "corrupt",
    "rate",
    "queue",
];

/// containerlab link keys netloom accepts and ignores.
pub(crate) const LINK_IGNORED: &[&str] = &["labels", "vars"];

const TOP_KEYS: &[&str] = &[
    "name",
    "topology",
    "sites",
    "sites_latency",
    "link_defaults",
    "addressing",
    "routing",
];
const TOPOLOGY_KEYS: &[&str] = &["defaults", "kinds", "groups", "nodes", "links"];
const NODE_KEYS: &[&str] = &[
    "kind",
    "group",
    "image",
    "startup-config",
    "exec",
    "env",
    "labels",
    "binds",
    "extras",
    "site",
    "routing",
    "ha",
    "config_extra",
    "addresses",
    "position",
    "restart",
    "standby",
];
const LINK_KEYS: &[&str] = &[
    "type",
    "endpoints",
    "mtu",
    "mode",
    "state",
    "a_to_b",
    "b_to_a",
    "delay",
    "jitter",
    "reorder",
    "loss",
    "duplicate",
    "corrupt",
    "rate",
    "queue",
];
const SITE_KEYS: &[&str] = &["city", "lat", "lon"];
const ADDRESSING_KEYS: &[&str] = &["p2p", "loopback", "lan", "lan_len", "p2p6", "loopback6"];
const ROUTING_KEYS: &[&str] = &[
    "protocol",
    "min_prefix_len",
    "maximum_paths",
    "timers",
    "peering",
    "router_id",
    "update_delay",
];
const NODE_ROUTING_KEYS: &[&str] = &["protocol", "asn", "hub", "originate_default", "stub"];
const HA_KEYS: &[&str] = &["peer", "vip", "priority", "advert"];

/// Which part of the file a node-shaped mapping is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeContext {
    Node,
    Defaults,
    Kind,
    Group,
}

pub(crate) fn join(field: &str, key: &str) -> String {
    if field.is_empty() {
        key.to_string()
    } else {
        format!("{field}.{key}")
    }
}

fn spanned<T>(value: T, span: Span, field: &str) -> Spanned<T> {
    Spanned {
        value,
        span,
        field: field.to_string(),
    }
}

/// Levenshtein distance, for "did you mean" hints.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

pub(crate) fn did_you_mean(key: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|k| (distance(key, k), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.len())
        .min()
        .map(|(_, k)| format!("did you mean `{k}`?"))
        .unwrap_or_default()
}

fn unknown_key(sink: &mut Sink, span: Span, field: &str, key: &str, known: &[&str]) {
    let hint = did_you_mean(key, known);
    let help = if hint.is_empty() {
        let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        format!("expected one of {}", list.join(", "))
    } else {
        hint
    };
    sink.error(span, field, format!("unknown key `{key}`; {help}"));
}

/// A mapping's entries with their keys as text, reporting keys that are not
/// strings and keys given twice (the second is dropped).
fn entries<'y>(y: &'y Yaml, field: &str, sink: &mut Sink) -> Vec<(Spanned<String>, &'y Yaml)> {
    let Value::Map(map) = &y.value else {
        return Vec::new();
    };
    let mut out: Vec<(Spanned<String>, &Yaml)> = Vec::new();
    for (k, v) in map {
        let key = match &k.value {
            Value::Scalar(s, _) => s.clone(),
            _ => {
                sink.error(
                    k.span,
                    field,
                    format!("keys must be strings, found {}", k.type_name()),
                );
                continue;
            }
        };
        let key_field = join(field, &key);
        if let Some((first, _)) = out.iter().find(|(f, _)| f.value == key) {
            sink.error(
                k.span,
                &key_field,
                format!(
                    "duplicate key `{key}` (first given on line {})",
                    first.span.line
                ),
            );
            continue;
        }
        out.push((spanned(key, k.span, &key_field), v));
    }
    out
}

fn expect_map<'y>(
    y: &'y Yaml,
    field: &str,
    sink: &mut Sink,
) -> Option<Vec<(Spanned<String>, &'y Yaml)>> {
    match &y.value {
        Value::Map(_) => Some(entries(y, field, sink)),
        _ => {
            sink.error(
                y.span,
                field,
                format!("expected a mapping, found {}", y.type_name()),
            );
            None
        }
    }
}

fn string(y: &Yaml, field: &str, sink: &mut Sink) -> Option<Spanned<String>> {
    match &y.value {
        Value::Scalar(s, _) => Some(spanned(s.clone(), y.span, field)),
        _ => {
            sink.error(
                y.span,
                field,
                format!("expected a string, found {}", y.type_name()),
            );
            None
        }
    }
}

fn string_list(y: &Yaml, field: &str, sink: &mut Sink) -> Option<Vec<Spanned<String>>> {
    match &y.value {
        Value::Seq(items) => Some(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| string(item, &format!("{field}[{i}]"), sink))
                .collect(),
        ),
        Value::Null => Some(Vec::new()),
        _ => {
            sink.error(
                y.span,
                field,
                format!("expected a list of strings, found {}", y.type_name()),
            );
            None
        }
    }
}

fn scalar_map(y: &Yaml, field: &str, sink: &mut Sink) -> Option<NamedMap<Spanned<String>>> {
    if matches!(y.value, Value::Null) {
        return Some(NamedMap::default());
    }
    let entries = expect_map(y, field, sink)?;
    let mut out = Vec::new();
    for (k, v) in entries {
        match &v.value {
            Value::Scalar(s, _) => out.push((k.clone(), spanned(s.clone(), v.span, &k.field))),
            Value::Null => out.push((k.clone(), spanned(String::new(), v.span, &k.field))),
            _ => sink.error(
                v.span,
                &k.field,
                format!("expected a string or number, found {}", v.type_name()),
            ),
        }
    }
    Some(NamedMap(out))
}

/// Reads the top level of the file. `None` only if it is not a mapping.
pub(crate) fn walk(doc: &Yaml, sink: &mut Sink) -> Option<TopologyFileSpec> {
    let Value::Map(_) = &doc.value else {
        sink.error(
            doc.span,
            "",
            format!(
                "a topology file is a mapping with `name` and `topology`, found {}",
                doc.type_name()
            ),
        );
        return None;
    };
    let mut spec = TopologyFileSpec::default();
    let (mut has_name, mut has_topology) = (false, false);
    for (key, value) in entries(doc, "", sink) {
        match key.value.as_str() {
            "name" => {
                has_name = true;
                if let Some(name) = string(value, "name", sink) {
                    spec.name = name;
                }
            }
            "topology" => {
                has_topology = true;
                spec.topology = walk_topology(value, sink);
            }
            "sites" => spec.sites = walk_sites(value, "sites", sink),
            "sites_latency" => {
                spec.sites_latency = string(value, "sites_latency", sink);
                spec.sites_latency_block = value.block;
            }
            "link_defaults" => spec.link_defaults = walk_link_defaults(value, sink),
            "addressing" => spec.addressing = walk_addressing(value, sink),
            "routing" => spec.routing = walk_routing(value, &key, sink),
            k => match TOP_IGNORED.iter().find(|(name, _)| *name == k) {
                Some((_, why)) => sink.warn(key.span, &key.field, *why),
                None => unknown_key(sink, key.span, &key.field, k, TOP_KEYS),
            },
        }
    }
    if !has_name {
        sink.error(
            doc.span,
            "name",
            "missing required key `name` (the lab's name)",
        );
    }
    if !has_topology {
        sink.error(doc.span, "topology", "missing required key `topology`");
    }
    Some(spec)
}

fn walk_topology(y: &Yaml, sink: &mut Sink) -> TopologySpec {
    let mut spec = TopologySpec {
        span: y.span,
        ..TopologySpec::default()
    };
    let Some(entries) = expect_map(y, "topology", sink) else {
        return spec;
    };
    for (key, value) in entries {
        let field = key.field.as_str();
        match key.value.as_str() {
            "defaults" => {
                spec.defaults = Some(walk_node(value, field, NodeContext::Defaults, sink))
            }
            "kinds" => spec.kinds = walk_named(value, field, NodeContext::Kind, sink),
            "groups" => spec.groups = walk_named(value, field, NodeContext::Group, sink),
            "nodes" => spec.nodes = walk_named(value, field, NodeContext::Node, sink),
            "links" => spec.links = walk_links(value, field, sink),
            k => unknown_key(sink, key.span, field, k, TOPOLOGY_KEYS),
        }
    }
    spec
}

fn walk_named(
    y: &Yaml,
    field: &str,
    ctx: NodeContext,
    sink: &mut Sink,
) -> Option<NamedMap<NodeSpec>> {
    if matches!(y.value, Value::Null) {
        return Some(NamedMap::default());
    }
    let entries = expect_map(y, field, sink)?;
    let mut out = Vec::new();
    for (key, value) in entries {
        let node = walk_node(value, &key.field, ctx, sink);
        out.push((key, node));
    }
    Some(NamedMap(out))
}

pub(crate) fn walk_node(y: &Yaml, field: &str, ctx: NodeContext, sink: &mut Sink) -> NodeSpec {
    let mut spec = NodeSpec {
        span: y.span,
        field: field.to_string(),
        ..NodeSpec::default()
    };
    if matches!(y.value, Value::Null) {
        return spec;
    }
    let Some(entries) = expect_map(y, field, sink) else {
        return spec;
    };
    for (key, value) in entries {
        let f = key.field.as_str();
        match key.value.as_str() {
            "kind" if ctx == NodeContext::Kind => sink.error(
                key.span,
                f,
                "`kind` cannot be set inside `kinds`: the entry's name is the kind",
            ),
            "kind" => {
                spec.kind = string(value, f, sink);
                spec.kind_invalid = spec.kind.is_none();
            }
            "group" if ctx != NodeContext::Node => {
                sink.error(key.span, f, "`group` can only be set on a node")
            }
            "group" => spec.group = string(value, f, sink),
            "image" => spec.image = string(value, f, sink),
            "startup-config" => {
                spec.startup_config = string(value, f, sink);
                spec.startup_config_block = value.block;
            }
            "exec" => spec.exec = string_list(value, f, sink),
            "binds" => spec.binds = string_list(value, f, sink),
            "env" => spec.env = scalar_map(value, f, sink),
            "labels" => spec.labels = scalar_map(value, f, sink),
            "extras" => spec.extras = walk_extras(value, f, sink),
            "site" => spec.site = string(value, f, sink),
            "restart" => spec.restart = string(value, f, sink),
            "standby" => spec.standby = boolean(value, f, "standby", sink),
            "routing" => spec.routing = walk_node_routing(value, &key, sink),
            "ha" => spec.ha = walk_ha(value, &key, sink),
            "config_extra" => spec.config_extra = string(value, f, sink),
            "addresses" => spec.addresses = walk_addresses(value, &key, sink),
            "position" if ctx != NodeContext::Node => sink.error(
                key.span,
                f,
                "`position` can only be set on a node: it is where that node is drawn",
            ),
            "position" => spec.position = walk_position(value, &key, sink),
            k if NODE_IGNORED.contains(&k) => sink.warn(
                key.span,
                f,
                format!(
                    "`{k}` is a containerlab container setting netloom does not use; it is ignored"
                ),
            ),
            k => unknown_key(sink, key.span, f, k, NODE_KEYS),
        }
    }
    spec
}

fn walk_extras(y: &Yaml, field: &str, sink: &mut Sink) -> Option<ExtrasSpec> {
    let entries = expect_map(y, field, sink)?;
    let mut spec = ExtrasSpec::default();
    for (key, value) in entries {
        if key.value != "frr" {
            sink.warn(
                key.span,
                &key.field,
                format!(
                    "netloom reads only `extras.frr`; `{}` is ignored",
                    key.value
                ),
            );
            continue;
        }
        let Some(frr) = expect_map(value, &key.field, sink) else {
            continue;
        };
        let mut frr_spec = FrrExtrasSpec::default();
        for (k, v) in frr {
            if k.value == "daemons" {
                frr_spec.daemons = string_list(v, &k.field, sink);
            } else {
                sink.warn(
                    k.span,
                    &k.field,
                    format!(
                        "netloom reads only `extras.frr.daemons`; `{}` is ignored",
                        k.value
                    ),
                );
            }
        }
        spec.frr = Some(frr_spec);
    }
    Some(spec)
}

fn walk_links(y: &Yaml, field: &str, sink: &mut Sink) -> Option<Vec<LinkSpec>> {
    match &y.value {
        Value::Null => Some(Vec::new()),
        Value::Seq(items) => Some(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| walk_link(item, &format!("{field}[{i}]"), sink))
                .collect(),
        ),
        _ => {
            sink.error(
                y.span,
                field,
                format!("expected a list of links, found {}", y.type_name()),
            );
            None
        }
    }
}

fn walk_link(y: &Yaml, field: &str, sink: &mut Sink) -> Option<LinkSpec> {
    let entries = expect_map(y, field, sink)?;
    let mut spec = LinkSpec {
        span: y.span,
        field: field.to_string(),
        ..LinkSpec::default()
    };
    let mut has_endpoints = false;
    let mut ok = true;
    for (key, value) in entries {
        let f = key.field.as_str();
        match key.value.as_str() {
            "type" => {
                if let Some(t) = string(value, f, sink) {
                    if t.value != "veth" {
                        sink.error(
                            t.span,
                            f,
                            format!(
                                "link type `{}` is not supported; netloom links are veth pairs (`type: veth`)",
                                t.value
                            ),
                        );
                        ok = false;
                    }
                    spec.link_type = Some(t);
                }
            }
            "endpoints" => {
                has_endpoints = true;
                match walk_endpoints(value, f, sink) {
                    Some(eps) => spec.endpoints = eps,
                    None => ok = false,
                }
            }
            "mtu" => spec.mtu = mtu(value, f, sink),
            "mode" => spec.mode = mode(value, f, sink),
            "state" => {
                spec.state = match word(value, f, "`state`", &["up", "down"], sink) {
                    Some(("up", s)) => Some(spanned(StateValue::Up, s, f)),
                    Some((_, s)) => Some(spanned(StateValue::Down, s, f)),
                    None => None,
                }
            }
            "a_to_b" => spec.a_to_b = walk_direction(value, f, sink),
            "b_to_a" => spec.b_to_a = walk_direction(value, f, sink),
            k if IMPAIRMENT_KEYS.contains(&k) => {
                impairment(&mut spec.impairments, &key, value, sink)
            }
            k if LINK_IGNORED.contains(&k) => sink.warn(
                key.span,
                f,
                format!("link `{k}` are a containerlab setting netloom does not use; ignored"),
            ),
            k => unknown_key(sink, key.span, f, k, LINK_KEYS),
        }
    }
    if !has_endpoints {
        sink.error(
            y.span,
            field,
            "a link needs `endpoints` (two `node:interface` strings)",
        );
        return None;
    }
    let mut impaired = spec.impairments.keys();
    for dir in [&spec.a_to_b, &spec.b_to_a].into_iter().flatten() {
        for k in dir.keys() {
            if !impaired.contains(&k) {
                impaired.push(k);
            }
        }
    }
    check_veth(spec.mode.as_ref(), &impaired, "this link", sink);
    ok.then_some(spec)
}

/// `mode: veth` beside impairments in the same mapping.
fn check_veth(mode: Option<&Spanned<ModeValue>>, impaired: &[&str], what: &str, sink: &mut Sink) {
    let Some(mode) = mode.filter(|m| m.value == ModeValue::Veth) else {
        return;
    };
    if impaired.is_empty() {
        return;
    }
    let keys: Vec<String> = impaired.iter().map(|k| format!("`{k}`")).collect();
    sink.error(
        mode.span,
        &mode.field,
        format!(
            "a veth pair cannot delay, drop or shape packets, but {what} sets {}; remove `mode: veth` (netloom then emulates the link)",
            keys.join(", ")
        ),
    );
}

/// A plain word out of `allowed`, with its span.
fn word<'a>(
    y: &Yaml,
    field: &str,
    what: &str,
    allowed: &[&'a str],
    sink: &mut Sink,
) -> Option<(&'a str, Span)> {
    let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
    let list = list.join(" or ");
    match &y.value {
        Value::Scalar(s, _) => match allowed.iter().find(|a| **a == s.as_str()) {
            Some(a) => Some((a, y.span)),
            None => {
                let hint = did_you_mean(s, allowed);
                let hint = if hint.is_empty() {
                    String::new()
                } else {
                    format!("; {hint}")
                };
                sink.error(
                    y.span,
                    field,
                    format!("{what} must be {list}, found `{s}`{hint}"),
                );
                None
            }
        },
        _ => {
            sink.error(
                y.span,
                field,
                format!("{what} must be {list}, found {}", y.type_name()),
            );
            None
        }
    }
}

fn mode(y: &Yaml, field: &str, sink: &mut Sink) -> Option<Spanned<ModeValue>> {
    match word(y, field, "`mode`", &["veth", "emulated"], sink)? {
        ("veth", s) => Some(spanned(ModeValue::Veth, s, field)),
        (_, s) => Some(spanned(ModeValue::Emulated, s, field)),
    }
}

/// Reads one impairment key (one of [`IMPAIRMENT_KEYS`]) into `spec`.
fn impairment(spec: &mut ImpairmentsSpec, key: &Spanned<String>, y: &Yaml, sink: &mut Sink) {
    let f = key.field.as_str();
    let k = key.value.as_str();
    match k {
        "delay" => {
            spec.delay = quantity(y, f, k, "duration", "`20ms`", units::duration, sink)
                .map(|v| v.map(Duration))
        }
        "jitter" => {
            spec.jitter = quantity(y, f, k, "duration", "`500us`", units::duration, sink)
                .map(|v| v.map(Duration))
        }
        "duplicate" => {
            spec.duplicate = quantity(y, f, k, "percentage", "`0.1%`", units::percent, sink)
                .map(|v| v.map(Percent))
        }
        "corrupt" => {
            spec.corrupt = quantity(y, f, k, "percentage", "`0.1%`", units::percent, sink)
                .map(|v| v.map(Percent))
        }
        "rate" => {
            spec.rate =
                quantity(y, f, k, "rate", "`100mbit`", units::rate, sink).map(|v| v.map(Rate))
        }
        "queue" => {
            spec.queue = quantity(
                y,
                f,
                k,
                "queue limit",
                "`1000` or `64kb`",
                units::queue,
                sink,
            )
            .map(|v| v.map(Queue))
        }
        "reorder" => {
            spec.reorder = word(y, f, "`reorder`", &["true", "false"], sink)
                .map(|(w, s)| spanned(w == "true", s, f))
        }
        "loss" => spec.loss = loss(y, f, sink).map(|v| v.map(LossValue)),
        _ => {}
    }
}

/// A scalar read by `parse`, or an error at it.
fn quantity<T>(
    y: &Yaml,
    field: &str,
    key: &str,
    what: &str,
    example: &str,
    parse: fn(&str, &str) -> Result<T, String>,
    sink: &mut Sink,
) -> Option<Spanned<T>> {
    let Value::Scalar(text, _) = &y.value else {
        sink.error(
            y.span,
            field,
            format!(
                "`{key}` must be a {what} like {example}, found {}",
                y.type_name()
            ),
        );
        return None;
    };
    match parse(key, text) {
        Ok(v) => Some(spanned(v, y.span, field)),
        Err(msg) => {
            sink.error(y.span, field, msg);
            None
        }
    }
}

const LOSS_KEYS: &[&str] = &["model", "p", "r", "h", "k"];

/// `loss: 0.1%`, `loss: {model: random, p: 5%}` or
/// `loss: {model: gilbert, p: 1%, r: 25%, h: 100%, k: 0%}`.
fn loss(y: &Yaml, field: &str, sink: &mut Sink) -> Option<Spanned<Loss>> {
    match &y.value {
        Value::Scalar(text, _) => match units::percent("loss", text) {
            Ok(p) => Some(spanned(Loss::Random { p }, y.span, field)),
            Err(msg) => {
                sink.error(y.span, field, msg);
                None
            }
        },
        Value::Map(_) => {
            let mut model: Option<(&str, Span)> = None;
            let mut values: Vec<(&str, Spanned<Ppm>)> = Vec::new();
            let mut ok = true;
            for (key, value) in entries(y, field, sink) {
                let f = key.field.as_str();
                match key.value.as_str() {
                    "model" => {
                        match word(value, f, "the loss `model`", &["random", "gilbert"], sink) {
                            Some(m) => model = Some(m),
                            None => ok = false,
                        }
                    }
                    k @ ("p" | "r" | "h" | "k") => {
                        let name = LOSS_KEYS.iter().find(|n| **n == k).copied().unwrap_or("p");
                        match quantity(value, f, k, "percentage", "`1%`", units::percent, sink) {
                            Some(v) => values.push((name, spanned(v.value, key.span, f))),
                            None => ok = false,
                        }
                    }
                    k => {
                        unknown_key(sink, key.span, f, k, LOSS_KEYS);
                        ok = false;
                    }
                }
            }
            let get = |n: &str| values.iter().find(|(k, _)| *k == n).map(|(_, v)| v.value);
            let Some((model, _)) = model else {
                if ok {
                    sink.error(
                        y.span,
                        field,
                        "a loss mapping needs `model: random` (with `p`) or `model: gilbert` (with `p` and `r`, optional `h` and `k`)",
                    );
                }
                return None;
            };
            if model == "random" {
                for (k, v) in &values {
                    if *k != "p" {
                        sink.error(
                            v.span,
                            &v.field,
                            format!(
                                "`{k}` belongs to `model: gilbert`; random loss takes only `p`"
                            ),
                        );
                        ok = false;
                    }
                }
            }
            let mut missing = |k: &str, what: &str| {
                if get(k).is_none() && ok {
                    sink.error(y.span, field, format!("{model} loss needs `{k}` ({what})"));
                }
            };
            missing(
                "p",
                if model == "gilbert" {
                    "the chance per packet to go from the good to the bad state, e.g. `p: 1%`"
                } else {
                    "the chance to lose each packet, e.g. `p: 1%`"
                },
            );
            if model == "gilbert" {
                missing("r", "the chance per packet to go from the bad back to the good state, e.g. `r: 25%`");
            }
            if !ok {
                return None;
            }
            let loss = match model {
                "random" => Loss::Random { p: get("p")? },
                _ => Loss::Gilbert {
                    p: get("p")?,
                    r: get("r")?,
                    h: get("h").unwrap_or(Ppm::ONE),
                    k: get("k").unwrap_or(Ppm::ZERO),
                },
            };
            Some(spanned(loss, y.span, field))
        }
        _ => {
            sink.error(
                y.span,
                field,
                format!(
                    "`loss` must be a percentage like `0.1%` or a mapping like `{{model: gilbert, p: 1%, r: 25%}}`, found {}",
                    y.type_name()
                ),
            );
            None
        }
    }
}

/// `a_to_b:` / `b_to_a:`: impairment keys only.
fn walk_direction(y: &Yaml, field: &str, sink: &mut Sink) -> Option<ImpairmentsSpec> {
    if matches!(y.value, Value::Null) {
        return Some(ImpairmentsSpec {
            span: y.span,
            ..ImpairmentsSpec::default()
        });
    }
    let entries = expect_map(y, field, sink)?;
    let mut spec = ImpairmentsSpec {
        span: y.span,
        ..ImpairmentsSpec::default()
    };
    for (key, value) in entries {
        let f = key.field.as_str();
        match key.value.as_str() {
            k if IMPAIRMENT_KEYS.contains(&k) => impairment(&mut spec, &key, value, sink),
            k @ ("mode" | "state" | "mtu" | "type" | "endpoints") => sink.error(
                key.span,
                f,
                format!(
                    "`{k}` applies to the whole link; set it on the link, not per direction (a direction takes {})",
                    key_list(IMPAIRMENT_KEYS)
                ),
            ),
            k => unknown_key(sink, key.span, f, k, IMPAIRMENT_KEYS),
        }
    }
    Some(spec)
}

fn key_list(keys: &[&str]) -> String {
    let list: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    list.join(", ")
}

fn walk_link_defaults(y: &Yaml, sink: &mut Sink) -> Option<LinkDefaultsSpec> {
    let field = "link_defaults";
    if matches!(y.value, Value::Null) {
        return Some(LinkDefaultsSpec::default());
    }
    let entries = expect_map(y, field, sink)?;
    let mut spec = LinkDefaultsSpec::default();
    spec.impairments.span = y.span;
    for (key, value) in entries {
        let f = key.field.as_str();
        match key.value.as_str() {
            "mode" => spec.mode = mode(value, f, sink),
            k if IMPAIRMENT_KEYS.contains(&k) => {
                impairment(&mut spec.impairments, &key, value, sink)
            }
            k @ ("state" | "mtu") => sink.error(
                key.span,
                f,
                format!(
                    "`{k}` is set per link; `link_defaults` takes `mode` and {}",
                    key_list(IMPAIRMENT_KEYS)
                ),
            ),
            k => {
                let mut known = vec!["mode"];
                known.extend_from_slice(IMPAIRMENT_KEYS);
                unknown_key(sink, key.span, f, k, &known)
            }
        }
    }
    check_veth(
        spec.mode.as_ref(),
        &spec.impairments.keys(),
        "`link_defaults`",
        sink,
    );
    Some(spec)
}

fn walk_sites(y: &Yaml, field: &str, sink: &mut Sink) -> Option<NamedMap<SiteSpec>> {
    if matches!(y.value, Value::Null) {
        return Some(NamedMap::default());
    }
    let entries = expect_map(y, field, sink)?;
    let mut out = Vec::new();
    for (key, value) in entries {
        let mut site = SiteSpec {
            span: value.span,
            field: key.field.clone(),
            ..SiteSpec::default()
        };
        if matches!(value.value, Value::Null) {
            // Reported as incomplete when resolved.
        } else if let Some(fields) = expect_map(value, &key.field, sink) {
            for (k, v) in fields {
                let f = k.field.as_str();
                let ok = match k.value.as_str() {
                    "city" => {
                        site.city = string(v, f, sink);
                        site.city.is_some()
                    }
                    "lat" => {
                        site.lat = degrees(v, f, "lat", 90.0, sink);
                        site.lat.is_some()
                    }
                    "lon" => {
                        site.lon = degrees(v, f, "lon", 180.0, sink);
                        site.lon.is_some()
                    }
                    other => {
                        unknown_key(sink, k.span, f, other, SITE_KEYS);
                        false
                    }
                };
                site.invalid |= !ok;
            }
        } else {
            site.invalid = true;
        }
        out.push((key, site));
    }
    Some(NamedMap(out))
}

/// A latitude or longitude: a number in `-max..=max`.
fn degrees(y: &Yaml, field: &str, key: &str, max: f64, sink: &mut Sink) -> Option<Spanned<f64>> {
    let parsed = match &y.value {
        Value::Scalar(s, true) => s.parse::<f64>().ok().filter(|v| v.is_finite()),
        _ => None,
    };
    match parsed {
        Some(v) if (-max..=max).contains(&v) => Some(spanned(v, y.span, field)),
        Some(_) => {
            sink.error(
                y.span,
                field,
                format!("{key} {} is out of range -{max}..={max}", describe(y)),
            );
            None
        }
        None => {
            sink.error(
                y.span,
                field,
                format!(
                    "{key} must be a number of degrees from -{max} to {max}, found {}",
                    describe(y)
                ),
            );
            None
        }
    }
}

fn mtu(y: &Yaml, field: &str, sink: &mut Sink) -> Option<Spanned<u32>> {
    let parsed = match &y.value {
        Value::Scalar(s, true) => s.parse::<i64>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) if (68..=65535).contains(&n) => Some(spanned(n as u32, y.span, field)),
        Some(n) => {
            sink.error(y.span, field, format!("mtu {n} is out of range 68..=65535"));
            None
        }
        None => {
            sink.error(
                y.span,
                field,
                format!(
                    "mtu must be an integer from 68 to 65535, found {}",
                    describe(y)
                ),
            );
            None
        }
    }
}

fn describe(y: &Yaml) -> String {
    match &y.value {
        Value::Scalar(s, _) => format!("`{s}`"),
        _ => y.type_name().to_string(),
    }
}

fn walk_endpoints(y: &Yaml, field: &str, sink: &mut Sink) -> Option<Vec<EndpointSpec>> {
    let Value::Seq(items) = &y.value else {
        sink.error(
            y.span,
            field,
            format!(
                "expected a list of two endpoints like [\"r1:eth1\", \"r2:eth1\"], found {}",
                y.type_name()
            ),
        );
        return None;
    };
    if items.len() != 2 {
        sink.error(
            y.span,
            field,
            format!("a link has exactly two endpoints, found {}", items.len()),
        );
        return None;
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let ep = match &item.value {
            Value::Map(_) => walk_extended_endpoint(item, &f, sink).map(EndpointSpec::Extended),
            _ => string(item, &f, sink).map(EndpointSpec::Brief),
        };
        out.extend(ep);
    }
    (out.len() == 2).then_some(out)
}

fn walk_extended_endpoint(y: &Yaml, field: &str, sink: &mut Sink) -> Option<ExtendedEndpointSpec> {
    let mut spec = ExtendedEndpointSpec {
        span: y.span,
        field: field.to_string(),
        ..ExtendedEndpointSpec::default()
    };
    let (mut node, mut iface) = (false, false);
    let mut ok = true;
    for (key, value) in entries(y, field, sink) {
        let f = key.field.as_str();
        match key.value.as_str() {
            "node" => match string(value, f, sink) {
                Some(s) => {
                    node = true;
                    spec.node = s;
                }
                None => ok = false,
            },
            "interface" => match string(value, f, sink) {
                Some(s) => {
                    iface = true;
                    spec.interface = s;
                }
                None => ok = false,
            },
            "mac" => sink.warn(
                key.span,
                f,
                "netloom lets the kernel choose MAC addresses; `mac` is ignored",
            ),
            k => unknown_key(sink, key.span, f, k, &["node", "interface"]),
        }
    }
    if ok && !(node && iface) {
        sink.error(
            y.span,
            field,
            "an endpoint needs both `node` and `interface`",
        );
        return None;
    }
    ok.then_some(spec)
}

/// An integer in `min..=max`, or an error naming `key` and the value.
fn integer(
    y: &Yaml,
    field: &str,
    key: &str,
    (min, max): (u64, u64),
    hint: &str,
    sink: &mut Sink,
) -> Option<Spanned<u64>> {
    let parsed = match &y.value {
        Value::Scalar(s, true) => s.parse::<i128>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) if n >= i128::from(min) && n <= i128::from(max) => {
            Some(spanned(n as u64, y.span, field))
        }
        Some(n) => {
            sink.error(
                y.span,
                field,
                format!("`{key}` {n} is out of range {min}..={max}{hint}"),
            );
            None
        }
        None => {
            sink.error(
                y.span,
                field,
                format!(
                    "`{key}` must be an integer from {min} to {max}, found {}",
                    describe(y)
                ),
            );
            None
        }
    }
}

/// A signed integer in `-max..=max`, or an error naming `key` and the value.
fn signed_integer(
    y: &Yaml,
    field: &str,
    key: &str,
    max: i64,
    sink: &mut Sink,
) -> Option<Spanned<i64>> {
    let parsed = match &y.value {
        Value::Scalar(s, true) => s.parse::<i128>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) if (-i128::from(max)..=i128::from(max)).contains(&n) => {
            Some(spanned(n as i64, y.span, field))
        }
        Some(n) => {
            sink.error(
                y.span,
                field,
                format!("`{key}` {n} is out of range -{max}..={max}"),
            );
            None
        }
        None => {
            sink.error(
                y.span,
                field,
                format!(
                    "`{key}` must be an integer from -{max} to {max}, found {}",
                    describe(y)
                ),
            );
            None
        }
    }
}

const POSITION_KEYS: &[&str] = &["x", "y"];

fn walk_position(y: &Yaml, key: &Spanned<String>, sink: &mut Sink) -> Option<PositionSpec> {
    let field = key.field.as_str();
    let mut spec = PositionSpec {
        span: key.span,
        field: field.to_string(),
        ..PositionSpec::default()
    };
    let entries = match &y.value {
        Value::Null => Vec::new(),
        _ => expect_map(y, field, sink)?,
    };
    let mut given = Vec::new();
    for (k, v) in entries {
        let f = k.field.as_str();
        let ok = match k.value.as_str() {
            name @ ("x" | "y") => {
                given.push(if name == "x" { "x" } else { "y" });
                let n = signed_integer(v, f, name, POSITION_MAX, sink);
                let ok = n.is_some();
                if name == "x" {
                    spec.x = n;
                } else {
                    spec.y = n;
                }
                ok
            }
            other => {
                unknown_key(sink, k.span, f, other, POSITION_KEYS);
                false
            }
        };
        spec.invalid |= !ok;
    }
    if report_missing(
        sink,
        key.span,
        field,
        POSITION_KEYS,
        &given,
        "`position` needs `x` and `y` (pixels, like `{x: 120, y: -40}`)",
    ) {
        spec.invalid = true;
    }
    Some(spec)
}

fn boolean(y: &Yaml, field: &str, key: &str, sink: &mut Sink) -> Option<Spanned<bool>> {
    word(y, field, &format!("`{key}`"), &["true", "false"], sink)
        .map(|(w, s)| spanned(w == "true", s, field))
}

fn protocol(y: &Yaml, field: &str, sink: &mut Sink) -> Option<Spanned<ProtocolValue>> {
    let (w, s) = word(y, field, "`protocol`", &["bgp", "ospf", "none"], sink)?;
    let p = match w {
        "bgp" => ProtocolValue::Bgp,
        "ospf" => ProtocolValue::Ospf,
        _ => ProtocolValue::None,
    };
    Some(spanned(p, s, field))
}

/// A prefix (`10.0.0.0/16`) or an address with its length (`10.0.0.1/31`).
fn prefix(
    y: &Yaml,
    field: &str,
    key: &str,
    example: &str,
    sink: &mut Sink,
) -> Option<Spanned<Prefix>> {
    let Value::Scalar(text, _) = &y.value else {
        sink.error(
            y.span,
            field,
            format!(
                "`{key}` must be a prefix like `{example}`, found {}",
                y.type_name()
            ),
        );
        return None;
    };
    match text.trim().parse::<Prefix>() {
        Ok(p) => Some(spanned(p, y.span, field)),
        Err(msg) => {
            sink.error(y.span, field, format!("`{key}: {text}`: {msg}"));
            None
        }
    }
}

/// An address without a prefix length.
fn ip_address(y: &Yaml, field: &str, key: &str, sink: &mut Sink) -> Option<Spanned<IpAddr>> {
    let Value::Scalar(text, _) = &y.value else {
        sink.error(
            y.span,
            field,
            format!(
                "`{key}` must be an IP address like `192.168.1.254`, found {}",
                y.type_name()
            ),
        );
        return None;
    };
    let t = text.trim();
    if let Ok(a) = t.parse::<IpAddr>() {
        return Some(spanned(a, y.span, field));
    }
    let msg = match t.split_once('/') {
        Some((a, _)) if a.parse::<IpAddr>().is_ok() => format!(
            "`{key}: {text}` has a prefix length; `{key}` is an address only: `{a}` (the segment's length comes from its subnet)"
        ),
        _ => format!("`{key}: {text}` is not an IP address (like `192.168.1.254` or `fd00::1`)"),
    };
    sink.error(y.span, field, msg);
    None
}

fn walk_addressing(y: &Yaml, sink: &mut Sink) -> Option<AddressingSpec> {
    let mut spec = AddressingSpec {
        span: y.span,
        ..AddressingSpec::default()
    };
    if matches!(y.value, Value::Null) {
        return Some(spec);
    }
    let entries = expect_map(y, "addressing", sink)?;
    for (key, value) in entries {
        let f = key.field.as_str();
        let k = key.value.as_str();
        let example = if k.ends_with('6') {
            "fd00::/48"
        } else {
            "10.0.0.0/16"
        };
        match k {
            "p2p" | "loopback" | "lan" | "p2p6" | "loopback6" => {
                let p = prefix(value, f, k, example, sink).map(|p| p.map(PrefixValue));
                spec.invalid |= p.is_none();
                let slot = match k {
                    "p2p" => &mut spec.p2p,
                    "loopback" => &mut spec.loopback,
                    "lan" => &mut spec.lan,
                    "p2p6" => &mut spec.p2p6,
                    _ => &mut spec.loopback6,
                };
                *slot = p;
            }
            "lan_len" => {
                spec.lan_len = integer(value, f, k, (8, 30), "", sink).map(|v| v.map(|n| n as u8));
                spec.invalid |= spec.lan_len.is_none();
            }
            k => {
                unknown_key(sink, key.span, f, k, ADDRESSING_KEYS);
                spec.invalid = true;
            }
        }
    }
    Some(spec)
}

fn walk_routing(y: &Yaml, key: &Spanned<String>, sink: &mut Sink) -> Option<RoutingSpec> {
    let field = key.field.as_str();
    let entries = expect_map(y, field, sink)?;
    let mut spec = RoutingSpec {
        span: key.span,
        field: field.to_string(),
        ..RoutingSpec::default()
    };
    let mut protocol_given = false;
    for (k, v) in entries {
        let f = k.field.as_str();
        match k.value.as_str() {
            "protocol" => {
                protocol_given = true;
                spec.protocol = protocol(v, f, sink);
            }
            "min_prefix_len" => {
                spec.min_prefix_len =
                    integer(v, f, "min_prefix_len", (0, 32), "", sink).map(|n| n.map(|n| n as u8))
            }
            "maximum_paths" => {
                spec.maximum_paths =
                    integer(v, f, "maximum_paths", (1, 64), "", sink).map(|n| n.map(|n| n as u8))
            }
            "timers" => spec.timers = walk_timers(v, &k, sink),
            "update_delay" => spec.update_delay = walk_update_delay(v, &k, sink),
            "peering" => {
                spec.peering =
                    word(v, f, "`peering`", &["numbered", "interface"], sink).map(|(w, s)| {
                        let p = if w == "interface" {
                            PeeringValue::Interface
                        } else {
                            PeeringValue::Numbered
                        };
                        spanned(p, s, f)
                    })
            }
            "router_id" => {
                spec.router_id =
                    word(v, f, "`router_id`", &["id", "loopback"], sink).map(|(w, s)| {
                        let r = if w == "loopback" {
                            RouterIdValue::Loopback
                        } else {
                            RouterIdValue::Id
                        };
                        spanned(r, s, f)
                    })
            }
            other => unknown_key(sink, k.span, f, other, ROUTING_KEYS),
        }
    }
    if !protocol_given {
        sink.error(
            key.span,
            field,
            "`routing` needs `protocol`: `bgp`, `ospf` or `none`",
        );
    }
    Some(spec)
}

/// A mapping of whole seconds such as `{keepalive: 3, hold: 9}`: each of
/// `keys` (name, allowed range) parsed if given; unknown keys and bad
/// values are reported. The values in the order of `keys`, and whether
/// everything given was good.
fn seconds_map<const N: usize>(
    y: &Yaml,
    field: &str,
    keys: [(&str, (u64, u64)); N],
    sink: &mut Sink,
) -> Option<([Option<Spanned<u16>>; N], bool)> {
    let entries = expect_map(y, field, sink)?;
    let names: Vec<&str> = keys.iter().map(|(name, _)| *name).collect();
    let mut values: [Option<Spanned<u16>>; N] = std::array::from_fn(|_| None);
    let mut ok = true;
    for (k, v) in entries {
        let f = k.field.as_str();
        match keys.iter().position(|(name, _)| *name == k.value) {
            Some(i) => {
                values[i] = integer(v, f, keys[i].0, keys[i].1, " seconds", sink)
                    .map(|n| n.map(|n| n as u16));
                ok &= values[i].is_some();
            }
            None => {
                unknown_key(sink, k.span, f, &k.value, &names);
                ok = false;
            }
        }
    }
    Some((values, ok))
}

/// The rules BGP timers follow wherever they are given (`routing.timers`,
/// `netloom generate clos --timers`): a keepalive of at least 1 s, a hold
/// time of at least 3 s and longer than the keepalive.
pub fn check_timers(keepalive: u16, hold: u16) -> Result<(), String> {
    if keepalive == 0 {
        Err("the keepalive must be at least 1 second".into())
    } else if hold < 3 {
        Err(format!(
            "hold time {hold}s is too short: BGP takes at least 3 seconds"
        ))
    } else if hold <= keepalive {
        Err(format!(
            "hold time {hold}s must be longer than the keepalive ({keepalive}s)"
        ))
    } else {
        Ok(())
    }
}

/// Three keepalives per hold time, the usual choice.
pub fn usual_hold(keepalive: u16) -> u32 {
    (u32::from(keepalive) * 3).min(65535)
}

fn walk_timers(y: &Yaml, key: &Spanned<String>, sink: &mut Sink) -> Option<TimersSpec> {
    let field = key.field.as_str();
    let ([keepalive, hold], ok) = seconds_map(
        y,
        field,
        [("keepalive", (1, 65535)), ("hold", (0, 65535))],
        sink,
    )?;
    let spec = TimersSpec {
        keepalive,
        hold,
        span: key.span,
        field: field.to_string(),
    };
    match (&spec.keepalive, &spec.hold) {
        (Some(k), Some(h)) => {
            if let Err(e) = check_timers(k.value, h.value) {
                let hint = if h.value >= 3 {
                    format!(
                        "; three keepalives per hold time is usual (`hold: {}`)",
                        usual_hold(k.value)
                    )
                } else {
                    String::new()
                };
                sink.error(h.span, &h.field, format!("{e}{hint}"));
                return None;
            }
            Some(spec)
        }
        _ if ok => {
            let missing = if spec.keepalive.is_none() {
                "keepalive"
            } else {
                "hold"
            };
            sink.error(
                key.span,
                field,
                format!("`timers` needs both `keepalive` and `hold` (seconds, like `{{keepalive: 3, hold: 9}}`); `{missing}` is missing"),
            );
            None
        }
        _ => None,
    }
}

fn walk_update_delay(y: &Yaml, key: &Spanned<String>, sink: &mut Sink) -> Option<UpdateDelaySpec> {
    let field = key.field.as_str();
    let ([max, establish_wait], ok) = seconds_map(
        y,
        field,
        [("max", (0, 3600)), ("establish_wait", (1, 3600))],
        sink,
    )?;
    let spec = UpdateDelaySpec {
        max,
        establish_wait,
        span: key.span,
        field: field.to_string(),
    };
    if !ok {
        return None;
    }
    let Some(max) = &spec.max else {
        sink.error(
            key.span,
            field,
            "`update_delay` needs `max` (seconds, like `{max: 30, establish_wait: 10}`; `{max: 0}` turns it off)",
        );
        return None;
    };
    if let Some(w) = &spec.establish_wait {
        if max.value == 0 {
            sink.error(
                w.span,
                &w.field,
                "`establish_wait` has no effect with `max: 0` (update-delay off); remove one of them",
            );
            return None;
        }
        if w.value > max.value {
            sink.error(
                w.span,
                &w.field,
                format!(
                    "`establish_wait` {}s is longer than `max` {}s; FRR needs it no longer than `max`",
                    w.value, max.value
                ),
            );
            return None;
        }
    }
    Some(spec)
}

fn walk_node_routing(y: &Yaml, key: &Spanned<String>, sink: &mut Sink) -> Option<NodeRoutingSpec> {
    let field = key.field.as_str();
    let mut spec = NodeRoutingSpec {
        span: key.span,
        field: field.to_string(),
        ..NodeRoutingSpec::default()
    };
    if matches!(y.value, Value::Null) {
        return Some(spec);
    }
    let entries = expect_map(y, field, sink)?;
    for (k, v) in entries {
        let f = k.field.as_str();
        match k.value.as_str() {
            "protocol" => spec.protocol = protocol(v, f, sink),
            "asn" => {
                spec.asn = integer(
                    v,
                    f,
                    "asn",
                    (1, 4_294_967_294),
                    " (0 and 4294967295 are reserved)",
                    sink,
                )
                .map(|n| n.map(|n| n as u32))
            }
            "hub" => spec.hub = boolean(v, f, "hub", sink),
            "stub" => spec.stub = boolean(v, f, "stub", sink),
            "originate_default" => {
                spec.originate_default = boolean(v, f, "originate_default", sink)
            }
            other => unknown_key(sink, k.span, f, other, NODE_ROUTING_KEYS),
        }
    }
    Some(spec)
}

/// The shortest and longest VRRP advertisement intervals, nanoseconds.
const ADVERT_NS: (u64, u64) = (100_000_000, 40_000_000_000);

/// Reports the keys of `needed` a mapping did not give:
/// "`what` needs ...; `x` and `y` are missing".
fn report_missing(
    sink: &mut Sink,
    span: Span,
    field: &str,
    needed: &[&str],
    given: &[&str],
    needs: &str,
) -> bool {
    let missing: Vec<String> = needed
        .iter()
        .filter(|k| !given.contains(k))
        .map(|k| format!("`{k}`"))
        .collect();
    if missing.is_empty() {
        return false;
    }
    sink.error(
        span,
        field,
        format!(
            "{needs}; {} missing",
            if missing.len() == 1 {
                format!("{} is", missing[0])
            } else {
                format!("{} are", missing.join(" and "))
            }
        ),
    );
    true
}

fn walk_ha(y: &Yaml, key: &Spanned<String>, sink: &mut Sink) -> Option<HaSpec> {
    let field = key.field.as_str();
    let mut spec = HaSpec {
        span: key.span,
        field: field.to_string(),
        ..HaSpec::default()
    };
    let entries = match &y.value {
        Value::Null => Vec::new(),
        _ => expect_map(y, field, sink)?,
    };
    let mut given = Vec::new();
    for (k, v) in entries {
        let f = k.field.as_str();
        given.extend(HA_KEYS.iter().find(|n| **n == k.value));
        let ok = match k.value.as_str() {
            "peer" => {
                spec.peer = string(v, f, sink);
                spec.peer.is_some()
            }
            "vip" => {
                spec.vip = ip_address(v, f, "vip", sink).map(|a| a.map(IpValue));
                spec.vip.is_some()
            }
            "priority" => {
                spec.priority =
                    integer(v, f, "priority", (1, 254), "", sink).map(|n| n.map(|n| n as u8));
                spec.priority.is_some()
            }
            "advert" => {
                let d = quantity(v, f, "advert", "duration", "`1s`", units::duration, sink);
                let d = d.filter(|d| {
                    let text = describe(v);
                    let msg = if !(ADVERT_NS.0..=ADVERT_NS.1).contains(&d.value) {
                        format!("`advert` {text} is out of range 100ms..=40s")
                    } else if d.value % 10_000_000 != 0 {
                        format!(
                            "`advert` {text} is not a multiple of 10ms (VRRP counts centiseconds)"
                        )
                    } else {
                        return true;
                    };
                    sink.error(d.span, &d.field, msg);
                    false
                });
                spec.advert = d.map(|d| d.map(Duration));
                spec.advert.is_some()
            }
            other => {
                unknown_key(sink, k.span, f, other, HA_KEYS);
                false
            }
        };
        spec.invalid |= !ok;
    }
    // Keys not given at all (a wrong value is reported where it is).
    if report_missing(
        sink,
        key.span,
        field,
        &["peer", "vip"],
        &given,
        "`ha` needs `peer` (the other router of the pair) and `vip` (the gateway address both serve)",
    ) {
        spec.invalid = true;
    }
    Some(spec)
}

fn walk_addresses(y: &Yaml, key: &Spanned<String>, sink: &mut Sink) -> Option<AddressesSpec> {
    let field = key.field.as_str();
    let mut spec = AddressesSpec {
        span: key.span,
        field: field.to_string(),
        ..AddressesSpec::default()
    };
    if matches!(y.value, Value::Null) {
        return Some(spec);
    }
    let entries = expect_map(y, field, sink)?;
    for (iface, v) in entries {
        let f = iface.field.as_str();
        let example = "10.0.0.1/31";
        let list = match &v.value {
            Value::Scalar(..) => prefix(v, f, &iface.value, example, sink)
                .into_iter()
                .collect(),
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    prefix(item, &format!("{f}[{i}]"), &iface.value, example, sink)
                })
                .collect(),
            _ => {
                sink.error(
                    v.span,
                    f,
                    format!(
                        "expected an address with its prefix length like `{example}`, or a list of them, found {}",
                        v.type_name()
                    ),
                );
                continue;
            }
        };
        spec.entries.0.push((iface, list));
    }
    Some(spec)
}
