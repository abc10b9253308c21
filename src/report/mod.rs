//! The one in-memory run result and its renderers.

pub mod model;
