//! The words a campaign's search understands: the tenant's synonyms (ops edit them:
//! `单鞋` → pumps and flats), the campaign's categories, the tags, colours and
//! materials its listings carry, and a fixed set of heel, stock, "my size" and filler
//! words. Built once per catalogue snapshot, matched longest first.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use utoipa::ToSchema;

use super::text::normalize;
use crate::domain::campaign::Category;
use crate::domain::catalog::Listing;
use crate::domain::ids::CategoryId;
use crate::domain::DomainError;

/// One word buyers use and what it means in this tenant's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Synonym {
    /// As buyers type it (`单鞋`, `凉拖`): 1-12 characters.
    pub word: String,
    /// The categories it means (a listing in any of them matches).
    #[serde(default)]
    pub categories: Vec<CategoryId>,
    /// The listing tags it means.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A tenant's search words, edited by its operators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchTerms {
    pub synonyms: Vec<Synonym>,
}

pub const MAX_SYNONYMS: usize = 300;

impl SearchTerms {
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.synonyms.len() > MAX_SYNONYMS {
            return Err(DomainError::invalid(
                "synonyms",
                format!("at most {MAX_SYNONYMS} words"),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, s) in self.synonyms.iter().enumerate() {
            let field = format!("synonyms[{i}]");
            let word = normalize(s.word.trim());
            if word.is_empty() || word.chars().count() > 12 || word.chars().any(char::is_control) {
                return Err(DomainError::invalid(
                    format!("{field}.word"),
                    "1-12 printable characters",
                ));
            }
            if !seen.insert(word) {
                return Err(DomainError::invalid(
                    format!("{field}.word"),
                    "listed twice",
                ));
            }
            if s.categories.is_empty() && s.tags.is_empty() {
                return Err(DomainError::invalid(
                    field,
                    "names at least one category or tag",
                ));
            }
            if s.categories.len() > 10 || s.tags.len() > 10 {
                return Err(DomainError::invalid(
                    field,
                    "at most 10 categories and 10 tags",
                ));
            }
            for (j, t) in s.tags.iter().enumerate() {
                super::validate_tag(&format!("{field}.tags[{j}]"), t)?;
            }
        }
        Ok(())
    }
}

/// What a matched word means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    /// Categories and tags at once (a synonym).
    Means {
        categories: Vec<CategoryId>,
        tags: Vec<String>,
    },
    Colour(String),
    Material(String),
    /// Heel height band in millimetres.
    Heel(u16, u16),
    /// Sold-out sizes too.
    SoldOutToo,
    MySize,
    /// Understood and meaning nothing for the filters (`我想要`, `的`, `有货`).
    Filler,
}

/// Words by their first character, longest first.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    words: HashMap<char, Vec<(Vec<char>, Meaning)>>,
}

const HEELS: [(&str, u16, u16); 6] = [
    ("平底", 0, 10),
    ("平跟", 0, 10),
    ("低跟", 10, 35),
    ("中跟", 35, 65),
    ("高跟", 65, 200),
    ("细高跟", 65, 200),
];

const SOLD_OUT_TOO: [&str; 9] = [
    "含售罄",
    "包括售罄",
    "含无货",
    "包括无货",
    "含缺货",
    "包括缺货",
    "断码也要",
    "全部尺码",
    "sold out too",
];

const MY_SIZE: [&str; 9] = [
    "我的尺码",
    "我的码数",
    "我的鞋码",
    "我穿的码",
    "我的尺寸",
    "我的码",
    "我的size",
    "my size",
    "合适的码",
];

const FILLERS: [&str; 38] = [
    "我想要",
    "我想买",
    "想要",
    "想买",
    "我要",
    "帮我找",
    "帮我",
    "给我",
    "请问",
    "有没有",
    "有吗",
    "推荐",
    "一双",
    "一款",
    "一下",
    "看看",
    "找",
    "买",
    "要",
    "的",
    "了",
    "和",
    "或者",
    "还有",
    "呢",
    "吧",
    "啊",
    "鞋子",
    "鞋",
    "款",
    "有货",
    "现货",
    "有库存",
    "女",
    "i want",
    "shoes",
    "穿的",
    "穿",
];

impl Vocabulary {
    /// The words of one catalogue: `synonyms` first (they win over a category or tag of
    /// the same spelling), then categories, then what the listings carry.
    pub fn new<'a>(
        synonyms: &[Synonym],
        categories: &[Category],
        listings: impl IntoIterator<Item = &'a Listing>,
    ) -> Self {
        let mut v = Vocabulary::default();
        for s in synonyms {
            v.add(
                &s.word,
                Meaning::Means {
                    categories: s.categories.clone(),
                    tags: s.tags.clone(),
                },
            );
        }
        for c in categories {
            let means = Meaning::Means {
                categories: vec![c.id.clone()],
                tags: Vec::new(),
            };
            v.add(&c.name, means.clone());
            v.add(c.id.as_str(), means);
        }
        let (mut tags, mut colours, mut materials) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for l in listings {
            tags.extend(l.attributes.tags.iter().cloned());
            colours.extend(l.attributes.colour.iter().map(|c| colour_base(c)));
            materials.extend(l.attributes.material.iter().cloned());
        }
        for t in tags {
            v.add(
                &t,
                Meaning::Means {
                    categories: Vec::new(),
                    tags: vec![t.clone()],
                },
            );
        }
        for c in colours {
            v.add(&format!("{c}色"), Meaning::Colour(c.clone()));
            v.add(&c, Meaning::Colour(c.clone()));
        }
        for m in materials {
            v.add(&m, Meaning::Material(m.clone()));
        }
        for (w, lo, hi) in HEELS {
            v.add(w, Meaning::Heel(lo, hi));
        }
        for w in SOLD_OUT_TOO {
            v.add(w, Meaning::SoldOutToo);
        }
        for w in MY_SIZE {
            v.add(w, Meaning::MySize);
        }
        for w in FILLERS {
            v.add(w, Meaning::Filler);
        }
        for list in v.words.values_mut() {
            // longest first; on a tie the first added (a synonym) wins
            list.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        }
        v
    }

    /// Adds a word unless an earlier entry already spells it.
    fn add(&mut self, word: &str, meaning: Meaning) {
        let chars: Vec<char> = normalize(word.trim()).chars().collect();
        let Some(&first) = chars.first() else {
            return;
        };
        let list = self.words.entry(first).or_default();
        if !list.iter().any(|(w, _)| *w == chars) {
            list.push((chars, meaning));
        }
    }

    /// The longest word starting at `at`, and its length. A Latin word matches only
    /// whole (`red` is not found in `shred`).
    pub fn longest_at(&self, chars: &[char], at: usize) -> Option<(&Meaning, usize)> {
        let rest = &chars[at..];
        let list = self.words.get(rest.first()?)?;
        let latin_before = at > 0 && chars[at - 1].is_ascii_alphanumeric();
        list.iter().find_map(|(w, m)| {
            if !rest.starts_with(w) {
                return None;
            }
            let latin = w[0].is_ascii_alphanumeric();
            let latin_after = rest.get(w.len()).is_some_and(char::is_ascii_alphanumeric);
            if latin && (latin_before || latin_after) {
                return None;
            }
            Some((m, w.len()))
        })
    }
}

/// `黑色` and `黑` are one colour.
pub fn colour_base(c: &str) -> String {
    let n = normalize(c.trim());
    match n.strip_suffix('色') {
        Some(base) if !base.is_empty() => base.to_owned(),
        _ => n,
    }
}
