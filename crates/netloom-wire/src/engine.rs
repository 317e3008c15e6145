//! The runtime: moves frames between the two [`Tap`]s of a link through two
//! [`Direction`]s.
//!
//! # Threading model
//! One dedicated OS thread per link (`wire-<a>=<b>`, cut to 15 bytes)
//! serves both directions. It owns both `Direction`s and the frames they
//! hold, and loops:
//! 1. write every frame of either direction that is due to its egress TAP
//!    (duplicates twice, corrupted ones with a bit flipped, a copy to the
//!    capture channel);
//! 2. `ppoll` both TAPs, the link's wake-up eventfd and a timerfd set to
//!    [`LinkConfig::spin`] before the next release (a timerfd has no timer
//!    slack; a `ppoll` timeout gets 0.1% of its length, 50 us at 50 ms).
//!    Within `spin` of a release it polls without sleeping;
//! 3. apply pending control changes (props, capture) when woken;
//! 4. read up to [`BATCH`] frames from each readable TAP without blocking,
//!    stamp each with `CLOCK_MONOTONIC` and offer it to its `Direction`.
//!
//! One thread rather than one per direction because a wake-up of an idle
//! (virtual) CPU costs tens to hundreds of microseconds: when the thread
//! writes a request into TAP B, the kernel runs B's stack inside that
//! `write` (softirq on the same CPU) and queues the answer on B before the
//! `write` returns, so the next `ppoll` finds it at once. A ping crossing
//! a zero-delay link wakes the thread once, not two threads once each.
//! Throughput does not need two threads: both directions of a TCP stream
//! (data and ACKs) cost one core at most, and the kernel work of the
//! receiving side runs in the writer's context either way.
//!
//! The thread runs in `SCHED_FIFO` ([`LinkConfig::realtime`], on by
//! default) so that, woken by its timer or a frame, it does not wait
//! behind ordinary tasks for up to a scheduler slice (milliseconds on a
//! busy machine). The harm is capped: a thread that used more than
//! [`RT_MAX_SHARE`] of a CPU over the last [`RT_WINDOW`], or whose
//! process's real-time wire threads used more than [`RT_MAX_TOTAL`]
//! together, drops to the ordinary class for the next window. A saturated
//! link therefore runs as an ordinary thread, as before; only light links,
//! whose timing matters and whose CPU use is small, stay real-time.
//!
//! No locks on the frame path: control changes go through a mutex that only
//! the control side and the wake-up path touch, counters are published as
//! relaxed atomics once per loop. Frame buffers come from per-thread pools
//! (no allocation per frame in steady state).
//!
//! With vnet headers the kernel hands over TCP super-frames of up to 64 KiB
//! (TSO) while the direction's props are [`Props::is_frame_uniform`]; when
//! props that act per frame (loss, duplicate, corrupt, mtu, a rate below
//! 1 Gbit/s) are set, the ingress TAP's offloads are switched off so the
//! kernel segments and checksums before the wire sees frames.

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use nix::errno::Errno;
use nix::poll::{ppoll, PollFd, PollFlags};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{
    ClockId as TimerClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags,
};
use nix::time::{clock_gettime, ClockId};

use crate::error::WireError;
use crate::sched::{corrupt_bit, Counters, Direction, Nanos, Props, Released, ETHERNET_HEADER};
use crate::tap::{Tap, VNET_HDR_LEN};

/// Most frames read per loop before due frames are released again.
pub const BATCH: usize = 64;

/// Buffer size for any frame a TAP can hand over: a 64 KiB GSO super-frame
/// plus its headers.
const LARGE: usize = 65_536 + 1_024;
/// Frames up to this size are copied into small buffers.
const SMALL: usize = 2_048;
/// Free buffers kept per pool.
const POOL_SMALL: usize = 4_096;
const POOL_LARGE: usize = 64;

const VIRTIO_NET_HDR_F_NEEDS_CSUM: u8 = 1;
const VIRTIO_NET_HDR_F_DATA_VALID: u8 = 2;
const VIRTIO_NET_HDR_GSO_NONE: u8 = 0;

/// Which way of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    /// From the first TAP to the second.
    AtoB,
    /// From the second TAP to the first.
    BtoA,
    /// Both ways (for [`LinkHandle::set_props`]).
    Both,
}

impl Dir {
    fn sides(self) -> &'static [usize] {
        match self {
            Dir::AtoB => &[0],
            Dir::BtoA => &[1],
            Dir::Both => &[0, 1],
        }
    }
}

/// A frame as it left the wire, for capture.
#[derive(Debug, Clone)]
pub struct Captured {
    /// Wall-clock time it was written to the egress TAP.
    pub at: SystemTime,
    /// The same instant on `CLOCK_MONOTONIC`.
    pub mono: Nanos,
    /// [`Dir::AtoB`] or [`Dir::BtoA`].
    pub dir: Dir,
    /// The Ethernet frame as delivered (after corruption; no vnet header).
    /// GSO super-frames are captured as one large frame.
    pub frame: Vec<u8>,
}

/// How to run a link.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    pub a_to_b: Props,
    pub b_to_a: Props,
    /// Seed of the random streams (direction B→A uses a derived seed).
    pub seed: u64,
    /// Receives a copy of every frame written, both ways. Sent with
    /// `try_send`: a full channel loses captured copies, never frames.
    pub capture: Option<SyncSender<Captured>>,
    /// Busy-wait (polling without sleeping) for the last part of each wait
    /// before a release. Zero sleeps until the release; the default
    /// ([`LinkConfig::DEFAULT_SPIN`]) hides most of the wake-up latency of
    /// a virtual CPU at the cost of at most that much CPU time per wait
    /// (less in practice: the wake-up itself eats into it).
    pub spin: Duration,
    /// Run the link's thread in the real-time class `SCHED_FIFO` at this
    /// priority (needs root): woken, it preempts ordinary tasks at once
    /// instead of waiting up to a scheduler slice (milliseconds) behind
    /// them. To cap the harm, a thread that used more than [`RT_MAX_SHARE`]
    /// of a CPU over the last [`RT_WINDOW`], or whose process's real-time
    /// wire threads together used more than [`RT_MAX_TOTAL`], runs as an
    /// ordinary thread for the next window (a saturated link competes
    /// fairly with the processes it serves). `None`: always an ordinary
    /// thread. Failure to switch is ignored (the link still runs).
    pub realtime: Option<i32>,
}

impl LinkConfig {
    /// 100 us. A timer wake-up of an idle vCPU on the 2-vCPU test machine
    /// takes ~45 us (p50) and ~100 us (p99) for a real-time thread; the
    /// spin covers most of them and costs per release only what the
    /// wake-up did not already use up (2.7% of a CPU for 2000 frames/s
    /// held 50 ms). 200 us cost twice that and did not shorten the delay
    /// tail in bench/wire, which the wake-up on a frame's arrival sets.
    pub const DEFAULT_SPIN: Duration = Duration::from_micros(100);
    /// `SCHED_FIFO` priority of the wire threads by default: low, below
    /// the kernel's own real-time threads and any real-time daemon.
    pub const DEFAULT_REALTIME: i32 = 10;
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            a_to_b: Props::default(),
            b_to_a: Props::default(),
            seed: 0,
            capture: None,
            spin: Self::DEFAULT_SPIN,
            realtime: Some(Self::DEFAULT_REALTIME),
        }
    }
}

/// Counters of a link, per direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkCounters {
    pub a_to_b: Counters,
    pub b_to_a: Counters,
    /// Frames the egress TAP refused (device down or gone), per direction.
    pub a_to_b_write_errors: u64,
    pub b_to_a_write_errors: u64,
    pub a_to_b_lateness: Lateness,
    pub b_to_a_lateness: Lateness,
}

/// Upper bounds (ns) of the [`Lateness`] buckets; the last bucket is open.
pub const LATENESS_BOUNDS: [Nanos; 5] = [50_000, 100_000, 200_000, 500_000, 1_000_000];

/// How late frames were written compared to their release time, counted
/// in buckets `<= 50 us, <= 100 us, <= 200 us, <= 500 us, <= 1 ms, > 1 ms`
/// ([`LATENESS_BOUNDS`]). This is the wire's own timing error; a growing
/// last bucket means the machine is too loaded to keep the link's promises.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lateness {
    pub buckets: [u64; 6],
}

impl Lateness {
    /// The upper bound of the bucket that holds quantile `q` (0..=1), or
    /// `None` when it falls in the open last bucket or nothing was counted.
    pub fn quantile_bound(&self, q: f64) -> Option<Nanos> {
        let total: u64 = self.buckets.iter().sum();
        if total == 0 {
            return None;
        }
        let want = (q * total as f64).ceil() as u64;
        let mut seen = 0;
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= want {
                return LATENESS_BOUNDS.get(i).copied();
            }
        }
        None
    }
}

#[derive(Default)]
struct AtomicCounters {
    v: [AtomicU64; 17],
}

impl AtomicCounters {
    fn store(&self, c: &Counters, write_errors: u64, late: &Lateness) {
        let l = &late.buckets;
        let vals = [
            c.rx_packets,
            c.rx_bytes,
            c.tx_packets,
            c.tx_bytes,
            c.drop_loss,
            c.drop_queue,
            c.drop_down,
            c.drop_mtu,
            c.duplicated,
            c.corrupted,
            write_errors,
            l[0],
            l[1],
            l[2],
            l[3],
            l[4],
            l[5],
        ];
        for (slot, v) in self.v.iter().zip(vals) {
            slot.store(v, Relaxed);
        }
    }
    fn load(&self) -> (Counters, u64, Lateness) {
        let v: Vec<u64> = self.v.iter().map(|a| a.load(Relaxed)).collect();
        let c = Counters {
            rx_packets: v[0],
            rx_bytes: v[1],
            tx_packets: v[2],
            tx_bytes: v[3],
            drop_loss: v[4],
            drop_queue: v[5],
            drop_down: v[6],
            drop_mtu: v[7],
            duplicated: v[8],
            corrupted: v[9],
        };
        let mut late = Lateness::default();
        late.buckets.copy_from_slice(&v[11..17]);
        (c, v[10], late)
    }
}

#[derive(Default)]
struct Pending {
    /// New props per direction (index 0: A→B, 1: B→A).
    props: [Option<Props>; 2],
    capture: Option<Option<SyncSender<Captured>>>,
}

struct Side {
    /// The props last set (what [`LinkHandle::props`] reports).
    current: Mutex<Props>,
    counters: AtomicCounters,
}

struct Shared {
    stop: AtomicBool,
    /// True while the link's thread runs.
    running: AtomicBool,
    /// Wakes the thread for control changes and stop.
    wake: EventFd,
    pending: Mutex<Pending>,
    sides: [Side; 2],
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts links.
pub struct Link;

impl Link {
    /// Starts the thread of a link between `a` and `b`. The TAPs move into
    /// the link; [`LinkHandle::into_taps`] gives them back.
    pub fn start(a: Tap, b: Tap, config: LinkConfig) -> Result<LinkHandle, WireError> {
        config.a_to_b.validate()?;
        config.b_to_a.validate()?;
        let side = |props: &Props| Side {
            current: Mutex::new(props.clone()),
            counters: AtomicCounters::default(),
        };
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            running: AtomicBool::new(true),
            wake: EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)
                .map_err(|e| WireError::sys("create an eventfd", e))?,
            pending: Mutex::new(Pending::default()),
            sides: [side(&config.a_to_b), side(&config.b_to_a)],
        });
        let timer = TimerFd::new(
            TimerClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(|e| WireError::sys("create a timerfd", e))?;
        let taps = [Arc::new(a), Arc::new(b)];
        for (tap, props) in taps.iter().zip([&config.a_to_b, &config.b_to_a]) {
            tap.set_offload(props.is_frame_uniform())?;
            tap.set_carrier(props.up)?;
        }
        let name = format!("{}<>{}", taps[0].name(), taps[1].name());
        let lane = |i: usize, props: Props| Lane {
            dir: if i == 0 { Dir::AtoB } else { Dir::BtoA },
            sched: Direction::new(
                props,
                config.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ),
            write_errors: 0,
            late: Lateness::default(),
        };
        let worker = Worker {
            shared: shared.clone(),
            taps: taps.clone(),
            lanes: [lane(0, config.a_to_b), lane(1, config.b_to_a)],
            capture: config.capture,
            spin: config.spin.as_nanos() as u64,
            realtime: config.realtime,
            timer,
            armed: None,
            fifo: false,
            window: (0, 0),
            small: Vec::new(),
            large: Vec::new(),
            activity: crate::qos::Activity::new(),
            quiet_check: None,
        };
        // Linux keeps 15 bytes of a thread name; std truncates.
        let thread_name = format!("wire-{}={}", taps[0].name(), taps[1].name());
        let spawned = std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || worker.run());
        match spawned {
            Ok(t) => Ok(LinkHandle {
                name,
                shared,
                thread: Some(t),
                taps: Some(taps),
            }),
            Err(source) => Err(WireError::Io {
                what: "spawn a wire thread".into(),
                source,
            }),
        }
    }
}

/// Live control of a running link. Dropping it stops the link.
pub struct LinkHandle {
    name: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    taps: Option<[Arc<Tap>; 2]>,
}

impl std::fmt::Debug for LinkHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkHandle")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl LinkHandle {
    fn taps(&self) -> &[Arc<Tap>; 2] {
        self.taps
            .as_ref()
            .expect("taps are present until the handle is consumed")
    }

    fn wake(&self) -> Result<(), WireError> {
        if !self.shared.running.load(Relaxed) {
            return Err(WireError::Stopped(self.name.clone()));
        }
        self.shared
            .wake
            .write(1)
            .map(drop)
            .map_err(|e| WireError::sys("wake a wire thread", e))
    }

    /// Replaces the props of one or both directions. The thread applies
    /// them within microseconds (it is woken through its eventfd); frames
    /// already scheduled keep their release time, except that a direction
    /// going down drops what it holds. Invalid props change nothing. The
    /// carrier is not touched: a one-way `up: false` is an asymmetric
    /// failure the endpoints do not see.
    pub fn set_props(&self, dir: Dir, props: Props) -> Result<(), WireError> {
        props.validate()?;
        if !self.shared.running.load(Relaxed) {
            return Err(WireError::Stopped(self.name.clone()));
        }
        for &s in dir.sides() {
            // Offloads are a property of the ingress TAP; switch them before
            // the thread sees per-frame props so super-frames stop first.
            self.taps()[s].set_offload(props.is_frame_uniform())?;
            lock(&self.shared.pending).props[s] = Some(props.clone());
            *lock(&self.shared.sides[s].current) = props.clone();
        }
        self.wake()
    }

    /// The props last set for `dir` ([`Dir::Both`] reports A→B).
    pub fn props(&self, dir: Dir) -> Props {
        lock(&self.shared.sides[dir.sides()[0]].current).clone()
    }

    /// Takes the whole link down or up: both directions, and the carrier
    /// of both TAPs (the endpoints see `NO-CARRIER`, routing daemons react
    /// as to a pulled cable).
    pub fn set_up(&self, up: bool) -> Result<(), WireError> {
        for s in 0..2 {
            let props = Props {
                up,
                ..self.props(if s == 0 { Dir::AtoB } else { Dir::BtoA })
            };
            self.set_props(if s == 0 { Dir::AtoB } else { Dir::BtoA }, props)?;
        }
        for tap in self.taps() {
            tap.set_carrier(up)?;
        }
        Ok(())
    }

    /// Starts or stops sending copies of written frames to `capture`.
    pub fn set_capture(&self, capture: Option<SyncSender<Captured>>) -> Result<(), WireError> {
        lock(&self.shared.pending).capture = Some(capture);
        self.wake()
    }

    /// The counters as last published by the thread (at most one loop,
    /// i.e. one batch per direction or one timer wake-up, old).
    pub fn counters(&self) -> LinkCounters {
        let (a_to_b, a_to_b_write_errors, a_to_b_lateness) = self.shared.sides[0].counters.load();
        let (b_to_a, b_to_a_write_errors, b_to_a_lateness) = self.shared.sides[1].counters.load();
        LinkCounters {
            a_to_b,
            b_to_a,
            a_to_b_write_errors,
            b_to_a_write_errors,
            a_to_b_lateness,
            b_to_a_lateness,
        }
    }

    /// True while the link's thread runs (it ends when either TAP
    /// vanishes, e.g. because its namespace was deleted).
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Relaxed)
    }

    /// `"<a>" <> "<b>"`: the TAP names.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Relaxed);
        let _ = self.shared.wake.write(1);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Stops the thread; frames it held are discarded. The TAPs close
    /// (and vanish unless persistent).
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Stops the thread and hands the TAPs back, e.g. to restart the link
    /// with a new engine without the endpoints seeing the device vanish.
    pub fn into_taps(mut self) -> (Tap, Tap) {
        self.shutdown();
        let [a, b] = self
            .taps
            .take()
            .expect("taps are present until the handle is consumed");
        let unwrap = |t: Arc<Tap>| {
            Arc::try_unwrap(t).expect("the thread has ended, so nothing else holds the tap")
        };
        (unwrap(a), unwrap(b))
    }
}

impl Drop for LinkHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A frame buffer: `data` is always fully initialised; `len` bytes are used.
struct Frame {
    data: Vec<u8>,
    len: usize,
}

/// Length of the windows over which a real-time link measures its CPU
/// share ([`LinkConfig::realtime`]).
pub const RT_WINDOW: Nanos = 50_000_000;
/// The CPU share (of one CPU) above which a real-time link's thread runs
/// as an ordinary thread for the next [`RT_WINDOW`]: a busy link then
/// competes fairly with the processes it serves instead of starving them.
pub const RT_MAX_SHARE: f64 = 0.3;
/// The CPU share (of one CPU) that all real-time wire threads of the
/// process together may use: above it, every thread that ends a window
/// runs as an ordinary thread for the next one, so many busy links cannot
/// add up to a starved machine.
pub const RT_MAX_TOTAL: f64 = 0.5;

/// CPU time (ns) used by wire threads while in `SCHED_FIFO`: the window
/// being summed (start, sum) and the sum of the one before.
static RT_TOTAL: Mutex<(Nanos, Nanos, Nanos)> = Mutex::new((0, 0, 0));

/// Adds `used` ns of real-time CPU at `now`; returns the share of one CPU
/// used by all real-time wire threads over the last full or current window.
fn rt_total_share(now: Nanos, used: Nanos) -> f64 {
    let mut t = lock(&RT_TOTAL);
    if now >= t.0 + RT_WINDOW {
        let last = if now < t.0 + 2 * RT_WINDOW { t.1 } else { 0 };
        *t = (now, 0, last);
    }
    t.1 += used;
    t.1.max(t.2) as f64 / RT_WINDOW as f64
}

fn thread_cpu_now() -> Nanos {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(|ts| ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64)
        .unwrap_or(0)
}

fn mono_now() -> Nanos {
    let ts = clock_gettime(ClockId::CLOCK_MONOTONIC).expect("CLOCK_MONOTONIC is always readable");
    ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64
}

/// One direction as the thread drives it: frames read from `taps[i]` go
/// through lane `i` and are written to `taps[1 - i]`.
struct Lane {
    dir: Dir,
    sched: Direction<Frame>,
    write_errors: u64,
    late: Lateness,
}

/// What one `ppoll` reported for a TAP.
#[derive(Clone, Copy, Default)]
struct Ready {
    readable: bool,
    gone: bool,
}

struct Worker {
    shared: Arc<Shared>,
    taps: [Arc<Tap>; 2],
    lanes: [Lane; 2],
    capture: Option<SyncSender<Captured>>,
    spin: Nanos,
    realtime: Option<i32>,
    /// Fires `spin` before the next release (no timer slack, unlike a
    /// `ppoll` timeout).
    timer: TimerFd,
    /// The instant the timer is set for, if it is set and has not fired.
    armed: Option<Nanos>,
    /// True while the thread runs in `SCHED_FIFO`.
    fifo: bool,
    /// Start of the current CPU-share window: `CLOCK_MONOTONIC` and the
    /// thread's CPU time.
    window: (Nanos, Nanos),
    small: Vec<Frame>,
    large: Vec<Frame>,
    /// This link's part in keeping idle CPUs awake while frames cross.
    activity: crate::qos::Activity,
    /// When to look at `activity` again.
    quiet_check: Option<Nanos>,
}

impl Worker {
    fn run(mut self) {
        // No slack on the thread's own timers (the timerfd has none anyway).
        let _ = nix::sys::prctl::set_timerslack(1);
        if let Some(priority) = self.realtime {
            self.fifo = crate::tap::set_thread_fifo(Some(priority)).is_ok();
        }
        self.window = (mono_now(), thread_cpu_now());
        let hdr = [0, 1].map(|i| {
            if self.taps[i].vnet_hdr() {
                VNET_HDR_LEN
            } else {
                0
            }
        });
        let mut scratch = self.take_large();
        'run: loop {
            let now = mono_now();
            for (i, &h) in hdr.iter().enumerate() {
                self.release_due(i, now, h);
            }
            self.govern_class(now);
            self.quiet_check = self.activity.tick(now);
            self.publish();
            if self.shared.stop.load(Relaxed) {
                break;
            }
            let Ok((ready, wake, timer)) = self.wait() else {
                break;
            };
            if timer {
                let _ = nix::unistd::read(self.timer.as_fd(), &mut [0u8; 8]);
                self.armed = None;
            }
            if wake {
                self.apply_control();
            }
            for i in 0..2 {
                if ready[i].readable && !self.read_batch(i, &mut scratch, hdr[i]) {
                    break 'run;
                }
            }
            if ready.iter().any(|r| r.gone && !r.readable) {
                break;
            }
        }
        self.publish();
        self.shared.running.store(false, Relaxed);
    }

    /// Waits for a frame on either TAP, a control change, or the time to
    /// release the next frame: sleeps (timerfd) until `spin` before it,
    /// then polls without sleeping until it is due. The timer also wakes
    /// the thread when the link's wake-up latency request may end
    /// ([`crate::qos`]).
    fn wait(&mut self) -> Result<([Ready; 2], bool, bool), Errno> {
        let next = self
            .lanes
            .iter()
            .filter_map(|l| l.sched.next_release())
            .map(|t| t.saturating_sub(self.spin))
            .chain(self.quiet_check)
            .min();
        let mut timeout = None;
        if let Some(wake_at) = next {
            if wake_at <= mono_now() {
                timeout = Some(TimeSpec::new(0, 0));
            } else if self.armed != Some(wake_at) {
                let at = TimeSpec::from_duration(Duration::from_nanos(wake_at));
                self.timer.set(
                    Expiration::OneShot(at),
                    TimerSetTimeFlags::TFD_TIMER_ABSTIME,
                )?;
                self.armed = Some(wake_at);
            }
        }
        let mut fds = [
            PollFd::new(self.taps[0].as_fd(), PollFlags::POLLIN),
            PollFd::new(self.taps[1].as_fd(), PollFlags::POLLIN),
            PollFd::new(self.shared.wake.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.timer.as_fd(), PollFlags::POLLIN),
        ];
        match ppoll(&mut fds, timeout, None) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
        let rev = |i: usize| fds[i].revents().unwrap_or(PollFlags::empty());
        let tap = |i: usize| Ready {
            readable: rev(i).contains(PollFlags::POLLIN),
            gone: rev(i).intersects(PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL),
        };
        Ok((
            [tap(0), tap(1)],
            rev(2).contains(PollFlags::POLLIN),
            rev(3).contains(PollFlags::POLLIN),
        ))
    }

    /// With [`LinkConfig::realtime`]: at the end of each [`RT_WINDOW`],
    /// leaves `SCHED_FIFO` when the thread used more than
    /// [`RT_MAX_SHARE`] of a CPU in it or all real-time wire threads more
    /// than [`RT_MAX_TOTAL`], and returns to it when both are below.
    fn govern_class(&mut self, now: Nanos) {
        let Some(priority) = self.realtime else {
            return;
        };
        let (start, cpu_start) = self.window;
        if now < start + RT_WINDOW {
            return;
        }
        let cpu = thread_cpu_now();
        let used = cpu.saturating_sub(cpu_start);
        let busy = used as f64 / (now - start) as f64;
        let total = rt_total_share(now, if self.fifo { used } else { 0 });
        let want = busy <= RT_MAX_SHARE && total <= RT_MAX_TOTAL;
        if want != self.fifo && crate::tap::set_thread_fifo(want.then_some(priority)).is_ok() {
            self.fifo = want;
        }
        self.window = (now, cpu);
    }

    fn publish(&self) {
        for (side, lane) in self.shared.sides.iter().zip(&self.lanes) {
            side.counters
                .store(&lane.sched.counters(), lane.write_errors, &lane.late);
        }
    }

    fn apply_control(&mut self) {
        let _ = self.shared.wake.read();
        let pending = std::mem::take(&mut *lock(&self.shared.pending));
        if let Some(capture) = pending.capture {
            self.capture = capture;
        }
        for (i, props) in pending.props.into_iter().enumerate() {
            if let Some(props) = props {
                for f in self.lanes[i].sched.set_props(props) {
                    self.recycle(f);
                }
            }
        }
    }

    fn take_large(&mut self) -> Frame {
        self.large.pop().unwrap_or_else(|| Frame {
            data: vec![0; LARGE],
            len: 0,
        })
    }

    fn recycle(&mut self, f: Frame) {
        if f.data.len() == LARGE {
            if self.large.len() < POOL_LARGE {
                self.large.push(f);
            }
        } else if self.small.len() < POOL_SMALL {
            self.small.push(f);
        }
    }

    /// Reads up to [`BATCH`] frames from TAP `i` into lane `i`; false when
    /// the TAP is gone.
    fn read_batch(&mut self, i: usize, scratch: &mut Frame, hdr: usize) -> bool {
        for _ in 0..BATCH {
            let n = match nix::unistd::read(self.taps[i].as_fd(), &mut scratch.data) {
                Ok(n) => n,
                Err(Errno::EAGAIN) | Err(Errno::EINTR) => return true,
                Err(_) => return false,
            };
            if n <= hdr {
                continue;
            }
            let now = mono_now();
            self.activity.frame(now);
            let wire_len = wire_len(&scratch.data[..n], hdr);
            let frame = if n <= SMALL {
                let mut f = self.small.pop().unwrap_or_else(|| Frame {
                    data: vec![0; SMALL],
                    len: 0,
                });
                f.data[..n].copy_from_slice(&scratch.data[..n]);
                f.len = n;
                f
            } else {
                let fresh = self.take_large();
                let mut f = std::mem::replace(scratch, fresh);
                f.len = n;
                f
            };
            if let (_, Some(dropped)) = self.lanes[i].sched.enqueue(now, frame, wire_len) {
                self.recycle(dropped);
            }
        }
        true
    }

    /// Writes every frame of lane `i` that is due at `now`.
    fn release_due(&mut self, i: usize, now: Nanos, hdr: usize) {
        while let Some(r) = self.lanes[i].sched.pop_due(now) {
            self.write(i, r, hdr);
        }
    }

    fn write(&mut self, i: usize, r: Released<Frame>, hdr: usize) {
        let late = mono_now().saturating_sub(r.release_at);
        let bucket = LATENESS_BOUNDS
            .iter()
            .position(|&b| late <= b)
            .unwrap_or(LATENESS_BOUNDS.len());
        let lane = &mut self.lanes[i];
        lane.late.buckets[bucket] += 1;
        let mut f = r.frame;
        if let Some(word) = r.corrupt {
            corrupt(&mut f.data[..f.len], hdr, word);
        }
        let copies = if r.duplicate { 2 } else { 1 };
        for _ in 0..copies {
            if nix::unistd::write(self.taps[1 - i].as_fd(), &f.data[..f.len]).is_err() {
                lane.write_errors += 1;
            }
        }
        if let Some(tx) = &self.capture {
            let frame = f.data[hdr..f.len].to_vec();
            let captured = Captured {
                at: SystemTime::now(),
                mono: mono_now(),
                dir: lane.dir,
                frame,
            };
            for _ in 0..copies {
                if tx.try_send(captured.clone()).is_err() {
                    break;
                }
            }
        }
        self.recycle(f);
    }
}

/// The bytes a frame occupies on a real link: a GSO super-frame counts the
/// headers of each segment it stands for.
fn wire_len(buf: &[u8], hdr: usize) -> u32 {
    let frame_len = buf.len() - hdr;
    if hdr == 0 || buf[1] == VIRTIO_NET_HDR_GSO_NONE {
        return frame_len as u32;
    }
    let hdr_len = u16::from_ne_bytes([buf[2], buf[3]]) as usize;
    let gso_size = u16::from_ne_bytes([buf[4], buf[5]]) as usize;
    if gso_size == 0 || hdr_len >= frame_len {
        return frame_len as u32;
    }
    let segments = (frame_len - hdr_len).div_ceil(gso_size);
    (frame_len + (segments - 1) * hdr_len) as u32
}

/// Flips one bit of the payload beyond the Ethernet header. A frame whose
/// checksum the kernel left to "hardware" gets it computed first, and no
/// frame keeps the "checksum verified" mark, so the receiver sees a frame
/// with a wrong checksum, as after a real bit error.
fn corrupt(buf: &mut [u8], hdr: usize, word: u64) {
    if hdr > 0 {
        if buf[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM != 0 {
            let start = u16::from_ne_bytes([buf[6], buf[7]]) as usize;
            let offset = u16::from_ne_bytes([buf[8], buf[9]]) as usize;
            let frame = &mut buf[hdr..];
            if start + offset + 2 <= frame.len() {
                let sum = !fold(checksum_add(0, &frame[start..]));
                frame[start + offset..start + offset + 2].copy_from_slice(&sum.to_be_bytes());
            }
        }
        buf[0] &= !(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID);
    }
    let payload = &mut buf[hdr + ETHERNET_HEADER as usize..];
    if let Some((byte, mask)) = corrupt_bit(word, payload.len()) {
        payload[byte] ^= mask;
    }
}

fn checksum_add(mut sum: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(u16::from_be_bytes([*last, 0]));
    }
    sum
}

fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rt_total_share_sums_threads_over_a_window() {
        let t0 = 1_000 * RT_WINDOW;
        assert_eq!(rt_total_share(t0, 0), 0.0);
        rt_total_share(t0 + 1, RT_WINDOW / 5);
        let share = rt_total_share(t0 + 2, RT_WINDOW / 5);
        assert!((share - 0.4).abs() < 1e-9, "{share}");
        // In the next window the previous sum still counts...
        let share = rt_total_share(t0 + RT_WINDOW + 5, 0);
        assert!((share - 0.4).abs() < 1e-9, "{share}");
        // ...and after a quiet window it is forgotten.
        assert_eq!(rt_total_share(t0 + 3 * RT_WINDOW + 10, 0), 0.0);
    }

    #[test]
    fn wire_len_counts_segment_headers() {
        let mut buf = vec![0u8; VNET_HDR_LEN + 66 + 3 * 1448];
        assert_eq!(wire_len(&buf, VNET_HDR_LEN), (66 + 3 * 1448) as u32);
        buf[1] = 1; // TCPv4
        buf[2..4].copy_from_slice(&66u16.to_ne_bytes());
        buf[4..6].copy_from_slice(&1448u16.to_ne_bytes());
        assert_eq!(wire_len(&buf, VNET_HDR_LEN), 3 * (66 + 1448) as u32);
        assert_eq!(wire_len(&buf[VNET_HDR_LEN..], 0), (66 + 3 * 1448) as u32);
    }

    #[test]
    fn corrupt_finishes_the_checksum_then_flips_one_bit() {
        // vnet header asking for a checksum over bytes 14.. stored at 14+6.
        let mut buf = vec![0u8; VNET_HDR_LEN + 40];
        buf[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
        buf[6..8].copy_from_slice(&14u16.to_ne_bytes());
        buf[8..10].copy_from_slice(&6u16.to_ne_bytes());
        for (i, b) in buf[VNET_HDR_LEN + 14..].iter_mut().enumerate() {
            *b = i as u8;
        }
        buf[VNET_HDR_LEN + 20] = 0;
        buf[VNET_HDR_LEN + 21] = 0;
        let mut clean = buf.clone();
        corrupt(&mut clean, VNET_HDR_LEN, u64::MAX); // compute, flip a bit
        assert_eq!(clean[0], 0);
        // The stored checksum verifies over the uncorrupted data...
        let mut fixed = clean.clone();
        let diff: Vec<usize> = (0..buf.len())
            .filter(|&i| {
                i >= VNET_HDR_LEN + 14
                    && i != VNET_HDR_LEN + 20
                    && i != VNET_HDR_LEN + 21
                    && buf[i] != clean[i]
            })
            .collect();
        assert_eq!(diff.len(), 1, "exactly one payload byte differs");
        fixed[diff[0]] = buf[diff[0]];
        assert_eq!(fold(checksum_add(0, &fixed[VNET_HDR_LEN + 14..])), 0xffff);
        // ...and fails over the corrupted data.
        assert_ne!(fold(checksum_add(0, &clean[VNET_HDR_LEN + 14..])), 0xffff);
    }
}
