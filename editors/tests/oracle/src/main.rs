//! `kload-token-oracle GRAMMAR FILE...` parses each FILE with the pest grammar GRAMMAR and
//! prints one line per pair: `FILE<TAB>RULE<TAB>START<TAB>END` (byte offsets). A file that
//! does not parse prints `FILE<TAB>!error<TAB>MESSAGE` and makes the exit status 1.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((grammar_path, files)) = args.split_first() else {
        eprintln!("usage: kload-token-oracle GRAMMAR FILE...");
        return ExitCode::from(2);
    };
    let grammar = match std::fs::read_to_string(grammar_path) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{grammar_path}: {e}");
            return ExitCode::from(2);
        }
    };
    let rules = match pest_meta::parse_and_optimize(&grammar) {
        Ok((_, rules)) => rules,
        Err(errors) => {
            for e in errors {
                eprintln!("{grammar_path}: {e}");
            }
            return ExitCode::from(2);
        }
    };
    let vm = pest_vm::Vm::new(rules);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut status = ExitCode::SUCCESS;
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::from(2);
            }
        };
        match vm.parse("file", &text) {
            Ok(pairs) => {
                for pair in pairs.flatten() {
                    let span = pair.as_span();
                    let _ = writeln!(
                        out,
                        "{file}\t{}\t{}\t{}",
                        pair.as_rule(),
                        span.start(),
                        span.end()
                    );
                }
            }
            Err(e) => {
                let message = e.to_string().replace('\n', " ");
                let _ = writeln!(out, "{file}\t!error\t{message}");
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}
