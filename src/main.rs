use clap::Parser;

fn main() {
    let cli = kload::cli::Cli::parse();
    std::process::exit(kload::cli::main(cli));
}
