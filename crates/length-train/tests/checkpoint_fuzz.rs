//! A short fuzz of checkpoint loading that runs with the tests (the long one is `fuzz/`): random
//! mutations of a valid small file never make loading panic, and whatever loads is a model
//! whose parameters are finite and fit its architecture.

use length_layers::{Activation, MLP, MlpConfig, Model};
use length_train::checkpoint::{self, Checkpoint};
use proptest::prelude::*;

/// A valid file: a 5-4-3 ReLU MLP.
fn valid_file() -> Vec<u8> {
    let model: MLP = MlpConfig::new([5, 4, 3])
        .activation(Activation::ReLU)
        .seed(11)
        .build()
        .unwrap();
    Checkpoint::from_model(&model).to_bytes()
}

/// One change to a file's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    /// Sets the byte at this position (taken modulo the length) to a value.
    Set(usize, u8),
    /// Replaces the 8-byte header length.
    HeaderLength(u64),
    /// Cuts the file at this position (modulo the length).
    Truncate(usize),
    /// Inserts bytes at this position (modulo the length).
    Insert(usize, Vec<u8>),
    /// Writes a decimal number over the bytes at this position (modulo the length): aimed at the
    /// header's sizes, shapes and offsets.
    Number(usize, u64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set(at, byte)),
        1 => any::<u64>().prop_map(Mutation::HeaderLength),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        3 => (any::<usize>(), any::<u64>()).prop_map(|(at, n)| Mutation::Number(at, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let len = bytes.len();
    // Positions favour the header, where the checks are: its length is in the first 8 bytes.
    let header_end = (8 + u64::from_le_bytes(bytes[..8.min(len)].try_into().unwrap_or([0; 8])))
        .min(len as u64) as usize;
    let place = |at: usize| {
        if at.is_multiple_of(4) {
            at % len
        } else {
            at % header_end.max(1)
        }
    };
    match mutation {
        Mutation::Set(at, byte) => bytes[place(*at)] = *byte,
        Mutation::HeaderLength(n) if len >= 8 => bytes[..8].copy_from_slice(&n.to_le_bytes()),
        Mutation::HeaderLength(_) => {}
        Mutation::Truncate(at) => bytes.truncate(at % len),
        Mutation::Insert(at, new) => {
            let at = place(*at);
            bytes.splice(at..at, new.iter().copied());
        }
        Mutation::Number(at, n) => {
            let text = n.to_string();
            let at = place(*at);
            let end = (at + text.len()).min(len);
            bytes[at..end].copy_from_slice(&text.as_bytes()[..end - at]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_files_load_or_are_refused_without_panicking(
        mutations in proptest::collection::vec(mutation(), 1..4)
    ) {
        let mut bytes = valid_file();
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        if let Ok(read) = Checkpoint::from_bytes(&bytes) {
            let values: usize = read.tensors.values().map(|t| t.len()).sum();
            prop_assert!(4 * values <= bytes.len());
        }
        if let Ok(loaded) = checkpoint::mlp_from_bytes(&bytes) {
            let config = loaded.model.config().clone();
            let rebuilt = config.build().unwrap();
            for ((name, value), (expected_name, expected)) in
                loaded.model.parameters().into_iter().zip(rebuilt.parameters())
            {
                prop_assert_eq!(&name, &expected_name);
                prop_assert_eq!(value.shape(), expected.shape());
                prop_assert!(value.iter().all(|v| v.is_finite()), "{}", name);
            }
        }
    }
}

#[test]
fn the_fuzzers_seed_files_are_valid_models() {
    let seeds =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/checkpoint_load");
    let mut count = 0;
    for entry in std::fs::read_dir(&seeds).unwrap() {
        let path = entry.unwrap().path();
        checkpoint::load_mlp(&path).unwrap_or_else(|error| panic!("{error}"));
        count += 1;
    }
    assert!(count >= 2, "{count} seeds in {}", seeds.display());
}
