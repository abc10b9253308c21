//! Loading and validating suite files.

pub mod model;
