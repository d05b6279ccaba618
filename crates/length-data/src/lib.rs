//! # length-data
