//! A running lab changed live through the API, as the web page does it:
//! an empty lab, a router and a host added and linked, the link slowed
//! down, a console and the event stream over WebSockets (a foreign page's
//! WebSocket refused), the plan, a router's configuration, a save, a
//! chaos run started and stopped, nodes moved, the lab exported and the
//! export applied back, links and nodes removed, a node failed on purpose;
//! refusals of each with their codes. As root, with a private ownership
//! prefix.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use netloom_daemon::api::{router, ApiState};
use netloom_daemon::service::Service;
use netloom_daemon::store::Store;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tower::ServiceExt;

const TOKEN: &str = "fedcba9876543210fedcba9876543210";

struct Api {
    app: axum::Router,
    addr: SocketAddr,
}

impl Api {
    async fn start(prefix: &str) -> Api {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = Service::new(
            prefix.to_string(),
            Store::in_memory().unwrap(),
            netloom_linux::Executor::new(),
        );
        let app = router(Arc::new(ApiState::new(
            Arc::new(service),
            TOKEN.to_string(),
            addr,
        )));
        let served = app.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, served).await;
        });
        Api { app, addr }
    }

    async fn call(&self, method: &str, uri: &str, body: Value) -> (StatusCode, Value) {
        let body = if body.is_null() {
            Body::empty()
        } else {
            Body::from(body.to_string())
        };
        let r = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", self.addr.to_string())
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(body)
            .unwrap();
        let resp = self.app.clone().oneshot(r).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    async fn ok(&self, method: &str, uri: &str, body: Value) -> Value {
        let (status, json) = self.call(method, uri, body).await;
        assert!(status.is_success(), "{method} {uri}: {status} {json}");
        json
    }

    async fn exec(&self, node: &str, command: &[&str]) -> Value {
        self.ok(
            "POST",
            &format!("/api/v1/labs/live/nodes/{node}/exec"),
            json!({ "command": command }),
        )
        .await
    }

    /// Average RTT of a few pings from h1 to r1 in ms (None: no answer).
    async fn rtt(&self) -> Option<f64> {
        let out = self
            .exec("h1", &["ping", "-c3", "-i0.2", "-W2", "10.66.0.1"])
            .await;
        let stdout = out["stdout"].as_str().unwrap_or_default();
        let line = stdout.lines().find(|l| l.contains("min/avg/max"))?;
        line.split('=')
            .nth(1)?
            .trim()
            .split('/')
            .nth(1)?
            .parse()
            .ok()
    }

    async fn ws(
        &self,
        path: &str,
        origin: Option<&str>,
    ) -> Result<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        tokio_tungstenite::tungstenite::Error,
    > {
        let mut req = format!("ws://{}{path}", self.addr)
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        tokio_tungstenite::connect_async(req).await.map(|(s, _)| s)
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads text frames until one contains `want` (JSON events) or the time
/// is up; returns what was read.
async fn read_until(ws: &mut Ws, want: &str, within: Duration) -> String {
    let end = Instant::now() + within;
    let mut seen = String::new();
    while Instant::now() < end {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => seen.push_str(t.as_str()),
            Ok(Some(Ok(Message::Binary(b)))) => seen.push_str(&String::from_utf8_lossy(&b)),
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
        if seen.contains(want) {
            break;
        }
    }
    seen
}

fn frr_pids(lab: &Value, node: &str) -> Vec<u64> {
    lab["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == node)
        .unwrap()["daemons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["pid"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lab_built_and_changed_live_through_the_api() {
    if !netloom_testkit::require_root() {
        return;
    }
    let prefix = netloom_testkit::TestPrefix::new();
    let api = Api::start(prefix.as_str()).await;

    // An empty lab, as the page's "New lab" makes it.
    let (status, done) = api
        .call(
            "POST",
            "/api/v1/labs",
            json!({ "yaml": "name: live\ntopology:\n  nodes: {}\n" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(done.to_string().contains("\\\"done\\\"") || done.to_string().contains("done"));

    let mut events = api.ws("/api/v1/events/ws?lab=live", None).await.unwrap();

    let r1 = api
        .ok(
            "POST",
            "/api/v1/labs/live/nodes",
            json!({ "kind": "router", "position": { "x": 100, "y": 50 } }),
        )
        .await;
    assert_eq!(r1["name"], "r1");
    assert_eq!(r1["status"], "running", "{r1}");
    assert_eq!(r1["position"], json!({ "x": 100, "y": 50 }));
    let h1 = api
        .ok("POST", "/api/v1/labs/live/nodes", json!({ "kind": "host" }))
        .await;
    assert_eq!(h1["name"], "h1");
    let (status, dup) = api
        .call(
            "POST",
            "/api/v1/labs/live/nodes",
            json!({ "kind": "host", "name": "h1" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{dup}");
    assert_eq!(dup["code"], "bad_change");

    let link = api
        .ok(
            "POST",
            "/api/v1/labs/live/links",
            json!({ "a": { "node": "r1" }, "b": { "node": "h1" }, "mode": "emulated" }),
        )
        .await;
    assert_eq!(link["a"], "r1:eth1");
    assert_eq!(link["b"], "h1:eth1");
    assert_eq!(link["mode"], "emulated");
    let seen = read_until(&mut events, "+ link r1:eth1", Duration::from_secs(5)).await;
    assert!(seen.contains("\"kind\":\"changed\""), "{seen}");
    let (status, used) = api
        .call(
            "POST",
            "/api/v1/labs/live/links",
            json!({ "a": { "node": "r1", "interface": "eth1" }, "b": { "node": "h1" } }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(used["code"], "bad_change");
    assert!(
        used["message"].as_str().unwrap().contains("r1:eth1"),
        "{used}"
    );

    api.exec("r1", &["ip", "addr", "add", "10.66.0.1/24", "dev", "eth1"])
        .await;
    api.exec("h1", &["ip", "addr", "add", "10.66.0.2/24", "dev", "eth1"])
        .await;
    let fast = api.rtt().await.expect("h1 reaches r1");
    assert!(fast < 20.0, "{fast} ms");
    api.ok(
        "PATCH",
        "/api/v1/labs/live/links/h1:eth1",
        json!({ "set": { "delay_ns": 30_000_000u64 } }),
    )
    .await;
    let slow = api.rtt().await.expect("h1 still reaches r1");
    assert!(
        (59.0..75.0).contains(&slow),
        "{slow} ms with 30 ms each way"
    );
    // Changes that cannot be made are refused and change nothing (the
    // link stays slow: checked below).
    for (uri, body, code) in [
        (
            "/api/v1/labs/live/links/h1:eth1",
            json!({ "set": { "delay_ns": 61_000_000_000u64 } }),
            "bad_link_change",
        ),
        (
            "/api/v1/labs/live/links/r1:eth9",
            json!({ "up": false }),
            "bad_link_change",
        ),
        (
            "/api/v1/labs/live/links/r1eth1",
            json!({ "up": false }),
            "bad_link_change",
        ),
    ] {
        let (status, json) = api.call("PATCH", uri, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {json}");
        assert_eq!(json["code"], code, "{uri}: {json}");
    }
    let (status, json) = api
        .call(
            "POST",
            "/api/v1/labs/live/nodes/h1/exec",
            json!({ "command": ["/nonexistent/program"] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert_eq!(json["code"], "exec_failed");

    // A console on the router: FRR answers through vtysh.
    let mut console = api
        .ws("/api/v1/labs/live/nodes/r1/console?cols=100&rows=30", None)
        .await
        .unwrap();
    console
        .send(Message::Binary(
            b"stty size; vtysh -c 'show version'\n".to_vec().into(),
        ))
        .await
        .unwrap();
    let out = read_until(&mut console, "FRRouting", Duration::from_secs(10)).await;
    assert!(out.contains("FRRouting"), "{out}");
    assert!(out.contains("30 100"), "the terminal's size: {out}");
    console
        .send(Message::Text(
            r#"{"type":"resize","cols":120,"rows":40}"#.into(),
        ))
        .await
        .unwrap();
    console
        .send(Message::Binary(b"stty size\n".to_vec().into()))
        .await
        .unwrap();
    let out = read_until(&mut console, "40 120", Duration::from_secs(5)).await;
    assert!(out.contains("40 120"), "{out}");
    console.close(None).await.unwrap();

    // Another web page may not open a console.
    let refused = api
        .ws(
            "/api/v1/labs/live/nodes/r1/console",
            Some("http://evil.example"),
        )
        .await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), StatusCode::FORBIDDEN)
        }
        other => panic!("a foreign Origin was let in: {:?}", other.map(|_| ())),
    }
    // Nor is there a console on a node the lab does not have.
    match api.ws("/api/v1/labs/live/nodes/zz/console", None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), StatusCode::NOT_FOUND);
            let body = String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default());
            assert!(body.contains("\"code\":\"node_not_found\""), "{body}");
        }
        other => panic!("a console on no node: {:?}", other.map(|_| ())),
    }

    // The plan the lab runs, and a router's configuration; a host has none.
    let plan = api.ok("GET", "/api/v1/labs/live/plan", Value::Null).await;
    let mut planned: Vec<&str> = plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    planned.sort();
    assert_eq!(planned, ["h1", "r1"], "{plan}");
    let config = api
        .ok("GET", "/api/v1/labs/live/nodes/r1/config", Value::Null)
        .await;
    assert_eq!(config["node"], "r1");
    assert!(config["daemons"].to_string().contains("zebra"), "{config}");
    assert!(
        config["config"].as_str().unwrap().contains("hostname r1"),
        "{config}"
    );
    for (uri, want, code) in [
        (
            "/api/v1/labs/live/nodes/h1/config",
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_router",
        ),
        (
            "/api/v1/labs/live/nodes/zz/config",
            StatusCode::NOT_FOUND,
            "node_not_found",
        ),
    ] {
        let (status, json) = api.call("GET", uri, Value::Null).await;
        assert_eq!(status, want, "{uri}: {json}");
        assert_eq!(json["code"], code, "{uri}: {json}");
    }

    // Saved running configurations: the router's.
    let saved = api.ok("POST", "/api/v1/labs/live/save", Value::Null).await;
    assert_eq!(saved["nodes"], json!(["r1"]), "{saved}");
    assert_eq!(saved["failed"], json!([]), "{saved}");

    // A chaos run on the routers, stopped long before its first failure.
    let (status, json) = api
        .call("GET", "/api/v1/labs/live/chaos", Value::Null)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{json}");
    assert_eq!(json["code"], "bad_change");
    let (status, json) = api
        .call(
            "POST",
            "/api/v1/labs/live/chaos",
            json!({ "rate": "1/1h", "duration": "1h", "select": "kind=switch" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{json}");
    assert_eq!(json["code"], "bad_change");
    let run = json!({ "rate": "1/1h", "duration": "1h", "select": "kind=router", "seed": 7 });
    let chaos = api.ok("POST", "/api/v1/labs/live/chaos", run.clone()).await;
    assert_eq!(chaos["running"], true, "{chaos}");
    assert_eq!(chaos["nodes"], json!(["r1"]), "{chaos}");
    assert_eq!(chaos["seed"], 7);
    let (status, json) = api.call("POST", "/api/v1/labs/live/chaos", run).await;
    assert_eq!(status, StatusCode::CONFLICT, "{json}");
    assert_eq!(json["code"], "lab_busy");
    let chaos = api.ok("GET", "/api/v1/labs/live/chaos", Value::Null).await;
    assert_eq!(chaos["running"], true, "{chaos}");
    api.ok("DELETE", "/api/v1/labs/live/chaos", Value::Null)
        .await;
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let chaos = api.ok("GET", "/api/v1/labs/live/chaos", Value::Null).await;
        if chaos["running"] == false {
            assert_eq!(chaos["injections"], json!([]), "{chaos}");
            break;
        }
        assert!(Instant::now() < end, "the chaos run did not stop: {chaos}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (body, want, code) in [
        (
            json!({ "mode": "kill" }),
            StatusCode::NOT_FOUND,
            "node_not_found",
        ),
        (
            json!({ "mode": "melt" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_change",
        ),
    ] {
        let (status, json) = api
            .call("POST", "/api/v1/labs/live/nodes/zz/fail", body)
            .await;
        assert_eq!(status, want, "{json}");
        assert_eq!(json["code"], code, "{json}");
    }

    // A second host on the router: the router keeps running as it was.
    let before = api.ok("GET", "/api/v1/labs/live", Value::Null).await;
    api.ok("POST", "/api/v1/labs/live/nodes", json!({ "kind": "host" }))
        .await;
    api.ok(
        "POST",
        "/api/v1/labs/live/links",
        json!({ "a": { "node": "h2" }, "b": { "node": "r1" } }),
    )
    .await;
    let after = api.ok("GET", "/api/v1/labs/live", Value::Null).await;
    assert_eq!(frr_pids(&before, "r1"), frr_pids(&after, "r1"));
    assert_eq!(api.rtt().await.map(|r| r > 59.0), Some(true));

    // Moved on the canvas, exported with its place and the slow link.
    let moved = api
        .ok(
            "PATCH",
            "/api/v1/labs/live/nodes/h1",
            json!({ "position": { "x": -20, "y": 300 } }),
        )
        .await;
    assert_eq!(moved["position"], json!({ "x": -20, "y": 300 }));
    let yaml = api.ok("GET", "/api/v1/labs/live/export", Value::Null).await;
    let yaml = yaml.as_str().unwrap();
    let loaded = netloom_spec::load_str(yaml, "export.yml", std::path::Path::new("/"))
        .unwrap_or_else(|d| panic!("{d}\n{yaml}"));
    let t = loaded.topology;
    assert_eq!(t.nodes.len(), 3, "{yaml}");
    assert_eq!(t.links.len(), 2, "{yaml}");
    let h1_node = t.nodes.values().find(|n| n.name.as_str() == "h1").unwrap();
    assert_eq!(h1_node.position.map(|p| (p.x, p.y)), Some((-20, 300)));
    assert!(yaml.contains("30ms"), "{yaml}");
    // The export applied to the lab it came from changes nothing.
    let same = api
        .ok("PUT", "/api/v1/labs/live", json!({ "yaml": yaml }))
        .await;
    assert_eq!(same["changes"], json!([]), "{same}");
    for (method, body) in [
        ("PATCH", json!({ "position": null })),
        ("DELETE", Value::Null),
    ] {
        let (status, json) = api.call(method, "/api/v1/labs/live/nodes/zz", body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}: {json}");
        assert_eq!(json["code"], "node_not_found", "{method}: {json}");
    }

    // Links and nodes go again.
    let (status, json) = api
        .call("DELETE", "/api/v1/labs/live/links/r1:eth9", Value::Null)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{json}");
    let gone = api
        .ok("DELETE", "/api/v1/labs/live/links/r1:eth1", Value::Null)
        .await;
    assert!(
        gone["changes"]
            .to_string()
            .contains("- link r1:eth1 <-> h1:eth1"),
        "{gone}"
    );
    assert_eq!(api.rtt().await, None, "the link is gone");
    let gone = api
        .ok("DELETE", "/api/v1/labs/live/nodes/h2", Value::Null)
        .await;
    let nodes: Vec<&str> = gone["lab"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["h1", "r1"]);
    assert!(gone["lab"]["links"].as_array().unwrap().is_empty());

    // A node broken on purpose (no supervisor runs here to repair it).
    let failed = api
        .ok(
            "POST",
            "/api/v1/labs/live/nodes/r1/fail",
            json!({ "mode": "kill" }),
        )
        .await;
    assert_eq!(failed["node"], "r1");
    assert!(
        failed["done"].as_str().unwrap().contains("SIGKILL"),
        "{failed}"
    );

    api.ok("DELETE", "/api/v1/labs/live", Value::Null).await;
    netloom_testkit::assert_no_leftovers(prefix.as_str());
}
