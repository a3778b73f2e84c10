//! Streams with Apache Flink's semantics: records, watermarks, partitioners, windows and
//! aggregates as small single-threaded state machines. No threads and no clocks live here:
//! time arrives as data (event times and watermarks); `exec` runs these operators.

pub mod aggregate;
pub mod assign;
pub mod count_window;
pub mod expr;
pub mod operator;
pub mod pane;
pub mod pane_table;
pub mod partition;
mod record;
pub mod session_window;
pub mod sinks;
pub mod sources;
pub mod state_budget;
pub mod stats;
pub mod time_window;
pub mod watermark;

pub use operator::{OpError, OpResult, Operator, Outputs, Source, SourceStatus};
pub use record::{Item, Key, Record, Schema, Values, WindowExtra, WindowResult, WindowTag};

#[cfg(test)]
pub(crate) mod test_support;
