//! Writing IDX arrays: the header, then every element big-endian (see the [module docs](super)).
//!
//! Useful to build small test files, and to save arrays other IDX readers understand.

use super::{IdxArray, IdxData};
use std::io::{self, Write};

impl IdxArray {
    /// The array encoded as raw (uncompressed) IDX bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header_len = 4 + 4 * self.shape.len();
        let mut bytes =
            Vec::with_capacity(header_len + self.data.len() * self.element_type().size_in_bytes());
        self.write_to(&mut bytes)
            .expect("writing to a Vec<u8> cannot fail");
        bytes
    }

    /// Writes the array as raw IDX bytes (wrap the writer in a gzip encoder to compress).
    pub fn write_to(&self, mut out: impl Write) -> io::Result<()> {
        let rank = u8::try_from(self.shape.len()).expect("IdxArray::new checked the rank");
        out.write_all(&[0, 0, self.element_type().code(), rank])?;
        for &dimension in &self.shape {
            let dimension = u32::try_from(dimension).expect("IdxArray::new checked the shape");
            out.write_all(&dimension.to_be_bytes())?;
        }
        match &self.data {
            IdxData::U8(values) => out.write_all(values),
            IdxData::I8(values) => write_each(out, values, |v| v.to_be_bytes()),
            IdxData::I16(values) => write_each(out, values, |v| v.to_be_bytes()),
            IdxData::I32(values) => write_each(out, values, |v| v.to_be_bytes()),
            IdxData::F32(values) => write_each(out, values, |v| v.to_be_bytes()),
            IdxData::F64(values) => write_each(out, values, |v| v.to_be_bytes()),
        }
    }
}

/// Writes every value's big-endian bytes, buffered in chunks.
fn write_each<T: Copy, const N: usize>(
    mut out: impl Write,
    values: &[T],
    to_be_bytes: impl Fn(T) -> [u8; N],
) -> io::Result<()> {
    let mut chunk = Vec::with_capacity(8192);
    for block in values.chunks(8192 / N) {
        chunk.clear();
        chunk.extend(block.iter().flat_map(|&v| to_be_bytes(v)));
        out.write_all(&chunk)?;
    }
    Ok(())
}
