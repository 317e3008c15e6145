//! Self-healing end to end (real FRR): the daemon's supervisor notices a
//! killed bgpd, a deleted namespace, a dead host process, and repairs them
//! with the saved configuration; crash loops stop; `restart: never` only
//! reports; a daemon killed in the middle of a repair finishes the job when
//! it comes back.

mod common;

use common::{example, Env};
use std::time::Duration;

fn events(env: &Env) -> Vec<serde_json::Value> {
    serde_json::from_str(&env.ok(&["events", "--format", "json"])).unwrap()
}

fn has_event(env: &Env, node: &str, kind: &str) -> usize {
    events(env)
        .iter()
        .filter(|e| e["node"] == node && e["kind"] == kind)
        .count()
}

fn bgp_established(env: &Env, node: &str) -> bool {
    env.vtysh_json(node, "show bgp summary json")
        .and_then(|v| {
            let peers = v["ipv4Unicast"]["peers"].as_object()?.clone();
            Some(!peers.is_empty() && peers.values().all(|p| p["state"] == "Established"))
        })
        .unwrap_or(false)
}

fn pid_of(env: &Env, lab: &str, node: &str, daemon: &str) -> i32 {
    let path = format!("/var/run/frr/{}-{lab}+{node}/{daemon}.pid", env.prefix());
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .parse()
        .unwrap()
}

fn kill9(pid: i32) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
}

fn running_config(env: &Env, node: &str) -> String {
    let out = env.exec(node, &["vtysh", "-c", "show running-config"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip_while(|l| !l.starts_with('!'))
        .filter(|l| !l.starts_with("frr version"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_killed_bgpd_comes_back_with_the_saved_configuration() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    let (dir, file) = common::example_copy("bgp-pair/lab.yml");
    env.deploy(&file);
    env.wait_for("BGP up", Duration::from_secs(60), || {
        bgp_established(&env, "r1").then_some(())
    });
    // A change made by hand, then saved: the repair must bring it back.
    env.exec(
        "r1",
        &[
            "vtysh",
            "-c",
            "conf t",
            "-c",
            "router bgp 65001",
            "-c",
            "neighbor 10.0.0.1 description saved-by-test",
        ],
    );
    // A configuration far longer than any command output netloom keeps
    // for messages: it must be saved and restored whole.
    let mut args: Vec<String> = vec!["vtysh".into(), "-c".into(), "conf t".into()];
    for i in 1..=150 {
        args.push("-c".into());
        args.push(format!("ip prefix-list BIG seq {i} permit 10.{i}.0.0/16"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = vec!["exec", "r1", "--"];
    cmd.extend(args);
    env.ok(&cmd);
    let out = env.ok(&["save"]);
    assert!(out.contains("saved 2 router configurations"), "{out}");
    let saved = running_config(&env, "r1");
    assert!(saved.contains("saved-by-test"), "{saved}");
    // ... and written next to the topology file.
    let on_disk = std::fs::read_to_string(dir.path().join("bgp-pair.saved/r1.conf")).unwrap();
    assert!(on_disk.contains("saved-by-test"), "{on_disk}");
    assert!(
        saved.len() > 6000 && saved.contains("seq 150 permit"),
        "{saved}"
    );

    let old = pid_of(&env, "bgp-pair", "r1", "bgpd");
    kill9(old);
    env.wait_for("r1 repaired", Duration::from_secs(20), || {
        (has_event(&env, "r1", "recovered") >= 1).then_some(())
    });
    assert!(has_event(&env, "r1", "node-failed") >= 1);
    assert_ne!(pid_of(&env, "bgp-pair", "r1", "bgpd"), old);
    env.wait_for("BGP up again", Duration::from_secs(60), || {
        bgp_established(&env, "r1").then_some(())
    });
    assert_eq!(running_config(&env, "r1"), saved);
    env.wait_for("routing-restored event", Duration::from_secs(30), || {
        (has_event(&env, "r1", "routing-restored") >= 1).then_some(())
    });
    let metrics = env.ok(&["metrics"]);
    assert!(
        metrics.contains("netloom_recovery_seconds_count{phase=\"data_plane\"} 1"),
        "{metrics}"
    );
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(30));
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}

/// A frozen router (every FRR daemon stopped) is seen once per silent
/// daemon; one restart mends them all, and the new FRR is not restarted
/// again for the reports of the old one.
#[test]
fn a_frozen_router_is_restarted_once() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    env.deploy(&example("bgp-pair/lab.yml"));
    env.wait_for("BGP up", Duration::from_secs(60), || {
        bgp_established(&env, "r1").then_some(())
    });
    let old = pid_of(&env, "bgp-pair", "r1", "bgpd");
    env.ok(&["fail", "r1", "--mode", "freeze"]);
    // Three missed probes, 3 s apart.
    env.wait_for("r1 repaired", Duration::from_secs(40), || {
        (has_event(&env, "r1", "recovered") >= 1).then_some(())
    });
    let new = pid_of(&env, "bgp-pair", "r1", "bgpd");
    assert_ne!(new, old, "bgpd was not restarted");
    // The reports of the other silent daemons came with the first; a
    // second restart would come 1 s after the first (the back-off).
    std::thread::sleep(Duration::from_secs(4));
    let failed = has_event(&env, "r1", "node-failed");
    assert_eq!(
        has_event(&env, "r1", "recovered"),
        1,
        "repaired more than once"
    );
    assert_eq!(
        pid_of(&env, "bgp-pair", "r1", "bgpd"),
        new,
        "the new bgpd was restarted"
    );
    assert!(failed >= 1);
    env.wait_for("BGP up again", Duration::from_secs(60), || {
        bgp_established(&env, "r1").then_some(())
    });
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}

#[test]
fn a_deleted_namespace_is_rebuilt_with_links_and_addresses() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    env.deploy(&example("bgp-pair/lab.yml"));
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(60));
    let netns = format!("{}-bgp-pair.r2", env.prefix());
    let del = std::process::Command::new("ip")
        .args(["netns", "del", &netns])
        .status()
        .unwrap();
    assert!(del.success());
    env.wait_for("r2 rebuilt", Duration::from_secs(20), || {
        (has_event(&env, "r2", "recovered") >= 1).then_some(())
    });
    let lab: serde_json::Value =
        serde_json::from_str(&env.ok(&["inspect", "--format", "json"])).unwrap();
    let r2 = lab[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "r2")
        .unwrap()
        .clone();
    assert_eq!(r2["status"], "running", "{r2}");
    let addrs = r2["interfaces"].to_string();
    assert!(
        addrs.contains("10.0.0.1/31") && addrs.contains("192.168.2.1/24"),
        "{addrs}"
    );
    // Routing and the far host (whose link was rebuilt with r2) are back.
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(60));
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}

const HOST_LAB: &str = "\
name: heal-hosts
topology:
  nodes:
    a:
      kind: host
      exec:
        - ip addr add 10.66.0.1/24 dev eth1
        - sleep 100000 &
    b:
      kind: host
      restart: never
      exec:
        - ip addr add 10.66.0.2/24 dev eth1
        - sleep 100001 &
  links:
    - endpoints: [\"a:eth1\", \"b:eth1\"]
";

/// The live `sleep ARG` process of this test's lab (other labs on the
/// machine may run the same command).
fn sleep_pid(env: &Env, arg: &str) -> Option<i32> {
    let out = std::process::Command::new("pgrep")
        .args(["-f", &format!("^sleep {arg}$")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<i32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|e| {
                    e.split(|b| *b == 0).any(|kv| {
                        kv.starts_with(format!("NETLOOM_NETNS={}-", env.prefix()).as_bytes())
                    })
                })
                .unwrap_or(false)
        })
}

#[test]
fn host_processes_come_back_crash_loops_stop_and_never_means_never() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lab.yml");
    std::fs::write(&file, HOST_LAB).unwrap();
    env.deploy(&file);
    env.wait_ping("a", "10.66.0.2", Duration::from_secs(10));

    // `restart: never`: b's process dies and stays dead; it is reported.
    let b = sleep_pid(&env, "100001").expect("b's process runs");
    kill9(b);
    let end = std::time::Instant::now() + Duration::from_secs(20);
    while has_event(&env, "b", "not-repaired") == 0 {
        assert!(
            std::time::Instant::now() < end,
            "b's failure was not reported; events: {:#?}",
            events(&env)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(sleep_pid(&env, "100001"), None, "b was restarted");

    // a's process dies: a is rebuilt, its process and address come back.
    for round in 1..=5 {
        let pid = env.wait_for("a's process", Duration::from_secs(30), || {
            sleep_pid(&env, "100000")
        });
        kill9(pid);
        if round < 5 {
            env.wait_for("a repaired", Duration::from_secs(30), || {
                (has_event(&env, "a", "recovered") >= round).then_some(())
            });
            env.wait_ping("a", "10.66.0.2", Duration::from_secs(10));
        }
    }
    // The fifth failure within a minute is a crash loop: no more repairs.
    env.wait_for("crash loop", Duration::from_secs(30), || {
        (has_event(&env, "a", "crash-loop") == 1).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        sleep_pid(&env, "100000"),
        None,
        "a was repaired in a crash loop"
    );
    assert_eq!(has_event(&env, "a", "recovered"), 4);
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}

#[test]
fn a_daemon_killed_during_a_repair_finishes_it_when_it_is_back() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    env.deploy(&example("bgp-pair/lab.yml"));
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(60));
    let daemon = env.daemon_pid().expect("a daemon runs");
    env.ok(&["fail", "r2", "--mode", "netns"]);
    // In the middle of the repair (it takes a few hundred ms).
    std::thread::sleep(Duration::from_millis(60));
    kill9(daemon);
    std::thread::sleep(Duration::from_millis(200));
    // Any command starts a new daemon; it adopts the lab and repairs what
    // is broken.
    env.wait_for("lab healthy again", Duration::from_secs(60), || {
        let lab: serde_json::Value =
            serde_json::from_str(&env.ok(&["inspect", "--format", "json"])).ok()?;
        let nodes = lab[0]["nodes"].as_array()?.clone();
        nodes.iter().all(|n| n["status"] == "running").then_some(())
    });
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(60));
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}

/// Waits for exactly one twin of r2, other than `not`; its namespace.
fn wait_twin(env: &Env, not: Option<&str>) -> String {
    env.wait_for("a twin of r2", Duration::from_secs(30), || {
        let t = twins(env);
        (t.len() == 1 && Some(t[0].as_str()) != not).then(|| t[0].clone())
    })
}

/// Waits for a `recovered` event of `node` by `action` (`rebuild`,
/// `standby-takeover`, ...).
fn wait_recovered(env: &Env, node: &str, action: &str) {
    env.wait_for(action, Duration::from_secs(20), || {
        events(env)
            .iter()
            .any(|e| {
                e["node"] == node
                    && e["kind"] == "recovered"
                    && e["message"].as_str().is_some_and(|m| m.starts_with(action))
            })
            .then_some(())
    });
}

fn twins(env: &Env) -> Vec<String> {
    std::fs::read_dir("/run/netns")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.starts_with(env.prefix()) && n.contains("~s"))
        .collect()
}

/// bgp-pair with r2 a standby router, deployed; the file's directory is
/// returned (it must outlive the lab).
fn deploy_standby_pair(env: &Env) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lab.yml");
    let text = std::fs::read_to_string(example("bgp-pair/lab.yml"))
        .unwrap()
        .replace("    r2:\n", "    r2:\n      standby: true\n");
    assert!(text.contains("standby: true"));
    std::fs::write(&file, text).unwrap();
    env.deploy(&file);
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(60));
    dir
}

/// The index of an interface of a namespace (`None`: no such interface).
fn ifindex(netns: &str, iface: &str) -> Option<u32> {
    let out = std::process::Command::new("ip")
        .args(["-n", netns, "-o", "link", "show", "dev", iface])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split(':')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// The inode of a namespace's file (a namespace made again has another).
fn netns_inode(netns: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/run/netns/{netns}"))
        .ok()
        .map(|m| m.ino())
}

#[test]
fn a_hot_standby_twin_takes_over_and_is_replaced() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    let _dir = deploy_standby_pair(&env);
    let first = wait_twin(&env, None);
    // r2's links go through the patch namespace: the takeover leaves its
    // neighbours' interfaces (and the host behind it) as they are.
    let r1 = format!("{}-bgp-pair.r1", env.prefix());
    let h2 = format!("{}-bgp-pair.h2", env.prefix());
    let r1_eth1 = ifindex(&r1, "eth1").expect("r1 has eth1");
    let h2_eth1 = ifindex(&h2, "eth1").expect("h2 has eth1");
    let h2_ns = netns_inode(&h2);
    env.ok(&["fail", "r2", "--mode", "netns"]);
    wait_recovered(&env, "r2", "standby-takeover");
    // The twin is r2 now; a new twin is built.
    let second = wait_twin(&env, Some(&first));
    assert_ne!(first, second);
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(30));
    assert_eq!(
        ifindex(&r1, "eth1"),
        Some(r1_eth1),
        "r1's eth1 was made again"
    );
    assert_eq!(
        ifindex(&h2, "eth1"),
        Some(h2_eth1),
        "h2's eth1 was made again"
    );
    assert_eq!(netns_inode(&h2), h2_ns, "h2 was rebuilt");
    env.wait_for("BGP up on r2", Duration::from_secs(30), || {
        bgp_established(&env, "r2").then_some(())
    });
    let metrics = env.ok(&["metrics"]);
    assert!(
        metrics.contains("netloom_recovery_seconds_count{phase=\"data_plane_standby\"} 1"),
        "{metrics}"
    );

    // A new daemon adopts the lab: r2, whose FRR runs under the first
    // twin's name, is left alone (a daemon counting twins from 0 again
    // once built its new twin under that name and killed r2's FRR).
    let bgpd_pid = || {
        std::fs::read_to_string(format!(
            "/var/run/frr/{}-bgp-pair+r2/bgpd.pid",
            env.prefix()
        ))
        .unwrap()
    };
    let bgpd = bgpd_pid();
    let inode = |name: &str| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(format!("/run/netns/{name}"))
            .ok()
            .map(|m| (m.dev(), m.ino()))
    };
    let before = inode(&second);
    env.stop_daemon();
    let seen = events(&env).len();
    // The new daemon replaces the twin (the name may be the same).
    env.wait_for(
        "a twin of r2 from the new daemon",
        Duration::from_secs(30),
        || {
            let t = twins(&env);
            (t.len() == 1 && inode(&t[0]).is_some() && inode(&t[0]) != before).then_some(())
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    let later: Vec<_> = events(&env).into_iter().skip(seen).collect();
    assert!(
        !later
            .iter()
            .any(|e| e["node"] == "r2" && (e["kind"] == "node-failed" || e["kind"] == "recovered")),
        "r2 failed after the daemon restart: {later:#?}"
    );
    assert_eq!(bgpd, bgpd_pid(), "r2's bgpd was restarted");
    assert!(bgp_established(&env, "r2"));
    env.ok(&["destroy", "--all"]);
    assert!(twins(&env).is_empty(), "{:?}", twins(&env));
    env.assert_clean();
}

#[test]
fn a_standby_router_without_a_twin_is_rebuilt_behind_the_patch_panel() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    let _dir = deploy_standby_pair(&env);
    let twin = wait_twin(&env, None);
    env.wait_for("BGP up on r1", Duration::from_secs(60), || {
        bgp_established(&env, "r1").then_some(())
    });
    let r1 = format!("{}-bgp-pair.r1", env.prefix());
    let r1_eth1 = ifindex(&r1, "eth1").expect("r1 has eth1");
    // Without its twin, r2's repair is a cold rebuild.
    let out = std::process::Command::new("ip")
        .args(["netns", "del", &twin])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    env.ok(&["fail", "r2", "--mode", "netns"]);
    wait_recovered(&env, "r2", "rebuild");
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(30));
    // r1 kept its interface, yet dropped its session with the old r2 at
    // once (the old FRR was ended while its link still carried the FIN):
    // the session is up again long before a hold time (9 s) could have
    // ended it.
    assert_eq!(
        ifindex(&r1, "eth1"),
        Some(r1_eth1),
        "r1's eth1 was made again"
    );
    env.wait_for("BGP up on r2", Duration::from_secs(8), || {
        bgp_established(&env, "r2").then_some(())
    });
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}

#[test]
fn a_deleted_patch_namespace_is_rebuilt_with_its_links() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    let _dir = deploy_standby_pair(&env);
    let first = wait_twin(&env, None);
    let patch = format!("{}-bgp-pair.~patch", env.prefix());
    assert!(netns_inode(&patch).is_some(), "no patch namespace {patch}");
    let out = std::process::Command::new("ip")
        .args(["netns", "del", &patch])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    env.wait_for("the patch namespace back", Duration::from_secs(20), || {
        netns_inode(&patch).map(|_| ())
    });
    // Every link through it works again, the host behind r2 included
    // (its address came back with its interface).
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(60));
    // The twin, whose ports went with the namespace, was built again.
    wait_twin(&env, Some(&first));
    let later = events(&env);
    assert!(
        later.iter().any(|e| e["kind"] == "recovered"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains("patch namespace"))),
        "{later:#?}"
    );
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}

/// Whether an interface of a namespace has carrier (`LOWER_UP`).
fn has_carrier(netns: &str, iface: &str) -> bool {
    let out = std::process::Command::new("ip")
        .args(["-n", netns, "-o", "link", "show", "dev", iface])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains("LOWER_UP")
}

#[test]
fn a_link_added_live_to_a_standby_router_reaches_its_next_twin() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    let dir = deploy_standby_pair(&env);
    let first = wait_twin(&env, None);
    let file = dir.path().join("lab.yml");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "  links:\n",
        "    h3:\n      kind: host\n      exec: [\"ip addr add 10.77.0.2/24 dev eth1\"]\n  links:\n    - endpoints: [\"r2:eth3\", \"h3:eth1\"]\n",
    );
    std::fs::write(&file, text).unwrap();
    let out = env.ok(&["apply", "-t", file.to_str().unwrap()]);
    assert!(out.contains("+ link r2:eth3 <-> h3:eth1"), "{out}");
    // The twin built before the link has no port for it: a new one is
    // built, with eth3.
    let second = env.wait_for("a twin of r2 with eth3", Duration::from_secs(30), || {
        let t = twins(&env);
        (t.len() == 1 && t[0] != first && ifindex(&t[0], "eth3").is_some()).then(|| t[0].clone())
    });
    let h3 = format!("{}-bgp-pair.h3", env.prefix());
    assert!(has_carrier(&h3, "eth1"));
    env.ok(&["fail", "r2", "--mode", "netns"]);
    wait_recovered(&env, "r2", "standby-takeover");
    // r2 is the second twin now, and its eth3 reaches h3.
    let r2 = format!("{}-bgp-pair.r2", env.prefix());
    assert!(
        netns_inode(&second).is_none(),
        "{second} still has its name"
    );
    assert!(has_carrier(&r2, "eth3"), "r2's eth3 has no carrier");
    assert!(has_carrier(&h3, "eth1"), "h3's eth1 lost its carrier");
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(30));
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}

#[test]
fn a_twin_that_cannot_take_over_gives_way_to_a_rebuild() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    let _dir = deploy_standby_pair(&env);
    let twin = wait_twin(&env, None);
    // Take one of the twin's ports away (link 0 is r1-r2; r2 is end b).
    let n = twin.rsplit_once("~s").unwrap().1;
    let patch = format!("{}-bgp-pair.~patch", env.prefix());
    let out = std::process::Command::new("ip")
        .args(["-n", &patch, "link", "del", &format!("p0bt{n}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    env.ok(&["fail", "r2", "--mode", "netns"]);
    env.wait_for("the rebuild", Duration::from_secs(20), || {
        let evs = events(&env);
        let failed = evs
            .iter()
            .any(|e| e["node"] == "r2" && e["kind"] == "standby-failed");
        let rebuilt = evs.iter().any(|e| {
            e["node"] == "r2"
                && e["kind"] == "recovered"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("rebuild"))
        });
        (failed && rebuilt).then_some(())
    });
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(30));
    env.wait_for("BGP up on r2", Duration::from_secs(30), || {
        bgp_established(&env, "r2").then_some(())
    });
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}

#[test]
fn a_killed_bgpd_of_a_standby_router_is_replaced_by_its_twin() {
    let Some(env) = Env::new() else { return };
    let _serial = common::serial();
    let _dir = deploy_standby_pair(&env);
    let twin = wait_twin(&env, None);
    env.wait_for("BGP up on r2", Duration::from_secs(60), || {
        bgp_established(&env, "r2").then_some(())
    });
    // Every link of r2 goes through the patch panel: a flip of ports beats
    // an FRR restart, so the twin takes over a dead bgpd too.
    kill9(pid_of(&env, "bgp-pair", "r2", "bgpd"));
    wait_recovered(&env, "r2", "standby-takeover");
    // The twin's FRR serves r2 now (its pid files are the twin's).
    let served = std::fs::read_link(format!("/var/run/frr/{}-bgp-pair+r2", env.prefix()))
        .expect("r2's FRR directory links to the twin's");
    assert!(
        served
            .to_string_lossy()
            .ends_with(&format!("+r2~s{}", twin.rsplit_once("~s").unwrap().1)),
        "{served:?}"
    );
    env.wait_ping("h1", "192.168.2.10", Duration::from_secs(30));
    env.wait_for("BGP up on r2", Duration::from_secs(30), || {
        bgp_established(&env, "r2").then_some(())
    });
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}
