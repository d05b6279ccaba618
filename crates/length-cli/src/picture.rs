//! Reading an image file into gray levels, whatever its size and format.
//!
//! The formats are the ones people save drawings and photos in: PNG, JPEG, BMP, GIF and WebP,
//! decoded by the [`image`] crate. The format is recognised from the file's first bytes, not its
//! name, so a PNG called `digit.jpg` still reads. Colour becomes gray by the decoder's luma
//! (Rec. 709 weights, `0.2126 R + 0.7152 G + 0.0722 B`), and transparency is composited over
//! white, the paper a drawing program shows behind a transparent canvas:
//!
//! ```text
//! gray = alpha * luma + (1 - alpha) * 255        (alpha in [0, 1])
//! ```
//!
//! A hostile or broken file cannot make us allocate without bound: the decoder refuses images
//! wider or taller than [`MAX_SIDE`] pixels and decodes within [`MAX_DECODE_BYTES`]
//! (`image::Limits`), so a small compressed file that claims to be huge (a "PNG bomb") is an
//! error, not an out-of-memory abort.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::Context;
use image::{DynamicImage, ImageReader, Limits};

/// The widest and tallest image `length predict` decodes, in pixels (a 48-megapixel photo fits).
pub const MAX_SIDE: u32 = 8192;

/// The most memory the decoder may allocate for one image.
pub const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// A grayscale picture: `width * height` levels, row by row, from 0 (black) to 255 (white).
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// The gray levels, `pixels[y * width + x]`.
    pub pixels: Vec<u8>,
}

impl Picture {
    /// A picture from its levels.
    ///
    /// # Panics
    /// When `pixels` does not hold `width * height` levels, or a side is zero.
    pub fn new(width: usize, height: usize, pixels: Vec<u8>) -> Self {
        assert!(
            width > 0 && height > 0 && pixels.len() == width * height,
            "Picture::new: {} levels for a {width}x{height} picture",
            pixels.len()
        );
        Picture {
            width,
            height,
            pixels,
        }
    }

    /// The gray level at column `x`, row `y`.
    pub fn at(&self, x: usize, y: usize) -> u8 {
        self.pixels[y * self.width + x]
    }
}

/// Reads the image at `path` as gray levels, transparency over white.
pub fn read(path: &Path) -> anyhow::Result<Picture> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    // Without the path, the reader cannot fall back on the file name's extension.
    let mut reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if reader.format().is_none() {
        anyhow::bail!(
            "{} is not an image in a format length reads (PNG, JPEG, BMP, GIF, WebP)",
            path.display()
        );
    }
    reader.limits(limits());
    let decoded = reader
        .decode()
        .with_context(|| format!("cannot decode the image {}", path.display()))?;
    if decoded.width() == 0 || decoded.height() == 0 {
        anyhow::bail!(
            "the image {} is {}x{} pixels: it has none",
            path.display(),
            decoded.width(),
            decoded.height()
        );
    }
    Ok(over_white(decoded))
}

/// The decoder's limits: at most [`MAX_SIDE`] pixels a side and [`MAX_DECODE_BYTES`] of memory.
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}

/// The decoded image (at least one pixel) as gray levels, transparent pixels composited over
/// white.
fn over_white(decoded: DynamicImage) -> Picture {
    let gray_alpha = decoded.into_luma_alpha8();
    let (width, height) = (gray_alpha.width() as usize, gray_alpha.height() as usize);
    let pixels = gray_alpha
        .pixels()
        .map(|pixel| {
            let [gray, alpha] = pixel.0;
            let alpha = f32::from(alpha) / 255.0;
            (alpha * f32::from(gray) + (1.0 - alpha) * 255.0).round() as u8
        })
        .collect();
    Picture::new(width, height, pixels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgba, RgbaImage};

    /// Writes `image` to a fresh file named `name` in `dir` and reads it back.
    fn round_trip(dir: &Path, name: &str, image: &DynamicImage, format: ImageFormat) -> Picture {
        let path = dir.join(name);
        image.save_with_format(&path, format).unwrap();
        read(&path).unwrap()
    }

    #[test]
    fn transparency_is_composited_over_white() {
        let dir = tempfile::tempdir().unwrap();
        // Left: fully transparent black; middle: half-transparent black; right: opaque black.
        let image = RgbaImage::from_fn(3, 1, |x, _| Rgba([0, 0, 0, [0, 128, 255][x as usize]]));
        let picture = round_trip(
            dir.path(),
            "alpha.png",
            &DynamicImage::ImageRgba8(image),
            ImageFormat::Png,
        );
        assert_eq!(picture.pixels, [255, 127, 0]);
    }

    #[test]
    fn colour_becomes_luma() {
        let dir = tempfile::tempdir().unwrap();
        let image = RgbaImage::from_pixel(2, 2, Rgba([255, 0, 0, 255]));
        let picture = round_trip(
            dir.path(),
            "red.bmp",
            &DynamicImage::ImageRgba8(image),
            ImageFormat::Bmp,
        );
        // Rec. 709: 0.2126 * 255 = 54.2.
        assert_eq!(picture.pixels, [54; 4]);
    }

    #[test]
    fn every_format_reads_any_size() {
        let dir = tempfile::tempdir().unwrap();
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(37, 23, |x, y| {
            image::Rgb([if (x / 8 + y / 8) % 2 == 0 { 0 } else { 255 }; 3])
        }));
        for (name, format) in [
            ("a.png", ImageFormat::Png),
            ("a.jpg", ImageFormat::Jpeg),
            ("a.bmp", ImageFormat::Bmp),
            ("a.gif", ImageFormat::Gif),
            ("a.webp", ImageFormat::WebP),
        ] {
            let picture = round_trip(dir.path(), name, &image, format);
            assert_eq!((picture.width, picture.height), (37, 23), "{name}");
            // Lossy JPEG keeps a checkerboard's blocks within a few levels.
            assert!(picture.at(2, 2) < 16, "{name}: {}", picture.at(2, 2));
            assert!(picture.at(10, 2) > 239, "{name}: {}", picture.at(10, 2));
        }
    }

    #[test]
    fn the_format_comes_from_the_bytes_not_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let image = DynamicImage::ImageLuma8(image::GrayImage::from_pixel(5, 4, image::Luma([9])));
        let path = dir.path().join("really-a-png.jpg");
        image.save_with_format(&path, ImageFormat::Png).unwrap();
        assert_eq!(read(&path).unwrap().pixels, [9; 20]);
    }

    #[test]
    fn a_text_file_is_not_an_image() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.png");
        std::fs::write(&path, "this is not a picture").unwrap();
        let message = format!("{:#}", read(&path).unwrap_err());
        assert!(message.contains("notes.png"), "{message}");
        assert!(message.contains("not an image"), "{message}");
    }

    #[test]
    fn a_truncated_image_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let image =
            DynamicImage::ImageLuma8(image::GrayImage::from_pixel(64, 64, image::Luma([9])));
        let path = dir.path().join("cut.png");
        image.save_with_format(&path, ImageFormat::Png).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let message = format!("{:#}", read(&path).unwrap_err());
        assert!(message.contains("cannot decode"), "{message}");
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let message = format!("{:#}", read(Path::new("no/such/digit.png")).unwrap_err());
        assert!(message.contains("no/such/digit.png"), "{message}");
    }

    #[test]
    fn a_png_that_claims_to_be_huge_is_refused_before_decoding() {
        // A valid PNG header for a 100000x100000 gray image (10 GB decoded), with no data.
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, 100_000, 100_000);
            encoder.set_color(png::ColorType::Grayscale);
            let _header_only = encoder.write_header().unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.png");
        std::fs::write(&path, &bytes).unwrap();
        let message = format!("{:#}", read(&path).unwrap_err());
        assert!(message.contains("cannot decode"), "{message}");
        assert!(message.to_lowercase().contains("limit"), "{message}");
    }
}
