//! Fuzzes the IDX reader: any bytes, raw or gzip-compressed, through every entry point, with and
//! without a byte limit. Nothing may panic; what is accepted must match its header, convert to an
//! `ndarray` array and make `Samples` or an error; a limit must refuse exactly the larger arrays.
//!
//! ```text
//! cargo +nightly fuzz run idx_read -- -runs=1000000
//! ```
//!
//! The first input byte chooses the form: even, the rest is read as it is; odd, the rest is
//! gzip-compressed first (so the fuzzer reaches the decompressing path with valid streams).

#![no_main]

use flate2::Compression;
use flate2::write::GzEncoder;
use length_data::Samples;
use length_data::idx::{
    IdxArray, IdxData, IdxError, parse_idx, parse_idx_limited, read_idx, read_idx_limited,
};
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|input: &[u8]| {
    let Some((&form, rest)) = input.split_first() else {
        return;
    };
    if form % 2 == 0 {
        check(rest);
    } else {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(rest).unwrap();
        check(&encoder.finish().unwrap());
    }
});

fn check(bytes: &[u8]) {
    let from_slice = parse_idx(bytes);
    let from_reader = read_idx(bytes);
    assert_eq!(from_slice.is_ok(), from_reader.is_ok(), "the entry points disagree");
    if let (Ok(array), Ok(again)) = (&from_slice, &from_reader) {
        assert_eq!(array.to_bytes(), again.to_bytes());
        let elements: usize = array.shape().iter().product();
        assert_eq!(array.data().len(), elements);
        if !bytes.starts_with(&[0x1F, 0x8B]) {
            assert_eq!(array.to_bytes(), bytes, "a raw file is exactly header and elements");
        }
        assert_eq!(array.to_f32_array().shape(), array.shape());
        let count = array.shape().first().copied().unwrap_or(0);
        if count <= 1 << 16 {
            let labels = IdxArray::new(vec![count], IdxData::U8(vec![0; count]));
            let _ = Samples::from_idx(array.clone(), labels);
        }
    }
    let data_bytes = from_slice
        .as_ref()
        .map(|a| (a.data().len() * a.element_type().size_in_bytes()) as u64);
    for limit in [0u64, 16, 4096] {
        let limited = parse_idx_limited(bytes, limit);
        assert_eq!(limited.is_ok(), read_idx_limited(bytes, limit).is_ok());
        match (&from_slice, data_bytes, limited) {
            (Ok(array), Ok(n), Ok(again)) if n <= limit => {
                assert_eq!(array.to_bytes(), again.to_bytes())
            }
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
