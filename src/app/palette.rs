//! The palette (the node catalogue by category, searchable, dragged onto the canvas) and the
//! quick-add box (double-click or Space/Tab on the canvas). Both only emit `AddNode`
//! commands; the catalogue is read-only here.

use crate::app::canvas::CanvasState;
use crate::app::canvas::style::category_color;
use crate::app::command::Command;
use crate::catalog::{Category, NodeKind, NodeSpec, all_specs};
use egui::{Key, Pos2, RichText, Ui};

/// Drag-and-drop payload: a node kind dragged from the palette.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaletteItem(pub NodeKind);

/// The palette's search text. UI state only.
#[derive(Debug, Default)]
pub struct PaletteState {
    pub search: String,
}

/// The quick-add box, open at a canvas point.
#[derive(Debug)]
pub struct QuickAdd {
    pub screen: Pos2,
    pub canvas: Pos2,
    pub query: String,
    /// Whether the search field got focus yet.
    focused: bool,
}

impl QuickAdd {
    pub fn new(screen: Pos2, canvas: Pos2) -> Self {
        Self {
            screen,
            canvas,
            query: String::new(),
            focused: false,
        }
    }
}

/// Whether a spec matches a search text (title, id, category or summary).
pub fn matches(spec: &NodeSpec, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    q.is_empty()
        || spec.title.to_lowercase().contains(&q)
        || spec.id.contains(&q)
        || spec.category.to_string().to_lowercase().contains(&q)
        || spec.summary.to_lowercase().contains(&q)
}

const CATEGORIES: [Category; 8] = [
    Category::Sources,
    Category::Time,
    Category::Partitioning,
    Category::Transform,
    Category::Windows,
    Category::Learning,
    Category::Layers,
    Category::Sinks,
];

fn doc_tooltip_ui(ui: &mut Ui, spec: &NodeSpec) {
    ui.set_max_width(360.0);
    ui.strong(spec.title);
    ui.label(spec.summary);
    ui.add_space(4.0);
    ui.label(RichText::new(spec.doc).small());
    ui.add_space(4.0);
    ui.label(
        RichText::new("Drag onto the canvas to add.")
            .italics()
            .small(),
    );
}

pub fn palette_ui(ui: &mut Ui, state: &mut PaletteState) {
    ui.add_space(4.0);
    ui.add(
        egui::TextEdit::singleline(&mut state.search)
            .id(egui::Id::unique("flowbook-palette-search"))
            .hint_text("Search nodes")
            .desired_width(f32::INFINITY),
    );
    ui.add_space(4.0);
    egui::ScrollArea::vertical().show(ui, |ui| {
        for category in CATEGORIES {
            let specs: Vec<&NodeSpec> = all_specs()
                .filter(|s| s.category == category && matches(s, &state.search))
                .collect();
            if specs.is_empty() {
                continue;
            }
            let header = RichText::new(category.to_string())
                .color(category_color(category))
                .strong();
            egui::CollapsingHeader::new(header)
                .id_salt(("palette", category as u8))
                .default_open(true)
                .show(ui, |ui| {
                    for spec in specs {
                        let id = egui::Id::unique(("palette-item", spec.id));
                        let response = ui
                            .dnd_drag_source(id, PaletteItem(spec.kind), |ui| {
                                ui.add(
                                    egui::Label::new(spec.title)
                                        .selectable(false)
                                        .sense(egui::Sense::hover()),
                                )
                            })
                            .response;
                        response.on_hover_ui(|ui| doc_tooltip_ui(ui, spec));
                    }
                });
        }
    });
}

/// A small square of a category's colour.
pub fn swatch_ui(ui: &mut Ui, colour: egui::Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    ui.painter().rect_filled(rect, 2.0, colour);
}

/// The quick-add box; returns false when it should close.
pub fn quick_add_ui(
    ctx: &egui::Context,
    quick: &mut QuickAdd,
    snap: bool,
    commands: &mut Vec<Command>,
) -> bool {
    let mut keep_open = true;
    let first_frame = !quick.focused;
    let area = egui::Area::new(egui::Id::unique("quick-add"))
        .fixed_pos(quick.screen)
        .order(egui::Order::Foreground)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.set_width(240.0);
                let edit = ui.add(
                    egui::TextEdit::singleline(&mut quick.query)
                        .id(egui::Id::unique("flowbook-quick-add"))
                        .hint_text("Add node…"),
                );
                if !quick.focused {
                    edit.request_focus();
                    quick.focused = true;
                }
                let found: Vec<&NodeSpec> = all_specs()
                    .filter(|s| matches(s, &quick.query))
                    .take(12)
                    .collect();
                let enter = ui.input(|i| i.key_pressed(Key::Enter));
                let mut chosen = None;
                if enter {
                    chosen = found.first().copied();
                }
                for spec in &found {
                    let text = RichText::new(spec.title).color(ui.visuals().text_color());
                    let row = ui.horizontal(|ui| {
                        swatch_ui(ui, category_color(spec.category));
                        ui.selectable_label(false, text)
                    });
                    if row
                        .inner
                        .on_hover_ui(|ui| doc_tooltip_ui(ui, spec))
                        .clicked()
                    {
                        chosen = Some(spec);
                    }
                }
                if let Some(spec) = chosen {
                    commands.push(Command::AddNode {
                        kind: spec.kind,
                        pos: CanvasState::drop_position(quick.canvas, snap),
                    });
                    keep_open = false;
                }
            });
        });
    if ctx.input(|i| i.key_pressed(Key::Escape)) {
        keep_open = false;
    }
    if !first_frame && area.response.clicked_elsewhere() {
        keep_open = false;
    }
    keep_open
}
