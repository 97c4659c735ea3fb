//! Speed of the pooling core (criterion). Targets, from the issue that introduced it:
//! REML at k = 10⁶ in ≤ 50 ms, and 10⁴ analyses of k = 10 in ≤ 50 ms. Each measured call is a
//! complete analysis, as `metabook pool` computes it: effect sizes, τ² (REML), the pooled
//! estimate and its test, Q, I², H², the prediction interval and the Q-profile intervals for
//! τ² and I². `bench/run.sh` runs this and metafor on the same data and writes BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use metabook::stats::{meta_analysis, Measure, Method, Spec, StudyData};
use std::hint::black_box;

/// Deterministic synthetic studies from Weyl sequences u = frac(i·α), which R computes to the
/// same bits (`(i * a) %% 1`), so bench/metafor.R analyses exactly these data. Study i
/// (1-based: i = first + 1, …) has variance vi = 0.01 + 0.2·u_A and effect
/// yi = 0.3 + 0.3·√12·(u_B − 0.5) + √vi·√12·(u_C − 0.5): true effects spread with τ² = 0.09
/// plus sampling error, so every estimator and the Q-profile interval have real work to do.
pub fn studies(k: usize, first: usize) -> Vec<StudyData> {
    const A: f64 = 0.6180339887498949; // golden ratio − 1
    const B: f64 = 0.4142135623730951; // √2 − 1
    const C: f64 = 0.7320508075688772; // √3 − 1
    let s12 = 12f64.sqrt();
    (first..first + k)
        .map(|i| {
            let i = (i + 1) as f64;
            let vi = 0.01 + 0.2 * ((i * A) % 1.0);
            let yi = 0.3 + 0.3 * s12 * ((i * B) % 1.0 - 0.5) + vi.sqrt() * s12 * ((i * C) % 1.0 - 0.5);
            StudyData::Generic { yi, vi }
        })
        .collect()
}

fn reml(c: &mut Criterion) {
    let spec = Spec { method: Method::REML, ..Spec::new(Measure::GEN) };
    let mut group = c.benchmark_group("reml");
    group.sample_size(20);
    for k in [10usize, 10_000, 1_000_000] {
        let data = studies(k, 0);
        group.bench_with_input(BenchmarkId::from_parameter(k), &data, |b, data| {
            b.iter(|| meta_analysis(black_box(data), &spec).expect("analysis"))
        });
    }
    group.finish();
}

fn many_small(c: &mut Criterion) {
    let spec = Spec { method: Method::REML, ..Spec::new(Measure::GEN) };
    let analyses: Vec<Vec<StudyData>> = (0..10_000).map(|j| studies(10, 10 * j)).collect();
    let mut group = c.benchmark_group("many");
    group.sample_size(20);
    group.bench_function("10000 analyses of k=10", |b| {
        b.iter(|| {
            for data in &analyses {
                black_box(meta_analysis(black_box(data), &spec).expect("analysis"));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, reml, many_small);
criterion_main!(benches);
