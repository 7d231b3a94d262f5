//! The frame of a factor file: the file header, the section headers with
//! their checksums and padding, and how each section's payload is stored
//! (as it is, or deflated). Everything inside a payload belongs to the other
//! modules of `format`.

use std::borrow::Cow;
use std::io::{self, Write};

use super::{corrupt, FormatError, ALIGN, MAGIC, TAG_END, TAG_FACTORS, TAG_GRAM, TAG_POPULARITY, VERSION};
use super::{TAG_BIASES, TAG_META, TAG_SEEN_VALUES, VERSION_1};

/// Bytes of the file header and of each section header.
pub(super) const HEADER_LEN: usize = 64;

/// Deflate's largest expansion (258 bytes out of 2 bits): a deflated section
/// that claims more than this many times its stored bytes is damaged.
const MAX_EXPANSION: usize = 1032;

/// Sections of 4-byte numbers: stored byte-shuffled (every value's first
/// bytes, then every second byte, …) before deflate, which groups the
/// mostly-zero high bytes of counts and the exponents of floats.
const FOUR_BYTE_SECTIONS: [[u8; 4]; 4] = [TAG_POPULARITY, TAG_BIASES, TAG_GRAM, TAG_SEEN_VALUES];

/// A section as tools see it: its tag and its (decoded) payload.
pub type Section = ([u8; 4], Vec<u8>);

/// A section read from a file: its tag and its payload, borrowed from the
/// file when stored as it is.
pub(super) type ReadSection<'a> = ([u8; 4], Cow<'a, [u8]>);

/// A section as it will be written.
struct ToWrite<'a> {
    tag: [u8; 4],
    how: Stored,
    bytes: Cow<'a, [u8]>,
    decoded: usize,
}

/// How a section's payload is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// As it is (always the factors, so they can be read in place).
    Raw = 0,
    /// A raw DEFLATE stream (RFC 1951).
    Deflate = 1,
    /// Byte-shuffled by 4, then deflated.
    ShuffledDeflate = 2,
}

pub(super) fn pad_to(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

pub(super) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

pub(super) fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

pub(super) fn tag_name(tag: [u8; 4]) -> String {
    String::from_utf8_lossy(&tag).trim_end_matches('\0').to_string()
}

fn shuffle(p: &[u8]) -> Vec<u8> {
    (0..4).flat_map(|lane| p.iter().skip(lane).step_by(4).copied()).collect()
}

fn unshuffle(p: &[u8]) -> Vec<u8> {
    let n = p.len() / 4;
    let mut out = vec![0u8; p.len()];
    for (lane, bytes) in p.chunks_exact(n.max(1)).enumerate().take(4) {
        for (i, &b) in bytes.iter().enumerate() {
            out[i * 4 + lane] = b;
        }
    }
    out
}

/// miniz's compression level for the deflated sections.
const DEFLATE_LEVEL: u8 = 1;

/// The smallest way to store a section's payload: the factors (to be read
/// in place) and the metadata (to be read by eye) always as they are;
/// other sections deflated when that saves space.
fn store(tag: [u8; 4], payload: &[u8]) -> (Stored, Cow<'_, [u8]>) {
    if tag == TAG_FACTORS || tag == TAG_META || payload.len() < ALIGN {
        return (Stored::Raw, Cow::Borrowed(payload));
    }
    let mut best = (Stored::Raw, Cow::Borrowed(payload));
    let mut consider = |how: Stored, bytes: Vec<u8>| {
        if bytes.len() < best.1.len() {
            best = (how, Cow::Owned(bytes));
        }
    };
    consider(Stored::Deflate, miniz_oxide::deflate::compress_to_vec(payload, DEFLATE_LEVEL));
    if FOUR_BYTE_SECTIONS.contains(&tag) && payload.len().is_multiple_of(4) {
        consider(Stored::ShuffledDeflate, miniz_oxide::deflate::compress_to_vec(&shuffle(payload), DEFLATE_LEVEL));
    }
    best
}

/// A section header's checksum: of bytes 0..20 in version 1, of bytes
/// 0..20 and 24..32 (the decoded length) from version 2.
fn header_crc(sh: &[u8], version: u32) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&sh[..20]);
    if version > VERSION_1 {
        h.update(&sh[24..32]);
    }
    h.finalize()
}

/// What a framed file is: its magic bytes and the newest version read.
/// Factor files and rules files share the frame (the version 2 layout).
#[derive(Debug, Clone, Copy)]
pub(super) struct FileKind {
    pub magic: [u8; 8],
    pub version: u32,
}

/// Factor files.
pub(super) const FACTOR_FILE: FileKind = FileKind { magic: MAGIC, version: VERSION };

/// Writes a file of these sections (the last one `END`) with a valid header,
/// checksums and padding, whatever the payloads hold.
pub(super) fn write_frame(out: &mut (impl Write + ?Sized), sections: &[Section]) -> io::Result<()> {
    write_frame_as(out, FACTOR_FILE, sections)
}

/// [`write_frame`] for a file of `kind`.
pub(super) fn write_frame_as(out: &mut (impl Write + ?Sized), kind: FileKind, sections: &[Section]) -> io::Result<()> {
    let stored: Vec<ToWrite<'_>> = sections
        .iter()
        .map(|(tag, p)| {
            let (how, bytes) = store(*tag, p);
            ToWrite { tag: *tag, how, bytes, decoded: p.len() }
        })
        .collect();
    let total = HEADER_LEN + stored.iter().map(|s| ALIGN + pad_to(s.bytes.len())).sum::<usize>();
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(&kind.magic);
    header[8..12].copy_from_slice(&kind.version.to_le_bytes());
    header[16..24].copy_from_slice(&(total as u64).to_le_bytes());
    header[24..28].copy_from_slice(&(sections.len() as u32).to_le_bytes());
    let crc = crc32fast::hash(&header[..28]);
    header[28..32].copy_from_slice(&crc.to_le_bytes());
    out.write_all(&header)?;
    for ToWrite { tag, how, bytes: payload, decoded } in &stored {
        let mut sh = [0u8; ALIGN];
        sh[..4].copy_from_slice(tag);
        sh[4..8].copy_from_slice(&(*how as u32).to_le_bytes());
        sh[8..16].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        sh[16..20].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
        if *how != Stored::Raw {
            sh[24..32].copy_from_slice(&(*decoded as u64).to_le_bytes());
        }
        let hcrc = header_crc(&sh, VERSION); // the version 2 layout
        sh[20..24].copy_from_slice(&hcrc.to_le_bytes());
        out.write_all(&sh)?;
        out.write_all(payload)?;
        out.write_all(&[0u8; ALIGN][..pad_to(payload.len()) - payload.len()])?;
    }
    Ok(())
}

/// A file of these (tag, payload) sections, framed as the writer frames
/// them (header, checksums, padding, each payload stored the way it would
/// be) and ended by an `END` section, whatever the payloads hold: for tools
/// and the fuzz target that build files section by section (the `TAG_*`
/// constants name the sections).
pub fn frame(sections: &[Section]) -> Vec<u8> {
    let mut all = sections.to_vec();
    if all.last().map(|(t, _)| *t) != Some(TAG_END) {
        all.push((TAG_END, Vec::new()));
    }
    let mut out = Vec::new();
    write_frame(&mut out, &all).expect("writing to memory");
    out
}

/// The sections of a file as (tag, payload) pairs, payloads decoded, after
/// the frame's checks (not the sections' content): what [`frame`] takes,
/// for tools that change one section of a file.
pub fn sections(bytes: &[u8]) -> Result<Vec<Section>, FormatError> {
    Ok(read_frame(bytes)?.1.into_iter().map(|(t, p)| (t, p.into_owned())).collect())
}

/// The sections of a file, checked (header, checksums, padding, no tag
/// twice, `END` last) and decoded to their payloads, with the version.
pub(super) fn read_frame(bytes: &[u8]) -> Result<(u32, Vec<ReadSection<'_>>), FormatError> {
    read_frame_as(bytes, FACTOR_FILE)
}

/// [`read_frame`] for a file of `kind`: [`FormatError::NotAFactorFile`] when
/// the magic bytes are not `kind`'s (callers name their kind).
pub(super) fn read_frame_as(bytes: &[u8], kind: FileKind) -> Result<(u32, Vec<ReadSection<'_>>), FormatError> {
    if bytes.len() < 8 || bytes[..8] != kind.magic {
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
    if version > kind.version || version == 0 {
        return Err(FormatError::UnsupportedVersion { found: version, supported: kind.version });
    }
    // Only factor files had a version 1 layout; every other kind uses version 2's.
    let layout = if kind.magic == MAGIC { version } else { VERSION };
    let total = u64_at(header, 16);
    if total != bytes.len() as u64 {
        return Err(FormatError::Truncated { expected: total, actual: bytes.len() as u64 });
    }
    if u32_at(header, 12) != 0 || header[32..].iter().any(|&b| b != 0) {
        return Err(corrupt("reserved header bytes are not zero"));
    }
    let count = u32_at(header, 24) as usize;

    let mut pos = HEADER_LEN;
    let mut found: Vec<ReadSection<'_>> = Vec::new();
    for i in 0..count {
        let sh = bytes.get(pos..pos + ALIGN).ok_or_else(|| corrupt(format!("section {i} starts past the end")))?;
        if u32_at(sh, 20) != header_crc(sh, layout) {
            return Err(FormatError::Checksum(format!("the header of section {i}")));
        }
        let tag: [u8; 4] = sh[..4].try_into().expect("4 bytes");
        let name = || tag_name(tag);
        let reserved = if layout == VERSION_1 { &sh[24..] } else { &sh[32..] };
        if reserved.iter().any(|&b| b != 0) || (layout == VERSION_1 && u32_at(sh, 4) != 0) {
            return Err(corrupt(format!("reserved bytes of section {} are not zero", name())));
        }
        let len = usize::try_from(u64_at(sh, 8)).map_err(|_| corrupt("section length overflows"))?;
        let start = pos + ALIGN;
        let end = start.checked_add(len).filter(|&e| e <= bytes.len());
        let end = end.ok_or_else(|| corrupt(format!("section {} runs past the end of the file", name())))?;
        let payload = &bytes[start..end];
        if u32_at(sh, 16) != crc32fast::hash(payload) {
            return Err(FormatError::Checksum(format!("section {}", name())));
        }
        let next = start + pad_to(len);
        if bytes.get(end..next).is_none_or(|p| p.iter().any(|&b| b != 0)) {
            return Err(corrupt(format!("padding after section {} is damaged", name())));
        }
        if found.iter().any(|(t, _)| *t == tag) {
            return Err(corrupt(format!("section {} appears twice", name())));
        }
        let decoded = usize::try_from(u64_at(sh, 24)).map_err(|_| corrupt("section length overflows"))?;
        found.push((tag, unstore(tag, u32_at(sh, 4), payload, decoded)?));
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
    Ok((version, found))
}

/// A section's payload from its stored bytes.
fn unstore(tag: [u8; 4], how: u32, stored: &[u8], decoded: usize) -> Result<Cow<'_, [u8]>, FormatError> {
    let name = tag_name(tag);
    if how == Stored::Raw as u32 {
        return if decoded == 0 {
            Ok(Cow::Borrowed(stored))
        } else {
            Err(corrupt(format!("section {name} is stored as it is but gives a decoded length")))
        };
    }
    if how != Stored::Deflate as u32 && how != Stored::ShuffledDeflate as u32 {
        return Err(corrupt(format!("section {name} is stored in an unknown way ({how})")));
    }
    if tag == TAG_FACTORS || tag == TAG_META {
        return Err(corrupt(format!("section {name} is compressed (it must be stored as it is)")));
    }
    if decoded > stored.len().saturating_mul(MAX_EXPANSION) {
        return Err(corrupt(format!("section {name} claims to expand to more than deflate can")));
    }
    let bad = || corrupt(format!("section {name} does not decompress to its stated length"));
    let out = miniz_oxide::inflate::decompress_to_vec_with_limit(stored, decoded).map_err(|_| bad())?;
    if out.len() != decoded {
        return Err(bad());
    }
    if how == Stored::ShuffledDeflate as u32 {
        if !decoded.is_multiple_of(4) {
            return Err(bad());
        }
        return Ok(Cow::Owned(unshuffle(&out)));
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffling_round_trips() {
        for n in [0usize, 4, 8, 400, 1204] {
            let p: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
            assert_eq!(unshuffle(&shuffle(&p)), p, "{n}");
        }
    }

    #[test]
    fn counts_are_stored_shuffled_and_small() {
        let counts: Vec<u8> = (0..10_000u32).flat_map(|i| (10_000 - i).to_le_bytes()).collect();
        let (how, bytes) = store(TAG_POPULARITY, &counts);
        assert_eq!(how, Stored::ShuffledDeflate);
        assert!(bytes.len() * 20 < counts.len(), "{} bytes for {}", bytes.len(), counts.len());
        let (how, _) = store(TAG_FACTORS, &counts);
        assert_eq!(how, Stored::Raw, "factors stay readable in place");
    }

    #[test]
    fn compressed_factors_or_metadata_are_refused() {
        for tag in [TAG_FACTORS, TAG_META] {
            // A deflated section, renamed and its header checksum made right.
            let mut bytes = frame(&[(super::super::TAG_IDS_V2, vec![7u8; 4096])]);
            let sh = HEADER_LEN;
            assert_eq!(u32_at(&bytes, sh + 4), Stored::Deflate as u32);
            bytes[sh..sh + 4].copy_from_slice(&tag);
            let crc = header_crc(&bytes[sh..sh + ALIGN], VERSION);
            bytes[sh + 20..sh + 24].copy_from_slice(&crc.to_le_bytes());
            let e = read_frame(&bytes).unwrap_err().to_string();
            assert!(e.contains("is compressed (it must be stored as it is)"), "{e}");
        }
    }

    #[test]
    fn incompressible_payloads_are_stored_as_they_are() {
        let mut x = 1u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert_eq!(store(super::super::TAG_IDS_V2, &noise).0, Stored::Raw);
    }
}
