//! Distributed runs on engines people already operate (Kubernetes, Slurm, CI matrices),
//! with no coordinator of kload's own: the engine starts N copies of `kload run --segment
//! auto`, each runs its share from one `--start-at`, and `kload merge` joins their results.
//! This module has what generating an engine's job needs (docs/distributed.md): the files a
//! scenario reads (`files`) and a YAML writer (`yaml`); `kload k8s` itself is a command of the
//! binary (`src/cli/k8s.rs`), where `kload run`'s flags are parsed.

pub mod files;
pub mod frame;
pub mod segment;
pub mod yaml;
