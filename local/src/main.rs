//! `clearance-local`: every route on 127.0.0.1:3000, on the embedded store by default.
//!
//! ```text
//! clearance-local [--port 3000] [--no-seed] [--seed-only]
//!                 [--dynamodb-endpoint URL] [--table NAME]
//!                 [--sqs-endpoint URL] [--s3-endpoint URL] [--bucket NAME]
//! ```

use std::sync::Arc;

use clearance::blobs::{local::DirBlobs, Blobs};
use clearance::clock::{Clock, SystemClock};
use clearance::db::Db;
use clearance::queue::{memory::MemoryQueue, Queue, QueueConsumer};
use clearance::table::counted::Counted;
use clearance::table::{memory::MemoryTable, Table};
use clearance_local::{app, seed, DevTokens};

struct Args {
    port: u16,
    seed: bool,
    /// Create (on an endpoint) and seed the table, then exit: for scripts.
    seed_only: bool,
    dynamodb: Option<String>,
    table: String,
    sqs: Option<String>,
    s3: Option<String>,
    bucket: String,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        port: 3000,
        seed: true,
        seed_only: false,
        dynamodb: None,
        table: "clearance".into(),
        sqs: None,
        s3: None,
        bucket: "clearance-local".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => {
                a.port = value()?
                    .parse()
                    .map_err(|_| "--port takes a number".to_string())?
            }
            "--no-seed" => a.seed = false,
            "--seed-only" => a.seed_only = true,
            "--dynamodb-endpoint" => a.dynamodb = Some(value()?),
            "--table" => a.table = value()?,
            "--sqs-endpoint" => a.sqs = Some(value()?),
            "--s3-endpoint" => a.s3 = Some(value()?),
            "--bucket" => a.bucket = value()?,
            "-h" | "--help" => {
                println!("clearance-local [--port 3000] [--no-seed] [--seed-only] [--dynamodb-endpoint URL] [--table NAME] [--sqs-endpoint URL] [--s3-endpoint URL] [--bucket NAME]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    clearance::telemetry::init();
    let args = parse_args()?;

    let table: Arc<dyn Table> = match &args.dynamodb {
        Some(url) => {
            let sdk = clearance::aws::local_sdk_config(url);
            let client = aws_sdk_dynamodb::Client::new(&sdk);
            clearance::table::dynamo::create_table(&client, &args.table).await?;
            clearance::aws::table(&sdk, &args.table)
        }
        None => Arc::new(MemoryTable::new()),
    };
    // One queue object serves both sides: handlers send, the local consumers receive.
    let (queue, consumer): (Arc<dyn Queue>, Arc<dyn QueueConsumer>) = match &args.sqs {
        Some(url) => {
            let sqs = clearance::aws::sqs_queue(&clearance::aws::local_sdk_config(url));
            (sqs.clone(), sqs)
        }
        None => {
            let memory = Arc::new(MemoryQueue::new());
            (memory.clone(), memory)
        }
    };
    // The local blob store hands out signed links this server serves, as S3 would.
    let served = match &args.s3 {
        Some(_) => None,
        None => Some(Arc::new(DirBlobs::new(".local-data/blobs").served_at(
            format!("http://127.0.0.1:{}/dev/blobs", args.port),
            format!("{:x}", ulid::Ulid::new().random()),
        ))),
    };
    let blobs: Arc<dyn Blobs> = match (&args.s3, &served) {
        (Some(url), _) => {
            let sdk = clearance::aws::local_sdk_config(url);
            clearance::aws::blobs(&sdk, &args.bucket)
        }
        (None, Some(dir)) => dir.clone(),
        (None, None) => Arc::new(DirBlobs::new(".local-data/blobs")),
    };
    clearance_local::install_assets(blobs.as_ref()).await?;
    // S3 calls are counted too (`GET /dev/stats`).
    let (blobs, blob_counts) = clearance::blobs::counted::CountedBlobs::new(blobs);
    let blobs: Arc<dyn Blobs> = Arc::new(blobs);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Every DynamoDB call is counted, so `GET /dev/stats` (and the load script) can say
    // how many calls each route makes.
    let (counted, counts) = Counted::new(table);
    let (state, sandbox) =
        clearance_local::local_state(Db::new(Arc::new(counted)), clock.clone(), queue, blobs);
    if args.seed || args.seed_only {
        seed::seed_demo(&state.db, clock.now()).await?;
    }
    if args.seed_only {
        eprintln!("seeded demo/south-china");
        return Ok(());
    }
    let secret = std::env::var("CLEARANCE_DEV_SECRET")
        .unwrap_or_else(|_| "clearance-local-development-only".into());
    clearance_local::spawn_consumers(state.clone(), consumer);
    let mut router = app(state, DevTokens::new(secret), sandbox);
    if let Some(dir) = served {
        router = router.merge(clearance_local::blob_links(dir));
    }
    let router = router.route(
        "/dev/stats",
        axum::routing::get(move || {
            let c = counts.snapshot();
            let (get, head, put) = blob_counts.snapshot();
            async move {
                axum::Json(serde_json::json!({
                    "total": c.total(), "get": c.get, "batch_get": c.batch_get, "put": c.put,
                    "query": c.query, "transact": c.transact,
                    "s3": {"get": get, "head": head, "put": put},
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    tracing::info!(address = %listener.local_addr()?, "clearance-local listening");
    eprintln!(
        "clearance-local on http://{} (demo tenant demo/south-china)",
        listener.local_addr()?
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
