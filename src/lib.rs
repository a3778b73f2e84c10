//! Flowbook: a visual dataflow notebook. The core (graph, catalog, stream, nn, exec)
//! never depends on the UI; the UI and CLI sit on top of it.

pub mod datasets;
pub mod nn;
pub mod graph;
pub mod catalog;
pub mod stream;
pub mod plan;
pub mod exec;
pub mod cli;
