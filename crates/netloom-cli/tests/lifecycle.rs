//! The CLI and daemon around a lab's life: exit codes, several labs side by
//! side, bad files, failed deploys, daemon restarts and crashes.

mod common;

use common::{example, Env};
use std::time::Duration;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn exec_passes_exit_codes_and_labs_coexist() {
    let Some(env) = Env::new() else { return };
    env.deploy(&example("switch-lab/lab.yml"));
    env.deploy(&example("bgp-pair/lab.yml"));
    // h1 exists in both labs: ambiguous without --name.
    let out = env.exec("h1", &["true"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--name"), "{}", stderr(&out));
    let out = env.run(&[
        "exec",
        "--name",
        "switch-lab",
        "h1",
        "--",
        "sh",
        "-c",
        "exit 7",
    ]);
    assert_eq!(out.status.code(), Some(7));
    let out = env.run(&[
        "exec",
        "--name",
        "switch-lab",
        "h1",
        "--",
        "ip",
        "-4",
        "-o",
        "addr",
        "show",
        "eth1",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("172.16.0.1/24"));
    // A node unique to one lab needs no --name; the node's hostname is its name.
    let out = env.exec("sw1", &["hostname"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "sw1");
    // Deploying a lab that is up is refused and changes nothing.
    let out = env.run(&[
        "deploy",
        "-t",
        example("switch-lab/lab.yml").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("already deployed"),
        "{}",
        stderr(&out)
    );
    assert!(env.exec("sw1", &["true"]).status.success());
    // Plain vtysh inside a router talks to that router.
    let out = env.run(&[
        "exec",
        "--name",
        "bgp-pair",
        "r2",
        "--",
        "vtysh",
        "-c",
        "show running-config",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("router bgp 65002"));
    let table = env.ok(&["inspect"]);
    assert!(
        table.contains("switch-lab") && table.contains("bgp-pair"),
        "{table}"
    );
    env.ok(&["destroy", "--all"]);
    assert!(env.ok(&["inspect", "--format", "json"]).trim() == "[]");
    env.assert_clean();
}

#[test]
fn console_is_a_tty_shell_in_the_node() {
    let Some(env) = Env::new() else { return };
    env.deploy(&example("switch-lab/lab.yml"));
    let bin = env!("CARGO_BIN_EXE_netloom");
    // `script` gives the console a real pseudo-terminal.
    let out = env
        .cmd()
        .env("SHELL", "/bin/sh")
        .arg("version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut child = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &format!("{bin} console h2"), "/dev/null"])
        .env("NETLOOM_HOME", env.home.path())
        .env("NETLOOM_PREFIX", env.prefix())
        .env("SHELL", "/bin/sh")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"tty; hostname; ip -4 -o addr show eth1; exit 3\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/dev/pts/"), "{text}");
    assert!(text.contains("172.16.0.2/24"), "{text}");
    assert_eq!(out.status.code(), Some(3), "{text}");
    env.ok(&["destroy", "--all"]);
    env.assert_clean();
}

#[test]
fn bad_topology_is_reported_with_position_and_creates_nothing() {
    let Some(env) = Env::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yml");
    std::fs::write(
        &file,
        "name: bad\ntopology:\n  nodes:\n    r1: {kind: router}\n    h1: {kind: hots}\n  links:\n    - endpoints: [\"r1:eth1\", \"h9:eth1\"]\n",
    )
    .unwrap();
    let out = env.run(&["deploy", "-t", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad.yml:5:"), "{err}");
    assert!(err.contains("hots"), "{err}");
    assert!(err.contains("bad.yml:7:"), "{err}");
    assert!(err.contains("h9"), "{err}");
    env.assert_clean();
}

#[test]
fn failed_deploy_rolls_back_and_names_node_and_command() {
    let Some(env) = Env::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fail.yml");
    std::fs::write(
        &file,
        "name: fail\ntopology:\n  nodes:\n    r1: {kind: router}\n    sw1: {kind: switch}\n    h1: {kind: host, exec: [\"true\", \"ip addr add 10.9.9.9/24 dev nosuchdev\"]}\n  links:\n    - endpoints: [\"r1:eth1\", \"sw1:p1\"]\n    - endpoints: [\"h1:eth1\", \"sw1:p2\"]\n",
    )
    .unwrap();
    let out = env.run(&["deploy", "-t", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("h1"), "{err}");
    assert!(err.contains("nosuchdev"), "{err}");
    env.assert_clean();
    // No record either: the same lab deploys once fixed.
    assert_eq!(env.ok(&["inspect", "--format", "json"]).trim(), "[]");
}

#[test]
fn labs_survive_a_daemon_kill_and_are_seen_after_restart() {
    let Some(env) = Env::new() else { return };
    env.deploy(&example("switch-lab/lab.yml"));
    let pid = env.daemon_pid().expect("daemon running");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // The lab kept running without the daemon.
    assert!(
        env.ping("h1", "172.16.0.3") || {
            std::thread::sleep(Duration::from_secs(1));
            env.ping("h1", "172.16.0.3")
        }
    );
    // The next command starts a new daemon, which knows the lab.
    let json = env.ok(&["inspect", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["name"], "switch-lab");
    assert!(
        v[0]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["status"] == "running"),
        "{json}"
    );
    assert_ne!(env.daemon_pid(), Some(pid));
    let events = env.ok(&["events", "--format", "json"]);
    assert!(events.contains("adopted"), "{events}");
    env.ok(&["destroy", "--name", "switch-lab"]);
    env.assert_clean();
}

#[test]
fn daemon_killed_mid_deploy_then_cleanup_leaves_nothing() {
    let Some(env) = Env::new() else { return };
    // 50 nodes: 10 routers in a chain, each with a switch and 3 hosts.
    let mut nodes = String::new();
    let mut links = String::new();
    for i in 1..=10 {
        nodes.push_str(&format!(
            "    r{i}: {{kind: router}}\n    s{i}: {{kind: switch}}\n"
        ));
        links.push_str(&format!("    - endpoints: [\"r{i}:eth0\", \"s{i}:p0\"]\n"));
        if i > 1 {
            links.push_str(&format!(
                "    - endpoints: [\"r{}:eth2\", \"r{i}:eth1\"]\n",
                i - 1
            ));
        }
        for h in 1..=3 {
            nodes.push_str(&format!(
                "    h{i}x{h}: {{kind: host, exec: [\"sleep 0.2\"]}}\n"
            ));
            links.push_str(&format!(
                "    - endpoints: [\"h{i}x{h}:eth1\", \"s{i}:p{h}\"]\n"
            ));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.yml");
    std::fs::write(
        &file,
        format!("name: big\ntopology:\n  nodes:\n{nodes}  links:\n{links}"),
    )
    .unwrap();
    // Start the daemon first, then the deploy, and kill the daemon while
    // the deploy is under way (once namespaces exist).
    env.ok(&["inspect"]);
    let pid = env.daemon_pid().unwrap();
    let mut deploy = env
        .cmd()
        .args(["deploy", "-t", file.to_str().unwrap()])
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let n = std::fs::read_dir("/run/netns")
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().starts_with(env.prefix()))
                    .count()
            })
            .unwrap_or(0);
        if n >= 10 || started.elapsed() > Duration::from_secs(30) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let status = deploy.wait().unwrap();
    assert!(!status.success(), "deploy should fail when its daemon dies");
    assert!(
        !netloom_testkit::leftovers(env.prefix()).is_empty(),
        "something was created before the kill"
    );
    let out = env.ok(&["destroy", "--cleanup"]);
    let _ = out;
    env.assert_clean();
    assert_eq!(env.ok(&["inspect", "--format", "json"]).trim(), "[]");
}

#[test]
fn a_bad_frr_configuration_line_fails_the_deploy_with_its_line() {
    let Some(env) = Env::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("badconf.yml");
    std::fs::write(
        &file,
        "name: badconf\ntopology:\n  nodes:\n    r1:\n      kind: router\n      startup-config: |\n        hostname r1\n        router bgp 65001\n         neighbor 10.0.0.1 remote-ass 65002\n    h1: {kind: host}\n  links:\n    - endpoints: [\"r1:eth1\", \"h1:eth1\"]\n",
    )
    .unwrap();
    let out = env.run(&["deploy", "-t", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("r1"), "{err}");
    assert!(err.contains("remote-ass"), "{err}");
    env.assert_clean();
}
