//! The caller, from the API Gateway HTTP API JWT authorizer's claims.
//!
//! Claims used: `sub`; `role` (or `custom:role`); `tenants` (or `custom:tenants`), the
//! tenants a staff token may touch, as `brand/group`, `brand/*` or `*`;
//! `phone_number` when `phone_number_verified` is `true`. API Gateway
//! renders array claims as `[a b]`; a JSON array or a space/comma separated string is
//! accepted too. Locally the server verifies its own development token and inserts
//! the same [`Caller`] into the request's extensions.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use std::collections::HashMap;
use std::marker::PhantomData;

use super::{Params, Problem};
use crate::domain::auth::{Action, Caller, Role, Scope};
use crate::domain::ids::UserId;
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;

/// Extracts the verified caller; a request without one is a 401.
pub struct Authenticated(pub Caller);

fn claim<'a>(claims: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    claims
        .get(name)
        .or_else(|| claims.get(&format!("custom:{name}")))
        .map(String::as_str)
}

fn list(raw: &str) -> Vec<String> {
    if let Ok(v) = serde_json::from_str::<Vec<String>>(raw) {
        return v;
    }
    raw.trim_start_matches('[')
        .trim_end_matches(']')
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Builds the caller from authorizer claims. Unknown roles or malformed tenants are
/// refused rather than ignored: a token we cannot read grants nothing.
pub fn caller_from_claims(claims: &HashMap<String, String>) -> Result<Caller, DomainError> {
    let sub = claim(claims, "sub").ok_or(DomainError::Unauthenticated)?;
    let user = UserId::parse(sub).map_err(|_| DomainError::Unauthenticated)?;
    let role = match claim(claims, "role") {
        Some(r) => {
            Role::parse(r).map_err(|_| DomainError::Forbidden("unknown role in token".into()))?
        }
        None => Role::Consumer,
    };
    let scopes = claim(claims, "tenants")
        .map(list)
        .unwrap_or_default()
        .iter()
        .map(|s| {
            Scope::parse(s).map_err(|_| DomainError::Forbidden("malformed tenants claim".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Only a phone the identity provider says it verified binds a member.
    let verified_phone = match (
        claim(claims, "phone_number"),
        claim(claims, "phone_number_verified"),
    ) {
        (Some(number), Some("true")) => {
            crate::domain::catalog::Phone::try_from(number.to_owned()).ok()
        }
        _ => None,
    };
    Ok(Caller {
        user,
        role,
        scopes,
        verified_phone,
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(Authenticated(caller.clone()));
        }
        let claims = match parts.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|jwt| &jwt.claims),
            _ => None,
        };
        let claims = claims.ok_or(DomainError::Unauthenticated)?;
        Ok(Authenticated(caller_from_claims(claims)?))
    }
}

/// What a route requires of its caller in the tenant of its path.
pub trait Policy: Send + Sync + 'static {
    const ACTION: Action;
}

/// Ops, brand admins and hq of the tenant: campaigns, stores, guides, listings.
pub struct Manage;
impl Policy for Manage {
    const ACTION: Action = Action::ManageCampaign;
}

/// Brand admins and hq over the whole brand: the brand's own settings.
pub struct Brand;
impl Policy for Brand {
    const ACTION: Action = Action::ManageBrand;
}

/// Any staff role of the tenant.
pub struct Staff;
impl Policy for Staff {
    const ACTION: Action = Action::ReadTenantConfig;
}

/// The caller, the tenant of the path, and proof that the caller may act there under
/// policy `P`. Handlers take it before their body, and axum runs the body extractor
/// last: a caller without the right learns nothing about what the body should be
/// (403 before any 400, 413, 415 or 422).
pub struct Allowed<P: Policy> {
    pub caller: Caller,
    pub tenant: Tenant,
    policy: PhantomData<P>,
}

impl<S: Send + Sync, P: Policy> FromRequestParts<S> for Allowed<P> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let Authenticated(caller) = Authenticated::from_request_parts(parts, state).await?;
        let tenant = Params::from_request_parts(parts, state).await?.tenant()?;
        caller.authorize(P::ACTION, &tenant)?;
        Ok(Allowed {
            caller,
            tenant,
            policy: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn api_gateway_array_claims_are_read() {
        let c = caller_from_claims(&claims(&[
            ("sub", "u-1"),
            ("role", "ops"),
            ("tenants", "[demo/south-china acme/*]"),
        ]))
        .unwrap();
        assert_eq!(c.role, Role::Ops);
        assert_eq!(c.scopes.len(), 2);
        let c = caller_from_claims(&claims(&[
            ("sub", "u-1"),
            ("custom:role", "hq"),
            ("custom:tenants", "[\"*\"]"),
        ]))
        .unwrap();
        assert_eq!(c.role, Role::Hq);
        assert_eq!(c.scopes, vec![Scope::All]);
    }

    #[test]
    fn unreadable_tokens_grant_nothing() {
        assert!(caller_from_claims(&claims(&[("role", "ops")])).is_err());
        assert!(caller_from_claims(&claims(&[("sub", "u-1"), ("role", "root")])).is_err());
        assert!(caller_from_claims(&claims(&[
            ("sub", "u-1"),
            ("role", "ops"),
            ("tenants", "[demo]")
        ]))
        .is_err());
        let consumer = caller_from_claims(&claims(&[("sub", "u-1")])).unwrap();
        assert_eq!(consumer.role, Role::Consumer);
    }
}
