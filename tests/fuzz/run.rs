//! Running metabook as a child process with a time limit and a memory limit, so that a panic,
//! an abort (a stack overflow is a SIGABRT), a hang or a runaway allocation ends that run only
//! and becomes a finding instead of taking the harness down.

use std::ffi::OsString;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space a run may take (the example book needs a few hundred MB): with two cores
/// shared by several people, a template that asks for gigabytes must fail, not swap.
const MEMORY_LIMIT_KB: u64 = 4 * 1024 * 1024;

/// At most this much of stdout and stderr is read back.
const READ_LIMIT: u64 = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Exit(i32),
    Signal(i32),
    TimedOut,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn code(&self) -> Option<i32> {
        match self.status {
            Status::Exit(c) => Some(c),
            _ => None,
        }
    }
}

/// Run `exe args` in `cwd`, stdout and stderr going to files in `logs`; kill it after `limit`.
pub fn run(exe: &Path, args: &[OsString], cwd: &Path, logs: &Path, limit: Duration) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    let out_path = logs.join("stdout");
    let err_path = logs.join("stderr");
    let start = Instant::now();
    // `sh` sets the memory limit and then becomes metabook (exec), so the child we wait for
    // and kill is metabook itself.
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_LIMIT_KB} 2>/dev/null; exec \"$0\" \"$@\""))
        .arg(exe)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout log"))
        .stderr(File::create(&err_path).expect("stderr log"))
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => panic!("cannot start {}: {e}", exe.display()),
    };
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s.code().map(Status::Exit).or(s.signal().map(Status::Signal)).unwrap_or(Status::Exit(-1)),
            Ok(None) if start.elapsed() >= limit => {
                let _ = child.kill();
                let _ = child.wait();
                break Status::TimedOut;
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => panic!("waiting for metabook: {e}"),
        }
    };
    Outcome { status, stdout: read_capped(&out_path), stderr: read_capped(&err_path) }
}

fn read_capped(path: &Path) -> String {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Ok(f) = File::open(path) {
        let _ = f.take(READ_LIMIT).read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
