//! Running programs inside namespaces with a time limit.
//!
//! Output goes to an unlinked temporary file, never to a pipe: a command
//! that leaves a background process behind (`iperf3 -s -D`, `sleep 1000 &`)
//! would otherwise keep the pipe open and hang the deploy.

use crate::error::{io_err, ExecError};
use crate::ns::{in_netns, new_session, own_hostname};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How much of a command's output an error message keeps (the end).
const OUTPUT_TAIL: usize = 2000;

/// What a finished program left.
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub output: String,
}

/// A fresh anonymous file (created, then unlinked at once).
fn scratch_file() -> std::io::Result<File> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("netloom-out-{}-{n}", std::process::id()));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

/// Runs `cmd` inside `netns` in its own session, stdin from /dev/null,
/// stdout and stderr to a scratch file. `Err(CommandTimeout)` after
/// `timeout` (the whole session is killed then).
pub(crate) fn run_in(
    cmd: Command,
    netns: &str,
    label: &str,
    timeout: Duration,
) -> Result<Finished, ExecError> {
    run_in_with(cmd, netns, label, timeout, None)
}

/// [`run_in`] that also returns the whole of standard output (standard
/// error alone goes to [`Finished::output`]), for commands whose output is
/// the result (a running configuration), not a message.
pub(crate) fn run_in_stdout(
    cmd: Command,
    netns: &str,
    label: &str,
    timeout: Duration,
) -> Result<(Finished, String), ExecError> {
    let mut stdout = scratch_file().map_err(io_err("create a scratch file for command output"))?;
    let finished = run_in_with(cmd, netns, label, timeout, Some(&stdout))?;
    let mut bytes = Vec::new();
    stdout
        .seek(SeekFrom::Start(0))
        .and_then(|_| stdout.read_to_end(&mut bytes))
        .map_err(io_err(format!("read the output of `{label}`")))?;
    Ok((finished, String::from_utf8_lossy(&bytes).into_owned()))
}

fn run_in_with(
    mut cmd: Command,
    netns: &str,
    label: &str,
    timeout: Duration,
    stdout: Option<&File>,
) -> Result<Finished, ExecError> {
    let mut out = scratch_file().map_err(io_err("create a scratch file for command output"))?;
    let err = out
        .try_clone()
        .map_err(io_err("duplicate a file descriptor"))?;
    let out2 = match stdout {
        Some(f) => f.try_clone(),
        None => out.try_clone(),
    }
    .map_err(io_err("duplicate a file descriptor"))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(out2))
        .stderr(Stdio::from(err));
    in_netns(&mut cmd, netns).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ExecError::NetnsMissing(netns.to_string())
        } else {
            io_err(format!("open namespace {netns}"))(e)
        }
    })?;
    new_session(&mut cmd);
    // `{prefix}-{lab}.{node}`: the node's name becomes the hostname.
    // (A standby twin's namespace `...node~sN` is the node's too.)
    if let Some((_, node)) = netns.split_once('.') {
        own_hostname(&mut cmd, node.split('~').next().unwrap_or(node));
    }
    let mut child = cmd.spawn().map_err(io_err(format!("start `{label}`")))?;
    let start = Instant::now();
    // The child's pidfd wakes the wait as it exits: an FRR daemon
    // daemonizes in 35-60 ms, and pauses doubling up to 25 ms added up to
    // half of that again.
    let exited = crate::health::pidfd(child.id() as i32).ok();
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() >= timeout => break None,
            Ok(None) => match &exited {
                Some(fd) => crate::health::wait_any(&[fd], timeout.saturating_sub(start.elapsed())),
                None => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(25));
                }
            },
            Err(e) => return Err(io_err(format!("wait for `{label}`"))(e)),
        }
    };
    let output = read_tail(&mut out);
    match status {
        Some(status) => Ok(Finished { status, output }),
        None => {
            // The child leads its own session and process group.
            let _ = kill(Pid::from_raw(-(child.id() as i32)), Signal::SIGKILL);
            let _ = child.wait();
            Err(ExecError::CommandTimeout {
                command: label.to_string(),
                secs: timeout.as_secs(),
                output: if output.is_empty() {
                    String::new()
                } else {
                    format!(": {output}")
                },
            })
        }
    }
}

fn read_tail(file: &mut File) -> String {
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(0)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim();
    if text.len() <= OUTPUT_TAIL {
        return text.to_string();
    }
    let mut cut = text.len() - OUTPUT_TAIL;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    format!("...{}", &text[cut..])
}

/// "exited with code 1: <output>" and the like.
pub(crate) fn describe(f: &Finished) -> String {
    use std::os::unix::process::ExitStatusExt;
    let how = match (f.status.code(), f.status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => "failed".to_string(),
    };
    if f.output.is_empty() {
        how
    } else {
        format!("{how}: {}", f.output)
    }
}

/// Environment variable set on the node's `exec` commands.
pub const EXEC_ENV_MARK: &str = "NETLOOM_EXEC";

/// Runs one exec command of a node through `/bin/sh -c`.
pub(crate) fn shell(
    netns: &str,
    command: &str,
    env: &std::collections::BTreeMap<String, String>,
    timeout: Duration,
) -> Result<(), ExecError> {
    let mut cmd = Command::new("/bin/sh");
    // Processes an exec command leaves running carry this mark: they are
    // the node's own (the supervisor watches them), unlike commands run
    // later with `netloom exec`.
    cmd.arg("-c").arg(command).envs(env).env(EXEC_ENV_MARK, "1");
    let done = run_in(cmd, netns, command, timeout)?;
    if done.status.success() {
        Ok(())
    } else {
        Err(ExecError::CommandFailed {
            command: command.to_string(),
            detail: describe(&done),
        })
    }
}
