//! UI tests of the live plots (`flowbook::app::plots`): the widget driven headless with
//! egui_kittest, asserting on the settings and responses the caller sees, plus the frame-cost
//! benchmark for four million-point plots (ignored by default).

use egui::accesskit::Toggled;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use flowbook::app::plots::{
    BandPoint, BandSeries, BarSeries, Marker, PlotGrid, PlotResponse, PlotSettings, PlotView,
    PngExport, Series, plot_ui,
};
use std::time::Instant;

/// What one test plot shows and what the widget reported last frame.
struct PlotState {
    series: Vec<Series>,
    earlier: Vec<Series>,
    band: BandSeries,
    bars: BarSeries,
    markers: Vec<Marker>,
    settings: PlotSettings,
    last: Option<PlotResponse>,
    csv_clicks: usize,
    png_clicks: usize,
}

impl PlotState {
    fn with_series(series: Vec<Series>) -> Self {
        Self {
            series,
            earlier: Vec::new(),
            band: BandSeries::default(),
            bars: BarSeries {
                name: "count".into(),
                bars: Vec::new(),
                width: 1.0,
            },
            markers: Vec::new(),
            settings: PlotSettings::default(),
            last: None,
            csv_clicks: 0,
            png_clicks: 0,
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui) {
        let mut view = PlotView::new("Training loss")
            .x_label("step")
            .y_label("loss")
            .markers(&self.markers)
            .band(&self.band)
            .bars(&self.bars);
        for s in &self.series {
            view = view.series(s);
        }
        if !self.earlier.is_empty() {
            view = view.overlay("run 2", self.earlier.iter().collect());
        }
        let response = plot_ui(ui, "loss", &view, &mut self.settings);
        self.csv_clicks += usize::from(response.export_csv);
        self.png_clicks += usize::from(response.save_png);
        self.last = Some(response);
    }
}

fn harness(state: PlotState) -> Harness<'static, PlotState> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .build_ui_state(|ui, state: &mut PlotState| state.ui(ui), state);
    h.run();
    h
}

fn loss_curve(name: &str, n: usize, seed: u64) -> Series {
    let mut rng = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut s = Series::new(name);
    for i in 0..n {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let noise = (rng >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        let spike = if i % 50_000 == 7 { 3.0 } else { 0.0 };
        let y = 2.0 * (-(i as f64) / (n as f64 / 5.0)).exp() + 0.2 * noise + 0.05 + spike;
        s.push(i as f64, y).expect("x grows");
    }
    s
}

#[test]
fn clicking_log_y_turns_the_log_axis_on_and_off() {
    let mut h = harness(PlotState::with_series(vec![loss_curve("loss", 1_000, 1)]));
    assert!(!h.state().settings.log_y);
    h.get_by_label("Log y").click();
    h.run();
    assert!(h.state().settings.log_y);
    assert!(
        h.state()
            .last
            .as_ref()
            .is_some_and(|r| r.settings_changed || h.state().settings.log_y)
    );
    h.get_by_label("Log y").click();
    h.run();
    assert!(!h.state().settings.log_y);
}

#[test]
fn show_raw_checkbox_is_disabled_without_smoothing() {
    let mut state = PlotState::with_series(vec![loss_curve("loss", 100, 2)]);
    state.settings.smoothing = 0.0;
    let mut h = harness(state);
    h.get_by_label("Show raw").click();
    h.run();
    assert!(
        h.state().settings.show_raw,
        "a disabled checkbox does not toggle"
    );
    h.state_mut().settings.smoothing = 0.9;
    h.run();
    h.get_by_label("Show raw").click();
    h.run();
    assert!(!h.state().settings.show_raw);
}

#[test]
fn export_buttons_return_requests_to_the_caller() {
    let mut h = harness(PlotState::with_series(vec![loss_curve("loss", 10, 3)]));
    assert_eq!((h.state().csv_clicks, h.state().png_clicks), (0, 0));
    h.get_by_label("Export CSV").click();
    h.run();
    assert_eq!((h.state().csv_clicks, h.state().png_clicks), (1, 0));
    h.get_by_label("Save PNG").click();
    h.run();
    assert_eq!((h.state().csv_clicks, h.state().png_clicks), (1, 1));
    let last = h.state().last.clone().expect("a frame ran");
    assert!(last.rect.contains_rect(last.plot_rect));
    assert!(
        last.plot_rect.height() > 300.0,
        "the plot fills the space under the toolbar"
    );
}

#[test]
fn the_legend_lists_series_and_toggles_them_by_click() {
    let mut state = PlotState::with_series(vec![
        loss_curve("loss", 500, 4),
        loss_curve("val loss", 500, 5),
    ]);
    state.earlier = vec![loss_curve("loss", 500, 6)];
    let mut h = harness(state);
    let toggled =
        |h: &Harness<'_, PlotState>, label: &str| h.get_by_label(label).accesskit_node().toggled();
    assert_eq!(toggled(&h, "loss"), Some(Toggled::True));
    assert_eq!(toggled(&h, "val loss"), Some(Toggled::True));
    assert_eq!(
        toggled(&h, "run 2 · loss"),
        Some(Toggled::True),
        "earlier runs carry their label"
    );
    h.get_by_label("val loss").click();
    h.run();
    assert_eq!(toggled(&h, "val loss"), Some(Toggled::False));
    assert_eq!(toggled(&h, "loss"), Some(Toggled::True));
}

#[test]
fn awkward_data_draws_without_panicking() {
    let nan = Series::from_ys("all nan", &[f64::NAN; 100]);
    let one = Series::from_ys("one point", &[1.0]);
    let mixed = Series::from_ys(
        "mixed",
        &[1.0, f64::NAN, -3.0, 0.0, f64::INFINITY, 1e300, 2.0],
    );
    let same_x =
        Series::from_points("same x", &[[5.0, 1.0], [5.0, 2.0], [5.0, -1.0]]).expect("sorted");
    let empty = Series::new("empty");
    for log_y in [false, true] {
        for smoothing in [0.0, 0.6] {
            let mut state = PlotState::with_series(vec![
                empty.clone(),
                nan.clone(),
                one.clone(),
                mixed.clone(),
                same_x.clone(),
            ]);
            state.settings.log_y = log_y;
            state.settings.smoothing = smoothing;
            state.markers = vec![
                Marker::new(2.0, "lr 0.1 -> 0.5"),
                Marker::new(f64::NAN, "bad"),
            ];
            state.band.points = vec![BandPoint {
                x: 1.0,
                min: -1.0,
                mean: 0.5,
                max: 2.0,
            }];
            state.bars.bars = vec![[1.0, 0.0], [2.0, 5.0], [f64::NAN, 1.0]];
            let mut h = harness(state);
            h.hover_at(egui::pos2(450.0, 300.0));
            h.run();
            assert!(h.state().last.is_some());
        }
    }
    // Nothing at all.
    let mut h = harness(PlotState::with_series(Vec::new()));
    h.run();
}

#[test]
fn hovering_reports_data_coordinates_in_data_units_on_a_log_axis() {
    let mut state =
        PlotState::with_series(vec![Series::from_ys("up", &[1.0, 10.0, 100.0, 1000.0])]);
    state.settings.smoothing = 0.0;
    state.settings.log_y = true;
    let mut h = harness(state);
    let rect = h.state().last.as_ref().expect("drawn").plot_rect;
    h.hover_at(rect.center());
    h.run();
    let [x, y] = h
        .state()
        .last
        .as_ref()
        .and_then(|r| r.hovered)
        .expect("pointer over the plot");
    // The curve spans x 0..3 and y 10^0..10^3, so the middle is near x 1.5 and y ~10^1.5.
    assert!((0.0..3.0).contains(&x), "x = {x}");
    assert!(
        (1.0..1000.0).contains(&y),
        "y = {y} is in data units, not log10"
    );
}

#[test]
fn the_grid_gives_every_plot_a_cell() {
    let series: Vec<Series> = (0..5)
        .map(|i| loss_curve(&format!("s{i}"), 200, i))
        .collect();
    let mut settings: Vec<PlotSettings> = vec![PlotSettings::default(); 5];
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            move |ui, drawn: &mut Vec<egui::Rect>| {
                drawn.clear();
                PlotGrid::default().show(ui, series.len(), |ui, i| {
                    let (Some(s), Some(settings)) = (series.get(i), settings.get_mut(i)) else {
                        return;
                    };
                    let view = PlotView::new(s.name()).series(s);
                    drawn.push(plot_ui(ui, s.name(), &view, settings).rect);
                });
            },
            Vec::new(),
        );
    h.run();
    let rects = h.state();
    assert_eq!(rects.len(), 5);
    for (i, a) in rects.iter().enumerate() {
        for b in rects.iter().skip(i + 1) {
            assert!(
                !a.shrink(1.0).intersects(b.shrink(1.0)),
                "cells overlap: {a:?} {b:?}"
            );
        }
    }
}

#[test]
fn save_png_crops_the_screenshot_to_the_plot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plot.png");
    let rect = egui::Rect::from_min_size(egui::pos2(10.0, 20.0), egui::vec2(30.0, 15.0));
    let mut export = PngExport::default();
    export.request(rect, &path);
    let ctx = egui::Context::default();
    // Frame 1: the request goes out as a viewport command with a callback.
    let mut answer = None;
    let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
        answer = export.poll(ui.ctx())
    });
    output.textures_delta.clear();
    assert!(answer.is_none() && export.is_pending());
    let callbacks: Vec<egui::ScreenshotCallback> = output
        .viewport_output
        .values()
        .flat_map(|v| v.commands.iter())
        .filter_map(|c| match c {
            egui::ViewportCommand::Screenshot(cb) => Some(cb.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(callbacks.len(), 1, "one screenshot asked for");
    // The integration answers with a 100x60 grey screenshot at 1 pixel per point.
    let image = egui::ColorImage::new([100, 60], vec![egui::Color32::from_gray(90); 6000]);
    for cb in callbacks {
        cb.complete(std::sync::Arc::new(image.clone()));
    }
    // Frame 2: the image is cropped and written.
    ctx.run_ui(egui::RawInput::default(), |ui| {
        answer = export.poll(ui.ctx())
    })
    .textures_delta
    .clear();
    let saved = answer.expect("finished").expect("saved");
    assert_eq!(saved, path);
    assert!(!export.is_pending());
    let bytes = std::fs::read(&path).expect("file written");
    assert_eq!(bytes.get(1..4), Some(&b"PNG"[..]));
    // IHDR width and height, big-endian at bytes 16..24.
    assert_eq!(bytes.get(16..24), Some(&[0, 0, 0, 30, 0, 0, 0, 15][..]));
}

#[test]
fn save_png_gives_up_when_no_screenshot_comes() {
    let mut export = PngExport::default();
    export.request(
        egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(10.0, 10.0)),
        "never.png",
    );
    let ctx = egui::Context::default();
    let mut result = None;
    for _ in 0..200 {
        ctx.run_ui(egui::RawInput::default(), |ui| {
            if let Some(r) = export.poll(ui.ctx()) {
                result = Some(r);
            }
        })
        .textures_delta
        .clear();
        if result.is_some() {
            break;
        }
    }
    let err = result.expect("gave up").expect_err("no file");
    assert!(err.contains("no screenshot"), "{err}");
    assert!(!std::path::Path::new("never.png").exists());
}

/// Four plots of a million noisy loss points each, with TensorBoard smoothing (raw + smoothed
/// lines), in a 1400x900 window; the pointer moves over them so hover labels are computed.
#[test]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
fn plot_frame_cost() {
    const POINTS: usize = 1_000_000;
    let started = Instant::now();
    let series: Vec<Series> = (0..4)
        .map(|i| loss_curve(&format!("loss {i}"), POINTS, i))
        .collect();
    println!(
        "built 4 x {POINTS} points in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut settings: Vec<PlotSettings> = vec![PlotSettings::default(); 4];
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_max_steps(1000)
        .build_ui(move |ui| {
            PlotGrid::default().show(ui, series.len(), |ui, i| {
                let (Some(s), Some(settings)) = (series.get(i), settings.get_mut(i)) else {
                    return;
                };
                let view = PlotView::new(s.name()).x_label("step").series(s);
                plot_ui(ui, s.name(), &view, settings);
            });
        });
    // Building the harness already ran one frame, which smoothed all 4 x 1e6 points.
    let first = Instant::now();
    h.step();
    println!(
        "second frame (caches filled by the harness's first): {:.1} ms",
        first.elapsed().as_secs_f64() * 1e3
    );
    for _ in 0..10 {
        h.step();
    }
    let frames = 60;
    let start = Instant::now();
    for i in 0..frames {
        let pos = egui::pos2(100.0 + (i * 20 % 1200) as f32, 150.0 + (i * 7 % 600) as f32);
        h.hover_at(pos);
        h.step();
    }
    let ms_per_frame = start.elapsed().as_secs_f64() * 1e3 / frames as f64;
    println!(
        "plot frame cost: {ms_per_frame:.2} ms/frame over {frames} frames \
         (4 plots x {POINTS} points, raw + smoothed, 1400x900, layout + tessellation)"
    );
}
