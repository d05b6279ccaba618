//! What a data set offers a training loop: batches of the training split, batches of the test
//! split. This is LENGTH's `DataSet` with its `train()` and `test()`.

use crate::batches::Batches;

/// A data set split into training and test samples, served in batches.
///
/// Each call to [`train`](DataSet::train) starts a new epoch (with a new order, if the data set
/// shuffles); [`test`](DataSet::test) always serves the test split in file order.
///
/// ```
/// use length_data::{DataSet, MnistLike, MnistOptions, Samples, DataSetName};
///
/// // Three 2x2 "images"; batches of two, the incomplete last batch dropped as LENGTH does.
/// let train = Samples::new((0..12).collect(), vec![1, 2, 3], [2, 2])?;
/// let options = MnistOptions { batch_size: 2, ..MnistOptions::default() };
/// let data = MnistLike::from_samples(DataSetName::Mnist, Some(train), None, &options)?;
///
/// let mut batches = data.train();
/// assert_eq!(batches.len(), 1);
/// while let Some(batch) = batches.next_batch() {
///     assert_eq!(batch.images.shape(), &[2, 4]);
///     assert_eq!(batch.labels.to_vec(), vec![1, 2]);
/// }
/// # Ok::<(), length_data::DataError>(())
/// ```
pub trait DataSet {
    /// Batches of the training split for the next epoch.
    fn train(&self) -> Batches<'_>;

    /// Batches of the test split, in file order.
    fn test(&self) -> Batches<'_>;
}
