//! Strided raw matrix views: the one representation the GEMM driver works on.
//!
//! Element (i, j) lives at `ptr + i * rs + j * cs` (strides in elements, possibly negative, as in
//! ndarray). Transposing is free: swap the dimensions and the strides. This is how the three
//! public forms (`a · bᵀ`, `a · b`, `aᵀ · b`) and every ndarray layout (standard, transposed,
//! stepped slices) reduce to one `C = A · B`.

use ndarray::{ArrayView2, ArrayViewMut2};

/// A read-only strided matrix borrowed from an ndarray view for the duration of one GEMM.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef {
    pub ptr: *const f32,
    pub rows: usize,
    pub cols: usize,
    pub rs: isize,
    pub cs: isize,
}

// SAFETY: a `MatRef` is made from a shared `ArrayView2` that outlives the GEMM call using it, and
// is only read; sharing it between the call's rayon workers is like sharing `&[f32]`.
unsafe impl Send for MatRef {}
// SAFETY: as above.
unsafe impl Sync for MatRef {}

impl MatRef {
    /// The strided view of `view`'s elements.
    pub fn from_view(view: &ArrayView2<'_, f32>) -> MatRef {
        let (rows, cols) = view.dim();
        MatRef {
            ptr: view.as_ptr(),
            rows,
            cols,
            rs: view.strides()[0],
            cs: view.strides()[1],
        }
    }

    /// The transpose, without moving data.
    pub fn t(self) -> MatRef {
        MatRef {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// Whether the elements of each row are adjacent in memory.
    pub fn rows_are_contiguous(self) -> bool {
        self.cs == 1 || self.cols <= 1
    }

    /// Whether the elements of each column are adjacent in memory.
    pub fn columns_are_contiguous(self) -> bool {
        self.rs == 1 || self.rows <= 1
    }

    /// The address of element (i, j). Computing it is safe; it is in bounds when
    /// `i < rows` and `j < cols`.
    pub fn at(self, i: usize, j: usize) -> *const f32 {
        self.ptr
            .wrapping_offset(i as isize * self.rs)
            .wrapping_offset(j as isize * self.cs)
    }
}

/// A writable strided matrix borrowed from an ndarray view for the duration of one GEMM.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatMut {
    pub ptr: *mut f32,
    pub rows: usize,
    pub cols: usize,
    pub rs: isize,
    pub cs: isize,
}

// SAFETY: a `MatMut` is made from an exclusive `ArrayViewMut2` that outlives the GEMM call; the
// call's rayon workers write disjoint tiles of it, so no element is touched by two threads.
unsafe impl Send for MatMut {}
// SAFETY: as above.
unsafe impl Sync for MatMut {}

impl MatMut {
    /// The strided view of `view`'s elements.
    pub fn from_view(view: &mut ArrayViewMut2<'_, f32>) -> MatMut {
        let (rows, cols) = view.dim();
        let (rs, cs) = (view.strides()[0], view.strides()[1]);
        MatMut {
            ptr: view.as_mut_ptr(),
            rows,
            cols,
            rs,
            cs,
        }
    }

    /// The transpose, without moving data.
    pub fn t(self) -> MatMut {
        MatMut {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// Whether the elements of each row are adjacent in memory.
    pub fn rows_are_contiguous(self) -> bool {
        self.cs == 1 || self.cols <= 1
    }

    /// The address of element (i, j); in bounds when `i < rows` and `j < cols`.
    pub fn at(self, i: usize, j: usize) -> *mut f32 {
        self.ptr
            .wrapping_offset(i as isize * self.rs)
            .wrapping_offset(j as isize * self.cs)
    }
}
