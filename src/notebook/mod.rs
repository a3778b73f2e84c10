//! The notebook's outputs without a window: what a run produced for each pinned cell
//! ([`NotebookResults`], kept in a small file next to the graph), a collector that builds them
//! from executor telemetry, and the HTML report (`flowbook report`, File → Export report) with
//! plots rasterized to PNG. No egui here: the headless CLI builds all of it.

mod chart;
mod collect;
mod html;
mod pins;
mod results;

pub use chart::{ChartSpec, render_chart_png};
pub use collect::ResultsCollector;
pub use html::{ReportInput, render_report};
pub use pins::{cell_title, default_cells, pin_cells, plot_fields};
pub use results::{
    CellOutput, CellResult, Envelope, NotebookResults, ResultsError, RunInfo, SeriesData, Table,
    load_results, remove_results, results_path, save_results,
};

/// Now, as results and reports stamp it (UTC, RFC 3339, seconds).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
