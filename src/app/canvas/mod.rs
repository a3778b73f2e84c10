//! The canvas widget: draws the graph document directly (cards, typed ports, bezier wires,
//! comment cards) and turns pointer gestures into `Command`s. It owns only view state (pan,
//! zoom, the running gesture); the document is read-only here and selection is the shell's.

mod card_paint;
pub mod cards;
mod comments;
mod context_menu;
mod interact;
pub mod layout;
pub mod live;
mod minimap;
mod paint;
mod scope_bar;
pub mod style;
pub mod view;
mod wire_path;
pub mod wiring;

use crate::app::command::{Command, Selection};
use crate::app::palette::PaletteItem;
use crate::graph::{Graph, GroupId, NodeId, PortRef};
pub use card_paint::GROUP_COLOUR;
pub use cards::{CardId, Layouts};
use egui::{Pos2, Rect, Sense, Ui};
use egui_commonmark::CommonMarkCache;
pub use interact::{Gesture, Hit};
use layout::{NODE_WIDTH, TITLE_HEIGHT};
use std::collections::BTreeSet;
pub use view::CanvasView;

/// View state of the canvas. Not saved in the graph file.
#[derive(Debug, Default)]
pub struct CanvasState {
    pub view: CanvasView,
    pub gesture: Gesture,
    /// Fit the graph into view at the next frame (after a load, or from the View menu).
    pub fit_requested: bool,
    /// What a right-click was on, for the context menu that stays open afterwards.
    context_target: Option<(Hit, Pos2)>,
    next_gesture_id: u64,
    /// The view the last automatic fit chose, with the canvas size it fitted. While the user
    /// leaves that view alone, a resized canvas (window resized, plots opened) fits again.
    auto_fit: Option<AutoFit>,
    /// Where the minimap was drawn last frame (none when hidden).
    pub minimap_rect: Option<Rect>,
    /// The group open for editing; the top level when none.
    pub scope: Option<GroupId>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct AutoFit {
    pan: egui::Vec2,
    zoom: f32,
    size: egui::Vec2,
}

/// The smallest zoom at which a card's text reads well: problems and Ctrl+0 frame at least this.
pub const READABLE_ZOOM: f32 = 1.0;

/// What the canvas needs from the shell for one frame.
pub struct CanvasContext<'a> {
    pub graph: &'a Graph,
    pub problem_nodes: &'a BTreeSet<NodeId>,
    pub selection: &'a mut Selection,
    pub commands: &'a mut Vec<Command>,
    pub markdown: &'a mut CommonMarkCache,
    pub snap_to_grid: bool,
    pub show_minimap: bool,
    /// Whether a clipboard text exists (enables Paste in the context menu).
    pub can_paste: bool,
    /// Node status and wire rates of the current run, if there is one.
    pub live: Option<&'a live::LiveOverlay>,
}

/// What happened on the canvas this frame that the shell handles.
#[derive(Debug, Default)]
pub struct CanvasEvents {
    /// Open the quick-add box here (screen position, canvas position).
    pub quick_add_at: Option<(Pos2, Pos2)>,
    /// A wire the user tried to draw and was refused, with the reason.
    pub refusal: Option<String>,
}

impl CanvasState {
    fn new_gesture_id(&mut self) -> u64 {
        self.next_gesture_id += 1;
        self.next_gesture_id
    }

    /// The cards of the scope shown now.
    pub fn layouts(&self, graph: &Graph) -> Layouts {
        Layouts::of(graph, self.scope)
    }

    /// The screen position of a port (on the card that shows it now), for tests and centring.
    pub fn port_screen_pos(&self, graph: &Graph, port: &PortRef, output: bool) -> Option<Pos2> {
        self.layouts(graph)
            .anchor(port, output)
            .map(|p| self.view.to_screen(p))
    }

    /// The screen rectangle of the card showing a node now (its own, or its group's).
    pub fn node_screen_rect(&self, graph: &Graph, id: NodeId) -> Option<Rect> {
        self.layouts(graph)
            .get(id)
            .map(|c| self.view.rect_to_screen(c.rect))
    }

    /// The screen rectangle of a card.
    pub fn card_screen_rect(&self, graph: &Graph, id: CardId) -> Option<Rect> {
        self.layouts(graph)
            .of_card(id)
            .map(|c| self.view.rect_to_screen(c.rect))
    }

    /// Opens a group for editing (or the top level with `None`) and fits its cards.
    pub fn open_scope(&mut self, scope: Option<GroupId>) {
        if self.scope != scope {
            self.scope = scope;
            self.fit_requested = true;
            self.gesture = Gesture::None;
            self.context_target = None;
        }
    }

    /// Centres a node (opening its group first) at a zoom where its card reads well,
    /// keeping a closer zoom.
    pub fn frame_node(&mut self, graph: &Graph, id: NodeId) {
        let scope = graph.group_of(id).map(|g| g.id);
        if self.scope != scope {
            self.scope = scope;
            self.gesture = Gesture::None;
        }
        self.fit_requested = false;
        if let Some(card) = self.layouts(graph).get(id) {
            if self.view.zoom < READABLE_ZOOM * 0.8 {
                self.view.zoom = READABLE_ZOOM;
            }
            self.view.centre_on(card.rect.center());
        }
    }

    /// Zoom 100 %, centred on the selected cards, else on the whole scope, else where it was.
    pub fn reset_zoom_on(&mut self, graph: &Graph, selection: &Selection) {
        let layouts = self.layouts(graph);
        let selected = layouts
            .cards
            .iter()
            .filter(|(id, _)| selection.contains(*id))
            .map(|(_, c)| c.rect)
            .reduce(|a, b| a.union(b));
        match selected.or_else(|| layouts.bounds()) {
            Some(bounds) => {
                self.view.zoom = 1.0;
                self.view.centre_on(bounds.center());
            }
            None => self.view.reset_zoom(),
        }
    }

    /// Where a card dropped with the pointer at `canvas` should go: centred under the pointer.
    pub fn drop_position(canvas: Pos2, snap: bool) -> [f32; 2] {
        let pos = canvas - egui::vec2(NODE_WIDTH / 2.0, TITLE_HEIGHT / 2.0);
        let pos = if snap { layout::snap(pos) } else { pos };
        [pos.x, pos.y]
    }

    /// Fits the graph when asked to, and again when the canvas changed size while the view
    /// is still the one the last fit chose.
    fn fit_if_due(&mut self, graph: &Graph) {
        let size = self.view.rect.size();
        let untouched = self
            .auto_fit
            .is_some_and(|f| f.pan == self.view.pan && f.zoom == self.view.zoom);
        if !untouched {
            self.auto_fit = None;
        }
        let resized = self
            .auto_fit
            .is_some_and(|f| (f.size - size).length() > 1.0);
        if !(self.fit_requested || resized) {
            return;
        }
        self.fit_requested = false;
        let bounds = self.layouts(graph).bounds();
        let comments = self
            .scope
            .is_none()
            .then(|| comments::bounds(graph))
            .flatten();
        if let Some(bounds) = bounds.into_iter().chain(comments).reduce(|a, b| a.union(b)) {
            self.view.fit(bounds, 40.0);
            self.auto_fit = Some(AutoFit {
                pan: self.view.pan,
                zoom: self.view.zoom,
                size,
            });
        }
    }

    /// Draws the canvas into all of `ui`'s remaining space and handles its input.
    pub fn canvas_ui(&mut self, ui: &mut Ui, mut cx: CanvasContext<'_>) -> CanvasEvents {
        let rect = ui.available_rect_before_wrap();
        self.view.rect = rect;
        self.fit_if_due(cx.graph);
        // A fixed id: a gesture survives panels appearing around the canvas mid-drag.
        let response = ui.interact(
            rect,
            egui::Id::unique("flowbook-canvas"),
            Sense::click_and_drag(),
        );
        ui.advance_cursor_after_rect(rect);
        let painter = ui.painter_at(rect);
        self.scope = cards::valid_scope(cx.graph, self.scope);
        let layouts = self.layouts(cx.graph);
        let mut events = CanvasEvents::default();

        paint::grid(&painter, &self.view, ui.visuals());
        if self.scope.is_none() {
            comments::comments_ui(ui, &self.view, cx.graph, cx.selection, cx.markdown);
        }
        let hover = response
            .hover_pos()
            .map(|p| interact::hit_test(cx.graph, &layouts, &self.view, p));
        let hovered_edge = match &hover {
            Some(Hit::Wire(e)) => Some(e.clone()),
            _ => None,
        };
        let scene = paint::Scene {
            view: &self.view,
            graph: cx.graph,
            layouts: &layouts,
            selection: cx.selection,
            visuals: ui.visuals(),
            live: cx.live,
        };
        let labels = paint::wires(&painter, &scene, hovered_edge.as_ref());
        card_paint::cards(&painter, &scene, cx.problem_nodes);
        paint::wire_labels(&painter, labels, self.view.zoom);
        let hovered_card = match &hover {
            Some(Hit::Node(id)) => Some(CardId::Node(*id)),
            Some(Hit::Group(id)) => Some(CardId::Group(*id)),
            _ => None,
        };
        let tooltip = hovered_card
            .filter(|_| self.gesture == Gesture::None)
            .and_then(|id| card_paint::card_tooltip(&scene, id));
        if cx.graph.nodes.is_empty() && cx.graph.comments.is_empty() {
            paint::empty_hint(&painter, rect, ui.visuals());
        }

        interact::handle_view_input(self, ui, &response);
        interact::handle_pointer(self, ui, &response, &mut cx, &layouts, &mut events);
        interact::paint_gesture(self, ui, &painter, cx.graph, hover.as_ref());
        if let Some(item) = response.dnd_release_payload::<PaletteItem>()
            && let Some(pointer) = response
                .hover_pos()
                .or(ui.input(|i| i.pointer.latest_pos()))
        {
            let pos = Self::drop_position(self.view.to_canvas(pointer), cx.snap_to_grid);
            cx.commands.push(Command::AddNode { kind: item.0, pos });
        }
        self.minimap_rect = if cx.show_minimap {
            minimap::minimap_ui(ui, &mut self.view, &layouts)
        } else {
            None
        };
        if let Some(group) = self.scope {
            scope_bar::scope_bar_ui(ui, rect, cx.graph, group, cx.commands);
        }
        context_menu::context_menu_ui(self, &response, &mut cx, &layouts, &mut events);
        if let Some(text) = tooltip {
            response.on_hover_text_at_pointer(text);
        }
        events
    }
}
