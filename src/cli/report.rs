//! `flowbook report GRAPH -o out.html`: runs the graph headless, collects what its notebook
//! cells show, and writes the notebook as one HTML page. A failed run still gets its report
//! (what ran until the failure), and the exit code says it failed.

use super::CliError;
use super::run::{drive, exit_status, prepare, summary};
use crate::exec::{RunOptions, start};
use crate::graph::write_atomically;
use crate::notebook::{ReportInput, ResultsCollector, render_report};
use std::path::Path;

pub fn report(
    path: &Path,
    output: &Path,
    sets: &[String],
    max_seconds: Option<f64>,
) -> Result<(), CliError> {
    let (graph, plan) = prepare(path, sets)?;
    plan.check_new_output(output, "-o")
        .map_err(CliError::invalid)?;
    let handle =
        start(&plan, RunOptions::default()).map_err(|e| CliError::failed(e.to_string()))?;
    let mut collector = ResultsCollector::new(&graph);
    for node in ResultsCollector::preview_nodes(&graph) {
        handle.watch_preview(&node, true);
    }
    let report = drive(handle, max_seconds, |message| collector.observe(message));
    if let Some(signal) = super::signals::received() {
        return Err(super::signals::interrupted(signal));
    }
    collector.finish(&report);
    super::print_or_quiet_on_closed_pipe(&summary(&plan, &report));
    let results = collector.results(&graph, crate::notebook::now_rfc3339());
    let source = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let page = render_report(&ReportInput {
        graph: &graph,
        results: &results,
        source: &source,
    })
    .map_err(|e| CliError::failed(format!("cannot draw the report: {e}")))?;
    write_atomically(output, page.as_bytes()).map_err(|e| CliError::failed(e.to_string()))?;
    super::print_or_quiet_on_closed_pipe(&format!(
        "report: {} ({} cells with output, {} KiB)\n",
        output.display(),
        results.outputs.len(),
        page.len() / 1024
    ));
    exit_status(&report)
}
