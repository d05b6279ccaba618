//! What a GEMM does with each finished tile of the product: store it (through ReLU, for a layer
//! with its activation fused), or hand it to an update of C — an optimizer's step,
//! `W ← W − η·(gᵀ·x)` for SGD, applied inside the product that computes the gradient.
//!
//! Stored through ReLU, each tile is rectified by the microkernel, in its registers, after the
//! last k block and before the store (`Tile::rectify`): the activation costs no pass of its own
//! over the output. The paths that store element by element (narrow products, an empty k) apply
//! [`Output::stored`] to each value instead.
//!
//! Applied this way, the gradient never reaches memory: the product is computed one band of rows
//! (6 on AVX-512) at a time into a buffer that stays in L1/L2, and those rows of W (and of the
//! optimizer's state) are read and written once, right away, front to back. Computed in two
//! passes instead, the gradient (as large as W) is written, then read again with W, and W is
//! written: three passes over arrays that do not fit in L2 rather than one.
//!
//! The product's elements are those of the two-pass version, bit for bit (the same sums in the
//! same order), so an element-wise rule gives the same result either way.
//!
//! Plain gradient descent, `W ← W − η·(gᵀ·x)`, goes one step further ([`Output::Descend`]): the
//! microkernel reads its tile of W after the k loop, subtracts η times the tile of the product
//! and stores W, so the product never leaves the registers.

use crate::activation::relu_scalar;

/// An element-wise update of C from a piece of the product: `update(i, j0, c, product)` with
/// `c` = C's row i, columns `j0 .. j0 + c.len()`, and `product` the same elements of `A · B`.
pub type TileUpdate<'a> = &'a (dyn Fn(usize, usize, &mut [f32], &[f32]) + Sync);

/// What happens to C.
#[derive(Clone, Copy)]
pub(crate) enum Output<'a> {
    /// `C = A · B (+ bias)`.
    Store,
    /// `C = max(A · B (+ bias), 0)`: the product through ReLU.
    StoreRelu,
    /// Each piece of C updated from the same piece of the product, by the caller's rule (an
    /// optimizer's step), each element exactly once, pieces possibly on several threads at once.
    /// `transposed`: the driver computes `Cᵀ = Bᵀ · Aᵀ`, so its (i, j) are the caller's (j, i).
    Update {
        rule: TileUpdate<'a>,
        transposed: bool,
    },
    /// `C ← C − rate · (A · B)`, each element as `c - rate * product` (the bits of the rule
    /// `*c -= rate * product`): a step of plain gradient descent, which the microkernel applies in
    /// its registers when C's rows are contiguous (`kernel::Finish::Descend`), with no band and
    /// no rule to call.
    Descend(f32),
}

impl<'a> Output<'a> {
    /// Updates C by `rule`, in the caller's orientation.
    pub(crate) fn update(rule: TileUpdate<'a>) -> Output<'a> {
        Output::Update {
            rule,
            transposed: false,
        }
    }

    /// Whether C is overwritten with the product (through ReLU or not).
    pub(crate) fn is_store(self) -> bool {
        matches!(self, Output::Store | Output::StoreRelu)
    }

    /// Whether the stored product goes through ReLU.
    pub(crate) fn rectifies(self) -> bool {
        matches!(self, Output::StoreRelu)
    }

    /// What a stored product keeps of one element: the value, or for [`Output::StoreRelu`]
    /// `max(value, 0)` (`+0` for NaN and `-0`, as [`crate::relu`] and the microkernels give).
    pub(crate) fn stored(self, value: f32) -> f32 {
        if self.rectifies() {
            relu_scalar(value)
        } else {
            value
        }
    }

    /// The same output for the transposed product `Cᵀ = Bᵀ · Aᵀ`.
    pub(crate) fn transposed(self) -> Output<'a> {
        match self {
            Output::Store | Output::StoreRelu | Output::Descend(_) => self,
            Output::Update { rule, transposed } => Output::Update {
                rule,
                transposed: !transposed,
            },
        }
    }

    /// Applies the output's rule to C's row `i`, columns `j0 ..` (in the driver's orientation),
    /// from the same elements of the product. Not for a stored product.
    pub(crate) fn apply(self, i: usize, j0: usize, c: &mut [f32], product: &[f32]) {
        match self {
            Output::Store | Output::StoreRelu => unreachable!("a stored product has no update"),
            Output::Descend(rate) => {
                for (c, &product) in c.iter_mut().zip(product) {
                    *c -= rate * product;
                }
            }
            Output::Update {
                rule,
                transposed: false,
            } => rule(i, j0, c, product),
            // The driver's row is one of the caller's columns: one element at a time.
            Output::Update {
                rule,
                transposed: true,
            } => {
                for (j, (c, product)) in c.iter_mut().zip(product).enumerate() {
                    rule(
                        j0 + j,
                        i,
                        std::slice::from_mut(c),
                        std::slice::from_ref(product),
                    );
                }
            }
        }
    }
}
