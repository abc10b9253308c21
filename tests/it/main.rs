//! The one integration-test binary; one module per area.

mod abuse;
mod adversary;
mod answer_cap;
mod assets;
mod atomic;
mod ci;
mod cli;
mod cli_repro;
mod consent;
mod content;
mod coverage;
mod diff;
mod fake_target;
mod flood;
mod interrupt;
mod mutation;
mod openapi;
mod protocol;
mod receipts;
mod reference;
mod reference_policy;
mod release;
mod report;
mod room_policy;
mod run;
mod suite;
