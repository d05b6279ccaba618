//! Property test: the fully connected layer's gradients for the input, the weights and the bias
//! match the numerical gradient on random shapes and values (tolerances as in
//! `length-autograd/tests/proptest_gradients.rs`: ε = 1e-2, atol 1e-3, rtol 1e-2; the layer is
//! linear in each argument, so only f32 rounding separates the two).

use length_autograd::{Layer, Value, check_allclose, compute_numerical_gradient};
use length_layers::{FullyConnected, Xavier};
use length_tensor::Tensor;
use proptest::prelude::*;

fn tensor(shape: Vec<usize>) -> impl Strategy<Value = Tensor> {
    let size: usize = shape.iter().product();
    proptest::collection::vec(-1.0f32..1.0, size)
        .prop_map(move |data| Tensor::from_shape_vec(shape.clone(), data).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fully_connected_gradients(
        (x, g, seed) in (1usize..6, 1usize..8, 1usize..6).prop_flat_map(|(batch, inputs, outputs)| {
            (tensor(vec![batch, inputs]), tensor(vec![batch, outputs]), any::<u64>())
        })
    ) {
        let (inputs, outputs) = (x.shape()[1], g.shape()[1]);
        let mut layer = FullyConnected::new(inputs, outputs, &mut Xavier::new(seed));
        let x_value = Value::Tensor(x.clone());
        let y = layer.forward(&[&x_value]).unwrap();
        let computed = layer.backward(&[&x_value], &y, &g, &[true]);

        let parameters = [
            x,
            layer.stored_weights().to_owned().into_dyn(),
            layer.bias().to_owned().into_dyn(),
        ];
        let numerical = compute_numerical_gradient(
            |p| {
                layer.stored_weights_mut().assign(&p[1]);
                layer.bias_mut().assign(&p[2]);
                layer.forward(&[&Value::Tensor(p[0].clone())]).unwrap()
            },
            &parameters,
            &g,
            1e-2,
        );
        let close = |actual: &Tensor, expected: &Tensor| {
            check_allclose(actual, expected, 1e-3, 1e-2).map_err(TestCaseError::fail)
        };
        close(computed[0].as_ref().unwrap(), &numerical[0])?;
        close(&layer.weight_gradient().expect("kept").to_owned().into_dyn(), &numerical[1])?;
        close(&layer.bias_gradient().expect("kept").to_owned().into_dyn(), &numerical[2])?;

        // Skipping the input gradient changes nothing else.
        let again = layer.backward(&[&x_value], &y, &g, &[false]);
        prop_assert!(again[0].is_none());
    }
}
