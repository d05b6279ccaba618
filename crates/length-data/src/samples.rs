//! One split of an image data set, held as it is stored: a `u8` per pixel and a `u8` per label.
//!
//! Keeping bytes, not floats, is the memory story of this crate: MNIST's 60 000 training images
//! take 47 MB as bytes and would take 188 MB as `f32`. Pixels become floats one batch at a time
//! (see [`Batches`](crate::Batches)).

use crate::error::DataError;
use crate::idx::{IdxArray, IdxData};

/// Images and their labels, as bytes: image `i` is `pixels[i·rows·cols .. (i+1)·rows·cols]`, row
/// by row, and its label is `labels[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Samples {
    pixels: Vec<u8>,
    labels: Vec<u8>,
    image_shape: [usize; 2],
}

impl Samples {
    /// Images of `image_shape` = (rows, columns) pixels and one label per image.
    ///
    /// ```
    /// use length_data::Samples;
    ///
    /// let samples = Samples::new(vec![0, 255, 128, 64, 1, 2, 3, 4], vec![7, 3], [2, 2])?;
    /// assert_eq!(samples.len(), 2);
    /// assert_eq!(samples.image(1), &[1, 2, 3, 4]);
    /// assert_eq!(samples.label(1), 3);
    /// # Ok::<(), length_data::DataError>(())
    /// ```
    pub fn new(
        pixels: Vec<u8>,
        labels: Vec<u8>,
        image_shape: [usize; 2],
    ) -> Result<Self, DataError> {
        let image_len = image_shape[0].checked_mul(image_shape[1]);
        if image_len.and_then(|n| n.checked_mul(labels.len())) != Some(pixels.len()) {
            return Err(DataError::Format {
                what: "samples".into(),
                problem: format!(
                    "{} pixels are not {} images of {}x{} pixels (one per label)",
                    pixels.len(),
                    labels.len(),
                    image_shape[0],
                    image_shape[1]
                ),
            });
        }
        Ok(Samples {
            pixels,
            labels,
            image_shape,
        })
    }

    /// Images from a `u8` IDX array of shape (count, rows, columns) and labels from a `u8` IDX
    /// array of shape (count,), as in MNIST's files.
    pub fn from_idx(images: IdxArray, labels: IdxArray) -> Result<Self, DataError> {
        Self::from_idx_named(images, labels, "images", "labels")
    }

    /// [`Samples::from_idx`], naming the arrays (e.g. by file) in error messages.
    pub(crate) fn from_idx_named(
        images: IdxArray,
        labels: IdxArray,
        images_name: &str,
        labels_name: &str,
    ) -> Result<Self, DataError> {
        let format_error = |what: &str, problem: String| DataError::Format {
            what: what.to_owned(),
            problem,
        };
        let (image_dims, image_data) = images.into_parts();
        let (label_dims, label_data) = labels.into_parts();
        let &[count, rows, columns] = image_dims.as_slice() else {
            return Err(format_error(
                images_name,
                format!(
                    "expected images of shape (count, rows, columns), found shape {image_dims:?}"
                ),
            ));
        };
        let &[label_count] = label_dims.as_slice() else {
            return Err(format_error(
                labels_name,
                format!("expected labels of shape (count,), found shape {label_dims:?}"),
            ));
        };
        if count != label_count {
            return Err(format_error(
                images_name,
                format!("{count} images, but {labels_name} holds {label_count} labels"),
            ));
        }
        let pixels =
            into_bytes(image_data).map_err(|problem| format_error(images_name, problem))?;
        let labels =
            into_bytes(label_data).map_err(|problem| format_error(labels_name, problem))?;
        Samples::new(pixels, labels, [rows, columns])
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// (rows, columns) of every image.
    pub fn image_shape(&self) -> [usize; 2] {
        self.image_shape
    }

    /// Pixels per image, rows · columns.
    pub fn image_len(&self) -> usize {
        self.image_shape[0] * self.image_shape[1]
    }

    /// The pixels of image `index`, row by row.
    ///
    /// # Panics
    ///
    /// If `index >= self.len()`.
    pub fn image(&self, index: usize) -> &[u8] {
        assert!(
            index < self.len(),
            "image {index} of {} samples",
            self.len()
        );
        let n = self.image_len();
        &self.pixels[index * n..(index + 1) * n]
    }

    /// The label of image `index`.
    ///
    /// # Panics
    ///
    /// If `index >= self.len()`.
    pub fn label(&self, index: usize) -> u8 {
        self.labels[index]
    }

    /// All pixels, image after image.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// All labels.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }
}

fn into_bytes(data: IdxData) -> Result<Vec<u8>, String> {
    match data {
        IdxData::U8(bytes) => Ok(bytes),
        other => Err(format!(
            "expected unsigned bytes (IDX type 0x08), found {} elements",
            other.element_type()
        )),
    }
}
