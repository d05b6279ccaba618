//! MNIST and Fashion-MNIST, the real files: counts, shapes, first samples, label counts and pixel
//! statistics as published.
//!
//! The files come through the same fetch code users run: from `$LENGTH_DATA_DIR` or the
//! workspace's `.data/`, fetched on first use from `$LENGTH_DATA_MIRROR` (CI sets it to
//! `../shared/datasets`) or the public hosts. These tests never skip: without the data they fail
//! with the error that says what was tried.

use length_data::idx::{IdxData, read_idx_file};
use length_data::{
    DataSet, DataSetName, FashionMnist, Mnist, MnistOptions, TEST_IMAGES, TRAIN_IMAGES, fetch,
    workspace_data_dir,
};

fn options(batch_size: usize) -> MnistOptions {
    MnistOptions {
        batch_size,
        data_dir: Some(workspace_data_dir()),
        ..MnistOptions::default()
    }
}

/// The raw pixel bytes of the first image of a file, read independently of the batching code.
fn first_raw_image(name: DataSetName, file: &str) -> Vec<u8> {
    let dir = fetch::ensure_available(name, &workspace_data_dir()).unwrap();
    let images = read_idx_file(dir.join(file)).unwrap();
    assert_eq!(&images.shape()[1..], &[28, 28]);
    match images.data() {
        IdxData::U8(bytes) => bytes[..784].to_vec(),
        other => panic!("MNIST pixels are u8, found {}", other.element_type()),
    }
}

/// Per-class label counts and the pixels' mean and standard deviation over one epoch.
struct EpochStatistics {
    batches: usize,
    label_counts: [usize; 10],
    mean: f64,
    std: f64,
}

fn epoch_statistics(data: &impl DataSet, train: bool, batch_size: usize) -> EpochStatistics {
    let mut batches = if train { data.train() } else { data.test() };
    let (mut count, mut label_counts, mut sum, mut sum_of_squares, mut pixels) =
        (0, [0; 10], 0.0f64, 0.0f64, 0usize);
    while let Some(batch) = batches.next_batch() {
        assert_eq!(batch.images.shape(), &[batch_size, 784]);
        assert_eq!(batch.labels.shape(), &[batch_size]);
        for &label in batch.labels {
            label_counts[label as usize] += 1;
        }
        for &value in &batch.images {
            sum += f64::from(value);
            sum_of_squares += f64::from(value) * f64::from(value);
        }
        pixels += batch.images.len();
        count += 1;
    }
    let mean = sum / pixels as f64;
    EpochStatistics {
        batches: count,
        label_counts,
        mean,
        std: (sum_of_squares / pixels as f64 - mean * mean).sqrt(),
    }
}

/// `x` rounded to 4 decimals, as the published figures are.
fn four_decimals(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

#[test]
fn mnist_serves_600_training_and_100_test_batches_of_100_with_the_published_statistics() {
    let mnist = Mnist::load(&options(100)).unwrap();
    assert_eq!(mnist.train_samples().unwrap().len(), 60_000);
    assert_eq!(mnist.test_samples().unwrap().len(), 10_000);
    assert_eq!(mnist.train().len(), 600);

    let train = epoch_statistics(&mnist, true, 100);
    assert_eq!(train.batches, 600);
    assert_eq!(
        train.label_counts,
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(four_decimals(train.mean), 0.1307, "mean {}", train.mean);
    assert_eq!(four_decimals(train.std), 0.3081, "std {}", train.std);

    let test = epoch_statistics(&mnist, false, 100);
    assert_eq!(test.batches, 100);
    assert_eq!(test.label_counts.iter().sum::<usize>(), 10_000);
}

#[test]
fn mnist_first_training_sample_is_a_5_scaled_as_asked() {
    let raw = first_raw_image(DataSetName::Mnist, TRAIN_IMAGES);
    assert!(raw.contains(&255) && raw.contains(&0));

    let scaled = Mnist::load(&MnistOptions {
        scale: Some(2.0),
        load_test: false,
        ..options(100)
    })
    .unwrap();
    let mut batches = scaled.train();
    let batch = batches.next_batch().unwrap();
    assert_eq!(batch.labels[0], 5);
    assert_eq!(batch.labels_u8[0], 5);
    let expected: Vec<f32> = raw.iter().map(|&b| b as f32 * 2.0 / 255.0).collect();
    assert_eq!(batch.images.as_slice().unwrap()[..784], expected[..]);

    let unscaled = Mnist::load(&MnistOptions {
        scale: None,
        load_test: false,
        ..options(100)
    })
    .unwrap();
    let mut batches = unscaled.train();
    let batch = batches.next_batch().unwrap();
    let expected: Vec<f32> = raw.iter().map(|&b| f32::from(b)).collect();
    assert_eq!(batch.images.as_slice().unwrap()[..784], expected[..]);
}

#[test]
fn mnist_images_take_2_and_3_dimensions() {
    let raw = first_raw_image(DataSetName::Mnist, TEST_IMAGES);
    for (dims, shape) in [(2, vec![100, 28, 28]), (3, vec![100, 1, 28, 28])] {
        let mnist = Mnist::load(&MnistOptions {
            sample_dimensions: dims,
            scale: None,
            load_train: false,
            ..options(100)
        })
        .unwrap();
        let mut batches = mnist.test();
        assert_eq!(batches.len(), 100);
        let batch = batches.next_batch().unwrap();
        assert_eq!(batch.images.shape(), &shape[..]);
        // Row-major: pixel (row 5, column 14) of the first image.
        let pixel = if dims == 2 {
            batch.images[[0, 5, 14]]
        } else {
            batch.images[[0, 0, 5, 14]]
        };
        assert_eq!(pixel, f32::from(raw[5 * 28 + 14]));
    }
}

#[test]
fn fashion_mnist_has_6000_and_1000_of_each_class_and_starts_with_an_ankle_boot() {
    let fashion = FashionMnist::load(&options(100)).unwrap();
    assert_eq!(fashion.name(), DataSetName::FashionMnist);
    let mut batches = fashion.train();
    assert_eq!(batches.next_batch().unwrap().labels[0], 9);

    let train = epoch_statistics(&fashion, true, 100);
    assert_eq!(train.batches, 600);
    assert_eq!(train.label_counts, [6000; 10]);
    let test = epoch_statistics(&fashion, false, 100);
    assert_eq!(test.batches, 100);
    assert_eq!(test.label_counts, [1000; 10]);
}
