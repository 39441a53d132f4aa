//! API Gateway HTTP API events in, the router's answers out: what `lambda_http::run`
//! does, without its response conversion.
//!
//! `lambda_http::run` decodes every text response through `encoding_rs` (any charset a
//! `Content-Type` may name), which links every legacy encoding's tables (about 170 KiB
//! of each binary) into functions that only ever answer UTF-8. Here a response is text
//! when its type is textual and its bytes are UTF-8, otherwise base64; the request side
//! is `lambda_http`'s own (claims, path, query, body), so handlers see the same request.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use axum::Router;
use http_body_util::BodyExt;
use lambda_http::request::LambdaRequest;
use lambda_http::RequestExt;
use lambda_runtime::{service_fn, LambdaEvent};
use tower::ServiceExt;

/// Serves `router` as this Lambda's handler until the runtime stops it.
pub async fn run(router: Router) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event| handle(router.clone(), event))).await
}

/// One invocation: the event as an HTTP request through `router`, its answer as API
/// Gateway expects it.
pub async fn handle(
    router: Router,
    event: LambdaEvent<LambdaRequest>,
) -> Result<ApiGatewayV2httpResponse, lambda_runtime::Error> {
    let LambdaEvent { payload, context } = event;
    let mut request: lambda_http::Request = payload.into();
    if let Some(trace) = context.xray_trace_id.as_deref() {
        if let Ok(value) = HeaderValue::from_str(trace) {
            request
                .headers_mut()
                .insert(HeaderName::from_static("x-amzn-trace-id"), value);
        }
    }
    let request = request.with_lambda_context(context);
    let response = router.oneshot(request).await.unwrap_or_else(|e| match e {});
    into_gateway(response).await
}

/// The router's answer as an HTTP API response: cookies apart (API Gateway wants
/// them there), textual UTF-8 bodies as text, anything else base64.
async fn into_gateway(
    response: Response,
) -> Result<ApiGatewayV2httpResponse, lambda_runtime::Error> {
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await?.to_bytes();
    let mut headers = parts.headers;
    let cookies = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    headers.remove(SET_COOKIE);
    let (body, is_base64_encoded) = if bytes.is_empty() {
        (None, false)
    } else if is_text(&headers) {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => (Some(Body::Text(text)), false),
            Err(e) => (Some(Body::Binary(e.into_bytes())), true),
        }
    } else {
        (Some(Body::Binary(bytes.to_vec())), true)
    };
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.headers = headers;
    out.cookies = cookies;
    out.body = body;
    out.is_base64_encoded = is_base64_encoded;
    Ok(out)
}

/// Text types go through as they are; compressed or binary bodies do not.
fn is_text(headers: &HeaderMap) -> bool {
    if headers.contains_key(CONTENT_ENCODING) {
        return false;
    }
    let Some(kind) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let mime = kind.split(';').next().unwrap_or_default().trim();
    mime.starts_with("text/")
        || mime == "application/json"
        || mime == "application/javascript"
        || mime == "application/xml"
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
        || mime.ends_with("+yaml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    #[tokio::test]
    async fn problems_and_json_are_text_and_binary_is_base64() {
        let json = ([(CONTENT_TYPE, "application/problem+json")], "{\"a\":1}").into_response();
        let out = into_gateway(json).await.unwrap();
        assert!(!out.is_base64_encoded);
        assert!(matches!(out.body, Some(Body::Text(ref t)) if t == "{\"a\":1}"));

        let png = ([(CONTENT_TYPE, "image/png")], vec![0x89u8, b'P', 0xff]).into_response();
        let out = into_gateway(png).await.unwrap();
        assert!(out.is_base64_encoded);
        assert!(matches!(out.body, Some(Body::Binary(ref b)) if b == &[0x89, b'P', 0xff]));

        // a text type whose bytes are not UTF-8 is not mangled into replacement marks
        let bad = ([(CONTENT_TYPE, "text/csv")], vec![0xffu8, 0xfe]).into_response();
        let out = into_gateway(bad).await.unwrap();
        assert!(out.is_base64_encoded);
    }

    #[tokio::test]
    async fn cookies_leave_the_headers_and_empty_bodies_stay_empty() {
        let r = (
            StatusCode::NOT_MODIFIED,
            [(SET_COOKIE, "a=1"), (CONTENT_TYPE, "application/json")],
        )
            .into_response();
        let out = into_gateway(r).await.unwrap();
        assert_eq!(out.status_code, 304);
        assert_eq!(out.cookies, vec!["a=1".to_owned()]);
        assert!(!out.headers.contains_key(SET_COOKIE));
        assert!(out.body.is_none());
    }
}
