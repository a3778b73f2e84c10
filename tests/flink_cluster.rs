//! Graphs run on a real Apache Flink cluster give exactly the outputs of a local run: every
//! window case of tests/data/flink at parallelism 1 and 2, a generator graph and a map/filter
//! graph; `--on-flink` reports the local run's per-node counts, and Stop cancels the job.
//!
//! Needs a cluster: `scripts/flink.sh start` (CI starts one; FLOWBOOK_FLINK_URL points
//! elsewhere). Without one the tests say so on the terminal and pass; under CI=true they fail.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use flowbook::exec::{Control, Outcome};
use flowbook::flink::rest::FlinkRest;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One job at a time: the cluster has 2 slots and a p=2 job takes both.
static CLUSTER: Mutex<()> = Mutex::new(());

/// The cluster's address, or None (with a message on the terminal, past the test harness's
/// capture) when none answers. Under CI a missing cluster is a failure.
fn cluster(test: &str) -> Option<String> {
    let url =
        std::env::var("FLOWBOOK_FLINK_URL").unwrap_or_else(|_| "http://127.0.0.1:8081".into());
    let answer = FlinkRest::connect(&url).and_then(|r| r.overview());
    match answer {
        Ok((_, slots)) if slots >= 2 => Some(url),
        other => {
            let why = match other {
                Ok((_, slots)) => format!("{slots} slots, 2 needed"),
                Err(e) => e.to_string(),
            };
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: no usable Flink cluster at {url} ({why}); .ci/run starts one with scripts/flink.sh start"
            );
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no Flink cluster at {url} ({why}); start one with scripts/flink.sh start"
            );
            None
        }
    }
}

/// `flowbook run GRAPH --set … [--on-flink URL]`; panics with stderr on failure.
fn run(graph: &Path, sets: &[String], on_flink: Option<&str>) -> String {
    let mut args: Vec<String> = vec!["run".into(), graph.display().to_string(), "--quiet".into()];
    for s in sets {
        args.push("--set".into());
        args.push(s.clone());
    }
    if let Some(url) = on_flink {
        args.push("--on-flink".into());
        args.push(url.into());
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = flowbook(&argv);
    assert!(
        out.status.success(),
        "flowbook {}: {}\n{}",
        args.join(" "),
        stderr(&out),
        stdout(&out)
    );
    stdout(&out)
}

/// The file's header, then its rows sorted (parallel instances interleave rows).
fn sorted_file(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.len() > 1 {
        lines[1..].sort();
    }
    lines
}

/// Runs a graph locally and on Flink with the same overrides plus output paths, and asserts
/// every output file is byte for byte the same (rows sorted). Returns the two summaries.
fn same_on_flink(url: &str, graph: &Path, sets: &[String], outputs: &[&str]) -> (String, String) {
    let _one_job = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut summaries = Vec::new();
    for side in ["local", "flink"] {
        let mut all = sets.to_vec();
        for node in outputs {
            let file = dir.path().join(side).join(format!("{node}.csv"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            all.push(format!("{node}.path={}", file.display()));
        }
        summaries.push(run(graph, &all, (side == "flink").then_some(url)));
    }
    for node in outputs {
        let local = sorted_file(&dir.path().join("local").join(format!("{node}.csv")));
        let flink = sorted_file(&dir.path().join("flink").join(format!("{node}.csv")));
        assert!(
            local.len() > 1 || node.contains("late"),
            "{node}: the local run wrote no rows"
        );
        if local != flink {
            let first = local.iter().zip(&flink).find(|(a, b)| a != b);
            panic!(
                "{} {sets:?}: {node}.csv differs on Flink ({} vs {} lines); first difference: {first:?}",
                graph.display(),
                local.len(),
                flink.len()
            );
        }
    }
    let flink = summaries.pop().unwrap_or_default();
    let local = summaries.pop().unwrap_or_default();
    (local, flink)
}

/// The window-stats cases of tests/data/flink: (name, window overrides).
const CASES: &[(&str, &[&str])] = &[
    (
        "tumbling_1000",
        &["window.kind=tumbling", "window.size_ms=1000"],
    ),
    (
        "tumbling_1000_offset_300",
        &[
            "window.kind=tumbling",
            "window.size_ms=1000",
            "window.offset_ms=300",
        ],
    ),
    (
        "sliding_3000_1000",
        &[
            "window.kind=sliding",
            "window.size_ms=3000",
            "window.slide_ms=1000",
        ],
    ),
    (
        "sliding_3000_1000_offset_500",
        &[
            "window.kind=sliding",
            "window.size_ms=3000",
            "window.slide_ms=1000",
            "window.offset_ms=500",
        ],
    ),
    (
        "sliding_1000_3000",
        &[
            "window.kind=sliding",
            "window.size_ms=1000",
            "window.slide_ms=3000",
        ],
    ),
    ("session_500", &["window.kind=session", "window.gap_ms=500"]),
    ("count_5", &["window.kind=count", "window.count=5"]),
    (
        "count_5_2",
        &[
            "window.kind=count_sliding",
            "window.count=5",
            "window.count_slide=2",
        ],
    ),
    (
        "count_2_5",
        &[
            "window.kind=count_sliding",
            "window.count=2",
            "window.count_slide=5",
        ],
    ),
    (
        "lateness_1000_1000",
        &[
            "window.kind=tumbling",
            "window.size_ms=1000",
            "window.allowed_lateness_ms=1000",
        ],
    ),
];

#[test]
fn every_flink_window_case_of_window_stats_is_exact_on_the_cluster_at_parallelism_1_and_2() {
    let Some(url) = cluster("every_flink_window_case") else {
        return;
    };
    let graph = root().join("example-graphs/window-stats.ron");
    let events = root().join("tests/data/flink/events_a.csv");
    // The case list covers every reference case in tests/data/flink.
    let mut on_disk: Vec<String> = std::fs::read_dir(root().join("tests/data/flink/cases"))
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".expected.csv")
                .map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(
        listed, on_disk,
        "every case in tests/data/flink/cases runs on the cluster"
    );
    let mut matched = 0;
    for (name, window) in CASES {
        for parallelism in [1, 2] {
            let mut sets: Vec<String> = vec![
                format!("source.path={}", events.display()),
                "watermark.delay_ms=200".into(),
                format!("partition.parallelism={parallelism}"),
            ];
            sets.extend(window.iter().map(|s| (*s).to_owned()));
            same_on_flink(&url, &graph, &sets, &["sink", "late_sink"]);
            matched += 1;
            let _ = writeln!(
                std::io::stderr(),
                "flink case {name} p={parallelism}: exact"
            );
        }
    }
    assert_eq!(matched, 2 * CASES.len());
}

fn write_graph(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const GENERATOR_GRAPH: &str = r#"(
    format_version: 1,
    name: "Generated sequence, sliding windows",
    nodes: [
        (id: 1, name: "source", kind: "sequence_source", params: {"count": 60000, "keys": 7, "seed": 5, "start_ms": 1700000000000, "step_ms": 3}),
        (id: 2, name: "watermark", kind: "watermark", params: {"delay_ms": 50}),
        (id: 3, name: "partition", kind: "partition", params: {"parallelism": 2, "strategy": "hash"}),
        (id: 4, name: "window", kind: "window", params: {"kind": "sliding", "size_ms": 2000, "slide_ms": 500}),
        (id: 5, name: "aggregate", kind: "aggregate", params: {"functions": "count,sum,min,max,mean,variance,std"}),
        (id: 6, name: "sink", kind: "csv_sink", params: {"path": "generated.csv"}),
    ],
    edges: [
        (from: (node: 1, port: "out"), to: (node: 2, port: "in")),
        (from: (node: 2, port: "out"), to: (node: 3, port: "in")),
        (from: (node: 3, port: "out"), to: (node: 4, port: "in")),
        (from: (node: 4, port: "out"), to: (node: 5, port: "in")),
        (from: (node: 5, port: "out"), to: (node: 6, port: "in")),
    ],
)"#;

#[test]
fn a_generator_graph_is_exact_on_the_cluster() {
    let Some(url) = cluster("a_generator_graph") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "generated.ron", GENERATOR_GRAPH);
    same_on_flink(&url, &graph, &[], &["sink"]);
}

const MAP_FILTER_GRAPH: &str = r#"(
    format_version: 1,
    name: "Filtered and mapped events, session windows",
    nodes: [
        (id: 1, name: "source", kind: "csv_source", params: {"path": "EVENTS", "key_column": "key", "time_column": "ts_ms", "value_columns": "value"}),
        (id: 2, name: "keep", kind: "filter", params: {"predicate": "value > 2.5 && key != \"k3\" && ts % 7 != 0"}),
        (id: 3, name: "derive", kind: "map", params: {"assign": "scaled = (value - 10) * 1.5; big = value >= 12; second = ts / 1000 % 60"}),
        (id: 4, name: "watermark", kind: "watermark", params: {"delay_ms": 150}),
        (id: 5, name: "partition", kind: "partition", params: {"parallelism": 2, "strategy": "hash"}),
        (id: 6, name: "window", kind: "window", params: {"kind": "session", "gap_ms": 400, "allowed_lateness_ms": 300}),
        (id: 7, name: "stats", kind: "aggregate", params: {"functions": "count,sum,mean,max", "field": "scaled,second"}),
        (id: 8, name: "sink", kind: "csv_sink", params: {"path": "mapped.csv"}),
        (id: 9, name: "late_sink", kind: "csv_sink", params: {"path": "late.csv"}),
    ],
    edges: [
        (from: (node: 1, port: "out"), to: (node: 2, port: "in")),
        (from: (node: 2, port: "out"), to: (node: 3, port: "in")),
        (from: (node: 3, port: "out"), to: (node: 4, port: "in")),
        (from: (node: 4, port: "out"), to: (node: 5, port: "in")),
        (from: (node: 5, port: "out"), to: (node: 6, port: "in")),
        (from: (node: 6, port: "out"), to: (node: 7, port: "in")),
        (from: (node: 7, port: "out"), to: (node: 8, port: "in")),
        (from: (node: 6, port: "late"), to: (node: 9, port: "in")),
    ],
)"#;

#[test]
fn a_map_and_filter_graph_is_exact_on_the_cluster() {
    let Some(url) = cluster("a_map_and_filter_graph") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let events = root().join("tests/data/flink/events_a.csv");
    let text = MAP_FILTER_GRAPH.replace("EVENTS", &events.display().to_string());
    let graph = write_graph(dir.path(), "mapped.ron", &text);
    same_on_flink(&url, &graph, &[], &["sink", "late_sink"]);
}

/// (node, in, out) rows of a run summary.
fn counts(summary: &str) -> Vec<(String, u64, u64)> {
    summary
        .lines()
        .skip(2)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            Some((
                (*cols.first()?).to_owned(),
                cols.get(2)?.parse().ok()?,
                cols.get(3)?.parse().ok()?,
            ))
        })
        .collect()
}

#[test]
fn on_flink_reports_the_local_runs_record_counts_per_node() {
    let Some(url) = cluster("on_flink_reports_the_local_runs_record_counts") else {
        return;
    };
    let graph = root().join("example-graphs/window-stats.ron");
    let sets = vec![
        format!(
            "source.path={}",
            root().join("tests/data/flink/events_a.csv").display()
        ),
        "partition.parallelism=2".into(),
        "window.kind=sliding".into(),
        "window.size_ms=2000".into(),
        "window.slide_ms=700".into(),
    ];
    let (local, flink) = same_on_flink(&url, &graph, &sets, &["sink", "late_sink"]);
    assert!(flink.starts_with("finished"), "{flink}");
    let (local, flink) = (counts(&local), counts(&flink));
    assert_eq!(local.len(), 7, "one row per node: {local:?}");
    assert_eq!(local, flink, "records in/out per node, local vs Flink");
}

/// An endless, rate-limited sequence into windows (shared with the editor's replayed test).
fn endless_graph() -> flowbook::graph::Graph {
    let path = root().join("tests/data/flink/rest/endless.ron");
    flowbook::graph::load(&path).unwrap()
}

#[test]
fn stop_cancels_the_flink_job() {
    let Some(url) = cluster("stop_cancels_the_flink_job") else {
        return;
    };
    let _one_job = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let graph = endless_graph();
    let plan = flowbook::plan::plan(&graph).unwrap();
    let export = flowbook::flink::export(&graph, &plan, "endless.ron").unwrap();
    let (handle, run) = flowbook::flink::submit(export, &url, None).unwrap();
    // Wait until the job runs and records flow, as a person watching the cards would.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = 0;
    while Instant::now() < deadline && seen == 0 {
        if let Ok(flowbook::exec::Telemetry::Progress { nodes, .. }) =
            handle.telemetry().recv_timeout(Duration::from_secs(1))
        {
            seen = nodes
                .iter()
                .find(|n| n.name == "source")
                .map_or(0, |n| n.records_out);
        }
    }
    assert!(
        seen > 0,
        "the endless job never reported records: {:?}",
        run.info()
    );
    let job_id = run.info().job_id.expect("a running job has an id");
    handle.send(Control::Stop);
    let report = handle.wait();
    assert_eq!(report.outcome, Outcome::Stopped);
    let state = FlinkRest::connect(&url)
        .unwrap()
        .job(&job_id)
        .unwrap()
        .state;
    assert_eq!(state.0, "CANCELED", "Stop cancelled the job on the cluster");
}

/// Records the cluster's REST answers for the editor's test of Run on Flink cluster (which
/// replays them without a cluster): a finished window-stats job at parallelism 2, a job whose
/// CSV source fails on a bad row, and an endless job cancelled by Stop. Run by hand:
/// `cargo test --test flink_cluster -- --ignored record_rest_responses`.
#[test]
#[ignore = "writes tests/data/flink/rest/*.json from a live cluster"]
fn record_rest_responses() {
    use flowbook::flink::rest::{Recorder, UreqHttp};
    use std::sync::Arc;
    let Some(url) = cluster("record_rest_responses") else {
        return;
    };
    let _one_job = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let out = root().join("tests/data/flink/rest");
    std::fs::create_dir_all(&out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "key,ts_ms,value\nk1,1000,1.5\nk2,1100,2.5\nk1,oops,3\n",
    )
    .unwrap();
    let scenarios: [(&str, String, Vec<String>); 3] = [
        (
            "finished",
            root()
                .join("example-graphs/window-stats.ron")
                .display()
                .to_string(),
            vec!["partition.parallelism=2".into()],
        ),
        (
            "failed",
            root()
                .join("example-graphs/window-stats.ron")
                .display()
                .to_string(),
            vec![format!("source.path={}", bad.display())],
        ),
        ("cancelled", String::new(), Vec::new()),
    ];
    for (name, graph_path, sets) in scenarios {
        let mut graph = if graph_path.is_empty() {
            endless_graph()
        } else {
            flowbook::graph::load(Path::new(&graph_path)).unwrap()
        };
        for set in &sets {
            let (target, value) = set.split_once('=').unwrap();
            let (node, param) = target.split_once('.').unwrap();
            let value = if let Ok(i) = value.parse::<i64>() {
                flowbook::graph::ParamValue::Int(i)
            } else {
                flowbook::graph::ParamValue::Text(value.into())
            };
            graph.set_param(node, param, value).unwrap();
        }
        for sink in ["sink", "late_sink"] {
            if graph
                .node_by_name(sink)
                .is_some_and(|n| n.kind == "csv_sink")
            {
                let path = dir.path().join(format!("{name}-{sink}.csv"));
                graph
                    .set_param(
                        sink,
                        "path",
                        flowbook::graph::ParamValue::Text(path.display().to_string()),
                    )
                    .unwrap();
            }
        }
        let location = if graph_path.is_empty() {
            flowbook::paths::GraphLocation::working_directory()
        } else {
            flowbook::paths::GraphLocation::of_file(Path::new(&graph_path))
        };
        let plan = flowbook::plan::plan_in(&graph, &location).unwrap();
        let export = flowbook::flink::export(&graph, &plan, "window-stats.ron").unwrap();
        let recorder = Arc::new(Recorder::new(Box::new(UreqHttp::new(&url).unwrap())));
        struct Shared(Arc<Recorder>);
        impl flowbook::flink::rest::Http for Shared {
            fn request(
                &self,
                m: &str,
                p: &str,
                c: Option<&str>,
                b: &[u8],
            ) -> Result<(u16, String), flowbook::flink::rest::RestError> {
                self.0.request(m, p, c, b)
            }
        }
        let rest = FlinkRest::with_http(&url, Box::new(Shared(Arc::clone(&recorder))));
        let home = flowbook::flink::build::flink_home().unwrap();
        let build = dir.path().join(format!("build-{name}"));
        let make: flowbook::flink::watch::JarMaker =
            Box::new(move |e| flowbook::flink::build::build_jar(e, &build, &home));
        let (handle, run) =
            flowbook::flink::watch::watch(export, rest, make, Duration::from_secs(1), None)
                .unwrap();
        if name == "cancelled" {
            let deadline = Instant::now() + Duration::from_secs(120);
            while run.info().job_state != "RUNNING" || run.info().vertices.is_empty() {
                assert!(Instant::now() < deadline, "the endless job never ran");
                std::thread::sleep(Duration::from_millis(200));
            }
            std::thread::sleep(Duration::from_secs(3));
            handle.send(Control::Stop);
        }
        let report = handle.wait();
        let _ = writeln!(std::io::stderr(), "recorded {name}: {:?}", report.outcome);
        std::fs::write(out.join(format!("{name}.json")), recorder.to_json()).unwrap();
    }
}
