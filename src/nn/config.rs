//! Serde configuration of layers, losses and whole models: plain data that graph nodes carry
//! and `.ron` files store. Holds no weights or buffers and never touches random numbers.

use serde::{Deserialize, Serialize};

use super::layout::Shape;
use super::optim::OptimizerConfig;
use super::schedule::LrSchedule;

/// Weight initialiser of a dense layer; biases always start at zero.
///
/// `fan_in` is the number of inputs, `fan_out` the number of units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Init {
    /// He/Kaiming uniform: U(−√(6/fan_in), +√(6/fan_in)); good before ReLU.
    #[default]
    HeUniform,
    /// He/Kaiming normal: N(0, σ = √(2/fan_in)).
    HeNormal,
    /// Xavier/Glorot uniform: U(−√(6/(fan_in+fan_out)), +…); good before tanh/sigmoid.
    XavierUniform,
    /// Xavier/Glorot normal: N(0, σ = √(2/(fan_in+fan_out))).
    XavierNormal,
}

/// What a layer computes. Input widths are inferred from the previous layer unless a dense
/// layer states `inputs`, in which case the model checks it at build time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum LayerKind {
    /// y = x·W + b with W (inputs, units) and b (units).
    Dense {
        units: usize,
        #[serde(default)]
        inputs: Option<usize>,
        #[serde(default)]
        init: Init,
    },
    /// max(x, 0).
    Relu,
    /// x for x > 0, slope·x otherwise; `slope` in [0, 1).
    LeakyRelu { slope: f32 },
    /// tanh(x).
    Tanh,
    /// 1 / (1 + e^−x).
    Sigmoid,
    /// Row-wise softmax. Do not put it before a cross-entropy loss: that loss takes logits.
    Softmax,
    /// Inverted dropout: in training each value is zeroed with probability `p` and the rest
    /// scaled by 1/(1−p); in evaluation it is the identity. `p` in [0, 1).
    Dropout { p: f32 },
    /// Per-sample normalisation over features with learnable gain (init 1) and bias (init 0).
    LayerNorm { eps: f32 },
    /// 2-D convolution: `filters` kernel×kernel filters over an image, moved `stride` pixels,
    /// with `padding` rings of zeros around it. Flat rows of a square length are read as a
    /// one-channel image (64 features → 1×8×8).
    Conv2d {
        filters: usize,
        kernel: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        padding: usize,
        #[serde(default)]
        init: Init,
    },
    /// Maximum over kernel×kernel windows of each channel, every `stride` pixels (0: the
    /// kernel size, so windows do not overlap).
    MaxPool2d {
        kernel: usize,
        #[serde(default)]
        stride: usize,
    },
    /// An image or a sequence read as flat features (before a dense layer).
    Flatten,
    /// 1-D convolution over the steps of a sequence: `filters` kernels of `kernel` steps ×
    /// all features, moved `stride` steps, `padding` zero steps at both ends. Flat rows are
    /// read as a sequence of single values.
    Conv1d {
        filters: usize,
        kernel: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        padding: usize,
        #[serde(default)]
        init: Init,
    },
    /// Integer ids in 0..vocab (one per feature or step) → learned vectors of `dim` values.
    /// Only the rows of the ids in a batch are updated (a sparse update).
    Embedding { vocab: usize, dim: usize },
    /// One GRU layer of `hidden` units over a sequence (a window of events), trained by
    /// back-propagation through the window; gives the last state, or every step's state with
    /// `return_sequence`. Left padding of short windows is masked.
    Gru {
        hidden: usize,
        #[serde(default)]
        return_sequence: bool,
    },
    /// Two inputs (batch, d) → their row-wise dot product (batch, 1): the score of a user
    /// tower against an item tower.
    Dot,
    /// Two flat inputs (batch, m) and (batch, n) → side by side (batch, m + n).
    Concat,
}

fn one() -> usize {
    1
}

impl LayerKind {
    /// Short lowercase name of the kind, used for generated layer names and messages.
    pub fn short_name(&self) -> &'static str {
        match self {
            LayerKind::Dense { .. } => "dense",
            LayerKind::Relu => "relu",
            LayerKind::LeakyRelu { .. } => "leaky_relu",
            LayerKind::Tanh => "tanh",
            LayerKind::Sigmoid => "sigmoid",
            LayerKind::Softmax => "softmax",
            LayerKind::Dropout { .. } => "dropout",
            LayerKind::LayerNorm { .. } => "layer_norm",
            LayerKind::Conv2d { .. } => "conv2d",
            LayerKind::MaxPool2d { .. } => "max_pool2d",
            LayerKind::Flatten => "flatten",
            LayerKind::Conv1d { .. } => "conv1d",
            LayerKind::Embedding { .. } => "embedding",
            LayerKind::Gru { .. } => "gru",
            LayerKind::Dot => "dot",
            LayerKind::Concat => "concat",
        }
    }

    /// How many inputs the layer reads: 2 for the combiners, 1 for every other kind.
    pub fn arity(&self) -> usize {
        match self {
            LayerKind::Dot | LayerKind::Concat => 2,
            LayerKind::Dense { .. }
            | LayerKind::Relu
            | LayerKind::LeakyRelu { .. }
            | LayerKind::Tanh
            | LayerKind::Sigmoid
            | LayerKind::Softmax
            | LayerKind::Dropout { .. }
            | LayerKind::LayerNorm { .. }
            | LayerKind::Conv2d { .. }
            | LayerKind::MaxPool2d { .. }
            | LayerKind::Flatten
            | LayerKind::Conv1d { .. }
            | LayerKind::Embedding { .. }
            | LayerKind::Gru { .. } => 1,
        }
    }
}

/// Where a layer reads one of its inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LayerInput {
    /// The model's input rows; `columns` picks features by index (empty: all of them), e.g.
    /// the user id column for a user tower.
    Input {
        #[serde(default)]
        columns: Vec<usize>,
    },
    /// The output of an earlier layer, by name.
    Layer(String),
}

/// A named layer. Names must be unique in a model; an empty name becomes `<kind><position>`
/// (1-based), e.g. `dense1`.
///
/// `inputs` wires the model as a small DAG: empty means the layer before it (the model input
/// for the first layer); combiners list two. The last layer is the model's output, and every
/// other layer must feed a later one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    pub name: String,
    pub kind: LayerKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<LayerInput>,
}

impl LayerSpec {
    pub fn new(name: impl Into<String>, kind: LayerKind) -> Self {
        LayerSpec {
            name: name.into(),
            kind,
            inputs: Vec::new(),
        }
    }

    /// The same layer reading `inputs` instead of the layer before it.
    pub fn with_inputs(mut self, inputs: Vec<LayerInput>) -> Self {
        self.inputs = inputs;
        self
    }

    /// Dense layer with He-uniform weights and inferred input width.
    pub fn dense(name: impl Into<String>, units: usize) -> Self {
        Self::new(
            name,
            LayerKind::Dense {
                units,
                inputs: None,
                init: Init::HeUniform,
            },
        )
    }

    pub fn relu(name: impl Into<String>) -> Self {
        Self::new(name, LayerKind::Relu)
    }

    pub fn tanh(name: impl Into<String>) -> Self {
        Self::new(name, LayerKind::Tanh)
    }
}

/// The loss a model is trained with. All losses are means over the batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LossKind {
    /// Mean over all elements of (prediction − target)², as PyTorch's `MSELoss`.
    Mse,
    /// Softmax cross-entropy from logits (log-sum-exp), as PyTorch's `CrossEntropyLoss`.
    #[default]
    CrossEntropy,
    /// Sigmoid binary cross-entropy from logits, as PyTorch's `BCEWithLogitsLoss`.
    BinaryCrossEntropy,
}

impl LossKind {
    pub fn name(&self) -> &'static str {
        match self {
            LossKind::Mse => "mse",
            LossKind::CrossEntropy => "cross-entropy",
            LossKind::BinaryCrossEntropy => "binary cross-entropy",
        }
    }
}

/// Everything needed to build a [`Model`](super::Model): architecture, loss and training
/// settings. Same config (including `seed`) → bit-identical weights and loss curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Number of features of each input row.
    pub input_width: usize,
    /// How an input row is read (an image, a sequence); `None`: flat features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_shape: Option<Shape>,
    pub layers: Vec<LayerSpec>,
    #[serde(default)]
    pub loss: LossKind,
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    #[serde(default)]
    pub schedule: LrSchedule,
    /// Clip gradients to this global L2 norm before each step (`None`: no clipping).
    #[serde(default)]
    pub clip_grad_norm: Option<f32>,
    /// Seeds the initialisers and dropout masks.
    #[serde(default)]
    pub seed: u64,
}

impl ModelConfig {
    /// A config with cross-entropy, Adam at lr 1e-3, constant schedule, no clipping, seed 0.
    pub fn new(input_width: usize, layers: Vec<LayerSpec>) -> Self {
        ModelConfig {
            input_width,
            input_shape: None,
            layers,
            loss: LossKind::default(),
            optimizer: OptimizerConfig::default(),
            schedule: LrSchedule::default(),
            clip_grad_norm: None,
            seed: 0,
        }
    }

    /// Reads input rows as `shape` (its length becomes the input width).
    pub fn with_input_shape(mut self, shape: Shape) -> Self {
        self.input_width = shape.len();
        self.input_shape = Some(shape);
        self
    }

    /// The shape of an input row.
    pub fn input_shape(&self) -> Shape {
        self.input_shape.unwrap_or(Shape::Flat(self.input_width))
    }

    pub fn with_loss(mut self, loss: LossKind) -> Self {
        self.loss = loss;
        self
    }

    pub fn with_optimizer(mut self, optimizer: OptimizerConfig) -> Self {
        self.optimizer = optimizer;
        self
    }

    pub fn with_schedule(mut self, schedule: LrSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Sets the base learning rate of the schedule.
    pub fn with_lr(mut self, lr: f32) -> Self {
        self.schedule.lr = lr;
        self
    }

    pub fn with_clip_grad_norm(mut self, max_norm: Option<f32>) -> Self {
        self.clip_grad_norm = max_norm;
        self
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// A multi-layer perceptron: for each hidden width a dense layer followed by ReLU
    /// (`dense1`, `relu1`, `dense2`, ...), then a dense output layer.
    pub fn mlp(input_width: usize, hidden: &[usize], outputs: usize) -> Self {
        let mut layers = Vec::with_capacity(hidden.len() * 2 + 1);
        for (position, &units) in hidden.iter().enumerate() {
            layers.push(LayerSpec::dense(format!("dense{}", position + 1), units));
            layers.push(LayerSpec::relu(format!("relu{}", position + 1)));
        }
        layers.push(LayerSpec::dense(
            format!("dense{}", hidden.len() + 1),
            outputs,
        ));
        Self::new(input_width, layers)
    }
}
