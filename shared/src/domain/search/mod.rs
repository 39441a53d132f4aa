//! Plain-language search over one campaign's catalogue: no model and no search
//! cluster. A campaign holds hundreds to a few thousand listings, already in memory
//! (the catalogue snapshot browse reads), so a parser and a linear match are the tool.
//!
//! - [`text`]: full-width folding and numbers in Arabic or Chinese numerals;
//! - [`vocabulary`]: the words a catalogue understands (the tenant's synonyms, its
//!   categories, its listings' tags, colours and materials, fixed heel, stock and filler
//!   words);
//! - [`query`]: a query as chips (price, size, my size, category, tag, ...) and words
//!   left over;
//! - [`rank`]: the listings that pass the chips, ranked.

pub mod fit;
pub mod query;
pub mod rank;
pub mod text;
pub mod vocabulary;

#[cfg(test)]
mod phrasings;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::DomainError;

pub use query::{parse, Chip, ChipKind, Parsed, PriceBand};
pub use rank::{rank, Item, Ranked};
pub use vocabulary::{SearchTerms, Synonym, Vocabulary};

/// A query that found nothing in a campaign, and how often (listed in its report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MissedSearch {
    pub query: String,
    pub count: i64,
}

/// What a listing is beyond its name and category: what search matches besides words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attributes {
    /// Words buyers search by (`通勤`, `真皮`, `小白鞋`): at most 10, 1-12 characters each.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub colour: Option<String>,
    #[serde(default)]
    pub material: Option<String>,
    /// Heel height in millimetres.
    #[serde(default)]
    pub heel_mm: Option<u16>,
}

impl Attributes {
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.tags.len() > 10 {
            return Err(DomainError::invalid("attributes.tags", "at most 10 tags"));
        }
        for (i, t) in self.tags.iter().enumerate() {
            validate_tag(&format!("attributes.tags[{i}]"), t)?;
            if self.tags[..i].contains(t) {
                return Err(DomainError::invalid(
                    format!("attributes.tags[{i}]"),
                    "listed twice",
                ));
            }
        }
        for (field, v) in [("colour", &self.colour), ("material", &self.material)] {
            if let Some(v) = v {
                validate_tag(&format!("attributes.{field}"), v)?;
            }
        }
        if self.heel_mm.is_some_and(|h| h > 200) {
            return Err(DomainError::invalid(
                "attributes.heel_mm",
                "at most 200 (millimetres)",
            ));
        }
        Ok(())
    }
}

/// A tag, colour or material: 1-12 printable characters, no separators inside.
pub fn validate_tag(field: &str, tag: &str) -> Result<(), DomainError> {
    let n = tag.chars().count();
    if n == 0 || n > 12 || tag.trim() != tag {
        return Err(DomainError::invalid(
            field,
            "1-12 characters, no spaces around",
        ));
    }
    if tag
        .chars()
        .any(|c| c.is_control() || ",，、;；/|".contains(c))
    {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters or separators",
        ));
    }
    Ok(())
}
