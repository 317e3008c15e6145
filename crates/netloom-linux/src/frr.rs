//! FRR per router: files, daemons, configuration.
//!
//! Each router gets its own FRR pathspace: `/etc/frr/<ps>/` (frr.conf,
//! vtysh.conf) and `/var/run/frr/<ps>/` (pid files, vty sockets, logs). The
//! daemons start the way FRR's own `frrcommon.sh` starts them (`-d -N <ps>`,
//! `-A 127.0.0.1`), inside the router's namespace, zebra first; each reads
//! the integrated configuration itself (`-f`).

use crate::error::{io_err, ExecError};
use crate::run::{describe, run_in};
use crate::Executor;
use netloom_plan::FrrPlan;
use nix::unistd::{chown, Gid, Group, Uid, User};
use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// FRR's configuration root.
pub const FRR_CONF_DIR: &str = "/etc/frr";
/// FRR's state root (pid files, vty sockets).
pub const FRR_RUN_DIR: &str = "/var/run/frr";

/// How long one daemon may take to daemonize.
const DAEMON_START_TIMEOUT: Duration = Duration::from_secs(30);

/// The pathspace FRR is actually given for a planned pathspace.
///
/// FRR refuses `.` (and `/`) in `-N`, but namespace names are
/// `{prefix}-{lab}.{node}`; `.` becomes `+`, which lab and node names never
/// contain, so the mapping is reversible ([`netns_of_pathspace`]).
pub fn frr_pathspace(planned: &str) -> String {
    planned.replace('.', "+")
}

/// The inverse of [`frr_pathspace`].
pub fn netns_of_pathspace(pathspace: &str) -> String {
    pathspace.replace('+', ".")
}

/// `/etc/frr/<ps>` for an FRR pathspace (as given to FRR).
pub fn conf_dir(pathspace: &str) -> PathBuf {
    Path::new(FRR_CONF_DIR).join(pathspace)
}

/// `/var/run/frr/<ps>` for an FRR pathspace (as given to FRR).
pub fn run_dir(pathspace: &str) -> PathBuf {
    Path::new(FRR_RUN_DIR).join(pathspace)
}

/// Runs one command on a router's FRR daemon through its vty socket
/// (`/var/run/frr/<ps>/<daemon>.vty`, `planned` the plan's pathspace), as
/// vtysh does: the command goes out ending in a NUL, the answer ends in
/// three NULs and a status byte (0: the command succeeded). Costs well
/// under a millisecond, against tens for starting vtysh; `timeout` bounds
/// the whole exchange (a hung daemon).
pub fn vty_command(
    planned: &str,
    daemon: &str,
    command: &str,
    timeout: Duration,
) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let path = run_dir(&frr_pathspace(planned)).join(format!("{daemon}.vty"));
    let mut sock = std::os::unix::net::UnixStream::connect(&path)?;
    let end = std::time::Instant::now() + timeout;
    let left = || {
        end.checked_duration_since(std::time::Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("{daemon} did not answer `{command}` within {timeout:?}"),
                )
            })
    };
    sock.set_write_timeout(Some(left()?))?;
    let mut line = command.as_bytes().to_vec();
    line.push(0);
    sock.write_all(&line)?;
    let mut out = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        sock.set_read_timeout(Some(left()?))?;
        let n = match sock.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                left()?;
                continue;
            }
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{daemon} closed its vty before answering `{command}`"),
            ));
        }
        out.extend_from_slice(&buf[..n]);
        if out.len() >= 4 && out[out.len() - 4..out.len() - 1] == [0, 0, 0] {
            let status = out[out.len() - 1];
            out.truncate(out.len() - 4);
            let text = String::from_utf8_lossy(&out).into_owned();
            return if status == 0 {
                Ok(text)
            } else {
                Err(std::io::Error::other(format!(
                    "{daemon} refused `{command}` (status {status}): {}",
                    text.trim()
                )))
            };
        }
    }
}

struct Ids {
    frr_uid: Uid,
    frr_gid: Gid,
    vty_gid: Gid,
}

fn ids() -> Result<Ids, ExecError> {
    let user = User::from_name("frr")
        .ok()
        .flatten()
        .ok_or(ExecError::NoSuchUser {
            what: "user",
            name: "frr".into(),
        })?;
    let group = Group::from_name("frr")
        .ok()
        .flatten()
        .ok_or(ExecError::NoSuchUser {
            what: "group",
            name: "frr".into(),
        })?;
    let vty = Group::from_name("frrvty").ok().flatten();
    Ok(Ids {
        frr_uid: user.uid,
        frr_gid: group.gid,
        vty_gid: vty.map_or(group.gid, |g| g.gid),
    })
}

fn make_dir(path: &Path, mode: u32, ids: &Ids) -> Result<(), ExecError> {
    std::fs::create_dir_all(path).map_err(io_err(format!("create {}", path.display())))?;
    std::fs::set_permissions(path, Permissions::from_mode(mode))
        .map_err(io_err(format!("set the mode of {}", path.display())))?;
    chown(path, Some(ids.frr_uid), Some(ids.frr_gid))
        .map_err(|e| io_err(format!("chown {}", path.display()))(e.into()))
}

fn write_file(path: &Path, text: &str, gid: Gid, ids: &Ids) -> Result<(), ExecError> {
    std::fs::write(path, text).map_err(io_err(format!("write {}", path.display())))?;
    std::fs::set_permissions(path, Permissions::from_mode(0o640))
        .map_err(io_err(format!("set the mode of {}", path.display())))?;
    chown(path, Some(ids.frr_uid), Some(gid))
        .map_err(|e| io_err(format!("chown {}", path.display()))(e.into()))
}

/// The last lines of a daemon's log file, for error messages.
fn log_tail(path: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// Starts the FRR daemons of one router inside `netns` and applies its
/// configuration. Checks every daemon binary first.
pub(crate) fn start(
    exec: &Executor,
    netns: &str,
    frr: &FrrPlan,
    check: bool,
) -> Result<(), ExecError> {
    for daemon in &frr.daemons {
        let path = exec.frr_bin_dir.join(daemon);
        if !path.is_file() {
            return Err(ExecError::DaemonMissing {
                daemon: daemon.clone(),
                path,
            });
        }
    }
    let ps = frr_pathspace(&frr.pathspace);
    let ids = ids()?;
    let conf = conf_dir(&ps);
    let run = run_dir(&ps);
    make_dir(&conf, 0o750, &ids)?;
    write_file(&conf.join("frr.conf"), &frr.config, ids.frr_gid, &ids)?;
    write_file(
        &conf.join("vtysh.conf"),
        "service integrated-vtysh-config\n",
        ids.vty_gid,
        &ids,
    )?;
    make_dir(&run, 0o755, &ids)?;
    let conf_file = conf.join("frr.conf");
    // Check the whole configuration first (no daemon needed), so a bad line
    // fails the deploy with its line number; unless the caller knows it is
    // good (a repair, or a joint check of the whole phase passed).
    let conf_arg = conf_file.display().to_string();
    let t0 = std::time::Instant::now();
    if check {
        vtysh(
            exec,
            netns,
            &ps,
            &["-C", "-f", &conf_arg],
            "accept the configuration",
        )?;
        tracing::debug!(
            ms = t0.elapsed().as_secs_f64() * 1e3,
            "FRR configuration checked"
        );
    }

    // Every daemon reads the integrated configuration as it starts (and
    // skips the other daemons' lines): sessions come up with their final
    // settings at once, and `frr defaults`, which only takes effect at
    // start, applies. Applying it afterwards with `vtysh -b` doubled the
    // time to converge of a BGP fabric (bench/fabric).
    let start_one = |daemon: &String| -> Result<(), ExecError> {
        let log = run.join(format!("{daemon}.log"));
        let mut cmd = Command::new(exec.frr_bin_dir.join(daemon));
        cmd.arg("-d")
            .arg("-N")
            .arg(&ps)
            .arg("-i")
            .arg(run.join(format!("{daemon}.pid")))
            .arg("-A")
            .arg("127.0.0.1")
            .arg("-f")
            .arg(&conf_file)
            .arg("--log")
            .arg(format!("file:{}", log.display()));
        if let Some(lib) = &exec.frr_preload {
            let mut preload = lib.as_os_str().to_owned();
            if let Some(more) = std::env::var_os("LD_PRELOAD").filter(|v| !v.is_empty()) {
                preload.push(":");
                preload.push(more);
            }
            cmd.env("LD_PRELOAD", preload);
        }
        if daemon == "zebra" {
            // As Debian's /etc/frr/daemons: a large netlink buffer.
            cmd.arg("-s").arg("90000000");
        }
        let done = run_in(cmd, netns, daemon, DAEMON_START_TIMEOUT).map_err(|e| match e {
            ExecError::CommandTimeout { output, .. } => ExecError::DaemonFailed {
                daemon: daemon.clone(),
                detail: format!("did not daemonize within 30 s{output}"),
            },
            other => other,
        })?;
        tracing::debug!(%daemon, ms = t0.elapsed().as_secs_f64() * 1e3, "FRR daemon started");
        if !done.status.success() {
            let mut detail = describe(&done);
            let tail = log_tail(&log);
            if !tail.is_empty() {
                detail.push_str("; log: ");
                detail.push_str(&tail);
            }
            return Err(ExecError::DaemonFailed {
                daemon: daemon.clone(),
                detail,
            });
        }
        Ok(())
    };
    // zebra first (the others connect to it as they start; it listens
    // before it daemonizes), then the others at once: each daemonizes
    // only once it has read its configuration (~35-60 ms here), and one
    // after the other they made up half of a router's start.
    let (first, rest): (Vec<&String>, Vec<&String>) =
        frr.daemons.iter().partition(|d| d.as_str() == "zebra");
    for daemon in first {
        start_one(daemon)?;
    }
    let results: Vec<Result<(), ExecError>> = std::thread::scope(|s| {
        let handles: Vec<_> = rest
            .iter()
            .map(|daemon| s.spawn(|| start_one(daemon)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(ExecError::Panicked)))
            .collect()
    });
    results.into_iter().collect::<Result<Vec<()>, _>>()?;

    // Each daemon's exit status after daemonizing says it is up; a
    // `vtysh -c 'show version'` per router cost 300 extra processes on a
    // 300-router fabric while its BGP sessions were coming up.

    Ok(())
}

/// Checks many routers' configurations with one `vtysh -C` (run in
/// `netns`, any namespace of the lab): they are joined with a `hostname`
/// line between them, which takes vtysh back to the top level, so one
/// router's last section does not swallow the next one's first lines. True
/// when vtysh accepts them all; on false each router checks its own (for
/// an error with its line). One `vtysh -C` costs 30-80 ms, mostly its
/// start: 300 routers' configurations take ~0.3 s together, against 9-24 s
/// of CPU one by one.
pub(crate) fn check_all(exec: &Executor, netns: &str, configs: &[&str]) -> bool {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("netloom-check-{}-{n}.conf", std::process::id()));
    let mut text = String::new();
    for c in configs {
        text.push_str("hostname netloom-check\n");
        text.push_str(c);
        if !c.ends_with('\n') {
            text.push('\n');
        }
    }
    if std::fs::write(&path, text).is_err() {
        return false;
    }
    let mut cmd = Command::new(&exec.vtysh);
    cmd.arg("-C").arg("-f").arg(&path);
    let limit = exec.exec_timeout.max(Duration::from_secs(60));
    let ok = run_in(cmd, netns, "vtysh", limit).is_ok_and(|done| done.status.success());
    let _ = std::fs::remove_file(&path);
    ok
}

fn vtysh(
    exec: &Executor,
    netns: &str,
    ps: &str,
    args: &[&str],
    action: &str,
) -> Result<(), ExecError> {
    let mut cmd = Command::new(&exec.vtysh);
    cmd.arg("-N").arg(ps).args(args);
    let done = run_in(cmd, netns, "vtysh", exec.exec_timeout).map_err(|e| match e {
        ExecError::CommandTimeout { secs, .. } => ExecError::Vtysh {
            action: action.to_string(),
            detail: format!("no answer within {secs} s"),
        },
        other => other,
    })?;
    if done.status.success() {
        Ok(())
    } else {
        Err(ExecError::Vtysh {
            action: action.to_string(),
            detail: describe(&done),
        })
    }
}
