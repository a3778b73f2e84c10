//! Flowbook: a visual dataflow notebook. The core (graph, catalog, stream, nn, exec)
//! never depends on the UI; the UI and CLI sit on top of it.

#[cfg(feature = "gui")]
pub mod app;
pub mod catalog;
pub mod cli;
pub mod datasets;
pub mod exec;
pub mod flink;
pub mod format;
pub mod graph;
pub mod guard;
pub mod learn;
pub mod nn;
pub mod notebook;
pub mod output_file;
pub mod paths;
pub mod plan;
pub mod stream;
