//! Batching on small in-memory data sets: shapes, scaling, dropping or keeping the last batch,
//! shuffling per epoch, and the errors for options and data that cannot work.

use length_data::{
    BatchConfig, Batches, DataError, DataSet, DataSetName, MnistLike, MnistOptions, Samples,
};
use std::collections::BTreeSet;

/// `count` (at most 250) images of 3x2 pixels; image i has pixels i, i+1, …, i+5 and label
/// i mod 10, so its first pixel tells which sample it is.
fn samples(count: usize) -> Samples {
    assert!(count <= 250);
    let pixels = (0..count)
        .flat_map(|i| (0..6).map(move |p| (i + p) as u8))
        .collect();
    let labels = (0..count).map(|i| (i % 10) as u8).collect();
    Samples::new(pixels, labels, [3, 2]).unwrap()
}

fn config(batch_size: usize) -> BatchConfig {
    BatchConfig {
        batch_size,
        scale: None,
        sample_dimensions: 1,
        keep_last_batch: false,
    }
}

/// The label sequence of a whole epoch.
fn epoch_labels(mut batches: Batches<'_>) -> Vec<u32> {
    let mut labels = Vec::new();
    while let Some(batch) = batches.next_batch() {
        labels.extend(batch.labels.iter().copied());
    }
    labels
}

/// Which samples an epoch serves, in order (read from their first pixels; needs `scale: None`).
fn epoch_samples(mut batches: Batches<'_>) -> Vec<usize> {
    let mut firsts = Vec::new();
    while let Some(batch) = batches.next_batch() {
        firsts.extend(
            batch
                .images_2d()
                .rows()
                .into_iter()
                .map(|row| row[0] as usize),
        );
    }
    firsts
}

#[test]
fn the_last_incomplete_batch_is_dropped_unless_kept() {
    let data = samples(10);
    let mut dropped = Batches::in_order(&data, &config(4));
    assert_eq!(dropped.len(), 2);
    let sizes: Vec<usize> = std::iter::from_fn(|| dropped.next_batch().map(|b| b.len())).collect();
    assert_eq!(sizes, vec![4, 4]);

    let kept_config = BatchConfig {
        keep_last_batch: true,
        ..config(4)
    };
    let mut kept = Batches::in_order(&data, &kept_config);
    assert_eq!(kept.len(), 3);
    let sizes: Vec<usize> = std::iter::from_fn(|| kept.next_batch().map(|b| b.len())).collect();
    assert_eq!(sizes, vec![4, 4, 2]);
    assert!(kept.is_empty());

    // An exact multiple has no incomplete batch either way.
    assert_eq!(
        Batches::in_order(
            &data,
            &BatchConfig {
                keep_last_batch: true,
                ..config(5)
            }
        )
        .len(),
        2
    );
}

#[test]
fn images_and_labels_come_in_file_order_with_raw_values_without_scale() {
    let data = samples(4);
    let mut batches = Batches::in_order(&data, &config(2));
    let first = batches.next_batch().unwrap();
    assert_eq!(first.images.shape(), &[2, 6]);
    assert_eq!(
        first.images.iter().copied().collect::<Vec<f32>>(),
        vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    );
    assert_eq!(first.labels.to_vec(), vec![0, 1]);
    assert_eq!(first.labels_u8, &[0, 1]);
    let second = batches.next_batch().unwrap();
    assert_eq!(second.images[[1, 5]], 8.0);
    assert_eq!(second.labels.to_vec(), vec![2, 3]);
    assert!(batches.next_batch().is_none());
}

#[test]
fn scale_maps_bytes_to_value_over_255_times_scale() {
    let pixels: Vec<u8> = (0..=255).collect();
    let data = Samples::new(pixels.clone(), vec![0], [16, 16]).unwrap();
    for scale in [1.0f32, 2.0, 0.5, -3.0] {
        let cfg = BatchConfig {
            scale: Some(scale),
            ..config(1)
        };
        let mut batches = Batches::in_order(&data, &cfg);
        let batch = batches.next_batch().unwrap();
        for (&value, &byte) in batch.images.iter().zip(&pixels) {
            assert_eq!(
                value,
                byte as f32 / 255.0 * scale,
                "byte {byte}, scale {scale}"
            );
        }
    }
}

#[test]
fn sample_dimensions_shape_the_images() {
    let data = samples(6);
    let shapes: Vec<Vec<usize>> = (1..=3)
        .map(|dims| {
            let cfg = BatchConfig {
                sample_dimensions: dims,
                ..config(3)
            };
            let mut batches = Batches::in_order(&data, &cfg);
            let batch = batches.next_batch().unwrap();
            // Same values whatever the shape.
            assert_eq!(
                batch.images_2d(),
                Batches::in_order(&data, &config(3))
                    .next_batch()
                    .unwrap()
                    .images_2d()
            );
            batch.images.shape().to_vec()
        })
        .collect();
    assert_eq!(shapes, vec![vec![3, 6], vec![3, 3, 2], vec![3, 1, 3, 2]]);
}

#[test]
fn the_owned_iterator_serves_the_same_batches() {
    let data = samples(7);
    let cfg = BatchConfig {
        keep_last_batch: true,
        scale: Some(1.0),
        ..config(3)
    };
    let owned: Vec<_> = Batches::in_order(&data, &cfg).collect();
    assert_eq!(owned.len(), 3);
    let mut lending = Batches::in_order(&data, &cfg);
    for (images, labels) in owned {
        let batch = lending.next_batch().unwrap();
        assert_eq!(images, batch.images);
        assert_eq!(labels, batch.labels);
    }
    assert_eq!(Batches::in_order(&data, &cfg).size_hint(), (3, Some(3)));
}

/// A pending batch converts into a buffer of the caller's the very values `next_batch` serves,
/// with the same labels: in file order and shuffled, scaled or raw, with the last incomplete
/// batch kept.
#[test]
fn pending_batches_convert_to_what_next_batch_serves() {
    let data = samples(11);
    for scale in [None, Some(1.0), Some(2.5)] {
        let cfg = BatchConfig {
            keep_last_batch: true,
            scale,
            ..config(4)
        };
        for shuffled in [false, true] {
            let epoch = |cfg: &BatchConfig| {
                if shuffled {
                    Batches::shuffled(&data, cfg, 7, 2)
                } else {
                    Batches::in_order(&data, cfg)
                }
            };
            let (mut lending, mut pending) = (epoch(&cfg), epoch(&cfg));
            let mut served = 0;
            while let Some(batch) = lending.next_batch() {
                let next = pending.next_pending().expect("as many batches");
                let mut images = vec![f32::NAN; next.len() * next.image_len()];
                next.images_into(&mut images);
                assert_eq!(
                    images,
                    batch.images_2d().iter().copied().collect::<Vec<_>>()
                );
                assert_eq!(
                    (next.labels, next.labels_u8),
                    (batch.labels, batch.labels_u8)
                );
                served += next.len();
            }
            assert!(pending.next_pending().is_none());
            assert_eq!(served, 11, "scale {scale:?}, shuffled {shuffled}");
        }
    }
}

#[test]
fn the_following_images_are_the_next_batch_s_image_by_image() {
    let data = samples(11);
    for keep_last_batch in [false, true] {
        let cfg = BatchConfig {
            keep_last_batch,
            scale: Some(2.5),
            ..config(4)
        };
        for shuffled in [false, true] {
            let epoch = || {
                if shuffled {
                    Batches::shuffled(&data, &cfg, 7, 2)
                } else {
                    Batches::in_order(&data, &cfg)
                }
            };
            let (mut lending, mut pending) = (epoch(), epoch());
            let mut ahead: Option<Vec<f32>> = None;
            let mut batches = 0;
            while let Some(batch) = pending.next_pending() {
                let served = lending.next_batch().expect("as many batches");
                let served: Vec<f32> = served.images_2d().iter().copied().collect();
                if let Some(ahead) = ahead.take() {
                    assert_eq!(ahead, served, "shuffled {shuffled}, batch {batches}");
                }
                ahead = batch.following().map(|next| {
                    let mut images = vec![f32::NAN; next.len() * next.image_len()];
                    // Image by image, last first: any order a team of threads might take.
                    for (k, image) in images.chunks_mut(next.image_len()).enumerate().rev() {
                        next.image_into(k, image);
                    }
                    images
                });
                batches += 1;
            }
            assert!(ahead.is_none(), "the last batch has no following one");
            let expected = if keep_last_batch { 3 } else { 2 };
            assert_eq!(batches, expected, "keep_last_batch {keep_last_batch}");
        }
    }
}

#[test]
fn pixels_into_gives_the_images_transposed_in_slabs_of_any_order() {
    // 37 images: two whole blocks of 16 and a block of 5; slabs of 1, 2 and 4 pixels (the last
    // one shorter), converted last first, as a team of threads might take them.
    let data = samples(80);
    for scale in [None, Some(2.5)] {
        let cfg = BatchConfig {
            scale,
            ..config(37)
        };
        let mut batches = Batches::shuffled(&data, &cfg, 3, 1);
        let batch = batches.next_pending().unwrap();
        let (len, pixels) = (batch.len(), batch.image_len());
        let mut images = vec![f32::NAN; len * pixels];
        batch.images_into(&mut images);
        for slab in [1, 2, 4] {
            let mut transposed = vec![f32::NAN; pixels * len];
            for (index, rows) in transposed.chunks_mut(slab * len).enumerate().rev() {
                batch.images.pixels_into(index * slab, rows);
            }
            for (k, image) in images.chunks(pixels).enumerate() {
                for (p, &value) in image.iter().enumerate() {
                    assert_eq!(
                        transposed[p * len + k].to_bits(),
                        value.to_bits(),
                        "{scale:?}"
                    );
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "pixels 5.. of 4 images of 6 pixels into 8 floats")]
fn pixels_past_the_last_one_panic() {
    let data = samples(8);
    let mut batches = Batches::in_order(&data, &config(4));
    let batch = batches.next_pending().unwrap();
    batch.images.pixels_into(5, &mut [0.0; 8]);
}

#[test]
#[should_panic(expected = "image 4 of 4 (6 pixels) into 6 floats")]
fn an_image_index_past_the_batch_panics() {
    let data = samples(8);
    let mut batches = Batches::in_order(&data, &config(4));
    let following = batches.next_pending().unwrap().following().unwrap();
    following.image_into(4, &mut [0.0; 6]);
}

#[test]
#[should_panic(expected = "4 images of 6 pixels into 23 floats")]
fn a_pending_batch_needs_a_buffer_of_its_size() {
    let data = samples(8);
    let mut batches = Batches::in_order(&data, &config(4));
    let batch = batches.next_pending().unwrap();
    batch.images_into(&mut [0.0; 23]);
}

#[test]
fn without_shuffle_every_epoch_is_in_file_order() {
    let options = MnistOptions {
        batch_size: 5,
        scale: None,
        ..MnistOptions::default()
    };
    let data = MnistLike::from_samples(
        DataSetName::Mnist,
        Some(samples(20)),
        Some(samples(10)),
        &options,
    )
    .unwrap();
    let in_order: Vec<usize> = (0..20).collect();
    assert_eq!(epoch_samples(data.train()), in_order);
    assert_eq!(epoch_samples(data.train()), in_order);
    assert_eq!(epoch_samples(data.test()), (0..10).collect::<Vec<_>>());
}

#[test]
fn shuffling_draws_a_new_permutation_each_epoch_reproducibly() {
    let options = MnistOptions {
        batch_size: 10,
        scale: None,
        shuffle: true,
        seed: 42,
        ..MnistOptions::default()
    };
    let data = MnistLike::from_samples(
        DataSetName::Mnist,
        Some(samples(100)),
        Some(samples(10)),
        &options,
    )
    .unwrap();
    let epoch0 = epoch_samples(data.train());
    let epoch1 = epoch_samples(data.train());
    // Each epoch serves every sample once, in a different order.
    for epoch in [&epoch0, &epoch1] {
        assert_eq!(
            epoch.iter().copied().collect::<BTreeSet<_>>(),
            (0..100).collect()
        );
        assert_ne!(epoch, &(0..100).collect::<Vec<_>>());
    }
    assert_ne!(epoch0, epoch1);
    // Labels travel with their images.
    let mut first = data.train_epoch(0);
    let batch = first.next_batch().unwrap();
    for (row, &label) in batch
        .images_2d()
        .rows()
        .into_iter()
        .zip(batch.labels.iter())
    {
        assert_eq!(row[0] as u32 % 10, label);
    }
    // The same seed gives the same orders; another seed other orders.
    let again =
        MnistLike::from_samples(DataSetName::Mnist, Some(samples(100)), None, &options).unwrap();
    assert_eq!(epoch_samples(again.train()), epoch0);
    assert_eq!(epoch_samples(again.train()), epoch1);
    assert_eq!(epoch_samples(again.train_epoch(1)), epoch1);
    let other = MnistOptions {
        seed: 43,
        ..options.clone()
    };
    let other =
        MnistLike::from_samples(DataSetName::Mnist, Some(samples(100)), None, &other).unwrap();
    assert_ne!(epoch_samples(other.train()), epoch0);
    // The test split is never shuffled.
    assert_eq!(epoch_labels(data.test()), (0..10).collect::<Vec<u32>>());
}

#[test]
fn options_that_cannot_work_are_errors() {
    let bad = [
        MnistOptions {
            batch_size: 0,
            ..MnistOptions::default()
        },
        MnistOptions {
            sample_dimensions: 0,
            ..MnistOptions::default()
        },
        MnistOptions {
            sample_dimensions: 4,
            ..MnistOptions::default()
        },
        MnistOptions {
            scale: Some(f32::NAN),
            ..MnistOptions::default()
        },
    ];
    for options in bad {
        let error = MnistLike::from_samples(DataSetName::Mnist, Some(samples(3)), None, &options)
            .unwrap_err();
        assert!(
            matches!(error, DataError::InvalidOption(_)),
            "{options:?}: {error}"
        );
    }
}

#[test]
fn labels_outside_the_ten_classes_are_errors() {
    let data = Samples::new(vec![0; 8], vec![3, 10], [2, 2]).unwrap();
    let error = MnistLike::from_samples(
        DataSetName::FashionMnist,
        Some(data),
        None,
        &MnistOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(error, DataError::Format { .. }), "{error}");
    assert!(
        error.to_string().contains("label 10 of sample 1"),
        "{error}"
    );
}

#[test]
fn samples_must_match_their_labels() {
    let error = Samples::new(vec![0; 7], vec![1, 2], [2, 2]).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("7 pixels are not 2 images of 2x2"),
        "{error}"
    );
}

#[test]
#[should_panic(expected = "the test split was not loaded")]
fn asking_for_a_split_that_was_not_loaded_is_a_programmer_error() {
    let data = MnistLike::from_samples(
        DataSetName::Mnist,
        Some(samples(3)),
        None,
        &MnistOptions::default(),
    )
    .unwrap();
    let _ = data.test();
}

#[test]
fn data_set_names_parse() {
    assert_eq!("mnist".parse(), Ok(DataSetName::Mnist));
    assert_eq!("Fashion".parse(), Ok(DataSetName::FashionMnist));
    assert_eq!("fashion-mnist".parse(), Ok(DataSetName::FashionMnist));
    assert!("cifar".parse::<DataSetName>().is_err());
    assert_eq!(DataSetName::FashionMnist.to_string(), "fashion-mnist");
}
