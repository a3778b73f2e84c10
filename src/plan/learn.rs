//! Planning of the learning node kinds other than the trainer (`plan::trainer`): data sets,
//! split, normalise, which fields a Batch stacks, shards, predict, and the layer kinds, whose
//! parameters are read here in one exhaustive match.

use super::Problem;
use super::infer::{Draft, DraftNode, schema};
use super::params::ParamReader;
use super::spec::{OpSpec, SplitBy};
use crate::catalog::{LayerType, NodeKind};
use crate::learn::batch::{NegativeSampling, SequenceLabel, SequenceSpec};
use crate::learn::dataset_source::{DatasetKind, field_names};
use crate::learn::{FeatureSpec, LabelKind};
use crate::nn::layout::Shape;
use crate::nn::{Init, LayerKind, LossKind};
use crate::stream::Schema;
use std::sync::Arc;

/// The first problem a reader gathered (a choice it could not turn into a meaning).
pub fn refused(p: ParamReader<'_>) -> Problem {
    match p.finish(()) {
        Err(problem) => problem,
        Ok(()) => Problem::graph("internal: a parameter was refused without a reason"),
    }
}

pub fn dataset_source(mut p: ParamReader<'_>, n: &mut DraftNode) -> Result<OpSpec, Problem> {
    let dataset = p.choice(
        "dataset",
        &[
            ("moons", DatasetKind::Moons),
            ("spiral", DatasetKind::Spiral),
            ("xor", DatasetKind::Xor),
            ("regression", DatasetKind::Regression),
        ],
    );
    let bounded = p.bool("bounded");
    let count = p.count("count");
    let noise = p.float("noise") as f32;
    let seed = p.count("seed");
    let rate_per_s = p.float("rate_per_s");
    let Some(dataset) = dataset else {
        return Err(refused(p));
    };
    n.outputs = vec![schema(
        field_names(dataset)
            .iter()
            .map(|f| (*f).to_owned())
            .collect(),
        None,
    )];
    p.finish(OpSpec::DatasetSource {
        dataset,
        count: bounded.then_some(count),
        noise,
        seed,
        rate_per_s,
    })
}

pub fn split(
    mut p: ParamReader<'_>,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let train_ratio = p.float("train_ratio");
    let by = p.choice("by", &[("random", SplitBy::Random), ("key", SplitBy::Key)]);
    let seed = p.count("seed");
    let Some(by) = by else {
        return Err(refused(p));
    };
    n.outputs = vec![input.clone(), input.clone()];
    p.finish(OpSpec::Split {
        train_ratio,
        by,
        seed,
    })
}

pub fn normalize(
    mut p: ParamReader<'_>,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let chosen = p.list("fields");
    let node = p.node();
    p.finish(())?;
    for field in &chosen {
        if !input.fields.contains(field) {
            return Err(Problem::node(
                node,
                format!(
                    "no field '{field}'; fields are: {}",
                    input.fields.join(", ")
                ),
            )
            .with_param("fields"));
        }
    }
    let fields = input
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| chosen.is_empty() || chosen.contains(f))
        .map(|(i, _)| i)
        .collect();
    n.outputs = vec![input.clone()];
    Ok(OpSpec::Normalize { fields })
}

/// A Batch node's parameters, read against its input fields.
struct BatchParams {
    size: usize,
    features: FeatureSpec,
    sequence: Option<SequenceSpec>,
    negatives: Option<NegativeSampling>,
}

/// Reads a Batch node's parameters against its input fields.
fn batch_params(mut p: ParamReader<'_>, fields: &[String]) -> Result<BatchParams, Problem> {
    let size = p.size("size");
    let label_name = p.text("label");
    let feature_names = p.list("features");
    let classes = p.size("classes");
    let labels = p.choice(
        "labels",
        &[
            ("class", LabelKind::Class { classes }),
            ("one_hot", LabelKind::OneHot { classes }),
            ("value", LabelKind::Value),
        ],
    );
    let scale = p.float("scale") as f32;
    let sequence_steps = p.size("sequence_steps");
    let sequence_label = p.choice(
        "sequence_label",
        &[("last", SequenceLabel::Last), ("max", SequenceLabel::Max)],
    );
    let negatives = p.size("negatives");
    let negative_field = p.text("negative_field");
    let negative_ids = p.size("negative_ids");
    let seed = p.count("seed");
    let node = p.node();
    let (Some(label_kind), Some(sequence_label)) = (labels, sequence_label) else {
        return Err(refused(p));
    };
    p.finish(())?;
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
    let features = match feature_names.as_slice() {
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
    let negatives = if negatives == 0 {
        None
    } else {
        let field = find(&negative_field, "negative_field")?;
        let Some(column) = features.iter().position(|&f| f == field) else {
            return Err(Problem::node(
                node,
                format!("the negatives' field '{negative_field}' must be one of the features"),
            )
            .with_param("negative_field"));
        };
        if matches!(label_kind, LabelKind::Class { classes } | LabelKind::OneHot { classes } if classes != 2)
        {
            return Err(Problem::node(
                node,
                "sampled negatives are labelled 0 next to clicks labelled 1: set classes to 2 (or labels to value)",
            )
            .with_param("classes"));
        }
        Some(NegativeSampling {
            column,
            ids: negative_ids,
            per_record: negatives,
            seed,
        })
    };
    Ok(BatchParams {
        size,
        features: FeatureSpec {
            features,
            scale,
            label: Some(label),
            label_kind,
        },
        sequence: (sequence_steps > 0).then_some(SequenceSpec {
            steps: sequence_steps,
            label: sequence_label,
        }),
        negatives,
    })
}

/// The Batch node: which input it stacks, its features and labels, and its output fields.
pub fn batch(p: ParamReader<'_>, plan: &Draft, n: &mut DraftNode) -> Result<OpSpec, Problem> {
    let node = p.node();
    let wired: Vec<usize> = n.inputs.iter().map(|i| i.port).collect();
    let port = match (wired.contains(&0), wired.contains(&1)) {
        (true, false) => 0,
        (false, true) => 1,
        (true, true) => {
            return Err(Problem::node(
                node,
                "wire either `in` (records) or `windows`, not both",
            ));
        }
        (false, false) => {
            return Err(Problem::node(
                node,
                "nothing to stack: wire records into `in` or a window into `windows`",
            )
            .with_port("in"));
        }
    };
    let fields = n
        .input_schema(plan, port)
        .map(|s| s.fields.clone())
        .unwrap_or_default();
    let params = batch_params(p, &fields)?;
    if params.sequence.is_some() && port != 1 {
        return Err(Problem::node(
            node,
            "a sequence sample is a window's records: wire a window into `windows` (or set sequence_steps to 0)",
        )
        .with_param("sequence_steps"));
    }
    if params.sequence.is_some() && params.negatives.is_some() {
        return Err(Problem::node(
            node,
            "negatives are sampled for single records, not for sequences: set negatives or sequence_steps to 0",
        )
        .with_param("negatives"));
    }
    let names = params
        .features
        .features
        .iter()
        .filter_map(|&i| fields.get(i).cloned())
        .collect();
    n.outputs = vec![schema(names, None)];
    Ok(OpSpec::Batch {
        size: params.size,
        features: params.features,
        sequence: params.sequence,
        negatives: params.negatives,
    })
}

pub fn shard(
    mut p: ParamReader<'_>,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let replicas = p.size("replicas");
    n.outputs = vec![input.clone()];
    p.finish(OpSpec::Shard { replicas })
}

/// A layer node: its parameters as the `nn` layer they describe. One arm per layer kind.
pub fn layer(
    mut p: ParamReader<'_>,
    layer: LayerType,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let inits = [
        ("he", Init::HeUniform),
        ("he_normal", Init::HeNormal),
        ("xavier", Init::XavierUniform),
        ("xavier_normal", Init::XavierNormal),
    ];
    let mut columns = Vec::new();
    let kind = match layer {
        LayerType::Dense => {
            let units = p.size("units");
            let inputs = p.size("inputs");
            let Some(init) = p.choice("init", &inits) else {
                return Err(refused(p));
            };
            LayerKind::Dense {
                units,
                inputs: (inputs > 0).then_some(inputs),
                init,
            }
        }
        LayerType::Relu => LayerKind::Relu,
        LayerType::LeakyRelu => LayerKind::LeakyRelu {
            slope: p.float("slope") as f32,
        },
        LayerType::Tanh => LayerKind::Tanh,
        LayerType::Sigmoid => LayerKind::Sigmoid,
        LayerType::Softmax => LayerKind::Softmax,
        LayerType::Dropout => LayerKind::Dropout {
            p: p.float("p") as f32,
        },
        LayerType::LayerNorm => LayerKind::LayerNorm {
            eps: p.float("eps") as f32,
        },
        LayerType::Conv2d | LayerType::Conv1d => {
            let filters = p.size("filters");
            let kernel = p.size("kernel");
            let stride = p.size("stride");
            let padding = p.size("padding");
            let Some(init) = p.choice("init", &inits) else {
                return Err(refused(p));
            };
            if layer == LayerType::Conv2d {
                LayerKind::Conv2d {
                    filters,
                    kernel,
                    stride,
                    padding,
                    init,
                }
            } else {
                LayerKind::Conv1d {
                    filters,
                    kernel,
                    stride,
                    padding,
                    init,
                }
            }
        }
        LayerType::MaxPool2d => LayerKind::MaxPool2d {
            kernel: p.size("kernel"),
            stride: p.size("stride"),
        },
        LayerType::Flatten => LayerKind::Flatten,
        LayerType::Gru => LayerKind::Gru {
            hidden: p.size("hidden"),
            return_sequence: p.bool("return_sequence"),
        },
        LayerType::Embedding => {
            columns = p.list("columns");
            LayerKind::Embedding {
                vocab: p.size("vocab"),
                dim: p.size("dim"),
            }
        }
        LayerType::Dot => LayerKind::Dot,
        LayerType::Concat => LayerKind::Concat,
    };
    n.outputs = vec![input.clone()];
    p.finish(OpSpec::Layer {
        of: layer,
        layer: kind,
        columns,
    })
}

pub fn loss(
    mut p: ParamReader<'_>,
    input: &Arc<Schema>,
    n: &mut DraftNode,
) -> Result<OpSpec, Problem> {
    let Some(kind) = p.choice(
        "kind",
        &[
            ("cross_entropy", LossKind::CrossEntropy),
            ("binary_cross_entropy", LossKind::BinaryCrossEntropy),
            ("mse", LossKind::Mse),
        ],
    ) else {
        return Err(refused(p));
    };
    n.outputs = vec![input.clone()];
    p.finish(OpSpec::Loss(kind))
}

/// Predict's output: its input's fields plus prediction, score and error; the input must have
/// the fields the model was trained on.
pub fn predict(mut p: ParamReader<'_>, plan: &Draft, n: &mut DraftNode) -> Result<OpSpec, Problem> {
    let wait_for_final = p.bool("wait_for_final");
    let node = p.node();
    p.finish(())?;
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
    let (needed, batch_fields): (Vec<usize>, &[String]) = match &trainer.spec {
        Some(OpSpec::Trainer(t)) => (t.config.features.features.clone(), &t.batch_fields),
        _ => (Vec::new(), &[]),
    };
    if let Some(OpSpec::Trainer(t)) = &trainer.spec
        && matches!(t.config.model.input_shape, Some(Shape::Sequence { .. }))
    {
        return Err(Problem::node(
            node,
            "Predict scores single records, but this model reads sequences of window records: watch its progressive metrics instead",
        )
        .with_port("model"));
    }
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
    n.outputs = vec![schema(fields, input.tag.as_deref())];
    Ok(OpSpec::Predict { wait_for_final })
}
