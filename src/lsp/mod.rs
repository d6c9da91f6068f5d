//! `kload lsp`: a language server for `.kload` files, spoken over stdin and stdout.
//!
//! It reuses the pipeline: diagnostics are the compiler's (`compile`), completion asks the
//! grammar what may follow (`syntax::expected`), formatting is `kload fmt`'s formatter. One
//! concept per file:
//!
//! - `server`: the handshake and the message loop; `document`: open texts and their
//!   changes; `position`: editor positions (UTF-16 or UTF-8) and byte offsets;
//! - `analysis`: diagnostics and a syntax tree (repaired when the text does not parse);
//!   `index`: every name and where it stands; `context`: where the cursor is;
//! - `completion`, `hover`, `navigation` (definition, references, rename), `actions`
//!   (quick fixes), `formatting`, `outline` (document symbols), `diagnostics`;
//! - `words`: what keywords, metrics and functions mean, from docs/language.md.

mod actions;
mod analysis;
mod completion;
mod context;
mod diagnostics;
mod document;
mod formatting;
mod hover;
mod index;
mod navigation;
mod outline;
mod position;
mod server;
#[cfg(test)]
mod tests;
mod words;

use position::Encoding;

/// What the client said it can take, in its `initialize` request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Client {
    /// How positions count characters: UTF-8 when the client offers it, else UTF-16.
    encoding: Encoding,
    /// Completion may insert snippets (`$1` placeholders).
    snippets: bool,
    /// Hover and completion documentation may be Markdown.
    markdown: bool,
    /// Document symbols may nest (classes holding tasks).
    nested_symbols: bool,
    /// The client asks `prepareRename` before a rename.
    prepare_rename: bool,
}

impl Default for Client {
    /// What every client supports.
    fn default() -> Client {
        Client {
            encoding: Encoding::Utf16,
            snippets: false,
            markdown: false,
            nested_symbols: false,
            prepare_rename: false,
        }
    }
}

/// Serves one editor session on stdin and stdout; returns the process exit code: 0 after
/// `shutdown` and `exit`, 1 otherwise (as the protocol asks).
pub fn serve_stdio() -> i32 {
    let (connection, io_threads) = lsp_server::Connection::stdio();
    let end = server::run(&connection);
    drop(connection);
    match end {
        Ok(end) => {
            // The reader stopped at `exit` or at the end of the input: joining flushes the
            // last messages.
            if let Err(e) = io_threads.join() {
                eprintln!("kload lsp: {e}");
            }
            if end == server::End::Clean { 0 } else { 1 }
        }
        Err(e) => {
            eprintln!("kload lsp: {e}");
            1
        }
    }
}
