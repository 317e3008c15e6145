//! Shared harness of the end-to-end tests: the real `netloom` binary, a
//! private daemon per test (own state directory, own ownership prefix, a
//! free loopback port), and a leak check when the test ends.
#![allow(dead_code)]

use netloom_testkit::TestPrefix;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Serialises the tests that measure time (RTTs, gaps) within one test
/// binary, so they do not load the two CPUs for each other.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct Env {
    pub home: tempfile::TempDir,
    pub prefix: TestPrefix,
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn example(rel: &str) -> PathBuf {
    repo_root().join("examples").join(rel)
}

/// A copy of example file `rel` in a new temporary directory, for tests
/// whose commands write next to the topology file (`save`): the source
/// tree stays as it is.
#[allow(dead_code)]
pub fn example_copy(rel: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = example(rel);
    let file = dir.path().join(src.file_name().unwrap());
    std::fs::copy(&src, &file).unwrap();
    (dir, file)
}

impl Env {
    /// `None` when not root (a developer's machine); in CI that panics.
    pub fn new() -> Option<Env> {
        if !netloom_testkit::require_root() {
            return None;
        }
        let home = tempfile::Builder::new()
            .prefix("netloom-test-home")
            .tempdir()
            .unwrap();
        Some(Env {
            home,
            prefix: TestPrefix::new(),
        })
    }

    pub fn prefix(&self) -> &str {
        self.prefix.as_str()
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_netloom"));
        c.env("NETLOOM_HOME", self.home.path())
            .env("NETLOOM_PREFIX", self.prefix())
            .env("NETLOOM_LISTEN", "127.0.0.1:0")
            .env_remove("NETLOOM_LOG");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "netloom {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn deploy(&self, file: &Path) -> String {
        self.ok(&["deploy", "-t", file.to_str().unwrap()])
    }

    pub fn exec(&self, node: &str, cmd: &[&str]) -> Output {
        let mut args = vec!["exec", node, "--"];
        args.extend_from_slice(cmd);
        self.run(&args)
    }

    /// Polls `f` until it returns Some or `timeout` passes.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut() -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = f() {
                return v;
            }
            if Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for {what}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// vtysh JSON from a router.
    pub fn vtysh_json(&self, node: &str, command: &str) -> Option<serde_json::Value> {
        let out = self.exec(node, &["vtysh", "-c", command]);
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    pub fn ping(&self, node: &str, addr: &str) -> bool {
        self.exec(node, &["ping", "-c", "1", "-W", "1", addr])
            .status
            .success()
    }

    pub fn wait_ping(&self, node: &str, addr: &str, timeout: Duration) {
        self.wait_for(&format!("{node} to ping {addr}"), timeout, || {
            self.ping(node, addr).then_some(())
        })
    }

    pub fn daemon_pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.home.path().join("daemon.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v["pid"].as_i64().map(|p| p as i32)
    }

    pub fn stop_daemon(&self) {
        let _ = self.cmd().args(["daemon", "stop"]).output();
    }

    /// Asserts nothing of this test's prefix remains.
    pub fn assert_clean(&self) {
        netloom_testkit::assert_no_leftovers(self.prefix());
    }
}

impl Env {
    /// For a failed test: what this test's first routers' FRR and kernel
    /// say (BGP sessions, addresses, routes).
    fn dump_routers(&self) {
        let Ok(dirs) = std::fs::read_dir(netloom_linux::FRR_RUN_DIR) else {
            return;
        };
        let mut ps: Vec<String> = dirs
            .flatten()
            .map(|d| d.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&format!("{}-", self.prefix())))
            .collect();
        ps.sort();
        for p in ps.iter().take(6) {
            let netns = netloom_linux::netns_of_pathspace(p);
            let run = |prog: &str, args: &[&str]| {
                std::process::Command::new(prog)
                    .args(args)
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string())
                    .unwrap_or_default()
            };
            eprintln!(
                "--- {p} ---\n{}\n{}\n{}",
                run("vtysh", &["-N", p, "-c", "show bgp summary"]),
                run("ip", &["-n", &netns, "-br", "addr"]),
                run("ip", &["-n", &netns, "route"]),
            );
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // A failed test shows what the daemon did: its events and the end
        // of its log.
        if std::thread::panicking() {
            if let Ok(out) = self.cmd().args(["events"]).output() {
                let text = String::from_utf8_lossy(&out.stdout);
                let lines: Vec<&str> = text.lines().collect();
                eprintln!(
                    "--- the daemon's last events ---\n{}",
                    lines[lines.len().saturating_sub(40)..].join("\n")
                );
            }
            if let Ok(log) = std::fs::read_to_string(self.home.path().join("daemon.log")) {
                let lines: Vec<&str> = log.lines().collect();
                eprintln!(
                    "--- the end of daemon.log ---\n{}",
                    lines[lines.len().saturating_sub(60)..].join("\n")
                );
            }
            self.dump_routers();
        }
        // Destroy every lab through the daemon, stop it; the prefix guard
        // then removes anything left by its mark.
        let _ = self.cmd().args(["destroy", "--all", "--cleanup"]).output();
        self.stop_daemon();
        if let Some(pid) = self.daemon_pid() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
