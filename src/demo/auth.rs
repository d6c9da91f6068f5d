//! `POST auth/login/`: SimpleJWT's `TokenObtainPairView`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use bytes::Bytes;
use rand::Rng;
use serde_json::json;

use super::app::{App, unix_now};
use super::body::{Fields, Presence, json_object};
use super::endpoint::Endpoint;
use super::error::ApiError;
use super::token::{Account, TokenKind};

/// Django's `AbstractUser.username` limit.
const USERNAME_MAX: usize = 150;
const PASSWORD_MAX: usize = 128;

/// Trades `{"username", "password"}` for `{"access", "refresh"}`.
pub(crate) async fn login(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut call = app.admit(&headers, Endpoint::Login, 0).await?;
    let mut fields = Fields::new(json_object(&headers, &body)?);
    let username = fields.text("username", Presence::Required, false, USERNAME_MAX);
    let password = fields.text("password", Presence::Required, false, PASSWORD_MAX);
    fields.finish()?;
    let (Some(username), Some(password)) = (username, password) else {
        unreachable!("both fields are required, so finish() returned their errors")
    };
    let account = Account::login(&username, &password).ok_or(ApiError::BadCredentials)?;
    let now = unix_now();
    let access = app
        .signer
        .issue(account, TokenKind::Access, now, call.rng.random());
    let refresh = app
        .signer
        .issue(account, TokenKind::Refresh, now, call.rng.random());
    Ok(Json(json!({ "access": access, "refresh": refresh })))
}
