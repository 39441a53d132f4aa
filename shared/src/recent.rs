//! A per-process map of values reused for a short while: the campaign a browse or an
//! order prices against, a rendered catalog page. One warm Lambda serves many requests,
//! and in a flash sale most of them ask for the same few things.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub struct Recent<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (DateTime<Utc>, V)>>,
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    /// Values kept for `ttl`, at most `capacity` of them.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Recent {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value kept under `key`, if it was kept less than the ttl before `now` (and
    /// not after it: a clock gone backwards reuses nothing).
    pub fn get(&self, key: &K, now: DateTime<Utc>) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| now - *at < self.ttl && now >= *at)
            .map(|(_, v)| v.clone())
    }

    /// Keeps `value` under `key` from `now`. When full, what is stale goes first, then
    /// everything: a bounded map, not a precise one.
    pub fn put(&self, key: K, value: V, now: DateTime<Utc>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, (at, _)| now - *at < self.ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (now, value));
    }

    pub fn forget(&self, key: &K) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_reused_only_within_its_ttl_and_a_full_map_drops_the_stale_first() {
        let now = Utc::now();
        let r: Recent<u32, &str> = Recent::new(Duration::seconds(1), 2);
        r.put(1, "a", now);
        assert_eq!(r.get(&1, now + Duration::milliseconds(999)), Some("a"));
        assert_eq!(r.get(&1, now + Duration::seconds(1)), None);
        assert_eq!(r.get(&1, now - Duration::milliseconds(1)), None);
        // full: the stale entry goes, the fresh one stays
        r.put(2, "b", now + Duration::seconds(2));
        r.put(3, "c", now + Duration::seconds(2));
        assert_eq!(r.get(&2, now + Duration::seconds(2)), Some("b"));
        assert_eq!(r.get(&1, now), None);
        r.forget(&2);
        assert_eq!(r.get(&2, now + Duration::seconds(2)), None);
    }
}
