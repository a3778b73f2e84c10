//! Label kinds (class indices, one-hot rows, regression values), borrowed as `Targets` by the
//! losses and owned as `Labels` by data sets, plus a reusable mini-batch buffer.
//! Validates indices instead of panicking; never computes a loss itself.

use ndarray::{Array2, ArrayView2};

use super::error::NnError;
use super::kernels::{ensure_shape, flat_mut};

/// Borrowed targets for one batch; row r belongs to row r of the input.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a> {
    /// One class index per row (cross-entropy; binary cross-entropy with one output and 0/1).
    Classes(&'a [usize]),
    /// (batch, classes) rows of class probabilities, usually one-hot (cross-entropy).
    OneHot(ArrayView2<'a, f32>),
    /// (batch, outputs) real targets (MSE; binary cross-entropy with values in [0, 1]).
    Values(ArrayView2<'a, f32>),
}

impl Targets<'_> {
    pub fn rows(&self) -> usize {
        match self {
            Targets::Classes(labels) => labels.len(),
            Targets::OneHot(t) | Targets::Values(t) => t.nrows(),
        }
    }

    /// Name of the kind for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Targets::Classes(_) => "class-label",
            Targets::OneHot(_) => "one-hot",
            Targets::Values(_) => "value",
        }
    }
}

/// Owned targets of a whole data set or batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels {
    Classes(Vec<usize>),
    OneHot(Array2<f32>),
    Values(Array2<f32>),
}

impl Labels {
    /// One-hot rows (len, classes) for class indices; a label ≥ `classes` is an error.
    pub fn one_hot(labels: &[usize], classes: usize) -> Result<Labels, NnError> {
        let mut rows = Array2::zeros((labels.len(), classes));
        for (row, (mut out, &label)) in rows.rows_mut().into_iter().zip(labels).enumerate() {
            let Some(cell) = out.get_mut(label) else {
                return Err(NnError::LabelOutOfRange {
                    row,
                    label,
                    classes,
                });
            };
            *cell = 1.0;
        }
        Ok(Labels::OneHot(rows))
    }

    pub fn as_targets(&self) -> Targets<'_> {
        match self {
            Labels::Classes(labels) => Targets::Classes(labels),
            Labels::OneHot(t) => Targets::OneHot(t.view()),
            Labels::Values(t) => Targets::Values(t.view()),
        }
    }

    pub fn len(&self) -> usize {
        self.as_targets().rows()
    }

    /// The class of row `row` (its index, or the hottest column of a one-hot row); `None` for
    /// regression values or a row out of range.
    pub fn class_of(&self, row: usize) -> Option<usize> {
        match self {
            Labels::Classes(labels) => labels.get(row).copied(),
            Labels::OneHot(t) => (row < t.nrows()).then(|| {
                t.row(row)
                    .iter()
                    .copied()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (i, v)| {
                        if v > best.1 { (i, v) } else { best }
                    })
                    .0
            }),
            Labels::Values(_) => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows `indices`, in that order, as new labels.
    pub fn select(&self, indices: &[usize]) -> Result<Labels, NnError> {
        let mut out = match self {
            Labels::Classes(_) => Labels::Classes(Vec::new()),
            Labels::OneHot(_) => Labels::OneHot(Array2::zeros((0, 0))),
            Labels::Values(_) => Labels::Values(Array2::zeros((0, 0))),
        };
        self.select_into(indices, &mut out)?;
        Ok(out)
    }

    /// Copies the rows `indices` into `out`, reusing its allocation when the kinds match.
    pub fn select_into(&self, indices: &[usize], out: &mut Labels) -> Result<(), NnError> {
        match (self, &mut *out) {
            (Labels::Classes(src), Labels::Classes(dst)) => {
                dst.clear();
                for &i in indices {
                    let Some(&label) = src.get(i) else {
                        return Err(row_out_of_range(i, src.len()));
                    };
                    dst.push(label);
                }
                Ok(())
            }
            (Labels::OneHot(src), Labels::OneHot(dst))
            | (Labels::Values(src), Labels::Values(dst)) => {
                select_rows_into(src.view(), indices, dst)
            }
            (src, dst) => {
                *dst = match src {
                    Labels::Classes(_) => Labels::Classes(Vec::new()),
                    Labels::OneHot(_) => Labels::OneHot(Array2::zeros((0, 0))),
                    Labels::Values(_) => Labels::Values(Array2::zeros((0, 0))),
                };
                self.select_into(indices, dst)
            }
        }
    }
}

/// A reusable mini-batch: inputs (batch, features) and their labels.
#[derive(Clone, Debug)]
pub struct Batch {
    pub x: Array2<f32>,
    pub y: Labels,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            x: Array2::zeros((0, 0)),
            y: Labels::Classes(Vec::new()),
        }
    }
}

impl Batch {
    /// Copies rows `indices` of `x` and `y` into this batch; allocates only when the batch
    /// size or label kind changes.
    pub fn fill(
        &mut self,
        x: ArrayView2<f32>,
        y: &Labels,
        indices: &[usize],
    ) -> Result<(), NnError> {
        if x.nrows() != y.len() {
            return Err(NnError::TargetShape(format!(
                "{} input rows but {} labels",
                x.nrows(),
                y.len()
            )));
        }
        select_rows_into(x, indices, &mut self.x)?;
        y.select_into(indices, &mut self.y)
    }
}

/// dst = the rows `indices` of `src` (len(indices), cols).
pub fn select_rows_into(
    src: ArrayView2<f32>,
    indices: &[usize],
    dst: &mut Array2<f32>,
) -> Result<(), NnError> {
    let (rows, cols) = src.dim();
    ensure_shape(dst, indices.len(), cols);
    if cols == 0 {
        return Ok(());
    }
    for (&i, dst_row) in indices.iter().zip(flat_mut(dst).chunks_exact_mut(cols)) {
        if i >= rows {
            return Err(row_out_of_range(i, rows));
        }
        let src_row = src.row(i);
        match src_row.as_slice() {
            Some(s) => dst_row.copy_from_slice(s),
            None => {
                for (d, &s) in dst_row.iter_mut().zip(src_row.iter()) {
                    *d = s;
                }
            }
        }
    }
    Ok(())
}

fn row_out_of_range(index: usize, rows: usize) -> NnError {
    NnError::TargetShape(format!("row index {index} is outside the {rows} rows"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn one_hot_rejects_labels_outside_the_classes() {
        let err = Labels::one_hot(&[0, 3, 1], 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label 3 in row 1 is outside the 3 classes (0..3)"
        );
        let ok = Labels::one_hot(&[2, 0], 3).unwrap();
        assert_eq!(ok, Labels::OneHot(array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]));
    }

    #[test]
    fn batch_fill_copies_the_chosen_rows_in_order() {
        let x = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let y = Labels::Classes(vec![7, 8, 9]);
        let mut batch = Batch::default();
        batch.fill(x.view(), &y, &[2, 0]).unwrap();
        assert_eq!(batch.x, array![[5.0, 6.0], [1.0, 2.0]]);
        assert_eq!(batch.y, Labels::Classes(vec![9, 7]));
        assert!(batch.fill(x.view(), &y, &[3]).is_err());
    }
}
