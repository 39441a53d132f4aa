//! What every handler and worker shares, built once per process: the persistence
//! facade, the clock, the queue, the blob store, the payment provider, the membership
//! (CRM), the phone vault and the secrets.
//! It sits below both `api` and `workers`, so neither depends on the other.

use std::sync::Arc;

use crate::blobs::Blobs;
use crate::clock::Clock;
use crate::db::Db;
use crate::payments::Payments;
use crate::queue::Queue;

/// Everything a handler needs, built once per process.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub queue: Arc<dyn Queue>,
    pub blobs: Arc<dyn Blobs>,
    pub payments: Arc<dyn Payments>,
    pub secrets: Arc<Secrets>,
    /// The group's membership (CRM), for binding phones.
    pub membership: Arc<dyn crate::membership::Membership>,
    /// The courier aggregator: waybills, subscriptions, tracking pushes.
    pub couriers: Arc<dyn crate::couriers::Couriers>,
    /// Seals members' phones and finds them by keyed hash.
    pub phones: Arc<crate::phones::PhoneVault>,
    /// Rendered public catalog pages (`http::pages`).
    pub pages: Arc<crate::http::pages::Pages>,
}

impl axum::extract::FromRef<AppState> for Arc<dyn Payments> {
    fn from_ref(st: &AppState) -> Self {
        st.payments.clone()
    }
}

/// Keys from configuration. `Debug` never prints them.
pub struct Secrets {
    /// Signs guides' share links.
    pub share_link: Vec<u8>,
    /// Where share links point (the mini program's web entry).
    pub share_base: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}
