// Diagnostics are returned on the cold path only; boxing them everywhere buys nothing.
#![allow(clippy::result_large_err)]

use clap::Parser;

mod cli;

fn main() {
    let cli = cli::Cli::parse();
    std::process::exit(cli::main(cli));
}
