//! `libnetloom_frrpoll.so`: the library netloom preloads into the FRR
//! daemons it starts (`LD_PRELOAD`). build.rs compiles this file on its own
//! with rustc; `src/frrpoll.rs` embeds the result and explains why.
//!
//! FRR until October 2025 turns the time to its next timer into whole
//! milliseconds before it calls `ppoll` (FRR pull request 19715). With a
//! timer less than 1 ms away it asks for a timeout of 0, gets 0 back, finds
//! the timer not yet due, and asks again: the thread spins until the timer
//! is due. Here this wrapper sees that as a second zero-timeout `ppoll`
//! within 1 ms of a first one that found nothing, and waits (still watching
//! every descriptor) until 1 ms after the first: the timer FRR waits for is
//! due by then. Any other call goes to glibc's `ppoll` unchanged.

#![allow(clippy::missing_safety_doc)]

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};

#[repr(C)]
pub struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

type PpollFn = unsafe extern "C" fn(*mut c_void, u64, *const Timespec, *const c_void) -> c_int;

extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const u8) -> *mut c_void;
    fn clock_gettime(clock: c_int, ts: *mut Timespec) -> c_int;
}

/// glibc's `RTLD_NEXT`: the next definition after this library's.
const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;
const CLOCK_MONOTONIC: c_int = 1;
/// FRR's rounding loses less than this.
const WINDOW_NS: i64 = 1_000_000;

static REAL: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

thread_local! {
    /// When this thread's last zero-timeout `ppoll` found nothing (ns on
    /// CLOCK_MONOTONIC), or -1.
    static EMPTY_SINCE: Cell<i64> = const { Cell::new(-1) };
}

unsafe fn real() -> PpollFn {
    let mut p = REAL.load(Ordering::Relaxed);
    if p.is_null() {
        p = dlsym(RTLD_NEXT, c"ppoll".as_ptr().cast());
        REAL.store(p, Ordering::Relaxed);
    }
    // glibc defines ppoll; a null here could only mean no libc at all.
    std::mem::transmute::<*mut c_void, PpollFn>(p)
}

fn now_ns() -> i64 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write.
    unsafe { clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

#[no_mangle]
pub unsafe extern "C" fn ppoll(
    fds: *mut c_void,
    nfds: u64,
    timeout: *const Timespec,
    sigmask: *const c_void,
) -> c_int {
    let real = real();
    let zero = !timeout.is_null() && (*timeout).tv_sec == 0 && (*timeout).tv_nsec == 0;
    if !zero {
        EMPTY_SINCE.set(-1);
        return real(fds, nfds, timeout, sigmask);
    }
    let now = now_ns();
    let since = EMPTY_SINCE.get();
    if since >= 0 && now >= since && now - since < WINDOW_NS {
        EMPTY_SINCE.set(-1);
        let wait = Timespec {
            tv_sec: 0,
            tv_nsec: WINDOW_NS - (now - since),
        };
        return real(fds, nfds, &wait, sigmask);
    }
    let n = real(fds, nfds, timeout, sigmask);
    EMPTY_SINCE.set(if n == 0 { now } else { -1 });
    n
}
