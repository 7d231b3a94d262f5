//! Each user's training items (the `SEEN` section of user files), so that
//! `recommend --user` leaves out what a user already has without the
//! training data at hand, as benfred/implicit's `filter_already_liked_items`;
//! and their training values (the `SEEV` section), so that `serve` can solve
//! a user's row again when new events arrive, exactly as training did.

use super::varint::{self, Reader};
use super::{corrupt, FormatError};

/// The item rows each user interacted with in training, ascending.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeenItems {
    /// Items of the model these rows index (the item file's row count).
    items: usize,
    /// `offsets[u]..offsets[u + 1]` are user u's entries of `indices`.
    offsets: Vec<usize>,
    indices: Vec<u32>,
    /// The merged training value (rating or count) of each entry of `indices`.
    values: Option<Vec<f32>>,
}

impl SeenItems {
    /// From each user's item rows (each ascending, no repeats, all below
    /// `items`): a training matrix's rows.
    pub fn from_rows<'a>(items: usize, rows: impl IntoIterator<Item = &'a [u32]>) -> Self {
        let mut seen = SeenItems { items, offsets: vec![0], indices: Vec::new(), values: None };
        for row in rows {
            debug_assert!(row.windows(2).all(|w| w[0] < w[1]), "rows are ascending");
            seen.indices.extend_from_slice(row);
            seen.offsets.push(seen.indices.len());
        }
        seen
    }

    /// [`from_rows`](Self::from_rows) with each entry's training value: a
    /// training matrix's rows as (item rows, values).
    pub fn from_rows_with_values<'a>(items: usize, rows: impl IntoIterator<Item = (&'a [u32], &'a [f32])>) -> Self {
        let mut values = Vec::new();
        let mut seen = Self::from_rows(
            items,
            rows.into_iter().map(|(cols, vals)| {
                debug_assert_eq!(cols.len(), vals.len());
                values.extend_from_slice(vals);
                cols
            }),
        );
        seen.values = Some(values);
        seen
    }

    /// The training values of user `row`'s items, in [`row`](Self::row)'s
    /// order, when the file records them (`None` for files written before
    /// they were, or by tools that know only which items a user had).
    pub fn row_values(&self, row: usize) -> Option<&[f32]> {
        let values = self.values.as_ref()?;
        match (self.offsets.get(row), self.offsets.get(row + 1)) {
            (Some(&a), Some(&b)) => Some(&values[a..b]),
            _ => Some(&[]),
        }
    }

    /// Whether each entry's training value is recorded.
    pub fn has_values(&self) -> bool {
        self.values.is_some()
    }

    /// The `SEEV` payload: f32 per entry, in entry order (`None` without values).
    pub(super) fn encode_values(&self) -> Option<Vec<u8>> {
        self.values.as_ref().map(|v| bytemuck::cast_slice(v).to_vec())
    }

    /// Attaches a `SEEV` payload: one finite f32 per entry.
    pub(super) fn with_values(mut self, p: &[u8]) -> Result<Self, FormatError> {
        if p.len() != self.len() * 4 {
            return Err(corrupt(format!("{} seen values for {} seen items", p.len() / 4, self.len())));
        }
        let values: Vec<f32> = p.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
        if !values.iter().all(|v| v.is_finite()) {
            return Err(corrupt("the seen values hold NaN or infinite values"));
        }
        self.values = Some(values);
        Ok(self)
    }

    /// The item rows user `row` saw (empty past the end).
    pub fn row(&self, row: usize) -> &[u32] {
        match (self.offsets.get(row), self.offsets.get(row + 1)) {
            (Some(&a), Some(&b)) => &self.indices[a..b],
            _ => &[],
        }
    }

    /// Number of users.
    pub fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The item count of the model the rows index.
    pub fn item_count(&self) -> usize {
        self.items
    }

    /// Training interactions in all.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether no user saw anything.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The payload: u64 users, u64 items, then per user the count of its
    /// items (varint) and each item as the gap from the one before (varint;
    /// the first counted from −1, so every gap is ≥ 0).
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.rows() + self.len() * 2);
        out.extend_from_slice(&(self.rows() as u64).to_le_bytes());
        out.extend_from_slice(&(self.items as u64).to_le_bytes());
        for u in 0..self.rows() {
            let row = self.row(u);
            varint::put(&mut out, row.len() as u64);
            let mut prev = -1i64;
            for &i in row {
                varint::put(&mut out, (i as i64 - prev - 1) as u64);
                prev = i as i64;
            }
        }
        out
    }

    /// Reads [`encode`](Self::encode)'s payload: every index below the item
    /// count and ascending.
    pub(super) fn decode(p: &[u8]) -> Result<Self, FormatError> {
        let bad = || corrupt("the seen-items section is malformed");
        let mut r = Reader::new(p);
        let rows = r.u64().ok_or_else(bad)?;
        let items = r.u64().and_then(|n| usize::try_from(n).ok()).ok_or_else(bad)?;
        // Every user and every entry takes at least a byte: sizes beyond that are not believed.
        let rows = usize::try_from(rows).ok().filter(|&n| n <= r.remaining()).ok_or_else(bad)?;
        let mut seen = SeenItems { items, offsets: Vec::with_capacity(rows + 1), indices: Vec::new(), values: None };
        seen.offsets.push(0);
        for _ in 0..rows {
            let n = r.len().filter(|&n| n <= r.remaining()).ok_or_else(bad)?;
            let mut prev = -1i64;
            for _ in 0..n {
                let gap = r.varint().and_then(|g| i64::try_from(g).ok()).ok_or_else(bad)?;
                let i = prev.checked_add(gap).and_then(|v| v.checked_add(1)).ok_or_else(bad)?;
                if i >= items as i64 || i > u32::MAX as i64 {
                    return Err(corrupt(format!("a seen item {i} is past the model's {items} items")));
                }
                seen.indices.push(i as u32);
                prev = i;
            }
            seen.offsets.push(seen.indices.len());
        }
        if r.remaining() != 0 {
            return Err(bad());
        }
        Ok(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_compactly() {
        let rows: Vec<Vec<u32>> = vec![vec![0, 1, 2, 900], vec![], vec![5], (0..1000).step_by(3).collect()];
        let seen = SeenItems::from_rows(1000, rows.iter().map(Vec::as_slice));
        let bytes = seen.encode();
        assert_eq!(SeenItems::decode(&bytes).unwrap(), seen);
        assert!(bytes.len() <= 16 + 5 + seen.len() + 1, "a byte per user and per small gap: {}", bytes.len());
        assert_eq!(seen.row(3).len(), 334);
        assert_eq!(seen.row(9), &[] as &[u32]);
    }

    #[test]
    fn values_round_trip_and_must_match_the_entries() {
        let seen = SeenItems::from_rows_with_values(10, [(&[3u32, 9][..], &[5.0f32, 1.5][..]), (&[][..], &[][..])]);
        assert_eq!(seen.row_values(0), Some(&[5.0, 1.5][..]));
        assert_eq!(seen.row_values(1), Some(&[][..]));
        let bytes = seen.encode_values().unwrap();
        let back = SeenItems::decode(&seen.encode()).unwrap().with_values(&bytes).unwrap();
        assert_eq!(back, seen);
        assert!(SeenItems::decode(&seen.encode()).unwrap().with_values(&bytes[..4]).is_err());
        let nan = f32::NAN.to_le_bytes().repeat(2);
        assert!(SeenItems::decode(&seen.encode()).unwrap().with_values(&nan).is_err());
        assert_eq!(SeenItems::from_rows(10, [&[1u32][..]]).row_values(0), None);
    }

    #[test]
    fn indices_past_the_items_are_refused() {
        let seen = SeenItems::from_rows(10, [&[3u32, 9][..]]);
        let mut bytes = seen.encode();
        bytes[8] = 9; // now 9 items: index 9 is out of range
        assert!(SeenItems::decode(&bytes).unwrap_err().to_string().contains("past the model's 9 items"));
    }
}
