//! Running a graph's stream part on Apache Flink: translation into a typed job spec, the Java
//! DataStream job (exact) and Flink SQL script (where SQL can say it) written from it, building
//! the job's jar, and submitting and watching it through Flink's REST API, reported as the same
//! telemetry a local run produces. No UI here; the app and the CLI sit on top.

pub mod build;
pub mod export;
pub mod java;
pub mod java_expr;
pub mod rest;
pub mod spec;
pub mod sql;
pub mod support;
pub mod vertices;
pub mod watch;

pub use export::{FlinkExport, MAIN_CLASS, export};

/// The REST address of the local cluster `scripts/flink.sh start` runs.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8081";
pub use spec::{ExportError, JobSpec};
pub use watch::{FlinkRun, submit};
