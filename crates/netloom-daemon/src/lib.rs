//! The netloom daemon: one per machine (per state directory), it owns the
//! labs.
//!
//! - [`Config`]: where its files live (`NETLOOM_HOME`), its ownership prefix
//!   and its listen address (loopback by default).
//! - [`store::Store`]: lab records and events in SQLite, so a restarted
//!   daemon sees the labs it deployed (they keep running while it is down).
//! - [`service::Service`]: deploy, destroy, cleanup, inspect: the planner,
//!   the Linux executor and the store tied together, blocking.
//! - [`api`]: the HTTP API over the service, bearer-token protected.
//! - [`serve`]: binds, writes `daemon.json` and the 0600 token file, serves
//!   until SIGTERM/SIGINT.

pub mod api;
pub mod auth;
pub mod chaos;
pub mod config;
pub mod edit;
pub mod heal;
pub mod openapi;
pub mod routing;
pub mod service;
pub mod store;
pub mod supervisor;
pub mod web;
pub mod ws;

pub use config::{Config, DaemonInfo};

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

/// Locks a mutex, going on with the data of a thread that panicked.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Errors that stop the daemon from starting.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot prepare state directory {path}")]
    Home {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("another netloom daemon already runs for {0}")]
    AlreadyRunning(String),
    #[error("invalid ownership prefix")]
    Prefix(#[from] netloom_plan::PlanError),
    #[error("cannot open the state store")]
    Store(#[from] store::StoreError),
    #[error("cannot adopt recorded labs")]
    Adopt(#[from] service::ServiceError),
    #[error("cannot listen on {addr}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("server failed")]
    Serve(#[source] std::io::Error),
}

fn home_err(path: &Path) -> impl FnOnce(std::io::Error) -> DaemonError + '_ {
    move |source| DaemonError::Home {
        path: path.display().to_string(),
        source,
    }
}

/// Reads the token file, creating it (0600, random) when absent.
pub fn load_or_create_token(path: &Path) -> std::io::Result<String> {
    if let Ok(t) = fs::read_to_string(path) {
        let t = t.trim().to_string();
        if t.len() >= 32 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
            return Ok(t);
        }
    }
    let bytes: [u8; 32] = rand::random();
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = path.with_extension("tmp");
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(token.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, path)?;
    Ok(token)
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn serve(cfg: Config) -> Result<(), DaemonError> {
    netloom_plan::check_prefix(&cfg.prefix)?;
    fs::create_dir_all(&cfg.home).map_err(home_err(&cfg.home))?;
    fs::set_permissions(&cfg.home, fs::Permissions::from_mode(0o700))
        .map_err(home_err(&cfg.home))?;

    let lock_file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(cfg.lock_path())
        .map_err(home_err(&cfg.home))?;
    let _lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map_err(|_| DaemonError::AlreadyRunning(cfg.home.display().to_string()))?;

    let token = load_or_create_token(&cfg.token_path()).map_err(home_err(&cfg.home))?;
    let store = store::Store::open(&cfg.db_path())?;
    let mut exec = netloom_linux::Executor::new();
    if cfg.frr_poll_fix {
        match netloom_linux::frrpoll::install(&cfg.lib_dir()) {
            Ok(lib) => {
                tracing::info!(lib = %lib.display(), "FRR daemons start with the poll fix");
                exec.frr_preload = Some(lib);
            }
            Err(e) => tracing::warn!(
                dir = %cfg.lib_dir().display(),
                error = %e,
                "could not write the FRR poll fix; FRR daemons start without it"
            ),
        }
    } else {
        tracing::info!("NETLOOM_FRR_POLL_FIX is off: FRR daemons start without the poll fix");
    }
    let service = service::Service::new(cfg.prefix.clone(), store, exec).into_arc();
    let adopted = service.adopt()?;
    tracing::info!(labs = ?adopted, "adopted running labs");
    // Watches the labs from now on; repairs what failed while no daemon
    // ran (its first look is at once).
    supervisor::start(service.clone()).map_err(DaemonError::Serve)?;

    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| DaemonError::Listen {
            addr: cfg.listen.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(DaemonError::Serve)?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "listening on a non-loopback address: anyone who can reach it and holds the token controls root shells on this machine");
    }
    let info = DaemonInfo {
        pid: std::process::id(),
        addr,
        prefix: cfg.prefix.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let info_tmp = cfg.info_path().with_extension("tmp");
    fs::write(
        &info_tmp,
        serde_json::to_vec_pretty(&info).unwrap_or_default(),
    )
    .and_then(|_| fs::rename(&info_tmp, cfg.info_path()))
    .map_err(home_err(&cfg.home))?;
    tracing::info!(%addr, home = %cfg.home.display(), "netloom daemon listening");

    let state = Arc::new(api::ApiState::new(service, token, addr));
    // The web page, logged in: valid once, for 10 minutes (`netloom web`
    // prints a new one).
    println!(
        "netloom: web page at {} (one-time login link; `netloom web` prints a new one)",
        auth::login_url(&state.auth, addr)
    );
    let app = api::router(state);
    // Streamed deploy progress is many small writes: without TCP_NODELAY
    // each one can wait 40 ms for a delayed ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    let _ = fs::remove_file(cfg.info_path());
    result.map_err(DaemonError::Serve)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
