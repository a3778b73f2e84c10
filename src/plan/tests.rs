//! The planner's behaviour: every node kind's typed spec from its parameters, every choice
//! word of the catalogue has a meaning, wires route as the kinds say, and every parameter
//! problem names its node and parameter with the message users see.

use super::sketch::{Sketch, bool, events_csv, float, int, sample, text};
use super::*;
use crate::catalog::{LayerType, ParamKind};
use crate::graph::ParamValue;
use crate::learn::trainer::TrainingMode;
use crate::nn::{Init, LayerKind, LossKind, OptimizerConfig};
use crate::stream::aggregate::AggregateFn;
use crate::stream::sinks::Column;
use crate::stream::sources::NonFinitePolicy;

fn planned(graph: &Graph) -> LogicalPlan {
    match plan(graph) {
        Ok(plan) => plan,
        Err(problems) => panic!("the graph should plan: {problems:?}"),
    }
}

/// The spec of node `it` once `params` are set on it.
fn spec_of(kind: NodeKind, params: &[(&str, ParamValue)]) -> OpSpec {
    let mut graph = sample(kind);
    let it = graph.node_by_name_mut("it").expect("the sample has `it`");
    for (name, value) in params {
        it.params.insert((*name).to_owned(), value.clone());
    }
    let plan = planned(&graph);
    plan.nodes
        .into_iter()
        .find(|n| n.name == "it")
        .map(|n| n.spec)
        .expect("`it` is planned")
}

/// The first problem with `graph`, as users read it.
fn first_problem(graph: &Graph) -> String {
    match plan(graph) {
        Ok(_) => panic!("the graph should have a problem"),
        Err(problems) => problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
    }
}

#[test]
fn every_kind_has_a_sample_that_plans_to_its_own_spec_variant() {
    for kind in NodeKind::all() {
        let spec = spec_of(kind, &[]);
        assert_eq!(spec.kind(), kind, "{}", kind.spec().id);
    }
}

#[test]
fn every_choice_word_of_the_catalogue_has_a_meaning() {
    for kind in NodeKind::all() {
        for param in kind.spec().params {
            let ParamKind::Choice(words) = param.kind else {
                continue;
            };
            for word in words {
                let mut graph = sample(kind);
                // A forward partition keeps its upstream's split, which the sample gives.
                if let Some(it) = graph.node_by_name_mut("it") {
                    it.params.insert(param.name.to_owned(), text(word));
                }
                let result = plan(&graph);
                let about_this = result.as_ref().err().and_then(|problems| {
                    problems
                        .iter()
                        .find(|p| p.param.as_deref() == Some(param.name))
                });
                assert!(
                    about_this.is_none_or(|p| !p.message.contains("expected one of")),
                    "{}.{} = {word}: {about_this:?}",
                    kind.spec().id,
                    param.name
                );
            }
        }
    }
}

#[test]
fn generators_read_count_start_seed_and_pace() {
    let spec = spec_of(
        NodeKind::SensorSource,
        &[
            ("count", int(123)),
            ("start_ms", int(-5)),
            ("seed", int(9)),
            ("rate_per_s", float(50.0)),
            ("sensors", int(3)),
            ("interval_ms", int(20)),
            ("disorder_ms", int(7)),
            ("anomaly_rate", float(0.25)),
        ],
    );
    let OpSpec::SensorSource {
        generator,
        sensors: 3,
        interval_ms: 20,
        disorder_ms: 7,
        anomaly_rate,
    } = spec
    else {
        panic!("{spec:?}");
    };
    assert_eq!(anomaly_rate, 0.25);
    assert_eq!(generator.options.count, Some(123));
    assert_eq!(
        (generator.options.start_ms, generator.options.seed),
        (-5, 9)
    );
    assert_eq!(generator.rate_per_s, 50.0);
    let endless = spec_of(NodeKind::SequenceSource, &[("bounded", bool(false))]);
    let OpSpec::SequenceSource {
        generator,
        keys: 1000,
        step_ms: 1,
        per_step: 1,
        key_order: crate::stream::sources::KeyOrder::Cycle,
    } = endless
    else {
        panic!("{endless:?}");
    };
    assert_eq!(generator.options.count, None, "unbounded: endless");
    let clicks = spec_of(
        NodeKind::ClickSource,
        &[("users", int(4)), ("idle_ms", int(99))],
    );
    assert!(matches!(
        clicks,
        OpSpec::ClickSource {
            users: 4,
            pages: 20,
            think_ms: 2000,
            idle_ms: 99,
            ..
        }
    ));
}

#[test]
fn a_csv_source_reads_its_options_and_resolves_its_path() {
    let spec = spec_of(
        NodeKind::CsvSource,
        &[
            ("delimiter", text(",")),
            ("bad_rows", text("skip")),
            ("non_finite", text("fail")),
            ("key_column", text(" ")),
            ("value_columns", text("value, ")),
        ],
    );
    let OpSpec::CsvSource(options) = spec else {
        panic!("{spec:?}");
    };
    assert_eq!(options.path, std::path::PathBuf::from(events_csv()));
    assert_eq!(options.key_column, None, "blank = one key for all rows");
    assert_eq!(options.time_column.as_deref(), Some("ts_ms"));
    assert_eq!(options.value_columns, vec!["value".to_owned()]);
    assert!(options.skip_bad_rows);
    assert_eq!(options.non_finite, NonFinitePolicy::Fail);
    assert_eq!(options.delimiter, b',');
}

#[test]
fn each_window_kind_reads_its_own_parameters() {
    let window = |kind: &str| match spec_of(
        NodeKind::Window,
        &[
            ("kind", text(kind)),
            ("size_ms", int(3000)),
            ("slide_ms", int(1000)),
            ("offset_ms", int(200)),
            ("gap_ms", int(700)),
            ("count", int(5)),
            ("count_slide", int(2)),
            ("allowed_lateness_ms", int(250)),
            ("state_limit", int(99)),
        ],
    ) {
        OpSpec::Window(window) => window,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        window("tumbling").assigner,
        WindowAssigner::Tumbling {
            size_ms: 3000,
            offset_ms: 200
        }
    );
    assert_eq!(
        window("sliding").assigner,
        WindowAssigner::Sliding {
            size_ms: 3000,
            slide_ms: 1000,
            offset_ms: 200
        }
    );
    assert_eq!(
        window("session").assigner,
        WindowAssigner::Session { gap_ms: 700 }
    );
    assert_eq!(window("count").assigner, WindowAssigner::Count { count: 5 });
    let sliding_count = window("count_sliding");
    assert_eq!(
        sliding_count.assigner,
        WindowAssigner::CountSliding { count: 5, slide: 2 }
    );
    assert_eq!(sliding_count.allowed_lateness_ms, 250);
    assert_eq!(sliding_count.state_limit, 99);
}

#[test]
fn a_window_keeps_what_its_aggregate_reads_and_a_lone_aggregate_is_fused() {
    let plan = planned(
        &Sketch::new()
            .node("src", "sensor_source", &[("count", int(100))])
            .node("window", "window", &[])
            .node("agg", "aggregate", &[("functions", text("count, max"))])
            .wire("src.out", "window.in")
            .wire("window.out", "agg.in")
            .build(),
    );
    let [.., window, agg] = plan.nodes.as_slice() else {
        panic!("three nodes");
    };
    let (OpSpec::Window(window), OpSpec::Aggregate(agg)) = (&window.spec, &agg.spec) else {
        panic!("a window and an aggregate");
    };
    assert_eq!(agg.functions, vec![AggregateFn::Count, AggregateFn::Max]);
    assert!(
        agg.fused,
        "the window's only consumer, reading its first field"
    );
    assert_eq!(
        window.pane.fused_aggregate,
        Some(vec![AggregateFn::Count, AggregateFn::Max])
    );
    // Two aggregates over different fields: statistics of both, no fusion.
    let plan = planned(
        &Sketch::new()
            .node("src", "sensor_source", &[("count", int(100))])
            .node("window", "window", &[])
            .node("a", "aggregate", &[("field", text("anomaly"))])
            .node("b", "aggregate", &[("field", text("value,anomaly"))])
            .wire("src.out", "window.in")
            .wire("window.out", "a.in")
            .wire("window.out", "b.in")
            .build(),
    );
    let specs: Vec<&OpSpec> = plan.nodes.iter().map(|n| &n.spec).collect();
    let [
        _,
        OpSpec::Window(window),
        OpSpec::Aggregate(a),
        OpSpec::Aggregate(b),
    ] = specs.as_slice()
    else {
        panic!("{specs:?}");
    };
    assert_eq!(
        window.pane.stats_fields,
        vec![1, 0],
        "anomaly first, then value"
    );
    assert_eq!((a.stats_indices.clone(), a.fused), (vec![0], false));
    assert_eq!(b.stats_indices, vec![1, 0]);
}

#[test]
fn transforms_compile_their_expressions_once_against_the_input() {
    let OpSpec::Map { assignments } = spec_of(
        NodeKind::Map,
        &[("assign", text("doubled = value * 2; big = doubled > 100"))],
    ) else {
        panic!("a map");
    };
    let names: Vec<&str> = assignments.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["doubled", "big"]);
    let OpSpec::Filter { predicate } =
        spec_of(NodeKind::Filter, &[("predicate", text("value < 3"))])
    else {
        panic!("a filter");
    };
    assert_eq!(predicate.text, "value < 3");
    assert!(matches!(
        spec_of(NodeKind::Watermark, &[("delay_ms", int(42))]),
        OpSpec::Watermark { delay_ms: 42 }
    ));
    assert!(matches!(
        spec_of(
            NodeKind::Fault,
            &[("at_record", int(3)), ("mode", text("panic"))]
        ),
        OpSpec::Fault {
            at_record: 3,
            mode: FaultMode::Panic
        }
    ));
    assert!(matches!(
        spec_of(NodeKind::NullSink, &[("delay_us", int(5))]),
        OpSpec::NullSink { delay_per_record } if delay_per_record.as_micros() == 5
    ));
}

#[test]
fn a_csv_sink_resolves_its_columns_and_path() {
    let OpSpec::CsvSink {
        path,
        header,
        columns,
    } = spec_of(
        NodeKind::CsvSink,
        // A relative path into a folder that exists (outputs into missing folders are refused).
        &[("path", text("src/x.csv")), ("columns", text("key, value"))],
    )
    else {
        panic!("a csv sink");
    };
    assert!(
        path.is_absolute() && path.ends_with("src/x.csv"),
        "{path:?}"
    );
    assert_eq!(header, ["key", "value"]);
    assert_eq!(columns, [Column::Key, Column::Field(0)]);
}

#[test]
fn partitions_route_their_outgoing_wires_by_their_strategy() {
    let graph = Sketch::new()
        .node("src", "sequence_source", &[("count", int(100))])
        .node("watermark", "watermark", &[])
        .node(
            "partition",
            "partition",
            &[("strategy", text("round_robin")), ("parallelism", int(3))],
        )
        .node("map", "map", &[])
        .node("merge", "merge", &[])
        .node("sink", "null_sink", &[])
        .wire("src.out", "watermark.in")
        .wire("watermark.out", "partition.in")
        .wire("partition.out", "map.in")
        .wire("map.out", "merge.in")
        .wire("merge.out", "sink.in")
        .build();
    let plan = planned(&graph);
    let routing = |name: &str| {
        plan.nodes
            .iter()
            .find(|n| n.name == name)
            .map(|n| (n.inputs[0].routing, n.parallelism))
    };
    assert_eq!(routing("watermark"), Some((Routing::Local, 1)));
    assert_eq!(routing("partition"), Some((Routing::Local, 1)));
    assert_eq!(
        routing("map"),
        Some((Routing::Exchange(Strategy::RoundRobin), 3))
    );
    assert_eq!(
        routing("merge"),
        Some((Routing::Exchange(Strategy::Forward), 1)),
        "three instances gather into one"
    );
    assert_eq!(routing("sink"), Some((Routing::Local, 1)));
    assert!(matches!(
        plan.nodes[2].spec,
        OpSpec::Partition {
            strategy: Strategy::RoundRobin,
            parallelism: 3
        }
    ));
}

#[test]
fn learning_nodes_read_their_parameters() {
    assert!(matches!(
        spec_of(
            NodeKind::DatasetSource,
            &[
                ("dataset", text("spiral")),
                ("bounded", bool(false)),
                ("noise", float(0.5)),
                ("seed", int(3))
            ]
        ),
        OpSpec::DatasetSource {
            dataset: crate::learn::dataset_source::DatasetKind::Spiral,
            count: None,
            seed: 3,
            ..
        }
    ));
    assert!(matches!(
        spec_of(
            NodeKind::Split,
            &[
                ("train_ratio", float(0.5)),
                ("by", text("key")),
                ("seed", int(4))
            ]
        ),
        OpSpec::Split {
            by: SplitBy::Key,
            seed: 4,
            ..
        }
    ));
    let OpSpec::Normalize { fields } = spec_of(NodeKind::Normalize, &[("fields", text("x2"))])
    else {
        panic!("a normalize");
    };
    assert_eq!(fields, [1], "x2 is the second field");
    let OpSpec::Batch {
        size,
        features,
        sequence: None,
        negatives: None,
    } = spec_of(
        NodeKind::Batch,
        &[
            ("size", int(16)),
            ("features", text("x2,x1")),
            ("labels", text("one_hot")),
            ("scale", float(0.5)),
        ],
    )
    else {
        panic!("a batch");
    };
    assert_eq!(size, 16);
    assert_eq!(features.features, [1, 0]);
    assert_eq!(features.label, Some(2));
    assert_eq!(features.scale, 0.5);
    assert_eq!(
        features.label_kind,
        crate::learn::LabelKind::OneHot { classes: 2 }
    );
    assert!(matches!(
        spec_of(NodeKind::Shard, &[("replicas", int(3))]),
        OpSpec::Shard { replicas: 3 }
    ));
    assert!(matches!(
        spec_of(NodeKind::Predict, &[("wait_for_final", bool(false))]),
        OpSpec::Predict {
            wait_for_final: false
        }
    ));
    assert!(matches!(
        spec_of(NodeKind::Loss, &[]),
        OpSpec::Loss(LossKind::CrossEntropy)
    ));
}

#[test]
fn every_layer_kind_reads_its_parameters() {
    let layer = |layer: LayerType, params: &[(&str, ParamValue)]| match spec_of(
        NodeKind::Layer(layer),
        params,
    ) {
        OpSpec::Layer {
            of, layer: kind, ..
        } => {
            assert_eq!(of, layer);
            kind
        }
        other => panic!("{other:?}"),
    };
    for &kind in LayerType::ALL {
        let read = layer(kind, &[]);
        assert_eq!(read.short_name(), kind.spec().id);
    }
    assert_eq!(
        layer(
            LayerType::Dense,
            &[
                ("units", int(2)),
                ("inputs", int(2)),
                ("init", text("xavier_normal"))
            ]
        ),
        LayerKind::Dense {
            units: 2,
            inputs: Some(2),
            init: Init::XavierNormal
        }
    );
    assert_eq!(
        layer(LayerType::Dense, &[("units", int(2))]),
        LayerKind::Dense {
            units: 2,
            inputs: None,
            init: Init::HeUniform
        },
        "inputs 0 = whatever comes in"
    );
    assert_eq!(
        layer(LayerType::LeakyRelu, &[("slope", float(0.5))]),
        LayerKind::LeakyRelu { slope: 0.5 }
    );
    assert_eq!(
        layer(
            LayerType::Conv2d,
            &[
                ("filters", int(8)),
                ("kernel", int(2)),
                ("stride", int(2)),
                ("padding", int(0))
            ]
        ),
        LayerKind::Conv2d {
            filters: 8,
            kernel: 2,
            stride: 2,
            padding: 0,
            init: Init::HeUniform
        }
    );
    assert_eq!(
        layer(LayerType::MaxPool2d, &[("kernel", int(1))]),
        LayerKind::MaxPool2d {
            kernel: 1,
            stride: 0
        }
    );
    assert_eq!(
        layer(
            LayerType::Conv1d,
            &[("filters", int(4)), ("kernel", int(2))]
        ),
        LayerKind::Conv1d {
            filters: 4,
            kernel: 2,
            stride: 1,
            padding: 1,
            init: Init::HeUniform
        }
    );
    assert_eq!(
        layer(LayerType::Gru, &[("hidden", int(7))]),
        LayerKind::Gru {
            hidden: 7,
            return_sequence: false
        }
    );
    assert_eq!(
        layer(LayerType::Embedding, &[("vocab", int(50)), ("dim", int(4))]),
        LayerKind::Embedding { vocab: 50, dim: 4 }
    );
    assert_eq!(
        layer(LayerType::Dropout, &[("p", float(0.25))]),
        LayerKind::Dropout { p: 0.25 }
    );
    assert_eq!(
        layer(LayerType::LayerNorm, &[("eps", float(0.5))]),
        LayerKind::LayerNorm { eps: 0.5 }
    );
}

#[test]
fn a_trainer_builds_its_model_from_its_chain_and_parameters() {
    let OpSpec::Trainer(spec) = spec_of(
        NodeKind::Trainer,
        &[
            ("mode", text("prequential")),
            ("window", int(7)),
            ("optimizer", text("nesterov")),
            ("momentum", float(0.5)),
            ("weight_decay", float(0.25)),
            ("lr", float(0.125)),
            ("schedule", text("step")),
            ("step_every", int(10)),
            ("step_gamma", float(0.5)),
            ("warmup_steps", int(3)),
            ("clip_norm", float(2.0)),
            ("eval_every", int(11)),
            ("publish_every", int(12)),
            ("seed", int(13)),
        ],
    ) else {
        panic!("a trainer");
    };
    let config = &spec.config;
    assert_eq!(config.mode, TrainingMode::Prequential { window: 7 });
    assert_eq!(
        config.model.optimizer,
        OptimizerConfig::Sgd {
            momentum: 0.5,
            nesterov: true,
            weight_decay: 0.25
        }
    );
    assert_eq!(config.model.schedule.lr, 0.125);
    assert_eq!(config.model.schedule.warmup_steps, 3);
    assert_eq!(
        config.model.schedule.decay,
        crate::nn::Decay::Step {
            every_steps: 10,
            gamma: 0.5
        }
    );
    assert_eq!(config.model.clip_grad_norm, Some(2.0));
    assert_eq!(
        (config.eval_every, config.publish_every, config.seed),
        (11, 12, 13)
    );
    assert_eq!(config.model.input_width, 2);
    assert_eq!(config.model.layers.len(), 1);
    assert_eq!(config.model.layers[0].name, "dense");
    assert_eq!(spec.batch_fields, ["x1", "x2", "label"]);
    assert_eq!(spec.model_parts.len(), 2, "the dense layer and the loss");
}

#[test]
fn layers_and_loss_belong_to_their_trainer() {
    let plan = planned(&sample(NodeKind::Trainer));
    let owners = plan.model_owners();
    let index = |name: &str| plan.nodes.iter().position(|n| n.name == name);
    let trainer = index("it");
    assert_eq!(owners[index("dense").unwrap()], trainer);
    assert_eq!(owners[index("loss").unwrap()], trainer);
    assert_eq!(owners[index("batch").unwrap()], None);
    let input = &plan.nodes[trainer.unwrap()].inputs[0];
    assert_eq!(
        (input.from, input.routing),
        (index("batch").unwrap(), Routing::Local),
        "the trainer reads its Batch node's output on its thread"
    );
}

/// Every parameter problem the planner reports, with the message users read.
#[test]
fn every_parameter_problem_is_named() {
    let sequence = || Sketch::new().node("src", "sequence_source", &[("count", int(10))]);
    let cases: Vec<(Graph, &str)> = vec![
        (
            sample(NodeKind::Window).with_param("it", "size_ms", int(0)),
            "it.size_ms: is 0, outside 1..=864000000000",
        ),
        (
            sample(NodeKind::Window).with_param("it", "sise_ms", int(5)),
            "it.sise_ms: window has no parameter 'sise_ms'; it has: kind, size_ms, slide_ms, offset_ms, gap_ms, count, count_slide, allowed_lateness_ms, state_limit",
        ),
        (
            sample(NodeKind::Window).with_param("it", "kind", text("hopping")),
            "it.kind: is 'hopping', expected one of: tumbling, sliding, session, count, count_sliding",
        ),
        (
            sample(NodeKind::Window).with_param("it", "size_ms", text("big")),
            "it.size_ms: is \"big\", expected an integer",
        ),
        (
            sample(NodeKind::CsvSource).with_param("it", "path", text("")),
            "it.path: no file chosen: set 'path' to a CSV file",
        ),
        (
            sample(NodeKind::CsvSource).with_param("it", "path", text("/no/such.csv")),
            "it.path: cannot open '/no/such.csv'",
        ),
        (
            sample(NodeKind::CsvSource).with_param("it", "key_column", text("nope")),
            "it.key_column: no column 'nope' in '",
        ),
        (
            sample(NodeKind::CsvSource).with_param("it", "time_column", text("nope")),
            "it.time_column: no column 'nope' in '",
        ),
        (
            sample(NodeKind::CsvSource).with_param("it", "value_columns", text("nope")),
            "it.value_columns: no column 'nope' in '",
        ),
        (
            sample(NodeKind::Partition)
                .with_param("it", "strategy", text("forward"))
                .with_param("it", "parallelism", int(2)),
            "it.strategy: forward keeps the upstream split of 1 sub-streams, but parallelism is 2; use hash or round_robin to change it",
        ),
        (
            sample(NodeKind::Map).with_param("it", "assign", text("x = nope + 1")),
            "it.assign: ",
        ),
        (
            sample(NodeKind::Filter).with_param("it", "predicate", text("value >")),
            "it.predicate: ",
        ),
        (
            sequence()
                .node(
                    "p",
                    "partition",
                    &[("strategy", text("round_robin")), ("parallelism", int(2))],
                )
                .node("it", "window", &[])
                .wire("src.out", "p.in")
                .wire("p.out", "it.in")
                .build(),
            "it: runs as 2 parallel instances but its input is not partitioned by key; put a Partition node with strategy 'hash' in front",
        ),
        (
            sample(NodeKind::Window)
                .with_param("it", "size_ms", int(1000))
                .with_param("it", "offset_ms", int(1000)),
            "it.offset_ms: offset_ms 1000 is not allowed with size_ms 1000: Flink requires |offset_ms| < size_ms for tumbling windows",
        ),
        (
            sample(NodeKind::Window)
                .with_param("it", "kind", text("sliding"))
                .with_param("it", "offset_ms", int(-500)),
            "it.offset_ms: offset_ms -500 is not allowed with slide_ms 500: Flink requires |offset_ms| < slide_ms for sliding windows",
        ),
        (
            sample(NodeKind::Aggregate).with_param("it", "functions", text("count,median")),
            "it.functions: ",
        ),
        (
            sample(NodeKind::Aggregate).with_param("it", "functions", text(" , ")),
            "it.functions: choose at least one function",
        ),
        (
            sample(NodeKind::Aggregate).with_param("it", "field", text("price")),
            "it.field: no field 'price' in the window's records; they have: value",
        ),
        (
            sample(NodeKind::CsvSink).with_param("it", "path", text(" ")),
            "it.path: no file chosen: set 'path'",
        ),
        (
            sample(NodeKind::CsvSink).with_param("it", "columns", text("key,price")),
            "it.columns: no field 'price' to write; available: kind, key, ts_ms, value",
        ),
        (
            sample(NodeKind::Normalize).with_param("it", "fields", text("x3")),
            "it.fields: no field 'x3'; fields are: x1, x2, label",
        ),
        (
            sample(NodeKind::Batch).with_param("it", "label", text("y")),
            "it.label: no field 'y' in its input; fields are: x1, x2, label",
        ),
        (
            sample(NodeKind::Batch).with_param("it", "features", text("x1,x9")),
            "it.features: no field 'x9' in its input; fields are: x1, x2, label",
        ),
        (
            sample(NodeKind::Trainer).with_param("dense", "units", int(3)),
            "loss: the model gives 3 outputs but the labels have 2 classes: make the last dense layer's units 2",
        ),
        (
            sample(NodeKind::Trainer).with_param("dense", "inputs", int(5)),
            "dense: ",
        ),
        (
            sample(NodeKind::Trainer).with_param("loss", "kind", text("mse")),
            "loss: MSE needs value labels: set the Batch node's labels to value",
        ),
        (
            sample(NodeKind::Trainer)
                .with_param("batch", "size", int(1_000_000))
                .with_param("it", "max_model_mb", int(1)),
            "it.max_model_mb: one batch of 1,000,000 rows needs ",
        ),
    ];
    for (graph, expected) in cases {
        let problem = first_problem(&graph);
        assert!(
            problem.starts_with(expected),
            "expected `{expected}…`, got `{problem}`"
        );
    }
}

#[test]
fn a_loss_in_the_middle_of_a_model_is_a_problem_not_a_dropped_layer() {
    let graph = Sketch::new()
        .node("data", "dataset_source", &[("count", int(100))])
        .node("batch", "batch", &[])
        .node("dense", "dense", &[("units", int(2))])
        .node("early", "loss", &[])
        .node("loss", "loss", &[])
        .node("trainer", "trainer", &[])
        .wire("data.out", "batch.in")
        .wire("batch.out", "dense.in")
        .wire("dense.out", "early.in")
        .wire("early.out", "loss.in")
        .wire("loss.out", "trainer.loss")
        .build();
    assert_eq!(
        first_problem(&graph),
        "early: a Loss node ends a model: it cannot feed another layer"
    );
}

/// Sets a parameter in a test graph.
trait WithParam {
    fn with_param(self, node: &str, param: &str, value: ParamValue) -> Self;
}

impl WithParam for Graph {
    fn with_param(mut self, node: &str, param: &str, value: ParamValue) -> Self {
        if let Some(n) = self.node_by_name_mut(node) {
            n.params.insert(param.to_owned(), value);
        }
        self
    }
}
