//! The test-control API: how the harness drives a target. [`api`] holds the
//! wire types (shared with the reference provider), [`client`] the calls.

pub mod api;
pub mod client;
pub mod openapi;

pub use client::{CallError, ControlClient};
