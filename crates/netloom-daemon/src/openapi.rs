//! The OpenAPI 3.1 document of the API, served at `/api/openapi.json`.
//! Written out by hand from one table of operations so that it says what
//! the router does; `tests/api.rs` checks that every route it calls is in
//! it and that every path in it answers.

use axum::Json;
use serde_json::{json, Map, Value};

/// One operation: method, path, summary, request body schema (if any),
/// success status and response schema.
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Option<Value>,
    ok: u16,
    response: Value,
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn array(of: Value) -> Value {
    json!({ "type": "array", "items": of })
}

fn ops() -> Vec<Op> {
    let lab_body = json!({
        "type": "object",
        "description": "Exactly one of `yaml` (a topology file's text, netloom or containerlab format) or `topology` (parsed).",
        "properties": { "yaml": { "type": "string" }, "topology": { "type": "object" } }
    });
    let text = json!({ "type": "string" });
    let op = |method, path, summary, body: Option<Value>, ok, response| Op {
        method,
        path,
        summary,
        body,
        ok,
        response,
    };
    vec![
        op("get", "/api/v1/version", "Daemon version, ownership prefix and pid", None, 200, r("Version")),
        op("post", "/api/v1/login-links", "A one-time browser login link (valid once, 10 minutes)", None, 200, json!({"type":"object","properties":{"url":{"type":"string"}}})),
        op("post", "/api/v1/logout", "Forget this browser's session", None, 204, json!({})),
        op("get", "/api/v1/labs", "All labs, observed now", None, 200, array(r("Lab"))),
        op("post", "/api/v1/labs", "Deploy a lab; answers with NDJSON progress lines ending in `done` or `error`", Some(lab_body.clone()), 200, r("DeployEvent")),
        op("get", "/api/v1/labs/{lab}", "One lab, observed now", None, 200, r("Lab")),
        op("put", "/api/v1/labs/{lab}", "Apply a changed topology to a running lab (only what differs is touched)", Some(lab_body), 200, r("Applied")),
        op("delete", "/api/v1/labs/{lab}", "Destroy a lab", None, 200, json!({"type":"object","properties":{"lab":{"type":"string"}}})),
        op("get", "/api/v1/labs/{lab}/export", "The running lab as a topology file (YAML)", None, 200, text.clone()),
        op("get", "/api/v1/labs/{lab}/plan", "The plan the lab runs (live changes included)", None, 200, json!({"type":"object"})),
        op("get", "/api/v1/labs/{lab}/routing", "Whether the lab's routing has converged: each router's sessions (from FRR) and routes (from the kernel)", None, 200, r("Routing")),
        op("post", "/api/v1/labs/{lab}/nodes", "Add a running node", Some(json!({
            "type": "object", "required": ["kind"],
            "properties": {
                "kind": { "enum": ["router", "switch", "host"] },
                "name": { "type": "string", "description": "Picked (r1, s1, h1, ...) when absent" },
                "position": r("Position")
            }
        })), 201, r("Node")),
        op("delete", "/api/v1/labs/{lab}/nodes/{node}", "Remove a node and its links", None, 200, r("Applied")),
        op("patch", "/api/v1/labs/{lab}/nodes/{node}", "Move a node on the canvas", Some(json!({
            "type": "object", "properties": { "position": r("Position") }
        })), 200, r("Node")),
        op("post", "/api/v1/labs/{lab}/nodes/{node}/exec", "Run a command in a node (no shell)", Some(json!({
            "type": "object", "required": ["command"],
            "properties": {
                "command": array(json!({"type":"string"})),
                "timeout_s": { "type": "integer", "default": 30 }
            }
        })), 200, json!({"type":"object","properties":{
            "exit_code": {"type":["integer","null"]}, "stdout": {"type":"string"},
            "stderr": {"type":"string"}, "timed_out": {"type":"boolean"}}})),
        op("get", "/api/v1/labs/{lab}/nodes/{node}/config", "A router's rendered FRR configuration", None, 200, json!({"type":"object","properties":{
            "node": {"type":"string"}, "daemons": array(json!({"type":"string"})), "config": {"type":"string"}}})),
        op("get", "/api/v1/labs/{lab}/nodes/{node}/console", "WebSocket: a root shell in the node on a terminal (query `cols`, `rows`); binary frames both ways, text frame {\"type\":\"resize\",\"cols\",\"rows\"}", None, 101, json!({})),
        op("post", "/api/v1/labs/{lab}/links", "Link two nodes of a running lab (interfaces picked when absent)", Some(json!({
            "type": "object", "required": ["a", "b"],
            "properties": {
                "a": r("EndRequest"), "b": r("EndRequest"),
                "mode": { "enum": ["veth", "emulated"] },
                "mtu": { "type": "integer" }
            }
        })), 201, r("Link")),
        op("patch", "/api/v1/labs/{lab}/links/{endpoint}", "Change a running link (impairments, up/down, one way); endpoint is NODE:INTERFACE", Some(json!({
            "type": "object",
            "properties": {
                "set": { "type": "object", "description": "delay_ns, jitter_ns, reorder, loss, duplicate, corrupt, rate_bps, queue" },
                "up": { "type": "boolean" },
                "one_way": { "type": "boolean" }
            }
        })), 200, r("Link")),
        op("delete", "/api/v1/labs/{lab}/links/{endpoint}", "Remove a link", None, 200, r("Applied")),
        op("post", "/api/v1/labs/{lab}/save", "Save every router's running configuration (what repairs restore); also written next to the topology file", None, 200, json!({"type":"object","properties":{
            "lab": {"type":"string"}, "nodes": array(json!({"type":"string"})), "dir": {"type":["string","null"]}, "failed": array(json!({"type":"string"}))}})),
        op("post", "/api/v1/labs/{lab}/nodes/{node}/fail", "Break a node on purpose (kill its processes, freeze them, delete its namespace); the supervisor repairs it", Some(json!({
            "type": "object", "required": ["mode"],
            "properties": { "mode": { "enum": ["kill", "freeze", "netns"] } }
        })), 200, json!({"type":"object","properties":{
            "lab": {"type":"string"}, "node": {"type":"string"}, "mode": {"type":"string"}, "done": {"type":"string"}}})),
        op("post", "/api/v1/labs/{lab}/chaos", "Start a chaos run: failures at a steady rate on seeded random nodes", Some(json!({
            "type": "object", "required": ["rate", "duration"],
            "properties": {
                "rate": { "type": "string", "description": "N/DURATION, e.g. 1/10s" },
                "duration": { "type": "string", "description": "e.g. 10m" },
                "seed": { "type": "integer" },
                "select": { "type": "string", "description": "KEY=VALUE: a label, or kind=router" },
                "modes": array(json!({"enum": ["kill", "freeze", "netns"]}))
            }
        })), 200, r("Chaos")),
        op("get", "/api/v1/labs/{lab}/chaos", "The lab's current or last chaos run", None, 200, r("Chaos")),
        op("delete", "/api/v1/labs/{lab}/chaos", "Stop the chaos run", None, 200, r("Chaos")),
        op("get", "/metrics", "Recovery-time histograms per phase and supervisor counters (Prometheus text)", None, 200, json!({"type":"string"})),
        op("post", "/api/v1/cleanup", "Remove leftovers of unfinished deploys and destroys", Some(json!({
            "type": "object", "properties": { "lab": { "type": "string" } }
        })), 200, json!({"type":"object"})),
        op("get", "/api/v1/events", "Recorded events (query `lab`, `after`, `limit`)", None, 200, array(r("Event"))),
        op("get", "/api/v1/events/ws", "WebSocket: events as they happen, one JSON text frame each (query `lab`, `after`)", None, 101, json!({})),
        op("get", "/api/openapi.json", "This document", None, 200, json!({"type":"object"})),
    ]
}

fn schemas() -> Value {
    json!({
        "Error": { "type": "object", "required": ["code", "message"], "properties": {
            "code": { "type": "string", "description": "Stable machine-readable code" },
            "message": { "type": "string" } } },
        "Version": { "type": "object", "properties": {
            "version": {"type":"string"}, "prefix": {"type":"string"}, "pid": {"type":"integer"} } },
        "Position": { "type": "object", "required": ["x", "y"], "properties": {
            "x": {"type":"integer"}, "y": {"type":"integer"} } },
        "EndRequest": { "type": "object", "required": ["node"], "properties": {
            "node": {"type":"string"}, "interface": {"type":"string"} } },
        "Interface": { "type": "object", "properties": {
            "name": {"type":"string"}, "up": {"type":"boolean"}, "running": {"type":"boolean"},
            "master": {"type":["string","null"]}, "mac": {"type":["string","null"]},
            "mtu": {"type":["integer","null"]}, "addresses": array(json!({"type":"string"})) } },
        "Node": { "type": "object", "properties": {
            "name": {"type":"string"}, "kind": {"enum":["router","switch","host"]},
            "image": {"type":["string","null"]}, "netns": {"type":"string"},
            "status": {"enum":["running","degraded","missing"]},
            "interfaces": array(r("Interface")),
            "daemons": array(json!({"type":"object","properties":{
                "name":{"type":"string"},"pid":{"type":["integer","null"]},"alive":{"type":"boolean"}}})),
            "labels": {"type":"object","additionalProperties":{"type":"string"}},
            "position": {"oneOf":[r("Position"), {"type":"null"}]},
            "site": {"type":["string","null"]} } },
        "Link": { "type": "object", "properties": {
            "a": {"type":"string"}, "b": {"type":"string"}, "mtu": {"type":["integer","null"]},
            "mode": {"enum":["veth","emulated"]}, "up": {"type":"boolean"},
            "a_to_b": {"type":["object","null"], "description": "Effective properties and their sources"},
            "b_to_a": {"type":["object","null"]},
            "counters": {"type":["object","null"], "description": "Packets, bytes and drops by cause, per direction"} } },
        "Lab": { "type": "object", "properties": {
            "name": {"type":"string"}, "state": {"enum":["deploying","running","destroying"]},
            "prefix": {"type":"string"}, "source": {"type":["string","null"]},
            "created_at": {"type":"integer"},
            "nodes": array(r("Node")), "links": array(r("Link")) } },
        "Applied": { "type": "object", "properties": {
            "changes": array(json!({"type":"string"})), "lab": r("Lab") } },
        "Sessions": { "type": "object", "properties": {
            "up": {"type":"integer"}, "total": {"type":"integer"},
            "down": array(json!({"type":"string", "description": "`10.0.0.1 Active`"})),
            "lsa_min_interval_ms": {"type":["integer","null"], "description": "OSPF: the least time between two originations of one of the router's LSAs"},
            "coalesce_ms": {"type":["integer","null"], "description": "BGP, while a session came up lately: how long after a session comes up the router sends the peer its first updates"} } },
        "RouterRouting": { "type": "object", "properties": {
            "node": {"type":"string"}, "ready": {"type":"boolean"},
            "bgp": {"oneOf":[r("Sessions"), {"type":"null"}]},
            "ospf": {"oneOf":[r("Sessions"), {"type":"null"}]},
            "expected": {"type":"integer", "description": "Prefixes it should reach: planned fabric prefixes, and the networks of the other OSPF routers of its areas"},
            "missing": {"type":"integer"}, "missing_first": array(json!({"type":"string"})),
            "routes": {"type":"integer"}, "ecmp_routes": {"type":"integer"},
            "error": {"type":["string","null"]} } },
        "Routing": { "type": "object", "properties": {
            "lab": {"type":"string"}, "converged": {"type":"boolean"},
            "ready": {"type":"integer"}, "routers_total": {"type":"integer"},
            "fingerprint": {"type":"string", "description": "Changes whenever any router's kernel routes change"},
            "settle_s": {"type":"number", "description": "How long the fingerprint should stay unchanged before routes count as settled"},
            "routers": array(r("RouterRouting")) } },
        "Event": { "type": "object", "properties": {
            "id": {"type":"integer"}, "ts_ms": {"type":"integer"}, "lab": {"type":"string"},
            "node": {"type":["string","null"]}, "kind": {"type":"string"}, "message": {"type":"string"} } },
        "Chaos": { "type": "object", "properties": {
            "lab": {"type":"string"}, "running": {"type":"boolean"}, "seed": {"type":"integer"},
            "interval_ms": {"type":"integer"}, "duration_ms": {"type":"integer"},
            "nodes": array(json!({"type":"string"})),
            "injections": array(json!({"type":"object","properties":{
                "at_ms": {"type":"integer"}, "node": {"type":"string"}, "mode": {"type":"string"}, "result": {"type":"string"}}})) } },
        "DeployEvent": { "type": "object", "properties": {
            "event": {"enum":["progress","done","error"]} } }
    })
}

/// The whole document.
pub fn build() -> Value {
    let mut paths = Map::new();
    for op in ops() {
        let params: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type":"string"}}))
            .collect();
        // What the success answer is: JSON unless said here; no body for
        // 204 and for a WebSocket's 101.
        let media = match (op.method, op.path) {
            ("post", "/api/v1/labs") => Some("application/x-ndjson"),
            (_, "/api/v1/labs/{lab}/export") => Some("application/yaml"),
            (_, "/metrics") => Some("text/plain"),
            _ if op.ok == 204 || op.ok == 101 => None,
            _ => Some("application/json"),
        };
        let success = match media {
            Some(m) => {
                json!({ "description": "success", "content": { m: { "schema": op.response } } })
            }
            None => json!({ "description": "success" }),
        };
        let mut operation = json!({
            "summary": op.summary,
            "parameters": params,
            "responses": {
                op.ok.to_string(): success,
                "401": { "description": "no or wrong token / session", "content": { "application/json": { "schema": r("Error") } } },
                "default": { "description": "error", "content": { "application/json": { "schema": r("Error") } } }
            }
        });
        if let Some(body) = op.body {
            operation["requestBody"] = json!({
                "required": true,
                "content": { "application/json": { "schema": body } }
            });
        }
        let entry = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        entry[op.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "netloom",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every call needs `Authorization: Bearer <token>` (the daemon's token file) or the browser session cookie set by a one-time login link. Errors are {\"code\", \"message\"}."
        },
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "session": { "type": "apiKey", "in": "cookie", "name": crate::auth::COOKIE }
            }
        },
        "security": [ { "bearer": [] }, { "session": [] } ],
        "paths": paths
    })
}

/// `GET /api/openapi.json`.
pub async fn document() -> Json<Value> {
    Json(build())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_reference_resolves() {
        let doc = super::build();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "dangling $ref {name}");
        }
        assert!(doc["paths"].as_object().unwrap().len() >= 15);
    }
}
