//! `length predict` on pictures made the way people make them, from the real test sets.
//!
//! Each test image is redrawn as a person would hand it over: enlarged with smoothing (bilinear),
//! inverted to dark ink on white, put off-centre on an RGB canvas of another size (100x140,
//! 64x64, 300x200, 90x90), and saved as PNG, JPEG or as a PNG with a transparent background. A
//! model trained for 2 epochs must read at least 90 % of 60 MNIST digits drawn this way; for
//! Fashion-MNIST, whose products fill the frame instead of sitting in a 20x20 box, the photos must
//! be read about as well as the original 28x28 images are.
//!
//! The data comes from the workspace's data directory, fetched from `$LENGTH_DATA_MIRROR` when
//! missing, as in `cli.rs`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{run, run_ok, scratch};
use image::imageops::{FilterType, resize};
use image::{DynamicImage, GrayImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use length_data::{DataSetName, MnistLike, MnistOptions, Samples};

/// How many test images each data set's test redraws.
const DRAWN: usize = 60;

/// The canvases (width, height) and how many times the 28x28 image is enlarged on each.
const CANVASES: [((u32, u32), u32); 4] = [
    ((100, 140), 3),
    ((64, 64), 2),
    ((300, 200), 6),
    ((90, 90), 3),
];

/// The test split of `name`, fetched into the workspace's data directory if needed.
fn test_samples(name: DataSetName) -> Samples {
    let dir =
        length_data::fetch::ensure_available(name, &length_data::workspace_data_dir()).unwrap();
    let options = MnistOptions {
        load_train: false,
        ..MnistOptions::default()
    };
    MnistLike::from_dir(name, &dir, &options)
        .unwrap()
        .test_samples()
        .unwrap()
        .clone()
}

/// A model trained for 2 epochs with the defaults (the course's SGD, squared error), once per
/// data set.
fn model(name: DataSetName) -> PathBuf {
    static MNIST: OnceLock<PathBuf> = OnceLock::new();
    static FASHION: OnceLock<PathBuf> = OnceLock::new();
    let (cell, flag) = match name {
        DataSetName::Mnist => (&MNIST, "mnist"),
        DataSetName::FashionMnist => (&FASHION, "fashion"),
    };
    cell.get_or_init(|| {
        let path = scratch(&format!("model-{flag}")).join("model.safetensors");
        let data_dir = length_data::workspace_data_dir();
        run_ok(&[
            "train",
            "--data-set",
            flag,
            "--num-epochs",
            "2",
            "--seed",
            "1",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--save",
            path.to_str().unwrap(),
        ]);
        path
    })
    .clone()
}

/// Test image `index` (light on black, 28x28) redrawn as dark ink on a white canvas; returns
/// the file written in `dir`.
fn draw_like_a_person(samples: &Samples, index: usize, dir: &Path) -> PathBuf {
    let ((width, height), enlarge) = CANVASES[index % CANVASES.len()];
    let original = GrayImage::from_raw(28, 28, samples.image(index).to_vec()).unwrap();
    let side = 28 * enlarge;
    let smooth = resize(&original, side, side, FilterType::Triangle);
    // Off-centre: a different corner region for each image, always inside the canvas.
    let (room_x, room_y) = (width - side, height - side);
    let left = room_x * [1, 3, 0, 4, 2][index % 5] / 4;
    let top = room_y * [3, 0, 4, 1, 2][index % 5] / 4;
    let ink_at = |x: u32, y: u32| {
        let inside = (left..left + side).contains(&x) && (top..top + side).contains(&y);
        if inside {
            smooth.get_pixel(x - left, y - top).0[0]
        } else {
            0
        }
    };
    let path = dir.join(format!("{index:03}"));
    match index % 3 {
        // Dark ink on white, PNG.
        0 => {
            let canvas = RgbImage::from_fn(width, height, |x, y| Rgb([255 - ink_at(x, y); 3]));
            save(DynamicImage::ImageRgb8(canvas), path, ImageFormat::Png)
        }
        // The same as JPEG, with its artefacts around the strokes.
        1 => {
            let canvas = RgbImage::from_fn(width, height, |x, y| Rgb([255 - ink_at(x, y); 3]));
            save(DynamicImage::ImageRgb8(canvas), path, ImageFormat::Jpeg)
        }
        // Black ink on a transparent canvas, as a drawing program saves a layer.
        _ => {
            let canvas = RgbaImage::from_fn(width, height, |x, y| Rgba([0, 0, 0, ink_at(x, y)]));
            save(DynamicImage::ImageRgba8(canvas), path, ImageFormat::Png)
        }
    }
}

/// Saves `image` at `path` with the format's extension.
fn save(image: DynamicImage, path: PathBuf, format: ImageFormat) -> PathBuf {
    let path = path.with_extension(format.extensions_str()[0]);
    image.save_with_format(&path, format).unwrap();
    path
}

/// Writes test image `index` as it is, a 28x28 gray PNG.
fn write_original(samples: &Samples, index: usize, dir: &Path) -> PathBuf {
    let path = dir.join(format!("{index:03}.png"));
    GrayImage::from_raw(28, 28, samples.image(index).to_vec())
        .unwrap()
        .save(&path)
        .unwrap();
    path
}

/// The class named on each of `length predict`'s lines, by file name.
fn answers(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let (path, rest) = line.split_once(": ")?;
            let class = rest.split("  (").next()?;
            let name = Path::new(path).file_stem()?.to_str()?.to_string();
            Some((name, class.to_string()))
        })
        .collect()
}

/// How many of `files` (named by test index) `length predict` names right.
fn correct(model: &Path, folder: &Path, samples: &Samples, names: &[&str]) -> usize {
    let stdout = run_ok(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        folder.to_str().unwrap(),
    ]);
    let answers = answers(&stdout);
    assert_eq!(answers.len(), DRAWN, "{stdout}");
    answers
        .iter()
        .filter(|(file, class)| {
            let index: usize = file.parse().unwrap();
            class == names[usize::from(samples.label(index))]
        })
        .count()
}

const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

#[test]
fn digits_drawn_dark_on_white_at_other_sizes_are_read_right() {
    let samples = test_samples(DataSetName::Mnist);
    let drawings = scratch("mnist-drawings");
    for index in 0..DRAWN {
        draw_like_a_person(&samples, index, &drawings);
    }
    let right = correct(&model(DataSetName::Mnist), &drawings, &samples, &DIGITS);
    println!("MNIST: {right} of {DRAWN} drawings read right");
    assert!(
        right * 10 >= DRAWN * 9,
        "only {right} of {DRAWN} drawn digits were read right"
    );
}

#[test]
fn fashion_photos_are_read_about_as_well_as_the_originals() {
    let samples = test_samples(DataSetName::FashionMnist);
    let (photos, originals) = (scratch("fashion-photos"), scratch("fashion-originals"));
    for index in 0..DRAWN {
        draw_like_a_person(&samples, index, &photos);
        write_original(&samples, index, &originals);
    }
    let model = model(DataSetName::FashionMnist);
    let classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ];
    let from_photos = correct(&model, &photos, &samples, &classes);
    let from_originals = correct(&model, &originals, &samples, &classes);
    println!("Fashion-MNIST: {from_photos} photos and {from_originals} originals of {DRAWN} right");
    assert!(
        from_photos + 3 >= from_originals,
        "{from_photos} photos but {from_originals} originals of {DRAWN} read right"
    );
}

#[test]
fn show_prints_the_image_the_model_sees() {
    let samples = test_samples(DataSetName::Mnist);
    let dir = scratch("show");
    let drawing = draw_like_a_person(&samples, 0, &dir);
    let stdout = run_ok(&[
        "predict",
        "--show",
        "--model",
        model(DataSetName::Mnist).to_str().unwrap(),
        drawing.to_str().unwrap(),
    ]);
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(rows.len(), 28, "{stdout}");
    // MNIST's preparation: the digit's longer side (a 7 is taller than wide) fills 20 rows.
    let inked: Vec<usize> = (0..28)
        .filter(|&y| !rows[y][1..57].trim().is_empty())
        .collect();
    assert_eq!(inked.len(), 20, "{stdout}");
    assert_eq!(
        inked[19] - inked[0],
        19,
        "the inked rows are not together:\n{stdout}"
    );
    assert!(
        rows.iter().any(|row| row.contains('@')),
        "no full ink:\n{stdout}"
    );
}

#[test]
fn blank_and_broken_images_are_errors_and_the_others_still_get_a_line() {
    let samples = test_samples(DataSetName::Mnist);
    let dir = scratch("errors");
    let good = draw_like_a_person(&samples, 0, &dir);
    let blank = dir.join("blank.png");
    RgbImage::from_pixel(120, 80, Rgb([255, 255, 255]))
        .save(&blank)
        .unwrap();
    let text = dir.join("text.png");
    std::fs::write(&text, "not a picture").unwrap();
    // A PNG cut short, under a JPEG's name.
    let cut = dir.join("cut.jpg");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let model = model(DataSetName::Mnist);
    let output = run(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        blank.to_str().unwrap(),
        good.to_str().unwrap(),
        text.to_str().unwrap(),
        cut.to_str().unwrap(),
        dir.join("missing.png").to_str().unwrap(),
    ]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(answers(&stdout), [("000".to_string(), "7".to_string())]);
    for (file, reason) in [
        ("blank.png", "nothing drawn"),
        ("text.png", "not an image"),
        ("cut.jpg", "cannot decode"),
        ("missing.png", "cannot open"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|line| line.contains(file) && line.contains(reason)),
            "no line says {file}: {reason}:\n{stderr}"
        );
    }
    assert!(stderr.contains("4 of 5 images"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_readmes_sample_digit_is_read_as_a_7() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/digit-7.png");
    let stdout = run_ok(&[
        "predict",
        "--model",
        model(DataSetName::Mnist).to_str().unwrap(),
        sample.to_str().unwrap(),
    ]);
    assert_eq!(answers(&stdout), [("digit-7".to_string(), "7".to_string())]);
}

#[test]
fn a_cross_entropy_model_reports_probabilities_that_sum_to_one() {
    let dir = scratch("cross-entropy");
    let model = dir.join("model.safetensors");
    let data_dir = length_data::workspace_data_dir();
    run_ok(&[
        "train",
        "--loss",
        "cross-entropy",
        "--hidden",
        "64",
        "--num-epochs",
        "1",
        "--limit-batches",
        "100",
        "--seed",
        "1",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--save",
        model.to_str().unwrap(),
    ]);
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/digit-7.png");
    let output = run(&[
        "predict",
        "--top",
        "10",
        "--model",
        model.to_str().unwrap(),
        sample.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("squared error"), "{stderr}");
    let (_, listed) = stdout.trim().split_once("(probabilities: ").expect(&stdout);
    let total: f64 = listed
        .trim_end_matches(')')
        .split(", ")
        .map(|answer| answer.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
        .sum();
    // Ten values rounded to 3 decimals: within 0.005 of their exact sum, 1.
    assert!((total - 1.0).abs() <= 0.005, "{stdout}");
}
