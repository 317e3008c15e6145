//! Finding and ending the processes of a lab.
//!
//! A process belongs to a namespace when `/proc/<pid>/ns/net` names the
//! namespace's inode (what `ip netns pids` compares). Two marks find them
//! even when the namespace file is already gone: the `NETLOOM_NETNS`
//! environment variable set on everything netloom starts, and the `-N
//! <pathspace>` argument of FRR daemons and vtysh.

use crate::error::ExecError;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

/// FRR programs whose `-N` argument is a netloom pathspace.
const FRR_PROGRAMS: &[&str] = &["vtysh", "watchfrr"];

/// One process as seen in `/proc`.
#[derive(Debug, Clone)]
pub(crate) struct ProcInfo {
    pub pid: i32,
    pub comm: String,
    /// Inode of its network namespace.
    pub netns_ino: Option<u64>,
    /// `NETLOOM_NETNS` from its environment.
    pub env_mark: Option<String>,
    /// The FRR pathspace (`-N`) it was started with.
    pub frr_mark: Option<String>,
    /// Started by (or left running by) a node's `exec` commands.
    pub exec_mark: bool,
}

/// The inode of a namespace reference such as `net:[4026532281]`.
fn parse_ns_link(link: &str) -> Option<u64> {
    link.strip_prefix("net:[")?.strip_suffix(']')?.parse().ok()
}

/// Every other process of the machine.
pub(crate) fn scan() -> Vec<ProcInfo> {
    scan_where(&|_| false, true)
}

/// Every other process of the machine, reading no more than needed: a
/// process in a namespace `known` accepts (by inode) is taken as it is,
/// the command line is read only for FRR's programs, and the environment
/// only with `environ`. Reading another process's command line and
/// environment is what a scan costs (~60 us a process here: 12 ms of a
/// 20 ms purge).
pub(crate) fn scan_where(known: &dyn Fn(u64) -> bool, environ: bool) -> Vec<ProcInfo> {
    let me = std::process::id() as i32;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let base = entry.path();
        let netns_ino = std::fs::read_link(base.join("ns/net"))
            .ok()
            .and_then(|l| l.to_str().and_then(parse_ns_link));
        let comm = std::fs::read_to_string(base.join("comm"))
            .map(|s| s.trim_end().to_string())
            .unwrap_or_default();
        let mut info = ProcInfo {
            pid,
            comm,
            netns_ino,
            env_mark: None,
            frr_mark: None,
            exec_mark: false,
        };
        if netns_ino.is_some_and(known) {
            out.push(info);
            continue;
        }
        if is_frr_program(&info.comm) {
            info.frr_mark = std::fs::read(base.join("cmdline"))
                .ok()
                .and_then(|c| frr_pathspace_arg(&c));
        }
        if environ {
            let environ = std::fs::read(base.join("environ")).unwrap_or_default();
            info.env_mark = environ.split(|b| *b == 0).find_map(|kv| {
                kv.strip_prefix(format!("{}=", crate::ns::NETNS_ENV_MARK).as_bytes())
                    .map(|v| String::from_utf8_lossy(v).into_owned())
            });
            info.exec_mark = environ
                .split(|b| *b == 0)
                .any(|kv| kv.starts_with(format!("{}=", crate::run::EXEC_ENV_MARK).as_bytes()));
        }
        out.push(info);
    }
    out
}

/// Whether a process name (`comm`) is one of FRR's daemons or tools.
fn is_frr_program(comm: &str) -> bool {
    netloom_model::FRR_DAEMONS.contains(&comm) || FRR_PROGRAMS.contains(&comm)
}

/// The FRR pathspace (`-N`) process `pid` runs with, if it is one of
/// FRR's programs.
pub(crate) fn frr_pathspace_of(pid: i32) -> Option<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .ok()
        .and_then(|c| frr_pathspace_arg(&c))
}

/// The inode of the network namespace process `pid` is in.
pub(crate) fn netns_inode_of(pid: i32) -> Option<u64> {
    std::fs::read_link(format!("/proc/{pid}/ns/net"))
        .ok()
        .and_then(|l| l.to_str().and_then(parse_ns_link))
}

/// The `-N`/`--pathspace` value of an FRR daemon's or vtysh's command line.
fn frr_pathspace_arg(cmdline: &[u8]) -> Option<String> {
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let prog = args.first()?.rsplit('/').next()?.to_string();
    let known = netloom_model::FRR_DAEMONS.contains(&prog.as_str())
        || FRR_PROGRAMS.contains(&prog.as_str());
    if !known {
        return None;
    }
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "-N" || a == "--pathspace" {
            return it.next().cloned();
        }
        if let Some(v) = a.strip_prefix("--pathspace=") {
            return Some(v.to_string());
        }
        if let Some(v) = a.strip_prefix("-N").filter(|v| !v.is_empty()) {
            return Some(v.to_string());
        }
    }
    None
}

/// True while a process exists and is not a zombie.
pub(crate) fn alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    match stat.rsplit_once(") ") {
        Some((_, rest)) => !matches!(rest.chars().next(), Some('Z') | Some('X')),
        None => false,
    }
}

/// Sends SIGTERM, waits up to `grace`, then SIGKILLs what is left and waits
/// for it to be gone. With no grace (what failed already), SIGKILL at once.
pub(crate) fn terminate(pids: &[i32], grace: Duration) -> Result<(), ExecError> {
    if pids.is_empty() {
        return Ok(());
    }
    let mut left = pids.to_vec();
    if !grace.is_zero() {
        for &pid in pids {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            // A stopped (frozen) process acts on the TERM only once continued.
            let _ = kill(Pid::from_raw(pid), Signal::SIGCONT);
        }
        left = wait_gone(pids, grace);
    }
    if !left.is_empty() {
        for &pid in &left {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        left = wait_gone(&left, Duration::from_secs(5));
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(ExecError::Unkillable { pids: left })
    }
}

/// Waits until `pids` are gone (or zombies), up to `limit`; returns those
/// still running. Each process's pidfd wakes the wait the moment it ends
/// (polling `/proc` with growing pauses added up to half the wait to a
/// repair); where pidfds are not available, it polls.
fn wait_gone(pids: &[i32], limit: Duration) -> Vec<i32> {
    let start = Instant::now();
    let mut watched = Vec::new();
    for &pid in pids {
        match crate::health::pidfd(pid) {
            Ok(fd) => watched.push((pid, fd)),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(_) => return wait_gone_polling(pids, limit),
        }
    }
    loop {
        watched.retain(|(pid, _)| alive(*pid));
        let left = limit.saturating_sub(start.elapsed());
        if watched.is_empty() || left.is_zero() {
            return watched.into_iter().map(|(pid, _)| pid).collect();
        }
        let fds: Vec<&OwnedFd> = watched.iter().map(|(_, fd)| fd).collect();
        crate::health::wait_any(&fds, left);
    }
}

fn wait_gone_polling(pids: &[i32], limit: Duration) -> Vec<i32> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        let left: Vec<i32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || start.elapsed() >= limit {
            return left;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_marks() {
        assert_eq!(parse_ns_link("net:[4026532281]"), Some(4026532281));
        assert_eq!(parse_ns_link("mnt:[1]"), None);
        let cmd = b"/usr/lib/frr/zebra\0-d\0-N\0nl-lab+r1\0-A\x00127.0.0.1\0";
        assert_eq!(frr_pathspace_arg(cmd).as_deref(), Some("nl-lab+r1"));
        assert_eq!(
            frr_pathspace_arg(b"/usr/bin/vtysh\0-Nx\0"),
            Some("x".into())
        );
        assert_eq!(frr_pathspace_arg(b"/usr/bin/foo\0-N\0x\0"), None);
    }
}
