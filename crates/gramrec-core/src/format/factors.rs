//! The `FACT` section: the factors in f32, f16 or i8, after a 64-byte block
//! giving their storage type and shape, so that f32 data starts on a
//! 64-byte boundary of the file and can be viewed in place.

use super::frame::{pad_to, u32_at, u64_at};
use super::{corrupt, FormatError, ALIGN};
use crate::params::Dtype;
use crate::quant::Factors;

fn dtype_code(d: Dtype) -> u32 {
    match d {
        Dtype::F32 => 0,
        Dtype::F16 => 1,
        Dtype::I8 => 2,
    }
}

pub(super) fn encode(f: &Factors, rows: usize, cols: usize) -> Vec<u8> {
    let mut out = vec![0u8; ALIGN];
    out[..4].copy_from_slice(&dtype_code(f.dtype()).to_le_bytes());
    out[4..8].copy_from_slice(&(cols as u32).to_le_bytes());
    out[8..16].copy_from_slice(&(rows as u64).to_le_bytes());
    match f {
        Factors::F32(v) => out.extend_from_slice(bytemuck::cast_slice(v)),
        Factors::F16(v) => out.extend_from_slice(bytemuck::cast_slice(v)),
        Factors::I8 { scales, values } => {
            out.extend_from_slice(bytemuck::cast_slice(scales));
            out.resize(ALIGN + pad_to(scales.len() * 4), 0);
            out.extend_from_slice(bytemuck::cast_slice(values));
        }
    }
    out
}

/// Decodes the section. With `copy_i8` false, an i8 section's values are
/// left where they are (`values` empty) and their range in `p` is returned
/// instead, for a caller that owns the bytes to keep them in place.
pub(super) fn decode(
    p: &[u8],
    rows: usize,
    cols: usize,
    copy_i8: bool,
) -> Result<(Factors, Option<std::ops::Range<usize>>), FormatError> {
    let head = p.get(..ALIGN).ok_or_else(|| corrupt("the factor section is too short"))?;
    if u32_at(head, 4) as usize != cols || u64_at(head, 8) != rows as u64 || head[16..].iter().any(|&b| b != 0) {
        return Err(corrupt("the factor section's shape disagrees with the metadata"));
    }
    let n = rows.checked_mul(cols).ok_or_else(|| corrupt("factor shape overflows"))?;
    let data = &p[ALIGN..];
    let sized = |bytes: usize| -> Result<&[u8], FormatError> {
        if data.len() == bytes {
            Ok(data)
        } else {
            Err(corrupt(format!("the factor section holds {} bytes, expected {bytes}", data.len())))
        }
    };
    Ok(match u32_at(head, 0) {
        0 => (
            Factors::F32(bytemuck::pod_collect_to_vec(sized(n.checked_mul(4).ok_or_else(|| corrupt("overflow"))?)?)),
            None,
        ),
        1 => (
            Factors::F16(bytemuck::pod_collect_to_vec(sized(n.checked_mul(2).ok_or_else(|| corrupt("overflow"))?)?)),
            None,
        ),
        2 => {
            let scale_bytes = pad_to(rows.checked_mul(4).ok_or_else(|| corrupt("overflow"))?);
            let all = sized(scale_bytes.checked_add(n).ok_or_else(|| corrupt("overflow"))?)?;
            if all[rows * 4..scale_bytes].iter().any(|&b| b != 0) {
                return Err(corrupt("padding after the i8 scales is damaged"));
            }
            let scales = bytemuck::pod_collect_to_vec(&all[..rows * 4]);
            if copy_i8 {
                (Factors::I8 { scales, values: bytemuck::cast_slice(&all[scale_bytes..]).to_vec() }, None)
            } else {
                let start = ALIGN + scale_bytes;
                (Factors::I8 { scales, values: Vec::new() }, Some(start..start + n))
            }
        }
        other => return Err(corrupt(format!("unknown factor storage type {other}"))),
    })
}
