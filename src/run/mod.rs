//! Running planned cases against targets through the control API.

pub mod event;
pub mod launch;
