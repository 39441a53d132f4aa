//! JSON logs for CloudWatch. Request bodies are never logged, and personal data types
//! (phones, addresses) redact themselves in `Debug`, so nothing personal reaches a log.

/// Sets up `tracing` once: JSON lines, level from `RUST_LOG` (default `info`).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time() // CloudWatch stamps every line already.
        .try_init();
}
