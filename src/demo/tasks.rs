//! `tasks/`: list with filters, detail, create, partial update and bulk update.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use serde_json::{Value, json};

use super::app::App;
use super::body::{Fields, Presence, choice_of, display_value, json_object};
use super::endpoint::Endpoint;
use super::error::{ApiError, FieldError, FieldErrors};
use super::pagination::{Links, Page, PageRequest, Params};
use super::store::{Catalog, Priority, Task, TaskStatus};

const TITLE_MAX: usize = 200;
const DESCRIPTION_MAX: usize = 5000;
/// The most ids one bulk update takes.
const BULK_MAX: usize = 500;

/// Paginated tasks, newest first, filtered by `?project=` and `?status=`.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let params = Params::from_uri(&uri);
    let request = PageRequest::from_params(&params);
    app.admit(&headers, Endpoint::TaskList, request.size)
        .await?;

    // django-filter: an unknown choice is a 400 on that parameter; an empty one is no filter.
    let mut errors = FieldErrors::default();
    let project = match params.get("project").filter(|p| !p.is_empty()) {
        None => None,
        Some(text) => match text.parse().ok().filter(|&id| app.catalog.has_project(id)) {
            Some(id) => Some(id),
            None => {
                errors.add("project", FieldError::InvalidFilterChoice);
                None
            }
        },
    };
    let status = match params.get("status").filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => match choice_of(&Value::from(text), &TaskStatus::CHOICES) {
            Some(status) => Some(status),
            None => {
                errors.add("status", FieldError::InvalidFilterChoice);
                None
            }
        },
    };
    errors.into_result()?;

    let links = Links::new(&headers, &uri, &params, app.addr);
    let tasks = app.tasks();
    let rows = tasks
        .newest_first()
        .filter(|t| project.is_none_or(|p| t.project == p))
        .filter(|t| status.is_none_or(|s| t.status == s));
    // Serialized while the lock is held, so the page borrows rather than clones the rows.
    Ok(Json(Page::of(rows, request, &links)?).into_response())
}

/// One task.
pub(crate) async fn detail(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    app.admit(&headers, Endpoint::TaskDetail, 0).await?;
    let tasks = app.tasks();
    let task = id
        .parse()
        .ok()
        .and_then(|id| tasks.get(id))
        .ok_or(ApiError::NotFound)?;
    Ok(Json(task).into_response())
}

/// The writable fields of a task, as validated from a request body.
#[derive(Default)]
struct TaskInput {
    title: Option<String>,
    project: Option<u64>,
    status: Option<TaskStatus>,
    priority: Option<Priority>,
    description: Option<String>,
    /// `Some(None)` clears the assignee.
    assigned_to: Option<Option<u64>>,
    due_date: Option<Option<chrono::NaiveDate>>,
}

impl TaskInput {
    /// Validates `body`; `presence` is `Required` for a create, `Optional` for a PATCH.
    fn parse(
        headers: &HeaderMap,
        body: &Bytes,
        presence: Presence,
        catalog: &Catalog,
    ) -> Result<TaskInput, ApiError> {
        let mut fields = Fields::new(json_object(headers, body)?);
        let input = TaskInput {
            title: fields.text("title", presence, false, TITLE_MAX),
            project: fields
                .pk("project", presence, false, |id| catalog.has_project(id))
                .flatten(),
            status: fields.choice("status", Presence::Optional, &TaskStatus::CHOICES),
            priority: fields.choice("priority", Presence::Optional, &Priority::CHOICES),
            description: fields.text("description", Presence::Optional, true, DESCRIPTION_MAX),
            assigned_to: fields.pk(
                "assigned_to",
                Presence::Optional,
                true,
                Catalog::has_employee,
            ),
            due_date: fields.date("due_date", Presence::Optional, true),
        };
        fields.finish()?;
        Ok(input)
    }

    fn apply(self, task: &mut Task) {
        if let Some(title) = self.title {
            task.title = title;
        }
        if let Some(project) = self.project {
            task.project = project;
        }
        if let Some(status) = self.status {
            task.status = status;
        }
        if let Some(priority) = self.priority {
            task.priority = priority;
        }
        if let Some(description) = self.description {
            task.description = description;
        }
        if let Some(assigned_to) = self.assigned_to {
            task.assigned_to = assigned_to;
        }
        if let Some(due_date) = self.due_date {
            task.due_date = due_date;
        }
        task.updated_at = Utc::now();
    }
}

/// `POST tasks/`: 201 with the stored task.
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    app.admit(&headers, Endpoint::TaskCreate, 0).await?;
    let input = TaskInput::parse(&headers, &body, Presence::Required, &app.catalog)?;
    let now = Utc::now();
    let mut tasks = app.tasks_mut();
    let task = tasks.insert(|id| {
        let mut task = Task {
            id,
            project: 0,
            title: String::new(),
            description: String::new(),
            status: TaskStatus::Pending,
            priority: Priority::Medium,
            assigned_to: None,
            due_date: None,
            created_at: now,
            updated_at: now,
        };
        input.apply(&mut task);
        task
    });
    Ok((StatusCode::CREATED, Json(task)).into_response())
}

/// `PATCH tasks/{id}/`: changes the fields given.
pub(crate) async fn update(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    app.admit(&headers, Endpoint::TaskUpdate, 0).await?;
    let id: u64 = id.parse().map_err(|_| ApiError::NotFound)?;
    // DRF looks the object up before it validates the body.
    if app.tasks().get(id).is_none() {
        return Err(ApiError::NotFound);
    }
    let input = TaskInput::parse(&headers, &body, Presence::Optional, &app.catalog)?;
    let mut tasks = app.tasks_mut();
    // Evicted in between by another request's create: as gone as any deleted row.
    let task = tasks.get_mut(id).ok_or(ApiError::NotFound)?;
    input.apply(task);
    Ok(Json(&*task).into_response())
}

/// What a bulk update changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BulkActionKind {
    Status,
    Priority,
}

const BULK_ACTIONS: [(BulkActionKind, &str); 2] = [
    (BulkActionKind::Status, "status"),
    (BulkActionKind::Priority, "priority"),
];

/// `POST tasks/bulk-update/` `{"task_ids", "action", "value"}` → `{"updated": n}`; ids that do
/// not exist are skipped, as a queryset `update()` would.
pub(crate) async fn bulk_update(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    app.admit(&headers, Endpoint::TaskBulkUpdate, 0).await?;
    let mut fields = Fields::new(json_object(&headers, &body)?);
    let ids = fields.id_list("task_ids", BULK_MAX);
    let action = fields.choice("action", Presence::Required, &BULK_ACTIONS);
    let value = fields.raw("value", Presence::Required);
    // The value is checked against the action's choices, so only once the action is known.
    let change = match (action, &value) {
        (Some(BulkActionKind::Status), Some(v)) => {
            choice_of(v, &TaskStatus::CHOICES).map(Change::Status)
        }
        (Some(BulkActionKind::Priority), Some(v)) => {
            choice_of(v, &Priority::CHOICES).map(Change::Priority)
        }
        _ => None,
    };
    if let (Some(_), Some(v), None) = (action, &value, change) {
        fields
            .errors
            .add("value", FieldError::InvalidChoice(display_value(v)));
    }
    fields.finish()?;
    let (Some(mut ids), Some(change)) = (ids, change) else {
        unreachable!("ids, action and value are required, so finish() returned their errors")
    };

    // Like `Task.objects.filter(id__in=ids).update(...)`, a repeated id counts once.
    ids.sort_unstable();
    ids.dedup();
    let now = Utc::now();
    let mut tasks = app.tasks_mut();
    let mut updated = 0;
    for id in ids {
        if let Some(task) = tasks.get_mut(id) {
            match change {
                Change::Status(status) => task.status = status,
                Change::Priority(priority) => task.priority = priority,
            }
            task.updated_at = now;
            updated += 1;
        }
    }
    Ok(Json(json!({ "updated": updated })).into_response())
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Status(TaskStatus),
    Priority(Priority),
}
