//! Watching a run live, as a person does: every example at its default pace shows its plots
//! filling over seconds of wall time and then finishes; the pace changes while it runs; a wire's
//! preview opened before Run shows records during the run and keeps them after; and (ignored,
//! a benchmark) memory stays flat while an endless example runs for two minutes.

use crate::common::{example, serial};
use crate::run::{phase, step_until};
use crate::support::*;
use egui_kittest::kittest::Queryable;
use flowbook::app::run::session::{RunPhase, RunSession};
use flowbook::graph::Pace;
use std::time::{Duration, Instant};

/// Everything the plots of a session hold, counted: metric points ever pushed, window curve
/// points, watermark points. It grows while a run's plots fill.
fn plotted(session: &RunSession) -> u64 {
    let metrics: u64 = session
        .metrics
        .values()
        .flat_map(|m| m.series.iter())
        .map(|s| s.pushed())
        .sum();
    let windows: u64 = session
        .window_keys
        .values()
        .map(|k| k.points() as u64)
        .sum();
    let watermarks: u64 = session.watermarks.values().map(|(w, _)| w.pushed()).sum();
    metrics + windows + watermarks
}

/// An editor with the example file `name` opened (its data paths resolve beside it).
fn editor_opening(name: &str) -> AppHarness {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("example-graphs")
        .join(name);
    let mut h = editor_allowing_tofu();
    h.state_mut().open_now(&path);
    settle(&mut h);
    assert!(
        !h.state().status.is_error,
        "{name}: {}",
        h.state().status.text
    );
    h
}

/// Runs `name` at its default pace (sped up `speedup` times) and returns the wall times at
/// which its plots had grown, and how long the run took.
fn watch_example(name: &str, speedup: f64, stop_after: Option<Duration>) -> (Vec<f64>, f64) {
    let mut h = editor_opening(name);
    h.state_mut().run.speedup = speedup;
    h.get_by_label("▶ Run").click();
    let started = Instant::now();
    let mut grew_at = Vec::new();
    let mut last = 0;
    let deadline = started + Duration::from_secs(120);
    loop {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
        let Some(session) = h.state().run.session.as_ref() else {
            continue;
        };
        let now = plotted(session);
        if now > last {
            grew_at.push(started.elapsed().as_secs_f64());
            last = now;
        }
        if !session.phase.is_live() {
            break;
        }
        if stop_after.is_some_and(|d| started.elapsed() >= d) {
            h.get_by_label("◼ Stop").click();
            step_until(&mut h, Duration::from_secs(5), |h| {
                phase(h) == Some(RunPhase::Stopped)
            });
            break;
        }
        assert!(Instant::now() < deadline, "{name} did not finish");
    }
    let took = started.elapsed().as_secs_f64();
    let want = if stop_after.is_some() {
        RunPhase::Stopped
    } else {
        RunPhase::Finished
    };
    assert_eq!(phase(&h), Some(want), "{name}");
    (grew_at, took)
}

/// Growth at several distinct times spread over at least two seconds.
fn assert_filled_over_time(name: &str, grew_at: &[f64]) {
    let first = grew_at.first().copied().unwrap_or(0.0);
    let last = grew_at.last().copied().unwrap_or(0.0);
    assert!(
        grew_at.len() >= 8 && last - first >= 2.0,
        "{name}: its plots grew at {} times over {:.1} s: {grew_at:?}",
        grew_at.len(),
        last - first
    );
}

#[test]
fn every_example_at_its_default_pace_fills_its_plots_over_seconds_then_finishes() {
    let _serial = serial();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("example-graphs");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".ron"))
        .collect();
    names.sort();
    assert!(names.len() >= 9);
    for name in &names {
        assert!(
            !example(name).pace.is_max(),
            "{name} chooses a pace a person can follow"
        );
        // One example runs for real; the others six times faster (the same pacing, sooner).
        let speedup = if name == "window-stats.ron" { 1.0 } else { 6.0 };
        // The endless stream is stopped after a while.
        let stop = (name == "regression-stream.ron").then_some(Duration::from_secs(4));
        let (grew_at, took) = watch_example(name, speedup, stop);
        assert_filled_over_time(name, &grew_at);
        println!(
            "{name}: {took:.1} s at {speedup}x, plots grew at {} times",
            grew_at.len()
        );
    }
}

#[test]
fn a_pace_change_in_the_toolbar_takes_effect_during_the_run() {
    let _serial = serial();
    let mut h = editor_opening("window-stats.ron");
    let default = h.state().graph().pace;
    // At 1x its 21 minutes of events would take 21 minutes.
    h.state_mut().run.pace = Some(Pace::Replay(1.0));
    settle(&mut h);
    h.get_by_label("▶ Run").click();
    step_until(&mut h, Duration::from_secs(10), |h| {
        h.state()
            .run
            .session
            .as_ref()
            .is_some_and(|s| s.messages > 20)
    });
    let source = h.state().graph().node_by_name("source").unwrap().id;
    let records = |h: &AppHarness| {
        h.state()
            .run
            .session
            .as_ref()
            .and_then(|s| s.node(source))
            .map_or(0, |n| n.records_out)
    };
    assert!(records(&h) < 1000, "1x is slow: {}", records(&h));
    h.get_by_value("1× event time").click();
    settle(&mut h);
    h.get_by_label("Max").click();
    settle(&mut h);
    assert_eq!(h.state().run.pace, Some(Pace::Max));
    step_until(&mut h, Duration::from_secs(20), |h| {
        phase(h) == Some(RunPhase::Finished)
    });
    assert_eq!(records(&h), 5000, "every event, at full speed once asked");
    // The graph's own default is untouched until asked; then it is an undoable edit.
    assert_eq!(h.state().graph().pace, default);
    h.get_by_label("Make default").click();
    settle(&mut h);
    assert_eq!(h.state().graph().pace, Pace::Max);
    assert!(h.state().doc.is_modified());
}

#[test]
fn a_wire_preview_opened_before_run_shows_records_during_the_run_and_keeps_them() {
    let _serial = serial();
    let g = example("moons.ron");
    let source = g.node_by_name("source").unwrap().id;
    let split = g.node_by_name("split").unwrap().id;
    let mut h = editor_with(g);
    h.state_mut().run.speedup = 4.0;
    // At 100 % around the source, click the wire source → split half way between its ports.
    h.state_mut()
        .commands
        .push(flowbook::app::Command::ResetZoom);
    h.state_mut()
        .commands
        .push(flowbook::app::Command::FocusNode(source));
    settle(&mut h);
    let from = port_pos(&h, source, "out", true);
    let to = port_pos(&h, split, "in", false);
    let mid = from + (to - from) * 0.5;
    click_at(&mut h, mid);
    settle(&mut h);
    assert_eq!(
        h.state().run.preview,
        Some((source, "out".to_owned())),
        "a wire click opens its preview before any run"
    );
    assert!(h.query_all_by_label_contains("Press Run").count() >= 1);
    h.get_by_label("▶ Run").click();
    let rows = |h: &AppHarness| {
        h.state()
            .run
            .session
            .as_ref()
            .and_then(|s| s.node(source))
            .and_then(|n| n.preview.first())
            .map_or(0, |p| p.rows.len())
    };
    step_until(&mut h, Duration::from_secs(20), |h| rows(h) > 0);
    assert_eq!(
        phase(&h),
        Some(RunPhase::Running),
        "records show during the run"
    );
    assert!(h.query_all_by_label_contains("· live").count() >= 1);
    assert!(
        h.query_all_by_label_contains("1970-01-01 00:00:0").count() >= 1,
        "event time reads as a time"
    );
    step_until(&mut h, Duration::from_secs(60), |h| {
        phase(h) == Some(RunPhase::Finished)
    });
    settle(&mut h);
    assert!(
        rows(&h) > 0,
        "a finished run's preview keeps its last records"
    );
    assert!(h.query_all_by_label_contains("newest first").count() >= 1);
}

/// The learning rates a trainer reported over the run, each distinct value once, in order.
fn reported_lrs(h: &AppHarness, trainer: flowbook::graph::NodeId) -> Vec<f64> {
    let points = h
        .state()
        .run
        .session
        .as_ref()
        .and_then(|s| s.metrics.get(&trainer))
        .and_then(|m| m.field("lr"))
        .map(|lr| lr.points())
        .unwrap_or_default();
    let mut values: Vec<f64> = Vec::new();
    for p in points {
        // The trainer reports lr in f32: 0.05 arrives as 0.0500000007.
        let lr = (p[1] * 1e6).round() / 1e6;
        if values.last() != Some(&lr) {
            values.push(lr);
        }
    }
    values
}

/// Types `text` into the focused field one key at a time, drawing frames in between while
/// the run goes on and the plots change.
fn type_slowly(h: &mut AppHarness, text: &str) {
    for c in text.chars() {
        h.event(egui::Event::Text(c.to_string()));
        for _ in 0..3 {
            h.step();
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn a_live_lr_typed_key_by_key_applies_once_on_enter_and_once_on_focus_out_and_undo_reapplies_it() {
    use egui::accesskit::Role;
    use egui::{Key, Modifiers};
    let _serial = serial();
    let mut g = full_speed(example("moons.ron"));
    g.set_param(
        "trainer",
        "epochs",
        flowbook::graph::ParamValue::Int(100_000),
    )
    .unwrap();
    let trainer = g.node_by_name("trainer").unwrap().id;
    let mut h = editor_with(g);
    h.state_mut()
        .commands
        .push(flowbook::app::Command::FocusNode(trainer));
    settle(&mut h);
    let title = node_title_pos(&h, trainer);
    click_at(&mut h, title);
    assert_eq!(h.state().selection.single_node(), Some(trainer));
    h.get_by_label("▶ Run").click();
    step_until(&mut h, Duration::from_secs(30), |h| {
        reported_lrs(h, trainer).len() == 1
            && h.state()
                .run
                .session
                .as_ref()
                .is_some_and(|s| s.messages > 5)
    });
    let first = reported_lrs(&h, trainer);
    let markers = |h: &AppHarness| {
        h.state()
            .run
            .session
            .as_ref()
            .map_or(0, |s| s.markers.len())
    };

    h.get_by_role_and_label(Role::TextInput, "lr (live)")
        .scroll_to_me();
    settle(&mut h);
    h.get_by_role_and_label(Role::TextInput, "lr (live)")
        .click();
    settle(&mut h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    type_slowly(&mut h, "0.05");
    assert_eq!(markers(&h), 0, "nothing applies while typing");
    assert_eq!(
        reported_lrs(&h, trainer),
        first,
        "the trainer still has its lr"
    );
    h.key_press(Key::Enter);
    settle(&mut h);
    step_until(&mut h, Duration::from_secs(10), |h| {
        reported_lrs(h, trainer).last() == Some(&0.05)
    });
    settle(&mut h);
    let session = h.state().run.session.as_ref().unwrap();
    assert_eq!(session.markers.len(), 1, "one marker for one change");
    assert_eq!(session.markers[0].label, "lr = 0.05");
    assert_eq!(
        reported_lrs(&h, trainer),
        [first[0], 0.05],
        "0 and 0.0 never reached the trainer"
    );

    // Leaving the field (Tab) commits too: one more change, one more marker.
    h.get_by_role_and_label(Role::TextInput, "lr (live)")
        .click();
    settle(&mut h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    type_slowly(&mut h, "0.02");
    assert_eq!(markers(&h), 1);
    h.key_press(Key::Tab);
    step_until(&mut h, Duration::from_secs(10), |h| {
        reported_lrs(h, trainer).last() == Some(&0.02)
    });
    settle(&mut h);
    assert_eq!(markers(&h), 2);
    assert_eq!(reported_lrs(&h, trainer), [first[0], 0.05, 0.02]);
    // Two undo steps: one per applied change, none per keystroke.
    h.state_mut().commands.push(flowbook::app::Command::Undo);
    settle(&mut h);
    assert_eq!(
        h.state().graph().node(trainer).unwrap().params.get("lr"),
        Some(&flowbook::graph::ParamValue::Float(0.05))
    );
    // The undo reached the running trainer too, with its own marker.
    step_until(&mut h, Duration::from_secs(10), |h| {
        reported_lrs(h, trainer).last() == Some(&0.05)
    });
    assert_eq!(reported_lrs(&h, trainer), [first[0], 0.05, 0.02, 0.05]);
    let labels = |h: &AppHarness| -> Vec<String> {
        h.state()
            .run
            .session
            .as_ref()
            .map(|s| s.markers.iter().map(|m| m.label.clone()).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        labels(&h).last().map(String::as_str),
        Some("lr = 0.05 (undo)")
    );
    // Ctrl+Shift+Z (Redo) with the canvas focused: the trainer gets 0.02 back.
    // A click on the trainer's title leaves the text field: the keys go to the editor.
    let title = node_title_pos(&h, trainer);
    click_at(&mut h, title);
    settle(&mut h);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    settle(&mut h);
    assert_eq!(
        h.state().graph().node(trainer).unwrap().params.get("lr"),
        Some(&flowbook::graph::ParamValue::Float(0.02))
    );
    step_until(&mut h, Duration::from_secs(10), |h| {
        reported_lrs(h, trainer).last() == Some(&0.02)
    });
    assert_eq!(labels(&h).len(), 4, "one marker per applied change");
    assert_eq!(
        labels(&h).last().map(String::as_str),
        Some("lr = 0.02 (redo)")
    );
    // Ctrl+Z: back to 0.05 in the document and in the trainer.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    settle(&mut h);
    step_until(&mut h, Duration::from_secs(10), |h| {
        reported_lrs(h, trainer).last() == Some(&0.05)
    });
    assert_eq!(labels(&h).len(), 5);
    h.get_by_label("◼ Stop").click();
    step_until(&mut h, Duration::from_secs(5), |h| {
        phase(h) == Some(RunPhase::Stopped)
    });
}

/// Resident memory of this process in MB (Linux).
fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Memory while an endless example runs: the app (headless) runs regression-stream at its
/// default pace for 120 s, drawing frames; resident memory at 120 s stays within 50 MB of its
/// value at 10 s, and Reset gives the run's plot data back.
#[test]
#[ignore = "endurance: cargo test --release --test ui_editor -- --ignored --nocapture memory_stays_flat"]
fn memory_stays_flat_while_an_endless_example_runs() {
    let _serial = serial();
    let seconds: u64 = std::env::var("FLOWBOOK_ENDURANCE_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    let pace = std::env::var("FLOWBOOK_ENDURANCE_PACE")
        .ok()
        .and_then(|p| p.parse::<Pace>().ok());
    let mut g = example("regression-stream.ron");
    if let Some(pace) = pace {
        g.pace = pace;
    }
    let mut h = editor_with(g);
    h.get_by_label("▶ Run").click();
    let started = Instant::now();
    let mut at_10 = None;
    let mut next_print = 10;
    while started.elapsed() < Duration::from_secs(seconds) {
        let frame = Instant::now();
        h.step();
        std::thread::sleep(Duration::from_millis(33).saturating_sub(frame.elapsed()));
        let s = started.elapsed().as_secs();
        if s >= next_print {
            let rss = resident_mb();
            let steps = h.state().run.session.as_ref().map_or(0, |s| {
                s.metrics.values().map(|m| m.series[0].pushed()).sum()
            });
            println!("t = {s:>3} s  resident {rss:7.1} MB  trainer steps {steps}");
            if at_10.is_none() {
                at_10 = Some(rss);
            }
            next_print += 10;
        }
    }
    let end = resident_mb();
    h.get_by_label("⟲ Reset").click();
    settle(&mut h);
    let after_reset = resident_mb();
    let start = at_10.unwrap_or(end);
    println!(
        "resident at 10 s {start:.1} MB, at {seconds} s {end:.1} MB (+{:.1} MB), after Reset {after_reset:.1} MB",
        end - start
    );
    assert!(end - start <= 50.0, "{start:.1} MB → {end:.1} MB");
}
