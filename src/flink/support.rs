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
    (
        "SqlScript.java",
        include_str!("java/flowbook/SqlScript.java"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_java_file_of_the_support_library_is_shipped() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/flink/java/flowbook");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_owned))
            .filter(|n| n.ends_with(".java"))
            .collect();
        on_disk.sort();
        let shipped: Vec<String> = SUPPORT_CLASSES
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect();
        assert_eq!(shipped, on_disk);
    }
}
