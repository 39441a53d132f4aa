//! A buyer's words as filters: "300元内通勤单鞋 38码" is a price ceiling, a tag, two
//! categories and a size, each a chip that names the text it came from, and the words
//! left over (matched against names, or reported as not understood).

use serde::Serialize;
use utoipa::ToSchema;

use super::text::{normalize, number_at};
use super::vocabulary::{Meaning, Vocabulary};
use crate::domain::ids::{CategoryId, Size};

/// What a chip filters by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChipKind {
    Price,
    Size,
    MySize,
    Category,
    Tag,
    Colour,
    Material,
    Heel,
    Stock,
}

/// One understood part of the query, removable by taking `text` out of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Chip {
    pub kind: ChipKind,
    /// What it filters by, as shown: `≤¥300`, `¥300-500`, `38`, `flats,pumps`, `通勤`.
    pub value: String,
    /// The words of the query it came from.
    pub text: String,
}

/// A price band in fen, either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PriceBand {
    pub min_fen: Option<i64>,
    pub max_fen: Option<i64>,
}

impl PriceBand {
    pub fn holds(&self, fen: i64) -> bool {
        self.min_fen.is_none_or(|m| fen >= m) && self.max_fen.is_none_or(|m| fen <= m)
    }

    fn label(&self) -> String {
        let y = |f: i64| format!("{}", f / 100);
        match (self.min_fen, self.max_fen) {
            (Some(a), Some(b)) => format!("¥{}-{}", y(a), y(b)),
            (None, Some(b)) => format!("≤¥{}", y(b)),
            (Some(a), None) => format!("≥¥{}", y(a)),
            (None, None) => "any".into(),
        }
    }
}

/// A term that ranks and narrows (a listing must match one of the query's terms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Tag(String),
    Colour(String),
    Material(String),
    Heel(u16, u16),
}

/// A query taken apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub chips: Vec<Chip>,
    pub price: Option<PriceBand>,
    pub sizes: Vec<Size>,
    pub my_size: bool,
    /// A listing in any of them matches; empty: any category.
    pub categories: Vec<CategoryId>,
    pub terms: Vec<Term>,
    pub include_sold_out: bool,
    /// Words understood as nothing above: matched against listing names.
    pub words: Vec<String>,
}

/// Queries longer than this are cut (a search box, not a document).
pub const MAX_QUERY_CHARS: usize = 100;

const SEPARATORS: &[char] = &[
    ' ', '\t', ',', '，', '。', '、', ';', '；', '!', '！', '?', '？', '/', '+', '|', '"', '\'',
    '“', '”', '(', ')', '（', '）', '.',
];
const RANGE: &[&str] = &["-", "~", "～", "—", "–", "到", "至"];
const SIZE_MARKS: &[&str] = &["码", "號", "号", "碼", "吗", "马"];
const UNITS: &[&str] = &["块钱", "元", "块", "rmb", "yuan", "¥"];
const UPTO: &[&str] = &["以内", "之内", "以下", "内", "封顶"];
const FROM: &[&str] = &["以上", "起"];
const ABOUT: &[&str] = &["左右", "上下", "附近"];
const MAX_PREFIX: &[&str] = &[
    "不超过",
    "不高于",
    "不到",
    "最多",
    "最高",
    "低于",
    "少于",
    "小于",
    "<=",
    "≤",
    "<",
    "under",
    "below",
];
const MIN_PREFIX: &[&str] = &[
    "高于", "超过", "大于", "至少", ">=", "≥", ">", "over", "above",
];
const SIZE_PREFIX: &[&str] = &["eu", "欧码", "尺码", "码数", "鞋码", "size", "穿"];

fn starts(chars: &[char], at: usize, words: &[&str]) -> Option<usize> {
    words.iter().find_map(|w| {
        let n = w.chars().count();
        let hit = chars.len() >= at + n && w.chars().zip(&chars[at..]).all(|(a, b)| a == *b);
        hit.then_some(n)
    })
}

fn skip_spaces(chars: &[char], mut at: usize) -> usize {
    while chars.get(at) == Some(&' ') {
        at += 1;
    }
    at
}

/// A size in tenths as listings spell it: `38`, `37.5`.
fn size_of(tenths: u32) -> Option<Size> {
    let halves = (tenths + 2) / 5; // to the nearest half size
    let text = if halves.is_multiple_of(2) {
        format!("{}", halves / 2)
    } else {
        format!("{}.5", halves / 2)
    };
    Size::parse(&text).ok()
}

/// A foot length in millimetres as an EU size: 240 mm is 38 (EU = (mm - 50) / 5).
fn eu_of_mm(mm: u32) -> Option<Size> {
    size_of(mm.checked_sub(50)?.checked_mul(2)?)
}

/// A number written with a size mark or prefix: EU (`38码`), Chinese centimetres
/// (`24码`, `23.5码`) or millimetres (`240`).
fn size_from(tenths: u32) -> Option<Size> {
    match tenths {
        300..=500 => size_of(tenths),
        200..=299 => eu_of_mm(tenths),        // 24码: 24 cm, 240 mm
        2100..=2990 => eu_of_mm(tenths / 10), // 240码: millimetres
        _ => None,
    }
}

/// A bare number taken as a size: EU 33-48 or a foot length of 215-290 mm in 5s.
fn bare_size(tenths: u32) -> Option<Size> {
    match tenths {
        330..=480 if tenths.is_multiple_of(5) => size_of(tenths),
        2150..=2900 if tenths.is_multiple_of(50) => eu_of_mm(tenths / 10),
        _ => None,
    }
}

enum Found {
    Price(PriceBand),
    Sizes(Vec<Size>),
    /// A number we do not read as price or size: one leftover word.
    Word,
}

fn yuan(tenths: u32) -> i64 {
    i64::from(tenths) * 10
}

/// Around a price: ±10 %.
fn about(fen: i64) -> PriceBand {
    PriceBand {
        min_fen: Some(fen - fen / 10),
        max_fen: Some(fen + fen / 10),
    }
}

/// A price or size starting at `at`, and how far it reaches.
fn number_phrase(chars: &[char], at: usize) -> Option<(Found, usize)> {
    // prefixes that make the number after them a ceiling, a floor or a size
    if let Some(n) = starts(chars, at, MAX_PREFIX).or(starts(chars, at, MIN_PREFIX)) {
        let ceiling = starts(chars, at, MAX_PREFIX).is_some();
        let mut i = skip_spaces(chars, at + n);
        i += starts(chars, i, &["¥"]).unwrap_or(0);
        let (v, m) = number_at(&chars[i..])?;
        i += m;
        i = skip_spaces(chars, i);
        i += starts(chars, i, UNITS).unwrap_or(0);
        let fen = yuan(v);
        let band = if ceiling {
            PriceBand {
                min_fen: None,
                max_fen: Some(fen),
            }
        } else {
            PriceBand {
                min_fen: Some(fen),
                max_fen: None,
            }
        };
        return Some((Found::Price(band), i - at));
    }
    if let Some(n) = starts(chars, at, SIZE_PREFIX) {
        let i = skip_spaces(chars, at + n);
        if let Some((v, m)) = number_at(&chars[i..]) {
            let mut end = i + m;
            end += starts(chars, end, SIZE_MARKS).unwrap_or(0);
            return size_from(v).map(|s| (Found::Sizes(vec![s]), end - at));
        }
        return None;
    }
    let mut i = at;
    let currency = starts(chars, i, &["¥", "rmb"]);
    i += currency.unwrap_or(0);
    let (v, m) = number_at(&chars[i..])?;
    i += m;
    let after_number = i;
    let j = skip_spaces(chars, i);
    // a range: 300-500元, 两百到三百, 36-38码
    if let Some(r) = starts(chars, j, RANGE) {
        let k = skip_spaces(chars, j + r);
        let k = k + starts(chars, k, &["¥"]).unwrap_or(0);
        if let Some((v2, m2)) = number_at(&chars[k..]) {
            let mut end = k + m2;
            let e = skip_spaces(chars, end);
            if let Some(s) = starts(chars, e, SIZE_MARKS) {
                return size_range(v, v2).map(|r| (Found::Sizes(r), e + s - at));
            }
            let unit = starts(chars, e, UNITS);
            if unit.is_some() || currency.is_some() || (v >= 500 && v2 >= 500) {
                end = e + unit.unwrap_or(0);
                end += starts(chars, end, &["之间", "以内"]).unwrap_or(0);
                let (lo, hi) = (yuan(v.min(v2)), yuan(v.max(v2)));
                let band = PriceBand {
                    min_fen: Some(lo),
                    max_fen: Some(hi),
                };
                return Some((Found::Price(band), end - at));
            }
            if let Some(r) = size_range(v, v2) {
                return Some((Found::Sizes(r), end - at));
            }
        }
    }
    if let Some(u) = starts(chars, j, UNITS) {
        let k = j + u;
        let fen = yuan(v);
        if let Some(q) = starts(chars, k, UPTO) {
            return Some((
                Found::Price(PriceBand {
                    min_fen: None,
                    max_fen: Some(fen),
                }),
                k + q - at,
            ));
        }
        if let Some(q) = starts(chars, k, FROM) {
            return Some((
                Found::Price(PriceBand {
                    min_fen: Some(fen),
                    max_fen: None,
                }),
                k + q - at,
            ));
        }
        let q = starts(chars, k, ABOUT).unwrap_or(0);
        return Some((Found::Price(about(fen)), k + q - at));
    }
    if let Some(q) = starts(chars, j, UPTO) {
        let band = PriceBand {
            min_fen: None,
            max_fen: Some(yuan(v)),
        };
        return Some((Found::Price(band), j + q - at));
    }
    if let Some(q) = starts(chars, j, FROM) {
        let band = PriceBand {
            min_fen: Some(yuan(v)),
            max_fen: None,
        };
        return Some((Found::Price(band), j + q - at));
    }
    if let Some(q) = starts(chars, j, ABOUT) {
        return Some((Found::Price(about(yuan(v))), j + q - at));
    }
    if currency.is_some() {
        return Some((Found::Price(about(yuan(v))), after_number - at));
    }
    if let Some(s) = starts(chars, j, SIZE_MARKS) {
        return Some(match size_from(v) {
            Some(size) => (Found::Sizes(vec![size]), j + s - at),
            None => (Found::Word, j + s - at),
        });
    }
    if let Some(u) = starts(chars, j, &["cm", "厘米", "公分"]) {
        return Some(match eu_of_mm(v) {
            Some(size) if (200..=299).contains(&v) => (Found::Sizes(vec![size]), j + u - at),
            _ => (Found::Word, j + u - at),
        });
    }
    if let Some(u) = starts(chars, j, &["mm", "毫米"]) {
        return Some(match eu_of_mm(v / 10) {
            Some(size) if (2100..=2990).contains(&v) => (Found::Sizes(vec![size]), j + u - at),
            _ => (Found::Word, j + u - at),
        });
    }
    // Chinese numerals alone are words (`一` of `一双`), Arabic ones may be a size
    if !chars[at].is_ascii_digit() {
        return None;
    }
    Some(match bare_size(v) {
        Some(size) => (Found::Sizes(vec![size]), after_number - at),
        None => (Found::Word, after_number - at),
    })
}

/// EU sizes from one end to the other, whole sizes, at most 10.
fn size_range(a: u32, b: u32) -> Option<Vec<Size>> {
    let (lo, hi) = (a.min(b), a.max(b));
    if !(300..=500).contains(&lo) || !(300..=500).contains(&hi) || hi - lo > 100 {
        return None;
    }
    let mut out = Vec::new();
    let mut t = lo;
    while t <= hi {
        out.push(size_of(t)?);
        t += 10;
    }
    Some(out)
}

/// Takes a query apart against `vocabulary`.
pub fn parse(raw: &str, vocabulary: &Vocabulary) -> Parsed {
    let text: String = normalize(raw).chars().take(MAX_QUERY_CHARS).collect();
    let chars: Vec<char> = text.chars().collect();
    let mut out = Parsed::default();
    let mut word = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let between_numbers = i > 0 && chars[i - 1].is_ascii_digit();
        if SEPARATORS.contains(&c) && !(c == '.' && between_numbers) {
            flush(&mut word, &mut out);
            i += 1;
            continue;
        }
        // a Latin word or number runs on (`nike2`); anything else may start a phrase
        let starts_word = !(c.is_ascii_alphanumeric()
            && word
                .chars()
                .last()
                .is_some_and(|l| l.is_ascii_alphanumeric()));
        if starts_word {
            if let Some((found, n)) = number_phrase(&chars, i) {
                flush(&mut word, &mut out);
                let text: String = chars[i..i + n].iter().collect();
                match found {
                    Found::Price(band) => {
                        out.chips.retain(|c| c.kind != ChipKind::Price);
                        out.chips.push(Chip {
                            kind: ChipKind::Price,
                            value: band.label(),
                            text,
                        });
                        out.price = Some(band);
                    }
                    Found::Sizes(sizes) => {
                        let value = match (sizes.first(), sizes.last()) {
                            (Some(a), Some(b)) if a != b => format!("{a}-{b}"),
                            (Some(a), _) => a.to_string(),
                            _ => String::new(),
                        };
                        for s in sizes {
                            if !out.sizes.contains(&s) {
                                out.sizes.push(s);
                            }
                        }
                        out.chips.push(Chip {
                            kind: ChipKind::Size,
                            value,
                            text,
                        });
                    }
                    Found::Word => out.words.push(text),
                }
                i += n;
                continue;
            }
            if let Some((meaning, n)) = vocabulary.longest_at(&chars, i) {
                flush(&mut word, &mut out);
                let text: String = chars[i..i + n].iter().collect();
                apply(meaning, text, &mut out);
                i += n;
                continue;
            }
        }
        word.push(c);
        i += 1;
    }
    flush(&mut word, &mut out);
    out
}

fn flush(word: &mut String, out: &mut Parsed) {
    let w = std::mem::take(word);
    if !w.is_empty() && !out.words.contains(&w) {
        out.words.push(w);
    }
}

fn apply(meaning: &Meaning, text: String, out: &mut Parsed) {
    let mut chip = |kind, value: String| {
        if !out.chips.iter().any(|c| c.kind == kind && c.value == value) {
            out.chips.push(Chip {
                kind,
                value,
                text: text.clone(),
            });
        }
    };
    match meaning {
        Meaning::Means { categories, tags } => {
            if !categories.is_empty() {
                let mut ids: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
                ids.sort_unstable();
                chip(ChipKind::Category, ids.join(","));
            }
            for t in tags {
                chip(ChipKind::Tag, t.clone());
            }
            for c in categories {
                if !out.categories.contains(c) {
                    out.categories.push(c.clone());
                }
            }
            for t in tags {
                let term = Term::Tag(t.clone());
                if !out.terms.contains(&term) {
                    out.terms.push(term);
                }
            }
        }
        Meaning::Colour(c) => {
            chip(ChipKind::Colour, c.clone());
            out.terms.push(Term::Colour(c.clone()));
        }
        Meaning::Material(m) => {
            chip(ChipKind::Material, m.clone());
            out.terms.push(Term::Material(m.clone()));
        }
        Meaning::Heel(lo, hi) => {
            chip(ChipKind::Heel, format!("{lo}-{hi}mm"));
            out.terms.push(Term::Heel(*lo, *hi));
        }
        Meaning::SoldOutToo => {
            chip(ChipKind::Stock, "sold out too".into());
            out.include_sold_out = true;
        }
        Meaning::MySize => {
            chip(ChipKind::MySize, "mine".into());
            out.my_size = true;
        }
        Meaning::Filler => {}
    }
}
