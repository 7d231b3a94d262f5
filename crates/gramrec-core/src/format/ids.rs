//! The row IDs: version 2's front-coded `IDS2` section, and version 1's
//! `IDS` (64-bit offsets and the concatenated text), which is still read.

use super::frame::u64_at;
use super::varint::{self, Reader};
use super::{corrupt, FormatError};

/// Version 2: u64 count, then for each ID in row order the length of the
/// prefix it shares with the previous ID (varint, bytes), the length of the
/// rest (varint) and the rest's bytes. Consecutive IDs such as `u1041`,
/// `u1042` cost 3 bytes; the frame deflates what remains repetitive.
pub(super) fn encode(ids: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + ids.iter().map(|s| s.len() / 2 + 2).sum::<usize>());
    out.extend_from_slice(&(ids.len() as u64).to_le_bytes());
    let mut prev: &[u8] = &[];
    for id in ids {
        let id = id.as_bytes();
        let shared = prev.iter().zip(id).take_while(|(a, b)| a == b).count();
        varint::put(&mut out, shared as u64);
        varint::put(&mut out, (id.len() - shared) as u64);
        out.extend_from_slice(&id[shared..]);
        prev = id;
    }
    out
}

/// Reads [`encode`]'s payload.
pub(super) fn decode(p: &[u8]) -> Result<Vec<String>, FormatError> {
    let bad = || corrupt("the ID section is malformed");
    let mut r = Reader::new(p);
    let count = r.u64().ok_or_else(bad)?;
    // Every ID takes at least two bytes: no count beyond that is believed.
    let count = usize::try_from(count).ok().filter(|&n| n <= r.remaining() / 2).ok_or_else(bad)?;
    let mut ids: Vec<String> = Vec::with_capacity(count);
    let mut buf: Vec<u8> = Vec::new();
    for _ in 0..count {
        let shared = r.len().ok_or_else(bad)?;
        let rest = r.len().ok_or_else(bad)?;
        if shared > buf.len() {
            return Err(bad());
        }
        buf.truncate(shared);
        buf.extend_from_slice(r.bytes(rest).ok_or_else(bad)?);
        ids.push(std::str::from_utf8(&buf).map_err(|_| corrupt("an ID is not valid UTF-8"))?.to_string());
    }
    if r.remaining() != 0 {
        return Err(bad());
    }
    Ok(ids)
}

/// Reads version 1's payload: u64 count n, u64 offsets[n + 1] into the
/// text (offsets[0] = 0), the UTF-8 bytes of all IDs.
pub(super) fn decode_v1(p: &[u8]) -> Result<Vec<String>, FormatError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_coding_round_trips_and_is_small_for_sequential_ids() {
        let ids: Vec<String> =
            ["", "a", "ab", "abc", "b", "bé", "béa", "", "x"].iter().map(|s| s.to_string()).collect();
        assert_eq!(decode(&encode(&ids)).unwrap(), ids);
        let seq: Vec<String> = (0..10_000).map(|i| format!("user{i}")).collect();
        let bytes = encode(&seq);
        assert_eq!(decode(&bytes).unwrap(), seq);
        assert!(bytes.len() < 8 + 10_000 * 4, "{} bytes", bytes.len());
    }

    #[test]
    fn a_shared_prefix_may_split_a_character_only_if_the_id_is_whole() {
        // "é" is two bytes; sharing one of them with a following "ê" is legal
        // front coding (the ID is checked whole), an ID cut inside it is not.
        let ids: Vec<String> = vec!["é".into(), "ê".into()];
        assert_eq!(decode(&encode(&ids)).unwrap(), ids);
        let mut bad = encode(&["é".to_string()]);
        bad[9] = 1; // one byte of "é"
        bad.truncate(11);
        assert!(decode(&bad).is_err());
    }

    #[test]
    fn counts_beyond_the_payload_are_refused_before_allocating() {
        let mut p = u64::MAX.to_le_bytes().to_vec();
        p.extend_from_slice(&[0, 0]);
        assert!(decode(&p).is_err());
    }
}
