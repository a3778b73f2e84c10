//! The live views with the deep layers, as a person watches them: run digits-cnn,
//! live-recommender and sensor-sequence from the toolbar; while they train and after they end,
//! the convolution, embedding and GRU layers get badges with their real activation and
//! gradient sizes, the wires out of them carry their gradient scale, the trainer's inspector
//! shows the layer table, and opening the network's group card draws all of it on the canvas.

use crate::common::serial;
use crate::readable::texts_in;
use crate::run::{phase, step_until};
use crate::support::*;
use egui::vec2;
use egui_kittest::kittest::Queryable;
use flowbook::app::run::FlowView;
use flowbook::app::run::overlay::live_overlay;
use flowbook::app::run::session::RunPhase;
use flowbook::app::{Command, FlowbookApp, Selection, Settings};
use flowbook::graph::{NodeId, Pace, ParamValue};
use std::time::Duration;

/// An example and the layers whose live numbers must show.
struct Watched {
    file: &'static str,
    trainer: &'static str,
    /// Layers with parameters: their badge also shows the parameter-gradient norm.
    with_params: &'static [&'static str],
    /// Layers without parameters (pooling, dot): activation and gradient only.
    without_params: &'static [&'static str],
}

const WATCHED: [Watched; 3] = [
    Watched {
        file: "digits-cnn.ron",
        trainer: "trainer",
        with_params: &["conv1", "conv2", "dense1"],
        without_params: &["pool1", "pool2", "flatten"],
    },
    Watched {
        file: "live-recommender.ron",
        trainer: "trainer",
        with_params: &["users", "items"],
        without_params: &["score"],
    },
    Watched {
        file: "sensor-sequence.ron",
        trainer: "gru_trainer",
        with_params: &["gru", "gru_out"],
        without_params: &[],
    },
];

/// The number after `label` in `text` (up to the next " ·"), e.g. `act rms 0.1234`.
fn number_after(text: &str, label: &str) -> f64 {
    let start = text
        .find(label)
        .unwrap_or_else(|| panic!("'{label}' in '{text}'"))
        + label.len();
    let rest = text[start..].trim_start();
    let token = rest.split(" ·").next().unwrap_or(rest).trim();
    token
        .parse()
        .unwrap_or_else(|_| panic!("a number after '{label}' in '{text}'"))
}

fn real(value: f64, what: &str) {
    assert!(
        value.is_finite() && value > 0.0,
        "{what}: {value} is not a real size"
    );
}

fn node_id(h: &AppHarness, name: &str) -> NodeId {
    h.state().graph().node_by_name(name).unwrap().id
}

/// Badge lines and gradient-wire labels of the watched layers, checked for real numbers.
/// Returns (node, first badge line as drawn, wire label) per layer.
fn check_overlay(h: &AppHarness, w: &Watched) -> Vec<(String, String, String)> {
    let app = h.state();
    let session = app.run.session.as_ref().unwrap();
    let overlay = live_overlay(session, app.graph(), FlowView::Gradients);
    let mut drawn = Vec::new();
    for (layer, params) in w
        .with_params
        .iter()
        .map(|l| (l, true))
        .chain(w.without_params.iter().map(|l| (l, false)))
    {
        let id = app.graph().node_by_name(layer).unwrap().id;
        let card = overlay
            .cards
            .get(&id)
            .unwrap_or_else(|| panic!("{}: {layer} has a badge", w.file));
        let [first, second] = card.lines.as_slice() else {
            panic!("{}: {layer} badge lines {:?}", w.file, card.lines);
        };
        assert!(number_after(first, "step ") >= 1.0, "{}: {first}", w.file);
        real(
            number_after(first, "act rms"),
            &format!("{} {layer} activation", w.file),
        );
        real(
            number_after(second, "dL/dout rms"),
            &format!("{} {layer} output gradient", w.file),
        );
        if params {
            real(
                number_after(second, "|grad W|"),
                &format!("{} {layer} parameter gradient", w.file),
            );
        } else {
            assert!(!second.contains("|grad W|"), "{}: {second}", w.file);
        }
        let wire = overlay
            .wires
            .get(&(id, "out".to_owned()))
            .unwrap_or_else(|| panic!("{}: {layer}'s out wire", w.file));
        let (scale, label) = wire
            .flow
            .clone()
            .unwrap_or_else(|| panic!("{}: {layer}'s wire shows no gradient", w.file));
        assert!((0.0..=1.0).contains(&scale), "{}: {layer} {scale}", w.file);
        real(
            number_after(&label, "grad"),
            &format!("{} {layer} wire", w.file),
        );
        let badge = format!("{} {} · {first}", card.state.icon(), card.state.word());
        drawn.push((layer.to_string(), badge, label));
    }
    drawn
}

#[test]
fn conv_embedding_and_gru_layers_show_live_sizes_and_gradient_wires() {
    let _serial = serial();
    let copies = examples_copy();
    for w in &WATCHED {
        let path = copies.path().join(w.file);
        let mut graph = flowbook::graph::load(&path).unwrap();
        graph.pace = Pace::Max;
        if w.file == "digits-cnn.ron" {
            // Three epochs are enough to watch; twenty only make the test slow.
            graph
                .set_param(w.trainer, "epochs", ParamValue::Int(3))
                .unwrap();
        }
        let mut h = egui_kittest::Harness::builder()
            .with_size(vec2(1600.0, 1000.0))
            .with_max_steps(64)
            .allow_missing_glyphs()
            .build_eframe(|_cc| FlowbookApp::new(Settings::default()));
        h.state_mut().set_document(graph, Some(path.clone()));
        settle(&mut h);
        let trainer = node_id(&h, w.trainer);
        h.get_by_label("▶ Run").click();

        // While it trains: the first layer statistics arrive with real numbers.
        step_until(&mut h, Duration::from_secs(120), |h| {
            let app = h.state();
            let session = app.run.session.as_ref();
            session.is_some_and(|s| s.insights.get(&trainer).is_some_and(|i| i.step > 0))
                || phase(h) == Some(RunPhase::Finished)
        });
        check_overlay(&h, w);

        step_until(&mut h, Duration::from_secs(240), |h| {
            phase(h) == Some(RunPhase::Finished)
        });
        settle(&mut h);
        let step = h.state().run.session.as_ref().unwrap().insights[&trainer].step;
        assert!(step > 10, "{}: trained {step} steps", w.file);

        // The trainer's inspector: the layer table of the final step, every layer named.
        h.state_mut()
            .commands
            .push(Command::Select(Selection::only_node(trainer)));
        settle(&mut h);
        assert!(
            h.query_by_label(&format!("Layers at step {step}"))
                .is_some(),
            "{}: the trainer's layer table",
            w.file
        );
        for layer in w.with_params.iter().chain(w.without_params) {
            assert!(
                h.query_all_by_label(layer).count() >= 1,
                "{}: {layer} in the layer table",
                w.file
            );
        }

        if w.file == "live-recommender.ron" {
            check_hit_rate_plots(&mut h, trainer);
        }
        if w.file == "sensor-sequence.ron" {
            // The count window feeds a Batch node: it keeps records, not statistics, so the
            // plots area shows its records per window but no (forever empty) mean/min/max.
            let plots = &h.state().run.plots.settings;
            let titles: Vec<&String> = plots.keys().collect();
            assert!(
                plots.contains_key("last10 — records per window"),
                "{titles:?}"
            );
            assert!(
                !plots.contains_key("last10 — mean, min/max per key"),
                "{titles:?}"
            );
            assert!(
                !titles
                    .iter()
                    .any(|t| t.contains("watermark vs newest event")),
                "no watermark plot without watermarks: {titles:?}"
            );
            assert!(
                !plots.contains_key("late records"),
                "a count window has no late records to plot: {titles:?}"
            );
        }

        // Open the network's group card: the layer cards carry their badges and the wires out
        // of them their gradient labels, drawn whole.
        let group = h.state().graph().groups[0].id;
        h.state_mut().commands.push(Command::OpenGroup(Some(group)));
        settle(&mut h);
        let expected = check_overlay(&h, w);
        let app = h.state();
        assert!(
            app.canvas.view.zoom >= flowbook::app::canvas::live::BADGE_TEXT_MIN_ZOOM,
            "{}: the opened group shows badge text ({:.0} %)",
            w.file,
            app.canvas.view.zoom * 100.0
        );
        let texts: Vec<String> = texts_in(&h, app.canvas.view.rect)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        for (layer, badge, label) in expected {
            assert!(
                texts.contains(&badge),
                "{}: {layer}'s badge '{badge}' is drawn; drawn: {texts:?}",
                w.file
            );
            assert!(
                texts.contains(&label),
                "{}: {layer}'s wire label '{label}' is drawn",
                w.file
            );
        }
    }
}

/// The recommender's plots after its run: hit rate@10 against the popularity baseline in the
/// notebook cell (and in the plots area once the notebook is closed); no decision boundary —
/// a user id and an item id are not a plane.
fn check_hit_rate_plots(h: &mut AppHarness, trainer: NodeId) {
    let app = h.state();
    let session = app.run.session.as_ref().unwrap();
    let last = |field: &str| {
        session.metrics[&trainer]
            .field(field)
            .and_then(|s| s.last())
            .unwrap_or_else(|| panic!("{field} was plotted"))[1]
    };
    let (model, popular) = (last("hit_rate"), last("popular_hit_rate"));
    assert!(
        model >= 2.0 * popular && popular > 0.0,
        "hit rate@10 {model} vs popularity {popular}"
    );
    assert!(app.settings.show_notebook, "the example opens its notebook");
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, vec2(1600.0, 1000.0));
    let texts: Vec<String> = texts_in(h, screen).into_iter().map(|(t, _)| t).collect();
    assert!(
        texts.iter().any(|t| t == "trainer — hit_rate"),
        "the notebook's hit-rate plot is drawn: {texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("decision boundary")),
        "{texts:?}"
    );
    h.state_mut().settings.show_notebook = false;
    settle(h);
    let plots = &h.state().run.plots;
    assert!(
        plots
            .settings
            .contains_key("trainer — hit rate vs popularity"),
        "the plots area draws the hit rate: {:?}",
        plots.settings.keys().collect::<Vec<_>>()
    );
    assert!(
        !plots.decisions.contains_key(&trainer),
        "no decision boundary for ids"
    );
    // The click source has no event time: its watermark only jumps at the end of the input.
    assert!(
        !plots
            .settings
            .keys()
            .any(|t| t.contains("watermark vs newest event")),
        "no one-point watermark plot: {:?}",
        plots.settings.keys().collect::<Vec<_>>()
    );
    h.state_mut().settings.show_notebook = true;
    settle(h);
}
