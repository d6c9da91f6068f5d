//! `POST site-photos/`: a multipart upload that is counted, not kept.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::app::App;
use super::endpoint::Endpoint;
use super::error::{ApiError, FieldError, FieldErrors};
use super::store::now_text;

/// The largest upload accepted; larger ones get 413.
pub(crate) const MAX_UPLOAD_BYTES: usize = 25 * 1024 * 1024;
const CAPTION_MAX: usize = 255;

/// Reads the `image` file part, the `project` it belongs to (both required, as in Kibray's
/// `SitePhoto` model) and an optional `caption`, and answers 201 with the bytes received. The
/// image itself is dropped as it streams in, so uploads cost no memory.
pub(crate) async fn upload(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let mut call = app.admit(&headers, Endpoint::SitePhotoUpload, 0).await?;
    let mut multipart = multipart.map_err(|_| {
        let media = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        ApiError::UnsupportedMediaType(media.unwrap_or_default().to_owned())
    })?;

    let mut errors = FieldErrors::default();
    let mut image: Option<(String, String, usize)> = None;
    let mut project = None;
    let mut caption = String::new();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            "image" => {
                let Some(file_name) = field.file_name().map(str::to_owned) else {
                    errors.add("image", FieldError::NotAFile);
                    continue;
                };
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let mut size = 0;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    size += chunk.len();
                }
                image = Some((file_name, content_type, size));
            }
            "project" => {
                let text = field.text().await.map_err(multipart_error)?;
                let text = text.trim();
                match text.parse::<u64>() {
                    Ok(id) if app.catalog.has_project(id) => project = Some(id),
                    Ok(_) => errors.add("project", FieldError::InvalidPk(text.to_owned())),
                    // DRF reads an empty related field of a form as null.
                    Err(_) if text.is_empty() => errors.add("project", FieldError::Null),
                    Err(_) => errors.add("project", FieldError::IncorrectPkType("str")),
                }
            }
            "caption" => {
                caption = field.text().await.map_err(multipart_error)?;
                if caption.chars().count() > CAPTION_MAX {
                    errors.add("caption", FieldError::TooLong { max: CAPTION_MAX });
                }
            }
            // Unknown parts are ignored, as a DRF serializer ignores unknown fields.
            _ => {}
        }
    }
    match &image {
        None if !errors.has("image") => errors.add("image", FieldError::NoFile),
        Some((_, _, 0)) => errors.add("image", FieldError::EmptyFile),
        _ => {}
    }
    if project.is_none() && !errors.has("project") {
        errors.add("project", FieldError::Required);
    }
    errors.into_result()?;
    let (Some((file_name, content_type, size)), Some(project)) = (image, project) else {
        unreachable!("a missing image or project was recorded as an error above")
    };

    let id = app.photos.fetch_add(1, Ordering::Relaxed) + 1;
    let extension = file_name.rsplit_once('.').map_or("jpg", |(_, ext)| ext);
    let stored = uuid::Builder::from_random_bytes(rand::Rng::random(&mut call.rng)).into_uuid();
    let body = json!({
        "id": id,
        "project": project,
        "caption": caption,
        "image": format!("/media/site_photos/{stored}.{extension}"),
        "filename": file_name,
        "content_type": content_type,
        "size": size,
        "uploaded_by": call.account.map(|a| a.username()),
        "uploaded_at": now_text(),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A broken or oversized multipart body.
fn multipart_error(error: MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::MultipartParse(error.body_text())
    }
}
