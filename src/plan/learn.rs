//! Planning of learning nodes: which fields a Batch stacks, and the model a Trainer trains —
//! found by walking its Loss → layers → (Shard) → Batch chain, built and shape-checked now so
//! that a wrong width is a validation problem naming the layer, never a panic at run time.

use super::{LogicalPlan, PlanNode, Problem};
use crate::catalog::{NodeKind, NodeParams};
use crate::graph::Node;
use crate::learn::trainer::{METRIC_FIELDS, TrainerConfig, TrainingMode};
use crate::learn::{FeatureSpec, LabelKind};
use crate::nn::{
    Decay, Init, LayerKind, LayerSpec, LossKind, LrSchedule, ModelConfig, ModelShape,
    OptimizerConfig, model_shape,
};
use crate::stream::Schema;
use std::sync::Arc;

fn schema(fields: Vec<String>, tag: Option<&str>) -> Arc<Schema> {
    Arc::new(Schema {
        fields,
        tag: tag.map(str::to_owned),
    })
}

/// Fields of a data set source's records.
pub fn dataset_fields(dataset: &str) -> Vec<String> {
    let last = if dataset == "regression" {
        "y"
    } else {
        "label"
    };
    ["x1", "x2", last].into_iter().map(str::to_owned).collect()
}

/// Reads a Batch node's parameters against its input fields.
pub fn feature_spec(
    node: &Node,
    p: &NodeParams<'_>,
    fields: &[String],
) -> Result<FeatureSpec, Problem> {
    let label_name = p.text("label");
    let find = |name: &str, param: &str| {
        fields.iter().position(|f| f == name).ok_or_else(|| {
            Problem::node(
                node,
                format!(
                    "no field '{name}' in its input; fields are: {}",
                    fields.join(", ")
                ),
            )
            .with_param(param)
        })
    };
    let label = find(&label_name, "label")?;
    let features = match p.list("features").as_slice() {
        [] => (0..fields.len())
            .filter(|&i| i != label)
            .collect::<Vec<_>>(),
        names => names
            .iter()
            .map(|n| find(n, "features"))
            .collect::<Result<Vec<_>, _>>()?,
    };
    if features.is_empty() {
        return Err(
            Problem::node(node, "no feature fields: the records hold only the label")
                .with_param("features"),
        );
    }
    let classes = usize::try_from(p.int("classes")).unwrap_or(1).max(1);
    let label_kind = match p.text("labels").as_str() {
        "one_hot" => LabelKind::OneHot { classes },
        "value" => LabelKind::Value,
        _ => LabelKind::Class { classes },
    };
    Ok(FeatureSpec {
        features,
        scale: p.float("scale") as f32,
        label: Some(label),
        label_kind,
    })
}

/// The Batch node's output: its feature names, and the spec stored on the plan node.
pub fn infer_batch(plan: &LogicalPlan, n: &mut PlanNode) -> Result<Vec<Arc<Schema>>, Problem> {
    let node = n.node.clone();
    let wired: Vec<usize> = n.inputs.iter().map(|i| i.port).collect();
    let port = match (wired.contains(&0), wired.contains(&1)) {
        (true, false) => 0,
        (false, true) => 1,
        (true, true) => {
            return Err(Problem::node(
                &node,
                "wire either `in` (records) or `windows`, not both",
            ));
        }
        (false, false) => {
            return Err(Problem::node(
                &node,
                "nothing to stack: wire records into `in` or a window into `windows`",
            )
            .with_port("in"));
        }
    };
    let fields = n
        .input_schema(plan, port)
        .map(|s| s.fields.clone())
        .unwrap_or_default();
    let spec = feature_spec(&node, &n.params(), &fields)?;
    let names = spec
        .features
        .iter()
        .filter_map(|&i| fields.get(i).cloned())
        .collect();
    n.features = Some(spec);
    Ok(vec![schema(names, None)])
}

fn layer_kind(node: &PlanNode) -> Option<LayerKind> {
    let p = node.params();
    Some(match node.kind {
        NodeKind::Dense => LayerKind::Dense {
            units: usize::try_from(p.int("units")).unwrap_or(1),
            inputs: usize::try_from(p.int("inputs")).ok().filter(|&i| i > 0),
            init: match p.text("init").as_str() {
                "he_normal" => Init::HeNormal,
                "xavier" => Init::XavierUniform,
                "xavier_normal" => Init::XavierNormal,
                _ => Init::HeUniform,
            },
        },
        NodeKind::Relu => LayerKind::Relu,
        NodeKind::LeakyRelu => LayerKind::LeakyRelu {
            slope: p.float("slope") as f32,
        },
        NodeKind::Tanh => LayerKind::Tanh,
        NodeKind::Sigmoid => LayerKind::Sigmoid,
        NodeKind::Softmax => LayerKind::Softmax,
        NodeKind::Dropout => LayerKind::Dropout {
            p: p.float("p") as f32,
        },
        NodeKind::LayerNorm => LayerKind::LayerNorm {
            eps: p.float("eps") as f32,
        },
        _ => return None,
    })
}

/// The model chain behind a trainer: (loss node, layers in forward order, chain head = the
/// Shard or Batch node feeding the first layer, the Batch node).
struct Chain {
    loss: usize,
    layers: Vec<usize>,
    head: usize,
    batch: usize,
}

fn walk_chain(plan: &LogicalPlan, trainer: &PlanNode) -> Result<Chain, Problem> {
    let node = &trainer.node;
    let only_input = |i: usize| {
        plan.nodes
            .get(i)
            .and_then(|n| n.inputs.first())
            .map(|inp| inp.from)
    };
    let Some(loss) = trainer.inputs.iter().find(|i| i.port == 0).map(|i| i.from) else {
        return Err(Problem::node(node, "input 'loss' is not connected").with_port("loss"));
    };
    if plan.nodes.get(loss).map(|n| n.kind) != Some(NodeKind::Loss) {
        return Err(
            Problem::node(node, "the `loss` input must come from a Loss node").with_port("loss"),
        );
    }
    let mut layers = Vec::new();
    let mut at = only_input(loss);
    while let Some(i) = at {
        let Some(n) = plan.nodes.get(i) else { break };
        if !n.kind.is_model_part() {
            break;
        }
        if plan.consumers(i, 0).len() > 1 {
            return Err(Problem::node(
                &n.node,
                "a model layer feeds one next layer; its output is wired twice",
            ));
        }
        layers.push(i);
        at = only_input(i);
    }
    layers.reverse();
    let Some(head) = at else {
        return Err(Problem::node(
            node,
            "the model's first layer has no input: wire a Batch node into it",
        ));
    };
    let batch = match plan.nodes.get(head).map(|n| n.kind) {
        Some(NodeKind::Batch) => head,
        Some(NodeKind::Shard) => match only_input(head) {
            Some(b) if plan.nodes.get(b).map(|n| n.kind) == Some(NodeKind::Batch) => b,
            _ => {
                return Err(Problem::node(
                    node,
                    "the Shard before the first layer must be fed by a Batch node",
                ));
            }
        },
        _ => {
            return Err(Problem::node(
                node,
                "the first layer must be fed by a Batch node (or a Shard after one)",
            ));
        }
    };
    if layers.is_empty() {
        return Err(Problem::node(
            node,
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

fn optimizer(p: &NodeParams<'_>) -> OptimizerConfig {
    let momentum = p.float("momentum") as f32;
    let weight_decay = p.float("weight_decay") as f32;
    match p.text("optimizer").as_str() {
        "sgd" => OptimizerConfig::Sgd {
            momentum: 0.0,
            nesterov: false,
            weight_decay,
        },
        "momentum" => OptimizerConfig::Sgd {
            momentum,
            nesterov: false,
            weight_decay,
        },
        "nesterov" => OptimizerConfig::Sgd {
            momentum,
            nesterov: true,
            weight_decay,
        },
        "adamw" => OptimizerConfig::adamw(weight_decay),
        _ => match OptimizerConfig::adam() {
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

fn schedule(p: &NodeParams<'_>) -> LrSchedule {
    let lr = p.float("lr") as f32;
    let decay = match p.text("schedule").as_str() {
        "step" => Decay::Step {
            every_steps: p.int("step_every").max(1) as u64,
            gamma: p.float("step_gamma") as f32,
        },
        "cosine" => {
            LrSchedule::cosine(
                lr,
                p.int("cosine_steps").max(1) as u64,
                p.float("min_lr") as f32,
            )
            .decay
        }
        _ => Decay::Constant,
    };
    LrSchedule {
        lr,
        warmup_steps: p.int("warmup_steps").max(0) as u64,
        decay,
    }
}

/// Names the layer an `NnError` message is about, if it mentions one of the chain's nodes.
fn problem_on_layer(plan: &LogicalPlan, chain: &Chain, trainer: &Node, message: String) -> Problem {
    let mentioned = chain
        .layers
        .iter()
        .filter_map(|&i| plan.nodes.get(i))
        .find(|n| message.contains(&n.name));
    match mentioned {
        Some(layer) => Problem::node(&layer.node, message),
        None => Problem::node(trainer, message),
    }
}

/// Builds and checks the trainer's model; rewrites its training input to the chain head and
/// marks the chain's nodes as parts of this trainer.
pub fn infer_trainer(plan: &LogicalPlan, n: &mut PlanNode) -> Result<Vec<Arc<Schema>>, Problem> {
    let trainer = n.node.clone();
    let chain = walk_chain(plan, n)?;
    let Some(spec) = plan.nodes.get(chain.batch).and_then(|b| b.features.clone()) else {
        return Err(Problem::node(
            &trainer,
            "its Batch node has problems of its own",
        ));
    };
    let p = NodeParams::new(&trainer, n.kind.spec());
    let layers: Vec<LayerSpec> = chain
        .layers
        .iter()
        .filter_map(|&i| plan.nodes.get(i))
        .filter_map(|l| layer_kind(l).map(|k| LayerSpec::new(l.name.clone(), k)))
        .collect();
    let loss_node = plan
        .nodes
        .get(chain.loss)
        .map(|l| (l.node.clone(), l.params().text("kind")));
    let (loss_node, loss_name) = loss_node.unwrap_or((trainer.clone(), "cross_entropy".into()));
    let loss = match loss_name.as_str() {
        "binary_cross_entropy" => LossKind::BinaryCrossEntropy,
        "mse" => LossKind::Mse,
        _ => LossKind::CrossEntropy,
    };
    let clip = p.float("clip_norm") as f32;
    let config = ModelConfig::new(spec.features.len(), layers)
        .with_loss(loss)
        .with_optimizer(optimizer(&p))
        .with_schedule(schedule(&p))
        .with_clip_grad_norm((clip > 0.0).then_some(clip))
        .with_seed(p.int("seed").max(0) as u64);
    // Shapes and parameter counts only: checking never allocates the model's weights.
    let shape = model_shape(&config)
        .map_err(|e| problem_on_layer(plan, &chain, &trainer, e.to_string()))?;
    check_labels(&loss_node, loss, spec.label_kind, shape.output_width())?;
    let test = n.inputs.iter().find(|i| i.port == 1).map(|i| i.from);
    if let Some(t) = test {
        let test_width = plan
            .nodes
            .get(t)
            .and_then(|b| b.features.as_ref())
            .map(|f| f.features.len());
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
    n.model_parts = chain.layers.iter().copied().chain([chain.loss]).collect();
    n.batch_fields = plan
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
        p.int("max_model_mb"),
    )?;
    n.trainer = Some(TrainerConfig {
        name: n.name.clone(),
        model: config,
        features: spec,
        mode: match p.text("mode").as_str() {
            "prequential" => TrainingMode::Prequential {
                window: p.int("window").max(1) as usize,
            },
            _ => TrainingMode::Epochs(p.int("epochs").clamp(1, i64::from(u32::MAX)) as u32),
        },
        eval_every: p.int("eval_every").max(1) as u64,
        publish_every: p.int("publish_every").max(1) as u64,
        seed: p.int("seed").max(0) as u64,
        expects_test: test.is_some(),
        ranking: None,
    });
    let metrics = METRIC_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    Ok(vec![schema(metrics, Some("M")), schema(Vec::new(), None)])
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
fn batch_rows(plan: &LogicalPlan, batch: usize) -> Option<u64> {
    let node = plan.nodes.get(batch)?;
    let input = node.inputs.first()?;
    let rows = if input.port == 0 {
        node.params().int("size")
    } else {
        let window = plan.nodes.get(input.from)?;
        let p = window.params();
        if !super::infer::is_count_window(&p) {
            return None;
        }
        p.int("count")
    };
    u64::try_from(rows).ok()
}

fn check_labels(
    loss_node: &Node,
    loss: LossKind,
    labels: LabelKind,
    outputs: usize,
) -> Result<(), Problem> {
    let problem = |m: String| Err(Problem::node(loss_node, m));
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

/// Predict's output: its input's fields plus prediction, score and error; the input must have
/// the fields the model was trained on.
pub fn infer_predict(plan: &LogicalPlan, n: &PlanNode) -> Result<Vec<Arc<Schema>>, Problem> {
    let node = &n.node;
    let input = n.input_schema(plan, 0).cloned().unwrap_or_default();
    let trainer = n
        .inputs
        .iter()
        .find(|i| i.port == 1)
        .and_then(|i| plan.nodes.get(i.from))
        .filter(|t| t.kind == NodeKind::Trainer);
    let Some(trainer) = trainer else {
        return Err(
            Problem::node(node, "the `model` input must come from a Trainer").with_port("model"),
        );
    };
    let batch_fields = &trainer.batch_fields;
    let needed: Vec<usize> = trainer
        .trainer
        .as_ref()
        .map(|t| t.features.features.clone())
        .unwrap_or_default();
    let fits = needed
        .iter()
        .all(|&i| input.fields.get(i).is_some() && input.fields.get(i) == batch_fields.get(i));
    if !fits {
        return Err(Problem::node(
            node,
            format!(
                "its records must have the fields the model was trained on, in the same order: [{}]; they have [{}]",
                batch_fields.join(", "),
                input.fields.join(", ")
            ),
        ));
    }
    let mut fields = input.fields.clone();
    fields.extend(["prediction", "score", "error"].map(str::to_owned));
    Ok(vec![schema(fields, input.tag.as_deref())])
}
