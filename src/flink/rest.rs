//! A client of Flink's REST API (the job manager's port 8081): upload and run a jar, read a job's
//! status, vertices, accumulators, back-pressure, watermarks and exceptions, cancel or stop it.
//! The HTTP transport is a trait, so tests replay a recorded response set without a cluster.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// What went wrong talking to a cluster. The watcher acts on the difference: an unreachable
/// cluster is polled again for a while (a busy job manager misses a beat), a job Flink no
/// longer knows ends the watch at once.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The address is not a plain http://HOST:PORT.
    #[error("{0}")]
    Address(String),
    /// No HTTP answer at all: refused, timed out, reset.
    #[error("{method} {url}: {reason}")]
    Unreachable {
        method: String,
        url: String,
        reason: String,
    },
    /// Flink answered with an error status; `detail` is its message's first lines.
    #[error("{what}: Flink answered {status}: {detail}")]
    Status {
        what: String,
        status: u16,
        detail: String,
    },
    /// Flink answered, but not with what the request should give.
    #[error("{what}: {detail}")]
    Unexpected { what: String, detail: String },
    /// A local file the request needs (the jar) cannot be read.
    #[error("cannot read '{}': {source}", path.display())]
    File {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl RestError {
    /// Whether asking again later may work (no answer came, or the cluster was busy).
    pub fn is_transient(&self) -> bool {
        match self {
            RestError::Unreachable { .. } => true,
            RestError::Status { status, .. } => *status >= 500,
            RestError::Address(_) | RestError::Unexpected { .. } | RestError::File { .. } => false,
        }
    }

    fn unexpected(what: &str, detail: impl Into<String>) -> Self {
        RestError::Unexpected {
            what: what.to_owned(),
            detail: detail.into(),
        }
    }
}

/// One HTTP exchange: method, path (with query) and body; returns status and body text.
pub trait Http: Send + Sync {
    fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, String), RestError>;
}

/// A shared transport (a test keeps the other handle to read what was asked).
impl<T: Http + ?Sized> Http for std::sync::Arc<T> {
    fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, String), RestError> {
        (**self).request(method, path, content_type, body)
    }
}

/// Real HTTP with `ureq` (plain http://, as Flink's REST endpoint serves by default).
pub struct UreqHttp {
    base: String,
    agent: ureq::Agent,
}

impl UreqHttp {
    pub fn new(base: &str) -> Result<Self, RestError> {
        let base = base.trim().trim_end_matches('/').to_owned();
        if base.starts_with("https://") {
            return Err(RestError::Address(format!(
                "{base}: https is not supported; Flink's REST API is plain http unless security.ssl.rest.enabled is set"
            )));
        }
        if !base.starts_with("http://") {
            return Err(RestError::Address(format!(
                "'{base}' is not a Flink REST address; expected http://HOST:PORT (port 8081 by default)"
            )));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .timeout_connect(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Self { base, agent })
    }
}

impl Http for UreqHttp {
    fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, String), RestError> {
        let url = format!("{}{path}", self.base);
        let failed = |e: ureq::Error| RestError::Unreachable {
            method: method.to_owned(),
            url: url.clone(),
            reason: e.to_string(),
        };
        let mut response = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            "PATCH" => self.agent.patch(&url).send_empty(),
            _ => {
                let request = self.agent.post(&url);
                let request = match content_type {
                    Some(ct) => request.header("Content-Type", ct),
                    None => request,
                };
                request.send(body)
            }
        }
        .map_err(failed)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(failed)?;
        Ok((status, text))
    }
}

/// Requests answered after a job was cancelled are kept apart (`GET /jobs/x after cancel`), so
/// a replay can follow a cancel whenever the test asks for it.
const AFTER_CANCEL: &str = " after cancel";

fn is_cancel(method: &str, path: &str) -> bool {
    method == "PATCH" && path.contains("mode=cancel")
}

/// Records a real cluster's answers for [`Replay`]: every request's response body by
/// `METHOD path`, in order. `to_json` gives the recording.
pub struct Recorder {
    inner: Box<dyn Http>,
    recorded: Mutex<(bool, BTreeMap<String, Vec<Value>>)>,
}

impl Recorder {
    pub fn new(inner: Box<dyn Http>) -> Self {
        Self {
            inner,
            recorded: Mutex::new((false, BTreeMap::new())),
        }
    }

    /// The recording: `{ "GET /path": [body, ...], ... }`.
    pub fn to_json(&self) -> String {
        let map = self
            .recorded
            .lock()
            .map(|r| r.1.clone())
            .unwrap_or_default();
        serde_json::to_string_pretty(&map).unwrap_or_default()
    }
}

impl Http for Recorder {
    fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, String), RestError> {
        let (status, text) = self.inner.request(method, path, content_type, body)?;
        if let Ok(mut recorded) = self.recorded.lock() {
            let cancelled = recorded.0;
            let key = if cancelled && method == "GET" {
                format!("{method} {path}{AFTER_CANCEL}")
            } else {
                format!("{method} {path}")
            };
            let value = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
            recorded.1.entry(key).or_default().push(value);
            recorded.0 |= is_cancel(method, path);
        }
        Ok((status, text))
    }
}

/// Replays recorded responses: each path answers with its recordings in order, repeating the
/// last; after a cancel, recordings made after the cancel answer first. Requests are logged so
/// tests can check what was asked (e.g. the cancel itself).
#[derive(Default)]
pub struct Replay {
    responses: Mutex<BTreeMap<String, Vec<(u16, String)>>>,
    cancelled: Mutex<bool>,
    pub log: Mutex<Vec<String>>,
}

impl Replay {
    /// Adds a response to `method path` (e.g. `GET /jobs/abc`).
    pub fn add(&self, key: &str, status: u16, body: &str) {
        if let Ok(mut map) = self.responses.lock() {
            map.entry(key.to_owned())
                .or_default()
                .push((status, body.to_owned()));
        }
    }

    /// Loads a recorded set: one JSON object `{ "GET /path": [bodies...] }`.
    pub fn from_recording(text: &str) -> Result<Self, RestError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| RestError::unexpected("reading a recording", e.to_string()))?;
        let replay = Replay::default();
        let Some(map) = value.as_object() else {
            return Err(RestError::unexpected(
                "reading a recording",
                "a recording is a JSON object of request → responses",
            ));
        };
        for (key, bodies) in map {
            for body in bodies.as_array().into_iter().flatten() {
                replay.add(key, 200, &body.to_string());
            }
        }
        Ok(replay)
    }

    pub fn requests(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Http for Replay {
    fn request(
        &self,
        method: &str,
        path: &str,
        _content_type: Option<&str>,
        _body: &[u8],
    ) -> Result<(u16, String), RestError> {
        let mut key = format!("{method} {path}");
        if let Ok(mut log) = self.log.lock() {
            log.push(key.clone());
        }
        let cancelled = {
            let mut flag = self.cancelled.lock().map_err(|_| poisoned())?;
            let before = *flag;
            *flag |= is_cancel(method, path);
            before
        };
        let mut map = self.responses.lock().map_err(|_| poisoned())?;
        let after = format!("{key}{AFTER_CANCEL}");
        if cancelled && map.contains_key(&after) {
            key = after;
        }
        let Some(list) = map.get_mut(&key) else {
            return Ok((404, format!("{{\"errors\":[\"not recorded: {key}\"]}}")));
        };
        if list.len() > 1 {
            Ok(list.remove(0))
        } else {
            list.first()
                .cloned()
                .ok_or_else(|| RestError::unexpected(&key, "no response recorded"))
        }
    }
}

fn poisoned() -> RestError {
    RestError::unexpected("replay", "a thread panicked while holding the recording")
}

/// A job's state as Flink names it (RUNNING, FINISHED, FAILED, CANCELED, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct JobState(pub String);

impl JobState {
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.0.as_str(),
            "FINISHED" | "FAILED" | "CANCELED" | "SUSPENDED"
        )
    }
}

/// One vertex (a chain of operators) of a running job.
#[derive(Clone, Debug, PartialEq)]
pub struct Vertex {
    pub id: String,
    pub name: String,
    pub parallelism: usize,
    pub status: String,
    pub read_records: u64,
    pub write_records: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct JobDetails {
    pub state: JobState,
    pub name: String,
    pub duration_ms: i64,
    pub vertices: Vec<Vertex>,
}

/// What failed, from the job's exception history: the root exception and the task it hit.
#[derive(Clone, Debug, PartialEq)]
pub struct JobException {
    pub message: String,
    pub task: Option<String>,
}

/// Flink's REST API over some transport.
pub struct FlinkRest {
    http: Box<dyn Http>,
    base: String,
}

impl std::fmt::Debug for FlinkRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FlinkRest({})", self.base)
    }
}

fn json(status: u16, text: &str, what: &str) -> Result<Value, RestError> {
    let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        let errors: Vec<String> = value
            .get("errors")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let detail = if errors.is_empty() {
            text.chars().take(500).collect()
        } else {
            first_lines(&errors.join("\n"), 12)
        };
        return Err(RestError::Status {
            what: what.to_owned(),
            status,
            detail,
        });
    }
    Ok(value)
}

/// The first `n` lines of a long message (Flink's errors carry whole stack traces).
pub fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().take(n).collect();
    lines.join("\n")
}

fn u64_of(v: Option<&Value>) -> u64 {
    v.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
    .unwrap_or(0)
}

fn str_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_owned()
}

impl FlinkRest {
    /// A client of the cluster at `base` (http://HOST:PORT).
    pub fn connect(base: &str) -> Result<Self, RestError> {
        let http = UreqHttp::new(base)?;
        let base = http.base.clone();
        Ok(Self {
            http: Box::new(http),
            base,
        })
    }

    /// A client over another transport (tests replay recordings).
    pub fn with_http(base: &str, http: Box<dyn Http>) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Flink's own web UI page of a job.
    pub fn web_ui_url(&self, job_id: &str) -> String {
        format!("{}/#/job/running/{job_id}/overview", self.base)
    }

    fn get(&self, path: &str, what: &str) -> Result<Value, RestError> {
        let (status, text) = self.http.request("GET", path, None, &[])?;
        json(status, &text, what)
    }

    /// Task managers and slots: checks that the cluster answers.
    pub fn overview(&self) -> Result<(u64, u64), RestError> {
        let v = self.get("/overview", "cluster overview")?;
        Ok((u64_of(v.get("taskmanagers")), u64_of(v.get("slots-total"))))
    }

    /// Uploads a jar; returns the id Flink gives it.
    pub fn upload_jar(&self, jar: &Path) -> Result<String, RestError> {
        let bytes = std::fs::read(jar).map_err(|source| RestError::File {
            path: jar.to_owned(),
            source,
        })?;
        let boundary = format!(
            "flowbook-{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"flowbook-job.jar\"\r\nContent-Type: application/x-java-archive\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let (status, text) =
            self.http
                .request("POST", "/jars/upload", Some(&content_type), &body)?;
        let v = json(status, &text, "jar upload")?;
        let file = str_of(v.get("filename"));
        let id = file.rsplit('/').next().unwrap_or_default().to_owned();
        if id.is_empty() {
            return Err(RestError::unexpected(
                "jar upload",
                format!("no file name in Flink's answer: {text}"),
            ));
        }
        Ok(id)
    }

    /// Runs an uploaded jar's main class; returns the job id.
    pub fn run_jar(&self, jar_id: &str, entry_class: &str) -> Result<String, RestError> {
        let body = serde_json::json!({ "entryClass": entry_class }).to_string();
        let (status, text) = self.http.request(
            "POST",
            &format!("/jars/{jar_id}/run"),
            Some("application/json"),
            body.as_bytes(),
        )?;
        let v = json(status, &text, "starting the job")?;
        let id = str_of(v.get("jobid"));
        if id.is_empty() {
            return Err(RestError::unexpected(
                "starting the job",
                format!("no job id in Flink's answer: {text}"),
            ));
        }
        Ok(id)
    }

    pub fn delete_jar(&self, jar_id: &str) -> Result<(), RestError> {
        let (status, text) = self
            .http
            .request("DELETE", &format!("/jars/{jar_id}"), None, &[])?;
        json(status, &text, "deleting the jar").map(drop)
    }

    pub fn job(&self, job_id: &str) -> Result<JobDetails, RestError> {
        let v = self.get(&format!("/jobs/{job_id}"), "job status")?;
        let vertices = v
            .get("vertices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|x| Vertex {
                id: str_of(x.get("id")),
                name: str_of(x.get("name")),
                parallelism: u64_of(x.get("parallelism")) as usize,
                status: str_of(x.get("status")),
                read_records: u64_of(x.get("metrics").and_then(|m| m.get("read-records"))),
                write_records: u64_of(x.get("metrics").and_then(|m| m.get("write-records"))),
            })
            .collect();
        Ok(JobDetails {
            state: JobState(str_of(v.get("state"))),
            name: str_of(v.get("name")),
            duration_ms: v.get("duration").and_then(Value::as_i64).unwrap_or(0),
            vertices,
        })
    }

    /// The job's user accumulators (Flowbook's per-node counters), by name.
    pub fn accumulators(&self, job_id: &str) -> Result<BTreeMap<String, u64>, RestError> {
        let v = self.get(&format!("/jobs/{job_id}/accumulators"), "accumulators")?;
        Ok(v.get("user-task-accumulators")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|a| (str_of(a.get("name")), u64_of(a.get("value"))))
            .collect())
    }

    /// The highest back-pressure ratio over a vertex's subtasks (0 = none, 1 = always blocked).
    pub fn backpressure(&self, job_id: &str, vertex: &str) -> Result<f32, RestError> {
        let v = self.get(
            &format!("/jobs/{job_id}/vertices/{vertex}/backpressure"),
            "back-pressure",
        )?;
        Ok(v.get("subtasks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("ratio").and_then(Value::as_f64))
            .fold(0.0, f64::max) as f32)
    }

    /// The lowest input watermark over a vertex's subtasks, once every subtask has one.
    pub fn watermark(&self, job_id: &str, vertex: &str) -> Result<Option<i64>, RestError> {
        let v = self.get(
            &format!("/jobs/{job_id}/vertices/{vertex}/watermarks"),
            "watermarks",
        )?;
        let marks: Vec<i64> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| str_of(m.get("id")).ends_with("currentInputWatermark"))
            .filter_map(|m| {
                let value = m.get("value")?;
                value
                    .as_i64()
                    .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            })
            .collect();
        Ok(marks.iter().copied().min().filter(|&w| w > i64::MIN))
    }

    /// The exception that failed the job, if any.
    pub fn exception(&self, job_id: &str) -> Result<Option<JobException>, RestError> {
        let v = self.get(&format!("/jobs/{job_id}/exceptions"), "exceptions")?;
        let entry = v
            .get("exceptionHistory")
            .and_then(|h| h.get("entries"))
            .and_then(Value::as_array)
            .and_then(|e| e.first());
        let root = v.get("root-exception").and_then(Value::as_str);
        let message = entry
            .and_then(|e| e.get("stacktrace").and_then(Value::as_str))
            .or(root)
            .map(str::to_owned);
        Ok(message.map(|message| JobException {
            message,
            task: entry
                .and_then(|e| e.get("taskName"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        }))
    }

    /// Cancels the job (Stop in Flowbook).
    pub fn cancel(&self, job_id: &str) -> Result<(), RestError> {
        let (status, text) =
            self.http
                .request("PATCH", &format!("/jobs/{job_id}?mode=cancel"), None, &[])?;
        json(status, &text, "cancelling the job").map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rest(replay: Replay) -> FlinkRest {
        FlinkRest::with_http("http://flink:8081", Box::new(replay))
    }

    #[test]
    fn job_vertices_and_accumulators_are_read_from_flinks_json() {
        let replay = Replay::default();
        replay.add(
            "GET /jobs/j1",
            200,
            r#"{"jid":"j1","name":"x","state":"RUNNING","duration":1500,"vertices":[{"id":"v1","name":"Source: source [#1] file -> source [#1]","parallelism":1,"status":"RUNNING","metrics":{"read-records":0,"write-records":120}}]}"#,
        );
        replay.add(
            "GET /jobs/j1/accumulators",
            200,
            r#"{"job-accumulators":[],"user-task-accumulators":[{"name":"flowbook.node.1.out","type":"LongCounter","value":"120"}]}"#,
        );
        let rest = rest(replay);
        let job = rest.job("j1").unwrap();
        assert_eq!(job.state, JobState("RUNNING".into()));
        assert_eq!(job.vertices[0].write_records, 120);
        assert_eq!(rest.accumulators("j1").unwrap()["flowbook.node.1.out"], 120);
    }

    #[test]
    fn flink_errors_are_reported_with_their_first_lines() {
        let replay = Replay::default();
        replay.add(
            "POST /jars/abc_job.jar/run",
            400,
            r#"{"errors":["org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.\nline 2"]}"#,
        );
        let err = rest(replay)
            .run_jar("abc_job.jar", "flowbook.FlowbookJob")
            .unwrap_err();
        assert!(
            matches!(err, RestError::Status { status: 400, .. }),
            "{err:?}"
        );
        assert!(!err.is_transient());
        let err = err.to_string();
        assert!(
            err.contains("starting the job: Flink answered 400")
                && err.contains("Could not execute"),
            "{err}"
        );
    }

    #[test]
    fn only_plain_http_addresses_are_accepted() {
        assert!(
            FlinkRest::connect("https://x:8081")
                .unwrap_err()
                .to_string()
                .contains("https")
        );
        assert!(
            FlinkRest::connect("localhost:8081")
                .unwrap_err()
                .to_string()
                .contains("http://HOST:PORT")
        );
        assert!(FlinkRest::connect("http://127.0.0.1:8081/").is_ok());
    }
}
