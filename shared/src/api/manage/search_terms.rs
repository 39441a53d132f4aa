//! The tenant's search words: ops say what buyers mean (`单鞋` → pumps and flats,
//! `凉拖` → sandals tagged 拖鞋). Search picks a change up within a second.

use axum::extract::State;
use axum::Json;

use crate::app::AppState;
use crate::domain::search::SearchTerms;
use crate::http::auth::{Allowed, Manage, Staff};
use crate::http::{JsonBody, Problem};

/// The tenant's search words (none set: an empty list). DynamoDB: 1 GetItem.
#[utoipa::path(get, path = "/v1/{brand}/{store_group}/search-terms", tag = "manage-campaign",
    responses((status = 200, body = SearchTerms)))]
pub async fn search_terms(
    State(st): State<AppState>,
    allowed: Allowed<Staff>,
) -> Result<Json<SearchTerms>, Problem> {
    Ok(Json(st.db.search_terms(&allowed.tenant).await?))
}

/// Replaces the tenant's search words (at most 300; each word 1-12 characters, once,
/// naming at least one category or tag). DynamoDB: 1 PutItem.
#[utoipa::path(put, path = "/v1/{brand}/{store_group}/search-terms", tag = "manage-campaign",
    request_body = SearchTerms,
    responses((status = 200, body = SearchTerms), (status = 422, body = Problem)))]
pub async fn put_search_terms(
    State(st): State<AppState>,
    allowed: Allowed<Manage>,
    JsonBody(terms): JsonBody<SearchTerms>,
) -> Result<Json<SearchTerms>, Problem> {
    terms.validate()?;
    st.db.put_search_terms(&allowed.tenant, &terms).await?;
    Ok(Json(terms))
}
