//! `length predict`: the class of each 28x28 PNG image, with the most probable classes.
//!
//! Each image is read as gray pixels (see `image.rs`), scaled to [0, 1] exactly as the training
//! batches are (through [`length_data::Batches`]), and run through the model without a graph.
//! The probabilities are the softmax of the logits — for a model trained with MSE on one-hot
//! labels they are only a ranking, not calibrated probabilities, but they still sum to 1.

use std::path::PathBuf;

use anyhow::Context;
use length_data::{BatchConfig, Batches, Samples};
use length_layers::Model;
use length_tensor::softmax_rows;

use crate::args::{DataSetName, PredictArgs};
use crate::image::{SIDE, looks_inverted, read_gray_28x28};
use crate::model;

/// Runs `length predict`.
pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let loaded = model::load(&args.model)?;
    let names = loaded.data_set.unwrap_or(DataSetName::Mnist).class_names();
    let mut images = read_all(&args.images)?;
    if args.invert {
        for (_, pixels) in &mut images {
            pixels.iter_mut().for_each(|p| *p = 255 - *p);
        }
    }
    let pixels: Vec<u8> = images.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    let samples = Samples::new(pixels, vec![0; images.len()], [SIDE, SIDE])
        .context("cannot batch the images")?;
    let config = BatchConfig {
        batch_size: images.len(),
        scale: Some(1.0),
        sample_dimensions: 1,
        keep_last_batch: true,
    };
    let mut batches = Batches::in_order(&samples, &config);
    let batch = batches.next_batch().context("no images to classify")?;
    let logits = loaded.model.infer(batch.images_2d())?;
    let probabilities = softmax_rows(logits.view());
    for ((path, pixels), row) in images.iter().zip(probabilities.rows()) {
        let mut ranked: Vec<(usize, f32)> = row.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let top: Vec<String> = ranked
            .iter()
            .take(usize::from(args.top))
            .map(|&(class, p)| format!("{} {:.3}", names[class], p))
            .collect();
        println!(
            "{}: {}  (top {}: {})",
            path.display(),
            names[ranked[0].0],
            args.top,
            top.join(", ")
        );
        if !args.invert && looks_inverted(pixels) {
            eprintln!(
                "note: {} looks like dark ink on a light background; the model was trained on \
                 light strokes on black: pass --invert for a meaningful answer",
                path.display()
            );
        }
    }
    Ok(())
}

/// Reads every image, stopping at the first that cannot be used.
fn read_all(paths: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
    paths
        .iter()
        .map(|path| Ok((path.clone(), read_gray_28x28(path)?)))
        .collect()
}
