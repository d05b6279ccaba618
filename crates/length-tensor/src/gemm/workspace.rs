//! The packing buffer: one per thread, reused from call to call, so a training loop that
//! multiplies matrices of the same shapes allocates nothing after its first step.
//!
//! The buffer is moved out of its thread-local slot for the duration of a GEMM and moved back
//! afterwards; a nested GEMM on the same thread (a rayon worker that steals a task calling
//! `matmul` while it waits) simply finds the slot empty and allocates its own.

use std::cell::Cell;

/// Floats per 64-byte cache line: panels start on a cache-line boundary.
const ALIGN: usize = 16;

thread_local! {
    static SHARED: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    static TASK: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    static PARTIAL: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    static SUMS: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Which of a thread's buffers: a GEMM's calling thread may also run one of its tasks.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    /// Operands packed once and read by every task of a GEMM (on the calling thread).
    Shared,
    /// The panel one task packs for itself (on the worker thread).
    Task,
    /// The second half's partial product of a product with k split in two (`split_k`).
    Partial,
    /// The column sums of each part of the rows in a reduction (`reduce::sum_in_row_parts`).
    Sums,
}

impl Slot {
    fn with<R>(self, f: impl FnOnce(&Cell<Vec<f32>>) -> R) -> R {
        match self {
            Slot::Shared => SHARED.with(f),
            Slot::Task => TASK.with(f),
            Slot::Partial => PARTIAL.with(f),
            Slot::Sums => SUMS.with(f),
        }
    }
}

/// A packing buffer on loan from one of this thread's slots; returned to it on drop.
pub(crate) struct Workspace {
    slot: Slot,
    buffer: Vec<f32>,
    offset: usize,
    len: usize,
}

impl Workspace {
    /// Borrows this thread's buffer in `slot`, grown to at least `len` floats (contents
    /// unspecified).
    pub fn take(slot: Slot, len: usize) -> Workspace {
        let mut buffer = slot.with(Cell::take);
        if buffer.len() < len + ALIGN {
            buffer.resize(len + ALIGN, 0.0);
        }
        let offset = buffer
            .as_ptr()
            .align_offset(ALIGN * size_of::<f32>())
            .min(ALIGN);
        Workspace {
            slot,
            buffer,
            offset,
            len,
        }
    }

    /// The `len` floats, starting on a cache-line boundary.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.buffer[self.offset..self.offset + self.len]
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        self.slot.with(|slot| {
            let previous = slot.take();
            // Keep the larger of the two if a nested call returned its buffer meanwhile.
            slot.set(if previous.len() > buffer.len() {
                previous
            } else {
                buffer
            });
        });
    }
}
