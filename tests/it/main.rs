//! The one integration-test binary; one module per area.

mod abuse;
mod cli;
mod consent;
mod content;
mod coverage;
mod fake_target;
mod mutation;
mod reference;
mod reference_policy;
mod report;
mod room_policy;
mod run;
mod suite;
