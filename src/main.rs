//! The `flowbook` binary: the headless CLI (and, with the `gui` feature, the desktop editor).

use clap::Parser;

/// Batches are allocated on one thread and freed on another; mimalloc handles that without
/// the cross-thread arena locking of the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    flowbook::cli::main_with(flowbook::cli::Cli::parse())
}
