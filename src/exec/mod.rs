//! The executor: compiles a logical plan into operator instances × parallelism on threads,
//! joined by bounded channels that carry batches (back-pressure), with a control channel in
//! and a telemetry channel out. It never calls into a UI; it only sends typed telemetry.

mod build;
mod colocated;
mod control;
mod exchange;
mod lanes;
mod layout;
mod monitor;
mod pace;
mod run;
mod taps;
mod task;
mod telemetry;
mod window_tap;

pub use control::Control;
pub use layout::{Layout, TaskThreads, ThreadMap};

/// Cores this process may run on (threads beyond this only wait for each other).
pub fn threads_available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
pub use monitor::{TELEMETRY_CAPACITY, TelemetryWaker};
pub use pace::PaceCell;
pub use run::{MAX_THREADS, RunHandle, RunOptions, SetParamError, StartError, start};
pub use taps::{KEY_SAMPLE_EVERY, LateSample, PREVIEW_ROWS, PortPreview, SkewStats, format_value};
pub use telemetry::{
    InsightPoint, LatePoints, MetricPoints, NodeState, NodeStatus, Outcome, RunReport, Telemetry,
    WindowPoints, WindowSample,
};
