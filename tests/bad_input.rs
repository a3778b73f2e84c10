//! Every kind of bad input gets a clear message that names the place, the right exit code, and
//! never a panic.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use std::path::PathBuf;

/// Writes a graph file into a temp dir and returns (dir guard, path).
fn graph_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.ron");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn node(id: u32, name: &str, kind: &str, params: &str) -> String {
    format!(
        "(id: {id}, name: \"{name}\", kind: \"{kind}\", pos: (0.0, 0.0), params: {{{params}}}),"
    )
}

fn edge(a: u32, ap: &str, b: u32, bp: &str) -> String {
    format!("(from: (node: {a}, port: \"{ap}\"), to: (node: {b}, port: \"{bp}\")),")
}

fn graph(nodes: &[String], edges: &[String]) -> String {
    format!(
        "(format_version: 1, name: \"t\", nodes: [{}], edges: [{}])",
        nodes.join("\n"),
        edges.join("\n")
    )
}

/// Runs `flowbook check` (and `run`) on a graph text; returns (exit code, stderr).
fn check(text: &str) -> (i32, String) {
    let (_dir, path) = graph_file(text);
    let out = flowbook(&["check", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    let run = flowbook(&["run", "--quiet", path.to_str().unwrap()]);
    assert!(!stderr(&run).contains("panicked"), "{}", stderr(&run));
    (out.status.code().unwrap_or(-1), err)
}

fn sequence() -> String {
    node(1, "source", "sequence_source", "\"count\": 100")
}

#[test]
fn malformed_ron_names_line_and_column() {
    let (code, err) =
        check("(\n  format_version: 1,\n  nodes: [\n    (id: 1 name: \"x\")\n  ],\n)");
    assert_eq!(code, 2);
    assert!(err.contains("g.ron:4:"), "{err}");
}

#[test]
fn unknown_kind_is_named() {
    let (code, err) = check(&graph(&[node(1, "blender", "blender", "")], &[]));
    assert_eq!(code, 2);
    assert!(
        err.contains("blender: unknown node kind 'blender'"),
        "{err}"
    );
}

#[test]
fn type_mismatch_names_both_ends() {
    let text = graph(
        &[
            sequence(),
            node(2, "agg", "aggregate", ""),
            node(3, "sink", "null_sink", ""),
        ],
        &[edge(1, "out", 2, "in"), edge(2, "out", 3, "in")],
    );
    let (code, err) = check(&text);
    assert_eq!(code, 2);
    assert!(
        err.contains("agg (port 'in'): Records cannot feed a Windows input (wire from source.out)"),
        "{err}"
    );
}

#[test]
fn cycle_is_named_in_order() {
    let text = graph(
        &[
            sequence(),
            node(2, "merge", "merge", ""),
            node(3, "filter", "filter", "\"predicate\": \"value > 1\""),
            node(4, "map", "map", ""),
        ],
        &[
            edge(1, "out", 2, "in"),
            edge(2, "out", 3, "in"),
            edge(3, "out", 4, "in"),
            edge(4, "out", 2, "in"),
        ],
    );
    let (code, err) = check(&text);
    assert_eq!(code, 2);
    assert!(
        err.contains("is part of a cycle: merge → filter → map → merge"),
        "{err}"
    );
}

#[test]
fn missing_input_and_dangling_wire_are_named() {
    let text = graph(
        &[sequence(), node(2, "win", "window", "")],
        &[edge(1, "out", 9, "in")],
    );
    let (code, err) = check(&text);
    assert_eq!(code, 2);
    assert!(
        err.contains("win (port 'in'): input 'in' is not connected"),
        "{err}"
    );
    assert!(
        err.contains("refers to node #9, which does not exist"),
        "{err}"
    );
}

#[test]
fn duplicate_names_and_bad_ports_are_named() {
    let text = graph(
        &[sequence(), node(2, "source", "null_sink", "")],
        &[edge(1, "output", 2, "in")],
    );
    let (code, err) = check(&text);
    assert_eq!(code, 2);
    assert!(err.contains("another node has the same name"), "{err}");
    assert!(err.contains("has no output port 'output'"), "{err}");
}

#[test]
fn out_of_range_and_mistyped_params_are_named() {
    let text = graph(
        &[
            sequence(),
            node(
                2,
                "window",
                "window",
                "\"size_ms\": 0, \"kind\": \"hopping\", \"gap\": 5",
            ),
            node(3, "sink", "null_sink", ""),
        ],
        &[edge(1, "out", 2, "in")],
    );
    let (code, err) = check(&text);
    assert_eq!(code, 2);
    assert!(err.contains("window.size_ms: is 0, outside 1..="), "{err}");
    assert!(
        err.contains("window.kind: is 'hopping', expected one of: tumbling"),
        "{err}"
    );
    assert!(
        err.contains("window.gap: window has no parameter 'gap'"),
        "{err}"
    );
}

#[test]
fn future_format_version_is_refused() {
    let (code, err) = check("(format_version: 7, name: \"t\", nodes: [], edges: [])");
    assert_eq!(code, 2);
    assert!(err.contains("format_version 7"), "{err}");
}

#[test]
fn missing_csv_file_is_named() {
    let out = flowbook(&[
        "run",
        "example-graphs/window-stats.ron",
        "--set",
        "source.path=/no/such/file.csv",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("source.path: cannot open '/no/such/file.csv'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn malformed_csv_row_fails_the_run_with_its_row_number() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("events.csv");
    std::fs::write(
        &csv,
        "key,ts_ms,value\nk1,1000,1.5\nk1,1100,2.5\nk2,oops,3\n",
    )
    .unwrap();
    let sink = dir.path().join("w.csv");
    let late = dir.path().join("l.csv");
    let out = flowbook(&[
        "run",
        "--quiet",
        "example-graphs/window-stats.ron",
        "--set",
        &format!("source.path={}", csv.display()),
        "--set",
        &format!("sink.path={}", sink.display()),
        "--set",
        &format!("late_sink.path={}", late.display()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("node 'source' failed") && err.contains("row 4") && err.contains("'oops'"),
        "{err}"
    );
    assert!(!sink.exists(), "a failed run leaves no half-written output");
}

#[test]
fn bad_set_arguments_are_explained() {
    let out = flowbook(&[
        "check",
        "example-graphs/window-stats.ron",
        "--set",
        "windw.size_ms=5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no node named 'windw'; nodes are: source, watermark"),
        "{}",
        stderr(&out)
    );
    let out = flowbook(&[
        "check",
        "example-graphs/window-stats.ron",
        "--set",
        "window.size_ms=abc",
    ]);
    assert!(
        stderr(&out).contains("'abc' is not an integer"),
        "{}",
        stderr(&out)
    );
    let out = flowbook(&[
        "check",
        "example-graphs/window-stats.ron",
        "--set",
        "window.size_ms=0",
    ]);
    assert!(
        stderr(&out).contains(
            "--set window.size_ms=0: size_ms is 0, outside 1..=864000000000 (the nearest allowed value is 1)"
        ),
        "{}",
        stderr(&out)
    );
    let out = flowbook(&[
        "check",
        "example-graphs/window-stats.ron",
        "--set",
        "window.size=5",
    ]);
    assert!(
        stderr(&out).contains("has no parameter 'size'; it has: kind, size_ms"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_expression_is_named_with_the_field_list() {
    let text = graph(
        &[
            sequence(),
            node(2, "filter", "filter", "\"predicate\": \"valeu > 3\""),
            node(3, "sink", "null_sink", ""),
        ],
        &[edge(1, "out", 2, "in"), edge(2, "out", 3, "in")],
    );
    let (code, err) = check(&text);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "filter.predicate: unknown field 'valeu' in `valeu > 3` (did you mean 'value'?)"
        ),
        "{err}"
    );
}

#[test]
fn unreadable_graph_file_is_an_error_not_a_panic() {
    let out = flowbook(&["run", "/no/such/graph.ron"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/no/such/graph.ron: cannot read the file"),
        "{}",
        stderr(&out)
    );
    let out = flowbook(&["run"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing argument is a usage error"
    );
}

#[test]
fn example_graphs_round_trip_through_save() {
    let dir = root().join("example-graphs");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ron") {
            continue; // data/, and outputs of runs
        }
        let graph = flowbook::graph::load(&path).unwrap();
        let saved = flowbook::graph::to_ron_string(&graph).unwrap();
        let again = flowbook::graph::from_ron_str(&saved, "saved").unwrap();
        assert_eq!(again, graph, "{}", path.display());
        assert_eq!(
            flowbook::graph::to_ron_string(&again).unwrap(),
            saved,
            "{}",
            path.display()
        );
    }
}

/// `flowbook check window-stats.ron` with these overrides: (exit code, stderr).
fn check_window(sets: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["check", "example-graphs/window-stats.ron"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let out = flowbook(&args);
    (out.status.code(), stderr(&out))
}

#[test]
fn window_offsets_flink_refuses_are_refused_with_flinks_rule_and_nothing_else() {
    let (code, err) = check_window(&["window.size_ms=1000", "window.offset_ms=1300"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("window.offset_ms: offset_ms 1300 is not allowed with size_ms 1000: Flink requires |offset_ms| < size_ms for tumbling windows"),
        "{err}"
    );
    let (code, err) = check_window(&["window.size_ms=1000", "window.offset_ms=-1000"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("|offset_ms| < size_ms"), "{err}");
    let (code, err) = check_window(&[
        "window.kind=sliding",
        "window.size_ms=3000",
        "window.slide_ms=1000",
        "window.offset_ms=1000",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("Flink requires |offset_ms| < slide_ms for sliding windows"),
        "{err}"
    );
    // One refused parameter is one problem: the sinks downstream still see the window's fields.
    assert_eq!(err.matches("\n  ").count(), 1, "{err}");
    assert!(!err.contains("late_sink"), "{err}");
}

#[test]
fn window_configurations_flink_runs_are_accepted() {
    for sets in [
        &["window.size_ms=1000", "window.offset_ms=999"][..],
        &["window.size_ms=1000", "window.offset_ms=-999"][..],
        &[
            "window.kind=sliding",
            "window.size_ms=1000",
            "window.slide_ms=3000",
        ][..],
        &[
            "window.kind=count_sliding",
            "window.count=2",
            "window.count_slide=5",
        ][..],
        // Offsets do not apply to sessions and count windows.
        &["window.kind=session", "window.offset_ms=5000"][..],
    ] {
        let (code, err) = check_window(sets);
        assert_eq!(code, Some(0), "{sets:?}: {err}");
    }
}

/// Runs `flowbook` with `args` from `cwd` (not the crate root).
fn flowbook_in(cwd: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flowbook"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

#[test]
fn an_example_runs_from_any_working_directory_with_outputs_beside_the_graph() {
    // The example as shipped (graph + its data folder), copied to a project folder; run from
    // an unrelated working directory by absolute path, by a `..` path, and with `check`/`report`.
    let project = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir(project.path().join("data")).unwrap();
    for file in ["window-stats.ron", "data/events_a.csv"] {
        std::fs::copy(
            root().join("example-graphs").join(file),
            project.path().join(file),
        )
        .unwrap();
    }
    let graph = project.path().join("window-stats.ron");
    let out = flowbook_in(
        elsewhere.path(),
        &["run", "--quiet", graph.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let flink = root().join("tests/data/flink/cases");
    assert_same_rows(
        &flink.join("tumbling_1000.expected.csv"),
        &project.path().join("windows.csv"),
    );
    assert_same_rows(
        &flink.join("tumbling_1000.late.csv"),
        &project.path().join("late.csv"),
    );
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "nothing lands in the working directory"
    );
    // A relative graph path with `..` from a sibling folder, and `check`.
    let sibling = project.path().join("sub");
    std::fs::create_dir(&sibling).unwrap();
    std::fs::remove_file(project.path().join("windows.csv")).unwrap();
    let out = flowbook_in(&sibling, &["run", "--quiet", "../window-stats.ron"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(project.path().join("windows.csv").exists());
    let out = flowbook_in(elsewhere.path(), &["check", graph.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = elsewhere.path().join("r.html");
    let out = flowbook_in(
        elsewhere.path(),
        &["report", graph.to_str().unwrap(), "-o", "r.html"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(html.exists(), "-o is relative to the working directory");
}

#[test]
fn every_shipped_example_uses_paths_inside_the_examples_folder() {
    // Every file an example reads exists relative to example-graphs/, so the examples run from
    // any working directory and from the gallery's untitled copies.
    let dir = root().join("example-graphs");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ron") {
            continue;
        }
        let graph = flowbook::graph::load(&path).unwrap();
        for node in graph.nodes.iter().filter(|n| n.kind == "csv_source") {
            let Some(flowbook::graph::ParamValue::Text(p)) = node.params.get("path") else {
                panic!("{}: {} has no path", path.display(), node.name);
            };
            assert!(
                std::path::Path::new(p).is_relative() && dir.join(p).is_file(),
                "{}: {p}",
                path.display()
            );
        }
    }
}

/// `flowbook ARGS…` on window-stats.ron (from the crate root) with `--set` overrides.
fn window_stats(command: &str, sets: &[String], extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = vec![command.into(), "example-graphs/window-stats.ron".into()];
    for s in sets {
        args.push("--set".into());
        args.push(s.clone());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    flowbook(&argv)
}

/// A folder with a copy of the example's input as `in.csv`, and its bytes.
fn input_copy() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::copy(root().join("example-graphs/data/events_a.csv"), &input).unwrap();
    let bytes = std::fs::read(&input).unwrap();
    (dir, input, bytes)
}

#[test]
fn item1_a_sink_over_an_input_is_refused_naming_both() {
    let (dir, input, bytes) = input_copy();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink(&input, dir.path().join("link.csv")).unwrap();
    let late = dir.path().join("late.csv");
    for alias in ["in.csv", "sub/../in.csv", "link.csv"] {
        let out = window_stats(
            "run",
            &[
                format!("source.path={}", input.display()),
                format!("sink.path={}", dir.path().join(alias).display()),
                format!("late_sink.path={}", late.display()),
            ],
            &["--quiet"],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{alias}: {err}");
        assert!(
            err.contains("sink.path: writes") && err.contains("which source.path reads"),
            "{alias}: {err}"
        );
        assert_eq!(
            std::fs::read(&input).unwrap(),
            bytes,
            "{alias}: input intact"
        );
    }
    // `--metrics` over the graph file, and a report over the input.
    let graph = dir.path().join("g.ron");
    std::fs::copy(root().join("example-graphs/window-stats.ron"), &graph).unwrap();
    let graph_bytes = std::fs::read(&graph).unwrap();
    let out = flowbook(&[
        "run",
        graph.to_str().unwrap(),
        "--set",
        &format!("source.path={}", input.display()),
        "--metrics",
        graph.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--metrics: writes") && stderr(&out).contains("the graph file reads"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&graph).unwrap(), graph_bytes);
    let out = window_stats(
        "report",
        &[format!("source.path={}", input.display())],
        &["-o", input.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("-o: writes"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&input).unwrap(), bytes);
}

#[test]
fn item2_two_sinks_of_one_file_are_refused_before_the_run() {
    let (dir, input, _) = input_copy();
    let same = dir.path().join("out.csv");
    let out = window_stats(
        "run",
        &[
            format!("source.path={}", input.display()),
            format!("sink.path={}", same.display()),
            format!("late_sink.path={}/./out.csv", dir.path().display()),
        ],
        &["--quiet"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("late_sink.path: writes")
            && stderr(&out).contains("which sink.path also writes"),
        "{}",
        stderr(&out)
    );
    assert!(!same.exists());
}

#[test]
fn item3_a_device_or_fifo_sink_is_streamed_into_never_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let out = window_stats(
        "run",
        &[
            "sink.path=/dev/null".into(),
            "late_sink.path=/dev/null".into(),
        ],
        &["--quiet"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    // A named pipe gets the rows as a stream; a socket is refused.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("rows");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = window_stats(
        "run",
        &[
            format!("sink.path={}", fifo.display()),
            "late_sink.path=/dev/null".into(),
        ],
        &["--quiet"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = reader.join().unwrap();
    assert!(rows.starts_with("kind,key,start,end,count"), "{rows}");
    assert_eq!(
        rows.lines().count(),
        1 + csv_rows(&root().join("tests/data/flink/cases/tumbling_1000.expected.csv")).len()
    );
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    let socket = dir.path().join("s.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let out = window_stats("check", &[format!("sink.path={}", socket.display())], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is a socket"), "{}", stderr(&out));
}

#[test]
fn item4_a_sink_that_is_a_folder_fails_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = window_stats(
        "run",
        &[
            format!("sink.path={}", dir.path().display()),
            format!("late_sink.path={}", dir.path().join("late.csv").display()),
        ],
        &["--quiet"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sink.path: '") && stderr(&out).contains("is a folder"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_relative_set_path_is_relative_to_the_working_directory() {
    let (dir, _input, _) = input_copy();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flowbook"))
        .args([
            "run",
            "--quiet",
            root()
                .join("example-graphs/window-stats.ron")
                .to_str()
                .unwrap(),
            "--set",
            "source.path=in.csv",
            "--set",
            "sink.path=w.csv",
            "--set",
            "late_sink.path=l.csv",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("w.csv").exists() && dir.path().join("l.csv").exists());
}

/// `flowbook check` on a file's bytes: (exit code, stderr).
fn check_bytes(bytes: &[u8]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.ron");
    std::fs::write(&path, bytes).unwrap();
    let out = flowbook(&["check", path.to_str().unwrap()]);
    (out.status.code().unwrap_or(-1), stderr(&out))
}

/// Item 11: a graph file past 64 MB — or an endless device such as /dev/zero — is refused after
/// reading at most the limit, with the limit in the message (it used to grow without bound).
#[test]
fn item11_graph_files_have_a_size_limit_and_dev_zero_is_refused() {
    let out = flowbook(&["check", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/dev/zero: larger than 64 MB, the most a graph file may be"),
        "{}",
        stderr(&out)
    );
    let mut big = graph(&[sequence()], &[]).into_bytes();
    big.extend(std::iter::repeat_n(b' ', 65 << 20));
    let (code, err) = check_bytes(&big);
    assert_eq!(code, 2);
    assert!(err.contains("larger than 64 MB"), "{err}");
    let out = flowbook(&["check", "/tmp"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("folder"), "{}", stderr(&out));
}

/// Item 15: a UTF-8 byte order mark is accepted; bytes that are not UTF-8 are named by
/// line:column; a huge format_version is "from a newer Flowbook", not an integer overflow.
#[test]
fn item15_bom_utf8_errors_and_huge_versions_are_answered_plainly() {
    let text = graph(&[sequence()], &[]);
    let mut with_bom = "\u{feff}".as_bytes().to_vec();
    with_bom.extend(text.as_bytes());
    let (code, err) = check_bytes(&with_bom);
    assert_eq!(code, 0, "{err}");

    // Line 2 holds `  name: "té` (11 characters) and then a byte that is not UTF-8.
    let bytes = b"(format_version: 1,\n  name: \"t\xc3\xa9\xff\", nodes: [])";
    let (code, err) = check_bytes(bytes);
    assert_eq!(code, 2);
    assert!(
        err.contains("g.ron:2:12: byte 0xff is not UTF-8 text"),
        "{err}"
    );

    for version in ["99999999999999", "4294967296", "18446744073709551615"] {
        let (code, err) = check(&format!(
            "(format_version: {version}, name: \"t\", nodes: [], edges: [])"
        ));
        assert_eq!(code, 2);
        assert!(
            err.contains(&format!(
                "written by a newer Flowbook (format_version {version})"
            )),
            "{err}"
        );
    }
}

/// window-stats with its outputs in `dir`, reading `source` (a path, or `-`), as a command
/// ready to spawn from `dir`.
fn window_stats_reading(source: &str, dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_flowbook"));
    command
        .current_dir(dir)
        .arg("run")
        .arg(root().join("example-graphs/window-stats.ron"))
        .args(["--quiet", "--set", &format!("source.path={source}")])
        .args([
            "--set",
            "sink.path=windows.csv",
            "--set",
            "late_sink.path=late.csv",
        ]);
    command
}

/// The example's windows read straight from its file, to compare with.
fn expected_windows() -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("example-graphs/data/events_a.csv");
    let out = window_stats_reading(input.to_str().unwrap(), dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = csv_rows(&dir.path().join("windows.csv"));
    assert!(rows.len() > 100, "{} windows", rows.len());
    rows
}

/// Item 14: a CSV source is opened once and streamed, so standard input (`-`), a named pipe
/// and a shell's `<(…)` give the same windows as the file (a pipe used to hang, be "empty", or
/// give 0 events with exit 0).
#[test]
fn item14_csv_from_stdin_a_fifo_or_process_substitution_reads_every_row() {
    use std::io::Write;
    let expected = expected_windows();
    let data = std::fs::read(root().join("example-graphs/data/events_a.csv")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut child = window_stats_reading("-", dir.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "stdin: {}", stderr(&out));
    assert_eq!(csv_rows(&dir.path().join("windows.csv")), expected, "stdin");

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("events.fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let writer = {
        let (fifo, data) = (fifo.clone(), data.clone());
        std::thread::spawn(move || {
            let mut pipe = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            // Slowly, in pieces, as a producer would.
            for piece in data.chunks(4096) {
                pipe.write_all(piece).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        })
    };
    let out = window_stats_reading("events.fifo", dir.path())
        .output()
        .unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "fifo: {}", stderr(&out));
    assert_eq!(csv_rows(&dir.path().join("windows.csv")), expected, "fifo");

    let dir = tempfile::tempdir().unwrap();
    let input = root().join("example-graphs/data/events_a.csv");
    let script = format!(
        "exec '{}' run '{}' --quiet --set source.path=<(cat '{}') --set sink.path=windows.csv --set late_sink.path=late.csv",
        env!("CARGO_BIN_EXE_flowbook"),
        root().join("example-graphs/window-stats.ron").display(),
        input.display()
    );
    let out = std::process::Command::new("bash")
        .current_dir(dir.path())
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "<(…): {}", stderr(&out));
    assert_eq!(csv_rows(&dir.path().join("windows.csv")), expected, "<(…)");
}

/// Item 11: a CSV line longer than 1 MiB (a file with no line breaks, `/dev/zero`) fails with
/// the limit and the line instead of growing without bound.
#[test]
fn item11_csv_lines_have_a_length_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out = window_stats_reading("/dev/zero", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 1 is longer than 1 MiB"),
        "{}",
        stderr(&out)
    );
    let long = dir.path().join("long.csv");
    let mut text = String::from("key,ts_ms,value\nk,1,1\n");
    text.push_str(&"k".repeat(2 << 20));
    text.push_str(",2,2\n");
    std::fs::write(&long, text).unwrap();
    let out = window_stats_reading("long.csv", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 3 is longer than 1 MiB"),
        "{}",
        stderr(&out)
    );
    assert_eq!(names(dir.path()), ["long.csv"], "no output written");
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Item 15: a node name (or a path) with terminal escape sequences is printed escaped, so it
/// cannot recolour or retitle the terminal; such a name is refused, and the refusal quotes it.
#[test]
fn item15_node_names_with_escape_sequences_are_printed_escaped() {
    let evil = "src\u{1b}]0;owned\u{7}\u{1b}[31m";
    let text = graph(
        &[
            node(1, evil, "sequence_source", "\"count\": 10"),
            node(
                2,
                "sink",
                "csv_sink",
                &format!("\"path\": \"{evil}/out.csv\""),
            ),
        ],
        &[edge(1, "out", 2, "in")],
    )
    .replace(evil, &evil.escape_default().to_string());
    let (_dir, path) = graph_file(&text);
    for command in ["check", "run"] {
        let out = flowbook(&[command, path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
        assert!(
            err.contains("src\\u{1b}]0;owned\\u{7}\\u{1b}[31m: a name must be"),
            "{err}"
        );
    }
}

/// Item 15: `key = 5` in a Map is refused (it wrote a second `key` column), and `shl(1, 64)`
/// is an error, not a quiet 1.
#[test]
fn item15_assigning_key_and_shifting_past_63_are_refused() {
    let map = |assign: &str| {
        check(&graph(
            &[
                sequence(),
                node(2, "map", "map", &format!("\"assign\": \"{assign}\"")),
                node(3, "sink", "null_sink", ""),
            ],
            &[edge(1, "out", 2, "in"), edge(2, "out", 3, "in")],
        ))
    };
    let (code, err) = map("key = 5");
    assert_eq!(code, 2);
    assert!(err.contains("'key' is the record's key"), "{err}");
    let (code, err) = map("x = shl(1, 64)");
    assert_eq!(code, 2);
    assert!(err.contains("the shift must be between 0 and 63"), "{err}");
    assert_eq!(map("x = shl(1, 63)").0, 0);
}

/// Item 15: unknown fields (a typo such as `parmas` silently lost a node's settings) and a
/// parameter given twice are warned about, naming the node; the graph still loads.
#[test]
fn item15_unknown_fields_and_repeated_parameters_are_warned_about_naming_the_node() {
    let text = graph(
        &[
            node(
                1,
                "source",
                "sequence_source",
                "\"count\": 100, \"count\": 5",
            ),
            "(id: 2, name: \"sink\", kind: \"null_sink\", parmas: {\"delay_us\": 3}),".into(),
        ],
        &[edge(1, "out", 2, "in")],
    )
    .replace(
        "(format_version: 1,",
        "(format_version: 1, colour: \"red\",",
    );
    let (_dir, path) = graph_file(&text);
    let out = flowbook(&["run", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    for expected in [
        "g.ron: unknown field 'colour' ignored",
        "g.ron: node 'sink': unknown field 'parmas' ignored",
        "g.ron: node 'source': parameter 'count' is given more than once; the last value is used",
    ] {
        assert!(err.contains(expected), "{expected}: {err}");
    }
    assert!(stdout(&out).contains("events=5 "), "{}", stdout(&out));
}
