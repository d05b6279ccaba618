//! Loading a data set folder whose files are missing or do not form a data set: each case is an
//! error that names the file and says what is wrong.

use flate2::Compression;
use flate2::write::GzEncoder;
use length_data::idx::{IdxArray, IdxData};
use length_data::{
    DataError, Mnist, MnistOptions, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS,
};
use std::io::Write;
use std::path::Path;

fn write_gz(path: &Path, array: &IdxArray) {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(&array.to_bytes()).unwrap();
    std::fs::write(path, encoder.finish().unwrap()).unwrap();
}

fn u8_array(shape: Vec<usize>) -> IdxArray {
    let n = shape.iter().product();
    IdxArray::new(shape, IdxData::U8(vec![1; n]))
}

const TEST_ONLY: MnistOptions = MnistOptions {
    batch_size: 2,
    scale: None,
    sample_dimensions: 1,
    load_train: false,
    load_test: true,
    shuffle: false,
    seed: 0,
    keep_last_batch: false,
    data_dir: None,
};

#[test]
fn a_missing_file_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let error = Mnist::from_dir(dir.path(), &MnistOptions::default()).unwrap_err();
    assert!(
        matches!(&error, DataError::Missing { path, .. } if path.ends_with(TRAIN_IMAGES)),
        "{error}"
    );
    // Advice that works from any crate: the mirror variable, the folder, a URL.
    let message = error.to_string();
    for needed in [
        "LENGTH_DATA_MIRROR",
        "LENGTH_DATA_DIR",
        &dir.path().display().to_string(),
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "`load` fetches missing files",
    ] {
        assert!(
            message.contains(needed),
            "{needed:?} missing from: {message}"
        );
    }
}

#[test]
fn a_small_valid_folder_loads() {
    let dir = tempfile::tempdir().unwrap();
    write_gz(&dir.path().join(TEST_IMAGES), &u8_array(vec![5, 3, 3]));
    write_gz(&dir.path().join(TEST_LABELS), &u8_array(vec![5]));
    let data = Mnist::from_dir(dir.path(), &TEST_ONLY).unwrap();
    assert_eq!(data.test_samples().unwrap().image_shape(), [3, 3]);
    assert!(data.train_samples().is_none());
    // Not even opened: the training files are not there.
    assert!(!dir.path().join(TRAIN_LABELS).exists());
}

#[test]
fn files_that_do_not_form_a_data_set_are_named_in_the_error() {
    let cases: Vec<(IdxArray, IdxArray, &str)> = vec![
        (
            u8_array(vec![5, 9]),
            u8_array(vec![5]),
            "expected images of shape (count, rows, columns)",
        ),
        (
            u8_array(vec![5, 3, 3]),
            u8_array(vec![5, 1]),
            "expected labels of shape (count,)",
        ),
        (u8_array(vec![5, 3, 3]), u8_array(vec![4]), "5 images, but"),
        (
            IdxArray::new(vec![1, 1, 2], IdxData::F32(vec![0.5, 1.0])),
            u8_array(vec![1]),
            "expected unsigned bytes (IDX type 0x08), found f32",
        ),
    ];
    for (images, labels, problem) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_gz(&dir.path().join(TEST_IMAGES), &images);
        write_gz(&dir.path().join(TEST_LABELS), &labels);
        let error = Mnist::from_dir(dir.path(), &TEST_ONLY).unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, DataError::Format { .. }), "{message}");
        assert!(
            message.contains(problem),
            "expected {problem:?} in {message}"
        );
        assert!(message.contains("t10k-"), "the file is named: {message}");
    }
}

#[test]
fn a_broken_file_is_an_idx_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(TEST_IMAGES), [0x1F, 0x8B, 8, 0, 1, 2, 3]).unwrap();
    write_gz(&dir.path().join(TEST_LABELS), &u8_array(vec![5]));
    let error = Mnist::from_dir(dir.path(), &TEST_ONLY).unwrap_err();
    assert!(matches!(error, DataError::Idx { .. }), "{error}");
    assert!(error.to_string().contains(TEST_IMAGES), "{error}");
}
