//! A training step allocates almost nothing once it has run: the real step of `length train`
//! (`length_layers::train_step`: a graph, the course's ActivatedMLP 784-512-512-10, batches of 64
//! served by `length_data::Batches`), with SGD and with Adam, under a counting global allocator.
//!
//! The first steps fill the recycling pool (`length_autograd::pool`), create the optimizer's state
//! and the kernels' packing buffers; from then on every array a step needs comes back from the
//! pool. Without it a step allocates about 1.3 MB (the batch, six activations and their
//! gradients); the bound asserted here is 64 KiB. Run with `--nocapture` to see the figures.
//!
//! One test in this file, so that no other test allocates while it counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use length::autograd::{Optimizer, pool};
use length::data::{BatchConfig, Batches, Samples};
use length::layers::{ActivatedMLP, train_step};
use length::optim::{Adam, Sgd};

/// The system allocator, counting calls and bytes requested (allocations and reallocations).
struct Counting;

static CALLS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

fn count(bytes: usize) {
    CALLS.fetch_add(1, Ordering::SeqCst);
    BYTES.fetch_add(bytes, Ordering::SeqCst);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const BATCH: usize = 64;
const WARM_UP_STEPS: usize = 2;
const MEASURED_STEPS: usize = 20;
const BOUND_BYTES_PER_STEP: usize = 64 * 1024;

/// MNIST-shaped samples: 28×28 pixel bytes with a pattern, labels 0–9 in turn.
fn synthetic_samples(count: usize) -> Samples {
    let pixels = (0..count * 784)
        .map(|k| ((k * 31 + k / 784 * 7) % 256) as u8)
        .collect();
    let labels = (0..count).map(|i| (i % 10) as u8).collect();
    Samples::new(pixels, labels, [28, 28]).expect("784 pixels per label")
}

/// Bytes and calls per step over the measured steps, after the warm-up.
fn allocation_per_step(optimizer: &mut dyn Optimizer) -> (usize, usize) {
    let samples = synthetic_samples(BATCH * (WARM_UP_STEPS + MEASURED_STEPS));
    let config = BatchConfig {
        batch_size: BATCH,
        scale: Some(1.0),
        sample_dimensions: 1,
        keep_last_batch: false,
    };
    let mut batches = Batches::in_order(&samples, &config);
    let mut model = ActivatedMLP::with_seed(1);
    let mut step = |batches: &mut Batches| {
        let batch = batches.next_batch().expect("enough samples");
        let outcome = train_step(&mut *model, optimizer, batch.images_2d(), batch.labels)
            .expect("the batch fits the model");
        assert!(outcome.loss.is_finite());
    };
    for _ in 0..WARM_UP_STEPS {
        step(&mut batches);
    }
    let (calls, bytes) = (CALLS.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst));
    for _ in 0..MEASURED_STEPS {
        step(&mut batches);
    }
    let calls = CALLS.load(Ordering::SeqCst) - calls;
    let bytes = BYTES.load(Ordering::SeqCst) - bytes;
    (bytes / MEASURED_STEPS, calls / MEASURED_STEPS)
}

#[test]
fn a_training_step_allocates_under_64_kib_after_the_first() {
    let optimizers: [(&str, Box<dyn Optimizer>); 2] = [
        ("SGD", Box::new(Sgd::with_learning_rate(0.1))),
        ("Adam", Box::new(Adam::with_learning_rate(0.001))),
    ];
    for (name, mut optimizer) in optimizers {
        pool::clear();
        let (bytes, calls) = allocation_per_step(optimizer.as_mut());
        println!(
            "{name}: {bytes} bytes in {calls} allocations per training step; the pool keeps {} \
             buffers, {} bytes",
            pool::retained_buffers(),
            pool::retained_bytes()
        );
        assert!(
            bytes < BOUND_BYTES_PER_STEP,
            "{name}: a training step allocated {bytes} bytes ({calls} allocations) after the \
             warm-up; the bound is {BOUND_BYTES_PER_STEP}"
        );
        // The pool holds one step's arrays (about 1.3 MB), not one per step.
        assert!(
            pool::retained_bytes() < 4 << 20,
            "{name}: the pool grew to {} bytes",
            pool::retained_bytes()
        );
    }
}
