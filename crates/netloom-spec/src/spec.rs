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

use crate::yaml::{Span, Value, Yaml};
use crate::Sink;
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
pub(crate) const TOP_LATER: &[&str] = &["sites", "addressing", "routing"];

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

/// Node keys planned for later issues.
pub(crate) const NODE_LATER: &[&str] = &["site"];

/// Link keys planned for later issues (impairments).
pub(crate) const LINK_LATER: &[&str] = &[
    "delay", "jitter", "loss", "rate", "a_to_b", "b_to_a", "mode",
];

/// containerlab link keys netloom accepts and ignores.
pub(crate) const LINK_IGNORED: &[&str] = &["labels", "vars"];

const TOP_KEYS: &[&str] = &["name", "topology"];
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
];
const LINK_KEYS: &[&str] = &["type", "endpoints", "mtu"];

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
fn distance(a: &str, b: &str) -> usize {
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
            k if NODE_LATER.contains(&k) => {
                sink.error(key.span, f, format!("`{k}` is not supported yet"))
            }
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
            k if LINK_LATER.contains(&k) => sink.error(
                key.span,
                f,
                format!("link impairments are not supported yet (`{k}`)"),
            ),
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
    ok.then_some(spec)
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
