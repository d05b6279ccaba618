//! Reading a PNG into the 28x28 grayscale pixels the models were trained on.
//!
//! Accepted: any PNG of exactly 28x28 pixels. Grayscale 8-bit is used as it is; other encodings
//! are converted: palette and low bit depths are expanded, 16-bit samples keep their high byte,
//! colour becomes gray by the ITU-R BT.601 luma `0.299 R + 0.587 G + 0.114 B`, and transparency is
//! composited over black (MNIST's background). Images of another size are refused with a message
//! that says how to scale them: resizing a digit well needs the centring MNIST used, which a
//! plain resize does not do, so we leave it to the user's tool.
//!
//! MNIST digits are light strokes on a dark background; [`looks_inverted`] spots the opposite
//! (dark ink on white paper) so `length predict` can suggest `--invert`.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, bail};
use png::{ColorType, Transformations};

/// Width and height of an MNIST image.
pub const SIDE: usize = 28;

/// Reads `path` as 28x28 grayscale pixels, row by row (0 black, 255 white).
pub fn read_gray_28x28(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    decode(BufReader::new(file)).with_context(|| format!("cannot read {}", path.display()))
}

/// Decodes a PNG stream into 28x28 grayscale pixels.
fn decode<R: std::io::BufRead + std::io::Seek>(input: R) -> anyhow::Result<Vec<u8>> {
    let mut decoder = png::Decoder::new(input);
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    let mut reader = decoder.read_info().context("not a valid PNG image")?;
    let (width, height) = (reader.info().width as usize, reader.info().height as usize);
    if (width, height) != (SIDE, SIDE) {
        bail!(
            "the image is {width}x{height} pixels, but the model reads 28x28 images; \
             scale it first, e.g. `convert in.png -resize 28x28! out.png`"
        );
    }
    let size = reader
        .output_buffer_size()
        .context("the image is too large")?;
    let mut buffer = vec![0; size];
    let frame = reader
        .next_frame(&mut buffer)
        .context("the PNG image data is corrupt")?;
    let samples = &buffer[..frame.buffer_size()];
    let channels = frame.color_type.samples();
    let pixels: Vec<u8> = samples
        .chunks_exact(channels)
        .take(SIDE * SIDE)
        .map(|pixel| to_gray(frame.color_type, pixel))
        .collect();
    if pixels.len() != SIDE * SIDE {
        bail!("the PNG image holds fewer pixels than its size says");
    }
    Ok(pixels)
}

/// One pixel's samples (8-bit, after expansion) as a gray level.
fn to_gray(color: ColorType, pixel: &[u8]) -> u8 {
    let luma =
        |r: u8, g: u8, b: u8| 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
    let over_black = |value: f32, alpha: u8| value * f32::from(alpha) / 255.0;
    let gray = match color {
        ColorType::Grayscale | ColorType::Indexed => f32::from(pixel[0]),
        ColorType::GrayscaleAlpha => over_black(f32::from(pixel[0]), pixel[1]),
        ColorType::Rgb => luma(pixel[0], pixel[1], pixel[2]),
        ColorType::Rgba => over_black(luma(pixel[0], pixel[1], pixel[2]), pixel[3]),
    };
    gray.round().clamp(0.0, 255.0) as u8
}

/// Whether an image looks like dark ink on a light background (the mean pixel is above half
/// brightness), the opposite of MNIST's light strokes on black.
pub fn looks_inverted(pixels: &[u8]) -> bool {
    let sum: u64 = pixels.iter().map(|&p| u64::from(p)).sum();
    sum > 128 * pixels.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes a PNG in memory.
    fn encode(
        width: u32,
        height: u32,
        color: ColorType,
        depth: png::BitDepth,
        data: &[u8],
    ) -> Vec<u8> {
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, width, height);
            encoder.set_color(color);
            encoder.set_depth(depth);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(data).unwrap();
        }
        bytes
    }

    /// Writes 8-bit grayscale pixels as a PNG .
    fn write_gray_png(path: &Path, pixels: &[u8], width: u32, height: u32) -> anyhow::Result<()> {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
        encoder.set_color(ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(pixels)?;
        writer.finish()?;
        Ok(())
    }

    fn decode_bytes(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        decode(std::io::Cursor::new(bytes))
    }

    #[test]
    fn gray_8_bit_is_read_as_it_is() {
        let pixels: Vec<u8> = (0..784).map(|i| (i % 256) as u8).collect();
        let png = encode(28, 28, ColorType::Grayscale, png::BitDepth::Eight, &pixels);
        assert_eq!(decode_bytes(&png).unwrap(), pixels);
    }

    #[test]
    fn colour_becomes_luma_and_alpha_goes_over_black() {
        let rgb: Vec<u8> = [255u8, 0, 0].repeat(784);
        let png = encode(28, 28, ColorType::Rgb, png::BitDepth::Eight, &rgb);
        assert!(decode_bytes(&png).unwrap().iter().all(|&p| p == 76));
        let rgba: Vec<u8> = [255u8, 255, 255, 128].repeat(784);
        let png = encode(28, 28, ColorType::Rgba, png::BitDepth::Eight, &rgba);
        assert!(decode_bytes(&png).unwrap().iter().all(|&p| p == 128));
    }

    #[test]
    fn sixteen_bit_gray_keeps_the_high_byte() {
        let data: Vec<u8> = [0xABu8, 0xCD].repeat(784);
        let png = encode(28, 28, ColorType::Grayscale, png::BitDepth::Sixteen, &data);
        assert!(decode_bytes(&png).unwrap().iter().all(|&p| p == 0xAB));
    }

    #[test]
    fn other_sizes_are_refused_with_the_size_named() {
        let png = encode(
            32,
            32,
            ColorType::Grayscale,
            png::BitDepth::Eight,
            &[0; 1024],
        );
        let message = format!("{:#}", decode_bytes(&png).unwrap_err());
        assert!(message.contains("32x32"), "{message}");
        assert!(message.contains("28x28"), "{message}");
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode_bytes(b"definitely not a png").is_err());
    }

    #[test]
    fn written_pngs_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.png");
        let pixels: Vec<u8> = (0..784).map(|i| (i * 7 % 256) as u8).collect();
        write_gray_png(&path, &pixels, 28, 28).unwrap();
        assert_eq!(read_gray_28x28(&path).unwrap(), pixels);
    }

    #[test]
    fn white_paper_looks_inverted() {
        assert!(looks_inverted(&[250; 784]));
        assert!(!looks_inverted(&[0; 784]));
    }
}
