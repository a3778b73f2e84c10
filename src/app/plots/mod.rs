//! Live plots of a run: growing series drawn with min/max downsampling, TensorBoard-style
//! smoothing, log y, markers, bands, bars and earlier runs faded behind, plus CSV and PNG
//! export. Self-contained: it imports only egui, egui_plot and image, never the rest of the app.

mod export;
mod grid;
mod labels;
mod model;
mod range;
mod series;
mod transform;
mod widget;

pub use export::{PngExport, crop_rgba, save_png_crop, series_to_csv, write_atomic};
pub use grid::{GridLayout, PlotGrid};
pub use labels::{LabelBox, place_labels};
pub use model::{BandPoint, BandSeries, BarSeries, Marker, Overlay, PlotView, band_for_view};
pub use range::{
    KeyStyle, MIN_SAMPLES_FOR_OUTLIERS, MIN_SAMPLES_FOR_SPREAD, OutlierClip, YExtent, key_styles,
    legend_rows, nice_steps, outlier_clip, tick_label, y_span,
};
pub use series::{DEFAULT_CAPACITY, Series, SeriesError};
pub use transform::{Ema, MAX_SMOOTHING, ema_smooth, log10_points};
pub use widget::{PlotResponse, PlotSettings, format_value, hover_label, log_tick_label, plot_ui};
