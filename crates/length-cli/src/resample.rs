//! Resizing by area averaging: each new pixel is the mean of the old image over the area it
//! covers.
//!
//! Along one axis, an image of `n` pixels resized to `m` pixels maps new pixel `i` onto the old
//! interval `[i s, (i + 1) s)` with `s = n / m`. Old pixel `j` covers `[j, j + 1)`, so it enters new
//! pixel `i` with the length of the overlap, and
//!
//! ```text
//! new[i] = (1 / s) * sum_j  overlap([i s, (i + 1) s), [j, j + 1)) * old[j]
//! ```
//!
//! The weights of every new pixel sum to 1, so a constant image stays constant and the total ink
//! scales with the area. Resizing both axes this way, one after the other, is the exact mean
//! over each new pixel's rectangle: the antialiasing with which MNIST's digits were brought into
//! their 20x20 box. Shrinking averages many pixels; enlarging repeats each pixel and blends the
//! two pixels a boundary falls between.

/// A grid of `f32` values, row by row.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// Values per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// The values, `values[y * width + x]`.
    pub values: Vec<f32>,
}

impl Grid {
    /// A grid from its values.
    ///
    /// # Panics
    /// When `values` does not hold `width * height` values.
    pub fn new(width: usize, height: usize, values: Vec<f32>) -> Self {
        assert_eq!(
            values.len(),
            width * height,
            "Grid::new: {} values for a {width}x{height} grid",
            values.len()
        );
        Grid {
            width,
            height,
            values,
        }
    }

    /// The value at column `x`, row `y`.
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.values[y * self.width + x]
    }

    /// The sum of all values.
    pub fn total(&self) -> f32 {
        self.values.iter().sum()
    }
}

/// `grid` resized to `width x height` by area averaging (see the module docs).
///
/// # Panics
/// When the grid or the new size has a side of zero.
pub fn resize_area(grid: &Grid, width: usize, height: usize) -> Grid {
    assert!(
        grid.width > 0 && grid.height > 0 && width > 0 && height > 0,
        "resize_area: from {}x{} to {width}x{height}",
        grid.width,
        grid.height
    );
    let columns = area_weights(grid.width, width);
    let rows = area_weights(grid.height, height);
    // Rows first: every old row becomes `width` wide.
    let mut narrow = vec![0.0; width * grid.height];
    for y in 0..grid.height {
        let old = &grid.values[y * grid.width..(y + 1) * grid.width];
        for (x, weights) in columns.iter().enumerate() {
            narrow[y * width + x] = weights.iter().map(|&(j, w)| w * old[j]).sum();
        }
    }
    // Then columns: the rows are combined into `height` new rows.
    let mut values = vec![0.0; width * height];
    for (y, weights) in rows.iter().enumerate() {
        for &(j, w) in weights {
            let old = &narrow[j * width..(j + 1) * width];
            for (new, &value) in values[y * width..(y + 1) * width].iter_mut().zip(old) {
                *new += w * value;
            }
        }
    }
    Grid::new(width, height, values)
}

/// For each of the `new` pixels of an axis of `old` pixels: the old pixels it covers and their
/// weights (overlap / scale), which sum to 1.
fn area_weights(old: usize, new: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = old as f64 / new as f64;
    (0..new)
        .map(|i| {
            let (start, end) = (i as f64 * scale, (i + 1) as f64 * scale);
            let first = start.floor() as usize;
            let last = (end.ceil() as usize).min(old);
            (first..last)
                .filter_map(|j| {
                    let overlap = end.min(j as f64 + 1.0) - start.max(j as f64);
                    (overlap > 0.0).then_some((j, (overlap / scale) as f32))
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_averages_each_two_by_two_block() {
        let grid = Grid::new(4, 2, vec![0.0, 1.0, 2.0, 4.0, 1.0, 0.0, 2.0, 0.0]);
        let half = resize_area(&grid, 2, 1);
        assert_eq!(half.values, [0.5, 2.0]);
    }

    #[test]
    fn a_third_pixel_blends_by_overlap() {
        // Three pixels into two: new pixel 0 covers [0, 1.5): all of 0 and half of 1.
        let grid = Grid::new(3, 1, vec![3.0, 6.0, 9.0]);
        let two = resize_area(&grid, 2, 1);
        assert_eq!(two.values, [(3.0 + 3.0) / 1.5, (3.0 + 9.0) / 1.5]);
    }

    #[test]
    fn doubling_repeats_each_pixel() {
        let grid = Grid::new(2, 1, vec![1.0, 5.0]);
        assert_eq!(
            resize_area(&grid, 4, 2).values,
            [1.0, 1.0, 5.0, 5.0, 1.0, 1.0, 5.0, 5.0]
        );
    }

    #[test]
    fn weights_sum_to_one_and_ink_scales_with_area() {
        for (old, new) in [(300, 20), (7, 20), (20, 20), (141, 13)] {
            for weights in area_weights(old, new) {
                let sum: f32 = weights.iter().map(|&(_, w)| w).sum();
                assert!((sum - 1.0).abs() < 1e-5, "{old} -> {new}: {sum}");
            }
        }
        let grid = Grid::new(30, 45, (0..30 * 45).map(|i| (i % 7) as f32).collect());
        let small = resize_area(&grid, 10, 15);
        let area_ratio = (10.0 * 15.0) / (30.0 * 45.0);
        assert!((small.total() - grid.total() * area_ratio).abs() < 1e-2);
    }
}
