//! Fabric automation end to end: Clos fabrics written with no addresses
//! and no ASNs deploy, converge (checked from FRR's JSON), filter default
//! routes, balance over equal-cost paths; impossible intent fails before
//! anything is created.

mod common;

use common::Env;
use std::collections::BTreeMap;
use std::time::Duration;

/// `netloom generate clos` into a file, with `edit` applied to the text.
fn clos(
    env: &Env,
    dir: &std::path::Path,
    protocol: &str,
    edit: impl Fn(String) -> String,
) -> std::path::PathBuf {
    let file = dir.join(format!("clos-{protocol}.yml"));
    let out = env.ok(&[
        "generate",
        "clos",
        "--spines",
        "2",
        "--leaves",
        "4",
        "--hosts-per-leaf",
        "1",
        "--protocol",
        protocol,
    ]);
    std::fs::write(&file, edit(out)).unwrap();
    file
}

/// Host name -> its address, and leaf name -> its host segment, from inspect.
fn addresses(env: &Env) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let json = env.ok(&["inspect", "--name", "clos", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut hosts = BTreeMap::new();
    let mut segments = BTreeMap::new();
    for n in v[0]["nodes"].as_array().unwrap() {
        let name = n["name"].as_str().unwrap().to_string();
        for i in n["interfaces"].as_array().unwrap() {
            for a in i["addresses"].as_array().unwrap() {
                let a = a.as_str().unwrap();
                if a.starts_with("172.") && a.ends_with("/24") {
                    if n["kind"] == "host" {
                        hosts.insert(name.clone(), a.split('/').next().unwrap().to_string());
                    } else {
                        let net: netloom_model::Prefix = a.parse().unwrap();
                        segments.insert(name.clone(), net.network().to_string());
                    }
                }
            }
        }
    }
    (hosts, segments)
}

fn ping_all(env: &Env, hosts: &BTreeMap<String, String>) {
    for from in hosts.keys() {
        for (to, addr) in hosts {
            if from != to {
                env.wait_ping(from, addr, Duration::from_secs(30));
            }
        }
    }
}

#[test]
fn bgp_clos_from_intent_balances_and_filters_defaults() {
    let Some(env) = Env::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    // spine1 originates a default route; the fabric must not spread it.
    let file = clos(&env, dir.path(), "bgp", |t| {
        t.replace(
            "spine1: {kind: router, labels: {role: spine}}",
            "spine1: {kind: router, labels: {role: spine}, routing: {originate_default: true}}",
        )
    });
    env.deploy(&file);
    let (hosts, segments) = addresses(&env);
    assert_eq!(hosts.len(), 4);
    assert_eq!(segments.len(), 4);
    // Every leaf: two installed next hops to every remote host segment.
    for leaf in segments.keys() {
        for (other, seg) in &segments {
            if other == leaf {
                continue;
            }
            env.wait_for(
                &format!("{leaf} to have 2 paths to {seg}"),
                Duration::from_secs(60),
                || {
                    let v = env.vtysh_json(leaf, &format!("show ip route {seg} json"))?;
                    let route = &v[seg.as_str()][0];
                    let hops = route["nexthops"].as_array()?;
                    let active = hops
                        .iter()
                        .filter(|h| h["active"] == true && h["fib"] == true)
                        .count();
                    (route["protocol"] == "bgp" && active == 2).then_some(())
                },
            );
        }
    }
    ping_all(&env, &hosts);
    // No router learned a default route over BGP (spine1's own is local).
    for router in ["spine1", "spine2", "leaf1", "leaf2", "leaf3", "leaf4"] {
        let v = env.vtysh_json(router, "show ip bgp json").unwrap();
        let default = &v["routes"]["0.0.0.0/0"];
        match router {
            "spine1" => {
                let paths = default.as_array().expect("spine1 originates 0.0.0.0/0");
                assert!(
                    paths
                        .iter()
                        .all(|p| p["peerId"] == "(unspec)"
                            || p["origin"] == "IGP" && p["path"] == ""),
                    "{default}"
                );
            }
            _ => assert!(
                default.is_null(),
                "{router} learned a default route: {default}"
            ),
        }
    }
    // The rendered config names the allocated ASN and holds BGP read-only
    // at start (the default `update_delay`).
    let config = env.ok(&["config", "leaf1"]);
    assert!(config.contains("router bgp 42"), "{config}");
    assert!(config.contains("maximum-paths"), "{config}");
    assert!(config.contains("\n update-delay 30 10\n"), "{config}");
    env.ok(&["destroy", "--name", "clos"]);
    env.assert_clean();
}

#[test]
fn ospf_clos_from_intent_converges() {
    let Some(env) = Env::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = clos(&env, dir.path(), "ospf", |t| t);
    env.deploy(&file);
    let (hosts, _) = addresses(&env);
    for leaf in ["leaf1", "leaf2", "leaf3", "leaf4"] {
        env.wait_for(
            &format!("{leaf} to have 2 Full OSPF neighbors"),
            Duration::from_secs(90),
            || {
                let v = env.vtysh_json(leaf, "show ip ospf neighbor json")?;
                let n = v["neighbors"]
                    .as_object()?
                    .values()
                    .flat_map(|n| n.as_array().cloned().unwrap_or_default())
                    .filter(|n| {
                        n["nbrState"]
                            .as_str()
                            .is_some_and(|s| s.starts_with("Full"))
                    })
                    .count();
                (n == 2).then_some(())
            },
        );
    }
    ping_all(&env, &hosts);
    env.ok(&["destroy", "--name", "clos"]);
    env.assert_clean();
}

#[test]
fn intent_that_cannot_be_met_fails_before_anything_exists() {
    let Some(env) = Env::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Eight router links cannot fit four /31s.
    let file = clos(&env, dir.path(), "bgp", |t| {
        t.replace("p2p: 10.0.0.0/16", "p2p: 10.0.0.0/29")
    });
    let out = env.run(&["deploy", "-t", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("addressing.p2p"), "{err}");
    env.assert_clean();
    assert_eq!(env.ok(&["inspect", "--format", "json"]).trim(), "[]");
}
