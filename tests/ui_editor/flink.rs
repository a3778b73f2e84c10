//! Run ▸ Run on Flink cluster…, driven as a person would, against a recorded cluster: the REST
//! answers of real Flink 2.3 jobs (tests/data/flink/rest/*.json, recorded by
//! `record_rest_responses` in tests/flink_cluster.rs) are replayed, so no cluster is needed.
//! The job's counts, states and failure reach the same cards a local run fills; Stop cancels.

use crate::common::{example, root};
use crate::run::{phase, step_until};
use crate::support::*;
use egui_kittest::kittest::Queryable;
use flowbook::app::run::flink::FlinkConnector;
use flowbook::app::run::session::RunPhase;
use flowbook::exec::NodeState;
use flowbook::flink::rest::{FlinkRest, Replay};
use flowbook::flink::watch::{FlinkPhase, JarMaker, watch};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A connector replaying `recording`; the replay (and what it was asked) lands in `seen`.
fn replayed(recording: &str, seen: Arc<Mutex<Option<Arc<Replay>>>>) -> FlinkConnector {
    let path = root().join(format!("tests/data/flink/rest/{recording}.json"));
    Arc::new(move |export, url, waker| {
        let text = std::fs::read_to_string(&path).expect("the recording");
        let replay = Arc::new(Replay::from_recording(&text)?);
        *seen.lock().unwrap() = Some(Arc::clone(&replay));
        let rest = FlinkRest::with_http(url, Box::new(replay));
        // The recorded cluster never looks at the jar: any file will do.
        let make: JarMaker = Box::new(|_| Ok(root().join("Cargo.toml")));
        watch(export, rest, make, Duration::from_millis(20), waker)
    })
}

/// window-stats.ron opened from its file (its data path is relative to it), at parallelism 2
/// as in the recording.
fn window_stats_on(recording: &str) -> (AppHarness, Arc<Mutex<Option<Arc<Replay>>>>) {
    let mut graph = example("window-stats.ron");
    graph
        .set_param(
            "partition",
            "parallelism",
            flowbook::graph::ParamValue::Int(2),
        )
        .unwrap();
    let mut h = editor();
    h.state_mut()
        .set_document(graph, Some(root().join("example-graphs/window-stats.ron")));
    settle(&mut h);
    let seen = Arc::new(Mutex::new(None));
    h.state_mut().run.flink_connect = replayed(recording, Arc::clone(&seen));
    (h, seen)
}

/// Opens the dialog from the Run menu, types the address key by key, presses Run on Flink.
fn run_on_flink(h: &mut AppHarness, address: &str) {
    menu(h, "Run", "Run on Flink cluster…");
    assert_eq!(
        h.state().run.flink_dialog.as_deref(),
        Some(flowbook::flink::DEFAULT_URL),
        "the dialog offers the remembered address"
    );
    h.state_mut().run.flink_dialog = Some(String::new());
    settle(h);
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "REST address")
        .click();
    settle(h);
    for c in address.chars() {
        h.event(egui::Event::Text(c.to_string()));
        h.step();
    }
    h.get_by_label("Run on Flink").click();
    settle(h);
}

fn status(h: &AppHarness, node: &str) -> flowbook::exec::NodeStatus {
    let app = h.state();
    let id = app.graph().node_by_name(node).unwrap().id;
    app.run.session.as_ref().unwrap().node(id).cloned().unwrap()
}

#[test]
fn a_finished_flink_job_fills_the_cards_and_links_its_web_ui() {
    let (mut h, seen) = window_stats_on("finished");
    run_on_flink(&mut h, "http://flink.example:8081");
    step_until(&mut h, Duration::from_secs(30), |h| {
        phase(h) == Some(RunPhase::Finished)
    });
    settle(&mut h);
    assert_eq!(
        h.state().settings.flink_url,
        "http://flink.example:8081",
        "the address is remembered"
    );
    let info = h
        .state()
        .run
        .session
        .as_ref()
        .unwrap()
        .flink
        .as_ref()
        .unwrap()
        .info();
    assert_eq!(info.phase, FlinkPhase::Finished);
    let job = info.job_id.clone().unwrap();
    assert_eq!(
        info.web_ui.as_deref(),
        Some(format!("http://flink.example:8081/#/job/running/{job}/overview").as_str())
    );
    assert!(
        info.vertices
            .iter()
            .any(|v| v.contains("source, watermark (chained")),
        "chained nodes are said to share a vertex: {:?}",
        info.vertices
    );
    // The same numbers a local run of window-stats gives (p=2), on the same cards.
    let window = status(&h, "window");
    assert_eq!(
        (window.records_in, window.window_firings, window.late),
        (5000, 2748, 52)
    );
    assert_eq!(window.state, NodeState::Finished);
    assert_eq!(status(&h, "sink").records_in, 2748);
    assert_eq!(status(&h, "late_sink").records_in, 52);
    assert!(
        h.query_by_label("Flink web UI ↗").is_some(),
        "the toolbar links the job"
    );
    let asked = seen.lock().unwrap().clone().unwrap().requests();
    assert!(asked.iter().any(|r| r == "POST /jars/upload"), "{asked:?}");
    assert!(
        asked.iter().any(|r| r.starts_with("DELETE /jars/")),
        "the jar is removed afterwards"
    );
}

#[test]
fn a_failed_flink_job_shows_flinks_exception_on_its_node() {
    let (mut h, _seen) = window_stats_on("failed");
    run_on_flink(&mut h, "http://127.0.0.1:8081");
    step_until(&mut h, Duration::from_secs(30), |h| {
        matches!(phase(h), Some(RunPhase::Failed { .. }))
    });
    settle(&mut h);
    let Some(RunPhase::Failed { node, message }) = phase(&h) else {
        unreachable!()
    };
    assert_eq!(node, "source");
    assert!(
        message.contains("row 4: column 'ts_ms': 'oops' is not an integer time in ms"),
        "{message}"
    );
    let source = status(&h, "source");
    assert_eq!(source.state, NodeState::Failed);
    assert!(source.error.unwrap_or_default().contains("'oops'"));
    assert_eq!(
        status(&h, "window").state,
        NodeState::Stopped,
        "the others were stopped by it"
    );
    // The app stays usable: the graph is untouched and can be edited.
    assert_eq!(h.state().graph().nodes.len(), 7);
}

#[test]
fn stop_cancels_a_running_flink_job() {
    let endless = flowbook::graph::load(&root().join("tests/data/flink/rest/endless.ron")).unwrap();
    let mut h = editor_with(endless);
    let seen = Arc::new(Mutex::new(None));
    h.state_mut().run.flink_connect = replayed("cancelled", Arc::clone(&seen));
    run_on_flink(&mut h, "http://127.0.0.1:8081");
    step_until(&mut h, Duration::from_secs(30), |h| {
        h.state().run.session.as_ref().is_some_and(|s| {
            s.flink
                .as_ref()
                .is_some_and(|f| f.info().job_state == "RUNNING")
                && s.nodes
                    .values()
                    .any(|n| n.name == "source" && n.records_out > 0)
        })
    });
    h.step();
    h.get_by_label("Pause").click();
    settle(&mut h);
    assert_eq!(
        phase(&h),
        Some(RunPhase::Running),
        "a Flink job cannot pause"
    );
    h.get_by_label("◼ Stop").click();
    step_until(&mut h, Duration::from_secs(30), |h| {
        phase(h) == Some(RunPhase::Stopped)
    });
    let asked = seen.lock().unwrap().clone().unwrap().requests();
    assert!(
        asked
            .iter()
            .any(|r| r.starts_with("PATCH /jobs/") && r.ends_with("?mode=cancel")),
        "Stop cancelled the job: {asked:?}"
    );
    let info = h
        .state()
        .run
        .session
        .as_ref()
        .unwrap()
        .flink
        .as_ref()
        .unwrap()
        .info();
    assert_eq!(info.phase, FlinkPhase::Cancelled);
}
