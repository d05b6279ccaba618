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
use std::time::Instant;

use criterion::{Criterion, Throughput};
use length_tensor::{
    matmul_a_b_into, matmul_a_b_relu_backward_into, matmul_a_bt_into, matmul_a_bt_relu_into,
    matmul_at_b_descend_into, matmul_at_b_into,
};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};

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

/// The first layer's inputs: one per pixel of a 28 x 28 image.
const IMAGE_PIXELS: usize = 784;

/// A layer's input `x` (batch, inputs), the values of [`matrix`], in the layout the layer gets
/// it: the batch of images in column-major order for the first layer, as the trainer converts it
/// (`BatchImages::pixels_into`), the previous layer's row-major output for the others.
fn layer_input(batch: usize, inputs: usize) -> Array2<f32> {
    let x = matrix(batch, inputs, 1);
    if inputs == IMAGE_PIXELS {
        let mut images = Array2::zeros((batch, inputs).f());
        images.assign(&x);
        images
    } else {
        x
    }
}

/// Which of LENGTH's three product forms a case uses, as the layer does.
#[derive(Clone, Copy)]
enum Form {
    /// Forward `x · Wᵀ + b`: `lhs` is x, `rhs` is W (read transposed), with a bias.
    Forward,
    /// Input gradient `g · W`.
    InputGradient,
    /// Weight gradient `gᵀ · x`: `lhs` is g (read transposed), `rhs` is x.
    WeightGradient,
}

/// One product of the training step: its group name and operands, owned.
pub struct Case {
    /// The criterion group, e.g. `forward_64x784_by_512x784T`.
    pub name: String,
    form: Form,
    lhs: Array2<f32>,
    rhs: Array2<f32>,
    bias: Array1<f32>,
    /// Whether a training step runs this product through ReLU (a hidden layer's forward pass,
    /// with the activation fused).
    relu: bool,
    /// For an input gradient, the ReLU's output a training step takes it back through: the
    /// layer's input, rectified (every input gradient of the MLP's step has one).
    gate: Option<Array2<f32>>,
}

impl Case {
    /// The left operand of `C = A · B` in the layout the layer really has.
    pub fn a(&self) -> ArrayView2<'_, f32> {
        match self.form {
            Form::Forward | Form::InputGradient => self.lhs.view(),
            Form::WeightGradient => self.lhs.t(),
        }
    }

    /// The right operand of `C = A · B` in the layout the layer really has.
    pub fn b(&self) -> ArrayView2<'_, f32> {
        match self.form {
            Form::Forward => self.rhs.t(),
            Form::InputGradient | Form::WeightGradient => self.rhs.view(),
        }
    }

    /// Floating-point operations of one product: 2·m·n·k.
    pub fn flops(&self) -> usize {
        let (m, k) = self.a().dim();
        2 * m * k * self.b().ncols()
    }

    /// A zeroed output of the product's shape.
    pub fn output(&self) -> Array2<f32> {
        Array2::zeros((self.a().nrows(), self.b().ncols()))
    }

    /// The product by LENGTH's kernel for this form, into `out`.
    pub fn length(&self, out: ArrayViewMut2<f32>) {
        match self.form {
            Form::Forward => matmul_a_bt_into(
                self.lhs.view(),
                self.rhs.view(),
                Some(self.bias.view()),
                out,
            ),
            Form::InputGradient => matmul_a_b_into(self.lhs.view(), self.rhs.view(), out),
            Form::WeightGradient => matmul_at_b_into(self.lhs.view(), self.rhs.view(), out),
        }
    }
}

/// The learning rate of the SGD step fused into the weight gradients of [`Case::length_in_step`]:
/// that of the SGD epoch.
const SGD_LEARNING_RATE: f32 = 0.1;

impl Case {
    /// The product as a training step runs it, into `out`: a weight gradient fused with an SGD
    /// step on the weights `out` (`matmul_at_b_descend_into`, as `FullyConnected` runs it with
    /// SGD: the microkernel subtracts each finished tile from the weights, and the gradient is
    /// never stored); a hidden layer's forward product through ReLU (`matmul_a_bt_relu_into`, as
    /// `MLP`'s layers fuse their activation); an input gradient back through the ReLU below
    /// (`matmul_a_b_relu_backward_into`, gated by the layer's input, a ReLU's output, as `MLP`'s
    /// layers hand the gradient over); the output layer's forward product as [`Case::length`].
    #[allow(dead_code)] // only the kernels bench runs the step's forms
    pub fn length_in_step(&self, out: ArrayViewMut2<f32>) {
        match self.form {
            Form::WeightGradient => {
                matmul_at_b_descend_into(self.lhs.view(), self.rhs.view(), out, SGD_LEARNING_RATE)
            }
            Form::Forward if self.relu => matmul_a_bt_relu_into(
                self.lhs.view(),
                self.rhs.view(),
                Some(self.bias.view()),
                out,
            ),
            Form::InputGradient => match &self.gate {
                Some(gate) => matmul_a_b_relu_backward_into(
                    self.lhs.view(),
                    self.rhs.view(),
                    gate.view(),
                    out,
                ),
                None => self.length(out),
            },
            Form::Forward => self.length(out),
        }
    }

    /// The name of [`Case::length_in_step`]'s product: the group name, with `_sgd_update` after
    /// `weight_gradient` for the fused form and `_relu` after `forward` and `input_gradient` for
    /// the products through ReLU.
    #[allow(dead_code)] // as for `length_in_step`
    pub fn step_name(&self) -> String {
        match self.form {
            Form::WeightGradient => {
                self.name
                    .replacen("weight_gradient", "weight_gradient_sgd_update", 1)
            }
            Form::Forward if self.relu => self.name.replacen("forward", "forward_relu", 1),
            Form::InputGradient if self.gate.is_some() => {
                self.name
                    .replacen("input_gradient", "input_gradient_relu", 1)
            }
            Form::Forward | Form::InputGradient => self.name.clone(),
        }
    }
}

/// Every product of one training step of the 784-512-512-10 MLP with batch 64, one case per form
/// and shape: forward `x · Wᵀ + b` for x (batch, inputs) and W (outputs, inputs), input gradient
/// `g · W` for g (batch, outputs), weight gradient `gᵀ · x`; x as the layer gets it
/// ([`layer_input`]).
pub fn cases() -> Vec<Case> {
    let batch = 64;
    let mut cases = Vec::new();
    for (inputs, outputs) in [(IMAGE_PIXELS, 512), (512, 512), (512, 10)] {
        cases.push(Case {
            name: format!("forward_{batch}x{inputs}_by_{outputs}x{inputs}T"),
            form: Form::Forward,
            lhs: layer_input(batch, inputs),
            rhs: matrix(outputs, inputs, 2),
            bias: Array1::from_elem(outputs, 0.1f32),
            relu: outputs != 10,
            gate: None,
        });
    }
    for (inputs, outputs) in [(512, 512), (512, 10)] {
        cases.push(Case {
            name: format!("input_gradient_{batch}x{outputs}_by_{outputs}x{inputs}"),
            form: Form::InputGradient,
            lhs: matrix(batch, outputs, 3),
            rhs: matrix(outputs, inputs, 2),
            bias: Array1::zeros(0),
            relu: false,
            gate: Some(layer_input(batch, inputs).mapv(|x| x.max(0.0))),
        });
    }
    for (inputs, outputs) in [(IMAGE_PIXELS, 512), (512, 512), (512, 10)] {
        cases.push(Case {
            name: format!("weight_gradient_{batch}x{outputs}T_by_{batch}x{inputs}"),
            form: Form::WeightGradient,
            lhs: matrix(batch, outputs, 3),
            rhs: layer_input(batch, inputs),
            bias: Array1::zeros(0),
            relu: false,
            gate: None,
        });
    }
    cases
}

/// The interleaved comparison of one case (used by the peers bench only): for each peer, the ratio of its time to LENGTH's in
/// each round, summarised.
#[allow(dead_code)] // the kernels bench includes this module too, without this use
pub struct Interleaved {
    /// The case's group name.
    pub name: String,
    /// LENGTH's median time per product over the rounds, in nanoseconds.
    pub length_ns: f64,
    /// Per peer (in `Contenders::peers` order): its id and the quartiles of the per-round ratios
    /// `peer time / LENGTH time` (above 1: LENGTH is faster).
    pub ratios: Vec<(String, [f64; 3])>,
}

impl Contenders<'_> {
    /// Runs every product benchmark under criterion, one group per case.
    pub fn bench(&self, c: &mut Criterion) {
        for case in cases() {
            self.bench_case(c, &case);
        }
    }

    /// Benchmarks `C = A · B` of `case` in the group `case.name`, by LENGTH's kernel and by each
    /// peer. Throughput is counted in flops (2·m·n·k "elements").
    fn bench_case(&self, c: &mut Criterion, case: &Case) {
        let (a, b) = (case.a(), case.b());
        let mut group = c.benchmark_group(&case.name);
        group.throughput(Throughput::Elements(case.flops() as u64));
        let mut out = case.output();
        group.bench_function(self.length, |bench| {
            bench.iter(|| case.length(black_box(out.view_mut())))
        });
        for &(id, product) in self.peers {
            group.bench_function(id, |bench| {
                bench.iter(|| product(black_box(a), black_box(b), out.view_mut()))
            });
        }
        group.finish();
    }

    /// Times LENGTH and every peer on each case (whose name contains `filter`, if given) in
    /// alternation: `rounds` rounds, each timing a
    /// batch of about a millisecond of products by every contender, the order rotating from
    /// round to round. Each round gives one ratio per peer, from two batches run a few
    /// milliseconds apart, so a machine whose speed drifts (another tenant, the clock) moves both
    /// sides of the ratio alike; criterion's separate windows of seconds do not have that
    /// property.
    #[allow(dead_code)] // as for `Interleaved`
    pub fn interleaved(&self, rounds: usize, filter: Option<&str>) -> Vec<Interleaved> {
        cases()
            .iter()
            .filter(|case| filter.is_none_or(|filter| case.name.contains(filter)))
            .map(|case| self.interleave_case(case, rounds))
            .collect()
    }

    #[allow(dead_code)] // as for `Interleaved`
    fn interleave_case(&self, case: &Case, rounds: usize) -> Interleaved {
        let (a, b) = (case.a(), case.b());
        let mut out = case.output();
        let mut contenders: Vec<Box<dyn FnMut()>> = Vec::new();
        contenders.push(Box::new(|| case.length(black_box(out.view_mut()))));
        for &(_, product) in self.peers {
            let mut out = case.output();
            contenders.push(Box::new(move || {
                product(black_box(a), black_box(b), out.view_mut())
            }));
        }
        // About a millisecond of work per batch at 100 GFLOP/s, at least a few products.
        let batch = (100_000_000 / case.flops()).clamp(4, 10_000);
        for contender in contenders.iter_mut() {
            for _ in 0..batch {
                contender();
            }
        }
        let mut times = vec![Vec::with_capacity(rounds); contenders.len()];
        for round in 0..rounds {
            for offset in 0..contenders.len() {
                let index = (round + offset) % contenders.len();
                let start = Instant::now();
                for _ in 0..batch {
                    contenders[index]();
                }
                times[index].push(start.elapsed().as_secs_f64() * 1e9 / batch as f64);
            }
        }
        let ratios = self
            .peers
            .iter()
            .zip(&times[1..])
            .map(|(&(id, _), peer)| {
                let per_round: Vec<f64> = peer.iter().zip(&times[0]).map(|(p, l)| p / l).collect();
                (id.to_owned(), quartiles(per_round))
            })
            .collect();
        Interleaved {
            name: case.name.clone(),
            length_ns: quartiles(times[0].clone())[1],
            ratios,
        }
    }
}

/// The lower quartile, the median and the upper quartile of `values` (not empty).
#[allow(dead_code)] // as for `Interleaved`
pub fn quartiles(mut values: Vec<f64>) -> [f64; 3] {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    [at(0.25), at(0.5), at(0.75)]
}
