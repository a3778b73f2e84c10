//! File actions of the editor: the unsaved-changes guard, New/Open/Quit, loading (a failure
//! shows the error and keeps the current graph), atomic saving and the file dialog.

use crate::app::command::{DialogPurpose, Guarded};
use crate::app::document::Document;
use crate::app::files::FileDialogState;
use crate::app::shell::{Dialog, FlowbookApp};
use crate::graph::Graph;
use egui::{Context, ViewportCommand};
use std::path::Path;

impl FlowbookApp {
    pub(crate) fn guarded(&mut self, action: Guarded, ctx: &Context) {
        if self.doc.is_modified() {
            self.dialog = Some(Dialog::Unsaved(action));
        } else {
            self.perform(action, ctx);
        }
    }

    pub(crate) fn perform(&mut self, action: Guarded, ctx: &Context) {
        match action {
            Guarded::New => {
                self.replace_document(Document::new(Graph::new("untitled"), None));
                self.set_status("New graph");
            }
            Guarded::Open(path) => self.open_file(&path),
            Guarded::OpenCopy(path) => match crate::graph::load(&path) {
                Ok(graph) => {
                    self.replace_document(Document::copy_of_example(graph, &path));
                    let name = path.file_name().unwrap_or_default().to_string_lossy();
                    self.set_status(format!(
                        "Opened a copy of {name}: press Run (F5) to try it, Save As to keep it \
                         (its files stay beside the example until then)"
                    ));
                }
                Err(e) => {
                    self.set_error(format!("Could not open {}", path.display()));
                    self.dialog = Some(Dialog::LoadError(e.with_excerpt()));
                }
            },
            Guarded::Quit => {
                self.close_confirmed = true;
                ctx.send_viewport_cmd(ViewportCommand::Close);
            }
        }
    }

    /// Loads a file; on failure shows the error and keeps the current graph.
    pub(crate) fn open_file(&mut self, path: &Path) {
        match crate::graph::load(path) {
            Ok(graph) => {
                self.replace_document(Document::new(graph, Some(path.to_path_buf())));
                self.settings.remember(path);
                match crate::notebook::load_results(path) {
                    Ok(results) => {
                        self.notebook.stored = results;
                        self.set_status(format!("Opened {}", path.display()));
                    }
                    // The graph is fine; only its saved outputs are lost.
                    Err(e) => self.set_error(format!(
                        "Opened {}, but not the results saved with it: {e}",
                        path.display()
                    )),
                }
            }
            Err(e) => {
                self.set_error(format!("Could not open {}", path.display()));
                self.dialog = Some(Dialog::LoadError(e.with_excerpt()));
            }
        }
    }

    /// Saves atomically to `path`. Saved into another folder, the graph's relative input
    /// paths are rewritten first so they still read the same files (one undo step), and the
    /// status line says which outputs now land beside the new file (`relocate`).
    pub(crate) fn save_to(&mut self, path: &Path) -> bool {
        let from = self.doc.location();
        let to = crate::paths::GraphLocation::of_file(path);
        let mut graph = self.doc.graph().clone();
        let moved = crate::app::relocate::relocate_paths(&mut graph, &from, &to, Path::exists);
        match crate::graph::save(&graph, path) {
            Ok(()) => {
                if !moved.inputs_kept.is_empty() {
                    let _ = self.doc.edit(None, |g| {
                        *g = graph;
                        Ok::<_, std::convert::Infallible>(())
                    });
                }
                self.doc.mark_saved(path);
                self.settings.remember(path);
                let kept = moved.summary();
                match self.save_results(path) {
                    Ok(()) => self.set_status(format!("Saved {}{kept}", path.display())),
                    Err(e) => self.set_error(format!(
                        "Saved {}{kept}, but not the run's results: {e}",
                        path.display()
                    )),
                }
                true
            }
            Err(e) => {
                self.set_error(e.to_string());
                false
            }
        }
    }

    /// The outputs the notebook shows now: the current run's, else those saved with the file.
    pub(crate) fn current_results(&self) -> Option<crate::notebook::NotebookResults> {
        let live = self.run.session.as_ref().map(|s| {
            s.results
                .results(self.doc.graph(), crate::notebook::now_rfc3339())
        });
        live.filter(|r| !r.is_empty())
            .or_else(|| self.notebook.stored.clone())
    }

    /// Keeps the last run's outputs beside the graph file, so its cells show them on reopening.
    fn save_results(&mut self, path: &Path) -> Result<(), crate::graph::SaveError> {
        let Some(results) = self.current_results() else {
            // Nothing to keep: an older results file there belongs to another graph's run.
            return crate::notebook::remove_results(path);
        };
        crate::notebook::save_results(path, &results)?;
        self.notebook.stored = Some(results);
        Ok(())
    }

    /// File → Export report: the notebook with the current outputs as one HTML page.
    pub(crate) fn export_report(&mut self, path: &Path) {
        let results = self.current_results().unwrap_or_default();
        let source = self
            .doc
            .path
            .as_deref()
            .and_then(Path::file_name)
            .map_or_else(
                || "an unsaved graph".to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
        let page = crate::notebook::render_report(&crate::notebook::ReportInput {
            graph: self.doc.graph(),
            results: &results,
            source: &source,
        });
        match page.map(|page| crate::graph::write_atomically(path, page.as_bytes())) {
            Ok(Ok(())) => self.set_status(format!("Report written to {}", path.display())),
            Ok(Err(e)) => self.set_error(e.to_string()),
            Err(e) => self.set_error(format!("Cannot draw the report: {e}")),
        }
    }

    /// Opens the file dialog in the graph's folder (unsaved: its default folder); a picked
    /// file is stored relative to that folder when inside it.
    pub(crate) fn show_file_dialog(&mut self, purpose: DialogPurpose) {
        let location = self.doc.location();
        let name = self
            .doc
            .path
            .as_deref()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned());
        self.file_dialog = Some(FileDialogState::open(purpose, location, name.as_deref()));
    }
}
