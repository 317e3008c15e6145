//! The topology file's JSON Schema, derived from the `*Spec` types.

use crate::spec::{TopologyFileSpec, LINK_IGNORED, NODE_IGNORED, TOP_IGNORED};
use serde_json::{json, Map, Value};

/// JSON Schema (draft 2020-12) of the topology file, for editors and for
/// `netloom schema`. It is derived from the same `*Spec` types the parser
/// fills, then the containerlab keys that netloom accepts and ignores are
/// added (so containerlab files validate), each described as ignored.
pub fn json_schema() -> Value {
    let schema = schemars::schema_for!(TopologyFileSpec);
    let mut value = schema.to_value();
    if let Some(props) = properties(&mut value) {
        for (key, why) in TOP_IGNORED {
            props.insert(key.to_string(), json!({ "description": why }));
        }
    }
    if let Some(defs) = value.get_mut("$defs") {
        if let Some(node) = defs.get_mut("NodeSpec").and_then(Value::as_object_mut) {
            // `env` and `labels` use a custom schema, which schemars marks
            // as required; they are optional.
            node.remove("required");
        }
        if let Some(props) = defs.get_mut("NodeSpec").and_then(properties) {
            for key in NODE_IGNORED {
                props.insert(
                    key.to_string(),
                    json!({ "description": "containerlab container setting; ignored by netloom" }),
                );
            }
        }
        // Required keys the parser checks itself (the `*Spec` fields are
        // optional so that a missing one is reported with its place).
        for (def, required) in [
            ("RoutingSpec", &["protocol"][..]),
            ("TimersSpec", &["keepalive", "hold"][..]),
            ("HaSpec", &["peer", "vip"][..]),
            ("PositionSpec", &["x", "y"][..]),
        ] {
            if let Some(obj) = defs.get_mut(def).and_then(Value::as_object_mut) {
                obj.insert("required".to_string(), json!(required));
            }
        }
        if let Some(props) = defs.get_mut("LinkSpec").and_then(properties) {
            for key in LINK_IGNORED {
                props.insert(
                    key.to_string(),
                    json!({ "description": "containerlab link setting; ignored by netloom" }),
                );
            }
        }
        if let Some(site) = defs.get_mut("SiteSpec").and_then(Value::as_object_mut) {
            // Exactly one form: a city, or both coordinates.
            site.insert(
                "oneOf".to_string(),
                json!([
                    {
                        "required": ["city"],
                        "not": {"anyOf": [{"required": ["lat"]}, {"required": ["lon"]}]},
                    },
                    {"required": ["lat", "lon"], "not": {"required": ["city"]}},
                ]),
            );
        }
        if let Some(props) = defs.get_mut("ExtendedEndpointSpec").and_then(properties) {
            props.insert(
                "mac".to_string(),
                json!({ "type": "string", "description": "ignored by netloom" }),
            );
        }
    }
    value
}

fn properties(v: &mut Value) -> Option<&mut Map<String, Value>> {
    v.get_mut("properties").and_then(Value::as_object_mut)
}
