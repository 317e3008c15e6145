//! `to_yaml` is the inverse of loading: every good golden file and every
//! example, and random topologies, load back from the emitted text to an
//! equal topology (apart from where the file and its FRR configurations
//! came from), and emitting again gives the same text. One emitted file is
//! a golden file, so the format is reviewed (`UPDATE_GOLDEN=1` rewrites
//! it).

use netloom_model::{
    cities, Addressing, BgpPeering, Bind, Endpoint, FrrConfig, IfName, Impairments, LabName, Link,
    LinkDefaults, LinkMode, Loss, Node, NodeKind, NodeName, NodeRouting, Position, Ppm, QueueLimit,
    RouterIdFrom, Routing, RoutingProtocol, Site, SiteLatency, Topology, UpdateDelay,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The emitted file is self-contained: relative paths would resolve here,
/// where there is nothing.
const NOWHERE: &str = "/nonexistent/netloom-export";

/// What is only recorded about where a file came from.
fn normalized(mut t: Topology) -> Topology {
    t.source = None;
    for n in t.nodes.values_mut() {
        if let Some(frr) = &mut n.frr {
            frr.config_origin = None;
        }
    }
    t
}

/// Emits `t`, loads the text, and checks it is `t` again and emits the same.
fn round_trip(t: &Topology) -> Result<String, String> {
    let text = netloom_spec::to_yaml(t);
    let loaded = netloom_spec::load_str(&text, "export.yml", Path::new(NOWHERE))
        .map_err(|d| format!("the emitted file does not load:\n{d}\n--- emitted\n{text}"))?;
    let back = normalized(loaded.topology);
    if back != normalized(t.clone()) {
        return Err(format!(
            "loads to a different topology\n--- emitted\n{text}\n--- want\n{:#?}\n--- got\n{back:#?}",
            normalized(t.clone())
        ));
    }
    let again = netloom_spec::to_yaml(&back);
    if again != text {
        return Err(format!(
            "emitting again differs\n--- first\n{text}\n--- second\n{again}"
        ));
    }
    Ok(text)
}

fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut yml_in = |dir: PathBuf| {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|e| e == "yml") {
                out.push(p);
            }
        }
    };
    yml_in(root.join("tests/golden/good"));
    for e in std::fs::read_dir(root.join("../../examples")).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            yml_in(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_good_file_and_example_round_trips() {
    let files = files();
    assert!(files.len() >= 10, "only {} files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let loaded = netloom_spec::load_file(path)
            .unwrap_or_else(|d| panic!("{} does not load:\n{d}", path.display()));
        if let Err(e) = round_trip(&loaded.topology) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn emitted_files_are_golden() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    for (input, golden) in [
        ("../../examples/planet/lab.yml", "planet.yml"),
        ("tests/golden/good/planet.yml", "impairments.yml"),
        ("tests/golden/good/fabric.yml", "fabric.yml"),
        ("tests/golden/good/inline.yml", "inline.yml"),
        ("tests/golden/good/positions.yml", "positions.yml"),
    ] {
        let loaded = netloom_spec::load_file(&root.join(input)).unwrap();
        let text = round_trip(&loaded.topology).unwrap();
        let golden = root.join("tests/golden/export").join(golden);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, &text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(want) if want == text => {}
            Ok(want) => failures.push(format!(
                "{} differs\n--- expected\n{want}\n--- actual\n{text}",
                golden.display()
            )),
            Err(_) => failures.push(format!(
                "{} is missing (UPDATE_GOLDEN=1 writes it)",
                golden.display()
            )),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

// ---- random topologies -------------------------------------------------------

/// Names that are valid but that YAML would read as something else unless
/// quoted.
const NAMES: &[&str] = &[
    "r1",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "true",
    "null",
    "1e3",
    "0x1F",
    "0o17",
    "1.5",
    "123",
    "12-30",
    "1_000",
    "inf",
    "nan",
    "a.b-c_d",
    "Null",
    "TRUE",
    "2001-12-14",
];

/// Characters of free text: YAML indicators, quotes, escapes, tabs, line
/// breaks, non-ASCII.
const TEXT: &[char] = &[
    'a', 'b', 'Z', '0', '9', ' ', ' ', '\n', '\n', '\t', ':', '-', '#', '"', '\'', '\\', '|', '>',
    '{', '}', '[', ']', ',', '&', '*', '!', '%', '@', '`', '?', '~', 'é', 'µ', '→', '=',
];

fn free_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TEXT), 0..30).prop_map(|v| v.into_iter().collect())
}

/// Text that may have CRLF line endings or control characters, as long as
/// it has a line feed (FRR configurations: the inline form needs one of a
/// block scalar or a line break).
fn config_text() -> impl Strategy<Value = String> {
    prop_oneof![
        free_text().prop_filter("block scalar or line break", |s| !s.contains('\r')),
        free_text().prop_map(|s| format!("{}\r\n\u{1}x\n", s.replace('\n', "\r\n"))),
        Just(String::new()),
        Just("  indented first\nline\n\n\n".to_string()),
        Just("\n\nleading blank lines\n".to_string()),
    ]
}

fn ppm() -> impl Strategy<Value = Ppm> {
    (0u32..=1_000_000).prop_map(Ppm)
}

fn impairments() -> impl Strategy<Value = Impairments> {
    let loss = prop_oneof![
        ppm().prop_map(|p| Loss::Random { p }),
        (ppm(), ppm(), ppm(), ppm()).prop_map(|(p, r, h, k)| Loss::Gilbert { p, r, h, k }),
        Just(Loss::Gilbert {
            p: Ppm(10_000),
            r: Ppm(250_000),
            h: Ppm::ONE,
            k: Ppm::ZERO
        }),
    ];
    let duration = prop_oneof![
        0u64..=60_000_000_000,
        (0u64..=60_000).prop_map(|ms| ms * 1_000_000),
        (0u64..=60_000_000).prop_map(|us| us * 1_000),
    ];
    let queue = prop_oneof![
        (1u32..=u32::MAX).prop_map(QueueLimit::Packets),
        (1u64..=1 << 32).prop_map(QueueLimit::Bytes),
        (1u64..=4096).prop_map(|mb| QueueLimit::Bytes(mb << 20)),
    ];
    (
        prop::option::of(duration.clone()),
        prop::option::of(duration),
        prop::option::of(any::<bool>()),
        prop::option::of(loss),
        prop::option::of(ppm()),
        prop::option::of(ppm()),
        prop::option::of(1u64..=1_000_000_000_000),
        prop::option::of(queue),
    )
        .prop_map(
            |(delay_ns, jitter_ns, reorder, loss, duplicate, corrupt, rate_bps, queue)| {
                Impairments {
                    delay_ns,
                    jitter_ns,
                    reorder,
                    loss,
                    duplicate,
                    corrupt,
                    rate_bps,
                    queue,
                }
            },
        )
}

fn text_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(
        prop_oneof![
            prop::sample::select(NAMES).prop_map(str::to_string),
            free_text()
        ],
        free_text(),
        0..3,
    )
    .prop_map(|mut m| {
        m.remove("graph-posX");
        m
    })
}

/// The parts of a node a file can say, whatever its kind.
#[derive(Debug, Clone)]
struct NodeParts {
    image: Option<String>,
    exec: Vec<String>,
    env: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    bind: Option<Bind>,
    position: Option<Position>,
    restart: netloom_model::RestartPolicy,
    standby: bool,
    site: Option<prop::sample::Index>,
    config: Option<String>,
    daemons: Option<Vec<String>>,
    config_extra: Option<String>,
    routing: Option<NodeRouting>,
}

fn node_parts() -> impl Strategy<Value = NodeParts> {
    let bind = (
        prop::sample::select(vec!["/", "/tmp", env!("CARGO_MANIFEST_DIR")]),
        prop::sample::select(vec!["/data", "/opt/x y", "/etc/frr-not"]),
        prop::option::of(prop::sample::select(vec!["ro", "rw", "ro,z"])),
    )
        .prop_map(|(h, c, m)| Bind {
            host: h.to_string(),
            container: c.to_string(),
            mode: m.map(str::to_string),
        });
    let daemons = prop::sample::subsequence(
        vec!["bgpd", "ospfd", "ospf6d", "bfdd", "vrrpd", "pathd"],
        0..4,
    )
    .prop_map(|v| v.into_iter().map(str::to_string).collect());
    let routing = (
        prop::option::of(Just(RoutingProtocol::Bgp)),
        prop::option::of(1u32..=4_294_967_294),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(protocol, asn, hub, originate_default, stub)| NodeRouting {
                protocol,
                asn,
                hub,
                originate_default,
                stub,
            },
        );
    let position = (
        -1_000_000_000i64..=1_000_000_000,
        -1_000_000_000i64..=1_000_000_000,
    )
        .prop_map(|(x, y)| Position { x, y });
    (
        (
            prop::option::of(prop_oneof![
                free_text().prop_filter("no frr", |s| !s.to_lowercase().contains("frr")),
                Just("nicolaka/netshoot:latest".to_string()),
            ]),
            prop::collection::vec(free_text(), 0..3),
            text_map(),
            text_map(),
            prop::option::of(bind),
            prop::option::of(position),
        ),
        (
            prop::option::of(any::<prop::sample::Index>()),
            prop::option::of(config_text()),
            prop::option::of(daemons),
            prop::option::of(free_text()),
            prop::option::of(routing),
            prop::sample::select(vec![
                netloom_model::RestartPolicy::Always,
                netloom_model::RestartPolicy::OnFailure,
                netloom_model::RestartPolicy::Never,
            ]),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (image, exec, env, labels, bind, position),
                (site, config, daemons, config_extra, routing, restart, standby),
            )| {
                NodeParts {
                    image,
                    exec,
                    env,
                    labels,
                    bind,
                    position,
                    restart,
                    standby,
                    site,
                    config,
                    daemons,
                    config_extra,
                    routing,
                }
            },
        )
}

fn site() -> impl Strategy<Value = Site> {
    prop_oneof![
        prop::sample::select(vec!["Tokyo", "london", "NYC", "sao paulo"]).prop_map(|c| {
            let city = cities::find(c).unwrap();
            Site {
                name: String::new(),
                lat_udeg: (city.lat * 1e6).round() as i64,
                lon_udeg: (city.lon * 1e6).round() as i64,
                city: Some(city.name.to_string()),
            }
        }),
        (-90_000_000i64..=90_000_000, -180_000_000i64..=180_000_000).prop_map(|(lat, lon)| Site {
            name: String::new(),
            lat_udeg: lat,
            lon_udeg: lon,
            city: None,
        }),
    ]
}

/// Where a link goes, and what it says.
#[derive(Debug, Clone)]
struct LinkParts {
    mtu: Option<u32>,
    emulated: Option<bool>,
    up: bool,
    both: Impairments,
    a_to_b: Impairments,
    b_to_a: Impairments,
}

fn link_parts() -> impl Strategy<Value = LinkParts> {
    (
        prop::option::of(68u32..=65535),
        prop::option::of(any::<bool>()),
        any::<bool>(),
        prop_oneof![Just(Impairments::default()), impairments()],
        prop_oneof![Just(Impairments::default()), impairments()],
        prop_oneof![Just(Impairments::default()), impairments()],
    )
        .prop_map(|(mtu, emulated, up, both, a_to_b, b_to_a)| LinkParts {
            mtu,
            emulated,
            up,
            both,
            a_to_b,
            b_to_a,
        })
}

/// A lab of two routers, a switch and a host (names from [`NAMES`]):
/// router-router, router-switch and host-switch links.
fn topology() -> impl Strategy<Value = Topology> {
    (
        (
            prop::sample::select(NAMES),
            prop::sample::subsequence(NAMES.to_vec(), 4),
            prop::sample::subsequence(vec!["tokyo", "1.5", "yes", "lab-1"], 0..=3),
            prop::collection::vec(site(), 3),
            prop::collection::vec((1u64..=120_000_000_000, any::<bool>()), 0..3),
        ),
        (
            prop::collection::vec(node_parts(), 4),
            prop::collection::vec(link_parts(), 3),
            prop::option::of((prop::option::of(any::<bool>()), impairments())),
            prop::option::of(Just(Addressing {
                p2p: Some("10.0.0.0/16".parse().unwrap()),
                loopback: Some("10.255.0.0/24".parse().unwrap()),
                lan: Some("192.168.0.0/16".parse().unwrap()),
                lan_len: Some(24),
                p2p6: None,
                loopback6: Some("fd00:ff::/64".parse().unwrap()),
            })),
            prop::option::of((
                0u8..=32,
                1u8..=64,
                prop::option::of((1u16..=100, 0u16..=200)),
                any::<bool>(),
                any::<bool>(),
                prop_oneof![
                    Just(Some(UpdateDelay::DEFAULT)),
                    Just(None),
                    (1u16..=3600, 1u16..=3600).prop_map(|(a, b)| Some(UpdateDelay {
                        max: a.max(b),
                        establish_wait: a.min(b),
                    })),
                ],
            )),
        ),
    )
        .prop_map(
            |(
                (lab, names, site_names, sites, rtts),
                (parts, links, defaults, addressing, routing),
            )| {
                build(
                    lab, names, site_names, sites, rtts, parts, links, defaults, addressing,
                    routing,
                )
            },
        )
}

#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn build(
    lab: &str,
    mut names: Vec<&str>,
    site_names: Vec<&str>,
    sites: Vec<Site>,
    rtts: Vec<(u64, bool)>,
    parts: Vec<NodeParts>,
    links: Vec<LinkParts>,
    defaults: Option<(Option<bool>, Impairments)>,
    addressing: Option<Addressing>,
    routing: Option<(u8, u8, Option<(u16, u16)>, bool, bool, Option<UpdateDelay>)>,
) -> Topology {
    // subsequence keeps order; shuffle roles a little by rotating.
    names.rotate_left(lab.len() % 4);
    let kinds = [
        NodeKind::Router,
        NodeKind::Router,
        NodeKind::Switch,
        NodeKind::Host,
    ];
    let sites: BTreeMap<String, Site> = site_names
        .iter()
        .zip(sites)
        .map(|(n, mut s)| {
            s.name = n.to_string();
            (n.to_string(), s)
        })
        .collect();
    let site_list: Vec<&String> = sites.keys().collect();
    let mut nodes = Vec::new();
    for (i, (name, p)) in names.iter().zip(parts).enumerate() {
        let kind = kinds[i];
        let mut n = Node::new(NodeName::new(*name).unwrap(), kind);
        n.image = p.image;
        n.exec = p.exec;
        n.env = p.env;
        n.labels = p.labels;
        n.binds = p.bind.into_iter().collect();
        n.position = p.position;
        n.restart = p.restart;
        n.standby = p.standby && n.kind == NodeKind::Router;
        n.site = p
            .site
            .filter(|_| !site_list.is_empty())
            .map(|ix| ix.get(&site_list).to_string());
        if kind == NodeKind::Router {
            n.frr = Some(FrrConfig {
                config: p.config,
                config_origin: None,
                daemons: p.daemons,
            });
            n.config_extra = p.config_extra;
            n.routing = p.routing.filter(|_| routing.is_some());
            n.addresses.insert(
                "lo".into(),
                vec![format!("10.99.0.{}/32", i + 1).parse().unwrap()],
            );
        }
        nodes.push(n);
    }
    let ep = |node: usize, iface: &str| Endpoint {
        node: NodeName::new(names[node]).unwrap(),
        iface: IfName::new(iface).unwrap(),
    };
    let ends = [
        (ep(0, "eth1"), ep(1, "eth1")),
        (ep(0, "eth2"), ep(2, "p1")),
        (ep(3, "eth1"), ep(2, "p2")),
    ];
    let links = ends
        .into_iter()
        .zip(links)
        .map(|((a, b), p)| {
            let impaired = !(p.both.is_empty() && p.a_to_b.is_empty() && p.b_to_a.is_empty());
            let mut l = Link::new(a, b);
            l.mtu = p.mtu;
            l.mode = p.emulated.map(|e| {
                if e || impaired {
                    LinkMode::Emulated
                } else {
                    LinkMode::Veth
                }
            });
            l.up = p.up;
            l.both = p.both;
            l.a_to_b = p.a_to_b;
            l.b_to_a = p.b_to_a;
            l
        })
        .collect();
    // Lab names have no `.`.
    let lab = LabName::new(lab.replace('.', "-")).unwrap();
    let mut t = Topology::new(lab, nodes, links);
    let pairs: Vec<(&String, &String)> = site_list
        .iter()
        .enumerate()
        .flat_map(|(i, a)| site_list[i + 1..].iter().map(move |b| (*a, *b)))
        .collect();
    t.sites_latency = pairs
        .into_iter()
        .zip(rtts)
        .map(|((a, b), (rtt_ns, swap))| {
            let (a, b) = if swap { (b, a) } else { (a, b) };
            SiteLatency {
                a: a.clone(),
                b: b.clone(),
                rtt_ns,
            }
        })
        .collect();
    t.sites = sites;
    if let Some((veth, impairments)) = defaults {
        t.link_defaults = LinkDefaults {
            mode: veth.map(|v| {
                if v && impairments.is_empty() {
                    LinkMode::Veth
                } else {
                    LinkMode::Emulated
                }
            }),
            impairments,
        };
    }
    let loopback = addressing.is_some();
    t.addressing = addressing;
    t.routing = routing.map(
        |(min_prefix_len, maximum_paths, timers, interface, by_loopback, update_delay)| Routing {
            protocol: RoutingProtocol::Bgp,
            min_prefix_len,
            maximum_paths,
            timers: timers.map(|(k, h)| (k, (k + 1 + h).max(3))),
            peering: if interface {
                BgpPeering::Interface
            } else {
                BgpPeering::Numbered
            },
            router_id: if by_loopback && loopback {
                RouterIdFrom::Loopback
            } else {
                RouterIdFrom::Id
            },
            update_delay,
        },
    );
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_topologies_round_trip(t in topology()) {
        if let Err(e) = round_trip(&t) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// Strings at the edges of YAML's quoting and block rules, everywhere a
/// string goes.
#[test]
fn awkward_strings_round_trip() {
    let awkward = [
        "",
        " ",
        "\n",
        "\n\n",
        " a\n",
        "a\n\n\n",
        "\t\tx\n",
        "x\r",
        "#x",
        "- x",
        "a: b",
        "key: |",
        "'",
        "\"",
        "\\",
        "---\n...\n",
        "  \n  x\n",
        "é\u{85}\u{2028}",
        "a\u{feff}",
        "%YAML",
        "!tag",
        "&a",
        "*a",
        "? x",
        "@x",
        "`x",
        "a #b",
        "x:",
        "<<",
        "=",
    ];
    let mut t = Topology::new(LabName::new("awk").unwrap(), [], Vec::new());
    for (i, s) in awkward.iter().enumerate() {
        let mut n = Node::new(NodeName::new(format!("r{i}")).unwrap(), NodeKind::Router);
        n.exec = awkward.iter().map(|s| s.to_string()).collect();
        n.labels = awkward
            .iter()
            .map(|k| (k.to_string(), s.to_string()))
            .collect();
        n.image = Some(s.to_string());
        n.config_extra = Some(s.to_string());
        n.frr = Some(FrrConfig {
            // Without a line break, only a block scalar marks the text as
            // inline, and a block cannot hold control characters.
            config: Some(s.to_string()).filter(|s| {
                s.contains('\n')
                    || !s.contains(|c: char| {
                        c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
                    })
            }),
            config_origin: None,
            daemons: None,
        });
        t.nodes.insert(n.name.clone(), n);
    }
    round_trip(&t).unwrap();
}
