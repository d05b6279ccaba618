//! Planning one GEMM: which way round to compute it, how to block k, and how to split the work
//! between threads. Every decision that could change a result (orientation, k blocking) depends
//! only on the shapes, the layouts and the kernel path, never on the number of threads.

use std::ops::Range;

use super::layout::{MatMut, MatRef};
use crate::kernel::TileShape;

/// Below this many floating-point operations (2·m·n·k) a GEMM runs on the calling thread alone:
/// about 10 µs of work for one AVX-512 core, the order of what waking the rayon pool costs.
pub(crate) const PARALLEL_MIN_FLOPS: usize = 1 << 20;

/// Below this many elements a packing pass that copies rows runs on the calling thread alone:
/// 2¹⁵ floats (128 KiB) copy in some 5 µs, several times what a parallel phase of the kernels'
/// team costs. The weight updates pack their batch-sized B (64 x 784 and 64 x 512) so.
const PARALLEL_MIN_ROW_COPY: usize = 1 << 15;

/// The same for a transposing packing pass, which writes one float at a time: some four cycles
/// per element, so 2¹⁴ floats already take about 25 µs. The forward pass packs `xᵀ` (64 x 784 =
/// 50,176 floats) before its kernels start; packed by both threads, the 64x784x512 forward ran
/// 6–9 % faster (alternating runs in one process, 2 threads).
const PARALLEL_MIN_TRANSPOSE: usize = 1 << 14;

/// The fewest tile rows a row band of the B-resident order gets for parallelism alone: each band
/// packs B again, so a band of 8 tiles (48 rows on AVX-512) re-packs B at most once per 48 rows
/// of work. The input gradient `g · W` of a batch of 64 (11 tiles of 6 or 5 rows) then packs W
/// once, and its 8 column bands still keep two threads busy. Measured with the earlier 8-row
/// tiles: 7-11 % faster for 64x512 by 512x512 (alternating runs in one process, 2 threads) than
/// with bands of 4 tiles, which packed W twice.
const MIN_BAND_TILES: usize = 8;

/// Tasks per thread to aim for. Many more tasks than threads let rayon's work stealing even out
/// tasks of unequal size (11 column panels over 2 threads would split 6 : 5), and keep the other
/// threads busy when one thread is descheduled because another process shares its core: with 16
/// tasks a thread, a stalled thread holds up at most one small task. Tasks are claimed lazily,
/// so an extra task costs about a microsecond; the cost that bounds the count is the B-resident
/// order re-packing B once per row band (see `MIN_BAND_TILES`).
const TASKS_PER_THREAD: usize = 16;

/// Estimated cost, in cycles of one core, of computing `C = A · B` with the microkernel's vectors
/// along the columns of C (the rows of C are broadcast from A).
///
/// It adds the multiply-adds (columns rounded up to whole vectors; two vector FMAs per cycle), the
/// packing of B (a row copy is cheap, a transposing copy about one cycle per element), the packing
/// of A when its rows are not contiguous, and the element-wise store of C when its rows are not
/// contiguous. The cheaper of `C = A · B` and `Cᵀ = Bᵀ · Aᵀ` is computed.
pub(crate) fn cost(a: MatRef, b: MatRef, c: MatMut, shape: TileShape) -> f64 {
    let (m, n, k) = (c.rows as f64, c.cols as f64, a.cols as f64);
    let padded_n = c.cols.div_ceil(shape.lanes) as f64 * shape.lanes as f64;
    let multiply = m * padded_n * k / (2.0 * shape.lanes as f64);
    let copy = |contiguous: bool| if contiguous { 0.25 } else { 1.0 };
    let pack_b = k * n * copy(b.rows_are_contiguous());
    let pack_a = if a.rows_are_contiguous() {
        0.0
    } else {
        m * k * copy(a.columns_are_contiguous())
    };
    let store = if c.rows_are_contiguous() {
        0.0
    } else {
        2.0 * m * n
    };
    multiply + pack_b + pack_a + store
}

/// How the shared dimension k is cut into blocks: `count` blocks of `len` (the last may be
/// shorter). Blocks are as even as possible, so k = 784 with a limit of 512 gives 392 + 392.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KBlocks {
    pub count: usize,
    pub len: usize,
}

impl KBlocks {
    /// Blocks of at most `limit` covering `k > 0`.
    pub fn new(k: usize, limit: usize) -> KBlocks {
        let count = k.div_ceil(limit.max(1));
        KBlocks {
            count,
            len: k.div_ceil(count),
        }
    }

    /// The first index and the length of block `block` of `k`.
    pub fn range(self, block: usize, k: usize) -> (usize, usize) {
        let start = block * self.len;
        (start, self.len.min(k - start))
    }
}

/// The operand block one thread should keep in its L2 between uses, at most: half of a 1 MiB L2,
/// leaving room for the other operand, C and the source of the next packing pass.
const L2_BLOCK_BYTES: usize = 512 * 1024;

/// The split of the tile grid into rectangular tasks: `row_bands × column_bands`.
///
/// Tasks are numbered so that the contiguous ranges of task numbers rayon hands to one thread
/// share the operand that stays in that thread's L2.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TaskGrid {
    pub row_bands: usize,
    pub column_bands: usize,
    /// Whether consecutive tasks share a row band (else a column band).
    row_band_major: bool,
}

impl TaskGrid {
    /// The split when B's micro-panel stays in L1 and A's rows stream from L2: each task walks
    /// its panels once and streams its rows of A past each, so columns are split first (into
    /// about `TASKS_PER_THREAD` bands per thread); rows are split as well when a band of A
    /// (`row_tile_bytes` per tile, all of k) would not fit the L2 budget, or when there are too
    /// few panels. With `threads == 1` only the cache decides. A parallel product of fewer than
    /// [`PARALLEL_MIN_FLOPS`] (`flops`; one with a tiny k, [`parallel_tiny_k`]) gets one band of
    /// tile rows per thread instead: its tasks are too short to share out in many.
    pub fn for_resident_b(
        row_tiles: usize,
        column_panels: usize,
        row_tile_bytes: usize,
        threads: usize,
        flops: usize,
    ) -> TaskGrid {
        if threads > 1 && flops < PARALLEL_MIN_FLOPS {
            return TaskGrid {
                row_bands: threads.min(row_tiles).max(1),
                column_bands: 1,
                row_band_major: true,
            };
        }
        let target = tasks_for(threads);
        let column_bands = column_panels.min(target).max(1);
        let for_cache = (row_tiles * row_tile_bytes).div_ceil(L2_BLOCK_BYTES);
        // Every row band packs its own copy of B: keep bands at least MIN_BAND_TILES tiles tall
        // unless the cache asks for more.
        let row_bands = for_cache
            .max(
                target
                    .div_ceil(column_bands)
                    .min(row_tiles / MIN_BAND_TILES),
            )
            .min(row_tiles)
            .max(1);
        TaskGrid {
            row_bands,
            column_bands,
            row_band_major: true,
        }
    }

    /// The split when A's micro-panel stays in L1 and B's packed panels stream from L2: rows are
    /// split first; columns as well when one band's packed B (`panel_bytes` per panel) would not
    /// fit the L2 budget, or when there are too few row tiles. With `threads == 1` only the cache
    /// decides.
    pub fn for_resident_a(
        row_tiles: usize,
        column_panels: usize,
        panel_bytes: usize,
        threads: usize,
    ) -> TaskGrid {
        let target = tasks_for(threads);
        let row_bands = row_tiles.min(target).max(1);
        let for_cache = (column_panels * panel_bytes).div_ceil(L2_BLOCK_BYTES);
        let column_bands = for_cache
            .max(target.div_ceil(row_bands))
            .min(column_panels)
            .max(1);
        TaskGrid {
            row_bands,
            column_bands,
            row_band_major: false,
        }
    }

    /// Number of tasks.
    pub fn len(self) -> usize {
        self.row_bands * self.column_bands
    }

    /// The tile rows and the panels of task `task`, out of `row_tiles` and `column_panels`.
    pub fn task(
        self,
        task: usize,
        row_tiles: usize,
        column_panels: usize,
    ) -> (Range<usize>, Range<usize>) {
        let (row_band, column_band) = if self.row_band_major {
            (task / self.column_bands, task % self.column_bands)
        } else {
            (task % self.row_bands, task / self.row_bands)
        };
        (
            band(row_band, self.row_bands, row_tiles),
            band(column_band, self.column_bands, column_panels),
        )
    }
}

/// A near-equal split of `len` into parts of whole units (rows: units of 1; columns: units of
/// one vector), no part longer than `max_units` units. 64 columns in 16-float vectors of at most 3
/// per part give 32 + 32 rather than 48 + 16, and 10 rows of at most 8 give 5 + 5 rather than
/// 8 + 2: narrow edge tiles keep too few accumulators to hide the FMA latency.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Split {
    len: usize,
    unit: usize,
    /// Number of parts.
    pub parts: usize,
    /// Units of every part (one more for the first `extra` parts).
    base: usize,
    extra: usize,
}

impl Split {
    /// Splits `len` (> 0) into parts of at most `max_units` units of `unit` elements.
    pub fn new(len: usize, unit: usize, max_units: usize) -> Split {
        let units = len.div_ceil(unit);
        let parts = units.div_ceil(max_units);
        Split {
            len,
            unit,
            parts,
            base: units / parts,
            extra: units % parts,
        }
    }

    /// How many parts from `part` on (and before `end`) are as long as `part`: the first
    /// `extra` parts are one unit longer than the rest, and the last part is shorter still when
    /// `len` is not a whole number of units.
    pub fn equal_parts_from(self, part: usize, end: usize) -> usize {
        let run_end = if part < self.extra {
            self.extra
        } else {
            self.parts
        };
        let run = run_end.min(end) - part;
        // The last part is cut short when `len` is not a whole number of units; it is in the
        // run only when the run has the short parts (`extra < parts`).
        let last_is_short = !self.len.is_multiple_of(self.unit);
        if run > 1 && part + run == self.parts && last_is_short {
            run - 1
        } else {
            run
        }
    }

    /// The first element and the length of part `part`.
    pub fn part(self, part: usize) -> (usize, usize) {
        let start = (part * self.base + part.min(self.extra)) * self.unit;
        let units = self.base + usize::from(part < self.extra);
        (start, (units * self.unit).min(self.len - start))
    }
}

/// How many tasks to cut for `threads` threads: one when running serially.
fn tasks_for(threads: usize) -> usize {
    if threads > 1 {
        threads * TASKS_PER_THREAD
    } else {
        1
    }
}

/// Whether A's rows, although contiguous, are better copied to a padded stride before use: when
/// the row stride is a multiple of 1 KiB, a tile's rows (six on AVX-512) fall into at most four
/// of the L1's 64 sets and evict B's micro-panel (with a 4 KiB stride all share one set). The
/// copy costs about a quarter cycle per element of A, against `n / 32` cycles of multiply-adds
/// per element, so it is made only when C has several panels of columns.
pub(crate) fn copy_a_rows(a: MatRef, column_panels: usize) -> bool {
    const ALIASING_STRIDE: isize = 1024 / size_of::<f32>() as isize;
    a.rows_are_contiguous() && a.rows > 1 && a.rs % ALIASING_STRIDE == 0 && column_panels >= 4
}

/// The most elements of A that are read in place although A's rows are strided: A then fits in
/// a few kilobytes of L1 and each step of k reads one short, contiguous piece of a column, so
/// packing it into column panels would only copy it.
const SMALL_A: usize = 1024;

/// The longest k for which A, whose columns are contiguous, is read in place whatever its size:
/// a tile's rows of A are then at most 64 short pieces (`mr` floats each, one per step of k),
/// which the core fetches from L2 while the multiply-adds of the steps before run. A batch's
/// weight gradient `gᵀ · x` is such a product (k = 64, the batch). In a two-thread training step
/// of the 784-512-512-10 MLP (AMD Zen 4), reading `gᵀ` in place did away with two packing phases
/// of 8-9 µs each, while the two updates took at most 1.6 µs longer; on one thread the updates
/// took 338 and 547 µs against 349 and 563 µs (medians of 10 alternating runs).
const IN_PLACE_MAX_K: usize = 64;

/// Whether A, whose rows are strided, is better read where it is than packed into column panels:
/// its columns are contiguous, and it is small or k is short. The output layer's weight gradient
/// (`gᵀ`, 10 x 64, by 64 x 512) ran 8-10 % faster so (alternating runs in one process, AVX2, one
/// and two threads): packing spent its time in 64 calls to memcpy for rows of ten floats.
pub(crate) fn read_a_in_place(a: MatRef) -> bool {
    a.rs == 1 && a.cs > 0 && (a.rows * a.cols <= SMALL_A || a.cols <= IN_PLACE_MAX_K)
}

/// Whether a packing pass over `elements` floats of `m` is worth a parallel phase of its own
/// (`rows_contiguous`: whether the pass copies rows rather than transposing).
pub(crate) fn parallel_pack(elements: usize, rows_contiguous: bool) -> bool {
    let threshold = if rows_contiguous {
        PARALLEL_MIN_ROW_COPY
    } else {
        PARALLEL_MIN_TRANSPOSE
    };
    elements >= threshold
}

/// Whether an update of C is split between the threads by columns rather than by rows of tiles
/// (`with_column_groups`): when it has no more tile rows than there are threads, as an output
/// layer's 10 rows have. Split by rows, every thread would then pack and read all of B.
pub(crate) fn update_by_columns(row_tiles: usize, threads: usize) -> bool {
    row_tiles <= threads
}

/// Whether an update of C runs in parallel below [`PARALLEL_MIN_FLOPS`]: when it is split by
/// columns ([`update_by_columns`]) and its B (`b_elements` floats), which each thread then packs
/// a share of, is worth packing in parallel; an update that reads B in place ([`read_b_in_place`])
/// has nothing to pack and runs on the calling thread. The output layer's update (10 x 64 by
/// 64 x 512: 655,360 flops, 32,768 floats of B) reads B in place: on two threads it took 7.7-8.3
/// µs so inside a training step against 9.0-9.9 µs split between the threads (6 alternating
/// one-epoch runs, Intel Xeon with AVX-512).
pub(crate) fn parallel_update_by_columns(
    row_tiles: usize,
    b_elements: usize,
    b_rows_contiguous: bool,
    b_in_place: bool,
    threads: usize,
) -> bool {
    update_by_columns(row_tiles, threads)
        && !b_in_place
        && parallel_pack(b_elements, b_rows_contiguous)
}

/// The longest k for which B's panels are read in place however many tile rows reuse them: a
/// panel of so few rows stays in L1 where it is, and packing it is pure overhead. The output
/// layer's input gradient (64x10 by 10x512) ran 3.5-6.6 % faster so (alternating runs in one
/// process, AVX2, 1 and 2 threads).
const TINY_K: usize = 16;

/// The fewest flops for which a product of k at most [`TINY_K`], reading B in place, runs on
/// several threads, one band of tile rows each ([`TaskGrid::for_resident_b`]): such a
/// product has nothing to pack, so its tasks only compute. The output layer's input gradient `g ·
/// W` (64x10 by 10x512, 655,360 flops) took 5.0 µs so inside a two-thread training step, against
/// 8.0 µs on the calling thread and 6.6 µs in the usual 8 tasks (phase timelines of one-epoch
/// runs, AMD EPYC Zen 4 with AVX-512).
const PARALLEL_MIN_FLOPS_TINY_K: usize = 1 << 19;

/// Whether a product below [`PARALLEL_MIN_FLOPS`] still runs in parallel because it has a tiny
/// k and reads B in place (see [`PARALLEL_MIN_FLOPS_TINY_K`]).
pub(crate) fn parallel_tiny_k(flops: usize, k: usize, b_in_place: bool) -> bool {
    b_in_place && k <= TINY_K && flops >= PARALLEL_MIN_FLOPS_TINY_K
}

/// The most tile rows for which the B-resident order reads B's panels in place (a batch of up to
/// 96 rows on AVX-512). The packed micro-panel is meant to stay in L1 while the tile rows pass;
/// with few tile rows, packing it is a share of the product worth saving, and the kernel reads
/// it as fast from L2 where it is. A layer's input gradient `g · W` is such a product: inside a
/// two-thread training step of the course's MLP (AMD Zen 4, quiet), the 64x512 by 512x512 one
/// (two halves of k of 11 tile rows each, `split_k`) took 155.4-155.7 µs reading W in place
/// against 160.7-162.6 µs packing it (three alternating runs each).
const B_RESIDENT_IN_PLACE_MAX_ROW_TILES: usize = 16;

/// The longest k (a batch) for which an update on several threads reads B in place however many
/// tile rows reuse it. Packed, B is a phase of its own that the threads share out and meet after,
/// and each thread then reads the copy from L2 as it would read B itself: inside a two-thread
/// step of the course's MLP (AMD Zen 4, quiet), the 512x512 update (`gᵀ · h1`, k = 64) took as
/// long reading h1 in place (153 µs) without its 6 µs packing phase, and the step 5 µs less
/// (three alternating runs); first and second epochs took 0.998x and 0.989x the time (eight
/// alternating runs). On one thread, where packing is no phase of its own, epochs took 1.003x
/// reading in place, so one thread still packs.
const PARALLEL_UPDATE_IN_PLACE_MAX_K: usize = 64;

/// Whether the B-resident order (`b_resident`), or an update (`with_row_bands`), should read
/// B's panels where they are instead of packing them: B's rows are contiguous with a positive
/// stride, every panel is a whole number of vectors wide (no zero padding needed), and either
/// few tile rows (`row_tiles`) reuse each panel (at most two in an update, so that a copy, which
/// reads and writes every element of B once, would cost about as much as it saves; at most
/// [`B_RESIDENT_IN_PLACE_MAX_ROW_TILES`] in the B-resident order), or k is at most [`TINY_K`],
/// or an update on more than one thread (`threads`) has a k of at most
/// [`PARALLEL_UPDATE_IN_PLACE_MAX_K`]. Which it is never changes a result: the kernel reads
/// the same values either way.
pub(crate) fn read_b_in_place(
    b: MatRef,
    lanes: usize,
    row_tiles: usize,
    b_resident: bool,
    threads: usize,
) -> bool {
    let few_row_tiles = if b_resident {
        row_tiles <= B_RESIDENT_IN_PLACE_MAX_ROW_TILES
    } else {
        row_tiles <= 2 || threads > 1 && b.rows <= PARALLEL_UPDATE_IN_PLACE_MAX_K
    };
    b.cs == 1 && b.rs > 0 && b.cols.is_multiple_of(lanes) && (few_row_tiles || b.rows <= TINY_K)
}

/// Whether the A-resident order should read B where it is: when B is laid out exactly as its
/// packed panel would be, one panel of a whole number of vectors, its rows one after another.
/// A batch in column-major order is so for a forward product `W · xᵀ` (the `length` trainer
/// converts each batch that way): inside a two-thread training step (AMD Zen 4), the first
/// layer's forward product then took as long as before without the 16-17 µs phase that packed
/// xᵀ, and a step 7-36 µs less (four alternating runs, medians 1,053-1,068 µs against
/// 1,075-1,093 µs; the weight gradient's packing of x, now a transposing copy, took 3-4 µs
/// longer).
pub(crate) fn b_is_its_packed_panel(b: MatRef, shape: TileShape) -> bool {
    b.cs == 1
        && b.rs == b.cols as isize
        && b.cols.is_multiple_of(shape.lanes)
        && b.cols <= shape.nr()
}

/// Whether the B-resident order, when it reads B in place, should compute a row of tiles per
/// kernel call (one tile row across all of the task's panels) rather than a column: when a k
/// block of B (`kc` x `n` floats) fits the L2 budget, so that the tile rows after the first find
/// it there. C is then written row after row, in long contiguous runs that the hardware
/// prefetchers follow, rather than one cache line per row of C kilobytes apart. The output
/// layer's input gradient (64x10 by 10x512) ran 18-21 % faster so and its weight gradient
/// (10x64 by 64x512) 8-13 % faster (alternating runs in one process, AVX2, one thread).
pub(crate) fn rows_across_b_in_place(kc: usize, n: usize) -> bool {
    kc * n * size_of::<f32>() <= L2_BLOCK_BYTES
}

/// The `band`-th of `bands` near-equal parts of `0..len`.
pub(crate) fn band(band: usize, bands: usize, len: usize) -> Range<usize> {
    (band * len / bands)..((band + 1) * len / bands)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_near_equal_and_cover_everything() {
        for (len, unit, max_units) in [
            (64, 16, 3),
            (784, 16, 3),
            (512, 16, 3),
            (10, 1, 8),
            (1, 16, 3),
        ] {
            let split = Split::new(len, unit, max_units);
            let mut next = 0;
            let mut widths = Vec::new();
            for part in 0..split.parts {
                let (start, width) = split.part(part);
                assert_eq!(start, next);
                assert!(width > 0 && width <= unit * max_units);
                next += width;
                widths.push(width.div_ceil(unit));
            }
            assert_eq!(next, len);
            let (min, max) = (widths.iter().min().unwrap(), widths.iter().max().unwrap());
            assert!(max - min <= 1, "{len}: {widths:?}");
        }
        assert_eq!(Split::new(64, 16, 3).part(1), (32, 32));
        // 64 rows in tiles of at most 6: nine of 6, then two of 5.
        let rows = Split::new(64, 1, 6);
        assert_eq!(
            (rows.parts, rows.part(8), rows.part(9)),
            (11, (48, 6), (54, 5))
        );
        assert_eq!(rows.equal_parts_from(0, 11), 9);
        assert_eq!(rows.equal_parts_from(3, 5), 2);
        assert_eq!(rows.equal_parts_from(9, 11), 2);
        assert_eq!(Split::new(10, 1, 8).part(1), (5, 5));
        // 44 columns in 8-float vectors, two per part: 16 + 16 + 12; the last one is narrower.
        let columns = Split::new(44, 8, 2);
        assert_eq!((columns.parts, columns.part(2)), (3, (32, 12)));
        assert_eq!(columns.equal_parts_from(0, 3), 2);
        assert_eq!(columns.equal_parts_from(2, 3), 1);
    }

    #[test]
    fn k_blocks_are_even() {
        let blocks = KBlocks::new(784, 512);
        assert_eq!((blocks.count, blocks.len), (2, 392));
        assert_eq!(blocks.range(1, 784), (392, 392));
        let blocks = KBlocks::new(513, 128);
        assert_eq!((blocks.count, blocks.len), (5, 103));
        assert_eq!(blocks.range(4, 513), (412, 101));
    }

    #[test]
    fn only_tiny_k_products_that_read_b_in_place_run_in_parallel_below_the_threshold() {
        let flops = 2 * 64 * 512 * 10; // the output layer's input gradient
        assert!(parallel_tiny_k(flops, 10, true));
        assert!(!parallel_tiny_k(flops, 10, false));
        assert!(!parallel_tiny_k(flops, TINY_K + 1, true));
        assert!(!parallel_tiny_k(2 * 8 * 512 * 10, 10, true));
    }

    #[test]
    fn task_grids_cover_every_tile_once() {
        for grid in [
            TaskGrid::for_resident_b(8, 11, 8 * 512 * 4, 2, PARALLEL_MIN_FLOPS),
            TaskGrid::for_resident_b(128, 22, 8 * 1024 * 4, 1, PARALLEL_MIN_FLOPS),
            TaskGrid::for_resident_a(64, 2, 784 * 48 * 4, 16),
            TaskGrid::for_resident_b(11, 8, 6 * 10 * 4, 2, 2 * 64 * 512 * 10),
        ] {
            let (rows, panels) = (grid.row_bands.max(1) * 3, grid.column_bands.max(1) * 2);
            let mut seen = vec![0; rows * panels];
            for task in 0..grid.len() {
                let (row_range, panel_range) = grid.task(task, rows, panels);
                for row in row_range {
                    for panel in panel_range.clone() {
                        seen[row * panels + panel] += 1;
                    }
                }
            }
            assert!(seen.iter().all(|&count| count == 1), "{grid:?}");
        }
        // Serial runs split only for the cache: 128 tiles x 32 KiB of A need 8 row bands.
        let serial = TaskGrid::for_resident_b(128, 22, 8 * 1024 * 4, 1, PARALLEL_MIN_FLOPS);
        assert_eq!((serial.row_bands, serial.column_bands), (8, 1));
    }
}
