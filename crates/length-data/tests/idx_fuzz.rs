//! Fuzzing the IDX reader with proptest: arbitrary bytes, arbitrary bytes behind a valid-looking
//! header, and mutations of valid files (raw and gzip). The reader must answer every input with
//! an array or an error, never a panic; what it accepts must be consistent with its header.
//!
//! Cases per property: `PROPTEST_CASES`, default 2000 (a few seconds in release mode).

use flate2::Compression;
use flate2::write::GzEncoder;
use length_data::idx::{IdxArray, IdxData, IdxType, parse_idx, read_idx};
use proptest::prelude::*;
use std::io::Write;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Parses through both entry points and checks any accepted array against the input.
fn check(bytes: &[u8]) {
    let from_slice = parse_idx(bytes);
    let from_reader = read_idx(bytes);
    assert_eq!(
        from_slice.is_ok(),
        from_reader.is_ok(),
        "parse_idx and read_idx disagree"
    );
    if let (Ok(array), Ok(again)) = (from_slice, from_reader) {
        assert_eq!(array, again);
        let elements: usize = array.shape().iter().product();
        assert_eq!(array.data().len(), elements);
        if !bytes.starts_with(&[0x1F, 0x8B]) {
            // A raw file is accepted only if it is exactly header + elements.
            assert_eq!(array.to_bytes(), bytes);
        }
    }
}

/// A valid array of any element type with up to 4 small dimensions.
fn valid_array() -> impl Strategy<Value = IdxArray> {
    (
        proptest::sample::select(IdxType::ALL.to_vec()),
        proptest::collection::vec(0usize..5, 0..4),
        any::<u64>(),
    )
        .prop_map(|(element_type, shape, seed)| {
            let n: usize = shape.iter().product();
            let values = (0..n as u64).map(|i| seed.wrapping_mul(i + 1).rotate_left(i as u32 % 64));
            let data = match element_type {
                IdxType::U8 => IdxData::U8(values.map(|v| v as u8).collect()),
                IdxType::I8 => IdxData::I8(values.map(|v| v as i8).collect()),
                IdxType::I16 => IdxData::I16(values.map(|v| v as i16).collect()),
                IdxType::I32 => IdxData::I32(values.map(|v| v as i32).collect()),
                IdxType::F32 => IdxData::F32(
                    values
                        .map(|v| f32::from_bits(v as u32))
                        .filter(|x| !x.is_nan())
                        .chain(std::iter::repeat(0.5))
                        .take(n)
                        .collect(),
                ),
                IdxType::F64 => IdxData::F64(
                    values
                        .map(f64::from_bits)
                        .filter(|x| !x.is_nan())
                        .chain(std::iter::repeat(0.5))
                        .take(n)
                        .collect(),
                ),
            };
            IdxArray::new(shape, data)
        })
}

/// A way to damage a file.
#[derive(Clone, Debug)]
enum Mutation {
    /// Overwrite the byte at (position mod length).
    Set(usize, u8),
    /// Cut the file to (length mod (file length + 1)).
    Truncate(usize),
    /// Append bytes.
    Append(Vec<u8>),
    /// Overwrite a dimension (index mod rank) with a big-endian u32.
    Dimension(usize, u32),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set(at, byte)),
        any::<usize>().prop_map(Mutation::Truncate),
        proptest::collection::vec(any::<u8>(), 1..8).prop_map(Mutation::Append),
        (any::<usize>(), any::<u32>()).prop_map(|(k, d)| Mutation::Dimension(k, d)),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    match mutation {
        Mutation::Set(at, byte) if !bytes.is_empty() => {
            let at = at % bytes.len();
            bytes[at] = *byte;
        }
        Mutation::Set(..) => {}
        Mutation::Truncate(len) => bytes.truncate(len % (bytes.len() + 1)),
        Mutation::Append(extra) => bytes.extend_from_slice(extra),
        Mutation::Dimension(k, d) => {
            let rank = usize::from(bytes.get(3).copied().unwrap_or(0));
            if rank > 0 && bytes.len() >= 4 + 4 * rank {
                let at = 4 + 4 * (k % rank);
                bytes[at..at + 4].copy_from_slice(&d.to_be_bytes());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_plausible_header_never_panic(
        code in proptest::sample::select(vec![0x08u8, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0xFF]),
        rank in 0u8..6,
        rest in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = vec![0, 0, code, rank];
        bytes.extend_from_slice(&rest);
        check(&bytes);
        check(&gzip(&bytes));
    }

    #[test]
    fn valid_arrays_round_trip(array in valid_array()) {
        let raw = array.to_bytes();
        prop_assert_eq!(&parse_idx(&raw).unwrap(), &array);
        prop_assert_eq!(&parse_idx(&gzip(&raw)).unwrap(), &array);
    }

    #[test]
    fn mutated_valid_files_never_panic(
        array in valid_array(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let mut raw = array.to_bytes();
        let mut compressed = gzip(&raw);
        for m in &mutations {
            apply(&mut raw, m);
            apply(&mut compressed, m);
        }
        check(&raw);
        check(&compressed);
        // Also the mutated raw content, validly compressed.
        check(&gzip(&raw));
    }
}
