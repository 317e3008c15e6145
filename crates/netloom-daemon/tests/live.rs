//! A running lab changed live through the API, as the web page does it:
//! an empty lab, a router and a host added and linked, the link slowed
//! down, a console and the event stream over WebSockets (a foreign page's
//! WebSocket refused), nodes moved, links and nodes removed, the lab
//! exported. As root, with a private ownership prefix.

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

    api.ok("DELETE", "/api/v1/labs/live", Value::Null).await;
    netloom_testkit::assert_no_leftovers(prefix.as_str());
}
