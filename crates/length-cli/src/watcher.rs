//! `length train`'s [`Callbacks`]: what a person watching a run sees and keeps.
//!
//! Per step, the progress bar (or a log line every `--train-verbosity` steps) and the check for
//! Ctrl-C; per epoch, the learning rate when it changes, the epoch line, with `--verbose` the
//! speed and the thread governor's count, and a row of the metrics file. The rows and speeds are
//! kept for the summary at the end of the run.

use length_train::{Callbacks, EpochReport, EpochStart, Flow, StepReport};

use crate::governor::SingleThreadSteps;
use crate::interrupt::{self, StopRequest};
use crate::metrics::{EpochMetrics, MetricsWriter};
use crate::progress::{Display, EpochProgress};
use crate::report::{epoch_line, speed_line};
use crate::throughput::Throughput;

/// `length train`'s callbacks: progress, epoch lines, the metrics file and Ctrl-C.
pub(crate) struct Watcher<'a> {
    pub(crate) display: Display,
    /// The current epoch's bar or log lines.
    pub(crate) progress: Option<EpochProgress>,
    pub(crate) stop: &'a StopRequest,
    pub(crate) metrics: Option<MetricsWriter>,
    /// The first failure to write the metrics file: training goes on, the run fails at the end.
    pub(crate) metrics_error: Option<anyhow::Error>,
    /// The governor's count of steps on one thread, when it runs the steps.
    pub(crate) single_thread_steps: Option<SingleThreadSteps>,
    /// The layer sizes, when the model is the flags' MLP (for its GFLOP/s).
    pub(crate) sizes: Option<Vec<usize>>,
    /// The previous epoch's learning rate (the initial one before the first).
    pub(crate) learning_rate: f32,
    pub(crate) history: Vec<EpochMetrics>,
    pub(crate) speeds: Vec<Throughput>,
}

impl Watcher<'_> {
    /// Removes the current epoch's bar, if any.
    pub(crate) fn end_epoch(&mut self) {
        if let Some(progress) = self.progress.take() {
            progress.finish();
        }
    }

    /// Shows what Ctrl-C does, once, the first time it is seen. The bar goes first: the epoch
    /// ends after this step anyway, and a bar redrawn under the notice could overwrite it.
    fn notice_stop(&mut self) {
        if self.stop.take_notice() {
            self.end_epoch();
            eprintln!("{}", interrupt::NOTICE);
        }
    }
}

impl Callbacks for Watcher<'_> {
    fn on_epoch_start(&mut self, start: &EpochStart) {
        if start.learning_rate != self.learning_rate {
            println!(
                "epoch {}/{}: learning rate {}",
                start.epoch, start.epochs, start.learning_rate
            );
            self.learning_rate = start.learning_rate;
        }
        self.progress = Some(EpochProgress::start(
            start.epoch,
            start.epochs,
            start.steps,
            self.display,
        ));
    }

    fn on_step(&mut self, report: &StepReport) -> Flow {
        if let Some(progress) = &self.progress {
            progress.update(report.iteration, &report.running);
        }
        if self.stop.is_raised() {
            self.notice_stop();
            return Flow::Stop;
        }
        Flow::Continue
    }

    fn on_epoch_end(&mut self, report: &EpochReport) -> Flow {
        self.notice_stop();
        self.end_epoch();
        let speed = match &self.sizes {
            Some(sizes) => Throughput::new(report.seconds, report.train.samples, sizes),
            None => Throughput {
                seconds: report.seconds,
                samples: report.train.samples,
                flops: f64::NAN,
            },
        };
        self.speeds.push(speed);
        let test = report.test.as_ref();
        let row = EpochMetrics {
            epoch: report.epoch,
            learning_rate: report.learning_rate,
            train_loss: report.train.mean_loss(),
            train_accuracy: report.train.accuracy(),
            test_loss: test.map_or(f64::NAN, |test| test.loss),
            test_accuracy: test.map_or(f64::NAN, |test| test.accuracy),
            seconds: report.seconds,
            samples_per_second: speed.samples_per_second(),
            gflop_per_second: speed.gflop_per_second(),
        };
        println!("{}", epoch_line(&row, report.epochs));
        if report.stopped_early {
            println!(
                "          (interrupted by Ctrl-C after {} of {} steps)",
                report.steps, report.planned_steps
            );
        }
        if self.display.verbose {
            println!("{}", speed_line(&row));
            let single = self.single_thread_steps.as_ref().map_or(0, |s| s.take());
            if single > 0 {
                println!(
                    "          {single} of {} steps ran on one thread (a core was busy, or a probe)",
                    report.steps
                );
            }
        } else if let Some(counter) = &self.single_thread_steps {
            counter.take();
        }
        if self.metrics_error.is_none()
            && let Some(metrics) = &mut self.metrics
            && let Err(error) = metrics.write(&row)
        {
            self.metrics_error = Some(error);
        }
        self.history.push(row);
        Flow::Continue
    }
}
