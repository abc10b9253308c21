//! How the runner gets `builtin` targets without knowing what they are: the
//! binary hands it a [`BuiltinLauncher`] (the reference provider's).

use crate::plan::model::BuiltinTarget;
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Starts in-process providers for one run. One launcher serves one run, so
/// it can hold run-wide material (the run's certificate authority).
pub trait BuiltinLauncher: Send + Sync {
    /// Starts the provider `name` and returns once its control API answers.
    fn launch<'a>(
        &'a self,
        name: &'a str,
        spec: &'a BuiltinTarget,
    ) -> BoxFuture<'a, Result<Box<dyn RunningBuiltin>, String>>;

    /// Starts the run's adversary provider for `domain`: a provider whose
    /// control API also answers `forge` (`docs/protocol-suites.md`), run by
    /// the harness against every target in the protocol suites.
    fn launch_adversary<'a>(
        &'a self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn RunningBuiltin>, String>>;
}

/// A started builtin provider. Dropping it stops it; [`RunningBuiltin::stop`]
/// stops it and waits until its tasks are gone.
pub trait RunningBuiltin: Send + Sync {
    /// Base URL of its control API (without `/v1`).
    fn control_url(&self) -> String;
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;
}
