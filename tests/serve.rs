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

/// The server, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
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

#[test]
fn the_served_site_follows_the_data_and_never_leaves_its_folder() {
    let dir = std::env::temp_dir().join(format!("metabook-serve-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books/minimal"), &dir);
    std::fs::write(dir.join("secret.txt"), "not for the web").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_metabook"))
        .args(["serve", "--port", "0", "--book"])
        .arg(&dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    // The address is printed once the first build is done.
    let mut lines = BufReader::new(stderr).lines();
    let port: u16 = loop {
        let line = lines.next().expect("the server prints its address").unwrap();
        if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
            break rest.trim_end_matches(|c: char| !c.is_ascii_digit()).split('/').next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});

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
