//! One module per subcommand. Each takes its parsed arguments and returns its output or the
//! diagnostics to print; none of them exits the process or prints by itself.

pub mod build;
pub mod check;
pub mod pool;
