//! Files around the document: the pure-egui file dialog (egui_file, no system dialog service
//! needed), the Examples list, and a dropped CSV's columns. Loading and saving themselves are
//! the graph module's (`graph::load`, atomic `graph::save`); this module only finds paths.

use crate::app::command::{Command, DialogPurpose};
use crate::paths::GraphLocation;
use crate::stream::sources::{CsvOptions, NonFinitePolicy, read_header};
use std::path::{Path, PathBuf};

/// An open file dialog and what its answer is for.
pub struct FileDialogState {
    dialog: egui_file::FileDialog,
    pub purpose: DialogPurpose,
    /// The graph's location when the dialog opened: picked files are stored relative to it.
    location: GraphLocation,
}

impl std::fmt::Debug for FileDialogState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDialogState")
            .field("purpose", &self.purpose)
            .finish()
    }
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case(ext))
}

impl FileDialogState {
    /// Opens a dialog in the graph's folder (`location`).
    pub fn open(purpose: DialogPurpose, location: GraphLocation, file_name: Option<&str>) -> Self {
        let mut dialog = match &purpose {
            DialogPurpose::SaveAs => {
                let mut d = egui_file::FileDialog::save_file()
                    .title("Save graph as")
                    .filename_filter(Box::new(|name: &str| name.to_lowercase().ends_with(".ron")));
                if let Some(name) = file_name {
                    d = d.default_filename(name);
                }
                d
            }
            DialogPurpose::ExportReport => {
                let mut d = egui_file::FileDialog::save_file()
                    .title("Export the notebook as an HTML report")
                    .filename_filter(Box::new(|name: &str| {
                        name.to_lowercase().ends_with(".html")
                    }));
                if let Some(name) = file_name {
                    d = d
                        .default_filename(Path::new(name).with_extension("html").to_string_lossy());
                }
                d
            }
            DialogPurpose::Open => egui_file::FileDialog::open_file()
                .title("Open graph")
                .show_files_filter(Box::new(|p: &Path| has_extension(p, "ron"))),
            DialogPurpose::AddCsv => egui_file::FileDialog::open_file()
                .title("Add a CSV source")
                .show_files_filter(Box::new(|p: &Path| has_extension(p, "csv"))),
            DialogPurpose::ParamPath { param, .. } => {
                egui_file::FileDialog::open_file().title(&format!("Pick a file for '{param}'"))
            }
        }
        .default_size([640.0, 420.0])
        .show_new_folder(matches!(
            purpose,
            DialogPurpose::SaveAs | DialogPurpose::ExportReport
        ))
        .show_rename(false);
        if location.folder().is_dir() {
            dialog = dialog.initial_path(location.folder());
        }
        dialog.open();
        Self {
            dialog,
            purpose,
            location,
        }
    }

    /// Shows the dialog. Returns `Some(Some(command))` when a file was chosen,
    /// `Some(None)` when the dialog was closed, `None` while it stays open.
    pub fn file_dialog_ui(&mut self, ctx: &egui::Context) -> Option<Option<Command>> {
        self.dialog.show(ctx);
        match self.dialog.state() {
            egui_file::State::Open => None,
            egui_file::State::Selected => Some(self.dialog.path().map(|p| self.command_for(p))),
            egui_file::State::Cancelled | egui_file::State::Closed => Some(None),
        }
    }

    fn command_for(&self, path: &Path) -> Command {
        let path = path.to_path_buf();
        match &self.purpose {
            DialogPurpose::Open => Command::Open(path),
            DialogPurpose::SaveAs => {
                if has_extension(&path, "ron") {
                    Command::SaveAs(path)
                } else {
                    Command::SaveAs(path.with_extension("ron"))
                }
            }
            DialogPurpose::ExportReport => {
                if has_extension(&path, "html") {
                    Command::ExportReport(path)
                } else {
                    Command::ExportReport(path.with_extension("html"))
                }
            }
            DialogPurpose::ParamPath { node, param } => Command::SetParam {
                node: *node,
                param: param.clone(),
                value: crate::graph::ParamValue::Text(self.location.relative_for_storage(&path)),
                merge: false,
            },
            DialogPurpose::AddCsv => Command::AddCsvSource {
                path,
                pos: [40.0, 40.0],
            },
        }
    }
}

/// Where the example graphs live (absolute): the folder `FLOWBOOK_EXAMPLES` names (a
/// packaged install), `example-graphs/` in the working directory, beside the executable's
/// crate, or in the source tree this binary was built from.
pub fn examples_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("FLOWBOOK_EXAMPLES").map(PathBuf::from),
        Some(PathBuf::from("example-graphs")),
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join("../../example-graphs"))),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("example-graphs")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.is_dir())
        .map(|d| std::path::absolute(&d).unwrap_or(d))
}

/// The example graphs, sorted by file name.
pub fn example_graphs() -> Vec<PathBuf> {
    let Some(dir) = examples_dir() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| has_extension(p, "ron"))
        .collect();
    found.sort();
    found
}

pub fn is_graph_file(path: &Path) -> bool {
    has_extension(path, "ron")
}

pub fn is_csv_file(path: &Path) -> bool {
    has_extension(path, "csv")
}

/// Parameters of a CSV source for `path`, from its header: a key column and a time column
/// when names suggest them, every other column as a value. The path is stored relative to
/// the graph's folder (`location`) when the file is inside it.
pub fn csv_source_params(
    path: &Path,
    location: &GraphLocation,
) -> Result<Vec<(&'static str, String)>, String> {
    let options = CsvOptions {
        path: path.to_path_buf(),
        key_column: None,
        time_column: None,
        value_columns: Vec::new(),
        has_header: true,
        delimiter: sniff_delimiter(path),
        skip_bad_rows: false,
        non_finite: NonFinitePolicy::Keep,
    };
    let columns = read_header(&options).map_err(|e| e.to_string())?;
    let find = |names: &[&str]| {
        columns
            .iter()
            .find(|c| names.contains(&c.to_lowercase().as_str()))
            .cloned()
    };
    let key = find(&["key", "id", "user", "user_id", "sensor", "device", "name"]);
    let time = find(&[
        "ts_ms",
        "ts",
        "time_ms",
        "timestamp",
        "time",
        "event_time",
        "t",
    ]);
    let values: Vec<&str> = columns
        .iter()
        .filter(|c| Some(*c) != key.as_ref() && Some(*c) != time.as_ref())
        .map(String::as_str)
        .collect();
    let delimiter = match options.delimiter {
        b';' => ";",
        b'\t' => "tab",
        b'|' => "|",
        _ => ",",
    };
    Ok(vec![
        ("path", location.relative_for_storage(path)),
        ("key_column", key.unwrap_or_default()),
        ("time_column", time.unwrap_or_default()),
        ("value_columns", values.join(",")),
        ("delimiter", delimiter.to_owned()),
    ])
}

/// The most frequent of `, ; tab |` on the first line.
fn sniff_delimiter(path: &Path) -> u8 {
    let first_line = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.lines().next().map(str::to_owned))
        .unwrap_or_default();
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| first_line.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_header_becomes_key_time_and_value_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.csv");
        std::fs::write(&path, "sensor;ts_ms;temp;humidity\na;1;2;3\n").unwrap();
        let params = csv_source_params(&path, &GraphLocation::unsaved(dir.path())).unwrap();
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("path"), Some("events.csv"), "stored beside the graph");
        assert_eq!(get("key_column"), Some("sensor"));
        assert_eq!(get("time_column"), Some("ts_ms"));
        assert_eq!(get("value_columns"), Some("temp,humidity"));
        assert_eq!(get("delimiter"), Some(";"));
    }

    #[test]
    fn the_examples_are_found() {
        assert!(
            example_graphs()
                .iter()
                .any(|p| p.ends_with("window-stats.ron"))
        );
    }
}
