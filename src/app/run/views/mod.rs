//! Views of what a running graph *means*: when windows fire and which records came late, how a
//! partition spreads its keys, what a classifier has learnt, and how gradients flow through its
//! layers. Pure drawing over plain data: no view holds a run session or talks to the executor.

pub mod decision;
pub mod layers;
pub mod skew;
pub mod timeline;

pub use decision::{DecisionView, class_colour, class_grid, plot_bounds};
pub use layers::{flow_colour, flow_scale, layers_ui};
pub use skew::{imbalance, imbalance_text, skew_ui};
pub use timeline::{TimelineData, timeline_ui};
