//! Rendering results: terminal tables, CSV, JSON, JUnit and baseline comparison of a run's
//! `Summary` (text, CSV, JSON, JUnit, HTML, compare), and the plan review of `inspect`.
//!
//! Every summary renderer writes to a `&mut dyn Write` it is given; only [`write_file`] and
//! `csv::write_files` open files.

pub mod compare;
pub mod csv;
mod format;
#[cfg(test)]
pub(crate) mod golden;
pub mod html;
pub mod inspect;
pub mod json;
pub mod junit;
mod outcome;
pub mod text;

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why a report could not be written or a result read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing or reading failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A result document is not valid JSON for a `Summary`.
    #[error("invalid result document: {0}")]
    Json(#[from] serde_json::Error),
    /// The CSV writer failed.
    #[error(transparent)]
    Csv(#[from] ::csv::Error),
    /// A result document of another schema version.
    #[error(
        "result document has schema_version {found}, this kload reads versions 1 and {supported}"
    )]
    SchemaVersion {
        /// The version in the document.
        found: u64,
        /// The version this build reads.
        supported: u32,
    },
    /// An error about a particular file.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: Box<ReportError>,
    },
}

impl ReportError {
    /// Attaches the file the error is about.
    pub fn in_file(self, path: &Path) -> ReportError {
        match self {
            ReportError::File { .. } => self,
            other => ReportError::File {
                path: path.to_owned(),
                source: Box::new(other),
            },
        }
    }
}

/// Creates `path` (and its parent folders) and lets `render` write into it, buffered.
pub fn write_file(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let write = || -> Result<(), ReportError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        let mut out = BufWriter::new(fs::File::create(path)?);
        render(&mut out)?;
        out.flush()?;
        Ok(())
    };
    write().map_err(|e| e.in_file(path))
}
