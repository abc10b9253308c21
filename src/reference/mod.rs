//! The reference MIMI provider.
