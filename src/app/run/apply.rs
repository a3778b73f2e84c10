//! Applies run commands: validation before a run, starting and controlling the session,
//! live parameter changes, keeping finished runs for comparison and saving their metrics.

use super::session::{RunSession, RunSpeed};
use super::toolbar::pace_words;
use super::{PastRun, RunCommand};
use crate::app::shell::FlowbookApp;
use crate::graph::{Graph, NodeId};
use std::collections::BTreeMap;

impl FlowbookApp {
    pub(crate) fn apply_run(&mut self, command: RunCommand) {
        match command {
            RunCommand::Start => self.start_run(),
            RunCommand::Pause => {
                if let Some(s) = &mut self.run.session {
                    s.pause();
                }
            }
            RunCommand::Resume => {
                if let Some(s) = &mut self.run.session {
                    s.resume();
                }
            }
            RunCommand::Step => {
                if self.run.is_live() {
                    if let Some(s) = &mut self.run.session {
                        s.step();
                    }
                } else {
                    self.start_run();
                    if let Some(s) = &mut self.run.session {
                        s.step();
                    }
                }
            }
            RunCommand::Stop => {
                if let Some(s) = &mut self.run.session {
                    s.stop();
                }
            }
            RunCommand::Reset => {
                self.archive_run();
                self.run.preview = None;
                self.set_status("Run results cleared.");
            }
            RunCommand::SetLive { node, param, value } => {
                self.set_live_param(node, &param, value, "");
            }
            RunCommand::SetPace(pace) => {
                self.run.pace = Some(pace);
                if let Some(s) = self.run.session.as_mut().filter(|s| s.phase.is_live()) {
                    s.set_pace(pace);
                }
                self.set_status(format!("Pace: {}", pace_words(pace)));
            }
            RunCommand::SetDefaultPace(pace) => {
                let changed = self.doc.edit(None, |g| {
                    g.pace = pace;
                    Ok::<(), String>(())
                });
                match changed {
                    Ok(()) => self.set_status(format!(
                        "The graph now runs at {} by default (saved with the file).",
                        pace_words(pace)
                    )),
                    Err(message) => self.set_error(message),
                }
            }
            RunCommand::SaveMetrics => self.save_run_metrics(),
            RunCommand::ClearHistory => self.run.history.clear(),
            RunCommand::ShowFlinkDialog => {
                self.run.flink_dialog = Some(self.settings.flink_url.clone());
            }
            RunCommand::CloseFlinkDialog => self.run.flink_dialog = None,
            RunCommand::StartOnFlink { url } => self.start_on_flink(&url),
        }
    }

    /// Validates, then starts a run (a paused run resumes instead).
    fn start_run(&mut self) {
        if let Some(s) = &mut self.run.session {
            match s.phase {
                super::session::RunPhase::Paused => {
                    s.resume();
                    return;
                }
                ref phase if phase.is_live() => return,
                _ => {}
            }
        }
        self.problems
            .refresh(self.doc.graph(), self.doc.revision(), &self.doc.location());
        if let Some(first) = self.problems.problems.first() {
            let count = self.problems.problems.len();
            self.set_error(format!(
                "Cannot run: {count} problem{} (see the Problems panel): {first}",
                if count == 1 { "" } else { "s" }
            ));
            return;
        }
        let plan = match crate::plan::plan_in(self.doc.graph(), &self.doc.location()) {
            Ok(plan) => plan,
            Err(problems) => {
                let first = problems.first().map(|p| p.to_string()).unwrap_or_default();
                self.set_error(format!("Cannot run: {first}"));
                return;
            }
        };
        self.archive_run();
        let number = self.run.runs_started + 1;
        let speed = RunSpeed {
            pace: self.run.pace(self.doc.graph()),
            speedup: self.run.speedup,
        };
        let watch = self
            .run
            .preview
            .as_ref()
            .and_then(|(node, _)| self.doc.graph().node(*node))
            .map(|n| n.name.clone());
        match RunSession::start(
            &plan,
            self.doc.graph(),
            number,
            self.run.waker.clone(),
            speed,
            watch.as_deref(),
        ) {
            Ok(session) => {
                self.run.runs_started = number;
                self.run.session = Some(session);
                self.set_status(format!("Run {number} started."));
            }
            Err(message) => self.set_error(format!("Cannot run: {message}")),
        }
    }

    /// Moves the current session (stopping it first) into the history of earlier runs.
    pub(crate) fn archive_run(&mut self) {
        let Some(mut session) = self.run.session.take() else {
            return;
        };
        session.stop_and_join();
        if session.metrics.is_empty() {
            return;
        }
        let graph = self.doc.graph();
        let metrics = session
            .metrics
            .iter()
            .filter_map(|(id, m)| graph.node(*id).map(|n| (n.name.clone(), m.clone())))
            .collect();
        self.run.history.push(PastRun {
            number: session.number,
            label: format!("run {}", session.number),
            metrics,
        });
        let excess = self.run.history.len().saturating_sub(super::KEPT_RUNS);
        self.run.history.drain(..excess);
    }

    /// Sends a live parameter to the running graph; `note` (e.g. "undo") goes on its marker.
    fn set_live_param(&mut self, node: NodeId, param: &str, value: f64, note: &str) {
        let Some(name) = self.doc.graph().node(node).map(|n| n.name.clone()) else {
            return;
        };
        let Some(session) = self.run.session.as_mut().filter(|s| s.phase.is_live()) else {
            return;
        };
        match session.set_param(node, &name, param, value, note) {
            Ok(()) => {
                let how = if note.is_empty() { "live" } else { note };
                self.set_status(format!("{name}.{param} = {value} ({how})"));
            }
            Err(message) => self.set_error(message),
        }
    }

    /// After an undo or redo during a run: every live parameter whose value the step changed
    /// is sent to the running graph (and marked), so the run does what the inspector shows.
    pub(crate) fn reapply_live_params(&mut self, before: &[LiveValue], note: &str) {
        if !self.run.is_live() {
            return;
        }
        for now in live_values(self.doc.graph()) {
            let was = before
                .iter()
                .find(|b| b.node == now.node && b.param == now.param)
                .map(|b| b.value);
            // Compared bit for bit: NaN never reaches here (live values are checked numbers).
            if was.map(f64::to_bits) != Some(now.value.to_bits()) {
                self.set_live_param(now.node, &now.param, now.value, note);
            }
        }
    }

    /// Writes every kept run's metrics to `<graph>.runs.csv` beside the graph file.
    fn save_run_metrics(&mut self) {
        let Some(path) = self.doc.path.clone() else {
            self.set_error("Save the graph first: run metrics are saved next to it.");
            return;
        };
        let names: BTreeMap<_, _> = self
            .doc
            .graph()
            .nodes
            .iter()
            .map(|n| (n.id, n.name.clone()))
            .collect();
        let mut text = String::from("run,node,field,step,value\n");
        for past in &self.run.history {
            for (node, history) in &past.metrics {
                text.push_str(&history.csv_rows(past.number, node));
            }
        }
        if let Some(session) = &self.run.session {
            for (id, history) in &session.metrics {
                let node = names.get(id).map_or("?", String::as_str);
                text.push_str(&history.csv_rows(session.number, node));
            }
        }
        let target = path.with_extension("runs.csv");
        match crate::graph::write_atomically(&target, text.as_bytes()) {
            Ok(()) => self.set_status(format!("Saved run metrics to {}", target.display())),
            Err(e) => self.set_error(format!("Cannot save run metrics: {e}")),
        }
    }
}

/// One live parameter's value in the document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LiveValue {
    pub node: NodeId,
    pub param: String,
    pub value: f64,
}

/// Every live parameter of every node (a trainer's lr, …) as the document has it now, the
/// catalog default where the file leaves it out.
pub(crate) fn live_values(graph: &Graph) -> Vec<LiveValue> {
    let mut values = Vec::new();
    for node in &graph.nodes {
        let Some(spec) = crate::app::canvas::layout::spec_of(node) else {
            continue;
        };
        for p in spec.params.iter().filter(|p| p.live) {
            let value = node
                .params
                .get(p.name)
                .cloned()
                .unwrap_or_else(|| crate::app::param_check::default_value(p));
            if let Some(value) = value.as_f64() {
                values.push(LiveValue {
                    node: node.id,
                    param: p.name.to_owned(),
                    value,
                });
            }
        }
    }
    values
}
