//! The pure core of the wire: one [`Direction`] of a link decides, for each
//! frame, whether it is dropped and when it leaves.
//!
//! No I/O, no clock, no global randomness: time is passed in as [`Nanos`]
//! (nanoseconds since any fixed epoch; the runtime uses `CLOCK_MONOTONIC`),
//! and randomness comes from a [`Rng`] seeded by the caller and owned by the
//! direction, so the same seed and the same arrivals give the same decisions.
//!
//! The direction holds the frames it has scheduled (it is generic over the
//! frame type `F`; the runtime stores its pooled buffers here) and hands them
//! back from [`Direction::pop_due`] once their release time has come.
//!
//! # The model of a link direction
//! A frame that arrives at `now` with `len` bytes goes through, in order:
//! 1. **state**: `up == false` drops it (cause [`DropCause::Down`]);
//! 2. **mtu**: a frame longer than `mtu + 14` bytes (the Ethernet header) is
//!    dropped (cause [`DropCause::Mtu`]);
//! 3. **loss**: [`Loss::Random`] (Bernoulli) or [`Loss::Gilbert`]
//!    (Gilbert–Elliott; the chain moves one step per arriving frame, then
//!    the frame is lost with the probability of the new state);
//! 4. **queue**: with a `rate`, frames wait for the serialiser; when the
//!    frames still waiting or being serialised at `now` reach the
//!    [`QueueLimit`] the frame is dropped (cause [`DropCause::Queue`]).
//!    Without a rate nothing waits, so only the safety cap
//!    [`HELD_BYTES_CAP`] on everything held by the direction applies;
//! 5. **serialisation**: transmission ends at
//!    `max(now, busy_until) + len * 8 / rate` (`now` without a rate);
//! 6. **propagation**: `delay` plus a jitter sample (uniform in
//!    `[-jitter, +jitter]` or normal with standard deviation `jitter`),
//!    clipped so the per-frame delay is never negative;
//! 7. **order**: unless `reorder` is set, the release time is raised to the
//!    latest release time scheduled so far, so frames leave in the order
//!    they came, as on a real serial link (netem instead reorders frames
//!    whenever jitter exceeds their spacing). With `reorder` frames leave
//!    in order of their own release times;
//! 8. **duplicate** and **corrupt** are decided (Bernoulli); the runtime
//!    writes a duplicate twice and flips one bit of a corrupted frame's
//!    payload beyond the Ethernet header, using [`Released::corrupt`] as
//!    the random word that chooses the bit.
//!
//! Changing the properties ([`Direction::set_props`]) applies to the next
//! frame; frames already scheduled keep their release time, except that
//! taking the direction down drops every frame it holds (they were "on the
//! cable"), counted as [`DropCause::Down`].

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

/// Nanoseconds since an epoch chosen by the caller.
pub type Nanos = u64;

/// Default queue limit: 1000 packets waiting for serialisation (what Linux
/// gives a device's default `txqueuelen`).
pub const DEFAULT_QUEUE: QueueLimit = QueueLimit::Packets(1000);

/// Safety cap on the bytes one direction holds (waiting and in flight
/// together), whatever its properties: 256 MiB is 1 s at 2 Gbit/s. Frames
/// beyond it are dropped with [`DropCause::Queue`].
pub const HELD_BYTES_CAP: u64 = 256 << 20;

/// Length of the Ethernet header that `mtu` does not count.
pub const ETHERNET_HEADER: u32 = 14;

/// How frames are lost.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Loss {
    /// No loss.
    #[default]
    None,
    /// Each frame is lost with probability `p` (0..=1), independently.
    Random { p: f64 },
    /// Gilbert–Elliott: a two-state Markov chain that moves good→bad with
    /// probability `p` and bad→good with probability `r` per frame; a frame
    /// is lost with probability `h` in the bad state and `k` in the good
    /// one. Mean loss is `p/(p+r)*h + r/(p+r)*k`; with `h = 1, k = 0` loss
    /// bursts last `1/r` frames on average.
    Gilbert { p: f64, r: f64, h: f64, k: f64 },
}

impl Loss {
    /// The Gilbert model with the usual defaults: `h = 1` (every frame in
    /// the bad state is lost), `k = 0` (none in the good state).
    pub fn gilbert(p: f64, r: f64) -> Self {
        Loss::Gilbert {
            p,
            r,
            h: 1.0,
            k: 0.0,
        }
    }

    /// The long-run fraction of frames lost.
    pub fn mean(&self) -> f64 {
        match *self {
            Loss::None => 0.0,
            Loss::Random { p } => p,
            Loss::Gilbert { p, r, h, k } => {
                if p + r == 0.0 {
                    k
                } else {
                    p / (p + r) * h + r / (p + r) * k
                }
            }
        }
    }
}

/// How many frames may wait for serialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueLimit {
    /// At most this many frames.
    Packets(u32),
    /// At most this many bytes.
    Bytes(u64),
}

impl Default for QueueLimit {
    fn default() -> Self {
        DEFAULT_QUEUE
    }
}

/// The distribution of the jitter sample added to `delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JitterDist {
    /// Uniform in `[-jitter, +jitter]` (netem's default).
    #[default]
    Uniform,
    /// Normal with mean 0 and standard deviation `jitter`.
    Normal,
}

/// The properties of one direction of a link.
#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Variation of the delay; see [`JitterDist`].
    pub jitter: Duration,
    pub jitter_dist: JitterDist,
    /// Let jitter reorder frames (off: frames leave in arrival order).
    pub reorder: bool,
    pub loss: Loss,
    /// Probability (0..=1) that a frame is delivered twice.
    pub duplicate: f64,
    /// Probability (0..=1) that one bit of a frame is flipped.
    pub corrupt: f64,
    /// Link rate in bits per second; `None` is unlimited.
    pub rate: Option<u64>,
    /// Limit of the serialisation queue (only meaningful with a `rate`).
    pub queue: QueueLimit,
    /// Largest payload beyond the Ethernet header; `None` is unlimited.
    pub mtu: Option<u32>,
    /// A direction that is down drops everything.
    pub up: bool,
}

impl Default for Props {
    fn default() -> Self {
        Props {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            jitter_dist: JitterDist::Uniform,
            reorder: false,
            loss: Loss::None,
            duplicate: 0.0,
            corrupt: 0.0,
            rate: None,
            queue: DEFAULT_QUEUE,
            mtu: None,
            up: true,
        }
    }
}

/// A property value the wire cannot apply.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PropsError {
    #[error("{field} must be a probability between 0 and 1, not {value}")]
    Probability { field: &'static str, value: f64 },
    #[error("rate must be at least 1 bit/s")]
    ZeroRate,
    #[error("queue limit must be at least 1 {0}")]
    ZeroQueue(&'static str),
    #[error("mtu {0} is below the minimum of 68")]
    SmallMtu(u32),
}

impl Props {
    /// Checks every value; the wire applies only props that pass.
    pub fn validate(&self) -> Result<(), PropsError> {
        let prob = |field: &'static str, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(PropsError::Probability { field, value })
            }
        };
        match self.loss {
            Loss::None => {}
            Loss::Random { p } => prob("loss", p)?,
            Loss::Gilbert { p, r, h, k } => {
                prob("gilbert p", p)?;
                prob("gilbert r", r)?;
                prob("gilbert h", h)?;
                prob("gilbert k", k)?;
            }
        }
        prob("duplicate", self.duplicate)?;
        prob("corrupt", self.corrupt)?;
        if self.rate == Some(0) {
            return Err(PropsError::ZeroRate);
        }
        match self.queue {
            QueueLimit::Packets(0) => return Err(PropsError::ZeroQueue("packet")),
            QueueLimit::Bytes(0) => return Err(PropsError::ZeroQueue("byte")),
            _ => {}
        }
        if let Some(mtu) = self.mtu {
            if mtu < 68 {
                return Err(PropsError::SmallMtu(mtu));
            }
        }
        Ok(())
    }

    /// True when every frame is treated alike, so the runtime may carry
    /// multi-segment (GSO) super-frames: no loss, duplication, corruption or
    /// MTU check, and no rate below 1 Gbit/s (where one 64 KiB super-frame
    /// would take over half a millisecond to serialise).
    pub fn is_frame_uniform(&self) -> bool {
        self.loss == Loss::None
            && self.duplicate == 0.0
            && self.corrupt == 0.0
            && self.mtu.is_none()
            && self.rate.is_none_or(|r| r >= 1_000_000_000)
    }
}

/// Why a frame was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropCause {
    /// The loss model chose it.
    Loss,
    /// The serialisation queue (or the safety cap) was full.
    Queue,
    /// The direction is down.
    Down,
    /// The frame is larger than the MTU.
    Mtu,
}

/// What happens to an arriving frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The frame was dropped; `enqueue` hands it back beside the verdict.
    Dropped { cause: DropCause },
    /// The frame is held until `release_at`.
    Scheduled {
        release_at: Nanos,
        duplicate: bool,
        corrupt: bool,
    },
}

/// Counters of one direction, all monotonically increasing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames and bytes offered to the direction.
    pub rx_packets: u64,
    pub rx_bytes: u64,
    /// Frames and bytes released (forwarded), duplicates not counted.
    pub tx_packets: u64,
    pub tx_bytes: u64,
    pub drop_loss: u64,
    pub drop_queue: u64,
    pub drop_down: u64,
    pub drop_mtu: u64,
    /// Extra copies released.
    pub duplicated: u64,
    /// Frames released with a flipped bit.
    pub corrupted: u64,
}

impl Counters {
    /// All drops, whatever the cause.
    pub fn drops(&self) -> u64 {
        self.drop_loss + self.drop_queue + self.drop_down + self.drop_mtu
    }

    fn count_drop(&mut self, cause: DropCause) {
        match cause {
            DropCause::Loss => self.drop_loss += 1,
            DropCause::Queue => self.drop_queue += 1,
            DropCause::Down => self.drop_down += 1,
            DropCause::Mtu => self.drop_mtu += 1,
        }
    }
}

/// A frame whose release time has come.
#[derive(Debug)]
pub struct Released<F> {
    pub frame: F,
    pub len: u32,
    /// When it was due (`<=` the `now` it was popped at).
    pub release_at: Nanos,
    /// Write it twice.
    pub duplicate: bool,
    /// `Some(word)`: flip one bit, chosen by `word`, of the payload beyond
    /// the Ethernet header (see [`corrupt_bit`]).
    pub corrupt: Option<u64>,
}

/// Which bit of a payload of `payload_len` bytes a corruption word chooses.
pub fn corrupt_bit(word: u64, payload_len: usize) -> Option<(usize, u8)> {
    if payload_len == 0 {
        return None;
    }
    let bit = (word % (payload_len as u64 * 8)) as usize;
    Some((bit / 8, 1u8 << (bit % 8)))
}

struct Held<F> {
    release_at: Nanos,
    seq: u64,
    frame: F,
    len: u32,
    duplicate: bool,
    corrupt: Option<u64>,
}

impl<F> PartialEq for Held<F> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<F> Eq for Held<F> {}
impl<F> PartialOrd for Held<F> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<F> Ord for Held<F> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.release_at, self.seq).cmp(&(other.release_at, other.seq))
    }
}

/// One direction of a link: its properties, its random state, the frames it
/// holds and its counters.
pub struct Direction<F> {
    props: Props,
    rng: Rng,
    /// Gilbert–Elliott state: true when bad.
    bad: bool,
    /// When the serialiser becomes free.
    busy_until: Nanos,
    /// Transmission end and length of frames still in the serialiser, in order.
    serial: VecDeque<(Nanos, u32)>,
    serial_bytes: u64,
    /// Latest release time scheduled (for order preservation).
    last_release: Nanos,
    held: BinaryHeap<Reverse<Held<F>>>,
    held_bytes: u64,
    seq: u64,
    counters: Counters,
}

impl<F> Direction<F> {
    /// A direction with `props` (call [`Props::validate`] first: invalid
    /// probabilities are clamped) and a random stream from `seed`.
    pub fn new(props: Props, seed: u64) -> Self {
        Direction {
            props,
            rng: Rng::new(seed),
            bad: false,
            busy_until: 0,
            serial: VecDeque::new(),
            serial_bytes: 0,
            last_release: 0,
            held: BinaryHeap::new(),
            held_bytes: 0,
            seq: 0,
            counters: Counters::default(),
        }
    }

    pub fn props(&self) -> &Props {
        &self.props
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Frames held (waiting or in flight).
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Replaces the properties for the frames that arrive from now on.
    /// Taking the direction down drops what it holds; those frames are
    /// returned so the caller can recycle them.
    pub fn set_props(&mut self, props: Props) -> Vec<F> {
        let going_down = self.props.up && !props.up;
        self.props = props;
        if !going_down {
            return Vec::new();
        }
        let dropped: Vec<F> = self.held.drain().map(|Reverse(h)| h.frame).collect();
        self.counters.drop_down += dropped.len() as u64;
        self.held_bytes = 0;
        self.serial.clear();
        self.serial_bytes = 0;
        dropped
    }

    /// Offers a frame of `len` bytes arriving at `now`. A scheduled frame is
    /// held until [`Direction::pop_due`] releases it; a dropped one is handed
    /// back beside the verdict so the caller can recycle it.
    pub fn enqueue(&mut self, now: Nanos, frame: F, len: u32) -> (Verdict, Option<F>) {
        self.counters.rx_packets += 1;
        self.counters.rx_bytes += u64::from(len);
        match self.decide(now, len) {
            Err(cause) => {
                self.counters.count_drop(cause);
                (Verdict::Dropped { cause }, Some(frame))
            }
            Ok((release_at, duplicate, corrupt)) => {
                self.seq += 1;
                self.held_bytes += u64::from(len);
                self.held.push(Reverse(Held {
                    release_at,
                    seq: self.seq,
                    frame,
                    len,
                    duplicate,
                    corrupt,
                }));
                let verdict = Verdict::Scheduled {
                    release_at,
                    duplicate,
                    corrupt: corrupt.is_some(),
                };
                (verdict, None)
            }
        }
    }

    fn decide(&mut self, now: Nanos, len: u32) -> Result<(Nanos, bool, Option<u64>), DropCause> {
        if !self.props.up {
            return Err(DropCause::Down);
        }
        if let Some(mtu) = self.props.mtu {
            if len > mtu.saturating_add(ETHERNET_HEADER) {
                return Err(DropCause::Mtu);
            }
        }
        if self.lose() {
            return Err(DropCause::Loss);
        }
        // Frames whose transmission has ended have left the queue.
        while let Some(&(end, l)) = self.serial.front() {
            if end > now {
                break;
            }
            self.serial.pop_front();
            self.serial_bytes -= u64::from(l);
        }
        let full = match self.props.queue {
            QueueLimit::Packets(n) => self.serial.len() as u64 >= u64::from(n),
            QueueLimit::Bytes(n) => self.serial_bytes + u64::from(len) > n,
        };
        if full || self.held_bytes + u64::from(len) > HELD_BYTES_CAP {
            return Err(DropCause::Queue);
        }
        let sent = match self.props.rate {
            None => now,
            Some(rate) => {
                let ser = (u128::from(len) * 8 * 1_000_000_000).div_ceil(u128::from(rate.max(1)));
                let end = self.busy_until.max(now).saturating_add(ser as u64);
                self.busy_until = end;
                self.serial.push_back((end, len));
                self.serial_bytes += u64::from(len);
                end
            }
        };
        let mut release = sent.saturating_add(self.sample_delay());
        if !self.props.reorder {
            release = release.max(self.last_release);
        }
        self.last_release = self.last_release.max(release);
        let duplicate = self.rng.chance(self.props.duplicate);
        let corrupt = self
            .rng
            .chance(self.props.corrupt)
            .then(|| self.rng.next_u64());
        Ok((release, duplicate, corrupt))
    }

    fn lose(&mut self) -> bool {
        match self.props.loss {
            Loss::None => false,
            Loss::Random { p } => self.rng.chance(p),
            Loss::Gilbert { p, r, h, k } => {
                self.bad = if self.bad {
                    !self.rng.chance(r)
                } else {
                    self.rng.chance(p)
                };
                self.rng.chance(if self.bad { h } else { k })
            }
        }
    }

    fn sample_delay(&mut self) -> Nanos {
        let delay = self.props.delay.as_nanos() as f64;
        let jitter = self.props.jitter.as_nanos() as f64;
        if jitter == 0.0 {
            return self.props.delay.as_nanos() as Nanos;
        }
        let offset = match self.props.jitter_dist {
            JitterDist::Uniform => (self.rng.unit() * 2.0 - 1.0) * jitter,
            JitterDist::Normal => self.rng.normal() * jitter,
        };
        (delay + offset).max(0.0) as Nanos
    }

    /// When the next held frame is due, if any.
    pub fn next_release(&self) -> Option<Nanos> {
        self.held.peek().map(|Reverse(h)| h.release_at)
    }

    /// Takes the next frame due at `now`, if any; call until `None`.
    pub fn pop_due(&mut self, now: Nanos) -> Option<Released<F>> {
        if self.next_release()? > now {
            return None;
        }
        let Reverse(h) = self.held.pop()?;
        self.held_bytes -= u64::from(h.len);
        self.counters.tx_packets += 1;
        self.counters.tx_bytes += u64::from(h.len);
        if h.duplicate {
            self.counters.duplicated += 1;
        }
        if h.corrupt.is_some() {
            self.counters.corrupted += 1;
        }
        Some(Released {
            frame: h.frame,
            len: h.len,
            release_at: h.release_at,
            duplicate: h.duplicate,
            corrupt: h.corrupt,
        })
    }
}

/// A small seeded random generator (xoshiro256++ seeded through
/// SplitMix64). Written here rather than taken from `rand` so that a seed
/// gives the same stream whatever dependency versions are in use.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
    spare_normal: Option<f64>,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut split = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng {
            s: [split(), split(), split(), split()],
            spare_normal: None,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (no random draw when `p` is 0).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        self.spare_normal = Some(radius * angle.sin());
        radius * angle.cos()
    }
}

#[cfg(test)]
mod tests;
