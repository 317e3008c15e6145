//! Whether a lab's routing has converged: its routers' sessions, from
//! FRR, and their routes, from the kernel.
//!
//! A router is ready when every BGP peer it has configured is Established
//! (peers shut down by hand do not count), every OSPF neighbour it sees is
//! Full (or 2-Way, between two routers neither of which is the designated
//! one), every OSPF interface of it that faces another OSPF router has a
//! neighbour, no OSPF segment of it is still electing its DR and no SPF
//! run is pending, its kernel has a route to every network that another
//! OSPF router of its areas has an OSPF interface on, and, when netloom
//! planned the fabric, to every other fabric router's loopback and host
//! segments. The report also carries a fingerprint of every router's
//! routes: a client that sees the same fingerprint for a while knows the
//! tables have stopped changing (`netloom wait --settle`).

use crate::service::{Service, ServiceError};
use netloom_model::NodeKind;
use netloom_plan::{FrrPlan, NodePlan, Plan};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

/// How many missing prefixes a router's report lists (it counts them all).
const LIST_MISSING: usize = 5;

/// Seconds routes must stay unchanged to count as settled (see
/// [`LabRouting::settle_s`]), and with OSPF when a router's LSA hold-back
/// is not known yet (FRR's default 5 s, plus one).
const SETTLE_S: f64 = 2.0;
const OSPF_SETTLE_S: f64 = 6.0;

/// How long a router found with every session up, whose routes have not
/// changed since, is taken to still have them up without asking FRR.
const SESSIONS_FRESH: Duration = Duration::from_secs(5);

/// Routers found with every session up, by `lab/node`: the hash of their
/// routes then, when, and the sessions.
pub(crate) type SessionsSeen = std::collections::HashMap<String, (u64, Instant, SessionPair)>;

/// BGP and OSPF sessions of one router.
pub(crate) type SessionPair = (Option<Sessions>, Option<Sessions>);

/// Sessions of one protocol on one router.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sessions {
    /// Established (BGP) or Full / 2-Way (OSPF).
    pub up: usize,
    /// Configured peers (BGP, not counting those shut down) or neighbours
    /// seen (OSPF).
    pub total: usize,
    /// The others: `10.0.0.1 Active`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub down: Vec<String>,
    /// OSPF: the least time between two originations of one of the
    /// router's LSAs (`lsaMinIntervalMsecs`; 5000 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lsa_min_interval_ms: Option<u64>,
    /// BGP, while a session came up lately: how long after a session
    /// comes up the router sends the peer its first updates (FRR's
    /// update-group coalesce time: 1 s plus 50 ms per peer it knows, at
    /// most 10 s, or its `coalesce-time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coalesce_ms: Option<u64>,
    /// OSPF: the networks of the router's OSPF interfaces that are up, by
    /// area (see [`ospf_networks`]).
    #[serde(skip)]
    pub networks: BTreeMap<String, BTreeSet<String>>,
}

/// One router's routing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterRouting {
    pub node: String,
    /// Sessions all up and no expected prefix missing.
    pub ready: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bgp: Option<Sessions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ospf: Option<Sessions>,
    /// Prefixes this router should have a route to: those netloom planned
    /// elsewhere in the fabric, and the networks other OSPF routers of its
    /// areas have OSPF interfaces on (0: neither).
    pub expected: usize,
    /// How many of those the kernel has no route to.
    pub missing: usize,
    /// The first few of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_first: Vec<String>,
    /// Routes in the kernel's main table (IPv4 and IPv6).
    pub routes: usize,
    /// Routes with more than one next hop (equal-cost multipath).
    pub ecmp_routes: usize,
    /// Why the router could not be checked completely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A lab's routing (`GET /api/v1/labs/{lab}/routing`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabRouting {
    pub lab: String,
    /// Every router ready.
    pub converged: bool,
    /// Routers ready / routers.
    pub ready: usize,
    pub routers_total: usize,
    /// A hash of every router's kernel routes (destination, protocol,
    /// next hops): unchanged between two reports, no route changed.
    pub fingerprint: String,
    /// How long the fingerprint should stay the same before the routes
    /// count as settled: a second more than the longest minimum between
    /// two originations of an OSPF router's LSA (an LSA held back that
    /// long changes routes after a quiet spell; 5 s by default, so 6 s)
    /// or than the BGP coalesce time of a router with a young session,
    /// and at least 2 s.
    pub settle_s: f64,
    pub routers: Vec<RouterRouting>,
}

impl LabRouting {
    /// One line per router that is not ready, the first `n` of them.
    pub fn not_ready(&self, n: usize) -> Vec<String> {
        self.routers
            .iter()
            .filter(|r| !r.ready)
            .take(n)
            .map(RouterRouting::why_not)
            .collect()
    }
}

impl RouterRouting {
    /// Counts the prefixes of `want` that `routes` (the router's kernel
    /// routes) have no route to.
    fn count_missing(&mut self, want: &BTreeSet<String>, routes: &[netloom_linux::KernelRoute]) {
        let have: BTreeSet<&str> = routes.iter().map(|x| x.dst.as_str()).collect();
        let missing: Vec<&String> = want.iter().filter(|p| !have.contains(p.as_str())).collect();
        self.expected = want.len();
        self.missing = missing.len();
        self.missing_first = missing.into_iter().take(LIST_MISSING).cloned().collect();
    }

    /// What keeps this router from being ready: `leaf3: BGP 1/2 up
    /// (10.0.0.4 Active); 3 of 9 prefixes missing (10.255.0.7/32, ...)`.
    pub fn why_not(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = &self.error {
            parts.push(e.clone());
        }
        for (name, s) in [("BGP", &self.bgp), ("OSPF", &self.ospf)] {
            if let Some(s) = s {
                if s.up < s.total || !s.down.is_empty() {
                    let mut p = format!("{name} {}/{} up", s.up, s.total);
                    if !s.down.is_empty() {
                        p.push_str(&format!(" ({})", s.down.join(", ")));
                    }
                    parts.push(p);
                }
            }
        }
        if self.missing > 0 {
            let more = if self.missing > self.missing_first.len() {
                ", ..."
            } else {
                ""
            };
            parts.push(format!(
                "{} of {} prefixes missing ({}{more})",
                self.missing,
                self.expected,
                self.missing_first.join(", ")
            ));
        }
        if parts.is_empty() {
            parts.push("not checked yet".into());
        }
        format!("{}: {}", self.node, parts.join("; "))
    }
}

/// A daemon's JSON answer to a command, over its vty socket; why not
/// when it fails or takes more than 5 s (a hung daemon).
pub(crate) fn vty_json(
    frr: &FrrPlan,
    daemon: &str,
    cmd: &str,
) -> Result<serde_json::Value, String> {
    let text = netloom_linux::vty_command(&frr.pathspace, daemon, cmd, Duration::from_secs(5))
        .map_err(|e| format!("{daemon} does not answer `{cmd}`: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{daemon} answered `{cmd}` with no JSON: {e}"))
}

/// BGP sessions from `show bgp summary json` (every address family; a
/// peer counts once, up only if Established in all of them).
///
/// `coalesce_ms` is the router's `coalesce-time`, if its configuration
/// sets one. While a session is younger than the update-group coalesce
/// time plus a second, [`Sessions::coalesce_ms`] says how long that is:
/// the peer gets its first updates only then. (FRR reports uptimes in
/// whole seconds, and one that reads N s may be up to a second shorter.)
pub(crate) fn bgp_sessions(summary: &serde_json::Value, coalesce_ms: Option<u64>) -> Sessions {
    let mut peers: BTreeMap<String, String> = BTreeMap::new();
    let mut known = BTreeSet::new();
    let mut youngest = u64::MAX;
    for (_, family) in summary.as_object().into_iter().flatten() {
        for (addr, peer) in family["peers"].as_object().into_iter().flatten() {
            known.insert(addr.clone());
            let state = peer["state"].as_str().unwrap_or("unknown").to_string();
            if state.starts_with("Idle (Admin)") {
                continue;
            }
            if state == "Established" {
                youngest = youngest.min(peer["peerUptimeMsec"].as_u64().unwrap_or(0));
            }
            let slot = peers.entry(addr.clone()).or_insert_with(|| state.clone());
            if state != "Established" {
                *slot = state;
            }
        }
    }
    // FRR's estimate, 1 s plus 50 ms per peer it knows, reads one peer
    // more than the summary lists (`show bgp update-groups` here: 1100 ms
    // with one peer, 1250 ms with four).
    let coalesce =
        coalesce_ms.unwrap_or_else(|| (1000 + 50 * (known.len() as u64 + 1)).min(10_000));
    let mut s = Sessions {
        total: peers.len(),
        coalesce_ms: (youngest < coalesce + 2000).then_some(coalesce),
        ..Sessions::default()
    };
    for (addr, state) in peers {
        if state == "Established" {
            s.up += 1;
        } else {
            s.down.push(format!("{addr} {state}"));
        }
    }
    s
}

/// OSPF neighbours from `show ip ospf neighbor json`, read with the
/// router's interfaces from `show ip ospf interface json`: Full is up;
/// 2-Way is up only on an interface where this router is DROther (two
/// routers that are neither DR nor BDR of a segment stay 2-Way for good);
/// an interface still waiting to elect a DR (up to the dead interval after
/// it came up) with neighbours on it is not up yet.
///
/// `facing` names the interfaces that face another router running ospfd
/// (see [`ospf_facing`]): one of them in OSPF and not passive, with no
/// neighbour on it, is not up yet either. With FRR's default 10 s hellos a
/// router can start, see no neighbour at all and look done, seconds before
/// its first adjacency begins.
pub(crate) fn ospf_sessions(
    neighbors: &serde_json::Value,
    interfaces: &serde_json::Value,
    facing: &BTreeSet<String>,
) -> Sessions {
    let mut s = Sessions::default();
    let iface_state = |name: &str| {
        interfaces["interfaces"][name]["state"]
            .as_str()
            .unwrap_or("")
    };
    for (id, list) in neighbors["neighbors"].as_object().into_iter().flatten() {
        for n in list.as_array().into_iter().flatten() {
            s.total += 1;
            let state = n["nbrState"]
                .as_str()
                .or_else(|| n["state"].as_str())
                .unwrap_or("unknown");
            let iface = n["ifaceName"]
                .as_str()
                .unwrap_or("")
                .split(':')
                .next()
                .unwrap_or("");
            let final_two_way = state.starts_with("2-Way") && iface_state(iface) == "DROther";
            if state.starts_with("Full") || final_two_way {
                s.up += 1;
            } else {
                s.down.push(format!("{id} {state}"));
            }
        }
    }
    for (name, i) in interfaces["interfaces"].as_object().into_iter().flatten() {
        let neighbours = i["nbrCount"].as_u64().unwrap_or(0);
        let active = i["ospfEnabled"] != false && i["timerPassiveIface"] != true;
        if i["state"] == "Waiting" && neighbours > 0 {
            s.down.push(format!("{name} waiting to elect a DR"));
        } else if active && neighbours == 0 && facing.contains(name) {
            s.down.push(format!("{name} no neighbour yet"));
        }
    }
    s
}

/// The networks of a router's OSPF interfaces that are up, by area, from
/// `show ip ospf interface json` (`0.0.0.0` -> `172.20.1.0/24`). Every
/// router of an area has a route to each of them once OSPF has converged
/// (intra-area routes cannot be filtered away), whatever the timers: a
/// check that does not depend on guessing how long an LSA may be held
/// back or retransmitted.
pub(crate) fn ospf_networks(interfaces: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_area: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for i in interfaces["interfaces"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, i)| i)
    {
        if i["ospfEnabled"] == false || i["ifUp"] == false {
            continue;
        }
        let (Some(addr), Some(len), Some(area)) = (
            i["ipAddress"]
                .as_str()
                .and_then(|a| a.parse::<std::net::Ipv4Addr>().ok()),
            i["ipAddressPrefixlen"].as_u64().filter(|l| *l <= 32),
            i["area"].as_str(),
        ) else {
            continue;
        };
        if addr.is_loopback() || addr.is_link_local() || addr.is_unspecified() {
            continue;
        }
        let Ok(prefix) = netloom_model::Prefix::new(addr.into(), len as u8) else {
            continue;
        };
        by_area
            .entry(area.to_string())
            .or_default()
            .insert(prefix.network().to_string());
    }
    by_area
}

/// For each OSPF router (by its index in `ospf`), the networks of its
/// areas that other routers' OSPF interfaces are on and it has none of
/// its own on: what it should have a route to.
fn ospf_expected(ospf: &[Option<&Sessions>]) -> Vec<BTreeSet<String>> {
    let mut area_nets: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in ospf.iter().flatten() {
        for (area, nets) in &s.networks {
            area_nets
                .entry(area)
                .or_default()
                .extend(nets.iter().map(String::as_str));
        }
    }
    ospf.iter()
        .map(|s| {
            let Some(s) = s else { return BTreeSet::new() };
            let own: BTreeSet<&str> = s.networks.values().flatten().map(String::as_str).collect();
            s.networks
                .keys()
                .flat_map(|area| &area_nets[area.as_str()])
                .filter(|n| !own.contains(*n))
                .map(|n| n.to_string())
                .collect()
        })
        .collect()
}

/// A router's interfaces that face another router running ospfd, on a
/// link between the two or through a switch: where an OSPF neighbour is
/// to be expected.
pub(crate) fn ospf_facing(plan: &Plan, router: &str) -> BTreeSet<String> {
    let ospf = |name: &str| {
        plan.node(name)
            .and_then(|n| n.frr.as_ref())
            .is_some_and(|f| f.runs("ospfd"))
    };
    let switch = |name: &str| plan.node(name).is_some_and(|n| n.kind == NodeKind::Switch);
    let ends = || plan.links.iter().flat_map(|l| [(&l.a, &l.b), (&l.b, &l.a)]);
    let mut facing = BTreeSet::new();
    for (me, other) in ends().filter(|(me, _)| me.node.as_str() == router) {
        let other = other.node.as_str();
        let toward_ospf = ospf(other)
            || switch(other)
                && ends().any(|(sw, far)| {
                    sw.node.as_str() == other
                        && far.node.as_str() != router
                        && ospf(far.node.as_str())
                });
        if toward_ospf {
            facing.insert(me.iface.to_string());
        }
    }
    facing
}

/// The `coalesce-time` a router's configuration sets, in ms.
fn configured_coalesce_ms(config: &str) -> Option<u64> {
    config
        .lines()
        .find_map(|l| l.trim().strip_prefix("coalesce-time "))
        .and_then(|v| v.trim().parse().ok())
}

/// The sessions of a router's routing daemons, from FRR: BGP then OSPF
/// (`None` for a daemon it does not run), or why they could not be read.
/// `ospf_facing`: the router's interfaces where an OSPF neighbour is to be
/// expected ([`ospf_facing`]).
pub(crate) fn sessions(
    frr: &FrrPlan,
    ospf_facing: &BTreeSet<String>,
) -> Result<SessionPair, String> {
    let mut bgp = None;
    let mut ospf = None;
    if frr.runs("bgpd") {
        let v = vty_json(frr, "bgpd", "show bgp summary json")?;
        let mut s = bgp_sessions(&v, configured_coalesce_ms(&frr.config));
        // No peer listed although the configuration names some: bgpd has
        // not read its configuration yet.
        if s.total == 0 && frr.config.contains(" neighbor ") {
            s.down.push("no peer known yet".into());
        }
        bgp = Some(s);
    }
    if frr.runs("ospfd") {
        let v = vty_json(frr, "ospfd", "show ip ospf neighbor json")?;
        let i = vty_json(frr, "ospfd", "show ip ospf interface json")?;
        let mut s = ospf_sessions(&v, &i, ospf_facing);
        // A route computation still to come will change the routes.
        let v = vty_json(frr, "ospfd", "show ip ospf json")?;
        if let Some(due) = v["spfTimerDueInMsecs"].as_i64() {
            s.down.push(format!("SPF run due in {due} ms"));
        }
        s.lsa_min_interval_ms = v["lsaMinIntervalMsecs"].as_u64();
        s.networks = ospf_networks(&i);
        ospf = Some(s);
    }
    Ok((bgp, ospf))
}

/// How long routes should stay unchanged before they count as settled,
/// from each router (whether it runs ospfd, and its report): a second
/// more than the longest LSA hold-back of any OSPF router (as each
/// reported it; OSPF's default, 5 s, for one not asked yet) and than the
/// longest BGP coalesce time of a router with a session that came up
/// lately, and never less than [`SETTLE_S`].
fn settle_s<'a>(routers: impl Iterator<Item = (bool, &'a RouterRouting)>) -> f64 {
    let plus_one = |ms: u64| ms as f64 / 1000.0 + 1.0;
    routers
        .map(|(runs_ospf, r)| {
            let ospf = r.ospf.as_ref().and_then(|s| s.lsa_min_interval_ms);
            let ospf = match (runs_ospf, ospf) {
                (false, _) => 0.0,
                (true, None) => OSPF_SETTLE_S,
                (true, Some(ms)) => plus_one(ms),
            };
            let bgp = r
                .bgp
                .as_ref()
                .and_then(|s| s.coalesce_ms)
                .map_or(0.0, plus_one);
            ospf.max(bgp)
        })
        .fold(SETTLE_S, f64::max)
}

/// Every session up (a router running neither protocol is up as soon as
/// it runs).
pub(crate) fn sessions_up(s: &SessionPair) -> bool {
    [&s.0, &s.1]
        .into_iter()
        .flatten()
        .all(|s| s.up == s.total && s.down.is_empty())
}

/// What each fabric router should reach: per router, the networks of the
/// other fabric routers' loopbacks and host segments (from the plan:
/// routers netloom configured, whose intent a startup-config did not
/// replace).
pub(crate) fn expected_prefixes(plan: &Plan) -> BTreeMap<String, BTreeSet<String>> {
    let fabric_router = |n: &NodePlan| {
        n.kind == NodeKind::Router
            && n.fabric
                .as_ref()
                .is_some_and(|f| f.router_id.is_some() && f.note.is_none())
    };
    let kind: BTreeMap<&str, NodeKind> = plan
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.kind))
        .collect();
    // Interfaces of routers that face a host or a switch.
    let mut facing_hosts: BTreeSet<(&str, &str)> = BTreeSet::new();
    for l in &plan.links {
        for (me, other) in [(&l.a, &l.b), (&l.b, &l.a)] {
            if kind.get(other.node.as_str()) != Some(&NodeKind::Router) {
                facing_hosts.insert((me.node.as_str(), me.iface.as_str()));
            }
        }
    }
    let mut own: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for n in plan.nodes.iter().filter(|n| fabric_router(n)) {
        let Some(f) = &n.fabric else { continue };
        let set = own.entry(n.name.to_string()).or_default();
        for lo in [&f.loopback, &f.loopback6].into_iter().flatten() {
            set.insert(lo.network().to_string());
        }
        for (iface, addrs) in &f.addresses {
            if facing_hosts.contains(&(n.name.as_str(), iface.as_str())) {
                for a in addrs {
                    set.insert(a.network().to_string());
                }
            }
        }
    }
    own.keys()
        .map(|me| {
            let others = own
                .iter()
                .filter(|(n, _)| *n != me)
                .flat_map(|(_, p)| p.iter().cloned())
                .collect();
            (me.clone(), others)
        })
        .collect()
}

impl Service {
    /// The routing of a lab's routers now (see the module's notes).
    /// Sessions are asked of FRR (over its vty sockets) only for routers
    /// whose kernel already has every expected prefix, and not again for a router found
    /// with every session up whose routes have not changed since (for up
    /// to [`SESSIONS_FRESH`]): a waiter polling a large lab does not slow
    /// the convergence it waits for.
    pub fn routing(&self, lab: &str) -> Result<LabRouting, ServiceError> {
        let plan = self.plan_of(lab)?;
        let routers: Vec<&NodePlan> = plan.nodes.iter().filter(|n| n.frr.is_some()).collect();
        let expected = expected_prefixes(&plan);
        let tables = self.exec.routes(&routers);
        let mut fingerprint = std::collections::hash_map::DefaultHasher::new();
        let mut hashes = Vec::with_capacity(routers.len());
        let mut report: Vec<RouterRouting> = routers
            .iter()
            .zip(&tables)
            .map(|(n, table)| {
                let mut r = RouterRouting {
                    node: n.name.to_string(),
                    ..RouterRouting::default()
                };
                let mut own = std::collections::hash_map::DefaultHasher::new();
                match table {
                    Ok(routes) => {
                        let mut sorted = routes.clone();
                        sorted.sort_by(|a, b| (&a.dst, &a.protocol).cmp(&(&b.dst, &b.protocol)));
                        sorted.hash(&mut own);
                        r.routes = routes.len();
                        r.ecmp_routes = routes.iter().filter(|x| x.nexthops > 1).count();
                        if let Some(want) = expected.get(n.name.as_str()) {
                            r.count_missing(want, routes);
                        }
                    }
                    Err(e) => {
                        e.hash(&mut own);
                        r.error = Some(format!("cannot read its routes: {e}"));
                    }
                }
                let own = own.finish();
                (n.name.as_str(), own).hash(&mut fingerprint);
                hashes.push(own);
                r
            })
            .collect();
        let key = |i: usize| format!("{lab}/{}", routers[i].name);
        // Sessions: from what was seen lately, else from FRR (a few
        // routers at a time).
        let mut ask = Vec::new();
        {
            let seen = crate::lock(&self.sessions_seen);
            for i in 0..report.len() {
                if report[i].error.is_some() || report[i].missing > 0 {
                    continue;
                }
                match seen.get(&key(i)) {
                    Some((h, at, s)) if *h == hashes[i] && at.elapsed() < SESSIONS_FRESH => {
                        report[i].ready = true;
                        (report[i].bgp, report[i].ospf) = s.clone();
                    }
                    _ => ask.push(i),
                }
            }
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let answers: Vec<std::sync::Mutex<Option<Result<SessionPair, String>>>> =
            ask.iter().map(|_| std::sync::Mutex::new(None)).collect();
        let workers = ask.len().clamp(1, 4);
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&i) = ask.get(k) else { break };
                    let Some(frr) = routers[i].frr.as_ref() else {
                        continue;
                    };
                    let got = sessions(frr, &ospf_facing(&plan, routers[i].name.as_str()));
                    *crate::lock(&answers[k]) = Some(got);
                });
            }
        });
        let mut seen = crate::lock(&self.sessions_seen);
        seen.retain(|_, (_, at, _)| at.elapsed() < SESSIONS_FRESH);
        for (k, &i) in ask.iter().enumerate() {
            let got = crate::lock(&answers[k])
                .take()
                .unwrap_or_else(|| Err("sessions not read".into()));
            let r = &mut report[i];
            match got {
                Ok(s) => {
                    r.ready = sessions_up(&s);
                    if r.ready {
                        seen.insert(key(i), (hashes[i], Instant::now(), s.clone()));
                    }
                    (r.bgp, r.ospf) = s;
                }
                Err(e) => r.error = Some(e),
            }
        }
        drop(seen);
        // OSPF: every router routes to every network of its areas.
        let ospf: Vec<Option<&Sessions>> = report.iter().map(|r| r.ospf.as_ref()).collect();
        let ospf_want = ospf_expected(&ospf);
        for (i, extra) in ospf_want.into_iter().enumerate() {
            let (Ok(routes), false) = (&tables[i], extra.is_empty()) else {
                continue;
            };
            let mut want = expected
                .get(routers[i].name.as_str())
                .cloned()
                .unwrap_or_default();
            want.extend(extra);
            let r = &mut report[i];
            r.count_missing(&want, routes);
            r.ready &= r.missing == 0;
        }
        let ready = report.iter().filter(|r| r.ready).count();
        Ok(LabRouting {
            settle_s: settle_s(
                routers
                    .iter()
                    .zip(&report)
                    .map(|(n, r)| (n.frr.as_ref().is_some_and(|f| f.runs("ospfd")), r)),
            ),
            lab: plan.lab.to_string(),
            converged: ready == report.len(),
            ready,
            routers_total: report.len(),
            fingerprint: format!("{:016x}", fingerprint.finish()),
            routers: report,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bgp_peers_count_once_and_admin_down_ones_not_at_all() {
        let v = json!({
            "ipv4Unicast": {"peers": {
                "10.0.0.1": {"state": "Established"},
                "10.0.0.3": {"state": "Active"},
                "10.0.0.5": {"state": "Idle (Admin)"},
            }},
            "ipv6Unicast": {"peers": {
                "10.0.0.1": {"state": "Established"},
                "10.0.0.3": {"state": "Connect"},
            }},
        });
        let s = bgp_sessions(&v, None);
        assert_eq!((s.up, s.total), (1, 2));
        assert_eq!(s.down, vec!["10.0.0.3 Connect".to_string()]);
        assert!(!sessions_up(&(Some(s), None)));
    }

    #[test]
    fn ospf_two_way_is_up_only_between_drothers_and_a_waiting_segment_is_not() {
        let v = json!({"neighbors": {
            "10.255.0.1": [{"nbrState": "Full/DR", "ifaceName": "eth1:10.0.0.2"}],
            "10.255.0.2": [{"nbrState": "2-Way/DROther", "ifaceName": "eth1:10.0.0.2"}],
            "10.255.0.3": [{"nbrState": "Init/DROther", "ifaceName": "eth1:10.0.0.2"}],
        }});
        let i = json!({"interfaces": {"eth1": {"state": "DROther", "nbrCount": 3}}});
        let s = ospf_sessions(&v, &i, &BTreeSet::new());
        assert_eq!((s.up, s.total), (2, 3));
        assert_eq!(s.down, vec!["10.255.0.3 Init/DROther".to_string()]);
        // Before the DR election (the interface Waiting), both routers
        // show each other as 2-Way/DROther: not final.
        let v = json!({"neighbors": {
            "172.20.100.5": [{"nbrState": "2-Way/DROther", "ifaceName": "eth1:172.20.100.1"}],
        }});
        let i = json!({"interfaces": {
            "eth1": {"state": "Waiting", "nbrCount": 1},
            "eth2": {"state": "Waiting", "nbrCount": 0},
        }});
        let s = ospf_sessions(&v, &i, &BTreeSet::new());
        assert_eq!((s.up, s.total), (0, 1));
        assert_eq!(
            s.down,
            vec![
                "172.20.100.5 2-Way/DROther".to_string(),
                "eth1 waiting to elect a DR".to_string()
            ]
        );
        let up = ospf_sessions(
            &json!({"neighbors": {"1.1.1.1": [{"nbrState": "Full/-", "ifaceName": "eth1:10.0.0.0"}]}}),
            &json!({"interfaces": {"eth1": {"state": "Point-To-Point", "nbrCount": 1}}}),
            &BTreeSet::new(),
        );
        assert!(sessions_up(&(None, Some(up))));
    }

    #[test]
    fn an_ospf_interface_toward_an_ospf_router_with_no_neighbour_yet_is_not_up() {
        // The containerlab example seconds after its start: edge1 has
        // heard no hello from core yet (10 s apart by default), and is
        // not done although no neighbour of it is down.
        let none = json!({"neighbors": {}});
        let i = json!({"interfaces": {
            "eth1": {"ospfEnabled": true, "state": "Waiting", "nbrCount": 0},
            "eth2": {"ospfEnabled": true, "state": "Waiting", "nbrCount": 0,
                     "timerPassiveIface": true},
        }});
        let facing: BTreeSet<String> = ["eth1".to_string(), "eth2".to_string()].into();
        let s = ospf_sessions(&none, &i, &facing);
        assert_eq!(s.down, vec!["eth1 no neighbour yet".to_string()]);
        assert!(!sessions_up(&(None, Some(s))));
        // Toward a host, or passive, no neighbour is expected.
        let s = ospf_sessions(&none, &i, &["eth2".to_string()].into());
        assert!(sessions_up(&(None, Some(s))));
        let s = ospf_sessions(&none, &i, &BTreeSet::new());
        assert!(sessions_up(&(None, Some(s))));
    }

    #[test]
    fn every_ospf_router_should_route_to_every_network_of_its_areas() {
        // edge1 and edge2 each behind core, as in the containerlab example,
        // plus core's second area.
        let iface = |addr: &str, len: u64, area: &str| {
            json!({"ifUp": true, "ospfEnabled": true, "ipAddress": addr,
                   "ipAddressPrefixlen": len, "area": area})
        };
        let edge1 = json!({"interfaces": {
            "eth1": iface("172.20.100.1", 30, "0.0.0.0"),
            "eth2": iface("172.20.1.1", 24, "0.0.0.0"),
            "lo": iface("127.0.0.1", 8, "0.0.0.0"),
            "eth3": {"ifUp": false, "ospfEnabled": true, "ipAddress": "10.9.9.1",
                     "ipAddressPrefixlen": 24, "area": "0.0.0.0"},
        }});
        let core = json!({"interfaces": {
            "eth1": iface("172.20.100.2", 30, "0.0.0.0"),
            "eth2": iface("172.20.100.5", 30, "0.0.0.0"),
            "eth3": iface("10.1.0.1", 31, "0.0.0.1"),
        }});
        let edge2 = json!({"interfaces": {
            "eth1": iface("172.20.100.6", 30, "0.0.0.0"),
            "eth2": iface("172.20.2.1", 24, "0.0.0.0"),
        }});
        let nets = ospf_networks(&edge1);
        assert_eq!(
            nets["0.0.0.0"],
            ["172.20.1.0/24", "172.20.100.0/30"]
                .map(String::from)
                .into()
        );
        let s = |v: &serde_json::Value| Sessions {
            networks: ospf_networks(v),
            ..Sessions::default()
        };
        let (e1, c, e2) = (s(&edge1), s(&core), s(&edge2));
        let want = ospf_expected(&[Some(&e1), Some(&c), None, Some(&e2)]);
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(want[0], set(&["172.20.100.4/30", "172.20.2.0/24"]));
        // core: both LANs; its own links and the other area's are its own.
        assert_eq!(want[1], set(&["172.20.1.0/24", "172.20.2.0/24"]));
        assert!(want[2].is_empty());
        assert_eq!(want[3], set(&["172.20.1.0/24", "172.20.100.0/30"]));
    }

    #[test]
    fn ospf_neighbours_are_expected_toward_ospf_routers_directly_or_through_a_switch() {
        let text = r#"
name: f
topology:
  nodes:
    r1: {kind: router, startup-config: "router ospf\n"}
    r2: {kind: router, startup-config: "router ospf\n"}
    r3: {kind: router, startup-config: "router bgp 65003\n"}
    r4: {kind: router, startup-config: "router ospf\n"}
    sw: {kind: switch}
    h1: {kind: host}
  links:
    - endpoints: ["r1:eth1", "r2:eth1"]
    - endpoints: ["r1:eth2", "r3:eth1"]
    - endpoints: ["r1:eth3", "sw:p1"]
    - endpoints: ["r4:eth1", "sw:p2"]
    - endpoints: ["h1:eth1", "sw:p3"]
    - endpoints: ["r1:eth4", "h1:eth2"]
"#;
        let loaded = netloom_spec::load_str(text, "f.yml", std::path::Path::new("/"))
            .unwrap_or_else(|e| panic!("{e}"));
        let plan = netloom_plan::plan(&loaded.topology, &Default::default()).unwrap();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(ospf_facing(&plan, "r1"), names(&["eth1", "eth3"]));
        assert_eq!(ospf_facing(&plan, "r3"), names(&["eth1"]));
        assert_eq!(ospf_facing(&plan, "r4"), names(&["eth1"]));
    }

    #[test]
    fn routes_settle_a_second_past_the_longest_lsa_hold_back() {
        let ospf = |ms: Option<u64>| RouterRouting {
            ospf: Some(Sessions {
                lsa_min_interval_ms: ms,
                ..Sessions::default()
            }),
            ..RouterRouting::default()
        };
        let bgp = RouterRouting::default();
        // No OSPF: 2 s.
        assert_eq!(settle_s([(false, &bgp)].into_iter()), 2.0);
        // Lab timers (no hold-back): still 2 s.
        let fast = ospf(Some(0));
        assert_eq!(settle_s([(true, &fast), (false, &bgp)].into_iter()), 2.0);
        // One router at FRR's default, or not asked yet: 6 s.
        let default = ospf(Some(5000));
        assert_eq!(settle_s([(true, &fast), (true, &default)].into_iter()), 6.0);
        let unknown = RouterRouting::default();
        assert_eq!(settle_s([(true, &fast), (true, &unknown)].into_iter()), 6.0);
        let long = ospf(Some(8000));
        assert_eq!(settle_s([(true, &long)].into_iter()), 9.0);
        // A BGP spine whose session to a new leaf came up lately sends it
        // its table only after the coalesce time.
        let spine = RouterRouting {
            bgp: Some(Sessions {
                coalesce_ms: Some(10_000),
                ..Sessions::default()
            }),
            ..RouterRouting::default()
        };
        assert_eq!(settle_s([(false, &bgp), (false, &spine)].into_iter()), 11.0);
    }

    #[test]
    fn bgp_sessions_that_came_up_lately_wait_out_the_coalesce_time() {
        let peer = |up_ms: u64| json!({"state": "Established", "peerUptimeMsec": up_ms});
        let summary = |peers: serde_json::Value| json!({"ipv4Unicast": {"peers": peers}});
        // One peer: 1.1 s, and a session reported 3 s up may be 2.01 s.
        let v = summary(json!({"10.0.0.1": peer(3000)}));
        assert_eq!(bgp_sessions(&v, None).coalesce_ms, Some(1100));
        let v = summary(json!({"10.0.0.1": peer(4000)}));
        assert_eq!(bgp_sessions(&v, None).coalesce_ms, None);
        // Four peers (a spine of a 2 x 4 Clos): 1.25 s.
        let four = json!({"a": peer(0), "b": peer(0), "c": peer(0), "d": peer(0)});
        assert_eq!(bgp_sessions(&summary(four), None).coalesce_ms, Some(1250));
        let v = summary(json!({"10.0.0.1": peer(4000)}));
        assert_eq!(bgp_sessions(&v, None).coalesce_ms, None);
        // 296 peers (a spine), one shut down: 10 s at most.
        let mut many = serde_json::Map::new();
        for i in 0..296 {
            many.insert(format!("10.0.{}.{}", i / 200, i % 200), peer(11_000));
        }
        many.insert("10.0.0.7".into(), json!({"state": "Idle (Admin)"}));
        many.insert("10.0.9.9".into(), json!({"state": "Idle (Admin)"}));
        let v = summary(serde_json::Value::Object(many));
        let s = bgp_sessions(&v, None);
        assert_eq!((s.up, s.total, s.coalesce_ms), (295, 295, Some(10_000)));
        // A configured coalesce-time replaces FRR's estimate.
        assert_eq!(bgp_sessions(&v, Some(0)).coalesce_ms, None);
        assert_eq!(
            configured_coalesce_ms("router bgp 65001\n coalesce-time 200\n"),
            Some(200)
        );
        assert_eq!(configured_coalesce_ms("router bgp 65001\n"), None);
    }

    #[test]
    fn a_router_that_is_not_ready_says_why() {
        let r = RouterRouting {
            node: "leaf3".into(),
            bgp: Some(Sessions {
                up: 1,
                total: 2,
                down: vec!["10.0.0.4 Active".into()],
                ..Sessions::default()
            }),
            expected: 9,
            missing: 6,
            missing_first: vec!["10.255.0.7/32".into()],
            ..RouterRouting::default()
        };
        assert_eq!(
            r.why_not(),
            "leaf3: BGP 1/2 up (10.0.0.4 Active); 6 of 9 prefixes missing (10.255.0.7/32, ...)"
        );
    }
}
