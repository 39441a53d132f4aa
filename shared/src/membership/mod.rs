//! The group's membership (its CRM), as a port like [`crate::payments::Payments`]:
//! binding a phone looks the person up by phone in the brand's membership, enrolling
//! them if they are not there yet, and answers the group's member id and any level
//! they already hold. [`http::HttpMembership`] speaks to the CRM; [`Sandbox`] stands in
//! for it locally and in tests.

pub mod http;

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::catalog::Phone;
use crate::domain::ids::BrandId;
use crate::phones::normalized;

/// Who the person is in the group's membership.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CrmMember {
    /// The group's member id.
    pub member_id: String,
    /// Levels the CRM already gives them, by brand (a floor for the level here).
    #[serde(default)]
    pub levels: std::collections::BTreeMap<String, u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    /// The CRM will not take it (a 4xx): asking again will not help.
    #[error("the membership refused: {0}")]
    Refused(String),
    /// Unreachable or failing: worth asking again.
    #[error("the membership is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Membership: Send + Sync {
    /// Looks the phone up in the group's membership, enrolling it if unknown.
    async fn enrol(&self, phone: &Phone) -> Result<CrmMember, MembershipError>;
}

/// No CRM configured: binding fails (retryably) rather than pretending.
pub struct Unconfigured;

#[async_trait]
impl Membership for Unconfigured {
    async fn enrol(&self, _: &Phone) -> Result<CrmMember, MembershipError> {
        Err(MembershipError::Unavailable(
            "no membership configured (CRM_API_URL)".into(),
        ))
    }
}

/// The local CRM: a member id per phone (stable), levels set by [`Sandbox::set_level`].
#[derive(Default)]
pub struct Sandbox {
    levels: Mutex<HashMap<String, std::collections::BTreeMap<String, u8>>>,
    enrolled: Mutex<Vec<String>>,
}

impl Sandbox {
    /// Gives the phone a level in the brand's membership (as the CRM would hold it).
    pub fn set_level(&self, brand: &BrandId, phone: &Phone, level: u8) {
        if let Ok(mut l) = self.levels.lock() {
            l.entry(normalized(phone))
                .or_default()
                .insert(brand.to_string(), level);
        }
    }

    /// How many people were enrolled (looked up for the first time).
    pub fn enrolled(&self) -> usize {
        self.enrolled.lock().map(|e| e.len()).unwrap_or(0)
    }
}

#[async_trait]
impl Membership for Sandbox {
    async fn enrol(&self, phone: &Phone) -> Result<CrmMember, MembershipError> {
        let key = normalized(phone);
        if let Ok(mut e) = self.enrolled.lock() {
            if !e.contains(&key) {
                e.push(key.clone());
            }
        }
        let levels = self
            .levels
            .lock()
            .ok()
            .and_then(|l| l.get(&key).cloned())
            .unwrap_or_default();
        // A stable id that is not the number.
        let digest = crate::domain::signing::hex(&<sha2::Sha256 as sha2::Digest>::digest(
            format!("crm:{key}").as_bytes(),
        ));
        Ok(CrmMember {
            member_id: format!("CRM-{}", &digest[..12]),
            levels,
        })
    }
}
