//! Getting a plot out of the app: its data as CSV (`series,x,y`) and its pixels as PNG, both
//! written atomically so a crash never leaves half a file. The UI only asks; nothing here
//! blocks a frame for longer than encoding one image.

use super::model::PlotView;
use egui::{ColorImage, Context, Rect};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Every point of the plot as CSV with a `series,x,y` header, raw values (no smoothing or log).
///
/// Earlier runs are named `"<run label>/<series>"`, bands give three series
/// (`"<band> min"`, `" mean"`, `" max"`) and bars one (`x`, count). NaN is written as `NaN`.
/// Event time is written as epoch milliseconds (the header says `event_time_ms`): the one
/// place raw epoch milliseconds appear.
pub fn series_to_csv(view: &PlotView<'_>) -> String {
    let header = |origin: Option<i64>, fallback: &'static str| {
        if origin.is_some() {
            "event_time_ms"
        } else {
            fallback
        }
    };
    let mut out = format!(
        "series,{},{}\n",
        header(view.x_event_origin_ms, "x"),
        header(view.y_event_origin_ms, "y")
    );
    let as_ms = |origin: Option<i64>, v: f64| match origin {
        Some(o) if v.is_finite() => (o as f64 + (v * 1e3).round()).to_string(),
        _ => v.to_string(),
    };
    let (x_origin, y_origin) = (view.x_event_origin_ms, view.y_event_origin_ms);
    let mut row = |name: &str, x: f64, y: f64| {
        let _ = writeln!(
            out,
            "{},{},{}",
            csv_field(name),
            as_ms(x_origin, x),
            as_ms(y_origin, y)
        );
    };
    for s in &view.series {
        for [x, y] in s.all_points() {
            row(s.name(), x, y);
        }
    }
    for overlay in &view.overlays {
        for s in &overlay.series {
            let name = format!("{}/{}", overlay.label, s.name());
            for [x, y] in s.all_points() {
                row(&name, x, y);
            }
        }
    }
    for band in &view.band_lines {
        for p in &band.points {
            row(&format!("{} mean", band.name), p.x, p.mean);
        }
    }
    for band in &view.bands {
        let names = [" min", " mean", " max"].map(|suffix| format!("{}{suffix}", band.name));
        for p in &band.points {
            for (name, y) in names.iter().zip([p.min, p.mean, p.max]) {
                row(name, p.x, y);
            }
        }
    }
    for bars in &view.bars {
        for [x, count] in &bars.bars {
            row(&bars.name, *x, *count);
        }
    }
    out
}

/// Quotes a field when it holds a comma, quote or line break (RFC 4180).
fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    } else {
        text.into()
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: readers see
/// the old file or the new one, never a partial write (the graph file's own atomic write).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::graph::write_atomically(path, bytes).map_err(|e| match e {
        crate::graph::SaveError::Io { source, .. } => source,
        other => std::io::Error::other(other.to_string()),
    })
}

impl PlotView<'_> {
    /// Writes [`series_to_csv`] to `path` atomically.
    pub fn export_csv(&self, path: &Path) -> std::io::Result<()> {
        write_atomic(path, series_to_csv(self).as_bytes())
    }
}

/// Frames to wait for a screenshot before giving up (an integration without one never answers).
const MAX_WAIT_FRAMES: u32 = 120;

type ImageSlot = Arc<Mutex<Option<Arc<ColorImage>>>>;

#[derive(Default)]
enum PngState {
    #[default]
    Idle,
    Requested {
        rect: Rect,
        path: PathBuf,
    },
    Waiting {
        rect: Rect,
        path: PathBuf,
        slot: ImageSlot,
        frames: u32,
    },
}

/// Saving a plot as PNG: ask for a screenshot of the window, then crop it to the plot's rect.
///
/// Call [`Self::request`] when the user clicks "Save PNG" and [`Self::poll`] every frame; the
/// screenshot arrives a frame or two later through egui's screenshot callback.
#[derive(Default)]
pub struct PngExport {
    state: PngState,
}

impl PngExport {
    /// Asks to save the screen area `rect` (in points) to `path`; replaces a pending request.
    pub fn request(&mut self, rect: Rect, path: impl Into<PathBuf>) {
        self.state = PngState::Requested {
            rect,
            path: path.into(),
        };
    }

    pub fn is_pending(&self) -> bool {
        !matches!(self.state, PngState::Idle)
    }

    /// Moves the request on; returns the saved path or an error once it is finished.
    pub fn poll(&mut self, ctx: &Context) -> Option<Result<PathBuf, String>> {
        match std::mem::take(&mut self.state) {
            PngState::Idle => None,
            PngState::Requested { rect, path } => {
                let slot = ImageSlot::default();
                let sender = Arc::clone(&slot);
                let waker = ctx.clone();
                ctx.request_screenshot(move |image| {
                    if let Ok(mut guard) = sender.lock() {
                        *guard = Some(image);
                    }
                    waker.request_repaint();
                });
                self.state = PngState::Waiting {
                    rect,
                    path,
                    slot,
                    frames: 0,
                };
                None
            }
            PngState::Waiting {
                rect,
                path,
                slot,
                frames,
            } => {
                let image = match slot.lock() {
                    Ok(mut guard) => guard.take(),
                    Err(_) => return Some(Err("the screenshot callback panicked".into())),
                };
                if let Some(image) = image {
                    return Some(
                        save_png_crop(&image, rect, ctx.pixels_per_point(), &path).map(|()| path),
                    );
                }
                if frames >= MAX_WAIT_FRAMES {
                    return Some(Err(format!(
                        "no screenshot arrived after {MAX_WAIT_FRAMES} frames; {} not written",
                        path.display()
                    )));
                }
                ctx.request_repaint();
                self.state = PngState::Waiting {
                    rect,
                    path,
                    slot,
                    frames: frames + 1,
                };
                None
            }
        }
    }
}

/// The pixels of `rect` (in points) out of a screenshot, as tightly packed RGBA8 rows.
pub fn crop_rgba(
    image: &ColorImage,
    rect: Rect,
    pixels_per_point: f32,
) -> Result<(u32, u32, Vec<u8>), String> {
    let [width, height] = image.size;
    let to_px =
        |v: f32, limit: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(limit);
    let (x0, x1) = (to_px(rect.min.x, width), to_px(rect.max.x, width));
    let (y0, y1) = (to_px(rect.min.y, height), to_px(rect.max.y, height));
    if x1 <= x0 || y1 <= y0 {
        return Err(format!(
            "the plot area {rect:?} is outside the {width}x{height} screenshot"
        ));
    }
    let mut rgba = Vec::with_capacity((x1 - x0) * (y1 - y0) * 4);
    for y in y0..y1 {
        let row = image
            .pixels
            .get(y * width + x0..y * width + x1)
            .ok_or_else(|| "the screenshot has fewer pixels than its size says".to_string())?;
        for pixel in row {
            rgba.extend_from_slice(&pixel.to_srgba_unmultiplied());
        }
    }
    let (w, h) = (u32::try_from(x1 - x0), u32::try_from(y1 - y0));
    match (w, h) {
        (Ok(w), Ok(h)) => Ok((w, h, rgba)),
        _ => Err("the plot area is too large for a PNG".into()),
    }
}

/// Crops the screenshot to `rect`, encodes it as PNG and writes it atomically to `path`.
pub fn save_png_crop(
    image: &ColorImage,
    rect: Rect,
    pixels_per_point: f32,
    path: &Path,
) -> Result<(), String> {
    use image::ImageEncoder as _;
    let (w, h, rgba) = crop_rgba(image, rect, pixels_per_point)?;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&rgba, w, h, image::ExtendedColorType::Rgba8)
        .map_err(|e| format!("encoding {}: {e}", path.display()))?;
    write_atomic(path, &png).map_err(|e| format!("writing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::plots::{BandPoint, BandSeries, BarSeries, Series};
    use egui::{Color32, pos2};

    #[test]
    fn csv_lists_every_point_of_every_series() {
        let loss = Series::from_points("loss", &[[0.0, 1.5], [1.0, f64::NAN]]).unwrap();
        let acc = Series::from_ys("acc, top-1", &[0.25]);
        let old = Series::from_ys("loss", &[2.0]);
        let band = BandSeries {
            name: "latency".into(),
            points: vec![BandPoint {
                x: 10.0,
                min: 1.0,
                mean: 2.0,
                max: 3.0,
            }],
        };
        let bars = BarSeries {
            name: "count".into(),
            bars: vec![[5.0, 12.0]],
            width: 1.0,
        };
        let view = PlotView::new("t")
            .series(&loss)
            .series(&acc)
            .overlay("run 2", vec![&old])
            .band(&band)
            .bars(&bars);
        assert_eq!(
            series_to_csv(&view),
            "series,x,y\n\
             loss,0,1.5\n\
             loss,1,NaN\n\
             \"acc, top-1\",0,0.25\n\
             run 2/loss,0,2\n\
             latency min,10,1\n\
             latency mean,10,2\n\
             latency max,10,3\n\
             count,5,12\n"
        );
    }

    #[test]
    fn csv_of_an_empty_view_is_just_the_header() {
        assert_eq!(series_to_csv(&PlotView::new("empty")), "series,x,y\n");
    }

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plot.csv");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no such dir").join("x.csv");
        assert!(write_atomic(&missing, b"x").is_err());
    }

    #[test]
    fn crop_takes_the_rect_in_physical_pixels() {
        // 4x2 image; at 2 pixels per point the rect (1,0)-(2,1) is pixels x 2..4, y 0..2.
        let pixels = (0..8).map(|i| Color32::from_rgb(i as u8, 0, 0)).collect();
        let image = ColorImage::new([4, 2], pixels);
        let rect = Rect::from_min_max(pos2(1.0, 0.0), pos2(2.0, 1.0));
        let (w, h, rgba) = crop_rgba(&image, rect, 2.0).unwrap();
        assert_eq!((w, h), (2, 2));
        let reds: Vec<u8> = rgba.chunks(4).map(|p| p[0]).collect();
        assert_eq!(reds, vec![2, 3, 6, 7]);
        let outside = Rect::from_min_max(pos2(10.0, 10.0), pos2(20.0, 20.0));
        assert!(crop_rgba(&image, outside, 1.0).is_err());
    }
}
