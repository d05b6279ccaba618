//! MNIST through the facade, as a user's crate gets it: `length::data::Mnist::load` into an
//! empty data directory fetches the four files on first use (the facade's default `download`
//! feature), from the mirror named by `LENGTH_DATA_MIRROR` (CI points it at the shared copy of the
//! data sets; without it, the public hosts are tried), verifies them and loads them. (Built only
//! with the `download` feature.)

#![cfg(feature = "download")]

use length::data::{DataSet, Mnist, MnistOptions, TRAIN_IMAGES};

#[test]
fn mnist_loads_through_the_facade_into_an_empty_data_directory() {
    let data_dir = tempfile::tempdir().unwrap();
    let options = MnistOptions {
        batch_size: 100,
        data_dir: Some(data_dir.path().to_path_buf()),
        ..MnistOptions::default()
    };
    let mnist = Mnist::load(&options).unwrap();

    assert!(data_dir.path().join("mnist").join(TRAIN_IMAGES).is_file());
    assert_eq!(mnist.train_samples().unwrap().len(), 60_000);
    assert_eq!(mnist.test_samples().unwrap().len(), 10_000);
    assert_eq!(mnist.train().len(), 600);
    // MNIST's first training image is a 5, its first test image a 7.
    assert_eq!(mnist.train_samples().unwrap().label(0), 5);
    assert_eq!(mnist.test_samples().unwrap().label(0), 7);

    // A second load finds the files verified and fetches nothing.
    let again = Mnist::load(&options).unwrap();
    assert_eq!(again.train_samples(), mnist.train_samples());
}
