//! Factor storage types: f32, f16, and i8 with one scale per row.
//!
//! Smaller files matter for the web, where the item file is downloaded by
//! every visitor; i8 keeps a quarter of the f32 size and ranks almost the same.

use crate::params::Dtype;

/// A rows × cols factor matrix in one of the storage types.
#[derive(Debug, Clone, PartialEq)]
pub enum Factors {
    /// Exact values.
    F32(Vec<f32>),
    /// IEEE half-precision bit patterns.
    F16(Vec<u16>),
    /// Row r's value j is `values[r*cols + j] as f32 * scales[r]`.
    I8 {
        /// One scale per row: the row's largest magnitude divided by 127.
        scales: Vec<f32>,
        /// Quantised values in −127..=127.
        values: Vec<i8>,
    },
}

impl Factors {
    /// Stores `values` (rows × cols, row-major) as `dtype`.
    pub fn encode(values: &[f32], cols: usize, dtype: Dtype) -> Self {
        match dtype {
            Dtype::F32 => Factors::F32(values.to_vec()),
            Dtype::F16 => Factors::F16(values.iter().map(|&v| half::f16::from_f32(v).to_bits()).collect()),
            Dtype::I8 => {
                let mut scales = Vec::with_capacity(values.len() / cols.max(1));
                let mut out = Vec::with_capacity(values.len());
                for row in values.chunks(cols.max(1)) {
                    let max = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                    let scale = if max > 0.0 { max / 127.0 } else { 0.0 };
                    scales.push(scale);
                    out.extend(row.iter().map(|&v| {
                        if scale > 0.0 {
                            (v / scale).round().clamp(-127.0, 127.0) as i8
                        } else {
                            0
                        }
                    }));
                }
                Factors::I8 { scales, values: out }
            }
        }
    }

    /// The storage type.
    pub fn dtype(&self) -> Dtype {
        match self {
            Factors::F32(_) => Dtype::F32,
            Factors::F16(_) => Dtype::F16,
            Factors::I8 { .. } => Dtype::I8,
        }
    }

    /// Number of stored values (rows × cols).
    pub fn len(&self) -> usize {
        match self {
            Factors::F32(v) => v.len(),
            Factors::F16(v) => v.len(),
            Factors::I8 { values, .. } => values.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as f32 (rows × cols, row-major).
    pub fn to_f32(&self, cols: usize) -> Vec<f32> {
        match self {
            Factors::F32(v) => v.clone(),
            Factors::F16(v) => v.iter().map(|&b| half::f16::from_bits(b).to_f32()).collect(),
            Factors::I8 { scales, values } => values
                .chunks(cols.max(1))
                .zip(scales)
                .flat_map(|(row, &s)| row.iter().map(move |&q| q as f32 * s))
                .collect(),
        }
    }

    /// Row `r`'s values (of `cols`) as f32, appended to `out`: one row of
    /// [`to_f32`](Self::to_f32), for a reader that never holds them all.
    pub fn row_f32(&self, r: usize, cols: usize, out: &mut Vec<f32>) {
        let range = r * cols..(r + 1) * cols;
        match self {
            Factors::F32(v) => out.extend_from_slice(&v[range]),
            Factors::F16(v) => out.extend(v[range].iter().map(|&b| half::f16::from_bits(b).to_f32())),
            Factors::I8 { scales, values } => out.extend(values[range].iter().map(|&q| q as f32 * scales[r])),
        }
    }

    /// [`to_f32`](Self::to_f32), taking f32 values without a copy.
    pub fn into_f32(self, cols: usize) -> Vec<f32> {
        match self {
            Factors::F32(v) => v,
            other => other.to_f32(cols),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dtype_round_trips_within_its_precision() {
        let values: Vec<f32> = (0..40).map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0).collect();
        for (dtype, tol) in [(Dtype::F32, 0.0), (Dtype::F16, 1e-3), (Dtype::I8, 0.5 / 127.0 * 11.0 / 7.0 + 1e-6)] {
            let back = Factors::encode(&values, 8, dtype).to_f32(8);
            for (a, b) in values.iter().zip(&back) {
                assert!((a - b).abs() <= tol * a.abs().max(1.0), "{dtype}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn i8_zero_row_stays_zero() {
        let f = Factors::encode(&[0.0; 4], 4, Dtype::I8);
        assert_eq!(f.to_f32(4), vec![0.0; 4]);
    }
}
