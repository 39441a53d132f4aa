//! The campaign's stores by distance from a buyer, with whether each holds a size now
//! and whether it is open: the first step of "try it in the store near me".

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::catalog::Store;
use super::geo::GeoPoint;
use super::ids::StoreId;

/// A store as a buyer picking one sees it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NearbyStore {
    pub id: StoreId,
    pub name: String,
    pub city: String,
    pub district: String,
    pub line: String,
    pub location: Option<GeoPoint>,
    /// Metres from the buyer, when both are on the map.
    pub distance_m: Option<u32>,
    /// Whether it holds the size asked for now (null when none was asked).
    pub holds_size: Option<bool>,
    /// Whether it is open now (null when it lists no hours).
    pub open_now: Option<bool>,
}

/// The stores nearest first (stores off the map last, by id); `holds` says whether a
/// store holds the size asked for.
pub fn nearest(
    stores: &[Store],
    from: Option<GeoPoint>,
    holds: impl Fn(&StoreId) -> Option<bool>,
    now: DateTime<Utc>,
) -> Vec<NearbyStore> {
    let mut out: Vec<NearbyStore> = stores
        .iter()
        .map(|s| NearbyStore {
            id: s.id.clone(),
            name: s.name.clone(),
            city: s.address.city.clone(),
            district: s.address.district.clone(),
            line: s.address.line.clone(),
            location: s.location,
            distance_m: match (from, s.location) {
                (Some(a), Some(b)) => Some(a.metres_to(&b).round() as u32),
                _ => None,
            },
            holds_size: holds(&s.id),
            open_now: s.opening.open_at(now),
        })
        .collect();
    out.sort_by(|a, b| {
        (a.distance_m.is_none(), a.distance_m, &a.id).cmp(&(
            b.distance_m.is_none(),
            b.distance_m,
            &b.id,
        ))
    });
    out
}
