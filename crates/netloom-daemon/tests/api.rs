//! The HTTP API through the router itself: authentication, Host checks,
//! JSON errors with stable codes, and (as root) a deploy/inspect/exec/destroy
//! round trip with a private ownership prefix.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use netloom_daemon::api::{router, ApiState};
use netloom_daemon::service::Service;
use netloom_daemon::store::Store;
use std::sync::Arc;
use tower::ServiceExt;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn app(prefix: &str) -> axum::Router {
    let service = Service::new(
        prefix.to_string(),
        Store::in_memory().unwrap(),
        netloom_linux::Executor::new(),
    );
    router(Arc::new(ApiState {
        service: Arc::new(service),
        token: TOKEN.to_string(),
        addr: "127.0.0.1:7447".parse().unwrap(),
    }))
}

fn req(method: &str, uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:7447")
}

async fn call(app: &axum::Router, r: Request<Body>) -> (StatusCode, serde_json::Value, String) {
    let resp = app.clone().oneshot(r).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    (status, json, text)
}

fn authed(method: &str, uri: &str) -> axum::http::request::Builder {
    req(method, uri).header("authorization", format!("Bearer {TOKEN}"))
}

#[tokio::test]
async fn every_route_needs_the_token() {
    let app = app("nltapi");
    for (method, uri) in [
        ("GET", "/api/v1/version"),
        ("GET", "/api/v1/labs"),
        ("POST", "/api/v1/labs"),
        ("GET", "/api/v1/labs/x"),
        ("DELETE", "/api/v1/labs/x"),
        ("POST", "/api/v1/labs/x/nodes/y/exec"),
        ("POST", "/api/v1/cleanup"),
        ("GET", "/api/v1/events"),
    ] {
        let (status, json, _) = call(&app, req(method, uri).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(json["code"], "no_token");
        let (status, json, _) = call(
            &app,
            req(method, uri)
                .header("authorization", "Bearer wrong")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(json["code"], "bad_token");
    }
}

#[tokio::test]
async fn foreign_host_header_is_refused() {
    let app = app("nltapi");
    let r = Request::builder()
        .uri("/api/v1/version")
        .header("host", "evil.example:7447")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let (status, json, _) = call(&app, r).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json["code"], "bad_host");
}

#[tokio::test]
async fn reads_and_errors_have_stable_shapes() {
    let app = app("nltapi");
    let (status, json, _) = call(
        &app,
        authed("GET", "/api/v1/version")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["prefix"], "nltapi");
    let (status, json, _) = call(
        &app,
        authed("GET", "/api/v1/labs").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json, serde_json::json!([]));
    let (status, json, _) = call(
        &app,
        authed("GET", "/api/v1/labs/nope")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json["code"], "lab_not_found");
    assert!(json["message"].as_str().unwrap().contains("nope"));
    let (status, json, _) = call(
        &app,
        authed("DELETE", "/api/v1/labs/nope")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json["code"], "lab_not_found");
    // A body that is not a topology.
    let (status, json, _) = call(
        &app,
        authed("POST", "/api/v1/labs")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"topology": {"name": "bad name!"}}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["code"], "bad_request");
    // exec with an empty command.
    let (status, json, _) = call(
        &app,
        authed("POST", "/api/v1/labs/nope/nodes/h1/exec")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"command": []}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["code"], "bad_request");
    let (status, json, _) = call(
        &app,
        authed("GET", "/api/v1/events").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(json.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn deploy_exec_inspect_destroy_round_trip() {
    if !netloom_testkit::require_root() {
        return;
    }
    let prefix = netloom_testkit::TestPrefix::new();
    let app = app(prefix.as_str());
    let loaded = netloom_spec::load_str(
        "name: apirt\ntopology:\n  nodes:\n    a: {kind: host, exec: [\"ip addr add 10.77.0.1/24 dev eth1\"]}\n    b: {kind: host, exec: [\"ip addr add 10.77.0.2/24 dev eth1\"]}\n  links:\n    - endpoints: [\"a:eth1\", \"b:eth1\"]\n",
        "apirt.yml",
        std::path::Path::new("/"),
    )
    .unwrap();
    let body = serde_json::json!({ "topology": loaded.topology });
    let (status, _, text) = call(
        &app,
        authed("POST", "/api/v1/labs")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events.iter().any(|e| e["event"] == "progress"), "{text}");
    assert_eq!(events.last().unwrap()["event"], "done", "{text}");
    // The same lab again: a conflict, streamed as an error event.
    let (_, _, text) = call(
        &app,
        authed("POST", "/api/v1/labs")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await;
    assert!(text.contains("\"code\":\"lab_exists\""), "{text}");
    let (status, json, _) = call(
        &app,
        authed("POST", "/api/v1/labs/apirt/nodes/a/exec")
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"command": ["ping", "-c1", "-W1", "10.77.0.2"]}"#,
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["exit_code"], 0, "{json}");
    let (status, json, _) = call(
        &app,
        authed("POST", "/api/v1/labs/apirt/nodes/zz/exec")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"command": ["true"]}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json["code"], "node_not_found");
    let (status, json, _) = call(
        &app,
        authed("GET", "/api/v1/labs/apirt")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["nodes"].as_array().unwrap().len(), 2);
    let (status, _, _) = call(
        &app,
        authed("DELETE", "/api/v1/labs/apirt")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, json, _) = call(
        &app,
        authed("POST", "/api/v1/cleanup")
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(json["removed"].as_array().unwrap().is_empty(), "{json}");
    netloom_testkit::assert_no_leftovers(prefix.as_str());
}
