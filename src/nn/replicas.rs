//! Data parallelism for `Model`: flat gradient and parameter exchange, scaling, and the
//! sample-weighted all-reduce that makes N replicas on shards match one model on the whole batch.
//! Moves numbers only; threads and channels belong to the executor.

use super::error::NnError;
use super::layer::Layer;
use super::model::Model;

impl Model {
    /// Appends every parameter gradient to `out` (cleared first) in layer order, weights before
    /// bias; the layout matches [`Model::parameters_flat`].
    pub fn gradients_flat(&self, out: &mut Vec<f32>) {
        out.clear();
        out.reserve(self.param_count());
        for param in self.layers().iter().flat_map(Layer::params) {
            out.extend_from_slice(param.grad);
        }
    }

    /// Replaces all gradients by `flat` (layout of [`Model::gradients_flat`]).
    pub fn set_gradients_flat(&mut self, flat: &[f32]) -> Result<(), NnError> {
        self.combine_flat(flat, |g, v| *g = v, "gradients")
    }

    /// Gradients = Σ weightᵢ · partᵢ over `parts` (each in the layout of
    /// [`Model::gradients_flat`]), summed in the order given, in one pass over the gradients:
    /// the merge step of data-parallel training. No parts (all shards empty) gives zeros.
    pub fn set_gradients_weighted(&mut self, parts: &[(&[f32], f32)]) -> Result<(), NnError> {
        let expected = self.param_count();
        if let Some((part, _)) = parts.iter().find(|(p, _)| p.len() != expected) {
            return Err(flat_length_error("gradients", expected, part.len()));
        }
        let mut offset = 0;
        for layer in self.layers_mut() {
            for param in layer.params_mut() {
                let range = offset..offset + param.grad.len();
                offset = range.end;
                match parts {
                    [] => param.grad.fill(0.0),
                    [(a, wa), (b, wb)] => {
                        for ((g, &x), &y) in
                            param.grad.iter_mut().zip(&a[range.clone()]).zip(&b[range])
                        {
                            *g = wa * x + wb * y;
                        }
                    }
                    [(first, w), rest @ ..] => {
                        for (g, &x) in param.grad.iter_mut().zip(&first[range.clone()]) {
                            *g = w * x;
                        }
                        for (part, w) in rest {
                            for (g, &x) in param.grad.iter_mut().zip(&part[range.clone()]) {
                                *g += w * x;
                            }
                        }
                    }
                }
            }
            layer.gradients_replaced();
        }
        self.mark_gradients_fresh();
        Ok(())
    }

    /// Gradients += factor · `flat` (layout of [`Model::gradients_flat`]).
    pub fn add_scaled_gradients_flat(&mut self, flat: &[f32], factor: f32) -> Result<(), NnError> {
        self.combine_flat(flat, |g, v| *g += factor * v, "gradients")
    }

    /// Gradients ·= factor.
    pub fn scale_gradients(&mut self, factor: f32) {
        for layer in self.layers_mut() {
            for param in layer.params_mut() {
                for g in param.grad.iter_mut() {
                    *g *= factor;
                }
            }
        }
    }

    /// Gradients += factor · the gradients of `other`, a replica of the same architecture.
    pub fn add_scaled_gradients_from(&mut self, other: &Model, factor: f32) -> Result<(), NnError> {
        check_same_shapes(self, other)?;
        for (mine, theirs) in self.layers_mut().iter_mut().zip(other.layers()) {
            for (param, other_param) in mine.params_mut().zip(theirs.params()) {
                for (g, &o) in param.grad.iter_mut().zip(other_param.grad) {
                    *g += factor * o;
                }
            }
            mine.gradients_replaced();
        }
        self.mark_gradients_fresh();
        Ok(())
    }

    /// Appends every parameter to `out` (cleared first), in the gradient layout.
    pub fn parameters_flat(&self, out: &mut Vec<f32>) {
        out.clear();
        out.reserve(self.param_count());
        for param in self.layers().iter().flat_map(Layer::params) {
            out.extend_from_slice(param.value);
        }
    }

    /// Replaces all parameters by `flat` (layout of [`Model::parameters_flat`]), e.g. to
    /// broadcast the leader's weights to replicas.
    pub fn set_parameters_flat(&mut self, flat: &[f32]) -> Result<(), NnError> {
        let expected = self.param_count();
        if flat.len() != expected {
            return Err(flat_length_error("parameters", expected, flat.len()));
        }
        let mut rest = flat;
        for layer in self.layers_mut() {
            for param in layer.params_mut() {
                let (head, tail) = rest.split_at(param.value.len());
                param.value.copy_from_slice(head);
                rest = tail;
            }
        }
        Ok(())
    }

    /// Gives every dropout layer a new mask stream derived from `seed` (replicas should not
    /// share masks).
    pub fn reseed_dropout(&mut self, seed: u64) {
        for (position, layer) in self.layers_mut().iter_mut().enumerate() {
            if let Layer::Dropout(dropout) = layer {
                dropout.reseed(seed ^ (position as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            }
        }
    }

    fn combine_flat(
        &mut self,
        flat: &[f32],
        op: impl Fn(&mut f32, f32),
        what: &str,
    ) -> Result<(), NnError> {
        let expected = self.param_count();
        if flat.len() != expected {
            return Err(flat_length_error(what, expected, flat.len()));
        }
        let mut rest = flat;
        for layer in self.layers_mut() {
            for param in layer.params_mut() {
                let (head, tail) = rest.split_at(param.grad.len());
                for (g, &v) in param.grad.iter_mut().zip(head) {
                    op(g, v);
                }
                rest = tail;
            }
            layer.gradients_replaced();
        }
        self.mark_gradients_fresh();
        Ok(())
    }
}

/// All-reduce: sets the gradients of every replica to the mean over all samples, i.e.
/// Σ_i (n_i / Σn) · g_i where replica i computed mean gradients g_i on `batch_sizes[i]` rows.
/// Afterwards each replica can `apply_gradients` and they stay identical, or only the first
/// applies and broadcasts with [`Model::parameters_flat`].
pub fn average_gradients(replicas: &mut [Model], batch_sizes: &[usize]) -> Result<(), NnError> {
    if replicas.len() != batch_sizes.len() {
        return Err(NnError::ReplicaMismatch(format!(
            "{} replicas but {} batch sizes",
            replicas.len(),
            batch_sizes.len()
        )));
    }
    let total: usize = batch_sizes.iter().sum();
    let Some((leader, others)) = replicas.split_first_mut() else {
        return Ok(());
    };
    if total == 0 {
        return Err(NnError::ReplicaMismatch("all shards are empty".into()));
    }
    let mut sizes = batch_sizes.iter().map(|&n| n as f32 / total as f32);
    leader.scale_gradients(sizes.next().unwrap_or(0.0));
    for (other, weight) in others.iter().zip(sizes) {
        leader.add_scaled_gradients_from(other, weight)?;
    }
    let mut merged = Vec::new();
    leader.gradients_flat(&mut merged);
    for other in others.iter_mut() {
        other.set_gradients_flat(&merged)?;
    }
    Ok(())
}

fn check_same_shapes(a: &Model, b: &Model) -> Result<(), NnError> {
    let lengths = |m: &Model| {
        m.layers()
            .iter()
            .flat_map(Layer::params)
            .map(|p| p.value.len())
            .collect::<Vec<_>>()
    };
    let same = a
        .layers()
        .iter()
        .flat_map(Layer::params)
        .map(|p| p.value.len())
        .eq(b
            .layers()
            .iter()
            .flat_map(Layer::params)
            .map(|p| p.value.len()));
    if !same {
        return Err(NnError::ReplicaMismatch(format!(
            "parameter tensors {:?} vs {:?}",
            lengths(a),
            lengths(b)
        )));
    }
    Ok(())
}

fn flat_length_error(what: &str, expected: usize, got: usize) -> NnError {
    NnError::ReplicaMismatch(format!("expected {expected} {what}, got {got}"))
}
