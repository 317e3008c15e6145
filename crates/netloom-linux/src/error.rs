//! Errors of the Linux executor.

use std::path::PathBuf;

/// What went wrong while touching the kernel or a process.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    #[error("cannot {what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot {what}")]
    Sys {
        what: String,
        #[source]
        source: nix::errno::Errno,
    },
    #[error("netlink request to {what} failed")]
    Netlink {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot {what}")]
    Wire {
        what: String,
        #[source]
        source: netloom_wire::WireError,
    },
    #[error("no wire runs for link {0} in this daemon")]
    NoWire(String),
    #[error("namespace {0} already exists")]
    NetnsExists(String),
    #[error("namespace {0} does not exist")]
    NetnsMissing(String),
    #[error("bridge {bridge} does not exist in namespace {netns}")]
    BridgeMissing { netns: String, bridge: String },
    #[error("sysctl {0} is not a per-namespace network setting (must start with `net.`)")]
    SysctlNotNet(String),
    #[error("command `{command}` {detail}")]
    CommandFailed { command: String, detail: String },
    #[error("command `{command}` did not finish within {secs} s{output}")]
    CommandTimeout {
        command: String,
        secs: u64,
        output: String,
    },
    #[error("FRR daemon {daemon} is not installed here (no {})", path.display())]
    DaemonMissing { daemon: String, path: PathBuf },
    #[error("{daemon} exited: {detail}")]
    DaemonFailed { daemon: String, detail: String },
    #[error("vtysh could not {action}: {detail}")]
    Vtysh { action: String, detail: String },
    #[error("{what} `{name}` does not exist; is FRR installed?")]
    NoSuchUser { what: &'static str, name: String },
    #[error("processes {pids:?} survived SIGKILL")]
    Unkillable { pids: Vec<i32> },
    #[error("{0} is still present after removal")]
    StillPresent(String),
    #[error("invalid ownership prefix")]
    Prefix(#[source] netloom_plan::PlanError),
    #[error("a worker thread panicked")]
    Panicked,
    #[error("{0}")]
    Inject(String),
}

pub(crate) fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ExecError {
    let what = what.into();
    move |source| ExecError::Io { what, source }
}

pub(crate) fn sys_err(what: impl Into<String>) -> impl FnOnce(nix::errno::Errno) -> ExecError {
    let what = what.into();
    move |source| ExecError::Sys { what, source }
}

pub(crate) fn netlink_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ExecError {
    let what = what.into();
    move |source| ExecError::Netlink { what, source }
}

/// A failed deploy: which step on which node, why, and whether undoing the
/// steps already applied went wrong too.
#[derive(Debug, thiserror::Error)]
#[error("step `{step}` on node {node} failed{}", rollback_note(.rollback))]
pub struct ApplyError {
    /// The phase the step belonged to (`namespaces`, `routers`, ...).
    pub phase: String,
    /// The step's description ([`netloom_plan::Step::describe`]).
    pub step: String,
    pub node: String,
    #[source]
    pub source: ExecError,
    /// Set when the rollback itself failed; the lab may then have leftovers
    /// that `cleanup` removes.
    pub rollback: Option<Box<ExecError>>,
}

fn rollback_note(rollback: &Option<Box<ExecError>>) -> String {
    match rollback {
        None => String::new(),
        Some(e) => format!(" (and undoing the applied steps failed too: {})", chain(e)),
    }
}

/// An error and its causes, joined by `: ` (what `anyhow`'s `{:#}` prints).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}
