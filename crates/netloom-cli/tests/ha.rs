//! HA gateway pairs end to end (real FRR): two routers serve one host
//! segment with VRRP (FRR's vrrpd over a macvlan); the host's gateway is
//! the vip. The primary dies (its FRR daemons killed and its links cut at
//! the same moment, as a router losing power) and the gateway moves to the
//! backup; the longest gap in a 10 ms ping stream across the failover is
//! measured, with VRRP's default timers (1 s adverts) and tuned ones
//! (100 ms). Killing FRR alone leaves the kernel forwarding on the old
//! routes and macvlan, which hides VRRP's own failover time.

mod common;

use common::Env;
use std::process::Stdio;
use std::time::Duration;

const LAB: &str = "\
name: ha
addressing:
  p2p: 10.0.0.0/24
  loopback: 10.255.0.0/24
  lan: 172.16.0.0/16
routing:
  protocol: bgp
  timers: {keepalive: 1, hold: 3}
topology:
  nodes:
    r1: {kind: router, ha: {peer: r2, vip: 192.168.50.1ADVERT}}
    r2: {kind: router, ha: {peer: r1, vip: 192.168.50.1ADVERT}}
    core: {kind: router}
    sw1: {kind: switch}
    h1: {kind: host}
    h2: {kind: host}
  links:
    - endpoints: [\"r1:eth1\", \"sw1:p1\"]
    - endpoints: [\"r2:eth1\", \"sw1:p2\"]
    - endpoints: [\"h1:eth1\", \"sw1:p3\"]
    - endpoints: [\"r1:eth2\", \"core:eth1\"]
    - endpoints: [\"r2:eth2\", \"core:eth2\"]
    - endpoints: [\"core:eth3\", \"h2:eth1\"]
";

/// The IPv4 VRRP state (`Master`, `Backup`, ...) of a router's instance.
fn vrrp_state(env: &Env, router: &str) -> Option<String> {
    let v = env.vtysh_json(router, "show vrrp json")?;
    let inst = v.as_array()?.first()?;
    inst["v4"]["status"].as_str().map(str::to_string)
}

/// Packets received by a router's VRRP macvlan.
fn macvlan_rx(env: &Env, router: &str) -> u64 {
    let out = env.exec(router, &["ip", "-j", "-s", "link", "show"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|l| {
            l["ifname"]
                .as_str()
                .is_some_and(|n| n.starts_with("vrrp4-"))
        })
        .and_then(|l| l["stats64"]["rx"]["packets"].as_u64())
        .unwrap_or_else(|| panic!("no VRRP macvlan on {router}: {v}"))
}

/// The longest interval between consecutive replies of `ping -D`, seconds,
/// and the number of replies.
fn longest_gap(output: &str) -> (f64, usize) {
    let stamps: Vec<f64> = output
        .lines()
        .filter(|l| l.contains("bytes from"))
        .filter_map(|l| {
            let t = l.strip_prefix('[')?.split(']').next()?;
            t.parse().ok()
        })
        .collect();
    let gap = stamps.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    (gap, stamps.len())
}

#[test]
fn the_primary_dying_moves_the_gateway_with_default_vrrp_timers() {
    // Master down interval: 3 x 1 s + skew (156/256 s for priority 100).
    failover(None, 4.0);
}

#[test]
fn the_primary_dying_moves_the_gateway_with_tuned_vrrp_timers() {
    // 3 x 100 ms + skew (61 ms).
    failover(Some("100ms"), 1.0);
}

fn failover(advert: Option<&str>, limit_s: f64) {
    let _serial = common::serial();
    let Some(env) = Env::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ha.yml");
    let advert_key = advert.map(|a| format!(", advert: {a}")).unwrap_or_default();
    std::fs::write(&file, LAB.replace("ADVERT", &advert_key)).unwrap();
    env.deploy(&file);

    // The rendered configs: r1 primary, r2 backup with the prepend.
    let c1 = env.ok(&["config", "r1"]);
    let c2 = env.ok(&["config", "r2"]);
    assert!(
        c1.contains(" priority 200") && c1.contains(" ip 192.168.50.1"),
        "{c1}"
    );
    assert!(
        c2.contains(" priority 100") && c2.contains("set as-path prepend"),
        "{c2}"
    );

    env.wait_for("r1 Master, r2 Backup", Duration::from_secs(30), || {
        (vrrp_state(&env, "r1").as_deref() == Some("Master")
            && vrrp_state(&env, "r2").as_deref() == Some("Backup"))
        .then_some(())
    });
    // h1's gateway is the vip; the backup still reaches the segment (its
    // macvlan in protodown does not capture the subnet).
    let route = env.exec("h1", &["ip", "-4", "route", "show", "default"]);
    let route = String::from_utf8_lossy(&route.stdout).to_string();
    assert!(route.contains("via 192.168.50.1"), "{route}");
    let h2 = {
        let out = env.exec("h2", &["ip", "-4", "-o", "addr", "show", "dev", "eth1"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.split_whitespace()
            .skip_while(|w| *w != "inet")
            .nth(1)
            .and_then(|a| a.split('/').next())
            .unwrap_or_else(|| panic!("no address on h2: {text}"))
            .to_string()
    };
    env.wait_ping("h1", &h2, Duration::from_secs(60));
    env.wait_ping("r2", "192.168.50.4", Duration::from_secs(10));
    // core prefers r1 for the segment: r2's advertisement is prepended.
    env.wait_for("core to prefer r1", Duration::from_secs(30), || {
        let v = env.vtysh_json("core", "show ip bgp 192.168.50.0/24 json")?;
        let paths = v["paths"].as_array()?;
        let best = paths.iter().find(|p| p["bestpath"]["overall"] == true)?;
        let longer = paths
            .iter()
            .any(|p| p["aspath"]["length"].as_u64() > best["aspath"]["length"].as_u64());
        (paths.len() == 2 && longer).then_some(())
    });

    // 10 ms pings for 10 s (a count, not `-w`: with a deadline, iputils ping
    // quits at the first ICMP error, and r2 may answer "unreachable" while
    // its routes move); r1 dies 3 s in: every FRR daemon killed and
    // both its links cut (carrier off at both ends) at once.
    let ping = env
        .cmd()
        .args([
            "exec", "h1", "--", "ping", "-D", "-n", "-i", "0.01", "-c", "1000", &h2,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let pathspace = format!("{}-ha+r1", env.prefix());
    let run = std::path::Path::new("/var/run/frr").join(&pathspace);
    let mut pids = Vec::new();
    for entry in std::fs::read_dir(&run).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pid") {
            let pid: i32 = std::fs::read_to_string(&path)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            pids.push((pid, path.file_stem().unwrap().to_string_lossy().to_string()));
        }
    }
    // The link commands are started first (each is a process and an API
    // call); the kill follows within milliseconds.
    let cuts: Vec<_> = ["r1:eth1", "r1:eth2"]
        .iter()
        .map(|e| env.cmd().args(["link", "down", e]).spawn().unwrap())
        .collect();
    let mut killed = Vec::new();
    for (pid, name) in &pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        killed.push(name.clone());
    }
    for mut c in cuts {
        assert!(c.wait().unwrap().success());
    }
    killed.sort();
    assert!(
        killed.iter().any(|d| d == "vrrpd") && killed.iter().any(|d| d == "zebra"),
        "{killed:?}"
    );
    let out = ping.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (gap, replies) = longest_gap(&text);
    let summary = text.lines().rev().take(2).collect::<Vec<_>>().join(" / ");
    eprintln!(
        "HA failover, VRRP adverts every {}: r1 died (FRR killed, links cut); longest gap in 10 ms pings h1 -> h2: {:.0} ms (target < {:.0} ms; {replies} replies; {summary})",
        advert.unwrap_or("1s (default)"),
        gap * 1e3,
        limit_s * 1e3
    );
    assert!(replies > 300, "too few replies: {text}");
    // The backup took over within the target. The gap is the upstream's
    // reroute (core drops its session to r1 when the carrier goes), not
    // VRRP's detection time: the backup's macvlan receives frames for the
    // virtual MAC even in Backup state (protodown stops its carrier, not
    // its receive path), so it forwards as soon as frames reach it (a
    // reroute within one 10 ms ping interval loses nothing); VRRP's timers
    // decide when it claims Master and answers ARP for the vip. That the
    // traffic really moved is checked below (r2 Master, r2's macvlan
    // receiving the pings).
    assert!(gap < limit_s, "gap {gap:.3} s\n{text}");
    env.wait_for("r2 to become Master", Duration::from_secs(10), || {
        (vrrp_state(&env, "r2").as_deref() == Some("Master")).then_some(())
    });
    // Traffic keeps flowing, through r2's macvlan (the vip's MAC moved).
    env.wait_ping("h1", &h2, Duration::from_secs(10));
    let before = macvlan_rx(&env, "r2");
    let out = env.exec(
        "h1",
        &["ping", "-n", "-c", "20", "-i", "0.01", "-W", "1", &h2],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let got = macvlan_rx(&env, "r2") - before;
    assert!(got >= 20, "r2's macvlan received {got} packets of 20 pings");

    env.ok(&["destroy", "--name", "ha"]);
    env.assert_clean();
}
