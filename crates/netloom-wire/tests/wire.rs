//! The wire for real, as root: two namespaces joined by an emulated link,
//! measured with ping, iperf3 and UDP sockets.

mod common;

use std::time::{Duration, Instant};

use common::*;
use netloom_wire::{Dir, LinkConfig, Loss, Props};

fn both(props: Props) -> LinkConfig {
    LinkConfig {
        a_to_b: props.clone(),
        b_to_a: props,
        seed: 1,
        ..LinkConfig::default()
    }
}

fn one_way(a_to_b: Props) -> LinkConfig {
    LinkConfig {
        a_to_b,
        seed: 2,
        ..LinkConfig::default()
    }
}

/// Sends `n` numbered UDP datagrams from A to B (paced in bursts of 8) and
/// returns the sequence numbers in the order B received them.
fn udp_run(pair: &Pair, n: u32) -> Vec<u32> {
    let rx = pair.udp(&pair.b, &format!("{B_IP}:9000"));
    let tx = pair.udp(&pair.a, &format!("{A_IP}:0"));
    rx.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let receiver = std::thread::spawn(move || {
        let mut seqs = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok(n) = rx.recv(&mut buf) {
            if n >= 4 {
                seqs.push(u32::from_be_bytes(buf[..4].try_into().unwrap()));
            }
        }
        seqs
    });
    let mut payload = [0u8; 200];
    for seq in 0..n {
        payload[..4].copy_from_slice(&seq.to_be_bytes());
        tx.send_to(&payload, format!("{B_IP}:9000")).unwrap();
        if seq % 8 == 7 {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
    receiver.join().unwrap()
}

/// Lengths of runs of missing sequence numbers.
fn loss_bursts(seqs: &[u32], n: u32) -> Vec<usize> {
    let mut got = vec![false; n as usize];
    for &s in seqs {
        got[s as usize] = true;
    }
    let mut runs = Vec::new();
    let mut cur = 0;
    for g in got {
        if !g {
            cur += 1;
        } else if cur > 0 {
            runs.push(cur);
            cur = 0;
        }
    }
    if cur > 0 {
        runs.push(cur);
    }
    runs
}

#[test]
fn delay_20ms_each_way_gives_40ms_rtt() {
    if !root() {
        return;
    }
    let _serial = serial();
    let pair = Pair::new();
    let link = pair.link(both(Props {
        delay: Duration::from_millis(20),
        ..Props::default()
    }));
    let out = pair.ping(&["-c", "50", "-i", "0.02", B_IP]);
    let rtt = rtts(&out);
    assert!(rtt.len() >= 49, "{} replies", rtt.len());
    let (p50, p99) = (percentile(&rtt, 0.5), percentile(&rtt, 0.99));
    eprintln!(
        "20 ms each way: rtt p50 {p50:.3} ms, p99 {p99:.3} ms, min {:.3}",
        percentile(&rtt, 0.0)
    );
    assert!((p50 - 40.0).abs() <= 1.0, "median rtt {p50} ms");
    let c = link.counters();
    assert!(
        c.a_to_b.tx_packets >= 50 && c.b_to_a.tx_packets >= 50,
        "{c:?}"
    );
}

/// Not an assertion on speed: prints what `bench/wire` will report.
#[test]
fn zero_impairment_compared_with_veth() {
    if !root() {
        return;
    }
    let _serial = serial();
    let mut pair = Pair::new();
    pair.veth();
    let link = pair.link(both(Props::default()));
    let veth_rtt = rtts(&pair.ping(&["-c", "200", "-i", "0.005", "10.78.0.2"]));
    let wire_rtt = rtts(&pair.ping(&["-c", "200", "-i", "0.005", B_IP]));
    let secs = 5;
    let veth_bps = pair.iperf("10.78.0.2", secs);
    let wire_bps = pair.iperf(B_IP, secs);
    let q = |v: &[f64], p| percentile(v, p);
    eprintln!(
        "BENCH veth rtt ms: p50 {:.3} p99 {:.3}",
        q(&veth_rtt, 0.5),
        q(&veth_rtt, 0.99)
    );
    eprintln!(
        "BENCH wire rtt ms: p50 {:.3} p99 {:.3}",
        q(&wire_rtt, 0.5),
        q(&wire_rtt, 0.99)
    );
    eprintln!(
        "BENCH wire added latency us (rtt difference): p50 {:.0} p99 {:.0}",
        (q(&wire_rtt, 0.5) - q(&veth_rtt, 0.5)) * 1000.0,
        (q(&wire_rtt, 0.99) - q(&veth_rtt, 0.99)) * 1000.0
    );
    eprintln!(
        "BENCH iperf3 veth {:.2} Gbit/s, wire {:.2} Gbit/s",
        veth_bps / 1e9,
        wire_bps / 1e9
    );
    eprintln!("counters {:?}", link.counters());
}

fn mono_ns() -> u64 {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).unwrap();
    ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64
}

/// One-way delays (us) of `n` UDP datagrams sent A->B every `gap`, each
/// carrying its CLOCK_MONOTONIC send time (one clock for all namespaces).
fn one_way_delays(pair: &Pair, n: u32, gap: Duration) -> Vec<f64> {
    let rx = pair.udp(&pair.b, &format!("{B_IP}:9001"));
    let tx = pair.udp(&pair.a, &format!("{A_IP}:0"));
    rx.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let receiver = std::thread::spawn(move || {
        let mut delays = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(8) = rx.recv(&mut buf) {
            let sent = u64::from_be_bytes(buf[..8].try_into().unwrap());
            delays.push((mono_ns() - sent) as f64 / 1000.0);
        }
        delays
    });
    for _ in 0..n {
        tx.send_to(&mono_ns().to_be_bytes(), format!("{B_IP}:9001"))
            .unwrap();
        std::thread::sleep(gap);
    }
    receiver.join().unwrap()
}

/// Delay error of the 50 ms timer: one-way UDP delay over a link with
/// 50 ms A->B minus the one-way delay over the same link with no delay.
#[test]
fn delay_error_at_50ms() {
    if !root() {
        return;
    }
    let _serial = serial();
    let pair = Pair::new();
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let spin_us =
        env("NETLOOM_WIRE_SPIN_US").unwrap_or(LinkConfig::DEFAULT_SPIN.as_micros() as u64);
    // NETLOOM_WIRE_RT: a SCHED_FIFO priority, 0 for an ordinary thread.
    let realtime = match env("NETLOOM_WIRE_RT") {
        None => LinkConfig::default().realtime,
        Some(0) => None,
        Some(p) => Some(p as i32),
    };
    let config = LinkConfig {
        spin: Duration::from_micros(spin_us),
        realtime,
        ..both(Props::default())
    };
    let link = pair.link(config);
    let base = one_way_delays(&pair, 200, Duration::from_millis(5));
    link.set_props(
        Dir::AtoB,
        Props {
            delay: Duration::from_millis(50),
            ..Props::default()
        },
    )
    .unwrap();
    let d50 = one_way_delays(&pair, 400, Duration::from_millis(5));
    let b = percentile(&base, 0.5);
    let err: Vec<f64> = d50.iter().map(|d| d - 50_000.0 - b).collect();
    let q = |v: &[f64], p| percentile(v, p);
    eprintln!(
        "BENCH one-way udp over zero-delay wire us: p50 {:.0} p99 {:.0}",
        q(&base, 0.5),
        q(&base, 0.99)
    );
    eprintln!(
        "BENCH delay error at 50 ms (spin {spin_us} us, realtime {realtime:?}) us: p50 {:.0} p90 {:.0} p99 {:.0} max {:.0}",
        q(&err, 0.5),
        q(&err, 0.9),
        q(&err, 0.99),
        q(&err, 1.0),
    );
    let late = link.counters().a_to_b_lateness;
    eprintln!(
        "BENCH wire timer lateness A->B buckets (<=50us,<=100us,<=200us,<=500us,<=1ms,>1ms): {:?}",
        late.buckets
    );
    assert_eq!(d50.len(), 400);
    assert!(q(&err, 0.5).abs() <= 1000.0, "median delay error over 1 ms");
}

#[test]
fn random_loss_5pct_over_10000_pings() {
    if !root() {
        return;
    }
    let _serial = serial();
    let pair = Pair::new();
    let link = pair.link(one_way(Props::default()));
    // Loss on A->B only: a ping is lost when its request is.
    link.set_props(
        Dir::AtoB,
        Props {
            loss: Loss::Random { p: 0.05 },
            ..Props::default()
        },
    )
    .unwrap();
    let out = pair.ping(&["-i", "0.001", "-c", "10000", "-q", "-W", "1", B_IP]);
    let (sent, received) = ping_counts(&out);
    assert_eq!(sent, 10_000);
    let lost = (sent - received) as f64;
    let (n, p) = (10_000.0, 0.05);
    let sd = f64::sqrt(n * p * (1.0 - p));
    eprintln!(
        "5% loss: {lost} of {sent} pings lost (99% interval {:.0}..{:.0}); wire {:?}",
        n * p - 2.576 * sd,
        n * p + 2.576 * sd,
        link.counters().a_to_b
    );
    // 99% two-sided binomial interval.
    assert!((lost - n * p).abs() <= 2.576 * sd, "{lost} pings lost");
}

#[test]
fn gilbert_loss_has_its_mean_and_long_bursts() {
    if !root() {
        return;
    }
    let _serial = serial();
    let pair = Pair::new();
    let link = pair.link(one_way(Props::default()));
    let n = 50_000;
    let ge = Loss::gilbert(0.02, 0.25);
    link.set_props(
        Dir::AtoB,
        Props {
            loss: ge,
            ..Props::default()
        },
    )
    .unwrap();
    let seqs = udp_run(&pair, n);
    let ge_loss = 1.0 - seqs.len() as f64 / f64::from(n);
    let ge_bursts = loss_bursts(&seqs, n);
    let ge_burst = ge_bursts.iter().sum::<usize>() as f64 / ge_bursts.len() as f64;

    link.set_props(
        Dir::AtoB,
        Props {
            loss: Loss::Random { p: ge.mean() },
            ..Props::default()
        },
    )
    .unwrap();
    let seqs = udp_run(&pair, n);
    let rnd_loss = 1.0 - seqs.len() as f64 / f64::from(n);
    let rnd_bursts = loss_bursts(&seqs, n);
    let rnd_burst = rnd_bursts.iter().sum::<usize>() as f64 / rnd_bursts.len() as f64;
    eprintln!(
        "gilbert: loss {ge_loss:.4} (expected {:.4}), mean burst {ge_burst:.2} (expected 4); random: loss {rnd_loss:.4}, mean burst {rnd_burst:.2}",
        ge.mean()
    );
    // The chain's variance is ~6x the binomial one: 15% is over 3 sd here.
    assert!(
        (ge_loss - ge.mean()).abs() <= 0.15 * ge.mean(),
        "gilbert loss {ge_loss}"
    );
    assert!(
        (ge_burst - 4.0).abs() <= 0.8,
        "gilbert mean burst {ge_burst}"
    );
    assert!(
        ge_burst > 2.5 * rnd_burst,
        "bursts {ge_burst} vs random {rnd_burst}"
    );
}

#[test]
fn jitter_without_reorder_never_reorders() {
    if !root() {
        return;
    }
    let _serial = serial();
    let pair = Pair::new();
    let jitter = Props {
        delay: Duration::from_millis(10),
        jitter: Duration::from_millis(5),
        ..Props::default()
    };
    let link = pair.link(one_way(jitter.clone()));
    let n = 3_000;
    let seqs = udp_run(&pair, n);
    let reordered = seqs.windows(2).filter(|w| w[1] < w[0]).count();
    eprintln!(
        "jitter 5 ms, no reorder: {} of {n} received, {reordered} reordered",
        seqs.len()
    );
    assert!(seqs.len() as u32 >= n * 99 / 100, "{} received", seqs.len());
    assert_eq!(reordered, 0);

    // The same jitter with `reorder` does reorder (so the test can see it).
    link.set_props(
        Dir::AtoB,
        Props {
            reorder: true,
            ..jitter
        },
    )
    .unwrap();
    let seqs = udp_run(&pair, n);
    let reordered = seqs.windows(2).filter(|w| w[1] < w[0]).count();
    eprintln!("jitter 5 ms, reorder: {reordered} reordered");
    assert!(reordered > 100);
}

#[test]
fn rate_50mbit_limits_iperf3() {
    if !root() {
        return;
    }
    let _serial = serial();
    let mut pair = Pair::new();
    let link = pair.link(both(Props {
        rate: Some(50_000_000),
        ..Props::default()
    }));
    let bps = pair.iperf(B_IP, 5);
    eprintln!(
        "rate 50 mbit: iperf3 {:.2} Mbit/s; {:?}",
        bps / 1e6,
        link.counters().a_to_b
    );
    assert!((bps - 50e6).abs() <= 5e6, "iperf3 {:.2} Mbit/s", bps / 1e6);
}

#[test]
fn link_down_stops_ping_and_up_recovers() {
    if !root() {
        return;
    }
    let _serial = serial();
    let pair = Pair::new();
    let link = pair.link(both(Props::default()));
    assert!(pair
        .ping(&["-c", "2", "-i", "0.1", "-W", "1", B_IP])
        .status
        .success());
    link.set_up(false).unwrap();
    let shown = must(&["ip", "-n", &pair.a, "link", "show", "eth1"]);
    assert!(shown.contains("NO-CARRIER"), "carrier still on: {shown}");
    let out = pair.ping(&["-c", "5", "-i", "0.1", "-W", "1", B_IP]);
    assert_eq!(ping_counts(&out).1, 0, "pings crossed a down link");
    assert!(link.counters().a_to_b.drop_down + link.counters().a_to_b.rx_packets > 0);
    link.set_up(true).unwrap();
    let start = Instant::now();
    while !pair.ping(&["-c", "1", "-W", "0.1", B_IP]).status.success() {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "no recovery within 1 s"
        );
    }
    let shown = must(&["ip", "-n", &pair.b, "link", "show", "eth1"]);
    assert!(shown.contains("LOWER_UP"), "carrier still off: {shown}");
    eprintln!("link up: ping recovered after {:?}", start.elapsed());
}

#[test]
fn duplicate_corrupt_and_mtu_act_on_real_frames() {
    if !root() {
        return;
    }
    let _serial = serial();
    let pair = Pair::new();
    let link = pair.link(one_way(Props::default()));

    link.set_props(
        Dir::AtoB,
        Props {
            duplicate: 1.0,
            ..Props::default()
        },
    )
    .unwrap();
    let out = pair.ping(&["-c", "3", "-i", "0.1", "-W", "1", B_IP]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DUP!"), "no duplicate replies: {text}");
    assert!(link.counters().a_to_b.duplicated >= 3);

    // Every request has one bit flipped: the IP or ICMP checksum catches it.
    link.set_props(
        Dir::AtoB,
        Props {
            corrupt: 1.0,
            ..Props::default()
        },
    )
    .unwrap();
    let out = pair.ping(&["-c", "5", "-i", "0.1", "-W", "1", B_IP]);
    assert_eq!(ping_counts(&out).1, 0, "corrupted pings were answered");
    assert!(link.counters().a_to_b.corrupted >= 5);

    link.set_props(
        Dir::AtoB,
        Props {
            mtu: Some(1000),
            ..Props::default()
        },
    )
    .unwrap();
    assert!(pair
        .ping(&["-c", "2", "-i", "0.1", "-W", "1", "-s", "900", B_IP])
        .status
        .success());
    let out = pair.ping(&[
        "-c", "2", "-i", "0.1", "-W", "1", "-s", "1200", "-M", "do", B_IP,
    ]);
    assert_eq!(ping_counts(&out).1, 0);
    assert!(link.counters().a_to_b.drop_mtu >= 2);
}

#[test]
fn capture_sees_icmp_with_the_right_addresses() {
    if !root() {
        return;
    }
    let _serial = serial();
    let pair = Pair::new();
    let link = pair.link(both(Props::default()));
    let (tx, rx) = std::sync::mpsc::sync_channel(1024);
    link.set_capture(Some(tx)).unwrap();
    assert!(pair.ping(&["-c", "3", "-i", "0.1", B_IP]).status.success());
    link.set_capture(None).unwrap();
    let frames: Vec<_> = rx.try_iter().collect();
    let icmp = |f: &netloom_wire::Captured, src: [u8; 4], dst: [u8; 4]| {
        let b = &f.frame;
        b.len() >= 34
            && b[12..14] == [0x08, 0x00]
            && b[23] == 1
            && b[26..30] == src
            && b[30..34] == dst
    };
    let requests = frames
        .iter()
        .filter(|f| f.dir == Dir::AtoB && icmp(f, [10, 77, 0, 1], [10, 77, 0, 2]))
        .count();
    let replies = frames
        .iter()
        .filter(|f| f.dir == Dir::BtoA && icmp(f, [10, 77, 0, 2], [10, 77, 0, 1]))
        .count();
    assert!(
        requests >= 3 && replies >= 3,
        "{requests} requests, {replies} replies captured"
    );
}

#[test]
fn persistent_tap_survives_its_fd_and_reattaches() {
    if !root() {
        return;
    }
    let pair = Pair::new();
    let mut config = netloom_wire::TapConfig::new(Some(Pair::path(&pair.a)), "eth5");
    config.persist = true;
    let tap = netloom_wire::Tap::create(&config).unwrap();
    must(&[
        "ip",
        "-n",
        &pair.a,
        "addr",
        "add",
        "10.79.0.1/24",
        "dev",
        "eth5",
    ]);
    drop(tap);
    let shown = must(&["ip", "-n", &pair.a, "addr", "show", "eth5"]);
    assert!(
        shown.contains("NO-CARRIER") && shown.contains("10.79.0.1"),
        "{shown}"
    );
    let tap = netloom_wire::Tap::create(&config).unwrap();
    let shown = must(&["ip", "-n", &pair.a, "addr", "show", "eth5"]);
    assert!(
        shown.contains("LOWER_UP") && shown.contains("10.79.0.1"),
        "{shown}"
    );
    tap.set_persist(false).unwrap();
    drop(tap);
    assert!(
        !sh(&["ip", "-n", &pair.a, "link", "show", "eth5"])
            .status
            .success(),
        "tap left behind"
    );
}

/// A TAP's fd holds a reference on its namespace: `ip netns del` only
/// removes the name, the namespace (and its devices, addresses, answers)
/// lives until the link is stopped and the fds close.
#[test]
fn a_deleted_namespace_lives_until_the_link_stops() {
    if !root() {
        return;
    }
    let pair = Pair::new();
    let link = pair.link(both(Props::default()));
    must(&["ip", "netns", "del", &pair.b]);
    std::thread::sleep(Duration::from_millis(100));
    assert!(link.is_running());
    assert!(
        pair.ping(&["-c", "1", "-W", "1", B_IP]).status.success(),
        "the unnamed namespace stopped answering"
    );
    link.stop();
    assert!(
        !sh(&["ip", "-n", &pair.a, "link", "show", "eth1"])
            .status
            .success(),
        "tap left behind"
    );
}

/// Deleting a TAP under the wire ends its thread; the handle reports it
/// (the supervisor's cue to re-wire the link).
#[test]
fn a_deleted_tap_stops_the_link() {
    if !root() {
        return;
    }
    let pair = Pair::new();
    let link = pair.link(both(Props::default()));
    must(&["ip", "-n", &pair.b, "link", "del", "eth1"]);
    let start = Instant::now();
    while link.is_running() && start.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !link.is_running(),
        "wire thread still running after its tap was deleted"
    );
    assert!(link.set_props(Dir::BtoA, Props::default()).is_err());
    link.stop();
}

/// Prints the throughput of the plain path (no vnet header, one frame per
/// read/write) for comparison with the offloaded one.
#[test]
fn plain_path_throughput() {
    if !root() {
        return;
    }
    let _serial = serial();
    let mut pair = Pair::new();
    let _link = pair.link_with(both(Props::default()), false);
    let bps = pair.iperf(B_IP, 5);
    eprintln!("BENCH iperf3 wire without vnet_hdr {:.2} Gbit/s", bps / 1e9);
}

/// Scheduling policy of this process's thread named `name` (0 ordinary,
/// 1 `SCHED_FIFO`), from `/proc/self/task/*/stat`.
fn thread_policy(name: &str) -> Option<u32> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        // Field 41 of stat(5); `rest` starts at field 3.
        return rest.split(' ').nth(38)?.parse().ok();
    }
    None
}

/// The default real-time class is capped: a link moving iperf3 traffic
/// (a thread busier than RT_MAX_SHARE) runs as an ordinary thread, and a
/// quiet link is back in SCHED_FIFO.
#[test]
fn a_busy_link_leaves_the_realtime_class() {
    if !root() {
        return;
    }
    let _serial = serial();
    let mut pair = Pair::new();
    let _link = pair.link(both(Props::default()));
    let name = "wire-eth1=eth1";
    assert!(pair.ping(&["-c", "3", "-i", "0.1", B_IP]).status.success());
    assert_eq!(
        thread_policy(name),
        Some(1),
        "a quiet link runs in SCHED_FIFO"
    );
    let sampler = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..25 {
            std::thread::sleep(Duration::from_millis(100));
            seen.extend(thread_policy(name));
        }
        seen
    });
    let bps = pair.iperf(B_IP, 3);
    let seen = sampler.join().unwrap();
    eprintln!("iperf3 {:.2} Gbit/s; policies seen {seen:?}", bps / 1e9);
    assert!(seen.contains(&0), "never left SCHED_FIFO under iperf3");
    std::thread::sleep(Duration::from_millis(200));
    assert!(pair.ping(&["-c", "3", "-i", "0.1", B_IP]).status.success());
    assert_eq!(
        thread_policy(name),
        Some(1),
        "back in SCHED_FIFO when quiet"
    );
}
