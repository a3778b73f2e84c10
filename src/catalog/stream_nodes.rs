//! Specs of the stream node kinds: sources, time, partitioning, transforms, windows and sinks.

use super::spec_helpers::{RECORDS_IN, RECORDS_OUT, p};
use super::{Category, NodeKind, NodeSpec, ParamDefault as D, ParamKind as K, PortSpec, PortType};

const EPOCH_2023_MS: i64 = 1_700_000_000_000;
const MAX_COUNT: i64 = i64::MAX / 4;

/// Parameters every generator shares: bounded/unbounded, size and pacing.
macro_rules! generator_params {
    ($count:expr $(, $extra:expr)* $(,)?) => {
        &[
            p("bounded", K::Bool, D::Bool(true), "stop after `count` records; off = endless stream"),
            p("count", K::Int { min: 0, max: MAX_COUNT }, D::Int($count), "records to emit when bounded"),
            p("rate_per_s", K::Float { min: 0.0, max: 1e9 }, D::Float(0.0), "events per second of wall time; 0 = as fast as possible"),
            p("start_ms", K::Int { min: -MAX_COUNT, max: MAX_COUNT }, D::Int(EPOCH_2023_MS), "event time of the first record, epoch ms"),
            p("seed", K::Int { min: 0, max: i64::MAX }, D::Int(7), "random seed: same seed, same stream"),
            $($extra,)*
        ]
    };
}

pub static CSV_SOURCE: NodeSpec = NodeSpec {
    kind: NodeKind::CsvSource,
    id: "csv_source",
    title: "CSV source",
    category: Category::Sources,
    summary: "Reads records from a CSV file: a key, an event time and numeric value columns.",
    doc: "Each row becomes a record. The key column may hold any text; the time column holds \
          integer epoch milliseconds (leave it empty to use the row number). Value columns must \
          be numbers; leave the list empty to take every other column. A malformed row stops the \
          run with its row number, or is skipped and counted when `bad_rows` is `skip`.",
    inputs: &[],
    outputs: &[RECORDS_OUT],
    params: &[
        p("path", K::Path, D::Text(""), "the CSV file to read"),
        p(
            "key_column",
            K::Text,
            D::Text("key"),
            "column holding the key; empty = one key for all rows",
        ),
        p(
            "time_column",
            K::Text,
            D::Text("ts_ms"),
            "column holding the event time in ms; empty = row number",
        ),
        p(
            "value_columns",
            K::List,
            D::Text(""),
            "comma-separated numeric columns; empty = all others",
        ),
        p(
            "has_header",
            K::Bool,
            D::Bool(true),
            "the first row names the columns (else they are c0, c1, …)",
        ),
        p(
            "delimiter",
            K::Choice(&[",", ";", "tab", "|"]),
            D::Text(","),
            "field separator",
        ),
        p(
            "bad_rows",
            K::Choice(&["fail", "skip"]),
            D::Text("fail"),
            "a malformed row stops the run, or is skipped and counted",
        ),
        p(
            "non_finite",
            K::Choice(&["keep", "skip", "fail"]),
            D::Text("keep"),
            "what to do with NaN or infinite values",
        ),
    ],
};

pub static SEQUENCE_SOURCE: NodeSpec = NodeSpec {
    kind: NodeKind::SequenceSource,
    id: "sequence_source",
    title: "Keyed sequence",
    category: Category::Sources,
    summary: "Record i has key i mod keys, event time start + i·step ms and a random value.",
    doc: "A regular keyed stream for benchmarks and demos: perfectly ordered event time, \
          keys visited round-robin, values uniform in [0, 100).",
    inputs: &[],
    outputs: &[RECORDS_OUT],
    params: generator_params!(
        1_000_000,
        p(
            "keys",
            K::Int {
                min: 1,
                max: 100_000_000
            },
            D::Int(1000),
            "number of distinct keys"
        ),
        p(
            "step_ms",
            K::Int {
                min: 0,
                max: 86_400_000
            },
            D::Int(1),
            "event-time step between records"
        ),
        p(
            "per_step",
            K::Int {
                min: 1,
                max: 1_000_000
            },
            D::Int(1),
            "records on each event time (100 with step 1 ms: Flink's dense benchmark shape)"
        ),
        p(
            "key_order",
            K::Choice(&["cycle", "random"]),
            D::Text("cycle"),
            "keys in turn (i mod keys), or at random (a seeded hash of i)"
        ),
    ),
};

pub static SENSOR_SOURCE: NodeSpec = NodeSpec {
    kind: NodeKind::SensorSource,
    id: "sensor_source",
    title: "Sensor readings",
    category: Category::Sources,
    summary: "Keyed sensor readings (a daily cycle plus noise) with injected anomalies.",
    doc: "Each sensor reports every `interval_ms` of event time. Readings follow a slow cycle \
          around the sensor's own level with Gaussian noise; a fraction `anomaly_rate` are \
          spikes of 6–10 standard deviations, marked by the field `anomaly` = 1. \
          `disorder_ms` shuffles event times by up to that much, so watermarks matter.",
    inputs: &[],
    outputs: &[RECORDS_OUT],
    params: generator_params!(
        100_000,
        p(
            "sensors",
            K::Int {
                min: 1,
                max: 1_000_000
            },
            D::Int(8),
            "number of sensors (keys)"
        ),
        p(
            "interval_ms",
            K::Int {
                min: 1,
                max: 86_400_000
            },
            D::Int(100),
            "event time between two readings of one sensor"
        ),
        p(
            "disorder_ms",
            K::Int {
                min: 0,
                max: 86_400_000
            },
            D::Int(0),
            "maximum lateness of a reading's event time"
        ),
        p(
            "anomaly_rate",
            K::Float { min: 0.0, max: 1.0 },
            D::Float(0.01),
            "fraction of readings that are anomalies"
        ),
    ),
};

pub static CLICK_SOURCE: NodeSpec = NodeSpec {
    kind: NodeKind::ClickSource,
    id: "click_source",
    title: "Clickstream",
    category: Category::Sources,
    summary: "Keyed clicks of users browsing in sessions separated by idle gaps.",
    doc: "Users click in bursts: within a session clicks are `think_ms` apart on average, \
          between sessions a user is idle for about `idle_ms`. Fields: `page` (a page id) and \
          `dwell_ms` (time on the previous page). Good with session windows. With `items` > 0 \
          each click also names its `user` (a number, for embeddings) and an `item`: items \
          have a popularity (Zipf) and one of `genres` genres, every user a hidden favourite \
          genre, and a click follows it with probability `affinity` (else any item by \
          popularity) — a stream for a live recommender.",
    inputs: &[],
    outputs: &[RECORDS_OUT],
    params: generator_params!(
        50_000,
        p(
            "users",
            K::Int {
                min: 1,
                max: 1_000_000
            },
            D::Int(50),
            "number of users (keys)"
        ),
        p(
            "pages",
            K::Int {
                min: 1,
                max: 1_000_000
            },
            D::Int(20),
            "number of distinct pages"
        ),
        p(
            "think_ms",
            K::Int {
                min: 1,
                max: 86_400_000
            },
            D::Int(2_000),
            "mean time between clicks within a session"
        ),
        p(
            "idle_ms",
            K::Int {
                min: 1,
                max: 864_000_000
            },
            D::Int(60_000),
            "mean idle time between sessions"
        ),
        p(
            "items",
            K::Int {
                min: 0,
                max: 10_000_000
            },
            D::Int(0),
            "items clicked (fields `user` and `item` are added); 0 = no items"
        ),
        p(
            "genres",
            K::Int {
                min: 1,
                max: 1_000_000
            },
            D::Int(20),
            "hidden item genres (with items)"
        ),
        p(
            "affinity",
            K::Float { min: 0.0, max: 1.0 },
            D::Float(0.8),
            "share of a user's clicks that follow their favourite genre (with items)"
        ),
    ),
};

pub static WATERMARK: NodeSpec = NodeSpec {
    kind: NodeKind::Watermark,
    id: "watermark",
    title: "Watermark",
    category: Category::Time,
    summary: "Bounded out-of-orderness: watermark = max event time − delay − 1, after every record.",
    doc: "Like Flink's `forBoundedOutOfOrderness`, but advanced after every record so results \
          do not depend on timing. A record is late for windows whose end − 1 ≤ the watermark \
          left by the records before it. At the end of a bounded input the watermark jumps to \
          +∞. When only tumbling or sliding windows act on it, watermarks that reach none of \
          their fire or drop times are held back within a batch (same results, fewer items).",
    inputs: &[RECORDS_IN],
    outputs: &[RECORDS_OUT],
    params: &[p(
        "delay_ms",
        K::Int {
            min: 0,
            max: 864_000_000,
        },
        D::Int(200),
        "how late a record may arrive and still be on time",
    )],
};

pub static PARTITION: NodeSpec = NodeSpec {
    kind: NodeKind::Partition,
    id: "partition",
    title: "Partition",
    category: Category::Partitioning,
    summary: "Splits a stream into parallel sub-streams: by key, round-robin, broadcast or forward.",
    doc: "Downstream nodes run `parallelism` instances, one per sub-stream, each on its own \
          thread, until a Merge or a sink joins them. `hash` sends each key to one instance \
          (needed before keyed windows), `round_robin` spreads records evenly, `broadcast` \
          copies every record to every instance, `forward` keeps the upstream split. \
          Watermarks always go to every instance.",
    inputs: &[RECORDS_IN],
    outputs: &[RECORDS_OUT],
    params: &[
        p(
            "strategy",
            K::Choice(&["hash", "round_robin", "broadcast", "forward"]),
            D::Text("hash"),
            "how records are spread over the sub-streams",
        ),
        p(
            "parallelism",
            K::Int { min: 1, max: 256 },
            D::Int(1),
            "number of parallel sub-streams",
        ),
    ],
};

pub static MERGE: NodeSpec = NodeSpec {
    kind: NodeKind::Merge,
    id: "merge",
    title: "Merge",
    category: Category::Partitioning,
    summary: "Unions streams (or parallel sub-streams) into one; the watermark is their minimum.",
    doc: "Accepts any number of wires of records with the same fields.",
    inputs: &[PortSpec {
        name: "in",
        ty: PortType::Records,
        doc: "streams to join",
        required: true,
        many: true,
    }],
    outputs: &[RECORDS_OUT],
    params: &[],
};

pub static MAP: NodeSpec = NodeSpec {
    kind: NodeKind::Map,
    id: "map",
    title: "Map",
    category: Category::Transform,
    summary: "Computes new fields from expressions: `celsius = (value - 32) * 5 / 9; big = value > 100`.",
    doc: "Assignments separated by `;`. Expressions see the record's fields, `key` (text) and \
          `ts` (event time in ms); they may use + − * / % ^, comparisons, `&&` `||` `!`, \
          `if(c, a, b)` and functions such as `math::abs`, `math::sqrt`, `math::ln`, `min`, \
          `max`. An assignment to an existing field replaces it. Booleans become 1 or 0.",
    inputs: &[RECORDS_IN],
    outputs: &[RECORDS_OUT],
    params: &[p(
        "assign",
        K::Expr,
        D::Text("doubled = value * 2"),
        "assignments `name = expression`, separated by `;`",
    )],
};

pub static FILTER: NodeSpec = NodeSpec {
    kind: NodeKind::Filter,
    id: "filter",
    title: "Filter",
    category: Category::Transform,
    summary: "Keeps the records for which a condition holds, e.g. `value > 10 && key != \"k1\"`.",
    doc: "The condition sees the record's fields, `key` and `ts`, like Map's expressions.",
    inputs: &[RECORDS_IN],
    outputs: &[RECORDS_OUT],
    params: &[p(
        "predicate",
        K::Expr,
        D::Text("value > 0"),
        "records for which this is true pass",
    )],
};

pub static WINDOW: NodeSpec = NodeSpec {
    kind: NodeKind::Window,
    id: "window",
    title: "Window",
    category: Category::Windows,
    summary: "Groups each key's records into tumbling, sliding, session or count windows (Flink semantics).",
    doc: "Event-time windows fire when the watermark reaches end − 1. Tumbling: start = ts − \
          ((ts − offset) mod size). Sliding: every window [s, s+size) with s a multiple of slide \
          that contains ts. Session: each record opens [ts, ts+gap) and windows that overlap or \
          touch merge. Count: fires every `count` records of a key; count_sliding fires every \
          `count_slide` records over the last `count`; partial count windows are never emitted. \
          Records late for all their windows go to the `late` port; with allowed lateness a \
          window fires again, updated, for each late-but-allowed record.",
    inputs: &[RECORDS_IN],
    outputs: &[
        PortSpec {
            name: "out",
            ty: PortType::Windows,
            doc: "one item per window firing: its key, bounds and contents",
            required: false,
            many: false,
        },
        PortSpec {
            name: "late",
            ty: PortType::Records,
            doc: "records that arrived after their windows were closed",
            required: false,
            many: false,
        },
    ],
    params: &[
        p(
            "kind",
            K::Choice(&["tumbling", "sliding", "session", "count", "count_sliding"]),
            D::Text("tumbling"),
            "how records are grouped",
        ),
        p(
            "size_ms",
            K::Int {
                min: 1,
                max: 864_000_000_000,
            },
            D::Int(1000),
            "window length (tumbling, sliding)",
        ),
        p(
            "slide_ms",
            K::Int {
                min: 1,
                max: 864_000_000_000,
            },
            D::Int(500),
            "distance between window starts (sliding); larger than size_ms leaves gaps whose records belong to no window",
        ),
        p(
            "offset_ms",
            K::Int {
                min: -864_000_000_000,
                max: 864_000_000_000,
            },
            D::Int(0),
            "shifts window starts (tumbling, sliding); Flink requires |offset| < size (tumbling) or < slide (sliding)",
        ),
        p(
            "gap_ms",
            K::Int {
                min: 1,
                max: 864_000_000_000,
            },
            D::Int(500),
            "idle time that closes a session",
        ),
        p(
            "count",
            K::Int {
                min: 1,
                max: 100_000_000,
            },
            D::Int(5),
            "records per count window",
        ),
        p(
            "count_slide",
            K::Int {
                min: 1,
                max: 100_000_000,
            },
            D::Int(2),
            "fire every this many records (count_sliding)",
        ),
        p(
            "allowed_lateness_ms",
            K::Int {
                min: 0,
                max: 864_000_000_000,
            },
            D::Int(0),
            "keep windows this long after they fire, re-firing for late records",
        ),
        p(
            "state_limit",
            K::Int {
                min: 1,
                max: i64::MAX,
            },
            D::Int(10_000_000),
            "most windows (or sessions, or keys) held at once; beyond it the run stops with an error instead of exhausting memory",
        ),
    ],
};

pub static AGGREGATE: NodeSpec = NodeSpec {
    kind: NodeKind::Aggregate,
    id: "aggregate",
    title: "Aggregate",
    category: Category::Windows,
    summary: "Turns each window firing into one record of statistics: count, sum, min, max, mean, variance, std.",
    doc: "The output record has the window's key, event time = end − 1 (the last element's time \
          for count windows), the fields `start` and `end` and one field per chosen function, \
          computed over `field`. Statistics are kept incrementally, so windows of millions of \
          records cost no memory.",
    inputs: &[PortSpec {
        name: "in",
        ty: PortType::Windows,
        doc: "window firings",
        required: true,
        many: false,
    }],
    outputs: &[RECORDS_OUT],
    params: &[
        p(
            "functions",
            K::List,
            D::Text("count,sum,min,max,mean"),
            "any of count, sum, min, max, mean, variance, std",
        ),
        p(
            "field",
            K::List,
            D::Text(""),
            "the field(s) to aggregate; empty = the first; several give columns field_function",
        ),
    ],
};

pub static CSV_SINK: NodeSpec = NodeSpec {
    kind: NodeKind::CsvSink,
    id: "csv_sink",
    title: "CSV sink",
    category: Category::Sinks,
    summary: "Writes records to a CSV file with a header row.",
    doc: "Columns may name record fields or the special columns `kind` (the stream's tag, e.g. \
          W for time windows, C for count windows, L for late records), `key` and `ts_ms`. \
          Empty = kind (if tagged), key, ts_ms and every field. Parallel inputs are joined into \
          the one file. The file is written to a temporary name and renamed when the run ends.",
    inputs: &[RECORDS_IN],
    outputs: &[],
    params: &[
        p("path", K::Path, D::Text("out.csv"), "the file to write"),
        p(
            "columns",
            K::List,
            D::Text(""),
            "comma-separated columns to write; empty = all",
        ),
    ],
};

pub static FAULT: NodeSpec = NodeSpec {
    kind: NodeKind::Fault,
    id: "fault",
    title: "Fault injector",
    category: Category::Transform,
    summary: "Passes records through, then fails or panics at record N (to try what a failure does).",
    doc: "For testing robustness: the run must stop cleanly, name this node and keep the app \
          usable. With parallelism, each instance counts its own records.",
    inputs: &[RECORDS_IN],
    outputs: &[RECORDS_OUT],
    params: &[
        p(
            "at_record",
            K::Int {
                min: 1,
                max: i64::MAX,
            },
            D::Int(1000),
            "the record (1-based) at which to fail",
        ),
        p(
            "mode",
            K::Choice(&["error", "panic"]),
            D::Text("error"),
            "return an error, or panic inside the operator",
        ),
    ],
};

pub static NULL_SINK: NodeSpec = NodeSpec {
    kind: NodeKind::NullSink,
    id: "null_sink",
    title: "Null sink",
    category: Category::Sinks,
    summary: "Counts and discards records (for benchmarks).",
    doc: "Runs at the parallelism of its input, so it adds no thread and no copying. \
          `delay_us` makes it a deliberately slow consumer, to watch back-pressure.",
    inputs: &[RECORDS_IN],
    outputs: &[],
    params: &[p(
        "delay_us",
        K::Int {
            min: 0,
            max: 1_000_000,
        },
        D::Int(0),
        "wait this long per record (a slow consumer); 0 = none",
    )],
};
