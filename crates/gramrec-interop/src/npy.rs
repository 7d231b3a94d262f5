//! NumPy's `.npy` format (version 1.0 written; 1.0 to 3.0 read): a magic
//! string, a Python-literal header giving the type, order and shape, then the
//! raw little-endian values. Only what models hold is read: f32 and f64
//! arrays, integers, booleans and Unicode strings (implicit's scalars).

use std::path::Path;

use gramrec_core::{Error, Result};

use crate::dense::DenseModel;

const MAGIC: &[u8] = b"\x93NUMPY";

/// An array read from a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// The shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// The values, in C order.
    pub values: Values,
}

/// The values of an [`Array`], by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Floating point (f32 kept exact; f64 narrowed only when asked).
    F32(Vec<f32>),
    /// f64 values.
    F64(Vec<f64>),
    /// Any integer type, widened.
    Int(Vec<i64>),
    /// Booleans.
    Bool(Vec<bool>),
    /// Unicode strings (`<U`), one per element.
    Str(Vec<String>),
}

impl Array {
    /// The array as f32 values (f64 narrowed, integers converted).
    pub fn to_f32(&self) -> Option<Vec<f32>> {
        match &self.values {
            Values::F32(v) => Some(v.clone()),
            Values::F64(v) => Some(v.iter().map(|&x| x as f32).collect()),
            Values::Int(v) => Some(v.iter().map(|&x| x as f32).collect()),
            Values::Bool(_) | Values::Str(_) => None,
        }
    }

    /// The single number a 0-d array holds.
    pub fn scalar_f64(&self) -> Option<f64> {
        if !self.shape.is_empty() {
            return None;
        }
        match &self.values {
            Values::F32(v) => v.first().map(|&x| f64::from(x)),
            Values::F64(v) => v.first().copied(),
            Values::Int(v) => v.first().map(|&x| x as f64),
            Values::Bool(v) => v.first().map(|&b| f64::from(u8::from(b))),
            Values::Str(_) => None,
        }
    }
}

/// Writes `model` for anyone with NumPy into `dir` (an empty folder the
/// caller renames into place): `user_factors.npy` and `item_factors.npy`
/// (f32, C order, one row per ID) and `user_ids.txt`, `item_ids.txt`.
pub fn write_folder(dir: &Path, model: &DenseModel) -> Result<()> {
    let write =
        |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes).map_err(|e| Error::io(&dir.join(name), e));
    write("user_factors.npy", encode_f32(model.user_ids.len(), model.rank, &model.users))?;
    write("item_factors.npy", encode_f32(model.item_ids.len(), model.rank, &model.items))?;
    crate::ids::write_lines(&dir.join("user_ids.txt"), &model.user_ids)?;
    crate::ids::write_lines(&dir.join("item_ids.txt"), &model.item_ids)
}

/// A folder of [`write_folder`]'s arrays, as an output: replaced only when
/// it holds them (the user factors an `.npy` file) and nothing else.
pub const FOLDER: gramrec_store::FolderKind = gramrec_store::FolderKind {
    name: "folder of gramrec's NumPy arrays",
    entries: &["user_factors.npy", "item_factors.npy", "user_ids.txt", "item_ids.txt"],
    is_one: |dir| {
        let mut magic = [0u8; 6];
        std::fs::File::open(dir.join("user_factors.npy"))
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
            .is_ok_and(|()| magic == MAGIC)
    },
};

/// An f32 matrix as `.npy` bytes (C order).
pub fn encode_f32(rows: usize, cols: usize, values: &[f32]) -> Vec<u8> {
    assert_eq!(values.len(), rows * cols, "a full matrix");
    let mut out = header(&format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}"));
    out.reserve(values.len() * 4);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// A 0-d array (a scalar) as `.npy` bytes: `descr` and its little-endian bytes.
pub fn encode_scalar(descr: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = header(&format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (), }}"));
    out.extend_from_slice(bytes);
    out
}

/// A 0-d Unicode string as `.npy` bytes (`<U` n, UTF-32 little-endian).
pub fn encode_str(s: &str) -> Vec<u8> {
    let bytes: Vec<u8> = s.chars().flat_map(|c| u32::from(c).to_le_bytes()).collect();
    encode_scalar(&format!("<U{}", s.chars().count().max(1)), &if bytes.is_empty() { vec![0; 4] } else { bytes })
}

/// The version 1.0 preamble: magic, version, header length, and the header
/// padded with spaces so the data starts on a 64-byte boundary.
fn header(dict: &str) -> Vec<u8> {
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    let total = unpadded.div_ceil(64) * 64;
    let mut text = dict.to_string();
    text.push_str(&" ".repeat(total - unpadded));
    text.push('\n');
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

/// Parses `.npy` bytes; `name` is used in errors.
pub fn decode(bytes: &[u8], name: &str) -> Result<Array> {
    let bad = |m: &str| Error::Data(format!("{name}: {m}"));
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not a NumPy .npy array"));
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize, 12),
        v => return Err(bad(&format!("unsupported .npy version {v}"))),
    };
    let text = bytes
        .get(start..start + len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad("truncated or unreadable .npy header"))?;
    let descr = field(text, "descr").ok_or_else(|| bad("the .npy header has no 'descr'"))?;
    let descr = descr.trim_matches(['\'', '"']);
    if field(text, "fortran_order").is_some_and(|v| v == "True") {
        return Err(bad("Fortran-ordered arrays are not read; save it with np.ascontiguousarray"));
    }
    let shape = field(text, "shape").ok_or_else(|| bad("the .npy header has no 'shape'"))?;
    let shape: Vec<usize> = shape
        .trim_matches(['(', ')'])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad(&format!("bad shape entry '{s}'"))))
        .collect::<Result<_>>()?;
    let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| bad("shape overflows"))?;
    let data = &bytes[start + len..];
    let need = |width: usize| -> Result<&[u8]> {
        let n = count.checked_mul(width).ok_or_else(|| bad("shape overflows"))?;
        if data.len() > n {
            return Err(bad(&format!("{} bytes after the array's {n}: not one .npy array", data.len() - n)));
        }
        data.get(..n).ok_or_else(|| bad(&format!("truncated: {} values need {n} bytes, {} present", count, data.len())))
    };
    let chunks = |width: usize| -> Result<std::slice::ChunksExact<'_, u8>> { Ok(need(width)?.chunks_exact(width)) };
    let values = match descr {
        "<f4" => Values::F32(chunks(4)?.map(|c| f32::from_le_bytes(c.try_into().expect("4"))).collect()),
        "<f8" => Values::F64(chunks(8)?.map(|c| f64::from_le_bytes(c.try_into().expect("8"))).collect()),
        "<i8" => Values::Int(chunks(8)?.map(|c| i64::from_le_bytes(c.try_into().expect("8"))).collect()),
        "<i4" => Values::Int(chunks(4)?.map(|c| i64::from(i32::from_le_bytes(c.try_into().expect("4")))).collect()),
        "|b1" => Values::Bool(need(1)?.iter().map(|&b| b != 0).collect()),
        d if d.starts_with("<U") => {
            let chars: usize = d[2..].parse().map_err(|_| bad(&format!("bad string type '{d}'")))?;
            let width = chars.max(1).checked_mul(4).ok_or_else(|| bad(&format!("string type '{d}' is too wide")))?;
            let strings = chunks(width)?
                .map(|c| {
                    c.chunks_exact(4)
                        .map(|u| u32::from_le_bytes(u.try_into().expect("4")))
                        .take_while(|&u| u != 0)
                        .map(|u| char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER))
                        .collect()
                })
                .collect();
            Values::Str(strings)
        }
        other => {
            return Err(bad(&format!("unsupported array type '{other}' (f32, f64, integers, booleans or strings)")))
        }
    };
    Ok(Array { shape, values })
}

/// The text of `key`'s value in a header dict such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }`.
fn field<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    let at = dict.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = dict[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') { rest.find(')')? + 1 } else { rest.find([',', '}'])? };
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrices_and_scalars_round_trip() {
        let m = encode_f32(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        assert_eq!(m.len() % 64, 24, "data starts on a 64-byte boundary");
        let a = decode(&m, "m").unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.values, Values::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5]));
        let s = decode(&encode_scalar("<f8", &0.25f64.to_le_bytes()), "s").unwrap();
        assert_eq!(s.scalar_f64(), Some(0.25));
        assert_eq!(decode(&encode_str("float32"), "d").unwrap().values, Values::Str(vec!["float32".into()]));
    }

    #[test]
    fn bad_arrays_are_named() {
        let m = encode_f32(2, 3, &[0.0; 6]);
        assert!(decode(&m[..m.len() - 1], "user_factors.npy").unwrap_err().to_string().contains("truncated"));
        assert!(decode(b"hello", "x.npy").unwrap_err().to_string().contains("x.npy: not a NumPy"));
        let replace = |from: &str, to: &str| {
            let at = m.windows(from.len()).position(|w| w == from.as_bytes()).unwrap();
            let mut changed = m.clone();
            changed[at..at + to.len()].copy_from_slice(to.as_bytes());
            changed
        };
        let fortran = replace("'fortran_order': False", "'fortran_order': True ");
        assert!(decode(&fortran, "f").unwrap_err().to_string().contains("Fortran-ordered"));
        assert!(decode(&replace("<f4", "<c8"), "c").unwrap_err().to_string().contains("'<c8'"));
        let mut trailing = m.clone();
        trailing.extend_from_slice(b"junk");
        assert!(decode(&trailing, "t").unwrap_err().to_string().contains("4 bytes after the array's 24"));
        // A string type wider than memory can hold: refused, not an overflow.
        let wide = encode_str("x");
        let at = wide.windows(3).position(|w| w == b"<U1").unwrap();
        let mut wide = [&wide[..at], b"<U4611686018427387904", &wide[at + 3..]].concat();
        let fix = u16::from_le_bytes([wide[8], wide[9]]) + 18;
        wide[8..10].copy_from_slice(&fix.to_le_bytes());
        let e = decode(&wide, "w").unwrap_err().to_string();
        assert!(e.contains("string type '<U4611686018427387904' is too wide"), "{e}");
    }
}
