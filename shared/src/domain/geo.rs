//! Places on the map: a store's coordinates, a buyer's drop pin, and the distance
//! between them (same-city delivery's radius; the nearest store).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::DomainError;

/// A point in WGS-84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    pub lat: f64,
    pub lng: f64,
}

// Points are validated finite where they enter (JSON has no NaN either), so equality is
// total on every point we hold.
impl Eq for GeoPoint {}

/// The Earth's mean radius in metres.
const EARTH_M: f64 = 6_371_008.8;

impl GeoPoint {
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        if !self.lat.is_finite() || !(-90.0..=90.0).contains(&self.lat) {
            return Err(DomainError::invalid(
                format!("{field}.lat"),
                "a latitude between -90 and 90",
            ));
        }
        if !self.lng.is_finite() || !(-180.0..=180.0).contains(&self.lng) {
            return Err(DomainError::invalid(
                format!("{field}.lng"),
                "a longitude between -180 and 180",
            ));
        }
        Ok(())
    }

    /// Great-circle distance in metres (haversine: within 0.5% of the ellipsoid,
    /// plenty for a delivery radius).
    pub fn metres_to(&self, other: &GeoPoint) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lng - self.lng).to_radians();
        let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_M * h.sqrt().min(1.0).asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_between_known_places_are_right() {
        let tianhe = GeoPoint {
            lat: 23.1291,
            lng: 113.3270,
        };
        let futian = GeoPoint {
            lat: 22.5431,
            lng: 114.0579,
        };
        let d = tianhe.metres_to(&futian);
        // Guangzhou Tianhe to Shenzhen Futian: about 101 km as the crow flies.
        assert!((99_000.0..103_000.0).contains(&d), "{d}");
        assert_eq!(tianhe.metres_to(&tianhe), 0.0);
        let near = GeoPoint {
            lat: 23.1381,
            lng: 113.3270,
        };
        let d = tianhe.metres_to(&near);
        assert!(
            (990.0..1010.0).contains(&d),
            "0.009 degrees of latitude is 1 km: {d}"
        );
    }

    #[test]
    fn a_point_off_the_map_names_its_field() {
        let e = GeoPoint {
            lat: 91.0,
            lng: 0.0,
        }
        .validate("location")
        .unwrap_err();
        assert!(e.to_string().contains("location.lat"), "{e}");
        assert!(GeoPoint {
            lat: 0.0,
            lng: f64::NAN
        }
        .validate("x")
        .is_err());
    }
}
