//! Neural networks on ndarray (placeholder, being written).
