//! What can be wrong with an IDX file, each case with a message that says what was found.
//!
//! The reader never panics and never trusts the header: every size it claims is checked against
//! the bytes that actually arrive, so a hostile file costs an error value, not memory.

use super::IdxType;

/// Why bytes could not be read as an IDX array.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdxError {
    /// The input ends before the header does.
    #[error("the file ends inside the IDX header: the header needs {needed} bytes, found {found}")]
    TruncatedHeader {
        /// Bytes the header needs (4 for the magic number, then 4 per dimension).
        needed: u64,
        /// Bytes that were there.
        found: u64,
    },
    /// The first two bytes are not zero, so this is not an IDX file.
    #[error(
        "not an IDX file: the magic number is {found:02x?}, but an IDX file starts with two zero \
         bytes, a type code and the number of dimensions"
    )]
    BadMagic {
        /// The first four bytes of the input.
        found: [u8; 4],
    },
    /// The third byte names no element type of the format.
    #[error(
        "unknown IDX element type code 0x{code:02X} (known: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, \
         0x0D f32, 0x0E f64)"
    )]
    UnknownType {
        /// The type code found.
        code: u8,
    },
    /// The dimensions multiply to more bytes than any machine can address, or (with zeros among
    /// them) to a shape no array can have.
    #[error("IDX dimensions {shape:?} of {element_type} elements are too large to address")]
    TooLarge {
        /// The dimensions the header claims.
        shape: Vec<u32>,
        /// The element type the header claims.
        element_type: IdxType,
    },
    /// The header promises more data bytes than the limit the caller set for this input (see
    /// [`read_idx_limited`](super::read_idx_limited)); nothing was read beyond the header.
    #[error(
        "IDX dimensions {shape:?} of {element_type} promise {bytes} data bytes, more than the \
         limit of {limit} bytes set for this file"
    )]
    OverLimit {
        /// The dimensions the header claims.
        shape: Vec<usize>,
        /// The element type the header claims.
        element_type: IdxType,
        /// Data bytes the header promises.
        bytes: u64,
        /// The most data bytes the caller accepts.
        limit: u64,
    },
    /// Fewer data bytes than the header promises.
    #[error(
        "truncated IDX file: dimensions {shape:?} of {element_type} need {expected} data bytes, \
         but only {found} are there"
    )]
    Truncated {
        /// The dimensions the header claims.
        shape: Vec<usize>,
        /// The element type the header claims.
        element_type: IdxType,
        /// Data bytes the header promises.
        expected: u64,
        /// Data bytes that arrived.
        found: u64,
    },
    /// More bytes than the header promises.
    #[error(
        "trailing garbage: the IDX file holds more than the {expected} data bytes its header \
         promises"
    )]
    TrailingBytes {
        /// Data bytes the header promises.
        expected: u64,
    },
    /// The input starts like gzip but does not decompress (corrupt, truncated, or followed by
    /// bytes that are not gzip).
    #[error("corrupt gzip stream: {0}")]
    Gzip(#[source] std::io::Error),
    /// Reading the input failed.
    #[error("read error: {0}")]
    Io(#[source] std::io::Error),
}
