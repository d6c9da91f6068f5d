//! What the demo server answers when it says no, worded the way Django REST Framework words it.

use std::collections::BTreeMap;
use std::fmt;

use axum::Json;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A refused request. Each variant is one DRF exception; its wording lives in `Display`.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// No `Authorization: Bearer …` header at all (DRF `NotAuthenticated`).
    NotAuthenticated,
    /// `Bearer` without exactly one token after it.
    BadAuthorizationHeader,
    /// A token that does not decode, verify, or is not an unexpired access token.
    TokenNotValid,
    /// Login with an unknown account or a wrong password.
    BadCredentials,
    /// An authenticated account without the permission the route needs (DRF
    /// `PermissionDenied`), e.g. a non-staff account on an admin page.
    PermissionDenied,
    /// Over the per-account rate; the client may retry after this many whole seconds.
    Throttled { wait_secs: u64 },
    /// Unknown route or object.
    NotFound,
    /// `?page=` is not a page of this list.
    InvalidPage,
    /// Serializer validation errors, one list of messages per field.
    Fields(FieldErrors),
    /// A body that is not JSON; the text is the parser's own complaint.
    JsonParse(String),
    /// A body that is not multipart although the route wants one.
    MultipartParse(String),
    /// A `Content-Type` the route has no parser for.
    UnsupportedMediaType(String),
    /// An upload larger than the route accepts.
    PayloadTooLarge,
    /// The route exists but not for this method.
    MethodNotAllowed(Method),
    /// A failure injected at `DemoConfig::error_rate`.
    Injected,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::NotAuthenticated
            | ApiError::BadAuthorizationHeader
            | ApiError::TokenNotValid
            | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::PermissionDenied => StatusCode::FORBIDDEN,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound | ApiError::InvalidPage => StatusCode::NOT_FOUND,
            ApiError::Fields(_) | ApiError::JsonParse(_) | ApiError::MultipartParse(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Injected => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::NotAuthenticated => {
                f.write_str("Authentication credentials were not provided.")
            }
            ApiError::BadAuthorizationHeader => {
                f.write_str("Authorization header must contain two space-delimited values")
            }
            ApiError::TokenNotValid => f.write_str("Given token not valid for any token type"),
            ApiError::BadCredentials => {
                f.write_str("No active account found with the given credentials")
            }
            ApiError::PermissionDenied => {
                f.write_str("You do not have permission to perform this action.")
            }
            ApiError::Throttled { wait_secs: 1 } => {
                f.write_str("Request was throttled. Expected available in 1 second.")
            }
            ApiError::Throttled { wait_secs } => write!(
                f,
                "Request was throttled. Expected available in {wait_secs} seconds."
            ),
            ApiError::NotFound => f.write_str("Not found."),
            ApiError::InvalidPage => f.write_str("Invalid page."),
            ApiError::Fields(_) => f.write_str("Invalid input."),
            ApiError::JsonParse(reason) => write!(f, "JSON parse error - {reason}"),
            ApiError::MultipartParse(reason) => write!(f, "Multipart form parse error - {reason}"),
            ApiError::UnsupportedMediaType(media) => {
                write!(f, "Unsupported media type \"{media}\" in request.")
            }
            ApiError::PayloadTooLarge => f.write_str("Request body is too large."),
            ApiError::MethodNotAllowed(method) => write!(f, "Method \"{method}\" not allowed."),
            ApiError::Injected => f.write_str("Internal server error"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            ApiError::Fields(errors) => json!(errors.as_json()),
            ApiError::TokenNotValid => json!({
                "detail": self.to_string(),
                "code": "token_not_valid",
                "messages": [{
                    "token_class": "AccessToken",
                    "token_type": "access",
                    "message": "Token is invalid or expired",
                }],
            }),
            ApiError::BadAuthorizationHeader => json!({
                "detail": self.to_string(),
                "code": "bad_authorization_header",
            }),
            _ => json!({ "detail": self.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Throttled { wait_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(wait_secs));
            }
            _ if status == StatusCode::UNAUTHORIZED => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"api\""),
                );
            }
            _ => {}
        }
        response
    }
}

/// Serializer errors: field name to its messages, like DRF's `serializer.errors`.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors {
    fields: BTreeMap<&'static str, Vec<FieldError>>,
}

impl FieldErrors {
    pub(crate) fn add(&mut self, field: &'static str, error: FieldError) {
        self.fields.entry(field).or_default().push(error);
    }

    pub(crate) fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    /// `Ok(())` when nothing was added, otherwise the 400 to answer.
    pub(crate) fn into_result(self) -> Result<(), ApiError> {
        if self.fields.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Fields(self))
        }
    }

    fn as_json(&self) -> BTreeMap<&'static str, Vec<String>> {
        self.fields
            .iter()
            .map(|(field, errors)| (*field, errors.iter().map(ToString::to_string).collect()))
            .collect()
    }
}

/// One validation message of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldError {
    Required,
    Null,
    Blank,
    NotAString,
    TooLong {
        max: usize,
    },
    /// The offending value, as the client sent it.
    InvalidChoice(String),
    /// A query filter whose value is not one of the options.
    InvalidFilterChoice,
    InvalidPk(String),
    /// The JSON type name the client sent instead of a primary key.
    IncorrectPkType(&'static str),
    /// The JSON type name the client sent instead of an object.
    NotAnObject(&'static str),
    NotAList(&'static str),
    EmptyList,
    TooManyItems {
        max: usize,
    },
    NotAnInteger,
    DateFormat,
    TimeFormat,
    InvalidFilterDate,
    EndBeforeStart,
    NoFile,
    NotAFile,
    EmptyFile,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::Required => f.write_str("This field is required."),
            FieldError::Null => f.write_str("This field may not be null."),
            FieldError::Blank => f.write_str("This field may not be blank."),
            FieldError::NotAString => f.write_str("Not a valid string."),
            FieldError::TooLong { max } => {
                write!(f, "Ensure this field has no more than {max} characters.")
            }
            FieldError::InvalidChoice(value) => write!(f, "\"{value}\" is not a valid choice."),
            FieldError::InvalidFilterChoice => f.write_str(
                "Select a valid choice. That choice is not one of the available choices.",
            ),
            FieldError::InvalidPk(value) => {
                write!(f, "Invalid pk \"{value}\" - object does not exist.")
            }
            FieldError::IncorrectPkType(kind) => {
                write!(f, "Incorrect type. Expected pk value, received {kind}.")
            }
            FieldError::NotAnObject(kind) => {
                write!(f, "Invalid data. Expected a dictionary, but got {kind}.")
            }
            FieldError::NotAList(kind) => {
                write!(f, "Expected a list of items but got type \"{kind}\".")
            }
            FieldError::EmptyList => f.write_str("This list may not be empty."),
            FieldError::TooManyItems { max } => {
                write!(f, "Ensure this field has no more than {max} elements.")
            }
            FieldError::NotAnInteger => f.write_str("A valid integer is required."),
            FieldError::DateFormat => {
                f.write_str("Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")
            }
            FieldError::TimeFormat => f.write_str(
                "Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]].",
            ),
            FieldError::InvalidFilterDate => f.write_str("Enter a valid date."),
            FieldError::EndBeforeStart => f.write_str("End must not be before start."),
            FieldError::NoFile => f.write_str("No file was submitted."),
            FieldError::NotAFile => f.write_str(
                "The submitted data was not a file. Check the encoding type on the form.",
            ),
            FieldError::EmptyFile => f.write_str("The submitted file is empty."),
        }
    }
}
