//! Specs of the learning node kinds: data sets, split, normalise, batch, layers, loss, trainer
//! and predict. Layers, Loss and Trainer together compile into one fused training operator.

use super::spec_helpers::{RECORDS_IN, RECORDS_OUT, live, p, port};
use super::{
    Category, LayerType, NodeKind, NodeSpec, ParamDefault as D, ParamKind as K, PortSpec, PortType,
};

const TENSOR_IN: PortSpec = port(
    "in",
    PortType::Tensor,
    "activations (or a Batch node's mini-batches)",
    true,
);
const TENSOR_OUT: PortSpec = port("out", PortType::Tensor, "activations", false);

pub static DATASET_SOURCE: NodeSpec = NodeSpec {
    kind: NodeKind::DatasetSource,
    id: "dataset_source",
    title: "Data set",
    category: Category::Sources,
    summary: "Seeded synthetic data sets as records: two moons, 3-arm spiral, XOR, noisy regression.",
    doc: "Fields `x1`, `x2` and `label` (classes) or `y` (regression: y = sin(x1) + 0.5·x2² + \
          noise). Bounded: `count` rows. Unbounded: an endless stream of fresh samples, for \
          online learning. Event time is the row number.",
    inputs: &[],
    outputs: &[RECORDS_OUT],
    params: &[
        p(
            "dataset",
            K::Choice(&["moons", "spiral", "xor", "regression"]),
            D::Text("moons"),
            "which data set",
        ),
        p(
            "count",
            K::Int {
                min: 1,
                max: 100_000_000,
            },
            D::Int(1000),
            "rows when bounded",
        ),
        p(
            "noise",
            K::Float {
                min: 0.0,
                max: 10.0,
            },
            D::Float(0.1),
            "standard deviation of the noise",
        ),
        p(
            "bounded",
            K::Bool,
            D::Bool(true),
            "stop after `count` rows; off = endless stream",
        ),
        p(
            "rate_per_s",
            K::Float { min: 0.0, max: 1e9 },
            D::Float(0.0),
            "rows per second of wall time; 0 = as fast as possible",
        ),
        p(
            "seed",
            K::Int {
                min: 0,
                max: i64::MAX,
            },
            D::Int(7),
            "random seed: same seed, same rows",
        ),
    ],
};

pub static SPLIT: NodeSpec = NodeSpec {
    kind: NodeKind::Split,
    id: "split",
    title: "Split",
    category: Category::Learning,
    summary: "Splits records into train and test, by a seeded ratio or by key.",
    doc: "With `by` = `random` each record goes to `train` with probability `train_ratio`, \
          decided by a seeded hash of its position, so the same seed gives the same split. \
          With `by` = `key` whole keys go to one side.",
    inputs: &[RECORDS_IN],
    outputs: &[
        port("train", PortType::Records, "the training part", false),
        port("test", PortType::Records, "the held-out part", false),
    ],
    params: &[
        p(
            "train_ratio",
            K::Float { min: 0.0, max: 1.0 },
            D::Float(0.8),
            "share of records that go to `train`",
        ),
        p(
            "by",
            K::Choice(&["random", "key"]),
            D::Text("random"),
            "split single records, or whole keys",
        ),
        p(
            "seed",
            K::Int {
                min: 0,
                max: i64::MAX,
            },
            D::Int(7),
            "random seed of the split",
        ),
    ],
};

pub static NORMALIZE: NodeSpec = NodeSpec {
    kind: NodeKind::Normalize,
    id: "normalize",
    title: "Normalize",
    category: Category::Learning,
    summary: "Standardises fields with their running mean and variance: (x − mean) / std.",
    doc: "Statistics are updated with each record before it is scaled (Welford's method), so \
          the stream needs no second pass. Fields not listed pass unchanged.",
    inputs: &[RECORDS_IN],
    outputs: &[RECORDS_OUT],
    params: &[p(
        "fields",
        K::List,
        D::Text(""),
        "fields to standardise; empty = all",
    )],
};

pub static BATCH: NodeSpec = NodeSpec {
    kind: NodeKind::Batch,
    id: "batch",
    title: "Batch",
    category: Category::Learning,
    summary: "Stacks records (or a window's records) into mini-batches: an X matrix and labels.",
    doc: "From `in`, every `size` records form a batch (the last one may be smaller). From \
          `windows`, each window firing's records form one batch (the window keeps its rows for \
          this). Features are the listed fields times `scale`; labels are a class index (for \
          cross-entropy), one-hot, or real values (for MSE). With `sequence_steps` > 0 each \
          window firing is ONE sample instead: its last `sequence_steps` records as the steps \
          of a sequence (oldest first; a shorter window is padded on the left and the padding \
          masked), labelled by its last record, `size` samples per batch — for a GRU or \
          Conv1d. With `negatives` > 0 each record (a click) is followed by that many copies \
          whose `negative_field` holds a random id in 0..`negative_ids`, labelled 0 — for \
          recommenders trained on clicks only.",
    inputs: &[
        port("in", PortType::Records, "records to stack", false),
        port(
            "windows",
            PortType::Windows,
            "window firings whose records form one batch each",
            false,
        ),
    ],
    outputs: &[port(
        "out",
        PortType::Batches,
        "mini-batches, into the first layer or a trainer's test input",
        false,
    )],
    params: &[
        p(
            "size",
            K::Int {
                min: 1,
                max: 1_000_000,
            },
            D::Int(32),
            "records per batch (from `in`)",
        ),
        p(
            "features",
            K::List,
            D::Text(""),
            "feature fields; empty = every field but the label",
        ),
        p("label", K::Text, D::Text("label"), "the label field"),
        p(
            "labels",
            K::Choice(&["class", "one_hot", "value"]),
            D::Text("class"),
            "how the label is read",
        ),
        p(
            "classes",
            K::Int {
                min: 1,
                max: 100_000,
            },
            D::Int(2),
            "number of classes (class and one_hot labels)",
        ),
        p(
            "scale",
            K::Float {
                min: -1e12,
                max: 1e12,
            },
            D::Float(1.0),
            "features are multiplied by this (e.g. 0.0625 for 0–16 pixels)",
        ),
        p(
            "sequence_steps",
            K::Int {
                min: 0,
                max: 100_000,
            },
            D::Int(0),
            "from `windows`: each firing is one sequence sample of this many steps; 0 = each record is a row",
        ),
        p(
            "sequence_label",
            K::Choice(&["last", "max"]),
            D::Text("last"),
            "a sequence's label: its newest record's, or the largest of its records' (did any record have the flag)",
        ),
        p(
            "negatives",
            K::Int { min: 0, max: 1000 },
            D::Int(0),
            "sampled non-clicks added after each record (label 0); 0 = none",
        ),
        p(
            "negative_field",
            K::Text,
            D::Text(""),
            "the feature field whose id the negatives replace (e.g. `item`)",
        ),
        p(
            "negative_ids",
            K::Int {
                min: 1,
                max: 10_000_000,
            },
            D::Int(1000),
            "negatives draw ids uniformly from 0..negative_ids",
        ),
        p(
            "seed",
            K::Int {
                min: 0,
                max: i64::MAX,
            },
            D::Int(7),
            "seed of the sampled negatives",
        ),
    ],
};

pub static SHARD: NodeSpec = NodeSpec {
    kind: NodeKind::Shard,
    id: "shard",
    title: "Shard",
    category: Category::Learning,
    summary: "Data-parallel training: splits every mini-batch by rows over N model replicas.",
    doc: "Put it between a Batch node and the first layer. The layers, Loss and Trainer after \
          it run as `replicas` parallel instances; each computes gradients on its rows of \
          every batch, the gradients are averaged (weighted by rows) and all replicas take the \
          same optimiser step, so training matches one replica on the same batches.",
    inputs: &[port("in", PortType::Batches, "mini-batches", true)],
    outputs: &[port(
        "out",
        PortType::Batches,
        "row shards of each mini-batch",
        false,
    )],
    params: &[p(
        "replicas",
        K::Int { min: 1, max: 64 },
        D::Int(2),
        "parallel model replicas",
    )],
};

macro_rules! layer {
    ($name:ident, $kind:ident, $id:literal, $title:literal, $summary:literal, $params:expr) => {
        pub static $name: NodeSpec = NodeSpec {
            kind: NodeKind::Layer(LayerType::$kind),
            id: $id,
            title: $title,
            category: Category::Layers,
            summary: $summary,
            doc: "Layers wired from a Batch node to a Loss node form one model, trained by the \
                  Trainer the Loss feeds. Shapes are checked when the graph is validated.",
            inputs: &[TENSOR_IN],
            outputs: &[TENSOR_OUT],
            params: $params,
        };
    };
}

layer!(
    DENSE,
    Dense,
    "dense",
    "Dense",
    "Fully connected layer: y = x·W + b.",
    &[
        p(
            "units",
            K::Int {
                min: 1,
                max: 1_000_000
            },
            D::Int(64),
            "output features"
        ),
        p(
            "inputs",
            K::Int {
                min: 0,
                max: 1_000_000
            },
            D::Int(0),
            "expected input features, checked; 0 = whatever comes in"
        ),
        p(
            "init",
            K::Choice(&["he", "he_normal", "xavier", "xavier_normal"]),
            D::Text("he"),
            "weight initialiser (seeded by the trainer)"
        ),
    ]
);
layer!(RELU, Relu, "relu", "ReLU", "max(0, x).", &[]);
layer!(
    LEAKY_RELU,
    LeakyRelu,
    "leaky_relu",
    "LeakyReLU",
    "x if x > 0 else slope·x.",
    &[p(
        "slope",
        K::Float {
            min: 0.0,
            max: 0.999
        },
        D::Float(0.01),
        "slope for negative inputs"
    ),]
);
layer!(TANH, Tanh, "tanh", "Tanh", "Hyperbolic tangent.", &[]);
layer!(
    SIGMOID,
    Sigmoid,
    "sigmoid",
    "Sigmoid",
    "1 / (1 + e^−x).",
    &[]
);
layer!(
    SOFTMAX,
    Softmax,
    "softmax",
    "Softmax",
    "Normalises each row to probabilities (not needed before cross-entropy).",
    &[]
);
layer!(
    DROPOUT,
    Dropout,
    "dropout",
    "Dropout",
    "Zeroes a fraction p of activations while training (scaled), none at evaluation.",
    &[p(
        "p",
        K::Float {
            min: 0.0,
            max: 0.99
        },
        D::Float(0.1),
        "fraction dropped while training"
    ),]
);
layer!(
    LAYER_NORM,
    LayerNorm,
    "layer_norm",
    "LayerNorm",
    "Normalises each row to zero mean and unit variance, with a learned gain and bias.",
    &[p(
        "eps",
        K::Float {
            min: 1e-12,
            max: 1.0
        },
        D::Float(1e-5),
        "added to the variance"
    ),]
);

layer!(
    CONV2D,
    Conv2d,
    "conv2d",
    "Conv2d",
    "2-D convolution over images: filters of kernel×kernel pixels moved by stride, zero padding around.",
    &[
        p(
            "filters",
            K::Int { min: 1, max: 512 },
            D::Int(16),
            "output channels (one per filter)"
        ),
        p(
            "kernel",
            K::Int { min: 1, max: 64 },
            D::Int(3),
            "kernel side in pixels"
        ),
        p(
            "stride",
            K::Int { min: 1, max: 64 },
            D::Int(1),
            "pixels the kernel moves per step"
        ),
        p(
            "padding",
            K::Int { min: 0, max: 64 },
            D::Int(1),
            "rings of zeros around the image (1 keeps a 3×3 kernel's output the input's size)"
        ),
        p(
            "init",
            K::Choice(&["he", "he_normal", "xavier", "xavier_normal"]),
            D::Text("he"),
            "weight initialiser (seeded by the trainer)"
        ),
    ]
);
layer!(
    MAX_POOL2D,
    MaxPool2d,
    "max_pool2d",
    "MaxPool2d",
    "Largest value of each kernel×kernel patch of each channel.",
    &[
        p(
            "kernel",
            K::Int { min: 1, max: 64 },
            D::Int(2),
            "patch side in pixels"
        ),
        p(
            "stride",
            K::Int { min: 0, max: 64 },
            D::Int(0),
            "pixels between patches; 0 = the kernel (patches do not overlap)"
        ),
    ]
);
layer!(
    FLATTEN,
    Flatten,
    "flatten",
    "Flatten",
    "An image or a sequence read as flat features (before a dense layer).",
    &[]
);
layer!(
    CONV1D,
    Conv1d,
    "conv1d",
    "Conv1d",
    "1-D convolution over the steps of a sequence: filters of kernel steps × all features.",
    &[
        p(
            "filters",
            K::Int { min: 1, max: 512 },
            D::Int(16),
            "output features per step (one per filter)"
        ),
        p(
            "kernel",
            K::Int { min: 1, max: 1024 },
            D::Int(3),
            "kernel length in steps"
        ),
        p(
            "stride",
            K::Int { min: 1, max: 1024 },
            D::Int(1),
            "steps the kernel moves"
        ),
        p(
            "padding",
            K::Int { min: 0, max: 1024 },
            D::Int(0),
            "zero steps at both ends"
        ),
        p(
            "init",
            K::Choice(&["he", "he_normal", "xavier", "xavier_normal"]),
            D::Text("he"),
            "weight initialiser (seeded by the trainer)"
        ),
    ]
);
layer!(
    GRU,
    Gru,
    "gru",
    "GRU",
    "Gated recurrent unit over a sequence (a window of events), trained through the window; gives the last state.",
    &[
        p(
            "hidden",
            K::Int { min: 1, max: 256 },
            D::Int(16),
            "hidden state size"
        ),
        p(
            "return_sequence",
            K::Bool,
            D::Bool(false),
            "give every step's state (for another sequence layer) instead of the last"
        ),
    ]
);
layer!(
    EMBEDDING,
    Embedding,
    "embedding",
    "Embedding",
    "Integer ids (a user, an item, a word) → learned vectors; only the rows of the ids seen in a batch are updated.",
    &[
        p(
            "vocab",
            K::Int {
                min: 1,
                max: 10_000_000
            },
            D::Int(1000),
            "number of ids: they must lie in 0..vocab"
        ),
        p(
            "dim",
            K::Int { min: 1, max: 1024 },
            D::Int(16),
            "length of each id's vector"
        ),
        p(
            "columns",
            K::List,
            D::Text(""),
            "the Batch's feature fields holding the ids (e.g. `user`); empty = all of them"
        ),
    ]
);

const COMBINER_INPUTS: &[PortSpec] = &[
    port(
        "a",
        PortType::Tensor,
        "first input (e.g. the user tower)",
        true,
    ),
    port(
        "b",
        PortType::Tensor,
        "second input (e.g. the item tower)",
        true,
    ),
];

pub static DOT: NodeSpec = NodeSpec {
    kind: NodeKind::Layer(LayerType::Dot),
    id: "dot",
    title: "Dot",
    category: Category::Layers,
    summary: "Row-wise dot product of two inputs of the same width: the score of a user against an item.",
    doc: "Joins two towers of one model (for example a user Embedding and an item Embedding) \
          into one score per row, trained with binary cross-entropy on clicks and sampled \
          non-clicks (the Batch node's `negatives`).",
    inputs: COMBINER_INPUTS,
    outputs: &[TENSOR_OUT],
    params: &[],
};

pub static CONCAT: NodeSpec = NodeSpec {
    kind: NodeKind::Layer(LayerType::Concat),
    id: "concat",
    title: "Concat",
    category: Category::Layers,
    summary: "Two inputs side by side: (rows × m) and (rows × n) → (rows × (m + n)).",
    doc: "Joins two towers of one model (for example embeddings and other features) before \
          dense layers.",
    inputs: COMBINER_INPUTS,
    outputs: &[TENSOR_OUT],
    params: &[],
};

pub static LOSS: NodeSpec = NodeSpec {
    kind: NodeKind::Loss,
    id: "loss",
    title: "Loss",
    category: Category::Layers,
    summary: "Compares the model's outputs with the batch's labels: cross-entropy, binary cross-entropy or MSE.",
    doc: "Cross-entropy and binary cross-entropy take logits (no softmax/sigmoid needed before) \
          and are computed stably (log-sum-exp). The output goes to a Trainer.",
    inputs: &[TENSOR_IN],
    outputs: &[port(
        "out",
        PortType::Tensor,
        "the loss, into a Trainer",
        false,
    )],
    params: &[p(
        "kind",
        K::Choice(&["cross_entropy", "binary_cross_entropy", "mse"]),
        D::Text("cross_entropy"),
        "the loss function",
    )],
};

pub static TRAINER: NodeSpec = NodeSpec {
    kind: NodeKind::Trainer,
    id: "trainer",
    title: "Trainer",
    category: Category::Learning,
    summary: "Trains the model whose Loss it is wired to, on the stream; emits a Metrics stream.",
    doc: "`epochs`: learns each batch as it arrives, then (when the input ends) replays the \
          batches for the remaining epochs in a seeded shuffled order; evaluates on the `test` \
          batches every `eval_every` steps and at the end. `prequential`: for endless streams, \
          each batch is first scored (test), then learned (train); the progressive accuracy \
          and loss over the last `window` batches show concept drift as a drop. With a \
          Shard node before the first layer, N replicas each compute \
          gradients on their share of every batch and the gradients are averaged before one \
          optimiser step: the same result as one replica. A NaN or infinite loss stops the run. \
          With `rank_field` (prequential), each click (label 1) of a batch is first ranked \
          against every id of that field — hit rate@`rank_k` — and against the `rank_k` ids \
          clicked most so far (the popularity baseline), over the last `window` batches.",
    inputs: &[
        port(
            "loss",
            PortType::Tensor,
            "the Loss node of the model to train",
            true,
        ),
        port(
            "test",
            PortType::Batches,
            "held-out batches for evaluation",
            false,
        ),
    ],
    outputs: &[
        port(
            "metrics",
            PortType::Metrics,
            "step, epoch, loss, accuracy, test loss/accuracy, lr, gradient norm, samples/s",
            false,
        ),
        port(
            "model",
            PortType::Model,
            "trained model snapshots, for Predict nodes",
            false,
        ),
    ],
    params: &[
        p(
            "mode",
            K::Choice(&["epochs", "prequential"]),
            D::Text("epochs"),
            "epochs over bounded data, or test-then-train on a stream",
        ),
        p(
            "epochs",
            K::Int {
                min: 1,
                max: 100_000,
            },
            D::Int(10),
            "passes over bounded training data",
        ),
        p(
            "optimizer",
            K::Choice(&["sgd", "momentum", "nesterov", "adam", "adamw"]),
            D::Text("adam"),
            "update rule",
        ),
        live(
            "lr",
            K::Float {
                min: 0.0,
                max: 100.0,
            },
            D::Float(0.001),
            "learning rate (can be changed while training)",
        ),
        p(
            "momentum",
            K::Float {
                min: 0.0,
                max: 0.9999,
            },
            D::Float(0.9),
            "momentum (momentum, nesterov)",
        ),
        p(
            "weight_decay",
            K::Float {
                min: 0.0,
                max: 10.0,
            },
            D::Float(0.0),
            "L2 (sgd, adam) or decoupled (adamw) weight decay",
        ),
        p(
            "schedule",
            K::Choice(&["constant", "step", "cosine"]),
            D::Text("constant"),
            "learning-rate schedule",
        ),
        p(
            "warmup_steps",
            K::Int {
                min: 0,
                max: 100_000_000,
            },
            D::Int(0),
            "linear warm-up steps",
        ),
        p(
            "step_every",
            K::Int {
                min: 1,
                max: 100_000_000,
            },
            D::Int(1000),
            "step schedule: decay every this many steps",
        ),
        p(
            "step_gamma",
            K::Float { min: 0.0, max: 1.0 },
            D::Float(0.5),
            "step schedule: factor per decay",
        ),
        p(
            "cosine_steps",
            K::Int {
                min: 1,
                max: 100_000_000,
            },
            D::Int(10_000),
            "cosine schedule: steps to reach the floor",
        ),
        p(
            "min_lr",
            K::Float {
                min: 0.0,
                max: 100.0,
            },
            D::Float(0.0),
            "cosine schedule: floor",
        ),
        live(
            "clip_norm",
            K::Float { min: 0.0, max: 1e9 },
            D::Float(0.0),
            "clip the gradient's global norm to this; 0 = off",
        ),
        p(
            "eval_every",
            K::Int {
                min: 1,
                max: 100_000_000,
            },
            D::Int(100),
            "evaluate on the test batches every this many steps",
        ),
        p(
            "window",
            K::Int {
                min: 1,
                max: 1_000_000,
            },
            D::Int(50),
            "prequential: batches in the progressive metric",
        ),
        p(
            "publish_every",
            K::Int {
                min: 1,
                max: 100_000_000,
            },
            D::Int(100),
            "send a model snapshot every this many steps (and at the end)",
        ),
        p(
            "rank_field",
            K::Text,
            D::Text(""),
            "prequential: rank every id of this feature field (read by an Embedding) for each click before learning it; adds hit_rate and popular_hit_rate; empty = off",
        ),
        p(
            "rank_k",
            K::Int { min: 1, max: 1000 },
            D::Int(10),
            "a click is a hit when its id is among the best k",
        ),
        p(
            "max_model_mb",
            K::Int {
                min: 1,
                max: 1_048_576,
            },
            D::Int(1024),
            "largest model accepted, in MB of f32 parameters (over all replicas) and of one batch's activations; validation refuses bigger ones without building them",
        ),
        p(
            "seed",
            K::Int {
                min: 0,
                max: i64::MAX,
            },
            D::Int(7),
            "seed of initial weights, dropout and epoch order",
        ),
    ],
};

pub static PREDICT: NodeSpec = NodeSpec {
    kind: NodeKind::Predict,
    id: "predict",
    title: "Predict",
    category: Category::Learning,
    summary: "Applies a trained model to records: adds `prediction`, `score` and (with a label) `error`.",
    doc: "Features are read as the model's Batch node reads them. For classes, `prediction` is \
          the most likely class and `score` its probability (binary: the probability of class \
          1, an anomaly score). For regression, `prediction` is the value and `error` its \
          absolute error when the record has the label. With `wait_for_final` the records are \
          held until training ends and all are scored by the final model (deterministic); \
          otherwise each record is scored by the newest snapshot (records before the first \
          snapshot are held).",
    inputs: &[
        RECORDS_IN,
        port(
            "model",
            PortType::Model,
            "model snapshots from a Trainer",
            true,
        ),
    ],
    outputs: &[RECORDS_OUT],
    params: &[p(
        "wait_for_final",
        K::Bool,
        D::Bool(true),
        "score everything with the final model",
    )],
};
