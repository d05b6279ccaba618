//! The IDX file format: the n-dimensional arrays MNIST and Fashion-MNIST ship in.
//!
//! An IDX file is a header followed by the elements, big-endian, in row-major order:
//!
//! ```text
//! byte 0, 1   0x00 0x00           magic: two zero bytes
//! byte 2      type code           0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
//! byte 3      n                   number of dimensions
//! 4 + 4·k     u32, big-endian     size of dimension k, for k in 0..n
//! 4 + 4·n     elements            size_0 · size_1 · … · size_(n-1) elements, big-endian
//! ```
//!
//! MNIST's images are `u8` arrays of shape (60000, 28, 28), its labels `u8` arrays of shape
//! (60000,). Files are usually gzip-compressed; the reader recognises gzip by its first two bytes
//! (0x1F 0x8B, which no IDX file starts with).
//!
//! The readers never trust the header: every size it claims is a checked product, compared with
//! the bytes that really arrive before it is allocated, and a shape is accepted only if an array
//! can have it. For untrusted files, the `*_limited` readers ([`parse_idx_limited`],
//! [`read_idx_limited`], [`read_idx_file_limited`]) also take a **byte limit**: a header
//! promising more data bytes than the limit is refused before anything is read, so no more than
//! about the limit is inflated (decompressed) or allocated. A 1 MB gzip file of zeros can inflate
//! to a gigabyte; with a limit it costs an error instead. The data sets' files are read with the
//! limit of their catalogued size ([`KnownFile::size`](crate::catalog::KnownFile::size)).
//!
//! ```
//! use length_data::idx::{parse_idx, IdxArray, IdxData, IdxType};
//!
//! let array = IdxArray::new(vec![2, 3], IdxData::I16(vec![1, -2, 3, -4, 5, -6]));
//! let bytes = array.to_bytes();
//! assert_eq!(&bytes[..4], &[0x00, 0x00, 0x0B, 2]); // magic, type i16, two dimensions
//!
//! let read = parse_idx(&bytes)?;
//! assert_eq!(read.shape(), &[2, 3]);
//! assert_eq!(read.element_type(), IdxType::I16);
//! assert_eq!(read, array);
//! # Ok::<(), length_data::idx::IdxError>(())
//! ```

mod error;
mod read;
mod write;

pub use error::IdxError;
pub use read::{
    parse_idx, parse_idx_limited, read_idx, read_idx_file, read_idx_file_limited, read_idx_limited,
};

use ndarray::{ArrayD, IxDyn};
use std::fmt;

/// The element type of an IDX file, named by the third byte of its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdxType {
    /// `0x08`: unsigned byte (MNIST's pixels and labels).
    U8,
    /// `0x09`: signed byte.
    I8,
    /// `0x0B`: 16-bit signed integer, big-endian.
    I16,
    /// `0x0C`: 32-bit signed integer, big-endian.
    I32,
    /// `0x0D`: 32-bit float, big-endian.
    F32,
    /// `0x0E`: 64-bit float, big-endian.
    F64,
}

impl IdxType {
    /// Every element type, in the order of their codes.
    pub const ALL: [IdxType; 6] = [
        IdxType::U8,
        IdxType::I8,
        IdxType::I16,
        IdxType::I32,
        IdxType::F32,
        IdxType::F64,
    ];

    /// The type named by a header's type code, or `None` for a code the format does not define.
    pub fn from_code(code: u8) -> Option<IdxType> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The type code written in the header.
    pub fn code(self) -> u8 {
        match self {
            IdxType::U8 => 0x08,
            IdxType::I8 => 0x09,
            IdxType::I16 => 0x0B,
            IdxType::I32 => 0x0C,
            IdxType::F32 => 0x0D,
            IdxType::F64 => 0x0E,
        }
    }

    /// Bytes per element.
    pub fn size_in_bytes(self) -> usize {
        match self {
            IdxType::U8 | IdxType::I8 => 1,
            IdxType::I16 => 2,
            IdxType::I32 | IdxType::F32 => 4,
            IdxType::F64 => 8,
        }
    }
}

impl fmt::Display for IdxType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            IdxType::U8 => "u8",
            IdxType::I8 => "i8",
            IdxType::I16 => "i16",
            IdxType::I32 => "i32",
            IdxType::F32 => "f32",
            IdxType::F64 => "f64",
        };
        f.write_str(name)
    }
}

/// The elements of an IDX array, in row-major order, in their own type.
#[derive(Clone, Debug, PartialEq)]
pub enum IdxData {
    /// Unsigned bytes (type code 0x08).
    U8(Vec<u8>),
    /// Signed bytes (0x09).
    I8(Vec<i8>),
    /// 16-bit integers (0x0B).
    I16(Vec<i16>),
    /// 32-bit integers (0x0C).
    I32(Vec<i32>),
    /// 32-bit floats (0x0D).
    F32(Vec<f32>),
    /// 64-bit floats (0x0E).
    F64(Vec<f64>),
}

impl IdxData {
    /// The element type these values are stored as.
    pub fn element_type(&self) -> IdxType {
        match self {
            IdxData::U8(_) => IdxType::U8,
            IdxData::I8(_) => IdxType::I8,
            IdxData::I16(_) => IdxType::I16,
            IdxData::I32(_) => IdxType::I32,
            IdxData::F32(_) => IdxType::F32,
            IdxData::F64(_) => IdxType::F64,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            IdxData::U8(v) => v.len(),
            IdxData::I8(v) => v.len(),
            IdxData::I16(v) => v.len(),
            IdxData::I32(v) => v.len(),
            IdxData::F32(v) => v.len(),
            IdxData::F64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values converted to `f32` (exact for every type except `i32` beyond 2²⁴ and `f64`).
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match self {
            IdxData::U8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            IdxData::I8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            IdxData::I16(v) => v.iter().map(|&x| f32::from(x)).collect(),
            IdxData::I32(v) => v.iter().map(|&x| x as f32).collect(),
            IdxData::F32(v) => v.clone(),
            IdxData::F64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
}

/// An n-dimensional array read from (or to be written to) an IDX file: a shape and its elements.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    shape: Vec<usize>,
    data: IdxData,
}

impl IdxArray {
    /// An array of the given shape holding `data` in row-major order.
    ///
    /// # Panics
    ///
    /// If the shape's product is not `data.len()`, if there are more than 255 dimensions, if a
    /// dimension exceeds `u32::MAX` (the format cannot record it), or if the product of the
    /// non-zero dimensions does not fit in `isize` (no array can have that shape).
    pub fn new(shape: Vec<usize>, data: IdxData) -> IdxArray {
        let elements = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        assert_eq!(
            elements,
            Some(data.len()),
            "IdxArray::new: shape {shape:?} does not hold {} elements",
            data.len()
        );
        assert!(
            is_addressable_shape(&shape),
            "IdxArray::new: shape {shape:?} is too large for an array (its non-zero dimensions \
             multiply beyond isize::MAX)"
        );
        assert!(
            shape.len() <= usize::from(u8::MAX),
            "IdxArray::new: {} dimensions, but an IDX header records at most 255",
            shape.len()
        );
        assert!(
            shape.iter().all(|&d| u32::try_from(d).is_ok()),
            "IdxArray::new: shape {shape:?} has a dimension larger than u32::MAX"
        );
        IdxArray { shape, data }
    }

    /// The size of each dimension.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The element type.
    pub fn element_type(&self) -> IdxType {
        self.data.element_type()
    }

    /// The elements, in row-major order.
    pub fn data(&self) -> &IdxData {
        &self.data
    }

    /// The shape and the elements, taken apart.
    pub fn into_parts(self) -> (Vec<usize>, IdxData) {
        (self.shape, self.data)
    }

    /// The array converted to `f32` (see [`IdxData::to_f32_vec`]). Never fails: the reader and
    /// [`IdxArray::new`] accept only shapes an array can have.
    pub fn to_f32_array(&self) -> ArrayD<f32> {
        ArrayD::from_shape_vec(IxDyn(&self.shape), self.data.to_f32_vec())
            .expect("IdxArray::new and the reader accept only shapes an array can have")
    }
}

/// Whether an [`ndarray`] array can have `shape`: the product of its non-zero dimensions fits in
/// `isize` (ndarray's rule, so that every index and stride is addressable, even of an empty
/// array such as (0, 2³²−1, 2³²−1)).
fn is_addressable_shape(shape: &[usize]) -> bool {
    shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .is_some_and(|n| n <= isize::MAX as usize)
}
