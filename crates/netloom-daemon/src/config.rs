//! Where the daemon keeps its files and how it is reached.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default state directory of the daemon.
pub const DEFAULT_HOME: &str = "/var/lib/netloom";
/// Default address of the API: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7447";

/// The daemon's configuration. Environment variables override defaults:
/// `NETLOOM_HOME`, `NETLOOM_PREFIX`, `NETLOOM_LISTEN`, and
/// `NETLOOM_FRR_POLL_FIX=off` to start FRR without the poll fix.
#[derive(Debug, Clone)]
pub struct Config {
    /// State directory: database, token, daemon info, logs.
    pub home: PathBuf,
    /// Ownership prefix of every kernel object this daemon creates.
    pub prefix: String,
    pub listen: SocketAddr,
    /// Start FRR's daemons with the poll fix
    /// ([`netloom_linux::frrpoll`]); on unless `NETLOOM_FRR_POLL_FIX`
    /// is `off`, `0`, `no` or `false`.
    pub frr_poll_fix: bool,
}

impl Config {
    pub fn from_env() -> Config {
        let home = std::env::var_os("NETLOOM_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_HOME));
        let prefix = std::env::var("NETLOOM_PREFIX")
            .unwrap_or_else(|_| netloom_plan::DEFAULT_PREFIX.to_string());
        let listen = std::env::var("NETLOOM_LISTEN")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default address"));
        let frr_poll_fix = !std::env::var("NETLOOM_FRR_POLL_FIX").is_ok_and(|v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "off" | "0" | "no" | "false"
            )
        });
        Config {
            home,
            prefix,
            listen,
            frr_poll_fix,
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.home.join("netloom.db")
    }
    pub fn token_path(&self) -> PathBuf {
        token_path(&self.home)
    }
    pub fn info_path(&self) -> PathBuf {
        info_path(&self.home)
    }
    pub fn log_path(&self) -> PathBuf {
        self.home.join("daemon.log")
    }
    /// Where the FRR poll fix library is written.
    pub fn lib_dir(&self) -> PathBuf {
        self.home.join("lib")
    }
    pub fn lock_path(&self) -> PathBuf {
        self.home.join("daemon.lock")
    }
}

pub fn token_path(home: &Path) -> PathBuf {
    home.join("token")
}

pub fn info_path(home: &Path) -> PathBuf {
    home.join("daemon.json")
}

/// What a running daemon publishes in `daemon.json` for clients.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DaemonInfo {
    pub pid: u32,
    /// The address actually bound (the port is real even when 0 was asked).
    pub addr: SocketAddr,
    pub prefix: String,
    pub version: String,
}
