//! Reading IDX arrays, raw or gzip-compressed, without trusting the header.
//!
//! The header's dimensions promise `size_of(type) · ∏ dimensions` data bytes. That number comes
//! from outside, so it is never allocated up front:
//!
//! - when the size of the input is known (a raw file or a byte slice), the promise is compared
//!   with the bytes actually there before anything is allocated;
//! - when it is not (a gzip stream, whose decompressed size no header states, or any reader), the
//!   buffer grows in steps no larger than what has already arrived, so a lying header costs at
//!   most twice the bytes that really came.
//!
//! After the promised bytes, the input must end: one more byte is "trailing garbage". Reading
//! that last byte also makes the gzip decoder check the stream's CRC.
//!
//! Every dimension product is a checked multiplication, and a shape is accepted only if an
//! [`ndarray`] array can have it (the product of its non-zero dimensions fits in `isize`), so
//! [`IdxArray::to_f32_array`] never fails on what the reader returned.
//!
//! The `*_limited` readers take a byte limit (see the [`idx` module docs](super)).

use super::{IdxArray, IdxData, IdxError, IdxType};
use crate::error::DataError;
use byteorder::{BigEndian, ByteOrder};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// The first two bytes of every gzip stream (an IDX file starts with two zero bytes instead).
const GZIP_MAGIC: [u8; 2] = [0x1F, 0x8B];

/// The first step of the growing read buffer, in bytes.
const FIRST_STEP: u64 = 64 * 1024;

/// Parses IDX bytes held in memory, raw or gzip-compressed.
///
/// ```
/// use length_data::idx::{parse_idx, IdxError};
///
/// // A (2, 2) u8 array: magic 0 0, type 0x08, 2 dimensions, 2 and 2, then four bytes.
/// let bytes = [0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 2, 10, 20, 30, 40];
/// let array = parse_idx(&bytes)?;
/// assert_eq!(array.shape(), &[2, 2]);
///
/// // One byte short: an error that says how many bytes were promised and found.
/// let short = parse_idx(&bytes[..15]).unwrap_err();
/// assert!(matches!(short, IdxError::Truncated { expected: 4, found: 3, .. }));
/// # Ok::<(), IdxError>(())
/// ```
pub fn parse_idx(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    parse_idx_limited(bytes, NO_LIMIT)
}

/// [`parse_idx`], refusing a header that promises more than `max_data_bytes` data bytes (see the
/// [`idx` module docs](super)).
///
/// ```
/// use length_data::idx::{parse_idx_limited, IdxError};
///
/// // A (2, 2) u8 array: 4 data bytes.
/// let bytes = [0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 2, 10, 20, 30, 40];
/// assert!(parse_idx_limited(&bytes, 4).is_ok());
/// let error = parse_idx_limited(&bytes, 3).unwrap_err();
/// assert!(matches!(error, IdxError::OverLimit { bytes: 4, limit: 3, .. }));
/// ```
pub fn parse_idx_limited(bytes: &[u8], max_data_bytes: u64) -> Result<IdxArray, IdxError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        read_decoded(MultiGzDecoder::new(bytes), Encoding::Gzip, max_data_bytes)
    } else {
        let len = Some(bytes.len() as u64);
        read_decoded(bytes, Encoding::Raw { len }, max_data_bytes)
    }
}

/// Reads one IDX array from a reader, raw or gzip-compressed (recognised by its first bytes).
///
/// The reader must end right after the array; more bytes are an error.
pub fn read_idx<R: Read>(reader: R) -> Result<IdxArray, IdxError> {
    read_sniffed(reader, None, NO_LIMIT)
}

/// [`read_idx`], refusing a header that promises more than `max_data_bytes` data bytes: at most
/// about that many bytes are decompressed or allocated, whatever the input claims.
pub fn read_idx_limited<R: Read>(reader: R, max_data_bytes: u64) -> Result<IdxArray, IdxError> {
    read_sniffed(reader, None, max_data_bytes)
}

/// Reads an IDX file, raw or gzip-compressed, such as `train-images-idx3-ubyte.gz`.
pub fn read_idx_file(path: impl AsRef<Path>) -> Result<IdxArray, DataError> {
    read_idx_file_limited(path, NO_LIMIT)
}

/// [`read_idx_file`], refusing a header that promises more than `max_data_bytes` data bytes.
pub fn read_idx_file_limited(
    path: impl AsRef<Path>,
    max_data_bytes: u64,
) -> Result<IdxArray, DataError> {
    let path = path.as_ref();
    let io_error = |source| DataError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let len = file.metadata().map_err(io_error)?.len();
    read_sniffed(BufReader::new(file), Some(len), max_data_bytes).map_err(|source| DataError::Idx {
        path: path.to_owned(),
        source,
    })
}

/// The limit of the unlimited readers: only what the machine can address.
const NO_LIMIT: u64 = u64::MAX;

/// How the bytes of the array are stored, and what is known about their number.
#[derive(Clone, Copy)]
enum Encoding {
    /// Stored as is; `len` is the total size of the input when it is known.
    Raw { len: Option<u64> },
    /// Gzip-compressed: the decompressed size is unknown until the stream ends.
    Gzip,
}

impl Encoding {
    /// Attributes a failed read: inside a gzip stream it means the stream is corrupt.
    fn error(self, error: io::Error) -> IdxError {
        match self {
            Encoding::Raw { .. } => IdxError::Io(error),
            Encoding::Gzip => IdxError::Gzip(error),
        }
    }
}

/// Looks at the first two bytes to choose between raw and gzip, then reads the array.
fn read_sniffed<R: Read>(
    mut reader: R,
    raw_len: Option<u64>,
    max_data_bytes: u64,
) -> Result<IdxArray, IdxError> {
    let mut head = [0u8; 2];
    let got = read_up_to(&mut reader, &mut head).map_err(IdxError::Io)?;
    let input = (&head[..got]).chain(reader);
    if head[..got] == GZIP_MAGIC {
        read_decoded(MultiGzDecoder::new(input), Encoding::Gzip, max_data_bytes)
    } else {
        read_decoded(input, Encoding::Raw { len: raw_len }, max_data_bytes)
    }
}

/// Reads header and elements from the decoded (decompressed) stream.
fn read_decoded(
    mut input: impl Read,
    encoding: Encoding,
    max_data_bytes: u64,
) -> Result<IdxArray, IdxError> {
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut input, &mut magic).map_err(|e| encoding.error(e))?;
    if got < magic.len() {
        return Err(IdxError::TruncatedHeader {
            needed: 4,
            found: got as u64,
        });
    }
    if magic[0] != 0 || magic[1] != 0 {
        return Err(IdxError::BadMagic { found: magic });
    }
    let element_type =
        IdxType::from_code(magic[2]).ok_or(IdxError::UnknownType { code: magic[2] })?;

    let rank = usize::from(magic[3]);
    let mut dimension_bytes = vec![0u8; 4 * rank]; // at most 1020 bytes
    let got = read_up_to(&mut input, &mut dimension_bytes).map_err(|e| encoding.error(e))?;
    let header_len = 4 + dimension_bytes.len() as u64;
    if got < dimension_bytes.len() {
        return Err(IdxError::TruncatedHeader {
            needed: header_len,
            found: 4 + got as u64,
        });
    }
    let dimensions: Vec<u32> = dimension_bytes
        .chunks_exact(4)
        .map(BigEndian::read_u32)
        .collect();

    let too_large = || IdxError::TooLarge {
        shape: dimensions.clone(),
        element_type,
    };
    let expected = dimensions
        .iter()
        .try_fold(element_type.size_in_bytes() as u64, |n, &d| {
            n.checked_mul(u64::from(d))
        })
        .filter(|&n| n <= isize::MAX as u64)
        .ok_or_else(too_large)?;
    let shape = dimensions
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|_| too_large())?;
    if !super::is_addressable_shape(&shape) {
        return Err(too_large()); // e.g. (0, 2³²−1, 2³²−1): no elements, but no array either
    }
    if expected > max_data_bytes {
        return Err(IdxError::OverLimit {
            shape,
            element_type,
            bytes: expected,
            limit: max_data_bytes,
        });
    }
    let truncated = |found: u64| IdxError::Truncated {
        shape: shape.clone(),
        element_type,
        expected,
        found,
    };

    // Compare the promise with the input's size when it is known, before allocating anything.
    let trusted_capacity = match encoding {
        Encoding::Raw { len: Some(len) } => {
            let found = len.saturating_sub(header_len);
            if found < expected {
                return Err(truncated(found));
            }
            if found > expected {
                return Err(IdxError::TrailingBytes { expected });
            }
            expected as usize
        }
        Encoding::Raw { len: None } | Encoding::Gzip => 0,
    };

    let bytes =
        read_at_most(&mut input, expected, trusted_capacity).map_err(|e| encoding.error(e))?;
    if (bytes.len() as u64) < expected {
        return Err(truncated(bytes.len() as u64));
    }
    if !at_end(&mut input).map_err(|e| encoding.error(e))? {
        return Err(IdxError::TrailingBytes { expected });
    }
    Ok(IdxArray {
        shape,
        data: decode_big_endian(bytes, element_type),
    })
}

/// Fills `buf` as far as the input allows; returns how many bytes were read (less at the end).
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads up to `limit` bytes. Beyond `trusted_capacity` (bytes known to be there), the buffer
/// grows by at most the number of bytes already read, so memory follows what actually arrives.
fn read_at_most(input: &mut impl Read, limit: u64, trusted_capacity: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(trusted_capacity);
    loop {
        let room = limit - buf.len() as u64;
        if room == 0 {
            return Ok(buf);
        }
        let step = room.min(FIRST_STEP.max(buf.len() as u64));
        buf.reserve_exact(step as usize);
        let got = input.by_ref().take(step).read_to_end(&mut buf)?;
        if (got as u64) < step {
            return Ok(buf); // the input ended early
        }
    }
}

/// Whether the input has ended (reading one more byte finds nothing).
fn at_end(input: &mut impl Read) -> io::Result<bool> {
    let mut probe = [0u8; 1];
    Ok(read_up_to(input, &mut probe)? == 0)
}

/// Turns big-endian element bytes into values of their type.
fn decode_big_endian(bytes: Vec<u8>, element_type: IdxType) -> IdxData {
    let width = element_type.size_in_bytes();
    match element_type {
        IdxType::U8 => IdxData::U8(bytes),
        IdxType::I8 => IdxData::I8(bytes.into_iter().map(|b| b as i8).collect()),
        IdxType::I16 => {
            let mut values = vec![0; bytes.len() / width];
            BigEndian::read_i16_into(&bytes, &mut values);
            IdxData::I16(values)
        }
        IdxType::I32 => {
            let mut values = vec![0; bytes.len() / width];
            BigEndian::read_i32_into(&bytes, &mut values);
            IdxData::I32(values)
        }
        IdxType::F32 => {
            let mut values = vec![0.0; bytes.len() / width];
            BigEndian::read_f32_into(&bytes, &mut values);
            IdxData::F32(values)
        }
        IdxType::F64 => {
            let mut values = vec![0.0; bytes.len() / width];
            BigEndian::read_f64_into(&bytes, &mut values);
            IdxData::F64(values)
        }
    }
}
