//! The files a scenario needs on another machine: the scenario itself, every data feed and
//! every multipart file it names, laid out under one folder so that its relative paths
//! still work there.

use std::path::{Component, Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast;

/// A file to ship, at `path` (with `/` separators) under the folder that replaces the
/// common root of all the files.
#[derive(Clone, Debug, PartialEq)]
pub struct ShippedFile {
    pub path: String,
    pub contents: Vec<u8>,
}

/// A path written in the scenario, where it was written.
struct Reference {
    path: String,
    span: Span,
}

/// Every file path the scenario names (data feeds and multipart files), in file order.
fn references(file: &ast::File) -> Vec<Reference> {
    let mut out = Vec::new();
    let mut add = |t: &ast::Template| {
        // A path with `{{ }}` is a compile error, reported before this runs.
        if let Some(path) = t.literal() {
            out.push(Reference { path, span: t.span });
        }
    };
    for item in &file.items {
        match item {
            ast::Item::Data(d) => add(&d.path),
            ast::Item::User(u) => {
                for ui in &u.items {
                    let steps: Vec<&ast::Step> = match ui {
                        ast::UserItem::OnStart(b) | ast::UserItem::OnStop(b) => {
                            b.steps.iter().collect()
                        }
                        ast::UserItem::Task(t) => t.steps.iter().collect(),
                        ast::UserItem::Sequence(s) => {
                            s.tasks.iter().flat_map(|t| t.steps.iter()).collect()
                        }
                        ast::UserItem::Setting(_) => Vec::new(),
                    };
                    for step in steps {
                        let ast::Step::Request(r) = step else {
                            continue;
                        };
                        for ri in r.items.iter().flatten() {
                            if let ast::RequestItem::Multipart { parts, .. } = ri {
                                for p in parts {
                                    if let ast::Part::File { path, .. } = p {
                                        add(path);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            ast::Item::Scenario(_) | ast::Item::Load(_) | ast::Item::Thresholds(_) => {}
        }
    }
    out
}

/// Why the files could not be gathered.
#[derive(Debug)]
pub enum GatherError {
    /// Paths in the scenario that cannot be shipped (absolute ones).
    Diagnostics(Vec<Diagnostic>),
    /// A file could not be read (the compiler read it a moment ago) or named.
    Io(String),
}

/// `path` made absolute against the current folder and with `.` and `..` resolved by
/// name, as the kernel resolves them in a folder without symbolic links (the mount).
fn normalize(path: &Path) -> Result<PathBuf, GatherError> {
    let absolute = std::path::absolute(path)
        .map_err(|e| GatherError::Io(format!("cannot resolve {}: {e}", path.display())))?;
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// The scenario at `scenario` (already compiled without errors from `file`) and every file
/// it names, each at its path relative to the deepest folder that holds them all; the
/// scenario comes first, then the others in the order the scenario names them, each once.
pub fn gather(scenario: &Path, file: &ast::File) -> Result<Vec<ShippedFile>, GatherError> {
    let refs = references(file);
    let absolute: Vec<Diagnostic> = refs
        .iter()
        .filter(|r| Path::new(&r.path).has_root())
        .map(|r| {
            Diagnostic::error(
                "kload::k8s_absolute_path",
                format!(
                    "`{}` is an absolute path: it cannot be shipped to the pods",
                    r.path
                ),
                r.span,
                "absolute path",
            )
            .with_help(
                "write it relative to the scenario file (e.g. `data/accounts.csv`): kload k8s \
                 puts the scenario and the files it names in a ConfigMap, in the same layout",
            )
        })
        .collect();
    if !absolute.is_empty() {
        return Err(GatherError::Diagnostics(absolute));
    }
    let scenario_abs = normalize(scenario)?;
    let base = scenario_abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut paths = vec![scenario_abs];
    for r in &refs {
        let p = normalize(&base.join(&r.path))?;
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    let root = common_folder(&paths);
    paths
        .iter()
        .map(|p| {
            let contents = std::fs::read(p)
                .map_err(|e| GatherError::Io(format!("cannot read {}: {e}", p.display())))?;
            let rel = p.strip_prefix(&root).unwrap_or(p);
            let parts: Option<Vec<&str>> =
                rel.components().map(|c| c.as_os_str().to_str()).collect();
            let path = parts.map(|p| p.join("/")).ok_or_else(|| {
                GatherError::Io(format!("{} is not a UTF-8 file name", p.display()))
            })?;
            Ok(ShippedFile { path, contents })
        })
        .collect()
}

/// The deepest folder that holds every one of `files`.
fn common_folder(files: &[PathBuf]) -> PathBuf {
    let mut root: PathBuf = files[0].parent().map(Path::to_path_buf).unwrap_or_default();
    for f in &files[1..] {
        while !f.starts_with(&root) {
            if !root.pop() {
                break;
            }
        }
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gather_source(
        dir: &Path,
        name: &str,
        source: &str,
    ) -> Result<Vec<ShippedFile>, GatherError> {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, source).unwrap();
        let file = crate::syntax::parse(source).unwrap();
        gather(&path, &file)
    }

    fn write(dir: &Path, name: &str, contents: &str) {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
    }

    const USES_FILES: &str = r#"
data a from "data/a.csv" unique
data again from "./data/a.csv"
data up from "../shared/b.csv"
user U {
  task t {
    POST "/x" {
      multipart {
        file f: "files/photo.bin"
        file g: "data/a.csv"
      }
    }
  }
}
"#;

    #[test]
    fn every_named_file_once_relative_to_their_common_folder() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "shared/b.csv", "b\n1\n");
        write(dir.path(), "s/data/a.csv", "a\n1\n");
        write(dir.path(), "s/files/photo.bin", "\u{1}\u{2}");
        let files = gather_source(dir.path(), "s/test.kload", USES_FILES).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "s/test.kload",
                "s/data/a.csv",
                "shared/b.csv",
                "s/files/photo.bin"
            ]
        );
        assert_eq!(files[0].contents, USES_FILES.as_bytes());
        assert_eq!(files[2].contents, b"b\n1\n");
    }

    #[test]
    fn a_scenario_alone_is_at_the_top() {
        let dir = tempfile::tempdir().unwrap();
        let files = gather_source(
            dir.path(),
            "deep/er/x.kload",
            "user U { task t { GET \"/\" } }",
        )
        .unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "x.kload");
    }

    #[test]
    fn absolute_paths_are_refused_with_their_place() {
        let dir = tempfile::tempdir().unwrap();
        let source = "data a from \"/etc/hostname\"\nuser U { task t { GET \"/{{ a.x }}\" } }";
        let Err(GatherError::Diagnostics(d)) = gather_source(dir.path(), "x.kload", source) else {
            panic!("absolute path accepted");
        };
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "kload::k8s_absolute_path");
        let span = d[0].primary.span;
        assert_eq!(&source[span.start..span.end], "\"/etc/hostname\"");
    }
}
