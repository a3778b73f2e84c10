//! Seeded example data sets (two moons, spirals, XOR, a noisy regression) and the digits CSV
//! loader, with a seeded train/test split. Pure functions of their arguments: the only I/O is
//! reading the digits file, and every bad input comes back as a `DatasetError`.

mod digits;
mod synthetic;

use std::path::PathBuf;

use ndarray::Array2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::nn::{Labels, NnError};

pub use digits::{load_digits_csv, parse_digits_csv};
pub use synthetic::{moons, regression, spiral, xor};

/// Problems reading or splitting a data set.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{source_name}: bad header: {message}")]
    BadHeader {
        source_name: String,
        message: String,
    },
    /// `line` counts lines of the file (the header is line 1), `row` data rows from 1.
    #[error("{source_name} line {line} (data row {row}): {message}")]
    BadRow {
        source_name: String,
        line: u64,
        row: u64,
        message: String,
    },
    #[error("{0}")]
    InvalidArgument(String),
    #[error(transparent)]
    Nn(#[from] NnError),
}

/// Features, labels and names of a data set held in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub name: String,
    /// (rows, features).
    pub x: Array2<f32>,
    /// Class labels for classification, (rows, outputs) values for regression.
    pub y: Labels,
    pub feature_names: Vec<String>,
    /// Number of classes (0 for regression).
    pub class_count: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.x.nrows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn feature_count(&self) -> usize {
        self.x.ncols()
    }

    /// The class labels, if this is a classification data set.
    pub fn class_labels(&self) -> Option<&[usize]> {
        match &self.y {
            Labels::Classes(labels) => Some(labels),
            Labels::OneHot(_) | Labels::Values(_) => None,
        }
    }

    /// The rows `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Result<Dataset, DatasetError> {
        let mut x = Array2::zeros((0, 0));
        crate::nn::targets::select_rows_into(self.x.view(), indices, &mut x)?;
        Ok(Dataset {
            name: self.name.clone(),
            x,
            y: self.y.select(indices)?,
            feature_names: self.feature_names.clone(),
            class_count: self.class_count,
        })
    }

    /// Shuffles the rows with `seed` and puts round(len·train_ratio) of them in the first
    /// (training) set and the rest in the second (test) set. Both sets must be non-empty.
    pub fn split(&self, train_ratio: f64, seed: u64) -> Result<(Dataset, Dataset), DatasetError> {
        if !(train_ratio > 0.0 && train_ratio < 1.0) {
            return Err(DatasetError::InvalidArgument(format!(
                "train ratio must be strictly between 0 and 1, got {train_ratio}"
            )));
        }
        let n = self.len();
        let train_rows = (n as f64 * train_ratio).round() as usize;
        if train_rows == 0 || train_rows >= n {
            return Err(DatasetError::InvalidArgument(format!(
                "a {train_ratio} split of {n} rows leaves one side empty"
            )));
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let (train, test) = order.split_at(train_rows);
        Ok((self.select(train)?, self.select(test)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_a_seeded_partition_of_the_rows() {
        let data = moons(101, 0.1, 3);
        let (train, test) = data.split(0.8, 42).unwrap();
        assert_eq!((train.len(), test.len()), (81, 20));
        // Every original row appears exactly once across both parts.
        let mut rows: Vec<(u32, u32)> = train
            .x
            .rows()
            .into_iter()
            .chain(test.x.rows())
            .map(|r| (r[0].to_bits(), r[1].to_bits()))
            .collect();
        let mut original: Vec<(u32, u32)> = data
            .x
            .rows()
            .into_iter()
            .map(|r| (r[0].to_bits(), r[1].to_bits()))
            .collect();
        rows.sort_unstable();
        original.sort_unstable();
        assert_eq!(rows, original);
        assert_eq!(
            data.split(0.8, 42).unwrap().0,
            train,
            "same seed, same split"
        );
        assert_ne!(data.split(0.8, 43).unwrap().0, train);
    }

    #[test]
    fn degenerate_split_ratios_are_rejected() {
        let data = xor(10, 0.0, 1);
        assert!(data.split(0.0, 1).is_err());
        assert!(data.split(1.0, 1).is_err());
        assert!(data.split(0.01, 1).is_err());
    }
}
