//! Request parsing into domain types. Every failure is a problem naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, RawQuery, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

use super::Problem;
use crate::domain::ids;
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;

/// Largest request body any route accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body parsed straight into a request type (whose fields are domain newtypes).
pub struct JsonBody<T>(pub T);

fn json_problem(err: serde_path_to_error::Error<serde_json::Error>) -> Problem {
    let path = err.path().to_string();
    let inner = err.inner();
    if inner.is_syntax() || inner.is_eof() {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The body is not valid JSON",
        )
        .detail(inner.to_string());
    }
    let message = inner.to_string();
    // serde reports a missing field at its parent; name the field itself.
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .map(|name| {
            if path == "." {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            }
        });
    let field = missing.unwrap_or(if path == "." { "body".to_owned() } else { path });
    // Drop serde's position suffix ("at line 1 column 20"): the field says where.
    let detail = message.split(" at line ").next().unwrap_or(&message);
    Problem::validation(field, plain(detail))
}

/// serde's message in the words of the contract, not of Rust: "invalid type: string
/// \"x\", expected u32" becomes "expected a whole number, got a string".
fn plain(serde: &str) -> String {
    let words = |s: &str| -> String {
        let s = s.trim().trim_end_matches('.');
        if let Some(rest) = s.strip_prefix("struct ") {
            let _ = rest;
            return "an object".into();
        }
        match s {
            "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" => {
                "a whole number".into()
            }
            "f32" | "f64" => "a number".into(),
            "a sequence" => "a list".into(),
            "a map" => "an object".into(),
            "a boolean" => "true or false".into(),
            "unit" | "null" => "null".into(),
            other if other.starts_with("a string") || other.starts_with("string ") => {
                "a string".into()
            }
            other if other.starts_with("integer ") => format!("the number {}", &other[8..]),
            other if other.starts_with("floating point ") => "a number with a fraction".into(),
            other if other.starts_with("sequence") => "a list".into(),
            other if other.starts_with("map") => "an object".into(),
            other => other.to_owned(),
        }
    };
    for (prefix, what) in [("invalid type: ", "got"), ("invalid value: ", "got")] {
        if let Some(rest) = serde.strip_prefix(prefix) {
            if let Some((got, expected)) = rest.rsplit_once(", expected ") {
                return format!("expected {}, {what} {}", words(expected), words(got));
            }
        }
    }
    serde.to_owned()
}

/// Parses JSON bytes as `T`, mapping every failure to a problem with the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_problem)?;
    de.end().map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The body is not valid JSON",
        )
        .detail(e.to_string())
    })?;
    Ok(value)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        if !json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send JSON",
            )
            .detail("Content-Type must be application/json"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload-too-large",
                    "The body is too large",
                )
                .detail(format!("at most {MAX_BODY_BYTES} bytes"))
            } else {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "unreadable-body",
                    "The body could not be read",
                )
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The `Idempotency-Key` header a retried request repeats: 1-64 letters, digits, `-`
/// or `_`. Missing or malformed: a 400 naming the header.
pub struct IdempotencyKeyHeader(pub ids::IdempotencyKey);

/// The header's name, as documented.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        let raw = parts
            .headers
            .get(IDEMPOTENCY_KEY)
            .ok_or_else(|| Problem::invalid_header(IDEMPOTENCY_KEY, "the header is required"))?
            .to_str()
            .map_err(|_| Problem::invalid_header(IDEMPOTENCY_KEY, "must be ASCII"))?;
        ids::IdempotencyKey::parse(raw)
            .map(IdempotencyKeyHeader)
            .map_err(|e| match e {
                DomainError::Invalid { reason, .. } => {
                    Problem::invalid_header(IDEMPOTENCY_KEY, reason)
                }
                other => Problem::invalid_header(IDEMPOTENCY_KEY, other.to_string()),
            })
    }
}

/// A notice the payment provider signed (HMAC-SHA256 over the raw body, in
/// `X-Clearance-Signature`), verified and read. A bad or missing signature is a 401
/// and nothing else happens.
pub struct Signed<T>(pub T);

/// A provider's notice: how its signature is verified.
pub trait ProviderNotice: Sized {
    fn verify(
        provider: &dyn crate::payments::Payments,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<Self, DomainError>;
}

impl ProviderNotice for crate::payments::PaymentNotice {
    fn verify(
        provider: &dyn crate::payments::Payments,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<Self, DomainError> {
        provider.verify(body, signature)
    }
}

impl ProviderNotice for crate::payments::RefundNotice {
    fn verify(
        provider: &dyn crate::payments::Payments,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<Self, DomainError> {
        provider.verify_refund(body, signature)
    }
}

impl<S, T> FromRequest<S> for Signed<T>
where
    S: Send + Sync,
    T: ProviderNotice,
    std::sync::Arc<dyn crate::payments::Payments>: axum::extract::FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let provider: std::sync::Arc<dyn crate::payments::Payments> =
            axum::extract::FromRef::from_ref(state);
        let signature = req
            .headers()
            .get(crate::payments::SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Bytes::from_request(req, state).await.map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "unreadable-body",
                "The body could not be read",
            )
        })?;
        T::verify(provider.as_ref(), &body, signature.as_deref())
            .map(Signed)
            .map_err(|e| match e {
                DomainError::Unauthenticated => Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid-signature",
                    "The notification's signature does not verify",
                ),
                other => other.into(),
            })
    }
}

/// Ids that can be read from a path parameter.
pub trait PathId: Sized {
    fn parse_param(s: &str) -> Result<Self, DomainError>;
}

macro_rules! path_id {
    ($($t:ty),*) => {$(
        impl PathId for $t {
            fn parse_param(s: &str) -> Result<Self, DomainError> {
                <$t>::parse(s)
            }
        }
    )*};
}

path_id!(
    ids::CampaignId,
    ids::VisitId,
    ids::StoreId,
    ids::GuideId,
    ids::Sku,
    ids::CouponTemplateId,
    ids::CategoryId,
    ids::OrderId,
    ids::RefundId,
    ids::GroupBuyId,
    ids::AssistId,
    ids::AssistOfferId,
    ids::UserId,
    ids::Size
);

/// The route's path parameters, percent-decoded, parsed on demand into ids.
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                Problem::invalid_parameter("path", "path parameters are not valid UTF-8")
            })?;
        Ok(Params(
            raw.iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        ))
    }
}

impl Params {
    fn raw(&self, name: &str) -> Result<&str, Problem> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| Problem::invalid_parameter(name, "missing"))
    }

    /// The tenant named by `{brand}` and `{group}`.
    pub fn tenant(&self) -> Result<Tenant, Problem> {
        Tenant::parse(self.raw("brand")?, self.raw("store_group")?).map_err(param_problem)
    }

    /// A parcel's number within its order (`{parcel}`): 1, 2, ...
    pub fn parcel(&self) -> Result<u8, Problem> {
        self.raw("parcel")?
            .parse::<u8>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| Problem::invalid_parameter("parcel", "a parcel number: 1, 2, ..."))
    }

    pub fn id<T: PathId>(&self, name: &str) -> Result<T, Problem> {
        T::parse_param(self.raw(name)?).map_err(|e| match e {
            DomainError::Invalid { reason, .. } => Problem::invalid_parameter(name, reason),
            other => other.into(),
        })
    }
}

fn param_problem(e: DomainError) -> Problem {
    match e {
        DomainError::Invalid { field, reason } => Problem::invalid_parameter(field, reason),
        other => other.into(),
    }
}

/// Query parameters; unknown or repeated names are refused, so typos do not pass
/// silently.
pub struct QueryParams(BTreeMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .unwrap_or(RawQuery(None));
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(raw.as_deref().unwrap_or(""));
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            if map.insert(k.clone(), v).is_some() {
                return Err(Problem::invalid_parameter(k, "given more than once"));
            }
        }
        Ok(QueryParams(map))
    }
}

fn serde_urlencoded_pairs(raw: &str) -> Vec<(String, String)> {
    // axum's Query extractor decodes with serde_urlencoded; reuse it via a map type.
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(
        &format!("/?{raw}")
            .parse()
            .unwrap_or_else(|_| axum::http::Uri::from_static("/")),
    )
    .map(|q| q.0)
    .unwrap_or_default()
}

impl QueryParams {
    /// Refuses any parameter not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<&Self, Problem> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(Problem::invalid_parameter(
                k.clone(),
                format!("unknown parameter; expected one of {}", allowed.join(", ")),
            )),
            None => Ok(self),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn id<T: PathId>(&self, name: &str) -> Result<Option<T>, Problem> {
        self.get(name)
            .map(|v| {
                T::parse_param(v).map_err(|e| match e {
                    DomainError::Invalid { reason, .. } => Problem::invalid_parameter(name, reason),
                    other => other.into(),
                })
            })
            .transpose()
    }

    /// `limit` (1-50, default 20) and the opaque `cursor` of a paginated list.
    pub fn page(&self) -> Result<(u32, Option<&str>), Problem> {
        Ok((self.int("limit", 1..=50, 20)?, self.get("cursor")))
    }

    /// An integer within `range`, or `default` when absent.
    pub fn int(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u32>,
        default: u32,
    ) -> Result<u32, Problem> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    Problem::invalid_parameter(
                        name,
                        format!(
                            "must be an integer from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    )
                }),
        }
    }
}
