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
//! - [`mod@rank`]: the listings that pass the chips, ranked;
//! - [`fit`]: size advice from what a member kept.

pub mod fit;
pub mod query;
pub mod rank;
pub mod text;
pub mod vocabulary;

#[cfg(test)]
mod phrasings;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Listings carry their search attributes (the catalogue owns them).
pub use crate::domain::catalog::{validate_tag, Attributes};
pub use query::{parse, Chip, ChipKind, Parsed, PriceBand};
pub use rank::{rank, Item, Ranked};
pub use vocabulary::{SearchTerms, Synonym, Vocabulary};

/// A query that found nothing in a campaign, and how often (listed in its report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MissedSearch {
    pub query: String,
    pub count: i64,
}
