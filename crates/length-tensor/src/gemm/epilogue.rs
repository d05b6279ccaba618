//! What a GEMM does with each finished tile of the product: store it (through ReLU, for a layer
//! with its activation fused; or gated by ReLU's output, for the gradient flowing back through
//! it), or hand it to an update of C — an optimizer's step,
//! `W ← W − η·(gᵀ·x)` for SGD, applied inside the product that computes the gradient.
//!
//! Stored through ReLU, each tile is rectified by the microkernel, in its registers, after the
//! last k block and before the store (`Tile::rectify`): the activation costs no pass of its own
//! over the output. The paths that store element by element (narrow products, an empty k) apply
//! [`Output::stored`] to each value instead.
//!
//! Gated ([`Output::StoreGated`]), the way back through ReLU is taken the same way: the tile of
//! `g · W`, the gradient of a ReLU's output y, keeps its elements where `y > 0` and is zero
//! elsewhere (`Finish::StoreGated`), which makes it the gradient of the ReLU's input; the layer below
//! then needs no pass of its own to take it through its activation.
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

use super::layout::MatRef;
use crate::activation::{relu_gradient_scalar, relu_scalar};

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
    /// `C = (A · B) · [gate > 0]` element by element: the product taken back through a ReLU
    /// whose output is `gate` (C's shape), zero where the ReLU was off (at 0 and NaN too).
    StoreGated(MatRef),
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

    /// Whether C is overwritten with the product (through ReLU, gated, or as it is).
    pub(crate) fn is_store(self) -> bool {
        matches!(
            self,
            Output::Store | Output::StoreRelu | Output::StoreGated(_)
        )
    }

    /// What a stored product keeps of element (i, j): the value; for [`Output::StoreRelu`]
    /// `max(value, 0)` (`+0` for NaN and `-0`, as [`crate::relu`] and the microkernels give); for
    /// [`Output::StoreGated`] the value where the gate's (i, j) is above zero, else `+0` (as
    /// [`crate::relu_backward`] gives).
    pub(crate) fn stored(self, i: usize, j: usize, value: f32) -> f32 {
        match self {
            Output::StoreRelu => relu_scalar(value),
            // SAFETY: the gate has C's shape (checked by the public entry point), and (i, j) is
            // an element of C.
            Output::StoreGated(gate) => relu_gradient_scalar(unsafe { *gate.at(i, j) }, value),
            _ => value,
        }
    }

    /// The same output for the transposed product `Cᵀ = Bᵀ · Aᵀ`.
    pub(crate) fn transposed(self) -> Output<'a> {
        match self {
            Output::Store | Output::StoreRelu | Output::Descend(_) => self,
            Output::StoreGated(gate) => Output::StoreGated(gate.t()),
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
            Output::Store | Output::StoreRelu | Output::StoreGated(_) => {
                unreachable!("a stored product has no update")
            }
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
