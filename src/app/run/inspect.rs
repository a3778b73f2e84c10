//! The "Live" section of the inspector: the selected node's numbers from the current run, and
//! the view that explains what it does (window timeline, skew, decision boundary, layers).

use super::RunState;
use super::session::RunSession;
use crate::app::canvas::live::{count_text, rate_text};
use crate::app::command::Command;
use crate::exec::NodeStatus;
use crate::graph::{Graph, NodeId};
use egui::{RichText, Ui};

/// The live section for `node`, if a run has data for it.
pub fn live_node_ui(
    ui: &mut Ui,
    run: &mut RunState,
    graph: &Graph,
    node: NodeId,
    commands: &mut Vec<Command>,
) {
    let Some(session) = &run.session else {
        return;
    };
    let Some(status) = session.node(node) else {
        return;
    };
    // The live numbers scroll within at most part of the panel: the parameters below keep
    // the rest, so a live one (a trainer's lr) stays in reach and still while the run goes.
    let most = (ui.available_height() * LIVE_SHARE).max(120.0);
    egui::ScrollArea::vertical()
        .id_salt("live_section_scroll")
        .max_height(most)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            live_section_ui(ui, session, status, graph, node, commands)
        });
    ui.separator();
}

/// The share of the inspector's height the live section may take before it scrolls.
const LIVE_SHARE: f32 = 0.45;

fn live_section_ui(
    ui: &mut Ui,
    session: &RunSession,
    status: &NodeStatus,
    graph: &Graph,
    node: NodeId,
    commands: &mut Vec<Command>,
) {
    egui::CollapsingHeader::new(RichText::new(format!("Live — run {}", session.number)).strong())
        .id_salt("live_section")
        .default_open(true)
        .show(ui, |ui| {
            status_grid(ui, session, status);
            if let Some(error) = &status.error {
                ui.label(RichText::new(error).color(crate::app::canvas::style::ERROR_RED));
            }
            let ports: Vec<&str> = graph
                .node(node)
                .and_then(crate::app::canvas::layout::spec_of)
                .map(|s| s.outputs.iter().map(|p| p.name).collect())
                .unwrap_or_default();
            node_view_ui(ui, session, graph, node, status);
            ui.horizontal_wrapped(|ui| {
                for port in ports {
                    if ui
                        .button(format!("Preview '{port}'"))
                        .on_hover_text("The last records that left this port, live")
                        .clicked()
                    {
                        commands.push(Command::ShowPreview(Some((node, port.to_owned()))));
                    }
                }
            });
        });
}

/// The view that explains the node: a window's timeline, a partition's skew, a trainer's (or
/// a layer's) per-layer statistics.
fn node_view_ui(
    ui: &mut Ui,
    session: &RunSession,
    graph: &Graph,
    node: NodeId,
    status: &NodeStatus,
) {
    use super::views::{
        layers::layers_ui,
        skew::skew_ui,
        timeline::{TimelineData, timeline_ui},
    };
    use crate::catalog::NodeKind;
    let kind = graph.node(node).and_then(|n| NodeKind::from_id(&n.kind));
    match kind {
        Some(NodeKind::Window) => {
            ui.label(RichText::new("Window timeline").strong());
            let empty_windows = Default::default();
            let empty_late = Default::default();
            let data = TimelineData {
                windows: session.windows.get(&node).unwrap_or(&empty_windows),
                late: session.late.get(&node).unwrap_or(&empty_late),
                watermark: status.watermark,
                newest_event: status.max_event_time,
            };
            timeline_ui(ui, &data);
        }
        Some(NodeKind::Partition) => {
            if let Some(skew) = &status.skew {
                ui.label(RichText::new("Skew").strong());
                skew_ui(ui, skew);
            }
        }
        _ => {
            let name = graph.display_name(node);
            let insight = session.insights.get(&node).or_else(|| {
                session
                    .insights
                    .values()
                    .find(|i| i.layers.iter().any(|l| l.name == name))
            });
            if let Some(insight) = insight {
                ui.label(RichText::new(format!("Layers at step {}", insight.step)).strong());
                layers_ui(ui, &insight.layers);
            }
        }
    }
}

fn status_grid(ui: &mut Ui, session: &RunSession, s: &NodeStatus) {
    let live = session.phase.is_live();
    egui::Grid::new("live_grid")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            let mut row = |name: &str, value: String| {
                ui.label(RichText::new(name).weak());
                ui.monospace(value);
                ui.end_row();
            };
            row(
                "state",
                format!("{:?}", session.node_state(s.id).unwrap_or(s.state)).to_lowercase(),
            );
            row("records in", crate::format::count(s.records_in));
            row("records out", crate::format::count(s.records_out));
            if live {
                row(
                    "rate in / out",
                    format!("{} / {}", rate_text(s.in_per_s), rate_text(s.out_per_s)),
                );
                row(
                    "back-pressure",
                    format!("{:.0} % of its channels full", s.backpressure * 100.0),
                );
            } else {
                row("mean rate out", rate_text(s.out_per_s));
            }
            if let Some(w) = s.watermark {
                row("watermark", session.event_clock.watermark(w));
            }
            if let Some(t) = s.max_event_time {
                row("newest event", session.event_clock.time(t));
            }
            if s.window_firings > 0 || s.late > 0 {
                row("windows fired", crate::format::count(s.window_firings));
                row("late records", crate::format::count(s.late));
            }
            if s.state_entries > 0 {
                row(
                    "keyed state",
                    format!("{} entries", crate::format::count(s.state_entries)),
                );
            }
            if s.skipped > 0 {
                row("skipped rows", crate::format::count(s.skipped));
            }
            if s.instance_in.len() > 1 {
                let per: Vec<String> = s
                    .instance_in
                    .iter()
                    .map(|n| count_text(*n as f64))
                    .collect();
                row("in per instance", per.join(" · "));
            }
            for (name, value) in &s.last_metrics {
                if !value.is_finite() {
                    continue;
                }
                let text = match name.as_str() {
                    "step" | "epoch" => format!("{value:.0}"),
                    "samples_per_s" => crate::format::rate(*value, "samples/s"),
                    _ => crate::format::metric(*value),
                };
                row(name, text);
            }
        });
}
