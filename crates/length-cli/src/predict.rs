//! `length predict`: the class of each image, one line per image, with the best classes.
//!
//! Each image is read whatever its size and format (`picture.rs`), prepared as the model's data
//! set's own images were made (`prepare.rs`: background, crop, 20x20 box and centre of mass for
//! MNIST; trimmed and filling the frame for Fashion-MNIST), scaled to [0, 1] exactly as the
//! training batches are (through [`length_data::Batches`]), and run through the model without a
//! graph. Folders stand for the images in them, in name order.
//!
//! What the numbers mean depends on the loss the model was trained with. A cross-entropy model's
//! outputs are logits whose softmax estimates the probability of each class, so those are shown
//! as probabilities. A squared-error model (LENGTH's default) was trained to output 1 for the
//! right class and 0 for the others; its raw outputs are shown as *scores*: near 1 is a confident
//! answer, two close scores are a doubtful one, and they are not probabilities.
//!
//! An image that cannot be used (unreadable, not an image, nothing drawn on it) is reported on
//! stderr and the others are still classified; the command then exits with code 1.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use length_data::{BatchConfig, Batches, Samples};
use length_layers::{Loss, Model};
use length_tensor::softmax_rows;
use ndarray::Array1;

use crate::args::{DataSetName, PredictArgs};
use crate::model;
use crate::picture;
use crate::prepare::{Prepared, SIDE, prepare};

/// File name extensions a folder's images are recognised by.
const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "bmp", "gif", "webp"];

/// Shades of ink from none to full, for `--show`.
const SHADES: &[u8] = b" .:-=+*#%@";

/// What `length predict` says once, before the first answer of a squared-error model.
const SCORES_NOTE: &str = "note: this model was trained with squared error: its scores are raw \
     outputs (trained towards 1 for the right class, 0 for the others), not probabilities";

/// Runs `length predict`.
pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let loaded = model::load(&args.model)?;
    let data_set = chosen_data_set(args.data_set, loaded.data_set);
    let loss = loaded.model.config().loss;
    let paths = image_paths(&args.images)?;
    let mut failed = 0;
    let mut explained = false;
    for path in &paths {
        let prepared = match read_and_prepare(path, data_set, &args) {
            Ok(prepared) => prepared,
            // One image: its error is the command's.
            Err(error) if paths.len() == 1 => return Err(error),
            Err(error) => {
                eprintln!("error: {error:#}");
                failed += 1;
                continue;
            }
        };
        let outputs = classify(&loaded.model, &prepared)?;
        if loss == Loss::MeanSquaredError && !explained {
            eprintln!("{SCORES_NOTE}");
            explained = true;
        }
        let answers = ranked(&outputs, loss);
        let names = data_set.class_names();
        println!("{}", answer_line(path, &answers, names, args.top, loss));
        if args.show {
            print!("{}", shades(&prepared.pixels));
        }
    }
    match failed {
        0 => Ok(()),
        _ => bail!("{failed} of {} images could not be classified", paths.len()),
    }
}

/// The data set whose preparation and class names apply: `--data-set`, else the one the model
/// records, else MNIST. A choice that differs from the model's is followed, with a note.
fn chosen_data_set(chosen: Option<DataSetName>, trained: Option<DataSetName>) -> DataSetName {
    if let (Some(chosen), Some(trained)) = (chosen, trained)
        && chosen != trained
    {
        eprintln!(
            "note: the model was trained on {}, but the images are prepared as {} images and \
             named by its classes, as --data-set asks",
            trained.as_str(),
            chosen.as_str()
        );
    }
    chosen.or(trained).unwrap_or(DataSetName::Mnist)
}

/// One image's answer: `path: best  (scores: best 0.912, second 0.143, ...)`, the `top` best
/// classes, labelled `probabilities` for a cross-entropy model.
fn answer_line(
    path: &Path,
    answers: &[(usize, f32)],
    names: &[&str],
    top: u8,
    loss: Loss,
) -> String {
    let label = match loss {
        Loss::MeanSquaredError => "scores",
        Loss::SoftmaxCrossEntropy => "probabilities",
    };
    let shown: Vec<String> = answers
        .iter()
        .take(usize::from(top))
        .map(|&(class, value)| format!("{} {value:.3}", names[class]))
        .collect();
    format!(
        "{}: {}  ({label}: {})",
        path.display(),
        names[answers[0].0],
        shown.join(", ")
    )
}

/// The image files `arguments` name: files as given, folders as their image files by name.
fn image_paths(arguments: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for argument in arguments {
        if !argument.is_dir() {
            paths.push(argument.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(argument)
            .with_context(|| format!("cannot list the folder {}", argument.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.is_file() && has_image_extension(path))
            .collect();
        if found.is_empty() {
            bail!(
                "the folder {} holds no images (files ending in {})",
                argument.display(),
                IMAGE_EXTENSIONS.map(|e| format!(".{e}")).join(", ")
            );
        }
        found.sort();
        paths.extend(found);
    }
    Ok(paths)
}

/// Whether `path` ends in one of [`IMAGE_EXTENSIONS`], in any case.
fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Reads the image at `path` and prepares it for a model of `data_set`.
fn read_and_prepare(
    path: &Path,
    data_set: DataSetName,
    args: &PredictArgs,
) -> anyhow::Result<Prepared> {
    let picture = picture::read(path)?;
    prepare(&picture, data_set, args.background)
        .with_context(|| format!("cannot use {}", path.display()))
}

/// The model's outputs for one prepared image, its pixels scaled as in training.
fn classify(model: &length_layers::MLP, prepared: &Prepared) -> anyhow::Result<Array1<f32>> {
    let samples = Samples::new(prepared.pixels.clone(), vec![0], [SIDE, SIDE])
        .context("cannot batch the image")?;
    let config = BatchConfig {
        batch_size: 1,
        scale: Some(1.0),
        sample_dimensions: 1,
        keep_last_batch: true,
    };
    let mut batches = Batches::in_order(&samples, &config);
    let batch = batches.next_batch().context("no image to classify")?;
    let outputs = model.infer(batch.images_2d())?;
    Ok(outputs.row(0).to_owned())
}

/// The classes, best first, with the value shown for each: the raw score of a squared-error
/// model, the softmax probability of a cross-entropy one. Ties go to the lower class.
fn ranked(outputs: &Array1<f32>, loss: Loss) -> Vec<(usize, f32)> {
    let values = match loss {
        Loss::MeanSquaredError => outputs.clone(),
        Loss::SoftmaxCrossEntropy => {
            let row = outputs.view().insert_axis(ndarray::Axis(0));
            softmax_rows(row).row(0).to_owned()
        }
    };
    let mut ranked: Vec<(usize, f32)> = values.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

/// The 28x28 ink levels as text, two characters a pixel (so the picture is about square), from
/// ' ' (no ink) to '@' (full ink), framed.
fn shades(pixels: &[u8]) -> String {
    let frame = format!("+{}+\n", "-".repeat(2 * SIDE));
    let mut text = frame.clone();
    for row in pixels.chunks(SIDE) {
        text.push('|');
        for &level in row {
            let shade = SHADES[usize::from(level) * SHADES.len() / 256] as char;
            text.push(shade);
            text.push(shade);
        }
        text.push_str("|\n");
    }
    text.push_str(&frame);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn squared_error_outputs_are_ranked_raw() {
        let outputs = array![0.1, 0.9, -0.2, 0.9];
        assert_eq!(
            ranked(&outputs, Loss::MeanSquaredError)[..3],
            [(1, 0.9), (3, 0.9), (0, 0.1)]
        );
    }

    #[test]
    fn cross_entropy_outputs_become_probabilities() {
        let outputs = array![0.0, 2.0f32.ln(), 0.0];
        let ranked = ranked(&outputs, Loss::SoftmaxCrossEntropy);
        assert_eq!(ranked[0].0, 1);
        assert!((ranked[0].1 - 0.5).abs() < 1e-6, "{ranked:?}");
        assert!((ranked[1].1 - 0.25).abs() < 1e-6, "{ranked:?}");
    }

    #[test]
    fn the_answer_line_names_what_its_numbers_are() {
        let names = ["zero", "one", "two"];
        let answers = [(2, 0.875), (0, 0.25), (1, -0.0625)];
        let path = Path::new("d.png");
        assert_eq!(
            answer_line(path, &answers, &names, 2, Loss::MeanSquaredError),
            "d.png: two  (scores: two 0.875, zero 0.250)"
        );
        assert_eq!(
            answer_line(path, &answers, &names, 1, Loss::SoftmaxCrossEntropy),
            "d.png: two  (probabilities: two 0.875)"
        );
    }

    #[test]
    fn shades_run_from_blank_to_full() {
        let mut pixels = vec![0; SIDE * SIDE];
        pixels[0] = 255;
        pixels[1] = 128;
        let text = shades(&pixels);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), SIDE + 2);
        assert!(lines[1].starts_with("|@@++  "), "{}", lines[1]);
        assert!(lines.iter().all(|l| l.chars().count() == 2 * SIDE + 2));
    }

    #[test]
    fn folders_stand_for_their_images_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.PNG", "a.jpg", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let paths = image_paths(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> = paths.iter().map(|p| p.file_name().unwrap()).collect();
        assert_eq!(names, ["a.jpg", "b.PNG"]);
        let empty = tempfile::tempdir().unwrap();
        let message = format!(
            "{:#}",
            image_paths(&[empty.path().to_path_buf()]).unwrap_err()
        );
        assert!(message.contains("holds no images"), "{message}");
    }
}
