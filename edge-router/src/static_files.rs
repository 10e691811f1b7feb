//! The built frontend, served from a folder: files by path, `index.html` for
//! any other path so the single-page app's own router takes over.

use std::path::{Component, Path, PathBuf};

/// A file ready to send.
#[derive(Debug)]
pub struct StaticFile {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub cache_control: &'static str,
}

/// Looks `request_path` up under `root`. Paths that try to leave `root`
/// (`..`, absolute parts) are answered with the app shell, never a file
/// outside it. `None` when the folder holds no `index.html` either.
pub async fn lookup(root: &Path, request_path: &str) -> Option<StaticFile> {
    if let Some(relative) = safe_relative(request_path) {
        let candidate = root.join(&relative);
        if let Ok(body) = tokio::fs::read(&candidate).await {
            return Some(StaticFile {
                body,
                content_type: content_type(&candidate),
                // Vite fingerprints the names of its assets; the shell is not.
                cache_control: if relative.starts_with("assets") {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                },
            });
        }
    }
    let shell = root.join("index.html");
    let body = tokio::fs::read(&shell).await.ok()?;
    Some(StaticFile {
        body,
        content_type: "text/html; charset=utf-8",
        cache_control: "no-cache",
    })
}

fn safe_relative(request_path: &str) -> Option<PathBuf> {
    let trimmed = request_path.trim_start_matches('/');
    let relative = if trimmed.is_empty() || trimmed.ends_with('/') {
        PathBuf::from(trimmed).join("index.html")
    } else {
        PathBuf::from(trimmed)
    };
    relative
        .components()
        .all(|part| matches!(part, Component::Normal(_)))
        .then_some(relative)
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_root_are_refused() {
        assert_eq!(safe_relative("/../etc/passwd"), None);
        assert_eq!(safe_relative("/a/../../b"), None);
        assert_eq!(safe_relative("/"), Some(PathBuf::from("index.html")));
        assert_eq!(
            safe_relative("/docs/"),
            Some(PathBuf::from("docs/index.html"))
        );
        assert_eq!(
            safe_relative("/assets/app.js"),
            Some(PathBuf::from("assets/app.js"))
        );
    }

    #[tokio::test]
    async fn unknown_paths_get_the_app_shell() {
        let root = std::env::temp_dir().join(format!("cellwear-static-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join("assets")).unwrap();
        std::fs::write(root.join("index.html"), "<html>shell</html>").unwrap();
        std::fs::write(root.join("assets/app.js"), "console.log(1)").unwrap();

        let asset = lookup(&root, "/assets/app.js").await.unwrap();
        assert_eq!(asset.content_type, "text/javascript; charset=utf-8");
        assert!(asset.cache_control.contains("immutable"));
        let shell = lookup(&root, "/products/oxford-shirt").await.unwrap();
        assert_eq!(shell.body, b"<html>shell</html>");
        let escape = lookup(&root, "/../../etc/passwd").await.unwrap();
        assert_eq!(escape.body, b"<html>shell</html>");

        std::fs::remove_dir_all(&root).unwrap();
        assert!(lookup(&root, "/").await.is_none());
    }
}
