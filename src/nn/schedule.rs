//! Learning-rate schedules as pure functions of (base lr, step): constant, step decay, cosine
//! to a floor, each optionally behind a linear warm-up. Holds no state, so a live change of
//! the base lr takes effect at the next step without resetting anything.

use serde::{Deserialize, Serialize};

use super::error::NnError;

/// How the learning rate decays after warm-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Decay {
    /// Always the base lr.
    #[default]
    Constant,
    /// base · gamma^⌊step / every_steps⌋.
    Step { every_steps: u64, gamma: f32 },
    /// floor + (base − floor)·½(1 + cos(π·min(step, total)/total)); stays at `floor_lr` after.
    Cosine { total_steps: u64, floor_lr: f32 },
}

/// A base learning rate, a warm-up and a decay. Steps count optimizer steps from 0.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    /// Base learning rate.
    pub lr: f32,
    /// During the first `warmup_steps` steps the lr rises linearly: base·(step+1)/warmup_steps.
    /// The decay then starts from its own step 0.
    #[serde(default)]
    pub warmup_steps: u64,
    #[serde(default)]
    pub decay: Decay,
}

impl Default for LrSchedule {
    /// Constant 1e-3 (Adam's usual rate), no warm-up.
    fn default() -> Self {
        LrSchedule::constant(1e-3)
    }
}

impl LrSchedule {
    pub fn constant(lr: f32) -> Self {
        LrSchedule {
            lr,
            warmup_steps: 0,
            decay: Decay::Constant,
        }
    }

    pub fn step_decay(lr: f32, every_steps: u64, gamma: f32) -> Self {
        LrSchedule {
            decay: Decay::Step { every_steps, gamma },
            ..Self::constant(lr)
        }
    }

    pub fn cosine(lr: f32, total_steps: u64, floor_lr: f32) -> Self {
        LrSchedule {
            decay: Decay::Cosine {
                total_steps,
                floor_lr,
            },
            ..Self::constant(lr)
        }
    }

    pub fn with_warmup(mut self, warmup_steps: u64) -> Self {
        self.warmup_steps = warmup_steps;
        self
    }

    /// Checks ranges: lr ≥ 0 and finite, step decay every ≥ 1 step with gamma in (0, 1],
    /// cosine over ≥ 1 step with a floor ≥ 0.
    pub fn validate(&self) -> Result<(), NnError> {
        let bad = |message: String| {
            Err(NnError::InvalidConfig(format!(
                "learning-rate schedule: {message}"
            )))
        };
        if !(self.lr >= 0.0 && self.lr.is_finite()) {
            return bad(format!("lr must be a finite number ≥ 0, got {}", self.lr));
        }
        match self.decay {
            Decay::Constant => Ok(()),
            Decay::Step { every_steps, gamma } => {
                if every_steps == 0 || !(gamma > 0.0 && gamma <= 1.0) {
                    return bad(format!(
                        "step decay needs every_steps ≥ 1 and gamma in (0, 1], got {every_steps} and {gamma}"
                    ));
                }
                Ok(())
            }
            Decay::Cosine {
                total_steps,
                floor_lr,
            } => {
                if total_steps == 0 || !(floor_lr >= 0.0 && floor_lr.is_finite()) {
                    return bad(format!(
                        "cosine needs total_steps ≥ 1 and floor_lr ≥ 0, got {total_steps} and {floor_lr}"
                    ));
                }
                Ok(())
            }
        }
    }

    /// Learning rate of the step with 0-based index `step` for base rate `base_lr` (the
    /// model passes its live base lr, which may differ from `self.lr`).
    pub fn lr_at(&self, base_lr: f32, step: u64) -> f32 {
        if step < self.warmup_steps {
            return base_lr * (step + 1) as f32 / self.warmup_steps as f32;
        }
        let step = step - self.warmup_steps;
        match self.decay {
            Decay::Constant => base_lr,
            Decay::Step { every_steps, gamma } => {
                let decays = step / every_steps.max(1);
                base_lr * gamma.powi(decays.min(i32::MAX as u64) as i32)
            }
            Decay::Cosine {
                total_steps,
                floor_lr,
            } => {
                let progress = step.min(total_steps) as f64 / total_steps.max(1) as f64;
                let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                (floor_lr as f64 + (base_lr as f64 - floor_lr as f64) * cosine) as f32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_schedule_never_changes() {
        let s = LrSchedule::constant(0.1);
        assert_eq!(s.lr_at(0.1, 0), 0.1);
        assert_eq!(s.lr_at(0.1, 1_000_000), 0.1);
    }

    #[test]
    fn step_decay_multiplies_by_gamma_every_n_steps() {
        let s = LrSchedule::step_decay(1.0, 10, 0.5);
        assert_eq!(s.lr_at(1.0, 9), 1.0);
        assert_eq!(s.lr_at(1.0, 10), 0.5);
        assert_eq!(s.lr_at(1.0, 25), 0.25);
    }

    #[test]
    fn cosine_goes_from_base_through_midpoint_to_floor() {
        let s = LrSchedule::cosine(1.0, 100, 0.1);
        assert_eq!(s.lr_at(1.0, 0), 1.0);
        assert!((s.lr_at(1.0, 50) - 0.55).abs() < 1e-6);
        assert!((s.lr_at(1.0, 100) - 0.1).abs() < 1e-7);
        assert!((s.lr_at(1.0, 500) - 0.1).abs() < 1e-7);
    }

    #[test]
    fn warmup_ramps_linearly_then_hands_over_to_the_decay() {
        let s = LrSchedule::cosine(1.0, 100, 0.0).with_warmup(4);
        let ramp: Vec<f32> = (0..4).map(|t| s.lr_at(1.0, t)).collect();
        assert_eq!(ramp, vec![0.25, 0.5, 0.75, 1.0]);
        // Step 4 is the cosine's step 0.
        assert_eq!(s.lr_at(1.0, 4), 1.0);
        assert!((s.lr_at(1.0, 54) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn bad_settings_are_rejected() {
        assert!(LrSchedule::step_decay(0.1, 0, 0.5).validate().is_err());
        assert!(LrSchedule::cosine(0.1, 0, 0.0).validate().is_err());
        assert!(LrSchedule::constant(-1.0).validate().is_err());
        assert!(LrSchedule::constant(f32::NAN).validate().is_err());
    }
}
