//! The reference MIMI provider.
pub mod room;
