//! From what the file said ([`crate::spec`]) to the validated model.
//!
//! Inheritance follows containerlab (checked against its topology code and
//! node documentation):
//! - single values (`kind`, `image`, `startup-config`, `extras`, `site`,
//!   `routing`, `ha`, `config_extra`, `addresses`): the node's,
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

use crate::spec::{
    did_you_mean, AddressesSpec, AddressingSpec, EndpointSpec, HaSpec, NamedMap, NodeRoutingSpec,
    NodeSpec, ProtocolValue, RoutingSpec, SiteSpec, Spanned, StateValue, TopologyFileSpec,
    TopologySpec,
};
use crate::units;
use crate::yaml::Span;
use crate::Sink;
use netloom_model::{
    cities, Addressing, BgpPeering, Bind, Endpoint, FrrConfig, Ha, IfName, LabName, Link,
    LinkDefaults, Node, NodeKind, NodeName, Position, Prefix, RouterIdFrom, Routing, Site,
    SiteLatency, Topology, UpdateDelay, FRR_DAEMONS,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
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
    // `nodes: {}` written out is an empty lab (the web page starts one and
    // adds nodes live); no `nodes` at all is a mistake.
    if topo.nodes.is_none() && topo.span.is_known() {
        sink.error(
            topo.span,
            "topology.nodes",
            "the topology has no `nodes`; add some under `topology.nodes` (`nodes: {}` for an empty lab)",
        );
    }

    let empty_sites = NamedMap::default();
    let sites_spec = file.sites.as_ref().unwrap_or(&empty_sites);
    let sites = resolve_sites(sites_spec, sink);
    let site_names: Vec<&str> = sites_spec.0.iter().map(|(k, _)| k.value.as_str()).collect();
    let sites_latency = file
        .sites_latency
        .as_ref()
        .map(|f| read_sites_latency(f, file.sites_latency_block, &site_names, base_dir, sink))
        .unwrap_or_default();
    let link_defaults = file
        .link_defaults
        .as_ref()
        .map(|d| LinkDefaults {
            mode: d.mode.as_ref().map(|m| m.value.to_model()),
            impairments: d.impairments.to_model(),
        })
        .unwrap_or_default();

    let addressing = file
        .addressing
        .as_ref()
        .and_then(|a| resolve_addressing(a, sink));
    let routing = file
        .routing
        .as_ref()
        .and_then(|r| resolve_routing(r, file.addressing.as_ref(), sink));

    let mut nodes = BTreeMap::new();
    let mut kinds: HashMap<String, Option<NodeKind>> = HashMap::new();
    let mut fabric = Vec::new();
    for (key, spec) in &nodes_spec.0 {
        let name = match NodeName::new(key.value.clone()) {
            Ok(n) => Some(n),
            Err(e) => {
                sink.error(key.span, &key.field, e.to_string());
                None
            }
        };
        let node = resolve_node(key, name, spec, topo, &site_names, base_dir, sink);
        kinds.insert(key.value.clone(), node.as_ref().map(|(n, _)| n.kind));
        if let Some((node, intent)) = node {
            nodes.insert(node.name.clone(), node);
            fabric.push(intent);
        }
    }

    let links = resolve_links(topo, &kinds, sink);
    check_fabric(
        &Fabric {
            file,
            nodes: &fabric,
            kinds: &kinds,
            links: links.as_deref(),
        },
        sink,
    );

    if sink.has_errors() {
        return None;
    }
    Some(Topology {
        name: name?,
        nodes,
        links: links?,
        source: None,
        sites,
        sites_latency,
        addressing,
        routing,
        link_defaults,
    })
}

/// The sites, each checked: a valid name, and either a known city or both
/// coordinates. Sites with an error are left out (and reported).
fn resolve_sites(spec: &NamedMap<SiteSpec>, sink: &mut Sink) -> BTreeMap<String, Site> {
    let mut out = BTreeMap::new();
    for (key, site) in &spec.0 {
        let mut ok = true;
        if let Err(e) = NodeName::new(key.value.clone()) {
            // Sites follow the node naming rules.
            let msg = e.to_string().replacen("node name", "site name", 1);
            sink.error(key.span, &key.field, msg);
            ok = false;
        }
        let coords = match (&site.city, &site.lat, &site.lon) {
            _ if site.invalid => None,
            (Some(city), _, _) if site.lat.is_some() || site.lon.is_some() => {
                sink.error(
                    city.span,
                    &city.field,
                    format!(
                        "site `{}` gives both `city` and coordinates; give either `city: NAME` or `lat` and `lon`",
                        key.value
                    ),
                );
                None
            }
            (Some(city), _, _) => match cities::find(&city.value) {
                Some(c) => Some((c.lat, c.lon, Some(c.name.to_string()))),
                None => {
                    sink.error(city.span, &city.field, unknown_city(&city.value));
                    None
                }
            },
            (None, Some(lat), Some(lon)) => Some((lat.value, lon.value, None)),
            (None, None, None) => {
                // A wrong type in the mapping is already reported; an
                // empty site is not.
                if site.span.is_known() {
                    sink.error(
                        site.span,
                        &site.field,
                        format!("site `{}` needs `city: NAME` or `lat` and `lon`", key.value),
                    );
                }
                None
            }
            (None, lat, _) => {
                let (given, missing) = if lat.is_some() {
                    ("lat", "lon")
                } else {
                    ("lon", "lat")
                };
                sink.error(
                    site.span,
                    &site.field,
                    format!(
                        "site `{}` gives `{given}` but not `{missing}`; coordinates need both",
                        key.value
                    ),
                );
                None
            }
        };
        if let (true, Some((lat, lon, city))) = (ok, coords) {
            out.insert(
                key.value.clone(),
                Site {
                    name: key.value.clone(),
                    lat_udeg: (lat * 1e6).round() as i64,
                    lon_udeg: (lon * 1e6).round() as i64,
                    city,
                },
            );
        }
    }
    out
}

fn unknown_city(name: &str) -> String {
    let key = cities::fold(name);
    // The closest names (and aliases) by edit distance of their folded forms.
    let mut scored: Vec<(usize, &'static str)> = cities::CITIES
        .iter()
        .filter_map(|c| {
            c.names()
                .map(|n| crate::spec::distance(&key, &cities::fold(n)))
                .min()
                .map(|d| (d, c.name))
        })
        .collect();
    scored.sort();
    let limit = (key.chars().count() / 3).max(2);
    let best = scored.first().map_or(usize::MAX, |(d, _)| *d);
    let close: Vec<String> = scored
        .iter()
        .take_while(|(d, _)| *d <= limit && *d == best)
        .take(3)
        .map(|(_, n)| format!("`{n}`"))
        .collect();
    let hint = match close.as_slice() {
        [] => String::new(),
        [one] => format!("did you mean {one}? "),
        [init @ .., last] => format!("did you mean {} or {last}? ", init.join(", ")),
    };
    format!(
        "unknown city `{name}`; {hint}netloom has a table of {} cities; for a place not in it give `lat` and `lon` instead of `city`",
        cities::CITIES.len()
    )
}

/// Reads a `sites_latency` CSV file: `site_a,site_b,rtt_ms` lines, an
/// optional header (a first line whose third field is not a number), `#`
/// comments and blank lines. Every problem is reported at the YAML value,
/// naming the CSV line.
fn read_sites_latency(
    path: &Spanned<String>,
    block: bool,
    sites: &[&str],
    base_dir: &Path,
    sink: &mut Sink,
) -> Vec<SiteLatency> {
    let inline = block || path.value.contains('\n');
    let (text, name) = if inline {
        (path.value.clone(), "inline sites_latency".to_string())
    } else {
        let full = base_dir.join(&path.value);
        match std::fs::read_to_string(&full) {
            Ok(t) => (t, format!("`{}`", path.value)),
            Err(e) => {
                sink.error(
                    path.span,
                    &path.field,
                    format!("cannot read sites_latency `{}`: {e}", full.display()),
                );
                return Vec::new();
            }
        }
    };
    let mut out = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut first = true;
    // A block scalar's lines are the file's lines, from the first one with
    // text (where its span starts), when that line is not indented further.
    let leading = text.lines().take_while(|l| l.is_empty()).count();
    let by_line = block
        && text
            .lines()
            .nth(leading)
            .is_some_and(|l| !l.starts_with(char::is_whitespace));
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let span = if by_line {
            Span {
                line: (path.span.line + i).saturating_sub(leading),
                column: path.span.column + (raw.chars().count() - raw.trim_start().chars().count()),
                len: line.chars().count(),
            }
        } else {
            path.span
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let mut err =
            |msg: String| sink.error(span, &path.field, format!("{name} line {n}: {msg}"));
        let [a, b, rtt] = fields.as_slice() else {
            err(format!(
                "expected 3 fields `site_a,site_b,rtt_ms`, found {} in `{line}`",
                fields.len()
            ));
            first = false;
            continue;
        };
        let is_header = first && units::rtt_ms(rtt).is_err() && rtt.parse::<f64>().is_err();
        first = false;
        if is_header {
            continue;
        }
        let mut ok = true;
        for s in [a, b] {
            if !sites.contains(s) {
                let hint = did_you_mean(s, sites);
                let known = if sites.is_empty() {
                    "the topology has no `sites`".to_string()
                } else if hint.is_empty() {
                    let list: Vec<String> = sites.iter().map(|s| format!("`{s}`")).collect();
                    format!("known sites are {}", list.join(", "))
                } else {
                    hint
                };
                err(format!("unknown site `{s}`; {known}"));
                ok = false;
            }
        }
        let rtt_ns = match units::rtt_ms(rtt) {
            Ok(v) => Some(v),
            Err(msg) => {
                err(msg);
                None
            }
        };
        let (true, Some(rtt_ns)) = (ok, rtt_ns) else {
            continue;
        };
        let pair = if a <= b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        };
        if let Some(prev) = seen.get(&pair) {
            err(format!(
                "the RTT between `{a}` and `{b}` is already given on line {prev}"
            ));
        } else {
            seen.insert(pair, n);
            out.push(SiteLatency {
                a: a.to_string(),
                b: b.to_string(),
                rtt_ns,
            });
        }
    }
    out
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

/// The fabric settings a node ended up with (after inheritance), where
/// they were written, for the checks across nodes.
struct NodeIntent<'a> {
    key: &'a Spanned<String>,
    kind: NodeKind,
    /// Routers only.
    routing: Option<&'a NodeRoutingSpec>,
    /// Routers only.
    ha: Option<&'a HaSpec>,
    /// Routers and hosts.
    addresses: Option<&'a AddressesSpec>,
}

/// `None` if the node has an error (or its name had one).
fn resolve_node<'a>(
    key: &'a Spanned<String>,
    name: Option<NodeName>,
    spec: &'a NodeSpec,
    topo: &'a TopologySpec,
    sites: &[&str],
    base_dir: &Path,
    sink: &mut Sink,
) -> Option<(Node, NodeIntent<'a>)> {
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
    let site = chain.first(|l| l.site.as_ref());
    let standby = chain.first(|l| l.standby.as_ref());
    let restart = match chain.first(|l| l.restart.as_ref()) {
        None => netloom_model::RestartPolicy::OnFailure,
        Some(r) => match netloom_model::RestartPolicy::parse(&r.value) {
            Some(p) => p,
            None => {
                sink.error(
                    r.span,
                    &r.field,
                    format!(
                        "unknown restart policy `{}`; expected `always`, `on-failure` or `never`",
                        r.value
                    ),
                );
                netloom_model::RestartPolicy::OnFailure
            }
        },
    };
    let mut site_ok = true;
    if let Some(site) = site {
        if !sites.contains(&site.value.as_str()) {
            let help = if sites.is_empty() {
                "the file has no top-level `sites`; add one like `sites: {tokyo: {city: Tokyo}}`"
                    .to_string()
            } else {
                let hint = did_you_mean(&site.value, sites);
                if hint.is_empty() {
                    let list: Vec<String> = sites.iter().map(|s| format!("`{s}`")).collect();
                    format!("known sites are {}", list.join(", "))
                } else {
                    hint
                }
            };
            sink.error(
                site.span,
                &site.field,
                format!("unknown site `{}`; {help}", site.value),
            );
            site_ok = false;
        }
    }
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

    let startup_level = chain.first(|l| l.startup_config.as_ref().map(|_| l));
    let startup = startup_level.and_then(|l| l.startup_config.as_ref());
    let startup_inline = startup_level.is_some_and(|l| l.startup_config_block);
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
            if startup_inline || sc.value.contains('\n') {
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

    let node_routing = chain.first(|l| l.routing.as_ref());
    let ha = chain.first(|l| l.ha.as_ref());
    let config_extra = chain.first(|l| l.config_extra.as_ref());
    let addresses = chain.first(|l| l.addresses.as_ref());
    if kind != NodeKind::Router {
        let only = |sink: &mut Sink, what: &str, span: Span, field: &str| {
            sink.error(
                span,
                field,
                format!(
                    "only routers take `{what}`; node `{}` is a {kind}",
                    key.value
                ),
            )
        };
        if let Some(r) = node_routing {
            only(sink, "routing", r.span, &r.field);
        }
        if let Some(h) = ha {
            only(sink, "ha", h.span, &h.field);
        }
        if let Some(c) = config_extra {
            only(sink, "config_extra", c.span, &c.field);
        }
    }
    let addresses = match addresses {
        Some(a) if kind == NodeKind::Switch => {
            sink.error(
                a.span,
                &a.field,
                format!(
                    "only routers and hosts take `addresses`; node `{}` is a switch (a bridge that only forwards)",
                    key.value
                ),
            );
            None
        }
        a => a,
    };
    let router = kind == NodeKind::Router;
    let node_routing = node_routing.filter(|_| router);
    let ha = ha.filter(|_| router);

    let position = match &spec.position {
        Some(p) => p.to_model(),
        None => graph_position(&labels),
    };
    let node = Node {
        name: name?,
        kind,
        image: image.map(|i| i.value.clone()),
        frr,
        exec,
        env,
        labels,
        binds: kept,
        site: site.filter(|_| site_ok).map(|s| s.value.clone()),
        routing: node_routing.map(NodeRoutingSpec::to_model),
        ha: ha.and_then(ha_model),
        config_extra: config_extra.filter(|_| router).map(|c| c.value.clone()),
        addresses: addresses
            .map(|a| {
                a.entries
                    .0
                    .iter()
                    .map(|(iface, list)| {
                        (iface.value.clone(), list.iter().map(|p| p.value).collect())
                    })
                    .collect()
            })
            .unwrap_or_default(),
        position,
        restart,
        standby: match standby {
            Some(s) if s.value && kind != NodeKind::Router => {
                sink.error(
                    s.span,
                    &s.field,
                    format!(
                        "only routers keep a hot standby twin; node `{}` is a {}",
                        key.value,
                        kind.as_str()
                    ),
                );
                false
            }
            Some(s) => s.value,
            None => false,
        },
    };
    let intent = NodeIntent {
        key,
        kind,
        routing: node_routing,
        ha,
        addresses,
    };
    Some((node, intent))
}

/// containerlab's canvas position labels (`graph-posX`, `graph-posY`, as
/// its `graph` command reads them), when both are integers in range.
fn graph_position(labels: &BTreeMap<String, String>) -> Option<Position> {
    let get = |k: &str| {
        labels
            .get(k)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|v| v.abs() <= crate::spec::POSITION_MAX)
    };
    Some(Position {
        x: get("graph-posX")?,
        y: get("graph-posY")?,
    })
}

fn ha_model(spec: &HaSpec) -> Option<Ha> {
    if spec.invalid {
        return None;
    }
    Some(Ha {
        peer: NodeName::new(spec.peer.as_ref()?.value.clone()).ok()?,
        vip: spec.vip.as_ref()?.value.0,
        priority: spec.priority.as_ref().map(|p| p.value),
        advert_ms: spec.advert.as_ref().map(|a| (a.value.0 / 1_000_000) as u32),
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
            mode: spec.mode.as_ref().map(|m| m.value.to_model()),
            both: spec.impairments.to_model(),
            a_to_b: spec
                .a_to_b
                .as_ref()
                .map(|d| d.to_model())
                .unwrap_or_default(),
            b_to_a: spec
                .b_to_a
                .as_ref()
                .map(|d| d.to_model())
                .unwrap_or_default(),
            up: spec
                .state
                .as_ref()
                .is_none_or(|s| s.value == StateValue::Up),
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

/// A pool of `addressing:` of the right family, for the overlap check.
struct Pool<'a> {
    key: &'static str,
    v6: bool,
    spec: &'a Spanned<crate::spec::PrefixValue>,
}

/// Checks the pools: family, host bits, size, overlaps.
fn resolve_addressing(spec: &AddressingSpec, sink: &mut Sink) -> Option<Addressing> {
    let lan_len = spec.lan_len.as_ref().map_or(24, |l| l.value);
    let given = [
        ("p2p", false, 31, "a /31 per router-router link", &spec.p2p),
        ("loopback", false, 32, "a /32 per router", &spec.loopback),
        ("lan", false, lan_len, "host segments", &spec.lan),
        (
            "p2p6",
            true,
            127,
            "a /127 per router-router link",
            &spec.p2p6,
        ),
        ("loopback6", true, 128, "a /128 per router", &spec.loopback6),
    ];
    let mut ok = !spec.invalid;
    let mut good: Vec<Pool> = Vec::new();
    for (key, v6, unit, what, slot) in given {
        let Some(p) = slot else { continue };
        let prefix = p.value.0;
        if prefix.is_ipv4() == v6 {
            let (family, other) = if v6 {
                ("IPv6", "IPv4")
            } else {
                ("IPv4", "IPv6")
            };
            let instead = match key {
                "p2p" => " (IPv6 link addresses come from `p2p6`)",
                "loopback" => " (IPv6 loopbacks come from `loopback6`)",
                "p2p6" => " (IPv4 link addresses come from `p2p`)",
                "loopback6" => " (IPv4 loopbacks come from `loopback`)",
                _ => "",
            };
            sink.error(
                p.span,
                &p.field,
                format!("`{key}` takes an {family} prefix, but `{prefix}` is {other}{instead}"),
            );
            ok = false;
            continue;
        }
        if prefix.network() != prefix {
            sink.error(
                p.span,
                &p.field,
                format!(
                    "`{key}: {prefix}` has host bits set; a pool is a network address: did you mean `{}`?",
                    prefix.network()
                ),
            );
            ok = false;
            continue;
        }
        if prefix.len >= unit {
            let of = if key == "lan" {
                format!("`lan_len` (/{unit})")
            } else {
                format!("/{unit}")
            };
            sink.error(
                p.span,
                &p.field,
                format!(
                    "`{key}: {prefix}` is too small: the pool is cut into /{unit}s ({what}), so it must be shorter than {of}"
                ),
            );
            ok = false;
        }
        good.push(Pool { key, v6, spec: p });
    }
    // Report each overlap once, at the pool written later.
    good.sort_by_key(|p| (p.spec.span.line, p.spec.span.column));
    for (i, later) in good.iter().enumerate() {
        for earlier in &good[..i] {
            let (a, b) = (earlier.spec.value.0, later.spec.value.0);
            if earlier.v6 == later.v6 && (a.contains(&b) || b.contains(&a)) {
                sink.error(
                    later.spec.span,
                    &later.spec.field,
                    format!(
                        "`{}: {b}` overlaps `{}: {a}` (line {}); pools must not share addresses",
                        later.key, earlier.key, earlier.spec.span.line
                    ),
                );
                ok = false;
            }
        }
    }
    let get = |slot: &Option<Spanned<crate::spec::PrefixValue>>| slot.as_ref().map(|p| p.value.0);
    ok.then(|| Addressing {
        p2p: get(&spec.p2p),
        loopback: get(&spec.loopback),
        lan: get(&spec.lan),
        lan_len: spec
            .lan_len
            .as_ref()
            .map(|l| l.value)
            .or(spec.lan.as_ref().map(|_| lan_len)),
        p2p6: get(&spec.p2p6),
        loopback6: get(&spec.loopback6),
    })
}

fn resolve_routing(
    spec: &RoutingSpec,
    addressing: Option<&AddressingSpec>,
    sink: &mut Sink,
) -> Option<Routing> {
    let router_id = spec.router_id.as_ref().map(|r| r.value.to_model());
    if let (Some(RouterIdFrom::Loopback), Some(r)) = (router_id, &spec.router_id) {
        let has_pool = addressing.is_some_and(|a| a.loopback.is_some() || a.invalid);
        if !has_pool {
            sink.error(
                r.span,
                &r.field,
                "`router_id: loopback` takes each router's IPv4 loopback, but there is no loopback pool; add `addressing: {loopback: 10.255.0.0/24}` or use `router_id: id`",
            );
            return None;
        }
    }
    let defaults = Routing::default();
    Some(Routing {
        protocol: spec.protocol.as_ref()?.value.to_model(),
        min_prefix_len: spec
            .min_prefix_len
            .as_ref()
            .map_or(defaults.min_prefix_len, |m| m.value),
        maximum_paths: spec
            .maximum_paths
            .as_ref()
            .map_or(defaults.maximum_paths, |m| m.value),
        timers: spec
            .timers
            .as_ref()
            .and_then(|t| Some((t.keepalive.as_ref()?.value, t.hold.as_ref()?.value))),
        peering: spec
            .peering
            .as_ref()
            .map_or(BgpPeering::Numbered, |p| p.value.to_model()),
        router_id: router_id.unwrap_or(RouterIdFrom::Id),
        update_delay: match &spec.update_delay {
            None => defaults.update_delay,
            Some(d) => {
                let max = d.max.as_ref()?.value;
                (max > 0).then(|| UpdateDelay {
                    max,
                    establish_wait: d
                        .establish_wait
                        .as_ref()
                        .map_or(UpdateDelay::DEFAULT.establish_wait.min(max), |w| w.value),
                })
            }
        },
    })
}

/// Everything the checks across nodes look at.
struct Fabric<'a> {
    file: &'a TopologyFileSpec,
    nodes: &'a [NodeIntent<'a>],
    kinds: &'a HashMap<String, Option<NodeKind>>,
    /// `None` when a link has an error (interfaces are then not checked).
    links: Option<&'a [Link]>,
}

/// An address given somewhere in the file, for the duplicate check.
struct Given {
    addr: IpAddr,
    place: String,
    span: Span,
    field: String,
}

/// Checks across nodes: explicit addresses (interfaces, duplicates), HA
/// pairs, per-router routing against the lab's, pool sizes.
fn check_fabric(f: &Fabric, sink: &mut Sink) {
    let mut ifaces: HashMap<&str, Vec<&str>> = HashMap::new();
    for l in f.links.unwrap_or_default() {
        for e in [&l.a, &l.b] {
            ifaces
                .entry(e.node.as_str())
                .or_default()
                .push(e.iface.as_str());
        }
    }
    let mut given: Vec<Given> = Vec::new();

    for n in f.nodes {
        let Some(addresses) = n.addresses else {
            continue;
        };
        let node = n.key.value.as_str();
        for (iface, list) in &addresses.entries.0 {
            let own = ifaces.get(node).map(Vec::as_slice).unwrap_or_default();
            if f.links.is_some() && iface.value != "lo" && !own.contains(&iface.value.as_str()) {
                let known = if own.is_empty() {
                    format!("`{node}` has no links, so its only interface is `lo`")
                } else {
                    let mut sorted = own.to_vec();
                    sorted.sort();
                    let list: Vec<String> = sorted.iter().map(|i| format!("`{i}`")).collect();
                    let hint = did_you_mean(&iface.value, own);
                    let hint = if hint.is_empty() {
                        hint
                    } else {
                        format!("{hint} ")
                    };
                    format!("{hint}its interfaces are {} and `lo`", list.join(", "))
                };
                sink.error(
                    iface.span,
                    &iface.field,
                    format!(
                        "node `{node}` has no interface `{}` (no link uses it); {known}",
                        iface.value
                    ),
                );
            }
            for p in list {
                let a = p.value;
                if let Some(msg) = unusable_v4(&a) {
                    sink.error(p.span, &p.field, msg);
                    continue;
                }
                given.push(Given {
                    addr: a.addr,
                    place: format!("`{node}:{}`", iface.value),
                    span: p.span,
                    field: p.field.clone(),
                });
            }
        }
    }

    check_ha(f, &mut given, sink);

    // Duplicates, reported at the later one.
    given.sort_by_key(|g| (g.span.line, g.span.column));
    let mut first: HashMap<IpAddr, usize> = HashMap::new();
    for (i, g) in given.iter().enumerate() {
        match first.get(&g.addr) {
            Some(&j) => {
                let earlier = &given[j];
                sink.error(
                    g.span,
                    &g.field,
                    format!(
                        "address `{}` of {} is already used by {} (line {}); every address in a lab is unique",
                        g.addr, g.place, earlier.place, earlier.span.line
                    ),
                );
            }
            None => {
                first.insert(g.addr, i);
            }
        }
    }

    check_node_routing(f, sink);
    check_pool_sizes(f, sink);
}

/// An IPv4 interface address that is its subnet's network or broadcast
/// address (for subnets that have those, /30 and shorter).
fn unusable_v4(p: &Prefix) -> Option<String> {
    if !p.is_ipv4() || p.len > 30 {
        return None;
    }
    let net = p.network();
    let IpAddr::V4(a) = p.addr else { return None };
    let host_bits = 32 - u32::from(p.len);
    let host_mask = if host_bits == 32 {
        u32::MAX
    } else {
        (1u32 << host_bits) - 1
    };
    let host = u32::from(a) & host_mask;
    let first = match net.addr {
        IpAddr::V4(n) => u32::from(n) + 1,
        IpAddr::V6(_) => return None,
    };
    if host == 0 {
        Some(format!(
            "`{p}` is the network address of `{net}`; give a host address like `{}/{}`",
            std::net::Ipv4Addr::from(first),
            p.len
        ))
    } else if host == host_mask {
        Some(format!(
            "`{p}` is the broadcast address of `{net}`; give a host address like `{}/{}`",
            std::net::Ipv4Addr::from(first),
            p.len
        ))
    } else {
        None
    }
}

/// HA pairs: the peer is another router that names this one back, with
/// the same vip, a different priority, on a shared segment.
fn check_ha(f: &Fabric, given: &mut Vec<Given>, sink: &mut Sink) {
    let by_name: HashMap<&str, &NodeIntent> =
        f.nodes.iter().map(|n| (n.key.value.as_str(), n)).collect();
    let mut names: Vec<&str> = f.kinds.keys().map(String::as_str).collect();
    names.sort();
    for n in f.nodes {
        let Some(ha) = n.ha else { continue };
        let Some(peer) = &ha.peer else { continue };
        let me = n.key.value.as_str();
        let p = peer.value.as_str();
        if p == me {
            sink.error(
                peer.span,
                &peer.field,
                format!("`ha.peer` of `{me}` names `{me}` itself; it names the other router of the pair"),
            );
            continue;
        }
        match f.kinds.get(p) {
            None => {
                let others: Vec<&str> = names.iter().copied().filter(|n| *n != me).collect();
                let hint = did_you_mean(p, &others);
                let hint = if hint.is_empty() {
                    String::new()
                } else {
                    format!("; {hint}")
                };
                sink.error(
                    peer.span,
                    &peer.field,
                    format!("HA peer `{p}` of `{me}` is not a node of the lab{hint}"),
                );
                continue;
            }
            Some(None) => continue,
            Some(Some(NodeKind::Router)) => {}
            Some(Some(kind)) => {
                sink.error(
                    peer.span,
                    &peer.field,
                    format!("HA peer `{p}` of `{me}` is a {kind}; an HA pair is two routers"),
                );
                continue;
            }
        }
        let Some(other) = by_name.get(p) else {
            continue;
        };
        let theirs = match other.ha {
            None => {
                sink.error(
                    peer.span,
                    &peer.field,
                    format!(
                        "`{p}` does not name `{me}` back: both routers of an HA pair declare each other; give `{p}` `ha: {{peer: {me}, vip: ...}}`"
                    ),
                );
                continue;
            }
            Some(h) => h,
        };
        let Some(back) = &theirs.peer else { continue };
        if back.value != me {
            sink.error(
                peer.span,
                &peer.field,
                format!(
                    "`{p}` does not name `{me}` back: its `ha.peer` is `{}` (line {}); both routers of an HA pair declare each other",
                    back.value, back.span.line
                ),
            );
            continue;
        }
        // A reciprocal pair: the rest is checked once, from the member
        // whose name sorts last.
        if me < p {
            continue;
        }
        if let (Some(mine), Some(their)) = (&ha.vip, &theirs.vip) {
            if mine.value != their.value {
                sink.error(
                    mine.span,
                    &mine.field,
                    format!(
                        "vip `{}` of `{me}` differs from `{p}`'s vip `{}` (line {}); both routers of an HA pair serve the same address",
                        mine.value.0, their.value.0, their.span.line
                    ),
                );
            } else {
                given.push(Given {
                    addr: mine.value.0,
                    place: format!("HA pair `{p}`/`{me}` (its vip)"),
                    span: their.span.min(mine.span),
                    field: their.field.clone(),
                });
            }
        }
        if let (Some(mine), Some(their)) = (&ha.priority, &theirs.priority) {
            if mine.value == their.value {
                sink.error(
                    mine.span,
                    &mine.field,
                    format!(
                        "priority {} of `{me}` equals `{p}`'s (line {}); the primary of an HA pair has the higher priority",
                        mine.value, their.span.line
                    ),
                );
            }
        }
        if let Some(links) = f.links {
            if !share_segment(links, f.kinds, me, p) {
                sink.error(
                    ha.span,
                    &ha.field,
                    format!(
                        "HA pair `{p}`/`{me}` shares no segment: both routers must link to the same switch (or switches joined by links), where the hosts they serve are"
                    ),
                );
            }
        }
    }
}

/// Whether routers `a` and `b` both link to one segment: a switch, or
/// switches linked together.
fn share_segment(
    links: &[Link],
    kinds: &HashMap<String, Option<NodeKind>>,
    a: &str,
    b: &str,
) -> bool {
    let is_switch = |n: &str| matches!(kinds.get(n), Some(Some(NodeKind::Switch)));
    // Union-find over switches.
    let mut parent: HashMap<&str, &str> = HashMap::new();
    fn root<'s>(parent: &HashMap<&'s str, &'s str>, mut n: &'s str) -> &'s str {
        while let Some(p) = parent.get(n).filter(|p| **p != n) {
            n = p;
        }
        n
    }
    for l in links {
        let (x, y) = (l.a.node.as_str(), l.b.node.as_str());
        if is_switch(x) && is_switch(y) {
            let (rx, ry) = (root(&parent, x), root(&parent, y));
            if rx != ry {
                parent.insert(rx, ry);
            }
        }
    }
    let segments = |router: &str| -> BTreeSet<&str> {
        links
            .iter()
            .filter_map(|l| {
                if l.a.node.as_str() == router && is_switch(l.b.node.as_str()) {
                    Some(root(&parent, l.b.node.as_str()))
                } else if l.b.node.as_str() == router && is_switch(l.a.node.as_str()) {
                    Some(root(&parent, l.a.node.as_str()))
                } else {
                    None
                }
            })
            .collect()
    };
    !segments(a).is_disjoint(&segments(b))
}

/// A router's own `routing` against the lab's: it needs a protocol from
/// somewhere, and `asn` and `hub` are BGP's.
fn check_node_routing(f: &Fabric, sink: &mut Sink) {
    let lab = f.file.routing.as_ref();
    let lab_protocol = lab.and_then(|r| r.protocol.as_ref()).map(|p| p.value);
    for n in f.nodes {
        let Some(r) = n.routing else { continue };
        let protocol = r.protocol.as_ref().map(|p| p.value).or(lab_protocol);
        let node = n.key.value.as_str();
        let Some(protocol) = protocol else {
            if lab.is_none() {
                sink.error(
                    r.span,
                    &r.field,
                    format!(
                        "router `{node}` has `routing` without `protocol` and the lab has no top-level `routing`; add `protocol: bgp` (or `ospf`) here or `routing: {{protocol: bgp}}` at the top"
                    ),
                );
            }
            continue;
        };
        if protocol == ProtocolValue::Bgp {
            continue;
        }
        let runs = match protocol {
            ProtocolValue::Ospf => "OSPF",
            _ => "no routing protocol (`none`)",
        };
        if let Some(asn) = &r.asn {
            sink.error(
                asn.span,
                &asn.field,
                format!("`asn` is a BGP setting, but router `{node}` runs {runs}"),
            );
        }
        if let Some(hub) = r.hub.as_ref().filter(|h| h.value) {
            sink.error(
                hub.span,
                &hub.field,
                format!("`hub` is a BGP setting, but router `{node}` runs {runs}"),
            );
        }
    }
    // BGP-only lab settings when no router runs BGP.
    if let Some(lab) = lab {
        let any_bgp = lab_protocol == Some(ProtocolValue::Bgp)
            || f.nodes.iter().any(|n| {
                n.routing
                    .and_then(|r| r.protocol.as_ref())
                    .is_some_and(|p| p.value == ProtocolValue::Bgp)
            });
        if lab_protocol.is_some() && !any_bgp {
            if let Some(t) = &lab.timers {
                sink.warn(
                    t.span,
                    &t.field,
                    "`timers` are BGP timers, but no router runs BGP; they are ignored",
                );
            }
            if let Some(p) = &lab.peering {
                sink.warn(
                    p.span,
                    &p.field,
                    "`peering` is a BGP setting, but no router runs BGP; it is ignored",
                );
            }
            if let Some(d) = &lab.update_delay {
                sink.warn(
                    d.span,
                    &d.field,
                    "`update_delay` is a BGP setting, but no router runs BGP; it is ignored",
                );
            }
        }
    }
}

/// How many `unit`-long subnets a prefix of length `len` holds (saturating).
fn capacity(len: u8, unit: u8) -> u64 {
    let bits = u32::from(unit.saturating_sub(len));
    if bits >= 64 {
        u64::MAX
    } else {
        1u64 << bits
    }
}

/// Pools too small for the lab: more router-router links than /31s (or
/// /127s), more routers than loopbacks. Links and routers that have
/// explicit addresses of the family do not count. What the planner
/// allocates may need more; this only catches what can never fit.
fn check_pool_sizes(f: &Fabric, sink: &mut Sink) {
    let (Some(links), Some(spec)) = (f.links, &f.file.addressing) else {
        return;
    };
    let explicit = |node: &str, iface: &str, v6: bool| {
        f.nodes.iter().any(|n| {
            n.key.value == node
                && n.addresses.is_some_and(|a| {
                    a.entries.0.iter().any(|(i, list)| {
                        i.value == iface && list.iter().any(|p| p.value.is_ipv4() != v6)
                    })
                })
        })
    };
    let is_router = |n: &str| matches!(f.kinds.get(n), Some(Some(NodeKind::Router)));
    let routers: Vec<&str> = f
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Router)
        .map(|n| n.key.value.as_str())
        .collect();
    for (key, v6, unit, written) in [
        ("p2p", false, 31, &spec.p2p),
        ("p2p6", true, 127, &spec.p2p6),
        ("loopback", false, 32, &spec.loopback),
        ("loopback6", true, 128, &spec.loopback6),
    ] {
        // Only pools that passed their own checks (the rest are reported).
        let Some(written) = written else { continue };
        let pool = written.value.0;
        if pool.is_ipv4() == v6 || pool.network() != pool || pool.len >= unit {
            continue;
        }
        let (need, what) = if key.starts_with("p2p") {
            let n = links
                .iter()
                .filter(|l| is_router(l.a.node.as_str()) && is_router(l.b.node.as_str()))
                .filter(|l| {
                    !explicit(l.a.node.as_str(), l.a.iface.as_str(), v6)
                        && !explicit(l.b.node.as_str(), l.b.iface.as_str(), v6)
                })
                .count();
            (n as u64, "router-router links")
        } else {
            let n = routers.iter().filter(|r| !explicit(r, "lo", v6)).count();
            (n as u64, "routers")
        };
        let room = capacity(pool.len, unit);
        if need > room {
            sink.error(
                written.span,
                &written.field,
                format!(
                    "`{key}: {pool}` holds {room} /{unit}s, but the lab has {need} {what} that need one; give a shorter prefix"
                ),
            );
        }
    }
}
