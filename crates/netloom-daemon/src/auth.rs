//! Who may use the API.
//!
//! - Programs present the daemon's token (`Authorization: Bearer`, the
//!   0600 file in the state directory).
//! - Browsers log in once with a one-time link (`/login?t=...`, printed by
//!   `netloom serve` and `netloom web`, valid 10 minutes, usable once)
//!   and then carry an HttpOnly, SameSite=Strict session cookie.
//! - Every request must name this daemon in `Host` (no DNS rebinding).
//! - A request that carries `Origin` (browsers do on WebSocket upgrades and
//!   on cross-site requests) must come from this daemon's own page: a
//!   foreign page can neither open a console nor change a lab.

use crate::api::{ApiError, ApiState};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Name of the browser session cookie.
pub const COOKIE: &str = "netloom_session";
/// How long a login link stays valid.
pub const LOGIN_TTL: Duration = Duration::from_secs(600);

/// Credentials of one daemon.
pub struct Auth {
    token: String,
    /// One-time login secrets and when they expire.
    logins: Mutex<HashMap<String, Instant>>,
    /// Sessions of logged-in browsers.
    sessions: Mutex<HashSet<String>>,
}

fn secret() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Auth {
    pub fn new(token: String) -> Auth {
        Auth {
            token,
            logins: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashSet::new()),
        }
    }

    /// A new one-time login secret.
    pub fn mint_login(&self) -> String {
        let s = secret();
        let mut logins = lock(&self.logins);
        let now = Instant::now();
        logins.retain(|_, expires| *expires > now);
        logins.insert(s.clone(), now + LOGIN_TTL);
        s
    }

    /// Trades a login secret (once) for a new session id.
    pub fn redeem(&self, login: &str) -> Option<String> {
        let expires = lock(&self.logins).remove(login)?;
        if expires <= Instant::now() {
            return None;
        }
        let session = secret();
        lock(&self.sessions).insert(session.clone());
        Some(session)
    }

    pub fn token_ok(&self, presented: &str) -> bool {
        constant_time_eq(presented.trim().as_bytes(), self.token.as_bytes())
    }

    pub fn session_ok(&self, session: &str) -> bool {
        lock(&self.sessions).contains(session)
    }

    pub fn logout(&self, session: &str) {
        lock(&self.sessions).remove(session);
    }
}

/// The `Host` values that name this daemon.
fn own_hosts(addr: SocketAddr) -> [String; 4] {
    let port = addr.port();
    [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        addr.to_string(),
    ]
}

fn host_allowed(headers: &HeaderMap, addr: SocketAddr) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        // HTTP/1.0 clients may omit Host; the token still protects.
        return true;
    };
    own_hosts(addr).iter().any(|a| a.eq_ignore_ascii_case(host))
}

/// No `Origin`, or this daemon's own page.
fn origin_allowed(headers: &HeaderMap, addr: SocketAddr) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(origin) = origin.to_str().ok() else {
        return false;
    };
    own_hosts(addr)
        .iter()
        .any(|h| origin.eq_ignore_ascii_case(&format!("http://{h}")))
}

/// The session cookie's value, if the request carries one.
pub fn session_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// Every route: `Host` must name this daemon.
pub async fn host_guard(State(state): State<Arc<ApiState>>, req: Request, next: Next) -> Response {
    if !host_allowed(req.headers(), state.addr) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_host",
            "the Host header does not name this daemon",
        )
        .into_response();
    }
    next.run(req).await
}

/// API routes: the token or a session, and no foreign `Origin`.
pub async fn api_guard(State(state): State<Arc<ApiState>>, req: Request, next: Next) -> Response {
    match authorize(&state, req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The check of [`api_guard`], for answers that no route gives (an
/// unknown path under `/api/`).
pub(crate) fn authorize(state: &ApiState, headers: &HeaderMap) -> Result<(), ApiError> {
    if !origin_allowed(headers, state.addr) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_origin",
            "requests from other web pages are refused (the Origin header does not name this daemon)",
        ));
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    match (bearer, session_of(headers)) {
        (Some(t), _) if state.auth.token_ok(t) => Ok(()),
        (Some(_), _) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_token",
            "the token is wrong",
        )),
        (None, Some(s)) if state.auth.session_ok(s) => Ok(()),
        (None, Some(_)) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_session",
            "the session is not known (the daemon restarted?): log in again with `netloom web`",
        )),
        (None, None) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "no_token",
            "missing `Authorization: Bearer <token>` (or a session: log in with the link `netloom web` prints)",
        )),
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    t: String,
}

/// `GET /login?t=SECRET`: sets the session cookie and goes to the page.
pub async fn login(State(state): State<Arc<ApiState>>, Query(q): Query<LoginQuery>) -> Response {
    match state.auth.redeem(&q.t) {
        Some(session) => {
            let cookie = format!("{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict");
            let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        None => (
            StatusCode::UNAUTHORIZED,
            Html(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>netloom</title></head>\
                 <body style=\"font-family: sans-serif; margin: 3em\"><h1>netloom</h1>\
                 <p>This login link was already used or has expired (links are valid once, for 10 minutes).</p>\
                 <p>Run <code>netloom web</code> for a new one.</p></body></html>",
            ),
        )
            .into_response(),
    }
}

/// Body of `POST /api/v1/login-links`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginLink {
    /// Opens the page logged in; valid once, for 10 minutes.
    pub url: String,
}

/// `POST /api/v1/login-links`: a new one-time login link.
pub async fn login_link(State(state): State<Arc<ApiState>>) -> Json<LoginLink> {
    Json(LoginLink {
        url: login_url(&state.auth, state.addr),
    })
}

/// A one-time login URL for this daemon.
pub fn login_url(auth: &Auth, addr: SocketAddr) -> String {
    let host = if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    };
    format!("http://{host}/login?t={}", auth.mint_login())
}

/// `POST /api/v1/logout`: forgets this browser's session.
pub async fn logout(State(state): State<Arc<ApiState>>, headers: HeaderMap) -> Response {
    if let Some(s) = session_of(&headers) {
        state.auth.logout(s);
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("netloom_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_link_works_once() {
        let auth = Auth::new("tok".into());
        let l = auth.mint_login();
        let s = auth.redeem(&l).expect("first use");
        assert!(auth.session_ok(&s));
        assert!(auth.redeem(&l).is_none(), "second use");
        assert!(!auth.session_ok("other"));
        auth.logout(&s);
        assert!(!auth.session_ok(&s));
    }

    #[test]
    fn reads_the_session_among_other_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; netloom_session=abc; b=2"),
        );
        assert_eq!(session_of(&h), Some("abc"));
    }

    #[test]
    fn only_our_own_page_is_an_allowed_origin() {
        let addr: SocketAddr = "127.0.0.1:7447".parse().unwrap();
        let mut h = HeaderMap::new();
        assert!(origin_allowed(&h, addr));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:7447"),
        );
        assert!(origin_allowed(&h, addr));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!origin_allowed(&h, addr));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:7448"),
        );
        assert!(!origin_allowed(&h, addr));
    }
}
