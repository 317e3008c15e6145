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

use crate::spec::{
    did_you_mean, EndpointSpec, NamedMap, NodeSpec, SiteSpec, Spanned, StateValue,
    TopologyFileSpec, TopologySpec,
};
use crate::units;
use crate::yaml::Span;
use crate::Sink;
use netloom_model::{
    cities, Bind, Endpoint, FrrConfig, IfName, LabName, Link, LinkDefaults, Node, NodeKind,
    NodeName, Site, SiteLatency, Topology, FRR_DAEMONS,
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

    let empty_sites = NamedMap::default();
    let sites_spec = file.sites.as_ref().unwrap_or(&empty_sites);
    let sites = resolve_sites(sites_spec, sink);
    let site_names: Vec<&str> = sites_spec.0.iter().map(|(k, _)| k.value.as_str()).collect();
    let sites_latency = file
        .sites_latency
        .as_ref()
        .map(|f| read_sites_latency(f, &site_names, base_dir, sink))
        .unwrap_or_default();
    let link_defaults = file
        .link_defaults
        .as_ref()
        .map(|d| LinkDefaults {
            mode: d.mode.as_ref().map(|m| m.value.to_model()),
            impairments: d.impairments.to_model(),
        })
        .unwrap_or_default();

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
        let node = resolve_node(key, name, spec, topo, &site_names, base_dir, sink);
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
        sites,
        sites_latency,
        addressing: None,
        routing: None,
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
    sites: &[&str],
    base_dir: &Path,
    sink: &mut Sink,
) -> Vec<SiteLatency> {
    let full = base_dir.join(&path.value);
    let text = match std::fs::read_to_string(&full) {
        Ok(t) => t,
        Err(e) => {
            sink.error(
                path.span,
                &path.field,
                format!("cannot read sites_latency `{}`: {e}", full.display()),
            );
            return Vec::new();
        }
    };
    let name = &path.value;
    let mut out = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut first = true;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let mut err =
            |msg: String| sink.error(path.span, &path.field, format!("`{name}` line {n}: {msg}"));
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

/// `None` if the node has an error (or its name had one).
fn resolve_node(
    key: &Spanned<String>,
    name: Option<NodeName>,
    spec: &NodeSpec,
    topo: &TopologySpec,
    sites: &[&str],
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
    let site = chain.first(|l| l.site.as_ref());
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
        site: site.filter(|_| site_ok).map(|s| s.value.clone()),
        routing: None,
        ha: None,
        config_extra: None,
        addresses: Default::default(),
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
