//! Builds the operator (or source) of each plan node instance: ONE exhaustive match over node
//! kinds, so a new kind makes the compiler point here.

use super::control::{RunGate, Shared};
use crate::catalog::NodeKind;
use crate::learn::LiveParams;
use crate::learn::allreduce::AllReduce;
use crate::learn::batch::BatchOperator;
use crate::learn::dataset_source::{DatasetKind, DatasetSource};
use crate::learn::insight::InsightSlot;
use crate::learn::normalize::NormalizeOperator;
use crate::learn::predict::PredictOperator;
use crate::learn::split::SplitOperator;
use crate::learn::trainer::TrainerOperator;
use crate::plan::infer::{csv_options, is_count_window};
use crate::plan::{LogicalPlan, PlanNode};
use crate::stream::aggregate::{AggregateFn, AggregateOperator};
use crate::stream::count_window::{CountWindowOperator, SlidingCountWindowOperator};
use crate::stream::expr::{FilterOperator, MapOperator, compile, parse_assignments};
use crate::stream::session_window::SessionWindowOperator;
use crate::stream::sinks::{CsvSink, NullSink, resolve_columns};
use crate::stream::sources::{
    ClickSource, CsvSource, GeneratorOptions, SensorSource, SequenceSource,
};
use crate::stream::state_budget::StateBudget;
use crate::stream::time_window::{AlignedWindows, TimeWindowOperator};
use crate::stream::watermark::WatermarkOperator;
use crate::stream::{Item, OpResult, Operator, Outputs, Source};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What instances of one node share: the all-reduce point of a trainer's replicas.
pub struct BuildContext {
    pub allreduce: BTreeMap<usize, Arc<AllReduce>>,
    /// Live parameters of each trainer, by plan index (shared by its replicas).
    pub live: BTreeMap<usize, Arc<LiveParams>>,
    /// Where each trainer leaves its model and layer statistics for the live views.
    pub insights: BTreeMap<usize, Arc<InsightSlot>>,
    /// The run's flags, for operators that loop on their own (trainers replaying epochs).
    pub shared: Arc<Shared>,
    /// Each window node's `state_limit`, shared by its instances, by plan index.
    pub state_budgets: BTreeMap<usize, Arc<StateBudget>>,
}

impl BuildContext {
    pub fn new(plan: &LogicalPlan, shared: &Arc<Shared>) -> Self {
        let allreduce = plan
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind == NodeKind::Trainer && n.parallelism > 1)
            .map(|(i, n)| {
                let shared = Arc::clone(shared);
                let stop: Box<dyn Fn() -> bool + Send + Sync> =
                    Box::new(move || shared.stop_requested());
                (i, Arc::new(AllReduce::new(n.parallelism, stop)))
            })
            .collect();
        let live = plan
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind == NodeKind::Trainer)
            .map(|(i, _)| (i, Arc::new(LiveParams::default())))
            .collect();
        let insights = plan
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind == NodeKind::Trainer)
            .map(|(i, _)| (i, Arc::new(InsightSlot::default())))
            .collect();
        let state_budgets = plan
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.spec().param("state_limit").is_some())
            .map(|(i, n)| {
                let limit = n.params().int("state_limit").max(1) as u64;
                (i, StateBudget::new(limit, n.parallelism))
            })
            .collect();
        Self {
            allreduce,
            live,
            insights,
            shared: Arc::clone(shared),
            state_budgets,
        }
    }
}

/// What runs for one instance of a node.
pub enum Built {
    Source {
        source: Box<dyn Source>,
        rate_per_s: f64,
    },
    Operator(Box<dyn Operator>),
}

/// Forwards everything: the operator of nodes whose work is routing (Partition, Merge).
pub struct PassThrough;

impl Operator for PassThrough {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        out.push(0, item);
        Ok(())
    }
}

/// Forwards records until the chosen one, then fails or panics (robustness testing).
pub struct FaultOperator {
    at_record: u64,
    panic: bool,
    seen: u64,
}

impl Operator for FaultOperator {
    fn on_item(&mut self, _port: usize, item: Item, out: &mut Outputs) -> OpResult {
        self.seen += 1;
        if self.seen >= self.at_record {
            let message = format!("injected fault at record {}", self.seen);
            if self.panic {
                panic!("{message}");
            }
            return Err(crate::stream::OpError::new(message));
        }
        out.push(0, item);
        Ok(())
    }
}

fn generator_options(node: &PlanNode) -> GeneratorOptions {
    let p = node.params();
    GeneratorOptions {
        count: p.bool("bounded").then(|| p.int("count").max(0) as u64),
        start_ms: p.int("start_ms"),
        seed: p.int("seed").max(0) as u64,
    }
}

fn source(source: impl Source + 'static, node: &PlanNode) -> Built {
    Built::Source {
        source: Box::new(source),
        rate_per_s: node.params().float("rate_per_s"),
    }
}

fn operator(op: impl Operator + 'static) -> Built {
    Built::Operator(Box::new(op))
}

/// Builds one instance of `node`. Errors here are about the outside world (files), since the
/// plan has already been validated.
pub fn build(
    plan: &LogicalPlan,
    index: usize,
    instance: usize,
    context: &BuildContext,
) -> Result<Built, String> {
    let Some(node) = plan.nodes.get(index) else {
        return Err(format!("no node at plan index {index}"));
    };
    let p = node.params();
    let input_fields = node
        .input_schema(plan, 0)
        .map(|s| s.fields.clone())
        .unwrap_or_default();
    let input_tag = node.input_schema(plan, 0).and_then(|s| s.tag.clone());
    let built = match node.kind {
        NodeKind::CsvSource => source(CsvSource::open(&csv_options(&p, &plan.location))?, node),
        NodeKind::SequenceSource => source(
            SequenceSource::new(
                generator_options(node),
                p.int("keys").max(1) as u64,
                p.int("step_ms"),
            ),
            node,
        ),
        NodeKind::SensorSource => source(
            SensorSource::new(
                generator_options(node),
                p.int("sensors").max(1) as u64,
                p.int("interval_ms"),
                p.int("disorder_ms"),
                p.float("anomaly_rate"),
            ),
            node,
        ),
        NodeKind::ClickSource => source(
            ClickSource::new(
                generator_options(node),
                p.int("users").max(1) as u64,
                p.int("pages").max(1) as u64,
                p.int("think_ms"),
                p.int("idle_ms"),
            ),
            node,
        ),
        NodeKind::Watermark => operator(WatermarkOperator::new(p.int("delay_ms"))),
        NodeKind::Partition | NodeKind::Merge => operator(PassThrough),
        NodeKind::Aggregate if node.fused => operator(PassThrough),
        NodeKind::Map => operator(MapOperator::new(
            &input_fields,
            parse_assignments(&p.text("assign"))?,
        )),
        NodeKind::Filter => operator(FilterOperator::new(
            &input_fields,
            compile(&p.text("predicate"))?,
        )),
        NodeKind::Window => {
            let pane = node.pane.clone().unwrap_or_default();
            let lateness = p.int("allowed_lateness_ms");
            let budget = context
                .state_budgets
                .get(&index)
                .cloned()
                .unwrap_or_else(StateBudget::unlimited);
            match p.text("kind").as_str() {
                "sliding" | "tumbling" => {
                    let size_ms = p.int("size_ms");
                    let slide_ms = if p.text("kind") == "sliding" {
                        p.int("slide_ms")
                    } else {
                        size_ms
                    };
                    operator(
                        TimeWindowOperator::new(
                            AlignedWindows {
                                size_ms,
                                slide_ms,
                                offset_ms: p.int("offset_ms"),
                                allowed_lateness_ms: lateness,
                            },
                            pane,
                        )
                        .with_state_budget(budget),
                    )
                }
                "session" => operator(
                    SessionWindowOperator::new(p.int("gap_ms"), lateness, pane)
                        .with_state_budget(budget),
                ),
                "count_sliding" => operator(
                    SlidingCountWindowOperator::new(
                        p.int("count") as u64,
                        p.int("count_slide") as u64,
                        pane,
                    )
                    .with_state_budget(budget),
                ),
                _ if is_count_window(&p) => operator(
                    CountWindowOperator::new(p.int("count") as u64, pane).with_state_budget(budget),
                ),
                other => return Err(format!("unknown window kind '{other}'")),
            }
        }
        NodeKind::Aggregate => {
            let functions = p
                .list("functions")
                .iter()
                .map(|f| AggregateFn::parse(f))
                .collect::<Result<Vec<_>, _>>()?;
            operator(AggregateOperator::new(
                functions,
                node.stats_indices.clone(),
            ))
        }
        NodeKind::CsvSink => {
            let (header, columns) =
                resolve_columns(&p.list("columns"), &input_fields, input_tag.as_deref())?;
            operator(CsvSink::create(
                &plan.location.resolve(&p.text("path")),
                &header,
                columns,
            )?)
        }
        NodeKind::NullSink => {
            let shared = Arc::clone(&context.shared);
            operator(NullSink {
                delay_per_record: std::time::Duration::from_micros(p.int("delay_us").max(0) as u64),
                ending: Some(Box::new(move || {
                    shared.stop_requested() || shared.finish_requested()
                })),
            })
        }
        NodeKind::Shard => operator(PassThrough),
        NodeKind::Trainer => {
            let Some(config) = node.trainer.clone() else {
                return Err("the planner left this trainer without a model".into());
            };
            let allreduce = context.allreduce.get(&index).cloned();
            let mut trainer = TrainerOperator::new(config, instance, allreduce)?;
            if let Some(live) = context.live.get(&index) {
                trainer = trainer.with_live_params(Arc::clone(live));
            }
            if let Some(slot) = context.insights.get(&index) {
                trainer = trainer.with_insight(Arc::clone(slot));
            }
            trainer = trainer.with_pause_point(Box::new(RunGate::new(Arc::clone(&context.shared))));
            operator(trainer)
        }
        NodeKind::Dense
        | NodeKind::Relu
        | NodeKind::LeakyRelu
        | NodeKind::Tanh
        | NodeKind::Sigmoid
        | NodeKind::Softmax
        | NodeKind::Dropout
        | NodeKind::LayerNorm
        | NodeKind::Loss => return Err("runs inside its Trainer, not on its own".into()),
        NodeKind::DatasetSource => {
            let kind = DatasetKind::parse(&p.text("dataset")).ok_or("unknown data set")?;
            let count = p.bool("bounded").then(|| p.int("count").max(0) as u64);
            source(
                DatasetSource::new(
                    kind,
                    count,
                    p.float("noise") as f32,
                    p.int("seed").max(0) as u64,
                ),
                node,
            )
        }
        NodeKind::Split => operator(SplitOperator::new(
            p.float("train_ratio"),
            p.text("by") == "key",
            p.int("seed").max(0) as u64,
        )),
        NodeKind::Normalize => {
            let chosen = p.list("fields");
            let indices = input_fields
                .iter()
                .enumerate()
                .filter(|(_, f)| chosen.is_empty() || chosen.contains(f))
                .map(|(i, _)| i)
                .collect();
            operator(NormalizeOperator::new(indices))
        }
        NodeKind::Batch => {
            let Some(spec) = node.features.clone() else {
                return Err("the planner left this batch without features".into());
            };
            operator(BatchOperator::new(spec, p.int("size").max(1) as usize))
        }
        NodeKind::Predict => operator(PredictOperator::new(p.bool("wait_for_final"))),
        NodeKind::Fault => operator(FaultOperator {
            at_record: p.int("at_record").max(1) as u64,
            panic: p.text("mode") == "panic",
            seen: 0,
        }),
    };
    Ok(built)
}
