//! Serde configuration of layers, losses and whole models: plain data that graph nodes carry
//! and `.ron` files store. Holds no weights or buffers and never touches random numbers.

use serde::{Deserialize, Serialize};

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
        }
    }
}

/// A named layer. Names must be unique in a model; an empty name becomes `<kind><position>`
/// (1-based), e.g. `dense1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    pub name: String,
    pub kind: LayerKind,
}

impl LayerSpec {
    pub fn new(name: impl Into<String>, kind: LayerKind) -> Self {
        LayerSpec {
            name: name.into(),
            kind,
        }
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
            layers,
            loss: LossKind::default(),
            optimizer: OptimizerConfig::default(),
            schedule: LrSchedule::default(),
            clip_grad_norm: None,
            seed: 0,
        }
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
