//! Planning: targets × suites → cells × cases, with filters.

pub mod model;
