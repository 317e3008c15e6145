//! Network namespaces: creating them natively, entering them, spawning
//! processes inside them.
//!
//! A namespace is made the way iproute2's `ip netns add` makes one: an empty
//! file `/run/netns/NAME`, `unshare(CLONE_NEWNET)` on a worker thread, and a
//! bind mount of that thread's `/proc/thread-self/ns/net` onto the file.
//! `/run/netns` is a shared mount so that unmounts propagate into other
//! mount namespaces. Only threads this crate spawns ever change namespace.
#![allow(unsafe_code)]

use crate::error::{io_err, sys_err, ExecError};
use crate::netlink::{Netlink, LOOPBACK_INDEX};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::statfs::{fstatfs, NSFS_MAGIC};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Where named network namespaces live (as with iproute2).
pub const NETNS_RUN_DIR: &str = "/run/netns";

/// The environment variable that marks every process netloom starts in a
/// namespace; its value is the namespace name. Cleanup finds processes by it
/// even when their namespace is already gone.
pub const NETNS_ENV_MARK: &str = "NETLOOM_NETNS";

/// The file a named network namespace is bound to: `/run/netns/<name>`.
pub fn netns_path(netns: &str) -> PathBuf {
    PathBuf::from(NETNS_RUN_DIR).join(netns)
}

/// Makes `cmd` run inside the network namespace `netns`: the child enters it
/// with `setns` between fork and exec. The child also gets the environment
/// variable `NETLOOM_NETNS=<netns>` (the ownership mark of its processes).
pub fn in_netns(cmd: &mut Command, netns: &str) -> io::Result<()> {
    let file = open_netns(netns)?;
    cmd.env(NETNS_ENV_MARK, netns);
    // SAFETY: the closure runs in the forked child before exec; it only
    // calls setns(2), which is async-signal-safe, on a descriptor that the
    // closure owns and that stays open until exec.
    unsafe {
        cmd.pre_exec(move || {
            setns(file.as_fd(), CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            Ok(())
        });
    }
    Ok(())
}

/// Makes `cmd` start its own session (no controlling terminal, its own
/// process group), so it survives the death of netloom and can be killed as
/// a group.
pub(crate) fn new_session(cmd: &mut Command) {
    // SAFETY: setsid(2) is async-signal-safe and touches no memory of the
    // parent; it runs in the forked child before exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Gives `cmd` its own UTS namespace whose hostname is `hostname` (the
/// node's name), so FRR (BGP's hostname capability, prompts) and shell
/// commands see the node's name rather than the machine's.
pub(crate) fn own_hostname(cmd: &mut Command, hostname: &str) {
    let Ok(name) = std::ffi::CString::new(hostname) else {
        return;
    };
    // SAFETY: runs in the forked child before exec; unshare(2) and
    // sethostname(2) are async-signal-safe and use only `name`, prepared
    // before the fork.
    unsafe {
        cmd.pre_exec(move || {
            if libc::unshare(libc::CLONE_NEWUTS) < 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::sethostname(name.as_ptr(), name.as_bytes().len()) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Opens a namespace file, checking that it really is a bound namespace.
pub(crate) fn open_netns(netns: &str) -> io::Result<File> {
    let path = netns_path(netns);
    let file = File::open(&path)?;
    if !is_nsfs(&file) {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is not a mounted network namespace", path.display()),
        ));
    }
    Ok(file)
}

pub(crate) fn is_nsfs(file: &File) -> bool {
    fstatfs(file.as_fd()).is_ok_and(|s| s.filesystem_type() == NSFS_MAGIC)
}

/// Moves the calling thread into a namespace. Only for threads this crate
/// spawned for the purpose.
pub(crate) fn enter(file: &File, netns: &str) -> Result<(), ExecError> {
    setns(file.as_fd(), CloneFlags::CLONE_NEWNET)
        .map_err(sys_err(format!("enter namespace {netns}")))
}

/// A namespace netloom has open: its file and a netlink socket inside it.
pub(crate) struct NsHandle {
    pub file: File,
    pub netlink: Mutex<Netlink>,
}

static RUN_DIR_LOCK: Mutex<()> = Mutex::new(());

/// Makes `/run/netns` exist and be a shared mount point, as iproute2 does.
pub(crate) fn prepare_run_dir() -> Result<(), ExecError> {
    let _guard = RUN_DIR_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    std::fs::create_dir_all(NETNS_RUN_DIR).map_err(io_err(format!("create {NETNS_RUN_DIR}")))?;
    let mut made_mount = false;
    loop {
        match mount(
            None::<&str>,
            NETNS_RUN_DIR,
            None::<&str>,
            MsFlags::MS_SHARED | MsFlags::MS_REC,
            None::<&str>,
        ) {
            Ok(()) => return Ok(()),
            Err(nix::errno::Errno::EINVAL) if !made_mount => {
                // Not a mount point yet: bind it onto itself first.
                mount(
                    Some(NETNS_RUN_DIR),
                    NETNS_RUN_DIR,
                    Some("none"),
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .map_err(sys_err(format!("bind {NETNS_RUN_DIR} onto itself")))?;
                made_mount = true;
            }
            Err(e) => {
                return Err(sys_err(format!("make {NETNS_RUN_DIR} a shared mount"))(e));
            }
        }
    }
}

/// Creates a namespace named `netns` with `lo` up. Runs on, and moves, the
/// calling worker thread into the new namespace. On failure nothing is left.
pub(crate) fn create(netns: &str) -> Result<NsHandle, ExecError> {
    let path = netns_path(netns);
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o000)
        .open(&path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(ExecError::NetnsExists(netns.to_string()))
        }
        Err(e) => return Err(io_err(format!("create {}", path.display()))(e)),
    }
    let mut mounted = false;
    let result = (|| {
        unshare(CloneFlags::CLONE_NEWNET).map_err(sys_err("unshare the network namespace"))?;
        mount(
            Some("/proc/thread-self/ns/net"),
            &path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(sys_err(format!("bind the namespace to {}", path.display())))?;
        mounted = true;
        let file =
            File::open("/proc/thread-self/ns/net").map_err(io_err("open the new namespace"))?;
        let mut netlink = Netlink::open().map_err(io_err("open a netlink socket"))?;
        netlink
            .set_up(LOOPBACK_INDEX)
            .map_err(crate::error::netlink_err("set lo up"))?;
        Ok(NsHandle {
            file,
            netlink: Mutex::new(netlink),
        })
    })();
    if result.is_err() {
        if mounted {
            let _ = umount2(&path, MntFlags::MNT_DETACH);
        }
        let _ = std::fs::remove_file(&path);
    }
    result
}

/// Opens a handle on an existing namespace (the netlink socket is opened
/// by a short-lived thread that enters the namespace).
pub(crate) fn open_handle(netns: &str) -> Result<NsHandle, ExecError> {
    let file = open_netns(netns).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            ExecError::NetnsMissing(netns.to_string())
        } else {
            io_err(format!("open namespace {netns}"))(e)
        }
    })?;
    handle_of(file, netns)
}

/// [`open_handle`] for a namespace known by another path, such as
/// `/proc/PID/ns/net` of a process in a namespace whose file is gone.
pub(crate) fn open_handle_at(path: &Path, netns: &str) -> Result<NsHandle, ExecError> {
    let file = File::open(path).map_err(io_err(format!("open {}", path.display())))?;
    handle_of(file, netns)
}

fn handle_of(file: File, netns: &str) -> Result<NsHandle, ExecError> {
    let netlink = std::thread::scope(|s| {
        s.spawn(|| {
            enter(&file, netns)?;
            Netlink::open().map_err(io_err(format!("open a netlink socket in {netns}")))
        })
        .join()
        .unwrap_or(Err(ExecError::Panicked))
    })?;
    Ok(NsHandle {
        file,
        netlink: Mutex::new(netlink),
    })
}

/// Unmounts (all stacked mounts of) and removes a namespace file. Returns
/// whether anything was there.
pub(crate) fn remove(netns: &str) -> Result<bool, ExecError> {
    let path = netns_path(netns);
    let mut existed = false;
    for _ in 0..16 {
        match umount2(&path, MntFlags::MNT_DETACH) {
            Ok(()) => existed = true,
            Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => break,
            Err(e) => return Err(sys_err(format!("unmount {}", path.display()))(e)),
        }
    }
    match std::fs::remove_file(&path) {
        Ok(()) => existed = true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(format!("remove {}", path.display()))(e)),
    }
    Ok(existed)
}

/// Gives the namespace `from` the name `to` (a standby twin taking over):
/// `to` becomes a bind mount of the same namespace, then `from` goes.
/// `to` must not exist.
pub(crate) fn rename(from: &str, to: &str) -> Result<(), ExecError> {
    let src = netns_path(from);
    let dst = netns_path(to);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o000)
        .open(&dst)
        .map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                ExecError::NetnsExists(to.to_string())
            } else {
                io_err(format!("create {}", dst.display()))(e)
            }
        })?;
    if let Err(e) = mount(
        Some(&src),
        &dst,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    ) {
        let _ = std::fs::remove_file(&dst);
        return Err(sys_err(format!(
            "bind {} to {}",
            src.display(),
            dst.display()
        ))(e));
    }
    remove(from)?;
    Ok(())
}
