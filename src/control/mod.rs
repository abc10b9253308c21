//! The test-control API: how the harness drives a target. [`api`] holds the
//! wire types (shared with the reference provider), [`client`] the calls,
//! [`transcript`] a case's record of them.

pub mod api;
pub mod client;
pub mod openapi;
pub mod transcript;

pub use client::{CallError, ControlClient};
pub use transcript::CallLog;
