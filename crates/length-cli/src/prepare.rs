//! Bringing a drawing or a photo to the 28x28 input a model was trained on, the way the data
//! set's own images were made.
//!
//! Both data sets store light shapes on black, with gray levels 0-255 read as *ink*. A picture
//! becomes ink in three steps shared by both:
//!
//! 1. **Background.** The border's median gray level is the background. A light background
//!    (median above half brightness: dark ink on paper) is inverted, `ink = 255 - gray`; a dark
//!    one is used as it is (`--background` overrides the guess).
//! 2. **Ink scale.** The background's ink level `b` becomes 0 and the strongest ink `p` becomes 1:
//!    `ink = clamp((v - b) / (p - b), 0, 1)`. For Fashion-MNIST `p` is pure white (1), so a gray
//!    coat stays gray. A picture whose strongest ink is within [`MIN_CONTRAST`] of its
//!    background has nothing on it and is refused, rather than classified with confidence.
//! 3. **Crop.** The picture is cut to the rectangle holding all ink above [`TRIM_THRESHOLD`].
//!
//! Then each data set's own recipe:
//!
//! - **MNIST** (LeCun et al.): the digit is scaled, aspect ratio kept, so its longer side is 20
//!   pixels, with area averaging (the antialiasing of the original); it is placed in the 28x28
//!   field so that its centre of mass `(sum x v / sum v, sum y v / sum v)` lands on the pixel
//!   position ([`MNIST_CENTRE`]) where MNIST's own digits have it, shifting by whole pixels.
//! - **Fashion-MNIST** (Xiao et al.): the trimmed picture's longer side is scaled to 28 and the
//!   shorter side centred, with no centre-of-mass shift: the products fill the frame.

use anyhow::bail;

use crate::args::{BackgroundChoice, DataSetName};
use crate::picture::Picture;
use crate::resample::{Grid, resize_area};

/// Width and height of the model's input.
pub const SIDE: usize = 28;

/// MNIST's digits fit in a box of this side, inside the 28x28 field.
pub const MNIST_BOX: usize = 20;

/// Where MNIST's digits have their centre of mass, as (column, row) in pixel indices: the mean
/// over the first 2000 test images is (14.00, 13.99), so 14 and not the field's middle 13.5.
pub const MNIST_CENTRE: f32 = 14.0;

/// Ink below this (on the 0-1 scale of step 2) counts as background when cropping.
pub const TRIM_THRESHOLD: f32 = 0.05;

/// The least difference, as a fraction of black to white, between the strongest ink and the
/// background for a picture to count as having anything drawn on it.
pub const MIN_CONTRAST: f32 = 0.15;

/// A picture made ready for the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// 28x28 ink levels, row by row, 0 background and 255 full ink (as in the data sets' files).
    pub pixels: Vec<u8>,
    /// Whether the picture was inverted (it had a light background).
    pub inverted: bool,
}

/// Prepares `picture` for a model trained on `data_set` (steps in the module docs).
pub fn prepare(
    picture: &Picture,
    data_set: DataSetName,
    background: BackgroundChoice,
) -> anyhow::Result<Prepared> {
    let scale = InkScale::measure(picture, background, data_set == DataSetName::Mnist)?;
    let ink = crop_to_ink(picture, &scale);
    let field = match data_set {
        DataSetName::Mnist => place_by_centre_of_mass(&fit_into(&ink, MNIST_BOX), MNIST_CENTRE),
        DataSetName::Fashion => place_centred(&fit_into(&ink, SIDE)),
    };
    Ok(Prepared {
        pixels: to_levels(&field),
        inverted: scale.light_background,
    })
}

/// The median gray level of the picture's outermost pixels, from 0 to 255.
pub fn border_median(picture: &Picture) -> u8 {
    let (w, h) = (picture.width, picture.height);
    let mut counts = [0usize; 256];
    let mut border = 0;
    for y in 0..h {
        for x in 0..w {
            if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
                counts[usize::from(picture.at(x, y))] += 1;
                border += 1;
            }
        }
    }
    let mut seen = 0;
    for (level, count) in counts.iter().enumerate() {
        seen += count;
        if 2 * seen >= border {
            return level as u8;
        }
    }
    unreachable!("a picture has at least one border pixel")
}

/// How gray levels become ink (steps 1 and 2 of the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InkScale {
    /// Light background: ink is dark, `255 - gray`.
    pub light_background: bool,
    /// The background's ink, on the 0-1 scale before stretching.
    pub background: f32,
    /// The ink that becomes 1.
    pub peak: f32,
}

impl InkScale {
    /// Measures the background from the border and the peak from the strongest ink; with
    /// `stretch` false, the peak is pure white. Fails when nothing stands out from the background.
    pub fn measure(
        picture: &Picture,
        background: BackgroundChoice,
        stretch: bool,
    ) -> anyhow::Result<Self> {
        let border = border_median(picture);
        let light_background = match background {
            BackgroundChoice::Auto => border > 127,
            BackgroundChoice::Light => true,
            BackgroundChoice::Dark => false,
        };
        let raw = |gray: u8| {
            let ink = if light_background { 255 - gray } else { gray };
            f32::from(ink) / 255.0
        };
        let level = raw(border);
        let strongest = picture.pixels.iter().map(|&g| raw(g)).fold(0.0, f32::max);
        if strongest - level < MIN_CONTRAST {
            bail!(
                "there is nothing drawn on it: its strongest ink differs from the {} background \
                 by {:.0} % of black to white, less than {:.0} %",
                if light_background { "light" } else { "dark" },
                100.0 * (strongest - level).max(0.0),
                100.0 * MIN_CONTRAST
            );
        }
        Ok(InkScale {
            light_background,
            background: level,
            peak: if stretch { strongest } else { 1.0 },
        })
    }

    /// The ink of one gray level, from 0 (background) to 1.
    pub fn ink(&self, gray: u8) -> f32 {
        let raw = f32::from(if self.light_background {
            255 - gray
        } else {
            gray
        }) / 255.0;
        ((raw - self.background) / (self.peak - self.background)).clamp(0.0, 1.0)
    }
}

/// The ink of the smallest rectangle that holds every pixel with ink above [`TRIM_THRESHOLD`].
///
/// # Panics
/// When no pixel has that much ink, which [`InkScale::measure`] rules out.
pub fn crop_to_ink(picture: &Picture, scale: &InkScale) -> Grid {
    let (mut left, mut top, mut right, mut bottom) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..picture.height {
        for x in 0..picture.width {
            if scale.ink(picture.at(x, y)) > TRIM_THRESHOLD {
                (left, top) = (left.min(x), top.min(y));
                (right, bottom) = (right.max(x), bottom.max(y));
            }
        }
    }
    assert!(
        left <= right,
        "crop_to_ink: no ink in a {}x{} picture measured as {scale:?}",
        picture.width,
        picture.height
    );
    let (width, height) = (right - left + 1, bottom - top + 1);
    let values = (top..=bottom)
        .flat_map(|y| (left..=right).map(move |x| (x, y)))
        .map(|(x, y)| scale.ink(picture.at(x, y)))
        .collect();
    Grid::new(width, height, values)
}

/// `ink` scaled, aspect ratio kept, so that its longer side is `side` pixels (the shorter one
/// rounded, at least 1).
pub fn fit_into(ink: &Grid, side: usize) -> Grid {
    let longer = ink.width.max(ink.height) as f64;
    let scaled = |length: usize| ((length as f64 * side as f64 / longer).round() as usize).max(1);
    resize_area(ink, scaled(ink.width), scaled(ink.height))
}

/// `ink` placed in a [`SIDE`]x[`SIDE`] field, shifted by whole pixels so that its centre of mass
/// lands as near `centre` (column and row) as the field allows.
///
/// # Panics
/// When `ink` is larger than the field or holds no ink.
pub fn place_by_centre_of_mass(ink: &Grid, centre: f32) -> Grid {
    let (x, y) = centre_of_mass(ink);
    let offset = |centre_of_ink: f32, length: usize| {
        let ideal = (centre - centre_of_ink).round();
        ideal.clamp(0.0, (SIDE - length) as f32) as usize
    };
    place(ink, offset(x, ink.width), offset(y, ink.height))
}

/// `ink` placed in the middle of a [`SIDE`]x[`SIDE`] field (an odd margin puts the extra pixel
/// after the picture).
///
/// # Panics
/// When `ink` is larger than the field.
pub fn place_centred(ink: &Grid) -> Grid {
    place(ink, (SIDE - ink.width) / 2, (SIDE - ink.height) / 2)
}

/// The centre of mass `(sum x v / sum v, sum y v / sum v)` of `ink`, in pixel indices.
///
/// # Panics
/// When `ink` holds no ink.
pub fn centre_of_mass(ink: &Grid) -> (f32, f32) {
    let total = ink.total();
    assert!(
        total > 0.0,
        "centre_of_mass: a {}x{} grid without ink",
        ink.width,
        ink.height
    );
    let (mut x_sum, mut y_sum) = (0.0, 0.0);
    for y in 0..ink.height {
        for x in 0..ink.width {
            x_sum += x as f32 * ink.at(x, y);
            y_sum += y as f32 * ink.at(x, y);
        }
    }
    (x_sum / total, y_sum / total)
}

/// `ink` copied into an empty [`SIDE`]x[`SIDE`] field with its top left corner at `(left, top)`.
fn place(ink: &Grid, left: usize, top: usize) -> Grid {
    assert!(
        left + ink.width <= SIDE && top + ink.height <= SIDE,
        "place: a {}x{} picture at ({left}, {top}) leaves the {SIDE}x{SIDE} field",
        ink.width,
        ink.height
    );
    let mut field = vec![0.0; SIDE * SIDE];
    for y in 0..ink.height {
        let row = &ink.values[y * ink.width..(y + 1) * ink.width];
        let start = (top + y) * SIDE + left;
        field[start..start + ink.width].copy_from_slice(row);
    }
    Grid::new(SIDE, SIDE, field)
}

/// Ink from 0-1 to the data sets' 0-255 levels.
fn to_levels(ink: &Grid) -> Vec<u8> {
    ink.values
        .iter()
        .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `width x height` picture of `paper` with a `ink`-coloured rectangle.
    fn picture_with_block(
        (width, height): (usize, usize),
        paper: u8,
        ink: u8,
        (left, top, right, bottom): (usize, usize, usize, usize),
    ) -> Picture {
        let pixels = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .map(|(x, y)| {
                if (left..=right).contains(&x) && (top..=bottom).contains(&y) {
                    ink
                } else {
                    paper
                }
            })
            .collect();
        Picture::new(width, height, pixels)
    }

    #[test]
    fn the_border_median_ignores_ink_that_touches_the_edge() {
        // A dark bar across the whole top row: 10 of the 36 border pixels.
        let picture = picture_with_block((10, 10), 240, 0, (0, 0, 9, 0));
        assert_eq!(border_median(&picture), 240);
    }

    #[test]
    fn dark_ink_on_white_is_inverted_and_light_ink_on_black_is_not() {
        let on_paper = picture_with_block((30, 30), 255, 0, (10, 10, 19, 19));
        let scale = InkScale::measure(&on_paper, BackgroundChoice::Auto, true).unwrap();
        assert!(scale.light_background);
        assert_eq!((scale.ink(255), scale.ink(0)), (0.0, 1.0));

        let like_mnist = picture_with_block((30, 30), 0, 255, (10, 10, 19, 19));
        let scale = InkScale::measure(&like_mnist, BackgroundChoice::Auto, true).unwrap();
        assert!(!scale.light_background);
        assert_eq!((scale.ink(0), scale.ink(255)), (0.0, 1.0));

        let forced = InkScale::measure(&like_mnist, BackgroundChoice::Light, true);
        assert!(forced.is_err(), "black paper read as light has no dark ink");
    }

    #[test]
    fn gray_pencil_on_gray_paper_is_stretched_to_full_ink_for_mnist_only() {
        // Paper at 200, pencil at 100: ink 55/255 background, 155/255 strongest.
        let picture = picture_with_block((30, 30), 200, 100, (5, 5, 9, 20));
        let mnist = InkScale::measure(&picture, BackgroundChoice::Auto, true).unwrap();
        assert_eq!((mnist.ink(200), mnist.ink(100)), (0.0, 1.0));
        assert!((mnist.ink(150) - 0.5).abs() < 1e-6);
        let fashion = InkScale::measure(&picture, BackgroundChoice::Auto, false).unwrap();
        assert_eq!(fashion.ink(200), 0.0);
        assert!(
            (fashion.ink(100) - 100.0 / 200.0).abs() < 1e-6,
            "{}",
            fashion.ink(100)
        );
    }

    #[test]
    fn a_blank_or_faint_picture_is_refused() {
        let blank = Picture::new(40, 30, vec![255; 1200]);
        let message = format!(
            "{}",
            InkScale::measure(&blank, BackgroundChoice::Auto, true).unwrap_err()
        );
        assert!(message.contains("nothing drawn"), "{message}");
        // JPEG-like noise of a few levels is not ink either.
        let noise = picture_with_block((40, 30), 250, 240, (3, 3, 8, 8));
        assert!(InkScale::measure(&noise, BackgroundChoice::Auto, true).is_err());
    }

    #[test]
    fn cropping_keeps_exactly_the_inked_rectangle() {
        let picture = picture_with_block((50, 40), 255, 0, (7, 12, 19, 30));
        let scale = InkScale::measure(&picture, BackgroundChoice::Auto, true).unwrap();
        let ink = crop_to_ink(&picture, &scale);
        assert_eq!((ink.width, ink.height), (13, 19));
        assert!(ink.values.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn fitting_keeps_the_aspect_ratio_and_the_longer_side_becomes_the_box() {
        let tall = Grid::new(30, 120, vec![1.0; 30 * 120]);
        let fitted = fit_into(&tall, MNIST_BOX);
        assert_eq!((fitted.width, fitted.height), (5, 20));
        assert!(fitted.values.iter().all(|&v| (v - 1.0).abs() < 1e-6));
        let small_wide = Grid::new(9, 3, vec![1.0; 27]);
        let fitted = fit_into(&small_wide, MNIST_BOX);
        assert_eq!((fitted.width, fitted.height), (20, 7));
        let thin = Grid::new(2, 300, vec![1.0; 600]);
        assert_eq!(fit_into(&thin, MNIST_BOX).width, 1);
    }

    #[test]
    fn the_centre_of_mass_is_moved_to_mnists_centre() {
        // An L: a heavy left column and a light bottom row, so the mass sits low and left.
        let mut values = vec![0.0; 10 * 10];
        for y in 0..10 {
            values[y * 10] = 1.0;
        }
        for x in 0..10 {
            values[90 + x] = 0.2;
        }
        let ink = Grid::new(10, 10, values);
        let (x, y) = centre_of_mass(&ink);
        let field = place_by_centre_of_mass(&ink, MNIST_CENTRE);
        let (fx, fy) = centre_of_mass(&field);
        assert!((fx - MNIST_CENTRE).abs() <= 0.5, "{fx} (from {x})");
        assert!((fy - MNIST_CENTRE).abs() <= 0.5, "{fy} (from {y})");
        assert!((field.total() - ink.total()).abs() < 1e-5, "no ink is lost");
    }

    #[test]
    fn a_shift_that_would_leave_the_field_stops_at_its_edge() {
        // All the mass in the top left pixel of a 20x20 box: the ideal shift is 14 to the right
        // and down, but the box only fits 8 pixels in.
        let mut values = vec![0.0; 400];
        values[0] = 1.0;
        let field = place_by_centre_of_mass(&Grid::new(20, 20, values), MNIST_CENTRE);
        assert_eq!(field.at(8, 8), 1.0);
    }

    #[test]
    fn fashion_fills_the_frame_and_is_centred() {
        let picture = picture_with_block((200, 100), 255, 30, (20, 10, 179, 89));
        let prepared = prepare(&picture, DataSetName::Fashion, BackgroundChoice::Auto).unwrap();
        // 160x80 becomes 28x14, centred: rows 7 to 20.
        let row = |y: usize| &prepared.pixels[y * SIDE..(y + 1) * SIDE];
        assert!(row(6).iter().all(|&v| v == 0));
        assert!(row(7).iter().all(|&v| v == 225), "{:?}", row(7)); // 255 - 30, unstretched
        assert!(row(20).iter().all(|&v| v == 225));
        assert!(row(21).iter().all(|&v| v == 0));
        assert!(prepared.inverted);
    }

    #[test]
    fn an_mnist_digit_prepared_again_stays_nearly_the_same() {
        // A 20x20 box already centred by mass, as MNIST stores it: a square ring from 4 to 23.
        let mut pixels = vec![0u8; SIDE * SIDE];
        for i in 4..24 {
            for (x, y) in [(i, 4), (i, 23), (4, i), (23, i)] {
                pixels[y * SIDE + x] = 255;
            }
        }
        let picture = Picture::new(SIDE, SIDE, pixels.clone());
        let prepared = prepare(&picture, DataSetName::Mnist, BackgroundChoice::Auto).unwrap();
        assert!(!prepared.inverted);
        // The ring's centre is 13.5; MNIST's is 14, and the shift rounds half away from zero.
        let moved: Vec<u8> = (0..SIDE * SIDE)
            .map(|i| {
                if i % SIDE == 0 || i < SIDE {
                    0
                } else {
                    pixels[i - SIDE - 1]
                }
            })
            .collect();
        assert_eq!(prepared.pixels, moved);
    }
}
