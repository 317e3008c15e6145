//! What the supervisor needs from the machine: the processes a node runs
//! (as pidfds, so a death is an event and not something found by polling),
//! whether FRR daemons answer on their VTY sockets, a router's running
//! configuration, and fault injection for tests and chaos runs.
#![allow(unsafe_code)]

use crate::error::ExecError;
use crate::frr::{frr_pathspace, run_dir};
use crate::ns::open_netns;
use crate::procs;
use netloom_plan::{FrrPlan, NodePlan};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::Duration;

/// A descriptor that becomes readable when process `pid` ends
/// (`pidfd_open(2)`).
pub fn pidfd(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: a plain system call with two integer arguments; on success
    // it returns a new descriptor that we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just handed us this descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Waits until one of the pidfds `fds` is readable (its process ended) or
/// `limit` has passed.
pub(crate) fn wait_any(fds: &[&OwnedFd], limit: Duration) {
    let mut polled: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(*fd),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // Rounded up: a wait of 0.3 ms must not become a busy loop.
    let ms = limit.as_micros().div_ceil(1000).clamp(1, i32::MAX as u128) as i32;
    // SAFETY: `polled` is a valid array of `polled.len()` pollfd structures
    // for the duration of the call.
    unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, ms) };
}

/// True while a process exists and is not a zombie (a dead process whose
/// parent has not collected it yet counts as dead).
pub fn alive(pid: i32) -> bool {
    procs::alive(pid)
}

/// One process a node cannot do without.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vital {
    /// An FRR daemon's name, or the command name of an exec process.
    pub what: String,
    pub pid: i32,
}

/// The processes of a node that must stay alive: its FRR daemons (from
/// their pid files, checked to live in the node's namespace) and the
/// processes its `exec` commands left running. A daemon that should run
/// but does not is returned in the second list.
pub fn vitals(node: &NodePlan) -> (Vec<Vital>, Vec<String>) {
    vitals_all(std::slice::from_ref(node)).remove(0)
}

/// [`vitals`] of many nodes with one look at the machine's processes.
pub fn vitals_all(nodes: &[NodePlan]) -> Vec<(Vec<Vital>, Vec<String>)> {
    let scanned = if nodes.iter().any(|n| !n.exec.is_empty()) {
        procs::scan()
    } else {
        Vec::new()
    };
    nodes.iter().map(|n| vitals_of(n, &scanned)).collect()
}

fn vitals_of(node: &NodePlan, scanned: &[procs::ProcInfo]) -> (Vec<Vital>, Vec<String>) {
    let ns_ino = open_netns(&node.netns)
        .ok()
        .and_then(|f| f.metadata().ok())
        .map(|m| m.ino());
    let mut alive = Vec::new();
    let mut dead = Vec::new();
    if let Some(frr) = &node.frr {
        let run = run_dir(&frr_pathspace(&frr.pathspace));
        for daemon in &frr.daemons {
            let pid = std::fs::read_to_string(run.join(format!("{daemon}.pid")))
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok())
                .filter(|&p| {
                    procs::alive(p)
                        && std::fs::metadata(format!("/proc/{p}/ns/net"))
                            .ok()
                            .map(|m| m.ino())
                            == ns_ino
                });
            match pid {
                Some(pid) => alive.push(Vital {
                    what: daemon.clone(),
                    pid,
                }),
                None => dead.push(daemon.clone()),
            }
        }
    }
    if !node.exec.is_empty() {
        for p in scanned {
            if p.exec_mark && p.env_mark.as_deref() == Some(node.netns.as_str()) {
                alive.push(Vital {
                    what: p.comm.clone(),
                    pid: p.pid,
                });
            }
        }
    }
    (alive, dead)
}

/// Asks an FRR daemon for `show version` on its VTY socket and waits up to
/// `timeout` for the answer: a frozen or hung daemon does not answer
/// (`TimedOut`).
pub fn vty_probe(frr: &FrrPlan, daemon: &str, timeout: Duration) -> io::Result<()> {
    crate::frr::vty_command(&frr.pathspace, daemon, "show version", timeout).map(|_| ())
}

/// A router's running configuration as `vtysh -c 'show running-config'`
/// prints it, from its first `!` on (the "Building configuration" lines
/// and the FRR version line dropped), ready to be a `frr.conf`.
pub fn running_config(
    vtysh: &std::path::Path,
    netns: &str,
    frr: &FrrPlan,
    timeout: Duration,
) -> Result<String, ExecError> {
    let ps = frr_pathspace(&frr.pathspace);
    let mut cmd = Command::new(vtysh);
    cmd.arg("-N").arg(&ps).arg("-c").arg("show running-config");
    // Inside the node: vtysh writes its own host name into the
    // configuration, which must be the node's, not the machine's.
    let (done, stdout) = crate::run::run_in_stdout(cmd, netns, "vtysh", timeout)?;
    if !done.status.success() {
        return Err(ExecError::Vtysh {
            action: "show the running configuration".into(),
            detail: crate::run::describe(&done),
        });
    }
    let config = clean_running_config(&stdout);
    // A configuration that does not end as vtysh ends one was cut short.
    if !config.trim_end().ends_with("end") {
        return Err(ExecError::Vtysh {
            action: "show the running configuration".into(),
            detail: format!(
                "the answer does not end with `end` ({} bytes); not saved",
                config.len()
            ),
        });
    }
    Ok(config)
}

/// Drops what `show running-config` adds around the configuration.
pub fn clean_running_config(text: &str) -> String {
    let mut out = String::new();
    let mut started = false;
    for line in text.lines() {
        if !started {
            if line.starts_with("Building configuration")
                || line.starts_with("Current configuration")
                || line.trim().is_empty()
            {
                continue;
            }
            started = true;
        }
        if line.starts_with("frr version ") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// How to break a node on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// SIGKILL its processes (FRR daemons; a host's exec processes).
    Kill,
    /// SIGSTOP them: alive but silent (a hung device).
    Freeze,
    /// Delete its network namespace (links, addresses and all).
    Netns,
}

/// Breaks a node; returns what it did.
pub fn inject(node: &NodePlan, mode: FailMode) -> Result<String, ExecError> {
    match mode {
        FailMode::Kill | FailMode::Freeze => {
            let (vitals, _) = vitals(node);
            if vitals.is_empty() {
                return Err(ExecError::Inject(format!(
                    "node {} runs no process to {}",
                    node.name,
                    if mode == FailMode::Kill {
                        "kill"
                    } else {
                        "freeze"
                    }
                )));
            }
            let sig = if mode == FailMode::Kill {
                Signal::SIGKILL
            } else {
                Signal::SIGSTOP
            };
            for v in &vitals {
                let _ = kill(Pid::from_raw(v.pid), sig);
            }
            let names: Vec<String> = vitals.iter().map(|v| v.what.clone()).collect();
            Ok(format!("sent {sig:?} to {}", names.join(", ")))
        }
        FailMode::Netns => {
            let existed = crate::ns::remove(&node.netns)?;
            if !existed {
                return Err(ExecError::Inject(format!(
                    "node {} has no namespace to delete",
                    node.name
                )));
            }
            Ok(format!("deleted namespace {}", node.netns))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_configuration() {
        let text = "Building configuration...\n\nCurrent configuration:\n!\nfrr version 8.4.4\nfrr defaults traditional\nhostname r1\n!\nend\n";
        assert_eq!(
            clean_running_config(text),
            "!\nfrr defaults traditional\nhostname r1\n!\nend\n"
        );
    }

    #[test]
    fn pidfd_of_a_live_and_a_dead_process() {
        let me = std::process::id() as i32;
        assert!(pidfd(me).is_ok());
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        assert!(pidfd(pid).is_err(), "a reaped process has no pidfd");
    }
}
