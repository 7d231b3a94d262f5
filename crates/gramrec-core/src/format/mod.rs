//! The factor file: one binary format for a model's user or item side.
//!
//! The layout is specified in `docs/FORMAT.md`. In short: a 64-byte header
//! (magic, version, file length, section count, header checksum), then
//! 64-byte-aligned sections, each a 64-byte section header (tag, how the
//! payload is stored, its length, CRC-32s) and its zero-padded payload,
//! ending with an `END` section. Little-endian throughout; the factors are
//! never compressed and start on a 64-byte boundary, so they can be viewed
//! in place; other sections may be deflated.
//!
//! Reading validates everything (lengths, checksums, padding, metadata,
//! consistency between sections, finite values, safe links) and returns a
//! [`FormatError`]: no input makes the reader panic, and it allocates no
//! more than the sizes the input really holds. Version 2 files are written;
//! version 1 files (every model written before) are read.

mod factors;
mod frame;
mod ids;
mod info;
mod meta;
mod rules_file;
mod seen;
mod varint;

use std::io::{self, Write};

use crate::params::{Dtype, ModelKind};
use crate::prior::LearnedPrior;
use crate::quant::Factors;

pub use frame::{frame, sections, Section};
pub use info::{ItemDetails, ItemInfo, Texts};
pub use meta::{Metadata, TrainingFacts};
pub use rules_file::{RULES_MAGIC, RULES_VERSION, TAG_ITEM_COUNTS, TAG_RULES};
pub use seen::SeenItems;

/// The fields of an event log's lines (`serve`'s `MODEL/events.jsonl`, one
/// JSON object a line): what a reader needs no column flags for.
pub const EVENT_LOG_FIELDS: [&str; 5] = ["user", "item", "weight", "time", "received"];

/// The first eight bytes of every factor file.
pub const MAGIC: [u8; 8] = *b"GRAMREC\0";
/// The format version this crate writes and the newest it reads.
pub const VERSION: u32 = 2;
/// The first version, still read: 64-bit ID offsets, every section stored as it is.
pub const VERSION_1: u32 = 1;
const ALIGN: usize = 64;

/// Which side of the model a factor file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// One row per user.
    Users,
    /// One row per item (with YᵀY and popularity, for fold-in and cold start).
    Items,
}

impl Side {
    /// The opposite side: the one held fixed while this one is solved.
    pub fn other(self) -> Side {
        match self {
            Side::Users => Side::Items,
            Side::Items => Side::Users,
        }
    }

    /// The name used in metadata.
    pub fn name(self) -> &'static str {
        match self {
            Side::Users => "users",
            Side::Items => "items",
        }
    }
}

/// A whole factor file in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorFile {
    /// Model parameters and provenance.
    pub meta: Metadata,
    /// The original string ID of each row.
    pub ids: Vec<String>,
    /// rows × `meta.params.factors` values.
    pub factors: Factors,
    /// One bias per row (explicit models with biases).
    pub biases: Option<Vec<f32>>,
    /// YᵀY, f×f (item files of implicit models).
    pub gram: Option<Vec<f32>>,
    /// Training interactions per row (item files: cold-start ranking).
    pub popularity: Option<Vec<u32>>,
    /// Items' names, links and images (item files; optional).
    pub info: Option<ItemInfo>,
    /// Each user's training items (user files; optional).
    pub seen: Option<SeenItems>,
    /// A Bayesian model's learned prior (item files; fold-in solves with it).
    pub prior: Option<LearnedPrior>,
}

/// A model's two factor files, as one directory holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFiles {
    /// The user side (`users.gramrec`): known users' rows and training items.
    pub users: FactorFile,
    /// The item side (`items.gramrec`): all that scoring a visitor needs.
    pub items: FactorFile,
}

impl ModelFiles {
    /// Both files, users first, to change a field the two share.
    pub fn both_mut(&mut self) -> [&mut FactorFile; 2] {
        [&mut self.users, &mut self.items]
    }
}

/// Why bytes are not a usable factor file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    /// The magic bytes are wrong.
    #[error("not a gramrec factor file (bad magic bytes)")]
    NotAFactorFile,
    /// Written by a newer gramrec.
    #[error(
        "factor file version {found} is newer than this gramrec reads (versions 1 to {supported}); upgrade gramrec"
    )]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// Fewer (or more) bytes than the header promises.
    #[error("factor file is truncated or padded: header says {expected} bytes, got {actual}")]
    Truncated {
        /// Length in the header.
        expected: u64,
        /// Length of the input.
        actual: u64,
    },
    /// A checksum does not match: the file was damaged.
    #[error("factor file is corrupt: checksum mismatch in {0}")]
    Checksum(String),
    /// Structurally invalid content.
    #[error("factor file is corrupt: {0}")]
    Corrupt(String),
    /// A required section is absent.
    #[error("factor file has no {0} section")]
    MissingSection(&'static str),
    /// A rules file's problem: any of the above, said of a rules file.
    #[error("{0}")]
    RulesFile(String),
}

fn corrupt(msg: impl Into<String>) -> FormatError {
    FormatError::Corrupt(msg.into())
}

/// Section tag: the metadata text.
pub const TAG_META: [u8; 4] = *b"META";
/// Section tag: the row IDs, front-coded (version 2).
pub const TAG_IDS_V2: [u8; 4] = *b"IDS2";
/// Section tag: the row IDs with 64-bit offsets (version 1, read only).
pub const TAG_IDS_V1: [u8; 4] = *b"IDS\0";
/// Section tag: the factors.
pub const TAG_FACTORS: [u8; 4] = *b"FACT";
/// Section tag: the rows' biases.
pub const TAG_BIASES: [u8; 4] = *b"BIAS";
/// Section tag: YᵀY.
pub const TAG_GRAM: [u8; 4] = *b"GRAM";
/// Section tag: training interactions per row.
pub const TAG_POPULARITY: [u8; 4] = *b"POPU";
/// Section tag: items' names, links and images.
pub const TAG_INFO: [u8; 4] = *b"INFO";
/// Section tag: each user's training items.
pub const TAG_SEEN: [u8; 4] = *b"SEEN";
/// Section tag: each user's training values, entry by entry of `SEEN`.
pub const TAG_SEEN_VALUES: [u8; 4] = *b"SEEV";
/// Section tag: a Bayesian model's learned prior (τ, then each side's μ and Λ).
pub const TAG_PRIOR: [u8; 4] = *b"PRIO";
/// Section tag: the end of the file.
pub const TAG_END: [u8; 4] = *b"END\0";

/// The format version in a factor file's header (`None` for bytes that do
/// not start like one): what `inspect` reports, before or without reading
/// the rest.
pub fn version(bytes: &[u8]) -> Option<u32> {
    (bytes.len() >= 12 && bytes[..8] == MAGIC).then(|| frame::u32_at(bytes, 8))
}

impl FactorFile {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.ids.len()
    }

    /// Number of factors per row.
    pub fn factors_per_row(&self) -> usize {
        self.meta.params.factors
    }

    /// The factors as f32, whatever their storage type.
    pub fn factors_f32(&self) -> Vec<f32> {
        self.factors.to_f32(self.factors_per_row())
    }

    /// Each row's factors followed by its bias when the model has biases
    /// (rows × `params.dim()`): the layout [`RowSolver`](crate::RowSolver)
    /// and scoring use.
    pub fn rows_with_biases(&self) -> Vec<f32> {
        let p = self.meta.params;
        let (f, d) = (p.factors, p.dim());
        let factors = self.factors_f32();
        let mut rows = Vec::with_capacity(self.rows() * d);
        for (i, x) in factors.chunks_exact(f).enumerate() {
            rows.extend_from_slice(x);
            if p.uses_biases() {
                rows.push(self.biases.as_ref().map_or(0.0, |b| b[i]));
            }
        }
        rows
    }

    /// The same file with its factors stored as `dtype`.
    pub fn with_dtype(&self, dtype: Dtype) -> Self {
        let f = self.factors_per_row();
        Self { factors: Factors::encode(&self.factors_f32(), f, dtype), ..self.clone() }
    }

    /// Serialises the file (version 2). Fails only on I/O errors, or (as
    /// `InvalidInput`) when the content is inconsistent, not finite or holds
    /// an unsafe link, so a broken model never reaches the disk.
    pub fn write_to(&self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        self.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        frame::write_frame(out, &self.sections())
    }

    /// The file's sections as (tag, payload) pairs, encoded but not
    /// validated, `END` last: what [`write_to`](Self::write_to) frames once
    /// [`validate`](Self::validate) passes, and what tools (and the fuzz
    /// target) change before framing with [`frame`].
    pub fn sections(&self) -> Vec<Section> {
        let mut sections: Vec<Section> = vec![
            (TAG_META, self.meta.encode(self.rows()).into_bytes()),
            (TAG_IDS_V2, ids::encode(&self.ids)),
            (TAG_FACTORS, factors::encode(&self.factors, self.rows(), self.factors_per_row())),
        ];
        if let Some(b) = &self.biases {
            sections.push((TAG_BIASES, bytemuck::cast_slice(b).to_vec()));
        }
        if let Some(g) = &self.gram {
            sections.push((TAG_GRAM, bytemuck::cast_slice(g).to_vec()));
        }
        if let Some(p) = &self.popularity {
            sections.push((TAG_POPULARITY, bytemuck::cast_slice(p).to_vec()));
        }
        if let Some(info) = self.info.as_ref().filter(|i| !i.is_empty()) {
            sections.push((TAG_INFO, info.encode(self.rows())));
        }
        if let Some(seen) = &self.seen {
            sections.push((TAG_SEEN, seen.encode()));
            if let Some(values) = seen.encode_values() {
                sections.push((TAG_SEEN_VALUES, values));
            }
        }
        if let Some(prior) = &self.prior {
            sections.push((TAG_PRIOR, bytemuck::cast_slice(&prior.to_values()).to_vec()));
        }
        sections.push((TAG_END, Vec::new()));
        sections
    }

    /// The serialised file.
    pub fn to_bytes(&self) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        self.write_to(&mut v)?;
        Ok(v)
    }

    /// Parses and validates a factor file of any version this crate reads.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        let (file, _) = Self::read(bytes, true)?;
        file.validate()?;
        Ok(file)
    }

    /// [`from_bytes`](Self::from_bytes), taking the bytes: an i8 file's
    /// values then stay in the buffer that holds the file (moved to its
    /// front, the rest released) rather than being copied into a second
    /// one, so a page that loads a million-item catalogue holds it once.
    pub fn from_vec(mut bytes: Vec<u8>) -> Result<Self, FormatError> {
        let (mut file, in_place) = Self::read(&bytes, false)?;
        if let (Some(range), Factors::I8 { values, .. }) = (in_place, &mut file.factors) {
            bytes.truncate(range.end);
            bytes.drain(..range.start);
            bytes.shrink_to_fit();
            *values = bytemuck::allocation::cast_vec(bytes);
        }
        file.validate()?;
        Ok(file)
    }

    /// Parses every section, not yet validated as a whole; with `copy_i8`
    /// false, an i8 file's values are left out and their range in `bytes`
    /// returned ([`factors::decode`]).
    fn read(bytes: &[u8], copy_i8: bool) -> Result<(Self, Option<std::ops::Range<usize>>), FormatError> {
        let (version, found) = frame::read_frame(bytes)?;
        let get = |tag: [u8; 4]| found.iter().find(|(t, _)| *t == tag).map(|(_, p)| p.as_ref());
        let need = |tag: [u8; 4], name: &'static str| get(tag).ok_or(FormatError::MissingSection(name));
        let v2_only = [
            (TAG_IDS_V2, "IDS2"),
            (TAG_INFO, "INFO"),
            (TAG_SEEN, "SEEN"),
            (TAG_SEEN_VALUES, "SEEV"),
            (TAG_PRIOR, "PRIO"),
        ];
        if let Some((_, name)) = v2_only.iter().find(|(t, _)| version == VERSION_1 && get(*t).is_some()) {
            return Err(corrupt(format!("a version-1 file holds a {name} section")));
        }

        let (meta, rows) = meta::Metadata::decode(need(TAG_META, "META")?)?;
        let f = meta.params.factors;
        let ids = match version {
            VERSION_1 => ids::decode_v1(need(TAG_IDS_V1, "IDS")?)?,
            _ if get(TAG_IDS_V1).is_some() => return Err(corrupt("a version-2 file holds a version-1 IDS section")),
            _ => ids::decode(need(TAG_IDS_V2, "IDS2")?)?,
        };
        if ids.len() != rows {
            return Err(corrupt(format!("metadata says {rows} rows but there are {} IDs", ids.len())));
        }
        let fact = need(TAG_FACTORS, "FACT")?;
        let (factors, in_fact) = factors::decode(fact, rows, f, copy_i8)?;
        // The factors are never deflated, so `fact` lies inside `bytes`.
        let at = (fact.as_ptr() as usize)
            .checked_sub(bytes.as_ptr() as usize)
            .filter(|at| at + fact.len() <= bytes.len())
            .ok_or_else(|| corrupt("the factor section is not stored as it is"))?;
        let file = FactorFile {
            ids,
            factors,
            biases: get(TAG_BIASES).map(|p| f32s(p, "BIAS")).transpose()?,
            gram: get(TAG_GRAM).map(|p| f32s(p, "GRAM")).transpose()?,
            popularity: get(TAG_POPULARITY).map(|p| u32s(p, "POPU")).transpose()?,
            // Details that name nothing are no details (the writer leaves them out).
            info: get(TAG_INFO).map(ItemInfo::decode).transpose()?.filter(|i| !i.is_empty()),
            seen: match (get(TAG_SEEN).map(SeenItems::decode).transpose()?, get(TAG_SEEN_VALUES)) {
                (Some(seen), Some(values)) => Some(seen.with_values(values)?),
                (None, Some(_)) => return Err(corrupt("a SEEV section without SEEN")),
                (seen, None) => seen,
            },
            prior: match get(TAG_PRIOR) {
                Some(p) => Some(
                    LearnedPrior::from_values(&f32s(p, "PRIO")?, meta.params.dim())
                        .ok_or_else(|| corrupt("the PRIO section does not match the factors per row"))?,
                ),
                None => None,
            },
            meta,
        };
        Ok((file, in_fact.map(|r| r.start + at..r.end + at)))
    }

    /// Checks that the sections agree with each other and hold finite numbers.
    pub fn validate(&self) -> Result<(), FormatError> {
        let (rows, f) = (self.rows(), self.factors_per_row());
        self.meta.check_limits()?;
        if rows.checked_mul(f) != Some(self.factors.len()) {
            return Err(corrupt(format!("{} factor values for {rows} rows × {f} factors", self.factors.len())));
        }
        if let Factors::I8 { scales, .. } = &self.factors {
            if scales.len() != rows {
                return Err(corrupt("i8 scales do not match the row count"));
            }
        }
        let finite = |v: &[f32], what: &str| {
            if v.iter().all(|x| x.is_finite()) {
                Ok(())
            } else {
                Err(corrupt(format!("{what} holds NaN or infinite values")))
            }
        };
        match &self.factors {
            Factors::F32(v) => finite(v, "the factors")?,
            Factors::F16(v) => {
                if v.iter().any(|&b| !half::f16::from_bits(b).is_finite()) {
                    return Err(corrupt("the factors hold NaN or infinite values"));
                }
            }
            Factors::I8 { scales, values } => {
                finite(scales, "the i8 scales")?;
                // As the writer makes them (quant.rs): what the integer scan's bounds assume.
                if scales.iter().any(|&s| s < 0.0) {
                    return Err(corrupt("an i8 scale is negative"));
                }
                if values.contains(&i8::MIN) {
                    return Err(corrupt("an i8 factor is -128 (the values are -127..=127)"));
                }
            }
        }
        if let Some(b) = &self.biases {
            if b.len() != rows {
                return Err(corrupt(format!("{} biases for {rows} rows", b.len())));
            }
            finite(b, "the biases")?;
        }
        if let Some(g) = &self.gram {
            if g.len() != f * f {
                return Err(corrupt(format!("Gram matrix has {} values, expected {f}×{f}", g.len())));
            }
            finite(g, "the Gram matrix")?;
        }
        if self.popularity.as_ref().is_some_and(|p| p.len() != rows) {
            return Err(corrupt("popularity does not match the row count"));
        }
        let m = &self.meta;
        if let Some(info) = &self.info {
            if m.side != Side::Items {
                return Err(corrupt("a user file holds item details"));
            }
            info.validate(rows)?;
        }
        if let Some(seen) = &self.seen {
            if m.side != Side::Users {
                return Err(corrupt("an item file holds seen items"));
            }
            if seen.rows() != rows {
                return Err(corrupt(format!("seen items for {} users, the file has {rows}", seen.rows())));
            }
        }
        if let Some(prior) = &self.prior {
            if m.side != Side::Items || m.params.kind != ModelKind::Explicit {
                return Err(corrupt("a learned prior belongs to the item file of an explicit model"));
            }
            if let Some(problem) = prior.problem(m.params.dim()) {
                return Err(corrupt(format!("the PRIO section is not a prior: {problem}")));
            }
        }
        if m.params.uses_biases() && self.biases.is_none() {
            return Err(FormatError::MissingSection("BIAS"));
        }
        if m.side == Side::Items && m.params.kind == ModelKind::Implicit && self.gram.is_none() {
            return Err(FormatError::MissingSection("GRAM"));
        }
        Ok(())
    }
}

fn f32s(p: &[u8], what: &str) -> Result<Vec<f32>, FormatError> {
    if !p.len().is_multiple_of(4) {
        return Err(corrupt(format!("section {what} is not a whole number of f32 values")));
    }
    Ok(bytemuck::pod_collect_to_vec(p))
}

fn u32s(p: &[u8], what: &str) -> Result<Vec<u32>, FormatError> {
    if !p.len().is_multiple_of(4) {
        return Err(corrupt(format!("section {what} is not a whole number of u32 values")));
    }
    Ok(bytemuck::pod_collect_to_vec(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Confidence, ModelParams, RegScaling, SolverOptions};

    pub(crate) fn sample(side: Side, kind: ModelKind, dtype: Dtype) -> FactorFile {
        let (rows, f) = (5, 3);
        let params = ModelParams {
            factors: f,
            reg: 0.05,
            reg_scaling: RegScaling::Count,
            alpha: 4.0,
            confidence: Confidence::Log,
            ..ModelParams::for_kind(kind)
        };
        let values: Vec<f32> = (0..rows * f).map(|i| (i as f32 - 7.0) / 3.0).collect();
        FactorFile {
            meta: Metadata {
                side,
                params,
                global_mean: 3.5,
                rating_min: 1.0,
                rating_max: 5.0,
                training: TrainingFacts {
                    iterations: Some(15),
                    solver: Some(SolverOptions::cholesky()),
                    run: Some("r1".into()),
                    other: vec![("source".into(), "a test".into())],
                    ..Default::default()
                },
            },
            ids: vec!["a".into(), "bé".into(), "".into(), "item:42".into(), "x".repeat(100)],
            factors: Factors::encode(&values, f, dtype),
            biases: params.uses_biases().then(|| vec![0.1, -0.2, 0.3, 0.0, 1.5]),
            gram: (side == Side::Items).then(|| (0..f * f).map(|i| i as f32).collect()),
            popularity: (side == Side::Items).then(|| vec![9, 0, 3, 1, 7]),
            info: (side == Side::Items).then(|| ItemInfo {
                names: ["Äpfel", "", "<b>bold</b> \"quoted\"", "n", "long ".repeat(50).as_str()].into_iter().collect(),
                urls: Texts::default(),
                images: ["https://x.example/1.png", "", "", "/4.png", ""].into_iter().collect(),
            }),
            seen: (side == Side::Users).then(|| SeenItems::from_rows(7, [&[0u32, 6][..], &[], &[3], &[1, 2], &[5]])),
            prior: None,
        }
    }

    #[test]
    fn round_trips_every_dtype_and_kind() {
        for dtype in [Dtype::F32, Dtype::F16, Dtype::I8] {
            for kind in [ModelKind::Explicit, ModelKind::Implicit] {
                for side in [Side::Users, Side::Items] {
                    let file = sample(side, kind, dtype);
                    let bytes = file.to_bytes().unwrap();
                    assert_eq!(bytes.len() % ALIGN, 0);
                    assert_eq!(FactorFile::from_bytes(&bytes).unwrap(), file, "{dtype} {kind} {side:?}");
                    assert_eq!(FactorFile::from_vec(bytes).unwrap(), file, "{dtype} {kind} {side:?}, from a Vec");
                }
            }
        }
    }

    #[test]
    fn factor_data_is_aligned_for_in_place_reads() {
        let bytes = sample(Side::Items, ModelKind::Implicit, Dtype::F32).to_bytes().unwrap();
        // The factor payload header is one aligned block; the data follows it.
        let fact = bytes.windows(4).position(|w| w == TAG_FACTORS).unwrap();
        assert_eq!(fact % ALIGN, 0);
        assert_eq!((fact + 2 * ALIGN) % ALIGN, 0);
    }

    #[test]
    fn i8_values_outside_what_the_writer_makes_are_refused() {
        // The integer scan's bounds assume them (scoring/int8.rs).
        let good = sample(Side::Items, ModelKind::Implicit, Dtype::I8);
        let with = |change: fn(&mut Vec<f32>, &mut Vec<i8>)| {
            let mut file = good.clone();
            let Factors::I8 { scales, values } = &mut file.factors else { unreachable!() };
            change(scales, values);
            file.validate().map_err(|e| e.to_string())
        };
        assert!(with(|_, v| v[3] = -128).unwrap_err().contains("is -128"));
        assert!(with(|s, _| s[1] = -0.5).unwrap_err().contains("scale is negative"));
        assert_eq!(with(|s, v| (s[1], v[3]) = (0.0, -127)), Ok(()));
    }

    #[test]
    fn i8_values_read_from_a_vec_stay_in_its_buffer() {
        let bytes = sample(Side::Items, ModelKind::Implicit, Dtype::I8).to_bytes().unwrap();
        let buffer = bytes.as_ptr() as usize;
        let file = FactorFile::from_vec(bytes).unwrap();
        let Factors::I8 { values, .. } = &file.factors else { unreachable!() };
        assert_eq!(values.as_ptr() as usize, buffer, "moved to the front of the file's buffer, not copied");
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample(Side::Items, ModelKind::Explicit, Dtype::I8).to_bytes().unwrap();
        for len in 0..bytes.len() {
            assert!(FactorFile::from_bytes(&bytes[..len]).is_err(), "truncated to {len} bytes was accepted");
            assert!(FactorFile::from_vec(bytes[..len].to_vec()).is_err(), "truncated to {len} bytes was accepted");
        }
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        for (side, dtype) in [(Side::Items, Dtype::F32), (Side::Items, Dtype::I8), (Side::Users, Dtype::F32)] {
            let bytes = sample(side, ModelKind::Implicit, dtype).to_bytes().unwrap();
            for byte in 0..bytes.len() {
                for bit in 0..8 {
                    let mut damaged = bytes.clone();
                    damaged[byte] ^= 1 << bit;
                    assert!(
                        FactorFile::from_bytes(&damaged).is_err(),
                        "flip of bit {bit} in byte {byte} went unnoticed"
                    );
                }
            }
        }
    }

    #[test]
    fn newer_version_and_other_files_are_named_as_such() {
        let mut bytes = sample(Side::Users, ModelKind::Explicit, Dtype::F32).to_bytes().unwrap();
        bytes[8..12].copy_from_slice(&3u32.to_le_bytes());
        let crc = crc32fast::hash(&bytes[..28]);
        bytes[28..32].copy_from_slice(&crc.to_le_bytes());
        let e = FactorFile::from_bytes(&bytes).unwrap_err();
        assert_eq!(e, FormatError::UnsupportedVersion { found: 3, supported: 2 });
        assert!(e.to_string().contains("version 3 is newer than this gramrec reads (versions 1 to 2)"), "{e}");
        assert_eq!(FactorFile::from_bytes(b"\x89PNG\r\n\x1a\n0000"), Err(FormatError::NotAFactorFile));
        assert_eq!(FactorFile::from_bytes(b""), Err(FormatError::NotAFactorFile));
    }

    /// A file with valid checksums whose metadata says `key=value`.
    fn with_meta(file: &FactorFile, key: &str, value: &str) -> Vec<u8> {
        let text = file.meta.encode(file.rows());
        let changed: String = text
            .lines()
            .map(|l| if l.split('=').next() == Some(key) { format!("{key}={value}\n") } else { format!("{l}\n") })
            .collect();
        let mut all = sections(&file.to_bytes().unwrap()).unwrap();
        all.iter_mut().find(|(t, _)| *t == TAG_META).unwrap().1 = changed.into_bytes();
        frame(&all)
    }

    #[test]
    fn crafted_headers_with_valid_checksums_are_refused() {
        let file = sample(Side::Items, ModelKind::Explicit, Dtype::F32);
        assert!(FactorFile::from_bytes(&with_meta(&file, "iterations", "15")).is_ok(), "the helper keeps files valid");
        for (key, value, why) in [
            ("rating_min", "9", "not a range"),
            ("factors", "200000", "'factors' must be between 1 and 1024, not 200000"),
            ("factors", "0", "'factors' must be between 1 and 1024, not 0"),
            ("epsilon", "0", "epsilon"),
            ("reg", "-1", "reg"),
            ("global_mean", "inf", "global_mean"),
        ] {
            let e = FactorFile::from_bytes(&with_meta(&file, key, value)).unwrap_err().to_string();
            assert!(e.contains(why), "{key}={value}: {e}");
        }
    }

    #[test]
    fn compressed_sections_round_trip_and_bombs_are_refused() {
        let mut file = sample(Side::Items, ModelKind::Implicit, Dtype::I8);
        file.ids = (0..5).map(|i| format!("item-number-{i:06}")).collect();
        file.popularity = Some(vec![100_000, 100_001, 100_002, 100_003, 100_004]);
        let bytes = file.to_bytes().unwrap();
        assert_eq!(FactorFile::from_bytes(&bytes).unwrap(), file);
        // A section that claims to inflate beyond deflate's limit, or to a
        // different length than it does, is refused before it is expanded.
        let mut all = sections(&bytes).unwrap();
        all.iter_mut().find(|(t, _)| *t == TAG_IDS_V2).unwrap().1 = vec![0; 1 << 20];
        let framed = frame(&all);
        assert!(FactorFile::from_bytes(&framed).is_err(), "1 MiB of zeros for 5 IDs");
        let at = framed.windows(4).position(|w| w == TAG_IDS_V2).unwrap();
        let mut claimed = framed.clone();
        claimed[at + 24..at + 32].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        let crc = {
            let mut h = crc32fast::Hasher::new();
            h.update(&claimed[at..at + 20]);
            h.update(&claimed[at + 24..at + 32]);
            h.finalize()
        };
        claimed[at + 20..at + 24].copy_from_slice(&crc.to_le_bytes());
        let e = FactorFile::from_bytes(&claimed).unwrap_err().to_string();
        assert!(e.contains("more than deflate can"), "{e}");
    }

    #[test]
    fn details_and_seen_items_stay_on_their_side() {
        let users = sample(Side::Users, ModelKind::Implicit, Dtype::F32);
        let items = sample(Side::Items, ModelKind::Implicit, Dtype::F32);
        assert!(FactorFile { info: items.info.clone(), ..users.clone() }.validate().is_err());
        assert!(FactorFile { seen: users.seen.clone(), ..items.clone() }.validate().is_err());
        let unsafe_link = ItemInfo { urls: ["javascript:alert(1)"; 5].into_iter().collect(), ..Default::default() };
        assert!(FactorFile { info: Some(unsafe_link), ..items }.to_bytes().is_err(), "never written");
    }

    /// A prior for the sample's rows (3 factors and a bias).
    fn prior() -> LearnedPrior {
        let side = |scale: f32| crate::GaussianPrior {
            mean: vec![0.1 * scale, -0.2, 0.0, 0.3],
            precision: (0..16).map(|k| if k % 5 == 0 { 2.0 * scale } else { 0.0 }).collect(),
        };
        LearnedPrior { noise: 1.6, users: side(1.0), items: side(2.0) }
    }

    #[test]
    fn a_learned_prior_round_trips_and_a_broken_one_is_refused() {
        let items = FactorFile { prior: Some(prior()), ..sample(Side::Items, ModelKind::Explicit, Dtype::F32) };
        let bytes = items.to_bytes().unwrap();
        assert_eq!(FactorFile::from_bytes(&bytes).unwrap(), items);
        let broken = |change: &dyn Fn(&mut LearnedPrior)| {
            let mut p = prior();
            change(&mut p);
            FactorFile { prior: Some(p), ..items.clone() }.validate().unwrap_err().to_string()
        };
        assert!(broken(&|p| p.noise = 0.0).contains("noise precision is 0"));
        assert!(broken(&|p| p.users.mean[1] = f32::NAN).contains("user prior holds NaN"));
        assert!(broken(&|p| p.items.precision[1] = 0.5).contains("item prior's precision is not a symmetric"));
        // Symmetric with a positive diagonal, but indefinite.
        let indefinite = |p: &mut LearnedPrior| {
            p.users.precision[1] = 3.0;
            p.users.precision[4] = 3.0;
        };
        assert!(broken(&indefinite).contains("user prior's precision is not a symmetric positive definite"));
        assert!(broken(&|p| p.users.mean.pop().map_or((), drop)).contains("not of 4 values per row"));
        let users = FactorFile { prior: Some(prior()), ..sample(Side::Users, ModelKind::Explicit, Dtype::F32) };
        assert!(users.validate().unwrap_err().to_string().contains("item file of an explicit model"));
        // A section of the wrong length for the factors is refused on reading.
        let mut all = sections(&bytes).unwrap();
        all.iter_mut().find(|(t, _)| *t == TAG_PRIOR).unwrap().1.truncate(40);
        let e = FactorFile::from_bytes(&frame(&all)).unwrap_err().to_string();
        assert!(e.contains("PRIO section does not match"), "{e}");
    }

    /// The version-1 files committed in `tests/fixtures/v1` (written by the
    /// last version-1 writer).
    const V1_FILES: [&[u8]; 4] = [
        include_bytes!("../../../../tests/fixtures/v1/explicit/users.gramrec"),
        include_bytes!("../../../../tests/fixtures/v1/explicit/items.gramrec"),
        include_bytes!("../../../../tests/fixtures/v1/implicit/items.gramrec"),
        include_bytes!("../../../../tests/fixtures/v1/implicit/items-i8.gramrec"),
    ];

    #[test]
    fn version_1_files_read_and_write_back_as_version_2_unchanged() {
        for bytes in V1_FILES {
            assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), VERSION_1);
            let file = FactorFile::from_bytes(bytes).unwrap();
            assert_eq!(file.rows(), if file.meta.side == Side::Users { 40 } else { 25 });
            assert!(file.ids.iter().all(|id| id.starts_with(['u', 'i'])));
            assert!(file.info.is_none() && file.seen.is_none());
            let again = file.to_bytes().unwrap();
            assert_eq!(u32::from_le_bytes(again[8..12].try_into().unwrap()), VERSION);
            assert_eq!(FactorFile::from_bytes(&again).unwrap(), file);
        }
    }

    #[test]
    fn every_single_bit_flip_of_a_version_1_file_is_detected() {
        let bytes = V1_FILES[3];
        for byte in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.to_vec();
                damaged[byte] ^= 1 << bit;
                assert!(FactorFile::from_bytes(&damaged).is_err(), "flip of bit {bit} in byte {byte} went unnoticed");
            }
        }
    }

    #[test]
    fn writer_refuses_non_finite_factors() {
        let mut file = sample(Side::Users, ModelKind::Implicit, Dtype::F32);
        file.factors = Factors::F32(vec![f32::NAN; 15]);
        assert!(file.to_bytes().is_err());
    }
}

/// Small factor files for other modules' tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    use crate::params::{ModelParams, RegScaling};

    /// Five items with 2 factors: i0=(1,0) i1=(0,1) i2=(-1,0) i3=(0,-1) i4=(2,0.1).
    pub(crate) fn item_file(kind: ModelKind) -> FactorFile {
        let params = ModelParams { factors: 2, reg: 0.1, reg_scaling: RegScaling::None, ..ModelParams::for_kind(kind) };
        let y = vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0, -1.0, 2.0, 0.1];
        let mut gram = vec![0.0; 4];
        for r in y.chunks(2) {
            for i in 0..2 {
                for j in 0..2 {
                    gram[i * 2 + j] += r[i] * r[j];
                }
            }
        }
        FactorFile {
            meta: Metadata {
                side: Side::Items,
                params,
                global_mean: 3.0,
                rating_min: 1.0,
                rating_max: 5.0,
                training: TrainingFacts::default(),
            },
            ids: (0..5).map(|i| format!("i{i}")).collect(),
            factors: Factors::F32(y),
            biases: params.uses_biases().then(|| vec![0.1, 0.0, -0.1, 0.2, 0.0]),
            gram: Some(gram),
            popularity: Some(vec![9, 1, 5, 2, 3]),
            info: None,
            seen: None,
            prior: None,
        }
    }
}
