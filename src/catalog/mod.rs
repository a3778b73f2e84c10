//! The node catalogue: every node kind with its ports, parameters (types, defaults, ranges,
//! one-line docs) and documentation. Pure description: no execution and no UI here.

mod learn_nodes;
mod params;
mod spec_helpers;
mod stream_nodes;

pub use params::{
    NodeParams, ParamError, ValueError, check_value, default_value, parse_param_text,
};

use std::fmt;

/// What flows along a wire. An edge is legal only between ports of the same type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortType {
    /// Rows: a key, an event time in ms and named numeric fields.
    Records,
    /// What a window emits: one key's contents of one window (and its statistics).
    Windows,
    /// Stacked mini-batches: an X matrix and labels.
    Batches,
    /// Activations between layer nodes.
    Tensor,
    /// Named scalar series over steps or time (records keyed by the trainer, time = step).
    Metrics,
    /// Snapshots of a trained model.
    Model,
}

impl PortType {
    /// Whether an output of type `from` may feed an input of this type: the same type, a
    /// Batch node's mini-batches into the first layer, or metrics into any records input.
    pub fn accepts(self, from: PortType) -> bool {
        self == from
            || (self == PortType::Tensor && from == PortType::Batches)
            || (self == PortType::Records && from == PortType::Metrics)
    }
}

impl fmt::Display for PortType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            PortType::Records => "Records",
            PortType::Windows => "Windows",
            PortType::Batches => "Batches",
            PortType::Tensor => "Tensor",
            PortType::Metrics => "Metrics",
            PortType::Model => "Model",
        };
        f.write_str(name)
    }
}

/// One input or output port of a node kind.
#[derive(Debug)]
pub struct PortSpec {
    pub name: &'static str,
    pub ty: PortType,
    pub doc: &'static str,
    /// An input that must be connected for the graph to run.
    pub required: bool,
    /// An input that accepts several wires (a union of streams).
    pub many: bool,
}

/// The type and allowed values of a parameter.
#[derive(Debug)]
pub enum ParamKind {
    Int {
        min: i64,
        max: i64,
    },
    Float {
        min: f64,
        max: f64,
    },
    Bool,
    Text,
    /// A file path; the editor offers a file picker.
    Path,
    /// An expression over the record's fields; the editor checks its syntax live.
    Expr,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// A comma-separated list of names (columns, fields or functions).
    List,
}

/// A parameter's default, as a constant.
#[derive(Debug, Clone, Copy)]
pub enum ParamDefault {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(&'static str),
}

#[derive(Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: ParamDefault,
    pub doc: &'static str,
    /// Can be changed while the graph runs (e.g. a learning rate).
    pub live: bool,
}

/// Where a node kind sits in the palette.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Sources,
    Time,
    Partitioning,
    Transform,
    Windows,
    Learning,
    Layers,
    Sinks,
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Category::Sources => "Sources",
            Category::Time => "Time",
            Category::Partitioning => "Partitioning",
            Category::Transform => "Transform",
            Category::Windows => "Windows",
            Category::Learning => "Learning",
            Category::Layers => "Layers",
            Category::Sinks => "Sinks",
        };
        f.write_str(name)
    }
}

/// Declares the node kinds — the one list of them: the enum, its palette order (the order
/// written here, with every layer kind between the two groups) and each kind's spec. A new
/// kind is one line here plus its spec; the planner and the executor match on it (through
/// the plan's `OpSpec`) exhaustively, so the compiler lists every other place to teach.
macro_rules! node_kinds {
    (
        before_layers: [$($before:ident => $before_spec:path),* $(,)?],
        after_layers: [$($after:ident => $after_spec:path),* $(,)?] $(,)?
    ) => {
        /// Every node kind.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum NodeKind {
            $($before,)*
            /// A layer of a model; which one is its own list, [`LayerType`].
            Layer(LayerType),
            $($after,)*
        }

        /// Kinds in palette order before the layers, and after them.
        const BEFORE_LAYERS: &[NodeKind] = &[$(NodeKind::$before),*];
        const AFTER_LAYERS: &[NodeKind] = &[$(NodeKind::$after),*];

        impl NodeKind {
            pub fn spec(self) -> &'static NodeSpec {
                match self {
                    $(NodeKind::$before => &$before_spec,)*
                    NodeKind::Layer(layer) => layer.spec(),
                    $(NodeKind::$after => &$after_spec,)*
                }
            }
        }
    };
}

node_kinds! {
    before_layers: [
        CsvSource => stream_nodes::CSV_SOURCE,
        DatasetSource => learn_nodes::DATASET_SOURCE,
        SequenceSource => stream_nodes::SEQUENCE_SOURCE,
        SensorSource => stream_nodes::SENSOR_SOURCE,
        ClickSource => stream_nodes::CLICK_SOURCE,
        Watermark => stream_nodes::WATERMARK,
        Partition => stream_nodes::PARTITION,
        Merge => stream_nodes::MERGE,
        Map => stream_nodes::MAP,
        Filter => stream_nodes::FILTER,
        Window => stream_nodes::WINDOW,
        Aggregate => stream_nodes::AGGREGATE,
        Split => learn_nodes::SPLIT,
        Normalize => learn_nodes::NORMALIZE,
        Batch => learn_nodes::BATCH,
        Shard => learn_nodes::SHARD,
        Trainer => learn_nodes::TRAINER,
        Predict => learn_nodes::PREDICT,
    ],
    after_layers: [
        Loss => learn_nodes::LOSS,
        CsvSink => stream_nodes::CSV_SINK,
        NullSink => stream_nodes::NULL_SINK,
        Fault => stream_nodes::FAULT,
    ],
}

/// Declares the layer kinds — the one list of them: the enum, its palette order and each
/// kind's spec. A new layer adds a line here, its spec in `learn_nodes`, its parameters'
/// parsing in `plan::learn` (the compiler asks for it) and its maths in `nn`.
macro_rules! layer_types {
    ($($variant:ident => $spec:ident),* $(,)?) => {
        /// The kinds of layer node, in palette order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum LayerType {
            $($variant),*
        }

        impl LayerType {
            pub const ALL: &'static [LayerType] = &[$(LayerType::$variant),*];

            pub fn spec(self) -> &'static NodeSpec {
                match self {
                    $(LayerType::$variant => &learn_nodes::$spec),*
                }
            }
        }
    };
}

layer_types! {
    Dense => DENSE,
    Relu => RELU,
    LeakyRelu => LEAKY_RELU,
    Tanh => TANH,
    Sigmoid => SIGMOID,
    Softmax => SOFTMAX,
    Dropout => DROPOUT,
    LayerNorm => LAYER_NORM,
    Conv2d => CONV2D,
    MaxPool2d => MAX_POOL2D,
    Flatten => FLATTEN,
    Conv1d => CONV1D,
    Gru => GRU,
    Embedding => EMBEDDING,
    Dot => DOT,
    Concat => CONCAT,
}

/// The full description of a node kind.
#[derive(Debug)]
pub struct NodeSpec {
    pub kind: NodeKind,
    /// The id written in files (`kind: "window"`) and the default base for node names.
    pub id: &'static str,
    pub title: &'static str,
    pub category: Category,
    /// One line for tooltips and `flowbook nodes`.
    pub summary: &'static str,
    /// Longer documentation (markdown).
    pub doc: &'static str,
    pub inputs: &'static [PortSpec],
    pub outputs: &'static [PortSpec],
    pub params: &'static [ParamSpec],
}

impl NodeSpec {
    pub fn input(&self, name: &str) -> Option<&'static PortSpec> {
        self.inputs.iter().find(|p| p.name == name)
    }

    pub fn output(&self, name: &str) -> Option<&'static PortSpec> {
        self.outputs.iter().find(|p| p.name == name)
    }

    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Index of an output port, for operators that address outputs by position.
    pub fn output_index(&self, name: &str) -> Option<usize> {
        self.outputs.iter().position(|p| p.name == name)
    }
}

impl NodeKind {
    /// Every kind, in palette order.
    pub fn all() -> impl Iterator<Item = NodeKind> {
        BEFORE_LAYERS
            .iter()
            .copied()
            .chain(LayerType::ALL.iter().map(|&l| NodeKind::Layer(l)))
            .chain(AFTER_LAYERS.iter().copied())
    }

    /// The kind whose file id is `id`, if any.
    pub fn from_id(id: &str) -> Option<NodeKind> {
        Self::all().find(|k| k.spec().id == id)
    }

    /// Sources have no inputs and drive the run.
    pub fn is_source(self) -> bool {
        self.spec().inputs.is_empty()
    }

    /// Layers and Loss describe a model; they run inside their Trainer's fused operator.
    pub fn is_model_part(self) -> bool {
        matches!(self, NodeKind::Layer(_) | NodeKind::Loss)
    }
}

/// All node specs in palette order.
pub fn all_specs() -> impl Iterator<Item = &'static NodeSpec> {
    NodeKind::all().map(|k| k.spec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_resolve_back() {
        let mut ids = std::collections::BTreeSet::new();
        for kind in NodeKind::all() {
            assert_eq!(NodeKind::from_id(kind.spec().id), Some(kind));
            assert_eq!(kind.spec().kind, kind, "spec of {kind:?} names its kind");
            assert!(
                ids.insert(kind.spec().id),
                "{} listed twice",
                kind.spec().id
            );
        }
    }

    #[test]
    fn defaults_fit_their_own_kind_and_range() {
        for spec in all_specs() {
            for p in spec.params {
                let value = params::default_value(p);
                params::check_value(p, &value)
                    .unwrap_or_else(|e| panic!("{}.{}: default invalid: {e}", spec.id, p.name));
            }
        }
    }
}
