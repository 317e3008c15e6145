//! The executor against the real kernel (as root; skipped otherwise, but
//! failing under CI). Every test uses its own ownership prefix, which is
//! cleaned up when the test ends, also when it fails.

use netloom_linux::{in_netns, Executor, Progress};
use netloom_model::{
    Endpoint, FrrConfig, IfName, LabName, Link, Node, NodeKind, NodeName, Topology,
};
use netloom_plan::Plan;
use netloom_testkit::{assert_no_leftovers, error_chain, leftovers, require_root, TestPrefix};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn node(name: &str, kind: NodeKind) -> Node {
    Node::new(NodeName::new(name).unwrap(), kind)
}

fn host(name: &str, exec: &[&str]) -> Node {
    let mut n = node(name, NodeKind::Host);
    n.exec = exec.iter().map(|s| s.to_string()).collect();
    n
}

fn router(name: &str, config: Option<&str>, daemons: Option<&[&str]>) -> Node {
    let mut n = node(name, NodeKind::Router);
    n.frr = Some(FrrConfig {
        config: config.map(str::to_string),
        config_origin: Some("inline".into()),
        daemons: daemons.map(|d| d.iter().map(|s| s.to_string()).collect()),
    });
    n
}

fn link(a: &str, b: &str) -> Link {
    let end = |s: &str| {
        let (node, iface) = s.split_once(':').unwrap();
        Endpoint {
            node: NodeName::new(node).unwrap(),
            iface: IfName::new(iface).unwrap(),
        }
    };
    Link::new(end(a), end(b))
}

fn topology(lab: &str, nodes: Vec<Node>, links: Vec<Link>) -> Topology {
    Topology::new(LabName::new(lab).unwrap(), nodes, links)
}

fn plan(prefix: &TestPrefix, topo: &Topology) -> Plan {
    netloom_plan::plan(topo, &prefix.options()).unwrap()
}

fn quiet(_: Progress) {}

/// Runs a program inside a node and returns (success, stdout).
fn run_in(plan: &Plan, node: &str, args: &[&str]) -> (bool, String) {
    let netns = &plan.node(node).unwrap().netns;
    let mut cmd = Command::new(args[0]);
    cmd.args(&args[1..]).stdin(Stdio::null());
    in_netns(&mut cmd, netns).unwrap();
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn ping(plan: &Plan, from: &str, ip: &str) -> bool {
    (0..3).any(|_| run_in(plan, from, &["ping", "-c1", "-W1", ip]).0)
}

#[test]
fn two_hosts_ping_over_a_veth() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let topo = topology(
        "pair",
        vec![
            host("h1", &["ip addr add 10.91.0.1/24 dev eth1"]),
            host("h2", &["ip addr add 10.91.0.2/24 dev eth1"]),
        ],
        vec![link("h1:eth1", "h2:eth1")],
    );
    let plan = plan(&prefix, &topo);
    let exec = Executor::new();
    let seen = std::sync::Mutex::new(Vec::new());
    exec.apply(&plan, &|p| seen.lock().unwrap().push(p))
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), plan.step_count());
    assert_eq!(seen.last().unwrap().done, seen.last().unwrap().total);

    assert!(ping(&plan, "h1", "10.91.0.2"), "h1 cannot ping h2");
    assert!(ping(&plan, "h2", "10.91.0.1"), "h2 cannot ping h1");

    let obs = exec.observe(&plan);
    let h1 = obs.node("h1").unwrap();
    assert!(h1.netns_present);
    let lo = h1.interfaces.iter().find(|i| i.name == "lo").unwrap();
    assert!(lo.up);
    let eth1 = h1.interfaces.iter().find(|i| i.name == "eth1").unwrap();
    assert!(eth1.up && eth1.running, "{eth1:?}");
    assert!(eth1.addresses.contains(&"10.91.0.1/24".to_string()));
    assert_eq!(eth1.mtu, Some(1500));
    assert_eq!(exec.labs_present(prefix.as_str()), vec!["pair".to_string()]);

    exec.destroy(&plan).unwrap();
    assert_no_leftovers(prefix.as_str());
    assert!(exec.observe(&plan).nodes.iter().all(|n| !n.netns_present));
    // Destroy is idempotent.
    exec.destroy(&plan).unwrap();
}

#[test]
fn links_take_their_mtu() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let mut l = link("a:eth1", "b:eth7");
    l.mtu = Some(9000);
    let topo = topology("mtu", vec![host("a", &[]), host("b", &[])], vec![l]);
    let plan = plan(&prefix, &topo);
    let exec = Executor::new();
    exec.apply(&plan, &quiet).unwrap();
    let obs = exec.observe(&plan);
    for (node, iface) in [("a", "eth1"), ("b", "eth7")] {
        let i = obs
            .node(node)
            .unwrap()
            .interfaces
            .iter()
            .find(|i| i.name == iface)
            .unwrap_or_else(|| panic!("{node} has no {iface}"));
        assert_eq!(i.mtu, Some(9000), "{node}:{iface}");
    }
    exec.destroy(&plan).unwrap();
    assert_no_leftovers(prefix.as_str());
}

#[test]
fn switch_joins_three_hosts() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let topo = topology(
        "sw",
        vec![
            node("sw1", NodeKind::Switch),
            host("h1", &["ip addr add 10.92.0.1/24 dev eth1"]),
            host("h2", &["ip addr add 10.92.0.2/24 dev eth1"]),
            host("h3", &["ip addr add 10.92.0.3/24 dev eth1"]),
        ],
        vec![
            link("h1:eth1", "sw1:p1"),
            link("h2:eth1", "sw1:p2"),
            link("h3:eth1", "sw1:p3"),
        ],
    );
    let plan = plan(&prefix, &topo);
    let exec = Executor::new();
    exec.apply(&plan, &quiet).unwrap();

    for (from, n) in [("h1", 1), ("h2", 2), ("h3", 3)] {
        for to in 1..=3 {
            if to != n {
                let ip = format!("10.92.0.{to}");
                assert!(ping(&plan, from, &ip), "{from} cannot ping {ip}");
            }
        }
    }
    let obs = exec.observe(&plan);
    let sw = obs.node("sw1").unwrap();
    let br = sw.interfaces.iter().find(|i| i.name == "br0").unwrap();
    assert!(br.up);
    let mut ports: Vec<&str> = sw
        .interfaces
        .iter()
        .filter(|i| i.master.as_deref() == Some("br0"))
        .map(|i| i.name.as_str())
        .collect();
    ports.sort();
    assert_eq!(ports, vec!["p1", "p2", "p3"]);

    exec.destroy(&plan).unwrap();
    assert_no_leftovers(prefix.as_str());
}

const OSPF: &str = "frr defaults traditional
hostname {name}
service integrated-vtysh-config
!
interface eth1
 ip address 10.93.0.{n}/30
 ip ospf network point-to-point
 ip ospf hello-interval 1
 ip ospf dead-interval 4
!
interface lo
 ip address 10.93.255.{n}/32
!
router ospf
 ospf router-id 10.93.255.{n}
 network 10.93.0.0/30 area 0
 network 10.93.255.{n}/32 area 0
!
ip route 10.93.100.0/24 blackhole
!
";

#[test]
fn frr_routers_reach_ospf_full() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let cfg = |name: &str, n: u32| OSPF.replace("{name}", name).replace("{n}", &n.to_string());
    let (c1, c2) = (cfg("r1", 1), cfg("r2", 2));
    let topo = topology(
        "ospf",
        vec![router("r1", Some(&c1), None), router("r2", Some(&c2), None)],
        vec![link("r1:eth1", "r2:eth1")],
    );
    let plan = plan(&prefix, &topo);
    assert_eq!(
        plan.node("r1").unwrap().frr.as_ref().unwrap().daemons,
        vec!["zebra", "staticd", "ospfd"]
    );
    let exec = Executor::new();
    let start = Instant::now();
    exec.apply(&plan, &quiet).unwrap();
    eprintln!("two FRR routers up in {:?}", start.elapsed());

    let obs = exec.observe(&plan);
    for r in ["r1", "r2"] {
        let n = obs.node(r).unwrap();
        assert_eq!(n.daemons.len(), 3);
        assert!(n.daemons.iter().all(|d| d.alive), "{r}: {:?}", n.daemons);
        let ps = netloom_linux::frr_pathspace(&plan.node(r).unwrap().netns);
        let (ok, version) = run_in(&plan, r, &["vtysh", "-N", &ps, "-c", "show version"]);
        assert!(ok && version.contains("FRRouting"), "{version}");
        let (ok, fwd) = run_in(&plan, r, &["cat", "/proc/sys/net/ipv4/ip_forward"]);
        assert!(ok);
        assert_eq!(fwd.trim(), "1", "ip_forward in {r}");
        // The static route from the configuration reached the kernel.
        let (_, routes) = run_in(&plan, r, &["ip", "route"]);
        assert!(routes.contains("10.93.100.0/24"), "{r}: {routes}");
    }

    let ps1 = netloom_linux::frr_pathspace(&plan.node("r1").unwrap().netns);
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (_, json) = run_in(
            &plan,
            "r1",
            &["vtysh", "-N", &ps1, "-c", "show ip ospf neighbor json"],
        );
        if json.contains("Full") {
            eprintln!("OSPF Full after {:?}", start.elapsed());
            break;
        }
        assert!(Instant::now() < deadline, "no OSPF Full neighbor: {json}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ping(&plan, "r1", "10.93.255.2") {
        assert!(Instant::now() < deadline, "r1 cannot reach r2's loopback");
    }
    eprintln!("r1 reaches r2's loopback after {:?}", start.elapsed());
    // The same, asked the cheap ways: FRR's vty socket and a route dump.
    let r1 = plan.node("r1").unwrap();
    let planned = &r1.frr.as_ref().unwrap().pathspace;
    let json = netloom_linux::vty_command(
        planned,
        "ospfd",
        "show ip ospf neighbor json",
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(json.contains("Full"), "{json}");
    let err = netloom_linux::vty_command(
        planned,
        "zebra",
        "show no-such-thing",
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("refused `show no-such-thing`"),
        "{err}"
    );
    let routes = exec.routes(&[r1]).pop().unwrap().unwrap();
    assert!(
        routes
            .iter()
            .any(|r| r.dst == "10.93.255.2/32" && r.protocol == "ospf"),
        "{routes:?}"
    );

    let start = Instant::now();
    exec.destroy(&plan).unwrap();
    eprintln!("two FRR routers destroyed in {:?}", start.elapsed());
    assert_no_leftovers(prefix.as_str());
}

#[test]
fn failing_exec_rolls_back() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let topo = topology(
        "badexec",
        vec![
            host("h1", &["sleep 1000 &", "echo started"]),
            host("h2", &["true", "echo oops >&2; false", "echo never"]),
            node("sw1", NodeKind::Switch),
        ],
        vec![link("h1:eth1", "sw1:p1"), link("h2:eth1", "sw1:p2")],
    );
    let plan = plan(&prefix, &topo);
    let start = Instant::now();
    let err = Executor::new().apply(&plan, &quiet).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(30), "deploy hung");
    let msg = error_chain(&err);
    assert_eq!(err.node, "h2");
    assert!(msg.contains("on node h2"), "{msg}");
    assert!(msg.contains("`echo oops >&2; false`"), "{msg}");
    assert!(msg.contains("exited with code 1"), "{msg}");
    assert!(msg.contains("oops"), "{msg}");
    assert!(err.rollback.is_none(), "{msg}");
    assert_no_leftovers(prefix.as_str());
}

#[test]
fn hung_exec_times_out() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let topo = topology("hang", vec![host("h1", &["sleep 30"])], vec![]);
    let plan = plan(&prefix, &topo);
    let mut exec = Executor::new();
    exec.exec_timeout = Duration::from_secs(1);
    let err = exec.apply(&plan, &quiet).unwrap_err();
    let msg = error_chain(&err);
    assert!(msg.contains("did not finish within 1 s"), "{msg}");
    assert_no_leftovers(prefix.as_str());
}

#[test]
fn missing_frr_daemon_rolls_back() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let topo = topology(
        "baddaemon",
        vec![
            router("r1", None, Some(&["mgmtd"])),
            router("r2", None, None),
            host("h1", &[]),
        ],
        vec![link("r1:eth1", "r2:eth1"), link("r2:eth2", "h1:eth1")],
    );
    let plan = plan(&prefix, &topo);
    let err = Executor::new().apply(&plan, &quiet).unwrap_err();
    let msg = error_chain(&err);
    assert_eq!(err.node, "r1", "{msg}");
    assert!(msg.contains("start FRR (zebra, mgmtd, staticd)"), "{msg}");
    assert!(msg.contains("mgmtd is not installed"), "{msg}");
    assert!(err.rollback.is_none(), "{msg}");
    assert_no_leftovers(prefix.as_str());
}

#[test]
fn bad_frr_config_rolls_back() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let topo = topology(
        "badconf",
        vec![router(
            "r1",
            Some("hostname r1\ninterface eth1\n no such command here\n"),
            None,
        )],
        vec![],
    );
    let plan = plan(&prefix, &topo);
    let err = Executor::new().apply(&plan, &quiet).unwrap_err();
    let msg = error_chain(&err);
    assert!(msg.contains("on node r1"), "{msg}");
    assert!(msg.contains("accept the configuration"), "{msg}");
    assert!(msg.contains("no such command here"), "{msg}");
    assert_no_leftovers(prefix.as_str());
}

/// Several routers' configurations are checked with one vtysh; a bad one
/// is still reported on its router with its own line, and one router's
/// last section does not make the next one's stray first line valid.
#[test]
fn bad_frr_config_among_many_names_its_router_and_line() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let topo = topology(
        "badconfs",
        vec![
            router(
                "r1",
                Some("hostname r1\ninterface eth1\n ip address 10.9.9.1/24\n"),
                None,
            ),
            // Valid only inside an `interface` section (r1's last one).
            router("r2", Some(" ip address 10.9.9.2/24\nhostname r2\n"), None),
            router("r3", Some("hostname r3\n"), None),
        ],
        vec![],
    );
    let plan = plan(&prefix, &topo);
    let err = Executor::new().apply(&plan, &quiet).unwrap_err();
    let msg = error_chain(&err);
    assert_eq!(err.node, "r2", "{msg}");
    assert!(msg.contains("accept the configuration"), "{msg}");
    assert!(msg.contains("line 1"), "{msg}");
    assert_no_leftovers(prefix.as_str());
}

#[test]
fn cleanup_finds_what_a_dead_daemon_left() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let exec = Executor::new();
    let a = plan(
        &prefix,
        &topology(
            "gone",
            vec![router("r1", None, None), host("h1", &["sleep 1000 &"])],
            vec![link("r1:eth1", "h1:eth1")],
        ),
    );
    let b = plan(
        &prefix,
        &topology(
            "kept",
            vec![host("h1", &["sleep 1000 &"]), host("h2", &[])],
            vec![link("h1:eth1", "h2:eth1")],
        ),
    );
    exec.apply(&a, &quiet).unwrap();
    exec.apply(&b, &quiet).unwrap();
    assert_eq!(
        exec.labs_present(prefix.as_str()),
        vec!["gone".to_string(), "kept".to_string()]
    );
    // The daemon "dies": its plans are forgotten.
    drop((a, b));

    let report = exec
        .cleanup(prefix.as_str(), &["kept".to_string()])
        .unwrap();
    assert_eq!(report.namespaces.len(), 2, "{report:?}");
    assert!(report.namespaces.iter().all(|n| n.contains("-gone.")));
    assert!(
        report.processes.iter().any(|p| p.comm == "zebra"),
        "{report:?}"
    );
    // The host's `sleep 1000 &` may not have left the forked shell yet
    // (its comm is then still "sh"): look for it by owner, not by name.
    assert!(
        report
            .processes
            .iter()
            .any(|p| p.owner.ends_with("-gone.h1")),
        "{report:?}"
    );
    assert_eq!(report.frr_dirs.len(), 2, "{report:?}");
    assert_eq!(exec.labs_present(prefix.as_str()), vec!["kept".to_string()]);
    assert!(leftovers(prefix.as_str())
        .iter()
        .all(|l| !l.contains("-gone.")));

    let report = exec.cleanup(prefix.as_str(), &[]).unwrap();
    assert_eq!(report.namespaces.len(), 2, "{report:?}");
    assert!(
        report
            .processes
            .iter()
            .any(|p| p.owner.ends_with("-kept.h1")),
        "{report:?}"
    );
    assert_no_leftovers(prefix.as_str());
    assert!(exec.cleanup(prefix.as_str(), &[]).unwrap().is_empty());
}

#[test]
fn cleanup_ends_what_forks_while_it_runs() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let exec = Executor::new();
    // A loop that ignores SIGTERM and starts a child every 20 ms keeps
    // making processes through the whole grace period of the first kill.
    let a = plan(
        &prefix,
        &topology(
            "forky",
            vec![host(
                "h1",
                &["(trap '' TERM; while :; do sleep 1000 & sleep 0.02; done) &"],
            )],
            vec![],
        ),
    );
    exec.apply(&a, &quiet).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    drop(a);
    let report = exec.cleanup(prefix.as_str(), &[]).unwrap();
    assert!(report.processes.len() > 10, "{report:?}");
    assert_no_leftovers(prefix.as_str());
}

/// `n` switches in a line, each with one host.
fn linear(lab: &str, n: usize) -> Topology {
    let mut nodes = Vec::new();
    let mut links = Vec::new();
    for i in 1..=n {
        nodes.push(node(&format!("s{i}"), NodeKind::Switch));
        nodes.push(host(&format!("h{i}"), &[]));
        links.push(link(&format!("h{i}:eth1"), &format!("s{i}:p1")));
        if i < n {
            links.push(link(&format!("s{i}:p2"), &format!("s{}:p3", i + 1)));
        }
    }
    topology(lab, nodes, links)
}

#[test]
fn scale_200_namespaces() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let plan = plan(&prefix, &linear("lin", 100));
    let exec = Executor::new();
    let start = Instant::now();
    exec.apply(&plan, &quiet).unwrap();
    let up = start.elapsed();
    let obs = exec.observe(&plan);
    assert!(obs.nodes.iter().all(|n| n.netns_present));
    let start = Instant::now();
    exec.destroy(&plan).unwrap();
    let down = start.elapsed();
    eprintln!("200 namespaces, 199 links, 100 bridges: apply {up:?}, destroy {down:?}");
    assert_no_leftovers(prefix.as_str());
}

/// 1,000 namespaces and 1,000 veth pairs (a ring of hosts): the shape of
/// the `ip -batch` baseline. Run with `--ignored` to measure.
#[test]
#[ignore]
fn scale_1000_namespaces() {
    if !require_root() {
        return;
    }
    let prefix = TestPrefix::new();
    let n = 1000;
    let nodes = (0..n).map(|i| host(&format!("h{i}"), &[])).collect();
    let links = (0..n)
        .map(|i| link(&format!("h{i}:eth1"), &format!("h{}:eth2", (i + 1) % n)))
        .collect();
    let plan = plan(&prefix, &topology("ring", nodes, links));
    let mut exec = Executor::new();
    if let Some(w) = std::env::var("NETLOOM_KERNEL_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
    {
        exec.kernel_workers = w;
    }
    let start = Instant::now();
    let last = std::sync::Mutex::new(String::new());
    exec.apply(&plan, &|p: Progress| {
        let mut last = last.lock().unwrap();
        if *last != p.phase {
            eprintln!("{:?}: phase {} begins", start.elapsed(), p.phase);
            *last = p.phase;
        }
    })
    .unwrap();
    let up = start.elapsed();
    let start = Instant::now();
    exec.destroy(&plan).unwrap();
    eprintln!(
        "1000 namespaces + 1000 veth pairs: apply {up:?}, destroy {:?}",
        start.elapsed()
    );
    assert_no_leftovers(prefix.as_str());
}
