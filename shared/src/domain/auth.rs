//! Who may do what. Claims arrive from the API Gateway JWT authorizer (or, locally, from
//! a verified development token); every check here runs before any write.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ids::UserId;
use super::tenancy::Tenant;
use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Consumer,
    Guide,
    StoreManager,
    Ops,
    BrandAdmin,
    Hq,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
            DomainError::invalid(
                "role",
                "one of consumer, guide, store_manager, ops, brand_admin, hq",
            )
        })
    }

    pub const ALL: [Role; 6] = [
        Role::Consumer,
        Role::Guide,
        Role::StoreManager,
        Role::Ops,
        Role::BrandAdmin,
        Role::Hq,
    ];

    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Consumer)
    }
}

/// A tenant scope named by a staff token: one store group, all of a brand's, or all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Tenant(Tenant),
    Brand(super::ids::BrandId),
    All,
}

impl Scope {
    /// `brand/group`, `brand/*` or `*`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s == "*" {
            return Ok(Scope::All);
        }
        match s.split_once('/') {
            Some((brand, "*")) => Ok(Scope::Brand(super::ids::BrandId::parse(brand)?)),
            _ => Ok(Scope::Tenant(Tenant::parse_scoped(s)?)),
        }
    }

    fn covers(&self, t: &Tenant) -> bool {
        match self {
            Scope::Tenant(x) => x == t,
            Scope::Brand(b) => &t.brand == b,
            Scope::All => true,
        }
    }
}

/// The verified identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub role: Role,
    pub scopes: Vec<Scope>,
    /// The phone the identity provider verified for them, if it says so
    /// (`phone_number` with `phone_number_verified`). Its `Debug` is redacted.
    pub verified_phone: Option<super::catalog::Phone>,
}

/// What a caller wants to do, as the checks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Campaigns, stores, guides, listings, slots, coupons, publish.
    ManageCampaign,
    /// Staff work in a tenant: reading its configuration (stores, guides, draft
    /// campaigns) and orders, the counter.
    ReadTenantConfig,
    /// A brand's own settings (its member terms): brand admins and hq whose token
    /// covers the whole brand, not one of its store groups.
    ManageBrand,
}

impl Caller {
    /// Whether this caller sees every store's side of the tenant (every parcel of an
    /// order), rather than only the stores they work at.
    pub fn sees_every_store(&self) -> bool {
        matches!(self.role, Role::Ops | Role::BrandAdmin | Role::Hq)
    }

    /// Whether this caller's token names `tenant` (consumers are not scoped by tenant).
    pub fn is_scoped_to(&self, tenant: &Tenant) -> bool {
        self.role.is_staff() && self.scopes.iter().any(|s| s.covers(tenant))
    }

    /// The one authorization check: may this caller do `action` in `tenant`?
    pub fn authorize(&self, action: Action, tenant: &Tenant) -> Result<(), DomainError> {
        let role_ok = match action {
            Action::ManageCampaign => matches!(self.role, Role::Ops | Role::BrandAdmin | Role::Hq),
            Action::ReadTenantConfig => self.role.is_staff(),
            Action::ManageBrand => matches!(self.role, Role::BrandAdmin | Role::Hq),
        };
        if !role_ok {
            return Err(DomainError::Forbidden(
                format!("role {:?} may not do this", self.role).to_lowercase(),
            ));
        }
        // The role says what, the token's tenants say where: hq reaches every tenant
        // only with `tenants: ["*"]`, like anyone else.
        if action == Action::ManageBrand {
            let whole_brand = self.scopes.iter().any(|s| {
                matches!(s, Scope::All) || matches!(s, Scope::Brand(b) if b == &tenant.brand)
            });
            return if whole_brand {
                Ok(())
            } else {
                Err(DomainError::Forbidden(format!(
                    "token does not cover the whole brand {}",
                    tenant.brand
                )))
            };
        }
        if self.is_scoped_to(tenant) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(format!(
                "token does not cover tenant {tenant}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, scopes: &[&str]) -> Caller {
        Caller {
            user: UserId::parse("u-1").unwrap(),
            role,
            scopes: scopes.iter().map(|s| Scope::parse(s).unwrap()).collect(),
            verified_phone: None,
        }
    }

    #[test]
    fn manage_is_for_ops_brand_admins_and_hq_of_the_tenant_only() {
        let mine = Tenant::parse("demo", "south-china").unwrap();
        let other_group = Tenant::parse("demo", "north-china").unwrap();
        let other_brand = Tenant::parse("acme", "south-china").unwrap();
        for role in Role::ALL {
            let c = caller(role, &["demo/south-china"]);
            let allowed = matches!(role, Role::Ops | Role::BrandAdmin | Role::Hq);
            assert_eq!(
                c.authorize(Action::ManageCampaign, &mine).is_ok(),
                allowed,
                "{role:?} own"
            );
            assert!(
                c.authorize(Action::ManageCampaign, &other_group).is_err(),
                "{role:?} other"
            );
            assert!(
                c.authorize(Action::ManageCampaign, &other_brand).is_err(),
                "{role:?} brand"
            );
        }
    }

    #[test]
    fn no_role_reaches_past_the_tenants_its_token_names() {
        let mine = Tenant::parse("demo", "south-china").unwrap();
        let hq_elsewhere = caller(Role::Hq, &["other/north"]);
        assert!(hq_elsewhere
            .authorize(Action::ManageCampaign, &mine)
            .is_err());
        let hq_everywhere = caller(Role::Hq, &["*"]);
        assert!(hq_everywhere
            .authorize(Action::ManageCampaign, &mine)
            .is_ok());
        let no_tenants = caller(Role::Hq, &[]);
        assert!(no_tenants
            .authorize(Action::ReadTenantConfig, &mine)
            .is_err());
    }

    #[test]
    fn a_brand_scope_covers_every_group_of_that_brand_only() {
        let c = caller(Role::BrandAdmin, &["demo/*"]);
        assert!(c
            .authorize(
                Action::ManageCampaign,
                &Tenant::parse("demo", "north").unwrap()
            )
            .is_ok());
        assert!(c
            .authorize(
                Action::ManageCampaign,
                &Tenant::parse("acme", "north").unwrap()
            )
            .is_err());
    }

    #[test]
    fn consumers_never_read_tenant_configuration() {
        let c = caller(Role::Consumer, &["*"]);
        assert!(c
            .authorize(
                Action::ReadTenantConfig,
                &Tenant::parse("demo", "x").unwrap()
            )
            .is_err());
    }
}
