//! Size advice from what a member kept: the sizes they kept in a brand (per category
//! when they bought in it), moved by what they sent back as too small or too large.

use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use crate::domain::ids::{CategoryId, Size};

/// One size of one order line, as it ended: units kept and units sent back for fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitFact {
    pub category: Option<CategoryId>,
    pub size: Size,
    pub kept: u32,
    pub too_small: u32,
    pub too_large: u32,
    /// Returned as the wrong size, without saying which way.
    pub wrong_size: u32,
}

/// The size to choose, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SizeAdvice {
    pub size: Size,
    /// Said to the buyer: "you kept 38 in pumps of this brand twice".
    pub reason: String,
    /// How many units it rests on.
    pub based_on: u32,
}

fn tenths(s: &Size) -> Option<i32> {
    let (whole, half) = match s.as_str().split_once('.') {
        Some((w, "5")) => (w, 5),
        Some(_) => return None,
        None => (s.as_str(), 0),
    };
    Some(whole.parse::<i32>().ok()? * 10 + half)
}

/// The size one step up or down (`38` → `39`), if the size is a number.
fn step(s: &Size, by: i32) -> Option<Size> {
    let t = tenths(s)? + by * 10;
    if t <= 0 {
        return None;
    }
    let text = if t % 10 == 0 {
        format!("{}", t / 10)
    } else {
        format!("{}.5", t / 10)
    };
    Size::parse(&text).ok()
}

fn times(n: u32) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

#[derive(Default)]
struct Votes {
    score: u32,
    kept: u32,
    small: u32,
    large: u32,
    first: usize,
}

/// Advice for `category` (its id and name) from `facts`, newest first: the category's
/// own facts when there are any, the whole brand's otherwise (or when no category is
/// named). `None` when nothing was kept and nothing sent back for fit.
pub fn advise(facts: &[FitFact], category: Option<(&CategoryId, &str)>) -> Option<SizeAdvice> {
    let own: Vec<&FitFact> = match category {
        Some((id, _)) => facts
            .iter()
            .filter(|f| f.category.as_ref() == Some(id))
            .collect(),
        None => Vec::new(),
    };
    let (used, scope) = match category {
        Some((_, name)) if !own.is_empty() => (own, format!("{name} of this brand")),
        _ => (facts.iter().collect::<Vec<_>>(), "this brand".to_owned()),
    };
    let mut votes: BTreeMap<Size, Votes> = BTreeMap::new();
    for (i, f) in used.iter().enumerate() {
        let mut vote = |size: Size, kept: u32, small: u32, large: u32| {
            let v = votes.entry(size).or_insert_with(|| Votes {
                first: i,
                ..Votes::default()
            });
            v.score += kept + small + large;
            v.kept += kept;
            v.small += small;
            v.large += large;
        };
        if f.kept > 0 {
            vote(f.size.clone(), f.kept, 0, 0);
        }
        if f.too_small > 0 {
            if let Some(up) = step(&f.size, 1) {
                vote(up, 0, f.too_small, 0);
            }
        }
        if f.too_large > 0 {
            if let Some(down) = step(&f.size, -1) {
                vote(down, 0, 0, f.too_large);
            }
        }
    }
    let (size, v) = votes
        .into_iter()
        .max_by_key(|(_, v)| (v.score, v.kept, std::cmp::Reverse(v.first)))?;
    let reason = if v.kept > 0 {
        format!("you kept {size} in {scope} {}", times(v.kept))
    } else if v.small > 0 {
        let from = step(&size, -1).map_or_else(String::new, |s| s.to_string());
        format!("you sent {from} back as too small in {scope}: one size up")
    } else {
        let from = step(&size, 1).map_or_else(String::new, |s| s.to_string());
        format!("you sent {from} back as too large in {scope}: one size down")
    };
    Some(SizeAdvice {
        size,
        reason,
        based_on: v.score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(cat: &str, size: &str, kept: u32, small: u32, large: u32) -> FitFact {
        FitFact {
            category: Some(CategoryId::parse(cat).unwrap()),
            size: Size::parse(size).unwrap(),
            kept,
            too_small: small,
            too_large: large,
            wrong_size: 0,
        }
    }

    fn pumps() -> CategoryId {
        CategoryId::parse("pumps").unwrap()
    }

    #[test]
    fn the_size_kept_most_in_the_category_is_advised() {
        let facts = [
            fact("pumps", "38", 1, 0, 0),
            fact("sandals", "39", 3, 0, 0),
            fact("pumps", "38", 1, 0, 0),
            fact("pumps", "37", 1, 0, 0),
        ];
        let a = advise(&facts, Some((&pumps(), "pumps"))).unwrap();
        assert_eq!(a.size.as_str(), "38");
        assert_eq!(a.reason, "you kept 38 in pumps of this brand twice");
    }

    #[test]
    fn sent_back_too_small_moves_the_advice_up() {
        let facts = [fact("pumps", "37", 0, 2, 0), fact("pumps", "38", 1, 0, 0)];
        let a = advise(&facts, Some((&pumps(), "pumps"))).unwrap();
        assert_eq!(a.size.as_str(), "38");
        assert_eq!(a.based_on, 3);
        let only_returned = [fact("pumps", "37", 0, 1, 0)];
        let a = advise(&only_returned, Some((&pumps(), "pumps"))).unwrap();
        assert_eq!(a.size.as_str(), "38");
        assert!(a.reason.contains("37 back as too small"), "{}", a.reason);
        let large = [fact("pumps", "38.5", 0, 0, 1)];
        assert_eq!(
            advise(&large, Some((&pumps(), "pumps")))
                .unwrap()
                .size
                .as_str(),
            "37.5"
        );
    }

    #[test]
    fn another_category_of_the_brand_answers_when_this_one_has_nothing() {
        let facts = [fact("sandals", "39", 1, 0, 0)];
        let a = advise(&facts, Some((&pumps(), "pumps"))).unwrap();
        assert_eq!(a.size.as_str(), "39");
        assert!(a.reason.contains("this brand once"), "{}", a.reason);
        assert_eq!(advise(&[], Some((&pumps(), "pumps"))), None);
        // a wrong size with no direction advises nothing by itself
        let mut wrong = fact("pumps", "38", 0, 0, 0);
        wrong.wrong_size = 1;
        assert_eq!(advise(&[wrong], Some((&pumps(), "pumps"))), None);
    }
}
