//! Every sample event in `events/` goes through its function's router exactly as Lambda
//! would deliver it (API Gateway HTTP API v2 payload, JWT claims in the request context),
//! in file-name order over one seeded store, and must succeed.

use http_body_util::BodyExt;
use std::path::PathBuf;
use tower::ServiceExt;

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

#[tokio::test]
async fn every_sample_event_succeeds_through_its_functions_handler() {
    let w = clearance_tests::World::seeded().await;
    let mut ran = 0;
    for (function, router) in [
        (
            "manage-campaign",
            clearance::api::manage::router(w.state.clone()),
        ),
        (
            "browse-catalog",
            clearance::api::browse::router(w.state.clone()),
        ),
    ] {
        let dir = events_dir().join(function);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no events for {function}");
        for file in files {
            let raw = std::fs::read_to_string(&file).unwrap();
            let req = lambda_http::request::from_str(&raw)
                .unwrap_or_else(|e| panic!("{}: not an API Gateway event: {e}", file.display()));
            let res = router
                .clone()
                .oneshot(req)
                .await
                .unwrap_or_else(|e| match e {});
            let status = res.status();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            assert!(
                status.is_success(),
                "{}: {status} {}",
                file.display(),
                String::from_utf8_lossy(&body)
            );
            ran += 1;
        }
    }
    assert!(ran >= 10, "only {ran} events ran");
}

#[tokio::test]
async fn an_event_without_jwt_claims_is_refused_by_manage() {
    let w = clearance_tests::World::seeded().await;
    let raw =
        std::fs::read_to_string(events_dir().join("manage-campaign/01-put-store.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    v["requestContext"]["authorizer"] = serde_json::json!(null);
    let req = lambda_http::request::from_str(&v.to_string()).unwrap();
    let res = clearance::api::manage::router(w.state.clone())
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {});
    assert_eq!(res.status(), 401);
}
