//! What the editor remembers between launches (through eframe's storage): theme, recent files
//! and view toggles. Window size and panel widths are kept by eframe and egui themselves.
//! Its own serde type, so a new field never breaks an old settings file.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The storage key under which the settings are kept.
pub const STORAGE_KEY: &str = "flowbook.settings";
/// How many recent files the File menu lists.
const RECENT_LIMIT: usize = 10;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub dark_theme: bool,
    /// Most recent first.
    pub recent_files: Vec<PathBuf>,
    pub snap_to_grid: bool,
    pub show_minimap: bool,
    /// The notebook pane beside the canvas.
    pub show_notebook: bool,
    /// The welcome gallery was shown once (it opens by itself only on the first launch).
    pub welcome_seen: bool,
    /// The REST address of the Apache Flink cluster last used by Run on Flink cluster….
    pub flink_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            dark_theme: true,
            recent_files: Vec::new(),
            snap_to_grid: true,
            show_minimap: true,
            show_notebook: false,
            welcome_seen: false,
            flink_url: crate::flink::DEFAULT_URL.to_owned(),
        }
    }
}

impl Settings {
    /// Puts `path` first in the recent list, once.
    pub fn remember(&mut self, path: &Path) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.recent_files.retain(|p| *p != path);
        self.recent_files.insert(0, path);
        self.recent_files.truncate(RECENT_LIMIT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_files_are_unique_newest_first_and_bounded() {
        let mut s = Settings::default();
        for i in 0..12 {
            s.remember(Path::new(&format!("/nonexistent/g{i}.ron")));
        }
        s.remember(Path::new("/nonexistent/g5.ron"));
        assert_eq!(s.recent_files.len(), RECENT_LIMIT);
        assert_eq!(
            s.recent_files.first(),
            Some(&PathBuf::from("/nonexistent/g5.ron"))
        );
        let text = ron::to_string(&s).unwrap();
        let back: Settings = ron::from_str(&text).unwrap();
        assert_eq!(back, s);
        let old: Settings = ron::from_str("(dark_theme: false)").unwrap();
        assert!(old.snap_to_grid, "missing fields take defaults");
    }
}
