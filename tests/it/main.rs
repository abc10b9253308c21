//! The one integration-test binary; one module per area.

mod abuse;
mod atomic;
mod assets;
mod cli;
mod consent;
mod content;
mod coverage;
mod fake_target;
mod flood;
mod mutation;
mod receipts;
mod reference;
mod reference_policy;
mod report;
mod room_policy;
mod run;
mod suite;
