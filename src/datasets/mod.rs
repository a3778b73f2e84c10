//! Seeded synthetic data sets (placeholder, being written).
