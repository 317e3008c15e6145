//! Keeps idle CPUs out of their halt state while frames cross a link.
//!
//! A frame's wake-up of a link's thread, and a release timer's, cost what
//! the CPU takes to leave its idle state. On a virtual machine whose idle
//! vCPUs halt at once (`haltpoll.guest_halt_poll_ns=0`, as on the test
//! machine) that is a trip through the host: `cyclictest` there measured
//! 73 us p50 / 183 us p99 / 5.4 ms max for a 5 ms timer, and 24 / 92 us /
//! 0.6 ms while a CPU latency limit of 0 us was requested (the idle
//! governor then polls instead of halting). The limit is the kernel's PM
//! QoS interface, `/dev/cpu_dma_latency`: a request lasts while the file
//! stays open and ends when it is closed, so nothing is left behind even
//! if the process dies.
//!
//! The wire holds one request for the whole process while any link has
//! carried a frame within the last [`LINGER`], and drops it otherwise, so
//! an idle lab costs nothing. While it is held, idle CPUs poll: no CPU
//! time of other tasks is taken (a polling CPU runs any task that wakes),
//! but the CPUs (or the host's, for a VM) stay busy, which costs power.
//! `NETLOOM_WIRE_PM_QOS=off` turns it off; where the file does not exist or
//! cannot be opened (no root, a container) the wire runs without it.

use std::fs::File;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use crate::sched::Nanos;

/// How long after a link's last frame its request stays: longer than the
/// 1 s between pings of a default `ping`, so a steady trickle keeps it.
pub const LINGER: Nanos = 2_000_000_000;

const DEVICE: &str = "/dev/cpu_dma_latency";

/// Links holding the request, and the open file while any does.
static HOLDERS: Mutex<(usize, Option<File>)> = Mutex::new((0, None));

/// Whether the wire asks for it (`NETLOOM_WIRE_PM_QOS`, on unless `off`,
/// `0`, `false` or `no`).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        !matches!(
            std::env::var("NETLOOM_WIRE_PM_QOS")
                .unwrap_or_default()
                .to_ascii_lowercase()
                .as_str(),
            "off" | "0" | "false" | "no"
        )
    })
}

/// Whether this process holds a request now.
pub fn held() -> bool {
    crate::engine::lock(&HOLDERS).1.is_some()
}

fn acquire() {
    let mut h = crate::engine::lock(&HOLDERS);
    h.0 += 1;
    if h.0 == 1 && h.1.is_none() {
        // The value is a native-endian s32 in microseconds.
        h.1 = File::options()
            .write(true)
            .open(DEVICE)
            .and_then(|mut f| f.write_all(&0i32.to_ne_bytes()).map(|()| f))
            .map_err(|e| note_failure(&e))
            .ok();
    }
}

fn release() {
    let mut h = crate::engine::lock(&HOLDERS);
    h.0 = h.0.saturating_sub(1);
    if h.0 == 0 {
        h.1 = None;
    }
}

/// Says once on stderr why the request could not be made (the wire does
/// not log otherwise; a missing device is normal in containers).
fn note_failure(e: &std::io::Error) {
    static SAID: OnceLock<()> = OnceLock::new();
    SAID.get_or_init(|| {
        if e.kind() != std::io::ErrorKind::NotFound {
            eprintln!("netloom-wire: cannot request low CPU wake-up latency ({DEVICE}: {e}); delays will be less precise");
        }
    });
}

/// One link's part: taken on a frame, given back [`LINGER`] after the last
/// one. Pure apart from [`acquire`]/[`release`], which `hold` and `drop`
/// call through the function pointers (tests count instead).
pub struct Activity {
    enabled: bool,
    last: Option<Nanos>,
    take: fn(),
    give: fn(),
}

impl Activity {
    pub fn new() -> Activity {
        Activity {
            enabled: enabled(),
            last: None,
            take: acquire,
            give: release,
        }
    }

    #[cfg(test)]
    fn with(take: fn(), give: fn()) -> Activity {
        Activity {
            enabled: true,
            last: None,
            take,
            give,
        }
    }

    /// A frame crossed the link at `now`.
    pub fn frame(&mut self, now: Nanos) {
        if !self.enabled {
            return;
        }
        if self.last.is_none() {
            (self.take)();
        }
        self.last = Some(now);
    }

    /// Gives the request back when the link has been quiet for
    /// [`LINGER`]; otherwise returns when to look again.
    pub fn tick(&mut self, now: Nanos) -> Option<Nanos> {
        let last = self.last?;
        if now >= last + LINGER {
            self.last = None;
            (self.give)();
            None
        } else {
            Some(last + LINGER)
        }
    }
}

impl Default for Activity {
    fn default() -> Self {
        Activity::new()
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        if self.last.take().is_some() {
            (self.give)();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering::SeqCst};

    static COUNT: AtomicI64 = AtomicI64::new(0);
    fn take() {
        COUNT.fetch_add(1, SeqCst);
    }
    fn give() {
        COUNT.fetch_sub(1, SeqCst);
    }

    #[test]
    fn a_link_holds_from_its_first_frame_until_it_is_quiet_for_linger() {
        let mut a = Activity::with(take, give);
        assert_eq!(a.tick(0), None, "nothing held before a frame");
        a.frame(10);
        assert_eq!(COUNT.load(SeqCst), 1);
        a.frame(20);
        assert_eq!(COUNT.load(SeqCst), 1, "one request per link");
        assert_eq!(a.tick(30), Some(20 + LINGER));
        assert_eq!(a.tick(20 + LINGER - 1), Some(20 + LINGER));
        assert_eq!(COUNT.load(SeqCst), 1);
        assert_eq!(a.tick(20 + LINGER), None);
        assert_eq!(COUNT.load(SeqCst), 0, "given back after LINGER");
        a.frame(5 * LINGER);
        assert_eq!(COUNT.load(SeqCst), 1, "taken again by the next frame");
        drop(a);
        assert_eq!(COUNT.load(SeqCst), 0, "a stopped link gives it back");
    }
}
