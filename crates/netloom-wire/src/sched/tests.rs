//! The scheduler on simulated time with seeded randomness. The statistical
//! assertions use intervals wide enough for the seeded stream but tight
//! enough to fail when a model is wrong.

use super::*;
use proptest::prelude::*;

const MS: u64 = 1_000_000;
const US: u64 = 1_000;

fn dir(props: Props) -> Direction<u64> {
    Direction::new(props, 42)
}

/// Offers `n` frames of `len` bytes spaced `gap` ns apart and drains due
/// frames after each; returns, per frame, whether it was lost to `Loss`,
/// and every release.
fn run(d: &mut Direction<u64>, n: u64, len: u32, gap: u64) -> (Vec<bool>, Vec<Released<u64>>) {
    let mut lost = Vec::with_capacity(n as usize);
    let mut out = Vec::new();
    for i in 0..n {
        let now = i * gap;
        let (v, _) = d.enqueue(now, i, len);
        lost.push(matches!(
            v,
            Verdict::Dropped {
                cause: DropCause::Loss
            }
        ));
        while let Some(r) = d.pop_due(now) {
            out.push(r);
        }
    }
    while let Some(r) = d.pop_due(u64::MAX) {
        out.push(r);
    }
    (lost, out)
}

fn bursts(lost: &[bool]) -> Vec<usize> {
    let mut runs = Vec::new();
    let mut cur = 0;
    for &l in lost {
        if l {
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

fn mean(xs: &[usize]) -> f64 {
    xs.iter().sum::<usize>() as f64 / xs.len() as f64
}

#[test]
fn delay_is_exact_without_jitter() {
    let mut d = dir(Props {
        delay: Duration::from_millis(20),
        ..Props::default()
    });
    for now in [0, 5, 1_000, 123_456_789] {
        let (v, _) = d.enqueue(now, 0, 100);
        assert_eq!(
            v,
            Verdict::Scheduled {
                release_at: now + 20 * MS,
                duplicate: false,
                corrupt: false
            }
        );
    }
    assert_eq!(d.next_release(), Some(20 * MS));
    assert!(d.pop_due(20 * MS - 1).is_none());
    assert_eq!(d.pop_due(20 * MS).unwrap().release_at, 20 * MS);
}

#[test]
fn random_loss_is_inside_the_binomial_interval() {
    let n = 100_000u64;
    let p = 0.05;
    let mut d = dir(Props {
        loss: Loss::Random { p },
        ..Props::default()
    });
    let (lost, out) = run(&mut d, n, 100, US);
    let losses = lost.iter().filter(|&&l| l).count() as f64;
    let expected = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    // 99.9% two-sided interval of the normal approximation.
    assert!(
        (losses - expected).abs() <= 3.29 * sd,
        "{losses} lost, expected {expected} +/- {}",
        3.29 * sd
    );
    let c = d.counters();
    assert_eq!(c.drop_loss as f64, losses);
    assert_eq!(c.tx_packets as usize, out.len());
    assert_eq!(c.rx_packets, n);
}

#[test]
fn gilbert_matches_its_mean_and_has_long_bursts() {
    let (p, r) = (0.01, 0.2);
    let loss = Loss::gilbert(p, r);
    let n = 1_000_000u64;
    let mut d = dir(Props {
        loss,
        ..Props::default()
    });
    let (lost, _) = run(&mut d, n, 64, US);
    let measured = lost.iter().filter(|&&l| l).count() as f64 / n as f64;
    let expected = loss.mean();
    assert!((expected - p / (p + r)).abs() < 1e-12);
    assert!(
        (measured - expected).abs() <= 0.06 * expected,
        "gilbert loss {measured}, expected {expected}"
    );
    let ge_burst = mean(&bursts(&lost));
    assert!(
        (ge_burst - 1.0 / r).abs() <= 0.1 / r,
        "gilbert mean burst {ge_burst}, expected {}",
        1.0 / r
    );

    // Random loss at the same mean loses frames one at a time.
    let mut d = dir(Props {
        loss: Loss::Random { p: expected },
        ..Props::default()
    });
    let (lost, _) = run(&mut d, n, 64, US);
    let random_burst = mean(&bursts(&lost));
    assert!(random_burst < 1.1, "random mean burst {random_burst}");
    assert!(ge_burst > 3.0 * random_burst);
}

#[test]
fn gilbert_with_partial_loss_in_each_state() {
    let loss = Loss::Gilbert {
        p: 0.05,
        r: 0.25,
        h: 0.5,
        k: 0.01,
    };
    let n = 1_000_000u64;
    let mut d = dir(Props {
        loss,
        ..Props::default()
    });
    let (lost, _) = run(&mut d, n, 64, US);
    let measured = lost.iter().filter(|&&l| l).count() as f64 / n as f64;
    let expected = 0.05 / 0.3 * 0.5 + 0.25 / 0.3 * 0.01;
    assert!((loss.mean() - expected).abs() < 1e-12);
    assert!(
        (measured - expected).abs() <= 0.05 * expected,
        "{measured} vs {expected}"
    );
}

#[test]
fn jitter_without_reorder_keeps_order() {
    for dist in [JitterDist::Uniform, JitterDist::Normal] {
        let props = Props {
            delay: Duration::from_millis(10),
            jitter: Duration::from_millis(5),
            jitter_dist: dist,
            ..Props::default()
        };
        let mut d = dir(props);
        let (_, out) = run(&mut d, 10_000, 100, 100 * US);
        assert_eq!(out.len(), 10_000);
        assert!(out.windows(2).all(|w| w[0].release_at <= w[1].release_at));
        assert!(
            out.windows(2).all(|w| w[0].frame < w[1].frame),
            "frames left out of order"
        );
        // The jitter is really there (order preservation pulls delays
        // towards the top of the range, but they still vary).
        let delays: Vec<u64> = out
            .iter()
            .map(|r| r.release_at - r.frame * 100 * US)
            .collect();
        let (lo, hi) = (delays.iter().min().unwrap(), delays.iter().max().unwrap());
        assert!(hi - lo > MS, "{dist:?}: delays {lo}..{hi}");
    }
}

#[test]
fn jitter_with_reorder_reorders() {
    let props = Props {
        delay: Duration::from_millis(10),
        jitter: Duration::from_millis(5),
        reorder: true,
        ..Props::default()
    };
    let mut d = dir(props);
    let (_, out) = run(&mut d, 10_000, 100, 100 * US);
    assert_eq!(out.len(), 10_000);
    assert!(
        out.windows(2).all(|w| w[0].release_at <= w[1].release_at),
        "released out of time order"
    );
    let inversions = out.windows(2).filter(|w| w[0].frame > w[1].frame).count();
    assert!(inversions > 1_000, "only {inversions} inversions");
    // Uniform jitter: every delay in [5 ms, 15 ms].
    assert!(out
        .iter()
        .all(|r| (5 * MS..=15 * MS).contains(&(r.release_at - r.frame * 100 * US))));
}

#[test]
fn normal_jitter_is_clipped_at_zero_delay() {
    let props = Props {
        delay: Duration::from_micros(100),
        jitter: Duration::from_millis(5),
        jitter_dist: JitterDist::Normal,
        reorder: true,
        ..Props::default()
    };
    let mut d = dir(props);
    for i in 0..10_000u64 {
        let now = i * 10 * US;
        let (v, _) = d.enqueue(now, i, 100);
        let Verdict::Scheduled { release_at, .. } = v else {
            panic!("dropped")
        };
        assert!(release_at >= now);
    }
}

#[test]
fn rate_serialises_back_to_back_frames() {
    let props = Props {
        rate: Some(50_000_000),
        ..Props::default()
    };
    let mut d = dir(props);
    // 1500 frames of 1500 bytes arrive at once: 1000 fit in the queue.
    let mut releases = Vec::new();
    for i in 0..1500u64 {
        if let (Verdict::Scheduled { release_at, .. }, None) = d.enqueue(0, i, 1500) {
            releases.push(release_at);
        }
    }
    assert_eq!(releases.len(), 1000);
    assert_eq!(d.counters().drop_queue, 500);
    assert_eq!(releases[0], 240 * US);
    assert!(
        releases.windows(2).all(|w| w[1] - w[0] == 240 * US),
        "spacing is not 240 us"
    );
    // Once the first frames are serialised, the queue has room again.
    let (v, _) = d.enqueue(240 * US * 10, 9999, 1500);
    assert!(matches!(v, Verdict::Scheduled { release_at, .. } if release_at == 1001 * 240 * US));
}

#[test]
fn rate_adds_delay_after_serialisation() {
    let props = Props {
        rate: Some(50_000_000),
        delay: Duration::from_millis(5),
        ..Props::default()
    };
    let mut d = dir(props);
    let (v0, _) = d.enqueue(0, 0, 1500);
    let (v1, _) = d.enqueue(0, 1, 1500);
    assert!(matches!(v0, Verdict::Scheduled { release_at, .. } if release_at == 5 * MS + 240 * US));
    assert!(matches!(v1, Verdict::Scheduled { release_at, .. } if release_at == 5 * MS + 480 * US));
    // An idle link starts serialising at `now`.
    let (v2, _) = d.enqueue(10 * MS, 2, 1500);
    assert!(
        matches!(v2, Verdict::Scheduled { release_at, .. } if release_at == 15 * MS + 240 * US)
    );
}

#[test]
fn byte_queue_limit() {
    let props = Props {
        rate: Some(1_000_000),
        queue: QueueLimit::Bytes(10_000),
        ..Props::default()
    };
    let mut d = dir(props);
    let accepted = (0..20)
        .filter(|&i| d.enqueue(0, i, 1000).1.is_none())
        .count();
    assert_eq!(accepted, 10);
    assert_eq!(d.counters().drop_queue, 10);
}

#[test]
fn down_drops_everything_including_held_frames() {
    let mut d = dir(Props {
        delay: Duration::from_millis(10),
        ..Props::default()
    });
    for i in 0..5 {
        assert!(d.enqueue(0, i, 100).1.is_none());
    }
    let dropped = d.set_props(Props {
        up: false,
        ..d.props().clone()
    });
    assert_eq!(dropped, vec![0, 1, 2, 3, 4]);
    assert_eq!(d.held(), 0);
    assert_eq!(
        d.enqueue(MS, 9, 100).0,
        Verdict::Dropped {
            cause: DropCause::Down
        }
    );
    assert_eq!(d.counters().drop_down, 6);
    assert!(d
        .set_props(Props {
            up: true,
            ..d.props().clone()
        })
        .is_empty());
    assert!(d.enqueue(2 * MS, 10, 100).1.is_none());
}

#[test]
fn changed_props_apply_to_the_next_frame_only() {
    let mut d = dir(Props {
        delay: Duration::from_millis(50),
        ..Props::default()
    });
    d.enqueue(0, 0, 100);
    d.set_props(Props {
        delay: Duration::from_millis(10),
        reorder: true,
        ..Props::default()
    });
    d.enqueue(MS, 1, 100);
    assert_eq!(d.pop_due(11 * MS).map(|r| r.frame), Some(1));
    assert_eq!(d.pop_due(50 * MS).map(|r| r.frame), Some(0));
    // Without reorder the second frame would have waited for the first.
    let mut d = dir(Props {
        delay: Duration::from_millis(50),
        ..Props::default()
    });
    d.enqueue(0, 0, 100);
    d.set_props(Props {
        delay: Duration::from_millis(10),
        ..Props::default()
    });
    let (v, _) = d.enqueue(MS, 1, 100);
    assert!(matches!(v, Verdict::Scheduled { release_at, .. } if release_at == 50 * MS));
}

#[test]
fn mtu_counts_the_payload_beyond_ethernet() {
    let mut d = dir(Props {
        mtu: Some(1500),
        ..Props::default()
    });
    assert!(d.enqueue(0, 0, 1514).1.is_none());
    assert_eq!(
        d.enqueue(0, 1, 1515).0,
        Verdict::Dropped {
            cause: DropCause::Mtu
        }
    );
    assert_eq!(d.counters().drop_mtu, 1);
}

#[test]
fn duplicate_and_corrupt_rates() {
    let n = 100_000u64;
    let props = Props {
        duplicate: 0.02,
        corrupt: 0.01,
        ..Props::default()
    };
    let mut d = dir(props);
    let (_, out) = run(&mut d, n, 100, US);
    let c = d.counters();
    for (count, p) in [(c.duplicated, 0.02), (c.corrupted, 0.01)] {
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (count as f64 - n as f64 * p).abs() <= 3.29 * sd,
            "{count} vs {p}"
        );
    }
    assert_eq!(
        out.iter().filter(|r| r.duplicate).count() as u64,
        c.duplicated
    );
    assert_eq!(
        out.iter().filter(|r| r.corrupt.is_some()).count() as u64,
        c.corrupted
    );
    assert_eq!(corrupt_bit(17, 0), None);
    assert_eq!(corrupt_bit(17, 4), Some((2, 2)));
}

#[test]
fn same_seed_same_decisions() {
    let props = Props {
        loss: Loss::Random { p: 0.3 },
        jitter: Duration::from_millis(1),
        delay: Duration::from_millis(1),
        ..Props::default()
    };
    let a = run(&mut dir(props.clone()), 1000, 100, US);
    let b = run(&mut dir(props.clone()), 1000, 100, US);
    assert_eq!(a.0, b.0);
    let c = run(&mut Direction::new(props, 7), 1000, 100, US);
    assert_ne!(a.0, c.0);
    assert!(a
        .1
        .iter()
        .zip(&b.1)
        .all(|(x, y)| x.release_at == y.release_at));
}

#[test]
fn validation_names_the_bad_value() {
    let bad = Props {
        loss: Loss::Random { p: 1.5 },
        ..Props::default()
    };
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "loss must be a probability between 0 and 1, not 1.5"
    );
    assert!(Props {
        rate: Some(0),
        ..Props::default()
    }
    .validate()
    .is_err());
    assert!(Props {
        queue: QueueLimit::Packets(0),
        ..Props::default()
    }
    .validate()
    .is_err());
    assert!(Props {
        duplicate: -0.1,
        ..Props::default()
    }
    .validate()
    .is_err());
    assert!(Props {
        corrupt: f64::NAN,
        ..Props::default()
    }
    .validate()
    .is_err());
    assert!(Props::default().validate().is_ok());
    assert!(Props::default().is_frame_uniform());
    assert!(!Props {
        rate: Some(50_000_000),
        ..Props::default()
    }
    .is_frame_uniform());
}

fn arb_props() -> impl Strategy<Value = Props> {
    let loss = prop_oneof![
        Just(Loss::None),
        (0.0..=1.0f64).prop_map(|p| Loss::Random { p }),
        (0.0..=1.0f64, 0.0..=1.0f64, 0.0..=1.0f64, 0.0..=1.0f64)
            .prop_map(|(p, r, h, k)| Loss::Gilbert { p, r, h, k }),
    ];
    let queue = prop_oneof![
        (1..2000u32).prop_map(QueueLimit::Packets),
        (1..10_000_000u64).prop_map(QueueLimit::Bytes)
    ];
    (
        (
            0..10_000_000_000u64,
            0..10_000_000_000u64,
            any::<bool>(),
            any::<bool>(),
        ),
        loss,
        (0.0..=1.0f64, 0.0..=1.0f64),
        proptest::option::of(1..100_000_000_000u64),
        queue,
        proptest::option::of(68..70_000u32),
        any::<bool>(),
    )
        .prop_map(
            |(
                (delay, jitter, normal, reorder),
                loss,
                (duplicate, corrupt),
                rate,
                queue,
                mtu,
                up,
            )| Props {
                delay: Duration::from_nanos(delay),
                jitter: Duration::from_nanos(jitter),
                jitter_dist: if normal {
                    JitterDist::Normal
                } else {
                    JitterDist::Uniform
                },
                reorder,
                loss,
                duplicate,
                corrupt,
                rate,
                queue,
                mtu,
                up,
            },
        )
}

proptest! {
    #[test]
    fn never_panics_and_never_releases_early(
        props in arb_props(),
        later in arb_props(),
        seed in any::<u64>(),
        arrivals in proptest::collection::vec((0..5_000_000u64, 0..70_000u32), 1..200),
    ) {
        prop_assert!(props.validate().is_ok());
        let mut d: Direction<usize> = Direction::new(props, seed);
        let mut now = 0u64;
        let mut recycled = 0u64;
        for (i, &(gap, len)) in arrivals.iter().enumerate() {
            now += gap;
            if i == arrivals.len() / 2 {
                recycled += d.set_props(later.clone()).len() as u64;
            }
            if let (Verdict::Scheduled { release_at, .. }, _) = d.enqueue(now, i, len) {
                prop_assert!(release_at >= now);
            }
            while let Some(r) = d.pop_due(now) {
                prop_assert!(r.release_at <= now);
            }
        }
        while d.pop_due(u64::MAX).is_some() {}
        let c = d.counters();
        prop_assert_eq!(c.rx_packets, arrivals.len() as u64);
        prop_assert_eq!(c.rx_packets, c.tx_packets + c.drops());
        prop_assert!(c.drop_down >= recycled);
        prop_assert_eq!(d.held(), 0);
    }
}
