//! `GET projects/` and `GET projects/{id}/`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::app::App;
use super::endpoint::Endpoint;
use super::error::ApiError;
use super::pagination::{Links, Page, PageRequest, Params};
use super::store::{Project, ProjectDetail, TaskStatus};

/// The paginated project list, by id.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let params = Params::from_uri(&uri);
    let request = PageRequest::from_params(&params);
    app.admit(&headers, Endpoint::ProjectList, request.size)
        .await?;
    let links = Links::new(&headers, &uri, &params, app.addr);
    let page = Page::of(app.catalog.projects.iter(), request, &links)?;
    Ok(Json(page).into_response())
}

/// Task counts shown on a project's detail.
#[derive(Debug, Default, Serialize)]
struct TaskCounts {
    total: usize,
    open: usize,
    completed: usize,
}

#[derive(Serialize)]
struct Detail<'a> {
    #[serde(flatten)]
    project: &'a Project,
    #[serde(flatten)]
    detail: &'a ProjectDetail,
    tasks: TaskCounts,
}

/// One project with its extra fields and live task counts.
pub(crate) async fn detail(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    app.admit(&headers, Endpoint::ProjectDetail, 0).await?;
    let project = id
        .parse()
        .ok()
        .and_then(|id| app.catalog.project(id))
        .ok_or(ApiError::NotFound)?;
    let mut tasks = TaskCounts::default();
    for task in app
        .tasks()
        .newest_first()
        .filter(|t| t.project == project.id)
    {
        tasks.total += 1;
        match task.status {
            TaskStatus::Completed => tasks.completed += 1,
            TaskStatus::Cancelled => {}
            _ => tasks.open += 1,
        }
    }
    Ok(Json(Detail {
        project,
        detail: &project.detail,
        tasks,
    })
    .into_response())
}
