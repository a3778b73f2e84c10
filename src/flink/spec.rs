//! What a Flink job needs to know about each node of a graph's stream part, read once from the
//! validated plan into typed specs (`FlinkOp`). Everything the export cannot make exact, or
//! cannot run at all, is refused here with the node's name, before any Java is written.

use super::java_expr::{self, JavaExpr, Scope};
use crate::catalog::NodeKind;
use crate::graph::NodeId;
use crate::plan::{self, LogicalPlan, OpSpec, PlanNode, WindowAssigner};
use crate::stream::aggregate::AggregateFn;
use crate::stream::expr::Expression;
use crate::stream::partition::Strategy;
use crate::stream::sinks::Column;
use crate::stream::sources::KeyOrder;
use crate::stream::sources::csv_file::{
    CsvOptions, NonFinitePolicy, read_header, value_field_names,
};
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a graph (or one of its nodes) cannot become a Flink job.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportError {
    pub node: Option<String>,
    pub message: String,
}

impl ExportError {
    fn at(node: &PlanNode, message: impl Into<String>) -> Self {
        Self {
            node: Some(node.name.clone()),
            message: message.into(),
        }
    }
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Some(node) => write!(f, "node '{node}': {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ExportError {}

/// What a stream's keys are, as expressions see them (`key` is text or an integer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Text,
    Integer,
    /// A Merge of streams whose keys differ in type: expressions cannot read `key`.
    Mixed,
}

/// How a CSV source reads its file: column indices resolved against the header at export.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvSourceSpec {
    pub path: PathBuf,
    pub has_header: bool,
    pub delimiter: char,
    pub key_column: Option<usize>,
    pub time_column: Option<(usize, String)>,
    /// (index in the file, field name) per value field, in the record's order.
    pub value_columns: Vec<(usize, String)>,
    pub skip_bad_rows: bool,
    pub non_finite: NonFinitePolicy,
}

/// One of Flowbook's seeded generators.
#[derive(Clone, Debug, PartialEq)]
pub enum GeneratorKind {
    Sequence {
        keys: i64,
        step_ms: i64,
    },
    Sensor {
        sensors: i64,
        interval_ms: i64,
        disorder_ms: i64,
        anomaly_rate: f64,
    },
    Click {
        users: i64,
        pages: i64,
        think_ms: i64,
        idle_ms: i64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct GeneratorSpec {
    pub kind: GeneratorKind,
    /// `None` = endless.
    pub count: Option<u64>,
    pub rate_per_s: f64,
    pub start_ms: i64,
    pub seed: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WindowSpec {
    /// The plan's assigner; its counts fit a Java long (checked when the job is made).
    pub kind: WindowAssigner,
    pub allowed_lateness_ms: i64,
    /// Record fields whose statistics the window keeps (what its Aggregates read).
    pub stats_fields: Vec<usize>,
}

/// One assignment of a Map: the output field index it writes and its translation.
#[derive(Clone, Debug, PartialEq)]
pub struct MapAssignment {
    pub field: String,
    pub index: usize,
    pub text: String,
    pub java: JavaExpr,
}

/// A node as the Flink job runs it. One variant per exported node kind.
#[derive(Clone, Debug, PartialEq)]
pub enum FlinkOp {
    CsvSource(CsvSourceSpec),
    Generator(GeneratorSpec),
    Watermark {
        delay_ms: i64,
    },
    Partition {
        strategy: Strategy,
    },
    Merge,
    Map {
        assignments: Vec<MapAssignment>,
        output_width: usize,
    },
    Filter {
        text: String,
        java: JavaExpr,
    },
    Fault {
        at_record: i64,
    },
    Window(WindowSpec),
    Aggregate {
        functions: Vec<AggregateFn>,
        stats_indices: Vec<usize>,
    },
    CsvSink {
        path: PathBuf,
        header: Vec<String>,
        columns: Vec<Column>,
    },
    NullSink,
}

/// An input wire: the job node (by index) and its output port.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JobInput {
    pub from: usize,
    pub port: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct JobNode {
    pub id: NodeId,
    pub name: String,
    /// Instances Flowbook runs; the Flink operator's parallelism.
    pub parallelism: usize,
    pub inputs: Vec<JobInput>,
    pub op: FlinkOp,
    /// Fields of the records on each output port.
    pub outputs: Vec<Vec<String>>,
    pub key: KeyType,
}

/// A graph's stream part as a Flink job, in topological order.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    pub name: String,
    pub nodes: Vec<JobNode>,
}

impl JobSpec {
    /// The job nodes fed by `from`'s output `port`.
    pub fn consumers(&self, from: usize, port: usize) -> impl Iterator<Item = usize> + '_ {
        self.nodes.iter().enumerate().filter_map(move |(i, n)| {
            n.inputs
                .iter()
                .any(|input| input.from == from && input.port == port)
                .then_some(i)
        })
    }

    pub fn node(&self, id: NodeId) -> Option<&JobNode> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// Translates a validated plan into a job spec. Relative paths are resolved as the plan's
/// location resolves them (against the graph file's folder), so the job reads and writes the
/// same files a local run does.
pub fn job_spec(name: &str, plan: &LogicalPlan) -> Result<JobSpec, ExportError> {
    refuse_learning_nodes(plan)?;
    let mut nodes: Vec<JobNode> = Vec::with_capacity(plan.nodes.len());
    for node in &plan.nodes {
        let inputs: Vec<JobInput> = node
            .inputs
            .iter()
            .map(|i| JobInput {
                from: i.from,
                port: i.from_port,
            })
            .collect();
        let key = key_type(node, &nodes, &inputs);
        let input_fields = node
            .input_schema(plan, 0)
            .map(|s| s.fields.clone())
            .unwrap_or_default();
        let op = translate(node, &input_fields, key)?;
        nodes.push(JobNode {
            id: node.id,
            name: node.name.clone(),
            parallelism: node.parallelism.max(1),
            inputs,
            op,
            outputs: node.outputs.iter().map(|s| s.fields.clone()).collect(),
            key,
        });
    }
    Ok(JobSpec {
        name: name.to_owned(),
        nodes,
    })
}

/// Learning nodes run only in Flowbook: the export stops there, naming them.
fn refuse_learning_nodes(plan: &LogicalPlan) -> Result<(), ExportError> {
    let learning: Vec<String> = plan
        .nodes
        .iter()
        .filter(|n| is_learning(n.kind))
        .map(|n| format!("'{}' ({})", n.name, n.catalog().id))
        .collect();
    if learning.is_empty() {
        return Ok(());
    }
    Err(ExportError {
        node: None,
        message: format!(
            "{} {} a learning node: Flink runs only a graph's stream part. Put a CSV sink where the learning part starts, export the graph up to it, and train on that file in Flowbook with a CSV source",
            learning.join(", "),
            if learning.len() == 1 { "is" } else { "are" }
        ),
    })
}

fn is_learning(kind: NodeKind) -> bool {
    match kind {
        NodeKind::DatasetSource
        | NodeKind::Split
        | NodeKind::Normalize
        | NodeKind::Batch
        | NodeKind::Layer(_)
        | NodeKind::Loss
        | NodeKind::Trainer
        | NodeKind::Predict
        | NodeKind::Shard => true,
        NodeKind::CsvSource
        | NodeKind::SequenceSource
        | NodeKind::SensorSource
        | NodeKind::ClickSource
        | NodeKind::Watermark
        | NodeKind::Partition
        | NodeKind::Merge
        | NodeKind::Map
        | NodeKind::Filter
        | NodeKind::Window
        | NodeKind::Aggregate
        | NodeKind::CsvSink
        | NodeKind::NullSink
        | NodeKind::Fault => false,
    }
}

fn key_type(node: &PlanNode, done: &[JobNode], inputs: &[JobInput]) -> KeyType {
    match node.kind {
        NodeKind::SequenceSource => KeyType::Integer,
        NodeKind::CsvSource | NodeKind::SensorSource | NodeKind::ClickSource => KeyType::Text,
        _ => {
            let mut types = inputs
                .iter()
                .filter_map(|i| done.get(i.from))
                .map(|n| n.key);
            let first = types.next().unwrap_or(KeyType::Text);
            if types.all(|t| t == first) {
                first
            } else {
                KeyType::Mixed
            }
        }
    }
}

/// A count or id of the plan as the job's Java `long`.
fn long(node: &PlanNode, value: u64) -> Result<i64, ExportError> {
    i64::try_from(value).map_err(|_| ExportError::at(node, format!("{value} is too large")))
}

/// The job's operator from the node's typed spec: one arm per spec variant.
fn translate(
    node: &PlanNode,
    input_fields: &[String],
    key: KeyType,
) -> Result<FlinkOp, ExportError> {
    let op = match &node.spec {
        OpSpec::CsvSource(options) => FlinkOp::CsvSource(csv_source(node, options)?),
        OpSpec::SequenceSource {
            generator: g,
            keys,
            step_ms,
            per_step,
            key_order,
        } => {
            if *per_step != 1 || *key_order != KeyOrder::Cycle {
                return Err(ExportError::at(
                    node,
                    "per_step and key_order = random have no Flink job yet; export with per_step = 1 and key_order = cycle",
                ));
            }
            generator(
                node,
                g,
                GeneratorKind::Sequence {
                    keys: long(node, *keys)?,
                    step_ms: *step_ms,
                },
            )?
        }
        OpSpec::SensorSource {
            generator: g,
            sensors,
            interval_ms,
            disorder_ms,
            anomaly_rate,
        } => generator(
            node,
            g,
            GeneratorKind::Sensor {
                sensors: long(node, *sensors)?,
                interval_ms: *interval_ms,
                disorder_ms: *disorder_ms,
                anomaly_rate: *anomaly_rate,
            },
        )?,
        OpSpec::ClickSource {
            generator: g,
            users,
            pages,
            think_ms,
            idle_ms,
            items,
        } if items.is_none() => generator(
            node,
            g,
            GeneratorKind::Click {
                users: long(node, *users)?,
                pages: long(node, *pages)?,
                think_ms: *think_ms,
                idle_ms: *idle_ms,
            },
        )?,
        OpSpec::ClickSource { .. } => {
            return Err(ExportError::at(
                node,
                "a clickstream with items (user and item ids from a taste model) runs only in Flowbook; set items to 0 to export it",
            ));
        }
        OpSpec::Watermark { delay_ms } => FlinkOp::Watermark {
            delay_ms: *delay_ms,
        },
        OpSpec::Partition { strategy, .. } => FlinkOp::Partition {
            strategy: *strategy,
        },
        OpSpec::Merge => FlinkOp::Merge,
        OpSpec::Map { assignments } => map(node, assignments, input_fields, key)?,
        OpSpec::Filter { predicate } => {
            let text = predicate.text.clone();
            let scope = Scope::new(input_fields, key);
            let java = java_expr::predicate(predicate, &scope)
                .map_err(|e| ExportError::at(node, format!("predicate `{text}`: {e}")))?;
            FlinkOp::Filter { text, java }
        }
        OpSpec::Fault { at_record, .. } => FlinkOp::Fault {
            at_record: long(node, (*at_record).max(1))?,
        },
        OpSpec::Window(spec) => FlinkOp::Window(window(node, spec)?),
        OpSpec::Aggregate(spec) => FlinkOp::Aggregate {
            functions: spec.functions.clone(),
            // Fused aggregates read the window's first statistics; others say which they read.
            stats_indices: if spec.stats_indices.is_empty() {
                vec![0]
            } else {
                spec.stats_indices.clone()
            },
        },
        OpSpec::CsvSink {
            path,
            header,
            columns,
        } => FlinkOp::CsvSink {
            path: path.clone(),
            header: header.clone(),
            columns: columns.clone(),
        },
        OpSpec::NullSink { .. } => FlinkOp::NullSink,
        OpSpec::DatasetSource { .. }
        | OpSpec::Split { .. }
        | OpSpec::Normalize { .. }
        | OpSpec::Batch { .. }
        | OpSpec::Layer { .. }
        | OpSpec::Loss(_)
        | OpSpec::Trainer(_)
        | OpSpec::Predict { .. }
        | OpSpec::Shard { .. } => {
            return Err(ExportError::at(
                node,
                "a learning node runs only in Flowbook, not on Flink",
            ));
        }
    };
    Ok(op)
}

fn csv_source(node: &PlanNode, options: &CsvOptions) -> Result<CsvSourceSpec, ExportError> {
    if options.path == Path::new(crate::paths::STDIN) {
        return Err(ExportError::at(
            node,
            "reads standard input, which a Flink job cannot: give it a file",
        ));
    }
    let header = read_header(options).map_err(|e| ExportError::at(node, e.to_string()))?;
    let names = value_field_names(options).map_err(|e| ExportError::at(node, e.to_string()))?;
    let position = |name: &str| header.iter().position(|h| h == name);
    let column = |name: &str| {
        position(name).ok_or_else(|| ExportError::at(node, format!("no column '{name}'")))
    };
    let key_column = options.key_column.as_deref().map(column).transpose()?;
    let time_column = match options.time_column.as_deref() {
        Some(name) => Some((column(name)?, name.to_owned())),
        None => None,
    };
    let mut value_columns = Vec::new();
    for name in names {
        // With an explicit list, the named column; else every other column in file order.
        let index = if options.value_columns.is_empty() {
            header
                .iter()
                .enumerate()
                .position(|(i, h)| {
                    *h == name
                        && Some(i) != key_column
                        && Some(i) != time_column.as_ref().map(|t| t.0)
                        && !value_columns.iter().any(|(j, _)| *j == i)
                })
                .ok_or_else(|| ExportError::at(node, format!("no column '{name}'")))?
        } else {
            column(&name)?
        };
        value_columns.push((index, name));
    }
    Ok(CsvSourceSpec {
        path: options.path.clone(),
        has_header: options.has_header,
        delimiter: char::from(options.delimiter),
        key_column,
        time_column,
        value_columns,
        skip_bad_rows: options.skip_bad_rows,
        non_finite: options.non_finite,
    })
}

fn generator(
    node: &PlanNode,
    spec: &plan::GeneratorSpec,
    kind: GeneratorKind,
) -> Result<FlinkOp, ExportError> {
    Ok(FlinkOp::Generator(GeneratorSpec {
        kind,
        count: spec.options.count,
        rate_per_s: spec.rate_per_s,
        start_ms: spec.options.start_ms,
        seed: long(node, spec.options.seed)?,
    }))
}

fn map(
    node: &PlanNode,
    parsed: &[(String, Expression)],
    input_fields: &[String],
    key: KeyType,
) -> Result<FlinkOp, ExportError> {
    let output = node
        .outputs
        .first()
        .map(|s| s.fields.clone())
        .unwrap_or_default();
    let mut visible = input_fields.to_vec();
    let mut assignments = Vec::new();
    for (field, expr) in parsed {
        let scope = Scope::new(&output, key).visible(&visible);
        let java = java_expr::number(expr, &scope)
            .map_err(|e| ExportError::at(node, format!("{field} = `{}`: {e}", expr.text)))?;
        let Some(index) = output.iter().position(|f| f == field) else {
            return Err(ExportError::at(node, format!("no output field '{field}'")));
        };
        if !visible.contains(field) {
            visible.push(field.clone());
        }
        assignments.push(MapAssignment {
            field: field.clone(),
            index,
            text: expr.text.clone(),
            java,
        });
    }
    Ok(FlinkOp::Map {
        assignments,
        output_width: output.len(),
    })
}

fn window(node: &PlanNode, spec: &plan::WindowSpec) -> Result<WindowSpec, ExportError> {
    let kind = spec.assigner;
    match kind {
        WindowAssigner::Count { count } => {
            long(node, count)?;
        }
        WindowAssigner::CountSliding { count, slide } => {
            long(node, count)?;
            long(node, slide)?;
        }
        WindowAssigner::Tumbling { .. }
        | WindowAssigner::Sliding { .. }
        | WindowAssigner::Session { .. } => {}
    }
    Ok(WindowSpec {
        kind,
        allowed_lateness_ms: spec.allowed_lateness_ms,
        stats_fields: spec.pane.stats_fields.clone(),
    })
}
