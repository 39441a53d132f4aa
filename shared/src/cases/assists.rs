//! Assists: a member starts one for an offer (one open at a time per offer), helpers
//! assist it, the last one needed unlocks the pack in the transaction that takes it
//! from the budget, and an assist whose time runs out expires (a delayed message, the
//! sweeper behind it).

use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::db::assists::{assist_item, budget_key, offer_key};
use crate::db::orders::coupons::coupon_item;
use crate::db::orders::{number, version_is};
use crate::db::retry::{lost_race, optimistic, Attempt};
use crate::domain::assist::{day_of, Assist, AssistOffer, HelpStep, HelperFacts, BUDGET_SHARDS};
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::coupon::{BuyerCoupon, CouponStatus};
use crate::domain::ids::{AssistId, AssistOfferId, GuideId, UserId};
use crate::domain::tenancy::Tenant;
use crate::domain::DomainError;
use crate::error::Result;
use crate::queue::messages::{delay_until, MemberMessage};
use crate::table::keys;
use crate::table::{
    from_item, s, string_attr, to_item, AttrPath, Condition, Key, TableError, Update, Write, PK, SK,
};

/// The starter's marker of their assist of an offer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct OpenAssist {
    assist: AssistId,
    /// The pack was granted: no second start.
    #[serde(default)]
    unlocked: bool,
}

fn open_key(
    t: &Tenant,
    starter: &UserId,
    c: &crate::domain::ids::CampaignId,
    offer: &AssistOfferId,
) -> Key {
    Key::new(keys::buyer_pk(t, starter), keys::open_assist_sk(c, offer))
}

impl AppState {
    /// Starts an assist, or gives back the one open (a repeated start is harmless). 1
    /// GetItem (the offer) + 1 BatchGetItem (the open marker) (+1 GetItem of the open
    /// assist) + 1 TransactWriteItems (the assist, the marker on condition it is as
    /// read, and the guide's count when it came through a guide's link).
    #[allow(clippy::too_many_arguments)]
    pub async fn start_assist(
        &self,
        t: &Tenant,
        campaign: &Campaign,
        offer: &AssistOfferId,
        starter: &UserId,
        phone_hash: String,
        guide: Option<(GuideId, String)>,
        now: DateTime<Utc>,
    ) -> Result<Assist> {
        if campaign.status_at(now) != CampaignStatus::Live {
            return Err(DomainError::conflict(
                "campaign-not-live",
                "assists are started while the campaign is live",
            )
            .into());
        }
        let o = self.db.assist_offer(t, &campaign.id, offer).await?;
        let marker_key = open_key(t, starter, &campaign.id, offer);
        let assist = optimistic("this assist", || async {
            let found = self
                .db
                .batch_get_map(std::slice::from_ref(&marker_key), true)
                .await?;
            let marker: Option<OpenAssist> = found
                .get(&marker_key)
                .map(|i| from_item(i.clone()))
                .transpose()?;
            if let Some(m) = &marker {
                if m.unlocked {
                    return Err(DomainError::conflict(
                        "pack-already-unlocked",
                        "you have unlocked this offer's pack already",
                    )
                    .into());
                }
                let current = self.db.assist(t, &m.assist).await?;
                if current.status == crate::domain::assist::AssistStatus::Open
                    && now < current.expires_at
                {
                    return Ok(Attempt::Done(current));
                }
            }
            let a = Assist::start(
                t,
                &campaign.id,
                campaign.ends_at,
                &o,
                starter,
                phone_hash.clone(),
                guide.clone(),
                now,
            )?;
            let mark = to_item(
                &OpenAssist {
                    assist: a.id.clone(),
                    unlocked: false,
                },
                &[(PK, marker_key.pk.clone()), (SK, marker_key.sk.clone())],
            )?;
            let mark_condition = match &marker {
                Some(m) => Condition::Equals(AttrPath::top("assist"), s(m.assist.as_str())),
                None => Condition::NotExists,
            };
            let mut writes = vec![
                Write::Put {
                    item: assist_item(&a)?,
                    condition: Some(Condition::NotExists),
                },
                Write::Put {
                    item: mark,
                    condition: Some(mark_condition),
                },
            ];
            writes.push(crate::db::assists::unfenced(t, &campaign.id, offer));
            if let Some(g) = &a.guide {
                // The guide's board counts assists started through their link.
                writes.push(Write::Update {
                    key: Key::new(
                        keys::campaign_pk(t, &campaign.id),
                        keys::guide_assists_sk(g),
                    ),
                    update: Update {
                        add: vec![(AttrPath::top("started"), 1)],
                        ..Update::default()
                    },
                    condition: None,
                });
            }
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(a)),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
        if assist.created_at == now {
            let msg = MemberMessage::ExpireAssist {
                tenant: t.clone(),
                assist: assist.id.clone(),
                due: assist.expires_at,
            };
            self.queue
                .post(&msg, Some(delay_until(assist.expires_at, now)))
                .await?;
        }
        Ok(assist)
    }

    /// A helper (a verified phone, as its keyed hash) assists. Counted, or (the last
    /// one needed) the assist completes and the pack is granted in the same
    /// transaction that takes one pack from a budget counter holding one. A repeated
    /// assist by the same helper answers the assist as it stands. 1 BatchGetItem (the
    /// assist, the offer, its budget counters, the phone's assist of the offer and its
    /// places today, the helper's account in the brand and first-paid marker) + 1
    /// TransactWriteItems.
    pub async fn help_assist(
        &self,
        t: &Tenant,
        id: &AssistId,
        helper: &UserId,
        phone_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Assist> {
        let result = optimistic("this assist", || async {
            let current = self.db.assist(t, id).await?;
            let c = &current.campaign;
            let day = day_of(now);
            let hpk = keys::helper_pk(t, phone_hash);
            let helped_key = Key::new(hpk.clone(), keys::helped_offer_sk(c, &current.offer));
            let okey = offer_key(t, c, &current.offer);
            let mut wanted = vec![okey.clone(), helped_key.clone()];
            wanted.extend((0..BUDGET_SHARDS).map(|s| budget_key(t, c, &current.offer, s)));
            wanted.extend((1..=20u8).map(|n| Key::new(hpk.clone(), keys::helped_day_sk(day, n))));
            wanted.push(crate::db::members::account_key(helper, &t.brand));
            wanted.push(Key::new(keys::buyer_pk(t, helper), keys::FIRST_PAID_SK));
            let found = self.db.batch_get_map(&wanted, true).await?;
            let offer_item = found.get(&okey).cloned().ok_or(DomainError::NotFound {
                what: "assist offer",
            })?;
            crate::db::assists::ensure_unfenced(&offer_item)?;
            let offer: AssistOffer = from_item(offer_item)?;
            let assisted: Option<AssistId> = found
                .get(&helped_key)
                .and_then(|i| string_attr(i, "assist"))
                .and_then(|a| AssistId::parse(a).ok());
            if assisted.as_ref() == Some(id) && current.helped_by(helper) {
                return Ok(Attempt::Done(current)); // a repeat of this very assist
            }
            let today = (1..=20u8)
                .filter(|n| {
                    found.contains_key(&Key::new(hpk.clone(), keys::helped_day_sk(day, *n)))
                })
                .count() as u32;
            let bought = found
                .get(&crate::db::members::account_key(helper, &t.brand))
                .and_then(|i| from_item::<crate::domain::member::Account>(i.clone()).ok())
                .is_some_and(|a| !a.orders.is_empty())
                || found.contains_key(&Key::new(keys::buyer_pk(t, helper), keys::FIRST_PAID_SK));
            let shards: Vec<(u8, i64)> = (0..BUDGET_SHARDS)
                .map(|s| {
                    let left = found
                        .get(&budget_key(t, c, &current.offer, s))
                        .map_or(0, |i| number(i.get("remaining")));
                    (s, left)
                })
                .collect();
            let left: i64 = shards.iter().map(|(_, l)| (*l).max(0)).sum();
            let facts = HelperFacts {
                member: helper,
                phone: phone_hash,
                assisted: assisted.as_ref(),
                today,
                new_to_brand: !bought,
            };
            let step = current.decide_help(&offer, &facts, left, now)?;
            let mut next = current.clone();
            let ids = Assist::pack_ids(&offer);
            next.help(
                &facts,
                step,
                ids.iter().map(|(tpl, n)| format!("{tpl}.{n}")).collect(),
                now,
            );
            let place = (1..=offer.daily_cap)
                .find(|n| !found.contains_key(&Key::new(hpk.clone(), keys::helped_day_sk(day, *n))))
                .unwrap_or(offer.daily_cap);
            let mut writes = vec![
                Write::Put {
                    item: to_item(
                        &serde_json::json!({"assist": id, "member": helper, "at": now}),
                        &[(PK, helped_key.pk.clone()), (SK, helped_key.sk.clone())],
                    )?,
                    condition: Some(Condition::NotExists),
                },
                Write::Put {
                    item: to_item(
                        &serde_json::json!({"assist": id, "at": now}),
                        &[(PK, hpk.clone()), (SK, keys::helped_day_sk(day, place))],
                    )?,
                    condition: Some(Condition::NotExists),
                },
                Write::Put {
                    item: assist_item(&next)?,
                    condition: Some(version_is(current.version)),
                },
            ];
            if step == HelpStep::Completes {
                // A counter holding a pack, chosen by the assist so a rush spreads.
                let start = (id.as_str().bytes().map(u32::from).sum::<u32>()
                    % u32::from(BUDGET_SHARDS)) as usize;
                let shard = (0..shards.len())
                    .map(|i| shards[(start + i) % shards.len()])
                    .find(|(_, l)| *l > 0)
                    .map(|(s, _)| s)
                    .unwrap_or(0);
                let remaining = AttrPath::top("remaining");
                writes.push(Write::Update {
                    key: budget_key(t, c, &current.offer, shard),
                    update: Update {
                        add: vec![(remaining.clone(), -1)],
                        ..Update::default()
                    },
                    condition: Some(Condition::AtLeast(remaining, 1)),
                });
                let campaign = self.db.campaign(t, c, false).await?;
                for (tpl, n) in &ids {
                    let template = campaign.coupons.iter().find(|x| &x.id == tpl).ok_or(
                        DomainError::NotFound {
                            what: "coupon template",
                        },
                    )?;
                    let coupon = BuyerCoupon {
                        id: format!("{tpl}.{n}"),
                        tenant: t.clone(),
                        campaign: c.clone(),
                        template: tpl.clone(),
                        name: template.name.clone(),
                        off_fen: template.off_fen,
                        min_spend_fen: template.min_spend_fen,
                        status: CouponStatus::Available,
                        order: None,
                        claimed_at: now,
                    };
                    writes.push(Write::Put {
                        item: coupon_item(t, &coupon, &current.starter, *n)?,
                        condition: Some(Condition::NotExists),
                    });
                }
                let mk = open_key(t, &current.starter, c, &current.offer);
                writes.push(Write::Update {
                    key: mk,
                    update: Update {
                        set: vec![(
                            AttrPath::top("unlocked"),
                            serde_dynamo::AttributeValue::Bool(true),
                        )],
                        ..Update::default()
                    },
                    condition: Some(Condition::Equals(AttrPath::top("assist"), s(id.as_str()))),
                });
            }
            // last, so the indices matched below stay as they are
            writes.push(crate::db::assists::unfenced(t, c, &current.offer));
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(next)),
                // The phone's assist of this offer was taken meanwhile: read again
                // (a repeat of this one, or another assist).
                Err(TableError::TransactionCancelled { failed }) if failed.contains(&0) => {
                    Ok(Attempt::Again)
                }
                // A place of the day taken meanwhile: the next one, or the cap.
                Err(TableError::TransactionCancelled { failed }) if failed.contains(&1) => {
                    Ok(Attempt::Again)
                }
                // The counter chosen was emptied meanwhile: read the others again.
                Err(TableError::TransactionCancelled { failed }) if failed.contains(&3) => {
                    Ok(Attempt::Again)
                }
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await;
        if let Err(crate::Error::Domain(DomainError::Conflict {
            kind: "budget-spent",
            ..
        })) = &result
        {
            // Why this assist stayed open: recorded once.
            let current = self.db.assist(t, id).await?;
            if current.budget_spent_at.is_none() {
                let mut next = current.clone();
                next.budget_spent_at = Some(now);
                next.version += 1;
                if let Err(e) = self.db.save_assist(&next, current.version).await {
                    tracing::warn!(assist = %id, error = %e, "could not record the spent budget");
                }
            }
        }
        result
    }

    /// Expires an open assist whose time is up, freeing its starter to start again
    /// (helpers' places of the day stay used). Returns when it is next due. 1 GetItem
    /// + 1 BatchGetItem (the starter's marker) + 1 TransactWriteItems.
    pub async fn expire_assist(
        &self,
        t: &Tenant,
        id: &AssistId,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        optimistic("this assist", || async {
            let current = self.db.assist(t, id).await?;
            let mut next = current.clone();
            if !next.expire(now) {
                let due = (current.status == crate::domain::assist::AssistStatus::Open)
                    .then_some(current.expires_at);
                return Ok(Attempt::Done(due));
            }
            let mut writes = vec![Write::Put {
                item: assist_item(&next)?,
                condition: Some(version_is(current.version)),
            }];
            // The starter's marker goes, unless it already names a newer assist.
            let marker = open_key(t, &current.starter, &current.campaign, &current.offer);
            let names_this = self
                .db
                .batch_get_map(std::slice::from_ref(&marker), true)
                .await?
                .get(&marker)
                .and_then(|i| string_attr(i, "assist").map(|a| a == id.as_str()))
                .unwrap_or(false);
            if names_this {
                writes.push(Write::Delete {
                    key: marker,
                    condition: Some(Condition::Equals(AttrPath::top("assist"), s(id.as_str()))),
                });
            }
            match self.db.table().transact(writes).await {
                Ok(()) => Ok(Attempt::Done(None)),
                Err(e) if lost_race(&e) => Ok(Attempt::Again),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
