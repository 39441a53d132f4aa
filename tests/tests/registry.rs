//! The function registry is the one list the local server, the events test and the
//! OpenAPI document are built from; these checks keep it, the binaries of
//! `functions/src/bin/`, the workspace and the SAM template telling the same story.

use clearance::registry::FUNCTIONS;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> String {
    std::fs::read_to_string(root().join("infra/template.yaml")).unwrap()
}

#[test]
fn every_function_in_the_registry_has_a_binary_and_a_template_resource_and_no_more() {
    let registered: BTreeSet<String> = FUNCTIONS.iter().map(|f| f.name.to_owned()).collect();
    // Each file of functions/src/bin/ is a binary of the one functions crate.
    let binaries: BTreeSet<String> = std::fs::read_dir(root().join("functions/src/bin"))
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|d| {
            let name = d.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    assert_eq!(
        registered, binaries,
        "functions/src/bin/ and the registry differ"
    );
    let workspace = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(
        workspace.contains("\"functions\""),
        "the functions crate is not a workspace member"
    );
    // Linked without PIE (and so is the bare baseline they are timed against).
    let manifest = std::fs::read_to_string(root().join("functions/Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("[[bin]]") && !manifest.contains("autobins = false"),
        "every file of functions/src/bin/ must be a binary without listing it"
    );
    assert!(root().join("functions/build.rs").exists());
    let template = template();
    for f in FUNCTIONS {
        assert!(
            template.contains(&format!("Binary: {}\n", f.name)),
            "{} has no function in infra/template.yaml",
            f.name
        );
        assert!(
            f.routes.is_some() ^ f.consumes.is_some(),
            "{}: a function serves HTTP or consumes a queue",
            f.name
        );
    }
}

#[test]
fn every_queue_consumer_and_schedule_is_wired_in_the_template() {
    let template = template();
    for f in FUNCTIONS {
        // the function's resource, up to the next top-level resource
        let start = template
            .find(&format!("Binary: {}\n", f.name))
            .unwrap_or_else(|| panic!("{}", f.name));
        let rest = &template[start..];
        let end = rest.find("\n  # ").unwrap_or(rest.len());
        let resource = &rest[..end];
        if let Some((queue, _)) = f.consumes {
            let name = queue
                .as_str()
                .split('-')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect::<String>())
                        .unwrap_or_default()
                })
                .collect::<String>();
            assert!(
                resource.contains(&format!("Queue: !GetAtt {name}Queue.Arn")),
                "{} must consume {name}Queue",
                f.name
            );
            assert!(resource.contains("ReportBatchItemFailures"), "{}", f.name);
        }
        if let Some((rate, _)) = f.sweeps {
            assert!(
                resource.contains(&format!("Schedule: {rate}")),
                "{} must be scheduled at {rate}",
                f.name
            );
        }
    }
}

/// A number after `key: ` in `text`, if any.
fn number_after(text: &str, key: &str) -> Option<u64> {
    let at = text.find(&format!("{key}: "))?;
    text[at + key.len() + 2..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[test]
fn every_queue_outlasts_six_consumer_timeouts_and_dead_letters_after_five_receives() {
    let template = template();
    let globals =
        &template[template.find("Globals:").unwrap()..template.find("Resources:").unwrap()];
    let default_timeout = number_after(globals, "Timeout").expect("a global function Timeout");
    for f in FUNCTIONS {
        let Some((queue, _)) = f.consumes else {
            continue;
        };
        let start = template.find(&format!("Binary: {}\n", f.name)).unwrap();
        let rest = &template[start..];
        let resource = &rest[..rest.find("\n  # ").unwrap_or(rest.len())];
        let timeout = number_after(resource, "Timeout").unwrap_or(default_timeout);
        let name: String = queue
            .as_str()
            .split('-')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        let q_start = template
            .find(&format!("\n  {name}Queue:\n"))
            .unwrap_or_else(|| panic!("no {name}Queue"));
        // the queue's lines, up to the next resource (a line indented two spaces)
        let q: String = template[q_start + 1..]
            .lines()
            .enumerate()
            .take_while(|(i, l)| *i == 0 || l.is_empty() || l.starts_with("   "))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let visibility = number_after(&q, "VisibilityTimeout").unwrap_or(30);
        println!(
            "{name}Queue: visibility {visibility}s, {} timeout {timeout}s",
            f.name
        );
        assert!(
            visibility >= 6 * timeout,
            "{name}Queue's visibility {visibility}s is under 6 x {}'s {timeout}s timeout",
            f.name
        );
        assert_eq!(number_after(&q, "maxReceiveCount"), Some(5), "{name}Queue");
        assert!(
            q.contains(&format!("deadLetterTargetArn: !GetAtt {name}QueueDLQ.Arn")),
            "{name}Queue"
        );
    }
}
