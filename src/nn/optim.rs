//! Optimizers (SGD, SGD with momentum/Nesterov, Adam, AdamW) with explicit per-tensor state,
//! and gradient clipping by global norm. Update rules follow the PyTorch documentation of
//! torch.optim; each update is one tight loop over contiguous slices and allocates nothing.

use serde::{Deserialize, Serialize};

use super::error::NnError;
use super::kernels::sum_of_squares;
use super::layer::{ParamMut, SparseRows};
use super::update_rules as rules;

/// Which optimizer, with its hyper-parameters (the learning rate lives in the schedule).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptimizerConfig {
    /// Plain SGD when `momentum` is 0; heavy-ball or Nesterov momentum otherwise.
    /// `weight_decay` adds wd·p to the gradient (L2), as torch.optim.SGD.
    Sgd {
        #[serde(default)]
        momentum: f32,
        #[serde(default)]
        nesterov: bool,
        #[serde(default)]
        weight_decay: f32,
    },
    /// Adam; `weight_decay` adds wd·p to the gradient (L2), as torch.optim.Adam.
    Adam {
        beta1: f32,
        beta2: f32,
        eps: f32,
        #[serde(default)]
        weight_decay: f32,
    },
    /// AdamW: decoupled weight decay p ← p·(1 − lr·wd) before the Adam update.
    AdamW {
        beta1: f32,
        beta2: f32,
        eps: f32,
        weight_decay: f32,
    },
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig::adam()
    }
}

impl OptimizerConfig {
    pub fn sgd() -> Self {
        OptimizerConfig::Sgd {
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }

    pub fn momentum(momentum: f32, nesterov: bool) -> Self {
        OptimizerConfig::Sgd {
            momentum,
            nesterov,
            weight_decay: 0.0,
        }
    }

    /// Adam with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay.
    pub fn adam() -> Self {
        OptimizerConfig::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }

    /// AdamW with Adam's default betas and eps.
    pub fn adamw(weight_decay: f32) -> Self {
        OptimizerConfig::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
        }
    }

    /// Checks ranges: momentum and betas in [0, 1), eps > 0, weight decay ≥ 0, Nesterov only
    /// with momentum.
    pub fn validate(&self) -> Result<(), NnError> {
        let unit = |v: f32| (0.0..1.0).contains(&v);
        let message = match *self {
            OptimizerConfig::Sgd {
                momentum,
                nesterov,
                weight_decay,
            } => {
                if !unit(momentum) {
                    format!("momentum must be in [0, 1), got {momentum}")
                } else if nesterov && momentum == 0.0 {
                    "Nesterov momentum needs momentum > 0".to_string()
                } else if !finite_non_negative(weight_decay) {
                    format!("weight decay must be ≥ 0, got {weight_decay}")
                } else {
                    return Ok(());
                }
            }
            OptimizerConfig::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
            }
            | OptimizerConfig::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => {
                if !unit(beta1) || !unit(beta2) {
                    format!("betas must be in [0, 1), got {beta1} and {beta2}")
                } else if !(eps.is_finite() && eps > 0.0) {
                    format!("eps must be > 0, got {eps}")
                } else if !finite_non_negative(weight_decay) {
                    format!("weight decay must be ≥ 0, got {weight_decay}")
                } else {
                    return Ok(());
                }
            }
        };
        Err(NnError::InvalidConfig(format!("optimizer: {message}")))
    }
}

fn finite_non_negative(v: f32) -> bool {
    v.is_finite() && v >= 0.0
}

/// State of one parameter tensor: the momentum buffer (SGD) or first moment (Adam), and the
/// second moment (Adam). Empty until the first step that needs them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SlotState {
    pub first_moment: Vec<f32>,
    pub second_moment: Vec<f32>,
}

impl SlotState {
    fn resize_moments(&mut self, len: usize) {
        self.first_moment.resize(len, 0.0);
        self.second_moment.resize(len, 0.0);
    }
}

/// An optimizer and its explicit state, one slot per parameter tensor in a fixed order.
#[derive(Clone, Debug)]
pub struct Optimizer {
    config: OptimizerConfig,
    /// Steps begun so far; Adam's bias correction uses it as t.
    steps: u64,
    /// Adam's 1 − β1^t and 1 − β2^t for the current step, computed once per step.
    bias_corrections: (f64, f64),
    slots: Vec<SlotState>,
}

impl Optimizer {
    pub fn new(config: OptimizerConfig) -> Result<Self, NnError> {
        config.validate()?;
        Ok(Optimizer {
            config,
            steps: 0,
            bias_corrections: (1.0, 1.0),
            slots: Vec::new(),
        })
    }

    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Per-tensor state, in parameter order.
    pub fn state(&self) -> &[SlotState] {
        &self.slots
    }

    /// Forgets all moments and the step count.
    pub fn reset(&mut self) {
        self.steps = 0;
        self.slots.clear();
    }

    /// Begins a step: call once, then [`Optimizer::update`] for every tensor.
    pub fn begin_step(&mut self) {
        self.steps += 1;
        if let OptimizerConfig::Adam { beta1, beta2, .. }
        | OptimizerConfig::AdamW { beta1, beta2, .. } = self.config
        {
            let t = self.steps.min(i32::MAX as u64) as i32;
            self.bias_corrections = (1.0 - (beta1 as f64).powi(t), 1.0 - (beta2 as f64).powi(t));
        }
    }

    /// Updates the tensor with state slot `slot` (its position in parameter order) in place
    /// and returns Σ g² of the gradients it consumed (free here, since the loop reads them
    /// anyway; summed in the same order as [`global_norm`]).
    pub fn update(&mut self, slot: usize, params: &mut [f32], grads: &[f32], lr: f32) -> f32 {
        assert_eq!(
            params.len(),
            grads.len(),
            "a parameter and its gradient have the same length"
        );
        let (config, corrections) = (self.config, self.bias_corrections);
        let state = self.sized_slot(slot, params.len());
        let (first, second) = (&mut state.first_moment[..], &mut state.second_moment[..]);
        apply_rule(config, corrections, params, grads, first, second, lr)
    }

    /// Like [`Optimizer::update`] but only for `rows` of the tensor (a lazy sparse update, as
    /// torch.optim.SparseAdam): other values and their optimizer state stay as they are, so
    /// an embedding row unseen in a batch is not moved by momentum. Returns Σ g² of the rows.
    pub fn update_rows(
        &mut self,
        slot: usize,
        params: &mut [f32],
        grads: &[f32],
        rows: SparseRows<'_>,
        lr: f32,
    ) -> f32 {
        assert_eq!(
            params.len(),
            grads.len(),
            "a parameter and its gradient have the same length"
        );
        let (config, corrections) = (self.config, self.bias_corrections);
        let state = self.sized_slot(slot, params.len());
        let width = rows.width;
        let mut sum_sq = 0.0;
        for &row in rows.rows {
            let span = row * width..(row + 1) * width;
            let (Some(p), Some(g)) = (params.get_mut(span.clone()), grads.get(span.clone())) else {
                continue;
            };
            let first = state.first_moment.get_mut(span.clone()).unwrap_or_default();
            let second = state.second_moment.get_mut(span).unwrap_or_default();
            sum_sq += apply_rule(config, corrections, p, g, first, second, lr);
        }
        sum_sq
    }

    /// The state of `slot`, with moments of `len` values where the optimizer keeps them.
    fn sized_slot(&mut self, slot: usize, len: usize) -> &mut SlotState {
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, SlotState::default);
        }
        let Some(state) = self.slots.get_mut(slot) else {
            unreachable!("slots were just resized")
        };
        match self.config {
            OptimizerConfig::Sgd { momentum: 0.0, .. } => {}
            OptimizerConfig::Sgd { .. } => state.first_moment.resize(len, 0.0),
            OptimizerConfig::Adam { .. } | OptimizerConfig::AdamW { .. } => {
                state.resize_moments(len)
            }
        }
        state
    }

    /// One whole step over `tensors` (slot i = tensor i); returns their global gradient norm.
    pub fn step(&mut self, tensors: &mut [ParamMut], lr: f32) -> f32 {
        self.begin_step();
        let mut sum_sq = 0.0f32;
        for (slot, tensor) in tensors.iter_mut().enumerate() {
            sum_sq += match tensor.rows {
                Some(rows) => self.update_rows(slot, tensor.value, tensor.grad, rows, lr),
                None => self.update(slot, tensor.value, tensor.grad, lr),
            };
        }
        sum_sq.sqrt()
    }
}

/// One update rule over matching slices of parameters, gradients and moments (the moments
/// are empty where the rule keeps none); returns Σ g².
fn apply_rule(
    config: OptimizerConfig,
    bias_corrections: (f64, f64),
    params: &mut [f32],
    grads: &[f32],
    first: &mut [f32],
    second: &mut [f32],
    lr: f32,
) -> f32 {
    match config {
        OptimizerConfig::Sgd {
            momentum,
            nesterov,
            weight_decay,
        } => {
            if momentum == 0.0 {
                rules::sgd(params, grads, lr, weight_decay)
            } else {
                let rule = rules::Momentum {
                    lr,
                    momentum,
                    nesterov,
                    weight_decay,
                };
                rules::momentum(params, grads, first, rule)
            }
        }
        OptimizerConfig::Adam {
            beta1,
            beta2,
            eps,
            weight_decay,
        } => {
            let rule = rules::Adam::new(lr, beta1, beta2, eps, weight_decay, bias_corrections);
            rules::adam(params, grads, first, second, rule)
        }
        OptimizerConfig::AdamW {
            beta1,
            beta2,
            eps,
            weight_decay,
        } => {
            let decay = 1.0 - lr * weight_decay;
            for p in params.iter_mut() {
                *p *= decay;
            }
            let rule = rules::Adam::new(lr, beta1, beta2, eps, 0.0, bias_corrections);
            rules::adam(params, grads, first, second, rule)
        }
    }
}

/// L2 norm of all gradients together.
pub fn global_norm<'a>(grads: impl IntoIterator<Item = &'a [f32]>) -> f32 {
    grads
        .into_iter()
        .fold(0.0, |sum, g| sum + sum_of_squares(g))
        .sqrt()
}

/// Scales all gradients by max_norm/(norm + 1e-6) when their global norm exceeds `max_norm`
/// (as torch.nn.utils.clip_grad_norm_); returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut [&mut [f32]], max_norm: f32) -> f32 {
    let norm = global_norm(grads.iter().map(|g| &**g));
    let scale = max_norm / (norm + 1e-6);
    if scale < 1.0 {
        for g in grads.iter_mut() {
            for v in g.iter_mut() {
                *v *= scale;
            }
        }
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `steps` steps of one single-element tensor and returns p after each.
    fn run(config: OptimizerConfig, lr: f32, grads: &[f32]) -> Vec<f32> {
        let mut opt = Optimizer::new(config).unwrap();
        let mut p = [1.0f32];
        grads
            .iter()
            .map(|&g| {
                opt.begin_step();
                opt.update(0, &mut p, &[g], lr);
                p[0]
            })
            .collect()
    }

    fn close(a: &[f32], b: &[f64]) -> bool {
        a.iter().zip(b).all(|(&x, &y)| (x as f64 - y).abs() < 1e-6)
    }

    #[test]
    fn sgd_steps_against_the_gradient() {
        // p − lr·g by hand: 1 − 0.1·0.5 = 0.95, then 0.95 − 0.1·(−1) = 1.05.
        assert!(close(
            &run(OptimizerConfig::sgd(), 0.1, &[0.5, -1.0]),
            &[0.95, 1.05]
        ));
    }

    #[test]
    fn momentum_accumulates_a_velocity() {
        // By hand with g = 1: buf 1 → p 0.9; buf 1.9 → p 0.9 − 0.19 = 0.71.
        let p = run(OptimizerConfig::momentum(0.9, false), 0.1, &[1.0, 1.0]);
        assert!(close(&p, &[0.9, 0.71]), "{p:?}");
    }

    #[test]
    fn nesterov_looks_ahead() {
        // By hand: buf 1, step g + 0.9·buf = 1.9 → p 0.81; buf 1.9, step 1 + 1.71 = 2.71 → 0.539.
        let p = run(OptimizerConfig::momentum(0.9, true), 0.1, &[1.0, 1.0]);
        assert!(close(&p, &[0.81, 0.539]), "{p:?}");
    }

    // The Adam and AdamW expectations were computed in Python (float64) with the update rules
    // of the torch.optim.Adam / AdamW documentation, lr 0.1, gradients 0.5 then −1.
    #[test]
    fn adam_matches_the_reference_update_rule() {
        let p = run(OptimizerConfig::adam(), 0.1, &[0.5, -1.0]);
        assert!(close(&p, &[0.900000002, 0.9366103542405654]), "{p:?}");
    }

    #[test]
    fn adam_weight_decay_is_added_to_the_gradient() {
        let config = OptimizerConfig::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        };
        let p = run(config, 0.1, &[0.5, -1.0]);
        assert!(
            close(&p, &[0.9000000019607843, 0.9355236415321513]),
            "{p:?}"
        );
    }

    #[test]
    fn adamw_decays_weights_before_the_adam_update() {
        let p = run(OptimizerConfig::adamw(0.01), 0.1, &[0.5, -1.0]);
        assert!(close(&p, &[0.899000002, 0.9347113542385653]), "{p:?}");
    }

    #[test]
    fn state_is_kept_per_tensor() {
        let mut opt = Optimizer::new(OptimizerConfig::adam()).unwrap();
        let (mut a, mut b) = ([1.0f32, 2.0], [3.0f32]);
        opt.step(
            &mut [
                ParamMut::dense(&mut a, &mut [0.1, 0.2]),
                ParamMut::dense(&mut b, &mut [0.3]),
            ],
            0.01,
        );
        assert_eq!(opt.steps(), 1);
        assert_eq!(opt.state().len(), 2);
        let first: Vec<f32> = opt
            .state()
            .iter()
            .flat_map(|s| s.first_moment.clone())
            .collect();
        // m = (1 − 0.9)·g after one step.
        assert!(close(&first, &[0.01, 0.02, 0.03]), "{first:?}");
    }

    #[test]
    fn a_sparse_update_moves_only_the_listed_rows_and_their_state() {
        // A 3×2 table; rows 0 and 2 have gradients. After a first step of all rows, a second
        // step on row 2 alone must leave row 0 and its Adam moments exactly as they were.
        let mut opt = Optimizer::new(OptimizerConfig::adam()).unwrap();
        let mut table = [1.0f32, 1.0, 2.0, 2.0, 3.0, 3.0];
        let grads = [0.5f32, 0.5, 0.0, 0.0, -0.5, -0.5];
        let all = SparseRows {
            rows: &[0, 1, 2],
            width: 2,
        };
        opt.begin_step();
        opt.update_rows(0, &mut table, &grads, all, 0.1);
        let (row0, moments0) = (table[0], opt.state()[0].first_moment[0]);
        opt.begin_step();
        let sum_sq = opt.update_rows(
            0,
            &mut table,
            &grads,
            SparseRows {
                rows: &[2],
                width: 2,
            },
            0.1,
        );
        assert_eq!((table[0], opt.state()[0].first_moment[0]), (row0, moments0));
        assert!(table[4] > 3.1, "row 2 keeps moving up: {}", table[4]);
        assert_eq!(sum_sq, 0.5);
        // A dense update of the same tensor would have moved row 0 by its momentum.
        let mut dense = table;
        let mut dense_opt = opt.clone();
        dense_opt.begin_step();
        dense_opt.update(0, &mut dense, &grads, 0.1);
        assert_ne!(dense[0], table[0]);
    }

    #[test]
    fn clipping_scales_to_the_max_norm_and_returns_the_old_norm() {
        // Norm of (3, 4, 12) is 13; clipped to 6.5 every value halves.
        let (mut a, mut b) = ([3.0f32, 4.0], [12.0f32]);
        let norm = clip_grad_norm(&mut [&mut a, &mut b], 6.5);
        assert_eq!(norm, 13.0);
        assert!(close(&[a[0], a[1], b[0]], &[1.5, 2.0, 6.0]));
        // Below the limit nothing changes.
        let mut c = [0.3f32, 0.4];
        assert!((clip_grad_norm(&mut [&mut c], 1.0) - 0.5).abs() < 1e-7);
        assert_eq!(c, [0.3, 0.4]);
    }

    #[test]
    fn out_of_range_settings_are_rejected() {
        assert!(Optimizer::new(OptimizerConfig::momentum(1.0, false)).is_err());
        assert!(Optimizer::new(OptimizerConfig::momentum(0.0, true)).is_err());
        assert!(Optimizer::new(OptimizerConfig::adamw(-0.1)).is_err());
    }
}
