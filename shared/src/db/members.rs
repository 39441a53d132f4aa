//! Members' items: a profile per buyer, an account per brand (points and level, in the
//! timer index while an order's window is to be looked at), its ledger entries, the
//! phone index (by keyed hash) and each brand's member terms.

use serde::{Deserialize, Serialize};

use super::page::Paged;
use super::Db;
use crate::domain::ids::{BrandId, StoreGroupId, UserId};
use crate::domain::member::{Account, MemberTerms, PointsEntry};
use crate::domain::tenancy::Tenant;
use crate::error::Result;
use crate::table::keys;
use crate::table::{
    from_item, n, to_item, AttrPath, Condition, Item, Key, Write, GSI3PK, GSI3SK, PK, SK,
};

pub fn account_key(member: &UserId, brand: &BrandId) -> Key {
    Key::new(keys::member_pk(member), keys::account_sk(brand))
}

pub fn terms_key(brand: &BrandId) -> Key {
    Key::new(keys::brand_pk(brand), keys::MEMBER_TERMS_SK)
}

pub fn profile_key(member: &UserId) -> Key {
    Key::new(keys::member_pk(member), keys::PROFILE_SK)
}

/// An account as stored: whose, in which brand, and its state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub member: Option<UserId>,
    pub brand: Option<BrandId>,
    #[serde(flatten)]
    pub account: Account,
}

/// The account's item: in the timer index at its next window look.
pub fn account_item(member: &UserId, brand: &BrandId, a: &Account) -> Result<Item> {
    let key = account_key(member, brand);
    let mut k = vec![(PK, key.pk.clone()), (SK, key.sk.clone())];
    if let Some(due) = a.next_check() {
        k.push((GSI3PK, keys::due_gsi3pk(&key.pk)));
        k.push((GSI3SK, keys::due_gsi3sk(due, &key.pk)));
    }
    let record = AccountRecord {
        member: Some(member.clone()),
        brand: Some(brand.clone()),
        account: a.clone(),
    };
    Ok(to_item(&record, &k)?)
}

/// The account written over the one read (`read_version`), or first.
pub fn account_write(
    member: &UserId,
    brand: &BrandId,
    a: &Account,
    read_version: Option<u64>,
) -> Result<Write> {
    Ok(Write::Put {
        item: account_item(member, brand, a)?,
        condition: Some(match read_version {
            Some(v) => Condition::Equals(AttrPath::top("version"), n(v as i64)),
            None => Condition::NotExists,
        }),
    })
}

/// A ledger entry, written once by its key.
pub fn entry_write(member: &UserId, brand: &BrandId, e: &PointsEntry) -> Result<Write> {
    let key = Key::new(
        keys::member_pk(member),
        keys::points_entry_sk(brand, &e.key),
    );
    Ok(Write::Put {
        item: to_item(
            e,
            &[
                (PK, key.pk.clone()),
                (SK, key.sk.clone()),
                ("kind", "points-entry".into()),
            ],
        )?,
        condition: Some(Condition::NotExists),
    })
}

/// An account (fresh if none) with its version, and the brand's terms (the defaults if
/// it set none), from items read by their keys.
fn account_and_terms(
    found: &std::collections::HashMap<Key, Item>,
    akey: &Key,
    tkey: &Key,
) -> Result<(Account, Option<u64>, MemberTerms)> {
    let (account, version) = match found.get(akey) {
        Some(i) => {
            let r: AccountRecord = from_item(i.clone())?;
            let v = r.account.version;
            (r.account, Some(v))
        }
        None => (Account::default(), None),
    };
    let terms = match found.get(tkey) {
        Some(i) => from_item(i.clone())?,
        None => MemberTerms::default(),
    };
    Ok((account, version, terms))
}

impl Db {
    /// A member's account in a brand (a fresh one if none) and its version, with the
    /// brand's terms (the defaults if it set none). 1 BatchGetItem.
    pub async fn account(
        &self,
        member: &UserId,
        brand: &BrandId,
    ) -> Result<(Account, Option<u64>, MemberTerms)> {
        let akey = account_key(member, brand);
        let tkey = terms_key(brand);
        let found = self
            .batch_get_map(&[akey.clone(), tkey.clone()], true)
            .await?;
        account_and_terms(&found, &akey, &tkey)
    }

    /// A brand's member terms. 1 GetItem.
    pub async fn member_terms(&self, brand: &BrandId) -> Result<MemberTerms> {
        Ok(match self.table.get(&terms_key(brand), false).await? {
            Some(i) => from_item(i)?,
            None => MemberTerms::default(),
        })
    }

    /// Sets a brand's member terms. 1 PutItem.
    pub async fn put_member_terms(&self, brand: &BrandId, terms: &MemberTerms) -> Result<()> {
        let key = terms_key(brand);
        self.table
            .put(
                to_item(terms, &[(PK, key.pk.clone()), (SK, key.sk.clone())])?,
                None,
            )
            .await?;
        Ok(())
    }

    /// A page of a member's ledger in a brand, by order then event. 1 Query.
    pub async fn points_entries(
        &self,
        member: &UserId,
        brand: &BrandId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Paged<PointsEntry>> {
        let q = crate::table::Query::new(
            crate::table::Index::Primary,
            keys::member_pk(member),
            crate::table::SortRange::BeginsWith(keys::points_entries_prefix(brand)),
        );
        Ok(self
            .page(q, limit, cursor)
            .await?
            .try_map(from_item::<PointsEntry>)?)
    }
}

/// Who holds a phone (by its keyed hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneHolder {
    pub member: UserId,
}

pub fn phone_key(hash: &str) -> Key {
    Key::new(keys::phone_pk(hash), keys::PHONE_SK)
}

impl Db {
    /// A member's profile (a fresh one if none) and who holds `phone_hash`, if asked.
    /// 1 BatchGetItem.
    pub async fn profile(
        &self,
        member: &UserId,
        phone_hash: Option<&str>,
    ) -> Result<(crate::domain::member::Profile, Option<u64>, Option<UserId>)> {
        let pkey = profile_key(member);
        let mut wanted = vec![pkey.clone()];
        if let Some(h) = phone_hash {
            wanted.push(phone_key(h));
        }
        let found = self.batch_get_map(&wanted, true).await?;
        let (profile, version) = match found.get(&pkey) {
            Some(i) => {
                let p: crate::domain::member::Profile = from_item(i.clone())?;
                let v = p.version;
                (p, Some(v))
            }
            None => (Default::default(), None),
        };
        let holder = match phone_hash.and_then(|h| found.get(&phone_key(h))) {
            Some(i) => Some(from_item::<PhoneHolder>(i.clone())?.member),
            None => None,
        };
        Ok((profile, version, holder))
    }

    /// Binds a phone: the phone index on condition no one holds it, the profile on
    /// condition of its version. 1 TransactWriteItems.
    pub async fn bind_phone(
        &self,
        member: &UserId,
        profile: &crate::domain::member::Profile,
        read_version: Option<u64>,
        hash: &str,
    ) -> std::result::Result<(), crate::table::TableError> {
        let pkey = profile_key(member);
        let hkey = phone_key(hash);
        self.table
            .transact(vec![
                Write::Put {
                    item: to_item(
                        &PhoneHolder {
                            member: member.clone(),
                        },
                        &[(PK, hkey.pk.clone()), (SK, hkey.sk.clone())],
                    )?,
                    condition: Some(Condition::NotExists),
                },
                Write::Put {
                    item: to_item(profile, &[(PK, pkey.pk.clone()), (SK, pkey.sk.clone())])?,
                    condition: Some(match read_version {
                        Some(v) => Condition::Equals(AttrPath::top("version"), n(v as i64)),
                        None => Condition::NotExists,
                    }),
                },
            ])
            .await
    }
}

impl Db {
    /// One ledger entry by its key, if written. 1 GetItem.
    pub async fn points_entry(
        &self,
        member: &UserId,
        brand: &BrandId,
        key: &str,
    ) -> Result<Option<PointsEntry>> {
        let k = Key::new(keys::member_pk(member), keys::points_entry_sk(brand, key));
        Ok(match self.table.get(&k, true).await? {
            Some(i) => Some(from_item(i)?),
            None => None,
        })
    }
}

impl Db {
    /// A member's accounts in `brands`, with each brand's terms (fresh accounts and
    /// default terms where none). 1 BatchGetItem.
    pub async fn accounts(
        &self,
        member: &UserId,
        brands: &[BrandId],
    ) -> Result<Vec<(BrandId, Account, MemberTerms)>> {
        let mut wanted = Vec::new();
        for b in brands {
            wanted.push(account_key(member, b));
            wanted.push(terms_key(b));
        }
        let found = if wanted.is_empty() {
            Default::default()
        } else {
            self.batch_get_map(&wanted, true).await?
        };
        let mut out = Vec::new();
        for b in brands {
            let (account, _, terms) =
                account_and_terms(&found, &account_key(member, b), &terms_key(b))?;
            out.push((b.clone(), account, terms));
        }
        Ok(out)
    }

    /// The tenants `follows` name, a whole brand expanded to its store groups: at most
    /// `max`. 1 Query per whole brand.
    pub async fn followed_tenants(
        &self,
        follows: &[crate::domain::member::Follow],
        max: usize,
    ) -> Result<Vec<Tenant>> {
        let mut out: Vec<Tenant> = Vec::new();
        for f in follows {
            let groups = match &f.group {
                Some(g) => vec![g.clone()],
                None => self.brand_groups(&f.brand).await?,
            };
            for g in groups {
                let t = Tenant {
                    brand: f.brand.clone(),
                    group: g,
                };
                if !out.contains(&t) && out.len() < max {
                    out.push(t);
                }
            }
        }
        Ok(out)
    }

    /// A brand's store groups (registered as their stores are put). 1 Query.
    pub async fn brand_groups(&self, brand: &BrandId) -> Result<Vec<StoreGroupId>> {
        let items = self
            .table
            .query(crate::table::Query::new(
                crate::table::Index::Primary,
                keys::brand_pk(brand),
                crate::table::SortRange::BeginsWith(keys::BRAND_GROUP_PREFIX.into()),
            ))
            .await?
            .items;
        Ok(items
            .iter()
            .filter_map(|i| crate::table::string_attr(i, SK))
            .filter_map(|sk| sk.strip_prefix(keys::BRAND_GROUP_PREFIX))
            .filter_map(|g| StoreGroupId::parse(g).ok())
            .collect())
    }

    /// Sets a member's follows: the profile on condition of its version.
    /// 1 BatchGetItem + 1 PutItem.
    pub async fn put_profile(
        &self,
        member: &UserId,
        profile: &crate::domain::member::Profile,
        read_version: Option<u64>,
    ) -> std::result::Result<(), crate::table::TableError> {
        let key = profile_key(member);
        self.table
            .put(
                to_item(profile, &[(PK, key.pk.clone()), (SK, key.sk.clone())])?,
                Some(match read_version {
                    Some(v) => Condition::Equals(AttrPath::top("version"), n(v as i64)),
                    None => Condition::NotExists,
                }),
            )
            .await
    }
}

/// The keys a use case reads to know a member's level in a brand: their account,
/// their profile (the CRM's floor) and the brand's terms.
pub fn level_keys(member: &UserId, brand: &BrandId) -> [Key; 3] {
    [
        account_key(member, brand),
        profile_key(member),
        terms_key(brand),
    ]
}

/// A member in a brand as read among other items (by [`level_keys`]).
pub struct MemberAsRead {
    pub account: Account,
    /// The account's version, none if it does not exist yet.
    pub version: Option<u64>,
    pub terms: MemberTerms,
    /// Their level at the time asked: the one their growth holds, or the CRM's floor.
    pub level: u8,
}

impl MemberAsRead {
    pub fn of(
        found: &std::collections::HashMap<Key, Item>,
        member: &UserId,
        brand: &BrandId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self> {
        let [akey, pkey, tkey] = level_keys(member, brand);
        let (account, version, terms) = account_and_terms(found, &akey, &tkey)?;
        let floor = match found.get(&pkey) {
            Some(i) => from_item::<crate::domain::member::Profile>(i.clone())?
                .crm_levels
                .get(brand.as_str())
                .copied()
                .unwrap_or(0),
            None => 0,
        };
        let level = account.level_at(&terms, now).max(floor);
        Ok(MemberAsRead {
            account,
            version,
            terms,
            level,
        })
    }

    /// A transaction's check that the account is still as read (its level holds).
    pub fn unchanged(&self, member: &UserId, brand: &BrandId) -> Write {
        Write::Check {
            key: account_key(member, brand),
            condition: match self.version {
                Some(v) => Condition::Equals(AttrPath::top("version"), n(v as i64)),
                None => Condition::NotExists,
            },
        }
    }
}
