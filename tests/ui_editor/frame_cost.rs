//! The cost of one full editor frame on a 200-node, 300-wire graph (ignored by default; run
//! with `cargo test --release --test ui_editor -- --ignored --nocapture frame_cost`).

use flowbook::app::{FlowbookApp, Settings};
use flowbook::graph::{Edge, Graph, NodeId, PortRef};
use std::time::Instant;

/// 100 Map nodes and 100 Merge nodes on a grid; 199 wires chain them and 101 more fan into
/// the Merge nodes (which take many inputs): 300 wires in all.
pub fn big_graph() -> Graph {
    let mut g = Graph::new("bench");
    let mut ids = Vec::new();
    for i in 0..200 {
        let (kind, base) = if i % 2 == 0 {
            ("map", "map")
        } else {
            ("merge", "merge")
        };
        let pos = [(i % 20) as f32 * 260.0, (i / 20) as f32 * 140.0];
        ids.push(g.add_node(kind, base, pos));
    }
    let wire = |a: NodeId, b: NodeId| Edge {
        from: PortRef::new(a, "out"),
        to: PortRef::new(b, "in"),
    };
    for pair in ids.windows(2) {
        if let [a, b] = pair {
            g.edges.push(wire(*a, *b));
        }
    }
    let mut extra = 0;
    'outer: for (j, to) in ids.iter().enumerate().skip(3).step_by(2) {
        for back in [2usize, 3] {
            if extra == 101 {
                break 'outer;
            }
            if let Some(from) = j.checked_sub(back).and_then(|k| ids.get(k)) {
                let e = wire(*from, *to);
                if !g.edges.contains(&e) {
                    g.edges.push(e);
                    extra += 1;
                }
            }
        }
    }
    g
}

#[test]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
fn frame_cost() {
    let graph = big_graph();
    assert_eq!(graph.nodes.len(), 200);
    assert_eq!(graph.edges.len(), 300);
    let ctx = egui::Context::default();
    let mut app = FlowbookApp::new(Settings::default());
    app.set_document(graph, None);
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1600.0, 1000.0));
    let frame = |ctx: &egui::Context, app: &mut FlowbookApp, i: usize| {
        let pointer = egui::pos2(
            400.0 + (i % 50) as f32 * 12.0,
            300.0 + (i % 30) as f32 * 10.0,
        );
        let input = egui::RawInput {
            screen_rect: Some(screen),
            events: vec![egui::Event::PointerMoved(pointer)],
            ..Default::default()
        };
        let mut output = ctx.run_ui(input, |ui| app.ui(ui));
        output.textures_delta.clear();
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        primitives.len()
    };
    for i in 0..10 {
        frame(&ctx, &mut app, i);
    }
    // Whole graph in view (every card and wire drawn, text too small to draw), then 50 % zoom
    // (cards with text, about a third of the graph) and 100 %.
    for (label, zoom) in [("fit", None), ("50%", Some(0.5)), ("100%", Some(1.0))] {
        app.commands.push(flowbook::app::Command::ZoomToFit);
        frame(&ctx, &mut app, 0);
        frame(&ctx, &mut app, 0);
        if let Some(z) = zoom {
            let view = &mut app.canvas.view;
            view.zoom_around(view.rect.center(), z / view.zoom);
        }
        for i in 0..5 {
            frame(&ctx, &mut app, i);
        }
        let frames = 100;
        let start = Instant::now();
        let mut primitives = 0;
        for i in 0..frames {
            primitives += frame(&ctx, &mut app, i);
        }
        let ms_per_frame = start.elapsed().as_secs_f64() * 1000.0 / frames as f64;
        println!(
            "UI frame cost [{label}, zoom {:.2}]: {ms_per_frame:.2} ms/frame over {frames} frames \
             (200 nodes, 300 wires; layout + paint + tessellation; {} primitives/frame)",
            app.canvas.view.zoom,
            primitives / frames
        );
    }
}

#[test]
fn the_big_graph_draws_headless() {
    let mut h = super::support::editor_with(big_graph());
    h.step();
    assert_eq!(h.state().graph().edges.len(), 300);
}
