//! `time-entries/`: list and clock-in.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;

use super::app::App;
use super::body::{Fields, Presence, json_object};
use super::endpoint::Endpoint;
use super::error::{ApiError, FieldError};
use super::pagination::{Links, Page, PageRequest, Params};
use super::store::{Catalog, TimeEntry};

const NOTES_MAX: usize = 2000;

/// Paginated time entries, newest first.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let params = Params::from_uri(&uri);
    let request = PageRequest::from_params(&params);
    app.admit(&headers, Endpoint::TimeEntryList, request.size)
        .await?;
    let links = Links::new(&headers, &uri, &params, app.addr);
    let entries = app.time_entries();
    Ok(Json(Page::of(entries.newest_first(), request, &links)?).into_response())
}

/// `POST time-entries/` `{"employee", "date", "start_time", "project"?, "end_time"?, "notes"?}`,
/// the required fields of Kibray's `TimeEntry` model. `employee` is an employee record's id
/// (`Account::employee`), not a user id: one that does not exist is a 400, as in DRF.
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    app.admit(&headers, Endpoint::TimeEntryCreate, 0).await?;
    let mut fields = Fields::new(json_object(&headers, &body)?);
    let employee = fields.pk("employee", Presence::Required, false, Catalog::has_employee);
    let project = fields
        .pk("project", Presence::Optional, true, |id| {
            app.catalog.has_project(id)
        })
        .flatten();
    let date = fields.date("date", Presence::Required, false);
    let start_time = fields.time("start_time", Presence::Required, false);
    let end_time = fields.time("end_time", Presence::Optional, true).flatten();
    let notes = fields.text("notes", Presence::Optional, true, NOTES_MAX);
    let hours_worked = match (start_time.flatten(), end_time) {
        (Some(start), Some(end)) => {
            let hours = TimeEntry::hours_between(start, end);
            if hours.is_none() {
                fields.errors.add("end_time", FieldError::EndBeforeStart);
            }
            hours
        }
        _ => None,
    };
    fields.finish()?;
    let (Some(Some(employee)), Some(Some(date)), Some(Some(start_time))) =
        (employee, date, start_time)
    else {
        unreachable!(
            "the three fields are required and not nullable, so finish() returned their errors"
        )
    };

    let created_at = Utc::now();
    let mut entries = app.time_entries_mut();
    let entry = entries.insert(|id| TimeEntry {
        id,
        employee,
        project,
        date,
        start_time,
        end_time,
        hours_worked,
        notes: notes.unwrap_or_default(),
        created_at,
    });
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}
