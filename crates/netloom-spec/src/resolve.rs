//! From what the file said ([`crate::spec`]) to the validated model.
//!
//! Inheritance follows containerlab (checked against its topology code and
//! node documentation):
//! - single values (`kind`, `image`, `startup-config`, `extras`): the node's,
//!   else its group's, else `kinds[<kind>]`'s, else `defaults`'; `kind` itself
//!   comes from the node, its group or `defaults`;
//! - `env` and `labels`: merged, the more specific level wins per key;
//! - `exec`: concatenated, defaults first, then kind, group, node;
//! - `binds`: merged, and a bind to the same container path on a more
//!   specific level replaces the inherited one (in its place).
//!
//! Kinds: `router`/`frr` → router, `host`/`linux` → host, `switch` → switch.
//! A `linux` node whose image names FRR (`frrouting/frr:...`) or that binds
//! anything into `/etc/frr` is a router, silently: that is how containerlab's
//! own FRR examples declare routers.
//!
//! FRR configuration of a router: `startup-config` (a path relative to the
//! topology file, or inline text when it holds a line break), else a bind to
//! `/etc/frr/frr.conf`, else the `frr.conf` in a directory bound to
//! `/etc/frr`. When both `startup-config` and a bound `frr.conf` are given,
//! `startup-config` wins and the bind gets a warning (containerlab's FRR
//! kind treats `startup-config` as the configuration too). The daemons to
//! start come from `extras.frr.daemons`, else from a bound `daemons` file
//! (`bgpd=yes` lines). Binds consumed this way (and `vtysh.conf`) are not
//! kept in [`Node::binds`]; any other bind is kept with a warning, because
//! netloom does not mount anything.

use crate::spec::{EndpointSpec, NamedMap, NodeSpec, Spanned, TopologyFileSpec, TopologySpec};
use crate::yaml::Span;
use crate::Sink;
use netloom_model::{
    Bind, Endpoint, FrrConfig, IfName, LabName, Link, Node, NodeKind, NodeName, Topology,
    FRR_DAEMONS,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// Daemons a `daemons` file or `extras.frr.daemons` may turn on; zebra,
/// mgmtd and staticd are always started.
pub(crate) const OPTIONAL_DAEMONS: &[&str] = &[
    "bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "ldpd", "nhrpd", "eigrpd",
    "babeld", "sharpd", "pbrd", "bfdd", "fabricd", "vrrpd", "pathd",
];

const KINDS_HELP: &str = "netloom runs `router` (or `frr`), `host` (or `linux`) and `switch`";

pub(crate) fn resolve(
    file: &TopologyFileSpec,
    base_dir: &Path,
    sink: &mut Sink,
) -> Option<Topology> {
    let name = if file.name.span.is_known() {
        match LabName::new(file.name.value.clone()) {
            Ok(n) => Some(n),
            Err(e) => {
                sink.error(file.name.span, "name", e.to_string());
                None
            }
        }
    } else {
        None
    };

    let topo = &file.topology;
    let empty = NamedMap::default();
    let nodes_spec = topo.nodes.as_ref().unwrap_or(&empty);
    if nodes_spec.0.is_empty() && topo.span.is_known() {
        sink.error(
            topo.span,
            "topology.nodes",
            "the topology has no nodes; add some under `topology.nodes`",
        );
    }

    let mut nodes = BTreeMap::new();
    let mut kinds: HashMap<String, Option<NodeKind>> = HashMap::new();
    for (key, spec) in &nodes_spec.0 {
        let name = match NodeName::new(key.value.clone()) {
            Ok(n) => Some(n),
            Err(e) => {
                sink.error(key.span, &key.field, e.to_string());
                None
            }
        };
        let node = resolve_node(key, name, spec, topo, base_dir, sink);
        kinds.insert(key.value.clone(), node.as_ref().map(|n| n.kind));
        if let Some(node) = node {
            nodes.insert(node.name.clone(), node);
        }
    }

    let links = resolve_links(topo, &kinds, sink);

    if sink.has_errors() {
        return None;
    }
    Some(Topology {
        name: name?,
        nodes,
        links: links?,
        source: None,
    })
}

/// The levels a node inherits from, most specific first.
struct Chain<'a> {
    levels: Vec<&'a NodeSpec>,
}

impl<'a> Chain<'a> {
    fn first<T>(&self, get: impl Fn(&'a NodeSpec) -> Option<&'a T>) -> Option<&'a T> {
        self.levels.iter().find_map(|l| get(l))
    }

    /// Least specific first.
    fn outward_in(&self) -> impl Iterator<Item = &'a NodeSpec> + '_ {
        self.levels.iter().rev().copied()
    }
}

/// `None` if the node has an error (or its name had one).
fn resolve_node(
    key: &Spanned<String>,
    name: Option<NodeName>,
    spec: &NodeSpec,
    topo: &TopologySpec,
    base_dir: &Path,
    sink: &mut Sink,
) -> Option<Node> {
    let group = spec
        .group
        .as_ref()
        .and_then(|g| topo.groups.as_ref().and_then(|gs| gs.get(&g.value)));
    let defaults = topo.defaults.as_ref();
    let kind_name = spec
        .kind
        .as_ref()
        .or_else(|| group.and_then(|g| g.kind.as_ref()))
        .or_else(|| defaults.and_then(|d| d.kind.as_ref()));
    let Some(kind_name) = kind_name else {
        let reported = spec.kind_invalid
            || group.is_some_and(|g| g.kind_invalid)
            || defaults.is_some_and(|d| d.kind_invalid);
        if reported {
            return None;
        }
        sink.error(
            key.span,
            &key.field,
            format!(
                "node `{}` has no kind; set `kind` on the node, its group or in `topology.defaults` ({KINDS_HELP})",
                key.value
            ),
        );
        return None;
    };
    let kind_spec = topo.kinds.as_ref().and_then(|k| k.get(&kind_name.value));

    let mut levels = vec![spec];
    levels.extend(group);
    levels.extend(kind_spec);
    levels.extend(defaults);
    let chain = Chain { levels };

    let image = chain.first(|l| l.image.as_ref());
    let binds = merged_binds(&chain, base_dir, sink);

    let kind = match kind_name.value.as_str() {
        "router" | "frr" => NodeKind::Router,
        "switch" => NodeKind::Switch,
        "host" | "linux" => {
            let frr_image = image.is_some_and(|i| i.value.to_ascii_lowercase().contains("frr"));
            let frr_binds = binds
                .iter()
                .any(|b| b.container == "/etc/frr" || b.container.starts_with("/etc/frr/"));
            if frr_image || frr_binds {
                NodeKind::Router
            } else {
                NodeKind::Host
            }
        }
        "bridge" | "ovs-bridge" => {
            sink.error(
                kind_name.span,
                &kind_name.field,
                format!(
                    "containerlab's `{}` kind is not supported; use `kind: switch` for a Linux bridge",
                    kind_name.value
                ),
            );
            return None;
        }
        other => {
            sink.error(
                kind_name.span,
                &kind_name.field,
                format!("kind `{other}` is not supported; {KINDS_HELP}"),
            );
            return None;
        }
    };

    let mut exec = Vec::new();
    let mut env = BTreeMap::new();
    let mut labels = BTreeMap::new();
    for level in chain.outward_in() {
        exec.extend(level.exec.iter().flatten().map(|e| e.value.clone()));
        for (k, v) in level.env.iter().flat_map(|m| m.0.iter()) {
            env.insert(k.value.clone(), v.value.clone());
        }
        for (k, v) in level.labels.iter().flat_map(|m| m.0.iter()) {
            labels.insert(k.value.clone(), v.value.clone());
        }
    }

    let startup = chain.first(|l| l.startup_config.as_ref());
    let extras_daemons = chain.first(|l| {
        l.extras
            .as_ref()
            .and_then(|e| e.frr.as_ref())
            .and_then(|f| f.daemons.as_ref())
    });

    let mut frr = None;
    let mut kept = Vec::new();
    if kind == NodeKind::Router {
        let mut cfg = FrrConfig {
            config: None,
            config_origin: None,
            daemons: None,
        };
        if let Some(sc) = startup {
            if sc.value.contains('\n') {
                cfg.config = Some(sc.value.clone());
                cfg.config_origin = Some("inline".to_string());
            } else {
                let path = base_dir.join(&sc.value);
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        cfg.config = Some(text);
                        cfg.config_origin = Some(sc.value.clone());
                    }
                    Err(e) => sink.error(
                        sc.span,
                        &sc.field,
                        format!("cannot read startup-config `{}`: {e}", path.display()),
                    ),
                }
            }
        }
        let mut daemons_from_file: Option<(&Spanned<String>, Vec<String>)> = None;
        for b in binds {
            let container = b.container.trim_end_matches('/');
            match container {
                "/etc/frr/frr.conf" => {
                    if let Some(sc) = startup {
                        sink.warn(
                            b.spec.span,
                            &b.spec.field,
                            format!(
                                "`startup-config` (line {}) is the configuration; this bind of /etc/frr/frr.conf is ignored",
                                sc.span.line
                            ),
                        );
                    } else if let Some(text) = read_bound(&b, sink) {
                        cfg.config = Some(text);
                        cfg.config_origin = Some(format!("bind {}", b.host_written));
                    }
                }
                "/etc/frr/daemons" => {
                    if let Some(text) = read_bound(&b, sink) {
                        daemons_from_file = Some((b.spec, parse_daemons(&text)));
                    }
                }
                "/etc/frr/vtysh.conf" => {}
                "/etc/frr" if Path::new(&b.bind.host).is_dir() => {
                    let dir = Path::new(&b.bind.host);
                    let conf = dir.join("frr.conf");
                    if startup.is_none() && conf.is_file() {
                        match std::fs::read_to_string(&conf) {
                            Ok(text) => {
                                cfg.config = Some(text);
                                cfg.config_origin =
                                    Some(format!("bind {}/frr.conf", b.host_written));
                            }
                            Err(e) => sink.error(
                                b.spec.span,
                                &b.spec.field,
                                format!("cannot read `{}`: {e}", conf.display()),
                            ),
                        }
                    }
                    let daemons = dir.join("daemons");
                    if daemons.is_file() {
                        match std::fs::read_to_string(&daemons) {
                            Ok(text) => daemons_from_file = Some((b.spec, parse_daemons(&text))),
                            Err(e) => sink.error(
                                b.spec.span,
                                &b.spec.field,
                                format!("cannot read `{}`: {e}", daemons.display()),
                            ),
                        }
                    }
                }
                _ => {
                    warn_not_mounted(&b, sink);
                    kept.push(b.bind.clone());
                }
            }
        }
        cfg.daemons = match (extras_daemons, daemons_from_file) {
            (Some(list), file) => {
                if let Some((bind, _)) = file {
                    sink.warn(
                        bind.span,
                        &bind.field,
                        "`extras.frr.daemons` chooses the daemons; this daemons file is ignored",
                    );
                }
                Some(check_daemon_list(list, sink))
            }
            (None, Some((_, list))) => Some(list),
            (None, None) => None,
        };
        frr = Some(cfg);
    } else {
        if let Some(sc) = startup {
            sink.error(
                sc.span,
                &sc.field,
                format!(
                    "`startup-config` is for routers only; node `{}` is a {kind}",
                    key.value
                ),
            );
        }
        if let Some(list) = extras_daemons {
            if let Some(first) = list.first() {
                sink.warn(
                    first.span,
                    &first.field,
                    format!(
                        "FRR daemons apply to routers only; node `{}` is a {kind}, so they are ignored",
                        key.value
                    ),
                );
            }
        }
        for b in binds {
            warn_not_mounted(&b, sink);
            kept.push(b.bind.clone());
        }
    }

    Some(Node {
        name: name?,
        kind,
        image: image.map(|i| i.value.clone()),
        frr,
        exec,
        env,
        labels,
        binds: kept,
    })
}

fn warn_not_mounted(b: &ParsedBind, sink: &mut Sink) {
    sink.warn(
        b.spec.span,
        &b.spec.field,
        format!(
            "netloom does not mount binds (nodes see the machine's filesystem); `{}` is recorded only",
            b.spec.value
        ),
    );
}

fn read_bound(b: &ParsedBind, sink: &mut Sink) -> Option<String> {
    match std::fs::read_to_string(&b.bind.host) {
        Ok(text) => Some(text),
        Err(e) => {
            sink.error(
                b.spec.span,
                &b.spec.field,
                format!(
                    "cannot read `{}` (bound to {}): {e}",
                    b.bind.host, b.bind.container
                ),
            );
            None
        }
    }
}

fn check_daemon_list(list: &[Spanned<String>], sink: &mut Sink) -> Vec<String> {
    let mut set = BTreeSet::new();
    for d in list {
        if OPTIONAL_DAEMONS.contains(&d.value.as_str()) {
            set.insert(d.value.as_str());
        } else if !matches!(d.value.as_str(), "zebra" | "staticd" | "mgmtd") {
            sink.error(
                d.span,
                &d.field,
                format!(
                    "unknown FRR daemon `{}`; known are {}",
                    d.value,
                    OPTIONAL_DAEMONS.join(", ")
                ),
            );
        }
    }
    in_start_order(&set)
}

fn in_start_order(set: &BTreeSet<&str>) -> Vec<String> {
    FRR_DAEMONS
        .iter()
        .filter(|d| set.contains(*d))
        .map(|d| d.to_string())
        .collect()
}

/// The daemons an FRR `daemons` file turns on (`bgpd=yes`), in start order.
/// zebra, mgmtd and staticd are always started and so not listed.
pub(crate) fn parse_daemons(text: &str) -> Vec<String> {
    let mut set = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').trim_matches('\'');
        let name = name.trim();
        if value == "yes" {
            if let Some(d) = OPTIONAL_DAEMONS.iter().find(|d| **d == name) {
                set.insert(*d);
            }
        }
    }
    in_start_order(&set)
}

struct ParsedBind<'a> {
    spec: &'a Spanned<String>,
    /// The host path as written, for messages and origins.
    host_written: String,
    container: String,
    bind: Bind,
}

const BIND_MODES: &[&str] = &[
    "ro", "rw", "z", "Z", "shared", "rshared", "slave", "rslave", "private", "rprivate", "nocopy",
];

fn parse_bind<'a>(spec: &'a Spanned<String>, base_dir: &Path) -> Result<ParsedBind<'a>, String> {
    let parts: Vec<&str> = spec.value.split(':').collect();
    let bad = || {
        format!(
            "bind `{}` is not of the form host-path:container-path[:ro|rw]",
            spec.value
        )
    };
    let (host, container, mode) = match parts.as_slice() {
        [h, c] => (*h, *c, None),
        [h, c, m] => (*h, *c, Some(*m)),
        _ => return Err(bad()),
    };
    if host.is_empty() || container.is_empty() {
        return Err(bad());
    }
    if !container.starts_with('/') {
        return Err(format!(
            "bind `{}`: the container path `{container}` must be absolute",
            spec.value
        ));
    }
    if let Some(mode) = mode {
        if let Some(bad) = mode.split(',').find(|m| !BIND_MODES.contains(m)) {
            return Err(format!(
                "bind `{}`: unknown mode `{bad}`; use `ro` or `rw`",
                spec.value
            ));
        }
    }
    let resolved = base_dir.join(host);
    Ok(ParsedBind {
        spec,
        host_written: host.to_string(),
        container: container.to_string(),
        bind: Bind {
            host: resolved.display().to_string(),
            container: container.to_string(),
            mode: mode.map(str::to_string),
        },
    })
}

/// Binds from every level, least specific first; a more specific bind to the
/// same container path replaces the inherited one. Each is checked for its
/// form and that its source exists.
fn merged_binds<'a>(chain: &Chain<'a>, base_dir: &Path, sink: &mut Sink) -> Vec<ParsedBind<'a>> {
    let mut out: Vec<ParsedBind<'a>> = Vec::new();
    for level in chain.outward_in() {
        for spec in level.binds.iter().flatten() {
            match parse_bind(spec, base_dir) {
                Ok(b) => match out.iter_mut().find(|o| {
                    o.container.trim_end_matches('/') == b.container.trim_end_matches('/')
                }) {
                    Some(slot) => *slot = b,
                    None => out.push(b),
                },
                Err(msg) => sink.error(spec.span, &spec.field, msg),
            }
        }
    }
    out.retain(|b| match std::fs::metadata(&b.bind.host) {
        Ok(_) => true,
        Err(e) => {
            sink.error(
                b.spec.span,
                &b.spec.field,
                format!("bind source `{}` cannot be used: {e}", b.bind.host),
            );
            false
        }
    });
    out
}

/// Containerlab's special endpoint nodes that stand for things outside the
/// lab; netloom has none of them.
const SPECIAL_ENDPOINTS: &[&str] = &["host", "mgmt-net", "macvlan"];

fn resolve_links(
    topo: &TopologySpec,
    kinds: &HashMap<String, Option<NodeKind>>,
    sink: &mut Sink,
) -> Option<Vec<Link>> {
    let mut links = Vec::new();
    let mut used: HashMap<(String, String), (usize, usize)> = HashMap::new();
    let mut ok = true;
    for (i, spec) in topo.links.iter().flatten().enumerate() {
        let mut ends = Vec::new();
        for ep in &spec.endpoints {
            match endpoint(ep, kinds, sink) {
                Some(e) => ends.push(e),
                None => ok = false,
            }
        }
        let [(a, a_span, a_field), (b, b_span, b_field)] = match <[_; 2]>::try_from(ends) {
            Ok(pair) => pair,
            Err(_) => {
                ok = false;
                continue;
            }
        };
        if a == b {
            sink.error(
                b_span,
                &b_field,
                format!("link {i} connects `{a}` to itself"),
            );
            ok = false;
            continue;
        }
        let mut link_ok = true;
        for (e, span, field) in [(&a, a_span, &a_field), (&b, b_span, &b_field)] {
            let key = (e.node.to_string(), e.iface.to_string());
            if let Some((first_link, first_line)) = used.get(&key) {
                sink.error(
                    span,
                    field,
                    format!(
                        "interface `{e}` is already used by link {first_link} (line {first_line})"
                    ),
                );
                link_ok = false;
            } else {
                used.insert(key, (i, span.line));
            }
        }
        if !link_ok {
            ok = false;
            continue;
        }
        links.push(Link {
            a,
            b,
            mtu: spec.mtu.as_ref().map(|m| m.value),
        });
    }
    ok.then_some(links)
}

fn endpoint(
    ep: &EndpointSpec,
    kinds: &HashMap<String, Option<NodeKind>>,
    sink: &mut Sink,
) -> Option<(Endpoint, Span, String)> {
    let (node, iface, span, field) = match ep {
        EndpointSpec::Brief(s) => {
            let Some((node, iface)) = s
                .value
                .split_once(':')
                .filter(|(n, i)| !n.is_empty() && !i.is_empty())
            else {
                sink.error(
                    s.span,
                    &s.field,
                    format!(
                        "endpoint `{}` is not of the form node:interface (like `r1:eth1`)",
                        s.value
                    ),
                );
                return None;
            };
            (node.to_string(), iface.to_string(), s.span, s.field.clone())
        }
        EndpointSpec::Extended(e) => (
            e.node.value.clone(),
            e.interface.value.clone(),
            e.node.span,
            e.field.clone(),
        ),
    };
    let mut ok = true;
    if !kinds.contains_key(&node) {
        let msg = if SPECIAL_ENDPOINTS.contains(&node.as_str()) {
            format!("containerlab's special endpoint `{node}:{iface}` is not supported; netloom links join two nodes of the lab")
        } else {
            format!("endpoint names node `{node}`, which is not in `topology.nodes`")
        };
        sink.error(span, &field, msg);
        ok = false;
    }
    let node_name = NodeName::new(node.clone());
    let if_name = if iface == "lo" {
        sink.error(
            span,
            &field,
            "interface `lo` is the node's loopback and cannot be a link endpoint",
        );
        None
    } else {
        match IfName::new(iface) {
            Ok(i) => Some(i),
            Err(e) => {
                sink.error(span, &field, e.to_string());
                None
            }
        }
    };
    match (ok, node_name, if_name) {
        (true, Ok(node), Some(iface)) => Some((Endpoint { node, iface }, span, field)),
        _ => None,
    }
}
