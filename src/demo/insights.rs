//! The read-only aggregates: `search/`, `bi/kpis/` and `dashboards/admin/`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Serialize;
use serde_json::json;

use super::app::App;
use super::endpoint::Endpoint;
use super::error::{ApiError, FieldError, FieldErrors};
use super::pagination::Params;
use super::store::{ProjectStatus, Task, TaskStatus, TimeEntry, now_text};

/// Results one search returns; `count` still tells how many matched.
const SEARCH_LIMIT: usize = 20;
/// Projects come first but leave room for tasks.
const SEARCH_PROJECT_LIMIT: usize = 8;
const RECENT: usize = 10;

#[derive(Serialize)]
struct Hit {
    #[serde(rename = "type")]
    kind: &'static str,
    id: u64,
    title: String,
    subtitle: String,
    url: String,
}

/// `GET search/?q=`: projects by name or client, then tasks by title, case-insensitively.
pub(crate) async fn search(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    app.admit(&headers, Endpoint::Search, 0).await?;
    let params = Params::from_uri(&uri);
    let query = params.get("q").map(str::trim).unwrap_or_default();
    if query.is_empty() {
        let mut errors = FieldErrors::default();
        errors.add("q", FieldError::Required);
        return Err(ApiError::Fields(errors));
    }

    let projects =
        app.catalog.projects.iter().filter(|p| {
            contains_ignore_case(&p.name, query) || contains_ignore_case(&p.client, query)
        });
    let tasks = app.tasks();
    let matching_tasks = tasks
        .newest_first()
        .filter(|t| contains_ignore_case(&t.title, query));
    let count = projects.clone().count() + matching_tasks.clone().count();

    let mut results: Vec<Hit> = projects
        .take(SEARCH_PROJECT_LIMIT)
        .map(|p| Hit {
            kind: "project",
            id: p.id,
            title: p.name.clone(),
            subtitle: p.client.clone(),
            url: format!("/api/v1/projects/{}/", p.id),
        })
        .collect();
    let room = SEARCH_LIMIT - results.len();
    results.extend(matching_tasks.take(room).map(|t| {
        Hit {
            kind: "task",
            id: t.id,
            title: t.title.clone(),
            subtitle: app
                .catalog
                .project(t.project)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            url: format!("/api/v1/tasks/{}/", t.id),
        }
    }));
    Ok(Json(json!({ "query": query, "count": count, "results": results })).into_response())
}

/// ASCII case-insensitive substring test, without allocating per row.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let (hay, needle) = (haystack.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Sums over every task and time entry, per project and in total.
#[derive(Default)]
struct Totals {
    /// Indexed by project id − 1.
    per_project: Vec<ProjectTotals>,
    by_status: [usize; TaskStatus::CHOICES.len()],
    tasks: usize,
    overdue: usize,
    time_entries: usize,
    /// Hundredths of an hour.
    hours: u64,
}

#[derive(Default, Clone, Copy, Serialize)]
struct ProjectTotals {
    tasks: usize,
    open_tasks: usize,
    completed_tasks: usize,
    #[serde(skip)]
    hours: u64,
}

impl Totals {
    fn gather<'a>(
        projects: usize,
        tasks: impl Iterator<Item = &'a Task>,
        entries: impl Iterator<Item = &'a TimeEntry>,
    ) -> Totals {
        let today = Utc::now().date_naive();
        let mut totals = Totals {
            per_project: vec![ProjectTotals::default(); projects],
            ..Totals::default()
        };
        for task in tasks {
            let open = !matches!(task.status, TaskStatus::Completed | TaskStatus::Cancelled);
            totals.tasks += 1;
            totals.by_status[task.status.index()] += 1;
            totals.overdue += usize::from(open && task.due_date.is_some_and(|due| due < today));
            if let Some(p) = project_slot(&mut totals.per_project, task.project) {
                p.tasks += 1;
                p.open_tasks += usize::from(open);
                p.completed_tasks += usize::from(task.status == TaskStatus::Completed);
            }
        }
        for entry in entries {
            let hours = u64::from(entry.hours_worked.unwrap_or(0));
            totals.time_entries += 1;
            totals.hours += hours;
            let slot = entry
                .project
                .and_then(|project| project_slot(&mut totals.per_project, project));
            if let Some(p) = slot {
                p.hours += hours;
            }
        }
        totals
    }

    fn by_status_json(&self) -> serde_json::Map<String, serde_json::Value> {
        TaskStatus::CHOICES
            .iter()
            .zip(self.by_status)
            .map(|((_, label), n)| ((*label).to_owned(), n.into()))
            .collect()
    }

    fn completion_rate(&self) -> f64 {
        let completed = self.by_status[TaskStatus::Completed.index()];
        ratio(completed as u64, self.tasks as u64)
    }
}

fn project_slot(per_project: &mut [ProjectTotals], project: u64) -> Option<&mut ProjectTotals> {
    let index = usize::try_from(project).ok()?.checked_sub(1)?;
    per_project.get_mut(index)
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 1000.0).round() / 1000.0
    }
}

fn hours_text(hundredths: u64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

fn gather(app: &App) -> Totals {
    let tasks = app.tasks();
    let entries = app.time_entries();
    Totals::gather(
        app.catalog.projects.len(),
        tasks.newest_first(),
        entries.newest_first(),
    )
}

/// `GET bi/kpis/`: the headline numbers.
pub(crate) async fn kpis(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.admit(&headers, Endpoint::BiKpis, 0).await?;
    let totals = gather(&app);
    let projects = &app.catalog.projects;
    let count = |status| projects.iter().filter(|p| p.status == status).count();
    let budget: u64 = projects.iter().map(|p| p.budget).sum();
    let spent: u64 = projects.iter().map(|p| p.detail.spent).sum();
    let progress: u64 = projects.iter().map(|p| u64::from(p.progress)).sum();
    Ok(Json(json!({
        "generated_at": now_text(),
        "projects": {
            "total": projects.len(),
            "planning": count(ProjectStatus::Planning),
            "in_progress": count(ProjectStatus::InProgress),
            "on_hold": count(ProjectStatus::OnHold),
            "completed": count(ProjectStatus::Completed),
            "average_progress": ratio(progress, projects.len() as u64 * 100),
        },
        "tasks": {
            "total": totals.tasks,
            "by_status": totals.by_status_json(),
            "completion_rate": totals.completion_rate(),
            "overdue": totals.overdue,
        },
        "finance": {
            "budget_total": format!("{budget}.00"),
            "spent_total": format!("{spent}.00"),
            "budget_utilization": ratio(spent, budget),
        },
        "labor": {
            "time_entries": totals.time_entries,
            "hours_logged": hours_text(totals.hours),
        },
    }))
    .into_response())
}

/// `GET dashboards/admin/`: every project with its numbers, recent activity and alerts.
pub(crate) async fn admin_dashboard(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.admit(&headers, Endpoint::AdminDashboard, 0).await?;
    let totals = gather(&app);
    let mut alerts = Vec::new();
    let rows: Vec<_> = app
        .catalog
        .projects
        .iter()
        .zip(&totals.per_project)
        .map(|(p, t)| {
            if p.detail.spent > p.budget {
                alerts.push(json!({
                    "project": p.id,
                    "kind": "over_budget",
                    "message": format!("{} is over budget by ${}.00", p.name, p.detail.spent - p.budget),
                }));
            }
            if p.status == ProjectStatus::InProgress && t.open_tasks == 0 {
                alerts.push(json!({
                    "project": p.id,
                    "kind": "no_open_tasks",
                    "message": format!("{} is in progress but has no open tasks", p.name),
                }));
            }
            json!({
                "id": p.id,
                "name": p.name,
                "status": p.status,
                "client": p.client,
                "progress": p.progress,
                "budget": format!("{}.00", p.budget),
                "spent": format!("{}.00", p.detail.spent),
                "tasks": t,
                "hours_logged": hours_text(t.hours),
            })
        })
        .collect();
    let recent_tasks: Vec<Task> = app.tasks().newest_first().take(RECENT).cloned().collect();
    let recent_entries: Vec<TimeEntry> = app
        .time_entries()
        .newest_first()
        .take(RECENT)
        .cloned()
        .collect();
    Ok(Json(json!({
        "generated_at": now_text(),
        "totals": {
            "projects": app.catalog.projects.len(),
            "tasks": totals.tasks,
            "tasks_by_status": totals.by_status_json(),
            "overdue_tasks": totals.overdue,
            "completion_rate": totals.completion_rate(),
            "time_entries": totals.time_entries,
            "hours_logged": hours_text(totals.hours),
        },
        "projects": rows,
        "recent_tasks": recent_tasks,
        "recent_time_entries": recent_entries,
        "alerts": alerts,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_matching_ignores_ascii_case() {
        let cases = [
            ("Maple Kitchen Remodel", "kitchen", true),
            ("Deck", "deck refinish", false),
            ("Hernández Family", "FAMILY", true),
            ("x", "", true),
        ];
        for (hay, needle, want) in cases {
            assert_eq!(contains_ignore_case(hay, needle), want, "{hay} / {needle}");
        }
    }
}
