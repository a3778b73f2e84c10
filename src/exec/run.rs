//! Starting a run: lays the plan out as tasks (chains of operators joined by local edges),
//! exchanges and bounded channels; spawns one thread per task instance and a monitor that
//! applies controls, samples counters into telemetry and reports how the run ended.

use super::build::{BuildContext, Built, PassThrough, build};
use super::control::{Control, Shared};
use super::exchange::{Exchange, Message};
use super::lanes::Lanes;
use super::layout::{Layout, ThreadMap};
use super::monitor::{Monitor, TelemetryWaker, telemetry_channel};
use super::pace::PaceCell;
use super::taps::{SkewTap, preview_headers};
use super::task::{Route, Task, TaskError, TaskInput, TaskNode};
use super::telemetry::{NodeCounters, Outcome, RunReport, Telemetry};
use super::window_tap::WindowTap;
use crate::catalog::NodeKind;
use crate::graph::Pace;
use crate::plan::{LogicalPlan, OpSpec, Routing};
use crate::stream::Outputs;
use crate::stream::partition::Strategy;
use crate::stream::sources::Split;
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Tuning of a run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Records per batch a source emits (batches are what channels carry).
    pub batch_size: usize,
    /// Batches a channel holds before the sender waits (back-pressure).
    pub channel_capacity: usize,
    /// How often telemetry is sampled.
    pub tick: Duration,
    /// Called after each telemetry message (e.g. to wake an editor's event loop).
    pub waker: Option<TelemetryWaker>,
    /// How fast sources and trainers go at the start (`Control::SetPace` changes it).
    pub pace: Pace,
    /// Multiplies every paced speed (tests run paced graphs faster, behaving the same).
    pub speedup: f64,
    /// Nodes whose data previews are kept from the first record (a preview opened before
    /// the run); `Control::Preview` turns others on later.
    pub previews: Vec<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            batch_size: std::env::var("FB_BATCH")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1024),
            channel_capacity: 8,
            tick: Duration::from_millis(100),
            waker: None,
            pace: Pace::Max,
            speedup: 1.0,
            previews: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{node}: {message}")]
    Node { node: String, message: String },
    #[error("cannot start a thread: {0}")]
    Thread(String),
    #[error(
        "the graph would run on {0} threads; the limit is {MAX_THREADS}: lower some parallelism or use fewer Partition and Merge nodes"
    )]
    TooManyThreads(usize),
}

/// Why a live parameter change was refused; nothing was sent to the run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SetParamError {
    #[error("no node named '{0}'")]
    NoNode(String),
    #[error("{node} has no parameter '{param}'")]
    NoParam { node: String, param: String },
    /// The parameter exists but only takes effect when a run starts.
    #[error("{node}.{param} cannot change while running")]
    NotLive { node: String, param: String },
    /// The value does not fit the parameter; `error.nearest_allowed()` is the closest that does.
    #[error("{node}.{param} {error}")]
    OutOfRange {
        node: String,
        param: String,
        error: crate::catalog::ValueError,
    },
}

/// Most threads one run may start (one per task). A machine has few cores; beyond this the
/// threads only wait for each other.
pub const MAX_THREADS: usize = 2048;

/// A running graph: send controls, read telemetry, wait for the report.
pub struct RunHandle {
    /// Node name → kind, to check live parameter changes before sending them.
    kinds: BTreeMap<String, NodeKind>,
    control: Sender<Control>,
    telemetry: Receiver<Telemetry>,
    monitor: Option<JoinHandle<RunReport>>,
    /// How the run was mapped to threads (`None` for a run driven elsewhere).
    threads: Option<ThreadMap>,
}

impl RunHandle {
    /// A handle over a run driven somewhere else (a job on an Apache Flink cluster): controls
    /// go to `control`, telemetry comes from `telemetry`, and `monitor` returns the final report
    /// after sending it as `Telemetry::Done`. Live parameter changes are refused.
    pub fn external(
        control: Sender<Control>,
        telemetry: Receiver<Telemetry>,
        monitor: JoinHandle<RunReport>,
    ) -> Self {
        Self {
            kinds: BTreeMap::new(),
            control,
            telemetry,
            monitor: Some(monitor),
            threads: None,
        }
    }

    /// How the run was mapped to threads: each chain of nodes on one thread, its instances,
    /// and whether there are more threads than cores (`ThreadMap::summary`).
    pub fn threads(&self) -> Option<&ThreadMap> {
        self.threads.as_ref()
    }

    pub fn send(&self, control: Control) {
        // The monitor outlives every task; if it is gone the run is over and there is nothing to tell.
        let _ = self.control.send(control);
    }

    /// Changes a live parameter (one the catalogue marks live, e.g. a trainer's `lr`) while the
    /// graph runs; the value is checked against the parameter's range first.
    pub fn set_param(&self, node: &str, param: &str, value: f64) -> Result<(), SetParamError> {
        let kind = self
            .kinds
            .get(node)
            .ok_or_else(|| SetParamError::NoNode(node.to_owned()))?;
        let names = || (node.to_owned(), param.to_owned());
        let spec = kind.spec().param(param).ok_or_else(|| {
            let (node, param) = names();
            SetParamError::NoParam { node, param }
        })?;
        if !spec.live {
            let (node, param) = names();
            return Err(SetParamError::NotLive { node, param });
        }
        crate::catalog::check_value(spec, &crate::graph::ParamValue::Float(value)).map_err(
            |error| {
                let (node, param) = names();
                SetParamError::OutOfRange { node, param, error }
            },
        )?;
        self.send(Control::SetParam {
            node: node.to_owned(),
            param: param.to_owned(),
            value,
        });
        Ok(())
    }

    /// Changes how fast the run goes from now on.
    pub fn set_pace(&self, pace: Pace) {
        self.send(Control::SetPace(pace));
    }

    /// Starts or stops keeping the last records of `node`'s outputs for a data preview.
    pub fn watch_preview(&self, node: &str, on: bool) {
        self.send(Control::Preview {
            node: node.to_owned(),
            on,
        });
    }

    pub fn telemetry(&self) -> &Receiver<Telemetry> {
        &self.telemetry
    }

    pub fn is_done(&self) -> bool {
        self.monitor.as_ref().is_none_or(|m| m.is_finished())
    }

    /// Waits for the end of the run; every thread of the run has been joined on return.
    pub fn wait(mut self) -> RunReport {
        self.join()
    }

    fn join(&mut self) -> RunReport {
        let Some(monitor) = self.monitor.take() else {
            return RunReport {
                outcome: Outcome::Stopped,
                elapsed_s: 0.0,
                nodes: Vec::new(),
            };
        };
        monitor.join().unwrap_or_else(|_| RunReport {
            outcome: Outcome::Failed {
                node: "executor".into(),
                message: "the run monitor panicked".into(),
            },
            elapsed_s: 0.0,
            nodes: Vec::new(),
        })
    }
}

impl Drop for RunHandle {
    fn drop(&mut self) {
        if self.monitor.is_some() {
            self.send(Control::Stop);
            self.join();
        }
    }
}

/// Is the wire into input `j` of `consumer` a local (same thread) hand-over?
fn is_local(plan: &LogicalPlan, consumer: usize, j: usize) -> bool {
    plan.nodes
        .get(consumer)
        .and_then(|c| c.inputs.get(j))
        .is_some_and(|input| input.routing == Routing::Local)
}

/// Layers and Loss run inside their Trainer's operator: they get no task of their own.
fn runs(owners: &[Option<usize>], index: usize) -> bool {
    owners.get(index).is_some_and(|owner| owner.is_none())
}

/// The exchange strategy of a non-local wire and the downstream instances upstream instance
/// `u` feeds, from the wire's routing.
fn exchange_targets(
    plan: &LogicalPlan,
    consumer: usize,
    j: usize,
    u: usize,
) -> (Strategy, Vec<usize>) {
    let pc = plan.nodes.get(consumer).map_or(1, |c| c.parallelism);
    let routing = plan
        .nodes
        .get(consumer)
        .and_then(|c| c.inputs.get(j))
        .map_or(Routing::Local, |input| input.routing);
    let strategy = match routing {
        Routing::FirstInstance => return (Strategy::Forward, vec![0]),
        Routing::Exchange(strategy) => strategy,
        Routing::Local => Strategy::Forward,
    };
    let targets = if pc == 1 {
        vec![0]
    } else if strategy == Strategy::Forward {
        vec![u % pc]
    } else {
        (0..pc).collect()
    };
    (strategy, targets)
}

/// Starts a run of a validated plan.
pub fn start(plan: &LogicalPlan, options: RunOptions) -> Result<RunHandle, StartError> {
    let owners = plan.model_owners();
    let layout = Layout::of(plan, super::threads_available());
    let thread_map = layout.threads(plan);
    let counters: Vec<Arc<NodeCounters>> = plan
        .nodes
        .iter()
        .enumerate()
        .map(|(index, n)| {
            let headers = n
                .catalog()
                .outputs
                .iter()
                .enumerate()
                .map(|(port, spec)| {
                    let schema = n.outputs.get(port).cloned().unwrap_or_default();
                    preview_headers(spec.ty, &schema)
                })
                .collect();
            let instances = layout.instances.get(index).copied().unwrap_or(1);
            let mut counters = NodeCounters::new(n.id, &n.name, instances).with_ports(headers);
            if matches!(n.spec, OpSpec::Partition { .. }) {
                counters = counters.with_skew();
            }
            counters.owner = owners.get(index).copied().flatten();
            // A trainer's port 0 carries metrics records.
            let metric_fields = if let OpSpec::Trainer(_) = n.spec {
                n.outputs
                    .first()
                    .map(|s| s.fields.clone())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            let counters = counters.with_metric_fields(metric_fields);
            if options.previews.contains(&n.name) {
                counters.preview.set_watching(true);
            }
            Arc::new(counters)
        })
        .collect();
    // Channels of every exchange wire: senders at (from, u, consumer, j), receivers at (consumer, d).
    let mut senders = Senders::new();
    let mut receivers = Receivers::new();
    let mut lane_ports: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (c, node) in plan.nodes.iter().enumerate() {
        if !runs(&owners, c) {
            continue;
        }
        for (j, input) in node.inputs.iter().enumerate() {
            if is_local(plan, c, j) {
                continue;
            }
            // A split source chain's instances all feed one lane of each consumer instance.
            let ordered = layout.ordered_input(plan, c, j);
            let mut ordered_lanes: BTreeMap<usize, usize> = BTreeMap::new();
            for u in 0..layout.instances[input.from] {
                let (strategy, targets) = exchange_targets(plan, c, j, u);
                let mut txs = Vec::new();
                for d in targets {
                    let (tx, rx) = bounded(options.channel_capacity);
                    txs.push(tx);
                    let ports = lane_ports.entry((c, d)).or_default();
                    let lane = match ordered_lanes.get(&d) {
                        Some(&lane) if ordered => lane,
                        _ => {
                            ports.push(input.port);
                            ordered_lanes.insert(d, ports.len() - 1);
                            ports.len() - 1
                        }
                    };
                    receivers.entry((c, d)).or_default().push((rx, lane));
                }
                senders.insert((input.from, u, c, j), (strategy, txs));
            }
        }
    }
    let heads: Vec<usize> = (0..plan.nodes.len())
        .filter(|&h| {
            let inputs = plan.nodes.get(h).map_or(0, |n| n.inputs.len());
            runs(&owners, h) && (0..inputs).all(|j| !is_local(plan, h, j))
        })
        .collect();
    let threads = thread_map.thread_count();
    if threads > MAX_THREADS {
        return Err(StartError::TooManyThreads(threads));
    }
    let trains = plan.nodes.iter().any(|n| n.kind == NodeKind::Trainer);
    let shared = Arc::new(Shared::with_pace(PaceCell::new(
        options.pace,
        options.speedup,
        trains,
    )));
    let context = BuildContext::new(plan, &shared);
    let mut placed = Vec::new();
    for &h in &heads {
        for k in 0..layout.instances.get(h).copied().unwrap_or(1) {
            placed.push((
                h,
                k,
                assemble_task(
                    plan,
                    &layout,
                    &owners,
                    h,
                    k,
                    &counters,
                    &mut senders,
                    &mut receivers,
                    &lane_ports,
                    &options,
                    &context,
                )?,
            ));
        }
    }
    let tasks = share_threads(&layout, placed);
    let (control_tx, control_rx) = unbounded();
    let (telemetry_tx, telemetry_rx) = telemetry_channel();
    let (exit_tx, exit_rx) = unbounded::<()>();
    let mut threads = Vec::new();
    for mut task in tasks {
        let shared = Arc::clone(&shared);
        let exit = exit_tx.clone();
        let handle = std::thread::Builder::new()
            .name(format!("fb-{}", task.name))
            .spawn(move || {
                let result = crate::guard::catch(|| task.run(&shared));
                match result {
                    Ok(Ok(())) => {}
                    Ok(Err(TaskError::Stopped)) => shared.apply(&Control::Stop),
                    // The task at the other end reports why it went.
                    Ok(Err(TaskError::Disconnected)) => {}
                    // An operator that gave up because the run was stopping (a trainer waiting at
                    // its pause point) did not fail.
                    Ok(Err(TaskError::Failed { .. }))
                        if shared.stop_requested() && shared.failure().is_none() => {}
                    Ok(Err(TaskError::Failed { node, message })) => shared.fail(node, message),
                    Err(panic) => {
                        shared.fail(task.panicked_node(), format!("panicked: {panic}"));
                    }
                }
                drop(task);
                let _ = exit.send(());
            })
            .map_err(|e| StartError::Thread(e.to_string()))?;
        threads.push(handle);
    }
    drop(exit_tx);
    let live = context
        .live
        .iter()
        .filter_map(|(i, l)| plan.nodes.get(*i).map(|n| (n.name.clone(), Arc::clone(l))))
        .collect();
    let insights = context
        .insights
        .iter()
        .filter_map(|(i, slot)| plan.nodes.get(*i).map(|n| (n.id, Arc::clone(slot))))
        .collect();
    let monitor = Monitor {
        live,
        insights,
        shared,
        counters,
        threads,
        control: control_rx,
        exits: exit_rx,
        telemetry: telemetry_tx,
        waker: options.waker.clone(),
        tick: options.tick,
    };
    let monitor = std::thread::Builder::new()
        .name("fb-monitor".into())
        .spawn(move || monitor.run())
        .map_err(|e| StartError::Thread(e.to_string()))?;
    Ok(RunHandle {
        kinds: plan
            .nodes
            .iter()
            .map(|n| (n.name.clone(), n.kind))
            .collect(),
        control: control_tx,
        telemetry: telemetry_rx,
        monitor: Some(monitor),
        threads: Some(thread_map),
    })
}

/// Moves each task that runs on a split source chain's threads (`Layout::colocated_with`) into
/// the task of the source instance it shares a thread with: consumer instance d goes to source
/// instance d mod n. Returns the tasks that get a thread each.
fn share_threads(layout: &Layout, placed: Vec<(usize, usize, Task)>) -> Vec<Task> {
    let guest_of = |h: usize| layout.colocated_with.get(h).copied().flatten();
    let (guests, mut hosts): (Vec<_>, Vec<_>) = placed
        .into_iter()
        .partition(|(h, _, _)| guest_of(*h).is_some());
    for (h, k, task) in guests {
        let Some(s) = guest_of(h) else { continue };
        let n = layout.instances.get(s).copied().unwrap_or(1).max(1);
        let host = hosts
            .iter_mut()
            .find(|(head, instance, _)| *head == s && *instance == k % n);
        let refused = match host {
            Some((_, _, host)) => host
                .hosted
                .get_or_insert_with(Default::default)
                .host(task)
                .err()
                .map(|t| *t),
            None => Some(task),
        };
        if let Some(task) = refused {
            hosts.push((h, k, task));
        }
    }
    hosts.into_iter().map(|(_, _, task)| task).collect()
}

type Senders = BTreeMap<(usize, usize, usize, usize), (Strategy, Vec<Sender<Message>>)>;
type Receivers = BTreeMap<(usize, usize), Vec<(Receiver<Message>, usize)>>;

/// Builds the task rooted at head `h`, instance `k`: the head and every node reachable from it
/// through local wires, in plan (topological) order.
#[allow(clippy::too_many_arguments)]
fn assemble_task(
    plan: &LogicalPlan,
    layout: &Layout,
    owners: &[Option<usize>],
    h: usize,
    k: usize,
    counters: &[Arc<NodeCounters>],
    senders: &mut Senders,
    receivers: &mut Receivers,
    lane_ports: &BTreeMap<(usize, usize), Vec<usize>>,
    options: &RunOptions,
    context: &BuildContext,
) -> Result<Task, StartError> {
    let mut members = vec![h];
    for (c, node) in plan.nodes.iter().enumerate().skip(h + 1) {
        if runs(owners, c)
            && node.inputs.len() == 1
            && is_local(plan, c, 0)
            && members.contains(&node.inputs[0].from)
        {
            members.push(c);
        }
    }
    let local_index = |plan_index: usize| members.iter().position(|&m| m == plan_index);
    let mut nodes = Vec::new();
    let mut exchanges = Vec::new();
    let mut input = None;
    for &m in &members {
        let node = &plan.nodes[m];
        let named = |message: String| StartError::Node {
            node: node.name.clone(),
            message,
        };
        let op: Box<dyn crate::stream::Operator> =
            match build(plan, m, k, context).map_err(named)? {
                Built::Source {
                    mut source,
                    rate_per_s,
                } => {
                    if layout.split_chain.get(m).copied().flatten().is_some() {
                        let of = layout.instances.get(m).copied().unwrap_or(1);
                        if !source.split(Split::new(k, of)) {
                            return Err(named("this source cannot split".into()));
                        }
                    }
                    input = Some(TaskInput::Source { source, rate_per_s });
                    Box::new(PassThrough)
                }
                Built::Operator(op) => op,
            };
        let lanes = if m == h {
            if !node.kind.is_source() {
                let channels = receivers.remove(&(h, k)).unwrap_or_default();
                input = Some(if layout.ordered_input(plan, h, 0) {
                    TaskInput::Ordered(channels)
                } else {
                    TaskInput::Channels(channels)
                });
            }
            Lanes::new(lane_ports.get(&(h, k)).cloned().unwrap_or_else(|| vec![0]))
        } else {
            Lanes::new(vec![node.inputs.first().map_or(0, |i| i.port)])
        };
        let mut routes = vec![Vec::new(); node.catalog().outputs.len()];
        for (port, port_routes) in routes.iter_mut().enumerate() {
            for (c, inp) in plan
                .consumers(m, port)
                .into_iter()
                .filter(|(c, _)| runs(owners, *c))
            {
                let j = plan.nodes[c]
                    .inputs
                    .iter()
                    .position(|i| i == inp)
                    .unwrap_or(0);
                if is_local(plan, c, j) {
                    if let Some(li) = local_index(c) {
                        port_routes.push(Route::Local(li));
                    }
                } else if let Some((strategy, txs)) = senders.remove(&(m, k, c, j)) {
                    let targets = txs.len();
                    port_routes.push(Route::Exchange(exchanges.len()));
                    exchanges.push(Exchange {
                        strategy,
                        buffers: txs.iter().map(|_| Vec::new()).collect(),
                        senders: txs,
                        next: k,
                        counters: Arc::clone(&counters[m]),
                        capacity: options.channel_capacity,
                        skew: matches!(node.spec, OpSpec::Partition { .. })
                            .then(|| SkewTap::new(targets)),
                        targets: Vec::new(),
                        whole: None,
                    });
                }
            }
        }
        nodes.push(TaskNode {
            op,
            outputs: Outputs::new(node.catalog().outputs.len()),
            routes,
            lanes,
            counters: Arc::clone(&counters[m]),
            instance: k,
            window_tap: if let OpSpec::Window(window) = &node.spec {
                Some(WindowTap::of(&window.pane))
            } else {
                None
            },
            forward_only: node.kind.is_source() || node.spec.forwards_unchanged(),
        });
    }
    Ok(Task {
        name: format!("{}-{k}", plan.nodes[h].name),
        nodes,
        exchanges,
        input,
        batch_size: options.batch_size.max(1),
        current: 0,
        hosted: None,
    })
}
