//! One side's interactions cut into chunks that each fit one storage binding.
//!
//! A kernel can bind at most `max_storage_buffer_binding_size` bytes of a
//! buffer (128 MiB under WebGPU's defaults, a few GiB on real GPUs), so the
//! CSR goes to the device as consecutive runs of whole rows, each run's
//! column indices and values at most one binding. Each chunk carries its own
//! offsets, relative to its first interaction, so no index on the device
//! passes 2³² whatever the total. A row longer than the chunk size gets a
//! chunk of its own, which is fine up to the binding size itself.

use std::ops::Range;

use gramrec_core::{set, Error, Result};
use gramrec_data::Csr;

/// A run of consecutive rows and their interactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The rows, in the CSR's numbering.
    pub rows: Range<usize>,
    /// Their interactions, positions in the CSR's `indices` and `values`.
    pub interactions: Range<usize>,
}

impl Chunk {
    /// What the kernels read as `row_index`: the rows' offsets relative to the
    /// chunk's first interaction (rows + 1 values), then the rows in dispatch
    /// order, longest first (so that on power-law data the long rows start at
    /// once instead of trailing), as row numbers of the whole side.
    pub fn index(&self, csr: &Csr) -> Vec<u32> {
        let base = csr.indptr[self.rows.start];
        let offsets = csr.indptr[self.rows.start..=self.rows.end].iter().map(|&o| (o - base) as u32);
        let mut order: Vec<u32> = self.rows.clone().map(|r| r as u32).collect();
        order.sort_by_key(|&r| std::cmp::Reverse(csr.degree(r as usize)));
        offsets.chain(order).collect()
    }

    /// Bytes this chunk takes on the device: the index, columns and values.
    pub fn bytes(&self) -> u64 {
        4 * (2 * self.rows.len() as u64 + 1) + 8 * self.interactions.len() as u64
    }
}

/// Cuts `csr` into chunks of at most `most` interactions each (`most` ≥ 1),
/// except that a longer row is a chunk by itself, allowed up to `binding`
/// interactions (the most one binding holds). `side` names the rows in the
/// error for a row longer than that.
pub fn split(csr: &Csr, most: u64, binding: u64, side: &str) -> Result<Vec<Chunk>> {
    let most = most.clamp(1, binding.max(1));
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < csr.rows() {
        let base = csr.indptr[start];
        let mut end = start + 1;
        if csr.indptr[end] - base > binding {
            return Err(Error::Gpu(format!(
                "{side} row {start} has {} interactions, more than one GPU binding holds ({binding}); use {}",
                csr.indptr[end] - base,
                set("device", "cpu")
            )));
        }
        // Rows are capped in number too: offsets and order take 8 bytes a row.
        while end < csr.rows() && csr.indptr[end + 1] - base <= most && (end + 1 - start) as u64 <= binding / 2 {
            end += 1;
        }
        chunks.push(Chunk { rows: start..end, interactions: base as usize..csr.indptr[end] as usize });
        start = end;
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows with these degrees (columns 0, 1, …).
    fn csr(degrees: &[u32]) -> Csr {
        let (mut r, mut c) = (Vec::new(), Vec::new());
        for (row, &n) in degrees.iter().enumerate() {
            for k in 0..n {
                r.push(row as u32);
                c.push(k);
            }
        }
        let v = vec![1.0; r.len()];
        Csr::from_triples(degrees.len(), 100, &r, &c, &v)
    }

    #[test]
    fn chunks_cover_every_row_once_within_the_size() {
        let m = csr(&[3, 0, 4, 2, 5, 1, 0, 3]);
        let chunks = split(&m, 6, 1000, "user").unwrap();
        let rows: Vec<_> = chunks.iter().map(|c| c.rows.clone()).collect();
        assert_eq!(rows, [0..2, 2..4, 4..7, 7..8]); // an empty row joins the chunk before it
        for c in &chunks {
            assert!(c.interactions.len() <= 6);
            assert_eq!(c.interactions, m.indptr[c.rows.start] as usize..m.indptr[c.rows.end] as usize);
        }
        // Offsets relative to the chunk, then its rows longest first.
        assert_eq!(chunks[1].index(&m), vec![0, 4, 6, 2, 3]);
        assert_eq!(chunks[1].bytes(), 4 * 5 + 8 * 6);
    }

    #[test]
    fn a_row_longer_than_a_chunk_is_a_chunk_of_its_own() {
        let m = csr(&[2, 9, 2, 2]);
        let chunks = split(&m, 4, 1000, "item").unwrap();
        let rows: Vec<_> = chunks.iter().map(|c| c.rows.clone()).collect();
        assert_eq!(rows, [0..1, 1..2, 2..4]);
        let e = split(&m, 4, 8, "item").unwrap_err().to_string();
        assert!(e.contains("item row 1 has 9 interactions"), "{e}");
    }

    #[test]
    fn one_chunk_when_everything_fits_and_none_without_rows() {
        let m = csr(&[3, 1, 0, 2]);
        assert_eq!(split(&m, 100, 1000, "user").unwrap(), vec![Chunk { rows: 0..4, interactions: 0..6 }]);
        assert!(split(&csr(&[]), 100, 1000, "user").unwrap().is_empty());
    }
}
