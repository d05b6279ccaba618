//! Serving samples in batches: bytes in memory become `f32` one batch at a time, in a buffer
//! that is reused for every batch.
//!
//! A pixel byte `v` becomes `v / 255 · scale` (or `v` itself when `scale` is `None`), computed
//! for a whole image at a time in a loop the compiler vectorises (a 256-entry table would cost a
//! lookup per pixel, which does not vectorise), with the next images fetched ahead. A batch
//! converted transposed, pixel by pixel across the images ([`BatchImages::pixels_into`]), looks
//! each value up in such a table instead: there no two neighbouring values come from one image.
//! Labels are served both as `u32` (what the loss functions take, [`length_tensor::Labels`])
//! and as the original `u8`.
//!
//! The main path is the lending iterator [`Batches::next_batch`]: each [`Batch`] borrows the
//! buffers, so an epoch allocates nothing after its first batch. [`Batches::next_pending`]
//! leaves the conversion to the caller, into a buffer of its own (a training step's input), and
//! shows the images of the batch after it ([`PendingBatch::following`]), which the trainer
//! converts while a step runs. For convenience `Batches` is also an [`Iterator`] of owned
//! `(Tensor, Labels)` pairs, which allocates per batch.
//!
//! ```
//! use length_data::{BatchConfig, Batches, Samples};
//!
//! let samples = Samples::new(vec![0, 51, 102, 255, 255, 0, 0, 0], vec![4, 2], [2, 2])?;
//! let config = BatchConfig { batch_size: 1, scale: Some(2.0), sample_dimensions: 3, keep_last_batch: false };
//! let mut batches = Batches::in_order(&samples, &config);
//! let batch = batches.next_batch().unwrap();
//! assert_eq!(batch.images.shape(), &[1, 1, 2, 2]); // (batch, channels, rows, columns)
//! assert_eq!(batch.images.iter().copied().collect::<Vec<f32>>(), vec![0.0, 0.4, 0.8, 2.0]);
//! assert_eq!(batch.labels[0], 4);
//! # Ok::<(), length_data::DataError>(())
//! ```

use crate::error::DataError;
use crate::samples::Samples;
use length_tensor::{Labels, Tensor};
use ndarray::{ArrayView1, ArrayView2, ArrayViewD, IxDyn};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// How samples are cut into batches and turned into floats.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchConfig {
    /// Samples per batch (at least 1).
    pub batch_size: usize,
    /// Pixels become `value / 255 · scale`; `None` keeps the raw values 0–255 as `f32`.
    pub scale: Option<f32>,
    /// 1: images of shape (batch, rows·columns); 2: (batch, rows, columns);
    /// 3: (batch, 1, rows, columns).
    pub sample_dimensions: usize,
    /// Serve the last, incomplete batch of an epoch too (LENGTH drops it).
    pub keep_last_batch: bool,
}

impl BatchConfig {
    /// Checks that the configuration can work: a batch size of at least 1, 1 to 3 sample
    /// dimensions, and a finite scale.
    pub fn validate(&self) -> Result<(), DataError> {
        if self.batch_size == 0 {
            return Err(DataError::InvalidOption(
                "batch_size must be at least 1".into(),
            ));
        }
        if !(1..=3).contains(&self.sample_dimensions) {
            return Err(DataError::InvalidOption(format!(
                "sample_dimensions must be 1 (batch, 784), 2 (batch, 28, 28) or 3 \
                 (batch, 1, 28, 28), not {}",
                self.sample_dimensions
            )));
        }
        if let Some(scale) = self.scale
            && !scale.is_finite()
        {
            return Err(DataError::InvalidOption(format!(
                "scale must be a finite number, not {scale}"
            )));
        }
        Ok(())
    }
}

/// How many images ahead of the one being converted are fetched (13 cache lines each).
const PREFETCH_AHEAD: usize = 4;

/// Hints that `bytes` will be read soon. In a shuffled epoch each image lies somewhere else in
/// the 47 MB of the training set, so converting a batch waits for memory: fetching four images
/// ahead took a batch of 64 from 36-37 µs to 27-35 µs (one thread, AVX-512 machine).
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is a hint that never faults; the address is inside `bytes`.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// The sample at `position` of an epoch's `order` (`None`: file order).
fn sample_at(order: Option<&[u32]>, position: usize) -> usize {
    order.map_or(position, |order| order[position] as usize)
}

/// Converts one image's pixel bytes into `f32`, each as [`convert_pixel`] does.
fn convert_pixels(pixels: &[u8], scale: Option<f32>, out: &mut [f32]) {
    for (value, &byte) in out.iter_mut().zip(pixels) {
        *value = convert_pixel(byte, scale);
    }
}

/// A pixel byte `v` as `f32`: `v / 255 · scale`, or `v` without a scale.
fn convert_pixel(byte: u8, scale: Option<f32>) -> f32 {
    scale.map_or(f32::from(byte), |scale| f32::from(byte) / 255.0 * scale)
}

/// What each of the 256 pixel bytes becomes ([`convert_pixel`]), for converting a batch
/// transposed ([`BatchImages::pixels_into`]): there each value is on its own, and looking it up
/// took 23-36 µs per shuffled batch of 64 MNIST images where dividing took 55-68 µs (one thread,
/// AMD Zen 4; image by image, vectorised, 14-18 µs).
type PixelValues = [f32; 256];

fn pixel_values(scale: Option<f32>) -> PixelValues {
    std::array::from_fn(|byte| convert_pixel(u8::try_from(byte).expect("a byte"), scale))
}

/// One batch, borrowed from the [`Batches`] that served it.
#[derive(Debug)]
pub struct Batch<'b> {
    /// The images as `f32`, of shape (batch, …) as [`BatchConfig::sample_dimensions`] says.
    pub images: ArrayViewD<'b, f32>,
    /// The labels, as the loss functions take them.
    pub labels: ArrayView1<'b, u32>,
    /// The labels as stored in the file (LENGTH's dtype).
    pub labels_u8: &'b [u8],
}

impl<'b> Batch<'b> {
    /// Number of samples in the batch.
    pub fn len(&self) -> usize {
        self.labels_u8.len()
    }

    /// Whether the batch is empty (never true for a served batch).
    pub fn is_empty(&self) -> bool {
        self.labels_u8.is_empty()
    }

    /// The images flattened to (batch, pixels), whatever the sample dimensions.
    pub fn images_2d(&self) -> ArrayView2<'b, f32> {
        let rows = self.len();
        let columns = self.images.len().checked_div(rows).unwrap_or(0);
        self.images
            .clone()
            .into_shape_with_order((rows, columns))
            .expect("batch buffers are contiguous")
    }

    /// Copies the batch into owned arrays.
    pub fn to_owned(&self) -> (Tensor, Labels) {
        (self.images.to_owned(), self.labels.to_owned())
    }
}

/// The batches of one epoch of one split; see the [module docs](self).
#[derive(Debug)]
pub struct Batches<'a> {
    samples: &'a Samples,
    /// The order of the samples, or `None` for file order.
    order: Option<Vec<u32>>,
    /// Position in the order of the next sample to serve.
    next: usize,
    batch_size: usize,
    keep_last_batch: bool,
    sample_shape: Vec<usize>,
    scale: Option<f32>,
    values: PixelValues,
    images: Vec<f32>,
    labels: Vec<u32>,
    labels_u8: Vec<u8>,
}

impl<'a> Batches<'a> {
    /// The batches of `samples` in file order.
    ///
    /// # Panics
    ///
    /// If `config` is invalid (see [`BatchConfig::validate`]).
    pub fn in_order(samples: &'a Samples, config: &BatchConfig) -> Self {
        if let Err(error) = config.validate() {
            panic!("Batches: {error}");
        }
        let [rows, columns] = samples.image_shape();
        let sample_shape = match config.sample_dimensions {
            1 => vec![rows * columns],
            2 => vec![rows, columns],
            _ => vec![1, rows, columns],
        };
        Batches {
            samples,
            order: None,
            next: 0,
            batch_size: config.batch_size,
            keep_last_batch: config.keep_last_batch,
            sample_shape,
            scale: config.scale,
            values: pixel_values(config.scale),
            images: Vec::new(),
            labels: Vec::new(),
            labels_u8: Vec::new(),
        }
    }

    /// The batches of `samples` in the order of epoch `epoch` of a shuffle seeded by `seed`: a
    /// permutation drawn with ChaCha8 (stream `epoch`), the same on every machine.
    ///
    /// # Panics
    ///
    /// If `config` is invalid (see [`BatchConfig::validate`]).
    pub fn shuffled(samples: &'a Samples, config: &BatchConfig, seed: u64, epoch: u64) -> Self {
        let count = u32::try_from(samples.len()).expect("IDX files hold at most u32::MAX samples");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(epoch);
        let mut order: Vec<u32> = (0..count).collect();
        order.shuffle(&mut rng);
        Batches {
            order: Some(order),
            ..Batches::in_order(samples, config)
        }
    }

    /// Number of batches still to come in this epoch.
    pub fn len(&self) -> usize {
        let remaining = self.samples.len() - self.next;
        let full = remaining / self.batch_size;
        if self.keep_last_batch && !remaining.is_multiple_of(self.batch_size) {
            full + 1
        } else {
            full
        }
    }

    /// Whether the epoch is over.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next batch, converted into the reused buffers, or `None` at the end of the epoch.
    pub fn next_batch(&mut self) -> Option<Batch<'_>> {
        let (first, size) = self.advance()?;
        let mut images = std::mem::take(&mut self.images);
        images.resize(size * self.samples.image_len(), 0.0);
        self.images_at(first, size).images_into(&mut images);
        self.images = images;

        let mut shape = Vec::with_capacity(1 + self.sample_shape.len());
        shape.push(size);
        shape.extend_from_slice(&self.sample_shape);
        Some(Batch {
            images: ArrayViewD::from_shape(IxDyn(&shape), &self.images)
                .expect("the buffer holds exactly one batch"),
            labels: ArrayView1::from(&self.labels[..]),
            labels_u8: &self.labels_u8,
        })
    }

    /// The next batch with its labels ready and its images not yet converted, or `None` at the
    /// end of the epoch: for a caller that converts them into a buffer of its own with
    /// [`PendingBatch::images_into`], as the trainer does into a training step's input, which
    /// saves copying the batch from [`Batches`]' buffer.
    ///
    /// ```
    /// use length_data::{BatchConfig, Batches, Samples};
    ///
    /// let samples = Samples::new(vec![0, 51, 102, 255, 255, 0, 0, 0], vec![4, 2], [2, 2])?;
    /// let config = BatchConfig { batch_size: 2, scale: Some(1.0), sample_dimensions: 1, keep_last_batch: false };
    /// let mut batches = Batches::in_order(&samples, &config);
    /// let batch = batches.next_pending().unwrap();
    /// let mut images = vec![0.0f32; batch.len() * batch.image_len()];
    /// batch.images_into(&mut images);
    /// assert_eq!(images, vec![0.0, 0.2, 0.4, 1.0, 1.0, 0.0, 0.0, 0.0]);
    /// assert_eq!(batch.labels.to_vec(), vec![4, 2]);
    /// # Ok::<(), length_data::DataError>(())
    /// ```
    pub fn next_pending(&mut self) -> Option<PendingBatch<'_>> {
        let (first, size) = self.advance()?;
        Some(self.pending(first, size))
    }

    /// Moves on by one batch: its first position in the order and its size, with its labels in
    /// the label buffers, or `None` at the end of the epoch.
    fn advance(&mut self) -> Option<(usize, usize)> {
        let first = self.next;
        let size = self.batch_size_at(first)?;
        self.labels.clear();
        self.labels_u8.clear();
        for position in first..first + size {
            let label = self.samples.label(self.sample_index(position));
            self.labels_u8.push(label);
            self.labels.push(u32::from(label));
        }
        self.next += size;
        Some((first, size))
    }

    /// The size of the batch that starts at `position` of the epoch's order, or `None` if none
    /// does: a full batch, or the incomplete last one when it is kept.
    fn batch_size_at(&self, position: usize) -> Option<usize> {
        let remaining = self.samples.len() - position;
        if remaining >= self.batch_size {
            Some(self.batch_size)
        } else if self.keep_last_batch && remaining > 0 {
            Some(remaining)
        } else {
            None
        }
    }

    /// The sample at `position` of the epoch's order.
    fn sample_index(&self, position: usize) -> usize {
        sample_at(self.order.as_deref(), position)
    }

    /// The batch of `size` samples from position `first` on, whose labels [`Batches::advance`] has
    /// just put in the label buffers.
    fn pending(&self, first: usize, size: usize) -> PendingBatch<'_> {
        let following = first + size;
        PendingBatch {
            images: self.images_at(first, size),
            labels: ArrayView1::from(&self.labels[..]),
            labels_u8: &self.labels_u8,
            following: self
                .batch_size_at(following)
                .map(|size| self.images_at(following, size)),
        }
    }

    /// The images of the `size` samples from position `first` of the epoch's order on.
    fn images_at(&self, first: usize, size: usize) -> BatchImages<'_> {
        BatchImages {
            samples: self.samples,
            order: self.order.as_deref(),
            first,
            len: size,
            scale: self.scale,
            values: &self.values,
        }
    }
}

/// A batch whose images are still the data set's bytes; see [`Batches::next_pending`].
#[derive(Debug)]
pub struct PendingBatch<'b> {
    /// The images, to be converted.
    pub images: BatchImages<'b>,
    /// The labels, as the loss functions take them.
    pub labels: ArrayView1<'b, u32>,
    /// The labels as stored in the file (LENGTH's dtype).
    pub labels_u8: &'b [u8],
    /// The images of the batch after this one in the epoch.
    following: Option<BatchImages<'b>>,
}

impl<'b> PendingBatch<'b> {
    /// Number of samples in the batch.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Whether the batch is empty (never true for a served batch).
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// Pixels per image: a row of the batch flattened to (batch, pixels).
    pub fn image_len(&self) -> usize {
        self.images.image_len()
    }

    /// Converts the images into `out`, as [`BatchImages::images_into`] does.
    ///
    /// # Panics
    /// If `out` does not hold exactly `len() * image_len()` floats.
    pub fn images_into(&self, out: &mut [f32]) {
        self.images.images_into(out);
    }

    /// The images of the batch that [`Batches::next_pending`] serves after this one, or `None`
    /// if this is the epoch's last: for a caller that converts them ahead of time, as the
    /// trainer does while a training step runs.
    ///
    /// ```
    /// use length_data::{BatchConfig, Batches, Samples};
    ///
    /// let samples = Samples::new(vec![10, 20, 30, 40, 50, 60], vec![0, 1, 2], [1, 2])?;
    /// let config = BatchConfig { batch_size: 2, scale: None, sample_dimensions: 1, keep_last_batch: true };
    /// let mut batches = Batches::in_order(&samples, &config);
    /// let first = batches.next_pending().unwrap();
    /// let following = first.following().unwrap();
    /// let mut ahead = vec![0.0f32; following.len() * following.image_len()];
    /// following.images_into(&mut ahead);
    /// assert_eq!(ahead, [50.0, 60.0]); // the kept last batch: one image of two pixels
    /// let second = batches.next_pending().unwrap();
    /// assert!(second.following().is_none());
    /// # Ok::<(), length_data::DataError>(())
    /// ```
    pub fn following(&self) -> Option<BatchImages<'b>> {
        self.following
    }
}

/// The images of one batch as the data set's bytes, converted into `f32` on demand: all at once
/// ([`images_into`](Self::images_into)) or one image at a time
/// ([`image_into`](Self::image_into), which threads can share).
#[derive(Clone, Copy, Debug)]
pub struct BatchImages<'b> {
    samples: &'b Samples,
    /// The epoch's order, or `None` for file order.
    order: Option<&'b [u32]>,
    /// The batch's first position in that order.
    first: usize,
    len: usize,
    scale: Option<f32>,
    /// [`pixel_values`] of `scale`.
    values: &'b PixelValues,
}

impl BatchImages<'_> {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no images (never true for a served batch).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pixels per image.
    pub fn image_len(&self) -> usize {
        self.samples.image_len()
    }

    /// Converts the images, one after another, into `out`, as [`Batches::next_batch`] would: the
    /// same `f32` values, flattened to (batch, pixels).
    ///
    /// # Panics
    /// If `out` does not hold exactly `len() * image_len()` floats.
    pub fn images_into(&self, out: &mut [f32]) {
        assert_eq!(
            out.len(),
            self.len * self.image_len(),
            "BatchImages::images_into: {} images of {} pixels into {} floats",
            self.len,
            self.image_len(),
            out.len()
        );
        for k in 0..PREFETCH_AHEAD.min(self.len) {
            prefetch(self.pixels(k));
        }
        for (k, image) in out.chunks_exact_mut(self.image_len().max(1)).enumerate() {
            self.image_into(k, image);
        }
    }

    /// Converts pixels `first_pixel ..` of every image into `out`, transposed: one row of `len()`
    /// values per pixel, image k's in column k, the values of [`images_into`](Self::images_into).
    /// All the pixels make the batch as a (pixels, batch) matrix, whose transpose is the
    /// (batch, pixels) batch in column-major order: as the first layer's product `W · xᵀ` reads
    /// it without packing it first. Threads can share the work in slabs of whole rows.
    ///
    /// ```
    /// use length_data::{BatchConfig, Batches, Samples};
    ///
    /// let samples = Samples::new(vec![1, 2, 3, 4, 5, 6], vec![0, 1], [1, 3])?;
    /// let config = BatchConfig { batch_size: 2, scale: None, sample_dimensions: 1, keep_last_batch: true };
    /// let mut batches = Batches::in_order(&samples, &config);
    /// let batch = batches.next_pending().unwrap();
    /// let mut pixels = [0.0f32; 4];
    /// batch.images.pixels_into(1, &mut pixels); // pixels 1 and 2 of both images
    /// assert_eq!(pixels, [2.0, 5.0, 3.0, 6.0]);
    /// # Ok::<(), length_data::DataError>(())
    /// ```
    ///
    /// # Panics
    /// If `out` is not a whole number of rows of `len()` values, or goes past the last pixel.
    pub fn pixels_into(&self, first_pixel: usize, out: &mut [f32]) {
        let len = self.len;
        let pixels = out.len().checked_div(len).unwrap_or(0);
        assert!(
            pixels * len == out.len() && first_pixel + pixels <= self.image_len(),
            "BatchImages::pixels_into: pixels {first_pixel}.. of {} images of {} pixels into {} \
             floats",
            len,
            self.image_len(),
            out.len()
        );
        // Sixteen images at a time: each pixel's sixteen values are one cache line of `out`.
        const BLOCK: usize = 16;
        let mut images: [&[u8]; BLOCK] = [&[]; BLOCK];
        // The slab of pixels after this one, which threads sharing the work convert next: its
        // bytes are fetched from memory while this slab is converted. Inside a two-thread
        // training step the batches' conversion (slabs of 32 pixels) took 29-30 µs a batch so,
        // against 37-38 µs (AMD Zen 4, two runs each).
        let following = first_pixel + pixels..(first_pixel + 2 * pixels).min(self.image_len());
        for first_image in (0..len).step_by(BLOCK) {
            let count = BLOCK.min(len - first_image);
            for (k, image) in images[..count].iter_mut().enumerate() {
                let bytes = self.pixels(first_image + k);
                prefetch(&bytes[following.clone()]);
                *image = &bytes[first_pixel..first_pixel + pixels];
            }
            for (p, row) in out.chunks_exact_mut(len).enumerate() {
                let row = &mut row[first_image..first_image + count];
                match <&mut [f32; BLOCK]>::try_from(&mut *row) {
                    // A whole block, unrolled and unchecked: 33-36 µs a batch in slabs of 32
                    // pixels against 43-63 µs with a bounds check per value (one thread).
                    Ok(row) => {
                        for (value, image) in row.iter_mut().zip(&images) {
                            // SAFETY: each image's slice holds `pixels` bytes, and p < pixels.
                            let byte = unsafe { *image.get_unchecked(p) };
                            *value = self.values[usize::from(byte)];
                        }
                    }
                    Err(_) => {
                        for (value, image) in row.iter_mut().zip(&images) {
                            *value = self.values[usize::from(image[p])];
                        }
                    }
                }
            }
        }
    }

    /// Converts image `k` into `out`, and has the image four places on fetched from memory.
    ///
    /// # Panics
    /// If `k` is not below `len()` or `out` does not hold exactly `image_len()` floats.
    pub fn image_into(&self, k: usize, out: &mut [f32]) {
        assert!(
            k < self.len && out.len() == self.image_len(),
            "BatchImages::image_into: image {k} of {} ({} pixels) into {} floats",
            self.len,
            self.image_len(),
            out.len()
        );
        if k + PREFETCH_AHEAD < self.len {
            prefetch(self.pixels(k + PREFETCH_AHEAD));
        }
        convert_pixels(self.pixels(k), self.scale, out);
    }

    /// The bytes of image `k`.
    fn pixels(&self, k: usize) -> &[u8] {
        self.samples.image(sample_at(self.order, self.first + k))
    }
}

/// Owned batches, for `for (images, labels) in data.train()`: each item is a fresh allocation.
/// Prefer [`Batches::next_batch`] in training loops.
impl Iterator for Batches<'_> {
    type Item = (Tensor, Labels);

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().map(|batch| batch.to_owned())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

impl ExactSizeIterator for Batches<'_> {}
