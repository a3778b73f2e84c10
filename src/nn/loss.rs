//! Losses (MSE, cross-entropy from logits, binary cross-entropy from logits) returning the mean
//! loss and its gradient with respect to the model outputs, plus accuracy helpers.
//! Targets are validated (shape, kind, label range) before anything is computed; no panics.

use ndarray::{Array2, ArrayView2};

use super::activation::sigmoid;
use super::config::LossKind;
use super::error::NnError;
use super::kernels::{ensure_shape, flat_mut};
use super::targets::Targets;

/// Mean loss and classification count of one batch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BatchStats {
    /// Mean loss over the batch.
    pub loss: f32,
    /// Correctly classified rows (argmax for cross-entropy, logit > 0 for binary
    /// cross-entropy); always 0 for MSE.
    pub correct: usize,
    pub samples: usize,
}

impl BatchStats {
    /// correct / samples (0 for an empty batch).
    pub fn accuracy(&self) -> f32 {
        if self.samples == 0 {
            0.0
        } else {
            self.correct as f32 / self.samples as f32
        }
    }

    /// Combines the stats of two shards: sample-weighted mean loss, summed counts.
    pub fn merge(self, other: BatchStats) -> BatchStats {
        let samples = self.samples + other.samples;
        let loss = if samples == 0 {
            0.0
        } else {
            ((self.loss as f64 * self.samples as f64 + other.loss as f64 * other.samples as f64)
                / samples as f64) as f32
        };
        BatchStats {
            loss,
            correct: self.correct + other.correct,
            samples,
        }
    }
}

/// A loss function with a reusable gradient buffer.
#[derive(Clone, Debug)]
pub struct Loss {
    kind: LossKind,
    grad: Array2<f32>,
}

impl Loss {
    pub fn new(kind: LossKind) -> Self {
        Loss {
            kind,
            grad: Array2::zeros((0, 0)),
        }
    }

    pub fn kind(&self) -> LossKind {
        self.kind
    }

    /// Mean loss of `outputs` (batch, outputs) against `targets`, and ∂(mean loss)/∂outputs
    /// (batch, outputs), kept in [`Loss::grad`].
    pub fn forward_backward(
        &mut self,
        outputs: ArrayView2<f32>,
        targets: Targets,
    ) -> Result<BatchStats, NnError> {
        let (rows, cols) = outputs.dim();
        ensure_shape(&mut self.grad, rows, cols);
        compute(self.kind, outputs, targets, Some(flat_mut(&mut self.grad)))
    }

    /// Mean loss without a gradient.
    pub fn evaluate(
        &self,
        outputs: ArrayView2<f32>,
        targets: Targets,
    ) -> Result<BatchStats, NnError> {
        compute(self.kind, outputs, targets, None)
    }

    /// ∂(mean loss)/∂outputs from the last [`Loss::forward_backward`].
    pub fn grad(&self) -> &Array2<f32> {
        &self.grad
    }
}

/// Dispatches to the loss after validating the targets; `grad` is (rows·cols) row-major.
fn compute(
    kind: LossKind,
    outputs: ArrayView2<f32>,
    targets: Targets,
    grad: Option<&mut [f32]>,
) -> Result<BatchStats, NnError> {
    let (rows, cols) = outputs.dim();
    validate(kind, rows, cols, &targets)?;
    let outputs = outputs.as_standard_layout();
    let Some(z) = outputs.as_slice() else {
        unreachable!("a standard-layout array is contiguous")
    };
    let (loss_sum, correct) = match (kind, targets) {
        (LossKind::CrossEntropy, Targets::Classes(labels)) => cross_entropy(
            z,
            cols,
            |row, j| {
                if labels.get(row) == Some(&j) {
                    1.0
                } else {
                    0.0
                }
            },
            grad,
        ),
        (LossKind::CrossEntropy, Targets::OneHot(t)) => {
            let t = t.as_standard_layout();
            let t = t.as_slice().unwrap_or_default();
            cross_entropy(
                z,
                cols,
                |row, j| t.get(row * cols + j).copied().unwrap_or(0.0),
                grad,
            )
        }
        (LossKind::BinaryCrossEntropy, Targets::Classes(labels)) => {
            binary_cross_entropy(z, cols, |i| labels.get(i).map_or(0.0, |&l| l as f32), grad)
        }
        (LossKind::BinaryCrossEntropy, Targets::OneHot(t) | Targets::Values(t)) => {
            let t = t.as_standard_layout();
            let t = t.as_slice().unwrap_or_default();
            binary_cross_entropy(z, cols, |i| t.get(i).copied().unwrap_or(0.0), grad)
        }
        (LossKind::Mse, Targets::OneHot(t) | Targets::Values(t)) => {
            let t = t.as_standard_layout();
            mean_squared_error(z, t.as_slice().unwrap_or_default(), cols, grad)
        }
        (LossKind::Mse | LossKind::CrossEntropy, targets) => {
            return Err(NnError::TargetKind {
                loss: kind.name(),
                targets: targets.kind_name(),
            });
        }
    };
    Ok(BatchStats {
        loss: (loss_sum / rows.max(1) as f64) as f32,
        correct,
        samples: rows,
    })
}

/// Checks row counts, target widths and label ranges for `kind`.
fn validate(kind: LossKind, rows: usize, cols: usize, targets: &Targets) -> Result<(), NnError> {
    if targets.rows() != rows {
        return Err(NnError::TargetShape(format!(
            "{} target rows for a batch of {rows}",
            targets.rows()
        )));
    }
    match (kind, targets) {
        (LossKind::Mse, Targets::Classes(_)) => Err(NnError::TargetKind {
            loss: kind.name(),
            targets: targets.kind_name(),
        }),
        (LossKind::CrossEntropy, Targets::Values(_)) => Err(NnError::TargetKind {
            loss: kind.name(),
            targets: "value (use one-hot)",
        }),
        (LossKind::CrossEntropy, Targets::Classes(labels)) => check_labels(labels, cols),
        (LossKind::BinaryCrossEntropy, Targets::Classes(labels)) => {
            if cols != 1 {
                return Err(NnError::TargetShape(format!(
                    "binary cross-entropy with class labels needs 1 output, the model has {cols}"
                )));
            }
            check_labels(labels, 2)
        }
        (_, Targets::OneHot(t) | Targets::Values(t)) => {
            if t.ncols() != cols {
                return Err(NnError::TargetShape(format!(
                    "targets have {} columns but the model outputs {cols}",
                    t.ncols()
                )));
            }
            Ok(())
        }
    }
}

fn check_labels(labels: &[usize], classes: usize) -> Result<(), NnError> {
    match labels.iter().position(|&l| l >= classes) {
        Some(row) => Err(NnError::LabelOutOfRange {
            row,
            label: labels.get(row).copied().unwrap_or_default(),
            classes,
        }),
        None => Ok(()),
    }
}

/// Softmax cross-entropy per row with log-sum-exp: loss = Σ_j t_j·(lse − z_j),
/// grad = (softmax·Σt − t)/batch. `target(row, j)` gives t.
fn cross_entropy(
    z: &[f32],
    cols: usize,
    target: impl Fn(usize, usize) -> f32,
    mut grad: Option<&mut [f32]>,
) -> (f64, usize) {
    let rows = z.len() / cols.max(1);
    let inv_rows = 1.0 / rows.max(1) as f32;
    let (mut loss_sum, mut correct) = (0.0f64, 0usize);
    for (row, logits) in z.chunks_exact(cols).enumerate() {
        let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let exp_sum: f32 = logits.iter().map(|&v| (v - max).exp()).sum();
        let lse = max + exp_sum.ln();
        let mut target_sum = 0.0f32;
        let mut best_target = (0usize, f32::NEG_INFINITY);
        for (j, &v) in logits.iter().enumerate() {
            let t = target(row, j);
            if t != 0.0 {
                loss_sum += (t * (lse - v)) as f64;
                target_sum += t;
            }
            if t > best_target.1 {
                best_target = (j, t);
            }
        }
        if argmax(logits) == best_target.0 {
            correct += 1;
        }
        if let Some(grad) = grad.as_deref_mut() {
            let start = row * cols;
            let Some(g_row) = grad.get_mut(start..start + cols) else {
                continue;
            };
            for (j, (g, &v)) in g_row.iter_mut().zip(logits).enumerate() {
                let softmax = (v - max).exp() / exp_sum;
                *g = (softmax * target_sum - target(row, j)) * inv_rows;
            }
        }
    }
    (loss_sum, correct)
}

/// Sigmoid BCE from logits per element: max(z,0) − z·t + ln(1 + e^−|z|), averaged over all
/// elements (rows·cols); grad = (σ(z) − t)/(rows·cols). A row counts as correct when every
/// output is on the right side of 0.
fn binary_cross_entropy(
    z: &[f32],
    cols: usize,
    target: impl Fn(usize) -> f32,
    grad: Option<&mut [f32]>,
) -> (f64, usize) {
    let scale = 1.0 / z.len().max(1) as f32;
    let (mut loss_sum, mut correct) = (0.0f64, 0usize);
    for (row, logits) in z.chunks_exact(cols).enumerate() {
        let mut row_correct = true;
        for (j, &v) in logits.iter().enumerate() {
            let t = target(row * cols + j);
            loss_sum += (v.max(0.0) - v * t + (-v.abs()).exp().ln_1p()) as f64;
            row_correct &= (v > 0.0) == (t > 0.5);
        }
        correct += usize::from(row_correct);
    }
    if let Some(grad) = grad {
        for (i, (g, &v)) in grad.iter_mut().zip(z).enumerate() {
            *g = (sigmoid(v) - target(i)) * scale;
        }
    }
    // Per-element mean, reported per row so that it matches PyTorch's BCEWithLogitsLoss.
    (loss_sum / cols.max(1) as f64, correct)
}

/// MSE averaged over all elements: Σ(z − t)²/(rows·cols), grad = 2(z − t)/(rows·cols).
/// Returns the sum per row (Σ/cols) like the other losses.
fn mean_squared_error(z: &[f32], t: &[f32], cols: usize, grad: Option<&mut [f32]>) -> (f64, usize) {
    let loss_sum: f64 = z
        .iter()
        .zip(t)
        .map(|(&a, &b)| ((a - b) as f64).powi(2))
        .sum();
    if let Some(grad) = grad {
        let scale = 2.0 / z.len().max(1) as f32;
        for ((g, &a), &b) in grad.iter_mut().zip(z).zip(t) {
            *g = (a - b) * scale;
        }
    }
    (loss_sum / cols.max(1) as f64, 0)
}

/// Index of the largest value (the first on ties; 0 for an empty row).
pub fn argmax(row: &[f32]) -> usize {
    argmax_of(row.iter().copied())
}

fn argmax_of(values: impl Iterator<Item = f32>) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// Rows of `outputs` (batch, classes) whose argmax equals the label.
pub fn count_correct(outputs: ArrayView2<f32>, labels: &[usize]) -> usize {
    outputs
        .rows()
        .into_iter()
        .zip(labels)
        .filter(|(row, label)| argmax_of(row.iter().copied()) == **label)
        .count()
}

/// Fraction of rows whose argmax equals the label (0 for no rows).
pub fn accuracy(outputs: ArrayView2<f32>, labels: &[usize]) -> f32 {
    let rows = outputs.nrows().min(labels.len());
    if rows == 0 {
        return 0.0;
    }
    count_correct(outputs, labels) as f32 / rows as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    // Expected values computed by hand from the definition (log-sum-exp minus the true logit).
    #[test]
    fn cross_entropy_matches_hand_computed_values() {
        let mut loss = Loss::new(LossKind::CrossEntropy);
        let z = array![[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]];
        let stats = loss
            .forward_backward(z.view(), Targets::Classes(&[2, 0]))
            .unwrap();
        // row 0: lse = 3 + ln(1 + e^-1 + e^-2) = 3.40761, loss 0.40761; row 1: ln 3 = 1.09861
        assert!((stats.loss - 0.753_11).abs() < 1e-4, "{}", stats.loss);
        // Row 0's argmax is 2; row 1 is a three-way tie, which resolves to the first class (0).
        assert_eq!(stats.correct, 2);
    }

    #[test]
    fn cross_entropy_is_stable_for_huge_logits() {
        let loss = Loss::new(LossKind::CrossEntropy);
        let z = array![[1000.0, -1000.0], [-1000.0, 1000.0]];
        let stats = loss.evaluate(z.view(), Targets::Classes(&[0, 0])).unwrap();
        assert!((stats.loss - 1000.0).abs() < 1e-3, "{}", stats.loss);
    }

    #[test]
    fn one_hot_and_class_labels_give_the_same_loss_and_gradient() {
        let z = array![[0.3, -1.2, 2.0], [0.0, 0.5, -0.5]];
        let mut a = Loss::new(LossKind::CrossEntropy);
        let mut b = Loss::new(LossKind::CrossEntropy);
        let sa = a
            .forward_backward(z.view(), Targets::Classes(&[1, 2]))
            .unwrap();
        let one_hot = array![[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let sb = b
            .forward_backward(z.view(), Targets::OneHot(one_hot.view()))
            .unwrap();
        assert!((sa.loss - sb.loss).abs() < 1e-6);
        assert_eq!(sa.correct, sb.correct);
        assert!(
            a.grad()
                .iter()
                .zip(b.grad())
                .all(|(x, y)| (x - y).abs() < 1e-7)
        );
    }

    #[test]
    fn mse_is_the_mean_over_all_elements() {
        let loss = Loss::new(LossKind::Mse);
        let z = array![[1.0, 2.0], [3.0, 4.0]];
        let t = array![[0.0, 2.0], [3.0, 6.0]];
        // (1 + 0 + 0 + 4) / 4
        let stats = loss.evaluate(z.view(), Targets::Values(t.view())).unwrap();
        assert_eq!(stats.loss, 1.25);
    }

    #[test]
    fn binary_cross_entropy_matches_the_formula() {
        let loss = Loss::new(LossKind::BinaryCrossEntropy);
        let z = array![[0.0], [2.0]];
        // ln 2 and ln(1 + e^-2) → mean 0.41000
        let stats = loss.evaluate(z.view(), Targets::Classes(&[1, 1])).unwrap();
        assert!((stats.loss - 0.410_00).abs() < 1e-4, "{}", stats.loss);
        assert_eq!(stats.correct, 1);
    }

    #[test]
    fn label_outside_the_class_count_is_an_error() {
        let loss = Loss::new(LossKind::CrossEntropy);
        let z = Array2::zeros((3, 4));
        let err = loss
            .evaluate(z.view(), Targets::Classes(&[0, 4, 1]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "label 4 in row 1 is outside the 4 classes (0..4)"
        );
        let bce = Loss::new(LossKind::BinaryCrossEntropy);
        let err = bce
            .evaluate(Array2::zeros((1, 1)).view(), Targets::Classes(&[2]))
            .unwrap_err();
        assert!(matches!(err, NnError::LabelOutOfRange { classes: 2, .. }));
    }

    #[test]
    fn wrong_target_kind_or_row_count_is_an_error() {
        let mse = Loss::new(LossKind::Mse);
        let z = Array2::zeros((2, 1));
        assert!(matches!(
            mse.evaluate(z.view(), Targets::Classes(&[0, 1])),
            Err(NnError::TargetKind { .. })
        ));
        let t = Array2::zeros((3, 1));
        assert!(matches!(
            mse.evaluate(z.view(), Targets::Values(t.view())),
            Err(NnError::TargetShape(_))
        ));
    }

    #[test]
    fn merged_shard_stats_weight_the_loss_by_samples() {
        let a = BatchStats {
            loss: 1.0,
            correct: 1,
            samples: 1,
        };
        let b = BatchStats {
            loss: 4.0,
            correct: 2,
            samples: 3,
        };
        let m = a.merge(b);
        assert_eq!((m.loss, m.correct, m.samples), (3.25, 3, 4));
    }
}
