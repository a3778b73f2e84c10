//! How Flowbook writes numbers and event times for people, one way everywhere: tables,
//! timelines, plots, badges, previews, the CLI summary and reports all call this module.
//! Raw epoch milliseconds appear only in exported CSV. No egui here: the core uses it too.

mod number;
mod time;

pub use number::{count, metric, percent, rate, si, significant, value};
pub use time::{
    END_OF_INPUT, EventClock, event_clock, event_date, event_time, span, watermark, watermark_clock,
};
