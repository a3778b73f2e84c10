//! Planning of a Trainer: the model it trains — found by walking its Loss → layers → (Shard)
//! → Batch chain — built from the layers' specs and shape-checked now, so that a wrong width
//! is a validation problem naming the layer, never a panic at run time; its optimiser and
//! schedule from its parameters; and a size check before anything is allocated.

use super::Problem;
use super::infer::{Draft, DraftNode, schema};
use super::learn::refused;
use super::params::ParamReader;
use super::spec::{OpSpec, TrainerSpec};
use crate::catalog::NodeKind;
use crate::graph::{Node, NodeId};
use crate::learn::LabelKind;
use crate::learn::ranking::RankingSpec;
use crate::learn::trainer::{TrainerConfig, TrainingMode, metric_fields};
use crate::nn::layout::Shape;
use crate::nn::{
    Decay, LayerInput, LayerKind, LayerSpec, LossKind, LrSchedule, ModelConfig, ModelShape,
    OptimizerConfig, model_shape,
};

/// The model behind a trainer: (loss node, layers in an order where every layer comes after
/// the layers it reads — the one feeding the Loss last —, model head = the Shard or Batch node
/// feeding the layers that read the input, the Batch node).
struct Chain {
    loss: usize,
    layers: Vec<usize>,
    head: usize,
    batch: usize,
}

/// Walks back from the trainer's Loss through every layer input: the layers form a small DAG
/// (two towers joined by Dot or Concat) whose inputs all come from one Batch (or Shard).
fn walk_chain(plan: &Draft, trainer: &DraftNode) -> Result<Chain, Problem> {
    let problem = |message: &str| Problem::node_named(trainer.id, &trainer.name, message);
    let Some(loss) = trainer.inputs.iter().find(|i| i.port == 0).map(|i| i.from) else {
        return Err(problem("input 'loss' is not connected").with_port("loss"));
    };
    if plan.nodes.get(loss).map(|n| n.kind) != Some(NodeKind::Loss) {
        return Err(problem("the `loss` input must come from a Loss node").with_port("loss"));
    }
    let Some(last) = plan
        .nodes
        .get(loss)
        .and_then(|n| n.inputs.first())
        .map(|i| i.from)
    else {
        return Err(problem(
            "the model has no layers between its Batch and Loss nodes",
        ));
    };
    let mut walk = ModelWalk {
        plan,
        state: vec![Visit::New; plan.nodes.len()],
        layers: Vec::new(),
        head: None,
    };
    if !matches!(
        plan.nodes.get(last).map(|n| n.kind),
        Some(NodeKind::Layer(_))
    ) {
        return match plan.nodes.get(last).map(|n| (n.kind, n)) {
            Some((NodeKind::Batch | NodeKind::Shard, _)) => Err(problem(
                "the model has no layers between its Batch and Loss nodes",
            )),
            Some((NodeKind::Loss, n)) => Err(Problem::node_named(
                n.id,
                &n.name,
                "a Loss node ends a model: it cannot feed another layer",
            )),
            _ => Err(problem(
                "the Loss must be fed by a layer (the model's last one)",
            )),
        };
    }
    walk.visit(last)?;
    let Some(head) = walk.head else {
        return Err(problem(
            "the model's first layer has no input: wire a Batch node into it",
        ));
    };
    let layers = walk.layers;
    // A layer's output goes to later layers of this model (or its Loss) only.
    for &i in &layers {
        for (consumer, _) in plan.consumers(i, 0) {
            if consumer != loss && !layers.contains(&consumer) {
                let n = &plan.nodes[i];
                return Err(Problem::node_named(
                    n.id,
                    &n.name,
                    "a model layer feeds only layers of its model (or its Loss); its output is also wired elsewhere",
                ));
            }
        }
    }
    let batch = match plan.nodes.get(head).map(|n| n.kind) {
        Some(NodeKind::Batch) => head,
        Some(NodeKind::Shard) => match plan.nodes.get(head).and_then(|n| n.inputs.first()) {
            Some(b) if plan.nodes.get(b.from).map(|n| n.kind) == Some(NodeKind::Batch) => b.from,
            _ => {
                return Err(problem(
                    "the Shard before the first layer must be fed by a Batch node",
                ));
            }
        },
        _ => {
            return Err(problem(
                "the first layer must be fed by a Batch node (or a Shard after one)",
            ));
        }
    };
    Ok(Chain {
        loss,
        layers,
        head,
        batch,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Visit {
    New,
    Open,
    Done,
}

/// Depth-first walk over a model's layers, recording them after the layers they read.
struct ModelWalk<'a> {
    plan: &'a Draft,
    state: Vec<Visit>,
    layers: Vec<usize>,
    head: Option<usize>,
}

impl ModelWalk<'_> {
    fn visit(&mut self, i: usize) -> Result<(), Problem> {
        let Some(node) = self.plan.nodes.get(i) else {
            return Ok(());
        };
        match self.state.get(i) {
            Some(Visit::Done) => return Ok(()),
            Some(Visit::Open) => {
                return Err(Problem::node_named(
                    node.id,
                    &node.name,
                    "the model's layers form a cycle",
                ));
            }
            _ => {}
        }
        if let Some(s) = self.state.get_mut(i) {
            *s = Visit::Open;
        }
        let problem = |message: String| Problem::node_named(node.id, &node.name, message);
        let mut inputs: Vec<_> = node.inputs.iter().collect();
        inputs.sort_by_key(|input| input.port);
        for input in inputs {
            let Some(from) = self.plan.nodes.get(input.from) else {
                continue;
            };
            match from.kind {
                NodeKind::Layer(_) => self.visit(input.from)?,
                NodeKind::Batch | NodeKind::Shard => match self.head {
                    Some(head) if head != input.from => {
                        return Err(problem(format!(
                            "all inputs of a model come from one Batch node; this layer reads '{}', another reads '{}'",
                            from.name,
                            self.plan.nodes.get(head).map_or("?", |h| h.name.as_str())
                        )));
                    }
                    _ => self.head = Some(input.from),
                },
                NodeKind::Loss => {
                    return Err(problem(
                        "a Loss node ends a model: it cannot feed another layer".into(),
                    ));
                }
                _ => {
                    return Err(problem(format!(
                        "a layer reads another layer or a Batch node's mini-batches, not '{}' ({})",
                        from.name,
                        from.catalog().title
                    )));
                }
            }
        }
        if let Some(s) = self.state.get_mut(i) {
            *s = Visit::Done;
        }
        self.layers.push(i);
        Ok(())
    }
}

/// The update rule a trainer's `optimizer` names.
#[derive(Clone, Copy)]
enum OptimizerChoice {
    Sgd,
    Momentum,
    Nesterov,
    Adam,
    AdamW,
}

fn optimizer(choice: OptimizerChoice, momentum: f32, weight_decay: f32) -> OptimizerConfig {
    match choice {
        OptimizerChoice::Sgd => OptimizerConfig::Sgd {
            momentum: 0.0,
            nesterov: false,
            weight_decay,
        },
        OptimizerChoice::Momentum => OptimizerConfig::Sgd {
            momentum,
            nesterov: false,
            weight_decay,
        },
        OptimizerChoice::Nesterov => OptimizerConfig::Sgd {
            momentum,
            nesterov: true,
            weight_decay,
        },
        OptimizerChoice::AdamW => OptimizerConfig::adamw(weight_decay),
        OptimizerChoice::Adam => match OptimizerConfig::adam() {
            OptimizerConfig::Adam {
                beta1, beta2, eps, ..
            } => OptimizerConfig::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
            },
            other => other,
        },
    }
}

/// The learning-rate schedule a trainer's `schedule` names.
#[derive(Clone, Copy)]
enum ScheduleChoice {
    Constant,
    Step,
    Cosine,
}

/// A trainer's parameters, typed (the model comes from its chain).
struct TrainerParams {
    mode: TrainingMode,
    optimizer: OptimizerConfig,
    schedule: LrSchedule,
    clip_norm: f32,
    eval_every: u64,
    publish_every: u64,
    max_model_mb: i64,
    seed: u64,
    /// Feature field whose ids are ranked (prequential), and the cut-off.
    rank_field: String,
    rank_k: usize,
}

fn trainer_params(mut p: ParamReader<'_>) -> Result<TrainerParams, Problem> {
    let mode = p.choice("mode", &[("epochs", false), ("prequential", true)]);
    let epochs = p.int("epochs");
    let window = p.size("window");
    let choice = p.choice(
        "optimizer",
        &[
            ("sgd", OptimizerChoice::Sgd),
            ("momentum", OptimizerChoice::Momentum),
            ("nesterov", OptimizerChoice::Nesterov),
            ("adam", OptimizerChoice::Adam),
            ("adamw", OptimizerChoice::AdamW),
        ],
    );
    let lr = p.float("lr") as f32;
    let momentum = p.float("momentum") as f32;
    let weight_decay = p.float("weight_decay") as f32;
    let schedule = p.choice(
        "schedule",
        &[
            ("constant", ScheduleChoice::Constant),
            ("step", ScheduleChoice::Step),
            ("cosine", ScheduleChoice::Cosine),
        ],
    );
    let warmup_steps = p.count("warmup_steps");
    let step_every = p.count("step_every");
    let step_gamma = p.float("step_gamma") as f32;
    let cosine_steps = p.count("cosine_steps");
    let min_lr = p.float("min_lr") as f32;
    let clip_norm = p.float("clip_norm") as f32;
    let eval_every = p.count("eval_every");
    let publish_every = p.count("publish_every");
    let max_model_mb = p.int("max_model_mb");
    let seed = p.count("seed");
    let rank_field = p.text("rank_field");
    let rank_k = p.size("rank_k");
    let (Some(prequential), Some(choice), Some(schedule)) = (mode, choice, schedule) else {
        return Err(refused(p));
    };
    let decay = match schedule {
        ScheduleChoice::Constant => Decay::Constant,
        ScheduleChoice::Step => Decay::Step {
            every_steps: step_every.max(1),
            gamma: step_gamma,
        },
        ScheduleChoice::Cosine => LrSchedule::cosine(lr, cosine_steps.max(1), min_lr).decay,
    };
    p.finish(TrainerParams {
        mode: if prequential {
            TrainingMode::Prequential {
                window: window.max(1),
            }
        } else {
            TrainingMode::Epochs(epochs.clamp(1, i64::from(u32::MAX)) as u32)
        },
        optimizer: optimizer(choice, momentum, weight_decay),
        schedule: LrSchedule {
            lr,
            warmup_steps,
            decay,
        },
        clip_norm,
        eval_every: eval_every.max(1),
        publish_every: publish_every.max(1),
        max_model_mb,
        seed,
        rank_field,
        rank_k,
    })
}

/// Names the layer an `NnError` message is about, if it mentions one of the chain's nodes.
fn problem_on_layer(plan: &Draft, chain: &Chain, trainer: &DraftNode, message: String) -> Problem {
    let mentioned = chain
        .layers
        .iter()
        .filter_map(|&i| plan.nodes.get(i))
        .find(|n| message.contains(&n.name));
    match mentioned {
        Some(layer) => Problem::node_named(layer.id, &layer.name, message),
        None => Problem::node_named(trainer.id, &trainer.name, message),
    }
}

/// The chain's layers as `nn` layer specs, each reading its wired inputs: a layer by name,
/// or the Batch's features (an Embedding's `columns` of them, by name).
fn model_layers(
    plan: &Draft,
    chain: &Chain,
    batch_features: &[String],
) -> Result<Vec<LayerSpec>, Problem> {
    let mut layers = Vec::new();
    for &i in &chain.layers {
        let Some(node) = plan.nodes.get(i) else {
            continue;
        };
        let problem = |message: String| Problem::node_named(node.id, &node.name, message);
        let Some(OpSpec::Layer { layer, columns, .. }) = &node.spec else {
            return Err(problem("this layer has problems of its own".into()));
        };
        let mut wired: Vec<_> = node.inputs.iter().collect();
        wired.sort_by_key(|input| input.port);
        let mut inputs = Vec::new();
        for input in wired {
            let Some(from) = plan.nodes.get(input.from) else {
                continue;
            };
            if from.kind.is_model_part() {
                inputs.push(LayerInput::Layer(from.name.clone()));
                continue;
            }
            let picked = columns
                .iter()
                .map(|name| {
                    batch_features
                        .iter()
                        .position(|f| f == name)
                        .ok_or_else(|| {
                            problem(format!(
                                "no feature '{name}' in the mini-batches; their features are: {}",
                                batch_features.join(", ")
                            ))
                            .with_param("columns")
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            inputs.push(LayerInput::Input { columns: picked });
        }
        layers.push(LayerSpec::new(node.name.clone(), *layer).with_inputs(inputs));
    }
    Ok(layers)
}

/// Builds and checks the trainer's model; rewrites its training input to the chain head and
/// records the chain's nodes as parts of this trainer.
pub fn trainer(p: ParamReader<'_>, plan: &Draft, n: &mut DraftNode) -> Result<OpSpec, Problem> {
    let trainer = p.node().clone();
    let params = trainer_params(p)?;
    let chain = walk_chain(plan, n)?;
    let Some(Some(OpSpec::Batch {
        features: spec,
        sequence,
        ..
    })) = plan.nodes.get(chain.batch).map(|b| &b.spec)
    else {
        return Err(Problem::node(
            &trainer,
            "its Batch node has problems of its own",
        ));
    };
    let (spec, sequence) = (spec.clone(), *sequence);
    let batch_features = plan
        .nodes
        .get(chain.batch)
        .and_then(|b| b.outputs.first())
        .map(|s| s.fields.clone())
        .unwrap_or_default();
    let layers = model_layers(plan, &chain, &batch_features)?;
    let (loss_node, loss) = match plan.nodes.get(chain.loss) {
        Some(node) => match &node.spec {
            Some(OpSpec::Loss(kind)) => ((node.id, node.name.clone()), *kind),
            _ => {
                return Err(Problem::node_named(
                    node.id,
                    &node.name,
                    "this Loss node has problems of its own",
                ));
            }
        },
        None => return Err(Problem::node(&trainer, "its Loss node is missing")),
    };
    let config = ModelConfig::new(spec.features.len(), layers);
    let config = match sequence {
        Some(sequence) => config.with_input_shape(Shape::Sequence {
            steps: sequence.steps,
            features: spec.features.len(),
        }),
        None => config,
    };
    let config = config
        .with_loss(loss)
        .with_optimizer(params.optimizer)
        .with_schedule(params.schedule)
        .with_clip_grad_norm((params.clip_norm > 0.0).then_some(params.clip_norm))
        .with_seed(params.seed);
    // Shapes and parameter counts only: checking never allocates the model's weights.
    let shape =
        model_shape(&config).map_err(|e| problem_on_layer(plan, &chain, n, e.to_string()))?;
    check_labels(loss_node, loss, spec.label_kind, shape.output_width())?;
    let test = n.inputs.iter().find(|i| i.port == 1).map(|i| i.from);
    if let Some(t) = test {
        let test_batch = match plan.nodes.get(t).map(|b| &b.spec) {
            Some(Some(OpSpec::Batch {
                features,
                sequence: test_sequence,
                ..
            })) => Some((features.features.len(), *test_sequence)),
            _ => None,
        };
        let test_width = test_batch.map(|(width, _)| width);
        if test_batch.is_some_and(|(_, s)| s != sequence) {
            return Err(Problem::node(
                &trainer,
                "the test batches must be read like the training batches: set the same sequence_steps on both Batch nodes",
            )
            .with_port("test"));
        }
        if test_width != Some(spec.features.len()) {
            return Err(Problem::node(
                &trainer,
                format!(
                    "the test batches have {} features but the model takes {}",
                    test_width.map_or("no".into(), |w| w.to_string()),
                    spec.features.len()
                ),
            )
            .with_port("test"));
        }
    }
    let model_parts = chain.layers.iter().copied().chain([chain.loss]).collect();
    let batch_fields = plan
        .nodes
        .get(chain.batch)
        .and_then(|b| b.inputs.first().and_then(|i| b.input_schema(plan, i.port)))
        .map(|s| s.fields.clone())
        .unwrap_or_default();
    if let Some(train) = n.inputs.iter_mut().find(|i| i.port == 0) {
        train.from = chain.head;
        train.from_port = 0;
    }
    // Replicas only behind a Shard; otherwise one trainer takes every batch (a gather).
    (n.parallelism, n.keyed) = match plan.nodes.get(chain.head) {
        Some(head) if head.kind == NodeKind::Shard => super::infer::output_parallelism(head),
        _ => (1, true),
    };
    check_model_size(
        &trainer,
        &shape,
        n.parallelism,
        batch_rows(plan, chain.batch),
        params.max_model_mb,
    )?;
    let ranking = ranking(&trainer, &params, &config, &batch_features)?;
    let config = TrainerConfig {
        name: n.name.clone(),
        model: config,
        features: spec,
        mode: params.mode,
        eval_every: params.eval_every,
        publish_every: params.publish_every,
        seed: params.seed,
        expects_test: test.is_some(),
        ranking,
    };
    n.outputs = vec![
        schema(metric_fields(&config), Some("M")),
        schema(Vec::new(), None),
    ];
    Ok(OpSpec::Trainer(Box::new(TrainerSpec {
        config,
        model_parts,
        batch_fields,
    })))
}

/// The trainer's ranking of ids (prequential): the feature `rank_field` names, ranked over the
/// vocabulary of the Embedding that reads it.
fn ranking(
    trainer: &Node,
    params: &TrainerParams,
    model: &ModelConfig,
    batch_features: &[String],
) -> Result<Option<RankingSpec>, Problem> {
    if params.rank_field.is_empty() {
        return Ok(None);
    }
    let problem = |message: String| Err(Problem::node(trainer, message).with_param("rank_field"));
    if !matches!(params.mode, TrainingMode::Prequential { .. }) {
        return problem(
            "ranking scores each batch before it is learned: set mode to prequential".into(),
        );
    }
    let Some(column) = batch_features.iter().position(|f| *f == params.rank_field) else {
        return problem(format!(
            "no feature '{}' in the mini-batches; their features are: {}",
            params.rank_field,
            batch_features.join(", ")
        ));
    };
    let vocab = model.layers.iter().find_map(|layer| match layer.kind {
        LayerKind::Embedding { vocab, .. }
            if layer
                .inputs
                .iter()
                .any(|i| matches!(i, LayerInput::Input { columns } if columns == &[column])) =>
        {
            Some(vocab)
        }
        _ => None,
    });
    let Some(candidates) = vocab else {
        return problem(format!(
            "no Embedding reads '{}' alone (columns = {}): the ranked ids are an embedding's vocabulary",
            params.rank_field, params.rank_field
        ));
    };
    Ok(Some(RankingSpec {
        column,
        candidates,
        k: params.rank_k,
    }))
}

const MB: u64 = 1 << 20;

/// Refuses a model whose parameters (over all replicas) or whose activations for one batch
/// would take more than `max_mb` MB as f32, with the numbers and the setting to change.
fn check_model_size(
    trainer: &Node,
    shape: &ModelShape,
    replicas: usize,
    rows: Option<u64>,
    max_mb: i64,
) -> Result<(), Problem> {
    let limit = u64::try_from(max_mb).unwrap_or(1).max(1).saturating_mul(MB);
    let params = shape.param_count();
    let param_bytes = params.saturating_mul(4).saturating_mul(replicas as u64);
    let too_big = |what: String| {
        Err(Problem::node(
            trainer,
            format!(
                "{what}; the limit is {max_mb} MB: make the layers narrower, or raise max_model_mb if the machine has the memory"
            ),
        )
        .with_param("max_model_mb"))
    };
    if param_bytes > limit {
        let replicas = if replicas > 1 {
            format!(" in each of {replicas} replicas")
        } else {
            String::new()
        };
        return too_big(format!(
            "the model has {} parameters{replicas}: {} MB as f32 (training needs about 4 times that, with gradients and optimizer state)",
            thousands(params),
            thousands(param_bytes.div_ceil(MB))
        ));
    }
    if let Some(rows) = rows {
        let bytes = shape.activation_floats(rows).saturating_mul(4);
        if bytes > limit {
            return too_big(format!(
                "one batch of {} rows needs {} MB of activations",
                thousands(rows),
                thousands(bytes.div_ceil(MB))
            ));
        }
    }
    Ok(())
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Rows in each training batch, when the graph fixes them: a Batch node stacking records, or
/// a count window's records.
fn batch_rows(plan: &Draft, batch: usize) -> Option<u64> {
    let node = plan.nodes.get(batch)?;
    let input = node.inputs.first()?;
    if let Some(OpSpec::Batch {
        size,
        sequence: Some(_),
        ..
    }) = &node.spec
    {
        return u64::try_from(*size).ok();
    }
    if input.port == 0 {
        return match &node.spec {
            Some(OpSpec::Batch { size, .. }) => u64::try_from(*size).ok(),
            _ => None,
        };
    }
    match &plan.nodes.get(input.from)?.spec {
        Some(OpSpec::Window(window)) => window.assigner.records_per_window(),
        _ => None,
    }
}

fn check_labels(
    loss_node: (NodeId, String),
    loss: LossKind,
    labels: LabelKind,
    outputs: usize,
) -> Result<(), Problem> {
    let problem = |m: String| Err(Problem::node_named(loss_node.0, &loss_node.1, m));
    match (loss, labels) {
        (LossKind::CrossEntropy, LabelKind::Class { classes } | LabelKind::OneHot { classes })
            if classes != outputs =>
        {
            problem(format!(
                "the model gives {outputs} outputs but the labels have {classes} classes: make the last dense layer's units {classes}"
            ))
        }
        (LossKind::CrossEntropy, LabelKind::Value) => {
            problem("cross-entropy needs class labels: set the Batch node's labels to class".into())
        }
        (LossKind::BinaryCrossEntropy, _) if outputs != 1 => problem(format!(
            "binary cross-entropy needs one output, the model gives {outputs}: make the last dense layer's units 1"
        )),
        (
            LossKind::BinaryCrossEntropy,
            LabelKind::Class { classes } | LabelKind::OneHot { classes },
        ) if classes != 2 => problem(format!(
            "binary cross-entropy needs 2 classes (0/1), the Batch node says {classes}"
        )),
        (LossKind::Mse, LabelKind::Value) if outputs != 1 => problem(format!(
            "the labels are one value but the model gives {outputs} outputs: make the last dense layer's units 1"
        )),
        (LossKind::Mse, LabelKind::Class { .. } | LabelKind::OneHot { .. }) => {
            problem("MSE needs value labels: set the Batch node's labels to value".into())
        }
        _ => Ok(()),
    }
}
