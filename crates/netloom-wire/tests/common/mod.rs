//! Root-test helpers: per-test namespaces named `nltw<4 random chars>-a/-b`,
//! removed on drop (also on panic), a link between them, and tools run in
//! them.
#![allow(dead_code)]

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use netloom_wire::tap::in_netns;
use netloom_wire::{Link, LinkConfig, LinkHandle, Tap, TapConfig};

pub const A_IP: &str = "10.77.0.1";
pub const B_IP: &str = "10.77.0.2";

/// Timing tests run one at a time: they measure the machine.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// True when the test can run; false (skip) for a non-root developer;
/// panics under CI, where skipping would hide a failure.
pub fn root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("root tests must run as root under CI");
    }
    eprintln!("skipped: not root");
    false
}

fn random_tag() -> String {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        ^ (u64::from(std::process::id()) << 32);
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    x ^= COUNTER
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..4)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            alphabet[((x >> 33) % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

pub fn sh(args: &[&str]) -> Output {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("run command");
    out
}

pub fn must(args: &[&str]) -> String {
    let out = sh(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two namespaces, deleted on drop, plus child processes killed on drop.
pub struct Pair {
    pub a: String,
    pub b: String,
    pub children: Vec<Child>,
}

impl Pair {
    pub fn new() -> Pair {
        let tag = random_tag();
        let pair = Pair {
            a: format!("nltw{tag}-a"),
            b: format!("nltw{tag}-b"),
            children: Vec::new(),
        };
        for ns in [&pair.a, &pair.b] {
            must(&["ip", "netns", "add", ns]);
            must(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        pair
    }

    pub fn path(ns: &str) -> PathBuf {
        PathBuf::from(format!("/run/netns/{ns}"))
    }

    /// Makes `eth1` TAPs in both namespaces, addresses them and starts a link.
    pub fn link(&self, config: LinkConfig) -> LinkHandle {
        self.link_with(config, true)
    }

    pub fn link_with(&self, config: LinkConfig, vnet_hdr: bool) -> LinkHandle {
        let tap = |ns: &str| {
            let mut c = TapConfig::new(Some(Pair::path(ns)), "eth1");
            c.vnet_hdr = vnet_hdr;
            Tap::create(&c).expect("create tap")
        };
        let (ta, tb) = (tap(&self.a), tap(&self.b));
        must(&[
            "ip",
            "-n",
            &self.a,
            "addr",
            "add",
            &format!("{A_IP}/24"),
            "dev",
            "eth1",
        ]);
        must(&[
            "ip",
            "-n",
            &self.b,
            "addr",
            "add",
            &format!("{B_IP}/24"),
            "dev",
            "eth1",
        ]);
        let h = Link::start(ta, tb, config).expect("start link");
        self.warm_up();
        h
    }

    /// A veth pair `eth2` between the namespaces (10.78.0.1/2), for comparison.
    pub fn veth(&self) {
        must(&[
            "ip", "link", "add", "eth2", "netns", &self.a, "type", "veth", "peer", "eth2", "netns",
            &self.b,
        ]);
        must(&["ip", "-n", &self.a, "link", "set", "eth2", "up"]);
        must(&["ip", "-n", &self.b, "link", "set", "eth2", "up"]);
        must(&[
            "ip",
            "-n",
            &self.a,
            "addr",
            "add",
            "10.78.0.1/24",
            "dev",
            "eth2",
        ]);
        must(&[
            "ip",
            "-n",
            &self.b,
            "addr",
            "add",
            "10.78.0.2/24",
            "dev",
            "eth2",
        ]);
    }

    /// Resolves ARP both ways so measurements start clean.
    pub fn warm_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.ping(&["-c", "1", "-W", "1", B_IP]).status.success() {
                return;
            }
        }
        panic!("link never carried a ping");
    }

    pub fn exec(&self, ns: &str, args: &[&str]) -> Output {
        let mut all = vec!["ip", "netns", "exec", ns];
        all.extend_from_slice(args);
        sh(&all)
    }

    pub fn ping(&self, args: &[&str]) -> Output {
        let mut all = vec!["ping"];
        all.extend_from_slice(args);
        self.exec(&self.a, &all)
    }

    pub fn spawn(&mut self, ns: &str, args: &[&str]) {
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        self.children.push(child);
    }

    /// A UDP socket created inside `ns`, bound to `addr`.
    pub fn udp(&self, ns: &str, addr: &str) -> UdpSocket {
        let addr = addr.to_string();
        in_netns(Some(&Pair::path(ns)), move || {
            Ok(UdpSocket::bind(addr).expect("bind udp"))
        })
        .expect("enter netns")
    }

    /// Runs iperf3 for `secs` from A to B at `dst`; returns received bits/s.
    pub fn iperf(&mut self, dst: &str, secs: u32) -> f64 {
        let port = 5201 + (std::process::id() % 1000) as u16;
        let port = port.to_string();
        self.spawn(
            &self.b.clone(),
            &["iperf3", "-s", "-1", "-p", &port, "-B", dst],
        );
        let mut out = None;
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(100));
            let o = self.exec(
                &self.a,
                &[
                    "iperf3",
                    "-c",
                    dst,
                    "-p",
                    &port,
                    "-t",
                    &secs.to_string(),
                    "-O",
                    "1",
                    "-J",
                ],
            );
            if o.status.success() {
                out = Some(o);
                break;
            }
        }
        let out = out.expect("iperf3 client never connected");
        let json = String::from_utf8_lossy(&out.stdout);
        let key = "\"sum_received\":";
        let at = json.find(key).expect("sum_received in iperf3 output");
        let rest = &json[at..];
        let bps = rest.find("\"bits_per_second\":").expect("bits_per_second");
        let num: String = rest[bps + 18..]
            .chars()
            .skip_while(|c| c.is_whitespace())
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == 'e' || *c == '+' || *c == '-')
            .collect();
        num.parse().expect("number")
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.a, &self.b] {
            let _ = sh(&["ip", "netns", "del", ns]);
        }
    }
}

/// RTTs in ms from ping output lines `time=40.1 ms`.
pub fn rtts(out: &Output) -> Vec<f64> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split("time=").nth(1))
        .filter_map(|t| t.split_whitespace().next())
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// `(transmitted, received)` from ping's summary.
pub fn ping_counts(out: &Output) -> (u64, u64) {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("packets transmitted"))
        .expect("ping summary");
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (nums[0], nums[1])
}

pub fn percentile(xs: &[f64], q: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * q).round() as usize]
}
