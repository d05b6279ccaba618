//! The IDX reader on hand-made files: every element type, raw and gzip, and every kind of broken
//! file answered by its own error.

use flate2::Compression;
use flate2::write::GzEncoder;
use length_data::DataError;
use length_data::idx::{
    IdxArray, IdxData, IdxError, IdxType, parse_idx, parse_idx_limited, read_idx, read_idx_file,
    read_idx_file_limited, read_idx_limited,
};
use length_data::{DataSetName, Samples};
use std::io::{self, Read, Write};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// One array of each element type, with values that exercise sign and byte order.
fn one_of_each_type() -> Vec<IdxArray> {
    vec![
        IdxArray::new(vec![2, 3], IdxData::U8(vec![0, 1, 127, 128, 254, 255])),
        IdxArray::new(vec![4], IdxData::I8(vec![-128, -1, 0, 127])),
        IdxArray::new(vec![1, 2, 2], IdxData::I16(vec![-32768, -2, 258, 32767])),
        IdxArray::new(vec![3], IdxData::I32(vec![i32::MIN, -16_909_060, i32::MAX])),
        IdxArray::new(vec![2, 1], IdxData::F32(vec![-1.5, 3.25e-7])),
        IdxArray::new(vec![2], IdxData::F64(vec![std::f64::consts::PI, -0.0])),
        IdxArray::new(vec![0, 5], IdxData::F64(vec![])),
        IdxArray::new(vec![], IdxData::U8(vec![42])),
    ]
}

#[test]
fn every_element_type_round_trips_raw_and_gzip() {
    for array in one_of_each_type() {
        let raw = array.to_bytes();
        assert_eq!(raw[2], array.element_type().code());
        assert_eq!(usize::from(raw[3]), array.shape().len());
        assert_eq!(
            parse_idx(&raw).unwrap(),
            array,
            "raw {}",
            array.element_type()
        );
        assert_eq!(
            parse_idx(&gzip(&raw)).unwrap(),
            array,
            "gzip {}",
            array.element_type()
        );
        assert_eq!(read_idx(&raw[..]).unwrap(), array);
        assert_eq!(read_idx(&gzip(&raw)[..]).unwrap(), array);
    }
}

#[test]
fn big_endian_bytes_are_decoded_by_hand_example() {
    // i16 0x0102 = 258 and i32 0xFEFDFCFC = -16909060, written big-endian by hand.
    let bytes = [0, 0, 0x0B, 1, 0, 0, 0, 1, 0x01, 0x02];
    assert_eq!(parse_idx(&bytes).unwrap().data(), &IdxData::I16(vec![258]));
    let bytes = [0, 0, 0x0C, 1, 0, 0, 0, 1, 0xFE, 0xFD, 0xFC, 0xFC];
    assert_eq!(
        parse_idx(&bytes).unwrap().data(),
        &IdxData::I32(vec![-16_909_060])
    );
    let bytes = [0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0, 0];
    assert_eq!(parse_idx(&bytes).unwrap().data(), &IdxData::F32(vec![1.5]));
}

#[test]
fn type_codes_match_the_format() {
    let codes: Vec<u8> = IdxType::ALL.iter().map(|t| t.code()).collect();
    assert_eq!(codes, vec![0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]);
    for t in IdxType::ALL {
        assert_eq!(IdxType::from_code(t.code()), Some(t));
    }
    assert_eq!(IdxType::from_code(0x0A), None);
}

#[test]
fn to_f32_array_keeps_shape_and_values() {
    let array = IdxArray::new(vec![2, 2], IdxData::I16(vec![-3, 0, 7, 300]));
    let floats = array.to_f32_array();
    assert_eq!(floats.shape(), &[2, 2]);
    assert_eq!(
        floats.iter().copied().collect::<Vec<_>>(),
        vec![-3.0, 0.0, 7.0, 300.0]
    );
}

/// A reader that hands out one byte per call, as a slow pipe might.
struct OneByteAtATime<'a>(&'a [u8]);

impl Read for OneByteAtATime<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.is_empty()) {
            (Some((&first, rest)), false) => {
                buf[0] = first;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn slow_readers_are_read_completely() {
    for array in one_of_each_type() {
        let raw = array.to_bytes();
        assert_eq!(read_idx(OneByteAtATime(&raw)).unwrap(), array);
        assert_eq!(read_idx(OneByteAtATime(&gzip(&raw))).unwrap(), array);
    }
}

#[test]
fn wrong_magic_is_rejected() {
    let error = parse_idx(&[1, 0, 0x08, 1, 0, 0, 0, 0]).unwrap_err();
    assert!(
        matches!(
            error,
            IdxError::BadMagic {
                found: [1, 0, 8, 1]
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("not an IDX file"), "{error}");
}

#[test]
fn unknown_type_code_is_rejected() {
    let error = parse_idx(&[0, 0, 0x0A, 1, 0, 0, 0, 0]).unwrap_err();
    assert!(
        matches!(error, IdxError::UnknownType { code: 0x0A }),
        "{error}"
    );
    assert!(error.to_string().contains("0x0A"), "{error}");
}

#[test]
fn short_headers_are_rejected() {
    assert!(matches!(
        parse_idx(&[]).unwrap_err(),
        IdxError::TruncatedHeader {
            needed: 4,
            found: 0
        }
    ));
    assert!(matches!(
        parse_idx(&[0, 0, 8]).unwrap_err(),
        IdxError::TruncatedHeader {
            needed: 4,
            found: 3
        }
    ));
    // Three dimensions promised, one and a half given.
    assert!(matches!(
        parse_idx(&[0, 0, 8, 3, 0, 0, 0, 1, 0, 0]).unwrap_err(),
        IdxError::TruncatedHeader {
            needed: 16,
            found: 10
        }
    ));
}

#[test]
fn overflowing_dimensions_are_rejected() {
    // 0xFFFFFFFF³ f64 elements do not fit in 64 bits.
    let mut bytes = vec![0, 0, 0x0E, 3];
    bytes.extend_from_slice(&[0xFF; 12]);
    let error = parse_idx(&bytes).unwrap_err();
    assert!(matches!(error, IdxError::TooLarge { .. }), "{error}");
    let error = read_idx(&gzip(&bytes)[..]).unwrap_err();
    assert!(matches!(error, IdxError::TooLarge { .. }), "{error}");
}

#[test]
fn an_empty_array_of_unaddressable_shape_is_rejected_not_a_later_panic() {
    // The header of issue 18: u8, shape (0, 2^32-1, 2^32-1): no data bytes are promised, but no
    // array can have the shape (its non-zero dimensions multiply beyond isize::MAX), and
    // `to_f32_array` panicked on what the reader had accepted.
    let bytes = [
        0x00, 0x00, 0x08, 0x03, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ];
    for error in [
        parse_idx(&bytes).unwrap_err(),
        parse_idx(&gzip(&bytes)).unwrap_err(),
        read_idx(OneByteAtATime(&bytes)).unwrap_err(),
    ] {
        assert!(matches!(error, IdxError::TooLarge { .. }), "{error}");
    }
}

#[test]
fn empty_arrays_of_addressable_shapes_are_read_and_convert() {
    // Zeros among dimensions that still fit: (0, 65535, 65535) and (65536, 0, 4).
    for dimensions in [[0u32, 0xFFFF, 0xFFFF], [0x10000, 0, 4]] {
        let mut bytes = vec![0, 0, 0x08, 3];
        for d in dimensions {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        let array = parse_idx(&bytes).unwrap();
        assert_eq!(array.to_f32_array().len(), 0);
        let labels = IdxArray::new(
            vec![dimensions[0] as usize],
            IdxData::U8(vec![0; dimensions[0] as usize]),
        );
        // Samples take them or refuse them with an error; they do not panic.
        let _ = Samples::from_idx(array, labels);
    }
}

#[test]
#[should_panic(expected = "too large for an array")]
fn an_unaddressable_shape_is_a_programmer_error() {
    IdxArray::new(vec![0, usize::MAX, 2], IdxData::U8(vec![]));
}

#[test]
fn a_byte_limit_refuses_a_header_before_anything_is_inflated() {
    // A gzip bomb in miniature: 8 MiB of zeros compress to a few KiB.
    let n = 8 * 1024 * 1024;
    let bomb = gzip(&IdxArray::new(vec![n], IdxData::U8(vec![0; n])).to_bytes());
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    for error in [
        parse_idx_limited(&bomb, 1024 * 1024).unwrap_err(),
        read_idx_limited(&bomb[..], 1024 * 1024).unwrap_err(),
    ] {
        assert!(
            matches!(error, IdxError::OverLimit { bytes, limit: 1_048_576, .. } if bytes == n as u64),
            "{error}"
        );
        assert!(
            error.to_string().contains("limit of 1048576 bytes"),
            "{error}"
        );
    }
    // At the limit, the same file is read.
    assert_eq!(parse_idx_limited(&bomb, n as u64).unwrap().shape(), &[n]);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb-idx1-ubyte.gz");
    std::fs::write(&path, &bomb).unwrap();
    let error = read_idx_file_limited(&path, 1000).unwrap_err();
    assert!(
        matches!(
            error,
            DataError::Idx {
                source: IdxError::OverLimit { .. },
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("bomb-idx1-ubyte.gz"), "{error}");
}

#[test]
fn a_catalogued_file_larger_than_its_catalogued_size_is_refused_unread() {
    // A "t10k-labels" file claiming 10 times MNIST's 10 000 labels: refused by its header, from
    // the catalogue's size, before its 100 000 bytes are inflated.
    let dir = tempfile::tempdir().unwrap();
    let labels = IdxArray::new(vec![100_000], IdxData::U8(vec![1; 100_000]));
    let images = IdxArray::new(vec![100_000, 1, 1], IdxData::U8(vec![0; 100_000]));
    for (name, array) in [
        (length_data::TEST_LABELS, &labels),
        (length_data::TEST_IMAGES, &images),
    ] {
        std::fs::write(dir.path().join(name), gzip(&array.to_bytes())).unwrap();
    }
    let options = length_data::MnistOptions {
        load_train: false,
        ..length_data::MnistOptions::default()
    };
    let error = length_data::Mnist::from_dir(dir.path(), &options).unwrap_err();
    let limit = DataSetName::Mnist
        .file(length_data::TEST_LABELS)
        .unwrap()
        .size;
    assert!(
        matches!(&error, DataError::Idx { source: IdxError::OverLimit { limit: l, .. }, .. } if *l == limit),
        "{error}"
    );
}

#[test]
fn a_header_promising_more_than_the_file_holds_is_rejected() {
    // 4 GiB promised, 3 bytes there: raw, gzip, and through a reader of unknown length.
    let mut bytes = vec![0, 0, 0x08, 1, 0xFF, 0xFF, 0xFF, 0xFF];
    bytes.extend_from_slice(&[1, 2, 3]);
    let expected = u64::from(u32::MAX);
    for error in [
        parse_idx(&bytes).unwrap_err(),
        parse_idx(&gzip(&bytes)).unwrap_err(),
        read_idx(OneByteAtATime(&bytes)).unwrap_err(),
    ] {
        assert!(
            matches!(error, IdxError::Truncated { expected: e, found: 3, .. } if e == expected),
            "{error}"
        );
        assert!(error.to_string().contains("4294967295"), "{error}");
    }
}

#[test]
fn a_truncated_file_is_rejected() {
    let raw = IdxArray::new(vec![10, 2], IdxData::I32((0..20).collect())).to_bytes();
    let short = &raw[..raw.len() - 1];
    for error in [
        parse_idx(short).unwrap_err(),
        read_idx(OneByteAtATime(short)).unwrap_err(),
    ] {
        assert!(
            matches!(
                error,
                IdxError::Truncated {
                    expected: 80,
                    found: 79,
                    ..
                }
            ),
            "{error}"
        );
    }
    // A complete gzip stream of truncated content.
    let error = parse_idx(&gzip(short)).unwrap_err();
    assert!(
        matches!(
            error,
            IdxError::Truncated {
                expected: 80,
                found: 79,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn trailing_garbage_is_rejected() {
    let mut raw = IdxArray::new(vec![3], IdxData::U8(vec![1, 2, 3])).to_bytes();
    raw.push(0);
    for error in [
        parse_idx(&raw).unwrap_err(),
        parse_idx(&gzip(&raw)).unwrap_err(),
        read_idx(OneByteAtATime(&raw)).unwrap_err(),
    ] {
        assert!(
            matches!(error, IdxError::TrailingBytes { expected: 3 }),
            "{error}"
        );
    }
}

#[test]
fn garbage_after_the_gzip_stream_is_rejected() {
    let raw = IdxArray::new(vec![3], IdxData::U8(vec![1, 2, 3])).to_bytes();
    let mut compressed = gzip(&raw);
    compressed.extend_from_slice(b"not gzip");
    let error = parse_idx(&compressed).unwrap_err();
    assert!(matches!(error, IdxError::Gzip(_)), "{error}");
}

#[test]
fn concatenated_gzip_members_are_one_stream() {
    // gzip allows several members; `cat a.gz b.gz` decompresses to a then b.
    let raw = IdxArray::new(vec![4], IdxData::U8(vec![1, 2, 3, 4])).to_bytes();
    let (head, tail) = raw.split_at(6);
    let mut compressed = gzip(head);
    compressed.extend(gzip(tail));
    assert_eq!(
        parse_idx(&compressed).unwrap().data(),
        &IdxData::U8(vec![1, 2, 3, 4])
    );
}

#[test]
fn corrupt_gzip_streams_are_rejected() {
    let raw = IdxArray::new(vec![100], IdxData::U8((0..100).collect())).to_bytes();
    let compressed = gzip(&raw);

    // A wrong CRC (the 8 trailer bytes are CRC-32 and size).
    let mut bad_crc = compressed.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 0xFF;
    // A stream cut short.
    let cut = &compressed[..compressed.len() / 2];
    // A damaged deflate block.
    let mut damaged = compressed.clone();
    for byte in &mut damaged[10..20] {
        *byte = 0xFF;
    }
    for (what, bytes) in [
        ("crc", &bad_crc[..]),
        ("cut", cut),
        ("damaged", &damaged[..]),
    ] {
        let error = parse_idx(bytes).unwrap_err();
        assert!(
            matches!(error, IdxError::Gzip(_) | IdxError::Truncated { .. }),
            "{what}: {error}"
        );
        assert!(read_idx(OneByteAtATime(bytes)).is_err(), "{what}");
    }
    assert!(matches!(
        parse_idx(&bad_crc).unwrap_err(),
        IdxError::Gzip(_)
    ));
    assert!(matches!(parse_idx(cut).unwrap_err(), IdxError::Gzip(_)));
}

#[test]
fn files_are_read_raw_and_gzip_and_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let array = IdxArray::new(vec![2, 2], IdxData::F32(vec![1.0, 2.0, 3.0, 4.0]));
    let raw_path = dir.path().join("a-idx2-float");
    let gz_path = dir.path().join("a-idx2-float.gz");
    std::fs::write(&raw_path, array.to_bytes()).unwrap();
    std::fs::write(&gz_path, gzip(&array.to_bytes())).unwrap();
    assert_eq!(read_idx_file(&raw_path).unwrap(), array);
    assert_eq!(read_idx_file(&gz_path).unwrap(), array);

    let broken = dir.path().join("broken-idx1-ubyte");
    std::fs::write(&broken, [0, 0, 0x08, 1, 0, 0, 0, 9, 1]).unwrap();
    let error = read_idx_file(&broken).unwrap_err();
    assert!(matches!(
        error,
        DataError::Idx {
            source: IdxError::Truncated { .. },
            ..
        }
    ));
    assert!(error.to_string().contains("broken-idx1-ubyte"), "{error}");

    let missing = dir.path().join("missing");
    let error = read_idx_file(&missing).unwrap_err();
    assert!(matches!(error, DataError::Io { .. }));
    assert!(error.to_string().contains("missing"), "{error}");
}

#[test]
#[should_panic(expected = "does not hold 3 elements")]
fn a_shape_that_does_not_fit_the_data_is_a_programmer_error() {
    IdxArray::new(vec![2, 2], IdxData::U8(vec![1, 2, 3]));
}
