//! `metabook serve`: the HTML site on 127.0.0.1, rebuilt when an input changes (see
//! [`super::watch`]), with open pages reloaded live.
//!
//! Every HTML page is sent with a small script that listens to `/__metabook/events`
//! (server-sent events): after a build it reloads the page; after a failed build it shows the
//! diagnostic over the page, which stays the last good build — a failed build never replaces
//! the site.
//!
//! A build writes nothing until every output is made, and the PDF takes most of a build's time.
//! So the pages do not wait for it: as soon as a build has made the site in memory and a page
//! differs from the one on disk, the server answers from those pages (the preview) and the open
//! pages reload; once the build is written, from disk again. Should the build then fail (only
//! typesetting is left), the preview is dropped and a page that showed it reloads the last good
//! build under the diagnostic.
//!
//! The server only answers GET for files inside the site folder: a path with `..` (also
//! percent-encoded), a backslash, or a symbolic link that leads out is refused. It listens on
//! the loopback address only. Plain HTTP/1.1 over std's TCP listener, one thread per
//! connection: a preview server for one author needs no more.

use super::watch;
use crate::diag::Diagnostic;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// What the open pages are told: the number of the last build and, if the last build failed,
/// its diagnostics; and the site of the build under way, once made (paths relative to the
/// site folder), until it is written.
#[derive(Debug, Default)]
struct State {
    generation: u64,
    error: Option<String>,
    preview: Option<Arc<BTreeMap<PathBuf, Vec<u8>>>>,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// Tell the open pages about a new build: reload, or show `error` over the page.
fn publish(shared: &Shared, error: Option<String>) {
    let (lock, changed) = &**shared;
    let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
    state.generation += 1;
    state.error = error;
    changed.notify_all();
}

/// Why a request path is not served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// 403: the path tries to leave the site.
    Forbidden,
    /// 404: no such file.
    NotFound,
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The file a request path names, relative to the site folder (`index.html` for a folder), or
/// why it is refused: the checks that need no disk.
fn relative(raw: &str) -> Result<PathBuf, Refused> {
    let path = raw.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path).ok_or(Refused::Forbidden)?;
    if !decoded.starts_with('/') || decoded.contains('\\') || decoded.contains('\0') {
        return Err(Refused::Forbidden);
    }
    let mut relative = PathBuf::new();
    for part in decoded.split('/').filter(|p| !p.is_empty()) {
        match Path::new(part).components().next() {
            Some(Component::Normal(_)) if Path::new(part).components().count() == 1 => relative.push(part),
            _ => return Err(Refused::Forbidden),
        }
    }
    if decoded.ends_with('/') || relative.as_os_str().is_empty() {
        relative.push("index.html");
    }
    Ok(relative)
}

/// The file a request path names inside `site`, or why it is refused.
pub fn resolve(site: &Path, raw: &str) -> Result<PathBuf, Refused> {
    let relative = relative(raw)?;
    let base = site.canonicalize().map_err(|_| Refused::NotFound)?;
    let real = base.join(&relative).canonicalize().map_err(|_| Refused::NotFound)?;
    if !real.starts_with(&base) {
        return Err(Refused::Forbidden);
    }
    if real.is_file() {
        Ok(real)
    } else {
        Err(Refused::NotFound)
    }
}

/// The bytes a request path names, its file name, and whether they come from `preview` (the
/// site of a build not yet written), which goes before the site folder `site`.
fn find(site: &Path, preview: Option<&BTreeMap<PathBuf, Vec<u8>>>, raw: &str) -> Result<(Vec<u8>, PathBuf, bool), Refused> {
    let name = relative(raw)?;
    if let Some(bytes) = preview.and_then(|p| p.get(&name)) {
        return Ok((bytes.clone(), name, true));
    }
    let file = resolve(site, raw)?;
    let bytes = std::fs::read(&file).map_err(|_| Refused::NotFound)?;
    Ok((bytes, file, false))
}

/// The script every served page gets: reload after a build, show a failed build's diagnostics
/// (`PREVIEW` is `true` in a page of a build not yet written: it reloads the last good build).
const LIVE_RELOAD: &str = r#"<script>
(function () {
  var preview = PREVIEW;
  var events = new EventSource("/__metabook/events");
  var seen = null;
  events.addEventListener("build", function (e) {
    if (seen !== null && e.data !== seen) { location.reload(); }
    seen = e.data;
  });
  events.addEventListener("failed", function (e) {
    if (preview) { location.reload(); return; }
    var box = document.getElementById("metabook-error") || document.createElement("pre");
    box.id = "metabook-error";
    box.setAttribute("role", "alert");
    box.style.cssText = "position:fixed;inset:auto 1rem 1rem 1rem;max-height:60vh;overflow:auto;margin:0;padding:1rem;background:#fff4f4;color:#600;border:2px solid #b00;font:13px/1.4 monospace;white-space:pre-wrap;z-index:9999";
    box.textContent = "metabook: the last build failed; this page is the last good build.\n\n" + JSON.parse(e.data);
    document.body.appendChild(box);
  });
})();
</script>
"#;

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8]) -> std::io::Result<()> {
    write!(stream, "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n", body.len())?;
    stream.write_all(body)
}

/// The events of one open page: the current build at once, then each later one.
fn events(stream: &mut TcpStream, shared: &Shared) -> std::io::Result<()> {
    write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\n")?;
    let (lock, changed) = &**shared;
    let mut seen = None;
    loop {
        let (generation, error) = {
            let state = lock.lock().unwrap_or_else(|e| e.into_inner());
            let (state, _) = changed.wait_timeout_while(state, Duration::from_secs(15), |s| Some(s.generation) == seen).unwrap_or_else(|e| e.into_inner());
            (state.generation, state.error.clone())
        };
        if Some(generation) == seen {
            stream.write_all(b": keep-alive\n\n")?;
        } else {
            match error {
                Some(text) => write!(stream, "event: failed\ndata: {}\n\n", serde_json::to_string(&text).unwrap_or_default())?,
                None => write!(stream, "event: build\ndata: {generation}\n\n")?,
            }
            seen = Some(generation);
        }
        stream.flush()?;
    }
}

fn handle(mut stream: TcpStream, site: &Path, shared: &Shared) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // Skip the headers.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut words = request.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        return respond(&mut stream, "405 Method Not Allowed", "text/plain", b"metabook serve answers GET only\n");
    }
    if target == "/__metabook/events" {
        return events(&mut stream, shared);
    }
    let preview = shared.0.lock().unwrap_or_else(|e| e.into_inner()).preview.clone();
    match find(site, preview.as_deref(), target) {
        Ok((mut body, file, from_preview)) => {
            if file.extension().is_some_and(|e| e == "html") {
                let text = String::from_utf8_lossy(&body);
                let at = text.rfind("</body>").unwrap_or(text.len());
                let script = LIVE_RELOAD.replace("PREVIEW", if from_preview { "true" } else { "false" });
                body = format!("{}{script}{}", &text[..at], &text[at..]).into_bytes();
            }
            respond(&mut stream, "200 OK", content_type(&file), if method == "HEAD" { &[] } else { &body })
        }
        Err(Refused::Forbidden) => respond(&mut stream, "403 Forbidden", "text/plain", b"outside the site\n"),
        Err(Refused::NotFound) => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n"),
    }
}

/// Serve the book in `root` on 127.0.0.1:`port` (0: any free port), rebuilding on changes.
pub fn run(root: &Path, port: u16) -> Result<super::Output, Vec<Diagnostic>> {
    if !root.join("book.toml").exists() {
        return Err(vec![Diagnostic::error(format!("no book.toml in `{}`", root.display())).hint("run metabook in the book's folder, or pass --book DIR")]);
    }
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| vec![Diagnostic::error(format!("cannot listen on 127.0.0.1:{port}: {e}")).hint("choose another port with --port N")])?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let waker = watch::Waker::new(root);
    let mut fingerprint = watch::fingerprint(root);
    let mut session = super::build::Session::default();
    let site = root.join(crate::book::build_folders(root).build_dir).join("html");
    let error = watch::build_and_report(root, &mut session, &mut |_| (), &mut || ());
    let shared: Shared = Arc::new((Mutex::new(State { generation: 1, error, preview: None }), Condvar::new()));
    eprintln!("serving {} on http://127.0.0.1:{port}/ (Ctrl-C to stop)", site.display());
    {
        let (root, site) = (root.to_path_buf(), site.clone());
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || loop {
            fingerprint = watch::wait_for_change(&root, fingerprint, &waker);
            // Open pages reload once the site is made if a page changed (shown from memory
            // until written), else once the build is written if it changed a file; a build
            // that changed no page reloads nothing, unless it clears a failure's overlay.
            let reloaded = std::cell::Cell::new(false);
            let error = watch::build_and_report(
                &root,
                &mut session,
                &mut |files| {
                    let pages: BTreeMap<PathBuf, Vec<u8>> = files.iter().filter_map(|(f, bytes)| Some((PathBuf::from(f.strip_prefix("html/")?), bytes.clone()))).collect();
                    if pages.iter().any(|(page, bytes)| std::fs::read(site.join(page)).ok().as_ref() != Some(bytes)) {
                        shared.0.lock().unwrap_or_else(|e| e.into_inner()).preview = Some(Arc::new(pages));
                        publish(&shared, None);
                        reloaded.set(true);
                    }
                },
                &mut || {
                    if !reloaded.replace(true) {
                        publish(&shared, None);
                    }
                },
            );
            let failed_before = {
                let mut state = shared.0.lock().unwrap_or_else(|e| e.into_inner());
                state.preview = None;
                state.error.is_some()
            };
            if error.is_some() || (failed_before && !reloaded.get()) {
                publish(&shared, error);
            }
        });
    }
    for stream in listener.incoming().flatten() {
        let site = site.clone();
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            let _ = handle(stream, &site, &shared);
        });
    }
    Ok(super::Output::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_inside_the_site_are_served() {
        let root = std::env::temp_dir().join(format!("metabook-serve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let site = root.join("html");
        std::fs::create_dir_all(site.join("images")).unwrap();
        std::fs::write(site.join("index.html"), "<html><body></body></html>").unwrap();
        std::fs::write(site.join("images/a.png"), "png").unwrap();
        std::fs::write(root.join("secret.txt"), "secret").unwrap();
        assert_eq!(resolve(&site, "/").unwrap(), site.canonicalize().unwrap().join("index.html"));
        assert!(resolve(&site, "/images/a.png?v=1").is_ok());
        assert!(resolve(&site, "/images/a%2Epng").is_ok());
        for bad in ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/images/../../secret.txt", "/..%5csecret.txt", "//etc/passwd/../../secret.txt", "secret.txt", "/%zz"] {
            assert_eq!(resolve(&site, bad), Err(Refused::Forbidden), "{bad}");
        }
        assert_eq!(resolve(&site, "//etc/passwd"), Err(Refused::NotFound), "an absolute path stays inside the site");
        assert_eq!(resolve(&site, "/missing.html"), Err(Refused::NotFound));
        // The pages of a build not yet written go before those on disk, by the same rules.
        let preview: BTreeMap<PathBuf, Vec<u8>> = [("index.html", "new"), ("c001.html", "made")].into_iter().map(|(f, b)| (PathBuf::from(f), b.as_bytes().to_vec())).collect();
        assert_eq!(find(&site, Some(&preview), "/").unwrap(), (b"new".to_vec(), PathBuf::from("index.html"), true));
        assert_eq!(find(&site, Some(&preview), "/c001.html?x#y").unwrap().0, b"made");
        assert_eq!(find(&site, Some(&preview), "/images/a.png").unwrap(), (b"png".to_vec(), site.canonicalize().unwrap().join("images/a.png"), false));
        assert_eq!(find(&site, None, "/").unwrap().0, b"<html><body></body></html>");
        assert_eq!(find(&site, Some(&preview), "/../index.html"), Err(Refused::Forbidden));
        assert_eq!(find(&site, Some(&preview), "/missing.html"), Err(Refused::NotFound));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("secret.txt"), site.join("link.txt")).unwrap();
            assert_eq!(resolve(&site, "/link.txt"), Err(Refused::Forbidden), "a symbolic link out of the site");
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
