//! The wire: netloom's userspace link emulator.
//!
//! - [`sched`] is the pure core. A [`Direction`] (one way of a link) takes
//!   frames with [`Direction::enqueue`] at a time passed in, decides with its
//!   own seeded [`Rng`] whether each is dropped ([`DropCause`]) or when it
//!   leaves ([`Verdict`]), holds it, and hands it back from
//!   [`Direction::pop_due`]. Its [`Props`] are delay, jitter, reordering,
//!   [`Loss`] (random or Gilbert–Elliott), duplication, corruption, rate with
//!   a [`QueueLimit`], MTU and up/down; its [`Counters`] count what happened.
//! - [`tap`] creates TAP devices inside network namespaces ([`Tap`]) and
//!   drives their carrier and offloads; it is the only module with `unsafe`.
//! - [`engine`] runs a link: [`Link::start`] joins two [`Tap`]s with one OS
//!   thread serving both directions and returns a [`LinkHandle`] for live
//!   changes ([`LinkHandle::set_props`], [`LinkHandle::set_up`]), counters
//!   and an optional capture channel of [`Captured`] frames.
//!
//! # For the executor and the daemon
//! - **Order.** Create both [`Tap`]s first (they appear in their namespaces
//!   as ordinary Ethernet interfaces named as the topology says; FRR and
//!   `ip` treat them like any other), then configure addresses, an altname
//!   ownership mark or a fixed MAC on them, then [`Link::start`].
//! - **Who owns what.** The [`LinkHandle`] owns the TAP fds; dropping or
//!   stopping it closes them. A non-persistent TAP vanishes with its fd
//!   (with its addresses and routes). A TAP fd also holds a reference on
//!   its namespace: `ip netns del` only removes the name, the namespace
//!   lives until the link stops. So destroy stops links before it deletes
//!   namespaces, and deleting a namespace removes its (persistent) TAPs.
//! - **Persistence.** [`TapConfig::persist`] (`TUNSETPERSIST`) keeps a TAP
//!   when its fd closes: if the daemon dies, the interfaces stay, with their
//!   addresses, and show `NO-CARRIER` (the kernel drops carrier when the
//!   last fd detaches), which routing daemons see as a pulled cable. A new
//!   daemon calls [`Tap::create`] with the same config, which re-attaches to
//!   the existing device (carrier returns), and starts the link again with
//!   the saved props. The default is not persistent (nothing left behind
//!   by tests); the daemon should ask for persistence.
//! - **Failure.** The link's thread ends when either TAP disappears;
//!   [`LinkHandle::is_running`] turns false and further control calls fail.
//! - **Capture.** [`LinkConfig::capture`] / [`LinkHandle::set_capture`] take a
//!   bounded channel; frames are copied as written, with wall-clock and
//!   monotonic timestamps; a full channel loses copies, never frames.

pub mod engine;
mod error;
pub mod qos;
pub mod sched;
pub mod tap;

pub use engine::{Captured, Dir, Lateness, Link, LinkConfig, LinkCounters, LinkHandle};
pub use error::WireError;
pub use sched::{
    Counters, Direction, DropCause, JitterDist, Loss, Nanos, Props, PropsError, QueueLimit,
    Released, Rng, Verdict,
};
pub use tap::{Tap, TapConfig};
