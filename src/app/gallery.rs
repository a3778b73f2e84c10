//! The examples gallery: every graph in `example-graphs/` as a card with a thumbnail of its
//! wiring, a title and a two-line description. Shown as the welcome screen on first launch
//! and from File → Examples; one click opens a copy (an untitled graph, so the example file
//! itself stays as shipped).

use crate::app::canvas::Layouts;
use crate::app::canvas::style::category_color;
use crate::app::command::Command;
use crate::app::files::example_graphs;
use crate::graph::Graph;
use egui::text::{LayoutJob, TextWrapping};
use egui::{Color32, Rect, RichText, Sense, Stroke, Ui, vec2};
use std::path::PathBuf;

const CARD_WIDTH: f32 = 250.0;
const THUMB_HEIGHT: f32 = 110.0;

/// One example, loaded once when the gallery opens.
pub struct Example {
    pub path: PathBuf,
    pub title: String,
    pub description: String,
    graph: Graph,
}

/// The open gallery window.
pub struct GalleryState {
    pub examples: Vec<Example>,
    /// Files that did not load (shown, so a broken example is noticed).
    pub broken: Vec<String>,
    /// Opened as the first-launch welcome (shows the "empty graph" choice and the greeting).
    pub welcome: bool,
}

impl GalleryState {
    pub fn load(welcome: bool) -> Self {
        let mut examples = Vec::new();
        let mut broken = Vec::new();
        for path in example_graphs() {
            match crate::graph::load(&path) {
                Ok(graph) => examples.push(Example {
                    title: title_of(&graph, &path),
                    description: description_of(&graph),
                    path,
                    graph,
                }),
                Err(e) => broken.push(e.to_string()),
            }
        }
        Self {
            examples,
            broken,
            welcome,
        }
    }
}

fn title_of(graph: &Graph, path: &std::path::Path) -> String {
    if graph.name.is_empty() {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        graph.name.clone()
    }
}

/// The first paragraph of the graph's notes as plain text (markdown marks dropped).
pub fn description_of(graph: &Graph) -> String {
    let first = graph.notes.split("\n\n").next().unwrap_or_default();
    first
        .replace(['`', '*'], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Shows the gallery window; returns false when it was closed.
pub fn gallery_window(
    ctx: &egui::Context,
    state: &GalleryState,
    commands: &mut Vec<Command>,
) -> bool {
    let mut open = true;
    let mut chosen = false;
    let title = if state.welcome {
        "Welcome to Flowbook"
    } else {
        "Examples"
    };
    egui::Window::new(title)
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, vec2(0.0, 0.0))
        .show(ctx, |ui| {
            if state.welcome {
                ui.label(
                    "Flowbook runs dataflow graphs: streams through Flink-exact windows, and \
                     neural networks trained on the stream, with live plots.",
                );
            }
            ui.label(RichText::new("Start from an example: one click opens a copy.").strong());
            ui.add_space(4.0);
            // As many columns as the window has room for (at 1600 pt, five: all of today's
            // examples show without scrolling); when some are still below, say so.
            let columns = gallery_columns(ctx.content_rect().width());
            let most = ctx.content_rect().height() * 0.7;
            let scroll = egui::ScrollArea::vertical()
                .max_height(most)
                // A window sizes to its content only up to its default height: ask for it all.
                .min_scrolled_height(most)
                .show(ui, |ui| {
                    egui::Grid::new("gallery_grid")
                        .spacing(vec2(10.0, 10.0))
                        .show(ui, |ui| {
                            for (i, example) in state.examples.iter().enumerate() {
                                if example_card_ui(ui, example) {
                                    commands.push(Command::OpenExampleCopy(example.path.clone()));
                                    chosen = true;
                                }
                                if i % columns == columns - 1 {
                                    ui.end_row();
                                }
                            }
                        });
                });
            let below = scroll.content_size.y
                - scroll.state.clamped_offset().y
                - scroll.inner_rect.height();
            if below > 4.0 {
                ui.label(
                    RichText::new(format!(
                        "{} examples in all: scroll down for more",
                        state.examples.len()
                    ))
                    .weak(),
                );
            }
            for problem in &state.broken {
                ui.colored_label(ui.visuals().error_fg_color, problem);
            }
            if state.examples.is_empty() {
                ui.label("No example-graphs folder found.");
            }
            if state.welcome {
                ui.separator();
                if ui.button("Start with an empty graph").clicked() {
                    chosen = true;
                }
            }
        });
    open && !chosen
}

/// Cards per row for a window `width` points wide (the gallery takes up to ~90 % of it).
fn gallery_columns(width: f32) -> usize {
    let card = CARD_WIDTH + 2.0 * 6.0 + 10.0;
    ((width * 0.9 / card).floor() as usize).clamp(1, 5)
}

/// One card; returns whether it was clicked.
fn example_card_ui(ui: &mut Ui, example: &Example) -> bool {
    let frame = egui::Frame::group(ui.style()).inner_margin(6.0);
    let response = frame
        .show(ui, |ui| {
            ui.vertical(|ui| {
                ui.set_width(CARD_WIDTH);
                let (rect, _) =
                    ui.allocate_exact_size(vec2(CARD_WIDTH, THUMB_HEIGHT), Sense::hover());
                paint_thumbnail(ui, rect, &example.graph);
                // Not selectable: a click anywhere on the card opens the example.
                ui.add(egui::Label::new(RichText::new(&example.title).strong()).selectable(false));
                let mut job = LayoutJob::simple(
                    example.description.clone(),
                    egui::TextStyle::Small.resolve(ui.style()),
                    ui.visuals().weak_text_color(),
                    CARD_WIDTH,
                );
                job.wrap = TextWrapping {
                    max_width: CARD_WIDTH,
                    max_rows: 2,
                    break_anywhere: false,
                    overflow_character: Some('…'),
                };
                ui.add(egui::Label::new(job).selectable(false));
            })
        })
        .response
        .interact(Sense::click())
        .on_hover_cursor(egui::CursorIcon::PointingHand)
        .on_hover_text(&example.description);
    let clicked = response.clicked();
    if response.hovered() {
        ui.painter().rect_stroke(
            response.rect,
            4.0,
            Stroke::new(1.5, ui.visuals().selection.bg_fill),
            egui::StrokeKind::Outside,
        );
    }
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &example.title));
    clicked
}

/// The graph's cards and wires, scaled to fit `rect`: the shape of the pipeline at a glance.
fn paint_thumbnail(ui: &Ui, rect: Rect, graph: &Graph) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    // The top level, as the canvas opens it: a group is one card.
    let layouts = Layouts::of(graph, None);
    let Some(bounds) = layouts.bounds() else {
        return;
    };
    let inner = rect.shrink(8.0);
    let scale = (inner.width() / bounds.width())
        .min(inner.height() / bounds.height())
        .min(0.5);
    let offset = inner.center() - bounds.center() * scale;
    let to_screen = |p: egui::Pos2| (p.to_vec2() * scale + offset).to_pos2();
    let wire = Stroke::new(1.0, ui.visuals().weak_text_color());
    for edge in &graph.edges {
        if let (Some(a), Some(b)) = (
            layouts.anchor(&edge.from, true),
            layouts.anchor(&edge.to, false),
        ) {
            painter.line_segment([to_screen(a), to_screen(b)], wire);
        }
    }
    for (_, card) in &layouts.cards {
        let r = Rect::from_min_max(to_screen(card.rect.min), to_screen(card.rect.max));
        let colour = match (card.group, card.spec) {
            (Some(_), _) => crate::app::canvas::GROUP_COLOUR,
            (None, Some(s)) => category_color(s.category),
            (None, None) => Color32::GRAY,
        };
        painter.rect_filled(r, 2.0, ui.visuals().widgets.noninteractive.bg_fill);
        let strip = Rect::from_min_size(r.min, vec2(r.width(), (r.height() * 0.3).max(2.0)));
        painter.rect_filled(strip, 2.0, colour);
        painter.rect_stroke(r, 2.0, Stroke::new(0.5, colour), egui::StrokeKind::Inside);
    }
}
