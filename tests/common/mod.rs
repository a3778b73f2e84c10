//! Shared helpers for integration tests: running the CLI binary, comparing CSV outputs, loading
//! the example graphs, and counting executor threads (tests that count them run one at a time).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `flowbook` with arguments from the crate root.
pub fn flowbook(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flowbook"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the flowbook binary runs")
}

/// Runs the binary confined to one CPU (`taskset -c N`, N the first CPU this process may use:
/// a container need not have CPU 0), as on a one-core machine: the executor sees one core and
/// lays the graph out for it.
#[allow(dead_code)]
pub fn flowbook_on_one_core(args: &[&str]) -> Output {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let cpu: String = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap_or("0")
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    std::process::Command::new("taskset")
        .args(["-c", &cpu, env!("CARGO_BIN_EXE_flowbook")])
        .args(args)
        .current_dir(root())
        .output()
        .expect("taskset (util-linux) runs the flowbook binary")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A CSV file as rows of text fields, header dropped, sorted (outputs are multisets).
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut rows: Vec<Vec<String>> = text
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    rows.sort();
    rows
}

fn close(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-9),
        _ => a == b,
    }
}

/// Orders rows field by field, numbers numerically, so equal data sorts equally on both sides.
fn row_order(a: &[String], b: &[String]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(p), Ok(q)) => p.partial_cmp(&q).unwrap_or(std::cmp::Ordering::Equal),
            _ => x.cmp(y),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Compares two CSV outputs as multisets of rows, numbers within 1e-9 relative.
pub fn assert_same_rows(expected: &Path, got: &Path) {
    let mut e = csv_rows(expected);
    let mut g = csv_rows(got);
    e.sort_by(|a, b| row_order(a, b));
    g.sort_by(|a, b| row_order(a, b));
    assert_eq!(
        e.len(),
        g.len(),
        "row count of {} vs {}",
        got.display(),
        expected.display()
    );
    for (a, b) in e.iter().zip(&g) {
        assert!(
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| close(x, y)),
            "{}: expected {a:?}, got {b:?}",
            got.display()
        );
    }
}

/// A graph from `example-graphs/`.
pub fn example(name: &str) -> flowbook::graph::Graph {
    flowbook::graph::load(&root().join("example-graphs").join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every graph file in `example-graphs/`, sorted by name.
pub fn example_paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("example-graphs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    paths.sort();
    paths
}

/// Executor threads alive in this process (they are all named `fb-…`).
pub fn executor_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("fb-"))
        .count()
}

/// Tests of one binary that start runs take turns: some of them count threads.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn set(
    g: &mut flowbook::graph::Graph,
    node: &str,
    param: &str,
    value: flowbook::graph::ParamValue,
) {
    g.set_param(node, param, value).unwrap();
}

/// The benchmark graph with a fault injector between watermark and partition.
pub fn faulty(mode: &str, parallelism: i64) -> flowbook::graph::Graph {
    let mut g = example("bench-window.ron");
    set(
        &mut g,
        "source",
        "count",
        flowbook::graph::ParamValue::Int(200_000),
    );
    set(
        &mut g,
        "partition",
        "parallelism",
        flowbook::graph::ParamValue::Int(parallelism),
    );
    let fault = g.add_node("fault", "fault", [0.0, 0.0]);
    set(
        &mut g,
        "fault",
        "at_record",
        flowbook::graph::ParamValue::Int(5000),
    );
    set(
        &mut g,
        "fault",
        "mode",
        flowbook::graph::ParamValue::Text(mode.into()),
    );
    // Re-wire watermark → fault → window (fault after the partition runs in parallel).
    let window = g.node_by_name("window").unwrap().id;
    let partition = g.node_by_name("partition").unwrap().id;
    g.edges.retain(|e| e.to.node != window);
    g.edges.push(flowbook::graph::Edge {
        from: flowbook::graph::PortRef::new(partition, "out"),
        to: flowbook::graph::PortRef::new(fault, "in"),
    });
    g.edges.push(flowbook::graph::Edge {
        from: flowbook::graph::PortRef::new(fault, "out"),
        to: flowbook::graph::PortRef::new(window, "in"),
    });
    g
}
