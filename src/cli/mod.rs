//! The headless command line: `run`, `report`, `check`, `export` and `nodes`. Exit codes: 0 ok, 1 the run failed,
//! 2 the graph or the command line is invalid. Messages name the file, node and parameter.

mod export;
mod nodes;
mod report;
mod run;
mod signals;

use crate::catalog::{NodeKind, ParamKind, ParamSpec, parse_param_text};
use crate::graph::{Graph, ParamValue};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "flowbook",
    version,
    about = "A visual dataflow notebook: Flink-exact windows and neural networks on streams",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand: open this graph in the desktop editor.
    #[arg(value_name = "GRAPH")]
    pub graph: Option<PathBuf>,
    /// With GRAPH: start running it as soon as the editor opens.
    #[arg(long, requires = "graph")]
    pub run: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a graph to the end of its bounded sources (or until --max-seconds) and print a summary.
    Run {
        graph: PathBuf,
        /// Override a parameter: NODE.PARAM=VALUE (repeatable).
        #[arg(long = "set", value_name = "NODE.PARAM=VALUE")]
        sets: Vec<String>,
        /// End the run gracefully after this many seconds (sources end, windows fire, sinks complete).
        #[arg(long, value_parser = seconds)]
        max_seconds: Option<f64>,
        /// No progress line.
        #[arg(long, short)]
        quiet: bool,
        /// Write every trainer's metrics (one row per step) to this CSV file.
        #[arg(long, value_name = "CSV")]
        metrics: Option<PathBuf>,
        /// Run at a pace a person can follow instead of full speed: `graph` (the file's
        /// default pace), `animate`, a replay factor such as `100x`, or steps per second such
        /// as `20/s`.
        #[arg(long, value_name = "PACE", value_parser = run::pace_choice)]
        pace: Option<run::PaceChoice>,
        /// Run the graph as a job on this Apache Flink cluster (its REST address, e.g.
        /// http://127.0.0.1:8081) and watch it, instead of running it here.
        #[arg(long, value_name = "URL", conflicts_with = "metrics")]
        on_flink: Option<String>,
    },
    /// Write a graph's stream part as an Apache Flink job: a Java DataStream job (exact) and a
    /// Flink SQL script (where SQL can express it).
    Export {
        graph: PathBuf,
        /// The folder to write the job into (created if needed).
        #[arg(long, value_name = "DIR")]
        flink: PathBuf,
        /// Override a parameter: NODE.PARAM=VALUE (repeatable).
        #[arg(long = "set", value_name = "NODE.PARAM=VALUE")]
        sets: Vec<String>,
    },
    /// Run a graph headless and write its notebook as a self-contained HTML report.
    Report {
        graph: PathBuf,
        /// The HTML file to write.
        #[arg(long, short, value_name = "HTML")]
        output: PathBuf,
        /// Override a parameter: NODE.PARAM=VALUE (repeatable).
        #[arg(long = "set", value_name = "NODE.PARAM=VALUE")]
        sets: Vec<String>,
        /// End the run gracefully after this many seconds (needed for endless sources).
        #[arg(long, value_parser = seconds)]
        max_seconds: Option<f64>,
    },
    /// Validate a graph and print its plan.
    Check {
        graph: PathBuf,
        #[arg(long = "set", value_name = "NODE.PARAM=VALUE")]
        sets: Vec<String>,
    },
    /// List the node catalogue with ports, parameters and documentation.
    Nodes {
        /// Print as a markdown reference.
        #[arg(long)]
        markdown: bool,
        /// Print one markdown table row per node (the README's overview).
        #[arg(long, conflicts_with = "markdown")]
        table: bool,
    },
}

/// Prints to stdout; a reader that went away (`flowbook nodes | head`) is not an error.
pub(crate) fn print_or_quiet_on_closed_pipe(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout()
        .lock()
        .write_all(terminal_safe(text).as_bytes());
}

/// Text from a graph file (node names, paths, messages quoting them) made safe to print: control
/// characters other than line breaks and tabs are shown escaped (`\u{1b}`), so a node name
/// cannot move the cursor, recolour or retitle the user's terminal.
pub(crate) fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `--max-seconds`: a finite number of seconds, not negative.
fn seconds(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!(
            "'{text}': give a finite number of seconds, 0 or more"
        ))
    }
}

/// A failure with the exit code it deserves.
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

/// Exit code of an internal error: a bug in Flowbook, reported instead of aborting
/// (`EX_SOFTWARE` of sysexits.h).
pub const EXIT_INTERNAL_ERROR: u8 = 70;

/// Runs a parsed command line. The last line of defence: a panic anywhere in a headless
/// command is caught here and reported as a bug with exit code [`EXIT_INTERNAL_ERROR`], never
/// an abort. (The editor guards each of its commands itself, and keeps unsaved work on a crash.)
pub fn main_with(cli: Cli) -> ExitCode {
    let result = match cli.command {
        None => open_editor(cli.graph, cli.run),
        Some(command) => reporting_bugs(|| run_command(command)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.message.is_empty() {
                eprintln!("error: {}", terminal_safe(&e.message));
            }
            ExitCode::from(e.code)
        }
    }
}

/// Runs a command; a panic inside it becomes an internal-error failure with its message and
/// location.
fn reporting_bugs(command: impl FnOnce() -> Result<(), CliError>) -> Result<(), CliError> {
    crate::guard::catch(command).unwrap_or_else(|panic| {
        Err(CliError {
            code: EXIT_INTERNAL_ERROR,
            message: format!("internal error (a bug in Flowbook, please report it): {panic}"),
        })
    })
}

fn run_command(command: Command) -> Result<(), CliError> {
    if matches!(command, Command::Run { .. } | Command::Report { .. }) {
        // Before the graph is read: reading a named pipe can block, and Ctrl+C must still work.
        signals::install();
    }
    match command {
        Command::Run {
            graph,
            sets,
            max_seconds,
            quiet,
            metrics,
            on_flink,
            pace,
        } => match on_flink {
            Some(url) => export::run_on_flink(&graph, &sets, &url, max_seconds, quiet),
            None => run::run(
                &graph,
                &sets,
                run::RunFlags {
                    max_seconds,
                    quiet,
                    metrics_path: metrics.as_deref(),
                    pace,
                },
            ),
        },
        Command::Export { graph, flink, sets } => export::export(&graph, &sets, &flink),
        Command::Report {
            graph,
            output,
            sets,
            max_seconds,
        } => report::report(&graph, &output, &sets, max_seconds),
        Command::Check { graph, sets } => run::check(&graph, &sets),
        Command::Nodes { markdown, table } => {
            let text = if table {
                nodes::catalogue_table()
            } else {
                nodes::catalogue_text(markdown)
            };
            print_or_quiet_on_closed_pipe(&text);
            Ok(())
        }
    }
}

/// No subcommand: the desktop editor, optionally with a graph file.
#[cfg(feature = "gui")]
fn open_editor(graph: Option<PathBuf>, run: bool) -> Result<(), CliError> {
    crate::app::run_native(graph, run)
        .map_err(|e| CliError::failed(format!("cannot open the editor window: {e}")))
}

/// Built without the `gui` feature: say how to use the headless commands.
#[cfg(not(feature = "gui"))]
fn open_editor(_graph: Option<PathBuf>, _run: bool) -> Result<(), CliError> {
    eprintln!(
        "flowbook: this build has no desktop editor (built without the `gui` feature).\n\
         Run a graph headless:   flowbook run example-graphs/window-stats.ron\n\
         Check a graph:          flowbook check GRAPH.ron\n\
         List node kinds:        flowbook nodes\n\
         More:                   flowbook --help"
    );
    Err(CliError::invalid(""))
}

/// A path typed on the command line means what the shell means by it: relative to the working
/// directory (paths inside the graph file are relative to the graph's folder).
fn relative_to_working_directory(spec: &ParamSpec, value: ParamValue) -> ParamValue {
    match (&spec.kind, &value) {
        (ParamKind::Path, ParamValue::Text(text))
            if !text.trim().is_empty()
                && text.trim() != crate::paths::STDIN
                && Path::new(text.trim()).is_relative() =>
        {
            match std::path::absolute(text.trim()) {
                Ok(path) => ParamValue::Text(path.display().to_string()),
                Err(_) => value,
            }
        }
        _ => value,
    }
}

/// Applies `NODE.PARAM=VALUE` overrides, parsing each value by the parameter's type.
pub fn apply_sets(graph: &mut Graph, sets: &[String]) -> Result<(), CliError> {
    for set in sets {
        let Some((target, value)) = set.split_once('=') else {
            return Err(CliError::invalid(format!(
                "--set {set}: expected NODE.PARAM=VALUE"
            )));
        };
        let Some((node_name, param)) = target.split_once('.') else {
            return Err(CliError::invalid(format!(
                "--set {set}: expected NODE.PARAM=VALUE"
            )));
        };
        let Some(node) = graph.node_by_name(node_name) else {
            let names: Vec<&str> = graph.nodes.iter().map(|n| n.name.as_str()).collect();
            return Err(CliError::invalid(format!(
                "--set {set}: no node named '{node_name}'; nodes are: {}",
                names.join(", ")
            )));
        };
        let Some(kind) = NodeKind::from_id(&node.kind) else {
            return Err(CliError::invalid(format!(
                "--set {set}: node '{node_name}' has an unknown kind '{}'",
                node.kind
            )));
        };
        let Some(spec) = kind.spec().param(param) else {
            let names: Vec<&str> = kind.spec().params.iter().map(|p| p.name).collect();
            return Err(CliError::invalid(format!(
                "--set {set}: {} '{node_name}' has no parameter '{param}'; it has: {}",
                kind.spec().id,
                names.join(", ")
            )));
        };
        let value = parse_param_text(spec, value).map_err(|e| {
            let nearest = e.nearest_allowed().map_or(String::new(), |v| {
                format!(" (the nearest allowed value is {v})")
            });
            CliError::invalid(format!("--set {set}: {param} {e}{nearest}"))
        })?;
        let value = relative_to_working_directory(spec, value);
        graph
            .set_param(node_name, param, value)
            .map_err(|e| CliError::invalid(format!("--set {set}: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_command_is_reported_as_a_bug_not_an_abort() {
        let Err(e) = reporting_bugs(|| panic!("unexpected state")) else {
            panic!("the panic was not reported")
        };
        assert_eq!(e.code, EXIT_INTERNAL_ERROR);
        assert!(
            e.message.contains("a bug in Flowbook") && e.message.contains("unexpected state"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("src/cli/mod.rs:"),
            "names where: {}",
            e.message
        );
        assert!(reporting_bugs(|| Ok(())).is_ok());
    }
}
