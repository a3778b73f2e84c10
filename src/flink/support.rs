//! The Java classes every exported job uses (`java/flowbook/*.java`): Flowbook's records,
//! statistics, windows' accumulators, watermarks, CSV reading and writing, generators and
//! counters, written once by hand and shipped inside the binary, so an export is complete.

/// (file name, source) of each support class, in package `flowbook`.
pub const SUPPORT_CLASSES: &[(&str, &str)] = &[
    (
        "AggregateRecord.java",
        include_str!("java/flowbook/AggregateRecord.java"),
    ),
    ("ByKey.java", include_str!("java/flowbook/ByKey.java")),
    ("Counters.java", include_str!("java/flowbook/Counters.java")),
    (
        "CountingFilter.java",
        include_str!("java/flowbook/CountingFilter.java"),
    ),
    (
        "CsvFileSink.java",
        include_str!("java/flowbook/CsvFileSink.java"),
    ),
    ("CsvRows.java", include_str!("java/flowbook/CsvRows.java")),
    (
        "EmitCountWindow.java",
        include_str!("java/flowbook/EmitCountWindow.java"),
    ),
    (
        "EmitTimeWindow.java",
        include_str!("java/flowbook/EmitTimeWindow.java"),
    ),
    ("Event.java", include_str!("java/flowbook/Event.java")),
    ("Fault.java", include_str!("java/flowbook/Fault.java")),
    (
        "Generators.java",
        include_str!("java/flowbook/Generators.java"),
    ),
    (
        "NodeFailure.java",
        include_str!("java/flowbook/NodeFailure.java"),
    ),
    ("Ops.java", include_str!("java/flowbook/Ops.java")),
    (
        "RecordMap.java",
        include_str!("java/flowbook/RecordMap.java"),
    ),
    ("Restamp.java", include_str!("java/flowbook/Restamp.java")),
    (
        "RustFormat.java",
        include_str!("java/flowbook/RustFormat.java"),
    ),
    (
        "SeededRng.java",
        include_str!("java/flowbook/SeededRng.java"),
    ),
    ("Stats.java", include_str!("java/flowbook/Stats.java")),
    (
        "Watermarks.java",
        include_str!("java/flowbook/Watermarks.java"),
    ),
    (
        "WindowAcc.java",
        include_str!("java/flowbook/WindowAcc.java"),
    ),
    (
        "WindowResult.java",
        include_str!("java/flowbook/WindowResult.java"),
    ),
    (
        "WindowStats.java",
        include_str!("java/flowbook/WindowStats.java"),
    ),
];
