//! Running the open graph inside the editor: the run toolbar and its commands, the session
//! that drains telemetry, what the canvas overlays (node status, wire rates, back-pressure,
//! gradient flow), the data preview, and earlier runs kept to compare.

mod apply;
pub mod flink;
pub mod history;
pub mod inspect;
pub mod overlay;
pub mod plots_panel;
pub mod preview;
pub mod session;
pub mod toolbar;
pub mod views;
pub mod window_plot;

use crate::graph::{Graph, NodeId, Pace};
pub(crate) use apply::live_values;
use session::{MetricHistory, RunSession};
use std::collections::BTreeMap;

/// A run the user can ask for from the toolbar, the Run menu or a shortcut.
#[derive(Clone, Debug, PartialEq)]
pub enum RunCommand {
    /// Validate, then start (or resume a paused run).
    Start,
    Pause,
    Resume,
    /// One batch from each source (one training step); pauses a running graph first.
    Step,
    Stop,
    /// Stop and clear the current run's results from the canvas and plots.
    Reset,
    /// Change a live parameter (e.g. a trainer's lr) of the running graph.
    SetLive {
        node: NodeId,
        param: String,
        value: f64,
    },
    /// Change how fast runs go (the running one at once).
    SetPace(Pace),
    /// Make a pace the graph's default, saved in its file (an undoable edit).
    SetDefaultPace(Pace),
    /// Save the metrics of every kept run next to the graph as CSV.
    SaveMetrics,
    /// Forget the earlier runs kept for comparison.
    ClearHistory,
    /// Open the Run on Flink cluster dialog (its address field starts with the last one used).
    ShowFlinkDialog,
    CloseFlinkDialog,
    /// Validate, then run the graph as a job on the Flink cluster at `url` and watch it.
    StartOnFlink {
        url: String,
    },
}

/// A finished run's metrics, kept to overlay on the plots of later runs.
#[derive(Clone, Debug)]
pub struct PastRun {
    pub number: usize,
    pub label: String,
    /// Metrics by trainer node name (names survive edits better than ids).
    pub metrics: BTreeMap<String, MetricHistory>,
}

/// How the wires between layer nodes are coloured during training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlowView {
    /// By the gradient flowing back through the wire (‖∂L/∂output‖ of the upstream layer).
    #[default]
    Gradients,
    /// By the forward activation scale (RMS of the upstream layer's output).
    Activations,
}

/// Everything about runs the app keeps: the current session, earlier runs, view options.
pub struct RunState {
    pub session: Option<RunSession>,
    pub history: Vec<PastRun>,
    /// Runs started for this document so far.
    pub runs_started: usize,
    pub flow_view: FlowView,
    /// Draw earlier runs faded behind the current one.
    pub overlay_history: bool,
    /// The wire whose data preview is open: (node, output port).
    pub preview: Option<(NodeId, String)>,
    pub plots: plots_panel::PlotsState,
    /// Wakes the editor when the executor sends telemetry (set on the first frame), so
    /// `App::logic` drains it even while the window is hidden.
    pub waker: Option<crate::exec::TelemetryWaker>,
    /// The address typed in the Run on Flink cluster dialog, while it is open.
    pub flink_dialog: Option<String>,
    /// How runs reach a Flink cluster (tests replay a recorded one).
    pub flink_connect: flink::FlinkConnector,
    /// The pace the toolbar chose for this document; `None`: the graph's default.
    pub pace: Option<Pace>,
    /// Multiplies every paced speed (tests run paced examples faster; 1 in real use).
    pub speedup: f64,
}

/// Earlier runs kept to compare at most (the oldest goes first).
pub const KEPT_RUNS: usize = 8;

impl RunState {
    pub fn is_live(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.phase.is_live())
    }

    /// The pace the next run starts with (and the running one goes at).
    pub fn pace(&self, graph: &Graph) -> Pace {
        self.pace.unwrap_or(graph.pace)
    }
}

impl Default for RunState {
    fn default() -> Self {
        Self {
            session: None,
            history: Vec::new(),
            runs_started: 0,
            flow_view: FlowView::default(),
            overlay_history: true,
            preview: None,
            plots: plots_panel::PlotsState::default(),
            waker: None,
            flink_dialog: None,
            flink_connect: flink::real_cluster(),
            pace: None,
            speedup: 1.0,
        }
    }
}
