//! Progress for slow phases, on stderr.
//!
//! A [`Phase`] says nothing unless it runs longer than a threshold (2 s;
//! `ZKINFER_PROGRESS_AFTER_MS` changes it, `0` shows every phase), so fast
//! commands print exactly what they always did. Past the threshold it
//! prints `<label>...` once when stderr is not a terminal (logs get one line
//! per phase); on a terminal the line counts the seconds and ends with the
//! time taken.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The variable that sets the threshold, in milliseconds.
pub const AFTER_ENV: &str = "ZKINFER_PROGRESS_AFTER_MS";
const DEFAULT_AFTER: Duration = Duration::from_secs(2);

/// A phase in progress; reports itself if it runs long. Ends when dropped.
pub struct Phase {
    done: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// The threshold: [`AFTER_ENV`] in milliseconds, else 2 s.
fn threshold() -> Duration {
    std::env::var(AFTER_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_AFTER, Duration::from_millis)
}

impl Phase {
    /// Starts a phase named `label` (`generating IPA parameters for k = 14`).
    pub fn start(label: impl Into<String>) -> Phase {
        let label = label.into();
        let after = threshold();
        let terminal = std::io::stderr().is_terminal();
        let (done, rx) = mpsc::channel::<()>();
        let started = Instant::now();
        let thread = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                let ended = match rx.recv_timeout(after.saturating_sub(started.elapsed())) {
                    Err(RecvTimeoutError::Timeout) => false,
                    // Ended: a phase this thread saw end after the threshold
                    // (it may start late on a busy machine) still reports.
                    _ if started.elapsed() >= after => true,
                    _ => return,
                };
                if !terminal {
                    eprintln!("{label}...");
                    return;
                }
                if !ended {
                    loop {
                        eprint!("\r{label}... {} s", started.elapsed().as_secs());
                        let _ = std::io::stderr().flush();
                        if !matches!(
                            rx.recv_timeout(Duration::from_secs(1)),
                            Err(RecvTimeoutError::Timeout)
                        ) {
                            break;
                        }
                    }
                }
                eprintln!(
                    "\r{label}... done in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            })
            .ok();
        Phase {
            done: Some(done),
            thread,
        }
    }

    /// Runs `f` as a phase named `label`.
    pub fn run<T>(label: impl Into<String>, f: impl FnOnce() -> T) -> T {
        let _phase = Phase::start(label);
        f()
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread, which prints its last line
        // (if any) before this returns: nothing printed later interleaves.
        drop(self.done.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
