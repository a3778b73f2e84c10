//! Run ▸ Run on Flink cluster…: the dialog asking for the cluster's REST address (remembered),
//! starting the graph as a Flink job, and the toolbar line that shows the job — its state, a
//! link to Flink's own web UI and which vertex runs which nodes. The job's progress reaches the
//! cards and wires as ordinary run telemetry, so the canvas needs nothing of its own.

use super::RunCommand;
use super::session::RunSession;
use crate::app::command::Command;
use crate::app::shell::FlowbookApp;
use crate::exec::{RunHandle, TelemetryWaker};
use crate::flink::FlinkExport;
use crate::flink::watch::{FlinkPhase, FlinkRun, FlinkRunInfo};
use egui::{Context, RichText, Ui};
use std::sync::Arc;

/// Starts an exported job on the cluster at an address and returns its handle.
pub type FlinkConnector = Arc<
    dyn Fn(
            FlinkExport,
            &str,
            Option<TelemetryWaker>,
        ) -> Result<(RunHandle, FlinkRun), crate::flink::watch::SubmitError>
        + Send
        + Sync,
>;

/// The real thing: compile with javac against the local Flink distribution, submit over HTTP.
pub fn real_cluster() -> FlinkConnector {
    Arc::new(crate::flink::submit)
}

/// The dialog, while `address` is Some: edit the address, then Run or Cancel.
pub fn flink_dialog_ui(ctx: &Context, address: &mut Option<String>, commands: &mut Vec<Command>) {
    // The address field takes the keyboard once when the dialog opens (Enter then runs).
    let focused = egui::Id::unique("flink-dialog-focused");
    let Some(text) = address.as_mut() else {
        ctx.data_mut(|d| d.remove::<bool>(focused));
        return;
    };
    let mut open = true;
    egui::Window::new("Run on Flink cluster")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            ui.set_max_width(460.0);
            ui.label(
                "Runs the graph's stream part as a job on an Apache Flink cluster and shows it on \
                 the cards and wires. The job is compiled here (javac, against a Flink 2.3 \
                 distribution) and submitted through the cluster's REST API.",
            );
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let label = ui.label("REST address");
                let field = ui
                    .add(
                        egui::TextEdit::singleline(text)
                            .desired_width(260.0)
                            .hint_text(crate::flink::DEFAULT_URL),
                    )
                    .labelled_by(label.id);
                if !ui.data(|d| d.get_temp::<bool>(focused).unwrap_or(false)) {
                    field.request_focus();
                    ui.data_mut(|d| d.insert_temp(focused, true));
                }
                if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    commands.push(Command::Run(RunCommand::StartOnFlink { url: text.clone() }));
                }
            });
            ui.label(
                RichText::new(
                    "A local cluster: scripts/flink.sh start (web UI and REST on port 8081).",
                )
                .weak(),
            );
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if ui.button("Run on Flink").clicked() {
                    commands.push(Command::Run(RunCommand::StartOnFlink { url: text.clone() }));
                }
                if ui.button("Cancel").clicked() {
                    commands.push(Command::Run(RunCommand::CloseFlinkDialog));
                }
            });
        });
    if !open {
        commands.push(Command::Run(RunCommand::CloseFlinkDialog));
    }
}

/// After the run's phase in the toolbar: where the Flink job is, its web UI, its vertices.
pub fn flink_status_ui(ui: &mut Ui, info: &FlinkRunInfo) {
    ui.separator();
    let state = match info.phase {
        FlinkPhase::Building | FlinkPhase::Submitting => info.step.clone(),
        _ if info.job_state.is_empty() => info.step.clone(),
        _ => info.job_state.clone(),
    };
    ui.label(RichText::new(format!("on Flink {}: {state}", info.cluster)).strong());
    if let Some(id) = &info.job_id {
        ui.label(
            RichText::new(format!("job {}", short(id)))
                .monospace()
                .weak(),
        )
        .on_hover_text(id.as_str());
    }
    if let Some(link) = &info.web_ui {
        ui.hyperlink_to("Flink web UI ↗", link)
            .on_hover_text("The job in Flink's own web UI");
    }
    if !info.vertices.is_empty() {
        ui.menu_button(format!("{} vertices", info.vertices.len()), |ui| {
            ui.label(
                RichText::new(
                    "Each vertex is a chain of operators Flink runs together; chained nodes share its counters.",
                )
                .weak(),
            );
            for line in &info.vertices {
                ui.label(line);
            }
        });
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

impl FlowbookApp {
    /// Validates, then runs the graph on the Flink cluster at `url` (remembered for next time).
    pub(crate) fn start_on_flink(&mut self, url: &str) {
        let url = url.trim().to_owned();
        if self.run.is_live() {
            self.set_error("A run is in progress: stop it first.");
            return;
        }
        let location = self.doc.location();
        let plan = match crate::plan::plan_in(self.doc.graph(), &location) {
            Ok(plan) => plan,
            Err(problems) => {
                let first = problems.first().map(|p| p.to_string()).unwrap_or_default();
                self.set_error(format!("Cannot run on Flink: {first}"));
                return;
            }
        };
        let source = self.doc.path.as_ref().map_or_else(
            || self.doc.graph().name.clone(),
            |p| p.display().to_string(),
        );
        let export = match crate::flink::export(self.doc.graph(), &plan, &source) {
            Ok(export) => export,
            Err(e) => {
                self.set_error(format!("Cannot run on Flink: {e}"));
                return;
            }
        };
        let connect = Arc::clone(&self.run.flink_connect);
        match connect(export, &url, self.run.waker.clone()) {
            Ok((handle, flink)) => {
                self.archive_run();
                let number = self.run.runs_started + 1;
                self.run.runs_started = number;
                self.run.session = Some(RunSession::on_flink(
                    handle,
                    flink,
                    &plan,
                    self.doc.graph(),
                    number,
                ));
                self.run.flink_dialog = None;
                self.settings.flink_url = url.clone();
                self.set_status(format!(
                    "Run {number} goes to the Flink cluster at {url}; the toolbar follows the job."
                ));
            }
            Err(e) => self.set_error(format!("Cannot run on Flink: {e}")),
        }
    }
}
