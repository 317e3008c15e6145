//! A running lab changed live (`netloom apply`, `netloom link set`),
//! exported (`netloom export`), destroyed and deployed again from the
//! export: the same nodes, links, link properties and addresses.

mod common;

use common::{example, Env};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// What must survive the round trip: nodes, links with mode and delay,
/// and every global address of every node.
fn shape(lab: &Value) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let nodes = lab["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| format!("{} {}", n["name"], n["kind"]))
        .collect();
    let links = lab["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{} {} {} {}",
                l["a"], l["b"], l["mode"], l["a_to_b"]["delay_ns"]
            )
        })
        .collect();
    let addresses = lab["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| {
            let name = n["name"].as_str().unwrap().to_string();
            n["interfaces"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["name"] != "lo")
                .flat_map(move |i| {
                    let name = name.clone();
                    let iface = i["name"].as_str().unwrap().to_string();
                    i["addresses"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(|a| a.as_str())
                        .filter(|a| !a.starts_with("fe80:"))
                        .map(move |a| format!("{name}:{iface} {a}"))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    (nodes, links, addresses)
}

fn inspect(env: &Env) -> Value {
    serde_json::from_str(&env.ok(&["inspect", "--format", "json"])).unwrap()
}

fn zebra_pid(lab: &Value, node: &str) -> Value {
    lab["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == node)
        .unwrap()["daemons"][0]["pid"]
        .clone()
}

#[test]
fn a_lab_changed_live_exports_to_a_file_that_deploys_the_same_lab() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    let dir = tempfile::tempdir().unwrap();
    let src = example("ospf-triangle");
    for f in ["lab.yml", "r1.conf", "r2.conf", "r3.conf"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let file = dir.path().join("lab.yml");
    env.deploy(&file);
    let before = inspect(&env);
    let labs = before.as_array().unwrap();
    assert_eq!(labs.len(), 1);

    // Edit the file: a third host on r2, and a slow r1-r2 link.
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text
        .replace(
            "  links:\n",
            "    h3:\n      kind: host\n      exec: [\"ip addr add 10.99.0.2/24 dev eth1\"]\n  links:\n    - endpoints: [\"r2:eth3\", \"h3:eth1\"]\n",
        )
        .replace(
            "    - endpoints: [\"r1:eth1\", \"r2:eth1\"]\n",
            "    - endpoints: [\"r1:eth1\", \"r2:eth1\"]\n      delay: 5ms\n",
        );
    std::fs::write(&file, text).unwrap();
    let out = env.ok(&["apply", "-t", file.to_str().unwrap()]);
    assert!(out.contains("+ node h3"), "{out}");
    assert!(out.contains("+ link r2:eth3 <-> h3:eth1"), "{out}");
    assert!(out.contains("~ link r1:eth1 <-> r2:eth1"), "{out}");
    // Applying it again changes nothing.
    let again = env.ok(&["apply", "-t", file.to_str().unwrap()]);
    assert!(again.contains("already matches"), "{again}");
    let changed = inspect(&env);
    // r3 and its host were not touched; r1 and r2 only gained or changed
    // links, so their FRR kept running too.
    for node in ["r1", "r2", "r3"] {
        assert_eq!(
            zebra_pid(&before[0], node),
            zebra_pid(&changed[0], node),
            "{node} was restarted"
        );
    }
    env.ok(&["link", "set", "r1:eth1", "--delay", "15ms"]);
    env.wait_ping("h1", "192.168.3.10", Duration::from_secs(60));

    let exported = dir.path().join("exported.yml");
    env.ok(&["export", "-o", exported.to_str().unwrap()]);
    let want = shape(&inspect(&env)[0]);
    assert!(
        want.1.iter().any(|l| l.contains("15000000")),
        "{:?}",
        want.1
    );
    assert!(
        want.2.iter().any(|a| a == "h3:eth1 10.99.0.2/24"),
        "{:?}",
        want.2
    );

    env.ok(&["destroy", "--all"]);
    // Deployed from the export alone: the original directory is gone.
    let elsewhere = tempfile::tempdir().unwrap();
    let moved = elsewhere.path().join("lab.yml");
    std::fs::copy(&exported, &moved).unwrap();
    drop(dir);
    env.deploy(&moved);
    let got = shape(&inspect(&env)[0]);
    assert_eq!(got.0, want.0, "nodes");
    assert_eq!(got.1, want.1, "links");
    assert_eq!(got.2, want.2, "addresses");
    env.wait_ping("h1", "192.168.3.10", Duration::from_secs(60));
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}
