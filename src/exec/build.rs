//! Builds the operator (or source) of each plan node instance from its typed spec: ONE
//! exhaustive match over `OpSpec`, so a new kind makes the compiler point here. Nothing here
//! reads a parameter by name or falls back to a default: the planner decided everything.

use super::control::{RunGate, Shared};
use crate::learn::LiveParams;
use crate::learn::allreduce::AllReduce;
use crate::learn::batch::BatchOperator;
use crate::learn::dataset_source::DatasetSource;
use crate::learn::insight::InsightSlot;
use crate::learn::normalize::NormalizeOperator;
use crate::learn::predict::PredictOperator;
use crate::learn::split::SplitOperator;
use crate::learn::trainer::TrainerOperator;
use crate::plan::{FaultMode, LogicalPlan, OpSpec, SplitBy, WindowAssigner, WindowSpec};
use crate::stream::aggregate::AggregateOperator;
use crate::stream::count_window::{CountWindowOperator, SlidingCountWindowOperator};
use crate::stream::expr::{FilterOperator, MapOperator};
use crate::stream::session_window::SessionWindowOperator;
use crate::stream::sinks::{CsvSink, NullSink};
use crate::stream::sources::{ClickSource, CsvSource, SensorSource, SequenceSource};
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
    /// Each CSV file source's length when the run started, by plan index: the end every
    /// instance of a split source reads to.
    pub file_bytes: BTreeMap<usize, u64>,
}

impl BuildContext {
    pub fn new(plan: &LogicalPlan, shared: &Arc<Shared>) -> Self {
        let allreduce = plan
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.spec, OpSpec::Trainer(_)) && n.parallelism > 1)
            .map(|(i, n)| {
                let shared = Arc::clone(shared);
                let stop: Box<dyn Fn() -> bool + Send + Sync> =
                    Box::new(move || shared.stop_requested());
                // Replicas that each have a core spin briefly at the all-reduce's barrier.
                let own_cores = n.parallelism <= super::threads_available();
                (
                    i,
                    Arc::new(AllReduce::new(n.parallelism, stop).spinning(own_cores)),
                )
            })
            .collect();
        let live = plan
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.spec, OpSpec::Trainer(_)))
            .map(|(i, _)| (i, Arc::new(LiveParams::default())))
            .collect();
        let insights = plan
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.spec, OpSpec::Trainer(_)))
            .map(|(i, _)| (i, Arc::new(InsightSlot::default())))
            .collect();
        let state_budgets = plan
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match &n.spec {
                OpSpec::Window(window) => Some((
                    i,
                    StateBudget::new(window.state_limit.max(1), n.parallelism),
                )),
                _ => None,
            })
            .collect();
        let file_bytes = plan
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match &n.spec {
                OpSpec::CsvSource(options) => std::fs::metadata(&options.path)
                    .ok()
                    .filter(|m| m.is_file())
                    .map(|m| (i, m.len())),
                _ => None,
            })
            .collect();
        Self {
            allreduce,
            live,
            insights,
            shared: Arc::clone(shared),
            state_budgets,
            file_bytes,
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

    /// The batch passes on whole, not item by item.
    fn on_batch(&mut self, _port: usize, items: Vec<Item>, out: &mut Outputs) -> OpResult {
        out.push_batch(0, items);
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

fn source(source: impl Source + 'static, rate_per_s: f64) -> Built {
    Built::Source {
        source: Box::new(source),
        rate_per_s,
    }
}

fn operator(op: impl Operator + 'static) -> Built {
    Built::Operator(Box::new(op))
}

/// Builds one instance of `node` from its spec: ONE exhaustive match from spec to operator,
/// reading no parameter by name. Errors here are about the outside world (files), since the
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
    let input_fields = node
        .input_schema(plan, 0)
        .map(|s| s.fields.clone())
        .unwrap_or_default();
    let built = match &node.spec {
        OpSpec::CsvSource(options) => {
            let file_bytes = context.file_bytes.get(&index).copied();
            let csv = CsvSource::open(options).map_err(|e| e.to_string())?;
            source(csv.with_file_bytes(file_bytes), 0.0)
        }
        OpSpec::SequenceSource {
            generator,
            keys,
            step_ms,
            per_step,
            key_order,
        } => source(
            SequenceSource::new(generator.options.clone(), *keys, *step_ms)
                .with_records_per_step(*per_step)
                .with_key_order(*key_order),
            generator.rate_per_s,
        ),
        OpSpec::SensorSource {
            generator,
            sensors,
            interval_ms,
            disorder_ms,
            anomaly_rate,
        } => source(
            SensorSource::new(
                generator.options.clone(),
                *sensors,
                *interval_ms,
                *disorder_ms,
                *anomaly_rate,
            ),
            generator.rate_per_s,
        ),
        OpSpec::ClickSource {
            generator,
            users,
            pages,
            think_ms,
            idle_ms,
            items,
        } => {
            let clicks = ClickSource::new(
                generator.options.clone(),
                *users,
                *pages,
                *think_ms,
                *idle_ms,
            );
            let clicks = match items {
                Some(i) => clicks.with_items(i.items, i.genres, i.affinity),
                None => clicks,
            };
            source(clicks, generator.rate_per_s)
        }
        OpSpec::DatasetSource {
            dataset,
            count,
            noise,
            seed,
            rate_per_s,
        } => source(
            DatasetSource::new(*dataset, *count, *noise, *seed),
            *rate_per_s,
        ),
        OpSpec::Watermark { delay_ms } => {
            let watermarks = WatermarkOperator::new(*delay_ms);
            operator(match crate::plan::timers::downstream_timers(plan, index) {
                Some(timers) => watermarks.holding_back_between(timers),
                None => watermarks,
            })
        }
        OpSpec::Partition { .. } | OpSpec::Merge | OpSpec::Shard { .. } => operator(PassThrough),
        OpSpec::Map { assignments } => {
            operator(MapOperator::new(&input_fields, assignments.clone()))
        }
        OpSpec::Filter { predicate } => {
            operator(FilterOperator::new(&input_fields, predicate.clone()))
        }
        OpSpec::Window(window) => {
            let budget = context
                .state_budgets
                .get(&index)
                .map_or_else(StateBudget::unlimited, |node| node.instance());
            window_operator(window, budget)
        }
        OpSpec::Aggregate(aggregate) if aggregate.fused => operator(PassThrough),
        OpSpec::Aggregate(aggregate) => operator(AggregateOperator::new(
            aggregate.functions.clone(),
            aggregate.stats_indices.clone(),
        )),
        OpSpec::CsvSink {
            path,
            header,
            columns,
        } => operator(CsvSink::create(path, header, columns.clone())?),
        OpSpec::NullSink { delay_per_record } => {
            let shared = Arc::clone(&context.shared);
            operator(NullSink {
                delay_per_record: *delay_per_record,
                ending: Some(Box::new(move || {
                    shared.stop_requested() || shared.finish_requested()
                })),
            })
        }
        OpSpec::Fault { at_record, mode } => operator(FaultOperator {
            at_record: *at_record,
            panic: *mode == FaultMode::Panic,
            seen: 0,
        }),
        OpSpec::Split {
            train_ratio,
            by,
            seed,
        } => operator(SplitOperator::new(*train_ratio, *by == SplitBy::Key, *seed)),
        OpSpec::Normalize { fields } => operator(NormalizeOperator::new(fields.clone())),
        OpSpec::Batch {
            size,
            features,
            sequence,
            negatives,
        } => {
            let mut batch = BatchOperator::new(features.clone(), *size);
            if let Some(sequence) = sequence {
                batch = batch.with_sequence(*sequence);
            }
            if let Some(negatives) = negatives {
                batch = batch.with_negatives(*negatives);
            }
            operator(batch)
        }
        OpSpec::Trainer(spec) => {
            let allreduce = context.allreduce.get(&index).cloned();
            let mut trainer = TrainerOperator::new(spec.config.clone(), instance, allreduce)?;
            if let Some(live) = context.live.get(&index) {
                trainer = trainer.with_live_params(Arc::clone(live));
            }
            if let Some(slot) = context.insights.get(&index) {
                trainer = trainer.with_insight(Arc::clone(slot));
            }
            trainer = trainer.with_pause_point(Box::new(RunGate::new(Arc::clone(&context.shared))));
            operator(trainer)
        }
        OpSpec::Layer { .. } | OpSpec::Loss(_) => {
            return Err("runs inside its Trainer, not on its own".into());
        }
        OpSpec::Predict { wait_for_final } => operator(PredictOperator::new(*wait_for_final)),
    };
    Ok(built)
}

/// The operator of a window spec: one per window kind.
fn window_operator(window: &WindowSpec, budget: Arc<StateBudget>) -> Built {
    let pane = window.pane.clone();
    let lateness = window.allowed_lateness_ms;
    let aligned = |size_ms, slide_ms, offset_ms| AlignedWindows {
        size_ms,
        slide_ms,
        offset_ms,
        allowed_lateness_ms: lateness,
    };
    match window.assigner {
        WindowAssigner::Tumbling { size_ms, offset_ms } => operator(
            TimeWindowOperator::new(aligned(size_ms, size_ms, offset_ms), pane)
                .with_state_budget(budget),
        ),
        WindowAssigner::Sliding {
            size_ms,
            slide_ms,
            offset_ms,
        } => operator(
            TimeWindowOperator::new(aligned(size_ms, slide_ms, offset_ms), pane)
                .with_state_budget(budget),
        ),
        WindowAssigner::Session { gap_ms } => {
            operator(SessionWindowOperator::new(gap_ms, lateness, pane).with_state_budget(budget))
        }
        WindowAssigner::Count { count } => {
            operator(CountWindowOperator::new(count, pane).with_state_budget(budget))
        }
        WindowAssigner::CountSliding { count, slide } => {
            operator(SlidingCountWindowOperator::new(count, slide, pane).with_state_budget(budget))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::NodeKind;
    use crate::graph::ParamValue;
    use crate::plan::sketch::sample;

    /// Every catalogue kind has a spec variant (compiler-checked by `OpSpec::kind` and this
    /// module's match) and an operator: a source, an operator, or its trainer's for layers.
    #[test]
    fn every_catalog_kind_plans_to_its_spec_and_builds_an_operator() {
        let dir = tempfile::tempdir().unwrap();
        for kind in NodeKind::all() {
            let mut graph = sample(kind);
            if kind == NodeKind::CsvSink
                && let Some(it) = graph.node_by_name_mut("it")
            {
                let path = dir.path().join("out.csv").display().to_string();
                it.params.insert("path".into(), ParamValue::Text(path));
            }
            let plan = crate::plan::plan(&graph).unwrap();
            let index = plan.nodes.iter().position(|n| n.name == "it").unwrap();
            let id = kind.spec().id;
            assert_eq!(plan.nodes[index].spec.kind(), kind, "{id}");
            let shared = Arc::new(Shared::default());
            let context = BuildContext::new(&plan, &shared);
            match build(&plan, index, 0, &context) {
                Ok(Built::Source { .. }) => assert!(kind.is_source(), "{id} is a source"),
                Ok(Built::Operator(_)) => {
                    assert!(!kind.is_source() && !kind.is_model_part(), "{id} operates")
                }
                Err(message) => {
                    assert!(kind.is_model_part(), "{id}: {message}");
                    assert!(message.contains("inside its Trainer"), "{id}: {message}");
                }
            }
        }
    }
}
