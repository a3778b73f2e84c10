//! Sources: a CSV reader and seeded synthetic generators. Sources only produce records; pacing,
//! pausing and the final watermark belong to `exec`.

pub mod affinity;
mod csv_blocks;
pub mod csv_file;
#[cfg(test)]
mod csv_split_tests;
pub mod generators;
mod rng;
pub mod split;

pub use affinity::TasteModel;
pub use csv_file::{ColumnRole, CsvError, CsvOptions, CsvSource, NonFinitePolicy, read_header};
pub use generators::{ClickSource, GeneratorOptions, KeyOrder, SensorSource, SequenceSource};
pub use split::Split;
