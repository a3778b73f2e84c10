//! Running an exported job on a Flink cluster and watching it: a background thread builds the
//! jar, uploads and starts it through the REST API, polls the job about once a second and sends
//! the same telemetry a local run sends (so the CLI summary and the app's cards work as for a
//! local run). Stop cancels the job. What the app shows beyond telemetry (job id, Flink's web
//! UI link, vertices) is in a shared `FlinkRun`.

use super::build::JarError;
use super::export::{FlinkExport, MAIN_CLASS};
use super::rest::{FlinkRest, JobDetails, RestError, first_lines};
use super::spec::JobSpec;
use super::vertices::{
    NodeCounts, StatusInput, VertexSample, describe_vertices, failed_node, node_counts, statuses,
};
use crate::exec::{Control, NodeStatus, Outcome, RunHandle, RunReport, Telemetry, TelemetryWaker};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a Flink run is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlinkPhase {
    #[default]
    Building,
    Submitting,
    Running,
    Finished,
    Failed,
    Cancelled,
}

/// What the app shows about a Flink run besides the nodes' telemetry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlinkRunInfo {
    /// The cluster's REST address.
    pub cluster: String,
    pub phase: FlinkPhase,
    /// What is happening now, in words.
    pub step: String,
    pub job_id: Option<String>,
    /// The job's page in Flink's own web UI.
    pub web_ui: Option<String>,
    /// Flink's job state (RUNNING, FINISHED, ...).
    pub job_state: String,
    /// One line per vertex: its parallelism, status and the nodes it runs.
    pub vertices: Vec<String>,
    pub error: Option<String>,
}

/// Shared view of a Flink run, updated by the watching thread.
#[derive(Clone, Debug, Default)]
pub struct FlinkRun(Arc<Mutex<FlinkRunInfo>>);

impl FlinkRun {
    pub fn info(&self) -> FlinkRunInfo {
        self.0.lock().map(|i| i.clone()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut FlinkRunInfo)) {
        if let Ok(mut info) = self.0.lock() {
            f(&mut info);
        }
    }
}

/// Makes the job's jar (javac and jar; tests hand in a ready file).
pub type JarMaker = Box<dyn FnOnce(&FlinkExport) -> Result<PathBuf, JarError> + Send>;

/// Why a Flink run could not start.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Cluster(#[from] RestError),
    #[error(transparent)]
    Jar(#[from] JarError),
    #[error("cannot start the thread that watches the job: {0}")]
    Thread(std::io::Error),
}

/// How often the job is polled.
pub const POLL: Duration = Duration::from_secs(1);

/// Builds, submits and watches `export` on the cluster at `url` (http://HOST:8081). Returns at
/// once; the work happens on a thread that reports through the handle's telemetry.
/// `waker` is called after each telemetry message (the editor asks for a frame).
pub fn submit(
    export: FlinkExport,
    url: &str,
    waker: Option<TelemetryWaker>,
) -> Result<(RunHandle, FlinkRun), SubmitError> {
    let rest = FlinkRest::connect(url)?;
    let home = super::build::flink_home()?;
    let dir = std::env::temp_dir().join(format!(
        "flowbook-flink-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let make: JarMaker = Box::new(move |export| super::build::build_jar(export, &dir, &home));
    watch(export, rest, make, POLL, waker)
}

/// Watches a job on `rest`, its jar made by `make`. (The seam tests use with a replayed cluster.)
pub fn watch(
    export: FlinkExport,
    rest: FlinkRest,
    make: JarMaker,
    poll: Duration,
    waker: Option<TelemetryWaker>,
) -> Result<(RunHandle, FlinkRun), SubmitError> {
    let (control_tx, control_rx) = unbounded();
    let (telemetry_tx, telemetry_rx) = unbounded();
    let run = FlinkRun::default();
    run.update(|i| {
        i.cluster = rest.base().to_owned();
        i.step = "compiling the job".into();
    });
    let watcher = Watcher {
        job: export.job.clone(),
        export,
        rest,
        run: run.clone(),
        controls: control_rx,
        telemetry: telemetry_tx,
        poll,
        started: Instant::now(),
        stop_requested: false,
        waker,
    };
    let monitor = std::thread::Builder::new()
        .name("flink-watch".into())
        .spawn(move || watcher.run(make))
        .map_err(SubmitError::Thread)?;
    Ok((RunHandle::external(control_tx, telemetry_rx, monitor), run))
}

struct Watcher {
    export: FlinkExport,
    job: JobSpec,
    rest: FlinkRest,
    run: FlinkRun,
    controls: Receiver<Control>,
    telemetry: Sender<Telemetry>,
    poll: Duration,
    started: Instant,
    stop_requested: bool,
    waker: Option<TelemetryWaker>,
}

/// Consecutive failed polls (no answer, or a busy cluster's 5xx) after which the cluster
/// counts as lost. Any other error (the job is unknown, the answer is not a job) ends at once.
const LOST_AFTER: u32 = 15;

/// What the user reads when the watch ends without the job's own end.
fn lost_job_message(job_id: &str, error: &RestError) -> String {
    match error {
        RestError::Status { status: 404, .. } => {
            format!("Flink no longer knows job {job_id} (was the cluster restarted?): {error}")
        }
        _ if error.is_transient() => format!("lost contact with Flink: {error}"),
        _ => format!("cannot follow job {job_id}: {error}"),
    }
}

impl Watcher {
    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn send(&self, message: Telemetry) {
        let _ = self.telemetry.send(message);
        if let Some(waker) = &self.waker {
            waker.wake();
        }
    }

    fn progress(&self, nodes: Vec<NodeStatus>) {
        self.send(Telemetry::Progress {
            elapsed_s: self.elapsed(),
            nodes,
            metrics: Vec::new(),
            windows: Vec::new(),
            late: Vec::new(),
            insights: Vec::new(),
        });
    }

    fn finish(&self, outcome: Outcome, nodes: Vec<NodeStatus>) -> RunReport {
        let report = RunReport {
            outcome,
            elapsed_s: self.elapsed(),
            nodes,
        };
        self.send(Telemetry::Done(report.clone()));
        report
    }

    /// Statuses before the job exists: every node waiting, nothing counted.
    fn idle_statuses(&self) -> Vec<NodeStatus> {
        let counts = node_counts(&self.job, &BTreeMap::new());
        statuses(&StatusInput {
            job: &self.job,
            details: None,
            counts: &counts,
            samples: &[],
            previous: None,
            failure: None,
        })
    }

    fn fail_before_start(&self, message: String) -> RunReport {
        self.run.update(|i| {
            i.phase = FlinkPhase::Failed;
            i.error = Some(message.clone());
        });
        let mut nodes = self.idle_statuses();
        for n in &mut nodes {
            n.state = crate::exec::NodeState::Stopped;
        }
        self.finish(
            Outcome::Failed {
                node: "flink".into(),
                message,
            },
            nodes,
        )
    }

    /// Applies the controls that arrived since the last look.
    fn take_controls(&mut self, job_id: Option<&str>) {
        while let Ok(control) = self.controls.try_recv() {
            self.apply(control, job_id);
        }
    }

    fn apply(&mut self, control: Control, job_id: Option<&str>) {
        match control {
            // Flink cannot pause a job; ending it early cancels it (outputs are not written).
            Control::Stop | Control::Finish => {
                if !self.stop_requested {
                    self.stop_requested = true;
                    if let Some(id) = job_id {
                        let result = self.rest.cancel(id);
                        self.run.update(|i| {
                            i.step = match &result {
                                Ok(()) => "cancelling the job".into(),
                                Err(e) => format!("cannot cancel: {e}"),
                            };
                        });
                    }
                }
            }
            Control::Pause
            | Control::Resume
            | Control::Step
            | Control::SetParam { .. }
            | Control::Preview { .. }
            // A cluster job runs at its own speed.
            | Control::SetPace(_) => {}
        }
    }

    fn run(mut self, make: JarMaker) -> RunReport {
        self.progress(self.idle_statuses());
        let jar = match make(&self.export) {
            Ok(jar) => jar,
            Err(e) => return self.fail_before_start(format!("building the job: {e}")),
        };
        self.take_controls(None);
        if self.stop_requested {
            return self.finish(Outcome::Stopped, self.idle_statuses());
        }
        self.run.update(|i| {
            i.phase = FlinkPhase::Submitting;
            i.step = format!("uploading the job to {}", i.cluster);
        });
        let jar_id = match self.rest.upload_jar(&jar) {
            Ok(id) => id,
            Err(e) => return self.fail_before_start(e.to_string()),
        };
        let job_id = match self.rest.run_jar(&jar_id, MAIN_CLASS) {
            Ok(id) => id,
            Err(e) => {
                let _ = self.rest.delete_jar(&jar_id);
                return self.fail_before_start(e.to_string());
            }
        };
        let web_ui = self.rest.web_ui_url(&job_id);
        self.run.update(|i| {
            i.phase = FlinkPhase::Running;
            i.step = "running".into();
            i.job_id = Some(job_id.clone());
            i.web_ui = Some(web_ui.clone());
        });
        let report = self.watch_job(&job_id);
        let _ = self.rest.delete_jar(&jar_id);
        report
    }

    fn watch_job(&mut self, job_id: &str) -> RunReport {
        let mut previous: Option<(Vec<NodeCounts>, Instant)> = None;
        let mut last_nodes: Option<Vec<NodeStatus>> = None;
        let mut accumulators = BTreeMap::new();
        let mut failures = 0u32;
        let last = loop {
            let poll_started = Instant::now();
            self.take_controls(Some(job_id));
            match self.rest.job(job_id) {
                Ok(details) => {
                    failures = 0;
                    if let Ok(acc) = self.rest.accumulators(job_id) {
                        accumulators = acc;
                    }
                    let samples = self.sample_vertices(job_id, &details);
                    let counts = node_counts(&self.job, &accumulators);
                    // Flink's counters move with its heartbeats, not with every poll: a poll
                    // that saw no new counts keeps the last rates instead of reporting zero.
                    let unchanged = previous
                        .as_ref()
                        .is_some_and(|(before, _)| *before == counts);
                    let mut nodes = statuses(&StatusInput {
                        job: &self.job,
                        details: Some(&details),
                        counts: &counts,
                        samples: &samples,
                        previous: previous
                            .as_ref()
                            .filter(|_| !unchanged)
                            .map(|(c, at)| (c.as_slice(), at.elapsed().as_secs_f64())),
                        failure: None,
                    });
                    if unchanged && let Some(last) = &last_nodes {
                        for (node, before) in nodes.iter_mut().zip(last) {
                            node.in_per_s = before.in_per_s;
                            node.out_per_s = before.out_per_s;
                        }
                    }
                    let lines = describe_vertices(&self.job, &details.vertices);
                    self.run.update(|i| {
                        i.job_state = details.state.0.clone();
                        i.vertices = lines;
                    });
                    if details.state.is_terminal() {
                        break details;
                    }
                    self.progress(nodes.clone());
                    last_nodes = Some(nodes);
                    if !unchanged {
                        previous = Some((counts, Instant::now()));
                    }
                }
                Err(e) => {
                    failures += 1;
                    if failures >= LOST_AFTER || !e.is_transient() {
                        let message = lost_job_message(job_id, &e);
                        self.run.update(|i| {
                            i.phase = FlinkPhase::Failed;
                            i.error = Some(message.clone());
                        });
                        return self.finish(
                            Outcome::Failed {
                                node: "flink".into(),
                                message,
                            },
                            self.idle_statuses(),
                        );
                    }
                }
            }
            let wait = self.poll.saturating_sub(poll_started.elapsed());
            match self.controls.recv_timeout(wait) {
                Ok(control) => self.apply(control, Some(job_id)),
                Err(RecvTimeoutError::Timeout) => {}
                // Nobody holds the handle any more: end the job rather than leave it running.
                Err(RecvTimeoutError::Disconnected) => self.apply(Control::Stop, Some(job_id)),
            }
        };
        self.final_report(job_id, Some(last))
    }

    fn sample_vertices(&self, job_id: &str, details: &JobDetails) -> Vec<VertexSample> {
        details
            .vertices
            .iter()
            .map(|v| {
                if v.status != "RUNNING" {
                    return VertexSample::default();
                }
                VertexSample {
                    backpressure: self.rest.backpressure(job_id, &v.id).unwrap_or(0.0),
                    watermark: self.rest.watermark(job_id, &v.id).ok().flatten(),
                }
            })
            .collect()
    }

    fn final_report(&self, job_id: &str, details: Option<JobDetails>) -> RunReport {
        let accumulators = self.rest.accumulators(job_id).unwrap_or_default();
        let counts = node_counts(&self.job, &accumulators);
        let state = details
            .as_ref()
            .map(|d| d.state.0.clone())
            .unwrap_or_default();
        let failure = if state == "FAILED" {
            let exception = self.rest.exception(job_id).ok().flatten();
            let (message, task) = exception
                .map(|e| (e.message, e.task))
                .unwrap_or_else(|| ("the job failed (Flink gave no exception)".into(), None));
            let node = failed_node(&self.job, &message, task.as_deref());
            Some((node, readable_failure(&message)))
        } else {
            None
        };
        let nodes = statuses(&StatusInput {
            job: &self.job,
            details: details.as_ref(),
            counts: &counts,
            samples: &[],
            previous: None,
            failure: failure
                .as_ref()
                .and_then(|(node, m)| node.map(|n| (n, m.clone()))),
        });
        let outcome = match (state.as_str(), &failure) {
            ("FINISHED", _) => Outcome::Finished,
            (_, Some((node, message))) => Outcome::Failed {
                node: node
                    .and_then(|id| self.job.node(id))
                    .map_or_else(|| "flink job".to_owned(), |n| n.name.clone()),
                message: message.clone(),
            },
            _ => Outcome::Stopped,
        };
        self.run.update(|i| {
            i.phase = match &outcome {
                Outcome::Finished => FlinkPhase::Finished,
                Outcome::Stopped => FlinkPhase::Cancelled,
                Outcome::Failed { .. } => FlinkPhase::Failed,
            };
            i.step = match &outcome {
                Outcome::Finished => "finished".into(),
                Outcome::Stopped => "cancelled".into(),
                Outcome::Failed { message, .. } => format!("failed: {message}"),
            };
            if let Outcome::Failed { message, .. } = &outcome {
                i.error = Some(message.clone());
            }
            i.job_state = state.clone();
        });
        self.finish(outcome, nodes)
    }
}

/// The useful part of a Flink stack trace: Flowbook's own message if there is one, else the
/// innermost cause's first line.
pub fn readable_failure(trace: &str) -> String {
    if let Some(at) = trace.find("[flowbook node ") {
        let line = trace[at..].lines().next().unwrap_or_default();
        let message = line.split_once("] ").map_or(line, |(_, m)| m);
        return message.trim().to_owned();
    }
    let cause = trace
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("Caused by: "));
    cause
        .map(str::to_owned)
        .unwrap_or_else(|| first_lines(trace, 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flink::rest::Replay;

    /// A cluster that takes the jar and starts job `j1`, then answers 404 for it (restarted).
    fn forgetful_cluster() -> FlinkRest {
        let replay = Replay::default();
        replay.add(
            "POST /jars/upload",
            200,
            r#"{"filename":"/tmp/x/abc_job.jar"}"#,
        );
        replay.add("POST /jars/abc_job.jar/run", 200, r#"{"jobid":"j1"}"#);
        replay.add("DELETE /jars/abc_job.jar", 200, "{}");
        replay.add(
            "GET /jobs/j1",
            404,
            r#"{"errors":["org.apache.flink.runtime.rest.NotFoundException: Job j1 not found"]}"#,
        );
        FlinkRest::with_http("http://flink:8081", Box::new(replay))
    }

    fn window_stats_export() -> FlinkExport {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let file = root.join("example-graphs/window-stats.ron");
        let graph = crate::graph::load(&file).expect("the example loads");
        let plan = crate::plan::plan_in(&graph, &crate::paths::GraphLocation::of_file(&file))
            .expect("the example plans");
        crate::flink::export(&graph, &plan, "window-stats.ron").expect("the example exports")
    }

    #[test]
    fn a_job_the_cluster_no_longer_knows_ends_the_watch_at_once() {
        // The replayed cluster never looks at the jar: any file will do.
        let make: JarMaker =
            Box::new(|_| Ok(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")));
        let (handle, run) = watch(
            window_stats_export(),
            forgetful_cluster(),
            make,
            Duration::from_millis(10),
            None,
        )
        .expect("the watch starts");
        let report = handle.wait();
        let Outcome::Failed { message, .. } = &report.outcome else {
            panic!("expected a failure, got {:?}", report.outcome);
        };
        assert!(message.contains("no longer knows job j1"), "{message}");
        assert_eq!(run.info().phase, FlinkPhase::Failed);
    }

    #[test]
    fn only_missing_answers_and_busy_clusters_are_worth_asking_again() {
        let unreachable = RestError::Unreachable {
            method: "GET".into(),
            url: "http://flink:8081/jobs/j1".into(),
            reason: "connection refused".into(),
        };
        let status = |status| RestError::Status {
            what: "job status".into(),
            status,
            detail: String::new(),
        };
        assert!(unreachable.is_transient());
        assert!(status(503).is_transient());
        assert!(!status(404).is_transient());
        assert!(lost_job_message("j1", &unreachable).starts_with("lost contact with Flink"));
        assert!(lost_job_message("j1", &status(400)).starts_with("cannot follow job j1"));
    }

    #[test]
    fn failures_read_as_flowbooks_message_or_the_innermost_cause() {
        let trace = "org.apache.flink.runtime.JobException: Recovery is suppressed\n\tat x\nCaused by: flowbook.NodeFailure: [flowbook node 3 'map'] `x = 1 / 0` failed for key=a ts=5: division of 1 by zero\n\tat y";
        assert_eq!(
            readable_failure(trace),
            "`x = 1 / 0` failed for key=a ts=5: division of 1 by zero"
        );
        let other = "JobException: x\nCaused by: java.io.IOException: disk full\n\tat z";
        assert_eq!(readable_failure(other), "java.io.IOException: disk full");
    }
}
