//! `GET schedule/items/`: the Gantt bars, optionally for one project and a date range.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};

use super::app::App;
use super::body::parse_date;
use super::endpoint::Endpoint;
use super::error::{ApiError, FieldError, FieldErrors};
use super::pagination::Params;

/// Items overlapping `[start, end]` (either bound optional), ordered by start date. Unpaginated,
/// as the Gantt view wants every bar at once.
pub(crate) async fn items(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    app.admit(&headers, Endpoint::ScheduleItems, 0).await?;
    let params = Params::from_uri(&uri);
    let mut errors = FieldErrors::default();
    let project = match params.get("project").filter(|p| !p.is_empty()) {
        None => None,
        Some(text) => {
            let id = text.parse().ok().filter(|&id| app.catalog.has_project(id));
            if id.is_none() {
                errors.add("project", FieldError::InvalidFilterChoice);
            }
            id
        }
    };
    let mut date = |name: &'static str| match params.get(name).filter(|d| !d.is_empty()) {
        None => None,
        Some(text) => {
            let date = parse_date(text);
            if date.is_none() {
                errors.add(name, FieldError::InvalidFilterDate);
            }
            date
        }
    };
    let (start, end) = (date("start"), date("end"));
    errors.into_result()?;

    let items: Vec<_> = app
        .catalog
        .schedule
        .iter()
        .filter(|item| project.is_none_or(|p| item.project == p))
        .filter(|item| start.is_none_or(|start| item.end_date >= start))
        .filter(|item| end.is_none_or(|end| item.start_date <= end))
        .collect();
    Ok(Json(items).into_response())
}
