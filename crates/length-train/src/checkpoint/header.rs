//! The safetensors header: read with a size limit and checked against the file, or written in a
//! fixed order.
//!
//! ```text
//! file   = n (8 bytes, little-endian u64) · header (n bytes of JSON) · data
//! header = {"__metadata__": {key: text, ...},
//!           name: {"dtype": "F32", "shape": [d₀, d₁, ...], "data_offsets": [begin, end]}, ...}
//! ```
//!
//! A tensor's bytes are `data[begin..end]`, with `end − begin = 4 · d₀ · d₁ · ...`; the ranges
//! tile the data section without gaps or overlaps. Reading checks all of that against the
//! file's real length *before* a single tensor byte is read, so a header can never make the
//! reader allocate more than the file holds.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::Value;

use super::{CheckpointError, MAX_HEADER_BYTES};

/// The number of bytes that give the header's length.
pub(crate) const LENGTH_BYTES: u64 = 8;

/// The only element type a LENGTH checkpoint holds.
pub(crate) const DTYPE: &str = "F32";

/// Bytes per `f32`.
const F32_BYTES: u64 = 4;

/// One tensor as the header describes it, its byte range checked against the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TensorEntry {
    /// The tensor's name, such as `fc1.weight`.
    pub name: String,
    /// Its shape; the product of the dimensions fits in memory arithmetic.
    pub shape: Vec<usize>,
    /// Where its bytes start, counted from the start of the file.
    pub start: u64,
    /// How many bytes it has: 4 per element.
    pub len: u64,
}

/// A checked header: the metadata and the tensors in the order of their bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// The free `__metadata__` map.
    pub metadata: BTreeMap<String, String>,
    /// The tensors, ordered by where their bytes start.
    pub tensors: Vec<TensorEntry>,
}

/// Reads and checks the header of a file of `file_len` bytes from `reader`, which stands at the
/// start of the file. Reads at most 8 + [`MAX_HEADER_BYTES`] bytes.
pub(crate) fn read_header(
    reader: &mut impl Read,
    file_len: u64,
) -> Result<Header, CheckpointError> {
    if file_len < LENGTH_BYTES {
        return Err(CheckpointError::TooShort { len: file_len });
    }
    let mut length = [0u8; LENGTH_BYTES as usize];
    reader.read_exact(&mut length)?;
    let header_len = u64::from_le_bytes(length);
    if header_len > MAX_HEADER_BYTES {
        return Err(CheckpointError::HeaderTooLarge {
            declared: header_len,
            limit: MAX_HEADER_BYTES,
        });
    }
    let after_length = file_len - LENGTH_BYTES;
    if header_len > after_length {
        return Err(CheckpointError::BeyondFile {
            what: "header".to_string(),
            declared: header_len,
            available: after_length,
        });
    }
    let mut json = vec![0u8; header_len as usize];
    reader.read_exact(&mut json)?;
    let data_start = LENGTH_BYTES + header_len;
    parse_header(&json, data_start, file_len - data_start)
}

/// Parses the JSON header and checks every tensor against a data section of `data_len` bytes
/// that starts at byte `data_start` of the file.
fn parse_header(json: &[u8], data_start: u64, data_len: u64) -> Result<Header, CheckpointError> {
    let bad = |message: String| CheckpointError::Header(message);
    let value: Value = serde_json::from_slice(json).map_err(|error| bad(error.to_string()))?;
    let Value::Object(entries) = value else {
        return Err(bad("it is not a JSON object".to_string()));
    };
    let mut metadata = BTreeMap::new();
    let mut tensors = Vec::new();
    for (name, entry) in entries {
        if name == "__metadata__" {
            metadata = parse_metadata(entry)?;
        } else {
            tensors.push(parse_tensor(name, &entry)?);
        }
    }
    tensors.sort_by_key(|entry| entry.start);
    let mut expected_start = 0;
    for entry in &mut tensors {
        let end = entry.start + entry.len;
        if end > data_len {
            return Err(CheckpointError::BeyondFile {
                what: format!("data (through tensor {:?})", entry.name),
                declared: end,
                available: data_len,
            });
        }
        if entry.start != expected_start {
            return Err(CheckpointError::Tensor {
                name: entry.name.clone(),
                reason: format!(
                    "its bytes start at {}, but the previous tensor ends at {expected_start} \
                     (the tensors must tile the data without gaps or overlaps)",
                    entry.start
                ),
            });
        }
        expected_start = end;
        entry.start += data_start;
    }
    if expected_start != data_len {
        return Err(bad(format!(
            "the tensors cover {expected_start} bytes of data, but the file has {data_len}"
        )));
    }
    Ok(Header { metadata, tensors })
}

/// The `__metadata__` entry: an object whose values are all strings.
fn parse_metadata(entry: Value) -> Result<BTreeMap<String, String>, CheckpointError> {
    let bad = || CheckpointError::Header("__metadata__ must map names to strings".to_string());
    let Value::Object(pairs) = entry else {
        return Err(bad());
    };
    pairs
        .into_iter()
        .map(|(key, value)| match value {
            Value::String(text) => Ok((key, text)),
            _ => Err(bad()),
        })
        .collect()
}

/// One tensor's entry, its `start` counted from the start of the data section. Checks the dtype
/// and that the byte range holds exactly the shape's elements (with overflow-checked arithmetic).
fn parse_tensor(name: String, entry: &Value) -> Result<TensorEntry, CheckpointError> {
    let problem = |reason: &str| CheckpointError::Tensor {
        name: name.clone(),
        reason: reason.to_string(),
    };
    let dtype = entry.get("dtype").and_then(Value::as_str);
    match dtype {
        Some(DTYPE) => {}
        Some(other) => {
            return Err(problem(&format!(
                "its dtype is {other}, but models are {DTYPE}"
            )));
        }
        None => return Err(problem("it has no dtype")),
    }
    let shape: Vec<u64> = entry
        .get("shape")
        .and_then(Value::as_array)
        .and_then(|dims| dims.iter().map(Value::as_u64).collect::<Option<_>>())
        .ok_or_else(|| problem("its shape is not a list of sizes"))?;
    let offsets: Vec<u64> = entry
        .get("data_offsets")
        .and_then(Value::as_array)
        .and_then(|pair| pair.iter().map(Value::as_u64).collect::<Option<_>>())
        .ok_or_else(|| problem("its data_offsets are not two byte positions"))?;
    let [begin, end] = offsets[..] else {
        return Err(problem("its data_offsets are not two byte positions"));
    };
    // An array's shape must index within `isize` even when a zero makes it empty: the product
    // of the non-zero dimensions, in bytes, must fit (ndarray refuses it otherwise).
    let too_large = || problem(&format!("its shape {shape:?} is too large to exist"));
    let addressable = shape
        .iter()
        .filter(|&&dim| dim != 0)
        .try_fold(F32_BYTES, |product, &dim| product.checked_mul(dim))
        .is_some_and(|bytes| bytes <= isize::MAX as u64);
    if !addressable {
        return Err(too_large());
    }
    let bytes = F32_BYTES * shape.iter().product::<u64>();
    let shape = shape
        .iter()
        .map(|&dim| usize::try_from(dim).map_err(|_| too_large()))
        .collect::<Result<Vec<_>, _>>()?;
    if end.checked_sub(begin) != Some(bytes) {
        return Err(problem(&format!(
            "its shape {shape:?} needs {bytes} bytes, but its data_offsets [{begin}, {end}] \
             give {}",
            end.saturating_sub(begin)
        )));
    }
    Ok(TensorEntry {
        name,
        shape,
        start: begin,
        len: bytes,
    })
}

/// The header for `metadata` and tensors of the given names and shapes, stored one after the
/// other in this order: exactly the bytes `safetensors` writes (metadata first, then the
/// tensors in the order of their bytes), padded with spaces to a multiple of 8, but with the
/// metadata's keys always in sorted order.
pub(crate) fn encode_header<'a>(
    metadata: &BTreeMap<String, String>,
    tensors: impl IntoIterator<Item = (&'a str, &'a [usize])>,
) -> Vec<u8> {
    let text = |value: &str| Value::from(value).to_string();
    let mut json = format!(
        "{{\"__metadata__\":{}",
        serde_json::to_string(metadata).expect("a map of strings is JSON")
    );
    let mut offset = 0;
    for (name, shape) in tensors {
        let bytes = F32_BYTES as usize * shape.iter().product::<usize>();
        let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
        json.push_str(&format!(
            ",{}:{{\"dtype\":\"{DTYPE}\",\"shape\":[{}],\"data_offsets\":[{offset},{}]}}",
            text(name),
            dims.join(","),
            offset + bytes
        ));
        offset += bytes;
    }
    json.push('}');
    let mut bytes = json.into_bytes();
    bytes.resize(bytes.len().next_multiple_of(LENGTH_BYTES as usize), b' ');
    bytes
}
