//! Layers with two inputs that join the branches of a model (two towers of a recommender):
//! the row-wise dot product and the concatenation, forward and backward side by side.
//! Each keeps one gradient buffer per input; nothing allocates unless the batch size changes.

use ndarray::{Array2, ArrayView2, Zip};

use super::conv2d::check_gradient;
use super::error::NnError;
use super::kernels::{dot, ensure_shape, flat_mut};
use super::layout::Shape;

/// How two inputs are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// y = Σ_j a_j · b_j per row: (batch, d) and (batch, d) → (batch, 1).
    Dot,
    /// y = [a, b] per row: (batch, m) and (batch, n) → (batch, m + n).
    Concat,
}

impl Combine {
    /// Output shape for inputs `a` and `b`, or an error naming `layer`.
    pub fn output_shape(self, layer: &str, a: Shape, b: Shape) -> Result<Shape, NnError> {
        let invalid = |message: String| NnError::InvalidLayer {
            layer: layer.to_string(),
            message,
        };
        match self {
            Combine::Dot if a.len() != b.len() => Err(invalid(format!(
                "the dot product needs inputs of one size, got {a} and {b}"
            ))),
            Combine::Dot => Ok(Shape::Flat(1)),
            Combine::Concat => match (a, b) {
                (Shape::Flat(m), Shape::Flat(n)) => Ok(Shape::Flat(m + n)),
                _ => Err(invalid(format!(
                    "joins flat features, got {a} and {b}; add a Flatten layer before it"
                ))),
            },
        }
    }
}

/// A two-input layer.
#[derive(Clone, Debug)]
pub struct CombineLayer {
    name: String,
    combine: Combine,
    widths: (usize, usize),
    first: Array2<f32>,
    second: Array2<f32>,
    output: Array2<f32>,
    first_grads: Array2<f32>,
    second_grads: Array2<f32>,
}

impl CombineLayer {
    pub fn new(name: impl Into<String>, combine: Combine, widths: (usize, usize)) -> Self {
        let out = match combine {
            Combine::Dot => 1,
            Combine::Concat => widths.0 + widths.1,
        };
        CombineLayer {
            name: name.into(),
            combine,
            widths,
            first: Array2::zeros((0, widths.0)),
            second: Array2::zeros((0, widths.1)),
            output: Array2::zeros((0, out)),
            first_grads: Array2::zeros((0, widths.0)),
            second_grads: Array2::zeros((0, widths.1)),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn combine(&self) -> Combine {
        self.combine
    }

    /// Widths of the two inputs.
    pub fn input_widths(&self) -> (usize, usize) {
        self.widths
    }

    pub fn output_width(&self) -> usize {
        self.output.ncols()
    }

    pub fn output(&self) -> &Array2<f32> {
        &self.output
    }

    /// ∂L/∂a (slot 0) or ∂L/∂b (slot 1) of the last backward pass.
    pub fn input_grads(&self, slot: usize) -> &Array2<f32> {
        if slot == 0 {
            &self.first_grads
        } else {
            &self.second_grads
        }
    }

    /// Forward pass. a (batch, m), b (batch, n) → (batch, 1) for Dot, (batch, m + n) for Concat.
    pub fn forward(
        &mut self,
        a: ArrayView2<f32>,
        b: ArrayView2<f32>,
    ) -> Result<&Array2<f32>, NnError> {
        let rows = a.nrows();
        for (x, width) in [(a, self.widths.0), (b, self.widths.1)] {
            if x.ncols() != width {
                return Err(NnError::InputWidth {
                    layer: self.name.clone(),
                    expected: width,
                    got: x.ncols(),
                });
            }
        }
        if rows == 0 || b.nrows() != rows {
            return Err(NnError::InvalidLayer {
                layer: self.name.clone(),
                message: format!("its inputs have {rows} and {} rows", b.nrows()),
            });
        }
        ensure_shape(&mut self.first, rows, self.widths.0);
        ensure_shape(&mut self.second, rows, self.widths.1);
        self.first.assign(&a);
        self.second.assign(&b);
        let out_width = self.output.ncols();
        ensure_shape(&mut self.output, rows, out_width);
        match self.combine {
            Combine::Dot => {
                for ((o, a), b) in flat_mut(&mut self.output)
                    .iter_mut()
                    .zip(self.first.rows())
                    .zip(self.second.rows())
                {
                    *o = match (a.as_slice(), b.as_slice()) {
                        (Some(a), Some(b)) => dot(a, b),
                        _ => a.dot(&b),
                    };
                }
            }
            Combine::Concat => {
                let m = self.widths.0;
                self.output
                    .slice_mut(ndarray::s![.., ..m])
                    .assign(&self.first);
                self.output
                    .slice_mut(ndarray::s![.., m..])
                    .assign(&self.second);
            }
        }
        Ok(&self.output)
    }

    /// Backward pass. grad_out (batch, out) → ∂L/∂a and ∂L/∂b, read with
    /// [`CombineLayer::input_grads`]; for Dot ∂L/∂a = g·b and ∂L/∂b = g·a per row.
    pub fn backward(&mut self, grad_out: ArrayView2<f32>) -> Result<(), NnError> {
        check_gradient(&self.name, grad_out, self.output.dim())?;
        let rows = grad_out.nrows();
        ensure_shape(&mut self.first_grads, rows, self.widths.0);
        ensure_shape(&mut self.second_grads, rows, self.widths.1);
        match self.combine {
            Combine::Dot => {
                let g = grad_out.column(0);
                Zip::from(self.first_grads.rows_mut())
                    .and(self.second.rows())
                    .and(&g)
                    .for_each(|mut da, b, &g| da.zip_mut_with(&b, |d, &b| *d = g * b));
                Zip::from(self.second_grads.rows_mut())
                    .and(self.first.rows())
                    .and(&g)
                    .for_each(|mut db, a, &g| db.zip_mut_with(&a, |d, &a| *d = g * a));
            }
            Combine::Concat => {
                let m = self.widths.0;
                self.first_grads
                    .assign(&grad_out.slice(ndarray::s![.., ..m]));
                self.second_grads
                    .assign(&grad_out.slice(ndarray::s![.., m..]));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn dot_multiplies_rows_and_sends_each_input_the_other_times_the_gradient() {
        let mut dot = CombineLayer::new("dot", Combine::Dot, (2, 2));
        let a = array![[1.0, 2.0], [0.5, -1.0]];
        let b = array![[3.0, 4.0], [2.0, 2.0]];
        assert_eq!(
            dot.forward(a.view(), b.view()).unwrap(),
            &array![[11.0], [-1.0]]
        );
        dot.backward(array![[1.0], [2.0]].view()).unwrap();
        assert_eq!(dot.input_grads(0), &array![[3.0, 4.0], [4.0, 4.0]]);
        assert_eq!(dot.input_grads(1), &array![[1.0, 2.0], [1.0, -2.0]]);
    }

    #[test]
    fn concat_puts_the_inputs_side_by_side_and_splits_the_gradient() {
        let mut cat = CombineLayer::new("cat", Combine::Concat, (1, 2));
        let y = cat
            .forward(array![[1.0]].view(), array![[2.0, 3.0]].view())
            .unwrap();
        assert_eq!(y, &array![[1.0, 2.0, 3.0]]);
        cat.backward(array![[4.0, 5.0, 6.0]].view()).unwrap();
        assert_eq!(cat.input_grads(0), &array![[4.0]]);
        assert_eq!(cat.input_grads(1), &array![[5.0, 6.0]]);
    }

    #[test]
    fn shapes_that_cannot_be_joined_are_errors_naming_the_layer() {
        let err = Combine::Dot
            .output_shape("score", Shape::Flat(8), Shape::Flat(4))
            .unwrap_err();
        assert!(
            err.to_string().starts_with("score: the dot product needs"),
            "{err}"
        );
        let image = Shape::Image {
            channels: 1,
            height: 2,
            width: 2,
        };
        assert!(
            Combine::Concat
                .output_shape("c", image, Shape::Flat(1))
                .is_err()
        );
        assert_eq!(
            Combine::Concat
                .output_shape("c", Shape::Flat(3), Shape::Flat(1))
                .unwrap(),
            Shape::Flat(4)
        );
    }
}
