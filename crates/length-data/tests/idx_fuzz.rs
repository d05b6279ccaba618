//! Fuzzing the IDX reader with proptest: arbitrary bytes, arbitrary bytes behind a valid-looking
//! header, headers of every shape (any type code, any rank, dimensions from 0 to 2³²−1), and
//! mutations of valid files (raw and gzip). The reader must answer every input with an array or
//! an error, never a panic; what it accepts must be consistent with its header, convert to an
//! `ndarray` array, and make [`Samples`] or an error; a byte limit must refuse exactly the arrays
//! larger than it. (The cargo-fuzz target `fuzz/fuzz_targets/idx_read.rs` runs the same checks
//! for millions of inputs.)
//!
//! Cases per property: `PROPTEST_CASES`, default 2000 (a few seconds in release mode).

use flate2::Compression;
use flate2::write::GzEncoder;
use length_data::Samples;
use length_data::idx::{
    IdxArray, IdxData, IdxError, IdxType, parse_idx, parse_idx_limited, read_idx, read_idx_limited,
};
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

/// The same array, bit for bit (`==` would call two NaNs different: mutated float files hold
/// them).
fn assert_same(a: &IdxArray, b: &IdxArray) {
    assert_eq!(a.to_bytes(), b.to_bytes(), "{a:?} and {b:?} differ");
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
    if let (Ok(array), Ok(again)) = (&from_slice, &from_reader) {
        assert_same(array, again);
        let elements: usize = array.shape().iter().product();
        assert_eq!(array.data().len(), elements);
        if !bytes.starts_with(&[0x1F, 0x8B]) {
            // A raw file is accepted only if it is exactly header + elements.
            assert_eq!(array.to_bytes(), bytes);
        }
        // What the reader accepts converts, and makes samples or an error.
        assert_eq!(array.to_f32_array().shape(), array.shape());
        let count = array.shape().first().copied().unwrap_or(0);
        if count <= 4096 {
            let labels = IdxArray::new(vec![count], IdxData::U8(vec![0; count]));
            let _ = Samples::from_idx(array.clone(), labels);
        }
    }
    // A byte limit refuses exactly the arrays with more data bytes, and changes nothing else.
    let data_bytes = from_slice
        .as_ref()
        .map(|a| (a.data().len() * a.element_type().size_in_bytes()) as u64);
    for limit in [0u64, 1, 16, 1000] {
        let limited = parse_idx_limited(bytes, limit);
        let limited_reader = read_idx_limited(bytes, limit);
        assert_eq!(limited.is_ok(), limited_reader.is_ok(), "limit {limit}");
        match (&from_slice, data_bytes, limited) {
            (Ok(array), Ok(n), Ok(again)) if n <= limit => assert_same(array, &again),
            (Ok(_), Ok(n), Err(IdxError::OverLimit { bytes, .. })) if n > limit => {
                assert_eq!(bytes, n)
            }
            (Err(_), _, Err(_)) => {}
            (unlimited, _, limited) => {
                panic!("limit {limit}: unlimited {unlimited:?}, limited {limited:?}")
            }
        }
    }
}

/// A dimension: mostly the edge cases of the format (0, 1, 2^16, 2^31−1, 2^32−1), else any.
fn dimension() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => 0u32..4,
        1 => Just(0xFFFF),
        1 => Just(0x1_0000),
        1 => Just(0x7FFF_FFFF),
        1 => Just(u32::MAX),
        1 => any::<u32>(),
    ]
}

/// A header of any type code and rank, with dimensions from [`dimension`], followed by either
/// the bytes it promises (when there are few) or up to 64 arbitrary bytes.
fn any_header_and_data() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![4 => proptest::sample::select(vec![0x08u8, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]), 1 => any::<u8>()],
        prop_oneof![4 => 0usize..5, 1 => 0usize..=255],
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_flat_map(|(code, rank, exact, filler)| {
            proptest::collection::vec(dimension(), rank)
                .prop_map(move |dims| (code, dims, exact, filler.clone()))
        })
        .prop_map(|(code, dims, exact, filler)| {
            let mut bytes = vec![0, 0, code, dims.len() as u8];
            for d in &dims {
                bytes.extend_from_slice(&d.to_be_bytes());
            }
            let width = IdxType::from_code(code).map_or(1, IdxType::size_in_bytes) as u64;
            let promised = dims
                .iter()
                .try_fold(width, |n, &d| n.checked_mul(u64::from(d)));
            match promised {
                Some(n) if exact && n <= 4096 => bytes.extend((0..n).map(|i| i as u8)),
                _ => bytes.extend_from_slice(&filler),
            }
            bytes
        })
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
    fn headers_of_every_shape_never_panic(bytes in any_header_and_data()) {
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
