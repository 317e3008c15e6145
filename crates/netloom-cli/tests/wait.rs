//! `netloom wait` and `deploy --wait`: they return when routing has
//! converged (traffic flows at once afterwards), and a lab that cannot
//! converge times out naming the router and the session at fault.

mod common;

use common::Env;
use std::time::Duration;

#[test]
fn deploy_wait_returns_when_every_host_reaches_every_other() {
    let Some(env) = Env::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clos.yml");
    let text = env.ok(&[
        "generate",
        "clos",
        "--spines",
        "2",
        "--leaves",
        "3",
        "--hosts-per-leaf",
        "1",
        "--protocol",
        "ospf",
    ]);
    std::fs::write(&file, text).unwrap();
    let out = env.run(&["deploy", "-t", file.to_str().unwrap(), "--wait"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("routing of lab clos converged")
            && stderr.contains("5 routers")
            && stderr.contains("OSPF adjacencies up"),
        "{stderr}"
    );
    // Converged means converged: one ping each, no retries.
    let json = env.ok(&["inspect", "--name", "clos", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut hosts = Vec::new();
    for n in v[0]["nodes"].as_array().unwrap() {
        if n["kind"] == "host" {
            let a = n["interfaces"][0]["addresses"][0].as_str().unwrap();
            hosts.push((
                n["name"].as_str().unwrap().to_string(),
                a.split('/').next().unwrap().to_string(),
            ));
        }
    }
    assert_eq!(hosts.len(), 3, "{json}");
    for (from, _) in &hosts {
        for (to, addr) in &hosts {
            if from != to {
                assert!(env.ping(from, addr), "{from} cannot ping {to} ({addr})");
            }
        }
    }
    // The report, as JSON: every leaf has both spines' paths to the other
    // leaves' loopbacks and segments, and nothing is missing.
    let json = env.ok(&["wait", "--name", "clos", "--format", "json"]);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(r["converged"], true, "{json}");
    assert_eq!(r["routers_total"], 5, "{json}");
    for router in r["routers"].as_array().unwrap() {
        assert_eq!(router["missing"], 0, "{router}");
        // Two other routers' loopbacks and segments plus the spines'
        // loopbacks (a leaf 2 x 2 + 2, a spine 3 x 2 + 1), and the OSPF
        // area's 6 links but the router's own (a leaf 4, a spine 3): 10.
        let leaf = router["node"].as_str().unwrap().starts_with("leaf");
        assert_eq!(router["expected"], 10, "{router}");
        assert_eq!(router["ospf"]["up"], if leaf { 2 } else { 3 }, "{router}");
        if leaf {
            // The other leaves' loopbacks and segments, via both spines.
            assert!(router["ecmp_routes"].as_u64().unwrap() >= 4, "{router}");
        }
    }
    env.ok(&["destroy", "--name", "clos"]);
    env.assert_clean();
}

#[test]
fn a_session_that_cannot_come_up_makes_wait_time_out_naming_it() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    let (_dir, file) = common::example_copy("bgp-pair/lab.yml");
    // r1 also peers with an address nobody has.
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "         neighbor 10.0.0.1 timers 3 9\n",
        "         neighbor 10.0.0.1 timers 3 9\n         neighbor 10.9.9.9 remote-as 65009\n",
    );
    assert!(text.contains("10.9.9.9"));
    std::fs::write(&file, text).unwrap();
    // How to wait, without saying to wait, is a mistake said as such.
    let out = env.run(&["deploy", "-t", file.to_str().unwrap(), "--timeout", "5"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("add --wait"),
        "{stderr}"
    );
    env.deploy(&file);
    // The real session is up: only the extra peer keeps r1 from ready.
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(60));
    let out = env.run(&["wait", "-t", file.to_str().unwrap(), "--timeout", "6"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("did not converge within 6 s")
            && stderr.contains("1 of 2 routers not ready"),
        "{stderr}"
    );
    let line = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("r1:"))
        .unwrap_or_else(|| panic!("no line for r1: {stderr}"));
    assert!(
        line.contains("BGP 1/2 up") && line.contains("10.9.9.9"),
        "{stderr}"
    );
    assert!(!stderr.contains("r2:"), "{stderr}");
    // Shut down by hand, the peer no longer counts: the lab converges and
    // traffic flows at once.
    env.exec(
        "r1",
        &[
            "vtysh",
            "-c",
            "conf t",
            "-c",
            "router bgp 65001",
            "-c",
            "neighbor 10.9.9.9 shutdown",
        ],
    );
    let out = env.ok(&["wait", "--name", "bgp-pair", "--timeout", "60"]);
    assert!(
        out.contains("converged") && out.contains("2 BGP sessions up"),
        "{out}"
    );
    assert!(env.ping("h1", "192.168.2.10"));
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}
