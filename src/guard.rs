//! The one panic guard. Code that runs on user input — operators, expressions, the CLI's
//! commands, the editor's commands — runs inside [`catch`], so a bug in Flowbook (or in a
//! library it calls) becomes an error that says where it happened, never an abort. A caught
//! panic prints nothing by itself: whoever catches it reports it, once.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    /// How many `catch` calls this thread is inside.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// Where the last panic caught on this thread happened (`file:line`).
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A panic caught by [`catch`]: its message and where it was raised.
#[derive(Clone, Debug, PartialEq)]
pub struct Panic {
    pub message: String,
    pub location: Option<String>,
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(at) => write!(f, "{} (at {at})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Runs `work`; a panic inside it is caught and returned instead of unwinding further.
pub fn catch<T>(work: impl FnOnce() -> T) -> Result<T, Panic> {
    install_quiet_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(work));
    DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    result.map_err(|payload| Panic {
        message: payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into()),
        location: LOCATION.with(|l| l.borrow_mut().take()),
    })
}

/// Whether this thread is running inside [`catch`] (a panic now will be caught and reported).
pub fn inside_guard() -> bool {
    DEPTH.with(Cell::get) > 0
}

/// Installs (once) a panic hook that stays silent for panics [`catch`] will report, keeping
/// their location; every other panic goes to the hook that was there before.
fn install_quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if inside_guard() {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                LOCATION.with(|l| *l.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message_and_location() {
        let caught = catch(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        assert_eq!(caught.message, "boom 7");
        let at = caught.location.unwrap();
        assert!(at.starts_with("src/guard.rs:"), "{at}");
        assert!(!inside_guard(), "the depth is restored after a panic");
    }

    #[test]
    fn work_that_does_not_panic_returns_its_value() {
        assert_eq!(catch(|| 6 * 7), Ok(42));
        let nested = catch(|| catch(|| -> () { panic!("inner") }).is_err());
        assert_eq!(nested, Ok(true));
    }
}
