//! Turns the run session's newest statuses into what the canvas draws: a badge per node and
//! a rate, back-pressure or gradient scale per wire.

use super::FlowView;
use super::session::RunSession;
use crate::app::canvas::live::{LiveCard, LiveOverlay, LiveState, LiveWire, count_text, rate_text};
use crate::catalog::NodeKind;
use crate::exec::{NodeState, NodeStatus};
use crate::format::{metric, percent};
use crate::graph::Graph;

/// The overlay of `session` on `graph`.
pub fn live_overlay(session: &RunSession, graph: &Graph, flow: FlowView) -> LiveOverlay {
    let mut overlay = LiveOverlay::default();
    for node in &graph.nodes {
        let Some(status) = session.node(node.id) else {
            continue;
        };
        let state = match session.node_state(node.id) {
            Some(NodeState::Running) | None => LiveState::Running,
            Some(NodeState::Paused) => LiveState::Paused,
            Some(NodeState::Finished) => LiveState::Finished,
            Some(NodeState::Failed) => LiveState::Failed,
            Some(NodeState::Stopped) => LiveState::Stopped,
        };
        let kind = NodeKind::from_id(&node.kind);
        let lines = layer_lines(session, &node.name)
            .or_else(|| {
                (kind == Some(NodeKind::Loss))
                    .then(|| loss_lines(session, graph, node.id))
                    .flatten()
            })
            .unwrap_or_else(|| {
                card_lines(status, kind, session.phase.is_live(), session.event_clock)
            });
        overlay.cards.insert(
            node.id,
            LiveCard {
                state,
                lines,
                error: status.error.clone(),
            },
        );
        let rates = session.port_rates.get(&node.id);
        if let Some(spec) = kind.map(|k| k.spec()) {
            for (port, out) in spec.outputs.iter().enumerate() {
                let rate = rates.and_then(|r| r.get(port)).copied().unwrap_or(0.0);
                overlay.wires.insert(
                    (node.id, out.name.to_owned()),
                    LiveWire {
                        rate_per_s: rate,
                        backpressure: if session.phase.is_live() {
                            status.backpressure
                        } else {
                            0.0
                        },
                        flow: None,
                    },
                );
            }
        }
    }
    add_gradient_flow(&mut overlay, session, graph, flow);
    overlay
}

/// A layer runs inside its trainer: its badge shows the layer's activation scale and the
/// gradients flowing through it instead of record counts.
fn layer_lines(session: &RunSession, name: &str) -> Option<Vec<String>> {
    let (step, layer) = session.insights.values().find_map(|i| {
        i.layers
            .iter()
            .find(|l| l.name == name)
            .map(|l| (i.step, l))
    })?;
    let mut second = format!("dL/dout rms {}", metric(f64::from(layer.output_grad_rms)));
    if let Some(norm) = layer.param_grad_norm {
        second.push_str(&format!(" · |grad W| {}", metric(f64::from(norm))));
    }
    Some(vec![
        format!(
            "step {step} · act rms {}",
            metric(f64::from(layer.activation_rms))
        ),
        second,
    ])
}

/// A Loss node runs inside its trainer (the node its output is wired to): its badge shows the
/// trainer's newest losses.
fn loss_lines(
    session: &RunSession,
    graph: &Graph,
    loss: crate::graph::NodeId,
) -> Option<Vec<String>> {
    let trainer = graph.edges.iter().find(|e| e.from.node == loss)?.to.node;
    let metrics = &session.node(trainer)?.last_metrics;
    let get = |name: &str| {
        metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .filter(|v| v.is_finite())
    };
    let mut lines = vec![format!(
        "step {:.0} · loss {}",
        get("step")?,
        get("loss").map_or("–".into(), metric)
    )];
    if let Some(test) = get("test_loss") {
        lines.push(format!("test loss {}", metric(test)));
    }
    Some(lines)
}

/// Two short lines: counts and rate; then watermark and late records, or training progress.
fn card_lines(
    s: &NodeStatus,
    kind: Option<NodeKind>,
    live: bool,
    clock: crate::format::EventClock,
) -> Vec<String> {
    let rate = if live {
        format!(" · {}", rate_text(s.in_per_s.max(s.out_per_s)))
    } else {
        String::new()
    };
    let mut lines = vec![format!(
        "in {} · out {}{rate}",
        count_text(s.records_in as f64),
        count_text(s.records_out as f64)
    )];
    let last = |name: &str| {
        s.last_metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    };
    match kind {
        Some(NodeKind::Window) => {
            let wm = s
                .watermark
                .map_or("–".to_owned(), |w| clock.watermark_short(w));
            lines.push(format!(
                "watermark {wm} · late {} · fired {}",
                count_text(s.late as f64),
                count_text(s.window_firings as f64)
            ));
        }
        Some(NodeKind::Trainer) => {
            let step = last("step").unwrap_or(0.0);
            let loss = last("loss").map_or("–".into(), metric);
            let acc = last("test_accuracy")
                .filter(|a| a.is_finite())
                .or(last("accuracy").filter(|a| a.is_finite()))
                .map_or(String::new(), |a| format!(" · acc {}", percent(a)));
            lines.push(format!("step {step:.0} · loss {loss}{acc}"));
        }
        _ if s.state_entries > 0 => {
            lines.push(format!(
                "keyed state {}",
                count_text(s.state_entries as f64)
            ));
        }
        _ if s.skipped > 0 => lines.push(format!("skipped {}", count_text(s.skipped as f64))),
        _ => {}
    }
    lines
}

/// Wires out of layer nodes carry the trainer's per-layer gradient (or activation) scale.
fn add_gradient_flow(
    overlay: &mut LiveOverlay,
    session: &RunSession,
    graph: &Graph,
    flow: FlowView,
) {
    for insight in session.insights.values() {
        let values: Vec<(String, f32)> = insight
            .layers
            .iter()
            .map(|l| {
                let v = match flow {
                    FlowView::Gradients => l.output_grad_rms,
                    FlowView::Activations => l.activation_rms,
                };
                (l.name.clone(), v)
            })
            .collect();
        let scaled = crate::app::run::views::layers::flow_scale(
            &values.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        );
        for ((name, value), t) in values.into_iter().zip(scaled) {
            let Some(node) = graph.node_by_name(&name) else {
                continue;
            };
            let symbol = match flow {
                FlowView::Gradients => "grad",
                FlowView::Activations => "act",
            };
            let wire = overlay
                .wires
                .entry((node.id, "out".to_owned()))
                .or_default();
            wire.flow = Some((t, format!("{symbol} {}", metric(f64::from(value)))));
        }
    }
}
