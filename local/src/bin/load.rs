//! A load script against a running local server (not a timed test).
//!
//! It creates its own live campaign with one listing of 100,000 units per store over 8
//! shards, mints a token per buyer, then places `--orders` orders from `--concurrency`
//! concurrent clients (each a different buyer, each with its own Idempotency-Key) and
//! reports throughput, latency percentiles, and the DynamoDB calls per order counted by
//! the server (`GET /dev/stats`). With `--refunds`, every order is then paid, dispatched
//! and picked up (untimed), and each buyer asks for a return: the timed part is request
//! to automatic decision.
//!
//! ```text
//! cargo run --release -p clearance-local &            # the server
//! cargo run --release -p clearance-local --bin load -- --orders 5000 --concurrency 32
//! cargo run --release -p clearance-local --bin load -- --orders 2000 --concurrency 32 --refunds
//! ```

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn call(
    http: &Http,
    method: &str,
    url: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let mut req = http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let bytes = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Bytes::from(b.to_string())
        }
        None => Bytes::new(),
    };
    let req = req.body(Full::new(bytes)).map_err(|e| e.to_string())?;
    let res = http.request(req).await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// Runs `job(i)` for i in 0..n from `concurrency` clients; returns each call's latency
/// and status, and the wall time.
async fn timed<F, Fut>(
    n: usize,
    concurrency: usize,
    job: F,
) -> Result<(Vec<(Duration, u16)>, Duration), String>
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = u16> + Send,
{
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (next, job) = (next.clone(), job.clone());
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= n {
                    return seen;
                }
                let t0 = Instant::now();
                let status = job(i).await;
                seen.push((t0.elapsed(), status));
            }
        }));
    }
    let mut results = Vec::new();
    for w in workers {
        results.extend(w.await.map_err(|e| e.to_string())?);
    }
    Ok((results, started.elapsed()))
}

fn report(what: &str, ok: u16, results: &[(Duration, u16)], elapsed: Duration, concurrency: usize) {
    let done = results.iter().filter(|(_, s)| *s == ok).count();
    let mut latencies: Vec<Duration> = results.iter().map(|(d, _)| *d).collect();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{what}: {done}/{} (other statuses: {:?})",
        results.len(),
        results
            .iter()
            .filter(|(_, s)| *s != ok)
            .map(|(_, s)| *s)
            .collect::<std::collections::BTreeSet<_>>()
    );
    println!(
        "concurrency {concurrency}: {:.0}/s over {:.2} s; latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
        results.len() as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let base = arg("--url", "http://127.0.0.1:3000");
    let orders: usize = arg("--orders", "2000")
        .parse()
        .map_err(|_| "--orders takes a number")?;
    let concurrency: usize = arg("--concurrency", "32")
        .parse()
        .map_err(|_| "--concurrency takes a number")?;
    let http: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(concurrency)
        .build_http();
    let api = format!("{base}/v1/demo/south-china");

    // An operator sets up a campaign just for this run.
    let (_, tok) = call(
        &http,
        "POST",
        &format!("{base}/dev/token"),
        None,
        None,
        Some(&json!({"role": "ops", "sub": "load-ops", "tenants": ["demo/south-china"]})),
    )
    .await?;
    let ops = tok["token"]
        .as_str()
        .ok_or("no ops token: is the local server running?")?
        .to_owned();
    let id = format!("load-{}", std::process::id());
    let now = chrono::Utc::now();
    let campaign = json!({"id": id, "name": "Load", "starts_at": (now - chrono::Duration::minutes(1)).to_rfc3339(),
        "ends_at": (now + chrono::Duration::days(1)).to_rfc3339(), "categories": [{"id": "load", "name": "Load"}],
        "stores": ["gz-tianhe", "sz-futian", "fs-chancheng"]});
    let (s, b) = call(
        &http,
        "POST",
        &format!("{api}/campaigns"),
        Some(&ops),
        None,
        Some(&campaign),
    )
    .await?;
    if s != 201 {
        return Err(format!("create campaign: {s} {b}"));
    }
    let stock: Vec<Value> = ["gz-tianhe", "sz-futian", "fs-chancheng"]
        .iter()
        .map(|st| json!({"store": st, "size": "38", "units": 100000}))
        .collect();
    let listing = json!({"name": "Load sneaker", "category": "load", "sizes": ["38"], "list_price_fen": 29900,
        "clearance_price_fen": 9900, "per_buyer_limit": 1, "stock": stock, "shards": 8,
        "group_buy": {"price_fen": 7900, "size": 3}});
    let (s, b) = call(
        &http,
        "PUT",
        &format!("{api}/campaigns/{id}/listings/LOAD-1"),
        Some(&ops),
        None,
        Some(&listing),
    )
    .await?;
    if s != 200 {
        return Err(format!("put listing: {s} {b}"));
    }
    let (s, b) = call(
        &http,
        "POST",
        &format!("{api}/campaigns/{id}/publish"),
        Some(&ops),
        None,
        Some(&json!({})),
    )
    .await?;
    if s != 200 {
        return Err(format!("publish: {s} {b}"));
    }

    // Tokens first, untimed: minting is not what is measured.
    let mut tokens = Vec::with_capacity(orders);
    for i in 0..orders {
        let (_, t) = call(
            &http,
            "POST",
            &format!("{base}/dev/token"),
            None,
            None,
            Some(&json!({"role": "consumer", "sub": format!("load-{}-{i}", std::process::id())})),
        )
        .await?;
        tokens.push(t["token"].as_str().unwrap_or_default().to_owned());
    }
    let (_, before) = call(&http, "GET", &format!("{base}/dev/stats"), None, None, None).await?;

    let body = Arc::new(
        json!({"campaign": id, "lines": [{"sku": "LOAD-1", "size": "38", "quantity": 1}], "coupon": "none"}),
    );
    let tokens = Arc::new(tokens);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, tokens, next, body, api) = (
            http.clone(),
            tokens.clone(),
            next.clone(),
            body.clone(),
            api.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut seen: Vec<(Duration, u16)> = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= tokens.len() {
                    return seen;
                }
                let t0 = Instant::now();
                let status = match call(
                    &http,
                    "POST",
                    &format!("{api}/orders"),
                    Some(&tokens[i]),
                    Some(&format!("load-{i}")),
                    Some(&body),
                )
                .await
                {
                    Ok((s, _)) => s,
                    Err(_) => 0,
                };
                seen.push((t0.elapsed(), status));
            }
        }));
    }
    let mut results = Vec::new();
    for w in workers {
        results.extend(w.await.map_err(|e| e.to_string())?);
    }
    let elapsed = started.elapsed();
    let (_, after) = call(&http, "GET", &format!("{base}/dev/stats"), None, None, None).await?;

    let created = results.iter().filter(|(_, s)| *s == 201).count();
    let mut latencies: Vec<Duration> = results.iter().map(|(d, _)| *d).collect();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let delta = |k: &str| after[k].as_u64().unwrap_or(0) - before[k].as_u64().unwrap_or(0);
    println!(
        "orders placed: {created}/{} (other statuses: {:?})",
        results.len(),
        results
            .iter()
            .filter(|(_, s)| *s != 201)
            .map(|(_, s)| *s)
            .collect::<std::collections::BTreeSet<_>>()
    );
    println!(
        "concurrency {concurrency}: {:.0} orders/s over {:.2} s",
        results.len() as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
    let per = |k: &str| delta(k) as f64 / created.max(1) as f64;
    println!(
        "DynamoDB calls per order (counted by the server): {:.3} total = {:.3} BatchGetItem + {:.3} TransactWriteItems + {:.3} GetItem + {:.3} Query + {:.3} PutItem",
        per("total"), per("batch_get"), per("transact"), per("get"), per("query"), per("put")
    );
    if std::env::args().any(|a| a == "--refunds") {
        refunds(&http, &base, &api, tokens.clone(), concurrency).await?;
    }
    if std::env::args().any(|a| a == "--groups") {
        groups(&http, &base, &api, &id, orders, concurrency).await?;
    }
    Ok(())
}

/// Opens `n / 3` groups (untimed), then times two joiners per group from `concurrency`
/// clients: joins per second and DynamoDB calls per join.
async fn groups(
    http: &Http,
    base: &str,
    api: &str,
    campaign: &str,
    n: usize,
    concurrency: usize,
) -> Result<(), String> {
    let groups = (n / 3).max(1);
    let token = |sub: String| {
        let (h, b) = (http.clone(), base.to_owned());
        async move {
            call(
                &h,
                "POST",
                &format!("{b}/dev/token"),
                None,
                None,
                Some(&json!({"role": "consumer", "sub": sub})),
            )
            .await
            .map(|(_, t)| t["token"].as_str().unwrap_or_default().to_owned())
        }
    };
    let seat = Arc::new(
        json!({"campaign": campaign, "lines": [{"sku": "LOAD-1", "size": "38", "quantity": 1}], "coupon": "none"}),
    );
    let mut ids = Vec::with_capacity(groups);
    for g in 0..groups {
        let t = token(format!("grp-open-{}-{g}", std::process::id())).await?;
        let (s, b) = call(
            http,
            "POST",
            &format!("{api}/campaigns/{campaign}/group-buys"),
            Some(&t),
            Some(&format!("open-{g}")),
            Some(&seat),
        )
        .await?;
        if s != 201 {
            return Err(format!("open group: {s} {b}"));
        }
        ids.push(
            b["order"]["group_buy"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let mut joiners = Vec::with_capacity(groups * 2);
    for i in 0..groups * 2 {
        joiners.push(token(format!("grp-join-{}-{i}", std::process::id())).await?);
    }
    let (ids, joiners) = (Arc::new(ids), Arc::new(joiners));
    let (_, before) = call(http, "GET", &format!("{base}/dev/stats"), None, None, None).await?;
    let (h, a) = (http.clone(), api.to_owned());
    let (results, elapsed) = timed(groups * 2, concurrency, move |i| {
        let (h, a, ids, joiners, seat) = (
            h.clone(),
            a.clone(),
            ids.clone(),
            joiners.clone(),
            seat.clone(),
        );
        async move {
            call(
                &h,
                "POST",
                &format!("{a}/group-buys/{}/join", ids[i / 2]),
                Some(&joiners[i]),
                Some(&format!("join-{i}")),
                Some(&seat),
            )
            .await
            .map(|r| r.0)
            .unwrap_or(0)
        }
    })
    .await?;
    let (_, after) = call(http, "GET", &format!("{base}/dev/stats"), None, None, None).await?;
    report(
        "seats taken by joiners",
        201,
        &results,
        elapsed,
        concurrency,
    );
    let joined = results.iter().filter(|(_, s)| *s == 201).count().max(1) as f64;
    let delta = |k: &str| {
        (after[k].as_u64().unwrap_or(0) - before[k].as_u64().unwrap_or(0)) as f64 / joined
    };
    println!(
        "DynamoDB calls per join (counted by the server): {:.3} total = {:.3} BatchGetItem + {:.3} TransactWriteItems + {:.3} GetItem",
        delta("total"), delta("batch_get"), delta("transact"), delta("get")
    );
    Ok(())
}

/// Pays, dispatches and picks up every order (untimed), then times each buyer's return
/// request to its automatic decision.
async fn refunds(
    http: &Http,
    base: &str,
    api: &str,
    tokens: Arc<Vec<String>>,
    concurrency: usize,
) -> Result<(), String> {
    let n = tokens.len();
    let (_, mine) = call(
        http,
        "GET",
        &format!("{base}/v1/me/orders?limit=1"),
        Some(&tokens[0]),
        None,
        None,
    )
    .await?;
    if mine["orders"].as_array().is_none_or(|o| o.is_empty()) {
        return Err("no orders to return".into());
    }
    // Pay every order, then let the server's consumers dispatch them.
    let orders: Arc<Vec<String>> = {
        let mut v = Vec::with_capacity(n);
        for t in tokens.iter() {
            let (_, page) = call(
                http,
                "GET",
                &format!("{base}/v1/me/orders?limit=1"),
                Some(t),
                None,
                None,
            )
            .await?;
            v.push(
                page["orders"][0]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        Arc::new(v)
    };
    let (h, b) = (http.clone(), base.to_owned());
    let o = orders.clone();
    timed(n, concurrency, move |i| {
        let (h, b, o) = (h.clone(), b.clone(), o.clone());
        async move {
            call(
                &h,
                "POST",
                &format!("{b}/dev/orders/{}/pay", o[i]),
                None,
                None,
                Some(&json!({})),
            )
            .await
            .map(|r| r.0)
            .unwrap_or(0)
        }
    })
    .await?;
    // Pick each up at its store, once dispatched.
    let (h, b, a, tk) = (
        http.clone(),
        base.to_owned(),
        api.to_owned(),
        tokens.clone(),
    );
    let o = orders.clone();
    let (picked, _) = timed(n, concurrency, move |i| {
        let (h, b, a, o, tk) = (h.clone(), b.clone(), a.clone(), o.clone(), tk.clone());
        async move {
            for _ in 0..200 {
                let Ok((_, order)) = call(&h, "GET", &format!("{a}/orders/{}", o[i]), Some(&tk[i]), None, None).await else { return 0 };
                if order["status"] == "ready_for_pickup" {
                    let store = order["parcels"][0]["store"].as_str().unwrap_or_default();
                    let code = order["parcels"][0]["pickup_code"].clone();
                    let Ok((_, tok)) = call(&h, "POST", &format!("{b}/dev/token"), None, None,
                        Some(&json!({"role": "store_manager", "sub": format!("clerk-{store}"), "tenants": ["demo/south-china"]}))).await else { return 0 };
                    let clerk = tok["token"].as_str().unwrap_or_default().to_owned();
                    return call(&h, "POST", &format!("{a}/orders/{}/pickup", o[i]), Some(&clerk), None, Some(&json!({"code": code})))
                        .await.map(|r| r.0).unwrap_or(0);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            0
        }
    })
    .await?;
    let picked = picked.iter().filter(|(_, s)| *s == 200).count();
    println!("picked up: {picked}/{n}");
    let (_, before) = call(http, "GET", &format!("{base}/dev/stats"), None, None, None).await?;
    let body = Arc::new(
        json!({"lines": [{"sku": "LOAD-1", "size": "38", "quantity": 1}], "reason": "wrong_size",
        "condition": {"unworn": true, "tags_on": true, "original_box": true}}),
    );
    let (h, a) = (http.clone(), api.to_owned());
    let (results, elapsed) = timed(n, concurrency, move |i| {
        let (h, a, o, tk, body) = (
            h.clone(),
            a.clone(),
            orders.clone(),
            tokens.clone(),
            body.clone(),
        );
        async move {
            match call(
                &h,
                "POST",
                &format!("{a}/orders/{}/refunds", o[i]),
                Some(&tk[i]),
                Some(&format!("ret-{i}")),
                Some(&body),
            )
            .await
            {
                Ok((201, r)) if r["decision"] == "approved" => 201,
                Ok((s, _)) => s,
                Err(_) => 0,
            }
        }
    })
    .await?;
    let (_, after) = call(http, "GET", &format!("{base}/dev/stats"), None, None, None).await?;
    report(
        "returns decided automatically (approved)",
        201,
        &results,
        elapsed,
        concurrency,
    );
    let decided = results.iter().filter(|(_, s)| *s == 201).count().max(1) as f64;
    let delta = |k: &str| {
        (after[k].as_u64().unwrap_or(0) - before[k].as_u64().unwrap_or(0)) as f64 / decided
    };
    println!(
        "DynamoDB calls per decision (counted by the server): {:.3} total = {:.3} BatchGetItem + {:.3} GetItem + {:.3} TransactWriteItems + {:.3} Query + {:.3} PutItem",
        delta("total"), delta("batch_get"), delta("get"), delta("transact"), delta("query"), delta("put")
    );
    Ok(())
}
