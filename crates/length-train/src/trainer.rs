//! The training loop as a library call, in the spirit of Keras's `fit` and burn's `Learner`.
//!
//! ```text
//! for epoch in 1..=epochs:
//!     lr = schedule(epoch)                       (or the optimizer's own, without a schedule)
//!     for each training batch (at most limit_batches):
//!         train_step: forward, loss, backward    (the layers update during backward, LENGTH's way;
//!                                                 meanwhile idle kernel threads convert the next batch)
//!         stop with TrainError::Diverged if the loss is not finite
//!         on_step(...)                           (Flow::Stop ends the epoch here)
//!     test pass on the test set (evaluation mode)
//!     on_epoch_end(...)                          (Flow::Stop ends the run)
//! ```
//!
//! The loop is generic over any [`Model`], so a student's own model trains exactly as LENGTH's
//! [`MLP`](length_layers::MLP) does. Each step is handed to a [`StepRunner`], which may choose
//! where it runs ([`Direct`]: in place). Nothing here prints or measures anything a caller did
//! not ask for: progress bars, metrics files and Ctrl-C belong in [`Callbacks`].

use std::time::Instant;

use length_autograd::{Optimizer, pool};
use length_data::{Batches, MnistLike, Samples};
use length_layers::{Loss, Model, train_step_owned};
use length_optim::LearningRateSchedule;
use length_tensor::{Matrix, team};

use crate::{
    Callbacks, Direct, EpochReport, EpochStart, Flow, StepReport, StepRunner, Tally, TrainError,
    evaluate,
};

/// Samples per batch of the test pass. Any size gives the same accuracy (the loss may differ in
/// its last bits); 250 keeps the pass's arrays small next to the data.
pub const DEFAULT_TEST_BATCH_SIZE: usize = 250;

/// The set a model is tested on after each epoch, and how.
#[derive(Clone, Copy)]
struct TestSet<'a> {
    samples: &'a Samples,
    batch_size: usize,
    loss: Loss,
}

/// A training run's settings: data, epochs, schedule, batch limit and test set.
///
/// Build one with [`Trainer::new`] and the setters, then call [`fit`](Self::fit).
///
/// Each step's batch reaches the model as a (batch, pixels) matrix in column-major order, as
/// the first layer's product reads it without a copy. The kernels may add up a product in
/// another order for another layout, so a step can differ in its last bits from
/// [`train_step`](length_layers::train_step) on a row-major batch (never between thread counts).
///
/// # Example
/// Trains a small MLP on synthetic data (bright left half: class 0, bright right half: class 1)
/// until it tells them apart.
/// ```
/// use length_data::{DataSetName, MnistLike, MnistOptions, Samples};
/// use length_layers::{Loss, MlpConfig};
/// use length_optim::{Constant, Sgd};
/// use length_train::{Silent, Trainer};
///
/// // 64 images of 4x4 pixels.
/// let mut pixels = Vec::new();
/// let mut labels = Vec::new();
/// for i in 0..64u8 {
///     let class = i % 2;
///     for _row in 0..4 {
///         for column in 0..4 {
///             let bright = (column < 2) == (class == 0);
///             pixels.push(if bright { 200 + i / 2 } else { i / 4 });
///         }
///     }
///     labels.push(class);
/// }
/// let samples = || Samples::new(pixels.clone(), labels.clone(), [4, 4]);
/// let options = MnistOptions { batch_size: 8, ..MnistOptions::default() };
/// let data = MnistLike::from_samples(DataSetName::Mnist, Some(samples()?), Some(samples()?), &options)?;
///
/// let mut model = MlpConfig::new(vec![16, 8, 2]).seed(1).build()?;
/// let mut optimizer = Sgd::with_learning_rate(0.05);
/// let schedule = Constant::new(0.05);
/// let report = Trainer::new(&data)
///     .epochs(20)
///     .schedule(&schedule)
///     .test_on(data.test_samples().unwrap(), Loss::MeanSquaredError)
///     .fit(&mut model, &mut optimizer, &mut Silent)?;
///
/// assert_eq!(report.epochs.len(), 20);
/// let last = report.epochs.last().unwrap();
/// assert_eq!(last.train.samples, 64);
/// assert_eq!(last.test.as_ref().unwrap().accuracy, 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct Trainer<'a> {
    data: &'a MnistLike,
    epochs: usize,
    schedule: Option<&'a dyn LearningRateSchedule>,
    limit_batches: Option<usize>,
    test: Option<TestSet<'a>>,
}

/// What a finished run measured, epoch by epoch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FitReport {
    /// One report per epoch that ran (the last may have been stopped early).
    pub epochs: Vec<EpochReport>,
    /// True when a callback stopped the run before its last epoch ended.
    pub stopped: bool,
}

impl FitReport {
    /// The epoch with the best test accuracy (the first of equals), if any epoch was tested.
    pub fn best_test_epoch(&self) -> Option<&EpochReport> {
        self.epochs
            .iter()
            .filter(|epoch| epoch.test.is_some())
            .reduce(|best, epoch| {
                let accuracy = |report: &EpochReport| report.test.as_ref().map(|t| t.accuracy);
                if accuracy(epoch).unwrap_or(f64::NAN) > accuracy(best).unwrap_or(f64::NAN) {
                    epoch
                } else {
                    best
                }
            })
    }
}

impl<'a> Trainer<'a> {
    /// Trains on `data`'s training split (batched and shuffled as `data` says), for one epoch,
    /// at the optimizer's own learning rate, with no batch limit and no test set.
    pub fn new(data: &'a MnistLike) -> Self {
        Trainer {
            data,
            epochs: 1,
            schedule: None,
            limit_batches: None,
            test: None,
        }
    }

    /// Passes over the training set.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Sets the optimizer's learning rate before each epoch from `schedule`.
    pub fn schedule(mut self, schedule: &'a dyn LearningRateSchedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// Ends each epoch after at most `limit` batches (`None`: every batch).
    pub fn limit_batches(mut self, limit: Option<usize>) -> Self {
        self.limit_batches = limit;
        self
    }

    /// Tests the model on `samples` after each epoch, measuring `loss` (the one it trains with),
    /// in batches of [`DEFAULT_TEST_BATCH_SIZE`].
    pub fn test_on(mut self, samples: &'a Samples, loss: Loss) -> Self {
        self.test = Some(TestSet {
            samples,
            batch_size: DEFAULT_TEST_BATCH_SIZE,
            loss,
        });
        self
    }

    /// The batch size of the test pass set by [`test_on`](Self::test_on).
    ///
    /// # Panics
    /// If `batch_size` is 0 or no test set was given (programmer errors).
    pub fn test_batch_size(mut self, batch_size: usize) -> Self {
        assert!(batch_size > 0, "a test batch size of 0");
        let test = self
            .test
            .as_mut()
            .expect("test_batch_size needs a test set: call test_on first");
        test.batch_size = batch_size;
        self
    }

    /// Trains `model` with `optimizer`, telling `callbacks` what happens; each step runs in place.
    ///
    /// # Errors
    /// [`TrainError::Diverged`] as soon as a step's loss is not finite (that step does not update
    /// the model), [`TrainError::Step`] when a step fails, and the test pass's errors.
    pub fn fit<M: Model + Send + ?Sized>(
        &self,
        model: &mut M,
        optimizer: &mut (dyn Optimizer + Send),
        callbacks: &mut dyn Callbacks,
    ) -> Result<FitReport, TrainError> {
        self.fit_with(model, optimizer, callbacks, &mut Direct)
    }

    /// As [`fit`](Self::fit), with each step run by `runner`.
    ///
    /// # Errors
    /// As [`fit`](Self::fit).
    pub fn fit_with<M: Model + Send + ?Sized>(
        &self,
        model: &mut M,
        optimizer: &mut (dyn Optimizer + Send),
        callbacks: &mut dyn Callbacks,
        runner: &mut dyn StepRunner,
    ) -> Result<FitReport, TrainError> {
        let mut report = FitReport::default();
        for epoch in 0..self.epochs {
            let learning_rate = match self.schedule {
                Some(schedule) => schedule.apply(epoch, &mut *optimizer),
                None => optimizer.learning_rate(),
            };
            let batches = self.data.train_epoch(epoch as u64);
            let steps = self
                .limit_batches
                .map_or(batches.len(), |limit| limit.min(batches.len()));
            callbacks.on_epoch_start(&EpochStart {
                epoch: epoch + 1,
                epochs: self.epochs,
                steps,
                learning_rate,
            });
            let start = Instant::now();
            let (train, steps_run, stopped_early) = self.train_epoch(
                model,
                optimizer,
                callbacks,
                runner,
                batches,
                (epoch, learning_rate, steps),
            )?;
            let seconds = start.elapsed().as_secs_f64();
            let test = match &self.test {
                Some(test) => {
                    let training = model.is_training();
                    model.set_training(false);
                    let tested = evaluate(&*model, test.samples, test.batch_size, test.loss);
                    model.set_training(training);
                    Some(tested?)
                }
                None => None,
            };
            let epoch_report = EpochReport {
                epoch: epoch + 1,
                epochs: self.epochs,
                learning_rate,
                train,
                test,
                steps: steps_run,
                planned_steps: steps,
                seconds,
                stopped_early,
            };
            let flow = callbacks.on_epoch_end(&epoch_report);
            report.epochs.push(epoch_report);
            if stopped_early || flow == Flow::Stop {
                report.stopped = epoch + 1 < self.epochs || stopped_early;
                break;
            }
        }
        Ok(report)
    }

    /// One pass over the epoch's batches; returns its tally, the steps that ran, and whether a
    /// callback stopped it.
    fn train_epoch<M: Model + Send + ?Sized>(
        &self,
        model: &mut M,
        optimizer: &mut (dyn Optimizer + Send),
        callbacks: &mut dyn Callbacks,
        runner: &mut dyn StepRunner,
        mut batches: Batches<'_>,
        (epoch, learning_rate, steps): (usize, f32, usize),
    ) -> Result<(Tally, usize, bool), TrainError> {
        let mut tally = Tally::default();
        let mut steps_run = 0;
        // The images of the coming batch, converted while the last step ran. A batch is a
        // (batch, pixels) matrix in column-major order, converted pixel by pixel
        // (`BatchImages::pixels_into`): the first layer's product `W · xᵀ` reads it as it is,
        // where it would copy a row-major batch into that layout first, in a phase of its own.
        let mut ahead: Option<Matrix> = None;
        for iteration in 1..=steps {
            let Some(batch) = batches.next_pending() else {
                break;
            };
            let following = batch.following().filter(|_| iteration < steps);
            let mut step = || {
                // The images go from the data set's bytes straight into the step's input, a
                // buffer of the pool of the thread that runs the step, which gets it back.
                let images = ahead.take().unwrap_or_else(|| {
                    let mut pixels = pool::take((batch.image_len(), batch.len()));
                    batch.images.pixels_into(0, contiguous(&mut pixels));
                    pixels.reversed_axes()
                });
                let train = || train_step_owned(&mut *model, &mut *optimizer, images, batch.labels);
                let Some(next) = following else {
                    return train();
                };
                // The next batch is converted a slab of pixels at a time by the kernels' idle
                // helpers while the step runs (on one thread, after it): on two threads, this
                // takes the conversion off the step's path.
                let mut pixels = pool::take((next.image_len(), next.len()));
                let pixels_per_task = (VALUES_PER_SIDE_TASK / next.len()).max(1);
                let outcome = team::alongside_chunks_mut(
                    contiguous(&mut pixels),
                    pixels_per_task * next.len(),
                    |task, rows| next.pixels_into(task * pixels_per_task, rows),
                    train,
                );
                ahead = Some(pixels.reversed_axes());
                outcome
            };
            let outcome = runner.run(&mut step).map_err(|source| TrainError::Step {
                epoch: epoch + 1,
                iteration,
                source,
            })?;
            if !outcome.loss.is_finite() {
                return Err(TrainError::Diverged {
                    epoch: epoch + 1,
                    iteration,
                    loss: outcome.loss,
                    learning_rate,
                });
            }
            tally.add_batch(outcome.loss, outcome.samples, outcome.correct);
            steps_run = iteration;
            let flow = callbacks.on_step(&StepReport {
                epoch: epoch + 1,
                iteration,
                steps,
                loss: outcome.loss,
                samples: outcome.samples,
                correct: outcome.correct,
                running: tally,
            });
            if flow == Flow::Stop {
                return Ok((tally, steps_run, true));
            }
        }
        Ok((tally, steps_run, false))
    }
}

/// About how many values one side task converts: a helper that runs one when the next phase of
/// the step opens delays it by at most that much work (one or two microseconds).
const VALUES_PER_SIDE_TASK: usize = 2048;

/// The elements of an array from `length_autograd::pool`, which is always contiguous.
fn contiguous(pixels: &mut Matrix) -> &mut [f32] {
    pixels.as_slice_mut().expect("pool arrays are contiguous")
}

#[cfg(test)]
mod tests {
    use length_autograd::LearningRate;
    use length_data::{DataSetName, MnistOptions};
    use length_layers::MlpConfig;
    use length_optim::{Constant, Sgd};
    use ndarray::ShapeBuilder;

    use super::*;
    use crate::{Silent, StepResult};

    /// 64 images of 4x4 pixels: class 0 bright on the left, class 1 bright on the right.
    fn halves(batch_size: usize) -> MnistLike {
        halves_with(MnistOptions {
            batch_size,
            ..MnistOptions::default()
        })
    }

    /// [`halves`] loaded with `options`.
    fn halves_with(options: MnistOptions) -> MnistLike {
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        for i in 0..64u8 {
            let class = i % 2;
            for _row in 0..4 {
                for column in 0..4 {
                    let bright = (column < 2) == (class == 0);
                    pixels.push(if bright { 200 + i / 2 } else { i / 4 });
                }
            }
            labels.push(class);
        }
        let samples = || Samples::new(pixels.clone(), labels.clone(), [4, 4]).unwrap();
        MnistLike::from_samples(
            DataSetName::Mnist,
            Some(samples()),
            Some(samples()),
            &options,
        )
        .unwrap()
    }

    /// Records what it is told; stops after `stop_after` steps of any epoch.
    #[derive(Default)]
    struct Recorder {
        starts: Vec<EpochStart>,
        steps: Vec<(usize, usize)>,
        ends: Vec<EpochReport>,
        stop_after: Option<usize>,
    }

    impl Callbacks for Recorder {
        fn on_epoch_start(&mut self, start: &EpochStart) {
            self.starts.push(*start);
        }

        fn on_step(&mut self, report: &StepReport) -> Flow {
            self.steps.push((report.epoch, report.iteration));
            match self.stop_after {
                Some(limit) if report.iteration >= limit => Flow::Stop,
                _ => Flow::Continue,
            }
        }

        fn on_epoch_end(&mut self, report: &EpochReport) -> Flow {
            self.ends.push(report.clone());
            Flow::Continue
        }
    }

    /// Counts the steps it runs.
    struct Counting(usize);

    impl StepRunner for Counting {
        fn run(&mut self, step: &mut (dyn FnMut() -> StepResult + Send)) -> StepResult {
            self.0 += 1;
            step()
        }
    }

    /// Records every step's loss.
    #[derive(Default)]
    struct Losses(Vec<f32>);

    impl Callbacks for Losses {
        fn on_step(&mut self, report: &StepReport) -> Flow {
            self.0.push(report.loss);
            Flow::Continue
        }
    }

    /// The trainer converts each batch while the step before it runs, on the kernels' idle
    /// threads: every step must still train on its own batch. The losses equal those of
    /// `train_step` on the batches `next_batch` serves, in column-major order as the trainer
    /// hands them to the model, bit for bit, on one thread and on two.
    #[test]
    fn each_step_trains_on_its_own_batch_on_any_number_of_threads() {
        let data = halves_with(MnistOptions {
            batch_size: 6,
            shuffle: true,
            seed: 3,
            keep_last_batch: true,
            ..MnistOptions::default()
        });
        let config = MlpConfig::new(vec![16, 8, 2]).seed(1);
        let mut model = config.clone().build().unwrap();
        let mut optimizer = Sgd::with_learning_rate(0.05);
        let mut expected = Vec::new();
        for epoch in 0..2 {
            let mut batches = data.train_epoch(epoch);
            while let Some(batch) = batches.next_batch() {
                let images = batch.images_2d();
                let mut column_major = ndarray::Array2::zeros(images.raw_dim().f());
                column_major.assign(&images);
                let outcome = length_layers::train_step_owned(
                    &mut model,
                    &mut optimizer,
                    column_major,
                    batch.labels,
                )
                .unwrap();
                expected.push(outcome.loss);
            }
        }
        assert_eq!(expected.len(), 2 * 11);
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut model = config.clone().build().unwrap();
            let mut optimizer = Sgd::with_learning_rate(0.05);
            let mut losses = Losses::default();
            pool.install(|| {
                Trainer::new(&data)
                    .epochs(2)
                    .fit(&mut model, &mut optimizer, &mut losses)
                    .unwrap()
            });
            assert_eq!(losses.0, expected, "{threads} threads");
        }
    }

    #[test]
    fn callbacks_see_every_step_and_epoch_and_the_schedule_sets_the_rate() {
        let data = halves(8);
        let mut model = MlpConfig::new(vec![16, 8, 2]).seed(1).build().unwrap();
        let mut optimizer = Sgd::with_learning_rate(1.0);
        let schedule = Constant::new(0.05);
        let mut recorder = Recorder::default();
        let mut runner = Counting(0);
        let report = Trainer::new(&data)
            .epochs(2)
            .schedule(&schedule)
            .limit_batches(Some(5))
            .test_on(data.test_samples().unwrap(), Loss::MeanSquaredError)
            .test_batch_size(7)
            .fit_with(&mut model, &mut optimizer, &mut recorder, &mut runner)
            .unwrap();
        assert_eq!(runner.0, 10);
        assert_eq!(recorder.steps.len(), 10);
        assert_eq!(recorder.steps[5], (2, 1));
        assert_eq!(recorder.starts.len(), 2);
        assert_eq!(recorder.starts[0].steps, 5);
        assert_eq!(recorder.starts[0].learning_rate, 0.05);
        assert_eq!(optimizer.learning_rate(), 0.05);
        assert_eq!(recorder.ends, report.epochs);
        assert!(!report.stopped);
        let last = &report.epochs[1];
        assert_eq!((last.steps, last.planned_steps), (5, 5));
        assert_eq!(last.train.samples, 40);
        assert_eq!(last.test.as_ref().unwrap().samples, 64);
        assert!(
            model.is_training(),
            "the test pass left the model in evaluation mode"
        );
    }

    #[test]
    fn a_stop_after_a_step_ends_the_epoch_tests_it_and_ends_the_run() {
        let data = halves(8);
        let mut model = MlpConfig::new(vec![16, 8, 2]).seed(1).build().unwrap();
        let mut optimizer = Sgd::with_learning_rate(0.05);
        let mut recorder = Recorder {
            stop_after: Some(3),
            ..Recorder::default()
        };
        let report = Trainer::new(&data)
            .epochs(4)
            .test_on(data.test_samples().unwrap(), Loss::MeanSquaredError)
            .fit(&mut model, &mut optimizer, &mut recorder)
            .unwrap();
        assert!(report.stopped);
        assert_eq!(report.epochs.len(), 1);
        let epoch = &report.epochs[0];
        assert!(epoch.stopped_early);
        assert_eq!((epoch.steps, epoch.planned_steps), (3, 8));
        assert_eq!(epoch.train.samples, 24);
        assert!(epoch.test.is_some(), "a stopped epoch is still tested");
    }

    #[test]
    fn a_loss_that_is_not_finite_stops_with_where_it_happened() {
        let data = halves(8);
        let mut model = MlpConfig::new(vec![16, 8, 2]).seed(1).build().unwrap();
        let mut optimizer = Sgd::with_learning_rate(1e30);
        let error = Trainer::new(&data)
            .epochs(3)
            .fit(&mut model, &mut optimizer, &mut Silent)
            .unwrap_err();
        let TrainError::Diverged {
            epoch,
            iteration,
            loss,
            learning_rate,
        } = error
        else {
            panic!("expected divergence, got {error}");
        };
        assert_eq!((epoch, learning_rate), (1, 1e30));
        assert!(
            iteration > 1,
            "the first step's loss is computed before any update"
        );
        assert!(!loss.is_finite());
    }

    #[test]
    fn any_model_trains_through_a_trait_object() {
        let data = halves(8);
        let mut model: Box<dyn Model + Send> =
            Box::new(MlpConfig::new(vec![16, 8, 2]).seed(1).build().unwrap());
        let mut optimizer = Sgd::with_learning_rate(0.05);
        let report = Trainer::new(&data)
            .epochs(20)
            .test_on(data.test_samples().unwrap(), Loss::MeanSquaredError)
            .fit(&mut *model, &mut optimizer, &mut Silent)
            .unwrap();
        let best = report.best_test_epoch().unwrap();
        assert_eq!(best.test.as_ref().unwrap().accuracy, 1.0);
    }
}
