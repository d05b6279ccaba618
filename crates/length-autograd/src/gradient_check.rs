//! Checking a backward pass against the definition of the derivative.
//!
//! For each element `x_k` of each input, the central difference
//!
//! ```text
//! ∂L/∂x_k ≈ Σ_j  g_j · (f(x + ε·e_k)_j − f(x − ε·e_k)_j) / 2ε
//! ```
//!
//! approximates the gradient of `L = Σ_j g_j · f(x)_j`, where `g` is the output gradient handed
//! to backward. The error of the approximation is of order ε² times the third derivative, plus
//! the rounding error of `f` (about `|f| · 6e-8 / ε` in `f32`): too small an ε drowns the result
//! in rounding, too large a one misses curvature. LENGTH's default is `ε = 1e-3`.
//!
//! The function under test runs in `f32`, as in training; the differences are accumulated in
//! `f64`, and each is divided by the step actually taken (`x + ε` and `x − ε` rounded to `f32`),
//! not by the nominal `2ε`.
//!
//! LENGTH's `compute_numerical_gradient` and `assert_allclose` are here as public API;
//! [`check_gradients`] runs the whole check for a [`Function`] you wrote yourself (see the
//! example on [`Function`]), and [`check_layer_gradients`] for a [`Layer`], whose parameter
//! gradients it checks too (see the example on [`Layer`]).

use length_tensor::Tensor;
use ndarray::{AsArray, Dimension, IxDyn};

use crate::{Function, Layer, Value};

/// The step and the tolerances of a gradient check; the defaults are LENGTH's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// The step ε of the central difference (LENGTH: `1e-3`).
    pub eps: f32,
    /// Absolute tolerance (LENGTH: `1e-5`).
    pub atol: f32,
    /// Relative tolerance, times the size of the expected value (LENGTH: `1e-4`).
    pub rtol: f32,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            eps: 1e-3,
            atol: 1e-5,
            rtol: 1e-4,
        }
    }
}

/// LENGTH's `compute_numerical_gradient(f, inputs, output_gradients, eps)`: the central-difference
/// gradient of `Σ output_gradient · f(inputs)` with respect to every element of every input.
///
/// `f` computes the output from the inputs it is given (perturbed copies of `inputs`; inputs it
/// should not differentiate, such as labels, it captures instead). Returns one gradient per input,
/// each of that input's shape.
///
/// ```
/// use length_autograd::compute_numerical_gradient;
/// use ndarray::array;
///
/// // f(a, b) = a · b element-wise: ∂/∂a = g · b and ∂/∂b = g · a.
/// let a = array![1.0f32, 2.0].into_dyn();
/// let b = array![3.0f32, -4.0].into_dyn();
/// let g = array![1.0f32, 0.5].into_dyn();
/// let grads = compute_numerical_gradient(|x| &x[0] * &x[1], &[a, b], &g, 1e-2);
/// assert!((grads[0][0] - 3.0).abs() < 1e-3 && (grads[0][1] + 2.0).abs() < 1e-3);
/// assert!((grads[1][0] - 1.0).abs() < 1e-3 && (grads[1][1] - 1.0).abs() < 1e-3);
/// ```
///
/// # Panics
/// If an output of `f` does not have the shape of `output_gradient`.
pub fn compute_numerical_gradient<F>(
    mut f: F,
    inputs: &[Tensor],
    output_gradient: &Tensor,
    eps: f32,
) -> Vec<Tensor>
where
    F: FnMut(&[Tensor]) -> Tensor,
{
    let mut inputs: Vec<Tensor> = inputs
        .iter()
        .map(|x| x.as_standard_layout().into_owned())
        .collect();
    let mut gradients = Vec::with_capacity(inputs.len());
    for i in 0..inputs.len() {
        let mut gradient = Tensor::zeros(inputs[i].raw_dim());
        for k in 0..inputs[i].len() {
            let original = element(&mut inputs[i], k);
            let (below, above) = (original - eps, original + eps);
            *element_mut(&mut inputs[i], k) = below;
            let y_below = f(&inputs);
            *element_mut(&mut inputs[i], k) = above;
            let y_above = f(&inputs);
            *element_mut(&mut inputs[i], k) = original;
            for y in [&y_below, &y_above] {
                assert_eq!(
                    y.shape(),
                    output_gradient.shape(),
                    "compute_numerical_gradient: f returned shape {:?} but the output gradient \
                     has shape {:?}",
                    y.shape(),
                    output_gradient.shape()
                );
            }
            let change: f64 = y_below
                .iter()
                .zip(&y_above)
                .zip(output_gradient)
                .map(|((&lo, &hi), &g)| (f64::from(hi) - f64::from(lo)) * f64::from(g))
                .sum();
            let step = f64::from(above) - f64::from(below);
            *element_mut(&mut gradient, k) = (change / step) as f32;
        }
        gradients.push(gradient);
    }
    gradients
}

fn element(tensor: &mut Tensor, k: usize) -> f32 {
    *element_mut(tensor, k)
}

fn element_mut(tensor: &mut Tensor, k: usize) -> &mut f32 {
    &mut tensor
        .as_slice_mut()
        .expect("gradient check arrays are contiguous")[k]
}

/// LENGTH's `assert_allclose` with its default tolerances (`atol = 1e-5`, `rtol = 1e-4`):
/// panics unless `|actual − desired| ≤ atol + rtol · |desired|` for every element.
///
/// ```
/// use length_autograd::assert_allclose;
/// use ndarray::array;
///
/// assert_allclose(&array![1.0f32, 2.0], &array![1.000_01f32, 2.0]);
/// ```
///
/// # Panics
/// If the shapes differ or an element is not close, with a report of the mismatches.
pub fn assert_allclose<'a, 'b, D: Dimension>(
    actual: impl AsArray<'a, f32, D>,
    desired: impl AsArray<'b, f32, D>,
) {
    let Tolerance { atol, rtol, .. } = Tolerance::default();
    assert_allclose_tol(actual, desired, atol, rtol);
}

/// [`assert_allclose`] with chosen tolerances.
///
/// # Panics
/// If the shapes differ or an element is not close, with a report of the mismatches.
pub fn assert_allclose_tol<'a, 'b, D: Dimension>(
    actual: impl AsArray<'a, f32, D>,
    desired: impl AsArray<'b, f32, D>,
    atol: f32,
    rtol: f32,
) {
    if let Err(report) = check_allclose(actual, desired, atol, rtol) {
        panic!("{report}");
    }
}

/// Compares like [`assert_allclose_tol`] but returns the report instead of panicking.
pub fn check_allclose<'a, 'b, D: Dimension>(
    actual: impl AsArray<'a, f32, D>,
    desired: impl AsArray<'b, f32, D>,
    atol: f32,
    rtol: f32,
) -> Result<(), String> {
    let (actual, desired) = (actual.into().into_dyn(), desired.into().into_dyn());
    if actual.shape() != desired.shape() {
        return Err(format!(
            "not close: actual has shape {:?} but desired has shape {:?}",
            actual.shape(),
            desired.shape()
        ));
    }
    let mut mismatches = 0;
    let mut worst: Option<(IxDyn, f32, f32)> = None;
    let mut worst_excess = 0.0f32;
    for ((index, &a), &d) in actual.indexed_iter().zip(desired.iter()) {
        let difference = (a - d).abs();
        let allowed = atol + rtol * d.abs();
        if difference <= allowed {
            continue; // NaN never passes this test
        }
        mismatches += 1;
        let excess = if difference.is_nan() {
            f32::INFINITY
        } else {
            difference - allowed
        };
        if worst.is_none() || excess > worst_excess {
            worst_excess = excess;
            worst = Some((index, a, d));
        }
    }
    match worst {
        None => Ok(()),
        Some((index, a, d)) => Err(format!(
            "not close (atol {atol:e}, rtol {rtol:e}): {mismatches} of {} elements differ; \
             worst at {:?}: actual {a} vs desired {d} (difference {:e})",
            actual.len(),
            index.slice(),
            (a - d).abs()
        )),
    }
}

/// Checks `function`'s backward pass against the numerical gradient of its forward pass.
///
/// Runs `forward` on `inputs`, `backward` with `output_gradient`, and compares each tensor
/// input's gradient with [`compute_numerical_gradient`] (step `tolerance.eps`) using
/// [`check_allclose`]. Labels must get no gradient. The function must be deterministic (check
/// dropout with [`compute_numerical_gradient`] and its mask instead).
///
/// Returns a report naming the input whose gradient is wrong.
pub fn check_gradients<F: Function + ?Sized>(
    function: &mut F,
    inputs: &[Value],
    output_gradient: &Tensor,
    tolerance: Tolerance,
) -> Result<(), String> {
    let name = function.name().to_string();
    let refs: Vec<&Value> = inputs.iter().collect();
    let output = function
        .forward(&refs)
        .map_err(|error| format!("{name}: forward failed: {error}"))?;
    let analytic = function.backward(&refs, &output, output_gradient, &tensors_only(inputs));
    check_input_gradients(
        &name,
        &mut |values| function.forward(values),
        inputs,
        &analytic,
        output_gradient,
        tolerance,
    )
}

/// Checks `layer`'s backward pass against numerical gradients: the gradients of its inputs as
/// [`check_gradients`] does, and those of its parameters
/// ([`Layer::parameter_gradients`]), each parameter element moved by `±tolerance.eps` through
/// [`Layer::parameters_mut`] (and put back afterwards).
///
/// Use [`Tolerance::default`], LENGTH's, unless the layer sums many products in `f32`; see the
/// example on [`Layer`]. Returns a report naming the input or parameter whose gradient is wrong.
pub fn check_layer_gradients<L: Layer + ?Sized>(
    layer: &mut L,
    inputs: &[Value],
    output_gradient: &Tensor,
    tolerance: Tolerance,
) -> Result<(), String> {
    let name = layer.name().to_string();
    let refs: Vec<&Value> = inputs.iter().collect();
    let output = layer
        .forward(&refs)
        .map_err(|error| format!("{name}: forward failed: {error}"))?;
    let analytic = layer.backward(&refs, &output, output_gradient, &tensors_only(inputs));
    check_input_gradients(
        &name,
        &mut |values| layer.forward(values),
        inputs,
        &analytic,
        output_gradient,
        tolerance,
    )?;

    let analytic: Vec<Tensor> = layer
        .parameter_gradients()
        .ok_or_else(|| format!("{name}: backward kept no parameter gradients"))?
        .iter()
        .map(|gradient| gradient.to_owned())
        .collect();
    let original: Vec<Tensor> = layer.parameters().iter().map(|p| p.to_owned()).collect();
    if analytic.len() != original.len() {
        return Err(format!(
            "{name}: {} parameter gradients for {} parameters",
            analytic.len(),
            original.len()
        ));
    }
    let set_parameters = |layer: &mut L, values: &[Tensor]| {
        for (parameter, value) in layer.parameters_mut().iter_mut().zip(values) {
            parameter.assign(value);
        }
    };
    let numerical = compute_numerical_gradient(
        |parameters| {
            set_parameters(layer, parameters);
            layer.forward(&refs).unwrap_or_else(|error| {
                panic!("{name}: forward failed with perturbed parameters: {error}")
            })
        },
        &original,
        output_gradient,
        tolerance.eps,
    );
    set_parameters(layer, &original);
    for (index, (gradient, expected)) in analytic.iter().zip(&numerical).enumerate() {
        check_allclose(gradient, expected, tolerance.atol, tolerance.rtol)
            .map_err(|report| format!("{name}: gradient of parameter {index}: {report}"))?;
    }
    Ok(())
}

/// Which inputs want a gradient in a check: the tensors, not the labels.
fn tensors_only(inputs: &[Value]) -> Vec<bool> {
    inputs.iter().map(|v| v.as_tensor().is_some()).collect()
}

/// Compares `analytic`, the gradients backward returned for `inputs`, with the numerical
/// gradients of `forward`.
fn check_input_gradients(
    name: &str,
    forward: &mut dyn FnMut(&[&Value]) -> Result<Tensor, crate::AutogradError>,
    inputs: &[Value],
    analytic: &[Option<Tensor>],
    output_gradient: &Tensor,
    tolerance: Tolerance,
) -> Result<(), String> {
    if analytic.len() != inputs.len() {
        return Err(format!(
            "{name}: backward returned {} gradients for {} inputs",
            analytic.len(),
            inputs.len()
        ));
    }

    let tensors: Vec<Tensor> = inputs
        .iter()
        .filter_map(|v| v.as_tensor().cloned())
        .collect();
    let numerical = compute_numerical_gradient(
        |perturbed| {
            let mut perturbed = perturbed.iter();
            let values: Vec<Value> = inputs
                .iter()
                .map(|v| match v {
                    Value::Tensor(_) => {
                        Value::Tensor(perturbed.next().cloned().unwrap_or_default())
                    }
                    Value::Labels(labels) => Value::Labels(labels.clone()),
                })
                .collect();
            let refs: Vec<&Value> = values.iter().collect();
            forward(&refs).unwrap_or_else(|error| {
                panic!("{name}: forward failed on perturbed input: {error}")
            })
        },
        &tensors,
        output_gradient,
        tolerance.eps,
    );

    let mut numerical = numerical.into_iter();
    for (index, (input, gradient)) in inputs.iter().zip(analytic).enumerate() {
        match (input, gradient) {
            (Value::Labels(_), None) => {}
            (Value::Labels(_), Some(_)) => {
                return Err(format!(
                    "{name}: input {index} is labels but got a gradient"
                ));
            }
            (Value::Tensor(_), None) => {
                numerical.next();
                return Err(format!(
                    "{name}: input {index} is a tensor but got no gradient"
                ));
            }
            (Value::Tensor(_), Some(gradient)) => {
                let expected = numerical.next().unwrap_or_default();
                check_allclose(gradient, &expected, tolerance.atol, tolerance.rtol)
                    .map_err(|report| format!("{name}: gradient of input {index}: {report}"))?;
            }
        }
    }
    Ok(())
}
