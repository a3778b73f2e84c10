//! Every Apache Flink reference case (tests/data/flink, produced by a real Flink 2.3 run) is
//! reproduced exactly by `flowbook run example-graphs/window-stats.ron`, at parallelism 1 and 2,
//! and at parallelism 2 on one core (the window instances then share the source's thread).

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;

fn run_case(name: &str, kind: &str, extra: &[&str]) {
    let data = root().join("tests/data/flink");
    for (parallelism, one_core) in [("1", false), ("2", false), ("2", true)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let late = dir.path().join("late.csv");
        let mut args = vec![
            "run".to_string(),
            "example-graphs/window-stats.ron".into(),
            "--quiet".into(),
        ];
        let mut set = |s: String| {
            args.push("--set".into());
            args.push(s);
        };
        set(format!(
            "source.path={}",
            data.join("events_a.csv").display()
        ));
        set("watermark.delay_ms=200".into());
        set(format!("partition.parallelism={parallelism}"));
        set(format!("window.kind={kind}"));
        for e in extra {
            set((*e).to_string());
        }
        set(format!("sink.path={}", out.display()));
        set(format!("late_sink.path={}", late.display()));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let result = if one_core {
            flowbook_on_one_core(&argv)
        } else {
            flowbook(&argv)
        };
        assert!(
            result.status.success(),
            "{name} p={parallelism} one core {one_core}: {}",
            stderr(&result)
        );
        assert_same_rows(&data.join(format!("cases/{name}.expected.csv")), &out);
        assert_same_rows(&data.join(format!("cases/{name}.late.csv")), &late);
    }
}

#[test]
fn tumbling_1000() {
    run_case("tumbling_1000", "tumbling", &["window.size_ms=1000"]);
}

#[test]
fn tumbling_1000_offset_300() {
    run_case(
        "tumbling_1000_offset_300",
        "tumbling",
        &["window.size_ms=1000", "window.offset_ms=300"],
    );
}

#[test]
fn sliding_3000_1000() {
    run_case(
        "sliding_3000_1000",
        "sliding",
        &["window.size_ms=3000", "window.slide_ms=1000"],
    );
}

#[test]
fn session_500() {
    run_case("session_500", "session", &["window.gap_ms=500"]);
}

#[test]
fn count_5() {
    run_case("count_5", "count", &["window.count=5"]);
}

#[test]
fn count_5_2() {
    run_case(
        "count_5_2",
        "count_sliding",
        &["window.count=5", "window.count_slide=2"],
    );
}

#[test]
fn lateness_1000_1000() {
    run_case(
        "lateness_1000_1000",
        "tumbling",
        &["window.size_ms=1000", "window.allowed_lateness_ms=1000"],
    );
}

// Configurations Flink accepts that Flowbook used to refuse (issue 16), with results of a real
// Flink 2.3 run of FlinkWindows.java (p=1 and p=2 identical): a slide longer than the window
// leaves gaps whose records belong to no window (late only if behind the watermark), and a
// count slide longer than the count fires every 5th record over the last 2.

#[test]
fn sliding_1000_3000_slide_longer_than_size() {
    run_case(
        "sliding_1000_3000",
        "sliding",
        &["window.size_ms=1000", "window.slide_ms=3000"],
    );
}

#[test]
fn sliding_3000_1000_offset_500() {
    run_case(
        "sliding_3000_1000_offset_500",
        "sliding",
        &[
            "window.size_ms=3000",
            "window.slide_ms=1000",
            "window.offset_ms=500",
        ],
    );
}

#[test]
fn count_2_5_count_slide_longer_than_count() {
    run_case(
        "count_2_5",
        "count_sliding",
        &["window.count=2", "window.count_slide=5"],
    );
}

/// What `flowbook check` (run by `run`) says of the Flink cases' graph at parallelism 2.
fn check_at_parallelism_2(run: fn(&[&str]) -> std::process::Output) -> String {
    let events = root().join("tests/data/flink/events_a.csv");
    let result = run(&[
        "check",
        "example-graphs/window-stats.ron",
        "--set",
        &format!("source.path={}", events.display()),
        "--set",
        "partition.parallelism=2",
    ]);
    assert!(result.status.success(), "{}", stderr(&result));
    format!("{}{}", stdout(&result), stderr(&result))
}

/// At parallelism 2 the cases above really run the CSV source split over two instances (each
/// parses every other block of the file), not one source feeding two windows.
#[test]
fn at_parallelism_2_the_csv_source_is_split() {
    let report = check_at_parallelism_2(flowbook);
    assert!(
        report.contains("source → watermark → partition × 2  (source split in blocks"),
        "{report}"
    );
}

/// On one core the two window instances share the source's thread instead of taking turns
/// with it (the CSV sinks behind them keep their own threads, as after any merge).
#[test]
fn on_one_core_the_windows_share_the_source_thread() {
    let report = check_at_parallelism_2(flowbook_on_one_core);
    assert!(report.contains("threads: 3 on 1 core,"), "{report}");
    assert!(
        report.contains("(source not split: this machine has one core)"),
        "{report}"
    );
    assert!(
        report.contains("× 2  (on the threads of source's chain)"),
        "{report}"
    );
}
