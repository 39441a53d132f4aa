//! The OpenAPI document is generated from the handlers; the copy in `infra/` (what API
//! consumers and reviewers read) must match it. `UPDATE_OPENAPI=1 cargo test` rewrites it.

use std::path::PathBuf;

#[test]
fn the_checked_in_openapi_document_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/openapi.json");
    let generated = clearance::api::openapi::json() + "\n";
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "infra/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p clearance-tests openapi`"
    );
}

#[test]
fn every_documented_route_is_served_and_every_served_route_is_documented() {
    let doc: serde_json::Value = serde_json::from_str(&clearance::api::openapi::json()).unwrap();
    let mut documented: Vec<String> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();
    let template = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml"),
    )
    .unwrap_or_default();
    // Each HttpApi event names a Path and a Method; pair them up in order.
    let mut routed: Vec<String> = Vec::new();
    let (mut path, mut method): (Option<String>, Option<String>) = (None, None);
    for line in template.lines().map(str::trim) {
        if let Some(p) = line.strip_prefix("Path:") {
            path = Some(p.trim().trim_matches('"').to_owned());
        } else if let Some(m) = line.strip_prefix("Method:") {
            method = Some(m.trim().trim_matches('"').to_uppercase());
        }
        if let (Some(p), Some(m)) = (&path, &method) {
            routed.push(format!("{m} {p}"));
            (path, method) = (None, None);
        }
    }
    routed.sort();
    assert_eq!(
        documented, routed,
        "the OpenAPI document and the API Gateway routes differ"
    );
    assert!(documented.len() >= 16, "{documented:?}");
}
