//! mimi-interop: a conformance and interoperability harness for MIMI
//! providers, and a reference MIMI provider built on openmls.
//!
//! The pipeline is `suite` (load, validate) → `plan` (targets × suites →
//! cells × cases) → `run` (drive targets through `control`) → `report`
//! (render one `RunReport`). `content` is the MIMI content codec and
//! `protocol` the MIMI protocol codec, both shared by the harness and the
//! `reference` provider. See `docs/architecture.md`.

pub mod cli_input;
pub mod content;
pub mod control;
pub mod exit;
pub mod pki;
pub mod plan;
pub mod protocol;
pub mod reference;
pub mod report;
pub mod run;
pub mod suite;
