//! `metabook serve` end to end, over loopback HTTP: the site with the live-reload script, no
//! file outside the site, a rebuild announced to open pages when a data file changes (and the
//! new number served), and a failed build announced while the last good build stays served.

mod common;

use common::copy_dir;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process (the server, the browser), killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").unwrap();
    // The head, then as many bytes as Content-Length says (a server may keep the connection).
    let mut reader = BufReader::new(s);
    let mut text = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        text.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).unwrap();
    text.push_str(&String::from_utf8_lossy(&body));
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

/// Read server-sent events until one of `kind` arrives (within 30 s); returns its data.
fn next_event(events: &mut BufReader<TcpStream>, kind: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut current = String::new();
    let mut line = String::new();
    while Instant::now() < deadline {
        line.clear();
        if events.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(k) = line.strip_prefix("event: ") {
            current = k.trim().to_string();
        } else if let Some(d) = line.strip_prefix("data: ") {
            if current == kind {
                return d.trim().to_string();
            }
        }
    }
    panic!("no `{kind}` event within 30 s");
}

fn subscribe(port: u16) -> BufReader<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET /__metabook/events HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    BufReader::new(s)
}

/// A private copy of the minimal fixture book.
fn minimal_book(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-serve-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books/minimal"), &dir);
    dir
}

/// The port in the first line of `stderr` after `marker` ("…127.0.0.1:PORT/…"); the rest of
/// the stream is drained so the process never blocks on it.
fn port_after(stderr: impl Read + Send + 'static, marker: &str) -> u16 {
    let mut lines = BufReader::new(stderr).lines();
    let port = loop {
        let line = lines.next().expect("the process prints its address").unwrap();
        if let Some(rest) = line.split(marker).nth(1) {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    port
}

/// `metabook serve --port 0` on `dir`, and the port it took (printed after the first build).
fn serve(dir: &Path) -> (Server, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_metabook"))
        .args(["serve", "--port", "0", "--book"])
        .arg(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    (server, port_after(stderr, "http://127.0.0.1:"))
}

#[test]
fn the_served_site_follows_the_data_and_never_leaves_its_folder() {
    let dir = minimal_book("e2e");
    std::fs::write(dir.join("secret.txt"), "not for the web").unwrap();
    let (server, port) = serve(&dir);

    let (status, page) = get(port, "/results.html");
    assert_eq!(status, 200);
    assert!(page.contains("RR 0.49 (95% CI 0.34 to 0.70)") && page.contains("/__metabook/events"), "{page}");
    assert_eq!(get(port, "/").0, 200);
    for bad in ["/../secret.txt", "/%2e%2e/secret.txt", "/%2e%2e%2fsecret.txt", "/..%5csecret.txt"] {
        let (status, body) = get(port, bad);
        assert_eq!(status, 403, "{bad}: {body}");
        assert!(!body.contains("not for the web"));
    }
    assert_eq!(get(port, "//etc/passwd").0, 404);

    // A changed data file: the open page is told, and the new number is served.
    let mut events = subscribe(port);
    let first = next_event(&mut events, "build");
    let data = dir.join("data/bcg.csv");
    let good = std::fs::read_to_string(&data).unwrap();
    std::fs::write(&data, good.replace("Aronson 1948,4,123,11,139", "Aronson 1948,40,123,1,139")).unwrap();
    let second = next_event(&mut events, "build");
    assert_ne!(first, second);
    let (_, page) = get(port, "/results.html");
    assert!(page.contains("RR 0.56 (95% CI 0.38 to 0.81)"), "{page}");

    // A broken data file: the failure is announced, the last good build stays served.
    std::fs::write(&data, good.replace("Aronson 1948,4,", "Aronson 1948,four,")).unwrap();
    let failure = next_event(&mut events, "failed");
    assert!(failure.contains("bcg.csv:2:"), "{failure}");
    let (_, page) = get(port, "/results.html");
    assert!(page.contains("RR 0.56 (95% CI 0.38 to 0.81)"), "{page}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// In a real browser: headless Chromium (Debian's `chromium`, which .ci/run installs) opens the
// served page; the test edits a CSV file and reads the page's text through the DevTools
// protocol until the new number shows, with no reload by hand.

/// A WebSocket connection to one DevTools target, enough for request/response text messages.
struct DevTools {
    stream: TcpStream,
    next_id: u64,
}

impl DevTools {
    fn connect(url: &str) -> DevTools {
        let rest = url.strip_prefix("ws://").expect("a ws:// URL");
        let (host, path) = rest.split_once('/').expect("host/path");
        let mut stream = TcpStream::connect(host).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
        // The handshake's answer ends with an empty line.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
        DevTools { stream, next_id: 1 }
    }

    fn send(&mut self, text: &str) {
        // A masked text frame, as a client must send.
        let mask = [0x12u8, 0x34, 0x56, 0x78];
        let mut frame = vec![0x81u8];
        let n = text.len();
        if n < 126 {
            frame.push(0x80 | n as u8);
        } else {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        frame.extend_from_slice(&mask);
        frame.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).unwrap();
    }

    fn receive(&mut self) -> String {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.stream.read_exact(&mut head).unwrap();
            let mut len = u64::from(head[1] & 0x7f);
            if len == 126 {
                let mut b = [0u8; 2];
                self.stream.read_exact(&mut b).unwrap();
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.stream.read_exact(&mut b).unwrap();
                len = u64::from_be_bytes(b);
            }
            let mut payload = vec![0u8; len as usize];
            self.stream.read_exact(&mut payload).unwrap();
            message.extend(payload);
            if head[0] & 0x80 != 0 {
                return String::from_utf8_lossy(&message).into_owned();
            }
        }
    }

    /// Evaluate a JavaScript expression in the page and return its value as JSON.
    fn evaluate(&mut self, expression: &str) -> serde_json::Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&serde_json::json!({"id": id, "method": "Runtime.evaluate", "params": {"expression": expression, "returnByValue": true}}).to_string());
        loop {
            let reply: serde_json::Value = serde_json::from_str(&self.receive()).unwrap();
            if reply["id"] == id {
                return reply["result"]["result"]["value"].clone();
            }
        }
    }
}

/// Wait until the page's text contains `needle` (30 s at most).
fn page_shows(page: &mut DevTools, needle: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if page.evaluate("document.body ? document.body.innerText : ''").as_str().is_some_and(|t| t.contains(needle)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

#[test]
fn an_open_page_in_chromium_shows_the_new_number_after_a_data_edit() {
    let dir = minimal_book("chromium");
    let (_server, port) = serve(&dir);

    let profile = dir.join("chromium-profile");
    let mut browser = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--remote-debugging-port=0"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("http://127.0.0.1:{port}/results.html"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("headless Chromium (apt-get install chromium; .ci/run installs it)");
    let browser_err = browser.stderr.take().unwrap();
    let _browser = Server(browser);
    // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/…"
    let devtools_port = port_after(browser_err, "ws://127.0.0.1:");
    // The page's own DevTools socket.
    let deadline = Instant::now() + Duration::from_secs(30);
    let page_url = loop {
        let (_, list) = get(devtools_port, "/json/list");
        let body = list.split("\r\n\r\n").nth(1).unwrap_or("[]");
        let targets: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        let found = targets.as_array().into_iter().flatten().find(|t| t["type"] == "page" && t["url"].as_str().is_some_and(|u| u.contains("/results.html")));
        if let Some(t) = found {
            break t["webSocketDebuggerUrl"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "no page in Chromium: {body}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut page = DevTools::connect(&page_url);
    assert!(page_shows(&mut page, "RR 0.49 (95% CI 0.34 to 0.70)"), "the page as first built");
    // Give the page's event stream a moment to connect before the data change.
    std::thread::sleep(Duration::from_millis(500));
    let data = dir.join("data/bcg.csv");
    let text = std::fs::read_to_string(&data).unwrap().replace("Aronson 1948,4,123,11,139", "Aronson 1948,40,123,1,139");
    std::fs::write(&data, text).unwrap();
    assert!(page_shows(&mut page, "RR 0.56 (95% CI 0.38 to 0.81)"), "the open page follows the data without a reload by hand");
    drop(page);
    let _ = std::fs::remove_dir_all(&dir);
}
