//! Lays out N plots: 1 to 3 columns by available width, equal heights, and a vertical scroll
//! when they would get shorter than readable. The layout is a pure function; it draws nothing
//! itself but hands each cell's `Ui` to the caller.

use egui::{Rect, Ui, UiBuilder, vec2};

/// How a [`PlotGrid`] places `count` plots in the available space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridLayout {
    pub columns: usize,
    pub rows: usize,
    /// Width and height of one cell in points, spacing excluded.
    pub cell_size: [f32; 2],
    /// The rows are taller together than the space: show them in a scroll area.
    pub scroll: bool,
}

/// Options of the automatic plot layout.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotGrid {
    /// A column is added only if each stays at least this wide (points).
    pub min_column_width: f32,
    pub max_columns: usize,
    /// Below this cell height (points) the grid scrolls instead of shrinking the plots.
    pub min_plot_height: f32,
    /// Gap between cells (points).
    pub spacing: f32,
}

impl Default for PlotGrid {
    fn default() -> Self {
        Self {
            min_column_width: 420.0,
            max_columns: 3,
            min_plot_height: 220.0,
            spacing: 8.0,
        }
    }
}

impl PlotGrid {
    /// The layout for `count` plots in `available` = [width, height] points.
    pub fn layout(&self, available: [f32; 2], count: usize) -> GridLayout {
        let [width, height] = available.map(|v| if v.is_finite() { v.max(0.0) } else { 0.0 });
        let fits = ((width + self.spacing) / (self.min_column_width + self.spacing)).floor();
        let columns = (fits.max(1.0) as usize)
            .min(self.max_columns.max(1))
            .min(count.max(1));
        let rows = count.div_ceil(columns);
        let cell_width = (width - self.spacing * (columns - 1) as f32) / columns as f32;
        let gaps = self.spacing * rows.saturating_sub(1) as f32;
        let fitted_height = (height - gaps) / rows.max(1) as f32;
        let scroll = fitted_height < self.min_plot_height;
        let cell_height = if scroll {
            self.min_plot_height
        } else {
            fitted_height
        };
        GridLayout {
            columns,
            rows,
            cell_size: [cell_width.max(0.0), cell_height.max(0.0)],
            scroll,
        }
    }

    /// Shows `count` cells, calling `cell_ui(ui, index)` with a `Ui` the size of each cell.
    pub fn show(
        &self,
        ui: &mut Ui,
        count: usize,
        mut cell_ui: impl FnMut(&mut Ui, usize),
    ) -> GridLayout {
        let available = ui.available_size();
        let layout = self.layout([available.x, available.y], count);
        if count == 0 {
            return layout;
        }
        let mut cells = |ui: &mut Ui| {
            let [w, h] = layout.cell_size;
            let total = vec2(
                available.x,
                layout.rows as f32 * (h + self.spacing) - self.spacing,
            );
            let (area, _) = ui.allocate_exact_size(total, egui::Sense::hover());
            for index in 0..count {
                let (row, col) = (index / layout.columns, index % layout.columns);
                let min = area.min
                    + vec2(
                        col as f32 * (w + self.spacing),
                        row as f32 * (h + self.spacing),
                    );
                let rect = Rect::from_min_size(min, vec2(w, h));
                let mut child = ui.new_child(
                    UiBuilder::new()
                        .max_rect(rect)
                        .id_salt(("plot_cell", index)),
                );
                child.set_clip_rect(rect.intersect(ui.clip_rect()));
                cell_ui(&mut child, index);
            }
        };
        if layout.scroll {
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| cells(ui));
        } else {
            cells(ui);
        }
        layout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_the_width() {
        let grid = PlotGrid::default();
        assert_eq!(grid.layout([400.0, 900.0], 4).columns, 1);
        assert_eq!(grid.layout([900.0, 900.0], 4).columns, 2);
        assert_eq!(grid.layout([1400.0, 900.0], 4).columns, 3);
        assert_eq!(
            grid.layout([4000.0, 900.0], 4).columns,
            3,
            "never more than max_columns"
        );
        assert_eq!(
            grid.layout([4000.0, 900.0], 2).columns,
            2,
            "never more than plots"
        );
        assert_eq!(grid.layout([4000.0, 900.0], 0).columns, 1);
    }

    #[test]
    fn rows_share_the_height_until_they_must_scroll() {
        let grid = PlotGrid::default();
        let l = grid.layout([900.0, 808.0], 4);
        assert_eq!((l.rows, l.scroll), (2, false));
        assert_eq!(l.cell_size, [446.0, 400.0]);
        let l = grid.layout([900.0, 600.0], 12);
        assert_eq!((l.rows, l.scroll, l.cell_size[1]), (6, true, 220.0));
    }

    #[test]
    fn odd_sizes_do_not_panic() {
        let grid = PlotGrid::default();
        let l = grid.layout([f32::NAN, -5.0], 3);
        assert_eq!((l.columns, l.rows), (1, 3));
        assert!(l.cell_size.iter().all(|v| *v >= 0.0));
    }
}
