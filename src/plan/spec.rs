//! The typed plan: one `OpSpec` per node, with every parameter parsed (once, by the planner)
//! and every name resolved against real fields. `exec` builds operators from these alone and
//! never reads a parameter by name; a second back end would read the same specs.

use crate::catalog::{LayerType, NodeKind};
use crate::learn::batch::{NegativeSampling, SequenceSpec};
use crate::learn::dataset_source::DatasetKind;
use crate::learn::trainer::TrainerConfig;
use crate::nn::payload::FeatureSpec;
use crate::nn::{LayerKind, LossKind};
use crate::stream::aggregate::AggregateFn;
use crate::stream::expr::Expression;
use crate::stream::pane::PaneSpec;
use crate::stream::partition::Strategy;
use crate::stream::sinks::Column;
use crate::stream::sources::csv_file::CsvOptions;
use crate::stream::sources::{GeneratorOptions, KeyOrder};
use std::path::PathBuf;
use std::time::Duration;

/// What one node does, fully typed. One variant per node kind (all layer kinds share `Layer`).
#[derive(Clone, Debug)]
pub enum OpSpec {
    CsvSource(CsvOptions),
    SequenceSource {
        generator: GeneratorSpec,
        keys: u64,
        step_ms: i64,
        /// Records on each event time.
        per_step: u64,
        key_order: KeyOrder,
    },
    SensorSource {
        generator: GeneratorSpec,
        sensors: u64,
        interval_ms: i64,
        disorder_ms: i64,
        anomaly_rate: f64,
    },
    ClickSource {
        generator: GeneratorSpec,
        users: u64,
        pages: u64,
        think_ms: i64,
        idle_ms: i64,
        /// Clicks name a user and an item from a hidden taste model (`None`: no items).
        items: Option<ClickItems>,
    },
    DatasetSource {
        dataset: DatasetKind,
        /// `None`: an endless stream.
        count: Option<u64>,
        noise: f32,
        seed: u64,
        rate_per_s: f64,
    },
    Watermark {
        delay_ms: i64,
    },
    /// Routing only: the strategy is applied on the node's outgoing wires (`Routing`).
    Partition {
        strategy: Strategy,
        parallelism: usize,
    },
    Merge,
    Map {
        /// `name = expression`, in order, checked against the input's fields.
        assignments: Vec<(String, Expression)>,
    },
    Filter {
        predicate: Expression,
    },
    Window(WindowSpec),
    Aggregate(AggregateSpec),
    CsvSink {
        path: PathBuf,
        header: Vec<String>,
        columns: Vec<Column>,
    },
    NullSink {
        delay_per_record: Duration,
    },
    Fault {
        at_record: u64,
        mode: FaultMode,
    },
    Split {
        train_ratio: f64,
        by: SplitBy,
        seed: u64,
    },
    Normalize {
        /// Indices of the fields to standardise.
        fields: Vec<usize>,
    },
    Batch {
        size: usize,
        features: FeatureSpec,
        /// Each window firing is one sequence sample.
        sequence: Option<SequenceSpec>,
        /// Sampled non-clicks after each record.
        negatives: Option<NegativeSampling>,
    },
    /// Routing only: every mini-batch is split by rows over the replicas after it.
    Shard {
        replicas: usize,
    },
    /// A layer of its trainer's model (runs inside the trainer's operator): the catalogue's
    /// layer type it was planned from and the nn layer it configures.
    Layer {
        of: LayerType,
        layer: LayerKind,
        /// The Batch's feature fields the layer reads when the Batch feeds it (an Embedding's
        /// id columns); empty = all of them.
        columns: Vec<String>,
    },
    /// The loss of its trainer's model (runs inside the trainer's operator).
    Loss(LossKind),
    Trainer(Box<TrainerSpec>),
    Predict {
        wait_for_final: bool,
    },
}

/// The item side of a click stream: how many items, in how many genres, and how strongly
/// users follow their favourite genre.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClickItems {
    pub items: u64,
    pub genres: u64,
    pub affinity: f64,
}

/// What every generator source shares: how many records, from when, seeded how, how fast.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratorSpec {
    pub options: GeneratorOptions,
    /// Records per second of wall time; 0 = as fast as possible.
    pub rate_per_s: f64,
}

/// A window: which windows a record belongs to, how long they wait for late records, how many
/// may be open, and what each keeps (decided from the window's consumers).
#[derive(Clone, Debug, PartialEq)]
pub struct WindowSpec {
    pub assigner: WindowAssigner,
    pub allowed_lateness_ms: i64,
    /// Most windows (or sessions, or keys) held at once; beyond it the run fails.
    pub state_limit: u64,
    pub pane: PaneSpec,
}

/// The window kinds, with the parameters each one uses (Flink's assigners and count windows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowAssigner {
    Tumbling {
        size_ms: i64,
        offset_ms: i64,
    },
    Sliding {
        size_ms: i64,
        slide_ms: i64,
        offset_ms: i64,
    },
    Session {
        gap_ms: i64,
    },
    Count {
        count: u64,
    },
    CountSliding {
        count: u64,
        slide: u64,
    },
}

impl WindowAssigner {
    /// Count windows are driven by records, not event time (their results are tagged `C`).
    pub fn is_count(self) -> bool {
        match self {
            WindowAssigner::Count { .. } | WindowAssigner::CountSliding { .. } => true,
            WindowAssigner::Tumbling { .. }
            | WindowAssigner::Sliding { .. }
            | WindowAssigner::Session { .. } => false,
        }
    }

    /// Records in each window, when the kind fixes it.
    pub fn records_per_window(self) -> Option<u64> {
        match self {
            WindowAssigner::Count { count } | WindowAssigner::CountSliding { count, .. } => {
                Some(count)
            }
            WindowAssigner::Tumbling { .. }
            | WindowAssigner::Sliding { .. }
            | WindowAssigner::Session { .. } => None,
        }
    }
}

/// An aggregate: its functions over the chosen fields, which of the window's kept statistics
/// those are, and whether the window computes it itself (fused).
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateSpec {
    pub functions: Vec<AggregateFn>,
    /// The chosen fields by name; empty = the first.
    pub fields: Vec<String>,
    /// For each chosen field, its slot among the upstream window's kept statistics.
    pub stats_indices: Vec<usize>,
    /// The upstream window applies the functions itself; this node only passes records on.
    pub fused: bool,
}

/// A trainer: its model and training settings, and what the planner found around it.
#[derive(Clone, Debug)]
pub struct TrainerSpec {
    pub config: TrainerConfig,
    /// Plan indices of its layers and Loss (they run inside the trainer's operator).
    pub model_parts: Vec<usize>,
    /// Fields of the records its Batch node stacks (a Predict node's input must match them).
    pub batch_fields: Vec<String>,
}

/// What a Fault node does at its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultMode {
    Error,
    Panic,
}

/// How a Split node divides records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitBy {
    /// Each record on its own, by a seeded draw.
    Random,
    /// Whole keys go to one side.
    Key,
}

impl OpSpec {
    /// The node kind this spec describes. Exhaustive both ways: a new kind needs a spec
    /// variant here, and a new variant names its kind.
    pub fn kind(&self) -> NodeKind {
        match self {
            OpSpec::CsvSource(_) => NodeKind::CsvSource,
            OpSpec::SequenceSource { .. } => NodeKind::SequenceSource,
            OpSpec::SensorSource { .. } => NodeKind::SensorSource,
            OpSpec::ClickSource { .. } => NodeKind::ClickSource,
            OpSpec::DatasetSource { .. } => NodeKind::DatasetSource,
            OpSpec::Watermark { .. } => NodeKind::Watermark,
            OpSpec::Partition { .. } => NodeKind::Partition,
            OpSpec::Merge => NodeKind::Merge,
            OpSpec::Map { .. } => NodeKind::Map,
            OpSpec::Filter { .. } => NodeKind::Filter,
            OpSpec::Window(_) => NodeKind::Window,
            OpSpec::Aggregate(_) => NodeKind::Aggregate,
            OpSpec::CsvSink { .. } => NodeKind::CsvSink,
            OpSpec::NullSink { .. } => NodeKind::NullSink,
            OpSpec::Fault { .. } => NodeKind::Fault,
            OpSpec::Split { .. } => NodeKind::Split,
            OpSpec::Normalize { .. } => NodeKind::Normalize,
            OpSpec::Batch { .. } => NodeKind::Batch,
            OpSpec::Shard { .. } => NodeKind::Shard,
            OpSpec::Layer { of, .. } => NodeKind::Layer(*of),
            OpSpec::Loss(_) => NodeKind::Loss,
            OpSpec::Trainer(_) => NodeKind::Trainer,
            OpSpec::Predict { .. } => NodeKind::Predict,
        }
    }

    /// Layers and Loss: they run inside their trainer's operator, not on their own.
    pub fn is_model_part(&self) -> bool {
        matches!(self, OpSpec::Layer { .. } | OpSpec::Loss(_))
    }

    /// Nodes whose operator forwards everything unchanged (Partition and Merge, whose work is
    /// on their wires, and an aggregate its window computes): whole batches pass as they are.
    pub fn forwards_unchanged(&self) -> bool {
        match self {
            OpSpec::Partition { .. } | OpSpec::Merge => true,
            OpSpec::Aggregate(aggregate) => aggregate.fused,
            OpSpec::CsvSource(_)
            | OpSpec::SequenceSource { .. }
            | OpSpec::SensorSource { .. }
            | OpSpec::ClickSource { .. }
            | OpSpec::DatasetSource { .. }
            | OpSpec::Watermark { .. }
            | OpSpec::Map { .. }
            | OpSpec::Filter { .. }
            | OpSpec::Window(_)
            | OpSpec::CsvSink { .. }
            | OpSpec::NullSink { .. }
            | OpSpec::Fault { .. }
            | OpSpec::Split { .. }
            | OpSpec::Normalize { .. }
            | OpSpec::Batch { .. }
            | OpSpec::Shard { .. }
            | OpSpec::Layer { .. }
            | OpSpec::Loss(_)
            | OpSpec::Trainer(_)
            | OpSpec::Predict { .. } => false,
        }
    }
}
