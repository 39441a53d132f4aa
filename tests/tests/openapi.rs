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
    // Each HttpApi event names a Method, a Path and, when API Gateway checks the token,
    // `Authorizer: Jwt` before the next event.
    let mut routed: Vec<String> = Vec::new();
    let mut with_token: Vec<String> = Vec::new();
    let lines: Vec<&str> = template.lines().map(str::trim).collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(m) = line.strip_prefix("Method:") else {
            continue;
        };
        let m = m.trim().to_uppercase();
        let p = lines[i + 1]
            .strip_prefix("Path:")
            .unwrap_or_default()
            .trim()
            .to_owned();
        let route = format!("{m} {p}");
        let event_end = lines[i + 2..]
            .iter()
            .position(|l| l.starts_with("Type:") || l.is_empty())
            .map(|k| i + 2 + k)
            .unwrap_or(lines.len());
        if lines[i + 2..event_end].contains(&"Authorizer: Jwt") {
            with_token.push(route.clone());
        }
        routed.push(route);
    }
    routed.sort();
    with_token.sort();
    assert_eq!(
        documented, routed,
        "the OpenAPI document and the API Gateway routes differ"
    );
    // and the document says a token is needed exactly where API Gateway checks one
    let mut secured: Vec<String> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            // the bearer token (the provider's webhooks carry its signature instead)
            let bearer = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if bearer {
                secured.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    secured.sort();
    assert_eq!(
        secured, with_token,
        "bearer routes differ from the JWT-authorized routes"
    );
    assert!(documented.len() >= 16, "{documented:?}");
}
