//! Choosing, while training runs, between all cores and one.
//!
//! More threads help only while each has a core of its own. When another program keeps a core
//! busy, the thread of ours that shares it runs only part of the time, and every parallel kernel
//! waits at its end for its slowest thread: two threads can then be slower than one. Which is
//! faster can change at any moment, so the training loop measures it as it goes.
//!
//! The kernels give the same bits for any number of threads, so switching between a step on all
//! cores and a step on one changes no number of the run, only its speed. Without `--threads`, the
//! loop hands each step to a [`ThreadGovernor`], which times windows of [`WINDOW`] steps:
//!
//! ```text
//!   exploit: run windows on the current choice (all cores at first), each summarised by the
//!            mean time of its steps without the slowest one;
//!            after `interval` windows, or as soon as two windows in a row are 50 % slower than
//!            the best window since the last decision (the load changed): probe, against the
//!            second of them, measured wholly under the new load
//!   probe:   run the other choice for WARMUP_STEPS steps without timing them (its threads
//!            are still finding their cores and caches), then time one window of it
//!            (or only its first 4 steps, if each is 50 % slower than the current choice's
//!            typical step: a clear loss);
//!            if it is at least 15 % faster: switch to it, interval back to 8 windows
//!            if it is more than 30 % slower: keep the current choice, interval 64 windows
//!                (256 on all cores: a new load is caught by the 50 % slowdown)
//!            else: keep the current choice, interval doubles (at most 64 windows)
//!            either way, back on the current choice, its first WARMUP_STEPS steps go untimed
//! ```
//!
//! On a quiet machine one thread is probed in the second window and then every 256 windows
//! (8 slower steps in every 4,100): a load that arrives later slows all cores by far more than
//! 50 % before one thread would be faster, which starts a probe after two windows. With a core
//! kept busy, the loop moves to one thread as soon as it notices and probes all cores again every
//! 64 windows, so a freed core is used again within about 1,000 steps. The policy is a plain
//! state machine ([`Policy`]), so it is tested with made-up times.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use length_train::{StepResult, StepRunner};

/// Steps per measured window.
pub const WINDOW: usize = 16;

/// Steps run untimed after each change between all cores and one, before a window starts: the
/// first steps after a change can pay for it (a helper waking up, the other core's share of the
/// weights still in its cache, threads the scheduler has yet to move off a busy core). On a
/// quiet Zen 4 the first step of a probe took 2.0-2.3 ms against a typical 2.0 ms, and the first
/// back on all cores 1.15-1.25 ms against 1.1 ms; on a cold pool of one thread of its own, a
/// probe's first step took 2.9-4.1 ms.
const WARMUP_STEPS: usize = 4;

/// Windows between probes right after a switch.
const MIN_INTERVAL: usize = 8;

/// The most windows between probes, however often the probes lose.
const MAX_INTERVAL: usize = 64;

/// Windows between probes of one thread after one lost clearly to all cores. Probing costs 16
/// steps at one thread's speed each time (with 64 windows, 1-2 % of a two-thread epoch on a quiet
/// Intel Xeon, against `--threads 2`), and a load arriving later triggers a probe by itself.
const ALL_CORES_INTERVAL: usize = 256;

/// A probe wins when its window is faster than the current choice's by this factor. Windows on a
/// shared machine vary by some 10 % without any change of load; a core kept busy slows two
/// threads by half or more.
const SWITCH_FACTOR: f64 = 0.85;

/// A probe this much slower than the current choice loses clearly: the next probe waits the
/// longest interval.
const CLEAR_LOSS_FACTOR: f64 = 1.3;

/// Two windows in a row this much slower than the best since the last decision trigger a probe.
const SLOWDOWN_FACTOR: f64 = 1.5;

/// A probe whose first [`EARLY_LOSS_STEPS`] timed steps are each this much slower than the
/// current choice's typical step has lost clearly already and ends there. On a quiet two-core
/// machine one thread's steps take 1.8 times those of two, so the probe at the start of a run
/// costs 4 slower steps after its warm-up instead of 16; with a core kept busy, some steps on all
/// cores are fast, so a probe of all cores is not cut short.
const EARLY_LOSS_FACTOR: f64 = 1.5;

/// The timed steps after which a probe may end early ([`EARLY_LOSS_FACTOR`]).
const EARLY_LOSS_STEPS: usize = 4;

/// Where a step runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// On the thread pool the training loop runs in: all cores, by default.
    AllCores,
    /// On a pool of one thread.
    OneThread,
}

impl Choice {
    fn other(self) -> Choice {
        match self {
            Choice::AllCores => Choice::OneThread,
            Choice::OneThread => Choice::AllCores,
        }
    }
}

/// The decision rule, fed with step times: which choice runs the next step.
#[derive(Debug)]
pub struct Policy {
    /// The choice the loop keeps between probes.
    current: Choice,
    /// Whether the window being filled is a probe of the other choice.
    probing: bool,
    /// Steps still to run untimed after a change of choice ([`WARMUP_STEPS`]).
    warmup_left: usize,
    /// Step times of the window being filled.
    window: Vec<f64>,
    /// The typical step time of the current choice's last complete window ([`typical_step`]).
    last_time: f64,
    /// The best typical step time of the current choice since the last decision.
    best_time: f64,
    /// Windows of the current choice left before the next probe.
    windows_left: usize,
    /// Windows between probes.
    interval: usize,
    /// Whether the last window of the current choice was 50 % slower than the best.
    slowed: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            current: Choice::AllCores,
            probing: false,
            warmup_left: 0,
            window: Vec::with_capacity(WINDOW),
            last_time: f64::INFINITY,
            best_time: f64::INFINITY,
            // The first window measures all cores, the second probes one thread.
            windows_left: 1,
            interval: MIN_INTERVAL,
            slowed: false,
        }
    }
}

impl Policy {
    /// Where the next step runs.
    pub fn next(&self) -> Choice {
        if self.probing {
            self.current.other()
        } else {
            self.current
        }
    }

    /// The choice the loop keeps between probes.
    #[cfg(test)]
    fn current(&self) -> Choice {
        self.current
    }

    /// Records how long the step that [`next`](Policy::next) chose took.
    pub fn record(&mut self, seconds: f64) {
        if self.warmup_left > 0 {
            self.warmup_left -= 1;
            return;
        }
        self.window.push(seconds);
        if self.window.len() < WINDOW && !self.probe_lost_early() {
            return;
        }
        let time = typical_step(&mut self.window);
        self.window.clear();
        if self.probing {
            self.finish_probe(time);
        } else {
            self.finish_window(time);
        }
    }

    /// Whether the probe being timed has lost clearly after its first [`EARLY_LOSS_STEPS`] steps.
    fn probe_lost_early(&self) -> bool {
        let clearly_slower = |&step: &f64| step > EARLY_LOSS_FACTOR * self.last_time;
        self.probing
            && self.window.len() == EARLY_LOSS_STEPS
            && self.window.iter().all(clearly_slower)
    }

    /// A window of the current choice is complete.
    fn finish_window(&mut self, time: f64) {
        self.last_time = time;
        self.best_time = self.best_time.min(time);
        self.windows_left = self.windows_left.saturating_sub(1);
        // A load that arrives in the middle of a window leaves it half slow; the probe is
        // compared with the window after it.
        let slowed = time > SLOWDOWN_FACTOR * self.best_time;
        let slowed_twice = slowed && self.slowed;
        self.slowed = slowed;
        if self.windows_left == 0 || slowed_twice {
            self.probing = true;
            self.slowed = false;
            self.warmup_left = WARMUP_STEPS;
        }
    }

    /// The probe window is complete: switch if the other choice was clearly faster.
    fn finish_probe(&mut self, time: f64) {
        let choice_probed = self.next();
        self.probing = false;
        if time < SWITCH_FACTOR * self.last_time {
            self.current = self.current.other();
            self.interval = MIN_INTERVAL;
            self.last_time = time;
            self.best_time = time;
        } else if time > CLEAR_LOSS_FACTOR * self.last_time {
            // Clearly slower (one thread on a quiet machine, all cores beside a busy program):
            // no need to look again soon.
            self.interval = match self.current {
                Choice::AllCores => ALL_CORES_INTERVAL,
                Choice::OneThread => MAX_INTERVAL,
            };
            self.best_time = self.last_time;
        } else {
            self.interval = (2 * self.interval).min(MAX_INTERVAL);
            self.best_time = self.last_time;
        }
        if self.next() != choice_probed {
            // Back from the probe to the current choice, whose threads have been idle.
            self.warmup_left = WARMUP_STEPS;
        }
        self.windows_left = self.interval;
    }
}

/// What a window says one step costs: the mean of its step times without the slowest one.
///
/// A mean, because an epoch costs the sum of its steps: with another program keeping a core busy,
/// many two-thread steps wait for a worker the scheduler has set aside, and the median of a window
/// did not see them. With a shell loop on one of two cores, judged by medians the loop kept all
/// cores (16-48 of 937 steps on one thread) at 2.58-2.66 s per epoch against 2.32-2.39 s with
/// `--threads 1`; judged by means it moves most steps to one thread, 2.39-2.50 s (alternating
/// 2-epoch runs, 2026-12-03; on a quiet machine both give the same epochs). Without the slowest
/// step, because a single outlier (a page fault, a timer) says nothing about the choice.
fn typical_step(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let kept = &values[..values.len().saturating_sub(1).max(1)];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// Runs training steps on all cores or on one, as [`Policy`] decides, and counts them. It is the
/// [`StepRunner`] `length train` hands to the training library. A step on one thread runs on the
/// training loop's own thread, its kernels' phases without helpers ([`length_tensor::team::alone`]).
#[derive(Default)]
pub struct ThreadGovernor {
    policy: Policy,
    single_thread_steps: SingleThreadSteps,
}

/// A counter of the steps a [`ThreadGovernor`] ran on one thread, readable while the governor
/// is busy training.
#[derive(Clone, Debug, Default)]
pub struct SingleThreadSteps(Arc<AtomicUsize>);

impl SingleThreadSteps {
    /// How many steps ran on one thread since the last call.
    pub fn take(&self) -> usize {
        self.0.swap(0, Ordering::Relaxed)
    }

    fn add_one(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl ThreadGovernor {
    /// Runs one step where the policy says, timing it.
    pub fn run_step<R>(&mut self, step: impl FnOnce() -> R) -> R {
        let choice = self.policy.next();
        let start = Instant::now();
        let result = match choice {
            Choice::AllCores => step(),
            Choice::OneThread => {
                self.single_thread_steps.add_one();
                length_tensor::team::alone(step)
            }
        };
        self.policy.record(start.elapsed().as_secs_f64());
        result
    }

    /// The counter of steps run on one thread (shared: it stays readable while training runs).
    pub fn single_thread_steps(&self) -> SingleThreadSteps {
        self.single_thread_steps.clone()
    }
}

impl StepRunner for ThreadGovernor {
    fn run(&mut self, step: &mut (dyn FnMut() -> StepResult + Send)) -> StepResult {
        self.run_step(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `windows` windows of steps, each step taking `all` or `one` seconds depending on
    /// where the policy runs it; returns the choices made, one per step.
    fn run(policy: &mut Policy, windows: usize, all: f64, one: f64) -> Vec<Choice> {
        let mut choices = Vec::new();
        for _ in 0..windows * WINDOW {
            let choice = policy.next();
            choices.push(choice);
            policy.record(match choice {
                Choice::AllCores => all,
                Choice::OneThread => one,
            });
        }
        choices
    }

    fn share_on_one_thread(choices: &[Choice]) -> f64 {
        let one = choices.iter().filter(|&&c| c == Choice::OneThread).count();
        one as f64 / choices.len() as f64
    }

    #[test]
    fn a_quiet_machine_stays_on_all_cores_and_probes_rarely() {
        let mut policy = Policy::default();
        let choices = run(&mut policy, 200, 1.0, 1.7);
        assert_eq!(policy.current(), Choice::AllCores);
        // The second window probes one thread, which loses clearly within its first steps: the
        // next probes come every ALL_CORES_INTERVAL windows.
        let probe_steps = WARMUP_STEPS + EARLY_LOSS_STEPS;
        assert_eq!(
            &choices[WINDOW..WINDOW + probe_steps + 1],
            &[
                [Choice::OneThread; WARMUP_STEPS + EARLY_LOSS_STEPS].as_slice(),
                &[Choice::AllCores]
            ]
            .concat()
        );
        // From then on: one probe (its warm-up and first steps) per ALL_CORES_INTERVAL windows.
        let windows = 10 * ALL_CORES_INTERVAL + 1;
        let choices = run(&mut policy, windows, 1.0, 1.7);
        let probes = share_on_one_thread(&choices) * choices.len() as f64 / probe_steps as f64;
        assert!(probes <= 10.0, "{probes} probes");
        assert_eq!(policy.current(), Choice::AllCores);
    }

    #[test]
    fn a_probe_that_is_close_runs_its_whole_window() {
        // One thread is 40 % slower: not a clear loss after four steps, but after the window.
        let mut policy = Policy::default();
        let choices = run(&mut policy, 3, 1.0, 1.4);
        let probe = WINDOW..2 * WINDOW + WARMUP_STEPS;
        assert_eq!(&choices[probe], &[Choice::OneThread; WINDOW + WARMUP_STEPS]);
        assert_eq!(policy.interval, ALL_CORES_INTERVAL);
        // One slow-looking step among the first four does not end a probe either.
        let mut policy = Policy::default();
        run(&mut policy, 1, 1.0, 1.0);
        let mut one_thread_steps = 0;
        while policy.next() == Choice::OneThread {
            one_thread_steps += 1;
            let first_timed = one_thread_steps == WARMUP_STEPS + 1;
            policy.record(if first_timed { 1.0 } else { 2.0 });
        }
        assert_eq!(one_thread_steps, WARMUP_STEPS + WINDOW);
    }

    #[test]
    fn a_busy_core_moves_the_steps_to_one_thread() {
        let mut policy = Policy::default();
        let choices = run(&mut policy, 1000, 2.5, 1.7);
        assert_eq!(policy.current(), Choice::OneThread);
        // From the third window on, all cores run only in probes.
        // A probe of all cores every 64 windows: its warm-up and its window, 20 steps in 1,048.
        let share = share_on_one_thread(&choices);
        assert!(share > 0.975, "{share}");
    }

    #[test]
    fn when_the_load_comes_and_goes_the_choice_follows() {
        let mut policy = Policy::default();
        run(&mut policy, 100, 1.0, 1.7);
        assert_eq!(policy.current(), Choice::AllCores);
        // Another program takes a core: the window it arrives in and the next are much slower,
        // so the policy probes and moves.
        run(&mut policy, 3, 2.5, 1.7);
        assert_eq!(policy.current(), Choice::OneThread);
        // It leaves: the next scheduled probe (within MIN_INTERVAL windows) moves back.
        run(&mut policy, MIN_INTERVAL + 2, 1.0, 1.7);
        assert_eq!(policy.current(), Choice::AllCores);
    }

    #[test]
    fn a_probe_s_first_steps_do_not_count() {
        // A core is busy: one thread takes 1.7 a step, all cores 2.5, but the first steps after
        // each change to one thread take 20 (its thread starts on the busy core), also after
        // each probe of all cores.
        let mut policy = Policy::default();
        let mut previous = Choice::AllCores;
        let mut since_change = 0;
        for _ in 0..100 * WINDOW {
            let choice = policy.next();
            since_change = if choice == previous {
                since_change + 1
            } else {
                0
            };
            previous = choice;
            policy.record(match choice {
                Choice::OneThread if since_change < WARMUP_STEPS => 20.0,
                Choice::OneThread => 1.7,
                Choice::AllCores => 2.5,
            });
        }
        assert_eq!(policy.current(), Choice::OneThread);
    }

    #[test]
    fn a_load_arriving_mid_window_is_judged_by_the_window_after() {
        let mut policy = Policy::default();
        run(&mut policy, 100, 1.0, 1.7);
        // Up to the middle of a window, then another program takes a core: the window in
        // progress is half slow (1.7 a step without its slowest), no slower than one thread;
        // the next one, wholly under the load, is.
        while policy.probing || policy.warmup_left > 0 || policy.window.len() != WINDOW / 2 {
            let choice = policy.next();
            policy.record(if choice == Choice::AllCores { 1.0 } else { 1.7 });
        }
        run(&mut policy, 4, 2.5, 1.7);
        assert_eq!(policy.current(), Choice::OneThread);
    }

    #[test]
    fn a_small_difference_does_not_switch() {
        let mut policy = Policy::default();
        run(&mut policy, 200, 1.0, 0.9);
        assert_eq!(policy.current(), Choice::AllCores);
    }

    #[test]
    fn single_outliers_do_not_count() {
        // One step in every window is ten times slower on all cores (a page fault, a timer): the
        // window's typical step leaves it out.
        let mut policy = Policy::default();
        for step in 0..100 * WINDOW {
            let choice = policy.next();
            let seconds = match choice {
                Choice::AllCores if step % WINDOW == 3 => 10.0,
                Choice::AllCores => 1.0,
                Choice::OneThread => 1.7,
            };
            policy.record(seconds);
        }
        assert_eq!(policy.current(), Choice::AllCores);
    }

    #[test]
    fn frequent_stalls_count() {
        // A third of the steps on all cores wait for a descheduled worker: most steps are fast,
        // but all cores cost more per step than one thread (1.8 against 1.5 on average).
        let mut policy = Policy::default();
        for step in 0..100 * WINDOW {
            let choice = policy.next();
            let seconds = match choice {
                Choice::AllCores if step % 3 == 0 => 3.4,
                Choice::AllCores => 1.0,
                Choice::OneThread => 1.5,
            };
            policy.record(seconds);
        }
        assert_eq!(policy.current(), Choice::OneThread);
    }

    #[test]
    fn a_governor_runs_steps_and_counts_those_on_one_thread() -> anyhow::Result<()> {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build()?;
        pool.install(|| {
            let mut governor = ThreadGovernor::default();
            let mut threads_seen = Vec::new();
            for _ in 0..3 * WINDOW {
                threads_seen.push(governor.run_step(length_tensor::team::threads));
            }
            // The second window is the probe of one thread, after its warm-up (its end depends
            // on how long these steps happen to take).
            assert_eq!(&threads_seen[..WINDOW], &[2; WINDOW]);
            let probe = WINDOW..WINDOW + WARMUP_STEPS + EARLY_LOSS_STEPS;
            assert_eq!(&threads_seen[probe], &[1; WARMUP_STEPS + EARLY_LOSS_STEPS]);
            let counter = governor.single_thread_steps();
            assert!(counter.take() >= WARMUP_STEPS + EARLY_LOSS_STEPS);
            assert_eq!(counter.take(), 0);
            Ok(())
        })
    }
}
