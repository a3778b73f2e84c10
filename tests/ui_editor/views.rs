//! The live views of a run (window timeline, skew, decision boundary, layer stats) rendered
//! headless with egui_kittest: they draw empty, single and crowded data without panicking and
//! take a sensible size; their pure parts (class grid, flow scale, skew words) are checked on
//! hand-built and real data.

#[path = "views_raster.rs"]
mod raster;

use egui::{Rect, Vec2, pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use flowbook::app::run::views::timeline::visible_range;
use flowbook::app::run::views::{
    DecisionView, TimelineData, class_grid, flow_scale, imbalance_text, layers_ui, plot_bounds,
    skew_ui, timeline_ui,
};
use flowbook::exec::{LateSample, SkewStats, WindowSample};
use flowbook::learn::insight::{LabeledPoint, TrainerInsight};
use flowbook::learn::{FeatureSpec, LabelKind};
use flowbook::nn::{LayerSpec, LayerStats, LossKind, Model, ModelConfig};
use std::collections::VecDeque;
use std::sync::Arc;

const SIZE: Vec2 = Vec2::new(800.0, 600.0);

/// Where a view drew itself in the last frame.
#[derive(Default)]
struct Drawn {
    rect: Option<Rect>,
}

/// Renders `view` for a few frames and returns its rect.
fn drawn_rect(mut view: impl FnMut(&mut egui::Ui) -> egui::Response) -> Rect {
    let mut harness = Harness::builder().with_size(SIZE).build_ui_state(
        |ui, state: &mut Drawn| state.rect = Some(view(ui).rect),
        Drawn::default(),
    );
    harness.run();
    harness.state().rect.unwrap_or(Rect::NOTHING)
}

fn assert_sensible(rect: Rect, what: &str) {
    assert!(
        rect.width() >= 100.0 && rect.height() >= 10.0,
        "{what} too small: {rect:?}"
    );
    assert!(
        rect.width() <= SIZE.x && rect.height() <= SIZE.y,
        "{what} larger than the screen: {rect:?}"
    );
}

// ---- window timeline ----

fn window(key: &str, start: i64, end: i64, count: u64) -> WindowSample {
    WindowSample {
        key: key.into(),
        start,
        end,
        count,
        mean: 1.5,
        min: 0.0,
        max: 3.0,
    }
}

fn timeline_rect(windows: &VecDeque<WindowSample>, late: &VecDeque<LateSample>) -> Rect {
    let newest = windows.iter().map(|w| w.end + 700).max();
    drawn_rect(|ui| {
        timeline_ui(
            ui,
            &TimelineData {
                windows,
                late,
                watermark: newest.map(|t| t - 1200),
                newest_event: newest,
            },
        )
    })
}

#[test]
fn the_timeline_draws_empty_single_and_crowded_data() {
    let none: VecDeque<WindowSample> = VecDeque::new();
    let no_late: VecDeque<LateSample> = VecDeque::new();
    let empty = timeline_rect(&none, &no_late);
    assert_sensible(empty, "empty timeline");

    let one: VecDeque<WindowSample> = [window("7", 0, 1000, 3)].into();
    let single = timeline_rect(&one, &no_late);
    assert_sensible(single, "timeline of one window");

    // 20 keys, sliding windows (size 4 s, slide 1 s), late records, and one epoch-ms key.
    let mut many: VecDeque<WindowSample> = (0..2000)
        .map(|i| {
            let start = (i / 20) * 1000;
            window(&(i % 20).to_string(), start, start + 4000, (i % 17) as u64)
        })
        .collect();
    many.push_back(window("wall", 1_704_112_496_000, 1_704_112_497_000, 1));
    let late: VecDeque<LateSample> = (0..50)
        .map(|i| LateSample {
            key: (i % 20).to_string(),
            ts: 95_000 + i * 10,
        })
        .collect();
    let crowded = timeline_rect(&many, &late);
    assert_sensible(crowded, "crowded timeline");
    assert!(
        crowded.height() > single.height(),
        "more keys, more rows: {crowded:?} vs {single:?}"
    );
    let nine: VecDeque<WindowSample> = (0..9).map(|k| window(&k.to_string(), 0, 1000, 1)).collect();
    assert_eq!(
        timeline_rect(&nine, &no_late).height(),
        crowded.height(),
        "at most 8 rows, however many keys"
    );
}

#[test]
fn hovering_a_window_tells_its_key_bounds_and_count() {
    let windows: VecDeque<WindowSample> = [window("sensor-3", 0, 1000, 42)].into();
    let late = VecDeque::new();
    let data = TimelineData {
        windows: &windows,
        late: &late,
        watermark: Some(1000),
        newest_event: Some(1500),
    };
    let (start, end) = visible_range(&data);
    let mut harness = Harness::builder().with_size(SIZE).build_ui_state(
        |ui, state: &mut Drawn| state.rect = Some(timeline_ui(ui, &data).rect),
        Drawn::default(),
    );
    harness.run();
    let rect = harness.state().rect.unwrap_or(Rect::NOTHING);
    // The plot starts after the 72 px key labels and ends 8 px before the right edge; the
    // only row starts 16 px below the top and is 26 px high.
    let (left, right) = (rect.left() + 72.0, rect.right() - 8.0);
    let x = left + (500 - start) as f32 / (end - start) as f32 * (right - left);
    harness.hover_at(pos2(x, rect.top() + 16.0 + 13.0));
    harness.run();
    let tooltip = harness.query_by_label_contains("42 records");
    assert!(tooltip.is_some(), "a tooltip with the window's count");
    assert!(harness.query_by_label_contains("key sensor-3").is_some());
}

// ---- skew ----

#[test]
fn the_skew_view_states_the_imbalance_in_words() {
    assert_eq!(
        imbalance_text(&[100, 300]),
        "Skewed: sub-stream 1 gets 1.5× the mean."
    );
    let stats = SkewStats {
        per_substream: vec![100, 300],
        hot_keys: vec![("hot".into(), 240), ("cold".into(), 8)],
    };
    let mut harness = Harness::builder().with_size(SIZE).build_ui(|ui| {
        skew_ui(ui, &stats);
    });
    harness.run();
    assert!(
        harness
            .query_by_label_contains("sub-stream 1 gets 1.5× the mean")
            .is_some()
    );
}

#[test]
fn the_skew_view_draws_empty_single_and_crowded_data() {
    let cases = [
        SkewStats::default(),
        SkewStats {
            per_substream: vec![10],
            hot_keys: vec![("only".into(), 8)],
        },
        SkewStats {
            per_substream: (0..64).map(|i| i * i).collect(),
            hot_keys: (0..10)
                .map(|i| (format!("a-rather-long-key-name-{i}"), 1000 - i * 90))
                .collect(),
        },
    ];
    let heights: Vec<f32> = cases
        .iter()
        .map(|stats| {
            let rect = drawn_rect(|ui| skew_ui(ui, stats));
            assert_sensible(rect, "skew view");
            rect.height()
        })
        .collect();
    assert!(
        heights.windows(2).all(|h| h[0] < h[1]),
        "bars and keys add height: {heights:?}"
    );
}

// ---- decision boundary ----

/// A 2 → 2 dense layer with logits (−x0, x0): class 1 exactly where x0 > 0.
fn sign_of_x0_model() -> Model {
    let config = ModelConfig::new(2, vec![LayerSpec::dense("out", 2)]);
    let mut model = Model::new(config).expect("a valid config");
    // Weights (inputs × units), row-major, then the bias.
    model
        .set_parameters_flat(&[-1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
        .expect("6 parameters");
    model
}

fn insight(model: Model, step: u64, points: Vec<LabeledPoint>) -> TrainerInsight {
    TrainerInsight {
        step,
        model,
        features: FeatureSpec {
            features: vec![0, 1],
            scale: 1.0,
            label: Some(2),
            label_kind: LabelKind::Class { classes: 2 },
        },
        layers: Vec::new(),
        points,
        is_final: false,
    }
}

#[test]
fn the_class_grid_follows_the_model() {
    let model = sign_of_x0_model();
    let n = 8;
    let grid = class_grid(&model, [[-2.0, 2.0], [-1.0, 1.0]], n);
    assert_eq!(grid.len(), n * n);
    for (cell, (class, confidence)) in grid.iter().enumerate() {
        let col = cell % n;
        let expected = usize::from(col >= n / 2);
        assert_eq!(*class, expected, "cell {cell}");
        assert!(
            (0.5..=1.0).contains(confidence),
            "cell {cell}: {confidence}"
        );
    }
    // Surer far from the boundary: softmax(−x0, x0) at x0 = 1.75 is 1 / (1 + e^−3.5).
    let edge = grid.get(n - 1).map_or(0.0, |c| c.1);
    assert!(
        (edge - 1.0 / (1.0 + (-3.5f32).exp())).abs() < 1e-4,
        "{edge}"
    );
    assert!(class_grid(&model, [[-2.0, 2.0], [-1.0, 1.0]], 0).is_empty());
}

#[test]
fn a_one_output_bce_model_is_a_two_class_classifier() {
    let config = ModelConfig::new(2, vec![LayerSpec::dense("out", 1)])
        .with_loss(LossKind::BinaryCrossEntropy);
    let mut model = Model::new(config).expect("a valid config");
    model
        .set_parameters_flat(&[0.0, 1.0, 0.0])
        .expect("3 parameters");
    let grid = class_grid(&model, [[-1.0, 1.0], [-1.0, 1.0]], 2);
    // Rows run from x1 = max (top) to min: class 1 above the x0 axis.
    let classes: Vec<usize> = grid.iter().map(|c| c.0).collect();
    assert_eq!(classes, [1, 1, 0, 0]);
}

#[test]
fn a_model_that_is_not_a_two_input_classifier_gets_an_explanation() {
    let regression =
        Model::new(ModelConfig::new(2, vec![LayerSpec::dense("out", 1)]).with_loss(LossKind::Mse))
            .expect("a valid config");
    assert!(class_grid(&regression, [[0.0, 1.0], [0.0, 1.0]], 4).is_empty());
    let three_inputs = Model::new(ModelConfig::mlp(3, &[4], 2)).expect("a valid config");
    // A user id and an item id: two inputs, but ids read by embeddings, not a plane.
    let ids = |c: usize| vec![flowbook::nn::LayerInput::Input { columns: vec![c] }];
    let embedding = flowbook::nn::LayerKind::Embedding { vocab: 8, dim: 4 };
    let towers = Model::new(
        ModelConfig::new(
            2,
            vec![
                LayerSpec::new("users", embedding).with_inputs(ids(0)),
                LayerSpec::new("items", embedding).with_inputs(ids(1)),
                LayerSpec::new("score", flowbook::nn::LayerKind::Dot).with_inputs(vec![
                    flowbook::nn::LayerInput::Layer("users".into()),
                    flowbook::nn::LayerInput::Layer("items".into()),
                ]),
            ],
        )
        .with_loss(LossKind::BinaryCrossEntropy),
    )
    .expect("a valid config");
    assert!(class_grid(&towers, [[0.0, 1.0], [0.0, 1.0]], 4).is_empty());
    for model in [regression, three_inputs, towers] {
        let insight = insight(model, 1, Vec::new());
        let mut harness = Harness::builder().with_size(SIZE).build_ui_state(
            |ui, view: &mut DecisionView| {
                view.decision_ui(ui, &insight);
            },
            DecisionView::default(),
        );
        harness.run();
        assert!(
            harness
                .query_by_label_contains("The decision boundary needs")
                .is_some()
        );
        assert_eq!(harness.state().evaluations(), 0);
    }
}

#[test]
fn the_decision_view_draws_and_evaluates_once_per_step() {
    let points: Vec<LabeledPoint> = (0..300)
        .map(|i| {
            let x0 = (i as f32 * 0.37).sin() * 2.0;
            LabeledPoint {
                x: [x0, (i as f32 * 0.11).cos()],
                class: usize::from(x0 > 0.0),
            }
        })
        .collect();
    let one = vec![LabeledPoint {
        x: [0.5, 0.5],
        class: 1,
    }];
    for points in [Vec::new(), one, points] {
        let first = Arc::new(insight(sign_of_x0_model(), 10, points.clone()));
        let mut shown = first.clone();
        let mut harness = Harness::builder().with_size(SIZE).build_ui_state(
            |ui, (view, rect): &mut (DecisionView, Option<Rect>)| {
                *rect = Some(view.decision_ui(ui, &shown).rect);
            },
            (DecisionView::default(), None),
        );
        harness.run();
        harness.run();
        let (view, rect) = harness.state();
        assert_eq!(view.evaluations(), 1, "same insight, same picture");
        assert_sensible(rect.unwrap_or(Rect::NOTHING), "decision view");
        drop(harness);
        shown = Arc::new(insight(sign_of_x0_model(), 11, points));
        let mut view = DecisionView::default();
        let mut harness = Harness::builder().with_size(SIZE).build_ui(|ui| {
            view.decision_ui(ui, &first);
            view.decision_ui(ui, &shown);
        });
        harness.run();
        drop(harness);
        assert!(view.evaluations() >= 2, "a new step is evaluated again");
    }
}

#[test]
fn bounds_cover_the_points_with_a_margin() {
    assert_eq!(plot_bounds(&[]), [[-3.0, 3.0], [-3.0, 3.0]]);
    let points = [
        LabeledPoint {
            x: [0.0, -1.0],
            class: 0,
        },
        LabeledPoint {
            x: [10.0, 1.0],
            class: 1,
        },
        LabeledPoint {
            x: [f32::NAN, 100.0],
            class: 1,
        },
    ];
    let bounds = plot_bounds(&points).concat();
    let expected = [-1.0, 11.0, -1.2, 1.2];
    assert!(
        bounds
            .iter()
            .zip(expected)
            .all(|(b, e)| (b - e).abs() < 1e-5),
        "{bounds:?}"
    );
}

/// Trains the two-moons example for a moment and returns its newest insight.
fn moons_insight() -> Arc<TrainerInsight> {
    use flowbook::exec::{Control, RunOptions, Telemetry, start};
    use std::time::{Duration, Instant};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("example-graphs/moons.ron");
    let graph = flowbook::graph::load(&path).expect("the example loads");
    let plan = flowbook::plan::plan(&graph).expect("the example plans");
    let handle = start(&plan, RunOptions::default()).expect("the run starts");
    let started = Instant::now();
    let mut newest: Option<Arc<TrainerInsight>> = None;
    while started.elapsed() < Duration::from_secs(10) {
        if let Ok(Telemetry::Progress { insights, .. }) =
            handle.telemetry().recv_timeout(Duration::from_millis(20))
            && let Some(point) = insights.into_iter().last()
        {
            newest = Some(point.insight);
        }
        let trained = newest.as_ref().is_some_and(|i| i.step >= 300);
        if trained && started.elapsed() > Duration::from_secs(1) {
            break;
        }
    }
    handle.send(Control::Stop);
    let _ = handle.wait();
    newest.expect("the trainer shared its model")
}

#[test]
fn a_trained_moons_model_splits_the_plane_where_its_points_are() {
    let insight = moons_insight();
    assert!(insight.points.len() > 50, "training points came along");
    let bounds = plot_bounds(&insight.points);
    let n = 64;
    let grid = class_grid(&insight.model, bounds, n);
    assert_eq!(grid.len(), n * n);
    assert!(
        grid.iter().any(|c| c.0 == 0) && grid.iter().any(|c| c.0 == 1),
        "both classes"
    );
    // The cell under each training point predicts mostly its label (so rows and columns are
    // not mixed up: a transposed or flipped grid scores near chance on the moons).
    let [[x0_min, x0_max], [x1_min, x1_max]] = bounds;
    let hits = insight
        .points
        .iter()
        .filter(|p| {
            let col = ((p.x[0] - x0_min) / (x0_max - x0_min) * n as f32) as usize;
            let row = ((x1_max - p.x[1]) / (x1_max - x1_min) * n as f32) as usize;
            grid.get(row.min(n - 1) * n + col.min(n - 1))
                .is_some_and(|c| c.0 == p.class)
        })
        .count();
    let accuracy = hits as f32 / insight.points.len() as f32;
    assert!(
        accuracy > 0.8,
        "grid agrees with {accuracy:.2} of the labels at step {}",
        insight.step
    );
    // And the view draws it.
    let rect = drawn_rect(|ui| DecisionView::default().decision_ui(ui, &insight));
    assert_sensible(rect, "decision view of the moons");
}

// ---- layer stats ----

fn layer(name: &str, scale: f32, params: bool) -> LayerStats {
    LayerStats {
        name: name.into(),
        activation_rms: scale,
        output_grad_rms: scale * 1e-3,
        param_grad_norm: params.then_some(scale * 0.1),
    }
}

#[test]
fn the_layer_table_draws_empty_single_and_crowded_data() {
    let empty = drawn_rect(|ui| layers_ui(ui, &[]));
    assert!(empty.height() > 0.0);
    let one = [layer("dense1", 1.0, true)];
    let single = drawn_rect(|ui| layers_ui(ui, &one));
    assert_sensible(single, "layer table of one layer");
    let many: Vec<LayerStats> = (0..12)
        .map(|i| layer(&format!("layer{i}"), 10f32.powi(i - 6), i % 2 == 0))
        .chain([LayerStats {
            name: "broken".into(),
            activation_rms: f32::NAN,
            output_grad_rms: 0.0,
            param_grad_norm: Some(f32::INFINITY),
        }])
        .collect();
    let crowded = drawn_rect(|ui| layers_ui(ui, &many));
    assert_sensible(crowded, "layer table of many layers");
    assert!(crowded.height() > single.height() * 3.0);
}

#[test]
fn the_flow_scale_orders_and_bounds() {
    let values = [1e-7, 2e-4, 0.03, 0.03, 5.0, 800.0];
    let t = flow_scale(&values);
    assert_eq!(t.len(), values.len());
    assert!(t.windows(2).all(|w| w[0] <= w[1]), "{t:?}");
    assert_eq!(t.first(), Some(&0.0));
    assert_eq!(t.last(), Some(&1.0));
    assert!(t.iter().all(|v| (0.0..=1.0).contains(v)));
    assert_eq!(flow_scale(&[0.0, f32::NAN, -3.0]), [0.0, 0.0, 0.0]);
}

// ---- a look at the result ----

/// One view drawn into a frame.
type DrawView<'a> = dyn FnMut(&mut egui::Ui) + 'a;

/// Renders every view (dark and light theme) to `target/view-snapshots/*.png` with a small CPU
/// rasterizer, for a person to look at: `cargo test --test ui_editor -- --ignored views::`.
#[test]
#[ignore = "writes PNGs for a human to look at"]
fn render_each_view_to_a_png() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/view-snapshots");
    std::fs::create_dir_all(&dir).expect("a snapshot directory");
    let windows: VecDeque<WindowSample> = (0..400)
        .map(|i| {
            let start = (i / 5) * 500;
            window(
                &(i % 5).to_string(),
                start,
                start + 2000,
                (i * 7 % 23) as u64,
            )
        })
        .collect();
    let late: VecDeque<LateSample> = (0..12)
        .map(|i| LateSample {
            key: (i % 5).to_string(),
            ts: 36_000 + i * 300,
        })
        .collect();
    let newest = windows.iter().map(|w| w.end).max().map(|t| t + 1500);
    let timeline = TimelineData {
        windows: &windows,
        late: &late,
        watermark: newest.map(|t| t - 2500),
        newest_event: newest,
    };
    let skew = SkewStats {
        per_substream: vec![1200, 3100, 900, 1000],
        hot_keys: vec![
            ("hot-key".into(), 2400),
            ("7".into(), 640),
            ("12".into(), 320),
        ],
    };
    let moons = moons_insight();
    let layers = moons.layers.clone();
    let size = Vec2::new(720.0, 460.0);
    for dark in [true, false] {
        let theme = if dark { "dark" } else { "light" };
        let shots: [(&str, Box<DrawView>); 4] = [
            (
                "timeline",
                Box::new(|ui| {
                    timeline_ui(ui, &timeline);
                }),
            ),
            (
                "skew",
                Box::new(|ui| {
                    skew_ui(ui, &skew);
                }),
            ),
            ("decision", {
                let mut view = DecisionView::default();
                let moons = moons.clone();
                Box::new(move |ui| {
                    view.decision_ui(ui, &moons);
                })
            }),
            (
                "layers",
                Box::new(|ui| {
                    layers_ui(ui, &layers);
                }),
            ),
        ];
        for (name, view) in shots {
            let image = raster::render(size, dark, view);
            let path = dir.join(format!("{name}-{theme}.png"));
            image.save(&path).expect("the PNG is written");
        }
    }
}
