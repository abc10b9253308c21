//! A fake's log written by a real process: the fake hands each line to a
//! `sh` loop (the `command` target the harness spawns), which prints it on
//! its stderr and acknowledges it. The fake answers a call only after the
//! acknowledgement, so the line is in the harness's log file before the
//! answer leaves: which case's window it falls in is decided, not timed.
//!
//! Two FIFOs carry the lines and the acknowledgements. The fake opens both
//! read-write (on Linux that never blocks), so the script's opens never wait
//! and a script that ends does not break the fake's pipe.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The fake's end of the log process.
#[derive(Debug)]
pub struct ProcessLog {
    lines: PathBuf,
    acks: PathBuf,
    ends: Mutex<(std::fs::File, std::fs::File)>,
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path that outlives the call.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

impl ProcessLog {
    /// Two FIFOs in `dir`, open at the fake's end.
    pub fn new(dir: &Path) -> Arc<Self> {
        let lines = dir.join("log-lines.fifo");
        let acks = dir.join("log-acks.fifo");
        mkfifo(&lines);
        mkfifo(&acks);
        let open = |p: &Path| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(p)
                .unwrap()
        };
        let ends = Mutex::new((open(&lines), open(&acks)));
        Arc::new(Self { lines, acks, ends })
    }

    /// The `sh -c` script of the command target: each line the fake sends
    /// goes to the script's stderr, then is acknowledged.
    pub fn script(&self) -> String {
        format!(
            "exec 3<'{}' 4>'{}'; while IFS= read -r line <&3; do printf '%s\\n' \"$line\" >&2; echo >&4; done",
            self.lines.display(),
            self.acks.display()
        )
    }

    /// Has the process log `line` and waits until it has.
    pub async fn line(self: &Arc<Self>, line: String) {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut ends = me.ends.lock().unwrap();
            let (to, from) = &mut *ends;
            to.write_all(format!("{line}\n").as_bytes()).unwrap();
            let mut ack = [0u8; 1];
            from.read_exact(&mut ack).unwrap();
        })
        .await
        .unwrap();
    }
}
