//! `update` allocates nothing once a layer's state exists: a counting global allocator watches
//! three updates of every optimizer, on arrays small enough for the sequential pass and large
//! enough for the parallel one.
//!
//! It counts the allocations made on the test's own thread, where the sequential pass and all of
//! `update`'s bookkeeping (state look-up, shape checks, splitting into pieces) run. The parallel
//! pieces run the same fused loop on rayon's worker threads, whose scheduler allocates for itself
//! now and then (crossbeam's epoch garbage bags, work-queue buffers) at moments that depend on
//! timing; counting those made this test flaky without saying anything about the optimizers.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{views, wiggle};
use length_autograd::{LayerId, Optimizer};
use length_optim::{Adam, AdamW, Momentum, Sgd};
use length_tensor::Tensor;
use ndarray::ArrayViewMutD;

/// The system allocator, counting the allocations of threads that asked to be watched.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations are counted: only the test's own thread sets it.
    static WATCHED: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if WATCHED.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn update_allocates_nothing_after_the_first_step() {
    WATCHED.with(|watched| watched.set(true));
    let optimizers: Vec<(&str, Box<dyn Optimizer>)> = vec![
        ("SGD", Box::new(Sgd::with_learning_rate(0.01))),
        ("Momentum", Box::new(Momentum::with_learning_rate(0.01))),
        ("Nesterov", Box::new(Momentum::nesterov(0.01, 0.9))),
        ("Adam", Box::new(Adam::default())),
        ("AdamW", Box::new(AdamW::default())),
    ];
    for (name, mut optimizer) in optimizers {
        // 300 × 200 = 60 000 elements: the parallel pass; 200: the sequential one.
        let shapes = [vec![300, 200], vec![200]];
        let mut parameters: Vec<Tensor> = shapes.iter().map(|s| wiggle(s, 1, -1.0, 1.0)).collect();
        let gradients: Vec<Tensor> = shapes.iter().map(|s| wiggle(s, 2, -1.0, 1.0)).collect();
        let gradient_views = views(&gradients);
        let mut parameter_views: Vec<ArrayViewMutD<f32>> =
            parameters.iter_mut().map(|p| p.view_mut()).collect();
        let layer = LayerId::fresh();

        optimizer.update(&mut parameter_views, &gradient_views, layer); // creates the state
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        for _ in 0..3 {
            optimizer.update(&mut parameter_views, &gradient_views, layer);
        }
        let allocations = ALLOCATIONS.load(Ordering::SeqCst) - before;
        assert_eq!(
            allocations, 0,
            "{name}::update allocated {allocations} times in 3 steps"
        );
    }
}
