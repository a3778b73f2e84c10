//! Ctrl+C, SIGTERM and SIGHUP during a headless run: the first one stops the run gracefully
//! (threads joined, half-written outputs' temporary files removed, every output file left as it
//! was) and the command exits with 128 + the signal's number (130 for Ctrl+C, 143 for
//! SIGTERM); a second one exits at once, still removing the temporary files being written.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};

/// The first signal received (0: none yet).
static RECEIVED: AtomicI32 = AtomicI32::new(0);
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Starts listening for the signals (once per process; later calls do nothing). Returns
/// whether the signals are handled (they are not where the platform or the process refuses).
pub fn install() -> bool {
    *INSTALLED.get_or_init(listen)
}

#[cfg(unix)]
fn listen() -> bool {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return false;
    };
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                match RECEIVED.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => eprintln!(
                        "\n{}: stopping the run (outputs are left as they were); press Ctrl+C again to quit at once",
                        name(signal)
                    ),
                    Err(first) => {
                        let removed = crate::output_file::remove_live_temporaries();
                        eprintln!(
                            "\n{}: quitting at once ({removed} unfinished output file(s) removed; outputs are left as they were)",
                            name(signal)
                        );
                        std::process::exit(128 + first);
                    }
                }
            }
        })
        .is_ok()
}

#[cfg(not(unix))]
fn listen() -> bool {
    false
}

/// The signal that asked the run to stop, if one came.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// The signal's usual name, for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        1 => "SIGHUP",
        2 => "interrupted (SIGINT)",
        15 => "SIGTERM",
        _ => "signal",
    }
}

/// The command's result after a signal stopped it: exit code 128 + the signal's number.
pub fn interrupted(signal: i32) -> super::CliError {
    super::CliError {
        code: u8::try_from(128 + signal).unwrap_or(130),
        message: format!(
            "{}: the run was stopped; no output file was changed",
            name(signal)
        ),
    }
}
