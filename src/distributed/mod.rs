//! Distributed runs on engines people already operate (Kubernetes, Slurm, CI matrices),
//! with no coordinator of kload's own: the engine starts N copies of `kload run --segment
//! auto`, each runs its share from one `--start-at`, and `kload merge` joins their results.
//! This module generates what an engine needs to run them (docs/distributed.md).

pub mod files;
pub mod k8s;
pub mod yaml;
