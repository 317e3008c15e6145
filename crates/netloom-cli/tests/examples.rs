//! Every example deploys, works (routing converged from FRR's JSON, hosts
//! ping across routers) and is destroyed without leftovers.

mod common;

use common::{example, Env};
use std::time::Duration;

fn ospf_full_neighbors(env: &Env, node: &str) -> usize {
    let Some(v) = env.vtysh_json(node, "show ip ospf neighbor json") else {
        return 0;
    };
    let Some(map) = v["neighbors"].as_object() else {
        return 0;
    };
    map.values()
        .flat_map(|n| n.as_array().cloned().unwrap_or_default())
        .filter(|n| {
            n["converged"].as_str() == Some("Full")
                || n["nbrState"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("Full"))
        })
        .count()
}

#[test]
fn ospf_triangle_converges_and_hosts_ping_across_routers() {
    let Some(env) = Env::new() else { return };
    let out = env.deploy(&example("ospf-triangle/lab.yml"));
    assert!(out.contains("r1") && out.contains("running"), "{out}");
    for r in ["r1", "r2", "r3"] {
        env.wait_for(
            &format!("{r} to have 2 Full OSPF neighbors"),
            Duration::from_secs(60),
            || (ospf_full_neighbors(&env, r) == 2).then_some(()),
        );
    }
    // h1 (behind r1) reaches h2 (behind r3) across the routers.
    env.wait_ping("h1", "192.168.3.10", Duration::from_secs(30));
    // Routers forward.
    let fwd = env.exec("r2", &["cat", "/proc/sys/net/ipv4/ip_forward"]);
    assert_eq!(String::from_utf8_lossy(&fwd.stdout).trim(), "1");
    // The route to h2's LAN on r1 came from OSPF.
    let routes = env.vtysh_json("r1", "show ip route json").unwrap();
    assert_eq!(routes["192.168.3.0/24"][0]["protocol"], "ospf", "{routes}");
    env.ok(&[
        "destroy",
        "-t",
        example("ospf-triangle/lab.yml").to_str().unwrap(),
    ]);
    env.assert_clean();
}

#[test]
fn bgp_pair_establishes_and_hosts_ping() {
    let Some(env) = Env::new() else { return };
    // `--wait` returns once routing has converged: no polling after it.
    let file = example("bgp-pair/lab.yml");
    env.ok(&["deploy", "-t", file.to_str().unwrap(), "--wait"]);
    let v = env.vtysh_json("r1", "show bgp summary json").unwrap();
    assert_eq!(
        v["ipv4Unicast"]["peers"]["10.0.0.1"]["state"], "Established",
        "{v}"
    );
    assert!(env.ping("h1", "192.168.2.10"));
    let routes = env.vtysh_json("r1", "show ip route json").unwrap();
    assert_eq!(routes["192.168.2.0/24"][0]["protocol"], "bgp", "{routes}");
    env.ok(&["destroy", "--name", "bgp-pair"]);
    env.assert_clean();
}

#[test]
fn switch_lab_joins_three_hosts() {
    let Some(env) = Env::new() else { return };
    env.deploy(&example("switch-lab/lab.yml"));
    for (from, to) in [
        ("h1", "172.16.0.2"),
        ("h1", "172.16.0.3"),
        ("h2", "172.16.0.3"),
    ] {
        env.wait_ping(from, to, Duration::from_secs(10));
    }
    let ports = env.exec("sw1", &["ip", "-o", "link", "show", "master", "br0"]);
    let text = String::from_utf8_lossy(&ports.stdout);
    assert_eq!(text.lines().count(), 3, "{text}");
    let json = env.ok(&["inspect", "--name", "switch-lab", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let h3 = v[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "h3")
        .unwrap();
    assert_eq!(h3["labels"]["role"], "server");
    assert_eq!(h3["status"], "running");
    env.ok(&["destroy", "--name", "switch-lab"]);
    env.assert_clean();
}

#[test]
fn containerlab_file_runs_unchanged() {
    let Some(env) = Env::new() else { return };
    let file = example("clab-frr/lab.clab.yml");
    env.ok(&["deploy", "-t", file.to_str().unwrap(), "--wait"]);
    assert!(env.ping("client1", "172.20.2.100"));
    // No fabric netloom planned, yet `wait` knew what to expect: each
    // router routes to the 2 networks of area 0 it is not on.
    let json = env.ok(&["wait", "-t", file.to_str().unwrap(), "--format", "json"]);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    for router in r["routers"].as_array().unwrap() {
        assert_eq!(
            (&router["expected"], &router["missing"]),
            (&serde_json::json!(2), &serde_json::json!(0)),
            "{router}"
        );
    }
    let json = env.ok(&["inspect", "-t", file.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let core = v[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "core")
        .unwrap();
    assert_eq!(core["kind"], "router");
    assert_eq!(core["image"], "quay.io/frrouting/frr:9.1.0");
    let daemons: Vec<&str> = core["daemons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(daemons.contains(&"ospfd"), "{daemons:?}");
    env.ok(&["destroy", "-t", file.to_str().unwrap()]);
    env.assert_clean();
}

#[test]
fn planet_routes_ospf_over_distance() {
    let Some(env) = Env::new() else { return };
    let file = example("planet/lab.yml");
    env.ok(&["deploy", "-t", file.to_str().unwrap(), "--wait"]);
    for r in ["tokyo", "london", "newyork"] {
        assert_eq!(ospf_full_neighbors(&env, r), 2, "{r}");
    }
    assert!(env.ping("h-tokyo", "192.168.3.10"));
    // Tokyo - New York: the typical RTT of 165 ms, plus a little jitter.
    let out = env.exec("h-tokyo", &["ping", "-c", "5", "-i", "0.2", "192.168.3.10"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let avg: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("rtt min/avg/max/mdev = "))
        .and_then(|l| l.split('/').nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!((163.0..170.0).contains(&avg), "avg RTT {avg} ms");
    env.ok(&["destroy", "-t", file.to_str().unwrap()]);
    env.assert_clean();
}
