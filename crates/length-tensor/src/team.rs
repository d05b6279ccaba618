//! The kernels' threads: a team whose helpers wait for the next parallel phase by spinning.
//!
//! A training step of the course's MLP is a dozen parallel phases (packing an operand, the
//! tiles of a product, the bias gradients' sums), each 2-240 µs long on two cores, with short
//! stretches of serial work between them. A thread pool whose idle workers go to sleep pays a
//! wake-up at the start of almost every phase (a futex call, an inter-processor interrupt, the
//! scheduler), and the calling thread pays it again when it sleeps waiting for the last stolen
//! task. The team avoids both:
//!
//! - **Helpers spin while work is near.** After a phase a helper polls for the next one for up to
//!   [`SPIN`] (with the CPU's pause hint), which covers the gaps inside a step and between
//!   steps; only a longer gap (an evaluation, the end of training) puts it to sleep, and the next
//!   phase then wakes it through a condition variable.
//! - **Each thread has its share, and the same one every step.** The caller publishes the phase
//!   (a closure over task indices and the number of tasks) cut into one contiguous run of tasks
//!   per thread (`Shares`), then works through its own run; so does each helper. A product of
//!   the same shapes is cut the same way every step, so each core computes the same rows of a
//!   weight matrix step after step and finds them in its own cache. A thread done early takes
//!   what is left of the others' runs from their backs, so a helper descheduled by another
//!   program delays at most the task it holds.
//! - **The caller waits by spinning** for the helpers' last tasks, which are short.
//! - **Idle helpers take side work.** [`alongside`] opens tasks that do not depend on the
//!   caller's work (the trainer converts the next batch so) to helpers that have no phase to
//!   work on.
//!
//! How many threads a phase uses is rayon's: [`threads`] is `rayon::current_num_threads()` of
//! the pool the caller runs in, so `--threads`, `RAYON_NUM_THREADS` and a pool of one thread
//! decide it as before. A phase started from inside a task, inside [`alone`] (where the `length`
//! command's thread governor runs a step when one thread is faster), or while another thread's
//! phase holds the team, runs on the calling thread alone.
//!
//! Which thread runs a task never changes a result: every task writes its own part of the output
//! with the same arithmetic, so the kernels stay bit-identical for any number of threads.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError};
use std::time::{Duration, Instant};

mod side;

use side::SideWork;

/// How long an idle helper polls for the next phase before it goes to sleep: longer than the
/// serial stretches of a training step (the loss, the graph's bookkeeping, the next batch), short
/// enough that a program which has stopped computing gives its cores back at once.
pub const SPIN: Duration = Duration::from_micros(500);

/// The number of threads a parallel phase started here would use: 1 inside a task, inside
/// [`alone`] or in a pool of one thread, else the size of the rayon pool the caller runs in.
pub fn threads() -> usize {
    if ALONE.with(Cell::get) {
        1
    } else {
        rayon::current_num_threads()
    }
}

/// Whether a pass over `elements` elements is split between threads: at least `threshold` of
/// them, and more than one thread to split them over ([`threads`]). The passes that fall back on
/// rayon's own parallel iterators (strided arrays, row-wise reductions) ask it too, so that inside
/// a task or [`alone`] they stay on the calling thread as the team's phases do.
pub(crate) fn split_pays(elements: usize, threshold: usize) -> bool {
    elements >= threshold && threads() > 1
}

/// Runs `work` on the calling thread with every parallel pass it starts on this thread alone:
/// inside, [`threads`] is 1, [`for_each`] runs its tasks in turn, [`alongside`] runs its side
/// tasks after `main`, and the crate's passes that use rayon's iterators run serially. The
/// results are the same bits as on the whole team.
///
/// The `length` command's thread governor runs a training step so when one thread is faster (a
/// core is busy): on the thread that holds the step's buffers and has its caches warm, where a
/// pool of one thread of its own would start each switch on a cold thread.
///
/// ```
/// use length_tensor::team;
///
/// let threads_inside = team::alone(team::threads);
/// assert_eq!((threads_inside, team::threads()), (1, rayon::current_num_threads()));
/// ```
pub fn alone<R>(work: impl FnOnce() -> R) -> R {
    let outer = ALONE.with(|alone| alone.replace(true));
    let _restore = RestoreAlone(outer);
    work()
}

/// Runs `task(i)` for every `i` in `0..tasks`, on up to [`threads`] threads (the caller and
/// helpers), and returns when all have finished. A panic in a task is raised again here, after
/// every other thread has let go of `task`.
pub fn for_each(tasks: usize, task: impl Fn(usize) + Sync) {
    let threads = threads().min(tasks);
    if threads <= 1 {
        (0..tasks).for_each(task);
        return;
    }
    let team = Team::get();
    // One phase at a time: a caller that finds the team busy (another thread's phase) works
    // alone, which gives the same results.
    let Some(_turn) = try_turn(&team.turn) else {
        alone(|| (0..tasks).for_each(task));
        return;
    };
    team.ensure_helpers(threads - 1);
    team.run(tasks, threads - 1, &task);
}

/// The turn guarded by `turn` if no other thread holds it. A turn whose holder panicked (a task's
/// panic passes through the caller's phase) is free again: the team's state is reset at the
/// start of every phase, so the panic leaves nothing behind.
fn try_turn(turn: &Mutex<()>) -> Option<MutexGuard<'_, ()>> {
    match turn.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// [`for_each`] over the `chunk`-long pieces of `data` (the last may be shorter):
/// `task(index, piece)`.
pub fn for_each_chunk_mut<T: Send>(
    data: &mut [T],
    chunk: usize,
    task: impl Fn(usize, &mut [T]) + Sync,
) {
    assert!(chunk > 0, "for_each_chunk_mut: chunk length 0");
    let len = data.len();
    let base = SendPointer(data.as_mut_ptr());
    for_each(len.div_ceil(chunk), |index| {
        let start = index * chunk;
        let end = (start + chunk).min(len);
        // SAFETY: the pieces `start..end` of different indices are disjoint and inside `data`,
        // which is borrowed mutably for the whole call.
        let piece = unsafe { std::slice::from_raw_parts_mut(base.get().add(start), end - start) };
        task(index, piece);
    });
}

/// Runs `main` on the calling thread and `side(i)` for every `i` in `0..tasks`, and returns
/// `main`'s result once all have run.
///
/// The side tasks run on the team's helpers while they have no phase of `main`'s to work on (the
/// serial stretches of a training step), one task at a time, so that a phase waits for at most
/// one side task; the calling thread runs the tasks left when `main` is done. On one thread, or
/// while another thread's side work holds the team, `main` runs first and then every side task.
/// Side tasks must not depend on `main`, nor `main` on them. A panic in `main` or in a side task
/// is raised again here, after no helper runs a side task any more.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use length_tensor::team;
///
/// let done = AtomicUsize::new(0);
/// let answer = team::alongside(8, |_| { done.fetch_add(1, Ordering::Relaxed); }, || 6 * 7);
/// assert_eq!((answer, done.load(Ordering::Relaxed)), (42, 8));
/// ```
pub fn alongside<R>(tasks: usize, side: impl Fn(usize) + Sync, main: impl FnOnce() -> R) -> R {
    let threads = threads();
    let job = if threads > 1 && tasks > 0 {
        let team = Team::get();
        team.ensure_helpers(threads - 1);
        team.side.open(tasks, &side)
    } else {
        None
    };
    let Some(job) = job else {
        let result = main();
        (0..tasks).for_each(&side);
        return result;
    };
    let result = main();
    job.finish();
    result
}

/// [`alongside`] over the `chunk`-long pieces of `data` (the last may be shorter): `side(index,
/// piece)` for every piece, while `main` runs.
///
/// # Panics
/// If `chunk` is 0, or as [`alongside`].
pub fn alongside_chunks_mut<T: Send, R>(
    data: &mut [T],
    chunk: usize,
    side: impl Fn(usize, &mut [T]) + Sync,
    main: impl FnOnce() -> R,
) -> R {
    assert!(chunk > 0, "alongside_chunks_mut: chunk length 0");
    let len = data.len();
    let base = SendPointer(data.as_mut_ptr());
    let piece = |index: usize| {
        let start = index * chunk;
        let end = (start + chunk).min(len);
        // SAFETY: the pieces `start..end` of different indices are disjoint and inside `data`,
        // which is borrowed mutably for the whole call, and each index runs once.
        let piece = unsafe { std::slice::from_raw_parts_mut(base.get().add(start), end - start) };
        side(index, piece);
    };
    alongside(len.div_ceil(chunk), piece, main)
}

/// A raw pointer that tasks on other threads may use (for disjoint pieces only): of a slice here,
/// of an array's column blocks in `reduce.rs`.
pub(crate) struct SendPointer<T>(pub(crate) *mut T);

impl<T> Clone for SendPointer<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SendPointer<T> {}

impl<T> SendPointer<T> {
    pub(crate) fn get(self) -> *mut T {
        self.0
    }
}

// SAFETY: only ever used to hand disjoint pieces of one mutably borrowed `[T]` or array (T:
// Send) to tasks.
unsafe impl<T: Send> Send for SendPointer<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SendPointer<T> {}

/// Puts back this thread's `ALONE` flag when [`alone`]'s work ends, also by a panic.
struct RestoreAlone(bool);

impl Drop for RestoreAlone {
    fn drop(&mut self) {
        ALONE.with(|alone| alone.set(self.0));
    }
}

thread_local! {
    /// Whether phases started on this thread run on it alone: while it runs a task of a phase
    /// (nested phases run serially) or the work given to [`alone`].
    static ALONE: Cell<bool> = const { Cell::new(false) };
}

/// The phase being run: the task closure, with its lifetime erased.
#[derive(Clone, Copy)]
struct Phase {
    task: *const (dyn Fn(usize) + Sync),
}

/// The team: one per process, its helpers started on first use and never stopped.
struct Team {
    /// Held by the thread whose phase is running.
    turn: Mutex<()>,
    /// The open phase's number, or 0 when none is open. Helpers poll it, on a cache line of its
    /// own that only the caller writes.
    open: CachePadded<AtomicU64>,
    /// The number the next phase gets.
    next_phase: AtomicU64,
    /// The open phase; written by the caller only while no helper is inside a phase.
    phase: UnsafeCell<Phase>,
    /// The tasks of the open phase, cut into one run per thread (see [`Shares`]).
    shares: Shares,
    /// Helpers that may still join the open phase.
    seats: AtomicUsize,
    /// Helpers inside a phase (joined, or checking whether they may join), on a line of its own.
    active: CachePadded<AtomicUsize>,
    /// The first panic of the open phase, raised again by the caller.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    /// Helpers started so far.
    helpers: Mutex<usize>,
    /// Side work for idle helpers (see [`alongside`]).
    side: SideWork,
    /// Helpers asleep, and where they sleep.
    sleepers: AtomicUsize,
    bed: Mutex<()>,
    alarm: Condvar,
}

// SAFETY: `phase` is written by the thread holding `turn` while `open` is 0 and no helper is
// `active`, and read by helpers only after they have seen its number in `open` and counted
// themselves `active` (see `Team::run` and `Team::join`). Everything else is atomics and locks.
unsafe impl Sync for Team {}
// SAFETY: the phase's closure pointer is only dereferenced under the protocol above.
unsafe impl Send for Team {}

impl Team {
    fn get() -> &'static Team {
        static TEAM: OnceLock<Team> = OnceLock::new();
        TEAM.get_or_init(|| Team {
            turn: Mutex::new(()),
            open: CachePadded(AtomicU64::new(0)),
            next_phase: AtomicU64::new(1),
            phase: UnsafeCell::new(Phase { task: &|_| {} }),
            shares: Shares::new(),
            seats: AtomicUsize::new(0),
            active: CachePadded(AtomicUsize::new(0)),
            panic: Mutex::new(None),
            helpers: Mutex::new(0),
            side: SideWork::new(),
            sleepers: AtomicUsize::new(0),
            bed: Mutex::new(()),
            alarm: Condvar::new(),
        })
    }

    /// Starts helpers until there are at least `count`.
    fn ensure_helpers(&'static self, count: usize) {
        let mut helpers = self.helpers.lock().unwrap_or_else(PoisonError::into_inner);
        while *helpers < count {
            let spawned = std::thread::Builder::new()
                .name(format!("length-helper-{}", *helpers + 1))
                .spawn(move || self.help());
            if spawned.is_err() {
                // No thread to be had: the phases run with the helpers there are.
                return;
            }
            *helpers += 1;
        }
    }

    /// Publishes a phase of `tasks` tasks for up to `seats` helpers, works on it, waits for the
    /// helpers to let go of it, and raises a task's panic.
    fn run(&self, tasks: usize, seats: usize, task: &(dyn Fn(usize) + Sync)) {
        // SAFETY: the lifetime is erased only for the helpers, and `run` does not return before
        // every helper that joined has left (`active` back to 0 after `open` was closed).
        let task: &'static (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(task) };
        // SAFETY: we hold `turn`, `open` is 0 and no helper is active (the previous `run` waited
        // for that), so no one reads `phase`.
        unsafe { *self.phase.get() = Phase { task } };
        self.shares.deal(tasks, seats + 1);
        self.seats.store(seats, SeqCst);
        let number = self.next_phase.fetch_add(1, SeqCst);
        self.open.0.store(number, SeqCst);
        if self.sleepers.load(SeqCst) > 0 {
            let _bed = self.bed.lock().unwrap_or_else(PoisonError::into_inner);
            self.alarm.notify_all();
        }
        self.work(task, 0);
        self.open.0.store(0, SeqCst);
        wait_until_none(&self.active.0);
        raise_kept_panic(&self.panic);
    }

    /// Runs the tasks of share `own`, then helps with the others' until none is left; a panic
    /// stops the phase and is kept for the caller.
    fn work(&self, task: &(dyn Fn(usize) + Sync), own: usize) {
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            alone(|| {
                while let Some(index) = self.shares.claim(own) {
                    task(index);
                }
            })
        }));
        if let Err(payload) = outcome {
            // No one claims the tasks that are left.
            self.shares.close();
            self.panic
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert(payload);
        }
    }

    /// A helper's life: wait for a phase, join it if there is a seat, repeat.
    fn help(&self) {
        let mut last = 0;
        loop {
            let number = self.wait_for_phase(last);
            last = number;
            self.active.0.fetch_add(1, SeqCst);
            // The phase may have closed (and another opened) since we saw its number: join only
            // if it is still the open one; `run` cannot return while we are counted active.
            if self.open.0.load(SeqCst) == number
                && let Some(seat) = self.take_seat()
            {
                // SAFETY: phase `number` is open and we are active, so `phase` is that phase's
                // and its closure stays alive until we leave.
                let phase = unsafe { *self.phase.get() };
                // SAFETY: as above: the closure outlives our use of it.
                self.work(unsafe { &*phase.task }, seat);
            }
            self.active.0.fetch_sub(1, SeqCst);
        }
    }

    /// Takes one of the open phase's seats, if one is left: its number, from 1 (the caller has
    /// share 0).
    fn take_seat(&self) -> Option<usize> {
        self.seats
            .fetch_update(SeqCst, SeqCst, |seats| seats.checked_sub(1))
            .ok()
    }

    /// Polls for a phase numbered other than `last`, spinning for up to [`SPIN`], then asleep.
    fn wait_for_phase(&self, last: u64) -> u64 {
        loop {
            let mut started = Instant::now();
            let mut polls = 0u32;
            loop {
                let number = self.open.0.load(SeqCst);
                if number != 0 && number != last {
                    return number;
                }
                if self.side.has_tasks() {
                    self.side.help(|| {
                        let number = self.open.0.load(SeqCst);
                        number != 0 && number != last
                    });
                    started = Instant::now();
                    continue;
                }
                polls = polls.wrapping_add(1);
                if polls.is_multiple_of(64) && started.elapsed() >= SPIN {
                    break;
                }
                std::hint::spin_loop();
            }
            self.sleep_unless_open(last);
        }
    }

    /// Sleeps until `run` raises the alarm, unless a phase numbered other than `last` is open.
    fn sleep_unless_open(&self, last: u64) {
        let bed = self.bed.lock().unwrap_or_else(PoisonError::into_inner);
        self.sleepers.fetch_add(1, SeqCst);
        let number = self.open.0.load(SeqCst);
        if number == 0 || number == last {
            // `run` stores `open` before it looks for sleepers, and we counted ourselves before
            // looking at `open`: one of us sees the other, so no alarm is missed.
            drop(self.alarm.wait(bed).unwrap_or_else(PoisonError::into_inner));
        } else {
            drop(bed);
        }
        self.sleepers.fetch_sub(1, SeqCst);
    }
}

/// Spins until `active` (helpers inside a phase or a side job) is 0, yielding the core after a
/// while: a helper descheduled in the middle of a task then gets it back sooner.
fn wait_until_none(active: &AtomicUsize) {
    let mut polls = 0u32;
    while active.load(SeqCst) > 0 {
        polls = polls.saturating_add(1);
        if polls < 1 << 12 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Raises again the panic a task left in `slot`, if any.
fn raise_kept_panic(slot: &Mutex<Option<Box<dyn Any + Send>>>) {
    if let Some(payload) = slot.lock().unwrap_or_else(PoisonError::into_inner).take() {
        panic::resume_unwind(payload);
    }
}

/// The most threads that get a share of their own; more share the last ones' runs.
const MAX_SHARES: usize = 64;

/// A phase's tasks cut into contiguous runs, one per thread: thread `s` works through run `s`
/// front to back, then takes what is left of the others' runs from their backs.
///
/// Products of the same shapes cut their tasks the same way every step, so on an undisturbed
/// machine each thread computes the same rows of a weight matrix in the forward pass and in its
/// update, step after step, and finds them in its own L2 cache (a core reads another core's
/// cache lines at a fraction of the speed of its own). A thread that falls behind (another
/// program took its core) has the end of its run finished by the others, which take from the
/// back so that it keeps the front; which thread runs a task never changes the result.
struct Shares {
    /// Each run's unclaimed tasks, `front..back`, packed as `front << 32 | back`.
    runs: [CachePadded<AtomicU64>; MAX_SHARES],
    /// Runs in the open phase.
    count: AtomicUsize,
}

/// A value alone on its cache line(s), so that threads claiming from different runs do not
/// contend for one line.
#[repr(align(128))]
struct CachePadded<T>(T);

impl Shares {
    fn new() -> Shares {
        Shares {
            runs: std::array::from_fn(|_| CachePadded(AtomicU64::new(0))),
            count: AtomicUsize::new(0),
        }
    }

    /// Cuts `tasks` tasks into runs for `threads` threads (at most [`MAX_SHARES`] runs).
    ///
    /// # Panics
    /// If `tasks` does not fit 32 bits.
    fn deal(&self, tasks: usize, threads: usize) {
        let tasks = u64::try_from(tasks)
            .ok()
            .filter(|&tasks| tasks <= u64::from(u32::MAX))
            .expect("a phase has fewer than 2^32 tasks");
        let count = threads.clamp(1, MAX_SHARES);
        for (run, slot) in self.runs[..count].iter().enumerate() {
            let (run, runs) = (run as u64, count as u64);
            slot.0.store(
                ((run * tasks / runs) << 32) | ((run + 1) * tasks / runs),
                SeqCst,
            );
        }
        self.count.store(count, SeqCst);
    }

    /// The next task for the thread with share `own`: the front of its own run, else the back
    /// of another's.
    fn claim(&self, own: usize) -> Option<usize> {
        let count = self.count.load(SeqCst);
        let own = own % count;
        let take = |run: usize, from_front: bool| {
            self.runs[run]
                .0
                .fetch_update(SeqCst, SeqCst, |packed| {
                    let (front, back) = (packed >> 32, packed & u64::from(u32::MAX));
                    match (front < back, from_front) {
                        (false, _) => None,
                        (true, true) => Some(((front + 1) << 32) | back),
                        (true, false) => Some((front << 32) | (back - 1)),
                    }
                })
                .ok()
                .map(|packed| {
                    let (front, back) = (packed >> 32, packed & u64::from(u32::MAX));
                    (if from_front { front } else { back - 1 }) as usize
                })
        };
        take(own, true).or_else(|| {
            (1..count)
                .map(|offset| (own + offset) % count)
                .find_map(|run| take(run, false))
        })
    }

    /// Leaves nothing to claim (after a task panicked).
    fn close(&self) {
        for slot in &self.runs[..self.count.load(SeqCst)] {
            slot.0.store(0, SeqCst);
        }
    }
}

/// A rayon pool of `threads` threads: the tests run the kernels in one with 1, 2 or more.
#[cfg(test)]
pub(crate) fn test_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

#[cfg(test)]
mod tests {
    use super::test_pool as pool;
    use super::*;
    use std::sync::atomic::AtomicU32;

    /// One run counter per task, all zero.
    fn run_counters(tasks: usize) -> Vec<AtomicU32> {
        (0..tasks).map(|_| AtomicU32::new(0)).collect()
    }

    /// Whether every task ran exactly once.
    fn each_ran_once(runs: &[AtomicU32]) -> bool {
        runs.iter().all(|r| r.load(SeqCst) == 1)
    }

    #[test]
    fn every_task_runs_once_for_any_thread_count() {
        for threads in [1, 2, 3, 8] {
            pool(threads).install(|| {
                for tasks in [0, 1, 2, 5, 100] {
                    let runs = run_counters(tasks);
                    for_each(tasks, |i| {
                        runs[i].fetch_add(1, SeqCst);
                    });
                    assert!(each_ran_once(&runs), "{threads} threads");
                }
            });
        }
    }

    #[test]
    fn chunks_cover_the_slice() {
        pool(2).install(|| {
            let mut data = vec![0usize; 1000];
            for_each_chunk_mut(&mut data, 64, |index, piece| {
                for (offset, value) in piece.iter_mut().enumerate() {
                    *value = index * 64 + offset;
                }
            });
            assert!(data.iter().enumerate().all(|(i, &v)| i == v));
        });
    }

    #[test]
    fn nested_phases_run_on_the_calling_thread() {
        pool(2).install(|| {
            let inner_threads = AtomicUsize::new(0);
            for_each(4, |_| {
                inner_threads.fetch_max(threads(), SeqCst);
                for_each(3, |_| {});
            });
            assert_eq!(inner_threads.load(SeqCst), 1);
        });
    }

    #[test]
    fn work_alone_stays_on_the_calling_thread_even_after_a_panic() {
        pool(2).install(|| {
            let caller = std::thread::current().id();
            let elsewhere = AtomicUsize::new(0);
            let count_elsewhere = |_| {
                if std::thread::current().id() != caller {
                    elsewhere.fetch_add(1, SeqCst);
                }
                std::thread::sleep(Duration::from_micros(100));
            };
            let threads_inside = alone(|| {
                for_each(16, count_elsewhere);
                alongside(16, count_elsewhere, || for_each(16, count_elsewhere));
                threads()
            });
            assert_eq!((threads_inside, elsewhere.load(SeqCst)), (1, 0));
            let outcome = panic::catch_unwind(|| alone(|| panic!("the step failed")));
            assert!(outcome.is_err());
            assert_eq!(threads(), 2, "alone's flag is put back after a panic");
        });
    }

    /// Runs `body` on four threads at once, each in a pool of two threads of its own, and
    /// waits for all of them (raising a panic of any).
    fn on_four_callers_at_once(body: fn()) {
        let callers: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(move || pool(2).install(body)))
            .collect();
        for caller in callers {
            caller.join().unwrap();
        }
    }

    #[test]
    fn phases_from_many_threads_at_once_all_complete() {
        on_four_callers_at_once(|| {
            for _ in 0..200 {
                let sum = AtomicUsize::new(0);
                for_each(16, |i| {
                    sum.fetch_add(i, SeqCst);
                });
                assert_eq!(sum.load(SeqCst), 120);
            }
        });
    }

    #[test]
    fn a_panicking_task_reaches_the_caller_and_the_team_goes_on() {
        pool(2).install(|| {
            let outcome = panic::catch_unwind(|| {
                for_each(64, |i| {
                    if i == 37 {
                        panic!("task 37 failed");
                    }
                })
            });
            let payload = outcome.expect_err("the panic is raised again");
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"task 37 failed"));
            let count = AtomicUsize::new(0);
            for_each(10, |_| {
                count.fetch_add(1, SeqCst);
            });
            assert_eq!(count.load(SeqCst), 10);
            // Still on the team's threads, not only the caller (other tests share the team).
            let caller = std::thread::current().id();
            let on_helpers = AtomicUsize::new(0);
            for _ in 0..200 {
                for_each(2, |_| {
                    if std::thread::current().id() != caller {
                        on_helpers.fetch_add(1, SeqCst);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                });
                if on_helpers.load(SeqCst) > 0 {
                    break;
                }
            }
            assert!(
                on_helpers.load(SeqCst) > 0,
                "phases no longer reach the helpers"
            );
        });
    }

    #[test]
    fn every_side_task_runs_once_next_to_main_for_any_thread_count() {
        for threads in [1, 2, 3, 8] {
            pool(threads).install(|| {
                for tasks in [0, 1, 7, 200] {
                    let runs = run_counters(tasks);
                    let sum = AtomicUsize::new(0);
                    let result = alongside(
                        tasks,
                        |i| {
                            runs[i].fetch_add(1, SeqCst);
                        },
                        || {
                            // Phases of main's own run as usual meanwhile.
                            for _ in 0..20 {
                                for_each(16, |i| {
                                    sum.fetch_add(i, SeqCst);
                                });
                            }
                            "main's result"
                        },
                    );
                    assert_eq!(result, "main's result");
                    assert_eq!(sum.load(SeqCst), 20 * 120, "{threads} threads");
                    assert!(
                        each_ran_once(&runs),
                        "{threads} threads, {tasks} side tasks"
                    );
                }
            });
        }
    }

    #[test]
    fn helpers_take_side_tasks_while_the_caller_works_alone() {
        pool(2).install(|| {
            let on_helpers = AtomicUsize::new(0);
            let caller = std::thread::current().id();
            // Other tests share the team and keep its helper busy: try for up to a second.
            for _ in 0..200 {
                // Wake the helper so that it polls instead of sleeping.
                for_each(2, |_| {});
                alongside(
                    64,
                    |_| {
                        if std::thread::current().id() != caller {
                            on_helpers.fetch_add(1, SeqCst);
                        }
                    },
                    || std::thread::sleep(Duration::from_millis(5)),
                );
                if on_helpers.load(SeqCst) > 0 {
                    break;
                }
            }
            assert!(on_helpers.load(SeqCst) > 0, "no side task ran on a helper");
        });
    }

    #[test]
    fn side_chunks_cover_the_slice() {
        pool(2).install(|| {
            let mut data = vec![0usize; 1000];
            let answer = alongside_chunks_mut(
                &mut data,
                64,
                |index, piece| {
                    for (offset, value) in piece.iter_mut().enumerate() {
                        *value = index * 64 + offset;
                    }
                },
                || 7,
            );
            assert_eq!(answer, 7);
            assert!(data.iter().enumerate().all(|(i, &v)| i == v));
        });
    }

    #[test]
    fn panics_in_side_tasks_or_main_reach_the_caller_and_the_team_goes_on() {
        pool(2).install(|| {
            let side_panic = panic::catch_unwind(|| {
                alongside(
                    64,
                    |i| {
                        if i == 40 {
                            panic!("side task 40 failed");
                        }
                    },
                    || for_each(8, |_| {}),
                )
            });
            let payload = side_panic.expect_err("the side task's panic is raised again");
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"side task 40 failed"));
            let main_panic = panic::catch_unwind(|| {
                alongside(64, |_| {}, || panic!("main failed"));
            });
            let payload = main_panic.expect_err("main's panic is raised again");
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"main failed"));
            let count = AtomicUsize::new(0);
            alongside(
                10,
                |_| {
                    count.fetch_add(1, SeqCst);
                },
                || (),
            );
            assert_eq!(count.load(SeqCst), 10);
        });
    }

    #[test]
    fn side_work_from_many_threads_at_once_all_completes() {
        on_four_callers_at_once(|| {
            for _ in 0..100 {
                let sum = AtomicUsize::new(0);
                alongside(
                    16,
                    |i| {
                        sum.fetch_add(i, SeqCst);
                    },
                    || for_each(4, |_| {}),
                );
                assert_eq!(sum.load(SeqCst), 120);
            }
        });
    }

    #[test]
    fn helpers_that_fell_asleep_are_woken() {
        pool(2).install(|| {
            for _ in 0..3 {
                std::thread::sleep(SPIN * 4);
                let count = AtomicUsize::new(0);
                for_each(8, |_| {
                    count.fetch_add(1, SeqCst);
                });
                assert_eq!(count.load(SeqCst), 8);
            }
        });
    }
}
