//! The notebook as one self-contained HTML page: markdown rendered, plots as embedded PNG
//! images, tables as HTML tables, inline CSS. It opens in any browser, offline, and can be
//! mailed as a single file.

use super::chart::{ChartSpec, render_chart_png};
use super::pins::{cell_title, default_cells};
use super::results::{CellOutput, NotebookResults, Table};
use crate::graph::{Cell, Graph};
use base64::Engine;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};

/// What a report is made of.
pub struct ReportInput<'a> {
    pub graph: &'a Graph,
    pub results: &'a NotebookResults,
    /// Where the graph came from (a file name), shown under the title.
    pub source: &'a str,
}

/// Chart size in the page (CSS pixels); drawn at this size.
const CHART_SIZE: (u32, u32) = (760, 300);

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Ubuntu, sans-serif; max-width: 820px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }
h1 { margin-bottom: 0.1em; }
.meta { color: #666; margin-top: 0; }
.cell { border-top: 1px solid #ddd; padding: 0.6em 0 0.8em; }
.cell h3 { font-size: 1em; color: #555; margin: 0.2em 0 0.5em; }
.empty { color: #888; font-style: italic; }
table { border-collapse: collapse; font-size: 0.9em; }
.table-wrap { overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; white-space: nowrap; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; }
code { background: #f3f3f3; padding: 0 0.25em; border-radius: 3px; }
details { margin: 1em 0; }
";

/// Renders the report page. Fails only if a chart cannot be drawn.
pub fn render_report(input: &ReportInput) -> Result<String, String> {
    let graph = input.graph;
    let title = if graph.name.is_empty() {
        input.source
    } else {
        graph.name.as_str()
    };
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // The page runs nothing and loads nothing but its own embedded images.
    page.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         img-src data:; style-src 'unsafe-inline'\">\n",
    );
    page.push_str(&format!("<title>{}</title>\n", escape(title)));
    page.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    page.push_str(&format!("<h1>{}</h1>\n", escape(title)));
    let run = match &input.results.run {
        Some(run) => format!(
            "run {} after {:.2} s, {}",
            escape(&run.outcome),
            run.seconds,
            escape(&run.taken_at)
        ),
        None => "not run yet".to_string(),
    };
    page.push_str(&format!(
        "<p class=\"meta\">Flowbook report of <code>{}</code> · {run}</p>\n",
        escape(input.source)
    ));
    let cells = if graph.notebook.is_empty() {
        default_cells(graph)
    } else {
        graph.notebook.clone()
    };
    for cell in &cells {
        page.push_str("<section class=\"cell\">\n");
        if let Cell::Markdown { text } = cell {
            page.push_str(&markdown_html(text));
        } else {
            let heading = cell_title(cell, graph);
            page.push_str(&format!("<h3>{}</h3>\n", escape(&heading)));
            match input.results.output(cell) {
                Some(CellOutput::Plot { x_label, series }) => {
                    let png = render_chart_png(&ChartSpec {
                        // The cell's heading is above the image already.
                        title: "",
                        x_label,
                        series,
                        width: CHART_SIZE.0,
                        height: CHART_SIZE.1,
                    })?;
                    page.push_str(&format!(
                        "<img alt=\"{}\" width=\"{}\" height=\"{}\" src=\"data:image/png;base64,{}\">\n",
                        escape(&heading),
                        CHART_SIZE.0,
                        CHART_SIZE.1,
                        base64::engine::general_purpose::STANDARD.encode(png)
                    ));
                }
                Some(CellOutput::Table(table)) => page.push_str(&table_html(table)),
                None => page.push_str("<p class=\"empty\">No output in the last run.</p>\n"),
            }
        }
        page.push_str("</section>\n");
    }
    page.push_str(&graph_details(graph));
    page.push_str("</body>\n</html>\n");
    Ok(page)
}

/// Markdown to HTML. Raw HTML in the text is shown as text and links go only to web, mail or
/// relative addresses: a report never runs markup or scripts that came in with a graph file.
pub fn markdown_html(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(text, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            // Only embedded images: the page must not fetch anything when opened.
            dest_url: if dest_url.starts_with("data:image/") {
                dest_url
            } else {
                CowStr::Borrowed("")
            },
            title,
            id,
        }),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// `url` if it is a web, mail, in-page or relative address; else nothing (`javascript:` …).
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim_start().to_ascii_lowercase();
    let scheme = lower
        .find(':')
        .filter(|&colon| !lower[..colon].contains(['/', '?', '#']))
        .map(|colon| &lower[..colon]);
    match scheme {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed(""),
    }
}

fn table_html(table: &Table) -> String {
    let mut html = String::from("<div class=\"table-wrap\"><table>\n<tr>");
    for h in &table.headers {
        html.push_str(&format!("<th>{}</th>", escape(h)));
    }
    html.push_str("</tr>\n");
    for row in &table.rows {
        html.push_str("<tr>");
        for cell in row {
            let numeric = !cell.is_empty() && cell.parse::<f64>().is_ok();
            let class = if numeric { " class=\"num\"" } else { "" };
            html.push_str(&format!("<td{class}>{}</td>", escape(cell)));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table></div>\n");
    html
}

/// The nodes and their parameters, folded away at the end: enough to rebuild the run.
fn graph_details(graph: &Graph) -> String {
    let mut table = Table {
        headers: ["node", "kind", "parameters"].map(String::from).to_vec(),
        rows: Vec::new(),
    };
    for node in &graph.nodes {
        let params: Vec<String> = node
            .params
            .iter()
            .map(|(name, value)| format!("{name} = {value}"))
            .collect();
        table.rows.push(vec![
            node.name.clone(),
            node.kind.clone(),
            params.join(", "),
        ]);
    }
    format!(
        "<details>\n<summary>The graph: {} nodes, {} wires</summary>\n{}</details>\n",
        graph.nodes.len(),
        graph.edges.len(),
        table_html(&table)
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notebook::results::{CellResult, RunInfo, SeriesData};

    #[test]
    fn markdown_renders_and_raw_html_is_shown_as_text() {
        let html = markdown_html("## Moons\n\n**Try** `lr`\n\n<script>alert(1)</script>");
        assert!(html.contains("<h2>Moons</h2>"), "{html}");
        assert!(
            html.contains("<strong>Try</strong> <code>lr</code>"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        let links = markdown_html(
            "[a](javascript:alert(1)) <JavaScript:alert(2)> [b](https://flink.apache.org) \
             [c](docs/nodes.md) [d](#top) ![e](https://tracker.example/x.png) [f](data:text/html,x)",
        );
        assert!(
            !links.to_lowercase().contains("href=\"javascript"),
            "{links}"
        );
        assert_eq!(links.matches("href=\"\"").count(), 3, "{links}");
        assert!(!links.contains("tracker.example"), "{links}");
        assert!(!links.contains("data:text"), "{links}");
        for kept in ["https://flink.apache.org", "docs/nodes.md", "#top"] {
            assert!(
                links.contains(&format!("href=\"{kept}\"")),
                "{kept}: {links}"
            );
        }
    }

    #[test]
    fn a_report_has_text_plots_and_tables_in_cell_order() {
        let mut graph = Graph::new("Moons <demo>");
        let trainer = graph.add_node("trainer", "trainer", [0.0, 0.0]);
        let plot = Cell::Plot {
            node: trainer,
            plot: "loss".into(),
        };
        graph.notebook = vec![
            Cell::Markdown {
                text: "Intro *text*".into(),
            },
            plot.clone(),
            Cell::WindowStats { node: trainer },
            Cell::RunSummary,
        ];
        let results = NotebookResults {
            version: 1,
            run: Some(RunInfo {
                outcome: "finished".into(),
                seconds: 2.5,
                taken_at: "2026-11-26T13:00:00Z".into(),
            }),
            outputs: vec![
                CellResult {
                    cell: plot,
                    output: CellOutput::Plot {
                        x_label: "step".into(),
                        series: vec![SeriesData::thinned("loss", &[[0.0, 1.0], [9.0, 0.1]])],
                    },
                },
                CellResult {
                    cell: Cell::RunSummary,
                    output: CellOutput::Table(Table {
                        headers: vec!["node".into(), "records out".into()],
                        rows: vec![vec!["trainer".into(), "42".into()]],
                    }),
                },
            ],
        };
        let page = render_report(&ReportInput {
            graph: &graph,
            results: &results,
            source: "moons.ron",
        })
        .unwrap();
        assert!(page.contains("<title>Moons &lt;demo&gt;</title>"));
        assert!(page.contains("run finished after 2.50 s"));
        let intro = page.find("<em>text</em>").unwrap();
        let image = page.find("src=\"data:image/png;base64,iVBOR").unwrap();
        let empty = page.find("No output in the last run.").unwrap();
        let summary = page
            .find("<td>trainer</td><td class=\"num\">42</td>")
            .unwrap();
        assert!(intro < image && image < empty && empty < summary);
    }
}
