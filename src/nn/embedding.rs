//! Embedding tables: integer ids → learned vectors, forward (a row gather) and backward (a
//! scatter-add into the rows seen) side by side. The gradient is sparse: the layer lists the
//! rows it touched and the optimizer updates only those (a lazy update, as SparseAdam).

use ndarray::{Array2, ArrayView2};
use rand_chacha::ChaCha8Rng;

use super::conv2d::{check_gradient, check_input};
use super::error::NnError;
use super::init::standard_normal;
use super::kernels::{contiguous_rows, ensure_shape, flat, flat_mut};
use super::layer::{ParamMut, ParamRef, SparseRows};
use super::layout::Shape;

/// Output shape of an embedding of `vocab` ids into `dim` values over `input`: one id per row
/// gives a flat vector, several give a sequence of vectors.
pub fn embedding_output(
    layer: &str,
    input: Shape,
    vocab: usize,
    dim: usize,
) -> Result<Shape, NnError> {
    let invalid = |message: String| NnError::InvalidLayer {
        layer: layer.to_string(),
        message,
    };
    if vocab == 0 || dim == 0 {
        return Err(invalid(format!(
            "needs a vocabulary and a dimension ≥ 1, got {vocab} and {dim}"
        )));
    }
    match input {
        Shape::Flat(1) => Ok(Shape::Flat(dim)),
        Shape::Flat(ids)
        | Shape::Sequence {
            steps: ids,
            features: 1,
        } if ids > 0 => Ok(Shape::Sequence {
            steps: ids,
            features: dim,
        }),
        other => Err(invalid(format!(
            "reads ids, one per feature or step, but its input is {other}"
        ))),
    }
}

/// A (vocab, dim) table; row i is the vector of id i.
#[derive(Clone, Debug)]
pub struct EmbeddingLayer {
    name: String,
    ids_per_row: usize,
    table: Array2<f32>,
    table_grads: Array2<f32>,
    /// Ids of the last forward pass, row-major (batch · ids_per_row).
    ids: Vec<usize>,
    /// Rows of `table_grads` that hold a non-zero gradient, sorted; all others are zero.
    touched: Vec<usize>,
    scratch: Array2<f32>,
    output: Array2<f32>,
    /// Ids have no gradient; kept empty.
    input_grads: Array2<f32>,
}

impl EmbeddingLayer {
    /// Vectors drawn from N(0, 1/dim), so that a vector's norm starts near 1 (PyTorch draws
    /// N(0, 1), which makes the dot product of two 32-value vectors start with σ ≈ 5.7).
    pub fn new(
        name: impl Into<String>,
        ids_per_row: usize,
        vocab: usize,
        dim: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, NnError> {
        let std_dev = 1.0 / (dim.max(1) as f64).sqrt();
        let table =
            Array2::from_shape_simple_fn((vocab, dim), || (standard_normal(rng) * std_dev) as f32);
        Self::from_table(name, ids_per_row, table)
    }

    /// A layer with a given (vocab, dim) table.
    pub fn from_table(
        name: impl Into<String>,
        ids_per_row: usize,
        table: Array2<f32>,
    ) -> Result<Self, NnError> {
        let name = name.into();
        let (vocab, dim) = table.dim();
        embedding_output(&name, Shape::Flat(ids_per_row), vocab, dim)?;
        Ok(EmbeddingLayer {
            name,
            ids_per_row,
            table_grads: Array2::zeros((vocab, dim)),
            table: table.as_standard_layout().into_owned(),
            ids: Vec::new(),
            touched: Vec::new(),
            scratch: Array2::zeros((0, 0)),
            output: Array2::zeros((0, ids_per_row * dim)),
            input_grads: Array2::zeros((0, ids_per_row)),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn ids_per_row(&self) -> usize {
        self.ids_per_row
    }

    pub fn vocab(&self) -> usize {
        self.table.nrows()
    }

    pub fn dim(&self) -> usize {
        self.table.ncols()
    }

    /// The table (vocab, dim).
    pub fn table(&self) -> &Array2<f32> {
        &self.table
    }

    pub fn output(&self) -> &Array2<f32> {
        &self.output
    }

    pub fn input_grads(&self) -> &Array2<f32> {
        &self.input_grads
    }

    /// Rows with a gradient after the last backward pass, sorted.
    pub fn touched_rows(&self) -> &[usize] {
        &self.touched
    }

    /// Forward pass. ids (batch, n), each a whole number in 0..vocab → (batch, n·dim), the
    /// vectors of the ids side by side. A bad id is an error naming the row.
    pub fn forward(&mut self, x: ArrayView2<f32>) -> Result<&Array2<f32>, NnError> {
        let rows = check_input(&self.name, x, self.ids_per_row)?;
        let vocab = self.vocab();
        let values = contiguous_rows(x, &mut self.scratch);
        self.ids.clear();
        for (position, &value) in values.iter().enumerate() {
            let id = value as usize;
            if !(value >= 0.0 && value.fract() == 0.0 && id < vocab) {
                return Err(NnError::IdOutOfRange {
                    layer: self.name.clone(),
                    row: position / self.ids_per_row,
                    value,
                    vocab,
                });
            }
            self.ids.push(id);
        }
        let dim = self.dim();
        ensure_shape(&mut self.output, rows, self.ids_per_row * dim);
        let table_rows = flat(&self.table);
        for (out, &id) in flat_mut(&mut self.output)
            .chunks_exact_mut(dim)
            .zip(&self.ids)
        {
            out.copy_from_slice(&table_rows[id * dim..(id + 1) * dim]);
        }
        Ok(&self.output)
    }

    /// Backward pass. grad_out (batch, n·dim) → ∂L/∂table, non-zero only in the rows of the
    /// ids seen: row i gets the sum of the gradients of every place id i appeared. Ids have no
    /// gradient, so nothing is passed back.
    pub fn backward(&mut self, grad_out: ArrayView2<f32>) -> Result<(), NnError> {
        check_gradient(&self.name, grad_out, self.output.dim())?;
        let dim = self.dim();
        let grads_table = flat_mut(&mut self.table_grads);
        for &row in &self.touched {
            grads_table[row * dim..(row + 1) * dim].fill(0.0);
        }
        let grads = contiguous_rows(grad_out, &mut self.scratch);
        for (g, &id) in grads.chunks_exact(dim).zip(&self.ids) {
            for (t, &v) in grads_table[id * dim..(id + 1) * dim].iter_mut().zip(g) {
                *t += v;
            }
        }
        self.touched.clear();
        self.touched.extend_from_slice(&self.ids);
        self.touched.sort_unstable();
        self.touched.dedup();
        self.keep_non_zero_rows();
        Ok(())
    }

    /// Re-derives the touched rows after the gradients were replaced from outside (merged
    /// across data-parallel replicas): every row with a non-zero gradient.
    pub(crate) fn refresh_touched_rows(&mut self) {
        self.touched.clear();
        self.touched.extend(0..self.vocab());
        self.keep_non_zero_rows();
    }

    /// Drops touched rows whose gradient is all zero, so that a replica that learns the rows
    /// from the merged gradients and a single model that saw the ids update the same rows.
    fn keep_non_zero_rows(&mut self) {
        let dim = self.dim();
        let grads = flat(&self.table_grads);
        self.touched
            .retain(|&row| grads[row * dim..(row + 1) * dim].iter().any(|&g| g != 0.0));
    }

    pub(crate) fn params(&self) -> [ParamRef<'_>; 1] {
        [ParamRef {
            name: "table",
            value: flat(&self.table),
            grad: flat(&self.table_grads),
        }]
    }

    pub(crate) fn params_mut(&mut self) -> [ParamMut<'_>; 1] {
        let width = self.dim();
        [ParamMut {
            value: flat_mut(&mut self.table),
            grad: flat_mut(&mut self.table_grads),
            rows: Some(SparseRows {
                rows: &self.touched,
                width,
            }),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn layer(ids_per_row: usize) -> EmbeddingLayer {
        let table = array![[0.0, 1.0], [10.0, 11.0], [20.0, 21.0], [30.0, 31.0]];
        EmbeddingLayer::from_table("emb", ids_per_row, table).unwrap()
    }

    #[test]
    fn ids_select_rows_of_the_table() {
        let mut emb = layer(2);
        let y = emb.forward(array![[2.0, 0.0], [3.0, 3.0]].view()).unwrap();
        assert_eq!(y, &array![[20.0, 21.0, 0.0, 1.0], [30.0, 31.0, 30.0, 31.0]]);
    }

    #[test]
    fn gradients_land_only_in_the_rows_seen_and_repeats_add_up() {
        let mut emb = layer(2);
        emb.forward(array![[2.0, 0.0], [3.0, 3.0]].view()).unwrap();
        emb.backward(array![[1.0, 2.0, 3.0, 4.0], [0.5, 0.5, 1.0, 1.0]].view())
            .unwrap();
        assert_eq!(emb.touched_rows(), &[0, 2, 3]);
        let grads = emb.params()[0].grad.to_vec();
        assert_eq!(grads, vec![3.0, 4.0, 0.0, 0.0, 1.0, 2.0, 1.5, 1.5]);
        // A second batch clears the rows of the first.
        emb.forward(array![[1.0, 1.0]].view()).unwrap();
        emb.backward(array![[1.0, 1.0, 1.0, 1.0]].view()).unwrap();
        assert_eq!(emb.touched_rows(), &[1]);
        let grads = emb.params()[0].grad.to_vec();
        assert_eq!(grads, vec![0.0, 0.0, 2.0, 2.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn an_id_outside_the_vocabulary_names_the_row() {
        let mut emb = layer(1);
        let err = emb.forward(array![[1.0], [4.0]].view()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "emb: id 4 in row 1 is not a whole number in 0..3 (the vocabulary has 4 ids)"
        );
        assert!(emb.forward(array![[1.5]].view()).is_err());
        assert!(emb.forward(array![[-1.0]].view()).is_err());
        assert!(emb.forward(array![[f32::NAN]].view()).is_err());
    }

    #[test]
    fn one_id_gives_a_vector_and_several_a_sequence() {
        assert_eq!(
            embedding_output("e", Shape::Flat(1), 10, 4).unwrap(),
            Shape::Flat(4)
        );
        assert_eq!(
            embedding_output("e", Shape::Flat(3), 10, 4).unwrap(),
            Shape::Sequence {
                steps: 3,
                features: 4
            }
        );
        assert!(embedding_output("e", Shape::Flat(3), 0, 4).is_err());
    }
}
