//! What a run reports: shared per-node counters written by tasks (a few atomic adds per batch)
//! and the typed snapshots the monitor turns them into for the CLI and the UI.

use super::taps::{LateSample, PortPreview, PreviewTap, SkewStats, SkewTotals};
use crate::graph::NodeId;
use crate::learn::insight::TrainerInsight;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// How many recent window firings each window node keeps for display.
pub const RECENT_WINDOWS: usize = 256;
/// Window samples waiting for the next telemetry message, at most (older ones are dropped:
/// the plots are a view, not a log).
pub const PENDING_WINDOWS: usize = 4096;

/// Metrics rows waiting for the next telemetry message, at most. A reader that keeps up (the
/// CLI, a visible editor) takes them every tick and never comes near; for one that stops reading
/// (a hidden window) the rows are thinned to every other one, so the curve keeps its whole span
/// at a coarser step.
pub const PENDING_METRIC_ROWS: usize = 100_000;

/// Keeps every other row (the first, the third, …) and always the newest.
fn thin_out(rows: &mut Vec<Vec<f64>>) {
    let newest = rows.pop();
    let mut index = 0;
    rows.retain(|_| {
        index += 1;
        index % 2 == 1
    });
    rows.extend(newest);
}

/// One window firing, as plotted by the UI.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowSample {
    pub key: String,
    pub start: i64,
    pub end: i64,
    pub count: u64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

/// Counters of one node, shared by its instances.
#[derive(Debug)]
pub struct NodeCounters {
    pub id: NodeId,
    pub name: String,
    pub records_in: AtomicU64,
    pub records_out: AtomicU64,
    /// Records out of each output port (a wire's rate is its port's).
    pub port_out: Vec<AtomicU64>,
    /// Per instance: records in (a partition's downstream skew shows here too).
    pub instance_in: Vec<AtomicU64>,
    pub skipped: AtomicU64,
    pub window_firings: AtomicU64,
    /// Per instance: the operator's input watermark (i64::MIN until one arrives).
    pub watermarks: Vec<AtomicI64>,
    /// Per instance: late records sent aside so far.
    pub late: Vec<AtomicU64>,
    /// Per instance: entries in keyed state.
    pub state_entries: Vec<AtomicU64>,
    /// Highest fill of this node's outgoing channels at the last send, in per-mille.
    pub backpressure_permille: AtomicU32,
    pub max_event_time: AtomicI64,
    pub instances_done: AtomicUsize,
    pub recent_windows: Mutex<VecDeque<WindowSample>>,
    /// Window samples not yet sent as telemetry.
    pub window_points: Mutex<VecDeque<WindowSample>>,
    /// Late records not yet sent as telemetry.
    pub late_points: Mutex<Vec<LateSample>>,
    /// The last records of each output port, while the UI watches.
    pub preview: PreviewTap,
    /// For partition nodes: records per sub-stream and hot keys.
    pub skew: Option<Mutex<SkewTotals>>,
    /// For layers and Loss: the plan index of the trainer whose operator runs them (their
    /// state is the trainer's).
    pub owner: Option<usize>,
    /// Field names of a trainer's metrics records (empty for other nodes).
    pub metric_fields: Vec<String>,
    /// Metrics records not yet sent as telemetry.
    /// Metrics records not yet sent, and when the oldest of them was recorded.
    pub metric_points: Mutex<(Vec<Vec<f64>>, Option<std::time::Instant>)>,
    /// The newest metrics record.
    pub last_metrics: Mutex<Option<Vec<f64>>>,
}

impl NodeCounters {
    pub fn new(id: NodeId, name: &str, instances: usize) -> Self {
        Self {
            id,
            name: name.to_owned(),
            records_in: AtomicU64::new(0),
            records_out: AtomicU64::new(0),
            port_out: Vec::new(),
            instance_in: (0..instances).map(|_| AtomicU64::new(0)).collect(),
            skipped: AtomicU64::new(0),
            window_firings: AtomicU64::new(0),
            watermarks: (0..instances).map(|_| AtomicI64::new(i64::MIN)).collect(),
            late: (0..instances).map(|_| AtomicU64::new(0)).collect(),
            state_entries: (0..instances).map(|_| AtomicU64::new(0)).collect(),
            backpressure_permille: AtomicU32::new(0),
            max_event_time: AtomicI64::new(i64::MIN),
            instances_done: AtomicUsize::new(0),
            recent_windows: Mutex::new(VecDeque::new()),
            window_points: Mutex::new(VecDeque::new()),
            late_points: Mutex::new(Vec::new()),
            preview: PreviewTap::default(),
            skew: None,
            owner: None,
            metric_fields: Vec::new(),
            metric_points: Mutex::new((Vec::new(), None)),
            last_metrics: Mutex::new(None),
        }
    }

    /// Counters of a node whose port 0 emits metrics records with these fields.
    pub fn with_metric_fields(mut self, fields: Vec<String>) -> Self {
        self.metric_fields = fields;
        self
    }

    /// Counters for a node with these output port headers (for previews).
    pub fn with_ports(mut self, headers: Vec<Vec<String>>) -> Self {
        self.port_out = headers.iter().map(|_| AtomicU64::new(0)).collect();
        self.preview = PreviewTap::new(headers);
        self
    }

    /// Counters of a partition node: it also counts its sub-streams and hot keys.
    pub fn with_skew(mut self) -> Self {
        self.skew = Some(Mutex::new(SkewTotals::default()));
        self
    }

    /// Takes the window samples gathered since the last call.
    pub fn drain_windows(&self) -> Option<WindowPoints> {
        let samples = std::mem::take(&mut *self.window_points.lock().ok()?);
        (!samples.is_empty()).then(|| WindowPoints {
            node: self.id,
            samples: samples.into(),
        })
    }

    /// Takes the late records sampled since the last call.
    pub fn drain_late(&self) -> Option<LatePoints> {
        let samples = std::mem::take(&mut *self.late_points.lock().ok()?);
        (!samples.is_empty()).then_some(LatePoints {
            node: self.id,
            samples,
        })
    }

    /// Keeps metrics records for telemetry (called by the task, once per batch).
    pub fn record_metrics(&self, batch: &[crate::stream::Item]) {
        let rows: Vec<Vec<f64>> = batch
            .iter()
            .filter_map(|i| match i {
                crate::stream::Item::Record(r) => Some(r.values.to_vec()),
                _ => None,
            })
            .collect();
        if let (Some(last), Ok(mut slot)) = (rows.last(), self.last_metrics.lock()) {
            *slot = Some(last.clone());
        }
        if let Ok(mut points) = self.metric_points.lock() {
            points.1.get_or_insert_with(std::time::Instant::now);
            points.0.extend(rows);
            if points.0.len() > PENDING_METRIC_ROWS {
                thin_out(&mut points.0);
            }
        }
    }

    /// Takes the metrics records gathered since the last call.
    pub fn drain_metrics(&self) -> Option<MetricPoints> {
        let (rows, recorded) = std::mem::take(&mut *self.metric_points.lock().ok()?);
        (!rows.is_empty()).then(|| MetricPoints {
            node: self.name.clone(),
            fields: self.metric_fields.clone(),
            rows,
            recorded_at: recorded.unwrap_or_else(std::time::Instant::now),
        })
    }

    pub fn instances(&self) -> usize {
        self.watermarks.len()
    }
}

/// Where a node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    Running,
    Paused,
    Finished,
    Failed,
    Stopped,
}

/// A node's status at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeStatus {
    pub id: NodeId,
    pub name: String,
    pub state: NodeState,
    pub records_in: u64,
    pub records_out: u64,
    pub in_per_s: f64,
    pub out_per_s: f64,
    /// The lowest input watermark over the node's instances, once every instance has one.
    pub watermark: Option<i64>,
    pub max_event_time: Option<i64>,
    pub late: u64,
    pub skipped: u64,
    pub state_entries: u64,
    pub window_firings: u64,
    /// 0 = outgoing channels empty, 1 = full (downstream cannot keep up).
    pub backpressure: f32,
    pub error: Option<String>,
    pub recent_windows: Vec<WindowSample>,
    /// A trainer's newest metrics as (name, value); empty for other nodes.
    pub last_metrics: Vec<(String, f64)>,
    /// Records out of each output port, since the start.
    pub port_out: Vec<u64>,
    /// Records in per instance, since the start.
    pub instance_in: Vec<u64>,
    /// A partition's records per sub-stream and hottest keys.
    pub skew: Option<SkewStats>,
    /// The last records of each output port, while the UI watches this node (else empty).
    pub preview: Vec<PortPreview>,
}

/// Window firings of one window node since the previous message (sampled per batch).
#[derive(Clone, Debug, PartialEq)]
pub struct WindowPoints {
    pub node: NodeId,
    pub samples: Vec<WindowSample>,
}

/// Late records of one window node since the previous message (sampled per batch).
#[derive(Clone, Debug, PartialEq)]
pub struct LatePoints {
    pub node: NodeId,
    pub samples: Vec<LateSample>,
}

/// A trainer's model and layer statistics at one step.
#[derive(Clone, Debug)]
pub struct InsightPoint {
    pub node: NodeId,
    pub insight: Arc<TrainerInsight>,
}

impl PartialEq for InsightPoint {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node && Arc::ptr_eq(&self.insight, &other.insight)
    }
}

/// New metrics records of one trainer.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricPoints {
    pub node: String,
    pub fields: Vec<String>,
    pub rows: Vec<Vec<f64>>,
    /// When the oldest of these rows left its trainer (telemetry latency is measured from it).
    pub recorded_at: std::time::Instant,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every source was exhausted (or finished on request) and every node drained.
    Finished,
    /// Stopped on request before the end.
    Stopped,
    Failed {
        node: String,
        message: String,
    },
}

/// The final word on a run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    pub outcome: Outcome,
    pub elapsed_s: f64,
    pub nodes: Vec<NodeStatus>,
}

impl RunReport {
    pub fn node(&self, name: &str) -> Option<&NodeStatus> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// What the executor sends out while running.
#[derive(Clone, Debug, PartialEq)]
pub enum Telemetry {
    Progress {
        elapsed_s: f64,
        nodes: Vec<NodeStatus>,
        /// Metrics records produced since the previous message, per trainer.
        metrics: Vec<MetricPoints>,
        /// Window firings since the previous message, per window node.
        windows: Vec<WindowPoints>,
        /// Late records since the previous message, per window node.
        late: Vec<LatePoints>,
        /// New model insights, per trainer.
        insights: Vec<InsightPoint>,
    },
    Done(RunReport),
}

/// How far back a rate looks. Ticks are short and a paced source delivers in bursts, so a
/// rate over one tick read 0/s on most ticks of a run that moved hundreds of records a second.
pub const RATE_WINDOW_S: f64 = 1.0;

/// Reads counters into statuses; rates are per second over the last [`RATE_WINDOW_S`]
/// (since the start while the run is younger).
pub struct Sampler {
    /// Past snapshots (time, then each node's records in and out), oldest first: the newest
    /// one at least [`RATE_WINDOW_S`] old, and every later one.
    history: std::collections::VecDeque<(f64, Vec<(u64, u64)>)>,
}

impl Sampler {
    pub fn new(nodes: usize) -> Self {
        Self {
            history: std::iter::once((0.0, vec![(0, 0); nodes])).collect(),
        }
    }

    pub fn sample(
        &mut self,
        counters: &[std::sync::Arc<NodeCounters>],
        elapsed_s: f64,
        state_of: impl Fn(&NodeCounters) -> (NodeState, Option<String>),
    ) -> Vec<NodeStatus> {
        while self
            .history
            .get(1)
            .is_some_and(|(t, _)| elapsed_s - t >= RATE_WINDOW_S)
        {
            self.history.pop_front();
        }
        let (since_s, before) = self
            .history
            .front()
            .map_or((0.0, &[][..]), |(t, counts)| (*t, counts.as_slice()));
        let dt = (elapsed_s - since_s).max(1e-9);
        let now: Vec<(u64, u64)> = counters
            .iter()
            .map(|c| (c.records_in.load(Relaxed), c.records_out.load(Relaxed)))
            .collect();
        let statuses = counters
            .iter()
            .zip(&now)
            .enumerate()
            .map(|(i, (c, &(records_in, records_out)))| {
                let prev = before.get(i).copied().unwrap_or((0, 0));
                let rates = (
                    (records_in - prev.0.min(records_in)) as f64 / dt,
                    (records_out - prev.1.min(records_out)) as f64 / dt,
                );
                let marks: Vec<i64> = c.watermarks.iter().map(|w| w.load(Relaxed)).collect();
                let watermark = marks.iter().copied().min().filter(|&w| w != i64::MIN);
                let max_event_time =
                    Some(c.max_event_time.load(Relaxed)).filter(|&t| t != i64::MIN);
                let (state, error) = state_of(c);
                NodeStatus {
                    id: c.id,
                    name: c.name.clone(),
                    state,
                    records_in,
                    records_out,
                    in_per_s: rates.0,
                    out_per_s: rates.1,
                    watermark,
                    max_event_time,
                    late: c.late.iter().map(|l| l.load(Relaxed)).sum(),
                    skipped: c.skipped.load(Relaxed),
                    state_entries: c.state_entries.iter().map(|s| s.load(Relaxed)).sum(),
                    window_firings: c.window_firings.load(Relaxed),
                    backpressure: c.backpressure_permille.load(Relaxed) as f32 / 1000.0,
                    error,
                    recent_windows: c
                        .recent_windows
                        .lock()
                        .map(|r| r.iter().cloned().collect())
                        .unwrap_or_default(),
                    last_metrics: c
                        .last_metrics
                        .lock()
                        .ok()
                        .and_then(|m| m.clone())
                        .map(|values| c.metric_fields.iter().cloned().zip(values).collect())
                        .unwrap_or_default(),
                    port_out: c.port_out.iter().map(|p| p.load(Relaxed)).collect(),
                    instance_in: c.instance_in.iter().map(|p| p.load(Relaxed)).collect(),
                    skew: c
                        .skew
                        .as_ref()
                        .and_then(|s| s.lock().ok().map(|s| s.stats())),
                    preview: c.preview.snapshot(),
                }
            })
            .collect();
        self.history.push_back((elapsed_s, now));
        statuses
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{Item, Key, Record};

    #[test]
    fn rates_cover_the_last_second_so_a_burst_does_not_read_as_zero_on_the_next_tick() {
        let counters = vec![Arc::new(NodeCounters::new(NodeId(1), "source", 1))];
        let state = |_: &NodeCounters| (NodeState::Running, None);
        let mut sampler = Sampler::new(1);
        let out_rate =
            |sampler: &mut Sampler, at: f64| sampler.sample(&counters, at, state)[0].out_per_s;
        // A burst of 100 records, then ticks of 0.1 s with nothing new.
        counters[0].records_out.store(100, Relaxed);
        assert!((out_rate(&mut sampler, 0.1) - 1000.0).abs() < 1e-6);
        assert!(
            (out_rate(&mut sampler, 0.2) - 500.0).abs() < 1e-6,
            "100 records in 0.2 s"
        );
        assert!(
            (out_rate(&mut sampler, 1.0) - 100.0).abs() < 1e-6,
            "100 records in 1 s"
        );
        // Past the window, the burst is forgotten.
        for tick in 11..=21 {
            out_rate(&mut sampler, f64::from(tick) / 10.0);
        }
        assert_eq!(out_rate(&mut sampler, 2.2), 0.0);
        // A steady 50 records per tick of 0.1 s reads 500/s once the window holds them.
        for tick in 23..=40 {
            counters[0].records_out.fetch_add(50, Relaxed);
            let rate = out_rate(&mut sampler, f64::from(tick) / 10.0);
            if tick > 33 {
                assert!((rate - 500.0).abs() < 1e-6, "tick {tick}: {rate}");
            }
        }
    }

    fn metrics_record(step: f64) -> Item {
        Item::Record(Record {
            key: Key::Int(0),
            ts: 0,
            values: [step].into_iter().collect(),
        })
    }

    #[test]
    fn pending_metrics_stay_bounded_and_keep_their_whole_span_when_nobody_reads() {
        let counters =
            NodeCounters::new(NodeId(1), "trainer", 1).with_metric_fields(vec!["step".into()]);
        let steps = 3 * PENDING_METRIC_ROWS;
        for chunk in (1..=steps).collect::<Vec<_>>().chunks(1000) {
            let batch: Vec<Item> = chunk.iter().map(|&s| metrics_record(s as f64)).collect();
            counters.record_metrics(&batch);
        }
        let Some(points) = counters.drain_metrics() else {
            panic!("rows were recorded");
        };
        assert!(
            points.rows.len() <= PENDING_METRIC_ROWS,
            "{} rows kept",
            points.rows.len()
        );
        assert!(points.rows.len() >= PENDING_METRIC_ROWS / 4);
        assert_eq!(
            points.rows.first(),
            Some(&vec![1.0]),
            "the oldest row stays"
        );
        assert_eq!(
            points.rows.last(),
            Some(&vec![steps as f64]),
            "the newest row stays"
        );
        assert!(
            points.rows.windows(2).all(|w| w[0][0] < w[1][0]),
            "still in step order"
        );
        assert!(counters.drain_metrics().is_none(), "drained");
    }

    #[test]
    fn a_reader_that_keeps_up_gets_every_metrics_row() {
        let counters =
            NodeCounters::new(NodeId(1), "trainer", 1).with_metric_fields(vec!["step".into()]);
        let mut seen = Vec::new();
        for step in 1..=5000 {
            counters.record_metrics(&[metrics_record(f64::from(step))]);
            if step % 100 == 0
                && let Some(points) = counters.drain_metrics()
            {
                seen.extend(points.rows.into_iter().map(|r| r[0]));
            }
        }
        assert_eq!(seen, (1..=5000).map(f64::from).collect::<Vec<_>>());
    }
}
