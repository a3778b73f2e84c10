//! One run of the open graph as the app sees it: the executor's handle, the phase, and the
//! history the live views draw (metrics per trainer, throughput and watermarks per node, window
//! firings per key, late records, the newest model). The UI thread never blocks on it: each frame
//! drains the telemetry channel on a time budget.

pub use super::history::{LatencyStats, MetricHistory, ParamMarker};
use super::history::{bounded, push};
use super::window_plot::KeyedWindows;
use crate::app::plots::Series;
use crate::exec::{
    Control, InsightPoint, LateSample, NodeState, NodeStatus, Outcome, RunHandle, RunOptions,
    RunReport, Telemetry, TelemetryWaker, WindowSample,
};
use crate::graph::{Graph, NodeId, Pace};
use crate::learn::insight::TrainerInsight;
use crate::notebook::ResultsCollector;
use crate::plan::{LogicalPlan, OpSpec};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Window firings kept per window node for the timeline.
const KEPT_WINDOWS: usize = 5_000;
/// Late records kept per window node for the timeline.
const KEPT_LATE: usize = 2_000;

/// Where a run is in its life, as the toolbar shows it.
#[derive(Clone, Debug, PartialEq)]
pub enum RunPhase {
    Running,
    Paused,
    /// Stop was asked; waiting for the threads to end.
    Stopping,
    Finished,
    Stopped,
    Failed {
        node: String,
        message: String,
    },
}

impl RunPhase {
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            RunPhase::Running | RunPhase::Paused | RunPhase::Stopping
        )
    }
}

/// How fast a run starts: the pace, and a speed-up for tests (1 in real use).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunSpeed {
    pub pace: Pace,
    pub speedup: f64,
}

impl Default for RunSpeed {
    fn default() -> Self {
        Self {
            pace: Pace::Max,
            speedup: 1.0,
        }
    }
}

/// The graph running now (or the last one that ran), with everything the views draw.
pub struct RunSession {
    /// 1 for the first run of this document, 2 for the next…
    pub number: usize,
    handle: Option<RunHandle>,
    pub phase: RunPhase,
    started: Instant,
    pub elapsed_s: f64,
    /// The newest status of each node.
    pub nodes: BTreeMap<NodeId, NodeStatus>,
    ids: BTreeMap<String, NodeId>,
    pub metrics: BTreeMap<NodeId, MetricHistory>,
    /// Records out per second over wall time.
    pub throughput: BTreeMap<NodeId, Series>,
    /// Input watermark and newest event time over wall time (event time in seconds).
    pub watermarks: BTreeMap<NodeId, (Series, Series)>,
    /// Late records so far over wall time (not for count windows: they count arrivals, not
    /// event time, so nothing is ever late for them).
    pub late_counts: BTreeMap<NodeId, Series>,
    /// The run's count windows, read from the plan.
    count_windows: BTreeSet<NodeId>,
    /// Window statistics per key over event time (window end, seconds after the origin):
    /// mean with min/max, and records per window.
    pub window_keys: BTreeMap<NodeId, KeyedWindows>,
    /// Event time (ms) that the event-time axes count from: the first event seen (row 0
    /// when event times are row numbers).
    pub event_origin_ms: Option<i64>,
    /// Whether event times are epoch milliseconds or row numbers (how axes and badges read).
    pub event_clock: crate::format::EventClock,
    /// Each two-input trainer's input field names (the decision boundary's axes).
    pub input_names: BTreeMap<NodeId, [String; 2]>,
    /// How fast the run goes now.
    pub pace: Pace,
    pub windows: BTreeMap<NodeId, VecDeque<WindowSample>>,
    pub late: BTreeMap<NodeId, VecDeque<LateSample>>,
    pub insights: BTreeMap<NodeId, Arc<TrainerInsight>>,
    /// Records per second out of each output port, from the last two statuses.
    pub port_rates: BTreeMap<NodeId, Vec<f64>>,
    previous_ports: BTreeMap<NodeId, (f64, Vec<u64>)>,
    pub markers: Vec<ParamMarker>,
    pub report: Option<RunReport>,
    pub latency: LatencyStats,
    /// The node whose outputs are previewed now.
    watched: Option<String>,
    /// Nodes whose previews notebook cells show: watched for the whole run.
    pinned_previews: Vec<String>,
    /// What the notebook's output cells show, kept for the report and the results file.
    pub results: ResultsCollector,
    /// Progress messages applied (tests use it to wait for data).
    pub messages: u64,
    /// For a run on an Apache Flink cluster: the job, its web UI link and vertices.
    pub flink: Option<crate::flink::watch::FlinkRun>,
}

impl RunSession {
    /// Starts a validated plan. Ticks are short so metrics reach the plots quickly.
    /// `waker` is called after each telemetry message (the editor asks for a frame).
    /// `watch` names the node whose preview is open: it keeps records from the first one.
    pub fn start(
        plan: &LogicalPlan,
        graph: &Graph,
        number: usize,
        waker: Option<TelemetryWaker>,
        speed: RunSpeed,
        watch: Option<&str>,
    ) -> Result<Self, String> {
        let pinned_previews = ResultsCollector::preview_nodes(graph);
        let mut previews = pinned_previews.clone();
        previews.extend(watch.map(str::to_owned));
        let options = RunOptions {
            tick: Duration::from_millis(40),
            waker,
            pace: speed.pace,
            speedup: speed.speedup,
            previews,
            ..RunOptions::default()
        };
        let handle = crate::exec::start(plan, options).map_err(|e| e.to_string())?;
        Ok(Self::with_handle(
            handle,
            plan,
            graph,
            number,
            pinned_previews,
            speed.pace,
            watch.map(str::to_owned),
        ))
    }

    /// A run of the graph as a job on an Apache Flink cluster, watched through `handle` (its
    /// telemetry is the local executor's kind, so cards and wires show it the same way).
    pub fn on_flink(
        handle: RunHandle,
        flink: crate::flink::watch::FlinkRun,
        plan: &LogicalPlan,
        graph: &Graph,
        number: usize,
    ) -> Self {
        let mut session =
            Self::with_handle(handle, plan, graph, number, Vec::new(), Pace::Max, None);
        session.flink = Some(flink);
        session
    }

    /// Whether the run can pause and step (a Flink job cannot).
    pub fn can_pause(&self) -> bool {
        self.flink.is_none()
    }

    fn with_handle(
        handle: RunHandle,
        plan: &LogicalPlan,
        graph: &Graph,
        number: usize,
        pinned_previews: Vec<String>,
        pace: Pace,
        watched: Option<String>,
    ) -> Self {
        let event_clock = super::history::event_clock(plan);
        Self {
            number,
            handle: Some(handle),
            phase: RunPhase::Running,
            started: Instant::now(),
            elapsed_s: 0.0,
            nodes: BTreeMap::new(),
            ids: plan.nodes.iter().map(|n| (n.name.clone(), n.id)).collect(),
            metrics: BTreeMap::new(),
            throughput: BTreeMap::new(),
            watermarks: BTreeMap::new(),
            late_counts: BTreeMap::new(),
            count_windows: plan
                .nodes
                .iter()
                .filter(|n| matches!(&n.spec, OpSpec::Window(w) if w.assigner.is_count()))
                .map(|n| n.id)
                .collect(),
            window_keys: BTreeMap::new(),
            event_origin_ms: (event_clock == crate::format::EventClock::Rows).then_some(0),
            event_clock,
            input_names: super::history::input_names(plan),
            pace,
            windows: BTreeMap::new(),
            late: BTreeMap::new(),
            insights: BTreeMap::new(),
            port_rates: BTreeMap::new(),
            previous_ports: BTreeMap::new(),
            markers: Vec::new(),
            report: None,
            latency: LatencyStats::default(),
            watched,
            pinned_previews,
            results: ResultsCollector::new(graph),
            messages: 0,
            flink: None,
        }
    }

    pub fn node(&self, id: NodeId) -> Option<&NodeStatus> {
        self.nodes.get(&id)
    }

    pub fn id_of(&self, name: &str) -> Option<NodeId> {
        self.ids.get(name).copied()
    }

    /// Wall-clock seconds since the start (frozen at the end).
    pub fn seconds(&self) -> f64 {
        if self.phase.is_live() {
            self.started.elapsed().as_secs_f64()
        } else {
            self.elapsed_s
        }
    }

    pub fn pause(&mut self) {
        if self.phase == RunPhase::Running
            && self.can_pause()
            && let Some(h) = &self.handle
        {
            h.send(Control::Pause);
            self.phase = RunPhase::Paused;
        }
    }

    pub fn resume(&mut self) {
        if self.phase == RunPhase::Paused
            && let Some(h) = &self.handle
        {
            h.send(Control::Resume);
            self.phase = RunPhase::Running;
        }
    }

    /// While paused: one more batch from each source (one training step for a trainer).
    pub fn step(&mut self) {
        if !self.can_pause() {
            return;
        }
        if let Some(h) = &self.handle {
            if self.phase == RunPhase::Running {
                h.send(Control::Pause);
                self.phase = RunPhase::Paused;
            }
            h.send(Control::Step);
        }
    }

    pub fn stop(&mut self) {
        if self.phase.is_live()
            && let Some(h) = &self.handle
        {
            h.send(Control::Stop);
            self.phase = RunPhase::Stopping;
        }
    }

    /// Stops and waits for every thread of the run (used when the document goes away).
    pub fn stop_and_join(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.send(Control::Stop);
            let report = handle.wait();
            self.finish(report);
        }
    }

    /// Changes a live parameter; the change is marked on the plots at the trainer's step,
    /// labelled with `note` when there is one ("lr = 0.01 (undo)").
    pub fn set_param(
        &mut self,
        node: NodeId,
        name: &str,
        param: &str,
        value: f64,
        note: &str,
    ) -> Result<(), String> {
        let Some(h) = &self.handle else {
            return Err("the run has ended".into());
        };
        h.set_param(name, param, value).map_err(|e| e.to_string())?;
        let step = self
            .metrics
            .get(&node)
            .and_then(MetricHistory::last_step)
            .unwrap_or(0.0);
        self.markers.push(ParamMarker {
            node,
            step,
            label: if note.is_empty() {
                format!("{param} = {value}")
            } else {
                format!("{param} = {value} ({note})")
            },
        });
        Ok(())
    }

    /// Changes how fast the run goes from now on (sources and trainers re-anchor: no burst).
    pub fn set_pace(&mut self, pace: Pace) {
        if let Some(h) = &self.handle {
            h.set_pace(pace);
        }
        self.pace = pace;
    }

    /// Keeps the last records of `node`'s outputs (one node at a time), or none.
    pub fn watch(&mut self, node: Option<&str>) {
        if self.watched.as_deref() == node {
            return;
        }
        if let Some(h) = &self.handle {
            if let Some(old) = &self.watched
                && !self.pinned_previews.contains(old)
            {
                h.watch_preview(old, false);
            }
            if let Some(new) = node {
                h.watch_preview(new, true);
            }
        }
        self.watched = node.map(str::to_owned);
    }

    pub fn watched(&self) -> Option<&str> {
        self.watched.as_deref()
    }

    /// Applies telemetry until the channel is empty or `budget` is spent. Returns whether
    /// anything arrived.
    pub fn drain(&mut self, budget: Duration) -> bool {
        let started = Instant::now();
        let mut changed = false;
        loop {
            let Some(handle) = &self.handle else {
                return changed;
            };
            let Ok(message) = handle.telemetry().try_recv() else {
                return changed;
            };
            changed = true;
            self.results.observe(&message);
            match message {
                Telemetry::Progress {
                    elapsed_s,
                    nodes,
                    metrics,
                    windows,
                    late,
                    insights,
                } => {
                    self.messages += 1;
                    self.elapsed_s = elapsed_s;
                    for m in metrics {
                        self.latency.add(m.recorded_at.elapsed().as_secs_f64());
                        if let Some(id) = self.id_of(&m.node) {
                            self.metrics
                                .entry(id)
                                .or_default()
                                .add_rows(&m.fields, &m.rows);
                        }
                    }
                    for w in windows {
                        let origin = *self.event_origin_ms.get_or_insert_with(|| {
                            w.samples.iter().map(|s| s.start).min().unwrap_or(0)
                        });
                        self.window_keys.entry(w.node).or_default().add(
                            &w.samples,
                            origin,
                            self.event_clock.per_axis_unit(),
                        );
                        let kept = self.windows.entry(w.node).or_default();
                        kept.extend(w.samples);
                        let excess = kept.len().saturating_sub(KEPT_WINDOWS);
                        kept.drain(..excess);
                    }
                    for l in late {
                        let kept = self.late.entry(l.node).or_default();
                        kept.extend(l.samples);
                        let excess = kept.len().saturating_sub(KEPT_LATE);
                        kept.drain(..excess);
                    }
                    for InsightPoint { node, insight } in insights {
                        self.insights.insert(node, insight);
                    }
                    self.add_statuses(elapsed_s, nodes);
                }
                Telemetry::Done(report) => {
                    if let Some(handle) = self.handle.take() {
                        // The monitor sent its last word: joining returns at once.
                        let _ = handle.wait();
                    }
                    self.finish(report);
                    return true;
                }
            }
            if started.elapsed() >= budget {
                return changed;
            }
        }
    }

    fn add_statuses(&mut self, elapsed_s: f64, nodes: Vec<NodeStatus>) {
        for status in nodes {
            if let Some((t0, before)) = self.previous_ports.get(&status.id) {
                let dt = (elapsed_s - t0).max(1e-6);
                let rates = status
                    .port_out
                    .iter()
                    .zip(before.iter().chain(std::iter::repeat(&0)))
                    .map(|(now, was)| now.saturating_sub(*was) as f64 / dt)
                    .collect();
                self.port_rates.insert(status.id, rates);
            }
            self.previous_ports
                .insert(status.id, (elapsed_s, status.port_out.clone()));
            let name = status.name.clone();
            push(
                self.throughput
                    .entry(status.id)
                    .or_insert_with(|| bounded(&name)),
                elapsed_s,
                status.out_per_s,
            );
            // At the end of the input the watermark jumps to +∞: it has then caught up with
            // every event, so it is drawn at the newest one.
            let watermark = match (status.watermark, status.max_event_time) {
                (Some(i64::MAX), newest) => newest,
                (w, _) => w.filter(|w| *w > i64::MIN / 2 && *w < i64::MAX / 2),
            };
            if let Some(w) = watermark {
                let entry = self.watermarks.entry(status.id).or_insert_with(|| {
                    (
                        bounded(format!("{name} watermark")),
                        bounded(format!("{name} newest event")),
                    )
                });
                let origin = *self.event_origin_ms.get_or_insert(w);
                let unit = self.event_clock.per_axis_unit();
                push(
                    &mut entry.0,
                    elapsed_s,
                    w.saturating_sub(origin) as f64 / unit,
                );
                if let Some(t) = status.max_event_time {
                    push(
                        &mut entry.1,
                        elapsed_s,
                        t.saturating_sub(origin) as f64 / unit,
                    );
                }
            }
            if (status.window_firings > 0 || status.late > 0)
                && !self.count_windows.contains(&status.id)
            {
                push(
                    self.late_counts
                        .entry(status.id)
                        .or_insert_with(|| bounded(&name)),
                    elapsed_s,
                    status.late as f64,
                );
            }
            self.nodes.insert(status.id, status);
        }
    }

    fn finish(&mut self, report: RunReport) {
        self.elapsed_s = report.elapsed_s;
        // Nothing flows any more.
        self.port_rates.clear();
        for status in &report.nodes {
            // Keep the live rates of the last tick for display; take the final counts.
            let mut s = status.clone();
            // A preview keeps the last records it saw, whether or not the final status has them.
            if let Some(old) = self.nodes.get(&status.id)
                && s.preview.iter().all(|p| p.rows.is_empty())
            {
                s.preview = old.preview.clone();
            }
            self.nodes.insert(status.id, s);
        }
        self.phase = match &report.outcome {
            Outcome::Finished => RunPhase::Finished,
            Outcome::Stopped => RunPhase::Stopped,
            Outcome::Failed { node, message } => RunPhase::Failed {
                node: node.clone(),
                message: message.clone(),
            },
        };
        self.report = Some(report);
    }

    /// The state a node's card shows.
    pub fn node_state(&self, id: NodeId) -> Option<NodeState> {
        let status = self.nodes.get(&id)?;
        Some(match (&self.phase, status.state) {
            (RunPhase::Paused, NodeState::Running) => NodeState::Paused,
            (_, state) => state,
        })
    }
}

impl Drop for RunSession {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
