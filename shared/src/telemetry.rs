//! JSON logs for CloudWatch. Request bodies are never logged, and personal data types
//! (phones, addresses, delivery details) redact themselves in `Debug`, so nothing
//! personal reaches a log.

use std::str::FromStr;
use tracing_subscriber::filter::LevelFilter;

/// Sets up `tracing` once: JSON lines at the level named by `RUST_LOG` (`error`, `warn`,
/// `info`, `debug`, `trace`; default `info`). A plain level rather than an env-filter
/// keeps the regex engine out of every Lambda binary.
pub fn init() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| LevelFilter::from_str(v.trim()).ok())
        .unwrap_or(LevelFilter::INFO);
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(false)
        .with_target(false)
        .without_time() // CloudWatch stamps every line already.
        .try_init();
}
