//! One error answer for every route: a status, a JSON body
//! `{"error": …}` (with the loaded `revision` on the permission and scheme
//! routes, and `min_revision` on a 409) and any extra headers. Handlers
//! return `Result<Response, ApiError>` and use `?`.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Debug, Serialize)]
struct ErrorBody {
    // Fields in alphabetical order: the bytes `json!` wrote before.
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_revision: Option<String>,
    /// Absent on the guards and `/v1/reload`; null while nothing is loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<Option<String>>,
}

impl ApiError {
    /// `{"error": message, "revision": revision}`.
    pub fn new(status: StatusCode, revision: Option<&str>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: message.into(),
                revision: Some(revision.map(str::to_owned)),
                min_revision: None,
            },
            headers: Vec::new(),
        }
    }

    /// `{"error": message}`, naming no revision.
    pub fn bare(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: message.into(),
                revision: None,
                min_revision: None,
            },
            headers: Vec::new(),
        }
    }

    /// 401 with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::bare(StatusCode::UNAUTHORIZED, message)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// 409: the loaded revision is older than `min_revision`.
    pub fn too_old(revision: &str, wanted: &str) -> Self {
        let mut e = ApiError::new(
            StatusCode::CONFLICT,
            Some(revision),
            "the loaded revision is older than min_revision",
        );
        e.body.min_revision = Some(wanted.to_owned());
        e
    }

    /// The body, as it is sent.
    pub fn body_text(&self) -> String {
        serde_json::to_string(&self.body).unwrap_or_default()
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        for (name, value) in self.headers {
            r.headers_mut().insert(name, value);
        }
        r
    }
}
