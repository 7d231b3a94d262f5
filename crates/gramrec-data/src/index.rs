//! String IDs ↔ dense row numbers.

use rustc_hash::FxHashMap;

/// Interns string IDs: each distinct ID gets the next dense index, and every
/// output can speak the original ID again.
#[derive(Debug, Default, Clone)]
pub struct IdIndex {
    map: FxHashMap<Box<str>, u32>,
    ids: Vec<Box<str>>,
}

impl IdIndex {
    /// The index of `id`, assigning the next one if it is new. `None` once
    /// more than 2³² − 1 distinct IDs have been seen.
    #[inline]
    pub fn intern(&mut self, id: &str) -> Option<u32> {
        if let Some(&i) = self.map.get(id) {
            return Some(i);
        }
        let i = u32::try_from(self.ids.len()).ok().filter(|&i| i != u32::MAX)?;
        let boxed: Box<str> = id.into();
        self.map.insert(boxed.clone(), i);
        self.ids.push(boxed);
        Some(i)
    }

    /// The index of a known ID.
    pub fn get(&self, id: &str) -> Option<u32> {
        self.map.get(id).copied()
    }

    /// The ID of an index.
    pub fn id(&self, i: u32) -> &str {
        &self.ids[i as usize]
    }

    /// Number of distinct IDs.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no ID has been seen.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// All IDs in index order.
    pub fn into_ids(self) -> Vec<String> {
        self.ids.into_iter().map(String::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_in_first_seen_order() {
        let mut ix = IdIndex::default();
        assert_eq!(ix.intern("b"), Some(0));
        assert_eq!(ix.intern("a"), Some(1));
        assert_eq!(ix.intern("b"), Some(0));
        assert_eq!(ix.get("a"), Some(1));
        assert_eq!(ix.get("zz"), None);
        assert_eq!(ix.id(1), "a");
        assert_eq!(ix.into_ids(), vec!["b", "a"]);
    }
}
