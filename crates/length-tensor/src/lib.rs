//! # length-tensor
//!
//! The array type the whole LENGTH workspace computes with, and the kernels that do the heavy
//! lifting. Arrays are [`ndarray`] arrays of `f32` (LENGTH's `DTYPE` is float32); this crate adds
//! the handful of operations a multi-layer perceptron spends its time in, written to be fast
//! (SIMD, parallel, allocation-free in a training loop) and deterministic (bit-identical
//! results for any number of threads).
//!
//! Nothing here knows about graphs, gradients or data sets.
//!
//! ## One training step of a fully connected layer
//!
//! ```
//! use length_tensor::ndarray::{Array1, Array2};
//! use length_tensor::{
//!     column_sums_into, into_matrix, matmul_a_b_into, matmul_a_bt_into, matmul_at_b_into,
//!     relu_backward, relu_into,
//! };
//!
//! let (batch, inputs, outputs) = (4, 3, 2);
//! let x = Array2::from_shape_fn((batch, inputs), |(i, j)| (i + j) as f32 / 10.0);
//! // Unit 0 has positive weights, unit 1 negative ones.
//! let w = Array2::from_shape_fn((outputs, inputs), |(i, j)| {
//!     let magnitude = (j + 1) as f32 / 4.0;
//!     if i == 0 { magnitude } else { -magnitude }
//! });
//! let b = Array1::from_vec(vec![0.1f32, -0.2]);
//!
//! // Buffers allocated once, reused every step.
//! let (mut z, mut y) = (Array2::zeros((batch, outputs)), Array2::zeros((batch, outputs)));
//! let (mut dx, mut dw) = (Array2::zeros((batch, inputs)), Array2::zeros((outputs, inputs)));
//! let mut db = Array1::zeros(outputs);
//!
//! // Forward: z = x · Wᵀ + b (bias fused into the write), y = relu(z).
//! matmul_a_bt_into(x.view(), w.view(), Some(b.view()), z.view_mut());
//! relu_into(z.view().into_dyn(), y.view_mut().into_dyn());
//!
//! // Backward, for an incoming gradient dL/dy = 1: through the ReLU, then the three products.
//! let dy = Array2::<f32>::ones((batch, outputs));
//! let dz = into_matrix(relu_backward(z.view().into_dyn(), dy.view().into_dyn()));
//! matmul_a_b_into(dz.view(), w.view(), dx.view_mut()); // dL/dx = dz · W
//! matmul_at_b_into(dz.view(), x.view(), dw.view_mut()); // dL/dW = dzᵀ · x
//! column_sums_into(dz.view(), db.view_mut()); // dL/db = Σ over the batch
//!
//! // Unit 0 is active for every sample, unit 1 for none (its z < 0): only unit 0 passes
//! // gradient, so dx is W's row 0 for each sample and unit 1 gets no weight gradient.
//! assert_eq!(db, Array1::from_vec(vec![4.0, 0.0]));
//! assert_eq!(dx.row(2), w.row(0));
//! assert_eq!(dw.row(1), Array1::<f32>::zeros(inputs));
//! ```
//!
//! ## The kernels
//!
//! | kernel | work | parallelism |
//! | --- | --- | --- |
//! | [`matmul_a_bt`], [`matmul_a_b`], [`matmul_at_b`] (and `_into`) | O(m·n·k) | output tiles, from 2²⁰ flops |
//! | [`matmul_a_bt_relu_into`] (the product through ReLU, rectified in registers) | O(m·n·k) | as above |
//! | [`matmul_a_b_relu_backward_into`] (the input gradient back through ReLU, gated in registers) | O(m·n·k) | as above |
//! | [`matmul_at_b_update_into`] (an optimizer's step on each band of the product), [`matmul_at_b_descend_into`] (SGD's step in registers) | O(m·n·k) | bands of rows |
//! | [`column_sums`] (and `_into`) | O(m·n) | parts of 32 rows, from 2¹⁵ elements |
//! | [`relu_backward_column_sums_into`] (through ReLU and the bias gradient in one pass) | O(m·n) | as above |
//! | [`relu`], [`relu_into`], [`relu_in_place`], [`relu_backward`] (and `_into`) | O(n) | chunks of 2¹², from 2¹⁴ elements |
//! | [`sigmoid`], [`sigmoid_in_place`] | O(n) | chunks of 2¹², from 2¹² elements |
//! | [`softmax_rows`], [`log_softmax_rows`] | O(m·n) | blocks of 16 rows, from 2¹² elements |
//! | [`argmax_rows`] | O(m·n) | rows, from 2¹⁶ elements |
//! | [`update_pass()`] (an optimizer's step; [`update_slices`] on pieces) | O(n) | chunks of 2¹³, from 2¹⁵ elements |
//!
//! The matrix multiplies are a packed, blocked SGEMM (in the manner of GotoBLAS/BLIS) with a
//! register-tiled microkernel per instruction set: AVX-512F (a 6 x 64 tile), AVX2 + FMA
//! (6 x 16) and portable scalar code (4 x 8), chosen at run time ([`kernel_path`]). The
//! environment variable `LENGTH_KERNEL=scalar|avx2|avx512` forces a path for the whole process;
//! [`with_kernel_path`] forces one for a closure (the tests run every path the CPU supports).
//!
//! ## Tensors and matrices
//!
//! A graph keeps every value as a [`Tensor`] of dynamic rank; the products want a [`Matrix`].
//! [`as_matrix`], [`as_matrix_mut`] and [`into_matrix`] convert without copying, and panic with
//! the tensor's shape if it is not two-dimensional.
//!
//! ## Determinism
//!
//! Threads only ever split the *output*, or a sum cut by the shapes alone: every output element
//! is accumulated in the same order (fixed k blocks, k increasing) however the tiles are shared
//! out, and the one product that cuts k, the input gradient `a · b` with a long k, always cuts it
//! into the same two halves and adds them in the same order, on one thread or many. Reductions
//! give each column or row to one thread. So on a given kernel path, results are bit-identical
//! for 1, 2 or 16 threads.
//! Different paths (FMA versus separate multiply and add, different blockings) may differ in
//! the last bits.
//!
//! ## Threads
//!
//! The kernels run their parallel phases on a team of their own (`team.rs`): helpers that spin
//! between the dozen short phases of a training step instead of sleeping, and that take the
//! same share of every product each step, so a core finds its rows of a weight matrix in its
//! own cache. How many threads is rayon's: the size of the pool the caller runs in
//! (`ThreadPool::install`, `RAYON_NUM_THREADS`, one per core by default).

pub use ndarray;

mod activation;
mod cache_aligned;
mod elementwise;
mod gemm;
mod kernel;
mod matmul;
mod matrix_view;
mod reduce;
pub mod team;
mod update_pass;

pub use activation::{
    relu, relu_backward, relu_backward_into, relu_in_place, relu_into, sigmoid,
    sigmoid_backward_into, sigmoid_in_place,
};
pub use cache_aligned::{CACHE_ALIGNED_MIN_SIZE, CacheAligned};
pub use gemm::TileUpdate;
pub use kernel::{
    KernelPath, kernel_path, run_microkernel_in_cache, supported_kernel_paths, with_kernel_path,
};
pub use matmul::{
    matmul_a_b, matmul_a_b_into, matmul_a_b_relu_backward_into, matmul_a_bt, matmul_a_bt_into,
    matmul_a_bt_relu_into, matmul_at_b, matmul_at_b_descend_into, matmul_at_b_into,
    matmul_at_b_update_into,
};
pub use matrix_view::{as_matrix, as_matrix_mut, into_matrix};
pub use reduce::{
    argmax_rows, column_sums, column_sums_into, log_softmax_rows, relu_backward_column_sums_into,
    softmax_rows,
};
pub use update_pass::{UPDATE_CHUNK, UPDATE_PARALLEL_MIN, update_pass, update_slices};

/// An n-dimensional array of `f32`: the value type of every node in a LENGTH graph.
pub type Tensor = ndarray::ArrayD<f32>;

/// A two-dimensional array of `f32`, (rows, columns): a batch of samples, or a weight matrix.
pub type Matrix = ndarray::Array2<f32>;

/// Class labels, one per sample: what the loss functions and `accuracy` accept directly.
pub type Labels = ndarray::Array1<u32>;
