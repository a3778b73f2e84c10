//! Generated documents. `flowbook report` runs a graph headless and writes its notebook as one
//! HTML page with rendered markdown, PNG plots and tables (a failed run still gets a report);
//! the README's node table and docs/nodes.md are exactly what `flowbook nodes` prints.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use common::{faulty, flowbook, set, stderr, stdout};
use flowbook::graph::{ParamValue, to_ron_string};

/// The PNG images embedded in a page, decoded.
fn images(page: &str) -> Vec<tiny_skia::Pixmap> {
    page.split("src=\"data:image/png;base64,")
        .skip(1)
        .map(|rest| {
            let data = &rest[..rest.find('"').unwrap()];
            let png = base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap();
            tiny_skia::Pixmap::decode_png(&png).unwrap()
        })
        .collect()
}

#[test]
fn the_digits_report_has_its_story_plots_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    let run = flowbook(&[
        "report",
        "example-graphs/digits-mlp.ron",
        "-o",
        out.to_str().unwrap(),
        "--set",
        "trainer.epochs=3",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout(&run).contains("report: "), "{}", stdout(&run));
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        page.contains("<h2>Handwritten digits</h2>"),
        "markdown rendered"
    );
    let pictures = images(&page);
    assert_eq!(pictures.len(), 2, "loss and accuracy plots");
    assert!(
        pictures
            .iter()
            .all(|p| (p.width(), p.height()) == (760, 300))
    );
    assert!(
        page.contains("<td>trainer</td><td>finished</td>"),
        "run summary table"
    );
    assert!(page.contains("epoch 3"), "final metrics of the 3-epoch run");
    assert!(!page.contains("No output in the last run."));
    assert!(page.contains("run finished after"));
}

#[test]
fn a_graph_without_cells_reports_its_windows_and_a_failed_run_still_gets_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut graph = faulty("error", 1);
    graph.notebook.clear();
    set(&mut graph, "source", "count", ParamValue::Int(20_000));
    let file = dir.path().join("faulty.ron");
    std::fs::write(&file, to_ron_string(&graph).unwrap()).unwrap();
    let out = dir.path().join("faulty.html");
    let run = flowbook(&[
        "report",
        file.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("node 'fault' failed"),
        "{}",
        stderr(&run)
    );
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(
        page.contains("run failed at node &#39;fault&#39;"),
        "outcome in the header"
    );
    assert!(
        page.contains("<h3>window — windows</h3>"),
        "a default window cell"
    );
    assert!(
        page.contains("<th>key</th><th>start"),
        "windows that fired before the fault"
    );
    assert!(page.contains("<td>fault</td><td>failed</td>"), "{page}");
}

#[test]
fn the_readme_node_table_and_docs_nodes_md_are_the_catalogue_as_printed() {
    let table = flowbook(&["nodes", "--table"]);
    assert!(table.status.success());
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let begin = "<!-- begin: flowbook nodes --table -->\n";
    let start = readme.find(begin).expect("README has the generated table") + begin.len();
    let end = readme.find("<!-- end: flowbook nodes --table -->").unwrap();
    assert_eq!(
        &readme[start..end],
        stdout(&table),
        "README is stale: paste `flowbook nodes --table` between its markers"
    );
    let markdown = flowbook(&["nodes", "--markdown"]);
    let docs = std::fs::read_to_string(common::root().join("docs/nodes.md")).unwrap();
    assert_eq!(
        docs,
        stdout(&markdown),
        "docs/nodes.md is stale: flowbook nodes --markdown > docs/nodes.md"
    );
}
