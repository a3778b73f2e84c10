//! Any bytes as a graph file: loading must never panic, and a loaded graph must validate
//! (or be refused) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(graph) = flowbook::graph::from_ron_str(&text, "fuzz.ron") {
        let _ = flowbook::plan::plan(&graph);
    }
});
