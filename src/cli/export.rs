//! `flowbook export GRAPH --flink DIR` and `flowbook run GRAPH --on-flink URL`: the graph's
//! stream part as an Apache Flink job, written out or run on a cluster and watched, with the
//! same summary as a local run.

use super::run::{drive, exit_status, prepare, summary};
use super::{CliError, print_or_quiet_on_closed_pipe};
use crate::exec::Telemetry;
use crate::flink::{self, FlinkExport};
use crate::graph::Graph;
use crate::plan::LogicalPlan;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Translates a checked graph; relative paths resolve against the graph file's folder, as
/// `flowbook run` reads them.
fn translate(path: &Path, graph: &Graph, plan: &LogicalPlan) -> Result<FlinkExport, CliError> {
    flink::export(graph, plan, &path.display().to_string())
        .map_err(|e| CliError::invalid(format!("{}: cannot run on Flink: {e}", path.display())))
}

pub fn export(path: &Path, sets: &[String], dir: &Path) -> Result<(), CliError> {
    let (graph, plan) = prepare(path, sets)?;
    let export = translate(path, &graph, &plan)?;
    let sources = export
        .write(dir)
        .map_err(|e| CliError::failed(format!("--flink {}: {e}", dir.display())))?;
    print_or_quiet_on_closed_pipe(&format!(
        "wrote {dir}: flowbook/FlowbookJob.java (the Java DataStream job, exact) and {} support classes, job.sql (Flink SQL), README.md, build.sh\nbuild and run: FLINK_HOME=… {dir}/build.sh && \"$FLINK_HOME/bin/flink\" run -c {} {dir}/job.jar\n",
        sources.len().saturating_sub(1),
        flink::MAIN_CLASS,
        dir = dir.display(),
    ));
    Ok(())
}

pub fn run_on_flink(
    path: &Path,
    sets: &[String],
    url: &str,
    max_seconds: Option<f64>,
    quiet: bool,
) -> Result<(), CliError> {
    let (graph, plan) = prepare(path, sets)?;
    let export = translate(path, &graph, &plan)?;
    let (handle, run) =
        flink::submit(export, url, None).map_err(|e| CliError::failed(e.to_string()))?;
    let show_progress = !quiet && std::io::stderr().is_terminal();
    let mut announced = false;
    let report = drive(handle, max_seconds, |message| {
        let info = run.info();
        if !announced && let Some(link) = &info.web_ui {
            announced = true;
            if !quiet {
                eprint!("\r\x1b[2K");
                eprintln!(
                    "flink job {} on {}: {link}",
                    info.job_id.as_deref().unwrap_or("?"),
                    info.cluster
                );
            }
        }
        if show_progress
            && let Telemetry::Progress {
                elapsed_s, nodes, ..
            } = message
        {
            let events: u64 = nodes
                .iter()
                .filter(|n| {
                    plan.nodes
                        .iter()
                        .any(|p| p.id == n.id && p.kind.is_source())
                })
                .map(|n| n.records_out)
                .sum();
            eprint!(
                "\r\x1b[2K{elapsed_s:6.1}s  flink {}  {events} events",
                if info.job_state.is_empty() {
                    info.step.as_str()
                } else {
                    info.job_state.as_str()
                }
            );
            let _ = std::io::stderr().flush();
        }
    });
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    let info = run.info();
    if !quiet {
        for line in &info.vertices {
            eprintln!("  vertex {}", super::terminal_safe(line));
        }
    }
    print_or_quiet_on_closed_pipe(&summary(&plan, &report));
    if let Some(signal) = super::signals::received() {
        return Err(CliError {
            code: u8::try_from(128 + signal).unwrap_or(130),
            message: format!(
                "{}: the Flink job was cancelled",
                super::signals::name(signal)
            ),
        });
    }
    exit_status(&report)
}
