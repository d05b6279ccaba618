//! `length graph`: the computational graph of one training step, as LENGTH's `visualize` table
//! or as Graphviz DOT (`length graph --dot | dot -Tsvg > graph.svg`).
//!
//! The graph is traced by running the model forward, with its loss, on a batch of zero images:
//! the table then shows every function the step applies, with the shape of what it produces.

use std::io::Write;

use length_autograd::Graph;
use length_layers::{MLP, Model};
use ndarray::{Array1, Array2};

use crate::args::{GraphArgs, InitName};
use crate::model::{self, INPUTS};

/// Runs `length graph`.
pub fn run(args: GraphArgs) -> anyhow::Result<()> {
    let mut model = match &args.model {
        Some(path) => model::load(path)?.model,
        None => model::config_from_args(&args.architecture, InitName::Xavier, 0).build()?,
    };
    model.set_training(true);
    let text = describe(&mut model, args.batch_size, args.dot)?;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()) {
        // `length graph | head` closes the pipe early: that is not an error.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(result?),
    }
}

/// The table (or DOT text) of one training step of `model` on a batch of `batch_size`.
fn describe(model: &mut MLP, batch_size: usize, dot: bool) -> anyhow::Result<String> {
    let mut graph = Graph::new();
    let x = graph.constant(Array2::<f32>::zeros((batch_size, INPUTS)));
    let labels = graph.labels(Array1::zeros(batch_size));
    let pass = model.forward_with_loss(&mut graph, x, labels)?;
    let mut text = if dot {
        graph.to_dot(pass.loss)
    } else {
        graph.visualize(pass.loss)
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use length_layers::MlpConfig;

    #[test]
    fn the_notebook_model_has_three_layers_and_a_loss() {
        let mut model = MlpConfig::activated().build().unwrap();
        let table = describe(&mut model, 64, false).unwrap();
        assert_eq!(table.matches("FullyConnected").count(), 3, "{table}");
        assert!(table.contains("(64, 784)"), "{table}");
        assert!(table.contains("MeanSquaredError"), "{table}");
        let dot = describe(&mut model, 2, true).unwrap();
        assert!(dot.starts_with("digraph"), "{dot}");
        assert!(dot.contains("->"), "{dot}");
    }
}
