//! The matrix-multiply benchmarks both criterion benches run: the products of one training step
//! of the 784-512-512-10 MLP with batch 64, by LENGTH's kernels and by whatever the bench compares
//! them with (ndarray's `dot` in `kernels`, the `gemm` and `matrixmultiply` crates in
//! `benches/peers`), on the same operands and under the same group names, which is what lets
//! `cargo xtask bench` put both benches in one table.
//!
//! Included by `benches/kernels.rs` as `mod products;` and by `benches/peers/benches/peers.rs`
//! through `#[path]`. A directory module: cargo would take a `benches/products.rs` for a bench
//! target of its own.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use length_tensor::{matmul_a_b_into, matmul_a_bt_into, matmul_at_b_into};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

/// An implementation of `c = a · b` to measure next to LENGTH's, for any strides of `a` and `b`.
/// One that allocates its result instead (ndarray's `dot`) leaves `c` alone and hands its result
/// to `black_box`.
pub type Product = fn(ArrayView2<f32>, ArrayView2<f32>, ArrayViewMut2<f32>);

/// What a bench measures on each product, by criterion function id (the `<implementation>` of
/// `<group>/<implementation>`), in this order.
pub struct Contenders<'a> {
    /// The id of LENGTH's kernel.
    pub length: &'a str,
    /// The other implementations, each with its id.
    pub peers: &'a [(&'a str, Product)],
}

/// A deterministic pseudo-random matrix with values in [-1, 1).
pub fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array2::from_shape_simple_fn((rows, cols), || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    })
}

impl Contenders<'_> {
    /// Runs every product benchmark: each form at each shape of the MLP's training step, one
    /// group per form and shape.
    pub fn bench(&self, c: &mut Criterion) {
        for (inputs, outputs) in [(784, 512), (512, 512), (512, 10)] {
            self.forward(c, 64, inputs, outputs);
        }
        for (inputs, outputs) in [(512, 512), (512, 10)] {
            self.input_gradient(c, 64, inputs, outputs);
        }
        for (inputs, outputs) in [(784, 512), (512, 512), (512, 10)] {
            self.weight_gradient(c, 64, inputs, outputs);
        }
    }

    /// Benchmarks `C = lhs · rhs` (both views in the layout the layer really has) in the group
    /// `name`, by LENGTH's `length_kernel` and by each peer. Throughput is counted in flops
    /// (2·m·n·k "elements").
    fn bench_product(
        &self,
        c: &mut Criterion,
        name: String,
        lhs: ArrayView2<f32>,
        rhs: ArrayView2<f32>,
        length_kernel: &dyn Fn(ArrayViewMut2<f32>),
    ) {
        let (m, k) = lhs.dim();
        let n = rhs.ncols();
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));
        let mut out = Array2::<f32>::zeros((m, n));
        group.bench_function(self.length, |bench| {
            bench.iter(|| length_kernel(black_box(out.view_mut())))
        });
        for &(id, product) in self.peers {
            group.bench_function(id, |bench| {
                bench.iter(|| product(black_box(lhs), black_box(rhs), out.view_mut()))
            });
        }
        group.finish();
    }

    /// Forward `x · Wᵀ + b` for x (batch, inputs), W (outputs, inputs).
    fn forward(&self, c: &mut Criterion, batch: usize, inputs: usize, outputs: usize) {
        let x = matrix(batch, inputs, 1);
        let w = matrix(outputs, inputs, 2);
        let bias = Array1::from_elem(outputs, 0.1f32);
        let name = format!("forward_{batch}x{inputs}_by_{outputs}x{inputs}T");
        self.bench_product(c, name, x.view(), w.t(), &|out| {
            matmul_a_bt_into(x.view(), w.view(), Some(bias.view()), out)
        });
    }

    /// Input gradient `g · W` for g (batch, outputs), W (outputs, inputs).
    fn input_gradient(&self, c: &mut Criterion, batch: usize, inputs: usize, outputs: usize) {
        let g = matrix(batch, outputs, 3);
        let w = matrix(outputs, inputs, 2);
        let name = format!("input_gradient_{batch}x{outputs}_by_{outputs}x{inputs}");
        self.bench_product(c, name, g.view(), w.view(), &|out| {
            matmul_a_b_into(g.view(), w.view(), out)
        });
    }

    /// Weight gradient `gᵀ · x` for g (batch, outputs), x (batch, inputs).
    fn weight_gradient(&self, c: &mut Criterion, batch: usize, inputs: usize, outputs: usize) {
        let g = matrix(batch, outputs, 3);
        let x = matrix(batch, inputs, 1);
        let name = format!("weight_gradient_{batch}x{outputs}T_by_{batch}x{inputs}");
        self.bench_product(c, name, g.t(), x.view(), &|out| {
            matmul_at_b_into(g.view(), x.view(), out)
        });
    }
}
