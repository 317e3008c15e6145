//! Removing what netloom made: processes, FRR files, namespaces.

use crate::error::{io_err, ExecError};
use crate::frr::{conf_dir, frr_pathspace, netns_of_pathspace, run_dir, FRR_CONF_DIR, FRR_RUN_DIR};
use crate::ns::{netns_path, NETNS_RUN_DIR};
use crate::procs;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

/// How long processes get between SIGTERM and SIGKILL.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// How many times a purge scans for processes and ends them before it
/// gives up on ones that keep appearing.
const KILL_ROUNDS: usize = 4;

/// A process netloom ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovedProcess {
    pub pid: i32,
    /// Its command name (`/proc/<pid>/comm`).
    pub comm: String,
    /// The namespace (or FRR pathspace) it belonged to.
    pub owner: String,
}

/// What a cleanup (or teardown) removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CleanupReport {
    /// Namespaces whose `/run/netns` entry was removed.
    pub namespaces: Vec<String>,
    pub processes: Vec<RemovedProcess>,
    /// FRR directories removed (`/etc/frr/<ps>`, `/var/run/frr/<ps>`).
    pub frr_dirs: Vec<PathBuf>,
    /// All of the above, one human-readable line per object.
    pub removed: Vec<String>,
}

impl CleanupReport {
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty() && self.processes.is_empty() && self.frr_dirs.is_empty()
    }

    fn summarise(&mut self) {
        self.removed = self
            .processes
            .iter()
            .map(|p| format!("process {} ({}) of {}", p.pid, p.comm, p.owner))
            .chain(
                self.frr_dirs
                    .iter()
                    .map(|d| format!("directory {}", d.display())),
            )
            .chain(self.namespaces.iter().map(|n| format!("namespace {n}")))
            .collect();
    }
}

/// The namespace inode behind a `/run/netns` entry, if it is bound.
fn netns_inode(netns: &str) -> Option<u64> {
    let file = std::fs::File::open(netns_path(netns)).ok()?;
    if !crate::ns::is_nsfs(&file) {
        return None;
    }
    file.metadata().ok().map(|m| m.ino())
}

/// Kills every process in (or marked with) the given namespaces and FRR
/// pathspaces (as given to FRR), removes the pathspaces' directories, then
/// unmounts and removes the namespaces. Missing things are fine.
pub(crate) fn purge(
    namespaces: &BTreeSet<String>,
    pathspaces: &BTreeSet<String>,
) -> Result<CleanupReport, ExecError> {
    purge_within(namespaces, pathspaces, GRACE)
}

/// [`purge`] giving processes `grace` to end after SIGTERM before SIGKILL
/// (zero: what is left of a failed node, killed at once).
pub(crate) fn purge_within(
    namespaces: &BTreeSet<String>,
    pathspaces: &BTreeSet<String>,
    grace: Duration,
) -> Result<CleanupReport, ExecError> {
    let mut report = CleanupReport::default();
    let t0 = std::time::Instant::now();
    // A router served by its former standby twin has its pathspace
    // directories as links to the twin's: those go too.
    let mut pathspaces = pathspaces.clone();
    for ps in pathspaces.clone() {
        for dir in [conf_dir(&ps), run_dir(&ps)] {
            if let Ok(target) = std::fs::read_link(&dir) {
                if let Some(name) = target.file_name().and_then(|n| n.to_str()) {
                    pathspaces.insert(name.to_string());
                }
            }
        }
    }
    let pathspaces = &pathspaces;
    let mut inodes: BTreeMap<u64, &String> = namespaces
        .iter()
        .filter_map(|n| netns_inode(n).map(|ino| (ino, n)))
        .collect();
    // A namespace whose file is gone (deleted under a running router) is
    // still known by the inode its FRR daemons are in.
    for n in namespaces {
        if !inodes.values().any(|known| *known == n) {
            if let Some(ino) = frr_netns_inode(&frr_pathspace(n)) {
                inodes.insert(ino, n);
            }
        }
    }
    // Only a namespace known by no inode needs every process's environment
    // read for netloom's mark.
    let environ = namespaces.len() > inodes.len();
    let find_victims = || -> Vec<RemovedProcess> {
        procs::scan_where(&|ino| inodes.contains_key(&ino), environ)
            .into_iter()
            .filter_map(|p| {
                let owner = p
                    .netns_ino
                    .and_then(|ino| inodes.get(&ino).map(|n| n.to_string()))
                    .or_else(|| p.env_mark.clone().filter(|m| namespaces.contains(m)))
                    .or_else(|| p.frr_mark.clone().filter(|m| pathspaces.contains(m)))?;
                Some(RemovedProcess {
                    pid: p.pid,
                    comm: p.comm,
                    owner,
                })
            })
            .collect()
    };
    let mut victims = find_victims();
    let t_scanned = t0.elapsed();
    let mut first_error = None;
    // A process that forks while the others are being ended (a shell
    // running `cmd &`, a restart loop) leaves a child the first scan did
    // not see: scan again until a round finds nothing, a few rounds at most.
    for _ in 0..KILL_ROUNDS {
        if victims.is_empty() {
            break;
        }
        let pids: Vec<i32> = victims.iter().map(|v| v.pid).collect();
        if let Err(e) = procs::terminate(&pids, grace) {
            first_error.get_or_insert(e);
        }
        report.processes.append(&mut victims);
        victims = find_victims()
            .into_iter()
            .filter(|v| !report.processes.iter().any(|r| r.pid == v.pid))
            .collect();
    }
    if !victims.is_empty() {
        first_error.get_or_insert(ExecError::Unkillable {
            pids: victims.iter().map(|v| v.pid).collect(),
        });
    }
    let pids = report.processes.len();
    let t_killed = t0.elapsed();
    for ps in pathspaces {
        for dir in [conf_dir(ps), run_dir(ps)] {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => report.frr_dirs.push(dir),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    first_error.get_or_insert(io_err(format!("remove {}", dir.display()))(e));
                }
            }
        }
    }
    let t_dirs = t0.elapsed();
    for netns in namespaces {
        match crate::ns::remove(netns) {
            Ok(true) => report.namespaces.push(netns.clone()),
            Ok(false) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    for netns in namespaces {
        if netns_path(netns).exists() {
            first_error.get_or_insert(ExecError::StillPresent(format!("namespace {netns}")));
        }
    }
    tracing::debug!(
        namespaces = namespaces.len(),
        processes = pids,
        scan_ms = t_scanned.as_secs_f64() * 1e3,
        processes_ms = t_killed.as_secs_f64() * 1e3,
        dirs_ms = t_dirs.as_secs_f64() * 1e3,
        total_ms = t0.elapsed().as_secs_f64() * 1e3,
        "purged"
    );
    report.summarise();
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// The namespace inode of a running FRR daemon of pathspace `ps` (from
/// its pid files). Only a process that is that pathspace's daemon counts
/// (a pid file can outlive its daemon, and its pid be reused), and never
/// the namespace netloom itself runs in.
fn frr_netns_inode(ps: &str) -> Option<u64> {
    frr_netns_pid(ps).and_then(procs::netns_inode_of)
}

/// A running FRR daemon of pathspace `ps` that is in a namespace other
/// than netloom's own (see [`frr_netns_inode`]).
pub(crate) fn frr_netns_pid(ps: &str) -> Option<i32> {
    frr_pids(ps).into_iter().next()
}

/// The FRR daemons of pathspace `ps` that run (by their pid files, each
/// checked to run with that pathspace, or with the twin's that serves it,
/// and outside netloom's own namespace).
pub(crate) fn frr_pids(ps: &str) -> Vec<i32> {
    let own = procs::netns_inode_of(std::process::id() as i32);
    // A router served by its former twin: its directory links to the
    // twin's, whose daemons run with the twin's pathspace.
    let served_by = std::fs::read_link(run_dir(ps))
        .ok()
        .and_then(|t| t.file_name()?.to_str().map(str::to_string));
    let ours = |p: Option<String>| p.is_some_and(|p| p == ps || Some(&p) == served_by.as_ref());
    let Ok(dir) = std::fs::read_dir(run_dir(ps)) else {
        return Vec::new();
    };
    dir.flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.ends_with(".pid")))
        .filter_map(|e| {
            std::fs::read_to_string(e.path())
                .ok()?
                .trim()
                .parse::<i32>()
                .ok()
        })
        .filter(|pid| ours(procs::frr_pathspace_of(*pid)))
        .filter(|pid| procs::netns_inode_of(*pid).is_some_and(|ino| Some(ino) != own))
        .collect()
}

/// Names in a directory (missing directory: none).
fn dir_names(dir: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Mount points directly under `/run/netns` (from mountinfo).
fn netns_mounts() -> Vec<String> {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let prefix = format!("{NETNS_RUN_DIR}/");
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter_map(|mp| mp.strip_prefix(&prefix))
        .filter(|n| !n.contains('/'))
        .map(str::to_string)
        .collect()
}

/// Everything present whose name `owned` accepts (given the namespace
/// name): namespaces (entries and mounts), FRR pathspace directories, and
/// namespaces and pathspaces named by the marks of running processes.
pub(crate) fn find_owned(owned: &dyn Fn(&str) -> bool) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut namespaces: BTreeSet<String> = dir_names(NETNS_RUN_DIR)
        .into_iter()
        .chain(netns_mounts())
        .filter(|n| owned(n))
        .collect();
    let mut pathspaces: BTreeSet<String> = dir_names(FRR_CONF_DIR)
        .into_iter()
        .chain(dir_names(FRR_RUN_DIR))
        .filter(|ps| owned(&netns_of_pathspace(ps)))
        .collect();
    for p in procs::scan() {
        if let Some(m) = p.env_mark.filter(|m| owned(m)) {
            namespaces.insert(m);
        }
        if let Some(m) = p.frr_mark.filter(|m| owned(&netns_of_pathspace(m))) {
            pathspaces.insert(m);
        }
    }
    for n in &namespaces {
        pathspaces.insert(frr_pathspace(n));
    }
    (namespaces, pathspaces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command};
    use std::time::Instant;

    /// Starts `sh` under the name `zebra` with `-N ps` (as an FRR daemon
    /// of pathspace `ps` looks), in a new network namespace or not, and
    /// waits until its command line shows it.
    fn fake_daemon(ps: &str, own_netns: bool) -> Child {
        // `read` keeps it alive with no child of its own: killing it
        // leaves nothing behind.
        let script = format!("exec -a zebra /bin/sh -c 'read x; :' -N {ps}");
        let mut cmd = if own_netns {
            let mut c = Command::new("bash");
            c.args(["-c", &script]);
            c
        } else {
            let mut c = Command::new("unshare");
            c.args(["--net", "bash", "-c", &script]);
            c
        };
        let child = cmd
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("start a fake daemon");
        let deadline = Instant::now() + Duration::from_secs(5);
        while procs::frr_pathspace_of(child.id() as i32).as_deref() != Some(ps) {
            assert!(
                Instant::now() < deadline,
                "the fake daemon never showed -N {ps}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        child
    }

    /// A repair finds a namespace whose file is gone through the pid files
    /// of its FRR daemons; a daemon in netloom's own namespace must never
    /// name it, or the purge would kill every process of the machine's
    /// namespace.
    #[test]
    fn a_pathspace_is_found_in_its_namespace_but_never_in_netlooms_own() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: needs root");
            return;
        }
        let ps = format!("nlt-unit{}+r1", std::process::id());
        let dir = run_dir(&ps);
        std::fs::create_dir_all(&dir).unwrap();
        let mut results = Vec::new();
        for own in [true, false] {
            let mut child = fake_daemon(&ps, own);
            std::fs::write(dir.join("zebra.pid"), child.id().to_string()).unwrap();
            results.push((own, frr_netns_pid(&ps), child.id() as i32));
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&dir);
        for (own, found, pid) in results {
            if own {
                assert_eq!(found, None, "a daemon in netloom's own namespace was taken");
            } else {
                assert_eq!(
                    found,
                    Some(pid),
                    "the daemon in its own namespace was not found"
                );
            }
        }
    }
}
