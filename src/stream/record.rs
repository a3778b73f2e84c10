//! The data that flows: keys, records, window results, watermarks, and the schema of a port.

use compact_str::CompactString;
use smallvec::SmallVec;
use std::fmt;
use std::sync::Arc;

/// A record's key. Integers stay integers (fast to hash); text is stored inline up to 24 bytes,
/// so cloning a key never allocates and never touches a shared counter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Int(i64),
    Str(CompactString),
}

impl Key {
    pub fn text(s: &str) -> Self {
        Key::Str(CompactString::new(s))
    }
}

impl Default for Key {
    fn default() -> Self {
        Key::Str(CompactString::const_new(""))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Int(i) => write!(f, "{i}"),
            Key::Str(s) => f.write_str(s),
        }
    }
}

/// Field values of a record, in the order of its port's `Schema`. Up to eight stay inline (a window
/// statistics row has seven), so the hot path never allocates for values.
pub type Values = SmallVec<[f64; 8]>;

/// One row of a stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub key: Key,
    /// Event time, epoch milliseconds.
    pub ts: i64,
    pub values: Values,
}

/// Whether a window result came from an event-time window or a count window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowTag {
    /// An event-time window: `start`/`end` are its bounds [start, end).
    Time,
    /// A count window: `start`/`end` are the event times of its first and last element.
    Count,
}

impl WindowTag {
    /// The letter Flowbook and the Flink reference files use in their `kind` column.
    pub fn letter(self) -> &'static str {
        match self {
            WindowTag::Time => "W",
            WindowTag::Count => "C",
        }
    }
}

/// One firing of one key's window.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowResult {
    pub key: Key,
    pub tag: WindowTag,
    pub start: i64,
    pub end: i64,
    /// Event time of the result: end − 1 for time windows, the last element's for count windows.
    pub ts: i64,
    /// Statistics of the first kept field (the common case, stored inline: no allocation).
    pub first_stats: crate::stream::stats::Stats,
    /// Statistics of further kept fields and the rows, only when the planner asked for them.
    pub extra: Option<Box<WindowExtra>>,
}

/// The rarely needed parts of a window result, boxed to keep `Item` small.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowExtra {
    /// Statistics of the kept fields after the first, in order.
    pub more_stats: Vec<crate::stream::stats::Stats>,
    /// The window's records in arrival order, when a consumer needs them (e.g. a Batch node).
    pub rows: Vec<Record>,
}

impl WindowResult {
    /// Statistics of the `index`-th kept field.
    pub fn stats(&self, index: usize) -> Option<&crate::stream::stats::Stats> {
        match index {
            0 => Some(&self.first_stats),
            i => self.extra.as_ref()?.more_stats.get(i - 1),
        }
    }

    /// The window's records (empty unless a consumer asked for them).
    pub fn rows(&self) -> &[Record] {
        self.extra.as_ref().map_or(&[], |e| e.rows.as_slice())
    }
}

/// What travels along a wire and through a channel.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Record(Record),
    Window(WindowResult),
    /// A mini-batch of features and labels (shared: fan-out clones a pointer).
    Batch(std::sync::Arc<crate::nn::payload::MiniBatch>),
    /// A trained model snapshot.
    Model(std::sync::Arc<crate::nn::payload::ModelSnapshot>),
    /// Event time up to which the stream is complete (Flink's watermark).
    Watermark(i64),
}

impl Item {
    /// The event time an item carries, if any (batches: their last record's).
    pub fn event_time(&self) -> Option<i64> {
        match self {
            Item::Record(r) => Some(r.ts),
            Item::Window(w) => Some(w.ts),
            Item::Batch(b) => Some(b.last_ts),
            Item::Model(_) | Item::Watermark(_) => None,
        }
    }
}

/// The names of a Records port's fields and its tag (`W`, `C`, `L`), fixed at plan time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    pub fields: Vec<String>,
    /// A constant label written in a CSV sink's `kind` column.
    pub tag: Option<String>,
}

impl Schema {
    pub fn new(fields: Vec<String>) -> Arc<Self> {
        Arc::new(Self { fields, tag: None })
    }

    pub fn index_of(&self, field: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == field)
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn print_sizes() {
        eprintln!(
            "Item {} Record {} WindowResult {} Key {} Values {}",
            std::mem::size_of::<super::Item>(),
            std::mem::size_of::<super::Record>(),
            std::mem::size_of::<super::WindowResult>(),
            std::mem::size_of::<super::Key>(),
            std::mem::size_of::<super::Values>()
        );
    }
}
