//! Git's delta format, written by a deliberately simple encoder: copy the common prefix,
//! insert the middle, copy the common suffix.
//!
//! Why so simple: the objects the bulk writer deltifies (see `pack`) are a tree or
//! `state.json` against its own previous version at the same path, one session apart: an entry
//! added to a sorted tree, a few counters changed in a small JSON file. For such edits prefix
//! and suffix find almost everything a real matcher would, at the cost of two `memcmp`s, where
//! a hashing matcher (git's `diff-delta.c`) indexes the whole source first.
//!
//! The format is in git's `Documentation/gitformat-pack.txt` ("Deltified representation"):
//! the source and target sizes as little-endian base-128 varints, then instructions. A copy is
//! `1xxxxxxx` followed by the offset bytes flagged in bits 0–3 and the size bytes flagged in
//! bits 4–6 (a size of 0 means 0x10000); an insert is `0xxxxxxx`, 1 to 127, followed by that
//! many literal bytes. Offsets are 32 bits, so sources of 4 GiB or more are never delta bases.

/// The longest copy one instruction makes here. The format allows 24 bits of size, but git's
/// own encoder never copies more than 0x10000 at once, and neither do we, so any reader
/// that git's packs work with reads ours.
const MAX_COPY: usize = 0x10000;

/// The longest insert one instruction can make.
const MAX_INSERT: usize = 0x7f;

/// A prefix or suffix shorter than this is inserted instead of copied: a copy instruction
/// costs up to 8 bytes.
const MIN_COPY: usize = 8;

/// Appends a delta that turns `src` into `dst`; `None` when `src` is too big to be a base
/// (its offsets would not fit in 32 bits).
pub(crate) fn encode(src: &[u8], dst: &[u8], out: &mut Vec<u8>) -> Option<()> {
    if u32::try_from(src.len()).is_err() {
        return None;
    }
    size_varint(src.len() as u64, out);
    size_varint(dst.len() as u64, out);
    let common = src.len().min(dst.len());
    let mut prefix = src.iter().zip(dst).take_while(|(a, b)| a == b).count();
    // The suffix never overlaps the prefix in either buffer.
    let mut suffix = src[prefix..]
        .iter()
        .rev()
        .zip(dst[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count()
        .min(common - prefix);
    if prefix < MIN_COPY {
        prefix = 0;
    }
    if suffix < MIN_COPY {
        suffix = 0;
    }
    copy(0, prefix, out);
    insert(&dst[prefix..dst.len() - suffix], out);
    copy(src.len() - suffix, suffix, out);
    Some(())
}

/// A delta's size header: 7 bits a byte, least significant first, MSB set on all but the last.
fn size_varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Copy instructions for `len` bytes of the source from `offset` (which fits in 32 bits).
fn copy(mut offset: usize, mut len: usize, out: &mut Vec<u8>) {
    while len > 0 {
        let n = len.min(MAX_COPY);
        let at = out.len();
        out.push(0x80);
        let mut flags = 0x80u8;
        for i in 0..4 {
            let byte = (offset >> (8 * i)) as u8;
            if byte != 0 {
                flags |= 1 << i;
                out.push(byte);
            }
        }
        // A size of 0x10000 is written as no size bytes at all.
        let size = if n == MAX_COPY { 0 } else { n };
        for i in 0..3 {
            let byte = (size >> (8 * i)) as u8;
            if byte != 0 {
                flags |= 0x10 << i;
                out.push(byte);
            }
        }
        out[at] = flags;
        offset += n;
        len -= n;
    }
}

/// Insert instructions for `data`, at most 127 bytes each.
fn insert(data: &[u8], out: &mut Vec<u8>) {
    for chunk in data.chunks(MAX_INSERT) {
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
}

/// The distance back to an OFS_DELTA entry's base, as a pack stores it after the entry
/// header: big-endian groups of 7 bits, MSB set on all but the last, and each continuation
/// adds one before shifting, so that no distance has two encodings.
pub(crate) fn ofs_varint(distance: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 10];
    let mut pos = buf.len() - 1;
    buf[pos] = (distance & 0x7f) as u8;
    let mut rest = distance >> 7;
    while rest != 0 {
        rest -= 1;
        pos -= 1;
        buf[pos] = 0x80 | (rest & 0x7f) as u8;
        rest >>= 7;
    }
    out.extend_from_slice(&buf[pos..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference decoder written from the format description, as strict as git's
    /// `patch-delta.c`: it checks both sizes and every bound.
    fn apply(src: &[u8], delta: &[u8]) -> Result<Vec<u8>, String> {
        let mut i = 0;
        let varint = |i: &mut usize| {
            let (mut n, mut shift) = (0u64, 0);
            loop {
                let b = *delta.get(*i).ok_or("truncated size")?;
                *i += 1;
                n |= u64::from(b & 0x7f) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    return Ok::<_, String>(n as usize);
                }
            }
        };
        if varint(&mut i)? != src.len() {
            return Err("source size".into());
        }
        let size = varint(&mut i)?;
        let mut out = Vec::with_capacity(size);
        while i < delta.len() {
            let op = delta[i];
            i += 1;
            if op & 0x80 != 0 {
                let mut field = |bits: u8, shift0: usize, count: usize| {
                    let mut v = 0usize;
                    for k in 0..count {
                        if bits & (1 << k) != 0 {
                            let b = *delta.get(i).ok_or("truncated copy")?;
                            i += 1;
                            v |= usize::from(b) << (8 * k + shift0);
                        }
                    }
                    Ok::<_, String>(v)
                };
                let off = field(op, 0, 4)?;
                let mut n = field(op >> 4, 0, 3)?;
                if n == 0 {
                    n = 0x10000;
                }
                let part = src.get(off..off + n).ok_or("copy out of the source")?;
                out.extend_from_slice(part);
            } else if op != 0 {
                let n = usize::from(op);
                let part = delta.get(i..i + n).ok_or("truncated insert")?;
                out.extend_from_slice(part);
                i += n;
            } else {
                return Err("reserved instruction 0".into());
            }
        }
        if out.len() != size {
            return Err("target size".into());
        }
        Ok(out)
    }

    fn round_trip(src: &[u8], dst: &[u8]) -> Vec<u8> {
        let mut d = Vec::new();
        encode(src, dst, &mut d).unwrap();
        assert_eq!(apply(src, &d).unwrap(), dst);
        d
    }

    #[test]
    fn small_edits_make_small_deltas() {
        let src: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut dst = src.clone();
        dst.splice(5000..5000, *b"a new tree entry of forty bytes or so...");
        let d = round_trip(&src, &dst);
        assert!(d.len() < 60, "{}", d.len());
        // Appending, truncating, replacing in the middle, identical.
        let mut longer = src.clone();
        longer.extend_from_slice(b"tail");
        assert!(round_trip(&src, &longer).len() < 20);
        assert!(round_trip(&src, &src[..9000]).len() < 20);
        assert!(round_trip(&src, &src).len() < 20);
        let mut edited = src.clone();
        edited[100] ^= 1;
        edited[200] ^= 1;
        assert!(round_trip(&src, &edited).len() < 140);
    }

    #[test]
    fn exact_instruction_bytes() {
        let src = b"0123456789abcdefXYZ";
        let mut d = Vec::new();
        encode(src, b"0123456789abcdef-XYZ", &mut d).unwrap();
        // sizes 19 and 20; copy offset 0 size 16; insert "-XYZ" (suffix too short to copy).
        assert_eq!(d, [19, 20, 0x90, 16, 4, b'-', b'X', b'Y', b'Z']);
        let mut d = Vec::new();
        encode(b"short", b"other", &mut d).unwrap();
        assert_eq!(d, [5, 5, 5, b'o', b't', b'h', b'e', b'r']);
    }

    #[test]
    fn long_copies_and_inserts_are_split() {
        // A prefix over 0x10000 (one copy of "size 0" = 0x10000, then the rest at an offset
        // with all four bytes), an insert over 127 bytes, and an empty source or target.
        let src: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let mut dst = src[..150_000].to_vec();
        dst.extend((0..300u32).map(|i| (i % 100) as u8 + 1));
        dst.extend_from_slice(&src[190_000..]);
        round_trip(&src, &dst);
        round_trip(b"", b"some bytes");
        round_trip(b"some bytes", b"");
        round_trip(b"", b"");
        let mut d = Vec::new();
        copy(0x0102_0304, 0x10000, &mut d);
        assert_eq!(d, [0x8f, 4, 3, 2, 1]);
        let mut d = Vec::new();
        copy(0, 0x1_0001, &mut d);
        assert_eq!(d, [0x80, 0x94, 1, 1]);
    }

    #[test]
    fn random_edits_round_trip() {
        // A small xorshift: the test is repeatable without a dependency.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        for _ in 0..2000 {
            let len = next(3000);
            let src: Vec<u8> = (0..len).map(|_| next(4) as u8).collect();
            let mut dst = src.clone();
            for _ in 0..next(4) {
                let at = next(dst.len() + 1);
                let cut = next(dst.len() - at + 1).min(next(300));
                let new: Vec<u8> = (0..next(400)).map(|_| next(4) as u8).collect();
                dst.splice(at..at + cut, new);
            }
            round_trip(&src, &dst);
        }
    }

    #[test]
    fn ofs_distances_match_git() {
        // Decoded the way git's `get_delta_base` does it.
        let decode = |b: &[u8]| {
            let mut v = u64::from(b[0] & 0x7f);
            for &c in &b[1..] {
                v = ((v + 1) << 7) | u64::from(c & 0x7f);
            }
            v
        };
        let enc = |n| {
            let mut v = Vec::new();
            ofs_varint(n, &mut v);
            v
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0x80, 0]);
        assert_eq!(enc(16_511), [0xff, 0x7f]);
        assert_eq!(enc(16_512), [0x80, 0x80, 0]);
        for n in [1, 300, 70_000, 1 << 31, u64::MAX >> 1, u64::MAX] {
            let v = enc(n);
            assert!(v[..v.len() - 1].iter().all(|b| b & 0x80 != 0));
            assert_eq!(v.last().unwrap() & 0x80, 0);
            assert_eq!(decode(&v), n, "{n}");
        }
    }
}
