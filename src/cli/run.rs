//! `flowbook run` and `flowbook check`: load, override, validate, run with a progress line,
//! and print a summary that people and scripts can read.

use super::{CliError, apply_sets, print_or_quiet_on_closed_pipe};
use crate::catalog::NodeKind;
use crate::exec::{
    Control, MetricPoints, NodeStatus, Outcome, RunHandle, RunOptions, RunReport, Telemetry, start,
};
use crate::graph::{Graph, Pace, load_with_warnings};
use crate::output_file::OutputFile;
use crate::plan::{GraphLocation, LogicalPlan, plan_in};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Loads, applies overrides and validates; every failure here is exit code 2.
pub fn prepare(path: &Path, sets: &[String]) -> Result<(Graph, LogicalPlan), CliError> {
    let loaded = load_with_warnings(path).map_err(|e| CliError::invalid(e.with_excerpt()))?;
    for warning in &loaded.warnings {
        eprintln!(
            "warning: {}: {}",
            path.display(),
            super::terminal_safe(warning)
        );
    }
    let mut graph = loaded.graph;
    apply_sets(&mut graph, sets)?;
    let plan = plan_in(&graph, &GraphLocation::of_file(path)).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        CliError::invalid(format!(
            "{}: the graph is not valid:\n{}",
            path.display(),
            lines.join("\n")
        ))
    })?;
    Ok((graph, plan))
}

pub fn check(path: &Path, sets: &[String]) -> Result<(), CliError> {
    let (graph, plan) = prepare(path, sets)?;
    let threads = crate::exec::Layout::of(&plan, crate::exec::threads_available()).threads(&plan);
    print_or_quiet_on_closed_pipe(&format!(
        "{}: valid, {} nodes, {} wires\n{}{threads}",
        path.display(),
        graph.nodes.len(),
        graph.edges.len(),
        plan.describe()
    ));
    Ok(())
}

/// `--pace`: the graph file's own pace, or one given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PaceChoice {
    Graph,
    Given(Pace),
}

/// Parses `--pace`.
pub fn pace_choice(text: &str) -> Result<PaceChoice, String> {
    if text.trim().eq_ignore_ascii_case("graph") {
        Ok(PaceChoice::Graph)
    } else {
        text.parse().map(PaceChoice::Given)
    }
}

/// How `flowbook run` runs, besides the graph and its overrides.
pub struct RunFlags<'a> {
    pub max_seconds: Option<f64>,
    pub quiet: bool,
    pub metrics_path: Option<&'a Path>,
    /// Full speed unless given.
    pub pace: Option<PaceChoice>,
}

pub fn run(path: &Path, sets: &[String], flags: RunFlags<'_>) -> Result<(), CliError> {
    let RunFlags {
        max_seconds,
        quiet,
        metrics_path,
        pace,
    } = flags;
    let (graph, plan) = prepare(path, sets)?;
    if let Some(out) = metrics_path {
        plan.check_new_output(out, "--metrics")
            .map_err(CliError::invalid)?;
    }
    let pace = match pace {
        None => Pace::Max,
        Some(PaceChoice::Graph) => graph.pace,
        Some(PaceChoice::Given(pace)) => pace,
    };
    let options = RunOptions {
        pace,
        ..RunOptions::default()
    };
    // Created before the run (a folder or an unwritable place fails first); rows are streamed
    // into it as they come, so an endless run keeps no history of its own.
    let mut metrics_out = metrics_path.map(MetricsWriter::create).transpose()?;
    let handle = start(&plan, options).map_err(|e| CliError::failed(e.to_string()))?;
    let show_progress = !quiet && std::io::stderr().is_terminal();
    if show_progress && let Some(threads) = handle.threads() {
        // How the run was mapped to threads (also in `flowbook check`).
        eprint!("{}", super::terminal_safe(&threads.to_string()));
    }
    let mut write_error = None;
    let report = drive(handle, max_seconds, |message| {
        if let Telemetry::Progress {
            elapsed_s,
            nodes,
            metrics: points,
            ..
        } = message
        {
            if let Some(out) = metrics_out.as_mut()
                && write_error.is_none()
                && let Err(e) = out.write(points)
            {
                write_error = Some(e);
            }
            if show_progress {
                eprint!(
                    "\r\x1b[2K{}",
                    super::terminal_safe(&progress_line(*elapsed_s, &plan, nodes))
                );
                let _ = std::io::stderr().flush();
            }
        }
    });
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    if let Some(signal) = super::signals::received() {
        return Err(super::signals::interrupted(signal));
    }
    print_or_quiet_on_closed_pipe(&summary(&plan, &report));
    if let Some(e) = write_error {
        return Err(e);
    }
    if let Some(out) = metrics_out {
        out.commit()?;
    }
    exit_status(&report)
}

/// The command's result for how the run ended (a failure names its node).
pub fn exit_status(report: &RunReport) -> Result<(), CliError> {
    match &report.outcome {
        Outcome::Failed { node, message } => {
            Err(CliError::failed(format!("node '{node}' failed: {message}")))
        }
        Outcome::Stopped => Err(CliError::failed("the run was stopped before the end")),
        Outcome::Finished => Ok(()),
    }
}

/// Runs to the end (asking the graph to finish after `max_seconds`), handing every telemetry
/// message to `each`; returns the final report once every thread of the run has been joined.
pub fn drive(
    handle: RunHandle,
    max_seconds: Option<f64>,
    mut each: impl FnMut(&Telemetry),
) -> RunReport {
    let started = Instant::now();
    // Validated by the command line: finite and not negative.
    let deadline = max_seconds.and_then(|s| {
        Duration::try_from_secs_f64(s.max(0.0))
            .ok()
            .and_then(|d| started.checked_add(d))
    });
    let mut finishing = false;
    let mut stopping = false;
    loop {
        if !stopping && super::signals::received().is_some() {
            handle.send(Control::Stop);
            stopping = true;
        }
        if let Some(deadline) = deadline
            && !finishing
            && Instant::now() >= deadline
        {
            handle.send(Control::Finish);
            finishing = true;
        }
        match handle.telemetry().recv_timeout(Duration::from_millis(50)) {
            Ok(message) => {
                each(&message);
                if matches!(message, Telemetry::Done(_)) {
                    return handle.wait();
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return handle.wait(),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
        }
    }
}

/// `--metrics`: all trainers' metrics as one CSV (`node` first), rows written as they arrive
/// into a temporary file that replaces the target when the run is over.
struct MetricsWriter {
    out: std::io::BufWriter<OutputFile>,
    /// The columns, from the first rows (`None` until then).
    fields: Option<Vec<String>>,
    path: std::path::PathBuf,
}

impl MetricsWriter {
    fn create(path: &Path) -> Result<Self, CliError> {
        let file =
            OutputFile::create(path).map_err(|e| CliError::failed(format!("--metrics: {e}")))?;
        Ok(Self {
            out: std::io::BufWriter::new(file),
            fields: None,
            path: path.to_path_buf(),
        })
    }

    fn fail(&self, e: std::io::Error) -> CliError {
        CliError::failed(format!(
            "--metrics: '{}': cannot write: {e}",
            self.path.display()
        ))
    }

    fn write(&mut self, batches: &[MetricPoints]) -> Result<(), CliError> {
        for batch in batches.iter().filter(|b| !b.rows.is_empty()) {
            if self.fields.is_none() {
                let mut header = String::from("node");
                for f in &batch.fields {
                    header.push(',');
                    header.push_str(f);
                }
                header.push('\n');
                self.out
                    .write_all(header.as_bytes())
                    .map_err(|e| self.fail(e))?;
                self.fields = Some(batch.fields.clone());
            }
            let mut text = String::new();
            for row in &batch.rows {
                text.push_str(&batch.node);
                for v in row {
                    text.push_str(&format!(",{v}"));
                }
                text.push('\n');
            }
            self.out
                .write_all(text.as_bytes())
                .map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    fn commit(mut self) -> Result<(), CliError> {
        if self.fields.is_none() {
            self.out.write_all(b"node\n").map_err(|e| self.fail(e))?;
        }
        let path = self.path.clone();
        let file = self.out.into_inner().map_err(|e| {
            CliError::failed(format!(
                "--metrics: '{}': cannot write: {}",
                path.display(),
                e.error()
            ))
        })?;
        file.commit()
            .map_err(|e| CliError::failed(format!("--metrics: {e}")))
    }
}

/// `name: key=value …` for each trainer, from its newest metrics, so scripts can read it.
fn trainer_lines(report: &RunReport) -> String {
    let mut out = String::new();
    for node in report.nodes.iter().filter(|n| !n.last_metrics.is_empty()) {
        let value = |name: &str| {
            node.last_metrics
                .iter()
                .find(|(f, _)| f == name)
                .map(|(_, v)| *v)
        };
        let mut parts = vec![format!("{}:", node.name)];
        for (label, name) in [
            ("steps", "step"),
            ("epochs", "epoch"),
            ("loss", "loss"),
            ("accuracy", "accuracy"),
            ("test_loss", "test_loss"),
            ("test_accuracy", "test_accuracy"),
            ("progressive_loss", "progressive_loss"),
            ("progressive_accuracy", "progressive_accuracy"),
            ("hit_rate", "hit_rate"),
            ("popular_hit_rate", "popular_hit_rate"),
            ("lr", "lr"),
            ("samples_per_s", "samples_per_s"),
        ] {
            match value(name) {
                Some(v)
                    if v.is_finite() && matches!(label, "steps" | "epochs" | "samples_per_s") =>
                {
                    parts.push(format!("{label}={v:.0}"))
                }
                Some(v) if v.is_finite() => parts.push(format!("{label}={v:.4}")),
                _ => {}
            }
        }
        out.push_str(&parts.join(" "));
        out.push('\n');
    }
    out
}

fn human(n: f64) -> String {
    crate::format::si(n)
}

fn source_records(plan: &LogicalPlan, nodes: &[NodeStatus]) -> u64 {
    nodes
        .iter()
        .filter(|n| {
            plan.nodes
                .iter()
                .any(|p| p.id == n.id && p.kind.is_source())
        })
        .map(|n| n.records_out)
        .sum()
}

fn progress_line(elapsed_s: f64, plan: &LogicalPlan, nodes: &[NodeStatus]) -> String {
    let mut line = format!(
        "{elapsed_s:6.1}s  {} events",
        human(source_records(plan, nodes) as f64)
    );
    for n in nodes.iter().filter(|n| !n.last_metrics.is_empty()) {
        let value = |name: &str| {
            n.last_metrics
                .iter()
                .find(|(f, _)| f == name)
                .map_or(f64::NAN, |(_, v)| *v)
        };
        line.push_str(&format!(
            "  {} step {:.0} epoch {:.0} loss {}",
            n.name,
            value("step"),
            value("epoch"),
            crate::format::metric(value("loss"))
        ));
    }
    for n in nodes
        .iter()
        .filter(|n| n.in_per_s > 0.0 || n.late > 0)
        .take(4)
    {
        line.push_str(&format!("  {} {}/s", n.name, human(n.in_per_s)));
        if n.late > 0 {
            line.push_str(&format!(" late {}", n.late));
        }
    }
    line
}

fn watermark_text(w: Option<i64>) -> String {
    w.map_or_else(|| "-".into(), crate::format::watermark)
}

/// The closing summary: outcome, a table per node, and the events/s of the sources.
pub fn summary(plan: &LogicalPlan, report: &RunReport) -> String {
    let mut out = String::new();
    let outcome = match &report.outcome {
        Outcome::Finished => "finished".to_string(),
        Outcome::Stopped => "stopped".to_string(),
        Outcome::Failed { node, .. } => format!("FAILED at node '{node}'"),
    };
    out.push_str(&format!("{outcome} in {:.3} s\n", report.elapsed_s));
    out.push_str(&format!(
        "{:<16} {:<16} {:>12} {:>12} {:>11} {:>8} {:>8} {:>23}\n",
        "node", "kind", "in", "out", "in/s", "late", "skipped", "watermark"
    ));
    for n in &report.nodes {
        let kind = plan
            .nodes
            .iter()
            .find(|p| p.id == n.id)
            .map_or("?", |p| p.kind.spec().id);
        out.push_str(&format!(
            "{:<16} {:<16} {:>12} {:>12} {:>11} {:>8} {:>8} {:>23}\n",
            n.name,
            kind,
            n.records_in,
            n.records_out,
            human(n.in_per_s),
            n.late,
            n.skipped,
            watermark_text(n.watermark)
        ));
    }
    let events = source_records(plan, &report.nodes);
    let late: u64 = report.nodes.iter().map(|n| n.late).sum();
    let windows: u64 = report
        .nodes
        .iter()
        .filter(|n| {
            plan.nodes
                .iter()
                .any(|p| p.id == n.id && p.kind == NodeKind::Window)
        })
        .map(|n| n.window_firings)
        .sum();
    out.push_str(&trainer_lines(report));
    out.push_str(&format!(
        "events={events} seconds={:.3} events_per_s={:.0} late={late} windows_fired={windows}\n",
        report.elapsed_s,
        events as f64 / report.elapsed_s.max(1e-9)
    ));
    out
}
