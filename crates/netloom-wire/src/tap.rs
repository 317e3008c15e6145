//! TAP devices inside network namespaces: creation, link state, MTU,
//! carrier, offloads, persistence. The only module of the wire that calls
//! `ioctl` directly, so the only one allowed `unsafe`.
//!
//! A TAP is created by a short-lived thread that `setns`es into the target
//! namespace, opens `/dev/net/tun` there (the device is made in the
//! namespace of the opener) and issues `TUNSETIFF`; the returned fd stays
//! bound to the device wherever it is used from. The same thread sets the
//! MTU and the up flag with `SIOCSIFMTU` / `SIOCSIFFLAGS` on a socket of that
//! namespace. Carrier (`TUNSETCARRIER`), offloads (`TUNSETOFFLOAD`) and
//! persistence (`TUNSETPERSIST`) are ioctls on the fd itself and need no
//! namespace.
#![allow(unsafe_code)]

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};

use crate::error::WireError;

/// Size of the `virtio_net_hdr` that precedes every frame on a TAP opened
/// with `vnet_hdr` (the kernel's default `TUNSETVNETHDRSZ`).
pub const VNET_HDR_LEN: usize = 10;

/// Offloads the wire accepts from the kernel when frames are uniform:
/// checksum offload and TCP segmentation offload (v4, v6, ECN), so TCP
/// hands over up to 64 KiB per frame.
const OFFLOADS_FULL: libc::c_uint =
    libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6 | libc::TUN_F_TSO_ECN;

/// How to make a TAP device.
#[derive(Debug, Clone)]
pub struct TapConfig {
    /// Namespace to create it in, as a path (`/run/netns/<name>`); `None`
    /// is the caller's namespace.
    pub netns: Option<PathBuf>,
    /// Interface name inside the namespace (e.g. `eth1`).
    pub name: String,
    /// Prefix frames with a `virtio_net_hdr` and accept GSO super-frames
    /// (much higher throughput for TCP).
    pub vnet_hdr: bool,
    /// Keep the device when the fd closes (see the crate docs on
    /// ownership). Opening a persistent device of the same name again
    /// re-attaches to it.
    pub persist: bool,
    /// MTU to set; `None` keeps the kernel's default (1500).
    pub mtu: Option<u32>,
    /// Set the interface administratively up.
    pub up: bool,
}

impl TapConfig {
    /// An up, non-persistent TAP with vnet headers and the default MTU.
    pub fn new(netns: Option<PathBuf>, name: impl Into<String>) -> Self {
        TapConfig {
            netns,
            name: name.into(),
            vnet_hdr: true,
            persist: false,
            mtu: None,
            up: true,
        }
    }
}

/// An open TAP device. Dropping it closes the fd, which removes the device
/// unless it was made persistent.
#[derive(Debug)]
pub struct Tap {
    fd: OwnedFd,
    name: String,
    netns: Option<PathBuf>,
    vnet_hdr: bool,
}

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    data: [u8; 24],
}

impl IfReq {
    fn new(name: &str) -> Self {
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            data: [0; 24],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        req
    }
    fn set_short(&mut self, v: libc::c_short) {
        self.data[..2].copy_from_slice(&v.to_ne_bytes());
    }
    fn short(&self) -> libc::c_short {
        libc::c_short::from_ne_bytes([self.data[0], self.data[1]])
    }
    fn set_int(&mut self, v: libc::c_int) {
        self.data[..4].copy_from_slice(&v.to_ne_bytes());
    }
}

fn check_name(name: &str) -> Result<(), WireError> {
    let ok = !name.is_empty()
        && name.len() < libc::IFNAMSIZ
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b == 0 || b.is_ascii_whitespace());
    if ok {
        Ok(())
    } else {
        Err(WireError::BadName(name.to_string()))
    }
}

/// Runs `f` on a fresh thread that has entered the network namespace at
/// `netns` (`None`: stays in the caller's). The calling thread's own
/// namespace never changes.
pub fn in_netns<T: Send>(
    netns: Option<&Path>,
    f: impl FnOnce() -> Result<T, WireError> + Send,
) -> Result<T, WireError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            if let Some(path) = netns {
                let file = File::open(path).map_err(|source| WireError::Io {
                    what: format!("open namespace {}", path.display()),
                    source,
                })?;
                setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| {
                    WireError::sys(format!("enter namespace {}", path.display()), e)
                })?;
            }
            f()
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn ioctl_ptr<T>(fd: RawFd, request: libc::Ioctl, arg: &mut T) -> Result<(), Errno> {
    // SAFETY: `fd` is an open descriptor owned by the caller; `arg` is a
    // valid, exclusively borrowed value of the type the request expects
    // (checked at each call site), living across the call.
    let rc = unsafe { libc::ioctl(fd, request, arg as *mut T) };
    Errno::result(rc).map(drop)
}

fn ioctl_val(fd: RawFd, request: libc::Ioctl, arg: libc::c_ulong) -> Result<(), Errno> {
    // SAFETY: `fd` is an open descriptor owned by the caller; the request
    // takes its argument by value (TUNSETOFFLOAD, TUNSETPERSIST), so no
    // memory is passed to the kernel.
    let rc = unsafe { libc::ioctl(fd, request, arg) };
    Errno::result(rc).map(drop)
}

/// Sets the MTU and/or the up flag of interface `name` in the current
/// thread's namespace.
fn configure_link(name: &str, mtu: Option<u32>, up: bool) -> Result<(), WireError> {
    // SAFETY: plain socket(2) call; the returned descriptor is checked and
    // immediately owned by an `OwnedFd`.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    let raw = Errno::result(raw).map_err(|e| WireError::sys("open a configuration socket", e))?;
    // SAFETY: `raw` is a fresh descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    if let Some(mtu) = mtu {
        let mut req = IfReq::new(name);
        req.set_int(mtu as libc::c_int);
        // SIOCSIFMTU takes a `struct ifreq` with `ifr_mtu` set.
        ioctl_ptr(sock.as_raw_fd(), libc::SIOCSIFMTU, &mut req)
            .map_err(|e| WireError::sys(format!("set mtu {mtu} on {name}"), e))?;
    }
    if up {
        let mut req = IfReq::new(name);
        // SIOCGIFFLAGS / SIOCSIFFLAGS take a `struct ifreq` with `ifr_flags`.
        ioctl_ptr(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req)
            .map_err(|e| WireError::sys(format!("read the flags of {name}"), e))?;
        req.set_short(req.short() | libc::IFF_UP as libc::c_short);
        ioctl_ptr(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &mut req)
            .map_err(|e| WireError::sys(format!("set {name} up"), e))?;
    }
    Ok(())
}

impl Tap {
    /// Creates (or, for a persistent device, attaches to) the TAP that
    /// `config` describes.
    pub fn create(config: &TapConfig) -> Result<Tap, WireError> {
        check_name(&config.name)?;
        let name = config.name.clone();
        let fd = in_netns(config.netns.as_deref(), || {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags_nonblock()
                .open("/dev/net/tun")
                .map_err(|source| WireError::Io {
                    what: "open /dev/net/tun".into(),
                    source,
                })?;
            let fd = OwnedFd::from(file);
            let mut req = IfReq::new(&name);
            let mut flags = libc::IFF_TAP | libc::IFF_NO_PI;
            if config.vnet_hdr {
                flags |= libc::IFF_VNET_HDR;
            }
            req.set_short(flags as libc::c_short);
            // TUNSETIFF takes a `struct ifreq` with the name and `ifr_flags`.
            ioctl_ptr(fd.as_raw_fd(), libc::TUNSETIFF, &mut req)
                .map_err(|e| WireError::sys(format!("create tap {name}"), e))?;
            if config.persist {
                ioctl_val(fd.as_raw_fd(), libc::TUNSETPERSIST, 1)
                    .map_err(|e| WireError::sys(format!("make tap {name} persistent"), e))?;
            }
            configure_link(&name, config.mtu, config.up)?;
            Ok(fd)
        })?;
        let tap = Tap {
            fd,
            name: config.name.clone(),
            netns: config.netns.clone(),
            vnet_hdr: config.vnet_hdr,
        };
        tap.set_offload(true)?;
        Ok(tap)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn netns(&self) -> Option<&Path> {
        self.netns.as_deref()
    }

    /// Whether frames carry a `virtio_net_hdr` of [`VNET_HDR_LEN`] bytes.
    pub fn vnet_hdr(&self) -> bool {
        self.vnet_hdr
    }

    /// Signals carrier on or off (`TUNSETCARRIER`, Linux 5.0 and later):
    /// the interface shows `NO-CARRIER` / `LOWER_UP` to its namespace, as a
    /// pulled or plugged cable would.
    pub fn set_carrier(&self, on: bool) -> Result<(), WireError> {
        let mut value: libc::c_int = on.into();
        // TUNSETCARRIER reads an `int` through the pointer.
        ioctl_ptr(self.fd.as_raw_fd(), libc::TUNSETCARRIER, &mut value)
            .map_err(|e| WireError::sys(format!("set the carrier of {}", self.name), e))
    }

    /// With vnet headers: accept checksum and segmentation offloads from
    /// the kernel (`full`), or have the kernel finish checksums and segment
    /// every frame before the wire sees it. Without vnet headers: nothing.
    pub fn set_offload(&self, full: bool) -> Result<(), WireError> {
        if !self.vnet_hdr {
            return Ok(());
        }
        let flags = if full { OFFLOADS_FULL } else { 0 };
        ioctl_val(self.fd.as_raw_fd(), libc::TUNSETOFFLOAD, flags.into())
            .map_err(|e| WireError::sys(format!("set the offloads of {}", self.name), e))
    }

    /// Makes the device outlive its fd (or not).
    pub fn set_persist(&self, persist: bool) -> Result<(), WireError> {
        ioctl_val(self.fd.as_raw_fd(), libc::TUNSETPERSIST, persist.into())
            .map_err(|e| WireError::sys(format!("set persistence of {}", self.name), e))
    }
}

impl AsFd for Tap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Puts the calling thread in the `SCHED_FIFO` class at `priority`
/// (1..=99; needs `CAP_SYS_NICE`), or back in the ordinary class
/// (`SCHED_OTHER`) for `None`. Used by wire threads.
pub(crate) fn set_thread_fifo(priority: Option<i32>) -> Result<(), WireError> {
    let (policy, prio) = match priority {
        Some(p) => (libc::SCHED_FIFO, p),
        None => (libc::SCHED_OTHER, 0),
    };
    let param = libc::sched_param {
        sched_priority: prio,
    };
    // SAFETY: `param` is a valid `sched_param` living across the call; pid 0
    // is the calling thread.
    let rc = unsafe { libc::sched_setscheduler(0, policy, &param) };
    Errno::result(rc)
        .map(drop)
        .map_err(|e| WireError::sys(format!("set scheduling class {priority:?}"), e))
}

trait NonBlock {
    fn custom_flags_nonblock(&mut self) -> &mut Self;
}

impl NonBlock for std::fs::OpenOptions {
    fn custom_flags_nonblock(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
    }
}
