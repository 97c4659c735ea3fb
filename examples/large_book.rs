//! Write a synthetic large book for the benchmark (`bench/large.sh`) and for looking at big
//! cases: `cargo run --release --example large_book -- DIR (--analyses N | --studies K)`.
//! The generator is the tests' own (`tests/common/large.rs`), so the benchmark measures the
//! books the tests check.

#[path = "../tests/common/large.rs"]
mod large;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: large_book DIR (--analyses N | --studies K) [--per-chapter P]";
    let (Some(dir), Some(kind), Some(n)) = (
        args.first(),
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let mut shape = match kind.as_str() {
        "--analyses" => large::Shape::analyses(n),
        "--studies" => large::Shape::studies(n),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    if let (Some("--per-chapter"), Some(p)) = (
        args.get(3).map(String::as_str),
        args.get(4).and_then(|p| p.parse().ok()),
    ) {
        shape.per_chapter = p;
    }
    if let Err(e) = large::write(std::path::Path::new(dir), shape) {
        eprintln!("large_book: {dir}: {e}");
        std::process::exit(1);
    }
}
