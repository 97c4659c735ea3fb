//! Speed of the pooling core (criterion). Targets, from the issue that introduced it:
//! REML at k = 10⁶ in ≤ 50 ms, and 10⁴ analyses of k = 10 in ≤ 50 ms. Each measured call is a
//! complete analysis, as `metabook pool` computes it: effect sizes, τ² (REML), the pooled
//! estimate and its test, Q, I², H², the prediction interval and the Q-profile intervals for
//! τ² and I². `bench/run.sh` runs this and metafor on the same data and writes BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use metabook::stats::{meta_analysis, Measure, Method, Spec, StudyData};
use std::hint::black_box;

/// Deterministic synthetic studies: true effects 0.3 ± heterogeneity, variances in
/// [0.01, 0.21]. The same generator (same constants) is used by bench/metafor.R.
pub fn studies(k: usize, seed: u64) -> Vec<StudyData> {
    let mut state = seed;
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64) / ((1u64 << 53) as f64)
    };
    (0..k)
        .map(|_| {
            let vi = 0.01 + 0.2 * uniform();
            let yi = 0.3 + 0.6 * (uniform() - 0.5) + 0.5 * (uniform() - 0.5);
            StudyData::Generic { yi, vi }
        })
        .collect()
}

fn reml(c: &mut Criterion) {
    let spec = Spec { method: Method::REML, ..Spec::new(Measure::GEN) };
    let mut group = c.benchmark_group("reml");
    group.sample_size(20);
    for k in [10usize, 10_000, 1_000_000] {
        let data = studies(k, 42);
        group.bench_with_input(BenchmarkId::from_parameter(k), &data, |b, data| {
            b.iter(|| meta_analysis(black_box(data), &spec).expect("analysis"))
        });
    }
    group.finish();
}

fn many_small(c: &mut Criterion) {
    let spec = Spec { method: Method::REML, ..Spec::new(Measure::GEN) };
    let analyses: Vec<Vec<StudyData>> = (0..10_000).map(|i| studies(10, i)).collect();
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
