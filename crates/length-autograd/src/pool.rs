//! Where the arrays of a training step come from: a small pool of recycled buffers.
//!
//! A training step computes the same arrays, of the same shapes, every time: the batch, each
//! layer's output, each activation, and one gradient for each of them. Allocated fresh, the large
//! ones cost more than their size suggests: the allocator takes big blocks straight from the
//! operating system and gives them back on free, so every step the kernel hands out new pages,
//! faults them in one by one and zeroes them, and the first pass over each array runs on cold
//! memory. For the 784-512-512-10 MLP on a batch of 64 that is about 1.3 MB per step.
//!
//! So a step's arrays travel in a circle instead:
//!
//! ```text
//!   pool::take(shape) ──► a function's output, a gradient, the batch ──► a node of the Graph
//!         ▲                                                                   │
//!         └─────────── pool::recycle(array) ◄── the Graph is dropped ◄────────┘
//! ```
//!
//! - [`take`] hands out a buffer of the right number of elements, the one returned most recently
//!   (it is the warmest in the cache), or allocates one if there is none. Its contents are left
//!   over from its last use: the caller overwrites every element (a kernel's `_into` form does).
//!   [`zeros`] and [`copied`] hand out a zeroed buffer and a copy of an array.
//! - When a [`Graph`](crate::Graph) is dropped, every node's value and gradient goes back through
//!   [`recycle`]; so does a gradient the backward pass has added into another.
//! - A buffer matches any shape with its number of elements: a (64, 512) activation and the
//!   (64, 512) gradient of another use the same buffers.
//!
//! After the first step of a training loop the pool holds exactly the buffers one step needs, and
//! the steps after it allocate (almost) nothing. The pool is bounded, so it cannot grow without
//! limit when the shapes keep changing: it keeps at most [`MAX_BUFFERS`] buffers and
//! [`MAX_BYTES`] bytes, and frees whatever is recycled beyond that. [`clear`] frees everything.
//!
//! There is one pool per thread (no locks): the training loop builds and drops its graphs on one
//! thread. An array recycled on another thread lands in that thread's pool.
//!
//! ```
//! use length_autograd::pool;
//!
//! pool::clear();
//! let mut activation = pool::zeros((64, 512));
//! activation[[0, 0]] = 1.0;
//! let address = activation.as_ptr();
//! pool::recycle(activation);
//! assert_eq!(pool::retained_buffers(), 1);
//!
//! // The next request for 64·512 elements, of any shape, gets the same memory back.
//! let gradient = pool::zeros((512, 64));
//! assert_eq!(gradient.as_ptr(), address);
//! assert!(gradient.iter().all(|&v| v == 0.0));
//! assert_eq!(pool::retained_buffers(), 0);
//! ```

use std::cell::RefCell;

use ndarray::{Array, ArrayView, Dimension, IntoDimension};

/// The most buffers one thread's pool keeps; more recycled buffers are freed.
pub const MAX_BUFFERS: usize = 64;

/// The most bytes one thread's pool keeps; more recycled buffers are freed.
pub const MAX_BYTES: usize = 64 << 20;

/// The buffers kept on one thread, the most recently recycled last.
struct Pool {
    buffers: Vec<Vec<f32>>,
    /// The capacity of `buffers`' buffers in bytes.
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            buffers: Vec::new(),
            bytes: 0,
        })
    };
}

impl Pool {
    /// Removes and returns the most recently recycled buffer of exactly `len` elements.
    fn take(&mut self, len: usize) -> Option<Vec<f32>> {
        let index = self
            .buffers
            .iter()
            .rposition(|buffer| buffer.len() == len)?;
        let buffer = self.buffers.remove(index);
        self.bytes -= bytes_of(&buffer);
        Some(buffer)
    }

    /// Keeps `buffer` if the bounds allow, else frees it.
    fn put(&mut self, buffer: Vec<f32>) {
        let bytes = bytes_of(&buffer);
        if self.buffers.len() >= MAX_BUFFERS || self.bytes + bytes > MAX_BYTES {
            return;
        }
        if self.buffers.capacity() == 0 {
            self.buffers.reserve_exact(MAX_BUFFERS); // once: keeping a buffer never allocates
        }
        self.bytes += bytes;
        self.buffers.push(buffer);
    }
}

/// The bytes a buffer holds on to (its capacity, which may exceed its length).
fn bytes_of(buffer: &Vec<f32>) -> usize {
    buffer.capacity() * size_of::<f32>()
}

/// An array of `shape` whose contents are left over from an earlier use: write every element
/// before reading any. A recycled buffer if the pool has one of that many elements, else a new
/// (zeroed) one. Standard (row-major) layout.
///
/// ```
/// use length_autograd::pool;
/// use length_tensor::relu_into;
/// use ndarray::array;
///
/// let x = array![[-1.0f32, 2.0]].into_dyn();
/// let mut y = pool::take(x.raw_dim());
/// relu_into(x.view(), y.view_mut()); // writes every element
/// assert_eq!(y, array![[0.0f32, 2.0]].into_dyn());
/// ```
///
/// # Panics
/// If the number of elements overflows `usize`.
pub fn take<Sh: IntoDimension>(shape: Sh) -> Array<f32, Sh::Dim> {
    let dim = shape.into_dimension();
    let len = dim
        .size_checked()
        .unwrap_or_else(|| panic!("pool::take: shape {:?} has too many elements", dim.slice()));
    let recycled = POOL
        .try_with(|pool| pool.borrow_mut().take(len))
        .ok()
        .flatten();
    let buffer = recycled.unwrap_or_else(|| vec![0.0; len]);
    Array::from_shape_vec(dim, buffer).expect("the buffer has one element per position")
}

/// An array of `shape` filled with zeros, in a recycled buffer when the pool has one.
pub fn zeros<Sh: IntoDimension>(shape: Sh) -> Array<f32, Sh::Dim> {
    let mut array = take(shape);
    array.fill(0.0);
    array
}

/// A copy of `view` (in standard layout), in a recycled buffer when the pool has one.
///
/// ```
/// use length_autograd::pool;
/// use ndarray::array;
///
/// let batch = array![[1.0f32, 2.0], [3.0, 4.0]];
/// assert_eq!(pool::copied(batch.view()), batch);
/// ```
pub fn copied<D: Dimension>(view: ArrayView<f32, D>) -> Array<f32, D> {
    let mut array = take(view.raw_dim());
    array.assign(&view);
    array
}

/// Gives an array's buffer back to this thread's pool, for [`take`] to hand out again; frees it
/// instead when the pool is full (see [`MAX_BUFFERS`], [`MAX_BYTES`]).
pub fn recycle<D: Dimension>(array: Array<f32, D>) {
    let (buffer, _offset) = array.into_raw_vec_and_offset();
    if buffer.is_empty() {
        return;
    }
    // During thread shutdown the pool may be gone already: then the buffer is simply freed.
    let _ = POOL.try_with(|pool| pool.borrow_mut().put(buffer));
}

/// How many buffers this thread's pool holds.
pub fn retained_buffers() -> usize {
    POOL.with(|pool| pool.borrow().buffers.len())
}

/// How many bytes of buffers this thread's pool holds.
pub fn retained_bytes() -> usize {
    POOL.with(|pool| pool.borrow().bytes)
}

/// Frees every buffer this thread's pool holds.
pub fn clear() {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        pool.buffers.clear();
        pool.bytes = 0;
    });
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, IxDyn};

    use super::*;

    #[test]
    fn a_recycled_buffer_serves_any_shape_of_its_length() {
        clear();
        let a = zeros((4, 6));
        let address = a.as_ptr();
        recycle(a);
        let b = take(IxDyn(&[2, 3, 4]));
        assert_eq!(b.as_ptr(), address);
        assert_eq!(b.shape(), &[2, 3, 4]);
        assert!(b.is_standard_layout());
        let c = take(24);
        assert_ne!(c.as_ptr(), address, "the buffer was handed out twice");
    }

    #[test]
    fn the_most_recently_recycled_buffer_comes_back_first() {
        clear();
        let (a, b) = (zeros(8), zeros(8));
        let b_address = b.as_ptr();
        recycle(a);
        recycle(b);
        assert_eq!(take(8).as_ptr(), b_address);
        assert_eq!(retained_buffers(), 1);
        clear();
    }

    #[test]
    fn zeros_clears_what_the_last_user_left() {
        clear();
        recycle(Array2::from_elem((3, 3), 7.0f32));
        assert_eq!(zeros((3, 3)), Array2::zeros((3, 3)));
    }

    #[test]
    fn the_pool_is_bounded_in_count_and_bytes() {
        clear();
        for _ in 0..MAX_BUFFERS + 10 {
            recycle(Array2::<f32>::zeros((2, 2)));
        }
        assert_eq!(retained_buffers(), MAX_BUFFERS);
        clear();
        let quarter = MAX_BYTES / 4 / size_of::<f32>();
        for _ in 0..5 {
            recycle(Array::<f32, _>::zeros(quarter));
        }
        assert_eq!(retained_buffers(), 4);
        assert_eq!(retained_bytes(), MAX_BYTES);
        clear();
        assert_eq!((retained_buffers(), retained_bytes()), (0, 0));
    }

    #[test]
    fn empty_arrays_are_not_kept() {
        clear();
        recycle(Array2::<f32>::zeros((0, 5)));
        assert_eq!(retained_buffers(), 0);
        assert_eq!(take((0, 5)).len(), 0);
    }
}
