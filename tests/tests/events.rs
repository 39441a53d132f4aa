//! Every sample event in `events/` goes through its function's handler exactly as Lambda
//! would deliver it: API Gateway HTTP API v2 payloads (JWT claims in the request
//! context) through the function's router, SQS batches through its worker. All files
//! run in one global name order over one seeded store, and each must succeed. The
//! placeholder order id in later events is swapped for the order the earlier
//! place-order event created (with its amount and pickup code), the placeholder visit
//! for the one the try-on event booked (with its code), and the payment notification is
//! re-signed after that swap.

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::sqs::SqsEvent;
use clearance::domain::ids::OrderId;
use clearance::{registry, workers};
use lambda_http::request::LambdaRequest;
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use std::path::PathBuf;
use tower::ServiceExt;

const PLACEHOLDER_ORDER: &str = "01JDEMOORDER00000000000000";
const PLACEHOLDER_CODE: &str = "424242";
const PLACEHOLDER_GROUP: &str = "G01JDEMOGROUP00000000000000";
const PLACEHOLDER_VISIT: &str = "V202611231100DEMOVISIT0000000000";
const PLACEHOLDER_VISIT_CODE: &str = "737373";

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn all_events() -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(events_dir())
        .unwrap()
        .filter_map(Result::ok)
    {
        let function = dir.file_name().to_string_lossy().into_owned();
        for f in std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
        {
            if f.path().extension().is_some_and(|x| x == "json") {
                files.push((function.clone(), f.path()));
            }
        }
    }
    files.sort_by_key(|(_, p)| p.file_name().map(|n| n.to_owned()));
    files
}

#[tokio::test]
async fn every_sample_event_succeeds_through_its_functions_handler() {
    let w = clearance_tests::World::seeded().await;
    let tenant = clearance_local::seed::tenant().unwrap();
    let mut order: Option<(String, i64)> = None;
    let mut group: Option<String> = None;
    let mut visit: Option<(String, String)> = None;
    let mut ran = 0;
    let mut functions_seen = std::collections::BTreeSet::new();
    for (function, file) in all_events() {
        let mut raw = std::fs::read_to_string(&file).unwrap();
        if let Some(g) = &group {
            raw = raw.replace(PLACEHOLDER_GROUP, g);
        }
        if let Some((id, code)) = &visit {
            raw = raw
                .replace(PLACEHOLDER_VISIT, id)
                .replace(PLACEHOLDER_VISIT_CODE, code);
        }
        if let Some((id, total)) = &order {
            raw = raw.replace(PLACEHOLDER_ORDER, id);
            let current = w
                .state
                .db
                .order(&tenant, &OrderId::parse(id).unwrap(), true)
                .await
                .unwrap();
            if let Some(code) = current.parcels.first().and_then(|p| p.pickup_code.as_ref()) {
                raw = raw.replace(PLACEHOLDER_CODE, code);
            }
            let mut e: Value = serde_json::from_str(&raw).unwrap();
            let signed = e["rawPath"]
                .as_str()
                .is_some_and(|p| p.starts_with("/v1/payments/"));
            if signed {
                let mut notice: Value = serde_json::from_str(e["body"].as_str().unwrap()).unwrap();
                if notice.get("amount_fen").is_some() {
                    notice["amount_fen"] = (*total).into();
                }
                let body = notice.to_string();
                e["headers"]["x-clearance-signature"] = clearance::domain::signing::sign_body(
                    b"clearance-local-payments",
                    body.as_bytes(),
                )
                .into();
                e["body"] = body.into();
                raw = e.to_string();
            }
        }
        let name = file.display().to_string();
        let f = registry::function(&function)
            .unwrap_or_else(|| panic!("events/{function}: no such function in the registry"));
        let is_scheduled = serde_json::from_str::<Value>(&raw)
            .is_ok_and(|v| v["detail-type"] == "Scheduled Event");
        match (f.consumes, f.routes) {
            _ if is_scheduled => {
                let (_, sweep) = f
                    .sweeps
                    .unwrap_or_else(|| panic!("{name}: {function} has no schedule"));
                let out = sweep(w.state.clone())
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(out.get("due").is_some(), "{name}: {out}");
            }
            (Some((_, consumer)), _) => {
                let event: SqsEvent = serde_json::from_str(&raw)
                    .unwrap_or_else(|e| panic!("{name}: not an SQS event: {e}"));
                let st = w.state.clone();
                let response = match consumer {
                    registry::Consumer::Each(handle) => {
                        workers::batch(event, |body| handle(st.clone(), body)).await
                    }
                    registry::Consumer::Batch(handle) => {
                        workers::batch_at_once(event, |b| handle(st.clone(), b)).await
                    }
                };
                assert!(
                    response.batch_item_failures.is_empty(),
                    "{name}: {:?}",
                    response.batch_item_failures
                );
            }
            (None, Some(routes)) => {
                let router = clearance::api::finish(routes(), w.state.clone());
                let req: LambdaRequest = serde_json::from_str(&raw)
                    .unwrap_or_else(|e| panic!("{name}: not an API Gateway event: {e}"));
                // the whole invocation, as the function's main serves it
                let res = clearance::http::lambda::handle(
                    router,
                    LambdaEvent::new(req, lambda_runtime::Context::default()),
                )
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
                let status = res.status_code;
                let body = match res.body {
                    Some(Body::Text(t)) => t.into_bytes(),
                    Some(Body::Binary(b)) => b,
                    _ => Vec::new(),
                };
                assert!(
                    (200..300).contains(&status),
                    "{name}: {status} {}",
                    String::from_utf8_lossy(&body)
                );
                if status == 201 {
                    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                        if let (Some(id), Some(total), None) = (
                            v["order"]["id"].as_str(),
                            v["order"]["total_fen"].as_i64(),
                            &order,
                        ) {
                            order = Some((id.to_owned(), total));
                        }
                        if let (Some(g), None) = (v["order"]["group_buy"].as_str(), &group) {
                            group = Some(g.to_owned());
                        }
                        if let (Some(id), Some(code)) = (v["id"].as_str(), v["code"].as_str()) {
                            visit = Some((id.to_owned(), code.to_owned()));
                        }
                    }
                }
            }
            (None, None) => panic!("{function}: neither routes nor a queue"),
        }
        functions_seen.insert(function);
        ran += 1;
    }
    let every: std::collections::BTreeSet<String> = registry::FUNCTIONS
        .iter()
        .map(|f| f.name.to_owned())
        .collect();
    assert_eq!(functions_seen, every, "every function has sample events");
    assert!(ran >= 27, "only {ran} events ran");
    // the walk ended with the order picked up at the counter
    let (id, _) = order.expect("the place-order event created an order");
    let done = w
        .state
        .db
        .order(&tenant, &OrderId::parse(&id).unwrap(), true)
        .await
        .unwrap();
    assert_eq!(done.status, clearance::domain::order::OrderStatus::PickedUp);
    // and then returned, received, and refunded once
    let refund = w
        .state
        .db
        .refund(
            &tenant,
            &clearance::domain::ids::RefundId::parse(&format!("{id}-R01")).unwrap(),
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        refund.money,
        clearance::domain::refund::MoneyStatus::Succeeded
    );
    let paid = w.sandbox.refunds();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[&refund.id].amount, done.total_fen);
}

#[tokio::test]
async fn an_event_without_jwt_claims_is_refused_by_manage() {
    let w = clearance_tests::World::seeded().await;
    let raw =
        std::fs::read_to_string(events_dir().join("manage-campaign/01-put-store.json")).unwrap();
    let mut v: Value = serde_json::from_str(&raw).unwrap();
    v["requestContext"]["authorizer"] = serde_json::json!(null);
    let req = lambda_http::request::from_str(&v.to_string()).unwrap();
    let res = clearance::api::manage::router(w.state.clone())
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {});
    assert_eq!(res.status(), 401);
}
