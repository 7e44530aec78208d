//! Which reverse proxy asks `/v1/authorize` (and so which headers carry
//! the original request), and which layers of a REST call it decides:
//! configuration values, a leaf that knows no route.

use axum::http::HeaderName;
use serde::Deserialize;

/// Which reverse proxy asks `/v1/authorize`, and so which pair of headers
/// carries the original method and URI (`--proxy`, `proxy = "…"`). Only
/// that pair is read; the other pair must be absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyKind {
    /// nginx `auth_request`: `X-Original-Method`, `X-Original-URI`.
    #[default]
    Nginx,
    /// Caddy and Traefik forward auth: `X-Forwarded-Method`, `X-Forwarded-Uri`.
    ForwardAuth,
}

impl ProxyKind {
    /// The (method, URI) headers this kind of proxy sets.
    pub fn headers(self) -> [HeaderName; 2] {
        match self {
            ProxyKind::Nginx => [
                HeaderName::from_static("x-original-method"),
                HeaderName::from_static("x-original-uri"),
            ],
            ProxyKind::ForwardAuth => [
                HeaderName::from_static("x-forwarded-method"),
                HeaderName::from_static("x-forwarded-uri"),
            ],
        }
    }

    pub(crate) fn other(self) -> ProxyKind {
        match self {
            ProxyKind::Nginx => ProxyKind::ForwardAuth,
            ProxyKind::ForwardAuth => ProxyKind::Nginx,
        }
    }
}

/// Which layers of a REST call `/v1/authorize` decides (`--authorize-layers`,
/// `authorize_layers = "…"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthorizeLayers {
    /// The REST endpoint permission only: Polarion enforces item
    /// permissions itself.
    #[default]
    Endpoint,
    /// The endpoint permission, then the item permission of the call.
    Both,
}
