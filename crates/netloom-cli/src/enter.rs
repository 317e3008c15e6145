//! Running a program "inside" a node, the way `ip netns exec` does and a
//! little more: the node's network namespace, a private mount namespace in
//! which `/sys` shows the node's interfaces and (for routers) `/etc/frr` and
//! `/var/run/frr` are the router's own FRR pathspace, so a plain `vtysh`
//! talks to this router; and a UTS namespace whose hostname is the node's
//! name, so shell prompts say where you are.
#![allow(unsafe_code)]

use anyhow::{Context, Result};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use std::ffi::{CStr, CString};
use std::fs::File;
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

fn cstr(s: &str) -> Result<CString> {
    CString::new(s).with_context(|| format!("path contains a NUL byte: {s:?}"))
}

/// Prepares `cmd` to start inside `target`.
pub fn prepare(cmd: &mut Command, target: &Target) -> Result<()> {
    let ns_path = format!("/run/netns/{}", target.netns);
    let ns = File::open(&ns_path)
        .with_context(|| format!("cannot open namespace {ns_path} (is the lab up?)"))?;
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
    let hostname = target.hostname.clone();
    // SAFETY: the closure runs in the child between fork and exec. It only
    // makes system calls (setns, unshare, mount, umount2, sethostname) on
    // values prepared before the fork and takes no lock; the CLI has a
    // single thread when it forks, so even the small allocation inside
    // nix's sethostname cannot meet a lock held by another thread.
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
            let _ = nix::unistd::sethostname(&hostname);
            Ok(())
        });
    }
    Ok(())
}
