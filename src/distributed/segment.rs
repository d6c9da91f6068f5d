//! Which segment this process is: `--segment I/N`, or `--segment auto` read from the engine
//! that started it (Kubernetes Indexed Jobs, Slurm job arrays, Cloud Run jobs, GitLab CI's
//! `parallel:`).

use crate::schedule::Segment;

/// Where `--segment auto` looks, in order: the variable with the 0-based index (minus its
/// offset) and the one with the count.
const SOURCES: &[(&str, &str, &str)] = &[
    // Kubernetes gives the index; the count comes from the manifest (`kload k8s` writes it).
    (
        "Kubernetes Indexed Job",
        "JOB_COMPLETION_INDEX",
        "KLOAD_SEGMENT_COUNT",
    ),
    (
        "Slurm job array",
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT",
    ),
    (
        "Cloud Run job",
        "CLOUD_RUN_TASK_INDEX",
        "CLOUD_RUN_TASK_COUNT",
    ),
    ("GitLab CI parallel job", "CI_NODE_INDEX", "CI_NODE_TOTAL"),
];

/// The segment the environment says this process is, with the engine's name for messages.
/// `var` reads a variable (`std::env::var` in the program; a map in tests).
pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<(Segment, &'static str), String> {
    for &(engine, index_var, count_var) in SOURCES {
        let Some(index_text) = var(index_var) else {
            continue;
        };
        let number = |name: &str, text: &str| -> Result<u32, String> {
            text.trim()
                .parse()
                .map_err(|_| format!("{name}={text} is not a whole number ({engine})"))
        };
        let mut index = number(index_var, &index_text)?;
        let count_text = var(count_var).or_else(|| var("KLOAD_SEGMENT_COUNT"));
        let Some(count_text) = count_text else {
            return Err(format!(
                "{index_var} is set ({engine}) but not {count_var}: how many segments are there? \
                 (set KLOAD_SEGMENT_COUNT)"
            ));
        };
        let count = number(count_var, &count_text)?;
        match index_var {
            // Slurm arrays may start anywhere (`--array=1-3`); GitLab counts from 1.
            "SLURM_ARRAY_TASK_ID" => {
                let min = match var("SLURM_ARRAY_TASK_MIN") {
                    Some(m) => number("SLURM_ARRAY_TASK_MIN", &m)?,
                    None => 0,
                };
                if let Some(step) = var("SLURM_ARRAY_TASK_STEP")
                    && step.trim() != "1"
                {
                    return Err(format!(
                        "SLURM_ARRAY_TASK_STEP={step}: a job array for kload must have no step \
                         (--array=0-{})",
                        count.saturating_sub(1)
                    ));
                }
                index = index.checked_sub(min).ok_or_else(|| {
                    format!("SLURM_ARRAY_TASK_ID={index} is below SLURM_ARRAY_TASK_MIN={min}")
                })?;
            }
            "CI_NODE_INDEX" => {
                index = index
                    .checked_sub(1)
                    .ok_or("CI_NODE_INDEX=0: GitLab counts parallel jobs from 1")?;
            }
            _ => {}
        }
        return Segment::new(index, count)
            .map(|s| (s, engine))
            .ok_or_else(|| {
                format!(
                    "{engine}: index {index} is not below the count {count} ({index_var}, \
                     {count_var})"
                )
            });
    }
    Err(
        "--segment auto found no engine: it reads JOB_COMPLETION_INDEX and KLOAD_SEGMENT_COUNT \
         (Kubernetes), SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (Slurm), \
         CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT, or CI_NODE_INDEX and CI_NODE_TOTAL \
         (GitLab); or give the segment as I/N"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn each_engine_gives_a_zero_based_segment() {
        let seg = |pairs| from_env(env(pairs)).map(|(s, _)| (s.index, s.count));
        assert_eq!(
            seg(&[("JOB_COMPLETION_INDEX", "2"), ("KLOAD_SEGMENT_COUNT", "4")]),
            Ok((2, 4))
        );
        assert_eq!(
            seg(&[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "3")
            ]),
            Ok((2, 3))
        );
        assert_eq!(
            seg(&[("CI_NODE_INDEX", "1"), ("CI_NODE_TOTAL", "5")]),
            Ok((0, 5))
        );
        assert_eq!(
            seg(&[("CLOUD_RUN_TASK_INDEX", "0"), ("CLOUD_RUN_TASK_COUNT", "1")]),
            Ok((0, 1))
        );
    }

    #[test]
    fn what_cannot_be_a_segment_is_said() {
        let err = |pairs| from_env(env(pairs)).unwrap_err();
        assert!(err(&[]).contains("found no engine"));
        assert!(err(&[("JOB_COMPLETION_INDEX", "0")]).contains("KLOAD_SEGMENT_COUNT"));
        assert!(
            err(&[("JOB_COMPLETION_INDEX", "4"), ("KLOAD_SEGMENT_COUNT", "4")])
                .contains("not below")
        );
        assert!(
            err(&[("JOB_COMPLETION_INDEX", "x"), ("KLOAD_SEGMENT_COUNT", "4")])
                .contains("not a whole number")
        );
        assert!(
            err(&[
                ("SLURM_ARRAY_TASK_ID", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "2"),
                ("SLURM_ARRAY_TASK_STEP", "2")
            ])
            .contains("no step")
        );
        assert!(err(&[("CI_NODE_INDEX", "0"), ("CI_NODE_TOTAL", "2")]).contains("from 1"));
    }
}
