//! # length-optim
