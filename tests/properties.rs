//! Properties every analysis must have, whatever the data: the order of the studies does not
//! matter, one study reports itself, and identical studies show no heterogeneity. And of the
//! sensitivity analyses and small-study tests: leaving out one of identical studies changes
//! nothing, the last cumulative row is the full analysis, hat values are the weights, and the
//! tests' numbers stay in range (with the Cochrane Handbook's caution below 10 studies).

use metabook::stats::{sensitivity, small_study};
use metabook::stats::{meta_analysis, Analysis, Measure, Method, Spec, StudyData, Test};
use proptest::prelude::*;

const RANDOM: [Method; 8] = [Method::DL, Method::HE, Method::HS, Method::SJ, Method::ML, Method::REML, Method::EB, Method::PM];

fn generic(studies: &[(f64, f64)]) -> Vec<StudyData> {
    studies.iter().map(|&(yi, vi)| StudyData::Generic { yi, vi }).collect()
}

fn spec(method: Method, test: Test) -> Spec {
    Spec { method, test, ..Spec::new(Measure::GEN) }
}

/// Equal to 1e-8 relative, or 1e-10 absolute for values near zero (a τ² of 1e-13 at the
/// boundary moves in its third digit when the summation order changes).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-8 * a.abs().max(b.abs()) + 1e-10
}

fn same(a: &Analysis, b: &Analysis) -> bool {
    let (p, q) = (a.pooled.as_ref().unwrap(), b.pooled.as_ref().unwrap());
    close(p.estimate, q.estimate)
        && close(p.se, q.se)
        && close(p.p, q.p)
        && close(p.tau2.unwrap_or(0.0), q.tau2.unwrap_or(0.0))
        && match (&p.heterogeneity, &q.heterogeneity) {
            (Some(h), Some(g)) => close(h.q, g.q) && close(h.i2, g.i2),
            (None, None) => true,
            _ => false,
        }
}

fn studies() -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec((-3.0..3.0f64, 0.001..2.0f64), 2..25)
}

fn binary_studies() -> impl Strategy<Value = Vec<StudyData>> {
    prop::collection::vec((2u32..200, 2u32..200, 0.0..1.0f64, 0.0..1.0f64), 2..15).prop_map(|v| {
        v.into_iter()
            .map(|(n1, n2, p1, p2)| StudyData::Binary {
                events1: (p1 * n1 as f64).floor(),
                n1: n1 as f64,
                events2: (p2 * n2 as f64).floor(),
                n2: n2 as f64,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn permuting_studies_changes_nothing(data in studies(), seed in any::<u64>(), m in 0usize..10, knha in any::<bool>()) {
        let method = if m < 8 { RANDOM[m] } else { Method::FE };
        let test = if knha { Test::Knha } else { Test::Z };
        let original = generic(&data);
        let mut shuffled = data.clone();
        // A deterministic shuffle from the seed.
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let a = meta_analysis(&original, &spec(method, test)).unwrap();
        let b = meta_analysis(&generic(&shuffled), &spec(method, test)).unwrap();
        prop_assert!(same(&a, &b), "{:?} vs {:?}", a.pooled, b.pooled);
    }

    #[test]
    fn permuting_tables_changes_nothing_for_mantel_haenszel(data in binary_studies(), m in 0usize..4) {
        let (measure, method) = [(Measure::OR, Method::MH), (Measure::RR, Method::MH), (Measure::RD, Method::MH), (Measure::OR, Method::PETO)][m];
        let s = Spec { method, ..Spec::new(measure) };
        let mut reversed = data.clone();
        reversed.reverse();
        match (meta_analysis(&data, &s), meta_analysis(&reversed, &s)) {
            (Ok(a), Ok(b)) => prop_assert!(same(&a, &b)),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
        }
    }

    #[test]
    fn one_study_reports_itself(yi in -3.0..3.0f64, vi in 0.001..2.0f64, m in 0usize..9) {
        let method = if m < 8 { RANDOM[m] } else { Method::FE };
        let a = meta_analysis(&generic(&[(yi, vi)]), &spec(method, Test::Z)).unwrap();
        prop_assert!(close(a.pooled.as_ref().unwrap().estimate, yi));
        prop_assert!(close(a.pooled.as_ref().unwrap().se, vi.sqrt()));
        prop_assert!(a.pooled.as_ref().unwrap().heterogeneity.is_none(), "heterogeneity is not estimable with k = 1");
        prop_assert!(a.pooled.as_ref().unwrap().tau2.is_none());
        prop_assert_eq!(a.studies().next().unwrap().weight, Some(100.0));
    }

    #[test]
    fn identical_studies_give_zero_tau2(y in -3.0..3.0f64, vis in prop::collection::vec(0.001..2.0f64, 2..20), m in 0usize..8) {
        let data: Vec<(f64, f64)> = vis.iter().map(|&v| (y, v)).collect();
        let a = meta_analysis(&generic(&data), &spec(RANDOM[m], Test::Z)).unwrap();
        prop_assert_eq!(a.pooled.as_ref().unwrap().tau2, Some(0.0));
        prop_assert!(close(a.pooled.as_ref().unwrap().estimate, y));
        prop_assert_eq!(a.pooled.as_ref().unwrap().heterogeneity.as_ref().unwrap().i2, 0.0);
    }

    #[test]
    fn leaving_out_one_of_identical_studies_changes_nothing(y in -3.0..3.0f64, v in 0.001..2.0f64, k in 2usize..15, m in 0usize..9) {
        let method = if m < 8 { RANDOM[m] } else { Method::FE };
        let data = generic(&vec![(y, v); k]);
        let a = meta_analysis(&data, &spec(method, Test::Z)).unwrap();
        let rows = sensitivity::leave_one_out(&data, &a);
        prop_assert_eq!(rows.len(), k);
        for r in rows {
            prop_assert_eq!(r.k, k - 1);
            let estimate = r.fit.unwrap().estimate;
            prop_assert!(close(estimate, a.pooled.as_ref().unwrap().estimate), "{} vs {}", estimate, a.pooled.as_ref().unwrap().estimate);
        }
    }

    #[test]
    fn the_last_cumulative_row_is_the_full_analysis(data in studies(), m in 0usize..10, knha in any::<bool>(), seed in any::<u64>()) {
        let method = if m < 8 { RANDOM[m] } else { Method::FE };
        let test = if knha { Test::Knha } else { Test::Z };
        let input = generic(&data);
        let a = meta_analysis(&input, &spec(method, test)).unwrap();
        // Any order: the last row pools every study.
        let mut order: Vec<usize> = (0..input.len()).collect();
        let mut s = seed;
        for i in (1..order.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (s >> 33) as usize % (i + 1));
        }
        let rows = sensitivity::cumulative(&input, &a, &order);
        prop_assert_eq!(rows.len(), input.len());
        let row = rows.last().unwrap();
        prop_assert_eq!(row.study, *order.last().unwrap());
        prop_assert_eq!(row.k, a.k);
        let last = row.fit.as_ref().unwrap();
        prop_assert!(close(last.estimate, a.pooled.as_ref().unwrap().estimate) && close(last.se, a.pooled.as_ref().unwrap().se) && close(last.p, a.pooled.as_ref().unwrap().p));
        prop_assert!(close(last.tau2.unwrap_or(0.0), a.pooled.as_ref().unwrap().tau2.unwrap_or(0.0)));
        prop_assert!(close(last.q.unwrap(), a.pooled.as_ref().unwrap().heterogeneity.as_ref().unwrap().q));
    }

    #[test]
    fn influence_hat_values_are_the_weights(data in studies(), m in 0usize..10) {
        let method = if m < 8 { RANDOM[m] } else { Method::FE };
        let (yi, vi): (Vec<f64>, Vec<f64>) = data.iter().copied().unzip();
        let rows = sensitivity::influence(&yi, &vi, &spec(method, Test::Z)).unwrap();
        let total: f64 = rows.iter().map(|r| r.hat).sum();
        prop_assert!(close(total, 1.0));
        let a = meta_analysis(&generic(&data), &spec(method, Test::Z)).unwrap();
        for (r, w) in rows.iter().zip(&a.pooled.as_ref().unwrap().weights) {
            prop_assert!(close(r.weight, *w));
        }
    }

    #[test]
    fn small_study_results_are_well_formed(data in prop::collection::vec((-3.0..3.0f64, 0.001..2.0f64), 3..25), m in 0usize..10) {
        let method = if m < 8 { RANDOM[m] } else { Method::FE };
        let a = meta_analysis(&generic(&data), &spec(method, Test::Z)).unwrap();
        let s = small_study::small_study(&a);
        if let Some(b) = s.begg {
            prop_assert!((-1.0..=1.0).contains(&b.tau) && (0.0..=1.0).contains(&b.p));
        }
        if let Some(e) = s.egger {
            prop_assert!(e.ci_lower <= e.estimate && e.estimate <= e.ci_upper && (0.0..=1.0).contains(&e.p));
        }
        if let Some(t) = s.trimfill {
            prop_assert_eq!(t.filled.len(), t.k0);
            prop_assert_eq!(t.pooled.weights.len(), data.len() + t.k0);
        }
        prop_assert_eq!(s.notes.iter().any(|n| n.contains("Cochrane Handbook")), data.len() < 10);
    }
}
