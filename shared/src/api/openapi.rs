//! The OpenAPI document, generated from the handlers' annotations: the HTTP contract's
//! single source of truth (served by the local server at `/openapi.json`, checked in as
//! `infra/openapi.json`, and validated by `scripts/test`).
//!
//! Each function's router module declares its own paths; [`document`] merges those of
//! every function in the registry and then states, once, what every route shares and
//! the annotations would only repeat: its path parameters, the bearer token (all but
//! the public catalog and the provider's signed webhook), and the problem answers the
//! shared extractors give (400 bad parameter or JSON, 401, 403, 404, 413, 415, 422,
//! 503), all as `application/problem+json`.

use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required};
use utoipa::OpenApi;

use crate::http::problem::{Problem, CONTENT_TYPE as PROBLEM};
use serde_json::{json, Value};
use std::collections::BTreeSet;

#[derive(OpenApi)]
#[openapi(
    info(title = "Clearance API", description = "End-of-season clearance campaigns: browse, manage, order."),
    components(schemas(Problem)),
    tags((name = "manage-campaign", description = "Operators: campaigns, stores, guides, listings, coupons"),
         (name = "browse-catalog", description = "Buyers: live campaigns and products"),
         (name = "place-order", description = "Buyers: coupons, checkout, orders, payment; clerks: pickup"),
         (name = "attribute-guide-sale", description = "Guides and staff: share links, performance, leaderboards"),
         (name = "join-group", description = "Buyers: group buys opened, joined and read"),
         (name = "validate-refund", description = "Buyers: refunds decided by rule; staff: reviews, returns received; the provider: refund notices"))
)]
struct Base;

const BEARER: &str = "bearer";

/// What a path parameter is.
fn describe(name: &str) -> &'static str {
    match name {
        "brand" => "The brand of the tenant, e.g. `demo`",
        "store_group" => "The store group of the tenant, e.g. `south-china`",
        "group_buy" => "A group buy id",
        "campaign" => "A campaign id",
        "sku" => "A product's SKU",
        "order" => "An order id",
        "store" => "A store id",
        "guide" => "A guide id",
        "template" => "A coupon template id",
        _ => "An id",
    }
}

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM,
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
        .into()
}

/// The payment provider's and the courier aggregator's webhooks: no token, their own HMAC signature.
fn is_signed_webhook(path: &str) -> bool {
    path.starts_with("/v1/payments/") || path == "/v1/couriers/notify"
}

/// Routes anyone may call are annotated `security(())` (no requirement): the catalog,
/// a group's link, the provider's webhooks. Every other route needs the bearer token.
fn is_public(op: &Operation) -> bool {
    op.security.as_ref().is_some_and(|reqs| {
        reqs.iter()
            .all(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
    })
}

fn finish_operation(path: &str, op: &mut Operation) {
    let params: Vec<&str> = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .collect();
    let declared = op.parameters.get_or_insert_with(Vec::new);
    for (i, name) in params.iter().enumerate() {
        if declared
            .iter()
            .any(|p| p.name == *name && p.parameter_in == ParameterIn::Path)
        {
            continue;
        }
        let p: Parameter = ParameterBuilder::new()
            .name(*name)
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(describe(name)))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build();
        declared.insert(i, p);
    }
    let has_query = declared
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Query || p.parameter_in == ParameterIn::Header);
    let has_params = !params.is_empty() || has_query;
    let has_body = op.request_body.is_some();
    let public = is_public(op);

    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    };
    if has_params || has_body {
        add(
            "400",
            "invalid-parameter (a path, query or header parameter) or malformed-json",
        );
    }
    if !public || is_signed_webhook(path) {
        add("401", "unauthenticated: no valid token (or signature)");
    }
    if !public {
        add(
            "403",
            "forbidden: the role or the token's tenants do not allow this",
        );
    }
    if !params.is_empty() {
        add("404", "not-found: no such resource in this tenant");
    }
    if has_body {
        add("413", "payload-too-large: the body is over 64 KiB");
        add("415", "unsupported-media-type: the body must be JSON");
        add(
            "422",
            "validation-error: a field is not valid (see `field`)",
        );
    }
    add("503", "unavailable: busy, try again shortly");
    // Every problem is served as application/problem+json, whatever was annotated.
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(r) = response {
            if let Some(content) = r.content.shift_remove("application/json") {
                let is_problem = matches!(&content.schema, Some(RefOr::Ref(x)) if x.ref_location.ends_with("/Problem"));
                let kind = if is_problem {
                    PROBLEM
                } else {
                    "application/json"
                };
                r.content.insert(kind.to_owned(), content);
            }
        }
    }
    op.security = if public {
        None
    } else {
        Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())])
    };
}

/// The whole document: every function's paths, finished as described above.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    let (_, paths) = crate::registry::all_routes().split_for_parts();
    doc.merge(paths);
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            finish_operation(path, op);
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        BEARER.to_owned(),
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A JWT from the identity provider: `sub`, `role` and `tenants` claims",
                ))
                .build(),
        ),
    );
    doc
}

/// The document as pretty JSON, made exact (every field a response always sends
/// required, the server's bounds, caching, the webhooks' signature, `servers`).
pub fn json() -> String {
    let mut doc = serde_json::to_value(document()).unwrap_or_default();
    exact(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
}

/// Query and header parameters whose bounds the server enforces, stated once for every
/// route that takes them.
fn bounded_parameter(name: &str, operation: &str) -> Option<Value> {
    Some(match (name, operation) {
        ("limit", _) => json!({"type": "integer", "format": "int32", "minimum": 1, "maximum": 50}),
        ("category", _) => {
            json!({"type": "string", "minLength": 1, "maxLength": 40, "pattern": "^[a-z0-9][a-z0-9-]*$"})
        }
        ("sku", _) => {
            json!({"type": "string", "minLength": 1, "maxLength": 40, "pattern": "^[A-Za-z0-9_-]+$"})
        }
        ("campaign", _) => {
            json!({"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-z0-9][a-z0-9-]*$"})
        }
        ("status", "staff_orders") => json!({"type": "string", "enum": ["needs_attention"]}),
        ("status", "list_refunds") => {
            json!({"type": "string", "enum": crate::db::refunds::lists::WORK_QUEUES})
        }
        ("Idempotency-Key", _) => {
            json!({"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$"})
        }
        _ => return None,
    })
}

/// The public catalog's pages: served with an `ETag` and a short `Cache-Control`,
/// revalidated with `If-None-Match` (304, no body).
const CACHED: [&str; 3] = ["live_campaigns", "products", "product"];

/// Fields a response may leave out (`skip_serializing_if`): every other field of a
/// response's schema is always sent (as `null` when it has no value).
const MAY_BE_ABSENT: [(&str, &str); 3] = [
    ("Problem", "detail"),
    ("Problem", "field"),
    ("Campaign", "close"),
];

/// Makes the document say exactly what the server does:
/// - every field a response always sends is `required` (nullable when it may be `null`),
///   so a typed client needs no `?.` for what is always there;
/// - the bounds the server enforces on `limit`, ids, `status` and `Idempotency-Key`;
/// - the catalog's caching (`ETag`, `Cache-Control`, `If-None-Match`, 304);
/// - the provider's webhooks take its signature header, a security scheme;
/// - a `servers` entry: the API is served at the root of wherever the document is.
fn exact(doc: &mut Value) {
    let mut reached: BTreeSet<String> = BTreeSet::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item.values_mut().filter_map(Value::as_object_mut) {
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                finish_parameters(op, &id);
                if CACHED.contains(&id.as_str()) {
                    cached(op);
                }
                if is_signed_webhook(path) {
                    op.insert("security".into(), json!([{SIGNATURE: []}]));
                }
                if let Some(responses) = op.get("responses") {
                    collect_refs(responses, &mut reached);
                }
            }
        }
    }
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_default();
    // Everything a response's schema reaches, through references.
    let mut todo: Vec<String> = reached.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        let mut more = BTreeSet::new();
        if let Some(schema) = schemas.get(&name) {
            collect_refs(schema, &mut more);
        }
        for m in more {
            if reached.insert(m.clone()) {
                todo.push(m);
            }
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for name in &reached {
            if let Some(schema) = schemas.get_mut(name) {
                require_all(name, schema);
            }
        }
    }
    if let Some(o) = doc.as_object_mut() {
        o.insert(
            "servers".into(),
            json!([{"url": "/", "description": "wherever this document is served: the API Gateway stage, or the local server"}]),
        );
    }
    if let Some(schemes) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    {
        schemes.insert(
            SIGNATURE.into(),
            json!({"type": "apiKey", "in": "header", "name": "X-Clearance-Signature",
                "description": "The payment provider's (or courier aggregator's) signature: `sha256=` and the hex HMAC-SHA256 of the raw body under the shared secret"}),
        );
    }
}

const SIGNATURE: &str = "provider_signature";

fn finish_parameters(op: &mut serde_json::Map<String, Value>, id: &str) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in params.iter_mut() {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let place = p
            .get("in")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if place == "path" {
            continue;
        }
        if let Some(schema) = bounded_parameter(&name, id) {
            p["schema"] = schema;
        }
    }
}

fn cached(op: &mut serde_json::Map<String, Value>) {
    let headers = json!({
        "ETag": {"description": "The page's version: send it back as If-None-Match", "schema": {"type": "string"}},
        "Cache-Control": {"description": "`public, max-age=2`: the page may be reused for two seconds", "schema": {"type": "string"}}
    });
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        params.push(
            json!({"name": "If-None-Match", "in": "header", "required": false,
            "description": "The ETag of a copy you hold: 304 with no body when it is still current",
            "schema": {"type": "string"}}),
        );
    }
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        if let Some(ok) = responses.get_mut("200").and_then(Value::as_object_mut) {
            ok.insert("headers".into(), headers.clone());
        }
        responses.insert(
            "304".into(),
            json!({"description": "Not modified: the copy named by If-None-Match is current", "headers": headers}),
        );
    }
}

fn collect_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    out.insert(name.to_owned());
                }
            }
            o.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Marks every property of an object schema (and of the objects it is composed of)
/// required, but for those the server may leave out.
fn require_all(name: &str, schema: &mut Value) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        let required: Vec<Value> = props
            .keys()
            .filter(|k| !MAY_BE_ABSENT.contains(&(name, k.as_str())))
            .map(|k| Value::String(k.clone()))
            .collect();
        if let Some(o) = schema.as_object_mut() {
            o.insert("required".into(), Value::Array(required));
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = schema.get_mut(key).and_then(Value::as_array_mut) {
            for part in parts.iter_mut().filter(|p| p.get("$ref").is_none()) {
                require_all(name, part);
            }
        }
    }
}
