//! The run toolbar: Run, Pause/Resume, Step, Stop and Reset with their shortcuts, the pace
//! (how fast the run goes, changeable while it runs), and a line saying where the run is.
//! Buttons only push commands.

use super::session::RunPhase;
use super::{FlowView, RunCommand, RunState};
use crate::app::command::Command;
use crate::app::shortcuts as keys;
use crate::graph::{ANIMATE_SECONDS, Graph, Pace, REPLAY_FACTORS};
use egui::{Button, RichText, Ui};

/// Training step limits the pace menu offers.
const STEP_RATES: [f64; 3] = [5.0, 20.0, 100.0];

/// A pace as the toolbar's button says it.
pub fn pace_label(pace: Pace) -> String {
    match pace {
        Pace::Max => "Max".into(),
        Pace::Animate => "Animate".into(),
        Pace::Replay(f) => format!("{}× event time", crate::format::significant(f, 4)),
        Pace::Steps(s) => format!("{} steps/s", crate::format::significant(s, 4)),
    }
}

/// A pace in a sentence.
pub fn pace_words(pace: Pace) -> String {
    match pace {
        Pace::Max => "full speed".into(),
        Pace::Animate => format!("animate (a bounded run takes about {ANIMATE_SECONDS:.0} s)"),
        Pace::Replay(f) => format!(
            "event time replayed at {}× wall time",
            crate::format::significant(f, 4)
        ),
        Pace::Steps(s) => format!(
            "at most {} training steps per second",
            crate::format::significant(s, 4)
        ),
    }
}

/// The pace menu; pushes a command when the user picks another pace or saves it as default.
fn pace_ui(ui: &mut Ui, run: &RunState, graph: &Graph, commands: &mut Vec<Command>) {
    let current = run.pace(graph);
    let mut picked = None;
    ui.label(RichText::new("Pace").weak());
    egui::ComboBox::from_id_salt("run_pace")
        .selected_text(pace_label(current))
        .width(150.0)
        .show_ui(ui, |ui| {
            let mut option = |ui: &mut Ui, pace: Pace, hint: &str| {
                let label = pace_label(pace);
                if ui
                    .selectable_label(current == pace, label)
                    .on_hover_text(hint)
                    .clicked()
                {
                    picked = Some(pace);
                }
            };
            option(ui, Pace::Max, "As fast as the machine goes");
            option(
                ui,
                Pace::Animate,
                "Spread a bounded run over about 20 s: training epochs share the time; a \
                 stream without training spreads its input",
            );
            ui.separator();
            for f in REPLAY_FACTORS {
                option(
                    ui,
                    Pace::Replay(f),
                    "Sources replay event time at this factor, like a recorded stream",
                );
            }
            ui.separator();
            for s in STEP_RATES {
                option(
                    ui,
                    Pace::Steps(s),
                    "Trainers take at most this many steps per second",
                );
            }
        })
        .response
        .on_hover_text(format!(
            "How fast the run goes: {}. Changes apply at once, also while running.{}",
            pace_words(current),
            if graph.pace == current {
                " It is this graph's default (saved in its file)."
            } else {
                ""
            }
        ));
    if let Some(pace) = picked.filter(|p| *p != current) {
        commands.push(Command::Run(RunCommand::SetPace(pace)));
    }
    if graph.pace != current
        && ui
            .small_button("Make default")
            .on_hover_text(format!(
                "Save {} as this graph's pace (it is {} now)",
                pace_label(current),
                pace_label(graph.pace)
            ))
            .clicked()
    {
        commands.push(Command::Run(RunCommand::SetDefaultPace(current)));
    }
}

pub fn run_toolbar_ui(ui: &mut Ui, run: &RunState, graph: &Graph, commands: &mut Vec<Command>) {
    let phase = run.session.as_ref().map(|s| s.phase.clone());
    let live = phase.as_ref().is_some_and(RunPhase::is_live);
    let paused = phase == Some(RunPhase::Paused);
    // A job on a Flink cluster cannot pause or step.
    let can_pause = run.session.as_ref().is_none_or(|s| s.can_pause());
    let ctx = ui.ctx().clone();
    let shortcut = |s: &egui::KeyboardShortcut| ctx.format_shortcut(s);
    let mut pushed = None;
    let mut push = |c: RunCommand| pushed = Some(c);
    ui.horizontal(|ui| {
        let run_label = if paused { "▶ Resume" } else { "▶ Run" };
        if ui
            .add_enabled(!live || paused, Button::new(run_label))
            .on_hover_text(format!(
                "Validate and run the graph ({})",
                shortcut(&keys::RUN)
            ))
            .clicked()
        {
            push(RunCommand::Start);
        }
        if ui
            .add_enabled(live && !paused && can_pause, Button::new("Pause"))
            .on_hover_text(format!(
                "Sources stop; in-flight data drains ({})",
                shortcut(&keys::PAUSE)
            ))
            .clicked()
        {
            push(RunCommand::Pause);
        }
        if ui
            .add_enabled(
                phase != Some(RunPhase::Stopping) && can_pause,
                Button::new("Step"),
            )
            .on_hover_text(format!(
                "One more batch from each source, one training step ({})",
                shortcut(&keys::STEP)
            ))
            .clicked()
        {
            push(RunCommand::Step);
        }
        if ui
            .add_enabled(live, Button::new("◼ Stop"))
            .on_hover_text(format!("End the run now ({})", shortcut(&keys::STOP)))
            .clicked()
        {
            push(RunCommand::Stop);
        }
        if ui
            .add_enabled(run.session.is_some(), Button::new("⟲ Reset"))
            .on_hover_text(format!(
                "Clear this run's results; it stays in the history to compare ({})",
                shortcut(&keys::RESET)
            ))
            .clicked()
        {
            push(RunCommand::Reset);
        }
        ui.separator();
        pace_ui(ui, run, graph, commands);
        ui.separator();
        // The flow-view choice keeps its room at the right; the run's line gets the rest and
        // truncates (full text on hover), so nothing overlaps at the smallest window.
        let wide = ui.available_width() >= WIDE_FLOW_VIEW + 260.0;
        let flow_width = if wide {
            WIDE_FLOW_VIEW
        } else {
            COMPACT_FLOW_VIEW
        };
        let spacing = ui.spacing().item_spacing.x;
        let phase_width = (ui.available_width() - flow_width - spacing).max(0.0);
        ui.allocate_ui_with_layout(
            egui::vec2(phase_width, ui.available_height()),
            egui::Layout::left_to_right(egui::Align::Center),
            |ui| {
                ui.set_clip_rect(ui.max_rect().intersect(ui.clip_rect()));
                phase_label(ui, run);
            },
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            flow_view_ui(ui, run.flow_view, wide, commands);
        });
    });
    if let Some(c) = pushed {
        commands.push(Command::Run(c));
    }
}

/// Room the flow-view choice takes as two buttons, and as a small menu in a narrow window.
const WIDE_FLOW_VIEW: f32 = 235.0;
const COMPACT_FLOW_VIEW: f32 = 110.0;

/// Which gradient or activation size the layer wires show: two buttons, or a small menu.
fn flow_view_ui(ui: &mut Ui, current: FlowView, wide: bool, commands: &mut Vec<Command>) {
    let mut flow = current;
    if wide {
        ui.selectable_value(&mut flow, FlowView::Activations, "activations");
        ui.selectable_value(&mut flow, FlowView::Gradients, "gradients");
        ui.label(RichText::new("layer wires:").weak());
    } else {
        let name = |f: FlowView| match f {
            FlowView::Activations => "activations",
            FlowView::Gradients => "gradients",
        };
        egui::ComboBox::from_id_salt("flow_view")
            .selected_text(name(flow))
            .width(COMPACT_FLOW_VIEW - 8.0)
            .show_ui(ui, |ui| {
                for f in [FlowView::Activations, FlowView::Gradients] {
                    ui.selectable_value(&mut flow, f, name(f));
                }
            })
            .response
            .on_hover_text("What the layer wires show: activation or gradient sizes");
    }
    if flow != current {
        commands.push(Command::SetFlowView(flow));
    }
}

fn phase_label(ui: &mut Ui, run: &RunState) {
    let Some(session) = &run.session else {
        ui.add(
            egui::Label::new(RichText::new("Not running. Press Run (F5) to start.").weak())
                .truncate(),
        );
        return;
    };
    let seconds = session.seconds();
    let (text, colour) = match &session.phase {
        RunPhase::Running => (
            format!("Run {} running · {seconds:.1} s", session.number),
            None,
        ),
        RunPhase::Paused => (
            format!("Run {} paused · {seconds:.1} s", session.number),
            Some(egui::Color32::from_rgb(0xe3, 0xa0, 0x08)),
        ),
        RunPhase::Stopping => (format!("Run {} stopping…", session.number), None),
        RunPhase::Finished => (
            format!("Run {} finished in {seconds:.2} s", session.number),
            Some(egui::Color32::from_rgb(0x4a, 0x90, 0xe2)),
        ),
        RunPhase::Stopped => (
            format!("Run {} stopped after {seconds:.2} s", session.number),
            None,
        ),
        RunPhase::Failed { node, message } => (
            format!("Run {} failed at {node}: {message}", session.number),
            Some(crate::app::canvas::style::ERROR_RED),
        ),
    };
    let mut rich = RichText::new(text);
    if let Some(c) = colour {
        rich = rich.color(c);
    }
    ui.add(egui::Label::new(rich).truncate());
    if let Some(flink) = &session.flink {
        super::flink::flink_status_ui(ui, &flink.info());
    }
}
