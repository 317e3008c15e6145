//! The HTTP API. Every route requires `Authorization: Bearer <token>`; the
//! `Host` header must name this daemon (no DNS rebinding). Errors are JSON
//! `{"code": ..., "message": ...}` with a stable code.

use crate::auth::{self, Auth};
use crate::edit::{AddLink, AddNode, Applied};
use crate::service::NodeView;
use crate::service::{DeployProgress, LabView, Service, ServiceError};
use crate::{openapi, ws};
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use netloom_model::Topology;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Shared state of the HTTP layer.
pub struct ApiState {
    pub service: Arc<Service>,
    pub auth: Auth,
    /// The bound address; `Host` must match it (or `localhost`).
    pub addr: SocketAddr,
}

impl ApiState {
    pub fn new(service: Arc<Service>, token: String, addr: SocketAddr) -> ApiState {
        ApiState {
            service,
            auth: Auth::new(token),
            addr,
        }
    }
}

/// A JSON error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub code: String,
    pub message: String,
}

/// An error response.
pub struct ApiError {
    status: StatusCode,
    body: ApiErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ApiErrorBody {
                code: code.to_string(),
                message: message.into(),
            },
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        let status = match &e {
            ServiceError::NotFound(_) | ServiceError::NodeNotFound { .. } => StatusCode::NOT_FOUND,
            ServiceError::AlreadyDeployed(_)
            | ServiceError::Busy(_)
            | ServiceError::Leftovers(_) => StatusCode::CONFLICT,
            ServiceError::Invalid(_) | ServiceError::BadLink(_) | ServiceError::BadEdit(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.code(), e.chain())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Builds the router: the API (token or session), the login route and
/// the web page (no token: it carries no lab data), all behind the `Host`
/// check.
pub fn router(state: Arc<ApiState>) -> Router {
    use axum::routing::{delete, patch};
    let api = Router::new()
        .route("/api/v1/version", get(version))
        .route("/api/v1/login-links", post(auth::login_link))
        .route("/api/v1/logout", post(auth::logout))
        .route("/api/v1/labs", get(list_labs).post(deploy))
        .route(
            "/api/v1/labs/{lab}",
            get(inspect).delete(destroy).put(apply_lab),
        )
        .route("/api/v1/labs/{lab}/export", get(export))
        .route("/api/v1/labs/{lab}/nodes", post(add_node))
        .route(
            "/api/v1/labs/{lab}/nodes/{node}",
            delete(remove_node).patch(move_node),
        )
        .route("/api/v1/labs/{lab}/nodes/{node}/exec", post(exec))
        .route("/api/v1/labs/{lab}/nodes/{node}/config", get(node_config))
        .route("/api/v1/labs/{lab}/nodes/{node}/console", get(ws::console))
        .route("/api/v1/labs/{lab}/plan", get(lab_plan))
        .route("/api/v1/labs/{lab}/routing", get(lab_routing))
        .route("/api/v1/labs/{lab}/save", post(save_lab))
        .route(
            "/api/v1/labs/{lab}/chaos",
            get(chaos_view).post(chaos_start).delete(chaos_stop),
        )
        .route("/api/v1/labs/{lab}/nodes/{node}/fail", post(fail_node))
        .route("/metrics", get(metrics))
        .route("/api/v1/labs/{lab}/links", post(add_link))
        .route(
            "/api/v1/labs/{lab}/links/{endpoint}",
            patch(change_link).delete(remove_link),
        )
        .route("/api/v1/cleanup", post(cleanup))
        .route("/api/v1/events", get(events))
        .route("/api/v1/events/ws", get(ws::events))
        .route("/api/openapi.json", get(openapi::document))
        // Before the guard, which then wraps it like the routes: a wrong
        // method is told only to a caller with the token.
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::api_guard,
        ));
    Router::new()
        .merge(api)
        .route("/login", get(auth::login))
        .merge(crate::web::routes())
        .fallback(no_such_route)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::host_guard,
        ))
        .with_state(state)
}

/// A path no route serves. Under `/api/`: the token check first (a caller
/// without it learns nothing about which paths exist, and gets the same
/// 401 as on a real route), then a JSON `no_such_route`. Elsewhere (the
/// web page's namespace): an empty 404, as before.
async fn no_such_route(
    State(state): State<Arc<ApiState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    if !path.starts_with("/api/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Err(e) = auth::authorize(&state, &headers) {
        return e.into_response();
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        format!("no API route `{method} {path}` (/api/openapi.json lists them)"),
    )
    .into_response()
}

/// A known API route asked with a method it does not take (after the
/// token check; axum adds the `Allow` header).
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "`{}` does not take {method} (the Allow header lists what it takes)",
            uri.path()
        ),
    )
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionView {
    pub version: String,
    pub prefix: String,
    pub pid: u32,
}

async fn version(State(state): State<Arc<ApiState>>) -> Json<VersionView> {
    Json(VersionView {
        version: env!("CARGO_PKG_VERSION").to_string(),
        prefix: state.service.prefix().to_string(),
        pid: std::process::id(),
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "panic", e.to_string()))?
        .map_err(ApiError::from)
}

async fn list_labs(State(state): State<Arc<ApiState>>) -> ApiResult<Vec<LabView>> {
    let service = state.service.clone();
    Ok(Json(blocking(move || service.list()).await?))
}

async fn inspect(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
) -> ApiResult<LabView> {
    let service = state.service.clone();
    Ok(Json(blocking(move || service.inspect(&lab)).await?))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Destroyed {
    pub lab: String,
}

async fn destroy(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
) -> ApiResult<Destroyed> {
    let service = state.service.clone();
    let name = lab.clone();
    blocking(move || service.destroy(&name)).await?;
    Ok(Json(Destroyed { lab }))
}

/// Body of `POST /api/v1/labs` and `PUT /api/v1/labs/{lab}`: a topology
/// file's text (`yaml`, netloom or containerlab format, checked like a
/// file: errors name line and column) or an already parsed `topology`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployRequest {
    #[serde(default)]
    pub topology: Option<Topology>,
    #[serde(default)]
    pub yaml: Option<String>,
}

impl DeployRequest {
    /// The topology it carries, checked.
    pub fn into_topology(self) -> Result<Topology, ApiError> {
        match (self.topology, self.yaml) {
            (Some(t), None) => Ok(t),
            (None, Some(text)) => {
                netloom_spec::load_str(&text, "request.yaml", std::path::Path::new("/"))
                    .map(|l| l.topology)
                    .map_err(|d| {
                        ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "invalid_topology",
                            d.to_string(),
                        )
                    })
            }
            _ => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "give exactly one of `yaml` (a topology file's text) or `topology`",
            )),
        }
    }
}

/// One line of the NDJSON stream `POST /api/v1/labs` answers with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum DeployEvent {
    Progress(DeployProgress),
    Done { lab: Box<LabView> },
    Error(ApiErrorBody),
}

/// Deploys a lab, answering with a stream of [`DeployEvent`]s, one JSON
/// object per line. The deploy goes on if the client disconnects.
async fn deploy(
    State(state): State<Arc<ApiState>>,
    body: Result<Json<DeployRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let topology = match body {
        Ok(Json(r)) => match r.into_topology() {
            Ok(t) => t,
            Err(e) => return e.into_response(),
        },
        Err(e) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text())
                .into_response()
        }
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<DeployEvent>();
    let service = state.service.clone();
    tokio::task::spawn_blocking(move || {
        let progress_tx = tx.clone();
        let result = service.deploy(&topology, &move |p| {
            let _ = progress_tx.send(DeployEvent::Progress(p));
        });
        let last = match result {
            Ok(view) => DeployEvent::Done {
                lab: Box::new(view),
            },
            Err(e) => DeployEvent::Error(ApiErrorBody {
                code: e.code().to_string(),
                message: e.chain(),
            }),
        };
        let _ = tx.send(last);
    });
    let stream = tokio_stream::wrappers::UnboundedReceiverStream::new(rx);
    let lines = tokio_stream::StreamExt::map(stream, |ev| {
        let mut line = serde_json::to_vec(&ev).unwrap_or_default();
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(line)
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(lines))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))
}

/// A query string, or a JSON `bad_request` (not axum's plain text).
pub(crate) fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))
}

/// Applies a changed topology to a running lab: `PUT /api/v1/labs/{lab}`
/// with a [`DeployRequest`]. Only what differs is touched.
async fn apply_lab(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
    body: Result<Json<DeployRequest>, JsonRejection>,
) -> ApiResult<Applied> {
    let topology = json_body(body)?.into_topology()?;
    if topology.name.as_str() != lab {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_change",
            format!("the topology names lab `{}`, not `{lab}`", topology.name),
        ));
    }
    let service = state.service.clone();
    Ok(Json(
        blocking(move || service.apply_topology(&topology, &|_| {})).await?,
    ))
}

async fn add_node(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
    body: Result<Json<AddNode>, JsonRejection>,
) -> Result<(StatusCode, Json<NodeView>), ApiError> {
    let req = json_body(body)?;
    let service = state.service.clone();
    let node = blocking(move || service.add_node(&lab, &req)).await?;
    Ok((StatusCode::CREATED, Json(node)))
}

async fn remove_node(
    State(state): State<Arc<ApiState>>,
    Path((lab, node)): Path<(String, String)>,
) -> ApiResult<Applied> {
    let service = state.service.clone();
    Ok(Json(
        blocking(move || service.remove_node(&lab, &node)).await?,
    ))
}

/// Body of `PATCH /api/v1/labs/{lab}/nodes/{node}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodePatch {
    /// The node's place on the canvas; `null` forgets it.
    pub position: Option<netloom_model::Position>,
}

async fn move_node(
    State(state): State<Arc<ApiState>>,
    Path((lab, node)): Path<(String, String)>,
    body: Result<Json<NodePatch>, JsonRejection>,
) -> ApiResult<NodeView> {
    let patch = json_body(body)?;
    let service = state.service.clone();
    Ok(Json(
        blocking(move || service.move_node(&lab, &node, patch.position)).await?,
    ))
}

async fn add_link(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
    body: Result<Json<AddLink>, JsonRejection>,
) -> Result<(StatusCode, Json<crate::service::LinkView>), ApiError> {
    let req = json_body(body)?;
    let service = state.service.clone();
    let link = blocking(move || service.add_link(&lab, &req)).await?;
    Ok((StatusCode::CREATED, Json(link)))
}

async fn remove_link(
    State(state): State<Arc<ApiState>>,
    Path((lab, endpoint)): Path<(String, String)>,
) -> ApiResult<Applied> {
    let service = state.service.clone();
    Ok(Json(
        blocking(move || service.remove_link(&lab, &endpoint)).await?,
    ))
}

/// Saves the running configuration of every router of a lab.
async fn save_lab(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
) -> ApiResult<crate::heal::Saved> {
    let service = state.service.clone();
    Ok(Json(blocking(move || service.save(&lab)).await?))
}

/// Breaks a node on purpose: `{"mode": "kill" | "freeze" | "netns"}`.
async fn fail_node(
    State(state): State<Arc<ApiState>>,
    Path((lab, node)): Path<(String, String)>,
    body: Result<Json<crate::heal::FailRequest>, JsonRejection>,
) -> ApiResult<crate::heal::Failed> {
    let req = json_body(body)?;
    let service = state.service.clone();
    Ok(Json(
        blocking(move || service.fail(&lab, &node, &req.mode)).await?,
    ))
}

/// Starts a chaos run ([`crate::chaos::ChaosRequest`]).
async fn chaos_start(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
    body: Result<Json<crate::chaos::ChaosRequest>, JsonRejection>,
) -> ApiResult<crate::chaos::ChaosView> {
    let req = json_body(body)?;
    let service = state.service.clone();
    Ok(Json(
        blocking(move || service.start_chaos(&lab, &req)).await?,
    ))
}

async fn chaos_view(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
) -> ApiResult<crate::chaos::ChaosView> {
    Ok(Json(state.service.chaos_view(&lab)?))
}

async fn chaos_stop(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
) -> ApiResult<crate::chaos::ChaosView> {
    Ok(Json(state.service.stop_chaos(&lab)?))
}

/// Recovery figures, Prometheus text format.
async fn metrics(State(state): State<Arc<ApiState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.service.metrics(),
    )
        .into_response()
}

/// The running lab as a topology file (live changes included).
async fn export(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
) -> Result<Response, ApiError> {
    let service = state.service.clone();
    let topo = blocking(move || service.topology_of(&lab)).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        netloom_spec::to_yaml(&topo),
    )
        .into_response())
}

/// Changes a running link: `PATCH /api/v1/labs/{lab}/links/{node:iface}`
/// with a [`crate::service::LinkChange`].
async fn change_link(
    State(state): State<Arc<ApiState>>,
    Path((lab, endpoint)): Path<(String, String)>,
    body: Result<Json<crate::service::LinkChange>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<crate::service::LinkView> {
    let Json(change) =
        body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let service = state.service.clone();
    Ok(Json(
        blocking(move || service.change_link(&lab, &endpoint, &change)).await?,
    ))
}

/// The plan a lab was deployed with (live changes included).
async fn lab_plan(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
) -> ApiResult<netloom_plan::Plan> {
    let service = state.service.clone();
    Ok(Json(blocking(move || service.plan_of(&lab)).await?))
}

async fn lab_routing(
    State(state): State<Arc<ApiState>>,
    Path(lab): Path<String>,
) -> ApiResult<crate::routing::LabRouting> {
    let service = state.service.clone();
    Ok(Json(blocking(move || service.routing(&lab)).await?))
}

/// A router's rendered FRR configuration and daemons.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeConfig {
    pub node: String,
    pub daemons: Vec<String>,
    pub config: String,
}

async fn node_config(
    State(state): State<Arc<ApiState>>,
    Path((lab, node)): Path<(String, String)>,
) -> ApiResult<NodeConfig> {
    let service = state.service.clone();
    let plan = blocking(move || service.plan_of(&lab)).await?;
    let Some(n) = plan.node(&node) else {
        return Err(ServiceError::NodeNotFound {
            lab: plan.lab.to_string(),
            node,
        }
        .into());
    };
    let Some(frr) = &n.frr else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_router",
            format!(
                "node `{node}` is a {}, not a router: it has no FRR configuration",
                n.kind
            ),
        ));
    };
    Ok(Json(NodeConfig {
        node,
        daemons: frr.daemons.clone(),
        config: frr.config.clone(),
    }))
}

/// Body of `POST /api/v1/cleanup`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CleanupRequest {
    /// Only this lab's leftovers; all of this daemon's otherwise.
    #[serde(default)]
    pub lab: Option<String>,
}

async fn cleanup(
    State(state): State<Arc<ApiState>>,
    body: Result<Json<CleanupRequest>, JsonRejection>,
) -> ApiResult<crate::service::CleanupView> {
    let req = json_body(body)?;
    let service = state.service.clone();
    Ok(Json(
        blocking(move || service.cleanup(req.lab.as_deref())).await?,
    ))
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventsQuery {
    pub lab: Option<String>,
    #[serde(default)]
    pub after: i64,
    pub limit: Option<usize>,
}

async fn events(
    State(state): State<Arc<ApiState>>,
    q: Result<Query<EventsQuery>, QueryRejection>,
) -> ApiResult<Vec<crate::store::Event>> {
    let q = query(q)?;
    let service = state.service.clone();
    Ok(Json(
        blocking(move || {
            Ok(service.store().events(
                q.lab.as_deref(),
                q.after,
                q.limit.unwrap_or(1000).min(10_000),
            )?)
        })
        .await?,
    ))
}

/// Body of `POST /api/v1/labs/{lab}/nodes/{node}/exec`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecRequest {
    /// Program and arguments (no shell).
    pub command: Vec<String>,
    /// Seconds before the command is killed; default 30.
    #[serde(default)]
    pub timeout_s: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecResult {
    /// `None` when killed by a signal or the timeout.
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

async fn exec(
    State(state): State<Arc<ApiState>>,
    Path((lab, node)): Path<(String, String)>,
    body: Result<Json<ExecRequest>, JsonRejection>,
) -> ApiResult<ExecResult> {
    let req = json_body(body)?;
    let Some(program) = req.command.first() else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "`command` must name a program",
        ));
    };
    let service = state.service.clone();
    let lab2 = lab.clone();
    let view = blocking(move || service.inspect(&lab2)).await?;
    let Some(n) = view.nodes.iter().find(|n| n.name == node) else {
        return Err(ServiceError::NodeNotFound { lab, node }.into());
    };
    let mut cmd = std::process::Command::new(program);
    cmd.args(&req.command[1..]);
    netloom_linux::in_netns(&mut cmd, &n.netns).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exec_failed",
            format!("cannot enter namespace {}: {e}", n.netns),
        )
    })?;
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    let timeout = Duration::from_secs(req.timeout_s.unwrap_or(30));
    let child = cmd.output();
    match tokio::time::timeout(timeout, child).await {
        Ok(Ok(out)) => Ok(Json(ExecResult {
            exit_code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            timed_out: false,
        })),
        Ok(Err(e)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "exec_failed",
            format!("cannot run `{program}` on node {node}: {e}"),
        )),
        Err(_) => Ok(Json(ExecResult {
            exit_code: None,
            stdout: String::new(),
            stderr: format!("killed after {} s", timeout.as_secs()),
            timed_out: true,
        })),
    }
}
