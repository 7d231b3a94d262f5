//! The page headers of a Parquet column chunk, read before the decoder
//! sees them: arrow-rs allocates (and, for snappy, zeroes) each page's
//! declared uncompressed size before decompressing it, so a 1 KB file
//! declaring a 2 GiB page took 2 GB of memory. Each header is read with a
//! minimal Thrift compact-protocol reader (the fields needed, the rest
//! skipped), and its sizes are checked against the chunk and a limit.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

/// The largest uncompressed page read. Writers cut pages at about 1 MiB
/// (Spark, arrow, pandas), dictionaries fall back to plain at 1 MiB, and IDs
/// are at most 4 KiB: a larger page is damaged or hostile.
pub const MAX_PAGE_BYTES: i64 = 256 << 20;

/// Checks every page header of the column chunk at bytes
/// `start..start + size` of `file`: each page lies inside the chunk and
/// declares at most [`MAX_PAGE_BYTES`] uncompressed.
pub fn check_chunk(file: &std::fs::File, start: u64, size: u64) -> Result<(), String> {
    let end = start.saturating_add(size);
    let mut reader = BufReader::with_capacity(8 << 10, file);
    let mut at = start;
    let mut dictionary = false;
    while at < end {
        reader.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
        let mut counted = Counted { inner: &mut reader, read: 0 };
        let header = page_header(&mut counted).map_err(|e| format!("page at byte {at}: unreadable header ({e})"))?;
        let Header { kind, uncompressed, compressed, encoding } = header;
        if kind == DICTIONARY_PAGE {
            dictionary = true;
        } else if encoding.is_some_and(|e| e == PLAIN_DICTIONARY || e == RLE_DICTIONARY) && !dictionary {
            return Err(format!("page at byte {at} is dictionary-encoded, but no dictionary page comes before it"));
        }
        if !(0..=MAX_PAGE_BYTES).contains(&uncompressed) || compressed < 0 {
            return Err(format!(
                "page at byte {at} declares {uncompressed} bytes uncompressed ({compressed} compressed), \
                 more than the {} MiB a page may hold",
                MAX_PAGE_BYTES >> 20
            ));
        }
        at = at.saturating_add(counted.read).saturating_add(compressed as u64);
        if at > end {
            return Err(format!("a page runs past its column chunk's end (byte {end})"));
        }
    }
    Ok(())
}

/// A reader that counts the bytes taken.
struct Counted<'a, R> {
    inner: &'a mut R,
    read: u64,
}

impl<R: BufRead> Counted<'_, R> {
    fn byte(&mut self) -> std::io::Result<u8> {
        let mut b = [0u8];
        self.inner.read_exact(&mut b)?;
        self.read += 1;
        Ok(b[0])
    }

    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        let skipped = std::io::copy(&mut (&mut *self.inner).take(n), &mut std::io::sink())?;
        self.read += skipped;
        if skipped < n {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    fn varint(&mut self) -> std::io::Result<u64> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(std::io::Error::other("a varint longer than 10 bytes"))
    }

    fn zigzag(&mut self) -> std::io::Result<i64> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }
}

/// PageType.DICTIONARY_PAGE.
const DICTIONARY_PAGE: i64 = 2;
/// Encoding.PLAIN_DICTIONARY and RLE_DICTIONARY: values that are indices
/// into the chunk's dictionary page.
const PLAIN_DICTIONARY: i64 = 2;
const RLE_DICTIONARY: i64 = 8;

/// What a page header says that is checked.
struct Header {
    /// PageType.
    kind: i64,
    uncompressed: i64,
    compressed: i64,
    /// A data page's value encoding.
    encoding: Option<i64>,
}

/// Reads a PageHeader struct.
fn page_header<R: BufRead>(r: &mut Counted<'_, R>) -> std::io::Result<Header> {
    let (mut kind, mut uncompressed, mut compressed, mut encoding) = (None, None, None, None);
    let mut id = 0i64;
    loop {
        let head = r.byte()?;
        let field = head & 0x0f;
        if field == 0 {
            break;
        }
        id = match head >> 4 {
            0 => r.zigzag()?,
            delta => id + i64::from(delta),
        };
        match (id, field) {
            (1, 5) => kind = Some(r.zigzag()?),
            (2, 5) => uncompressed = Some(r.zigzag()?),
            (3, 5) => compressed = Some(r.zigzag()?),
            // DataPageHeader (its field 2) and DataPageHeaderV2 (its field 4) hold the encoding.
            (5, 12) => encoding = struct_i32(r, 2)?,
            (8, 12) => encoding = struct_i32(r, 4)?,
            _ => skip(r, field, 0)?,
        }
    }
    match (kind, uncompressed, compressed) {
        (Some(kind), Some(uncompressed), Some(compressed)) => Ok(Header { kind, uncompressed, compressed, encoding }),
        _ => Err(std::io::Error::other("no page type or sizes")),
    }
}

/// Reads a struct, returning its i32 field `wanted` (if present).
fn struct_i32<R: BufRead>(r: &mut Counted<'_, R>, wanted: i64) -> std::io::Result<Option<i64>> {
    let mut found = None;
    let mut id = 0i64;
    loop {
        let head = r.byte()?;
        let field = head & 0x0f;
        if field == 0 {
            return Ok(found);
        }
        id = match head >> 4 {
            0 => r.zigzag()?,
            delta => id + i64::from(delta),
        };
        match (id == wanted, field) {
            (true, 5) => found = Some(r.zigzag()?),
            _ => skip(r, field, 1)?,
        }
    }
}

/// Skips a value of compact-protocol type `kind` (nested `depth` deep).
fn skip<R: BufRead>(r: &mut Counted<'_, R>, kind: u8, depth: usize) -> std::io::Result<()> {
    if depth > 32 {
        return Err(std::io::Error::other("structures nested too deep"));
    }
    match kind {
        1 | 2 => Ok(()),
        3 => r.skip(1),
        4..=6 => r.varint().map(drop),
        7 => r.skip(8),
        8 => {
            let n = r.varint()?;
            r.skip(n)
        }
        9 | 10 => {
            let head = r.byte()?;
            let n = match head >> 4 {
                15 => r.varint()?,
                n => u64::from(n),
            };
            let elem = head & 0x0f;
            for _ in 0..n {
                element(r, elem, depth)?;
            }
            Ok(())
        }
        11 => {
            let n = r.varint()?;
            if n == 0 {
                return Ok(());
            }
            let types = r.byte()?;
            for _ in 0..n {
                element(r, types >> 4, depth)?;
                element(r, types & 0x0f, depth)?;
            }
            Ok(())
        }
        12 => loop {
            let head = r.byte()?;
            let kind = head & 0x0f;
            if kind == 0 {
                return Ok(());
            }
            if head >> 4 == 0 {
                r.zigzag()?;
            }
            skip(r, kind, depth + 1)?;
        },
        other => Err(std::io::Error::other(format!("unknown Thrift type {other}"))),
    }
}

/// Skips an element of a list, set or map, where a boolean takes a byte.
fn element<R: BufRead>(r: &mut Counted<'_, R>, kind: u8, depth: usize) -> std::io::Result<()> {
    match kind {
        1 | 2 => r.skip(1),
        _ => skip(r, kind, depth + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A compact-protocol varint.
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// A PageHeader: type, sizes, crc, a data page header holding a
    /// statistics struct with binary min/max and a list of booleans (what a
    /// reader must skip), then `body` bytes of page.
    fn page(uncompressed: i64, body: usize) -> Vec<u8> {
        typed_page(0, 0, uncompressed, body)
    }

    /// A page of PageType `kind` whose data page header names `encoding`.
    fn typed_page(kind: i64, encoding: i64, uncompressed: i64, body: usize) -> Vec<u8> {
        let zz = |v: i64| ((v << 1) ^ (v >> 63)) as u64;
        let mut h = Vec::new();
        for (id_delta, v) in [(1u8, kind), (1, uncompressed), (1, body as i64), (1, 12345)] {
            h.push((id_delta << 4) | 5);
            varint(zz(v), &mut h);
        }
        // Field 5: DataPageHeader { 1: num_values i32, 2: encoding i32, 5: statistics { 1: max binary, 2: min binary }, 8: list<bool> }
        h.push((1 << 4) | 12);
        h.push((1 << 4) | 5);
        varint(zz(4), &mut h);
        h.push((1 << 4) | 5);
        varint(zz(encoding), &mut h);
        h.push((3 << 4) | 12);
        h.extend([(1 << 4) | 8, 3, b'a', b'b', b'c', (1 << 4) | 8, 1, b'x', 0]);
        h.push((4 << 4) | 9);
        h.extend([(3 << 4) | 1, 1, 2, 1]);
        h.push((1 << 4) | 1); // a boolean field: its value is its type
        h.push(0);
        h.push(0);
        h.extend(std::iter::repeat_n(7u8, body));
        h
    }

    fn check(bytes: &[u8]) -> Result<(), String> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"PAR1").unwrap();
        f.write_all(bytes).unwrap();
        check_chunk(&f, 4, bytes.len() as u64)
    }

    #[test]
    fn pages_within_their_chunk_and_the_limit_pass() {
        let mut chunk = page(1000, 300);
        chunk.extend(page(MAX_PAGE_BYTES, 10));
        assert_eq!(check(&chunk), Ok(()));
    }

    #[test]
    fn dictionary_encoded_pages_need_a_dictionary_page_before_them() {
        let e = check(&typed_page(0, RLE_DICTIONARY, 100, 10)).unwrap_err();
        assert!(e.contains("no dictionary page comes before it"), "{e}");
        let mut chunk = typed_page(DICTIONARY_PAGE, 0, 50, 5);
        chunk.extend(typed_page(0, RLE_DICTIONARY, 100, 10));
        chunk.extend(typed_page(0, PLAIN_DICTIONARY, 100, 10));
        assert_eq!(check(&chunk), Ok(()));
    }

    #[test]
    fn a_page_declaring_more_than_the_limit_is_refused_before_decoding() {
        let e = check(&page(i64::from(i32::MAX), 20)).unwrap_err();
        assert!(e.contains("declares 2147483647 bytes uncompressed") && e.contains("256 MiB"), "{e}");
        assert!(check(&page(-1, 20)).unwrap_err().contains("declares -1"));
    }

    #[test]
    fn pages_past_the_chunk_or_broken_headers_are_refused() {
        let mut long = page(100, 50);
        long.truncate(long.len() - 10);
        assert!(check(&long).unwrap_err().contains("runs past"));
        let mut junk = vec![0x15, 0x04, 0x15];
        junk.extend([0x8e; 44]);
        junk.push(0x24);
        assert!(check(&junk).unwrap_err().contains("varint longer than 10 bytes"));
        assert!(check(&[0x15, 0x04, 0x00]).unwrap_err().contains("no page type or sizes"));
        assert!(check(&[0x1d]).unwrap_err().contains("unknown Thrift type"));
    }
}
