//! Running a program "inside" a node, the way `ip netns exec` does and a
//! little more: the node's network namespace, a private mount namespace in
//! which `/sys` shows the node's interfaces and (for routers) `/etc/frr` and
//! `/var/run/frr` are the router's own FRR pathspace, so a plain `vtysh`
//! talks to this router; and a UTS namespace whose hostname is the node's
//! name, so shell prompts say where you are.
#![allow(unsafe_code)]

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Where a node lives.
pub struct Target {
    pub netns: String,
    pub hostname: String,
    /// Routers: the FRR pathspace.
    pub frr_pathspace: Option<String>,
}

fn cstr(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("contains a NUL byte: {s:?}"),
        )
    })
}

/// Prepares `cmd` to start inside `target`.
pub fn prepare(cmd: &mut Command, target: &Target) -> io::Result<()> {
    let ns_path = format!("/run/netns/{}", target.netns);
    let ns = File::open(&ns_path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot open namespace {ns_path} (is the lab up?): {e}"),
        )
    })?;
    let binds: Vec<(CString, CString)> = match &target.frr_pathspace {
        Some(ps) => vec![
            (cstr(&format!("/etc/frr/{ps}"))?, cstr("/etc/frr")?),
            (cstr(&format!("/var/run/frr/{ps}"))?, cstr("/var/run/frr")?),
        ]
        .into_iter()
        .filter(|(src, _)| std::path::Path::new(src.to_str().unwrap_or("")).is_dir())
        .collect(),
        None => Vec::new(),
    };
    let root = cstr("/")?;
    let sys = cstr("/sys")?;
    let sysfs = cstr("sysfs")?;
    let hostname = target.hostname.clone().into_bytes();
    // SAFETY: the closure runs in the child between fork and exec. It only
    // makes system calls (setns, unshare, mount, umount2, sethostname) on
    // values prepared before the fork; it neither allocates nor takes a
    // lock, so it is safe in a multi-threaded parent (the daemon) too.
    unsafe {
        cmd.pre_exec(move || {
            setns(ns.as_fd(), CloneFlags::CLONE_NEWNET)?;
            unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS)?;
            mount(
                None::<&CStr>,
                root.as_c_str(),
                None::<&CStr>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&CStr>,
            )?;
            // A sysfs mounted from inside the namespace shows its devices.
            if umount2(sys.as_c_str(), MntFlags::MNT_DETACH).is_ok() {
                let _ = mount(
                    Some(sysfs.as_c_str()),
                    sys.as_c_str(),
                    Some(sysfs.as_c_str()),
                    MsFlags::empty(),
                    None::<&CStr>,
                );
            }
            for (src, dst) in &binds {
                mount(
                    Some(src.as_c_str()),
                    dst.as_c_str(),
                    None::<&CStr>,
                    MsFlags::MS_BIND,
                    None::<&CStr>,
                )?;
            }
            libc::sethostname(hostname.as_ptr().cast(), hostname.len());
            Ok(())
        });
    }
    Ok(())
}

/// A shell (or any program) on a pseudo-terminal inside a node: what the
/// web page's console tabs talk to.
pub struct PtyChild {
    pub child: std::process::Child,
    /// The terminal's master side: read the program's output, write its
    /// input.
    pub master: File,
}

fn winsize(cols: u16, rows: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows.max(1),
        ws_col: cols.max(1),
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

/// Starts `cmd` inside `target` on a new pseudo-terminal of `cols` x
/// `rows`, as the leader of its own session with the terminal as its
/// controlling terminal (job control and Ctrl-C work).
pub fn spawn_pty(mut cmd: Command, target: &Target, cols: u16, rows: u16) -> io::Result<PtyChild> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    let ws = winsize(cols, rows);
    // SAFETY: openpty writes two descriptors into the given integers; the
    // name and termios pointers may be null; the winsize is read only.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openpty succeeded: both are open descriptors we now own.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    // The master must not leak into the child.
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        libc::fcntl(
            std::os::fd::AsRawFd::as_raw_fd(&master),
            libc::F_SETFD,
            libc::FD_CLOEXEC,
        );
    }
    cmd.stdin(slave.try_clone()?);
    cmd.stdout(slave.try_clone()?);
    cmd.stderr(slave);
    prepare(&mut cmd, target)?;
    // SAFETY: runs in the child before exec; setsid and ioctl are
    // async-signal-safe and touch no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    Ok(PtyChild {
        child,
        master: File::from(master),
    })
}

/// Tells the terminal (and so the program on it) its new size.
pub fn resize_pty(master: &File, cols: u16, rows: u16) -> io::Result<()> {
    let ws = winsize(cols, rows);
    // SAFETY: TIOCSWINSZ reads a winsize from the pointer; the descriptor
    // is a pseudo-terminal master we hold open.
    let rc = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(master),
            libc::TIOCSWINSZ,
            &ws,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
