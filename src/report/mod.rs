//! The one in-memory run result and its renderers. Every report is rendered
//! from a [`model::RunReport`] and never talks to live targets;
//! `docs/report-format.md` describes the files.

mod claims;
mod common;
pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
mod merge;
pub mod model;
pub mod summary;
pub mod terminal;
mod write;

pub use merge::{MergeError, merge};
pub use write::{ARTIFACT_DIRS, REPORT_FILES, WriteReportError, WrittenReports, write_all};
