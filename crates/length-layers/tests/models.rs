//! The models: LENGTH's MLP and ActivatedMLP, the configurable MLP, named parameters for
//! checkpoints, the train/eval switch, and training with an optimizer from `length-optim`.

use length_autograd::{AutogradError, Graph, Layer};
use length_layers::{
    ActivatedMLP, Activation, FullyConnected, LayersError, Loss, MLP, MlpConfig, Model, WeightInit,
};
use length_optim::{Adam, AdamW, AdamWConfig, Momentum, MomentumConfig, Sgd};
use length_tensor::Labels;
use ndarray::{Array2, ArrayViewD, array};

fn batch(rows: usize, columns: usize, seed: u64) -> Array2<f32> {
    let mut state = seed;
    Array2::from_shape_fn((rows, columns), |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    })
}

#[test]
fn lengths_mlp_has_lengths_shape() {
    let model = MLP::new();
    let shapes: Vec<(String, Vec<usize>)> = model
        .parameters()
        .into_iter()
        .map(|(name, value)| (name, value.shape().to_vec()))
        .collect();
    let expected = [
        ("fc1.weight", vec![512, 784]),
        ("fc1.bias", vec![512]),
        ("fc2.weight", vec![512, 512]),
        ("fc2.bias", vec![512]),
        ("fc3.weight", vec![10, 512]),
        ("fc3.bias", vec![10]),
    ];
    assert_eq!(shapes.len(), expected.len());
    for ((name, shape), (expected_name, expected_shape)) in shapes.iter().zip(&expected) {
        assert_eq!(name, expected_name);
        assert_eq!(shape, expected_shape);
    }
    assert_eq!(model.config().activation, Activation::None);
    assert_eq!(model.config().loss, Loss::MeanSquaredError);
    assert_eq!(ActivatedMLP::new().config().activation, Activation::ReLU);
}

#[test]
fn same_seed_same_model_other_seed_other_model() -> Result<(), LayersError> {
    let config = MlpConfig::new([20, 8, 3]).seed(5);
    let (a, b) = (config.clone().build()?, config.clone().build()?);
    let c = config.seed(6).build()?;
    assert_eq!(a.parameters(), b.parameters());
    assert_ne!(a.parameters()[0], c.parameters()[0]);
    let classic = MlpConfig::new([20, 8, 3])
        .init(WeightInit::Normal { std_dev: 0.01 })
        .build()?;
    assert!(classic.layers()[0].weights().iter().all(|w| w.abs() < 0.1));
    Ok(())
}

#[test]
fn parameters_round_trip_between_models() -> Result<(), LayersError> {
    let source = MlpConfig::activated().seed(1).build()?;
    let mut target = MlpConfig::activated().seed(2).build()?;
    let x = batch(3, 784, 9);
    assert_ne!(source.infer(x.view())?, target.infer(x.view())?);
    let saved: Vec<(String, ArrayViewD<f32>)> = source.parameters();
    target.load_parameters(&saved)?;
    assert_eq!(source.infer(x.view())?, target.infer(x.view())?);
    Ok(())
}

#[test]
fn loading_bad_parameters_is_an_error_and_changes_nothing() -> Result<(), LayersError> {
    let mut model = MlpConfig::new([4, 3, 2]).build()?;
    let before: Vec<_> = model
        .parameters()
        .iter()
        .map(|(n, v)| (n.clone(), v.to_owned()))
        .collect();
    let mut given: Vec<(String, ndarray::ArrayD<f32>)> = before.clone();

    given[0].0 = "fc9.weight".to_string();
    assert!(matches!(
        model.load_parameters(&views(&given)),
        Err(LayersError::UnknownParameter { .. })
    ));

    given[0] = ("fc1.weight".to_string(), ndarray::ArrayD::zeros(vec![4, 3])); // transposed
    assert!(matches!(
        model.load_parameters(&views(&given)),
        Err(LayersError::ShapeMismatch { .. })
    ));

    given[0] = before[0].clone();
    given.pop();
    let error = model.load_parameters(&views(&given)).unwrap_err();
    assert_eq!(
        error,
        LayersError::MissingParameter {
            name: "fc2.bias".to_string()
        }
    );

    let after: Vec<_> = model
        .parameters()
        .iter()
        .map(|(n, v)| (n.clone(), v.to_owned()))
        .collect();
    assert_eq!(before, after);
    assert!(model.parameter_mut("fc0.weight").is_err());
    assert!(model.parameter_mut("fc1.weights").is_err());
    assert!(model.parameter_mut("fc01.bias").is_err());
    model.parameter_mut("fc2.bias")?.fill(1.5);
    assert_eq!(model.layers()[1].bias(), array![1.5f32, 1.5]);
    Ok(())
}

#[test]
fn architecture_text_rebuilds_the_model() -> Result<(), LayersError> {
    let model = MlpConfig::new([6, 5, 4, 3])
        .activation(Activation::Sigmoid)
        .loss(Loss::SoftmaxCrossEntropy)
        .dropout(0.25)
        .seed(3)
        .build()?;
    let rebuilt = model.architecture().parse::<MlpConfig>()?.build()?;
    assert_eq!(rebuilt.config(), model.config());
    assert_eq!(rebuilt.parameters(), model.parameters());
    Ok(())
}

#[test]
fn graph_forward_equals_infer_in_evaluation_mode() -> Result<(), Box<dyn std::error::Error>> {
    for activation in [Activation::None, Activation::ReLU, Activation::Sigmoid] {
        let mut model = MlpConfig::new([7, 6, 5, 3])
            .activation(activation)
            .dropout(0.5)
            .build()?;
        let x = batch(4, 7, 1);
        let direct = model.infer(x.view())?;
        model.set_training(false);
        let mut graph = Graph::new();
        let input = graph.constant(x.clone());
        let logits = model.forward(&mut graph, input)?;
        length_autograd::assert_allclose(graph.value(logits), &direct.into_dyn());
        assert!(!graph.visualize(logits).contains("Dropout"));
    }
    Ok(())
}

#[test]
fn dropout_acts_only_in_training_mode() -> Result<(), Box<dyn std::error::Error>> {
    let mut model = MlpConfig::new([7, 6, 5, 3])
        .activation(Activation::ReLU)
        .dropout(0.5)
        .build()?;
    assert!(model.is_training());
    let x = batch(4, 7, 2);
    let mut graph = Graph::new();
    let input = graph.constant(x.clone());
    let logits = model.forward(&mut graph, input)?;
    assert_eq!(graph.visualize(logits).matches("Dropout").count(), 2);
    assert_ne!(graph.value(logits), &model_infer(&x)?);
    Ok(())
}

fn views(given: &[(String, ndarray::ArrayD<f32>)]) -> Vec<(String, ArrayViewD<'_, f32>)> {
    given.iter().map(|(n, v)| (n.clone(), v.view())).collect()
}

fn model_infer(x: &Array2<f32>) -> Result<ndarray::ArrayD<f32>, LayersError> {
    let model = MlpConfig::new([7, 6, 5, 3])
        .activation(Activation::ReLU)
        .dropout(0.5)
        .build()?;
    Ok(model.infer(x.view())?.into_dyn())
}

#[test]
fn wrong_input_width_is_an_error() {
    let mut model = MLP::new();
    assert!(matches!(
        model.infer(Array2::zeros((2, 783)).view()),
        Err(LayersError::ShapeMismatch { .. })
    ));
    let mut graph = Graph::new();
    let x = graph.constant(Array2::<f32>::zeros((2, 783)));
    assert!(matches!(
        model.forward(&mut graph, x),
        Err(AutogradError::ShapeMismatch { .. })
    ));
}

#[test]
fn training_separates_two_classes() -> Result<(), Box<dyn std::error::Error>> {
    // Two clusters in 10 dimensions; a small ReLU network with cross-entropy and SGD.
    let mut model = MlpConfig::new([10, 16, 2])
        .activation(Activation::ReLU)
        .loss(Loss::SoftmaxCrossEntropy)
        .seed(4)
        .build()?;
    let mut optimizer = Sgd::with_learning_rate(0.2);
    let noise = batch(32, 10, 3);
    let labels = Labels::from_shape_fn(32, |i| (i % 2) as u32);
    let x = Array2::from_shape_fn((32, 10), |(i, j)| {
        let centre = if (i % 2 == 0) == (j < 5) { 1.0 } else { -1.0 };
        centre + noise[[i, j]] - 0.5
    });
    let mut losses = Vec::new();
    for _ in 0..30 {
        let mut graph = Graph::new();
        let input = graph.constant(x.clone());
        let t = graph.labels(labels.clone());
        let pass = model.forward_with_loss(&mut graph, input, t)?;
        graph.backward(pass.loss, &mut optimizer);
        losses.push(graph.scalar(pass.loss));
    }
    assert!(losses[29] < 0.1 * losses[0], "losses {losses:?}");
    let predictions = length_tensor::argmax_rows(model.infer(x.view())?.view());
    assert!(
        predictions
            .iter()
            .zip(&labels)
            .all(|(&p, &t)| p == t as usize)
    );
    Ok(())
}

#[test]
fn default_layer_update_equals_the_in_place_update() -> Result<(), Box<dyn std::error::Error>> {
    // LENGTH's path (run_update_rule, then apply_update) and the fused in-place path agree.
    let mut a = MlpConfig::new([3, 2]).seed(8).build()?;
    let mut b = MlpConfig::new([3, 2]).seed(8).build()?;
    let x = batch(2, 3, 4);
    for model in [&mut a, &mut b] {
        let mut graph = Graph::new();
        let input = graph.constant(x.clone());
        let t = graph.labels(array![0, 1]);
        let pass = model.forward_with_loss(&mut graph, input, t)?;
        graph.backward_gradients_only(pass.loss);
    }
    let mut sgd = Sgd::with_learning_rate(0.1);
    let layer_a = &mut a.layers_mut()[0];
    let deltas = length_autograd::Optimizer::run_update_rule(
        &mut sgd,
        &layer_a
            .parameter_gradients()
            .expect("kept by backward_gradients_only"),
        layer_a.layer_id(),
    );
    layer_a.apply_update(&deltas);
    b.layers_mut()[0].update(&mut sgd);
    length_autograd::assert_allclose(
        &a.layers()[0].stored_weights(),
        &b.layers()[0].stored_weights(),
    );
    length_autograd::assert_allclose(&a.layers()[0].bias(), &b.layers()[0].bias());
    assert_ne!(
        a.parameters(),
        MlpConfig::new([3, 2]).seed(8).build()?.parameters()
    );
    Ok(())
}

/// An optimizer that hides its element-wise step: layers get whole gradients through `update`
/// (the two-pass route: gradient, then update).
struct TwoPass(Box<dyn length_autograd::Optimizer>);

impl length_autograd::Optimizer for TwoPass {
    fn run_update_rule(
        &mut self,
        gradients: &[ArrayViewD<f32>],
        layer: length_autograd::LayerId,
    ) -> Vec<length_tensor::Tensor> {
        self.0.run_update_rule(gradients, layer)
    }

    fn update(
        &mut self,
        parameters: &mut [ndarray::ArrayViewMutD<f32>],
        gradients: &[ArrayViewD<f32>],
        layer: length_autograd::LayerId,
    ) {
        self.0.update(parameters, gradients, layer);
    }
}

impl length_autograd::LearningRate for TwoPass {
    fn learning_rate(&self) -> f32 {
        self.0.learning_rate()
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.0.set_learning_rate(learning_rate);
    }
}

/// Trains two identical models for 5 steps, one with `folded` (applying its step inside the
/// backward pass), one with `two_pass`, and checks every parameter bit for bit.
fn assert_folding_changes_no_bit(
    name: &str,
    folded_optimizer: &mut dyn length_autograd::Optimizer,
    two_pass_optimizer: &mut dyn length_autograd::Optimizer,
) {
    // Batches of 64 (one k block) and of 200 (several: the product goes through a temporary).
    for batch_size in [64, 200] {
        let config = MlpConfig::new([784, 64, 10])
            .activation(Activation::ReLU)
            .seed(5);
        let mut folded = config.clone().build().unwrap();
        let mut two_pass = config.build().unwrap();
        for step in 0..5 {
            let images = batch(batch_size, 784, step);
            let labels = Labels::from_shape_fn(batch_size, |i| (i * 7 % 10) as u32);
            length_layers::train_step(&mut folded, folded_optimizer, images.view(), labels.view())
                .unwrap();
            length_layers::train_step(
                &mut two_pass,
                two_pass_optimizer,
                images.view(),
                labels.view(),
            )
            .unwrap();
        }
        for ((parameter, a), (_, b)) in folded.parameters().into_iter().zip(two_pass.parameters()) {
            assert!(
                a.iter()
                    .zip(b.iter())
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "{name}: {parameter} differs after 5 steps with batch {batch_size}"
            );
        }
    }
}

#[test]
fn applying_the_step_inside_backward_changes_no_bit() {
    let momentum = MomentumConfig {
        learning_rate: 0.05,
        ..MomentumConfig::default()
    };
    let nesterov = MomentumConfig {
        nesterov: true,
        ..momentum
    };
    let adamw = AdamWConfig {
        learning_rate: 0.01,
        weight_decay: 0.1,
        ..AdamWConfig::default()
    };
    type Build<'c> = Box<dyn Fn() -> Box<dyn length_autograd::Optimizer> + 'c>;
    let optimizers: [(&str, Build); 5] = [
        ("SGD", Box::new(|| Box::new(Sgd::with_learning_rate(0.1)))),
        ("Momentum", Box::new(|| Box::new(Momentum::new(momentum)))),
        ("Nesterov", Box::new(|| Box::new(Momentum::new(nesterov)))),
        (
            "Adam",
            Box::new(|| Box::new(Adam::with_learning_rate(0.01))),
        ),
        ("AdamW", Box::new(|| Box::new(AdamW::new(adamw)))),
    ];
    for (name, build) in optimizers {
        let mut optimizer = build();
        let offered = optimizer.begin_elementwise_step(length_autograd::LayerId::fresh(), &[&[2]]);
        let offered = offered.unwrap_or_else(|| panic!("{name} offers no element-wise step"));
        // Only plain SGD has its step applied in the microkernel (the descent path).
        assert_eq!(offered.descent_rate().is_some(), name == "SGD", "{name}");
        drop(offered);
        assert_folding_changes_no_bit(name, build().as_mut(), &mut TwoPass(build()));
    }
}

#[test]
fn kept_gradients_are_the_real_ones_and_change_no_bit() -> Result<(), Box<dyn std::error::Error>> {
    // Three copies of one layer, one Adam step each on the same batch: fused (the weight gradient
    // is not stored), kept (stored, then the step), and LENGTH's two passes by hand.
    let make = || FullyConnected::new(20, 6, &mut length_layers::Xavier::new(3));
    let (mut fused, mut kept, mut by_hand) = (make(), make(), make());
    kept.keep_gradients(true);
    let x = batch(5, 20, 9);
    let labels = array![0u32, 5, 2, 2, 1];
    let step = |layer: &mut FullyConnected, train: bool| -> Result<(), AutogradError> {
        let mut graph = Graph::new();
        let input = graph.constant(x.clone());
        let t = graph.labels(labels.clone());
        let y = graph.apply_layer(layer, &[input])?;
        let loss = graph.apply(length_autograd::functions::MeanSquaredError, &[y, t])?;
        if train {
            graph.backward(loss, &mut Adam::with_learning_rate(0.01));
        } else {
            graph.backward_gradients_only(loss);
        }
        Ok(())
    };
    step(&mut fused, true)?;
    step(&mut kept, true)?;
    step(&mut by_hand, false)?;
    assert!(
        fused.weight_gradient().is_none(),
        "a fused step keeps no gradient"
    );
    assert!(fused.parameter_gradients().is_none());
    let expected = by_hand.weight_gradient().expect("kept").to_owned();
    assert_eq!(kept.weight_gradient().expect("kept"), expected);
    assert_eq!(kept.bias_gradient(), by_hand.bias_gradient());
    by_hand.update(&mut Adam::with_learning_rate(0.01));
    for (a, b) in [(&fused, &kept), (&kept, &by_hand)] {
        let bits = |layer: &FullyConnected| -> Vec<u32> {
            layer
                .stored_weights()
                .iter()
                .chain(layer.bias().iter())
                .map(|w| w.to_bits())
                .collect()
        };
        assert_eq!(bits(a), bits(b));
    }
    Ok(())
}
