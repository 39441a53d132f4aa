//! The tenant: one store group of one brand, whose data nobody else sees. Every key
//! of the table starts with it (the key schema is the table layer's:
//! `crate::table::keys`).

use serde::{Deserialize, Serialize};
use std::fmt;

use super::ids::{BrandId, StoreGroupId};
use super::DomainError;

/// Whose data this is: one store group of one brand. Written `brand/group`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tenant {
    pub brand: BrandId,
    pub group: StoreGroupId,
}

impl Tenant {
    pub fn parse(brand: &str, group: &str) -> Result<Self, DomainError> {
        Ok(Tenant {
            brand: BrandId::parse(brand)?,
            group: StoreGroupId::parse(group)?,
        })
    }

    /// `brand/group`, the form tokens use to name the tenants they may touch.
    pub fn parse_scoped(s: &str) -> Result<Self, DomainError> {
        let (brand, group) = s
            .split_once('/')
            .ok_or_else(|| DomainError::invalid("tenant", "expected brand/group"))?;
        Self::parse(brand, group)
    }
}

impl TryFrom<String> for Tenant {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Tenant::parse_scoped(&s).map_err(|e| e.to_string())
    }
}

impl From<Tenant> for String {
    fn from(t: Tenant) -> String {
        t.to_string()
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.brand, self.group)
    }
}
