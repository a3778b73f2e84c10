//! Training on the stream, end to end through the executor: the examples really learn, runs
//! are reproducible bit for bit, data-parallel replicas match one replica, and bad learning
//! graphs are refused with the node named.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flowbook::exec::{Outcome, RunOptions, RunReport, SetParamError, Telemetry, start};
use flowbook::graph::{Edge, Graph, ParamValue, PortRef, load};
use flowbook::plan::{GraphLocation, plan, plan_in};
use std::path::Path;

fn example(name: &str) -> Graph {
    load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("example-graphs")
            .join(name),
    )
    .unwrap()
}

fn set(g: &mut Graph, node: &str, param: &str, value: ParamValue) {
    g.set_param(node, param, value).unwrap();
}

/// Where the examples live: their data paths are relative to that folder.
fn examples() -> GraphLocation {
    GraphLocation::unsaved(&Path::new(env!("CARGO_MANIFEST_DIR")).join("example-graphs"))
}

/// Runs a graph as if saved among the examples (their data paths are relative to that folder);
/// returns the report and every metrics row of `trainer`.
fn run(g: &Graph) -> (RunReport, Vec<Vec<f64>>) {
    let handle = start(&plan_in(g, &examples()).unwrap(), RunOptions::default()).unwrap();
    let mut rows = Vec::new();
    while let Ok(message) = handle.telemetry().recv() {
        match message {
            Telemetry::Progress { metrics, .. } => {
                for m in metrics.into_iter().filter(|m| m.node == "trainer") {
                    rows.extend(m.rows);
                }
            }
            Telemetry::Done(_) => break,
        }
    }
    (handle.wait(), rows)
}

fn metric(report: &RunReport, name: &str) -> f64 {
    let trainer = report.node("trainer").expect("a trainer");
    trainer
        .last_metrics
        .iter()
        .find(|(f, _)| f == name)
        .map_or(f64::NAN, |(_, v)| *v)
}

#[test]
fn digits_mlp_reaches_95_percent_test_accuracy() {
    let (report, rows) = run(&example("digits-mlp.ron"));
    assert_eq!(report.outcome, Outcome::Finished);
    assert_eq!(
        metric(&report, "step"),
        900.0,
        "1438 training rows / 32 = 45 steps × 20 epochs"
    );
    let accuracy = metric(&report, "test_accuracy");
    assert!(accuracy >= 0.95, "test accuracy {accuracy}");
    assert!(rows.len() >= 900);
}

#[test]
fn moons_and_spiral_reach_95_percent() {
    for name in ["moons.ron", "spiral.ron"] {
        let (report, _) = run(&example(name));
        assert_eq!(report.outcome, Outcome::Finished, "{name}");
        let accuracy = metric(&report, "test_accuracy");
        assert!(accuracy >= 0.95, "{name}: test accuracy {accuracy}");
    }
}

#[test]
fn online_regression_learns_test_then_train() {
    let mut g = example("regression-stream.ron");
    set(&mut g, "source", "bounded", ParamValue::Bool(true));
    set(&mut g, "source", "count", ParamValue::Int(40_000));
    let (report, rows) = run(&g);
    assert_eq!(report.outcome, Outcome::Finished);
    let progressive = metric(&report, "progressive_loss");
    // The noise alone has variance 0.01; the bound leaves room for the model's own error.
    assert!(progressive < 0.03, "progressive MSE {progressive}");
    let first = rows
        .first()
        .and_then(|r| r.get(9))
        .copied()
        .unwrap_or(f64::NAN);
    assert!(
        first > 4.0 * progressive,
        "the progressive loss fell from {first} to {progressive}"
    );
}

#[test]
fn same_seed_gives_the_same_loss_curve_bit_for_bit() {
    let g = example("moons.ron");
    let loss = |rows: &[Vec<f64>]| rows.iter().map(|r| r[2].to_bits()).collect::<Vec<_>>();
    let (_, a) = run(&g);
    let (_, b) = run(&g);
    assert!(!a.is_empty());
    assert_eq!(loss(&a), loss(&b));
    // The test curve too: the held-out batches arrive from another thread, and evaluating on
    // whichever had arrived made its first points differ from run to run.
    let test_curve = |rows: &[Vec<f64>]| {
        rows.iter()
            .map(|r| (r[4].to_bits(), r[5].to_bits()))
            .collect::<Vec<_>>()
    };
    let evaluated = a.iter().filter(|r| r[5].is_finite()).count();
    assert!(
        evaluated > 10,
        "the test accuracy is reported during the run ({evaluated} points)"
    );
    assert_eq!(test_curve(&a), test_curve(&b));
    let mut other = g.clone();
    set(&mut other, "trainer", "seed", ParamValue::Int(8));
    let (_, c) = run(&other);
    assert_ne!(loss(&a), loss(&c));
}

/// Puts a Shard node with `replicas` between the Batch node and the first layer.
fn sharded(mut g: Graph, replicas: i64) -> Graph {
    let batch = g.node_by_name("batch").unwrap().id;
    let dense1 = g.node_by_name("dense1").unwrap().id;
    let shard = g.add_node("shard", "shard", [0.0, 0.0]);
    set(&mut g, "shard", "replicas", ParamValue::Int(replicas));
    g.edges
        .retain(|e| !(e.from.node == batch && e.to.node == dense1));
    g.edges.push(Edge {
        from: PortRef::new(batch, "out"),
        to: PortRef::new(shard, "in"),
    });
    g.edges.push(Edge {
        from: PortRef::new(shard, "out"),
        to: PortRef::new(dense1, "in"),
    });
    g
}

#[test]
fn two_replicas_match_one_within_1e_5() {
    let mut g = example("digits-mlp.ron");
    set(&mut g, "trainer", "epochs", ParamValue::Int(3));
    let (one, single) = run(&g);
    let (two, double) = run(&sharded(g, 2));
    assert_eq!(one.outcome, Outcome::Finished);
    assert_eq!(two.outcome, Outcome::Finished);
    let steps = |r: &RunReport| metric(r, "step");
    assert_eq!(
        steps(&one),
        steps(&two),
        "the same number of optimizer steps"
    );
    assert_eq!(single.len(), double.len());
    for (a, b) in single.iter().zip(&double) {
        assert_eq!(a[0], b[0], "same step");
        assert!(
            (a[2] - b[2]).abs() <= 1e-5 * a[2].abs().max(1.0),
            "step {}: loss {} vs {}",
            a[0],
            a[2],
            b[2]
        );
    }
}

#[test]
fn exploding_training_stops_at_the_step_with_a_hint() {
    let mut g = example("regression-stream.ron");
    set(&mut g, "source", "bounded", ParamValue::Bool(true));
    set(&mut g, "source", "count", ParamValue::Int(20_000));
    set(
        &mut g,
        "trainer",
        "optimizer",
        ParamValue::Text("sgd".into()),
    );
    set(&mut g, "trainer", "lr", ParamValue::Float(5.0));
    let (report, _) = run(&g);
    match report.outcome {
        Outcome::Failed { node, message } => {
            assert_eq!(node, "trainer");
            assert!(
                message.contains("at step") && message.contains("learning rate"),
                "{message}"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn problems(g: &Graph) -> String {
    match plan_in(g, &examples()) {
        Ok(_) => String::new(),
        Err(problems) => problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn layer_shapes_that_do_not_fit_are_refused_naming_the_layer() {
    let mut g = example("digits-mlp.ron");
    set(&mut g, "dense2", "inputs", ParamValue::Int(64));
    let text = problems(&g);
    assert!(text.contains("dense2") && text.contains("128"), "{text}");
    let mut g = example("digits-mlp.ron");
    set(&mut g, "dense3", "units", ParamValue::Int(7));
    let text = problems(&g);
    assert!(
        text.contains("loss: the model gives 7 outputs but the labels have 10 classes"),
        "{text}"
    );
}

#[test]
fn missing_label_column_is_named() {
    let mut g = example("digits-mlp.ron");
    set(&mut g, "batch", "label", ParamValue::Text("digit".into()));
    let text = problems(&g);
    assert!(text.contains("batch.label: no field 'digit'"), "{text}");
}

#[test]
fn label_outside_the_class_count_fails_the_run_at_the_batch_node() {
    let mut g = example("digits-mlp.ron");
    set(&mut g, "batch", "classes", ParamValue::Int(5));
    set(&mut g, "test_batch", "classes", ParamValue::Int(5));
    set(&mut g, "dense3", "units", ParamValue::Int(5));
    let (report, _) = run(&g);
    match report.outcome {
        Outcome::Failed { node, message } => {
            assert!(node == "batch" || node == "test_batch", "{node}");
            assert!(message.contains("outside the 5 classes"), "{message}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn an_empty_test_split_is_an_error_naming_the_trainer() {
    let mut g = example("moons.ron");
    set(&mut g, "split", "train_ratio", ParamValue::Float(1.0));
    let (report, _) = run(&g);
    match report.outcome {
        Outcome::Failed { node, message } => {
            assert_eq!(node, "trainer");
            assert!(
                message.contains("test input received no batches"),
                "{message}"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn predict_scores_sensor_windows_and_finds_the_spikes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scores.csv");
    let mut g = example("sensor-anomaly.ron");
    set(
        &mut g,
        "scores",
        "path",
        ParamValue::Text(out.display().to_string()),
    );
    let (report, _) = run(&g);
    assert_eq!(report.outcome, Outcome::Finished);
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .skip(1)
                .map(|v| v.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    let (label, prediction) = (5, 6);
    let positives = rows.iter().filter(|r| r[label] == 1.0).count();
    let found = rows
        .iter()
        .filter(|r| r[label] == 1.0 && r[prediction] == 1.0)
        .count();
    let flagged = rows.iter().filter(|r| r[prediction] == 1.0).count();
    assert!(positives > 100, "{positives} windows with a spike");
    assert!(
        found as f64 >= 0.9 * positives as f64,
        "recall {found}/{positives}"
    );
    assert!(
        found as f64 >= 0.9 * flagged as f64,
        "precision {found}/{flagged}"
    );
}

#[test]
fn learning_rate_changes_while_training_and_shows_in_the_metrics() {
    let g = example("regression-stream.ron");
    let _dir = std::env::set_current_dir(env!("CARGO_MANIFEST_DIR"));
    let handle = start(&plan(&g).unwrap(), RunOptions::default()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let refused = handle.set_param("trainer", "epochs", 3.0).unwrap_err();
    assert!(
        matches!(refused, SetParamError::NotLive { .. })
            && refused.to_string() == "trainer.epochs cannot change while running",
        "{refused}"
    );
    assert!(matches!(
        handle.set_param("trainer", "lr", -1.0),
        Err(SetParamError::OutOfRange { .. })
    ));
    assert_eq!(
        handle.set_param("nobody", "lr", 1.0),
        Err(SetParamError::NoNode("nobody".into()))
    );
    handle.set_param("trainer", "lr", 0.0001).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    handle.send(flowbook::exec::Control::Finish);
    let mut lrs = Vec::new();
    while let Ok(message) = handle.telemetry().recv() {
        match message {
            Telemetry::Progress { metrics, .. } => {
                lrs.extend(metrics.iter().flat_map(|m| m.rows.iter().map(|r| r[6])));
            }
            Telemetry::Done(_) => break,
        }
    }
    assert_eq!(handle.wait().outcome, Outcome::Finished);
    let first = lrs.first().copied().unwrap_or(f64::NAN);
    let last = lrs.last().copied().unwrap_or(f64::NAN);
    assert!(
        (first - 0.005).abs() < 1e-9,
        "starts at the graph's lr: {first}"
    );
    assert!((last - 0.0001).abs() < 1e-9, "ends at the live lr: {last}");
}

#[test]
fn a_metrics_stream_can_be_windowed_like_any_stream() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("loss-per-10-steps.csv");
    let mut g = example("moons.ron");
    let trainer = g.node_by_name("trainer").unwrap().id;
    let window = g.add_node("window", "every10", [0.0, 0.0]);
    let aggregate = g.add_node("aggregate", "mean_loss", [0.0, 0.0]);
    let sink = g.add_node("csv_sink", "loss_sink", [0.0, 0.0]);
    set(&mut g, "every10", "kind", ParamValue::Text("count".into()));
    set(&mut g, "every10", "count", ParamValue::Int(10));
    set(
        &mut g,
        "mean_loss",
        "functions",
        ParamValue::Text("count,mean".into()),
    );
    set(
        &mut g,
        "mean_loss",
        "field",
        ParamValue::Text("loss".into()),
    );
    set(
        &mut g,
        "loss_sink",
        "path",
        ParamValue::Text(out.display().to_string()),
    );
    for (a, ap, b, bp) in [
        (trainer, "metrics", window, "in"),
        (window, "out", aggregate, "in"),
        (aggregate, "out", sink, "in"),
    ] {
        g.edges.push(Edge {
            from: PortRef::new(a, ap),
            to: PortRef::new(b, bp),
        });
    }
    let (report, rows) = run(&g);
    assert_eq!(report.outcome, Outcome::Finished);
    let written = std::fs::read_to_string(&out).unwrap();
    let windows = written.lines().count() - 1;
    assert_eq!(windows, rows.len() / 10, "one row per 10 metrics records");
    let first_mean: f64 = written
        .lines()
        .nth(1)
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let expected = rows.iter().take(10).map(|r| r[2]).sum::<f64>() / 10.0;
    assert!(
        (first_mean - expected).abs() < 1e-9,
        "{first_mean} vs {expected}"
    );
}
