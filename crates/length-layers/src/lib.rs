//! # length-layers
