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
use netloom_model::{LinkMode, Loss, Ppm, QueueLimit};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use std::borrow::Cow;

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
    /// A CSV file (relative to the topology file) of measured round-trip
    /// times that override the distance model: `site_a,site_b,rtt_ms` lines,
    /// an optional header, `#` comments.
    pub sites_latency: Option<Spanned<String>>,
    /// Link settings every link inherits unless it sets them itself.
    pub link_defaults: Option<LinkDefaultsSpec>,
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
    /// inline text (a value with a line break).
    pub startup_config: Option<Spanned<String>>,
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
    #[schemars(skip)]
    pub span: Span,
    #[schemars(skip)]
    pub field: String,
    /// `kind` was given but was not a string (already reported).
    #[schemars(skip)]
    pub kind_invalid: bool,
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

/// Top-level netloom keys planned for later issues: they change behaviour,
/// so they are refused rather than ignored.
pub(crate) const TOP_LATER: &[&str] = &["addressing", "routing"];

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
            "sites_latency" => spec.sites_latency = string(value, "sites_latency", sink),
            "link_defaults" => spec.link_defaults = walk_link_defaults(value, sink),
            k if TOP_LATER.contains(&k) => {
                sink.error(key.span, &key.field, format!("`{k}` is not supported yet"))
            }
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
            "startup-config" => spec.startup_config = string(value, f, sink),
            "exec" => spec.exec = string_list(value, f, sink),
            "binds" => spec.binds = string_list(value, f, sink),
            "env" => spec.env = scalar_map(value, f, sink),
            "labels" => spec.labels = scalar_map(value, f, sink),
            "extras" => spec.extras = walk_extras(value, f, sink),
            "site" => spec.site = string(value, f, sink),
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
