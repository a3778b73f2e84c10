//! The executor as a library: failures name their node and stop cleanly at any parallelism,
//! stop joins every thread promptly, pause/step/resume work, and results do not depend on
//! parallelism.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{example, executor_threads as thread_count, faulty, serial, set};
use flowbook::exec::{Control, Outcome, RunOptions, Telemetry, start};
use flowbook::graph::ParamValue;
use flowbook::plan::plan;
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn failing_and_panicking_operators_stop_the_run_and_are_named() {
    let _serial = serial();
    let before = thread_count();
    for mode in ["error", "panic"] {
        for parallelism in [1, 2] {
            let plan = plan(&faulty(mode, parallelism)).unwrap();
            let started = Instant::now();
            let report = start(&plan, RunOptions::default()).unwrap().wait();
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{mode} p={parallelism} took too long"
            );
            match &report.outcome {
                Outcome::Failed { node, message } => {
                    assert_eq!(node, "fault", "{mode} p={parallelism}");
                    assert!(
                        message.contains("injected fault at record 5000"),
                        "{message}"
                    );
                }
                other => panic!("{mode} p={parallelism}: expected a failure, got {other:?}"),
            }
            assert_eq!(
                thread_count(),
                before,
                "every thread is joined after {mode} p={parallelism}"
            );
        }
    }
}

#[test]
fn stop_ends_an_endless_run_promptly_and_joins_every_thread() {
    let _serial = serial();
    let before = thread_count();
    let mut g = example("bench-window.ron");
    set(&mut g, "source", "bounded", ParamValue::Bool(false));
    set(&mut g, "partition", "parallelism", ParamValue::Int(2));
    let handle = start(&plan(&g).unwrap(), RunOptions::default()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(thread_count() > before, "the run has threads of its own");
    let asked = Instant::now();
    handle.send(Control::Stop);
    let report = handle.wait();
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "stop took {:?}",
        asked.elapsed()
    );
    assert_eq!(report.outcome, Outcome::Stopped);
    assert!(report.node("source").unwrap().records_out > 0);
    assert_eq!(thread_count(), before);
}

#[test]
fn finish_ends_an_endless_run_gracefully() {
    let _serial = serial();
    let mut g = example("bench-window.ron");
    set(&mut g, "source", "bounded", ParamValue::Bool(false));
    let handle = start(&plan(&g).unwrap(), RunOptions::default()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    handle.send(Control::Finish);
    let report = handle.wait();
    assert_eq!(report.outcome, Outcome::Finished);
    let source = report.node("source").unwrap().records_out;
    // Every record was windowed: the final +inf watermark fired every window.
    assert_eq!(report.node("window").unwrap().window_firings, source);
}

#[test]
fn pause_holds_the_sources_and_step_releases_one_batch() {
    let _serial = serial();
    let mut g = example("bench-window.ron");
    set(&mut g, "source", "bounded", ParamValue::Bool(false));
    let options = RunOptions {
        batch_size: 100,
        ..RunOptions::default()
    };
    let handle = start(&plan(&g).unwrap(), options).unwrap();
    handle.send(Control::Pause);
    std::thread::sleep(Duration::from_millis(150));
    let count = |h: &flowbook::exec::RunHandle| {
        let mut last = None;
        while let Ok(t) = h.telemetry().try_recv() {
            if let Telemetry::Progress { nodes, .. } = t {
                last = nodes
                    .iter()
                    .find(|n| n.name == "source")
                    .map(|n| n.records_out);
            }
        }
        last
    };
    std::thread::sleep(Duration::from_millis(250));
    let paused_a = count(&handle).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let paused_b = count(&handle).unwrap();
    assert_eq!(paused_a, paused_b, "no records while paused");
    handle.send(Control::Step);
    std::thread::sleep(Duration::from_millis(300));
    let stepped = count(&handle).unwrap();
    assert_eq!(stepped, paused_b + 100, "one step = one batch");
    handle.send(Control::Resume);
    std::thread::sleep(Duration::from_millis(300));
    assert!(count(&handle).unwrap() > stepped + 1000, "resumed");
    handle.send(Control::Stop);
    assert_eq!(handle.wait().outcome, Outcome::Stopped);
}

#[test]
fn results_do_not_depend_on_parallelism() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for parallelism in [1, 2, 3] {
        let mut g = example("sensor-windows.ron");
        let path = dir.path().join(format!("p{parallelism}.csv"));
        set(
            &mut g,
            "partition",
            "parallelism",
            ParamValue::Int(parallelism),
        );
        set(
            &mut g,
            "sink",
            "path",
            ParamValue::Text(path.display().to_string()),
        );
        let report = start(&plan(&g).unwrap(), RunOptions::default())
            .unwrap()
            .wait();
        assert_eq!(report.outcome, Outcome::Finished);
        let mut rows: Vec<String> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        rows.sort();
        assert!(rows.len() > 100);
        outputs.push(rows);
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
}

#[test]
fn telemetry_reports_watermarks_late_records_and_window_samples() {
    let _serial = serial();
    let mut g = example("window-stats.ron");
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/flink/events_a.csv");
    set(
        &mut g,
        "source",
        "path",
        ParamValue::Text(data.display().to_string()),
    );
    set(
        &mut g,
        "sink",
        "path",
        ParamValue::Text(dir.path().join("w.csv").display().to_string()),
    );
    set(
        &mut g,
        "late_sink",
        "path",
        ParamValue::Text(dir.path().join("l.csv").display().to_string()),
    );
    let report = start(&plan(&g).unwrap(), RunOptions::default())
        .unwrap()
        .wait();
    assert_eq!(report.outcome, Outcome::Finished);
    let window = report.node("window").unwrap();
    assert_eq!(window.records_in, 5000);
    assert_eq!(
        window.late, 52,
        "as many as Flink's late file of tumbling_1000 has rows"
    );
    assert_eq!(window.watermark, Some(i64::MAX));
    assert!(!window.recent_windows.is_empty());
    assert_eq!(report.node("late_sink").unwrap().records_in, 52);
}

/// Every progress message of a run until it is done, and the report.
fn collect(handle: flowbook::exec::RunHandle) -> (Vec<Telemetry>, flowbook::exec::RunReport) {
    let mut messages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match handle.telemetry().recv_timeout(Duration::from_millis(100)) {
            Ok(Telemetry::Done(_)) => break,
            Ok(t) => messages.push(t),
            Err(_) => {}
        }
    }
    (messages, handle.wait())
}

#[test]
fn telemetry_carries_skew_port_counts_window_samples_and_late_records() {
    let _serial = serial();
    let mut g = example("sensor-windows.ron");
    set(&mut g, "watermark", "delay_ms", ParamValue::Int(0));
    set(
        &mut g,
        "window",
        "kind",
        ParamValue::Text("tumbling".into()),
    );
    set(&mut g, "window", "size_ms", ParamValue::Int(1000));
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("windows.csv").display().to_string();
    set(&mut g, "sink", "path", ParamValue::Text(path));
    let handle = start(&plan(&g).unwrap(), RunOptions::default()).unwrap();
    let (messages, report) = collect(handle);
    assert_eq!(report.outcome, Outcome::Finished);
    let partition = report.node("partition").unwrap();
    let skew = partition
        .skew
        .as_ref()
        .expect("a partition reports its skew");
    assert_eq!(skew.per_substream.len(), 2);
    assert_eq!(skew.per_substream.iter().sum::<u64>(), partition.records_in);
    assert!(skew.per_substream.iter().all(|&n| n > 0), "{skew:?}");
    // Eight sensors, equally often: each estimate near 40,000 / 8.
    assert_eq!(skew.hot_keys.len(), 8, "{skew:?}");
    let window = report.node("window").unwrap();
    assert_eq!(window.instance_in.iter().sum::<u64>(), window.records_in);
    assert_eq!(window.port_out.len(), 2);
    assert_eq!(
        window.port_out[1], window.late,
        "the late port carries the late records"
    );
    assert!(
        window.late > 0,
        "a watermark without delay makes late records"
    );
    let mut samples = 0;
    let mut late = 0;
    for m in &messages {
        if let Telemetry::Progress {
            windows, late: l, ..
        } = m
        {
            samples += windows.iter().map(|w| w.samples.len()).sum::<usize>();
            late += l.iter().map(|w| w.samples.len()).sum::<usize>();
        }
    }
    assert!(samples > 100, "window samples over the run: {samples}");
    assert!(
        late > 0 && late as u64 <= window.late,
        "late samples {late}"
    );
}

#[test]
fn a_preview_shows_the_last_records_only_while_watched() {
    let _serial = serial();
    let mut g = example("bench-window.ron");
    set(&mut g, "source", "bounded", ParamValue::Bool(false));
    let handle = start(&plan(&g).unwrap(), RunOptions::default()).unwrap();
    let preview_of = |h: &flowbook::exec::RunHandle| {
        let deadline = Instant::now() + Duration::from_millis(400);
        let mut last = Vec::new();
        while Instant::now() < deadline {
            if let Ok(Telemetry::Progress { nodes, .. }) =
                h.telemetry().recv_timeout(Duration::from_millis(50))
            {
                last = nodes
                    .iter()
                    .find(|n| n.name == "watermark")
                    .map(|n| n.preview.clone())
                    .unwrap_or_default();
            }
        }
        last
    };
    assert!(preview_of(&handle).is_empty(), "off by default");
    handle.watch_preview("watermark", true);
    let preview = preview_of(&handle);
    let port = preview.first().expect("one port");
    assert_eq!(port.headers[..2], ["key".to_string(), "time".to_string()]);
    assert_eq!(port.rows.len(), flowbook::exec::PREVIEW_ROWS);
    assert!(port.rows.iter().all(|r| r.len() == port.headers.len()));
    handle.watch_preview("watermark", false);
    assert!(preview_of(&handle).is_empty(), "off again");
    handle.send(Control::Stop);
    assert_eq!(handle.wait().outcome, Outcome::Stopped);
}

#[test]
fn a_trainer_shares_its_model_and_pauses_between_steps() {
    let _serial = serial();
    let mut g = example("moons.ron");
    set(&mut g, "trainer", "epochs", ParamValue::Int(10_000));
    let handle = start(&plan(&g).unwrap(), RunOptions::default()).unwrap();
    let steps = |h: &flowbook::exec::RunHandle, wait_ms: u64| {
        let deadline = Instant::now() + Duration::from_millis(wait_ms);
        let mut step = None;
        let mut insight = None;
        while Instant::now() < deadline {
            if let Ok(Telemetry::Progress {
                nodes, insights, ..
            }) = h.telemetry().recv_timeout(Duration::from_millis(20))
            {
                step = nodes
                    .iter()
                    .find(|n| n.name == "trainer")
                    .and_then(|n| n.last_metrics.first().map(|m| m.1))
                    .or(step);
                insight = insights.into_iter().last().or(insight);
            }
        }
        (step, insight)
    };
    let (_, insight) = steps(&handle, 600);
    let insight = insight.expect("a trainer shares its model");
    assert_eq!(insight.insight.model.input_width(), 2);
    assert_eq!(
        insight.insight.layers.len(),
        5,
        "dense, tanh, dense, tanh, dense"
    );
    assert!(
        !insight.insight.points.is_empty(),
        "training points of a 2-input classifier"
    );
    handle.send(Control::Pause);
    let _ = steps(&handle, 200);
    let (a, _) = steps(&handle, 300);
    let (b, _) = steps(&handle, 300);
    assert_eq!(
        a, b,
        "no training steps while paused (epochs replay included)"
    );
    handle.send(Control::Stop);
    let started = Instant::now();
    let report = handle.wait();
    assert_eq!(
        report.outcome,
        Outcome::Stopped,
        "a stop while paused is not a failure"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// Every example runs headless to completion (endless ones are finished after a second), with
/// its CSV outputs written to a temp dir. Sources read paths relative to the examples' folder.
#[test]
fn every_example_runs_to_completion() {
    let _serial = serial();
    let out = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("example-graphs");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".ron"))
        .collect();
    names.sort();
    assert!(names.len() >= 9, "{names:?}");
    for name in names {
        let mut g = example(&name);
        for node in &mut g.nodes {
            if node.kind == "csv_sink" {
                let file = out.path().join(format!("{}-{}.csv", name, node.name));
                node.params
                    .insert("path".into(), ParamValue::Text(file.display().to_string()));
            } else if node.kind == "csv_source" {
                let Some(ParamValue::Text(path)) = node.params.get("path").cloned() else {
                    panic!("{name}: a CSV source without a path");
                };
                let absolute = dir.join(path);
                node.params.insert(
                    "path".into(),
                    ParamValue::Text(absolute.display().to_string()),
                );
            }
        }
        if name == "bench-window.ron" {
            set(&mut g, "source", "count", ParamValue::Int(200_000));
        }
        let started = Instant::now();
        let handle = start(&plan(&g).unwrap(), RunOptions::default()).unwrap();
        let mut finishing = false;
        while !handle.is_done() {
            if !finishing && started.elapsed() > Duration::from_secs(1) {
                handle.send(Control::Finish);
                finishing = true;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{name} did not finish"
            );
            while handle.telemetry().try_recv().is_ok() {}
            std::thread::sleep(Duration::from_millis(10));
        }
        let report = handle.wait();
        assert_eq!(report.outcome, Outcome::Finished, "{name}");
        assert!(
            report.nodes.iter().any(|n| n.records_out > 0),
            "{name} moved records"
        );
    }
}

#[test]
fn telemetry_nobody_reads_stays_bounded_and_the_end_still_gets_through() {
    use flowbook::exec::{TELEMETRY_CAPACITY, TelemetryWaker};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let _serial = serial();
    let mut g = example("bench-window.ron");
    set(&mut g, "source", "bounded", ParamValue::Bool(false));
    set(&mut g, "source", "rate_per_s", ParamValue::Float(10_000.0));
    let wakes = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&wakes);
    let options = RunOptions {
        // A tick every millisecond: the channel would hold ~1500 messages by the end.
        tick: Duration::from_millis(1),
        waker: Some(TelemetryWaker::new(move || {
            counted.fetch_add(1, Ordering::Relaxed);
        })),
        ..RunOptions::default()
    };
    let handle = start(&plan(&g).unwrap(), options).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // Nobody read: the channel is full up to the two messages kept for the end.
    assert!(handle.telemetry().len() <= TELEMETRY_CAPACITY - 2);
    assert!(
        handle.telemetry().len() >= TELEMETRY_CAPACITY / 2,
        "ticks were sent"
    );
    assert!(
        wakes.load(Ordering::Relaxed) >= TELEMETRY_CAPACITY as u64,
        "the reader was woken"
    );
    handle.send(Control::Finish);
    let mut last = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match handle.telemetry().recv_timeout(Duration::from_millis(100)) {
            Ok(message) => {
                let done = matches!(message, Telemetry::Done(_));
                last = Some(message);
                if done {
                    break;
                }
            }
            Err(_) => continue,
        }
    }
    let Some(Telemetry::Done(report)) = last else {
        panic!("the run's end did not arrive: {last:?}");
    };
    assert_eq!(report.outcome, Outcome::Finished);
    assert_eq!(handle.wait().outcome, Outcome::Finished);
}

/// The dense benchmark graph with its null sink replaced: `tail` builds what comes after the
/// partition and returns the node the CSV sink reads.
fn split_source_run(parallelism: i64, records: bool, out: &Path) -> flowbook::exec::RunReport {
    use flowbook::graph::{Edge, PortRef};
    let mut g = example("bench-window-dense.ron");
    set(&mut g, "source", "count", ParamValue::Int(300_000));
    set(
        &mut g,
        "partition",
        "parallelism",
        ParamValue::Int(parallelism),
    );
    let sink = g.add_node("csv_sink", "csv", [0.0, 0.0]);
    set(
        &mut g,
        "csv",
        "path",
        ParamValue::Text(out.display().to_string()),
    );
    let id = |g: &flowbook::graph::Graph, name: &str| g.node_by_name(name).unwrap().id;
    let from = if records {
        // Every record as it leaves the partition, gathered by a merge.
        for name in ["window", "aggregate", "sink"] {
            let node = id(&g, name);
            g.remove_node(node);
        }
        let merge = g.add_node("merge", "merge", [0.0, 0.0]);
        g.edges.push(Edge {
            from: PortRef::new(id(&g, "partition"), "out"),
            to: PortRef::new(merge, "in"),
        });
        merge
    } else {
        let node = id(&g, "sink");
        g.remove_node(node);
        id(&g, "aggregate")
    };
    g.edges.push(Edge {
        from: PortRef::new(from, "out"),
        to: PortRef::new(sink, "in"),
    });
    let plan = plan(&g).unwrap();
    start(&plan, RunOptions::default()).unwrap().wait()
}

fn sorted_lines(path: &Path) -> Vec<String> {
    let mut rows: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_split_sequence_source_yields_the_records_and_windows_of_one_instance() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    // The source splits only where there are cores for its instances.
    let splits = flowbook::exec::threads_available() >= 2;
    for records in [true, false] {
        let mut outputs = Vec::new();
        for parallelism in [1, 2] {
            let out = dir.path().join(format!("p{parallelism}-{records}.csv"));
            let report = split_source_run(parallelism, records, &out);
            assert_eq!(report.outcome, Outcome::Finished);
            let source = report.nodes.iter().find(|n| n.name == "source").unwrap();
            assert_eq!(source.records_out, 300_000);
            if parallelism == 2 && splits {
                let partition = report.nodes.iter().find(|n| n.name == "partition");
                let per_instance = &partition.unwrap().instance_in;
                assert_eq!(
                    per_instance.len(),
                    2,
                    "the source chain runs with the partition's parallelism"
                );
                assert!(
                    per_instance.iter().all(|&n| n > 100_000),
                    "{per_instance:?}"
                );
            }
            outputs.push(sorted_lines(&out));
        }
        let expected = if records { 300_001 } else { 3_001 };
        assert_eq!(outputs[0].len(), expected, "records={records}");
        assert!(
            outputs[0] == outputs[1],
            "records={records}: p=2 with a split source differs from p=1"
        );
    }
}
