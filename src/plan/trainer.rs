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
use crate::learn::trainer::{METRIC_FIELDS, TrainerConfig, TrainingMode};
use crate::nn::{
    Decay, LayerSpec, LossKind, LrSchedule, ModelConfig, ModelShape, OptimizerConfig, model_shape,
};

/// The model chain behind a trainer: (loss node, layers in forward order, chain head = the
/// Shard or Batch node feeding the first layer, the Batch node).
struct Chain {
    loss: usize,
    layers: Vec<usize>,
    head: usize,
    batch: usize,
}

fn walk_chain(plan: &Draft, trainer: &DraftNode) -> Result<Chain, Problem> {
    let problem = |message: &str| Problem::node_named(trainer.id, &trainer.name, message);
    let only_input = |i: usize| {
        plan.nodes
            .get(i)
            .and_then(|n| n.inputs.first())
            .map(|inp| inp.from)
    };
    let Some(loss) = trainer.inputs.iter().find(|i| i.port == 0).map(|i| i.from) else {
        return Err(problem("input 'loss' is not connected").with_port("loss"));
    };
    if plan.nodes.get(loss).map(|n| n.kind) != Some(NodeKind::Loss) {
        return Err(problem("the `loss` input must come from a Loss node").with_port("loss"));
    }
    let mut layers = Vec::new();
    let mut at = only_input(loss);
    while let Some(i) = at {
        let Some(n) = plan.nodes.get(i) else { break };
        if !n.kind.is_model_part() {
            break;
        }
        if plan.consumers(i, 0).len() > 1 {
            return Err(Problem::node_named(
                n.id,
                &n.name,
                "a model layer feeds one next layer; its output is wired twice",
            ));
        }
        layers.push(i);
        at = only_input(i);
    }
    layers.reverse();
    let Some(head) = at else {
        return Err(problem(
            "the model's first layer has no input: wire a Batch node into it",
        ));
    };
    let batch = match plan.nodes.get(head).map(|n| n.kind) {
        Some(NodeKind::Batch) => head,
        Some(NodeKind::Shard) => match only_input(head) {
            Some(b) if plan.nodes.get(b).map(|n| n.kind) == Some(NodeKind::Batch) => b,
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
    if layers.is_empty() {
        return Err(problem(
            "the model has no layers between its Batch and Loss nodes",
        ));
    }
    Ok(Chain {
        loss,
        layers,
        head,
        batch,
    })
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

/// The chain's layers as `nn` layer specs; every layer node must be a layer with a spec.
fn model_layers(plan: &Draft, chain: &Chain) -> Result<Vec<LayerSpec>, Problem> {
    let mut layers = Vec::new();
    for &i in &chain.layers {
        let Some(node) = plan.nodes.get(i) else {
            continue;
        };
        let problem = |message: String| Problem::node_named(node.id, &node.name, message);
        match &node.spec {
            Some(OpSpec::Layer { layer, .. }) => {
                layers.push(LayerSpec::new(node.name.clone(), *layer))
            }
            Some(OpSpec::Loss(_)) => {
                return Err(problem(
                    "a Loss node ends a model: it cannot feed another layer".into(),
                ));
            }
            Some(_) | None => return Err(problem("this layer has problems of its own".into())),
        }
    }
    Ok(layers)
}

/// Builds and checks the trainer's model; rewrites its training input to the chain head and
/// records the chain's nodes as parts of this trainer.
pub fn trainer(p: ParamReader<'_>, plan: &Draft, n: &mut DraftNode) -> Result<OpSpec, Problem> {
    let trainer = p.node().clone();
    let params = trainer_params(p)?;
    let chain = walk_chain(plan, n)?;
    let Some(Some(OpSpec::Batch { features: spec, .. })) =
        plan.nodes.get(chain.batch).map(|b| &b.spec)
    else {
        return Err(Problem::node(
            &trainer,
            "its Batch node has problems of its own",
        ));
    };
    let spec = spec.clone();
    let layers = model_layers(plan, &chain)?;
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
    let config = ModelConfig::new(spec.features.len(), layers)
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
        let test_width = match plan.nodes.get(t).map(|b| &b.spec) {
            Some(Some(OpSpec::Batch { features, .. })) => Some(features.features.len()),
            _ => None,
        };
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
    let metrics = METRIC_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    n.outputs = vec![schema(metrics, Some("M")), schema(Vec::new(), None)];
    Ok(OpSpec::Trainer(Box::new(TrainerSpec {
        config: TrainerConfig {
            name: n.name.clone(),
            model: config,
            features: spec,
            mode: params.mode,
            eval_every: params.eval_every,
            publish_every: params.publish_every,
            seed: params.seed,
            expects_test: test.is_some(),
            ranking: None,
        },
        model_parts,
        batch_fields,
    })))
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
