//! Side work: tasks that the team's helpers take up while they would otherwise wait for the next
//! parallel phase.
//!
//! A training step on two threads has stretches where only the calling thread works: the output
//! layer's small products, the loss, the ReLU backward passes. A helper spends them polling for
//! the next phase. [`alongside`](super::alongside) hands it work that does not depend on the
//! step, converting the next batch, in small tasks: between two tasks the helper looks for a
//! phase and joins it at once, so side work delays a phase by at most one task. When the caller's
//! own work is done, it runs the side tasks no helper took and waits for those being run.
//!
//! The protocol is the phases' (see `Team::run`): the caller publishes the job before opening it
//! and waits, after closing it, until no helper is inside it, so the job's closure outlives every
//! use; a helper counts itself active before it looks at the job.

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{CachePadded, alone, raise_kept_panic, try_turn, wait_until_none};

/// The open side job: its task closure, with the lifetime erased, and its number of tasks.
#[derive(Clone, Copy)]
struct Job {
    task: *const (dyn Fn(usize) + Sync),
    tasks: usize,
}

/// The team's slot for one side job at a time.
pub(super) struct SideWork {
    /// Held by the thread whose side job is open.
    turn: Mutex<()>,
    /// The open job's number, or 0 when none is open; polled by the helpers.
    open: CachePadded<AtomicU64>,
    /// The number the next job gets.
    next_job: AtomicU64,
    /// The open job; written by the caller only while `open` is 0 and no helper is active.
    job: UnsafeCell<Job>,
    /// The open job's number of tasks, readable without the protocol (to poll cheaply).
    tasks: AtomicUsize,
    /// The next task to claim (claims past `tasks` find nothing).
    next_task: CachePadded<AtomicUsize>,
    /// Helpers inside the job (running a task, or checking whether they may).
    active: CachePadded<AtomicUsize>,
    /// The first panic of a side task, raised again by the caller.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

// SAFETY: `job` is written by the thread holding `turn` while `open` is 0 and no helper is
// `active`, and read by helpers only after they counted themselves `active` and saw `open`
// non-zero. Everything else is atomics and locks.
unsafe impl Sync for SideWork {}
// SAFETY: the job's closure pointer is only dereferenced under the protocol above.
unsafe impl Send for SideWork {}

impl SideWork {
    pub(super) fn new() -> SideWork {
        SideWork {
            turn: Mutex::new(()),
            open: CachePadded(AtomicU64::new(0)),
            next_job: AtomicU64::new(1),
            job: UnsafeCell::new(Job {
                task: &|_| {},
                tasks: 0,
            }),
            tasks: AtomicUsize::new(0),
            next_task: CachePadded(AtomicUsize::new(0)),
            active: CachePadded(AtomicUsize::new(0)),
            panic: Mutex::new(None),
        }
    }

    /// Whether an open job has tasks left to claim: what an idle helper polls.
    pub(super) fn has_tasks(&self) -> bool {
        self.open.0.load(SeqCst) != 0 && self.next_task.0.load(SeqCst) < self.tasks.load(SeqCst)
    }

    /// Opens a job of `tasks` tasks, `task(i)`, to the helpers; `None` if another thread's job
    /// holds the slot. The job stays open until the returned guard is finished or dropped.
    pub(super) fn open<'a>(
        &'a self,
        tasks: usize,
        task: &'a (dyn Fn(usize) + Sync),
    ) -> Option<OpenJob<'a>> {
        let turn = try_turn(&self.turn)?;
        // SAFETY: the lifetime is erased only for the helpers, and the guard, which borrows
        // `task` for 'a, does not go away (finished or dropped, also in a panic) before every
        // helper that looked at the job has left it. The guard is never leaked.
        let erased: &'static (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(task) };
        // SAFETY: we hold `turn`, `open` is 0 and no helper is active (the last job's guard
        // waited for that), so no one reads `job`.
        unsafe {
            *self.job.get() = Job {
                task: erased,
                tasks,
            }
        };
        // A panic left by a job whose caller panicked first is not this job's.
        self.panic
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.tasks.store(tasks, SeqCst);
        self.next_task.0.store(0, SeqCst);
        self.open
            .0
            .store(self.next_job.fetch_add(1, SeqCst), SeqCst);
        Some(OpenJob {
            work: self,
            task,
            tasks,
            _turn: turn,
        })
    }

    /// A helper's turn: runs tasks of the open job until none is left or `phase_waiting` says
    /// that a phase is open (phases come first).
    pub(super) fn help(&self, phase_waiting: impl Fn() -> bool) {
        self.active.0.fetch_add(1, SeqCst);
        if self.open.0.load(SeqCst) != 0 {
            // SAFETY: a job is open and we are active, so `job` is that job's and its closure
            // stays alive until we leave.
            let job = unsafe { *self.job.get() };
            while !phase_waiting() {
                let Some(index) = self.claim(job.tasks) else {
                    break;
                };
                // SAFETY: as above.
                let task = unsafe { &*job.task };
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| alone(|| task(index))));
                if let Err(payload) = outcome {
                    // No one claims the tasks that are left; the caller raises the panic.
                    self.next_task.0.store(usize::MAX / 2, SeqCst);
                    self.panic
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert(payload);
                }
            }
        }
        self.active.0.fetch_sub(1, SeqCst);
    }

    /// The next unclaimed task of a job of `tasks` tasks.
    fn claim(&self, tasks: usize) -> Option<usize> {
        let index = self.next_task.0.fetch_add(1, SeqCst);
        (index < tasks).then_some(index)
    }
}

/// An open side job; see [`SideWork::open`].
pub(super) struct OpenJob<'a> {
    work: &'a SideWork,
    task: &'a (dyn Fn(usize) + Sync),
    tasks: usize,
    _turn: MutexGuard<'a, ()>,
}

impl OpenJob<'_> {
    /// Runs the tasks no helper has claimed, waits for the claimed ones, and raises a side
    /// task's panic.
    pub(super) fn finish(self) {
        while let Some(index) = self.work.claim(self.tasks) {
            alone(|| (self.task)(index));
        }
        let work = self.work;
        drop(self);
        raise_kept_panic(&work.panic);
    }
}

impl Drop for OpenJob<'_> {
    /// Closes the job (no more claims) and waits until no helper is inside it: also when the
    /// caller's own work panicked.
    fn drop(&mut self) {
        let work = self.work;
        work.next_task.0.store(usize::MAX / 2, SeqCst);
        work.open.0.store(0, SeqCst);
        wait_until_none(&work.active.0);
    }
}
