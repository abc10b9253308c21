//! Stopping a run early on SIGINT or SIGTERM: the binary turns the signal
//! into an [`Interrupt`], the run stops starting cases, ends the ones in
//! flight, stops its targets and returns a report marked partial.

/// The name of the signal that stopped the run, once one did; the binary
/// holds the sending side ([`Interrupt::channel`]).
#[derive(Debug, Clone)]
pub struct Interrupt(tokio::sync::watch::Receiver<Option<&'static str>>);

impl Interrupt {
    /// A handle that never fires.
    pub fn never() -> Self {
        Self(tokio::sync::watch::channel(None).1)
    }

    /// The sending side (send the signal's name) and the handle.
    pub fn channel() -> (tokio::sync::watch::Sender<Option<&'static str>>, Self) {
        let (tx, rx) = tokio::sync::watch::channel(None);
        (tx, Self(rx))
    }

    /// The signal, if one came.
    pub fn fired(&self) -> Option<&'static str> {
        *self.0.borrow()
    }

    /// Resolves with the signal's name when one comes; never when the
    /// sending side is gone without one.
    pub async fn wait(&self) -> &'static str {
        let mut rx = self.0.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(sig) => sig.unwrap_or("a signal"),
            Err(_) => std::future::pending().await,
        }
    }
}

/// Why the signal handlers could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen for {signal}: {source}")]
pub struct ListenSignalsError {
    signal: &'static str,
    source: std::io::Error,
}

impl Interrupt {
    /// A handle that fires on the first SIGINT or SIGTERM the process gets.
    /// Needs a tokio runtime.
    pub fn on_signals() -> Result<Self, ListenSignalsError> {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind, name| {
            signal(kind).map_err(|source| ListenSignalsError {
                signal: name,
                source,
            })
        };
        let mut int = listen(SignalKind::interrupt(), "SIGINT")?;
        let mut term = listen(SignalKind::terminate(), "SIGTERM")?;
        let (tx, handle) = Self::channel();
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
            let _ = tx.send(Some(name));
            // Keep the handlers installed: a second signal while the run
            // stops its targets must not kill the harness half-way.
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
        });
        Ok(handle)
    }
}
