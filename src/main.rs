//! The `flowbook` binary: the headless CLI (and, with the `gui` feature, the desktop editor).

use clap::Parser;

fn main() -> std::process::ExitCode {
    flowbook::cli::main_with(flowbook::cli::Cli::parse())
}
