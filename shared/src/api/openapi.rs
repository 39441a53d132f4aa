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

/// The provider's webhooks: no token, their own HMAC signature.
fn is_signed_webhook(path: &str) -> bool {
    path.starts_with("/v1/payments/")
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

/// The document as pretty JSON.
pub fn json() -> String {
    document().to_pretty_json().unwrap_or_else(|_| "{}".into())
}
