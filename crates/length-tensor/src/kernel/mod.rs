//! Microkernels: the innermost loop of the packed matrix multiply, one file per instruction set.
//!
//! A microkernel computes one small tile of `C = A · B`, `MR` rows by `NV · LANES` columns, and
//! keeps the whole tile in vector registers while it walks the shared dimension:
//!
//! ```text
//! for p in 0..kc:                      // the k loop, always in increasing order
//!     b[0..NV] = NV vectors of row p of the packed B panel
//!     for i in 0..MR:
//!         acc[i][v] += broadcast(A[i, p]) * b[v]     (one fused multiply-add per vector)
//! ```
//!
//! Which instruction set runs is chosen once per process from what the CPU reports
//! ([`KernelPath::detect`]), can be forced with the environment variable `LENGTH_KERNEL`
//! (`scalar`, `avx2` or `avx512`), and can be overridden for one closure on one thread with
//! [`with_kernel_path`] (the tests use this to run every path the machine supports).
//!
//! Every path accumulates each output element in the same order (k increasing within a block,
//! blocks in increasing order), so a path's results never depend on how many threads run it.
//! Different paths may differ in the last bits (fused versus separate multiply and add).

use std::cell::Cell;
use std::fmt;
use std::sync::OnceLock;

mod scalar;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

/// An instruction set the matrix-multiply microkernel can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelPath {
    /// Portable Rust, no explicit SIMD (the compiler may still vectorise it): runs everywhere.
    Scalar,
    /// x86-64 AVX2 with FMA: 8 floats per register, 16 registers.
    Avx2,
    /// x86-64 AVX-512F (with FMA, which the narrow products use): 16 floats per register, 32
    /// registers.
    Avx512,
}

impl KernelPath {
    /// Every path, slowest first.
    pub const ALL: [KernelPath; 3] = [KernelPath::Scalar, KernelPath::Avx2, KernelPath::Avx512];

    /// The name `LENGTH_KERNEL` accepts for this path: `scalar`, `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Scalar => "scalar",
            KernelPath::Avx2 => "avx2",
            KernelPath::Avx512 => "avx512",
        }
    }

    /// Parses a name as written in `LENGTH_KERNEL` (case-insensitive).
    pub fn from_name(name: &str) -> Option<KernelPath> {
        KernelPath::ALL
            .into_iter()
            .find(|path| path.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Every CPU feature some code of this path is compiled with (its functions'
    /// `#[target_feature(enable = ...)]`, in `kernel/` and `gemm/`): the path may run only where
    /// the CPU has all of them. A test reads the sources to keep this list complete.
    ///
    /// ```
    /// use length_tensor::KernelPath;
    /// assert_eq!(KernelPath::Avx512.target_features(), &["avx512f", "fma"]);
    /// assert!(KernelPath::Scalar.target_features().is_empty());
    /// ```
    pub fn target_features(self) -> &'static [&'static str] {
        match self {
            KernelPath::Scalar => &[],
            KernelPath::Avx2 => &["avx2", "fma"],
            KernelPath::Avx512 => &["avx512f", "fma"],
        }
    }

    /// Whether the CPU this process runs on can execute this path: it has every one of the
    /// path's [`target_features`](KernelPath::target_features).
    pub fn is_supported(self) -> bool {
        self.target_features()
            .iter()
            .all(|&feature| cpu_has_feature(feature))
    }

    /// The fastest path this CPU supports.
    pub fn detect() -> KernelPath {
        supported_kernel_paths()
            .last()
            .copied()
            .unwrap_or(KernelPath::Scalar)
    }

    /// The register tile and blocking this path uses.
    pub(crate) fn tile_shape(self) -> TileShape {
        match self {
            KernelPath::Scalar => scalar::SHAPE,
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => avx2::SHAPE,
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => avx512::SHAPE,
            #[cfg(not(target_arch = "x86_64"))]
            KernelPath::Avx2 | KernelPath::Avx512 => scalar::SHAPE,
        }
    }
}

impl fmt::Display for KernelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the CPU has the target feature `name` (one of the names
/// [`KernelPath::target_features`] lists; `is_x86_feature_detected!` takes only literals).
fn cpu_has_feature(name: &str) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        match name {
            "avx2" => std::arch::is_x86_feature_detected!("avx2"),
            "fma" => std::arch::is_x86_feature_detected!("fma"),
            "avx512f" => std::arch::is_x86_feature_detected!("avx512f"),
            other => unreachable!("KernelPath::target_features lists {other}, not detected here"),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = name;
        false
    }
}

/// The paths this CPU supports, slowest first (always starts with [`KernelPath::Scalar`]).
pub fn supported_kernel_paths() -> Vec<KernelPath> {
    KernelPath::ALL
        .into_iter()
        .filter(|path| path.is_supported())
        .collect()
}

/// The process-wide path: `LENGTH_KERNEL` if set to a supported path, else the fastest one.
/// Read once, on first use.
fn process_path() -> KernelPath {
    static PATH: OnceLock<KernelPath> = OnceLock::new();
    *PATH.get_or_init(|| {
        let detected = KernelPath::detect();
        let Ok(requested) = std::env::var("LENGTH_KERNEL") else {
            return detected;
        };
        match KernelPath::from_name(&requested) {
            Some(path) if path.is_supported() => path,
            Some(path) => {
                eprintln!(
                    "length-tensor: LENGTH_KERNEL={requested}: this CPU does not support {path}; \
                     using {detected}"
                );
                detected
            }
            None => {
                eprintln!(
                    "length-tensor: LENGTH_KERNEL={requested} is not one of scalar, avx2, \
                     avx512; using {detected}"
                );
                detected
            }
        }
    })
}

thread_local! {
    /// The path forced by [`with_kernel_path`] on this thread, if any.
    static FORCED_PATH: Cell<Option<KernelPath>> = const { Cell::new(None) };
}

/// The path the matrix multiplies called from this thread use right now: the one forced by an
/// enclosing [`with_kernel_path`], else `LENGTH_KERNEL` if it names a supported path, else the
/// fastest path the CPU supports.
///
/// ```
/// use length_tensor::{kernel_path, KernelPath};
/// assert!(kernel_path().is_supported());
/// assert!(KernelPath::Scalar.is_supported());
/// ```
pub fn kernel_path() -> KernelPath {
    FORCED_PATH.with(Cell::get).unwrap_or_else(process_path)
}

/// Runs `f` with every matrix multiply *called from this thread* using `path`, then restores the
/// previous choice (also if `f` panics). The kernels read the path once on the calling thread
/// and hand it to their rayon workers, so the whole multiply uses it.
///
/// # Panics
/// If the CPU does not support `path`.
///
/// ```
/// use length_tensor::{matmul_a_b, supported_kernel_paths, with_kernel_path, ndarray::array};
///
/// let a = array![[1.0f32, 2.0], [3.0, 4.0]];
/// for path in supported_kernel_paths() {
///     let product = with_kernel_path(path, || matmul_a_b(a.view(), a.view()));
///     assert_eq!(product, array![[7.0, 10.0], [15.0, 22.0]]);
/// }
/// ```
pub fn with_kernel_path<R>(path: KernelPath, f: impl FnOnce() -> R) -> R {
    assert!(
        path.is_supported(),
        "with_kernel_path: this CPU does not support the {path} kernel path"
    );
    struct Restore(Option<KernelPath>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORCED_PATH.with(|forced| forced.set(self.0));
        }
    }
    let _restore = Restore(FORCED_PATH.with(|forced| forced.replace(Some(path))));
    f()
}

/// The microkernel alone, for the benches: `calls` calls of `path`'s kernel on one full tile
/// (`mr` rows by `nv · lanes` columns) over `kc` steps of k, with A and B packed and every operand
/// in L1 (for `kc` up to a few hundred), C stored after each call. Returns the flops computed,
/// `2 · mr · nr · kc · calls`.
///
/// This is the most the packed products could reach on this core: a product adds packing, edge
/// tiles, operands streaming from L2 and, for the weight gradients, the update's pass over the
/// weights. `cargo xtask bench` prints it beside one core's FMA peak.
///
/// # Panics
/// If the CPU does not support `path`, or `kc` or `calls` is zero.
///
/// ```
/// use length_tensor::{kernel_path, run_microkernel_in_cache};
/// let flops = run_microkernel_in_cache(kernel_path(), 64, 3);
/// assert_eq!(flops % (2 * 64 * 3), 0);
/// ```
pub fn run_microkernel_in_cache(path: KernelPath, kc: usize, calls: usize) -> u64 {
    assert!(
        path.is_supported(),
        "run_microkernel_in_cache: this CPU does not support the {path} kernel path"
    );
    assert!(
        kc > 0 && calls > 0,
        "run_microkernel_in_cache: kc {kc}, calls {calls}"
    );
    let shape = path.tile_shape();
    let (mr, nr) = (shape.mr, shape.nr());
    // Small values whose sums stay normal: denormals would slow some CPUs down.
    let a = vec![0.5f32; mr * kc];
    // B on a cache-line boundary, as the products pack it (`gemm::workspace`).
    let b_storage = vec![0.25f32; kc * nr + 16];
    let b_offset = b_storage.as_ptr().align_offset(64).min(16);
    let b = &b_storage[b_offset..];
    let mut c = vec![0.0f32; mr * nr];
    let tile = Tile {
        kc,
        a: a.as_ptr(),
        a_rs: 1,
        a_ks: mr as isize,
        b: b.as_ptr(),
        b_ks: nr,
        c: c.as_mut_ptr(),
        c_rs: nr as isize,
        c_cs: 1,
        nr,
        init: Init::Zero,
        count: calls,
        a_next: 0,
        b_next: 0,
        c_next: 0,
        bias_next: 0,
        finish: Finish::Store,
    };
    // SAFETY: A is a packed column panel of mr rows by kc (mr floats per step of k), B a packed
    // panel of kc rows of nr floats, C one mr x nr tile, all inside their vectors; every tile of
    // the run is the same tile (zero offsets); `path` is supported (asserted).
    unsafe { run_tiles(path, mr, shape.nv, &tile) };
    std::hint::black_box(&c);
    (2 * mr * nr * kc * calls) as u64
}

/// The register tile and cache blocking of one kernel path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TileShape {
    /// Floats per vector register.
    pub lanes: usize,
    /// Rows of a full tile (rows of A broadcast per step of k).
    pub mr: usize,
    /// Vectors per tile row: a full tile is `nv * lanes` columns wide.
    pub nv: usize,
    /// The longest block of k when B's micro-panel (`kc_b_resident * nr` floats, about 24 KiB)
    /// stays in L1 while A's rows stream past it.
    pub kc_b_resident: usize,
    /// The longest block of k when A's micro-panel (`mr * kc_a_resident` floats) stays in L1
    /// while B's panels stream past it: used when C is strided, which makes each extra block
    /// cost an element-by-element pass over C.
    pub kc_a_resident: usize,
}

impl TileShape {
    /// Columns of a full tile.
    pub fn nr(self) -> usize {
        self.nv * self.lanes
    }

    /// Vectors needed for `cols` columns: a shift, not a division (lanes are a power of two).
    pub fn vectors(self, cols: usize) -> usize {
        debug_assert!(self.lanes.is_power_of_two());
        (cols + self.lanes - 1) >> self.lanes.trailing_zeros()
    }
}

/// How a microkernel starts its accumulators before the k loop.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Init {
    /// From zero: the first k block, no bias.
    Zero,
    /// From the tile's current contents of C: later k blocks.
    Accumulate,
    /// From a bias per tile column: `bias[j]` for column j (contiguous, `nr` valid values).
    BiasColumns(*const f32),
    /// From a bias per tile row: `bias[i]` for row i (contiguous, `MR` valid values).
    BiasRows(*const f32),
}

/// What a microkernel does with its accumulators (the tile of `A · B`, from its `Init`) after
/// the k loop.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Finish {
    /// Stores them in C.
    Store,
    /// Stores `max(tile, 0)`: ReLU, for the last k block of a product stored through ReLU.
    StoreRelu,
    /// Stores the tile where the gate's element is above zero and `+0` elsewhere: the way back
    /// through a ReLU whose output is the gate, for the last k block of a gated product. The
    /// gate's element (i, j) is at `gate + i * gate_rs + j`, in a tile's coordinates; the run's
    /// next tile's gate starts `gate_next` floats further.
    StoreGated {
        gate: *const f32,
        gate_rs: isize,
        gate_next: isize,
    },
    /// `C ← C − rate · tile`: a step of plain gradient descent with the tile as the gradient,
    /// applied in registers (the multiply, then the subtraction: the bits of `c -= rate * g`).
    /// Only for C with contiguous rows (`c_cs == 1`) and an `Init::Zero` start. (Prefetching
    /// the tile's lines of C before the k loop made no difference: with SGD, the 512x64 by
    /// 64x784 update took the same time either way, alone and inside a training step.)
    Descend(f32),
}

/// The operands of one microkernel call: a run of `count` tiles of the same shape, either a
/// column (one below the other, sharing their panel of B) or a row (side by side, sharing their
/// micro-panel of A).
///
/// In the first tile, element (i, p) of A is at `a + i * a_rs + p * a_ks`; element (p, j) of B is
/// at `b + p * b_ks + j` (a packed panel, `b_ks = nv * lanes`, or B itself when its rows are
/// contiguous); element (i, j) of C is at `c + i * c_rs + j * c_cs`. Each further tile starts
/// `a_next` floats further in A, `b_next` further in B, `c_next` further in C and `bias_next`
/// values further in the bias (if any). A column moves A and C by `mr` rows (and a bias per row
/// with them); a row moves B to the next packed panel and C by `nr` columns (and a bias per
/// column with them).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tile {
    pub kc: usize,
    pub a: *const f32,
    pub a_rs: isize,
    pub a_ks: isize,
    pub b: *const f32,
    pub b_ks: usize,
    pub c: *mut f32,
    pub c_rs: isize,
    pub c_cs: isize,
    /// Valid columns of C (at most `nv * lanes`; the packed panel is zero-padded beyond).
    pub nr: usize,
    pub init: Init,
    /// What the kernel does with the finished tiles.
    pub finish: Finish,
    /// Tiles in the run (at least one).
    pub count: usize,
    pub a_next: isize,
    pub b_next: isize,
    pub c_next: isize,
    pub bias_next: usize,
}

impl Tile {
    /// The next tile of the run.
    ///
    /// With k = 10 (the output layer's input gradient) a tile is some sixty cycles of
    /// multiply-adds, and calling the kernel once per tile took 15 % of that product's samples
    /// (`perf record`, one thread, AVX2). One call per column of tiles: 64x10 by 10x512 went from
    /// 0.92-0.95x to 1.01-1.03x of the `gemm` crate's time, the 512-wide weight gradient from
    /// 0.98x to 1.00-1.01x (alternating runs of both builds, one thread).
    #[inline(always)]
    pub fn next(&self) -> Tile {
        Tile {
            a: self.a.wrapping_offset(self.a_next),
            b: self.b.wrapping_offset(self.b_next),
            c: self.c.wrapping_offset(self.c_next),
            init: match self.init {
                Init::BiasRows(bias) => Init::BiasRows(bias.wrapping_add(self.bias_next)),
                Init::BiasColumns(bias) => Init::BiasColumns(bias.wrapping_add(self.bias_next)),
                other => other,
            },
            finish: match self.finish {
                Finish::StoreGated {
                    gate,
                    gate_rs,
                    gate_next,
                } => Finish::StoreGated {
                    gate: gate.wrapping_offset(gate_next),
                    gate_rs,
                    gate_next,
                },
                other => other,
            },
            ..*self
        }
    }
}

/// Computes `C[0..mr, 0..nr] = init + A[0..mr, 0..kc] · B[0..kc, 0..nr]` with `nv` vectors per
/// row, on `path`, for each of the `tile.count` tiles of the run.
///
/// # Safety
/// All pointers in `tile` must be valid for the elements the layout above addresses, for
/// `i < mr`, `p < kc`, `j < nv * lanes` (B) and `j < nr` (C and a gate), in every tile of the
/// run; `path` must be supported; `mr` and `nv` must not exceed the path's tile shape, and
/// `nr <= nv * lanes`.
pub(crate) unsafe fn run_tiles(path: KernelPath, mr: usize, nv: usize, tile: &Tile) {
    debug_assert!(path.is_supported());
    // SAFETY: forwarded from the caller; each arm runs only on a CPU that supports it.
    unsafe {
        match path {
            KernelPath::Scalar => scalar::tile(mr, nv, tile),
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => avx2::tile(mr, nv, tile),
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => avx512::tile(mr, nv, tile),
            #[cfg(not(target_arch = "x86_64"))]
            KernelPath::Avx2 | KernelPath::Avx512 => unreachable!("checked by is_supported"),
        }
    }
}

/// Writes a staged tile (`rows` rows of `width` floats, row-major) to C through C's general
/// strides: the store of a tile whose C columns are not contiguous (a transposed product). Column
/// by column, so that when C is a transposed row-major matrix (`c_rs == 1`) the writes of one
/// tile column are contiguous.
///
/// The kernels stage their registers into a local array first and pass only that array here: a
/// reference to the accumulator array itself would make the compiler keep it in memory.
///
/// # Safety
/// `c + i * c_rs + j * c_cs` must be valid for writes for `i < rows`, `j < nr`.
pub(crate) unsafe fn scatter_tile(
    staged: &[f32],
    width: usize,
    rows: usize,
    nr: usize,
    c: *mut f32,
    c_rs: isize,
    c_cs: isize,
) {
    for j in 0..nr {
        for i in 0..rows {
            // SAFETY: forwarded from the caller.
            unsafe { *c.offset(i as isize * c_rs + j as isize * c_cs) = staged[i * width + j] };
        }
    }
}

/// Reads a tile of C through C's general strides into `staged` (`rows` rows of `width` floats,
/// row-major; columns from `nr` on are left as they are): the load of a strided tile.
///
/// # Safety
/// `c + i * c_rs + j * c_cs` must be valid for reads for `i < rows`, `j < nr`.
pub(crate) unsafe fn gather_tile(
    staged: &mut [f32],
    width: usize,
    rows: usize,
    nr: usize,
    c: *const f32,
    c_rs: isize,
    c_cs: isize,
) {
    for i in 0..rows {
        for j in 0..nr {
            // SAFETY: forwarded from the caller.
            staged[i * width + j] = unsafe { *c.offset(i as isize * c_rs + j as isize * c_cs) };
        }
    }
}

/// Expands to a `match` over a tile's row count `mr` and vector count `nv` that calls the
/// const-generic kernel instantiated for exactly that shape, so edge tiles run as tight a loop as
/// full ones.
macro_rules! dispatch_tile_shape {
    ($kernel:ident, $mr:expr, $nv:expr, $tile:expr, rows = [$($r:literal),+], vectors = [$($v:literal),+]) => {
        dispatch_tile_shape!(@rows $kernel, $mr, $nv, $tile, [$($r),+], [$($v),+])
    };
    (@rows $kernel:ident, $mr:expr, $nv:expr, $tile:expr, [$($r:literal),+], $vs:tt) => {
        match $mr {
            $($r => dispatch_tile_shape!(@vectors $kernel, $r, $nv, $tile, $vs),)+
            other => unreachable!("tile with {other} rows"),
        }
    };
    (@vectors $kernel:ident, $r:literal, $nv:expr, $tile:expr, [$($v:literal),+]) => {
        match $nv {
            $($v => $kernel::<$r, $v>($tile),)+
            other => unreachable!("tile with {other} vectors per row"),
        }
    };
}
pub(crate) use dispatch_tile_shape;

/// Defines `run::<MR, NV>(&Tile)`, which runs the file's `kernel::<MR, NV>` on each tile of a
/// run, first to last, compiled with the given attributes (the path's target features) so that
/// the kernel is inlined into the loop.
macro_rules! run_of_tiles {
    ($(#[$attribute:meta])*) => {
        /// Runs [`kernel`] on each tile of the run, first to last.
        ///
        /// # Safety
        /// See [`super::run_tiles`].
        $(#[$attribute])*
        unsafe fn run<const MR: usize, const NV: usize>(first: &Tile) {
            let mut tile = *first;
            for _ in 0..first.count {
                // SAFETY: forwarded from the caller, which vouches for every tile of the run.
                unsafe { kernel::<MR, NV>(&tile) };
                tile = tile.next();
            }
        }
    };
}
pub(crate) use run_of_tiles;

#[cfg(test)]
mod tests {
    use super::KernelPath;
    use std::path::Path;

    /// Every list of features enabled by a `target_feature` attribute in the crate's code (not
    /// its comments), with the file it is in.
    fn enabled_feature_lists(dir: &Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                enabled_feature_lists(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.lines().filter(|line| !line.trim().starts_with("//"));
                for line in code {
                    for piece in line.split("target_feature(enable = \"").skip(1) {
                        let list = piece.split('"').next().unwrap().to_owned();
                        found.push((path.display().to_string(), list));
                    }
                }
            }
        }
    }

    #[test]
    fn each_path_checks_every_feature_its_code_is_compiled_with() {
        let mut found = Vec::new();
        enabled_feature_lists(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(
            found.len() >= 6,
            "the kernels' attributes were not found: {found:?}"
        );
        for (file, list) in found {
            let features: Vec<&str> = list.split(',').map(str::trim).collect();
            let path = if features.iter().any(|f| f.starts_with("avx512")) {
                KernelPath::Avx512
            } else if features.contains(&"avx2") {
                KernelPath::Avx2
            } else {
                panic!("{file}: target features {list:?} belong to no kernel path");
            };
            for feature in features {
                assert!(
                    path.target_features().contains(&feature),
                    "{file} compiles {path} code with {feature:?}, which {path} does not check \
                     (it checks {:?})",
                    path.target_features()
                );
            }
        }
    }
}
