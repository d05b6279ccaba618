//! Checkpoint files as an attacker or an unlucky user would hand them over (issue 18): each
//! crafted file is refused with a clear error, quickly and without a large allocation; saves
//! are deterministic, atomic and safe against each other; files of the old binary still load.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use length_layers::{Activation, MLP, MlpConfig, Model};
use length_train::checkpoint::{self, Checkpoint, CheckpointError, FORMAT, MAX_HEADER_BYTES};
use serde_json::{Value, json};

/// A small model of LENGTH's shape: 784-16-10, about 51 KB on disk.
fn small_model(seed: u64) -> MLP {
    MlpConfig::new([784, 16, 10])
        .activation(Activation::ReLU)
        .seed(seed)
        .build()
        .unwrap()
}

/// The bytes of a safetensors file with the given header entries and data section.
fn craft(header: Value, data: &[u8]) -> Vec<u8> {
    let json = header.to_string().into_bytes();
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend(json);
    bytes.extend(data);
    bytes
}

/// The header of `bytes` (a valid file) as JSON, and its data section.
fn split(bytes: &[u8]) -> (Value, Vec<u8>) {
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    (header, bytes[8 + len..].to_vec())
}

/// A valid file of `small_model(1)` whose architecture metadata says `architecture`.
fn with_architecture(architecture: &str) -> Vec<u8> {
    let (mut header, data) = split(&Checkpoint::from_model(&small_model(1)).to_bytes());
    header["__metadata__"]["architecture"] = Value::from(architecture);
    craft(header, &data)
}

/// Loads `bytes` as an MLP, expecting an error; checks that it came quickly.
fn refused(bytes: &[u8]) -> CheckpointError {
    let start = Instant::now();
    let error = checkpoint::mlp_from_bytes(bytes).expect_err("the file must be refused");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "refusing took {:?}: {error}",
        start.elapsed()
    );
    error
}

#[test]
fn an_architecture_larger_than_the_file_is_refused_before_it_is_built() {
    // Today's loader built this model first: 3.1 GB for a 51 KB file.
    let error = refused(&with_architecture("sizes=784,1000000,10 activation=relu"));
    assert!(matches!(error, CheckpointError::Mismatch { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("\"fc1.weight\" must have shape [1000000, 784]"),
        "{message}"
    );

    // Today's loader aborted on this one ("memory allocation failed").
    let error = refused(&with_architecture("sizes=784,3000000,10"));
    assert!(matches!(error, CheckpointError::Mismatch { .. }), "{error}");
}

#[test]
fn a_size_of_u64_max_is_an_error_not_a_panic() {
    let error = refused(&with_architecture("sizes=784,18446744073709551615,10"));
    assert!(matches!(error, CheckpointError::Mismatch { .. }), "{error}");

    // The same size in a tensor's shape: its byte count overflows.
    let (mut header, data) = split(&Checkpoint::from_model(&small_model(1)).to_bytes());
    header["fc1.bias"]["shape"] = json!([u64::MAX]);
    let error = refused(&craft(header, &data));
    assert!(error.to_string().contains("too large to exist"), "{error}");
}

#[test]
fn four_hundred_layers_of_4096_in_a_small_file_are_refused() {
    let mut sizes = vec!["784".to_string()];
    sizes.extend(std::iter::repeat_n("4096".to_string(), 400));
    sizes.push("10".to_string());
    let architecture = format!("sizes={}", sizes.join(","));
    let error = refused(&with_architecture(&architecture));
    let message = error.to_string();
    assert!(
        message.contains("it needs 802 tensors, the file holds 4"),
        "{message}"
    );

    // The same model declared tensor by tensor: the header is small, the tensors would need
    // 27 GB, the file has none of it.
    let mut header = json!({"__metadata__": {"format": FORMAT, "architecture": architecture}});
    let mut offset = 0u64;
    for (k, pair) in sizes.windows(2).enumerate() {
        let (inputs, outputs): (u64, u64) = (pair[0].parse().unwrap(), pair[1].parse().unwrap());
        for (name, shape) in [
            (format!("fc{}.weight", k + 1), vec![outputs, inputs]),
            (format!("fc{}.bias", k + 1), vec![outputs]),
        ] {
            let bytes = 4 * shape.iter().product::<u64>();
            header[name] =
                json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]});
            offset += bytes;
        }
    }
    let file = craft(header, &[0; 4096]);
    assert!(
        file.len() < 100_000,
        "the crafted header alone is {} bytes",
        file.len()
    );
    let error = refused(&file);
    assert!(
        matches!(error, CheckpointError::BeyondFile { .. }),
        "{error}"
    );
}

#[test]
fn a_header_that_claims_more_than_the_file_holds_is_refused() {
    let bytes = Checkpoint::from_model(&small_model(1)).to_bytes();

    // The header length is larger than the file.
    let mut lying = bytes.clone();
    lying[..8].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
    let error = refused(&lying);
    assert!(
        matches!(error, CheckpointError::BeyondFile { .. }),
        "{error}"
    );

    // The header length is absurd.
    lying[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        refused(&lying),
        CheckpointError::HeaderTooLarge { .. }
    ));
    lying[..8].copy_from_slice(&(MAX_HEADER_BYTES + 1).to_le_bytes());
    assert!(matches!(
        refused(&lying),
        CheckpointError::HeaderTooLarge { .. }
    ));

    // The tensors declare more bytes than follow the header (the file was cut short).
    let error = refused(&bytes[..bytes.len() - 4]);
    assert!(
        matches!(error, CheckpointError::BeyondFile { .. }),
        "{error}"
    );

    // More bytes follow than the tensors declare.
    let mut longer = bytes.clone();
    longer.extend([0; 4]);
    refused(&longer);

    // Too short to say anything.
    assert!(matches!(
        refused(&bytes[..5]),
        CheckpointError::TooShort { len: 5 }
    ));
}

#[test]
fn tensors_must_tile_the_data_and_be_f32() {
    let bytes = Checkpoint::from_model(&small_model(1)).to_bytes();
    let (header, data) = split(&bytes);

    let mut overlapping = header.clone();
    overlapping["fc2.bias"]["data_offsets"] = json!([0, 40]);
    refused(&craft(overlapping, &data));

    let mut half = header.clone();
    half["fc1.bias"]["dtype"] = json!("F16");
    let error = refused(&craft(half, &data));
    assert!(error.to_string().contains("its dtype is F16"), "{error}");

    let mut wrong_count = header;
    wrong_count["fc1.bias"]["shape"] = json!([15]);
    refused(&craft(wrong_count, &data));
}

#[test]
fn non_finite_weights_are_refused() {
    for (bad, index) in [(f32::NAN, 0), (f32::INFINITY, 5), (f32::NEG_INFINITY, 9)] {
        let mut model = small_model(1);
        model.parameter_mut("fc2.bias").unwrap()[[index]] = bad;
        let error = refused(&Checkpoint::from_model(&model).to_bytes());
        let CheckpointError::NonFinite {
            name, index: at, ..
        } = &error
        else {
            panic!("expected NonFinite, got {error}");
        };
        assert_eq!((name.as_str(), *at), ("fc2.bias", index));
        assert!(error.to_string().contains("diverged"), "{error}");
    }
    // All NaN, as a diverged run leaves them.
    let mut model = small_model(1);
    model.parameter_mut("fc1.weight").unwrap().fill(f32::NAN);
    refused(&Checkpoint::from_model(&model).to_bytes());
}

#[test]
fn foreign_files_are_refused() {
    let (mut header, data) = split(&Checkpoint::from_model(&small_model(1)).to_bytes());
    header["__metadata__"]["format"] = json!("pt");
    let error = refused(&craft(header.clone(), &data));
    assert!(matches!(error, CheckpointError::Format { .. }), "{error}");
    header["__metadata__"] = json!({"format": FORMAT});
    assert!(matches!(
        refused(&craft(header, &data)),
        CheckpointError::Architecture(_)
    ));
    refused(b"not a model at all");
    refused(&[]);
}

#[test]
fn devices_directories_and_sparse_files_are_refused_quickly() {
    let start = Instant::now();
    let error = checkpoint::load_mlp("/dev/zero").unwrap_err();
    assert!(
        matches!(error.cause(), CheckpointError::NotAFile),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .starts_with("/dev/zero: not a regular file"),
        "{error}"
    );

    let dir = tempfile::tempdir().unwrap();
    let error = checkpoint::load_mlp(dir.path()).unwrap_err();
    assert!(
        matches!(error.cause(), CheckpointError::NotAFile),
        "{error}"
    );

    // 3 GB of nothing: a header length of 0 and no header.
    let sparse = dir.path().join("sparse.safetensors");
    fs::File::create(&sparse).unwrap().set_len(3 << 30).unwrap();
    assert!(checkpoint::load_mlp(&sparse).is_err());

    // A real model followed by a 3 GB hole.
    let padded = dir.path().join("padded.safetensors");
    fs::write(&padded, Checkpoint::from_model(&small_model(1)).to_bytes()).unwrap();
    fs::File::options()
        .write(true)
        .open(&padded)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    let error = checkpoint::load_mlp(&padded).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the tensors cover 50920 bytes of data, but the file has 3221225032"),
        "{error}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn the_same_model_gives_the_same_bytes() {
    let model = small_model(4);
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let facts = [
        ("data_set", "mnist"),
        ("epochs", "1"),
        ("optimizer", "sgd"),
        ("z", "last"),
    ];
    let mut forwards = Checkpoint::from_model(&model);
    for (key, value) in facts {
        forwards = forwards.with_fact(key, value);
    }
    let mut backwards = Checkpoint::from_model(&model);
    for (key, value) in facts.iter().rev() {
        backwards = backwards.with_fact(*key, *value);
    }
    forwards.save(&a).unwrap();
    backwards.save(&b).unwrap();
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
}

#[test]
fn the_files_are_what_the_safetensors_crate_writes_and_reads() {
    let model = small_model(2);
    let checkpoint = Checkpoint::from_model(&model);
    let bytes = checkpoint.to_bytes();

    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    for (name, value) in model.parameters() {
        let view = file.tensor(&name).unwrap();
        assert_eq!(view.shape(), value.shape());
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(values, value.iter().copied().collect::<Vec<_>>(), "{name}");
    }

    // With a single metadata key (so that the HashMap's order cannot differ) the bytes are
    // exactly the crate's.
    let mut one_fact = checkpoint.clone();
    one_fact.metadata.retain(|key, _| key == "format");
    let views: Vec<(String, Vec<u8>, Vec<usize>)> = one_fact
        .tensors
        .iter()
        .map(|(name, t)| {
            let bytes = t.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name.clone(), bytes, t.shape().to_vec())
        })
        .collect();
    let tensors: Vec<(&str, safetensors::tensor::TensorView)> = views
        .iter()
        .map(|(name, bytes, shape)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                    .unwrap();
            (name.as_str(), view)
        })
        .collect();
    let metadata = Some(one_fact.metadata.clone().into_iter().collect());
    let theirs = safetensors::serialize(tensors, metadata).unwrap();
    assert_eq!(one_fact.to_bytes(), theirs);
}

#[test]
fn a_model_saved_by_the_old_binary_loads() {
    // Written by `length train --hidden 16 --activation relu --num-epochs 1 --limit-batches 20
    // --seed 3 --save ...` before checkpoints moved into this crate.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/old-binary-784-16-10.safetensors");
    let loaded = checkpoint::load_mlp(&path).unwrap();
    assert_eq!(loaded.model.config().sizes, [784, 16, 10]);
    assert_eq!(loaded.model.config().activation, Activation::ReLU);
    assert_eq!(loaded.metadata["data_set"], "mnist");
    assert!(!loaded.model.is_training());
    let bytes = fs::read(&path).unwrap();
    let reference = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    for (name, value) in loaded.model.parameters() {
        let data = reference.tensor(&name).unwrap().data().to_vec();
        let expected: Vec<f32> = data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(
            value.iter().copied().collect::<Vec<_>>(),
            expected,
            "{name}"
        );
    }
    // Saved again, it gives the same tensors and metadata.
    let again = Checkpoint::from_bytes(&Checkpoint::read(&path).unwrap().to_bytes()).unwrap();
    assert_eq!(again, Checkpoint::read(&path).unwrap());
}

#[test]
fn concurrent_saves_to_one_path_leave_one_whole_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.safetensors");
    let models = [
        Checkpoint::from_model(&small_model(1)),
        Checkpoint::from_model(&small_model(2)),
    ];
    models[0].save(&path).unwrap();
    let rounds = 30;
    std::thread::scope(|scope| {
        for model in &models {
            let path = &path;
            scope.spawn(move || {
                for _ in 0..rounds {
                    model
                        .save(path)
                        .expect("a save must not fail because of another");
                }
            });
        }
        // Meanwhile every read sees one whole model.
        scope.spawn(|| {
            for _ in 0..rounds {
                let read = Checkpoint::read(&path).expect("the file is always whole");
                assert!(models.contains(&read));
            }
        });
    });
    let last = Checkpoint::read(&path).unwrap();
    assert!(models.contains(&last));
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| name != "shared.safetensors")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_save_into_a_full_file_system_leaves_nothing_behind() {
    // A 64 KiB tmpfs (needs root); without one, the injected write failure in atomic.rs's
    // tests covers the same path.
    let mount = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(mount.path())
        .status()
        .is_ok_and(|status| status.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    let path = mount.path().join("model.safetensors");
    let small = Checkpoint::from_model(&MlpConfig::new([4, 2]).build().unwrap());
    small.save(&path).unwrap();
    // 784-32-10 is about 100 KB: it does not fit.
    let large = Checkpoint::from_model(&MlpConfig::new([784, 32, 10]).build().unwrap());
    let error = large.save(&path).unwrap_err();
    let names: Vec<_> = fs::read_dir(mount.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    let kept = Checkpoint::read(&path);
    let _ = std::process::Command::new("umount")
        .arg(mount.path())
        .status();
    assert!(error.to_string().contains("model.safetensors"), "{error}");
    assert_eq!(names, ["model.safetensors"], "only the old file: {error}");
    assert_eq!(kept.unwrap(), small, "the old file is untouched");
}

#[test]
fn an_empty_tensor_with_an_impossible_shape_is_an_error_not_a_panic() {
    // No bytes (one dimension is 0), but the other dimensions overflow an array's index type.
    for shape in [
        json!([0, u64::MAX]),
        json!([u64::MAX, 0]),
        json!([0, 1u64 << 62, 4]),
    ] {
        let header = json!({
            "__metadata__": {"format": FORMAT},
            "empty": {"dtype": "F32", "shape": shape, "data_offsets": [0, 0]}
        });
        let error = Checkpoint::from_bytes(&craft(header, &[])).unwrap_err();
        assert!(error.to_string().contains("too large to exist"), "{error}");
    }
}
