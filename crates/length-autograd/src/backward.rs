//! The backward pass: reverse-mode differentiation over the tape.
//!
//! Starting from the output's gradient (1 for a scalar loss), the ops are visited in reverse
//! order of application, which is a reverse topological order: every op that used a value comes
//! after the op that made it, so by the time an op is visited, all gradients flowing into its
//! output have arrived. Each op turns its output's gradient into its inputs' gradients, which
//! are *added* to whatever those inputs already received (a value used twice gets the sum; the
//! Python LENGTH overwrote it). A layer hands its parameter gradients to the optimizer right
//! after its own backward step, as in LENGTH.

use length_tensor::Tensor;

use crate::graph::Step;
use crate::{Graph, NodeId, Optimizer, Value, pool};

impl Graph<'_> {
    /// Computes every gradient of `output` and trains: each layer hands its parameter gradients
    /// to `optimizer` and applies the update during the pass (LENGTH's `loss.backward(optimizer)`).
    ///
    /// `output` is normally the scalar loss; its gradient starts at 1, or at the gradient set
    /// with [`set_gradient`](Graph::set_gradient) (or left on it by an earlier backward pass).
    /// Every other node's gradient is cleared first, so each call computes fresh gradients. A
    /// node that no function created (an input) has nothing to differentiate: backward from it
    /// does nothing.
    ///
    /// # Panics
    /// If `output` holds more than one number and has no gradient set.
    pub fn backward(&mut self, output: NodeId, optimizer: &mut dyn Optimizer) {
        self.run_backward(output, Some(optimizer));
    }

    /// Computes every gradient of `output` like [`backward`](Graph::backward), but updates no
    /// parameters: layers keep their parameter gradients (a fully connected layer shows them as
    /// `weight_gradient()` and `bias_gradient()`), ready for a gradient check or for a separate
    /// `layer.update(&mut optimizer)`.
    pub fn backward_gradients_only(&mut self, output: NodeId) {
        self.run_backward(output, None);
    }

    fn run_backward(&mut self, output: NodeId, mut optimizer: Option<&mut dyn Optimizer>) {
        let Some(last_op) = self.node(output).creator else {
            return;
        };
        let seed = self.seed_gradient(output);
        for node in &mut self.nodes {
            if let Some(old) = node.gradient.take() {
                pool::recycle(old);
            }
        }
        self.nodes[output.0].gradient = Some(seed);

        let mut needs_gradient = Vec::new(); // one allocation for the whole pass
        for op in self.ops[..=last_op].iter_mut().rev() {
            let nodes = &self.nodes;
            let Some(output_gradient) = nodes[op.output.0].gradient.as_ref() else {
                continue; // the output does not depend on this op
            };
            needs_gradient.clear();
            needs_gradient.extend(op.inputs.iter().map(|id| nodes[id.0].needs_gradient));
            let is_layer = matches!(op.step, Step::Layer(_));
            if !is_layer && !needs_gradient.contains(&true) {
                continue; // nothing to compute: no input wants a gradient, no parameters
            }
            let inputs: Vec<&Value> = op.inputs.iter().map(|id| &nodes[id.0].value).collect();
            let Value::Tensor(output_value) = &nodes[op.output.0].value else {
                unreachable!("functions always output tensors")
            };
            let gradients = match (&mut op.step, optimizer.as_deref_mut()) {
                (Step::Function(function), _) => {
                    function.backward(&inputs, output_value, output_gradient, &needs_gradient)
                }
                (Step::Layer(layer), None) => {
                    layer.backward(&inputs, output_value, output_gradient, &needs_gradient)
                }
                // A layer that can apply the optimizer's step while computing its gradients does
                // both at once; otherwise backward, then the update.
                (Step::Layer(layer), Some(optimizer)) => layer
                    .backward_and_update(
                        &inputs,
                        output_value,
                        output_gradient,
                        &needs_gradient,
                        optimizer,
                    )
                    .unwrap_or_else(|| {
                        let gradients =
                            layer.backward(&inputs, output_value, output_gradient, &needs_gradient);
                        layer.update(optimizer);
                        gradients
                    }),
            };
            assert_eq!(
                gradients.len(),
                op.inputs.len(),
                "{}::backward returned {} gradients for {} inputs",
                op.step.name(),
                gradients.len(),
                op.inputs.len()
            );

            for (&input, gradient) in op.inputs.iter().zip(gradients) {
                let node = &mut self.nodes[input.0];
                let Some(gradient) = gradient else {
                    continue;
                };
                if !node.needs_gradient {
                    pool::recycle(gradient); // computed, but nobody reads it
                    continue;
                }
                assert_eq!(
                    gradient.shape(),
                    node.value.shape(),
                    "{}::backward returned a gradient of shape {:?} for an input of shape {:?}",
                    op.step.name(),
                    gradient.shape(),
                    node.value.shape()
                );
                match &mut node.gradient {
                    Some(sum) => {
                        *sum += &gradient;
                        pool::recycle(gradient);
                    }
                    None => node.gradient = Some(gradient),
                }
            }
        }
    }

    /// The gradient backward starts from: the one already on `output`, or 1 for a scalar.
    fn seed_gradient(&mut self, output: NodeId) -> Tensor {
        let node = &mut self.nodes[output.0];
        node.gradient.take().unwrap_or_else(|| {
            let shape = node.value.shape();
            assert_eq!(
                shape.iter().product::<usize>(),
                1,
                "backward from node {} of shape {shape:?}: set its gradient with set_gradient \
                 first, or start from a scalar such as a loss",
                output.0
            );
            let mut seed = pool::take(shape);
            seed.fill(1.0);
            seed
        })
    }
}
