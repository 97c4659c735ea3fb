//! One module per subcommand. Each takes its parsed arguments and returns its output or the
//! diagnostics to print; none of them exits the process or prints by itself.

pub mod build;
pub mod check;
pub mod import;
pub mod init;
pub mod pool;
pub mod serve;
pub mod watch;

use crate::diag::Diagnostic;

/// What a subcommand that succeeded prints: its output (stdout) and its warnings (stderr).
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: String,
    pub warnings: Vec<Diagnostic>,
}

impl From<String> for Output {
    fn from(stdout: String) -> Output {
        Output { stdout, warnings: Vec::new() }
    }
}
