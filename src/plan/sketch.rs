//! Small graphs written in a line each, for the planner's and the executor's tests: nodes by
//! name and kind with a few parameters, wires as `"from.port" → "to.port"`, and for every node
//! kind a smallest valid graph holding one node of it, named `it`.

use crate::catalog::{LayerType, NodeKind};
use crate::graph::{Edge, Graph, Node, NodeId, ParamValue, PortRef};

/// A graph under construction.
pub struct Sketch {
    pub graph: Graph,
}

impl Sketch {
    pub fn new() -> Self {
        Self {
            graph: Graph::new("sketch"),
        }
    }

    /// Adds node `name` of kind `kind` (its catalogue id) with these parameters.
    pub fn node(mut self, name: &str, kind: &str, params: &[(&str, ParamValue)]) -> Self {
        let id = NodeId(self.graph.nodes.len() as u32 + 1);
        self.graph.nodes.push(Node {
            id,
            name: name.to_owned(),
            kind: kind.to_owned(),
            pos: [0.0, 0.0],
            params: params
                .iter()
                .map(|(p, v)| ((*p).to_owned(), v.clone()))
                .collect(),
            notes: String::new(),
        });
        self
    }

    /// Wires `from` ("node.port") to `to` ("node.port").
    pub fn wire(mut self, from: &str, to: &str) -> Self {
        let end = |text: &str| {
            let (name, port) = text.split_once('.').unwrap_or((text, "out"));
            let node = self.graph.node_by_name(name).map_or(NodeId(0), |n| n.id);
            PortRef::new(node, port)
        };
        let edge = Edge {
            from: end(from),
            to: end(to),
        };
        self.graph.edges.push(edge);
        self
    }

    pub fn build(self) -> Graph {
        self.graph
    }
}

pub fn int(i: i64) -> ParamValue {
    ParamValue::Int(i)
}

pub fn float(x: f64) -> ParamValue {
    ParamValue::Float(x)
}

pub fn text(s: &str) -> ParamValue {
    ParamValue::Text(s.to_owned())
}

pub fn bool(b: bool) -> ParamValue {
    ParamValue::Bool(b)
}

/// The Flink reference events (key, ts_ms, value), for CSV sources.
pub fn events_csv() -> String {
    format!(
        "{}/tests/data/flink/events_a.csv",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A keyed stream of `value`s into node `it`.
fn after_sequence(kind: &str) -> Sketch {
    Sketch::new()
        .node("src", "sequence_source", &[("count", int(100))])
        .node("it", kind, &[])
        .wire("src.out", "it.in")
}

/// Two-moons batches into `first` (a layer), which feeds a 2-unit dense layer, a loss and a
/// trainer: a model that trains.
fn model_around(first: &str) -> Sketch {
    Sketch::new()
        .node("data", "dataset_source", &[("count", int(200))])
        .node("batch", "batch", &[])
        .node("it", first, &[])
        .node("out", "dense", &[("units", int(2))])
        .node("loss", "loss", &[])
        .node("trainer", "trainer", &[("epochs", int(1))])
        .wire("data.out", "batch.in")
        .wire("batch.out", "it.in")
        .wire("it.out", "out.in")
        .wire("out.out", "loss.in")
        .wire("loss.out", "trainer.loss")
}

/// data → batch → `it` (with `params`) → flatten → dense(2) → loss → trainer.
fn flattened_after(it: &str, params: &[(&str, ParamValue)]) -> Sketch {
    Sketch::new()
        .node("data", "dataset_source", &[("count", int(200))])
        .node("batch", "batch", &[])
        .node("it", it, params)
        .node("flat", "flatten", &[])
        .node("out", "dense", &[("units", int(2))])
        .node("loss", "loss", &[])
        .node("trainer", "trainer", &[("epochs", int(1))])
        .wire("data.out", "batch.in")
        .wire("batch.out", "it.in")
        .wire("it.out", "flat.in")
        .wire("flat.out", "out.in")
        .wire("out.out", "loss.in")
        .wire("loss.out", "trainer.loss")
}

/// Four features read as a 2×2 image: data → map → batch → `it` → flatten → dense(2) → …
fn image_model(it: &str) -> Sketch {
    Sketch::new()
        .node("data", "dataset_source", &[("count", int(200))])
        .node(
            "pixels",
            "map",
            &[("assign", text("x3 = x1 * x2; x4 = x1 - x2"))],
        )
        .node("batch", "batch", &[("features", text("x1,x2,x3,x4"))])
        .node("it", it, &[])
        .node("flat", "flatten", &[])
        .node("out", "dense", &[("units", int(2))])
        .node("loss", "loss", &[])
        .node("trainer", "trainer", &[("epochs", int(1))])
        .wire("data.out", "pixels.in")
        .wire("pixels.out", "batch.in")
        .wire("batch.out", "it.in")
        .wire("it.out", "flat.in")
        .wire("flat.out", "out.in")
        .wire("out.out", "loss.in")
        .wire("loss.out", "trainer.loss")
}

/// Two dense towers joined by `it`: batch → (left, right) → it(a, b) → dense(2) → loss.
fn two_towers(it: &str) -> Sketch {
    Sketch::new()
        .node("data", "dataset_source", &[("count", int(200))])
        .node("batch", "batch", &[])
        .node("left", "dense", &[("units", int(3))])
        .node("right", "dense", &[("units", int(3))])
        .node("it", it, &[])
        .node("out", "dense", &[("units", int(2))])
        .node("loss", "loss", &[])
        .node("trainer", "trainer", &[("epochs", int(1))])
        .wire("data.out", "batch.in")
        .wire("batch.out", "left.in")
        .wire("batch.out", "right.in")
        .wire("left.out", "it.a")
        .wire("right.out", "it.b")
        .wire("it.out", "out.in")
        .wire("out.out", "loss.in")
        .wire("loss.out", "trainer.loss")
}

/// A two-moons model: data → batch → dense(2) → loss → trainer, with `it` where asked.
fn moons_model(it: &str) -> Sketch {
    let name = |n: &str| {
        if n == it {
            "it".to_owned()
        } else {
            n.to_owned()
        }
    };
    Sketch::new()
        .node("data", "dataset_source", &[("count", int(200))])
        .node(&name("batch"), "batch", &[])
        .node(&name("dense"), "dense", &[("units", int(2))])
        .node(&name("loss"), "loss", &[])
        .node(&name("trainer"), "trainer", &[("epochs", int(1))])
        .wire("data.out", &format!("{}.in", name("batch")))
        .wire(
            &format!("{}.out", name("batch")),
            &format!("{}.in", name("dense")),
        )
        .wire(
            &format!("{}.out", name("dense")),
            &format!("{}.in", name("loss")),
        )
        .wire(
            &format!("{}.out", name("loss")),
            &format!("{}.loss", name("trainer")),
        )
}

/// A smallest valid graph with one node of `kind`, named `it`.
pub fn sample(kind: NodeKind) -> Graph {
    let id = kind.spec().id;
    match kind {
        NodeKind::CsvSource => Sketch::new().node("it", id, &[("path", text(&events_csv()))]),
        NodeKind::SequenceSource
        | NodeKind::SensorSource
        | NodeKind::ClickSource
        | NodeKind::DatasetSource => Sketch::new().node("it", id, &[("count", int(50))]),
        NodeKind::Watermark
        | NodeKind::Partition
        | NodeKind::Merge
        | NodeKind::Map
        | NodeKind::Filter
        | NodeKind::Window
        | NodeKind::CsvSink
        | NodeKind::NullSink
        | NodeKind::Fault => after_sequence(id),
        NodeKind::Aggregate => Sketch::new()
            .node("src", "sequence_source", &[("count", int(100))])
            .node("window", "window", &[])
            .node("it", id, &[])
            .wire("src.out", "window.in")
            .wire("window.out", "it.in"),
        NodeKind::Split | NodeKind::Normalize => Sketch::new()
            .node("data", "dataset_source", &[("count", int(100))])
            .node("it", id, &[])
            .wire("data.out", "it.in"),
        NodeKind::Batch => moons_model("batch"),
        NodeKind::Loss => moons_model("loss"),
        NodeKind::Trainer => moons_model("trainer"),
        NodeKind::Layer(LayerType::Dense) => moons_model("dense"),
        NodeKind::Layer(LayerType::Conv2d | LayerType::MaxPool2d) => image_model(id),
        NodeKind::Layer(LayerType::Conv1d) => flattened_after(id, &[("padding", int(1))]),
        NodeKind::Layer(LayerType::Embedding) => flattened_after(id, &[("vocab", int(10))]),
        NodeKind::Layer(LayerType::Dot | LayerType::Concat) => two_towers(id),
        NodeKind::Layer(_) => model_around(id),
        NodeKind::Shard => Sketch::new()
            .node("data", "dataset_source", &[("count", int(200))])
            .node("batch", "batch", &[])
            .node("it", id, &[])
            .node("dense", "dense", &[("units", int(2))])
            .node("loss", "loss", &[])
            .node("trainer", "trainer", &[("epochs", int(1))])
            .wire("data.out", "batch.in")
            .wire("batch.out", "it.in")
            .wire("it.out", "dense.in")
            .wire("dense.out", "loss.in")
            .wire("loss.out", "trainer.loss"),
        NodeKind::Predict => moons_model("")
            .node("it", id, &[])
            .wire("data.out", "it.in")
            .wire("trainer.model", "it.model"),
    }
    .build()
}
