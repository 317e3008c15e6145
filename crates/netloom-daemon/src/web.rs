//! The web page: the files `make web` builds into `web/dist`, embedded in
//! the binary (read from disk in debug builds, so a rebuilt page needs no
//! cargo rebuild).
//!
//! The routes carry no lab data and need no token: `/` (index.html,
//! `Cache-Control: no-cache`), `/assets/{*path}` (hashed file names, cached
//! for a year) and the other top-level files of `web/dist`. When the page
//! was not built, `/` says how to build it.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

#[derive(rust_embed::Embed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Dist;

const NOT_BUILT: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>netloom</title></head>\n<body style=\"font-family: sans-serif; margin: 3em\">\
<h1>netloom</h1>\n<p>The web page was not built: run <code>make web</code> \
(or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>) and rebuild netloom.</p>\
\n<p>The API is at <code>/api/v1/</code>.</p>\n</body></html>\n";

const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The static routes of the web page. Merge them into the API router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/assets/{*path}", get(asset))
        .route("/{file}", get(top_level))
}

async fn index() -> Response {
    match Dist::get("index.html") {
        Some(f) => file_response("index.html", f.data.into_owned(), NO_CACHE),
        None => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, NO_CACHE),
            ],
            NOT_BUILT,
        )
            .into_response(),
    }
}

async fn asset(Path(path): Path<String>) -> Response {
    serve(&format!("assets/{path}"), IMMUTABLE)
}

async fn top_level(Path(file): Path<String>) -> Response {
    serve(&file, NO_CACHE)
}

fn serve(path: &str, cache: &'static str) -> Response {
    if path.split('/').any(|seg| seg.is_empty() || seg == "..") {
        return not_found();
    }
    match Dist::get(path) {
        Some(f) => file_response(path, f.data.into_owned(), cache),
        None => not_found(),
    }
}

fn file_response(path: &str, data: Vec<u8>, cache: &'static str) -> Response {
    let mut resp = data.into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found\n",
    )
        .into_response()
}

/// The Content-Type of a file of the built page, by extension.
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(path: &str) -> Response {
        routes::<()>()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("assets/index-abc.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("assets/x.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }

    #[tokio::test]
    async fn index_is_html_and_not_cached() {
        let resp = get("/").await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(resp.headers()[header::CACHE_CONTROL], NO_CACHE);
    }

    #[tokio::test]
    async fn unknown_files_are_404() {
        assert_eq!(get("/assets/nope.js").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(get("/nope.txt").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            get("/assets/../Cargo.toml").await.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn assets_are_cached_long() {
        let Some(name) = Dist::iter().find(|p| p.starts_with("assets/")) else {
            return; // the page was not built
        };
        let resp = get(&format!("/{name}")).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CACHE_CONTROL], IMMUTABLE);
    }
}
