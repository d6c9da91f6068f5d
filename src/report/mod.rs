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
///
/// A regular file is replaced whole: the report is written beside it under a temporary name
/// and renamed over it, so a reader (or a second Ctrl-C, or a full disk) never leaves half a
/// report where the last complete one was. Anything else (`/dev/stdout`, a pipe) is written
/// in place.
pub fn write_file(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let write = || -> Result<(), ReportError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        let regular = fs::metadata(path).map_or(true, |m| m.is_file());
        let name = path.file_name().filter(|_| regular);
        let Some(name) = name else {
            let mut out = BufWriter::new(fs::File::create(path)?);
            render(&mut out)?;
            out.flush()?;
            return Ok(());
        };
        let mut temporary = std::ffi::OsString::from(".");
        temporary.push(name);
        temporary.push(format!(".{}.partial", std::process::id()));
        let temporary = path.with_file_name(temporary);
        let written = (|| -> Result<(), ReportError> {
            let mut out = BufWriter::new(fs::File::create(&temporary)?);
            render(&mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            fs::rename(&temporary, path)?;
            Ok(())
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written
    };
    write().map_err(|e| e.in_file(path))
}

#[cfg(test)]
mod write_file_tests {
    use super::*;

    #[test]
    fn a_report_replaces_the_old_one_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reports/result.json");
        write_file(&path, |w| Ok(w.write_all(b"first")?)).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "first");
        // A render that fails half-way leaves the last complete report, and no stray file.
        let failed = write_file(&path, |w| {
            w.write_all(b"half of a second")?;
            Err(io::Error::other("disk full").into())
        });
        assert!(failed.is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "first");
        write_file(&path, |w| Ok(w.write_all(b"second")?)).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "second");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["result.json"]);
    }

    #[test]
    fn a_device_is_written_in_place() {
        write_file(Path::new("/dev/null"), |w| Ok(w.write_all(b"x")?)).unwrap();
        assert!(Path::new("/dev/null").exists());
    }
}
