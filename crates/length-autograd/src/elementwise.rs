//! [`ElementwiseOptimizer`]: an update rule stated once, per element, from which every update
//! path is derived.
//!
//! See [`ElementwiseOptimizer`] for how one rule becomes every update path.

use length_tensor::{Tensor, update_pass, update_slices};
use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::{ElementwiseStep, LayerId, LayerStates, LearningRate, Optimizer};

/// An optimizer whose rule is element-wise, stated once per element: implement this, and the
/// [`Optimizer`] comes with it.
///
/// Most optimizers are element-wise: element `i` of a parameter moves by a `delta` computed from
/// element `i` of its gradient, of its own state (momentum's velocity `v`, Adam's moments `m` and
/// `v`) and of the parameter, plus a few numbers that are the same for the whole step of a layer
/// (the learning rate, Adam's bias corrections for the layer's `t`-th update). Such an optimizer
/// states exactly that, in [`ElementwiseOptimizer::step`] and [`ElementwiseOptimizer::delta`], and
/// gets the whole [`Optimizer`] from it:
///
/// - LENGTH's [`run_update_rule`](Optimizer::run_update_rule)`(gradients, layer) -> deltas`;
/// - the in-place [`update`](Optimizer::update), `p ← p − delta`, one pass per parameter;
/// - [`begin_elementwise_step`](Optimizer::begin_elementwise_step), with which a fully connected
///   layer applies the step to its weights while the weight-gradient product finishes them.
///
/// All three run the same `delta` through one engine, length-tensor's [`update_pass`] (rayon
/// over chunks of large arrays, the widest SIMD the CPU has, bit-identical for any number of
/// threads), so their results agree bit for bit. The per-layer state ([`LayerStates`]: zeros on
/// a layer's first update, its step count, the shape checks) is kept for all of them alike.
///
/// [`update_pass`]: length_tensor::update_pass
///
/// A student's SGD (`delta = η·g`): no state per element, and the learning rate as the step's
/// constant.
///
/// ```
/// use length_autograd::{ElementwiseOptimizer, LayerId, LayerStates, LearningRate, Optimizer};
/// use ndarray::array;
///
/// struct MySgd {
///     learning_rate: f32,
///     states: LayerStates,
/// }
///
/// impl ElementwiseOptimizer for MySgd {
///     const NAME: &'static str = "MySgd";
///     type State = [f32; 0]; // nothing kept per element
///     type Step = f32; // the learning rate of this step
///
///     fn step(&self, _t: u64) -> f32 {
///         self.learning_rate
///     }
///
///     fn delta(learning_rate: f32, _p: f32, g: f32, _state: &mut [f32; 0]) -> f32 {
///         learning_rate * g
///     }
///
///     fn layer_states(&self) -> &LayerStates {
///         &self.states
///     }
///
///     fn layer_states_mut(&mut self) -> &mut LayerStates {
///         &mut self.states
///     }
/// }
///
/// impl LearningRate for MySgd {
///     fn learning_rate(&self) -> f32 {
///         self.learning_rate
///     }
///
///     fn set_learning_rate(&mut self, learning_rate: f32) {
///         self.learning_rate = learning_rate;
///     }
/// }
///
/// let mut sgd = MySgd { learning_rate: 0.5, states: LayerStates::new() };
/// let layer = LayerId::fresh();
/// let gradient = array![1.0f32, -2.0].into_dyn();
///
/// // LENGTH's run_update_rule ...
/// let deltas = sgd.run_update_rule(&[gradient.view()], layer);
/// assert_eq!(deltas[0], array![0.5f32, -1.0].into_dyn());
/// // ... the in-place update ...
/// let mut weights = array![1.0f32, 1.0].into_dyn();
/// sgd.update(&mut [weights.view_mut()], &[gradient.view()], layer);
/// assert_eq!(weights, array![0.5f32, 2.0].into_dyn());
/// // ... and the step a fully connected layer fuses into its weight-gradient product.
/// let step = sgd.begin_elementwise_step(layer, &[&[2]]).expect("element-wise");
/// step.apply(0, 1, &mut weights.as_slice_mut().unwrap()[1..], &[-2.0]);
/// drop(step);
/// assert_eq!(weights, array![0.5f32, 3.0].into_dyn());
/// assert_eq!(sgd.layer_states().steps(layer), 3);
/// ```
///
/// A rule with state keeps one `f32` per slot of [`State`](ElementwiseOptimizer::State) per
/// element, and constants per step; Adam with bias correction:
///
/// ```
/// # use length_autograd::{ElementwiseOptimizer, LayerId, LayerStates, LearningRate, Optimizer};
/// struct MyAdam { learning_rate: f32, states: LayerStates }
///
/// #[derive(Clone, Copy)]
/// struct AdamStep { step_size: f32, bias_correction2: f32 }
///
/// impl ElementwiseOptimizer for MyAdam {
///     const NAME: &'static str = "MyAdam";
///     type State = [f32; 2]; // first and second moment
///     type Step = AdamStep;
///
///     fn step(&self, t: u64) -> AdamStep {
///         let t = t as i32;
///         AdamStep {
///             step_size: self.learning_rate / (1.0 - 0.9f32.powi(t)),
///             bias_correction2: 1.0 - 0.999f32.powi(t),
///         }
///     }
///
///     fn delta(step: AdamStep, _p: f32, g: f32, [m, v]: &mut [f32; 2]) -> f32 {
///         *m = 0.9 * *m + 0.1 * g;
///         *v = 0.999 * *v + 0.001 * g * g;
///         step.step_size * *m / ((*v / step.bias_correction2).sqrt() + 1e-8)
///     }
///
///     fn layer_states(&self) -> &LayerStates { &self.states }
///     fn layer_states_mut(&mut self) -> &mut LayerStates { &mut self.states }
/// }
/// # impl LearningRate for MyAdam {
/// #     fn learning_rate(&self) -> f32 { self.learning_rate }
/// #     fn set_learning_rate(&mut self, learning_rate: f32) { self.learning_rate = learning_rate }
/// # }
///
/// let mut adam = MyAdam { learning_rate: 0.001, states: LayerStates::new() };
/// let layer = LayerId::fresh();
/// let deltas = adam.run_update_rule(&[ndarray::array![0.5f32, -3.0].into_dyn().view()], layer);
/// // The first bias-corrected step moves each parameter by about η, whatever the gradient.
/// assert!((deltas[0][0] - 0.001).abs() < 1e-6 && (deltas[0][1] + 0.001).abs() < 1e-6);
/// assert_eq!(adam.layer_states().slot(layer, 0, 0).unwrap()[1], 0.1 * -3.0); // m
/// ```
pub trait ElementwiseOptimizer: LearningRate {
    /// The optimizer's name in panic messages, e.g. `"SGD"`.
    const NAME: &'static str;

    /// What the rule keeps per parameter element: `[f32; 0]` for nothing, `[f32; 1]` for a
    /// velocity, `[f32; 2]` for Adam's two moments. Zeros before a layer's first update.
    type State: ElementState;

    /// The numbers that are the same for every element of one update of one layer: the learning
    /// rate, and whatever else is computed once per step (Adam's bias corrections).
    type Step: Copy + Send + Sync + 'static;

    /// The constants of a layer's `t`-th update (`t = 1` on its first): computed once per layer
    /// and step, before the pass over its elements.
    fn step(&self, t: u64) -> Self::Step;

    /// The rule, for one element: given the step's constants, the parameter `p`'s value before
    /// the update, its gradient `g` and its state (to update in place), returns the `delta` with
    /// which `p ← p − delta`.
    ///
    /// LENGTH's [`run_update_rule`](Optimizer::run_update_rule) sees no parameters: it calls
    /// this with `p = 0`. A rule that reads `p` (AdamW's decay) gets its complete deltas from
    /// [`run_update_rule_with_parameters`](ElementwiseOptimizer::run_update_rule_with_parameters)
    /// and its in-place [`update`](Optimizer::update), which see the parameters.
    fn delta(step: Self::Step, p: f32, g: f32, state: &mut Self::State) -> f32;

    /// `Some(η)` if [`delta`](ElementwiseOptimizer::delta) is exactly `η · g` for this step,
    /// whatever `p` (plain SGD), with no state: the fused step may then run inside the
    /// weight-gradient product's microkernel ([`ElementwiseStep::descent_rate`]). `None` (the
    /// default) otherwise; returning `Some` for any other rule would silently train with the
    /// wrong update.
    fn descent_rate(step: Self::Step) -> Option<f32> {
        let _ = step;
        None
    }

    /// The per-layer state this optimizer keeps (a field of type [`LayerStates`]).
    fn layer_states(&self) -> &LayerStates;

    /// The per-layer state, to advance.
    fn layer_states_mut(&mut self) -> &mut LayerStates;

    /// The complete deltas for `parameters` with `gradients`, the parameters' values passed to
    /// [`delta`](ElementwiseOptimizer::delta): advances the layer's state exactly as
    /// [`update`](Optimizer::update) does, and `p − delta` is bit for bit what `update` stores.
    ///
    /// # Panics
    /// If `parameters` and `gradients` differ in number or shapes.
    fn run_update_rule_with_parameters(
        &mut self,
        parameters: &[ArrayViewD<f32>],
        gradients: &[ArrayViewD<f32>],
        layer: LayerId,
    ) -> Vec<Tensor> {
        let mut deltas: Vec<Tensor> = parameters.iter().map(|p| p.to_owned()).collect();
        let mut views: Vec<ArrayViewMutD<f32>> = deltas.iter_mut().map(|d| d.view_mut()).collect();
        assert_pairs::<Self>("run_update_rule_with_parameters", &views, gradients);
        // Each delta holds its parameter on entry.
        let (step, slots) = begin(self, layer, gradients.iter().map(|g| g.shape()));
        each_parameter::<Self, _>(slots, &mut views, gradients, move |delta, g, state| {
            *delta = Self::delta(step, *delta, g, state)
        });
        deltas
    }
}

/// What an [`ElementwiseOptimizer`] keeps per element: `[f32; N]`, one `f32` per state array.
/// Implemented for every `[f32; N]` and nothing else.
pub trait ElementState: sealed::Sealed + Copy + Send + Sync + 'static {
    /// `N`: how many state arrays each parameter has.
    const SLOTS: usize;

    /// `f(&mut out[i], gradient[i], &mut state_i)` for every element, with the state held in
    /// `slots` (`SLOTS` arrays of `out`'s shape), through [`update_pass`].
    #[doc(hidden)]
    fn pass<F>(out: ArrayViewMutD<f32>, slots: &mut [Tensor], gradient: ArrayViewD<f32>, f: F)
    where
        F: Fn(&mut f32, f32, &mut Self) + Sync + Copy;

    /// The same on a piece of a parameter at `offset`, with the state arrays given by pointers
    /// to their first elements.
    ///
    /// # Safety
    /// Each of the `SLOTS` pointers must be valid for `offset + out.len()` elements, and no
    /// other thread may touch these elements meanwhile.
    #[doc(hidden)]
    unsafe fn piece<F>(out: &mut [f32], slots: &[*mut f32], offset: usize, gradient: &[f32], f: F)
    where
        F: Fn(&mut f32, f32, &mut Self);
}

mod sealed {
    pub trait Sealed {}
    impl<const N: usize> Sealed for [f32; N] {}
}

impl<const N: usize> ElementState for [f32; N] {
    const SLOTS: usize = N;

    fn pass<F>(out: ArrayViewMutD<f32>, slots: &mut [Tensor], gradient: ArrayViewD<f32>, f: F)
    where
        F: Fn(&mut f32, f32, &mut Self) + Sync + Copy,
    {
        let mut slots = slots.iter_mut();
        let states: [&mut [f32]; N] = std::array::from_fn(|_| {
            let slot = slots.next().expect("one state array per slot");
            slot.as_slice_mut().expect("state arrays are contiguous")
        });
        update_pass(out, states, gradient, f);
    }

    unsafe fn piece<F>(out: &mut [f32], slots: &[*mut f32], offset: usize, gradient: &[f32], f: F)
    where
        F: Fn(&mut f32, f32, &mut Self),
    {
        let states: [&mut [f32]; N] = std::array::from_fn(|k| {
            // SAFETY: as the caller promises.
            unsafe { std::slice::from_raw_parts_mut(slots[k].add(offset), out.len()) }
        });
        update_slices(out, states, gradient, f);
    }
}

/// Every element-wise optimizer is an [`Optimizer`]: the three paths, from one `delta`.
impl<T: ElementwiseOptimizer> Optimizer for T {
    /// One delta per gradient, `delta(step, 0, g, state)` for each element, advancing the state.
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], layer: LayerId) -> Vec<Tensor> {
        let mut deltas: Vec<Tensor> = gradients
            .iter()
            .map(|g| Tensor::zeros(g.raw_dim()))
            .collect();
        let mut views: Vec<ArrayViewMutD<f32>> = deltas.iter_mut().map(|d| d.view_mut()).collect();
        let (step, slots) = begin(self, layer, gradients.iter().map(|g| g.shape()));
        // Each delta is 0 on entry: the rule sees p = 0.
        each_parameter::<T, _>(slots, &mut views, gradients, move |delta, g, state| {
            *delta = T::delta(step, *delta, g, state)
        });
        deltas
    }

    /// `p ← p − delta` in one pass per parameter, allocating nothing after the layer's first
    /// update.
    fn update(
        &mut self,
        parameters: &mut [ArrayViewMutD<f32>],
        gradients: &[ArrayViewD<f32>],
        layer: LayerId,
    ) {
        assert_pairs::<T>("update", parameters, gradients);
        let (step, slots) = begin(self, layer, gradients.iter().map(|g| g.shape()));
        each_parameter::<T, _>(slots, parameters, gradients, move |p, g, state| {
            *p -= T::delta(step, *p, g, state)
        });
    }

    /// The step of [`update`](Optimizer::update), for the layer to apply piece by piece.
    fn begin_elementwise_step(
        &mut self,
        layer: LayerId,
        shapes: &[&[usize]],
    ) -> Option<Box<dyn ElementwiseStep + '_>> {
        let (step, slots) = begin(self, layer, shapes.iter().copied());
        Some(Box::new(PieceStep::<T> {
            step,
            lengths: shapes.iter().map(|shape| shape.iter().product()).collect(),
            slots: slots.iter_mut().map(|slot| slot.as_mut_ptr()).collect(),
        }))
    }
}

/// Counts one more update of `layer` (parameters of `shapes`) and returns the step's constants
/// with the layer's state arrays.
fn begin<'o, 's, T: ElementwiseOptimizer + ?Sized>(
    optimizer: &'o mut T,
    layer: LayerId,
    shapes: impl ExactSizeIterator<Item = &'s [usize]> + Clone,
) -> (T::Step, &'o mut [Tensor]) {
    let step = optimizer.step(optimizer.layer_states().steps(layer) + 1);
    let (_, slots) =
        optimizer
            .layer_states_mut()
            .begin_update(T::NAME, layer, shapes, T::State::SLOTS);
    (step, slots)
}

/// `f(&mut out, g, &mut state)` for every element of every output, with its gradient and its
/// state from `slots` (`SLOTS` arrays per parameter, in order).
fn each_parameter<T, F>(
    slots: &mut [Tensor],
    outputs: &mut [ArrayViewMutD<f32>],
    gradients: &[ArrayViewD<f32>],
    f: F,
) where
    T: ElementwiseOptimizer + ?Sized,
    F: Fn(&mut f32, f32, &mut T::State) + Sync + Copy,
{
    let per_parameter = T::State::SLOTS;
    for (i, (output, gradient)) in outputs.iter_mut().zip(gradients).enumerate() {
        let slots = &mut slots[i * per_parameter..(i + 1) * per_parameter];
        T::State::pass(output.view_mut(), slots, gradient.view(), f);
    }
}

/// Panics unless there is one gradient per output, of the output's shape, naming the optimizer
/// and `method` in the message (e.g. "SGD::update: parameter 0 is [2, 3] but its gradient is
/// [3, 2]").
fn assert_pairs<T: ElementwiseOptimizer + ?Sized>(
    method: &str,
    outputs: &[ArrayViewMutD<f32>],
    gradients: &[ArrayViewD<f32>],
) {
    let name = T::NAME;
    assert_eq!(
        outputs.len(),
        gradients.len(),
        "{name}::{method}: {} parameters but {} gradients",
        outputs.len(),
        gradients.len()
    );
    for (index, (output, gradient)) in outputs.iter().zip(gradients).enumerate() {
        assert_eq!(
            output.shape(),
            gradient.shape(),
            "{name}::{method}: parameter {index} is {:?} but its gradient is {:?}",
            output.shape(),
            gradient.shape()
        );
    }
}

/// One update of one layer, applied by the layer to pieces of its parameters: the arithmetic
/// of [`update`](Optimizer::update) on the state of the same elements.
struct PieceStep<T: ElementwiseOptimizer> {
    step: T::Step,
    /// The number of elements of each parameter.
    lengths: Vec<usize>,
    /// The first element of each state array, `SLOTS` per parameter, in order.
    slots: Vec<*mut f32>,
}

// SAFETY: `apply` touches the state of the elements of its piece only, and the caller updates
// each element once per step (`ElementwiseStep`'s contract): threads never share an element. The
// state outlives the step, which borrows the optimizer mutably.
unsafe impl<T: ElementwiseOptimizer> Sync for PieceStep<T> {}

impl<T: ElementwiseOptimizer> ElementwiseStep for PieceStep<T> {
    fn apply(&self, index: usize, offset: usize, parameter: &mut [f32], gradient: &[f32]) {
        let name = T::NAME;
        let count = self.lengths.len();
        let len = *self.lengths.get(index).unwrap_or_else(|| {
            panic!("{name}: parameter {index} of a layer with {count} parameters")
        });
        assert!(
            parameter.len() == gradient.len() && offset + parameter.len() <= len,
            "{name}: a piece of {} elements at {offset} of a parameter of {len}, gradient {}",
            parameter.len(),
            gradient.len()
        );
        let per_parameter = T::State::SLOTS;
        let slots = &self.slots[index * per_parameter..(index + 1) * per_parameter];
        let step = self.step;
        // SAFETY: the piece lies inside the parameter (asserted), so inside each of its state
        // arrays, and no other piece covers these elements (the contract of `apply`).
        unsafe {
            T::State::piece(parameter, slots, offset, gradient, move |p, g, state| {
                *p -= T::delta(step, *p, g, state)
            });
        }
    }

    fn descent_rate(&self) -> Option<f32> {
        T::descent_rate(self.step).filter(|_| T::State::SLOTS == 0)
    }
}
