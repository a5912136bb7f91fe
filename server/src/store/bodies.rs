//! Transaction bodies in chunks: one row holds up to [`CHUNK`] consecutive transactions of a
//! shard block, so a block's commit inserts a few hundred rows instead of one per transaction
//! (each B-tree insert costs microseconds), while reading one transaction reads only its chunk.
//!
//! A chunk is `count u32 | count × end offset u32 | records`, little-endian, each record a
//! [`super::StoredTx`] in canonical encoding.

use joule_light_client::codec::CodecError;

/// Transactions per chunk: about 13 KB of transfers, a few pages.
pub(super) const CHUNK: u32 = 64;

/// The chunk that holds the transaction at `index` in its shard block, and its slot there.
pub(super) fn locate(index: u32) -> (u32, usize) {
    (index / CHUNK, (index % CHUNK) as usize)
}

/// Packs encoded records into one chunk.
#[cfg(test)]
pub(super) fn encode<R: AsRef<[u8]>>(records: &[R]) -> Vec<u8> {
    let body: usize = records.iter().map(|r| r.as_ref().len()).sum();
    encode_with(records.len(), body, |i, out| {
        out.extend_from_slice(records[i].as_ref())
    })
}

/// Packs `count` records into one chunk, `write(i, out)` appending record `i` to `out` — so
/// records go straight into the chunk, without a buffer each. `body` sizes the allocation.
pub(super) fn encode_with(
    count: usize,
    body: usize,
    mut write: impl FnMut(usize, &mut Vec<u8>),
) -> Vec<u8> {
    let base = 4 + 4 * count;
    let mut out = Vec::with_capacity(base + body);
    out.extend_from_slice(&(count as u32).to_le_bytes());
    out.resize(base, 0);
    for i in 0..count {
        write(i, &mut out);
        let end = (out.len() - base) as u32;
        out[4 + 4 * i..8 + 4 * i].copy_from_slice(&end.to_le_bytes());
    }
    out
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, CodecError> {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or(CodecError::UnexpectedEnd)
}

/// Every record of a chunk, in order; corrupt offsets are an error, never a panic.
pub(super) fn records(chunk: &[u8]) -> Result<Vec<&[u8]>, CodecError> {
    let count = u32_at(chunk, 0)?;
    if count > CHUNK {
        return Err(CodecError::TooLong {
            field: "body chunk",
            len: count.into(),
            max: CHUNK.into(),
        });
    }
    let base = 4 + 4 * count as usize;
    let data = chunk.get(base..).ok_or(CodecError::UnexpectedEnd)?;
    let mut start = 0usize;
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let end = u32_at(chunk, 4 + 4 * i)? as usize;
        out.push(data.get(start..end).ok_or(CodecError::Invalid {
            field: "body chunk",
            reason: "offsets out of order or past the end",
        })?);
        start = end;
    }
    if start != data.len() {
        return Err(CodecError::TrailingBytes(data.len().saturating_sub(start)));
    }
    Ok(out)
}

/// The record in `slot`, if the chunk has that many.
pub(super) fn record(chunk: &[u8], slot: usize) -> Result<Option<&[u8]>, CodecError> {
    Ok(records(chunk)?.get(slot).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_in_order() {
        let recs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; usize::from(i) * 3]).collect();
        let chunk = encode(&recs);
        let back = records(&chunk).unwrap();
        assert_eq!(back.len(), 5);
        for (i, r) in back.iter().enumerate() {
            assert_eq!(*r, recs[i].as_slice());
        }
        assert_eq!(record(&chunk, 4).unwrap(), Some(recs[4].as_slice()));
        assert_eq!(record(&chunk, 5).unwrap(), None);
    }

    #[test]
    fn golden_chunk_encoding() {
        let chunk = encode(&[b"ab".as_slice(), b"c".as_slice()]);
        assert_eq!(
            chunk,
            [2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, b'a', b'b', b'c']
        );
    }

    #[test]
    fn corrupt_chunks_are_errors_not_panics() {
        let good = encode(&[b"abc".as_slice(), b"de".as_slice()]);
        for cut in 0..good.len() {
            assert!(records(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut backwards = good.clone();
        backwards[4] = 9; // first record ends past the second
        assert!(records(&backwards).is_err());
        let mut huge = good.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(records(&huge).is_err());
        let mut trailing = good;
        trailing.push(0);
        assert!(records(&trailing).is_err());
    }

    #[test]
    fn positions_map_to_chunks() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(CHUNK - 1), (0, CHUNK as usize - 1));
        assert_eq!(locate(CHUNK), (1, 0));
    }
}
