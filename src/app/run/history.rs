//! What a run session keeps for the plots, in bounded memory: each trainer's metrics (one
//! thinning series per field), live parameter markers, telemetry latency samples, and the
//! input names a decision boundary is drawn against.

use crate::app::plots::{DEFAULT_CAPACITY, Series};
use crate::graph::NodeId;
use crate::plan::{LogicalPlan, OpSpec};
use std::collections::{BTreeMap, VecDeque};

/// Latency samples kept (the newest).
const LATENCY_SAMPLES: usize = 1024;

/// A live series of a run: it thins past [`DEFAULT_CAPACITY`] points.
pub fn bounded(name: impl Into<String>) -> Series {
    Series::bounded(name, DEFAULT_CAPACITY)
}

/// Appends a point; a point out of order (a clock step back) is dropped, not an error.
pub fn push(series: &mut Series, x: f64, y: f64) {
    let _ = series.push(x, y);
}

/// The metrics stream of one trainer: one series per field, x = step.
#[derive(Clone, Debug, Default)]
pub struct MetricHistory {
    pub fields: Vec<String>,
    /// Per field, (step, value); NaN values are left out.
    pub series: Vec<Series>,
}

impl MetricHistory {
    pub fn add_rows(&mut self, fields: &[String], rows: &[Vec<f64>]) {
        if self.fields.is_empty() {
            self.fields = fields.to_vec();
            self.series = fields.iter().map(bounded).collect();
        }
        let step_at = self.fields.iter().position(|f| f == "step");
        for row in rows {
            let Some(step) = step_at.and_then(|i| row.get(i)).copied() else {
                continue;
            };
            for (series, value) in self.series.iter_mut().zip(row) {
                if value.is_finite() {
                    push(series, step, *value);
                }
            }
        }
    }

    /// CSV rows `run,node,field,step,value` of every field but the step itself.
    pub fn csv_rows(&self, run: usize, node: &str) -> String {
        let mut out = String::new();
        for (field, series) in self.fields.iter().zip(&self.series) {
            if field == "step" {
                continue;
            }
            for [step, value] in series.all_points() {
                out.push_str(&format!("{run},{node},{field},{step},{value}\n"));
            }
        }
        out
    }

    /// The series of a field, if the trainer reports it.
    pub fn field(&self, name: &str) -> Option<&Series> {
        let i = self.fields.iter().position(|f| f == name)?;
        self.series.get(i)
    }

    /// The newest step.
    pub fn last_step(&self) -> Option<f64> {
        self.field("step")?.last().map(|p| p[0])
    }
}

/// A live change of a parameter, marked on the loss plot at the step it took effect.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamMarker {
    pub node: NodeId,
    pub step: f64,
    pub label: String,
}

/// How late metrics reach the UI: from the trainer emitting them to the plot having them
/// (the newest samples, in seconds).
#[derive(Clone, Debug, Default)]
pub struct LatencyStats {
    pub samples: VecDeque<f64>,
}

impl LatencyStats {
    pub fn add(&mut self, seconds: f64) {
        if self.samples.len() >= LATENCY_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(seconds);
    }

    pub fn max_ms(&self) -> f64 {
        self.samples.iter().copied().fold(0.0, f64::max) * 1e3
    }

    pub fn median_ms(&self) -> f64 {
        let mut s: Vec<f64> = self.samples.iter().copied().collect();
        s.sort_by(f64::total_cmp);
        s.get(s.len() / 2).copied().unwrap_or(0.0) * 1e3
    }
}

/// The input field names of each trainer's model, read from the Batch node that feeds it
/// (`x1`, `x2` for the moons), for axes that should not say `x0`, `x1`.
pub fn input_names(plan: &LogicalPlan) -> BTreeMap<NodeId, [String; 2]> {
    let mut names = BTreeMap::new();
    for trainer in &plan.nodes {
        let OpSpec::Trainer(spec) = &trainer.spec else {
            continue;
        };
        let (config, fields) = (&spec.config, &spec.batch_fields);
        let name = |i: usize| {
            config
                .features
                .features
                .get(i)
                .and_then(|&f| fields.get(f))
                .cloned()
        };
        if let (Some(a), Some(b), 2) = (name(0), name(1), config.features.features.len()) {
            names.insert(trainer.id, [a, b]);
        }
    }
    names
}

/// How the run's event times read: row numbers when every source numbers its rows (a data
/// set, a CSV file without a time column), else epoch times.
pub fn event_clock(plan: &LogicalPlan) -> crate::format::EventClock {
    use crate::format::EventClock;
    let mut sources = plan.nodes.iter().filter_map(|n| match &n.spec {
        OpSpec::DatasetSource { .. } => Some(EventClock::Rows),
        OpSpec::CsvSource(options) if options.time_column.is_none() => Some(EventClock::Rows),
        OpSpec::CsvSource(_)
        | OpSpec::SequenceSource { .. }
        | OpSpec::SensorSource { .. }
        | OpSpec::ClickSource { .. } => Some(EventClock::Epoch),
        _ => None,
    });
    let first = sources.next();
    match first {
        Some(EventClock::Rows) if sources.all(|c| c == EventClock::Rows) => EventClock::Rows,
        _ => EventClock::Epoch,
    }
}
