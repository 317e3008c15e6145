//! The poll fix netloom starts FRR's daemons with.
//!
//! FRR until October 2025 (Debian 12 has 8.4) rounds the time to its next timer
//! down to whole milliseconds before it calls `ppoll`, so a thread whose
//! next timer is less than 1 ms away polls with a zero timeout again and
//! again until the timer is due (FRR pull request 19715). One such spin is
//! short; on a loaded machine with hundreds of daemons it is not: while a
//! 300-router fabric converged here, the zebras made 19.5 million
//! zero-timeout `ppoll` calls in 40 s, zebra's CPU time grew from ~14 to
//! 60-120 s, and convergence took 60-95 s instead of ~40 s, in about half
//! of the runs (bench/fabric, docs/benchmarks.md).
//!
//! `frrpoll/frrpoll.rs` (compiled by build.rs, embedded here) wraps
//! `ppoll`: a zero-timeout call that comes within 1 ms of one that found
//! nothing waits, still watching every descriptor, until 1 ms after that
//! first one, by which time the timer is due. Every other call is glibc's.
//! A timer may fire up to 1 ms late, the precision FRR 8.4 means to have.
//! [`install`] writes the library to a file; the executor puts that file
//! in `LD_PRELOAD` of every FRR daemon it starts
//! ([`crate::Executor::frr_preload`]).

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The library (`libnetloom_frrpoll.so`).
pub const LIBRARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libnetloom_frrpoll.so"));

/// Writes [`LIBRARY`] into `dir` (created if missing) and returns its
/// path. The name carries a hash of the content: a file already there is
/// the same library and is kept; a new build gets a new file, written
/// aside and renamed into place, and the other builds' files are removed
/// (daemons that run with one keep their mapping of it).
pub fn install(dir: &Path) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = format!("{PREFIX}{:016x}.so", fnv1a(LIBRARY));
    let path = dir.join(&name);
    if !std::fs::read(&path).is_ok_and(|have| have == LIBRARY) {
        let tmp = dir.join(format!(".{PREFIX}{}.tmp", std::process::id()));
        std::fs::write(&tmp, LIBRARY)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))?;
        std::fs::rename(&tmp, &path)?;
    }
    for entry in std::fs::read_dir(dir)?.flatten() {
        let other = entry.file_name();
        let other = other.to_string_lossy();
        if other.starts_with(PREFIX) && other.ends_with(".so") && other != name.as_str() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(path)
}

const PREFIX: &str = "libnetloom_frrpoll-";

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
#[allow(unsafe_code)]
mod tests {
    use super::*;
    use std::ffi::c_void;
    use std::time::{Duration, Instant};

    type Ppoll = unsafe extern "C" fn(
        *mut libc::pollfd,
        libc::nfds_t,
        *const libc::timespec,
        *const libc::sigset_t,
    ) -> libc::c_int;

    /// The library's `ppoll`, loaded with dlopen (it does not replace this
    /// process's own).
    fn load(dir: &Path) -> Ppoll {
        let path = install(dir).unwrap();
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a library built from frrpoll.rs, whose only export is
        // ppoll with glibc's signature; it is never unloaded.
        unsafe {
            let h = libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
            assert!(!h.is_null(), "dlopen {}", path.display());
            let f: *mut c_void = libc::dlsym(h, c"ppoll".as_ptr());
            assert!(!f.is_null(), "no ppoll in {}", path.display());
            std::mem::transmute::<*mut c_void, Ppoll>(f)
        }
    }

    fn call(ppoll: Ppoll, fds: &mut [libc::pollfd], timeout: Option<Duration>) -> i32 {
        let ts = timeout.map(|t| libc::timespec {
            tv_sec: t.as_secs() as libc::time_t,
            tv_nsec: t.subsec_nanos() as libc::c_long,
        });
        let tp = ts.as_ref().map_or(std::ptr::null(), |t| t as *const _);
        // SAFETY: fds is a valid array of fds.len() entries.
        unsafe {
            ppoll(
                fds.as_mut_ptr(),
                fds.len() as libc::nfds_t,
                tp,
                std::ptr::null(),
            )
        }
    }

    fn watch(f: &impl std::os::fd::AsRawFd) -> libc::pollfd {
        libc::pollfd {
            fd: f.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }
    }

    #[test]
    fn a_second_empty_zero_timeout_poll_waits_out_the_millisecond() {
        let dir = tempfile::tempdir().unwrap();
        let ppoll = load(dir.path());
        let zero = Some(Duration::ZERO);
        // FRR's spin: zero-timeout polls that find nothing, back to back.
        // Every second one waits until 1 ms after the one before it, so
        // six calls take at least 3 ms (glibc's take microseconds).
        let t0 = Instant::now();
        for _ in 0..6 {
            assert_eq!(call(ppoll, &mut [], zero), 0);
        }
        assert!(
            t0.elapsed() >= Duration::from_millis(3),
            "{:?}",
            t0.elapsed()
        );
    }

    #[test]
    fn ready_descriptors_are_reported_at_once_and_other_timeouts_pass() {
        let dir = tempfile::tempdir().unwrap();
        let ppoll = load(dir.path());
        let zero = Some(Duration::ZERO);
        let (r, w) = std::io::pipe().unwrap();
        // A descriptor that becomes ready while the second call waits ends
        // the wait with it (the wait watches every descriptor).
        assert_eq!(call(ppoll, &mut [watch(&r)], zero), 0);
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            std::thread::sleep(Duration::from_micros(100));
            (&w).write_all(b"x").unwrap();
            w
        });
        let mut fds = [watch(&r)];
        let n = call(ppoll, &mut fds, Some(Duration::ZERO));
        let _w = writer.join().unwrap();
        // The write may land after the 1 ms wait on a loaded machine; the
        // next zero-timeout call then reports it.
        let n = if n == 0 {
            call(ppoll, &mut fds, zero)
        } else {
            n
        };
        assert_eq!(n, 1);
        assert_eq!(fds[0].revents & libc::POLLIN, libc::POLLIN);
        // Ready at once: reported on the first call, nothing changed.
        assert_eq!(call(ppoll, &mut fds, zero), 1);
        assert_eq!(call(ppoll, &mut fds, zero), 1);
        // A real timeout is passed as it is.
        let t0 = Instant::now();
        assert_eq!(call(ppoll, &mut [], Some(Duration::from_millis(5))), 0);
        assert!(t0.elapsed() >= Duration::from_millis(5));
    }

    #[test]
    fn install_keeps_the_file_it_wrote_and_removes_other_builds() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let stale = dir.join("libnetloom_frrpoll-0000000000000000.so");
        let theirs = dir.join("libsomething-else.so");
        std::fs::write(&stale, b"an older build").unwrap();
        std::fs::write(&theirs, b"not ours").unwrap();
        let a = install(dir).unwrap();
        assert!(!stale.exists(), "an older build's library was kept");
        assert!(theirs.exists(), "another library was removed");
        std::fs::remove_file(&theirs).unwrap();
        let modified = std::fs::metadata(&a).unwrap().modified().unwrap();
        let b = install(dir).unwrap();
        assert_eq!(a, b);
        assert_eq!(std::fs::read(&b).unwrap(), LIBRARY);
        assert_eq!(std::fs::metadata(&b).unwrap().modified().unwrap(), modified);
        assert_eq!(
            std::fs::read_dir(dir).unwrap().count(),
            1,
            "a temporary file was left"
        );
    }
}
