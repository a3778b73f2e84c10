//! A readable canvas: every example opens (at 1600×1000, its notebook beside it) at a zoom
//! where every card's title is drawn whole and at a readable size, and after a run no badge
//! line or wire label is cut short.

use crate::common::serial;
use crate::run::{phase, step_until};
use crate::support::*;
use egui::epaint::Shape;
use egui::{Rect, vec2};
use flowbook::app::canvas::CardId;
use flowbook::app::run::session::RunPhase;
use flowbook::app::{Command, FlowbookApp, Settings};
use std::time::Duration;

/// Text drawn inside `area` last frame: (text, font size in points).
pub fn texts_in(h: &AppHarness, area: Rect) -> Vec<(String, f32)> {
    fn walk(shape: &Shape, area: Rect, out: &mut Vec<(String, f32)>) {
        match shape {
            Shape::Text(text) => {
                let rect = text.visual_bounding_rect();
                if area.intersects(rect) {
                    let size = text
                        .galley
                        .job
                        .sections
                        .first()
                        .map_or(0.0, |s| s.format.font_id.size);
                    out.push((text.galley.text().to_owned(), size));
                }
            }
            Shape::Vec(shapes) => shapes.iter().for_each(|s| walk(s, area, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in &h.output().shapes {
        if clipped.clip_rect.intersects(area) {
            walk(&clipped.shape, area, &mut out);
        }
    }
    out
}

fn big_editor() -> AppHarness {
    let mut h = egui_kittest::Harness::builder()
        .with_size(vec2(1600.0, 1000.0))
        .with_max_steps(64)
        .allow_missing_glyphs()
        .build_eframe(|_cc| FlowbookApp::new(Settings::default()));
    settle(&mut h);
    h
}

/// Card titles as drawn: (title, smallest font it was drawn with).
fn card_titles(h: &AppHarness) -> Vec<(String, bool)> {
    let app = h.state();
    let canvas = app.canvas.view.rect;
    let texts = texts_in(h, canvas);
    app.canvas
        .layouts(app.graph())
        .cards
        .iter()
        .map(|(id, _)| {
            let title = match id {
                CardId::Node(n) => app.graph().display_name(*n),
                CardId::Group(g) => app.graph().group(*g).unwrap().name.clone(),
            };
            let readable = texts.iter().any(|(t, size)| *t == title && *size >= 10.5);
            (title, readable)
        })
        .collect()
}

#[test]
fn every_example_opens_with_every_card_title_drawn_whole_and_readable() {
    let mut h = big_editor();
    for path in crate::common::example_paths() {
        h.state_mut().open_now(&path);
        settle(&mut h);
        let app = h.state();
        assert!(
            app.canvas.view.zoom >= 0.6,
            "{}: opens at {:.0} %, below the zoom where cards show their details",
            path.display(),
            app.canvas.view.zoom * 100.0
        );
        let bounds = app.canvas.layouts(app.graph()).bounds().unwrap();
        assert!(
            app.canvas
                .view
                .rect
                .contains_rect(app.canvas.view.rect_to_screen(bounds)),
            "{}: the whole graph is in view",
            path.display()
        );
        for (title, readable) in card_titles(&h) {
            assert!(readable, "{}: '{title}' is not drawn whole", path.display());
        }
    }
}

#[test]
fn zoomed_far_out_titles_still_draw_at_a_readable_size() {
    let mut h = big_editor();
    h.state_mut()
        .set_document(crate::common::example("moons.ron"), None);
    settle(&mut h);
    // Zoomed out around the middle of the (fitted) graph.
    let view = &mut h.state_mut().canvas.view;
    let factor = 0.3 / view.zoom;
    view.zoom_around(view.rect.center(), factor);
    settle(&mut h);
    assert!((h.state().canvas.view.zoom - 0.3).abs() < 1e-3);
    for (title, readable) in card_titles(&h) {
        assert!(
            readable,
            "at 30 %: '{title}' is not drawn whole at 10.5 pt or more"
        );
    }
}

#[test]
fn after_a_run_no_badge_line_or_wire_label_is_cut_short() {
    let _serial = serial();
    let copies = examples_copy();
    let mut h = big_editor();
    for name in ["moons.ron", "window-stats.ron"] {
        h.state_mut().open_now(&copies.path().join(name));
        settle(&mut h);
        h.state_mut()
            .commands
            .push(Command::Run(flowbook::app::run::RunCommand::Start));
        step_until(&mut h, Duration::from_secs(60), |h| {
            phase(h) == Some(RunPhase::Finished)
        });
        settle(&mut h);
        let app = h.state();
        let texts = texts_in(&h, app.canvas.view.rect);
        let cut: Vec<&String> = texts
            .iter()
            .map(|(t, _)| t)
            .filter(|t| t.contains('…'))
            .collect();
        // Card summaries may be cut (their whole text is in the card's tooltip); badges and
        // wire labels never are.
        let overlay = flowbook::app::run::overlay::live_overlay(
            app.run.session.as_ref().unwrap(),
            app.graph(),
            app.run.flow_view,
        );
        let layouts = app.canvas.layouts(app.graph());
        let mut checked = 0;
        for (id, _) in &layouts.cards {
            let CardId::Node(node) = id else { continue };
            let Some(badge) = overlay.cards.get(node) else {
                continue;
            };
            let first = format!(
                "{} {}{}",
                badge.state.icon(),
                badge.state.word(),
                badge
                    .lines
                    .first()
                    .map(|l| format!(" · {l}"))
                    .unwrap_or_default()
            );
            let drawn = std::iter::once(&first).chain(badge.lines.iter().skip(1));
            for line in drawn {
                assert!(
                    texts.iter().any(|(t, _)| t == line),
                    "{name}: badge line '{line}' is not drawn whole; cut: {cut:?}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 2, "{name}: badges were checked");
        for (label, _) in texts.iter().filter(|(t, _)| t.ends_with("/s")) {
            assert!(!label.contains('…'), "{name}: wire label {label}");
        }

        // Zoomed out to 34 %, a badge is one readable line (state icon and word), not an
        // empty box.
        let states: Vec<String> = layouts
            .cards
            .iter()
            .filter_map(|(id, _)| match id {
                CardId::Node(node) => overlay.cards.get(node),
                CardId::Group(_) => None,
            })
            .map(|b| format!("{} {}", b.state.icon(), b.state.word()))
            .collect();
        let view = &mut h.state_mut().canvas.view;
        let factor = 0.34 / view.zoom;
        view.zoom_around(view.rect.center(), factor);
        settle(&mut h);
        let texts = texts_in(&h, h.state().canvas.view.rect);
        for state in &states {
            let drawn = texts
                .iter()
                .filter(|(t, size)| t == state && *size >= 10.0)
                .count();
            assert!(drawn >= 1, "{name} at 34 %: no readable badge '{state}'");
        }
        let badges = texts.iter().filter(|(t, _)| states.contains(t)).count();
        assert!(
            badges >= states.len(),
            "{name} at 34 %: {badges} badges drawn"
        );
    }
}
