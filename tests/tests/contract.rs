//! The table contract: the same behaviour asserted of the in-memory table and of the
//! DynamoDB adapter talking to moto_server. Each case is written once and instantiated
//! for both adapters by `contract!`.

use clearance::table::{
    n, s, AttrPath, Condition, Index, Item, Key, Query, SortRange, Table, TableError, Update,
    Write, GSI1PK, GSI1SK, GSI3PK, GSI3SK, PK, SK,
};
use serde_dynamo::AttributeValue;
use std::collections::HashMap;
use std::sync::Arc;

fn item(pk: &str, sk: &str, extra: &[(&str, AttributeValue)]) -> Item {
    let mut m: HashMap<String, AttributeValue> =
        HashMap::from([(PK.into(), s(pk)), (SK.into(), s(sk))]);
    for (k, v) in extra {
        m.insert((*k).into(), v.clone());
    }
    m.into()
}

fn num(item: &Item, path: &[&str]) -> Option<i64> {
    let mut cur = item.get(path[0])?;
    for p in &path[1..] {
        match cur {
            AttributeValue::M(m) => cur = m.get(*p)?,
            _ => return None,
        }
    }
    match cur {
        AttributeValue::N(v) => v.parse().ok(),
        _ => None,
    }
}

/// One conditional update as its own transaction: the port has no single-item update,
/// because no use case needs one.
async fn update(
    t: &Arc<dyn Table>,
    key: &Key,
    update: Update,
    condition: Option<Condition>,
) -> Result<Item, TableError> {
    let w = Write::Update {
        key: key.clone(),
        update,
        condition,
    };
    match t.transact(vec![w]).await {
        Ok(()) => Ok(t.get(key, true).await?.unwrap_or_default()),
        Err(TableError::TransactionCancelled { failed }) if failed == [0] => {
            Err(TableError::ConditionFailed)
        }
        Err(e) => Err(e),
    }
}

async fn delete(
    t: &Arc<dyn Table>,
    key: &Key,
    condition: Option<Condition>,
) -> Result<(), TableError> {
    match t
        .transact(vec![Write::Delete {
            key: key.clone(),
            condition,
        }])
        .await
    {
        Err(TableError::TransactionCancelled { failed }) if failed == [0] => {
            Err(TableError::ConditionFailed)
        }
        other => other,
    }
}

fn stock_item(pk: &str, units: i64) -> Item {
    item(
        pk,
        "STOCK",
        &[(
            "units",
            AttributeValue::M(HashMap::from([("38".into(), n(units))])),
        )],
    )
}

fn decrement(q: i64) -> (Update, Condition) {
    let path = AttrPath::nested(&["units", "38"]);
    (
        Update {
            add: vec![(path.clone(), -q)],
            ..Update::default()
        },
        Condition::AtLeast(path, q),
    )
}

pub async fn put_then_get_roundtrips_an_item(t: Arc<dyn Table>) {
    // given an item with nested values
    let it = item(
        "T#a#b",
        "X#1",
        &[
            ("name", s("Sandal")),
            (
                "units",
                AttributeValue::M(HashMap::from([("38".into(), n(3))])),
            ),
        ],
    );
    // when it is put and read back
    t.put(it.clone(), None).await.unwrap();
    let got = t.get(&Key::new("T#a#b", "X#1"), true).await.unwrap();
    // then it is the same item, and a missing key reads as none
    assert_eq!(got, Some(it));
    assert_eq!(t.get(&Key::new("T#a#b", "X#2"), true).await.unwrap(), None);
}

pub async fn a_conditional_put_never_overwrites_an_existing_item(t: Arc<dyn Table>) {
    t.put(item("P", "S", &[("v", n(1))]), Some(Condition::NotExists))
        .await
        .unwrap();
    let second = t
        .put(item("P", "S", &[("v", n(2))]), Some(Condition::NotExists))
        .await;
    assert_eq!(second, Err(TableError::ConditionFailed));
    let got = t.get(&Key::new("P", "S"), true).await.unwrap().unwrap();
    assert_eq!(num(&got, &["v"]), Some(1));
}

pub async fn an_update_adds_sets_and_removes_nested_attributes(t: Arc<dyn Table>) {
    t.put(stock_item("P", 5), None).await.unwrap();
    let up = Update {
        set: vec![(AttrPath::top("status"), s("open"))],
        add: vec![
            (AttrPath::nested(&["units", "38"]), -2),
            (AttrPath::top("sold"), 2),
        ],
        remove: vec![],
    };
    let after = update(&t, &Key::new("P", "STOCK"), up, None).await.unwrap();
    assert_eq!(num(&after, &["units", "38"]), Some(3));
    assert_eq!(
        num(&after, &["sold"]),
        Some(2),
        "adding to a missing number starts from 0"
    );
    assert_eq!(after.get("status"), Some(&s("open")));
    let rm = Update {
        remove: vec![AttrPath::top("status")],
        ..Update::default()
    };
    let after = update(&t, &Key::new("P", "STOCK"), rm, None).await.unwrap();
    assert!(after.get("status").is_none());
}

pub async fn a_conditional_decrement_never_goes_below_zero(t: Arc<dyn Table>) {
    t.put(stock_item("P", 2), None).await.unwrap();
    let (up, cond) = decrement(3);
    assert_eq!(
        update(&t, &Key::new("P", "STOCK"), up, Some(cond)).await,
        Err(TableError::ConditionFailed)
    );
    let (up, cond) = decrement(2);
    let after = update(&t, &Key::new("P", "STOCK"), up, Some(cond))
        .await
        .unwrap();
    assert_eq!(num(&after, &["units", "38"]), Some(0));
    let (up, cond) = decrement(1);
    assert_eq!(
        update(&t, &Key::new("P", "STOCK"), up, Some(cond)).await,
        Err(TableError::ConditionFailed)
    );
}

pub async fn fifty_concurrent_conditional_decrements_of_five_units_leave_exactly_five_orders(
    t: Arc<dyn Table>,
) {
    // given a size with 5 units
    t.put(stock_item("P", 5), None).await.unwrap();
    // when 50 buyers at once each take a unit and write an order in one transaction
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let t = t.clone();
            tokio::spawn(async move {
                let (up, cond) = decrement(1);
                t.transact(vec![
                    Write::Update {
                        key: Key::new("P", "STOCK"),
                        update: up,
                        condition: Some(cond),
                    },
                    Write::Put {
                        item: item("P", &format!("ORDER#{i}"), &[]),
                        condition: Some(Condition::NotExists),
                    },
                ])
                .await
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => ok += 1,
            Err(TableError::TransactionCancelled { failed }) => {
                assert_eq!(failed, vec![0], "only the stock condition can fail");
                refused += 1;
            }
            // DynamoDB may also cancel for a conflicting transaction: still refused.
            Err(TableError::Conflict) => refused += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    // then exactly 5 went through, with 5 orders, and the stock is 0, never negative
    assert_eq!((ok, refused), (5, 45));
    let got = t.get(&Key::new("P", "STOCK"), true).await.unwrap().unwrap();
    assert_eq!(num(&got, &["units", "38"]), Some(0));
    let mut q = Query::new(Index::Primary, "P", SortRange::BeginsWith("ORDER#".into()));
    q.consistent = true;
    assert_eq!(t.query(q).await.unwrap().items.len(), 5);
}

pub async fn a_transaction_applies_all_of_its_writes_or_none(t: Arc<dyn Table>) {
    // given stock of 1 and an existing idempotency record
    t.put(stock_item("P", 1), None).await.unwrap();
    t.put(item("P", "IDEM", &[]), None).await.unwrap();
    let (up, cond) = decrement(1);
    // when a transaction decrements stock, writes an order and creates the record again
    let result = t
        .transact(vec![
            Write::Update {
                key: Key::new("P", "STOCK"),
                update: up.clone(),
                condition: Some(cond.clone()),
            },
            Write::Put {
                item: item("P", "ORDER", &[]),
                condition: Some(Condition::NotExists),
            },
            Write::Put {
                item: item("P", "IDEM", &[("again", n(1))]),
                condition: Some(Condition::NotExists),
            },
        ])
        .await;
    // then it is cancelled, naming the failed write, and nothing changed
    assert_eq!(
        result,
        Err(TableError::TransactionCancelled { failed: vec![2] })
    );
    let stock = t.get(&Key::new("P", "STOCK"), true).await.unwrap().unwrap();
    assert_eq!(num(&stock, &["units", "38"]), Some(1));
    assert_eq!(t.get(&Key::new("P", "ORDER"), true).await.unwrap(), None);
    // and the same transaction without the conflict applies entirely
    t.transact(vec![
        Write::Update {
            key: Key::new("P", "STOCK"),
            update: up,
            condition: Some(cond),
        },
        Write::Put {
            item: item("P", "ORDER", &[]),
            condition: Some(Condition::NotExists),
        },
        Write::Check {
            key: Key::new("P", "IDEM"),
            condition: Condition::Exists,
        },
        Write::Delete {
            key: Key::new("P", "GONE"),
            condition: None,
        },
    ])
    .await
    .unwrap();
    let stock = t.get(&Key::new("P", "STOCK"), true).await.unwrap().unwrap();
    assert_eq!(num(&stock, &["units", "38"]), Some(0));
    assert!(t
        .get(&Key::new("P", "ORDER"), true)
        .await
        .unwrap()
        .is_some());
}

pub async fn a_transaction_may_not_touch_one_item_twice(t: Arc<dyn Table>) {
    let r = t
        .transact(vec![
            Write::Put {
                item: item("P", "A", &[]),
                condition: None,
            },
            Write::Delete {
                key: Key::new("P", "A"),
                condition: None,
            },
        ])
        .await;
    assert!(matches!(r, Err(TableError::Invalid(_))), "{r:?}");
    assert_eq!(t.get(&Key::new("P", "A"), true).await.unwrap(), None);
}

pub async fn a_version_check_refuses_a_stale_writer(t: Arc<dyn Table>) {
    t.put(item("P", "C", &[("version", n(1))]), None)
        .await
        .unwrap();
    let v1 = Condition::Equals(AttrPath::top("version"), n(1));
    t.put(item("P", "C", &[("version", n(2))]), Some(v1.clone()))
        .await
        .unwrap();
    assert_eq!(
        t.put(item("P", "C", &[("version", n(2))]), Some(v1)).await,
        Err(TableError::ConditionFailed)
    );
    let r = delete(
        &t,
        &Key::new("P", "C"),
        Some(Condition::Equals(AttrPath::top("version"), n(7))),
    )
    .await;
    assert_eq!(r, Err(TableError::ConditionFailed));
    delete(&t, &Key::new("P", "C"), Some(Condition::Exists))
        .await
        .unwrap();
    assert_eq!(t.get(&Key::new("P", "C"), true).await.unwrap(), None);
}

pub async fn a_query_returns_a_key_range_in_order_and_in_pages(t: Arc<dyn Table>) {
    for sk in ["P#A#", "P#A#S#00", "P#B#", "P#C#", "K#x", "Q#z"] {
        t.put(item("T", sk, &[]), None).await.unwrap();
    }
    t.put(item("OTHER", "P#A#", &[]), None).await.unwrap();
    let sks = |items: &[Item]| {
        items
            .iter()
            .map(|i| {
                clearance::table::string_attr(i, SK)
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect::<Vec<_>>()
    };

    let mut q = Query::new(Index::Primary, "T", SortRange::BeginsWith("P#".into()));
    q.consistent = true;
    let all = t.query(q.clone()).await.unwrap();
    assert_eq!(sks(&all.items), ["P#A#", "P#A#S#00", "P#B#", "P#C#"]);

    let between = t
        .query(Query::new(
            Index::Primary,
            "T",
            SortRange::Between("P#A#~".into(), "P#~".into()),
        ))
        .await
        .unwrap();
    assert_eq!(sks(&between.items), ["P#B#", "P#C#"]);

    // pages of 3 then the rest, following `last`
    q.limit = Some(3);
    let first = t.query(q.clone()).await.unwrap();
    assert_eq!(sks(&first.items), ["P#A#", "P#A#S#00", "P#B#"]);
    q.start_after = first.last.clone();
    assert!(q.start_after.is_some());
    let second = t.query(q.clone()).await.unwrap();
    assert_eq!(sks(&second.items), ["P#C#"]);

    let mut rev = Query::new(Index::Primary, "T", SortRange::All);
    rev.forward = false;
    let rev = t.query(rev).await.unwrap();
    assert_eq!(sks(&rev.items).first().map(String::as_str), Some("Q#z"));
}

pub async fn a_gsi_query_finds_items_by_their_index_keys(t: Arc<dyn Table>) {
    for (sk, category) in [
        ("P#A#", "CAT#sandals"),
        ("P#B#", "CAT#pumps"),
        ("P#C#", "CAT#sandals"),
    ] {
        let keys = [(GSI1PK, s(category)), (GSI1SK, s(sk))];
        t.put(item("T#1", sk, &keys), None).await.unwrap();
    }
    t.put(item("T#1", "P#D#", &[]), None).await.unwrap();
    let page = t
        .query(Query::new(
            Index::Gsi1,
            "CAT#sandals",
            SortRange::BeginsWith("P#".into()),
        ))
        .await
        .unwrap();
    let sks: Vec<_> = page
        .items
        .iter()
        .filter_map(|i| clearance::table::string_attr(i, SK))
        .collect();
    assert_eq!(sks, ["P#A#", "P#C#"]);
}

pub async fn the_timer_index_returns_only_keys_in_due_order(t: Arc<dyn Table>) {
    for (pk, due) in [
        ("T#1#O#b", "2026-11-23T04:00:00.000Z"),
        ("T#1#O#a", "2026-11-23T03:00:00.000Z"),
        ("T#1#O#c", "2026-11-23T05:00:00.000Z"),
    ] {
        let keys = [(GSI3PK, s("DUE#0")), (GSI3SK, s(format!("{due}#{pk}")))];
        let extra = [("secret", s("not projected"))];
        let mut it = item(pk, "ORDER", &keys);
        for (k, v) in extra {
            it.insert(k.to_owned(), v);
        }
        t.put(it, None).await.unwrap();
    }
    let page = t
        .query(Query::new(
            Index::Gsi3,
            "DUE#0",
            SortRange::Between("0".into(), "2026-11-23T04:00:00.000Z#~".into()),
        ))
        .await
        .unwrap();
    let pks: Vec<_> = page
        .items
        .iter()
        .filter_map(|i| clearance::table::string_attr(i, PK))
        .collect();
    assert_eq!(pks, ["T#1#O#a", "T#1#O#b"], "due by then, earliest first");
    assert!(
        page.items.iter().all(|i| i.get("secret").is_none()),
        "the timer index projects keys only"
    );
    // DynamoDB refuses an empty key value, and so does the embedded table
    let empty = Query::new(
        Index::Gsi3,
        "DUE#0",
        SortRange::Between(String::new(), "1".into()),
    );
    assert!(matches!(t.query(empty).await, Err(TableError::Invalid(_))));
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(clearance_tests::memory_table()).await;
                }
            )*
        }
        mod dynamodb_on_moto {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(clearance_tests::moto_table().await).await;
                }
            )*
        }
    };
}

contract!(
    put_then_get_roundtrips_an_item,
    a_conditional_put_never_overwrites_an_existing_item,
    an_update_adds_sets_and_removes_nested_attributes,
    a_conditional_decrement_never_goes_below_zero,
    fifty_concurrent_conditional_decrements_of_five_units_leave_exactly_five_orders,
    a_transaction_applies_all_of_its_writes_or_none,
    a_transaction_may_not_touch_one_item_twice,
    a_version_check_refuses_a_stale_writer,
    a_query_returns_a_key_range_in_order_and_in_pages,
    a_gsi_query_finds_items_by_their_index_keys,
    the_timer_index_returns_only_keys_in_due_order,
    catalog_pages_cover_every_product_once_with_its_stock,
);

/// The typed catalog over each adapter: seeded listings, paged 5 at a time, come back
/// each exactly once with stock summed over its shards.
pub async fn catalog_pages_cover_every_product_once_with_its_stock(t: Arc<dyn Table>) {
    let store = clearance::db::Db::new(t);
    clearance_local::seed::seed_demo(&store, clearance_tests::t0())
        .await
        .unwrap();
    let tenant = clearance_local::seed::tenant().unwrap();
    let campaign = clearance::domain::ids::CampaignId::parse("summer-clearance").unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .products(&tenant, &campaign, None, after.as_ref(), 5)
            .await
            .unwrap();
        assert!(page.products.len() <= 5);
        for p in &page.products {
            let total: u32 = p.listing.total_units().values().sum();
            let units: u32 = p.units.values().sum();
            assert_eq!(
                units, total,
                "{}: shards must sum to the stores' stock",
                p.listing.sku
            );
            seen.push(p.listing.sku.to_string());
        }
        match page.next_after {
            Some(sku) => after = Some(sku),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 13, "{seen:?}");
    assert_eq!(unique.len(), 13);
}
