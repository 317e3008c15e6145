//! WebSockets: the event stream and node consoles. Both are behind the
//! API guard (token or session, and no foreign `Origin`).

use crate::api::{ApiError, ApiState};
use crate::service::ServiceError;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::io::{Read, Write};
use std::sync::Arc;
use tokio::sync::mpsc;

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    /// Only this lab's events.
    pub lab: Option<String>,
    /// First send the recorded events after this id (0: all of them).
    pub after: Option<i64>,
}

/// `GET /api/v1/events/ws?lab=L&after=ID`: every event as one JSON text
/// frame (the shape of `GET /api/v1/events`), as it happens.
pub async fn events(
    State(state): State<Arc<ApiState>>,
    q: Result<Query<EventsQuery>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let q = crate::api::query(q)?;
    let upgrade = websocket(upgrade)?;
    Ok(upgrade.on_upgrade(move |socket| stream_events(state, q, socket)))
}

/// The upgrade, or a JSON `not_a_websocket` error (not axum's plain text).
fn websocket(
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<WebSocketUpgrade, ApiError> {
    upgrade.map_err(|e| ApiError::new(e.status(), "not_a_websocket", e.body_text()))
}

async fn stream_events(state: Arc<ApiState>, q: EventsQuery, mut socket: WebSocket) {
    // Subscribe before reading the backlog: nothing falls in between
    // (duplicates are skipped by id).
    let mut feed = state.service.store().subscribe();
    let mut last = 0i64;
    if let Some(after) = q.after {
        let service = state.service.clone();
        let lab = q.lab.clone();
        let backlog = tokio::task::spawn_blocking(move || {
            service.store().events(lab.as_deref(), after, 10_000)
        })
        .await;
        for e in backlog.into_iter().flatten().flatten() {
            last = e.id;
            let text = serde_json::to_string(&e).unwrap_or_default();
            if socket.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
    }
    loop {
        tokio::select! {
            got = feed.recv() => match got {
                Ok(e) => {
                    if e.id <= last || q.lab.as_ref().is_some_and(|l| *l != e.lab) {
                        continue;
                    }
                    last = e.id;
                    let text = serde_json::to_string(&e).unwrap_or_default();
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    let note = serde_json::json!({
                        "kind": "lagged",
                        "message": format!("{n} events were skipped; read them with GET /api/v1/events?after={last}"),
                    });
                    if socket.send(Message::Text(note.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                // Pings are answered by axum; anything else is ignored.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ConsoleQuery {
    #[serde(default = "default_cols")]
    pub cols: u16,
    #[serde(default = "default_rows")]
    pub rows: u16,
    /// The program to run (default `/bin/bash`).
    pub shell: Option<String>,
}

fn default_cols() -> u16 {
    80
}

fn default_rows() -> u16 {
    24
}

/// A control message from the page (text frames).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Control {
    Resize { cols: u16, rows: u16 },
}

/// `GET /api/v1/labs/{lab}/nodes/{node}/console?cols=C&rows=R`: a root
/// shell inside the node on a pseudo-terminal. Binary frames carry the
/// terminal's bytes both ways; a text frame `{"type":"resize","cols":C,
/// "rows":R}` resizes it. Closing the socket hangs the shell up.
pub async fn console(
    State(state): State<Arc<ApiState>>,
    Path((lab, node)): Path<(String, String)>,
    q: Result<Query<ConsoleQuery>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let q = crate::api::query(q)?;
    let upgrade = websocket(upgrade)?;
    let service = state.service.clone();
    let lab2 = lab.clone();
    let plan = tokio::task::spawn_blocking(move || service.plan_of(&lab2))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "panic", e.to_string()))??;
    let Some(n) = plan.node(&node) else {
        return Err(ServiceError::NodeNotFound { lab, node }.into());
    };
    let target = netloom_linux::enter::Target {
        netns: n.netns.clone(),
        hostname: n.name.to_string(),
        frr_pathspace: n.frr.as_ref().map(|f| f.pathspace.clone()),
    };
    let program = q.shell.clone().unwrap_or_else(|| "/bin/bash".to_string());
    let mut cmd = std::process::Command::new(&program);
    cmd.env("TERM", "xterm-256color")
        .env("NETLOOM_NODE", &node)
        .env("NETLOOM_LAB", &lab)
        .env("HOME", "/root")
        .current_dir("/root");
    let pty = netloom_linux::enter::spawn_pty(cmd, &target, q.cols, q.rows).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "console_failed",
            format!("cannot start `{program}` on node {node}: {e}"),
        )
    })?;
    tracing::info!(lab = %lab, node = %node, pid = pty.child.id(), "console opened");
    Ok(upgrade.on_upgrade(move |socket| run_console(socket, pty)))
}

async fn run_console(mut socket: WebSocket, pty: netloom_linux::enter::PtyChild) {
    let netloom_linux::enter::PtyChild { mut child, master } = pty;
    let Ok(mut reader) = master.try_clone() else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    let mut writer = master;
    // The terminal's output, read on a thread of its own (reads block).
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(64);
    // Not joined: a job the user left running in the background may hold
    // the terminal open a little longer; the thread ends with it.
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match reader.read(&mut buf) {
                // EIO: the shell and everything on the terminal is gone.
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if out_tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    loop {
        tokio::select! {
            out = out_rx.recv() => match out {
                Some(bytes) => {
                    if socket.send(Message::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                }
                None => {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Binary(bytes))) => {
                    if writer.write_all(&bytes).is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Text(text))) => {
                    match serde_json::from_str::<Control>(&text) {
                        Ok(Control::Resize { cols, rows }) => {
                            let _ = netloom_linux::enter::resize_pty(&writer, cols, rows);
                        }
                        // Plain text typed by a simple client.
                        Err(_) => {
                            if writer.write_all(text.as_bytes()).is_err() {
                                break;
                            }
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
        }
    }
    // Hang up: the shell's session gets SIGHUP, then it is killed.
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGHUP);
    drop(writer);
    let waited = tokio::task::spawn_blocking(move || {
        for _ in 0..20 {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
    })
    .await;
    let _ = waited;
}
