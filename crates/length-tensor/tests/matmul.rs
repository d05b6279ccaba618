//! Every matrix-multiply form against a naive f64 triple loop, on random shapes (including 0, 1
//! and primes) and layouts (standard, transposed, stepped, reversed), on every kernel path this
//! CPU supports, writing into output buffers of every layout that start out as NaN.

mod common;

use common::{Layout, Operand, SplitMix, any_layout, assert_close, dimension, reference_product};
use length_tensor::ndarray::{Array1, Array2};
use length_tensor::{
    KernelPath, matmul_a_b, matmul_a_b_into, matmul_a_b_relu_backward_into, matmul_a_bt,
    matmul_a_bt_into, matmul_a_bt_relu_into, matmul_at_b, matmul_at_b_descend_into,
    matmul_at_b_into, matmul_at_b_update_into, relu_backward_into, relu_into,
    supported_kernel_paths, with_kernel_path,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    }
}

/// An output buffer of `layout` filled with NaN, so an element the kernel forgets stays NaN.
fn nan_output(rows: usize, cols: usize, layout: Layout, rng: &mut SplitMix) -> Operand {
    let mut out = Operand::random(rows, cols, layout, rng);
    out.view_mut().fill(f32::NAN);
    out
}

proptest! {
    #![proptest_config(config())]

    /// `a · bᵀ (+ bias)` for a (m, k), b (n, k).
    #[test]
    fn a_bt_matches_reference(
        m in dimension(), n in dimension(), k in common::shared_dimension(),
        layouts in (any_layout(), any_layout(), any_layout()),
        with_bias in any::<bool>(), seed in any::<u64>(),
    ) {
        let mut rng = SplitMix(seed);
        let a = Operand::random(m, k, layouts.0, &mut rng);
        let b = Operand::random(n, k, layouts.1, &mut rng);
        let bias = Array1::from_shape_simple_fn(n, || rng.next_f32());
        let bias_view = with_bias.then(|| bias.view());
        let (reference, magnitude) = reference_product(a.view(), b.view().t());
        for path in supported_kernel_paths() {
            let mut out = nan_output(m, n, layouts.2, &mut rng);
            with_kernel_path(path, || {
                matmul_a_bt_into(a.view(), b.view(), bias_view, out.view_mut())
            });
            let context = format!("a·bᵀ on {path}, ({m}x{k})·({n}x{k})ᵀ, {layouts:?}");
            let bias_slice = with_bias.then(|| bias.as_slice().unwrap());
            assert_close(out.view(), &reference, &magnitude, bias_slice, k, &context)?;
        }
    }

    /// `a · b` for a (m, k), b (k, n).
    #[test]
    fn a_b_matches_reference(
        m in dimension(), n in dimension(), k in common::shared_dimension(),
        layouts in (any_layout(), any_layout(), any_layout()), seed in any::<u64>(),
    ) {
        let mut rng = SplitMix(seed);
        let a = Operand::random(m, k, layouts.0, &mut rng);
        let b = Operand::random(k, n, layouts.1, &mut rng);
        let (reference, magnitude) = reference_product(a.view(), b.view());
        for path in supported_kernel_paths() {
            let mut out = nan_output(m, n, layouts.2, &mut rng);
            with_kernel_path(path, || matmul_a_b_into(a.view(), b.view(), out.view_mut()));
            let context = format!("a·b on {path}, ({m}x{k})·({k}x{n}), {layouts:?}");
            assert_close(out.view(), &reference, &magnitude, None, k, &context)?;
        }
    }

    /// `aᵀ · b` for a (k, m), b (k, n).
    #[test]
    fn at_b_matches_reference(
        m in dimension(), n in dimension(), k in common::shared_dimension(),
        layouts in (any_layout(), any_layout(), any_layout()), seed in any::<u64>(),
    ) {
        let mut rng = SplitMix(seed);
        let a = Operand::random(k, m, layouts.0, &mut rng);
        let b = Operand::random(k, n, layouts.1, &mut rng);
        let (reference, magnitude) = reference_product(a.view().t(), b.view());
        for path in supported_kernel_paths() {
            let mut out = nan_output(m, n, layouts.2, &mut rng);
            with_kernel_path(path, || matmul_at_b_into(a.view(), b.view(), out.view_mut()));
            let context = format!("aᵀ·b on {path}, ({k}x{m})ᵀ·({k}x{n}), {layouts:?}");
            assert_close(out.view(), &reference, &magnitude, None, k, &context)?;
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// `out −= s · (aᵀ · b)` through `matmul_at_b_update_into`, and through
    /// `matmul_at_b_descend_into` (the step in the microkernel's registers when `out`'s rows are
    /// contiguous), gives the same bits as the product (into a buffer of `out`'s layout) followed
    /// by `out -= s * p`.
    #[test]
    fn an_update_or_a_descent_equals_the_product_then_the_update(
        m in dimension(), n in dimension(), k in common::shared_dimension(),
        layouts in (any_layout(), any_layout(), any_layout()), seed in any::<u64>(),
    ) {
        let mut rng = SplitMix(seed);
        let a = Operand::random(k, m, layouts.0, &mut rng);
        let b = Operand::random(k, n, layouts.1, &mut rng);
        let start = Operand::random(m, n, layouts.2, &mut rng);
        let scale = rng.next_f32();
        for path in supported_kernel_paths() {
            let (updated, descended, two_steps) = with_kernel_path(path, || {
                // An SGD step through the update, which must see every element once, at the
                // indices of `out` it is given (each element still holds its start value).
                let mut updated = start.view().to_owned();
                let visits = std::sync::atomic::AtomicUsize::new(0);
                let sgd = |i: usize, j0: usize, w: &mut [f32], p: &[f32]| {
                    visits.fetch_add(w.len(), std::sync::atomic::Ordering::Relaxed);
                    for (j, (w, &p)) in w.iter_mut().zip(p).enumerate() {
                        assert_eq!(w.to_bits(), start.view()[[i, j0 + j]].to_bits(), "({i}, {})", j0 + j);
                        *w -= scale * p;
                    }
                };
                matmul_at_b_update_into(a.view(), b.view(), updated.view_mut(), &sgd);
                assert_eq!(visits.into_inner(), m * n);
                // The same step as a descent, on `out`'s layout.
                let mut descended = nan_output(m, n, layouts.2, &mut SplitMix(seed));
                descended.view_mut().assign(&start.view());
                matmul_at_b_descend_into(a.view(), b.view(), descended.view_mut(), scale);
                // The product in a buffer of the output's layout, as a layer keeps its gradient.
                let mut product = nan_output(m, n, layouts.2, &mut SplitMix(seed));
                matmul_at_b_into(a.view(), b.view(), product.view_mut());
                let mut two_steps = start.view().to_owned();
                two_steps.zip_mut_with(&product.view(), |w, &p| *w -= scale * p);
                (updated, descended.view().to_owned(), two_steps)
            });
            let same = |x: &Array2<f32>| x.iter().zip(&two_steps).all(|(x, y)| x.to_bits() == y.to_bits());
            let context = format!("aᵀ·b on {path}, ({k}x{m})ᵀ·({k}x{n}), {layouts:?}");
            prop_assert!(same(&updated), "update {context}");
            prop_assert!(same(&descended), "descent {context}");
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// `max(a · bᵀ + bias, 0)` through `matmul_a_bt_relu_into` gives the bits of the product
    /// followed by `relu_into`: in every orientation, with several k blocks, narrow products and
    /// empty k, NaN included (a NaN in `a` makes its row of the product NaN, which comes out as
    /// +0, as `relu` makes it).
    #[test]
    fn a_bt_relu_equals_the_product_then_relu(
        m in dimension(), n in dimension(), k in common::shared_dimension(),
        layouts in (any_layout(), any_layout(), any_layout()),
        with_bias in any::<bool>(), nan_row in any::<bool>(), seed in any::<u64>(),
    ) {
        let mut rng = SplitMix(seed);
        let mut a = Operand::random(m, k, layouts.0, &mut rng);
        if nan_row && m > 0 && k > 0 {
            a.view_mut()[[0, 0]] = f32::NAN;
        }
        let b = Operand::random(n, k, layouts.1, &mut rng);
        let bias = Array1::from_shape_simple_fn(n, || rng.next_f32() - 0.5);
        let bias = with_bias.then(|| bias.view());
        for path in supported_kernel_paths() {
            let mut fused = nan_output(m, n, layouts.2, &mut rng);
            let mut two_passes = nan_output(m, n, layouts.2, &mut rng);
            with_kernel_path(path, || {
                matmul_a_bt_relu_into(a.view(), b.view(), bias, fused.view_mut());
                matmul_a_bt_into(a.view(), b.view(), bias, two_passes.view_mut());
            });
            let product = two_passes.view().to_owned().into_dyn();
            relu_into(product.view(), two_passes.view_mut().into_dyn());
            prop_assert!(
                fused.view().iter().zip(two_passes.view()).all(|(x, y)| x.to_bits() == y.to_bits()),
                "a·bᵀ through ReLU on {path}, ({m}x{k})·({n}x{k})ᵀ, {layouts:?}"
            );
        }
    }
}

/// A gate (a ReLU's output) of `layout`: positive values, and zeros of both signs, negatives
/// and NaN, all of which switch the gradient off.
fn gate(rows: usize, cols: usize, layout: Layout, rng: &mut SplitMix) -> Operand {
    let mut gate = Operand::random(rows, cols, layout, rng);
    for value in gate.view_mut().iter_mut() {
        *value = match rng.next_f32() {
            draw if draw < 0.1 => 0.0,
            draw if draw < 0.15 => -0.0,
            draw if draw < 0.2 => f32::NAN,
            draw => draw - 0.6,
        };
    }
    gate
}

proptest! {
    #![proptest_config(config())]

    /// `(a · b) · [y > 0]` through `matmul_a_b_relu_backward_into` gives the bits of the product
    /// followed by `relu_backward_into`: in every orientation and layout of the gate, with k
    /// split in halves (k of 513 and more with few rows), narrow products and empty k.
    #[test]
    fn a_b_relu_backward_equals_the_product_then_relu_backward(
        m in dimension(), n in dimension(), k in common::shared_dimension(),
        layouts in (any_layout(), any_layout(), any_layout(), any_layout()),
        seed in any::<u64>(),
    ) {
        let mut rng = SplitMix(seed);
        let a = Operand::random(m, k, layouts.0, &mut rng);
        let b = Operand::random(k, n, layouts.1, &mut rng);
        let y = gate(m, n, layouts.3, &mut rng);
        for path in supported_kernel_paths() {
            let mut fused = nan_output(m, n, layouts.2, &mut rng);
            let mut two_passes = nan_output(m, n, layouts.2, &mut rng);
            with_kernel_path(path, || {
                matmul_a_b_relu_backward_into(a.view(), b.view(), y.view(), fused.view_mut());
                matmul_a_b_into(a.view(), b.view(), two_passes.view_mut());
            });
            let product = two_passes.view().to_owned().into_dyn();
            relu_backward_into(y.view().into_dyn(), product.view(), two_passes.view_mut().into_dyn());
            prop_assert!(
                fused.view().iter().zip(two_passes.view()).all(|(x, y)| x.to_bits() == y.to_bits()),
                "a·b back through ReLU on {path}, ({m}x{k})·({k}x{n}), {layouts:?}"
            );
        }
    }
}

/// The layer shapes of the 784-512-512-10 MLP with batch 64, in all three forms, on every path:
/// large enough to run in parallel, with k blocks, edge panels and the transposed orientation.
#[test]
fn mlp_layer_shapes_match_reference() {
    let mut rng = SplitMix(7);
    for (batch, inputs, outputs) in [(64, 784, 512), (64, 512, 512), (64, 512, 10)] {
        let x = Operand::random(batch, inputs, Layout::Standard, &mut rng);
        let w = Operand::random(outputs, inputs, Layout::Standard, &mut rng);
        let g = Operand::random(batch, outputs, Layout::Standard, &mut rng);
        let bias = Array1::from_shape_simple_fn(outputs, || rng.next_f32());
        let forward = reference_product(x.view(), w.view().t());
        let input_gradient = reference_product(g.view(), w.view());
        let weight_gradient = reference_product(g.view().t(), x.view());
        for path in supported_kernel_paths() {
            with_kernel_path(path, || {
                let mut y = Array2::from_elem((batch, outputs), f32::NAN);
                matmul_a_bt_into(x.view(), w.view(), Some(bias.view()), y.view_mut());
                let context = format!("forward {batch}x{inputs}x{outputs} on {path}");
                let bias = Some(bias.as_slice().unwrap());
                assert_close(y.view(), &forward.0, &forward.1, bias, inputs, &context).unwrap();

                let dx = matmul_a_b(g.view(), w.view());
                let context = format!("input gradient {batch}x{inputs}x{outputs} on {path}");
                let (reference, magnitude) = &input_gradient;
                assert_close(dx.view(), reference, magnitude, None, outputs, &context).unwrap();

                let dw = matmul_at_b(g.view(), x.view());
                let context = format!("weight gradient {batch}x{inputs}x{outputs} on {path}");
                let (reference, magnitude) = &weight_gradient;
                assert_close(dw.view(), reference, magnitude, None, batch, &context).unwrap();
            });
        }
    }
}

/// A's rows 512 floats apart (2 KiB: the stride at which the driver copies A's rows to a padded
/// buffer), several k blocks, and edge tiles in both directions.
#[test]
fn aliasing_row_strides_match_reference() {
    let mut rng = SplitMix(11);
    let wide = Array2::from_shape_simple_fn((37, 512), || rng.next_f32());
    let a = wide.slice(length_tensor::ndarray::s![.., ..300]);
    let b = Operand::random(300, 203, Layout::Standard, &mut rng);
    let (reference, magnitude) = reference_product(a, b.view());
    for path in supported_kernel_paths() {
        let product = with_kernel_path(path, || matmul_a_b(a, b.view()));
        let context = format!("aliasing stride on {path}");
        assert_close(product.view(), &reference, &magnitude, None, 300, &context).unwrap();
    }
}

/// Weight gradients `gᵀ · x` of a short k (the batch), where the driver reads `gᵀ` in place
/// however large it is, and of a k just too long for that (packed): `g` whole and as a column
/// slice of a wider matrix, with edge tiles in both directions.
#[test]
fn short_k_weight_gradients_match_reference() {
    let mut rng = SplitMix(17);
    for (k, m, n) in [(64, 517, 100), (33, 90, 70), (65, 300, 64), (1, 700, 20)] {
        let wide = Array2::from_shape_simple_fn((k, m + 24), || rng.next_f32());
        let x = Operand::random(k, n, Layout::Standard, &mut rng);
        for g in [
            wide.slice(length_tensor::ndarray::s![.., ..m]),
            wide.slice(length_tensor::ndarray::s![.., 24..]),
        ] {
            let (reference, magnitude) = reference_product(g.t(), x.view());
            for path in supported_kernel_paths() {
                let context = format!("({k}x{m})ᵀ·{k}x{n} on {path}");
                let product = with_kernel_path(path, || matmul_at_b(g, x.view()));
                assert_close(product.view(), &reference, &magnitude, None, k, &context).unwrap();
            }
        }
    }
}

/// A batch in column-major order, as the trainer converts it, gives the forward product
/// `x · Wᵀ` the bits of the same batch in row-major order, on every kernel path and with or
/// without ReLU: read in place where it is laid out as the kernel's packed panel (64, 48 or 32
/// samples on AVX-512), packed otherwise (50 samples; every width on AVX2). k of 784 is one
/// block, 1500 two.
#[test]
fn column_major_batches_give_the_bits_of_row_major_ones() {
    let mut rng = SplitMix(19);
    for (samples, k, units) in [(64, 784, 100), (48, 1500, 70), (32, 30, 512), (50, 784, 64)] {
        let x = Array2::from_shape_simple_fn((samples, k), || rng.next_f32() - 0.5);
        let column_major = {
            let mut transposed = Array2::zeros((k, samples));
            transposed.assign(&x.t());
            transposed.reversed_axes()
        };
        assert!(column_major.t().is_standard_layout() && column_major == x);
        let w = Array2::from_shape_simple_fn((units, k), || rng.next_f32() - 0.5);
        let bias = Array1::from_shape_simple_fn(units, || rng.next_f32());
        for path in supported_kernel_paths() {
            let forward = |x: length_tensor::ndarray::ArrayView2<f32>, relu: bool| {
                let mut y = Array2::from_elem((samples, units), f32::NAN);
                with_kernel_path(path, || {
                    if relu {
                        matmul_a_bt_relu_into(x, w.view(), Some(bias.view()), y.view_mut());
                    } else {
                        matmul_a_bt_into(x, w.view(), Some(bias.view()), y.view_mut());
                    }
                });
                y.mapv(f32::to_bits)
            };
            for relu in [false, true] {
                assert_eq!(
                    forward(column_major.view(), relu),
                    forward(x.view(), relu),
                    "{samples}x{k} batch, {units} units, relu {relu}, on {path}"
                );
            }
        }
    }
}

/// Products with at most two tile rows, or with k of at most 16 (the output layer's input
/// gradient), and B's rows contiguous and whole vectors wide, where the driver reads B in place
/// instead of packing it: B as a whole matrix and as a column slice of a wider one (row stride
/// larger than its width), k short, long and in several blocks, panels all as wide or the last
/// one narrower (40 columns: 16 + 16 + 8 on AVX2).
#[test]
fn few_rows_with_b_read_in_place_match_reference() {
    let mut rng = SplitMix(13);
    for (m, k, n) in [
        (1, 5, 16),
        (5, 64, 48),
        (10, 64, 512),
        (16, 300, 96),
        (3, 1030, 64),
        (64, 10, 512),
        (37, 16, 48),
        (7, 20, 40),
    ] {
        let a = Operand::random(m, k, Layout::Standard, &mut rng);
        let wide = Array2::from_shape_simple_fn((k, n + 32), || rng.next_f32());
        let whole = wide.slice(length_tensor::ndarray::s![.., ..n]).to_owned();
        for b in [
            whole.view(),
            wide.slice(length_tensor::ndarray::s![.., 16..n + 16]),
        ] {
            let (reference, magnitude) = reference_product(a.view(), b);
            let at = a.view().t().to_owned();
            for path in supported_kernel_paths() {
                let context = format!("{m}x{k}x{n}, B row stride {}, on {path}", b.strides()[0]);
                let product = with_kernel_path(path, || matmul_a_b(a.view(), b));
                assert_close(product.view(), &reference, &magnitude, None, k, &context).unwrap();
                let product = with_kernel_path(path, || matmul_at_b(at.view(), b));
                assert_close(product.view(), &reference, &magnitude, None, k, &context).unwrap();
            }
        }
    }
}

/// Small exact cases: integers multiply exactly in f32, so every path must agree to the bit.
#[test]
fn small_integer_products_are_exact_on_every_path() {
    let a = Array2::from_shape_fn((5, 7), |(i, j)| (i as f32) - (j as f32));
    let b = Array2::from_shape_fn((3, 7), |(i, j)| ((i * j) % 5) as f32);
    let bias = Array1::from_vec(vec![1.0f32, -2.0, 0.5]);
    let expected = Array2::from_shape_fn((5, 3), |(i, j)| {
        (0..7).map(|p| a[[i, p]] * b[[j, p]]).sum::<f32>() + bias[j]
    });
    for path in supported_kernel_paths() {
        let mut out = Array2::zeros((5, 3));
        with_kernel_path(path, || {
            matmul_a_bt_into(a.view(), b.view(), Some(bias.view()), out.view_mut())
        });
        assert_eq!(out, expected, "path {path}");
        let product = with_kernel_path(path, || matmul_a_bt(a.view(), b.view()));
        assert_eq!(product, &expected - &bias, "path {path}");
    }
}

/// An empty shared dimension gives the bias alone (or zeros); empty outputs are fine.
#[test]
fn empty_dimensions() {
    let a = Array2::<f32>::zeros((3, 0));
    let b = Array2::<f32>::zeros((2, 0));
    let bias = Array1::from_vec(vec![1.5f32, -1.0]);
    let mut out = Array2::from_elem((3, 2), f32::NAN);
    matmul_a_bt_into(a.view(), b.view(), Some(bias.view()), out.view_mut());
    assert_eq!(out, Array2::from_shape_fn((3, 2), |(_, j)| bias[j]));
    assert_eq!(
        matmul_a_b(a.view(), Array2::zeros((0, 4)).view()),
        Array2::zeros((3, 4))
    );
    assert_eq!(
        matmul_at_b(Array2::zeros((5, 0)).view(), Array2::zeros((5, 2)).view()).dim(),
        (0, 2)
    );
}

#[test]
fn every_supported_path_is_listed_and_scalar_always_is() {
    let paths = supported_kernel_paths();
    assert_eq!(paths.first(), Some(&KernelPath::Scalar));
    #[cfg(target_arch = "x86_64")]
    {
        assert_eq!(
            paths.contains(&KernelPath::Avx512),
            std::arch::is_x86_feature_detected!("avx512f")
        );
        assert_eq!(
            paths.contains(&KernelPath::Avx2),
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        );
    }
    assert!(paths.contains(&length_tensor::kernel_path()));
}

#[test]
#[should_panic(expected = "matmul_a_bt: a is [2, 3] and b is [4, 5]")]
fn mismatched_inner_dimensions_name_the_shapes() {
    matmul_a_bt(Array2::zeros((2, 3)).view(), Array2::zeros((4, 5)).view());
}

#[test]
#[should_panic(expected = "matmul_at_b: out is [3, 3] but aᵀ·b is (2, 4)")]
fn wrong_output_shape_names_the_shapes() {
    let mut out = Array2::zeros((3, 3));
    matmul_at_b_into(
        Array2::zeros((5, 2)).view(),
        Array2::zeros((5, 4)).view(),
        out.view_mut(),
    );
}
