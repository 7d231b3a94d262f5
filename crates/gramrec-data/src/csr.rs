//! Compressed sparse rows: the interaction matrix and its transpose.
//!
//! Row offsets are 64-bit so a matrix may hold more than 2³² interactions;
//! column indices are 32-bit (up to 2³² − 1 users or items).

/// A sparse matrix, row by row, with columns sorted within each row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Csr {
    /// Row r's entries are `indptr[r]..indptr[r + 1]`.
    pub indptr: Vec<u64>,
    /// Column of each entry.
    pub indices: Vec<u32>,
    /// Value of each entry.
    pub values: Vec<f32>,
    /// Number of columns.
    pub cols: usize,
}

impl Csr {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// The columns and values of row `r`.
    #[inline]
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[r] as usize, self.indptr[r + 1] as usize);
        (&self.indices[a..b], &self.values[a..b])
    }

    /// Number of entries in row `r`.
    #[inline]
    pub fn degree(&self, r: usize) -> usize {
        (self.indptr[r + 1] - self.indptr[r]) as usize
    }

    /// The largest row degree (0 without rows).
    pub fn max_degree(&self) -> usize {
        (0..self.rows()).map(|r| self.degree(r)).max().unwrap_or(0)
    }

    /// The sum of the `k` largest row degrees: the most entries that `k`
    /// rows held at once can have.
    pub fn largest_degrees(&self, k: usize) -> usize {
        let mut top = vec![0usize; k];
        for r in 0..self.rows() {
            let n = self.degree(r);
            if let Some(smallest) = top.iter_mut().min().filter(|s| **s < n) {
                *smallest = n;
            }
        }
        top.iter().sum()
    }

    /// Builds a matrix from (row, col, value) triples, keeping for each row the
    /// triples' order (a stable counting sort by row).
    pub fn from_triples(rows: usize, cols: usize, row: &[u32], col: &[u32], val: &[f32]) -> Self {
        let mut indptr = vec![0u64; rows + 1];
        for &r in row {
            indptr[r as usize + 1] += 1;
        }
        for r in 0..rows {
            indptr[r + 1] += indptr[r];
        }
        let mut next: Vec<u64> = indptr[..rows].to_vec();
        let mut indices = vec![0u32; row.len()];
        let mut values = vec![0f32; row.len()];
        for ((&r, &c), &v) in row.iter().zip(col).zip(val) {
            let at = next[r as usize] as usize;
            indices[at] = c;
            values[at] = v;
            next[r as usize] += 1;
        }
        Self { indptr, indices, values, cols }
    }

    /// The transpose. Rows of the result are sorted by column when this
    /// matrix's rows are visited in order, which they are.
    pub fn transpose(&self) -> Self {
        let mut row = Vec::with_capacity(self.nnz());
        for r in 0..self.rows() {
            row.extend(std::iter::repeat_n(r as u32, self.degree(r)));
        }
        Self::from_triples(self.cols, self.rows(), &self.indices, &row, &self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triples_transpose_and_back() {
        let m = Csr::from_triples(3, 4, &[2, 0, 2, 0], &[1, 3, 0, 0], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m.row(0), (&[3u32, 0][..], &[2.0f32, 4.0][..]), "row keeps input order");
        assert_eq!(m.degree(1), 0);
        let t = m.transpose();
        assert_eq!(t.rows(), 4);
        assert_eq!(t.row(0), (&[0u32, 2][..], &[4.0f32, 3.0][..]));
        assert_eq!(t.row(3), (&[0u32][..], &[2.0f32][..]));
        assert_eq!(t.transpose().transpose(), t);
        // Degrees 2, 0, 2 and 2, 1, 0, 1.
        assert_eq!((m.largest_degrees(1), m.largest_degrees(2), m.largest_degrees(5)), (2, 4, 4));
        assert_eq!((t.largest_degrees(2), t.largest_degrees(3), t.largest_degrees(0)), (3, 4, 0));
    }

    #[test]
    fn offsets_are_64_bit() {
        // The arithmetic, not the allocation: offsets past 2³² must survive.
        let m = Csr { indptr: vec![0, 5_000_000_000, 5_000_000_003], indices: vec![], values: vec![], cols: 1 };
        assert_eq!(m.degree(1), 3);
        assert_eq!(m.rows(), 2);
    }
}
