//! The runtime: moves frames between the two [`Tap`]s of a link through two
//! [`Direction`]s.
//!
//! # Threading model
//! One dedicated OS thread per direction (`wire-<a>>` / `wire-<b>>`). Each
//! thread owns its `Direction` and the frames it holds, and loops:
//! 1. write every frame that is due to the egress TAP (duplicates twice,
//!    corrupted ones with a bit flipped, a copy to the capture channel);
//! 2. `ppoll` the ingress TAP and its wake-up eventfd with a timeout until
//!    the next release (timer slack set to 1 ns, so the kernel's hrtimer
//!    fires within tens of microseconds, not the default 50 us slack plus
//!    the 1 ms resolution of async runtimes);
//! 3. apply pending control changes (props, capture) when woken;
//! 4. read up to [`BATCH`] frames without blocking, stamp each with
//!    `CLOCK_MONOTONIC` and offer it to the `Direction`.
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
    /// ([`LinkConfig::DEFAULT_SPIN`]) removes most of the wake-up latency of
    /// a virtual CPU at the cost of at most that much CPU time per wait.
    pub spin: Duration,
    /// Run the two threads in the real-time class `SCHED_FIFO` at this
    /// priority (needs root). They then preempt ordinary tasks at once and
    /// get no timer slack; a saturated link can take up to the kernel's
    /// real-time share (95%) of a CPU. `None` (the default): ordinary
    /// threads. Failure to switch is ignored (the link still runs).
    pub realtime: Option<i32>,
}

impl LinkConfig {
    /// 50 us: on the 2-vCPU test machine under compile load this took the
    /// p99 delay error at 50 ms from over 1 ms to under 200 us.
    pub const DEFAULT_SPIN: Duration = Duration::from_micros(50);
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            a_to_b: Props::default(),
            b_to_a: Props::default(),
            seed: 0,
            capture: None,
            spin: Self::DEFAULT_SPIN,
            realtime: None,
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
    props: Option<Props>,
    capture: Option<Option<SyncSender<Captured>>>,
}

struct Side {
    wake: EventFd,
    pending: Mutex<Pending>,
    /// The props last set (what [`LinkHandle::props`] reports).
    current: Mutex<Props>,
    counters: AtomicCounters,
    running: AtomicBool,
}

struct Shared {
    stop: AtomicBool,
    sides: [Side; 2],
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts links.
pub struct Link;

impl Link {
    /// Starts the two threads of a link between `a` and `b`. The TAPs move
    /// into the link; [`LinkHandle::into_taps`] gives them back.
    pub fn start(a: Tap, b: Tap, config: LinkConfig) -> Result<LinkHandle, WireError> {
        config.a_to_b.validate()?;
        config.b_to_a.validate()?;
        let side = |props: &Props| -> Result<Side, WireError> {
            Ok(Side {
                wake: EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)
                    .map_err(|e| WireError::sys("create an eventfd", e))?,
                pending: Mutex::new(Pending::default()),
                current: Mutex::new(props.clone()),
                counters: AtomicCounters::default(),
                running: AtomicBool::new(true),
            })
        };
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            sides: [side(&config.a_to_b)?, side(&config.b_to_a)?],
        });
        let taps = [Arc::new(a), Arc::new(b)];
        for (tap, props) in taps.iter().zip([&config.a_to_b, &config.b_to_a]) {
            tap.set_offload(props.is_frame_uniform())?;
            tap.set_carrier(props.up)?;
        }
        let name = format!("{}<>{}", taps[0].name(), taps[1].name());
        let mut threads = Vec::with_capacity(2);
        for (i, props) in [config.a_to_b, config.b_to_a].into_iter().enumerate() {
            let worker = Worker {
                side: i,
                dir: if i == 0 { Dir::AtoB } else { Dir::BtoA },
                shared: shared.clone(),
                ingress: taps[i].clone(),
                egress: taps[1 - i].clone(),
                sched: Direction::new(
                    props,
                    config.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                ),
                capture: config.capture.clone(),
                spin: config.spin.as_nanos() as u64,
                realtime: config.realtime,
                small: Vec::new(),
                large: Vec::new(),
                write_errors: 0,
                late: Lateness::default(),
            };
            let thread_name = format!("wire-{}>", taps[i].name());
            let spawned = std::thread::Builder::new()
                .name(thread_name)
                .spawn(move || worker.run());
            match spawned {
                Ok(t) => threads.push(t),
                Err(source) => {
                    let mut handle = LinkHandle {
                        name,
                        shared,
                        threads,
                        taps: Some(taps),
                    };
                    handle.shutdown();
                    return Err(WireError::Io {
                        what: "spawn a wire thread".into(),
                        source,
                    });
                }
            }
        }
        Ok(LinkHandle {
            name,
            shared,
            threads,
            taps: Some(taps),
        })
    }
}

/// Live control of a running link. Dropping it stops the link.
pub struct LinkHandle {
    name: String,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
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

    fn wake(&self, side: usize) -> Result<(), WireError> {
        if !self.shared.sides[side].running.load(Relaxed) {
            return Err(WireError::Stopped(self.name.clone()));
        }
        self.shared.sides[side]
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
        for &s in dir.sides() {
            let side = &self.shared.sides[s];
            // Offloads are a property of the ingress TAP; switch them before
            // the thread sees per-frame props so super-frames stop first.
            self.taps()[s].set_offload(props.is_frame_uniform())?;
            lock(&side.pending).props = Some(props.clone());
            *lock(&side.current) = props.clone();
            self.wake(s)?;
        }
        Ok(())
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
        for s in 0..2 {
            lock(&self.shared.sides[s].pending).capture = Some(capture.clone());
            self.wake(s)?;
        }
        Ok(())
    }

    /// The counters as last published by the threads (at most one loop,
    /// i.e. one batch or one timer wake-up, old).
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

    /// True while both threads run (a thread ends when its TAP vanishes,
    /// e.g. because its namespace was deleted).
    pub fn is_running(&self) -> bool {
        self.shared.sides.iter().all(|s| s.running.load(Relaxed))
    }

    /// `"<a>" <> "<b>"`: the TAP names.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Relaxed);
        for side in &self.shared.sides {
            let _ = side.wake.write(1);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// Stops both threads; frames they held are discarded. The TAPs close
    /// (and vanish unless persistent).
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Stops both threads and hands the TAPs back, e.g. to restart the link
    /// with a new engine without the endpoints seeing the device vanish.
    pub fn into_taps(mut self) -> (Tap, Tap) {
        self.shutdown();
        let [a, b] = self
            .taps
            .take()
            .expect("taps are present until the handle is consumed");
        let unwrap = |t: Arc<Tap>| {
            Arc::try_unwrap(t).expect("threads have ended, so nothing else holds the tap")
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

fn mono_now() -> Nanos {
    let ts = clock_gettime(ClockId::CLOCK_MONOTONIC).expect("CLOCK_MONOTONIC is always readable");
    ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64
}

struct Worker {
    side: usize,
    dir: Dir,
    shared: Arc<Shared>,
    ingress: Arc<Tap>,
    egress: Arc<Tap>,
    sched: Direction<Frame>,
    capture: Option<SyncSender<Captured>>,
    spin: Nanos,
    realtime: Option<i32>,
    small: Vec<Frame>,
    large: Vec<Frame>,
    write_errors: u64,
    late: Lateness,
}

impl Worker {
    fn run(mut self) {
        // Precise wake-ups: the default slack of 50 us would be added to
        // every timed ppoll.
        let _ = nix::sys::prctl::set_timerslack(1);
        if let Some(priority) = self.realtime {
            let _ = crate::tap::set_thread_fifo(priority);
        }
        let hdr = if self.ingress.vnet_hdr() {
            VNET_HDR_LEN
        } else {
            0
        };
        let mut scratch = self.take_large();
        loop {
            self.release_due(hdr);
            self.publish();
            if self.shared.stop.load(Relaxed) {
                break;
            }
            let timeout = self.sched.next_release().map(|t| {
                let d = Duration::from_nanos(poll_timeout(t.saturating_sub(mono_now()), self.spin));
                TimeSpec::from_duration(d)
            });
            let (ready_in, ready_wake, gone) = {
                let side = &self.shared.sides[self.side];
                let mut fds = [
                    PollFd::new(self.ingress.as_fd(), PollFlags::POLLIN),
                    PollFd::new(side.wake.as_fd(), PollFlags::POLLIN),
                ];
                match ppoll(&mut fds, timeout, None) {
                    Ok(_) | Err(Errno::EINTR) => {}
                    Err(_) => break,
                }
                let rin = fds[0].revents().unwrap_or(PollFlags::empty());
                let rwake = fds[1].revents().unwrap_or(PollFlags::empty());
                (
                    rin.contains(PollFlags::POLLIN),
                    rwake.contains(PollFlags::POLLIN),
                    rin.intersects(PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL),
                )
            };
            if ready_wake {
                self.apply_control();
            }
            if ready_in && !self.read_batch(&mut scratch, hdr) {
                break;
            }
            if gone && !ready_in {
                break;
            }
        }
        self.publish();
        self.shared.sides[self.side].running.store(false, Relaxed);
    }

    fn publish(&self) {
        self.shared.sides[self.side].counters.store(
            &self.sched.counters(),
            self.write_errors,
            &self.late,
        );
    }

    fn apply_control(&mut self) {
        let side = &self.shared.sides[self.side];
        let _ = side.wake.read();
        let pending = std::mem::take(&mut *lock(&side.pending));
        if let Some(capture) = pending.capture {
            self.capture = capture;
        }
        if let Some(props) = pending.props {
            for f in self.sched.set_props(props) {
                self.recycle(f);
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

    /// Reads up to [`BATCH`] frames; false when the TAP is gone.
    fn read_batch(&mut self, scratch: &mut Frame, hdr: usize) -> bool {
        for _ in 0..BATCH {
            let n = match nix::unistd::read(self.ingress.as_fd(), &mut scratch.data) {
                Ok(n) => n,
                Err(Errno::EAGAIN) | Err(Errno::EINTR) => return true,
                Err(_) => return false,
            };
            if n <= hdr {
                continue;
            }
            let now = mono_now();
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
            if let (_, Some(dropped)) = self.sched.enqueue(now, frame, wire_len) {
                self.recycle(dropped);
            }
        }
        true
    }

    fn release_due(&mut self, hdr: usize) {
        let now = mono_now();
        while let Some(r) = self.sched.pop_due(now) {
            self.write(r, hdr);
        }
    }

    fn write(&mut self, r: Released<Frame>, hdr: usize) {
        let late = mono_now().saturating_sub(r.release_at);
        let bucket = LATENESS_BOUNDS
            .iter()
            .position(|&b| late <= b)
            .unwrap_or(LATENESS_BOUNDS.len());
        self.late.buckets[bucket] += 1;
        let mut f = r.frame;
        if let Some(word) = r.corrupt {
            corrupt(&mut f.data[..f.len], hdr, word);
        }
        let copies = if r.duplicate { 2 } else { 1 };
        for _ in 0..copies {
            if nix::unistd::write(self.egress.as_fd(), &f.data[..f.len]).is_err() {
                self.write_errors += 1;
            }
        }
        if let Some(tx) = &self.capture {
            let frame = f.data[hdr..f.len].to_vec();
            let captured = Captured {
                at: SystemTime::now(),
                mono: mono_now(),
                dir: self.dir,
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

/// How long to sleep in `ppoll` when the next release is `rem` ns away.
/// The kernel gives `poll`-family timeouts a slack of 0.1% of the timeout
/// (whatever the thread's timer slack; 50 us for a 50 ms wait), so the
/// sleep is shortened by that much: the thread wakes early, finds nothing
/// due and sleeps again for the short rest, whose slack is negligible. The
/// last `spin` ns are not slept at all.
fn poll_timeout(rem: Nanos, spin: Nanos) -> Nanos {
    let t = rem.saturating_sub(spin);
    t - t / 1000 - (t / 1000).min(1)
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
