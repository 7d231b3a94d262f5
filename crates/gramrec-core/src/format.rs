//! The factor file: one binary format for a model's user or item side.
//!
//! The layout is specified in `docs/FORMAT.md`. In short: a 64-byte header
//! (magic, version, file length, section count, header checksum), then
//! 64-byte-aligned sections, each a 64-byte section header (tag, payload
//! length, payload CRC-32, header CRC-32) and its zero-padded payload, ending
//! with an `END` section. Little-endian throughout; f32 data starts on a
//! 64-byte boundary so it can be viewed in place.
//!
//! Reading validates everything (lengths, checksums, padding, metadata,
//! consistency between sections, finite values) and returns a [`FormatError`]:
//! no input makes the reader panic or allocate beyond the input's size.

use std::io::{self, Write};

use crate::params::{Dtype, ModelKind, ModelParams, SolverOptions, MAX_FACTORS};
use crate::quant::Factors;

/// The first eight bytes of every factor file.
pub const MAGIC: [u8; 8] = *b"GRAMREC\0";
/// The format version this crate writes and the newest it reads.
pub const VERSION: u32 = 1;
const ALIGN: usize = 64;
const HEADER_LEN: usize = 64;

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

/// What a factor file says about the model, beside the numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// User or item factors.
    pub side: Side,
    /// The objective: needed to fold new users in with the training maths.
    pub params: ModelParams,
    /// μ of explicit models with biases (0 otherwise).
    pub global_mean: f32,
    /// Smallest rating seen in training: predictions are clipped to it.
    pub rating_min: f32,
    /// Largest rating seen in training.
    pub rating_max: f32,
    /// How the model was trained (`train.*` keys).
    pub training: TrainingFacts,
}

/// How a model was trained, recorded in both of its files as `train.*`
/// metadata keys: for `inspect`, for checking that a model's two files (or a
/// checkpoint and its run) belong together, and for resuming.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingFacts {
    /// Iterations asked for.
    pub iterations: Option<usize>,
    /// The solver and its CG steps.
    pub solver: Option<SolverOptions>,
    /// Seed of the initial factors.
    pub seed: Option<u64>,
    /// Training interactions.
    pub interactions: Option<u64>,
    /// What trained it ("cpu (2 threads)", "gpu NVIDIA …").
    pub device: Option<String>,
    /// The gramrec version that wrote it.
    pub version: Option<String>,
    /// One ID per training run, the same in both files of a model.
    pub run: Option<String>,
    /// Checkpoints: iterations done so far.
    pub completed_iterations: Option<usize>,
    /// Checkpoints: a checksum of the training data.
    pub data: Option<u32>,
    /// Any other `train.*` keys, kept as they are (written by other tools or versions).
    pub other: Vec<(String, String)>,
}

impl TrainingFacts {
    /// Every fact as (key, value) text, in a fixed order: what the file stores
    /// and `inspect` shows.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push((k.to_string(), v));
            }
        };
        put("iterations", self.iterations.map(|v| v.to_string()));
        put("solver", self.solver.map(|s| s.solver.to_string()));
        put("cg_steps", self.solver.map(|s| s.cg_steps.to_string()));
        put("seed", self.seed.map(|v| v.to_string()));
        put("interactions", self.interactions.map(|v| v.to_string()));
        put("device", self.device.clone());
        put("gramrec", self.version.clone());
        put("run", self.run.clone());
        put("completed_iterations", self.completed_iterations.map(|v| v.to_string()));
        put("data", self.data.map(|v| format!("{v:08x}")));
        out.extend(self.other.iter().cloned());
        out
    }

    /// The facts from (key, value) text, as [`pairs`](Self::pairs) writes them.
    fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, FormatError> {
        let mut facts = TrainingFacts::default();
        let (mut solver, mut cg_steps) = (None, None);
        for &(k, v) in pairs {
            let key = format!("train.{k}");
            match k {
                "iterations" => facts.iterations = Some(parse(&key, v)?),
                "solver" => solver = Some(parse(&key, v)?),
                "cg_steps" => cg_steps = Some(parse(&key, v)?),
                "seed" => facts.seed = Some(parse(&key, v)?),
                "interactions" => facts.interactions = Some(parse(&key, v)?),
                "device" => facts.device = Some(v.to_string()),
                "gramrec" => facts.version = Some(v.to_string()),
                "run" => facts.run = Some(v.to_string()),
                "completed_iterations" => facts.completed_iterations = Some(parse(&key, v)?),
                "data" => {
                    facts.data = Some(u32::from_str_radix(v, 16).map_err(|_| invalid_value(&key, v))?);
                }
                _ => facts.other.push((k.to_string(), v.to_string())),
            }
        }
        facts.solver = solver.map(|solver| SolverOptions { solver, cg_steps: cg_steps.unwrap_or(0) });
        Ok(facts)
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
}

/// Why bytes are not a usable factor file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    /// The magic bytes are wrong.
    #[error("not a gramrec factor file (bad magic bytes)")]
    NotAFactorFile,
    /// Written by a newer gramrec.
    #[error("factor file version {found} is newer than this gramrec supports ({supported}); upgrade gramrec")]
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
}

fn corrupt(msg: impl Into<String>) -> FormatError {
    FormatError::Corrupt(msg.into())
}

fn pad_to(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// Section tag: the metadata text.
pub const TAG_META: [u8; 4] = *b"META";
/// Section tag: the row IDs.
pub const TAG_IDS: [u8; 4] = *b"IDS\0";
/// Section tag: the factors.
pub const TAG_FACTORS: [u8; 4] = *b"FACT";
/// Section tag: the rows' biases.
pub const TAG_BIASES: [u8; 4] = *b"BIAS";
/// Section tag: YᵀY.
pub const TAG_GRAM: [u8; 4] = *b"GRAM";
/// Section tag: training interactions per row.
pub const TAG_POPULARITY: [u8; 4] = *b"POPU";
/// Section tag: the end of the file.
pub const TAG_END: [u8; 4] = *b"END\0";

fn tag_name(tag: [u8; 4]) -> String {
    String::from_utf8_lossy(&tag).trim_end_matches('\0').to_string()
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

    /// Serialises the file. Fails only on I/O errors, or (as
    /// `InvalidInput`) when the content is inconsistent or not finite, so a
    /// broken model never reaches the disk.
    pub fn write_to(&self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        self.validate().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let mut sections: Vec<([u8; 4], Vec<u8>)> = vec![
            (TAG_META, self.meta.encode(self.rows()).into_bytes()),
            (TAG_IDS, encode_ids(&self.ids)),
            (TAG_FACTORS, encode_factors(&self.factors, self.rows(), self.factors_per_row())),
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
        sections.push((TAG_END, Vec::new()));
        write_frame(out, &sections)
    }

    /// The serialised file.
    pub fn to_bytes(&self) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        self.write_to(&mut v)?;
        Ok(v)
    }

    /// Parses and validates a factor file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.len() < 8 || bytes[..8] != MAGIC {
            return Err(FormatError::NotAFactorFile);
        }
        if bytes.len() < HEADER_LEN {
            return Err(FormatError::Truncated { expected: HEADER_LEN as u64, actual: bytes.len() as u64 });
        }
        let header = &bytes[..HEADER_LEN];
        if u32_at(header, 28) != crc32fast::hash(&header[..28]) {
            return Err(FormatError::Checksum("the file header".into()));
        }
        let version = u32_at(header, 8);
        if version > VERSION || version == 0 {
            return Err(FormatError::UnsupportedVersion { found: version, supported: VERSION });
        }
        let total = u64_at(header, 16);
        if total != bytes.len() as u64 {
            return Err(FormatError::Truncated { expected: total, actual: bytes.len() as u64 });
        }
        if u32_at(header, 12) != 0 || header[32..].iter().any(|&b| b != 0) {
            return Err(corrupt("reserved header bytes are not zero"));
        }
        let count = u32_at(header, 24) as usize;

        let mut pos = HEADER_LEN;
        let mut found: Vec<([u8; 4], &[u8])> = Vec::new();
        for i in 0..count {
            let sh = bytes.get(pos..pos + ALIGN).ok_or_else(|| corrupt(format!("section {i} starts past the end")))?;
            if u32_at(sh, 20) != crc32fast::hash(&sh[..20]) {
                return Err(FormatError::Checksum(format!("the header of section {i}")));
            }
            let tag: [u8; 4] = sh[..4].try_into().expect("4 bytes");
            if u32_at(sh, 4) != 0 || sh[24..].iter().any(|&b| b != 0) {
                return Err(corrupt(format!("reserved bytes of section {} are not zero", tag_name(tag))));
            }
            let len = usize::try_from(u64_at(sh, 8)).map_err(|_| corrupt("section length overflows"))?;
            let start = pos + ALIGN;
            let end = start.checked_add(len).filter(|&e| e <= bytes.len());
            let end = end.ok_or_else(|| corrupt(format!("section {} runs past the end of the file", tag_name(tag))))?;
            let payload = &bytes[start..end];
            if u32_at(sh, 16) != crc32fast::hash(payload) {
                return Err(FormatError::Checksum(format!("section {}", tag_name(tag))));
            }
            let next = start + pad_to(len);
            if bytes.get(end..next).is_none_or(|p| p.iter().any(|&b| b != 0)) {
                return Err(corrupt(format!("padding after section {} is damaged", tag_name(tag))));
            }
            if found.iter().any(|(t, _)| *t == tag) {
                return Err(corrupt(format!("section {} appears twice", tag_name(tag))));
            }
            found.push((tag, payload));
            pos = next;
            if tag == TAG_END {
                if i + 1 != count || pos != bytes.len() {
                    return Err(corrupt("data after the END section"));
                }
                break;
            }
        }
        if found.last().map(|(t, _)| *t) != Some(TAG_END) {
            return Err(FormatError::MissingSection("END"));
        }
        let get = |tag: [u8; 4]| found.iter().find(|(t, _)| *t == tag).map(|(_, p)| *p);
        let need = |tag: [u8; 4], name: &'static str| get(tag).ok_or(FormatError::MissingSection(name));

        let (meta, rows) = Metadata::decode(need(TAG_META, "META")?)?;
        let f = meta.params.factors;
        let ids = decode_ids(need(TAG_IDS, "IDS")?)?;
        let factors = decode_factors(need(TAG_FACTORS, "FACT")?, rows, f)?;
        let file = FactorFile {
            ids,
            factors,
            biases: get(TAG_BIASES).map(|p| f32s(p, "BIAS")).transpose()?,
            gram: get(TAG_GRAM).map(|p| f32s(p, "GRAM")).transpose()?,
            popularity: get(TAG_POPULARITY).map(|p| u32s(p, "POPU")).transpose()?,
            meta,
        };
        if file.rows() != rows {
            return Err(corrupt(format!("metadata says {rows} rows but there are {} IDs", file.rows())));
        }
        file.validate()?;
        Ok(file)
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
            Factors::I8 { scales, .. } => finite(scales, "the i8 scales")?,
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
        if m.params.uses_biases() && self.biases.is_none() {
            return Err(FormatError::MissingSection("BIAS"));
        }
        if m.side == Side::Items && m.params.kind == ModelKind::Implicit && self.gram.is_none() {
            return Err(FormatError::MissingSection("GRAM"));
        }
        Ok(())
    }
}

/// Writes a file of these sections (the last one `END`) with a valid header,
/// checksums and padding, whatever the payloads hold.
fn write_frame(out: &mut (impl Write + ?Sized), sections: &[([u8; 4], Vec<u8>)]) -> io::Result<()> {
    let total = HEADER_LEN + sections.iter().map(|(_, p)| ALIGN + pad_to(p.len())).sum::<usize>();
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(&MAGIC);
    header[8..12].copy_from_slice(&VERSION.to_le_bytes());
    header[16..24].copy_from_slice(&(total as u64).to_le_bytes());
    header[24..28].copy_from_slice(&(sections.len() as u32).to_le_bytes());
    let crc = crc32fast::hash(&header[..28]);
    header[28..32].copy_from_slice(&crc.to_le_bytes());
    out.write_all(&header)?;
    for (tag, payload) in sections {
        let mut sh = [0u8; ALIGN];
        sh[..4].copy_from_slice(tag);
        sh[8..16].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        sh[16..20].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
        let hcrc = crc32fast::hash(&sh[..20]);
        sh[20..24].copy_from_slice(&hcrc.to_le_bytes());
        out.write_all(&sh)?;
        out.write_all(payload)?;
        out.write_all(&[0u8; ALIGN][..pad_to(payload.len()) - payload.len()])?;
    }
    Ok(())
}

/// A file of these (tag, payload) sections, framed with a valid header,
/// checksums and padding and ended by an `END` section, whatever the
/// payloads hold: for tools and the fuzz target that build files section by
/// section (the `TAG_*` constants name the sections).
pub fn frame(sections: &[([u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut all = sections.to_vec();
    if all.last().map(|(t, _)| *t) != Some(TAG_END) {
        all.push((TAG_END, Vec::new()));
    }
    let mut out = Vec::new();
    write_frame(&mut out, &all).expect("writing to memory");
    out
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
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

fn encode_ids(ids: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(ids.len() as u64).to_le_bytes());
    let mut off = 0u64;
    out.extend_from_slice(&off.to_le_bytes());
    for id in ids {
        off += id.len() as u64;
        out.extend_from_slice(&off.to_le_bytes());
    }
    for id in ids {
        out.extend_from_slice(id.as_bytes());
    }
    out
}

fn decode_ids(p: &[u8]) -> Result<Vec<String>, FormatError> {
    let bad = || corrupt("the ID section is malformed");
    let count = usize::try_from(u64_at(p.get(..8).ok_or_else(bad)?, 0)).map_err(|_| bad())?;
    let table_end =
        count.checked_add(1).and_then(|n| n.checked_mul(8)).and_then(|n| n.checked_add(8)).ok_or_else(bad)?;
    let table = p.get(8..table_end).ok_or_else(bad)?;
    let text = &p[table_end..];
    let mut ids = Vec::with_capacity(count);
    let mut prev = u64_at(table, 0);
    if prev != 0 {
        return Err(bad());
    }
    for i in 1..=count {
        let next = u64_at(table, i * 8);
        let s = text.get(prev as usize..next as usize).filter(|_| next >= prev).ok_or_else(bad)?;
        ids.push(std::str::from_utf8(s).map_err(|_| corrupt("an ID is not valid UTF-8"))?.to_string());
        prev = next;
    }
    if prev as usize != text.len() {
        return Err(bad());
    }
    Ok(ids)
}

fn dtype_code(d: Dtype) -> u32 {
    match d {
        Dtype::F32 => 0,
        Dtype::F16 => 1,
        Dtype::I8 => 2,
    }
}

fn encode_factors(f: &Factors, rows: usize, cols: usize) -> Vec<u8> {
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

fn decode_factors(p: &[u8], rows: usize, cols: usize) -> Result<Factors, FormatError> {
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
        0 => Factors::F32(bytemuck::pod_collect_to_vec(sized(n.checked_mul(4).ok_or_else(|| corrupt("overflow"))?)?)),
        1 => Factors::F16(bytemuck::pod_collect_to_vec(sized(n.checked_mul(2).ok_or_else(|| corrupt("overflow"))?)?)),
        2 => {
            let scale_bytes = pad_to(rows.checked_mul(4).ok_or_else(|| corrupt("overflow"))?);
            let all = sized(scale_bytes.checked_add(n).ok_or_else(|| corrupt("overflow"))?)?;
            if all[rows * 4..scale_bytes].iter().any(|&b| b != 0) {
                return Err(corrupt("padding after the i8 scales is damaged"));
            }
            Factors::I8 {
                scales: bytemuck::pod_collect_to_vec(&all[..rows * 4]),
                values: bytemuck::cast_slice(&all[scale_bytes..]).to_vec(),
            }
        }
        other => return Err(corrupt(format!("unknown factor storage type {other}"))),
    })
}

impl Metadata {
    fn encode(&self, rows: usize) -> String {
        let p = &self.params;
        let mut s = String::new();
        let mut kv = |k: &str, v: &dyn std::fmt::Display| s.push_str(&format!("{k}={v}\n"));
        kv("side", &self.side.name());
        kv("kind", &p.kind);
        kv("rows", &rows);
        kv("factors", &p.factors);
        kv("reg", &p.reg);
        kv("reg_scaling", &p.reg_scaling);
        kv("alpha", &p.alpha);
        kv("confidence", &p.confidence);
        kv("epsilon", &p.epsilon);
        kv("biases", &p.biases);
        kv("global_mean", &self.global_mean);
        kv("rating_min", &self.rating_min);
        kv("rating_max", &self.rating_max);
        for (k, v) in self.training.pairs() {
            kv(&format!("train.{}", k.replace(['=', '\n'], "_")), &v.replace('\n', " "));
        }
        s
    }

    fn decode(p: &[u8]) -> Result<(Self, usize), FormatError> {
        let text = std::str::from_utf8(p).map_err(|_| corrupt("metadata is not UTF-8"))?;
        let mut pairs = Vec::new();
        for line in text.lines() {
            let (k, v) =
                line.split_once('=').ok_or_else(|| corrupt(format!("metadata line without '=': {line:.40}")))?;
            pairs.push((k, v));
        }
        let get = |key: &str| -> Result<&str, FormatError> {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .ok_or_else(|| corrupt(format!("metadata has no '{key}'")))
        };
        let side = match get("side")? {
            "users" => Side::Users,
            "items" => Side::Items,
            other => return Err(invalid_value("side", other)),
        };
        let params = ModelParams {
            kind: parse("kind", get("kind")?)?,
            factors: parse("factors", get("factors")?)?,
            reg: parse("reg", get("reg")?)?,
            reg_scaling: parse("reg_scaling", get("reg_scaling")?)?,
            alpha: parse("alpha", get("alpha")?)?,
            confidence: parse("confidence", get("confidence")?)?,
            epsilon: parse("epsilon", get("epsilon")?)?,
            biases: parse("biases", get("biases")?)?,
        };
        let training: Vec<(&str, &str)> =
            pairs.iter().filter_map(|(k, v)| k.strip_prefix("train.").map(|k| (k, *v))).collect();
        let meta = Metadata {
            side,
            params,
            global_mean: parse("global_mean", get("global_mean")?)?,
            rating_min: parse("rating_min", get("rating_min")?)?,
            rating_max: parse("rating_max", get("rating_max")?)?,
            training: TrainingFacts::from_pairs(&training)?,
        };
        meta.check_limits()?;
        Ok((meta, parse("rows", get("rows")?)?))
    }
}

impl Metadata {
    /// Checks every field against the format's limits (docs/FORMAT.md), so
    /// that nothing is sized or computed from a value no writer produces.
    fn check_limits(&self) -> Result<(), FormatError> {
        let p = &self.params;
        let bad = |what: String| Err(corrupt(what));
        if p.factors == 0 || p.factors > MAX_FACTORS {
            return bad(format!("metadata 'factors' is {}, outside 1..={MAX_FACTORS}", p.factors));
        }
        if !(p.reg >= 0.0 && p.reg.is_finite() && p.alpha >= 0.0 && p.alpha.is_finite()) {
            return bad("metadata 'reg' and 'alpha' must be finite and ≥ 0".into());
        }
        if !(p.epsilon > 0.0 && p.epsilon.is_finite()) {
            return bad("metadata 'epsilon' must be finite and > 0".into());
        }
        if !self.global_mean.is_finite() {
            return bad("metadata 'global_mean' is not finite".into());
        }
        if !(self.rating_min.is_finite() && self.rating_max.is_finite() && self.rating_min <= self.rating_max) {
            return bad(format!(
                "metadata 'rating_min' {} and 'rating_max' {} are not a range",
                self.rating_min, self.rating_max
            ));
        }
        Ok(())
    }
}

fn invalid_value(key: &str, v: &str) -> FormatError {
    corrupt(format!("metadata '{key}' has an invalid value '{}'", crate::text::excerpt(v, 40)))
}

/// A metadata value of any type that parses from text.
fn parse<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, FormatError> {
    v.parse().map_err(|_| invalid_value(key, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{Confidence, RegScaling};

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
    fn every_truncation_is_an_error() {
        let bytes = sample(Side::Items, ModelKind::Explicit, Dtype::I8).to_bytes().unwrap();
        for len in 0..bytes.len() {
            assert!(FactorFile::from_bytes(&bytes[..len]).is_err(), "truncated to {len} bytes was accepted");
        }
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        for dtype in [Dtype::F32, Dtype::I8] {
            let bytes = sample(Side::Items, ModelKind::Implicit, dtype).to_bytes().unwrap();
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
        bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
        let crc = crc32fast::hash(&bytes[..28]);
        bytes[28..32].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(FactorFile::from_bytes(&bytes), Err(FormatError::UnsupportedVersion { found: 2, supported: 1 }));
        assert_eq!(FactorFile::from_bytes(b"\x89PNG\r\n\x1a\n0000"), Err(FormatError::NotAFactorFile));
        assert_eq!(FactorFile::from_bytes(b""), Err(FormatError::NotAFactorFile));
    }

    /// A file with valid checksums whose metadata says `key=value`.
    fn with_meta(file: &FactorFile, key: &str, value: &str) -> Vec<u8> {
        let bytes = file.to_bytes().unwrap();
        let text = file.meta.encode(file.rows());
        let changed: String = text
            .lines()
            .map(|l| if l.split('=').next() == Some(key) { format!("{key}={value}\n") } else { format!("{l}\n") })
            .collect();
        let mut sections = vec![(TAG_META, changed.into_bytes())];
        let mut pos = HEADER_LEN;
        loop {
            let sh = &bytes[pos..pos + ALIGN];
            let tag: [u8; 4] = sh[..4].try_into().unwrap();
            let len = u64_at(sh, 8) as usize;
            if tag != TAG_META {
                sections.push((tag, bytes[pos + ALIGN..pos + ALIGN + len].to_vec()));
            }
            pos += ALIGN + pad_to(len);
            if tag == TAG_END {
                return frame(&sections);
            }
        }
    }

    #[test]
    fn crafted_headers_with_valid_checksums_are_refused() {
        let file = sample(Side::Items, ModelKind::Explicit, Dtype::F32);
        assert!(FactorFile::from_bytes(&with_meta(&file, "iterations", "15")).is_ok(), "the helper keeps files valid");
        for (key, value, why) in [
            ("rating_min", "9", "not a range"),
            ("factors", "200000", "outside 1..=1024"),
            ("factors", "0", "outside 1..=1024"),
            ("epsilon", "0", "epsilon"),
            ("reg", "-1", "reg"),
            ("global_mean", "inf", "global_mean"),
        ] {
            let e = FactorFile::from_bytes(&with_meta(&file, key, value)).unwrap_err().to_string();
            assert!(e.contains(why), "{key}={value}: {e}");
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
    use crate::params::RegScaling;

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
        }
    }
}
