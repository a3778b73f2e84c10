//! The desktop editor (being written).
