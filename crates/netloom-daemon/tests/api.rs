//! The HTTP API through the router itself: authentication (every route,
//! both WebSockets, foreign origins), Host checks, the OpenAPI document
//! against the routes, JSON errors with stable codes for bad input to every
//! route, and (as root) a deploy/inspect/exec/destroy round trip with a
//! private ownership prefix.

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
    router(Arc::new(ApiState::new(
        Arc::new(service),
        TOKEN.to_string(),
        "127.0.0.1:7447".parse().unwrap(),
    )))
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

/// Every API route the router serves, as the OpenAPI document names it.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/version"),
    ("POST", "/api/v1/login-links"),
    ("POST", "/api/v1/logout"),
    ("GET", "/api/v1/labs"),
    ("POST", "/api/v1/labs"),
    ("GET", "/api/v1/labs/{lab}"),
    ("PUT", "/api/v1/labs/{lab}"),
    ("DELETE", "/api/v1/labs/{lab}"),
    ("GET", "/api/v1/labs/{lab}/export"),
    ("GET", "/api/v1/labs/{lab}/plan"),
    ("GET", "/api/v1/labs/{lab}/routing"),
    ("POST", "/api/v1/labs/{lab}/nodes"),
    ("DELETE", "/api/v1/labs/{lab}/nodes/{node}"),
    ("PATCH", "/api/v1/labs/{lab}/nodes/{node}"),
    ("POST", "/api/v1/labs/{lab}/nodes/{node}/exec"),
    ("GET", "/api/v1/labs/{lab}/nodes/{node}/config"),
    ("GET", "/api/v1/labs/{lab}/nodes/{node}/console"),
    ("POST", "/api/v1/labs/{lab}/nodes/{node}/fail"),
    ("POST", "/api/v1/labs/{lab}/links"),
    ("PATCH", "/api/v1/labs/{lab}/links/{endpoint}"),
    ("DELETE", "/api/v1/labs/{lab}/links/{endpoint}"),
    ("POST", "/api/v1/labs/{lab}/save"),
    ("POST", "/api/v1/labs/{lab}/chaos"),
    ("GET", "/api/v1/labs/{lab}/chaos"),
    ("DELETE", "/api/v1/labs/{lab}/chaos"),
    ("GET", "/metrics"),
    ("POST", "/api/v1/cleanup"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/events/ws"),
    ("GET", "/api/openapi.json"),
];

/// A route's path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{lab}", "x")
        .replace("{node}", "y")
        .replace("{endpoint}", "y:eth1")
}

#[tokio::test]
async fn every_route_needs_the_token() {
    let app = app("nltapi");
    for (method, path) in ROUTES {
        let uri = concrete(path);
        let (status, json, _) = call(&app, req(method, &uri).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(json["code"], "no_token", "{method} {uri}");
        let (status, json, _) = call(
            &app,
            req(method, &uri)
                .header("authorization", "Bearer wrong")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(json["code"], "bad_token", "{method} {uri}");
    }
}

/// A request with the token whose `Host` names another site (DNS
/// rebinding).
fn foreign_host(uri: &str) -> Request<Body> {
    Request::builder()
        .uri(uri)
        .header("host", "evil.example:7447")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn foreign_host_header_is_refused() {
    let app = app("nltapi");
    let (status, json, _) = call(&app, foreign_host("/api/v1/version")).await;
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

/// A request as a browser with `cookie` (and, maybe, another page's
/// `Origin`) sends it.
async fn as_browser(
    app: &axum::Router,
    method: &str,
    uri: &str,
    cookie: &str,
    origin: Option<&str>,
) -> (StatusCode, serde_json::Value, String) {
    let mut r = req(method, uri).header("cookie", cookie);
    if let Some(o) = origin {
        r = r.header("origin", o);
    }
    call(app, r.body(Body::empty()).unwrap()).await
}

fn cookie_of(resp: &axum::http::Response<Body>) -> String {
    let set = resp
        .headers()
        .get("set-cookie")
        .expect("a cookie is set")
        .to_str()
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn a_login_link_gives_a_session_once_and_foreign_pages_are_refused() {
    let app = app("nltapi");
    let (status, json, _) = call(
        &app,
        authed("POST", "/api/v1/login-links")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let url = json["url"].as_str().unwrap().to_string();
    let path = url.strip_prefix("http://127.0.0.1:7447").expect(&url);
    assert!(path.starts_with("/login?t="), "{url}");
    let resp = app
        .clone()
        .oneshot(req("GET", path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = cookie_of(&resp);
    // The session opens the API ...
    let (status, _, _) = as_browser(&app, "GET", "/api/v1/labs", &cookie, None).await;
    assert_eq!(status, StatusCode::OK);
    // ... but not from another web page.
    let (status, json, _) = as_browser(
        &app,
        "GET",
        "/api/v1/labs",
        &cookie,
        Some("http://evil.example"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json["code"], "bad_origin");
    // The same link a second time: refused.
    let (status, _, text) = call(&app, req("GET", path).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(text.contains("already used"), "{text}");
    // A made-up session: refused.
    let (status, json, _) =
        as_browser(&app, "GET", "/api/v1/labs", "netloom_session=123", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json["code"], "bad_session");
    // Logging out ends the session.
    let (status, _, _) = as_browser(&app, "POST", "/api/v1/logout", &cookie, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = as_browser(&app, "GET", "/api/v1/labs", &cookie, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_page_needs_no_token_but_the_right_host() {
    let app = app("nltapi");
    let (status, _, text) = call(&app, req("GET", "/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("netloom"), "{text}");
    let r = Request::builder()
        .uri("/")
        .header("host", "evil.example")
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = call(&app, r).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_openapi_document_names_every_route() {
    let app = app("nltapi");
    let (status, json, _) = call(
        &app,
        authed("GET", "/api/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["openapi"], "3.1.0");
    let paths = json["paths"].as_object().unwrap();
    let documented: std::collections::BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(|m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: std::collections::BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, routed);
    // Answers that are not JSON say so.
    let media = |path: &str, method: &str| {
        paths[path][method]["responses"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()["content"]
            .as_object()
            .map(|c| c.keys().next().unwrap().clone())
    };
    assert_eq!(
        media("/api/v1/labs/{lab}/export", "get").as_deref(),
        Some("application/yaml")
    );
    assert_eq!(media("/metrics", "get").as_deref(), Some("text/plain"));
    assert_eq!(
        media("/api/v1/labs", "post").as_deref(),
        Some("application/x-ndjson")
    );
    assert_eq!(media("/api/v1/logout", "post"), None);
    // Every path in it is routed: an unauthenticated call gets 401, and
    // one with the token (no body, an unknown lab: nothing happens) is
    // answered by the route, not by `no_such_route` or
    // `method_not_allowed` (which also come after the token check).
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            let uri = concrete(path);
            let (status, _, _) = call(&app, req(&method, &uri).body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
            let (status, json, _) =
                call(&app, authed(&method, &uri).body(Body::empty()).unwrap()).await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_ne!(json["code"], "no_such_route", "{method} {path}");
        }
    }
}

/// The methods `ROUTES` gives a path.
fn methods_of(path: &str) -> Vec<&'static str> {
    ROUTES
        .iter()
        .filter(|(_, p)| *p == path)
        .map(|(m, _)| *m)
        .collect()
}

#[tokio::test]
async fn unknown_api_paths_and_wrong_methods_get_json_errors_after_the_token_check() {
    let app = app("nltapi");
    let json_error = |resp: &axum::http::Response<Body>| {
        resp.headers()
            .get("content-type")
            .is_some_and(|v| v == "application/json")
    };
    // Unknown paths under /api/.
    for uri in [
        "/api/",
        "/api/v1/nope",
        "/api/v2/labs",
        "/api/v1/labs/x/nodes/y/nope",
        "/api/v1/labs/x/links/y:eth1/z",
    ] {
        for method in ["GET", "POST", "DELETE"] {
            let resp = app
                .clone()
                .oneshot(authed(method, uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{method} {uri}");
            assert!(json_error(&resp), "{method} {uri}: {:?}", resp.headers());
            let (status, json, _) =
                call(&app, authed(method, uri).body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            assert_eq!(json["code"], "no_such_route", "{method} {uri}");
            assert!(
                json["message"].as_str().unwrap().contains(uri),
                "{method} {uri}: {json}"
            );
            // Without the token, or with a wrong one: 401, as on a real
            // route (no way to learn which paths exist).
            let (status, json, _) = call(&app, req(method, uri).body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
            assert_eq!(json["code"], "no_token", "{method} {uri}");
            let (status, json, _) = call(
                &app,
                req(method, uri)
                    .header("authorization", "Bearer wrong")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
            assert_eq!(json["code"], "bad_token", "{method} {uri}");
        }
    }
    // A foreign page and a foreign Host are refused before that too.
    let (status, json, _) = call(
        &app,
        authed("GET", "/api/v1/nope")
            .header("origin", "http://evil.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json["code"], "bad_origin");
    let (status, json, _) = call(&app, foreign_host("/api/v1/nope")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json["code"], "bad_host");

    // Every route, with each method it does not take.
    let paths: std::collections::BTreeSet<&str> = ROUTES.iter().map(|(_, p)| *p).collect();
    for path in paths {
        let takes = methods_of(path);
        let mut allow: Vec<&str> = takes.clone();
        if takes.contains(&"GET") {
            allow.push("HEAD");
        }
        allow.sort();
        let uri = concrete(path);
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            if takes.contains(&method) {
                continue;
            }
            let resp = app
                .clone()
                .oneshot(authed(method, &uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(
                resp.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri}"
            );
            assert!(json_error(&resp), "{method} {uri}: {:?}", resp.headers());
            let mut allowed: Vec<&str> = resp.headers()["allow"]
                .to_str()
                .unwrap()
                .split(',')
                .map(str::trim)
                .collect();
            allowed.sort();
            assert_eq!(allowed, allow, "{method} {uri}");
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(json["code"], "method_not_allowed", "{method} {uri}");
            assert!(
                json["message"].as_str().unwrap().contains(&uri),
                "{method} {uri}: {json}"
            );
            let (status, json, _) =
                call(&app, req(method, &uri).body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
            assert_eq!(json["code"], "no_token", "{method} {uri}");
        }
    }

    // Paths outside /api/ (the web page's) are as before: no token
    // needed, plain 404/405 without a JSON body.
    let (status, _, text) = call(
        &app,
        req("GET", "/nope/deeper").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(text, "");
    let (status, _, text) = call(&app, req("GET", "/nope.txt").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(text, "not found\n");
    let resp = app
        .clone()
        .oneshot(req("POST", "/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(bytes.is_empty(), "{bytes:?}");
}

#[tokio::test]
async fn edits_of_an_unknown_lab_and_bad_bodies_are_refused() {
    let app = app("nltapi");
    for (method, uri, body, want, code) in [
        (
            "POST",
            "/api/v1/labs/nope/nodes",
            r#"{"kind":"router"}"#,
            404,
            "lab_not_found",
        ),
        (
            "POST",
            "/api/v1/labs/nope/nodes",
            r#"{"kind":"toaster"}"#,
            400,
            "bad_request",
        ),
        (
            "POST",
            "/api/v1/labs/nope/links",
            r#"{"a":{"node":"r1"}}"#,
            400,
            "bad_request",
        ),
        (
            "DELETE",
            "/api/v1/labs/nope/links/r1:eth1",
            "",
            404,
            "lab_not_found",
        ),
        (
            "DELETE",
            "/api/v1/labs/nope/nodes/r1",
            "",
            404,
            "lab_not_found",
        ),
        (
            "PATCH",
            "/api/v1/labs/nope/nodes/r1",
            r#"{"position":{"x":"left"}}"#,
            400,
            "bad_request",
        ),
        (
            "PUT",
            "/api/v1/labs/nope",
            r#"{"yaml":"name: other\ntopology:\n  nodes: {}\n"}"#,
            422,
            "bad_change",
        ),
        (
            "PUT",
            "/api/v1/labs/nope",
            r#"{"yaml":"name: nope\ntopology:\n  nodez: {}\n"}"#,
            422,
            "invalid_topology",
        ),
        (
            "POST",
            "/api/v1/labs",
            r#"{"yaml":"x", "topology": null}"#,
            422,
            "invalid_topology",
        ),
        ("POST", "/api/v1/labs", r#"{}"#, 400, "bad_request"),
        ("GET", "/api/v1/labs/nope/export", "", 404, "lab_not_found"),
        ("POST", "/api/v1/labs/nope/save", "", 404, "lab_not_found"),
        (
            "POST",
            "/api/v1/labs/nope/nodes/r1/fail",
            r#"{"mode":"explode"}"#,
            422,
            "bad_change",
        ),
        (
            "POST",
            "/api/v1/labs/nope/nodes/r1/fail",
            r#"{"mode":"kill"}"#,
            404,
            "lab_not_found",
        ),
        (
            "POST",
            "/api/v1/labs/nope/nodes/r1/fail",
            r#"{}"#,
            400,
            "bad_request",
        ),
    ] {
        let (status, json, text) = call(
            &app,
            authed(method, uri)
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
        assert_eq!(status.as_u16(), want, "{method} {uri} {body}: {text}");
        assert_eq!(json["code"], code, "{method} {uri} {body}: {text}");
    }
    // A bad topology file names the line and column.
    let (_, json, _) = call(
        &app,
        authed("PUT", "/api/v1/labs/nope")
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"yaml":"name: nope\ntopology:\n  nodez: {}\n"}"#,
            ))
            .unwrap(),
    )
    .await;
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("request.yaml:3:3"),
        "{json}"
    );
}

#[tokio::test]
async fn bad_inputs_of_every_route_get_json_errors_with_stable_codes() {
    let app = app("nltapi");
    let json = Some("application/json");
    for (method, uri, content_type, body, want, code) in [
        (
            "GET",
            "/api/v1/labs/nope/plan",
            None,
            "",
            404,
            "lab_not_found",
        ),
        (
            "GET",
            "/api/v1/labs/nope/nodes/r1/config",
            None,
            "",
            404,
            "lab_not_found",
        ),
        (
            "PATCH",
            "/api/v1/labs/nope/nodes/r1",
            json,
            r#"{"position":{"x":1,"y":2}}"#,
            404,
            "lab_not_found",
        ),
        (
            "POST",
            "/api/v1/labs/nope/nodes",
            None,
            r#"{"kind":"router"}"#,
            400,
            "bad_request",
        ),
        (
            "PATCH",
            "/api/v1/labs/nope/links/r1:eth1",
            json,
            r#"{"set":{"delay_ns":"slow"}}"#,
            400,
            "bad_request",
        ),
        (
            "PATCH",
            "/api/v1/labs/nope/links/r1:eth1",
            json,
            r#"{"up":false}"#,
            404,
            "lab_not_found",
        ),
        (
            "POST",
            "/api/v1/labs/nope/links",
            json,
            r#"{"a":{"node":"r1"},"b":{"node":"h1"}}"#,
            404,
            "lab_not_found",
        ),
        (
            "POST",
            "/api/v1/labs/nope/nodes/r1/exec",
            json,
            "not json",
            400,
            "bad_request",
        ),
        (
            "POST",
            "/api/v1/labs/nope/nodes/r1/exec",
            None,
            r#"{"command":["true"]}"#,
            400,
            "bad_request",
        ),
        (
            "POST",
            "/api/v1/labs/nope/nodes/r1/exec",
            json,
            r#"{"command":["true"]}"#,
            404,
            "lab_not_found",
        ),
        (
            "POST",
            "/api/v1/labs/nope/chaos",
            json,
            r#"{"rate":"1/10s","duration":"1m"}"#,
            404,
            "lab_not_found",
        ),
        (
            "POST",
            "/api/v1/labs/nope/chaos",
            json,
            r#"{"rate":"often","duration":"1m"}"#,
            422,
            "bad_change",
        ),
        (
            "POST",
            "/api/v1/labs/nope/chaos",
            json,
            r#"{"rate":"1/10s","duration":"1m","modes":["explode"]}"#,
            422,
            "bad_change",
        ),
        (
            "POST",
            "/api/v1/labs/nope/chaos",
            json,
            r#"{"duration":"1m"}"#,
            400,
            "bad_request",
        ),
        (
            "GET",
            "/api/v1/labs/nope/chaos",
            None,
            "",
            404,
            "lab_not_found",
        ),
        (
            "DELETE",
            "/api/v1/labs/nope/chaos",
            None,
            "",
            404,
            "lab_not_found",
        ),
        (
            "POST",
            "/api/v1/cleanup",
            json,
            "not json",
            400,
            "bad_request",
        ),
        (
            "POST",
            "/api/v1/cleanup",
            json,
            r#"{"lab":5}"#,
            400,
            "bad_request",
        ),
        ("POST", "/api/v1/cleanup", None, "", 400, "bad_request"),
        (
            "GET",
            "/api/v1/events?after=soon",
            None,
            "",
            400,
            "bad_request",
        ),
        (
            "GET",
            "/api/v1/events?limit=-1",
            None,
            "",
            400,
            "bad_request",
        ),
        (
            "GET",
            "/api/v1/events/ws?after=x",
            None,
            "",
            400,
            "bad_request",
        ),
        ("GET", "/api/v1/events/ws", None, "", 400, "not_a_websocket"),
        (
            "GET",
            "/api/v1/labs/x/nodes/y/console?cols=wide",
            None,
            "",
            400,
            "bad_request",
        ),
        (
            "GET",
            "/api/v1/labs/x/nodes/y/console",
            None,
            "",
            400,
            "not_a_websocket",
        ),
    ] {
        let mut r = authed(method, uri);
        if let Some(t) = content_type {
            r = r.header("content-type", t);
        }
        let (status, json, text) = call(&app, r.body(Body::from(body)).unwrap()).await;
        assert_eq!(status.as_u16(), want, "{method} {uri} {body}: {text}");
        assert_eq!(json["code"], code, "{method} {uri} {body}: {text}");
        assert!(json["message"].is_string(), "{method} {uri}: {text}");
    }
}

/// The router of a daemon at `addr`, and its service (to record events).
fn app_and_service(prefix: &str, addr: std::net::SocketAddr) -> (axum::Router, Arc<Service>) {
    let service = Arc::new(Service::new(
        prefix.to_string(),
        Store::in_memory().unwrap(),
        netloom_linux::Executor::new(),
    ));
    let app = router(Arc::new(ApiState::new(
        service.clone(),
        TOKEN.to_string(),
        addr,
    )));
    (app, service)
}

#[tokio::test]
async fn metrics_events_and_logout_answer() {
    let app = app("nltapi");
    let resp = app
        .clone()
        .oneshot(authed("GET", "/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains("netloom_recovery_seconds_count{phase=\"detection\"} 0"),
        "{text}"
    );
    // A program logging out (it has no session) is no error.
    let (status, _, text) = call(
        &app,
        authed("POST", "/api/v1/logout")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");

    // Recorded events, by lab, after an id, at most `limit`.
    let (app, service) = app_and_service("nltapi", "127.0.0.1:7447".parse().unwrap());
    for (lab, message) in [("a", "one"), ("b", "two"), ("a", "three"), ("a", "four")] {
        service
            .store()
            .add_event(lab, None, "note", message)
            .unwrap();
    }
    let (status, json, _) = call(
        &app,
        authed("GET", "/api/v1/events?lab=a&limit=2")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let got: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["one", "three"], "{json}");
    let after = json[1]["id"].as_i64().unwrap();
    let (_, json, _) = call(
        &app,
        authed("GET", &format!("/api/v1/events?lab=a&after={after}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(json.as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json[0]["message"], "four");
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket on a served router, with `token` and `origin` if given.
async fn ws(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
    origin: Option<&str>,
) -> Result<Ws, (StatusCode, serde_json::Value)> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut r = format!("ws://{addr}{path}").into_client_request().unwrap();
    if let Some(t) = token {
        r.headers_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    if let Some(o) = origin {
        r.headers_mut().insert("origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(r).await {
        Ok((s, _)) => Ok(s),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let body = resp.body().clone().unwrap_or_default();
            let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            Err((resp.status(), json))
        }
        Err(e) => panic!("ws {path}: {e}"),
    }
}

/// The next text frame, within a few seconds.
async fn next_text(s: &mut Ws) -> serde_json::Value {
    use futures_util::StreamExt;
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), s.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = frame {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

#[tokio::test]
async fn websockets_need_the_token_and_our_own_origin() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (app, service) = app_and_service("nltapi", addr);
    let served = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    for path in ["/api/v1/events/ws", "/api/v1/labs/x/nodes/y/console"] {
        let (status, json) = ws(addr, path, None, None).await.err().unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(json["code"], "no_token", "{path}");
        let (status, json) = ws(addr, path, Some("wrong"), None).await.err().unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(json["code"], "bad_token", "{path}");
        let (status, json) = ws(addr, path, Some(TOKEN), Some("http://evil.example"))
            .await
            .err()
            .unwrap();
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(json["code"], "bad_origin", "{path}");
    }
    // A console of a lab that does not exist: refused before the upgrade.
    let (status, json) = ws(addr, "/api/v1/labs/x/nodes/y/console", Some(TOKEN), None)
        .await
        .err()
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json["code"], "lab_not_found");

    // The event stream, from our own page: the backlog, then live events
    // of this lab only.
    service
        .store()
        .add_event("a", None, "note", "before")
        .unwrap();
    let own = format!("http://{addr}");
    let mut events = ws(
        addr,
        "/api/v1/events/ws?lab=a&after=0",
        Some(TOKEN),
        Some(&own),
    )
    .await
    .unwrap();
    assert_eq!(next_text(&mut events).await["message"], "before");
    service
        .store()
        .add_event("b", None, "note", "other")
        .unwrap();
    service
        .store()
        .add_event("a", None, "note", "after")
        .unwrap();
    let ev = next_text(&mut events).await;
    assert_eq!(ev["message"], "after", "{ev}");
    assert_eq!(ev["lab"], "a");
    served.abort();
}
