//! What one sample is between layers: a flat feature vector, an image (channels × height ×
//! width, channel-major as PyTorch's NCHW) or a sequence (steps × features, time-major).
//! Every tensor in `nn` is still a (batch, width) matrix; the shape only says how a row is read.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::NnError;

/// The layout of one row of a (batch, width) activation matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Shape {
    /// `width` features.
    Flat(usize),
    /// An image: row index of pixel (c, y, x) is (c·height + y)·width + x.
    Image {
        channels: usize,
        height: usize,
        width: usize,
    },
    /// A sequence: row index of feature f at step t is t·features + f. Step 0 is the oldest.
    Sequence { steps: usize, features: usize },
}

impl Shape {
    /// Numbers per row.
    pub fn len(&self) -> usize {
        match *self {
            Shape::Flat(width) => width,
            Shape::Image {
                channels,
                height,
                width,
            } => channels * height * width,
            Shape::Sequence { steps, features } => steps * features,
        }
    }

    /// True when a row holds no numbers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The steps of a sequence; `None` for flat rows and images.
    pub fn steps(&self) -> Option<usize> {
        match *self {
            Shape::Sequence { steps, .. } => Some(steps),
            _ => None,
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Shape::Flat(width) => write!(f, "{width} features"),
            Shape::Image {
                channels,
                height,
                width,
            } => write!(f, "{channels}×{height}×{width} image"),
            Shape::Sequence { steps, features } => {
                write!(f, "sequence of {steps} steps × {features} features")
            }
        }
    }
}

/// An image's (channels, height, width) as layer `layer` reads its input: an image as it is,
/// flat rows of a square number of features as one channel (8×8 digits are 64 features).
pub fn as_image(layer: &str, input: Shape) -> Result<(usize, usize, usize), NnError> {
    match input {
        Shape::Image {
            channels,
            height,
            width,
        } => Ok((channels, height, width)),
        Shape::Flat(n) => {
            let side = (n as f64).sqrt().round() as usize;
            if side > 0 && side * side == n {
                Ok((1, side, side))
            } else {
                Err(NnError::InvalidLayer {
                    layer: layer.to_string(),
                    message: format!(
                        "needs an image, but its input is {n} features, not a square number; \
                         give the model's input shape (e.g. 3×32×32)"
                    ),
                })
            }
        }
        Shape::Sequence { .. } => Err(NnError::InvalidLayer {
            layer: layer.to_string(),
            message: format!("needs an image, but its input is a {input}"),
        }),
    }
}

/// A sequence's (steps, features) as layer `layer` reads its input: a sequence as it is, flat
/// rows as a sequence of single values (a window of readings); an image is an error.
pub fn as_sequence(layer: &str, input: Shape) -> Result<(usize, usize), NnError> {
    match input {
        Shape::Sequence { steps, features } => Ok((steps, features)),
        Shape::Flat(n) if n > 0 => Ok((n, 1)),
        _ => Err(NnError::InvalidLayer {
            layer: layer.to_string(),
            message: format!("needs a sequence, but its input is a {input}"),
        }),
    }
}

/// Output size of a sliding window over `input` positions: ⌊(input + 2·padding − kernel) /
/// stride⌋ + 1, or `None` when the kernel does not fit or the stride is 0.
pub fn sliding_output(input: usize, kernel: usize, stride: usize, padding: usize) -> Option<usize> {
    let padded = input.checked_add(padding.checked_mul(2)?)?;
    if kernel == 0 || stride == 0 || kernel > padded {
        return None;
    }
    Some((padded - kernel) / stride + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_multiply_the_dimensions() {
        assert_eq!(Shape::Flat(7).len(), 7);
        let image = Shape::Image {
            channels: 3,
            height: 4,
            width: 5,
        };
        assert_eq!(image.len(), 60);
        assert_eq!(image.to_string(), "3×4×5 image");
        let sequence = Shape::Sequence {
            steps: 6,
            features: 2,
        };
        assert_eq!((sequence.len(), sequence.steps()), (12, Some(6)));
    }

    #[test]
    fn sliding_output_matches_pytorch_formula() {
        // torch.nn.Conv2d docs: H_out = ⌊(H + 2p − k)/s⌋ + 1.
        assert_eq!(sliding_output(8, 3, 1, 1), Some(8));
        assert_eq!(sliding_output(8, 2, 2, 0), Some(4));
        assert_eq!(sliding_output(7, 3, 2, 0), Some(3));
        assert_eq!(sliding_output(2, 3, 1, 0), None);
        assert_eq!(sliding_output(5, 3, 0, 0), None);
    }

    #[test]
    fn flat_rows_of_a_square_length_read_as_one_channel_images() {
        assert_eq!(as_image("conv1", Shape::Flat(64)).unwrap(), (1, 8, 8));
        let err = as_image("conv1", Shape::Flat(63)).unwrap_err().to_string();
        assert!(
            err.starts_with("conv1: needs an image, but its input is 63"),
            "{err}"
        );
        assert_eq!(as_sequence("gru", Shape::Flat(5)).unwrap(), (5, 1));
        let image = Shape::Image {
            channels: 1,
            height: 2,
            width: 2,
        };
        assert!(as_sequence("gru", image).is_err());
    }
}
