//! Errors of the wire.

use crate::sched::PropsError;

/// What went wrong while creating or driving a wire.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    #[error("cannot {what}")]
    Sys {
        what: String,
        #[source]
        source: nix::errno::Errno,
    },
    #[error("cannot {what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid link properties")]
    Props(#[from] PropsError),
    #[error("interface name {0:?} is not valid (1 to 15 bytes, no '/', ':' or whitespace)")]
    BadName(String),
    #[error("the wire thread of {0} has stopped")]
    Stopped(String),
}

impl WireError {
    pub(crate) fn sys(what: impl Into<String>, source: nix::errno::Errno) -> Self {
        WireError::Sys {
            what: what.into(),
            source,
        }
    }
}
