//! The wire's CPU wake-up latency request (`/dev/cpu_dma_latency`), as
//! root. Its own test binary: the request is per process.

mod common;

use std::time::{Duration, Instant};

use common::*;
use netloom_wire::{qos, LinkConfig, Props};

fn device_value() -> i32 {
    let bytes = std::fs::read("/dev/cpu_dma_latency").unwrap();
    i32::from_ne_bytes(bytes[..4].try_into().unwrap())
}

/// Root, the device, and the request not turned off.
fn can_request() -> bool {
    root() && std::path::Path::new("/dev/cpu_dma_latency").exists() && qos::enabled()
}

#[test]
fn frames_hold_a_zero_latency_request_and_a_stopped_link_gives_it_back() {
    if !can_request() {
        return;
    }
    // The request is the process's: one test at a time.
    let _serial = serial();
    let pair = Pair::new();
    let link = pair.link(LinkConfig::default());
    // Some frames may cross as the interfaces come up (IPv6 router
    // solicitations); what matters is what a ping does.
    assert!(pair.ping(&["-c", "2", "-i", "0.2", B_IP]).status.success());
    assert!(qos::held(), "no request while frames cross");
    assert_eq!(device_value(), 0, "the kernel's limit is not 0 us");
    link.stop();
    assert!(!qos::held(), "a stopped link kept the request");
}

#[test]
fn a_quiet_link_gives_the_request_back_after_linger() {
    if !can_request() {
        return;
    }
    let _serial = serial();
    let pair = Pair::new();
    let _link = pair.link(LinkConfig {
        a_to_b: Props::default(),
        b_to_a: Props::default(),
        ..LinkConfig::default()
    });
    assert!(pair.ping(&["-c", "1", B_IP]).status.success());
    // Turn off what else may send on the link (IPv6 in both namespaces).
    for ns in [&pair.a, &pair.b] {
        pair.exec(ns, &["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
    }
    let linger = Duration::from_nanos(qos::LINGER);
    let start = Instant::now();
    while qos::held() && start.elapsed() < linger * 3 {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !qos::held(),
        "still held {:?} after the last frame",
        start.elapsed()
    );
}
