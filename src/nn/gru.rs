//! A one-layer GRU over a window of steps, with PyTorch's gate equations: forward keeps every
//! step's gates, backward runs back-propagation through time over the whole window (the
//! window is the truncation: each sample starts from a zero state). Left padding is masked:
//! padded steps leave the state unchanged and get no gradient.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, s};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::activation::sigmoid;
use super::conv2d::{check_gradient, check_input};
use super::error::NnError;
use super::kernels::{
    column_sums, contiguous_rows, dense_forward_rows, dense_input_grads_rows, ensure_shape, flat,
    flat_mut,
};
use super::layer::{ParamMut, ParamRef};
use super::layout::{Shape, as_sequence};

/// Output shape of a GRU of `hidden` units over `input`: the last state, or every step's.
pub fn gru_output(
    layer: &str,
    input: Shape,
    hidden: usize,
    return_sequence: bool,
) -> Result<Shape, NnError> {
    let (steps, _) = as_sequence(layer, input)?;
    if hidden == 0 {
        return Err(NnError::InvalidLayer {
            layer: layer.to_string(),
            message: "needs at least one hidden unit".into(),
        });
    }
    Ok(if return_sequence {
        Shape::Sequence {
            steps,
            features: hidden,
        }
    } else {
        Shape::Flat(hidden)
    })
}

/// Trainable values of a GRU with `features` inputs and `hidden` units.
pub fn gru_param_count(features: usize, hidden: usize) -> usize {
    3 * hidden * (features + hidden + 2)
}

/// Gated recurrent unit. With gates in the column order [r | z | n] of every 3H-wide tensor:
/// r = σ(x·Wx_r + bx_r + h·Wh_r + bh_r), z = σ(x·Wx_z + bx_z + h·Wh_z + bh_z),
/// n = tanh(x·Wx_n + bx_n + r ⊙ (h·Wh_n + bh_n)), h' = (1 − z) ⊙ n + z ⊙ h, from h = 0.
/// Wx (features, 3H), Wh (H, 3H): PyTorch's `weight_ih_l0` / `weight_hh_l0` transposed.
#[derive(Clone, Debug)]
pub struct GruLayer {
    name: String,
    steps: usize,
    features: usize,
    hidden: usize,
    return_sequence: bool,
    input_weights: Array2<f32>,
    hidden_weights: Array2<f32>,
    input_bias: Vec<f32>,
    hidden_bias: Vec<f32>,
    input_weight_grads: Array2<f32>,
    hidden_weight_grads: Array2<f32>,
    input_bias_grads: Vec<f32>,
    hidden_bias_grads: Vec<f32>,
    /// The last input (batch, T·F), i.e. (batch·T, F) in (row, step) order.
    input: Array2<f32>,
    /// Valid steps per row of the last forward pass (the last ones; earlier steps are padding).
    valid: Vec<usize>,
    /// x·Wx + bx of every (row, step): (batch·T, 3H) in (row, step) order.
    input_gates: Array2<f32>,
    /// h·Wh + bh of every step: (T·batch, 3H) in (step, row) order.
    hidden_gates: Array2<f32>,
    /// States h_0 = 0 … h_T: ((T+1)·batch, H) in (step, row) order.
    states: Array2<f32>,
    /// Gate activations r, z, n of every step: (T·batch, H) in (step, row) order.
    reset: Array2<f32>,
    update: Array2<f32>,
    candidate: Array2<f32>,
    /// Backward buffers: ∂L/∂(input gates) in (row, step) order, ∂L/∂(hidden gates) in
    /// (step, row) order, and the running ∂L/∂h with its part through Wh.
    input_gate_grads: Array2<f32>,
    hidden_gate_grads: Array2<f32>,
    state_grad: Array2<f32>,
    through_hidden: Array2<f32>,
    scratch: Array2<f32>,
    output: Array2<f32>,
    input_grads: Array2<f32>,
}

impl GruLayer {
    /// All weights and biases from U(−1/√H, 1/√H), as PyTorch initialises `nn.GRU`.
    pub fn new(
        name: impl Into<String>,
        input: Shape,
        hidden: usize,
        return_sequence: bool,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, NnError> {
        let name = name.into();
        gru_output(&name, input, hidden, return_sequence)?;
        let (steps, features) = as_sequence(&name, input)?;
        let limit = 1.0 / (hidden as f32).sqrt();
        let mut draw = || rng.random_range(-limit..limit);
        let input_weights = Array2::from_shape_simple_fn((features, 3 * hidden), &mut draw);
        let hidden_weights = Array2::from_shape_simple_fn((hidden, 3 * hidden), &mut draw);
        let input_bias = (0..3 * hidden).map(|_| draw()).collect();
        let hidden_bias = (0..3 * hidden).map(|_| draw()).collect();
        Ok(GruLayer {
            name,
            steps,
            features,
            hidden,
            return_sequence,
            input_weight_grads: Array2::zeros(input_weights.dim()),
            hidden_weight_grads: Array2::zeros(hidden_weights.dim()),
            input_weights,
            hidden_weights,
            input_bias,
            hidden_bias,
            input_bias_grads: vec![0.0; 3 * hidden],
            hidden_bias_grads: vec![0.0; 3 * hidden],
            input: Array2::zeros((0, steps * features)),
            valid: Vec::new(),
            input_gates: Array2::zeros((0, 3 * hidden)),
            hidden_gates: Array2::zeros((0, 3 * hidden)),
            states: Array2::zeros((0, hidden)),
            reset: Array2::zeros((0, hidden)),
            update: Array2::zeros((0, hidden)),
            candidate: Array2::zeros((0, hidden)),
            input_gate_grads: Array2::zeros((0, 3 * hidden)),
            hidden_gate_grads: Array2::zeros((0, 3 * hidden)),
            state_grad: Array2::zeros((0, hidden)),
            through_hidden: Array2::zeros((0, hidden)),
            scratch: Array2::zeros((0, 0)),
            output: Array2::zeros((0, 0)),
            input_grads: Array2::zeros((0, steps * features)),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Features per input row: steps · features.
    pub fn input_width(&self) -> usize {
        self.steps * self.features
    }

    /// True when the output is every step's state rather than the last one.
    pub fn returns_sequence(&self) -> bool {
        self.return_sequence
    }

    pub fn output_width(&self) -> usize {
        if self.return_sequence {
            self.steps * self.hidden
        } else {
            self.hidden
        }
    }

    pub fn output(&self) -> &Array2<f32> {
        &self.output
    }

    pub fn input_grads(&self) -> &Array2<f32> {
        &self.input_grads
    }

    /// Forward pass. x (batch, T·F) → the last state (batch, H), or every state (batch, T·H)
    /// with `return_sequence`. `valid[b]` (default T) says how many of row b's last steps are
    /// real: the earlier ones are padding and leave the state at zero.
    pub fn forward(
        &mut self,
        x: ArrayView2<f32>,
        valid: Option<&[usize]>,
    ) -> Result<&Array2<f32>, NnError> {
        let (t_len, h) = (self.steps, self.hidden);
        let rows = check_input(&self.name, x, t_len * self.features)?;
        self.set_valid(rows, valid)?;
        ensure_shape(&mut self.input, rows, t_len * self.features);
        self.input.assign(&x);
        ensure_shape(&mut self.input_gates, rows * t_len, 3 * h);
        let x_steps = as_view(&self.input, rows * t_len, self.features);
        for row in self.input_gates.rows_mut() {
            for (v, &b) in row.into_iter().zip(&self.input_bias) {
                *v = b;
            }
        }
        general_mat_mul(
            1.0,
            &x_steps,
            &self.input_weights,
            1.0,
            &mut self.input_gates,
        );
        for buffer in [&mut self.reset, &mut self.update, &mut self.candidate] {
            ensure_shape(buffer, t_len * rows, h);
        }
        ensure_shape(&mut self.hidden_gates, t_len * rows, 3 * h);
        ensure_shape(&mut self.states, (t_len + 1) * rows, h);
        flat_mut(&mut self.states)[..rows * h].fill(0.0);
        for t in 0..t_len {
            self.step_forward(t, rows);
        }
        self.write_output(rows);
        Ok(&self.output)
    }

    fn set_valid(&mut self, rows: usize, valid: Option<&[usize]>) -> Result<(), NnError> {
        self.valid.clear();
        match valid {
            None => self.valid.resize(rows, self.steps),
            Some(lengths) if lengths.len() == rows => {
                self.valid
                    .extend(lengths.iter().map(|&l| l.min(self.steps)));
            }
            Some(lengths) => {
                return Err(NnError::InvalidLayer {
                    layer: self.name.clone(),
                    message: format!("{} sequence lengths for {rows} rows", lengths.len()),
                });
            }
        }
        Ok(())
    }

    /// h_{t+1} from h_t for every row; padded (row, step) pairs copy the state.
    fn step_forward(&mut self, t: usize, rows: usize) {
        let (t_len, h) = (self.steps, self.hidden);
        let block = t * rows * h..(t + 1) * rows * h;
        let gate_block = t * rows * 3 * h..(t + 1) * rows * 3 * h;
        let (before, after) = flat_mut(&mut self.states).split_at_mut((t + 1) * rows * h);
        let previous = &before[t * rows * h..];
        let next = &mut after[..rows * h];
        let hidden_gates = &mut flat_mut(&mut self.hidden_gates)[gate_block];
        let hw = flat(&self.hidden_weights);
        dense_forward_rows(previous, hw, &self.hidden_bias, hidden_gates, h, 3 * h);
        let input_gates = flat(&self.input_gates);
        let reset = &mut flat_mut(&mut self.reset)[block.clone()];
        let update = &mut flat_mut(&mut self.update)[block.clone()];
        let candidate = &mut flat_mut(&mut self.candidate)[block];
        for b in 0..rows {
            let span = b * h..(b + 1) * h;
            let (h_prev, h_next) = (&previous[span.clone()], &mut next[span.clone()]);
            if t < t_len - self.valid.get(b).copied().unwrap_or(t_len) {
                h_next.copy_from_slice(h_prev);
                continue;
            }
            let xg = &input_gates[(b * t_len + t) * 3 * h..(b * t_len + t + 1) * 3 * h];
            let hg = &hidden_gates[b * 3 * h..(b + 1) * 3 * h];
            let (r, z, n) = (
                &mut reset[span.clone()],
                &mut update[span.clone()],
                &mut candidate[span],
            );
            for j in 0..h {
                r[j] = sigmoid(xg[j] + hg[j]);
                z[j] = sigmoid(xg[h + j] + hg[h + j]);
                n[j] = (xg[2 * h + j] + r[j] * hg[2 * h + j]).tanh();
                h_next[j] = (1.0 - z[j]) * n[j] + z[j] * h_prev[j];
            }
        }
    }

    fn write_output(&mut self, rows: usize) {
        let (t_len, h) = (self.steps, self.hidden);
        let states = flat(&self.states);
        if self.return_sequence {
            ensure_shape(&mut self.output, rows, t_len * h);
            let out = flat_mut(&mut self.output);
            for b in 0..rows {
                for t in 0..t_len {
                    let from = ((t + 1) * rows + b) * h;
                    out[(b * t_len + t) * h..(b * t_len + t + 1) * h]
                        .copy_from_slice(&states[from..from + h]);
                }
            }
        } else {
            ensure_shape(&mut self.output, rows, h);
            flat_mut(&mut self.output).copy_from_slice(&states[t_len * rows * h..]);
        }
    }

    /// Backward pass through time. grad_out (batch, H) or (batch, T·H) → ∂L/∂x (batch, T·F);
    /// stores the gradients of Wx, Wh, bx and bh summed over every step.
    pub fn backward(&mut self, grad_out: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        self.backward_inner(grad_out, true)?;
        Ok(&self.input_grads)
    }

    /// Parameter gradients only (the first layer of a model).
    pub fn backward_params_only(&mut self, grad_out: ArrayView2<f32>) -> Result<(), NnError> {
        self.backward_inner(grad_out, false)
    }

    fn backward_inner(
        &mut self,
        grad_out: ArrayView2<f32>,
        need_input: bool,
    ) -> Result<(), NnError> {
        check_gradient(&self.name, grad_out, self.output.dim())?;
        let (t_len, h) = (self.steps, self.hidden);
        let rows = self.output.nrows();
        ensure_shape(&mut self.input_gate_grads, rows * t_len, 3 * h);
        ensure_shape(&mut self.hidden_gate_grads, t_len * rows, 3 * h);
        ensure_shape(&mut self.state_grad, rows, h);
        ensure_shape(&mut self.through_hidden, rows, h);
        let grads = contiguous_rows(grad_out, &mut self.scratch);
        let state_grad = flat_mut(&mut self.state_grad);
        if self.return_sequence {
            state_grad.fill(0.0);
        } else {
            state_grad.copy_from_slice(grads);
        }
        for t in (0..t_len).rev() {
            if self.return_sequence {
                for (b, dh) in state_grad.chunks_exact_mut(h).enumerate() {
                    let from = &grads[(b * t_len + t) * h..(b * t_len + t + 1) * h];
                    for (d, &g) in dh.iter_mut().zip(from) {
                        *d += g;
                    }
                }
            }
            step_backward(StepBackward {
                t,
                rows,
                t_len,
                h,
                valid: &self.valid,
                states: flat(&self.states),
                hidden_gates: flat(&self.hidden_gates),
                reset: flat(&self.reset),
                update: flat(&self.update),
                candidate: flat(&self.candidate),
                hidden_weights: flat(&self.hidden_weights),
                input_gate_grads: flat_mut(&mut self.input_gate_grads),
                hidden_gate_grads: flat_mut(&mut self.hidden_gate_grads),
                state_grad,
                through_hidden: flat_mut(&mut self.through_hidden),
            });
        }
        let previous_states = self.states.slice(s![..t_len * rows, ..]);
        general_mat_mul(
            1.0,
            &previous_states.t(),
            &self.hidden_gate_grads,
            0.0,
            &mut self.hidden_weight_grads,
        );
        column_sums(
            flat(&self.hidden_gate_grads),
            &mut self.hidden_bias_grads,
            3 * h,
        );
        let x_steps = as_view(&self.input, rows * t_len, self.features);
        general_mat_mul(
            1.0,
            &x_steps.t(),
            &self.input_gate_grads,
            0.0,
            &mut self.input_weight_grads,
        );
        column_sums(
            flat(&self.input_gate_grads),
            &mut self.input_bias_grads,
            3 * h,
        );
        if need_input {
            ensure_shape(&mut self.input_grads, rows, t_len * self.features);
            let mut dx = as_view_mut(&mut self.input_grads, rows * t_len, self.features);
            general_mat_mul(
                1.0,
                &self.input_gate_grads,
                &self.input_weights.t(),
                0.0,
                &mut dx,
            );
        }
        Ok(())
    }

    pub(crate) fn params(&self) -> [ParamRef<'_>; 4] {
        [
            ParamRef {
                name: "input_weights",
                value: flat(&self.input_weights),
                grad: flat(&self.input_weight_grads),
            },
            ParamRef {
                name: "hidden_weights",
                value: flat(&self.hidden_weights),
                grad: flat(&self.hidden_weight_grads),
            },
            ParamRef {
                name: "input_bias",
                value: &self.input_bias,
                grad: &self.input_bias_grads,
            },
            ParamRef {
                name: "hidden_bias",
                value: &self.hidden_bias,
                grad: &self.hidden_bias_grads,
            },
        ]
    }

    pub(crate) fn params_mut(&mut self) -> [ParamMut<'_>; 4] {
        [
            ParamMut::dense(
                flat_mut(&mut self.input_weights),
                flat_mut(&mut self.input_weight_grads),
            ),
            ParamMut::dense(
                flat_mut(&mut self.hidden_weights),
                flat_mut(&mut self.hidden_weight_grads),
            ),
            ParamMut::dense(&mut self.input_bias, &mut self.input_bias_grads),
            ParamMut::dense(&mut self.hidden_bias, &mut self.hidden_bias_grads),
        ]
    }
}

/// What one backward step reads and writes.
struct StepBackward<'a> {
    t: usize,
    rows: usize,
    t_len: usize,
    h: usize,
    valid: &'a [usize],
    states: &'a [f32],
    hidden_gates: &'a [f32],
    reset: &'a [f32],
    update: &'a [f32],
    candidate: &'a [f32],
    hidden_weights: &'a [f32],
    input_gate_grads: &'a mut [f32],
    hidden_gate_grads: &'a mut [f32],
    /// ∂L/∂h_{t+1} on entry, ∂L/∂h_t on return.
    state_grad: &'a mut [f32],
    through_hidden: &'a mut [f32],
}

/// One step of back-propagation through time (gate derivatives of the forward equations).
fn step_backward(step: StepBackward<'_>) {
    let StepBackward {
        t,
        rows,
        t_len,
        h,
        valid,
        states,
        hidden_gates,
        reset,
        update,
        candidate,
        hidden_weights,
        input_gate_grads,
        hidden_gate_grads,
        state_grad,
        through_hidden,
    } = step;
    let block = t * rows * h;
    let dhg_block = &mut hidden_gate_grads[t * rows * 3 * h..(t + 1) * rows * 3 * h];
    for b in 0..rows {
        let at = block + b * h;
        let dxg = &mut input_gate_grads[(b * t_len + t) * 3 * h..(b * t_len + t + 1) * 3 * h];
        let dhg = &mut dhg_block[b * 3 * h..(b + 1) * 3 * h];
        let dh = &mut state_grad[b * h..(b + 1) * h];
        if t < t_len - valid.get(b).copied().unwrap_or(t_len) {
            // Padding: h_{t+1} = h_t, so ∂L/∂h_t = ∂L/∂h_{t+1} and the gates get nothing.
            dxg.fill(0.0);
            dhg.fill(0.0);
            continue;
        }
        let h_prev = &states[at..at + h];
        let hg = &hidden_gates[(t * rows + b) * 3 * h..(t * rows + b + 1) * 3 * h];
        let (r, z, n) = (
            &reset[at..at + h],
            &update[at..at + h],
            &candidate[at..at + h],
        );
        for j in 0..h {
            let g = dh[j];
            let dn = g * (1.0 - z[j]);
            let dz = g * (h_prev[j] - n[j]);
            let dn_pre = dn * (1.0 - n[j] * n[j]);
            let dr = dn_pre * hg[2 * h + j];
            let dr_pre = dr * r[j] * (1.0 - r[j]);
            let dz_pre = dz * z[j] * (1.0 - z[j]);
            dxg[j] = dr_pre;
            dxg[h + j] = dz_pre;
            dxg[2 * h + j] = dn_pre;
            dhg[j] = dr_pre;
            dhg[h + j] = dz_pre;
            dhg[2 * h + j] = dn_pre * r[j];
            dh[j] = g * z[j];
        }
    }
    // ∂L/∂h_t = (direct part, already in state_grad) + ∂L/∂(hidden gates) · Whᵀ.
    dense_input_grads_rows(dhg_block, hidden_weights, through_hidden, h, 3 * h);
    for (d, &v) in state_grad.iter_mut().zip(through_hidden.iter()) {
        *d += v;
    }
}

fn as_view(buffer: &Array2<f32>, rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    match ArrayView2::from_shape((rows, cols), flat(buffer)) {
        Ok(view) => view,
        Err(_) => unreachable!("the buffer holds rows·cols numbers"),
    }
}

fn as_view_mut(
    buffer: &mut Array2<f32>,
    rows: usize,
    cols: usize,
) -> ndarray::ArrayViewMut2<'_, f32> {
    super::conv1d::as_matrix_mut(buffer, rows, cols)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::init::layer_rng;

    fn gru(steps: usize, features: usize, hidden: usize, sequence: bool) -> GruLayer {
        let input = Shape::Sequence { steps, features };
        GruLayer::new("gru", input, hidden, sequence, &mut layer_rng(1, 0)).unwrap()
    }

    #[test]
    fn one_step_matches_the_gate_equations_by_hand() {
        let mut layer = gru(1, 1, 1, false);
        layer.input_weights = ndarray::array![[0.5, -1.0, 2.0]];
        layer.hidden_weights = ndarray::array![[1.0, 1.0, 1.0]];
        layer.input_bias = vec![0.1, 0.2, 0.3];
        layer.hidden_bias = vec![0.0, 0.0, 0.5];
        let y = layer.forward(ndarray::array![[2.0]].view(), None).unwrap()[[0, 0]];
        // h = 0: r = σ(1.1), z = σ(−1.8), n = tanh(4.3 + r·0.5), h' = (1 − z)·n.
        let r = sigmoid(1.1);
        let z = sigmoid(-1.8);
        let n = (4.3 + r * 0.5).tanh();
        assert!((y - (1.0 - z) * n).abs() < 1e-6, "{y}");
    }

    #[test]
    fn left_padding_is_skipped_so_a_padded_row_equals_the_short_one() {
        let mut long = gru(5, 2, 3, false);
        let mut short = long.clone();
        short.steps = 2;
        let padded = ndarray::array![[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4, -0.2, 1.0, 0.3]];
        let y_long = long.forward(padded.view(), Some(&[2])).unwrap().clone();
        let tail = ndarray::array![[0.4, -0.2, 1.0, 0.3]];
        let y_short = short.forward(tail.view(), None).unwrap().clone();
        assert_eq!(y_long, y_short);
        // Without the mask the zeros change the state.
        let unmasked = long.forward(padded.view(), None).unwrap().clone();
        assert_ne!(unmasked, y_short);
    }

    #[test]
    fn sequences_of_states_hold_every_step_and_end_with_the_last_state() {
        let mut seq = gru(3, 1, 2, true);
        let mut last = seq.clone();
        last.return_sequence = false;
        let x = ndarray::array![[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]];
        let all = seq.forward(x.view(), None).unwrap().clone();
        let end = last.forward(x.view(), None).unwrap().clone();
        assert_eq!(all.dim(), (2, 6));
        assert_eq!(all.slice(s![.., 4..]), end);
    }

    #[test]
    fn parameter_count_matches_pytorch() {
        // torch.nn.GRU(3, 8): 3·8·3 + 3·8·8 + 2·3·8 = 72 + 192 + 48 = 312.
        assert_eq!(gru_param_count(3, 8), 312);
        let layer = gru(4, 3, 8, false);
        let total: usize = layer.params().iter().map(|p| p.value.len()).sum();
        assert_eq!(total, 312);
    }
}
