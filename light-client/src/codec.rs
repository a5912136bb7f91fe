//! The canonical binary encoding: one byte string per value, decoded with bounds.
//!
//! Rules (every protocol type follows them, so an encoding is a pure function of the value):
//! - integers are fixed-width little-endian (`u8`, `u16`, `u32`, `u64`);
//! - fixed-size byte arrays (hashes, keys, signatures, addresses) are written raw;
//! - a variable-length sequence or string is a `u32` count followed by its items; every decode
//!   site names the largest count it accepts, and the count is checked against that bound and
//!   against the bytes left **before** anything is allocated;
//! - an enum is a `u8` tag followed by its variant's fields; unknown tags are errors; an
//!   optional value is `0u8`, or `1u8` and the value;
//! - a value decodes only if it consumes its input exactly ([`decode_exact`]): trailing bytes are
//!   rejected, so two different byte strings never decode to the same value.

use thiserror::Error;

/// Why bytes failed to decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The input ended before the value did.
    #[error("unexpected end of input")]
    UnexpectedEnd,
    /// Bytes were left after the value.
    #[error("{0} trailing bytes after value")]
    TrailingBytes(usize),
    /// A length prefix exceeded the bound for that field.
    #[error("length {len} of {field} exceeds limit {max}")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// The length found.
        len: u64,
        /// The largest accepted.
        max: u64,
    },
    /// An enum tag no variant has.
    #[error("unknown {kind} tag {tag}")]
    UnknownTag {
        /// Which enum.
        kind: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A field holds a value the protocol forbids.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why it is invalid.
        reason: &'static str,
    },
}

/// Result of decoding.
pub type Result<T, E = CodecError> = core::result::Result<T, E>;

/// A value with a canonical encoding.
pub trait Encode {
    /// Appends the canonical encoding of `self` to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// The canonical encoding of `self`.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }
}

/// A value that can be read back from its canonical encoding.
pub trait Decode: Sized {
    /// Reads one value from `r`.
    fn decode_from(r: &mut Reader<'_>) -> Result<Self>;
}

/// Decodes a value that must use all of `bytes`.
pub fn decode_exact<T: Decode>(bytes: &[u8]) -> Result<T> {
    let mut r = Reader::new(bytes);
    let v = T::decode_from(&mut r)?;
    r.finish()?;
    Ok(v)
}

/// A cursor over untrusted input.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// Errors unless every byte was read.
    pub fn finish(&self) -> Result<()> {
        match self.bytes.len() {
            0 => Ok(()),
            n => Err(CodecError::TrailingBytes(n)),
        }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(CodecError::UnexpectedEnd);
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    /// Reads a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// Reads a `u8`.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    /// Reads a little-endian `u16`.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads a `bool` written as 0 or 1.
    pub fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(CodecError::UnknownTag { kind: "bool", tag }),
        }
    }

    /// Reads a sequence length, rejecting counts over `max` or over what the input could hold
    /// (`min_item_size` bytes per item), so a forged count never drives an allocation.
    pub fn len(&mut self, field: &'static str, max: usize, min_item_size: usize) -> Result<usize> {
        let len = self.u32()? as u64;
        if len > max as u64 {
            return Err(CodecError::TooLong {
                field,
                len,
                max: max as u64,
            });
        }
        if len.saturating_mul(min_item_size.max(1) as u64) > self.bytes.len() as u64 {
            return Err(CodecError::UnexpectedEnd);
        }
        Ok(len as usize)
    }

    /// Reads a UTF-8 string of at most `max` bytes.
    pub fn string(&mut self, field: &'static str, max: usize) -> Result<String> {
        let n = self.len(field, max, 1)?;
        let raw = self.take(n)?;
        String::from_utf8(raw.to_vec()).map_err(|_| CodecError::Invalid {
            field,
            reason: "not utf-8",
        })
    }

    /// Reads a sequence of at most `max` items.
    pub fn vec<T: Decode>(
        &mut self,
        field: &'static str,
        max: usize,
        min_item_size: usize,
    ) -> Result<Vec<T>> {
        let n = self.len(field, max, min_item_size)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::decode_from(self)?);
        }
        Ok(v)
    }
}

/// Appends a length prefix. Lengths are bounded far below `u32::MAX` by every decoder.
pub fn put_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).expect("sequence longer than u32::MAX");
    out.extend_from_slice(&len.to_le_bytes());
}

/// Appends a length-prefixed string.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// Appends a length-prefixed sequence.
pub fn put_vec<T: Encode>(out: &mut Vec<u8>, items: &[T]) {
    put_len(out, items.len());
    for item in items {
        item.encode_to(out);
    }
}

macro_rules! int_codec {
    ($($t:ty => $read:ident),*) => {$(
        impl Encode for $t {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
        impl Decode for $t {
            fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
                r.$read()
            }
        }
    )*};
}
int_codec!(u8 => u8, u16 => u16, u32 => u32, u64 => u64);

/// An optional value: `0u8` for none, `1u8` and the value for some.
impl<T: Encode> Encode for Option<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode_to(out);
            }
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::decode_from(r)?)),
            tag => Err(CodecError::UnknownTag {
                kind: "option",
                tag,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn integers_are_little_endian() {
        assert_eq!(0x0102_0304u32.encode(), vec![4, 3, 2, 1]);
        assert_eq!(decode_exact::<u64>(&7u64.encode()), Ok(7));
    }

    #[test]
    fn trailing_bytes_rejected() {
        assert_eq!(
            decode_exact::<u16>(&[1, 0, 9]),
            Err(CodecError::TrailingBytes(1))
        );
    }

    #[test]
    fn truncated_input_rejected() {
        assert_eq!(decode_exact::<u32>(&[1, 0]), Err(CodecError::UnexpectedEnd));
    }

    #[test]
    fn forged_length_does_not_allocate() {
        // Claims four billion items but carries none: rejected before any allocation.
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(
            r.vec::<u64>("items", usize::MAX, 8),
            Err(CodecError::UnexpectedEnd)
        ));
        let mut r = Reader::new(&[5, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(
            r.vec::<u8>("items", 4, 1),
            Err(CodecError::TooLong { len: 5, .. })
        ));
    }

    #[test]
    fn string_must_be_utf8() {
        let mut r = Reader::new(&[2, 0, 0, 0, 0xff, 0xfe]);
        assert!(matches!(r.string("s", 8), Err(CodecError::Invalid { .. })));
    }
}
