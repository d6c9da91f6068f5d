//! Printing that survives a closed standard output (`kload inspect x | head -1`): write
//! errors are ignored instead of panicking like `println!`; the command's work (a run's
//! report files) goes on.

use std::io::{IsTerminal, Write};

/// Writes to standard output, ignoring a closed pipe.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Writes a line to standard output, ignoring a closed pipe.
macro_rules! sayln {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock());
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Writes a line to standard error, ignoring a closed pipe.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

pub(crate) use {note, say, sayln};

/// Whether standard output gets colours.
pub fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Whether standard error gets colours.
pub fn color_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Standard output, locked, for renderers that take a writer (errors ignored by them).
pub fn stdout() -> impl Write {
    std::io::stdout().lock()
}
