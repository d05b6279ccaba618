//! The packed, blocked SGEMM behind every public matrix multiply: `C = A · B (+ bias)`.
//!
//! The structure is that of GotoBLAS and BLIS, sized for the small batches of an MLP. A
//! microkernel ([`crate::kernel`]) keeps an `mr × nr` tile of C in registers while it walks k,
//! reading B from a packed panel (`kc × nr`, contiguous, zero-padded) and A in place (its rows are
//! contiguous along k), from row copies at a padded stride (its row stride is a multiple of
//! 1 KiB, which would crowd a few L1 sets), or from packed column panels (its rows are strided;
//! a strided A with contiguous columns is read in place too when it has at most a thousand
//! elements or k is at most 64, as a weight gradient `gᵀ` over a batch). One kernel call
//! computes a run of tiles: a column (sharing a panel of B) or a row (sharing A's micro-panel).
//! Two loop orders decide which micro-panel stays in L1, and a third serves updates:
//!
//! ```text
//! C row-contiguous (the usual case): B's micro-panel stays in L1, A streams from L2
//!     parallel over tasks (bands of panels x bands of rows):
//!         for each panel of nr columns in the task:
//!             for each k block (kc ~ 128, increasing):
//!                 pack B[block, panel]                      (by the task itself: hot in L1)
//!                 for each tile row in the task: microkernel
//!     (B is read in place instead when its rows are contiguous and at most two tile rows would
//!     reuse a packed panel: then the copy would cost as much as it saves. If a k block of B then
//!     fits in L2, each tile row walks all the task's panels instead, writing C row by row.)
//!
//! C strided (a transposed product): A's micro-panel stays in L1, B streams from L2
//!     for each k block (usually one: kc up to ~1024):
//!         pack every panel of B[block, :]                   (parallel over panels, or over
//!                                                            pieces of k when there are fewer
//!                                                            panels than threads)
//!         parallel over tasks: for each tile row: for each panel: microkernel
//!     (B is read in place when it is laid out as its packed panel already: a batch of 64 in
//!     column-major order, as `W · xᵀ`'s B)
//!
//! C updated by an optimizer's step (`matmul_at_b_update_into`; one k block, up to ~1024):
//!     pack every panel of B                                 (parallel over panels)
//!     parallel over tile rows:
//!         for each panel: microkernel into the task's band buffer (mr rows of C's width)
//!         the update, a whole row of C at a time            (see [`epilogue`])
//!     (plain SGD, `matmul_at_b_descend_into`, needs no band: the microkernel subtracts
//!     rate x its tile from C's tile in its registers; B is read in place when at most two
//!     bands use it)
//!     (with no more tile rows than threads, as for an output layer's 10 rows, the threads split
//!     the panels instead: each packs its own and updates those columns of every row)
//! ```
//!
//! - **Through ReLU.** A product stored through ReLU (a layer's forward pass with its activation
//!   fused, `matmul_a_bt_relu_into`) is rectified tile by tile in the microkernel's registers
//!   after the last k block, before the store ([`epilogue`]). Back through ReLU (a layer's input
//!   gradient gated by its input, `matmul_a_b_relu_backward_into`), each tile is gated there by
//!   the ReLU's output, read a vector at a time (a gate with strided rows is applied in a pass of
//!   its own after the product).
//! - **Narrow products.** At most 16 columns of C with A's rows and B's columns contiguous (the
//!   output layer's `x · Wᵀ`) skip all of this: dot products along k, see [`narrow`].
//! - **Orientation.** `C = A · B` and `Cᵀ = Bᵀ · Aᵀ` are the same product; the driver computes
//!   whichever needs less packing ([`plan::cost`]). For the forward pass `x · Wᵀ` that means
//!   vectors along the batch and W read in place, rather than transposing all of W.
//! - **Complexity.** O(m·n·k) multiply-adds, plus O(k·n) copies to pack B (once per band of rows)
//!   and, when A's rows are strided, O(m·k) to pack A.
//! - **Parallelism.** Tiles are split into tasks for the kernels' threads ([`crate::team`]) when
//!   the product has at least [`plan::PARALLEL_MIN_FLOPS`] flops (or is an update split by
//!   columns whose B is worth packing in parallel, [`plan::parallel_update_by_columns`], or has
//!   a tiny k and reads B in place, [`plan::parallel_tiny_k`]); the k loop is never split
//!   between threads (the input gradient's two fixed halves of k, [`split_k`], are two products
//!   of their own).
//! - **Determinism.** Each element of C is accumulated by one microkernel call per k block, in
//!   increasing k, starting from the previous block's value (the first block starts from the bias
//!   or zero). The tiling depends on the shapes, the layouts and the kernel path only, so the
//!   result is bit-identical for any number of threads.
//! - **Memory.** Packed panels live in per-thread buffers reused across calls ([`workspace`]).

mod epilogue;
mod layout;
mod narrow;
mod pack;
mod plan;
mod split_k;
mod workspace;

pub(crate) use epilogue::Output;
pub use epilogue::TileUpdate;
pub(crate) use layout::{MatMut, MatRef};

use std::ops::Range;

use crate::kernel::{self, Finish, Init, KernelPath, Tile, TileShape};
use crate::team;
use pack::pack_panel;
use plan::{KBlocks, Split, TaskGrid};
pub(crate) use workspace::{Slot, Workspace};

/// A bias added to every row of C (one value per column of C), in the kernel's orientation.
#[derive(Clone, Copy)]
enum Bias<'a> {
    /// No bias.
    None,
    /// `bias[j]` added to column j of the kernel's C.
    Columns(&'a [f32]),
    /// `bias[i]` added to row i of the kernel's C (the bias of a transposed product).
    Rows(&'a [f32]),
}

/// `c = a · b (+ bias)` (`bias[j]` on every element of column j) stored as `output` says, or C
/// updated from `a · b` as `output` says (then without a bias).
///
/// Shapes must already be checked: `a` is (m, k), `b` is (k, n), `c` is (m, n), `bias` has n
/// elements, a gate has C's shape. `c` must not overlap `a`, `b`, `bias` or a gate.
pub(crate) fn gemm_with(a: MatRef, b: MatRef, c: MatMut, bias: Option<&[f32]>, output: Output) {
    debug_assert_eq!((a.rows, a.cols), (c.rows, b.rows));
    debug_assert_eq!(b.cols, c.cols);
    debug_assert!(output.is_store() || bias.is_none());
    let (m, n, k) = (c.rows, c.cols, a.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if output.is_store() {
            fill_with_bias(c, bias, output);
        } else {
            // The product is zero: the update still sees every element once.
            update_from_product(c, &vec![0.0; m * n], n, 1, output);
        }
        return;
    }
    gemm_on_path(kernel::kernel_path(), a, b, c, bias, output);
}

/// `c = a · b` for the public `a · b` form, a layer's input gradient, gated by `gate > 0` when
/// given (taken back through the ReLU whose output is `gate`): with k in two halves side by side
/// when [`split_k::applies`]. The other forms never split k: the weight gradient's stored
/// product keeps the bits of its fused update, which cannot be split.
pub(crate) fn gemm_a_b(a: MatRef, b: MatRef, c: MatMut, gate: Option<MatRef>) {
    if split_k::applies(a, b, c) {
        split_k::gemm(kernel::kernel_path(), a, b, c, gate);
    } else {
        gemm_with(
            a,
            b,
            c,
            None,
            gate.map_or(Output::Store, Output::StoreGated),
        );
    }
}

/// [`gemm_with`] for `k > 0` on kernel path `path`, without splitting k.
fn gemm_on_path(
    path: KernelPath,
    a: MatRef,
    b: MatRef,
    c: MatMut,
    bias: Option<&[f32]>,
    output: Output,
) {
    if narrow::applies(a, b, c) {
        narrow::gemm(path, a, b, c, bias, output);
        return;
    }
    let shape = path.tile_shape();
    if plan::cost(b.t(), a.t(), c.t(), shape) < plan::cost(a, b, c, shape) {
        let bias = bias.map_or(Bias::None, Bias::Rows);
        blocked(path, shape, b.t(), a.t(), c.t(), bias, output.transposed());
    } else {
        let bias = bias.map_or(Bias::None, Bias::Columns);
        blocked(path, shape, a, b, c, bias, output);
    }
}

/// C updated from `a · b` through a temporary product: for products whose k needs several
/// blocks, where a tile's product is not complete after one microkernel call.
///
/// The temporary has C's kind of layout where the driver looks at it (rows contiguous or not), so
/// the product is computed, orientation and blocking alike, exactly as `C = A · B` would be.
fn update_via_temporary(
    path: KernelPath,
    shape: TileShape,
    a: MatRef,
    b: MatRef,
    c: MatMut,
    output: Output,
) {
    let (m, n) = (c.rows, c.cols);
    let (rs, cs) = if c.rows_are_contiguous() {
        (n, 1)
    } else {
        (1, m.max(2))
    };
    let mut product = vec![0.0f32; (m - 1) * rs + (n - 1) * cs + 1];
    let target = MatMut {
        ptr: product.as_mut_ptr(),
        rows: m,
        cols: n,
        rs: rs as isize,
        cs: cs as isize,
    };
    blocked(path, shape, a, b, target, Bias::None, Output::Store);
    update_from_product(c, &product, rs, cs, output);
}

/// Applies `output` to all of C, row by row, from a product stored at strides (`rs`, `cs`).
fn update_from_product(c: MatMut, product: &[f32], rs: usize, cs: usize, output: Output) {
    let mut row = vec![0.0f32; c.cols];
    let mut c_row = vec![0.0f32; c.cols];
    for i in 0..c.rows {
        for j in 0..c.cols {
            row[j] = product[i * rs + j * cs];
            // SAFETY: (i, j) is inside `c`, which the caller borrows exclusively.
            c_row[j] = unsafe { *c.at(i, j) };
        }
        output.apply(i, 0, &mut c_row, &row);
        for (j, &value) in c_row.iter().enumerate() {
            // SAFETY: as above.
            unsafe { *c.at(i, j) = value };
        }
    }
}

/// `c = bias` (or zero) on every row, as the stored `output` keeps it: the product of an empty k.
fn fill_with_bias(c: MatMut, bias: Option<&[f32]>, output: Output) {
    for i in 0..c.rows {
        for j in 0..c.cols {
            let value = output.stored(i, j, bias.map_or(0.0, |bias| bias[j]));
            // SAFETY: (i, j) is inside `c`, which the caller borrows exclusively.
            unsafe { *c.at(i, j) = value };
        }
    }
}

/// Every element of C as the stored `output` keeps it ([`Output::stored`]), in a pass of its
/// own over the product already in C: for a gate the microkernel cannot read by rows.
fn store_in_place(c: MatMut, output: Output) {
    for i in 0..c.rows {
        for j in 0..c.cols {
            // SAFETY: (i, j) is inside `c`, which the caller borrows exclusively.
            unsafe { *c.at(i, j) = output.stored(i, j, *c.at(i, j)) };
        }
    }
}

/// The blocked, packed product in the kernel's orientation (vectors along the columns of `c`).
fn blocked(
    path: KernelPath,
    shape: TileShape,
    a: MatRef,
    b: MatRef,
    c: MatMut,
    bias: Bias<'_>,
    output: Output,
) {
    if let Output::StoreGated(gate) = output
        && !gate.rows_are_contiguous()
    {
        // The microkernel reads the gate a vector at a time along the rows of its C.
        blocked(path, shape, a, b, c, bias, Output::Store);
        store_in_place(c, output);
        return;
    }
    let (m, n, k) = (c.rows, c.cols, a.cols);
    // An update is computed band by band with A's micro-panel resident (`with_row_bands`).
    let b_resident = c.rows_are_contiguous() && output.is_store();
    let k_limit = if b_resident {
        shape.kc_b_resident
    } else {
        shape.kc_a_resident
    };
    let blocks = KBlocks::new(k, k_limit);
    if !output.is_store() && blocks.count > 1 {
        update_via_temporary(path, shape, a, b, c, output);
        return;
    }
    let threads = team::threads();
    let flops = 2 * m * n * k;
    let rows = Split::new(m, 1, shape.mr);
    let columns = Split::new(n, shape.lanes, shape.nv);
    let a_layout = if !a.rows_are_contiguous() && !plan::read_a_in_place(a) {
        ALayout::ColumnPanels
    } else if b_resident && plan::copy_a_rows(a, columns.parts) {
        ALayout::RowCopies
    } else {
        ALayout::InPlace
    };
    let b_in_place = if b_resident || !output.is_store() {
        plan::read_b_in_place(b, shape.lanes, m.div_ceil(shape.mr), b_resident, threads)
    } else {
        plan::b_is_its_packed_panel(b, shape)
    };
    let product = Product {
        path,
        shape,
        a,
        b,
        c,
        bias,
        output,
        blocks,
        rows,
        columns,
        parallel: threads > 1
            && (flops >= plan::PARALLEL_MIN_FLOPS
                || output.is_store() && plan::parallel_tiny_k(flops, k, b_in_place)
                || !output.is_store()
                    && plan::parallel_update_by_columns(
                        rows.parts,
                        k * n,
                        b.rows_are_contiguous(),
                        b_in_place,
                        threads,
                    )),
        threads,
        a_layout,
        b_in_place,
        rows_across: b_in_place && plan::rows_across_b_in_place(blocks.len, n),
    };
    if !output.is_store() {
        product.with_row_bands();
    } else if b_resident {
        product.with_resident_b();
    } else {
        product.with_resident_a();
    }
}

/// One product in the kernel's orientation, with its blocking.
struct Product<'a> {
    path: KernelPath,
    shape: TileShape,
    a: MatRef,
    b: MatRef,
    c: MatMut,
    bias: Bias<'a>,
    /// Store the product, or update C from it (then `blocks.count == 1`).
    output: Output<'a>,
    blocks: KBlocks,
    /// The tile rows: parts of at most `mr` rows.
    rows: Split,
    /// The column panels: parts of at most `nv` vectors.
    columns: Split,
    parallel: bool,
    threads: usize,
    a_layout: ALayout,
    /// Whether B's panels are read in place rather than packed: in the B-resident order or an
    /// update when packing would not pay (`plan::read_b_in_place`), in the A-resident order when
    /// B is its own packed panel (`plan::b_is_its_packed_panel`).
    b_in_place: bool,
    /// Whether the B-resident order, reading B in place, computes a row of tiles per kernel
    /// call rather than a column (`plan::rows_across_b_in_place`).
    rows_across: bool,
}

/// How the microkernel reads A.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ALayout {
    /// A itself: its rows are contiguous along k, at a harmless stride.
    InPlace,
    /// Panels holding copies of the tile's rows, `a_row_stride()` floats apart.
    RowCopies,
    /// Panels holding the tile's columns: `mr` floats per step of k (A's rows are strided).
    ColumnPanels,
}

/// Where the microkernel reads one k block of one column panel of B: its first element and the
/// distance between its rows (the panel width when packed, B's row stride when read in place).
#[derive(Clone, Copy)]
struct BPanel {
    ptr: *const f32,
    row_stride: usize,
}

impl BPanel {
    /// A packed panel of `cols` columns, rows padded to whole vectors of `lanes`.
    fn packed(panel: &[f32], kc: usize, cols: usize, lanes: usize) -> BPanel {
        let row_stride = cols.next_multiple_of(lanes);
        assert!(panel.len() >= kc * row_stride, "packed B panel too short");
        BPanel {
            ptr: panel.as_ptr(),
            row_stride,
        }
    }
}

/// A task's buffer for one band of rows of the product (`with_row_bands`): the tile's rows are
/// `row_stride` floats apart, column j of C at offset j.
#[derive(Clone, Copy)]
struct Band {
    ptr: *mut f32,
    len: usize,
    row_stride: usize,
}

/// Where the microkernel reads A from.
#[derive(Clone, Copy)]
enum ASource<'a> {
    /// A itself.
    InPlace,
    /// Packed panels, one per k block and tile row, ordered by k block then tile row.
    Packed(&'a [f32]),
}

/// Where a row of tiles finds its panels of B.
#[derive(Clone, Copy)]
enum BPanels<'a> {
    /// Packed one after another, `b_panel_len()` floats apart, starting with panel `first`.
    Packed { panels: &'a [f32], first: usize },
    /// B itself: its rows are contiguous and every panel is a whole number of vectors wide
    /// (`plan::read_b_in_place`, `plan::b_is_its_packed_panel`).
    InPlace,
}

/// A run of tiles of equal shape that one kernel call computes.
#[derive(Clone, Copy, Debug)]
enum Run {
    /// `count` tiles one below the other from tile row `row_tile`, sharing a panel of B.
    Down { row_tile: usize, count: usize },
    /// `count` tiles side by side in tile row `row_tile`, sharing A's micro-panel; each reads
    /// its panel of B `b_next` floats after the previous one's (the next packed panel, or the
    /// next columns of B read in place).
    Across {
        row_tile: usize,
        count: usize,
        b_next: usize,
    },
}

impl Product<'_> {
    /// The row stride of A's row copies: a k block plus one cache line, so that consecutive rows
    /// do not start in the same L1 set.
    fn a_row_stride(&self) -> usize {
        self.blocks.len.next_multiple_of(16) + 16
    }

    /// Floats in one packed A panel (one tile row, one k block).
    fn a_panel_len(&self) -> usize {
        self.a_row_stride() * self.shape.mr
    }

    /// Floats in one packed B panel (one column panel, one k block).
    fn b_panel_len(&self) -> usize {
        self.blocks.len * self.shape.nr()
    }

    /// Floats needed to pack `panels` panels of B (one k block), or zero when B is read in place.
    fn packed_b_len(&self, panels: usize) -> usize {
        if self.b_in_place {
            0
        } else {
            panels * self.b_panel_len()
        }
    }

    /// Floats needed to pack all of A, or zero when A is read in place.
    fn packed_a_len(&self) -> usize {
        match self.a_layout {
            ALayout::InPlace => 0,
            ALayout::RowCopies | ALayout::ColumnPanels => {
                self.blocks.count * self.rows.parts * self.a_panel_len()
            }
        }
    }

    /// C row-contiguous: each task packs its own B panels, one k block at a time, and streams
    /// its rows of A past each while the panel sits in L1.
    fn with_resident_b(&self) {
        let lanes = self.shape.lanes;
        let k = self.a.cols;
        let mut shared = Workspace::take(Slot::Shared, self.packed_a_len());
        let a_source = self.pack_a(shared.as_mut_slice());
        let row_tile_bytes = k * self.shape.mr * size_of::<f32>();
        let grid = TaskGrid::for_resident_b(
            self.rows.parts,
            self.columns.parts,
            row_tile_bytes,
            self.threads(),
            2 * self.c.rows * self.c.cols * k,
        );
        let run_task = |task: usize| {
            let (rows, panels) = grid.task(task, self.rows.parts, self.columns.parts);
            if self.rows_across {
                // B is read in place and stays in L2: each tile row walks all the task's panels.
                for block in 0..self.blocks.count {
                    for row_tile in rows.clone() {
                        let panels = panels.clone();
                        self.row_of_tiles(
                            a_source,
                            block,
                            row_tile,
                            panels,
                            BPanels::InPlace,
                            None,
                        );
                    }
                }
                return;
            }
            let mut scratch = Workspace::take(Slot::Task, self.packed_b_len(1));
            let packed = scratch.as_mut_slice();
            for panel in panels {
                let (j0, cols) = self.columns.part(panel);
                for block in 0..self.blocks.count {
                    let (p0, kc) = self.blocks.range(block, k);
                    let b_panel = if self.b_in_place {
                        // B's rows are contiguous with a positive stride and `cols` is a whole
                        // number of vectors (`plan::read_b_in_place`): no padding is needed.
                        BPanel {
                            ptr: self.b.at(p0, j0),
                            row_stride: self.b.rs as usize,
                        }
                    } else {
                        self.pack_b_rows(panel, p0..p0 + kc, packed);
                        BPanel::packed(packed, kc, cols, lanes)
                    };
                    self.column_of_tiles(a_source, block, rows.clone(), panel, b_panel);
                }
            }
        };
        self.run_tasks(grid, run_task);
    }

    /// C strided: all B panels of a k block are packed first (in parallel), then each task
    /// keeps one A micro-panel in L1 and streams its panels of B past it.
    fn with_resident_a(&self) {
        let k = self.a.cols;
        let b_panel_len = self.b_panel_len();
        let b_len = self.packed_b_len(self.columns.parts);
        let mut shared = Workspace::take(Slot::Shared, b_len + self.packed_a_len());
        let (b_packed, a_packed) = shared.as_mut_slice().split_at_mut(b_len);
        let a_source = self.pack_a(a_packed);
        let panel_bytes = b_panel_len * size_of::<f32>();
        let grid = TaskGrid::for_resident_a(
            self.rows.parts,
            self.columns.parts,
            panel_bytes,
            self.threads(),
        );
        for block in 0..self.blocks.count {
            let (p0, kc) = self.blocks.range(block, k);
            let b_panels = if self.b_in_place {
                BPanels::InPlace
            } else {
                self.pack_b_block(p0, kc, b_packed);
                BPanels::Packed {
                    panels: b_packed,
                    first: 0,
                }
            };
            let run_task = |task: usize| {
                let (rows, panels) = grid.task(task, self.rows.parts, self.columns.parts);
                for row_tile in rows {
                    self.row_of_tiles(a_source, block, row_tile, panels.clone(), b_panels, None);
                }
            };
            self.run_tasks(grid, run_task);
        }
    }

    /// Every panel of B for k block `p0 .. p0 + kc`, packed into `b_packed` one after another
    /// (in parallel when it pays: a panel per task, or pieces of a panel's rows when there are
    /// fewer panels than threads, as for a forward product's single panel of the batch's 64
    /// columns, so that every thread packs a share).
    fn pack_b_block(&self, p0: usize, kc: usize, b_packed: &mut [f32]) {
        let b_panel_len = self.b_panel_len();
        let elements = kc * self.c.cols;
        if !(self.parallel && plan::parallel_pack(elements, self.b.rows_are_contiguous())) {
            for (panel, packed) in b_packed.chunks_mut(b_panel_len).enumerate() {
                self.pack_b_rows(panel, p0..p0 + kc, packed);
            }
        } else if self.columns.parts >= self.threads {
            team::for_each_chunk_mut(b_packed, b_panel_len, |panel, packed| {
                self.pack_b_rows(panel, p0..p0 + kc, packed)
            });
        } else {
            // One panel would leave a thread idle. On two threads (Intel Xeon), the 64x784
            // forward product alone took 166-167 µs with xᵀ packed in two pieces against 173 µs
            // with one thread packing it; inside a training step, packing h1ᵀ for the 64x512
            // forward took 17-19 µs against 22-23 µs (xᵀ, whose batch the calling thread has
            // just written, packs no faster either way). Pieces are whole blocks of four rows,
            // which the transposing copy moves together.
            let piece = kc.div_ceil(self.threads).next_multiple_of(4);
            for (panel, packed) in b_packed.chunks_mut(b_panel_len).enumerate() {
                let width = self.panel_width(panel);
                let rows = &mut packed[..kc * width];
                team::for_each_chunk_mut(rows, piece * width, |index, rows| {
                    let first = p0 + index * piece;
                    self.pack_b_rows(panel, first..first + rows.len() / width, rows)
                });
            }
        }
    }

    /// Floats per row of B's packed panel `panel`: its columns, padded to whole vectors.
    fn panel_width(&self, panel: usize) -> usize {
        self.columns
            .part(panel)
            .1
            .next_multiple_of(self.shape.lanes)
    }

    /// Rows `rows` of B's panel `panel`, packed into `packed` (`panel_width` floats a row).
    fn pack_b_rows(&self, panel: usize, rows: Range<usize>, packed: &mut [f32]) {
        let (j0, cols) = self.columns.part(panel);
        let width = self.panel_width(panel);
        pack_panel(self.b, rows.start, rows.len(), j0, cols, width, packed);
    }

    /// An update of C (an optimizer's step), one band of `mr` rows at a time: B is packed once
    /// and shared (or read in place when at most two bands use it, `plan::read_b_in_place`);
    /// each task computes the whole band of the product into a buffer of its own (`mr` rows of
    /// C's width, in L1/L2: 25 KiB for W1), A's micro-panel staying in L1 as in
    /// `with_resident_a`, then hands the band to the update a whole row at a time. The update
    /// then reads and writes rows of W (and of an optimizer's state) front to back, which the
    /// hardware prefetchers follow, instead of a tile's short pieces of rows kilobytes
    /// apart, which they do not. A descent needs no band: the microkernel updates C's tiles
    /// itself. One k block only (`blocks.count == 1`).
    ///
    /// Against updating each tile (then 8x48) as the kernel finished it (with the tile's rows of W
    /// prefetched), a training step of the 784-512-512-10 MLP with SGD ran 8-10 % faster, on 2
    /// threads and on one (MNIST batches, alternating blocks of 16 steps, medians of ~900 steps
    /// each, 5 runs). With SGD's step inside the microkernel instead of a rule called on the band
    /// (`Output::Descend`), the 512x64 by 64x784 update inside a step took 0.91-0.92x the time on
    /// one thread and 0.94-0.96x on two (Intel Xeon, AVX-512).
    ///
    /// Read in place, the output layer's B (64x512, two bands of 10 rows) is not copied: its
    /// update took 5.6-5.9 µs against 8.7-9.2 µs on one thread, 9.3-9.4 µs against 10.3-14.4 µs
    /// on two, inside a step.
    fn with_row_bands(&self) {
        debug_assert_eq!(self.blocks.count, 1);
        if self.parallel && plan::update_by_columns(self.rows.parts, self.threads) {
            self.with_column_groups();
            return;
        }
        let kc = self.a.cols;
        let b_len = self.packed_b_len(self.columns.parts);
        let mut shared = Workspace::take(Slot::Shared, b_len + self.packed_a_len());
        let (b_packed, a_packed) = shared.as_mut_slice().split_at_mut(b_len);
        let a_source = self.pack_a(a_packed);
        let b_panels = if self.b_in_place {
            BPanels::InPlace
        } else {
            self.pack_b_block(0, kc, b_packed);
            BPanels::Packed {
                panels: b_packed,
                first: 0,
            }
        };
        let run_band = |row_tile: usize| {
            let mut band = Workspace::take(Slot::Task, self.band_len());
            let panels = 0..self.columns.parts;
            self.update_row_of_tiles(a_source, row_tile, panels, b_panels, band.as_mut_slice());
        };
        if self.parallel {
            team::for_each(self.rows.parts, run_band);
        } else {
            (0..self.rows.parts).for_each(run_band);
        }
    }

    /// An update of C with no more tile rows than threads (an output layer's 10 weights per
    /// input), split between the threads by columns instead of rows: each task packs its own
    /// group of B's panels, computes those columns of every band of the product and updates them.
    /// B is the layer's input, whose columns the previous layer's forward product split between
    /// the threads in the same order (`hᵀ = W · xᵀ`, by rows of W), so each thread packs the
    /// columns it wrote, where split by rows each would read half of B from the other core.
    /// Inside a two-thread training step of the course MLP, the output layer's update (10x64 by
    /// 64x512), when it still packed B, took 11-13 µs so, against 18-20 µs on the calling thread
    /// alone (Intel Xeon, AVX-512; one thread, reading only its own cache, takes 9.5-10 µs). An
    /// update that reads B in place has nothing to pack and runs on the calling thread
    /// ([`plan::parallel_update_by_columns`]).
    fn with_column_groups(&self) {
        let kc = self.a.cols;
        let b_panel_len = self.b_panel_len();
        let mut shared = Workspace::take(Slot::Shared, self.packed_a_len());
        let a_source = self.pack_a(shared.as_mut_slice());
        let groups = self.threads.min(self.columns.parts);
        let run_group = |group: usize| {
            let panels = plan::band(group, groups, self.columns.parts);
            let packed_len = self.packed_b_len(panels.len());
            let mut scratch = Workspace::take(Slot::Task, packed_len + self.band_len());
            let (packed, band) = scratch.as_mut_slice().split_at_mut(packed_len);
            let b_panels = if self.b_in_place {
                BPanels::InPlace
            } else {
                for (panel, packed) in panels.clone().zip(packed.chunks_exact_mut(b_panel_len)) {
                    self.pack_b_rows(panel, 0..kc, packed);
                }
                BPanels::Packed {
                    panels: packed,
                    first: panels.start,
                }
            };
            for row_tile in 0..self.rows.parts {
                self.update_row_of_tiles(a_source, row_tile, panels.clone(), b_panels, band);
            }
        };
        team::for_each(groups, run_group);
    }

    /// Whether the microkernel applies the update to C's tiles itself: a descent
    /// ([`Output::Descend`]) on a C whose rows are contiguous. Then no band is needed.
    fn descends_in_kernel(&self) -> bool {
        matches!(self.output, Output::Descend(_)) && self.c.cs == 1
    }

    /// Floats of a task's band buffer for an update: one tile row of the product at C's width,
    /// or none when the kernel updates C itself.
    fn band_len(&self) -> usize {
        if self.descends_in_kernel() {
            0
        } else {
            self.shape.mr.min(self.c.rows) * self.c.cols
        }
    }

    /// Computes tile row `row_tile` of the product over the column panels `panels` and updates
    /// those elements of C from it: in the microkernel's registers when it
    /// [descends](Product::descends_in_kernel), else through `band` (`band_len()` floats) and the
    /// output's rule, a row at a time.
    fn update_row_of_tiles(
        &self,
        a_source: ASource<'_>,
        row_tile: usize,
        panels: Range<usize>,
        b_panels: BPanels<'_>,
        band: &mut [f32],
    ) {
        if self.descends_in_kernel() {
            self.row_of_tiles(a_source, 0, row_tile, panels, b_panels, None);
            return;
        }
        let (i0, rows) = self.rows.part(row_tile);
        let (last_j0, last_cols) = self.columns.part(panels.end - 1);
        let columns = self.columns.part(panels.start).0..last_j0 + last_cols;
        let band = &mut band[..rows * self.c.cols];
        let target = Band {
            ptr: band.as_mut_ptr(),
            len: band.len(),
            row_stride: self.c.cols,
        };
        self.row_of_tiles(a_source, 0, row_tile, panels, b_panels, Some(target));
        self.update_from_band(band, i0, columns);
    }

    /// Threads to plan for: one when the product is too small to run in parallel.
    fn threads(&self) -> usize {
        if self.parallel { self.threads } else { 1 }
    }

    /// Runs every task of `grid`: on the team's threads when the product runs in parallel, else in
    /// order on this thread.
    fn run_tasks(&self, grid: TaskGrid, run_task: impl Fn(usize) + Sync + Send) {
        if self.parallel && grid.len() > 1 {
            team::for_each(grid.len(), run_task);
        } else {
            (0..grid.len()).for_each(run_task);
        }
    }

    /// Packs A into `buffer` (every k block, every tile row) when its rows are strided.
    fn pack_a<'b>(&self, buffer: &'b mut [f32]) -> ASource<'b> {
        if self.a_layout == ALayout::InPlace {
            return ASource::InPlace;
        }
        let row_copies = self.a_layout == ALayout::RowCopies;
        let row_stride = self.a_row_stride();
        let (m, k, mr) = (self.c.rows, self.a.cols, self.shape.mr);
        let panel_len = self.a_panel_len();
        let row_tiles = self.rows.parts;
        let pack = |(index, packed): (usize, &mut [f32])| {
            let (block, row_tile) = (index / row_tiles, index % row_tiles);
            let (p0, kc) = self.blocks.range(block, k);
            let (i0, rows) = self.rows.part(row_tile);
            if row_copies {
                pack_panel(self.a, i0, rows, p0, kc, row_stride, packed);
            } else {
                // A's column panel [p][i] is the panel of Aᵀ's rows p, columns i.
                pack_panel(self.a.t(), p0, kc, i0, rows, mr, packed);
            }
        };
        if self.parallel
            && plan::parallel_pack(
                m * k,
                self.a_layout == ALayout::RowCopies || self.a.columns_are_contiguous(),
            )
        {
            team::for_each_chunk_mut(buffer, panel_len, |index, packed| pack((index, packed)));
        } else {
            buffer.chunks_mut(panel_len).enumerate().for_each(pack);
        }
        ASource::Packed(buffer)
    }

    /// Runs the microkernel on the column of tiles (`row_tiles`, `panel`) of C for k block
    /// `block`, with that block's panel of B: one kernel call per run of tiles of equal height.
    ///
    /// What the tiles of one run share (their shape, the k block, the bias) is worked out once:
    /// with k = 64 (the weight gradients) a tile is only a few hundred cycles of multiply-adds,
    /// and working it all out again for every tile took 8 % of the samples of the 512x64x512
    /// weight gradient and 16 % of the 64x10x512 input gradient (`perf record`, one thread,
    /// AVX2).
    fn column_of_tiles(
        &self,
        a_source: ASource<'_>,
        block: usize,
        row_tiles: Range<usize>,
        panel: usize,
        b_panel: BPanel,
    ) {
        let mut row_tile = row_tiles.start;
        while row_tile < row_tiles.end {
            let count = self.rows.equal_parts_from(row_tile, row_tiles.end);
            let run = Run::Down { row_tile, count };
            self.run_of_tiles(a_source, block, run, panel, b_panel, None);
            row_tile += count;
        }
    }

    /// Runs the microkernel on the row of tiles (`row_tile`, `panels`) of C for k block `block`,
    /// with that block's panels of B packed one after another in `b_packed`: one kernel call per
    /// run of panels of equal width. Writes C itself, or the tiles' columns of `band` when given
    /// (the band holds the tile row).
    ///
    /// The forward products and the weight updates keep A's micro-panel in L1 and walk the
    /// panels of B; calling the kernel once per tile there took 4 % of the samples of a
    /// two-thread training epoch, in working out each tile again (`perf record`, AVX2). One call
    /// per row: the SGD epoch went from 1.49-1.63 s to 1.35-1.45 s on two threads and from
    /// 2.77-3.10 s to 2.52-2.79 s on one (alternating runs of both builds, Zen 3).
    fn row_of_tiles(
        &self,
        a_source: ASource<'_>,
        block: usize,
        row_tile: usize,
        panels: Range<usize>,
        b_panels: BPanels<'_>,
        band: Option<Band>,
    ) {
        let (lanes, b_panel_len) = (self.shape.lanes, self.b_panel_len());
        let (p0, kc) = self.blocks.range(block, self.a.cols);
        let mut panel = panels.start;
        while panel < panels.end {
            let count = self.columns.equal_parts_from(panel, panels.end);
            let (j0, cols) = self.columns.part(panel);
            let (b_panel, b_next) = match b_panels {
                BPanels::Packed { panels, first } => {
                    // The run's panels, bounds-checked; each holds kc rows of the width.
                    let packed = &panels[(panel - first) * b_panel_len..][..count * b_panel_len];
                    let b_panel = BPanel::packed(&packed[..b_panel_len], kc, cols, lanes);
                    (b_panel, b_panel_len)
                }
                BPanels::InPlace => {
                    let b_panel = BPanel {
                        ptr: self.b.at(p0, j0),
                        row_stride: self.b.rs as usize,
                    };
                    (b_panel, cols)
                }
            };
            let run = Run::Across {
                row_tile,
                count,
                b_next,
            };
            self.run_of_tiles(a_source, block, run, panel, b_panel, band);
            panel += count;
        }
    }

    /// Runs the microkernel on one run of tiles of equal shape starting at (`row_tile`, `panel`)
    /// (see [`Run`]), for k block `block`, the first tile reading `b_panel`.
    fn run_of_tiles(
        &self,
        a_source: ASource<'_>,
        block: usize,
        run: Run,
        panel: usize,
        b_panel: BPanel,
        band: Option<Band>,
    ) {
        let mr = self.shape.mr;
        let (row_tile, row_count, panel_count) = match run {
            Run::Down { row_tile, count } => (row_tile, count, 1),
            Run::Across {
                row_tile, count, ..
            } => (row_tile, 1, count),
        };
        let (i0, rows) = self.rows.part(row_tile);
        let (j0, cols) = self.columns.part(panel);
        let vectors = self.shape.vectors(cols);
        let (p0, kc) = self.blocks.range(block, self.a.cols);
        let a_panel_len = self.a_panel_len();
        // A's first element, its strides, and the distance to the next tile row's first element.
        let (a, a_rs, a_ks, a_below) = match (a_source, self.a_layout) {
            (ASource::InPlace, _) => (
                self.a.at(i0, p0),
                self.a.rs,
                self.a.cs,
                rows as isize * self.a.rs,
            ),
            (ASource::Packed(packed), layout) => {
                let index = block * self.rows.parts + row_tile;
                let panels = &packed[index * a_panel_len..][..row_count * a_panel_len];
                let (a_rs, a_ks) = if layout == ALayout::RowCopies {
                    (self.a_row_stride() as isize, 1)
                } else {
                    (1, mr as isize)
                };
                (panels.as_ptr(), a_rs, a_ks, a_panel_len as isize)
            }
        };
        let (c, c_rs, c_cs) = match band {
            Some(band) => {
                assert!(
                    row_count == 1
                        && (rows - 1) * band.row_stride + j0 + panel_count * cols <= band.len,
                    "the band holds the tiles"
                );
                (band.ptr.wrapping_add(j0), band.row_stride as isize, 1)
            }
            None => (self.c.at(i0, j0), self.c.rs, self.c.cs),
        };
        let init = match self.bias {
            _ if block > 0 => Init::Accumulate,
            Bias::Columns(bias) => Init::BiasColumns(bias[j0..][..panel_count * cols].as_ptr()),
            Bias::Rows(bias) => Init::BiasRows(bias[i0..][..row_count * rows].as_ptr()),
            Bias::None => Init::Zero,
        };
        // Where the run's next tile starts, in rows and columns of C.
        let next_tile = match run {
            Run::Down { .. } => (rows, 0),
            Run::Across { .. } => (0, cols),
        };
        let (a_next, b_next, c_next, bias_next) = match run {
            Run::Down { .. } => {
                let bias_next = if matches!(init, Init::BiasRows(_)) {
                    rows
                } else {
                    0
                };
                (a_below, 0, rows as isize * c_rs, bias_next)
            }
            Run::Across { b_next, .. } => {
                let bias_next = if matches!(init, Init::BiasColumns(_)) {
                    cols
                } else {
                    0
                };
                (0, b_next as isize, cols as isize * c_cs, bias_next)
            }
        };
        let tile = Tile {
            kc,
            a,
            a_rs,
            a_ks,
            b: b_panel.ptr,
            b_ks: b_panel.row_stride,
            c,
            c_rs,
            c_cs,
            nr: cols,
            init,
            finish: self.finish(block, band.is_some(), (i0, j0), next_tile),
            count: row_count * panel_count,
            a_next,
            b_next,
            c_next,
            bias_next,
        };
        // SAFETY: the run's tiles cover A's rows i0 .. i0 + row_count * rows and columns
        // p0 .. p0 + kc, inside A (or `row_count` consecutive packed panels, mr floats per step
        // of k, bounds-checked by the slice above); each tile's B panel holds kc rows of
        // `vectors * lanes` floats (a packed panel's length is checked by `BPanel::packed`, a run
        // across packed panels by the caller's slice; read in place, a run's panels are B's
        // columns j0 .. j0 + panel_count * cols, with cols = vectors * lanes, inside B as
        // `plan::read_b_in_place` and `plan::b_is_its_packed_panel` require); C's tiles are
        // inside C and written by this task only (or inside the task's band, asserted); the bias
        // slices hold the run's `panel_count * cols` (`row_count * rows`) values; a gate has C's
        // shape and contiguous rows (`blocked` checked), so each tile's gate lies inside it as
        // the tile lies inside C; `path` was checked by `kernel_path`.
        unsafe { kernel::run_tiles(self.path, rows, vectors, &tile) };
    }

    /// What the microkernel does with the tiles of k block `block`, written into a band
    /// (`into_band`) or into C, for a run whose first tile starts at C's element (i0, j0) and
    /// each next one `down` rows and `across` columns further: stores them (through ReLU, or
    /// gated, after the last k block of a product stored so), or applies a descent to C's tiles.
    fn finish(
        &self,
        block: usize,
        into_band: bool,
        (i0, j0): (usize, usize),
        (down, across): (usize, usize),
    ) -> Finish {
        let last = block + 1 == self.blocks.count;
        match self.output {
            Output::StoreRelu if last => Finish::StoreRelu,
            // The gate's rows are contiguous (`blocked` made sure), and it moves with C.
            Output::StoreGated(gate) if last => Finish::StoreGated {
                gate: gate.at(i0, j0),
                gate_rs: gate.rs,
                gate_next: down as isize * gate.rs + across as isize,
            },
            Output::Descend(rate) if !into_band => {
                debug_assert!(last && self.descends_in_kernel());
                Finish::Descend(rate)
            }
            _ => Finish::Store,
        }
    }

    /// Applies the output's rule to `columns` of rows `i0 ..` of C, a row at a time, from `band`
    /// (the same rows of the product, C's width apart, column j at offset j).
    fn update_from_band(&self, band: &[f32], i0: usize, columns: Range<usize>) {
        let n = self.c.cols;
        let j0 = columns.start;
        for (i, product_row) in band.chunks_exact(n).enumerate() {
            let product_row = &product_row[columns.clone()];
            if self.c.cs == 1 {
                // SAFETY: these columns of row i0 + i of C are inside C, contiguous, and written
                // by this task only.
                let c_row = unsafe {
                    std::slice::from_raw_parts_mut(self.c.at(i0 + i, j0), product_row.len())
                };
                self.output.apply(i0 + i, j0, c_row, product_row);
            } else {
                for (j, &product) in (j0..).zip(product_row) {
                    // SAFETY: (i0 + i, j) is inside C and written by this task only.
                    let element = unsafe { &mut *self.c.at(i0 + i, j) };
                    self.output
                        .apply(i0 + i, j, std::slice::from_mut(element), &[product]);
                }
            }
        }
    }
}
