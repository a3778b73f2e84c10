//! UI tests of the desktop editor: they drive the real app (its `eframe::App`) headless with
//! egui_kittest, with pointer and key events, and assert on the editor's state. One test
//! binary for all of them keeps CI's link time down.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "gui")]

#[path = "common/mod.rs"]
mod common;

#[path = "ui_editor/support.rs"]
mod support;

#[path = "ui_editor/canvas.rs"]
mod canvas;

#[path = "ui_editor/inspector.rs"]
mod inspector;

#[path = "ui_editor/files.rs"]
mod files;

#[path = "ui_editor/frame_cost.rs"]
mod frame_cost;

#[path = "ui_editor/recovery.rs"]
mod recovery;
#[path = "ui_editor/run.rs"]
mod run;

#[path = "ui_editor/flink.rs"]
mod flink;

#[path = "ui_editor/notebook.rs"]
mod notebook;

#[path = "ui_editor/plots.rs"]
mod plots;

#[path = "ui_editor/views.rs"]
mod views;

#[path = "ui_editor/live.rs"]
mod live;

#[path = "ui_editor/typing.rs"]
mod typing;

#[path = "ui_editor/panes.rs"]
mod panes;

#[path = "ui_editor/navigation.rs"]
mod navigation;

#[path = "ui_editor/groups.rs"]
mod groups;

#[path = "ui_editor/readable.rs"]
mod readable;

#[path = "ui_editor/deep_live.rs"]
mod deep_live;

#[path = "ui_editor/paths.rs"]
mod paths;

#[path = "ui_editor/plain.rs"]
mod plain;
