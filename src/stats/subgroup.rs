//! Subgroup analysis: one pooled result per level of a `subgroup` column, and the test for
//! subgroup differences.
//!
//! Each subgroup is analysed on its own (with its own τ² in a random-effects model), and the
//! subgroup estimates are compared with a common-effect Cochran's Q:
//! Q_between = Σ w_g(θ̂_g − θ̄)², w_g = 1/SE_g², df = G − 1 — the approach of RevMan 5 and of the
//! Cochrane Handbook (section 10.11.3.1), Borenstein et al. (2009, ch. 19).

use super::analysis::{meta_analysis, Analysis};
use super::dist;
use super::effect::StudyData;
use super::error::StatsError;
use super::inverse_variance::i2_from_q;
use super::spec::Spec;

/// The test for subgroup differences.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SubgroupTest {
    pub q: f64,
    pub df: f64,
    pub p: f64,
    /// I² of the subgroup estimates, as RevMan reports it.
    pub i2: f64,
}

/// One subgroup's analysis and which input studies it holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Subgroup {
    pub name: String,
    pub members: Vec<usize>,
    pub analysis: Analysis,
}

/// Analyses per subgroup (in order of first appearance) and the test between them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SubgroupAnalysis {
    pub subgroups: Vec<Subgroup>,
    /// `None` with fewer than two subgroups, or when a subgroup's standard error is 0.
    pub test: Option<SubgroupTest>,
}

/// Analyse `data` separately within each level of `labels` (one label per study).
pub fn by_subgroup(data: &[StudyData], labels: &[String], spec: &Spec) -> Result<SubgroupAnalysis, StatsError> {
    let mut order: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        match order.iter_mut().find(|(name, _)| name == label) {
            Some((_, members)) => members.push(i),
            None => order.push((label.clone(), vec![i])),
        }
    }
    let mut subgroups = Vec::with_capacity(order.len());
    for (name, members) in order {
        let part: Vec<StudyData> = members.iter().map(|&i| data[i]).collect();
        let analysis = meta_analysis(&part, spec).map_err(|e| StatsError::InSubgroup { subgroup: name.clone(), error: Box::new(e) })?;
        subgroups.push(Subgroup { name, members, analysis });
    }
    // A subgroup without an estimable total takes no part in the test (as in RevMan 5).
    let estimates: Vec<(f64, f64)> = subgroups.iter().filter_map(|s| s.analysis.pooled.as_ref()).map(|p| (p.estimate, p.se)).collect();
    Ok(SubgroupAnalysis { test: test_for_differences(&estimates), subgroups })
}

/// Q between subgroup estimates `(estimate, se)`; `None` with fewer than two, or when a
/// subgroup's standard error is 0 (Knapp–Hartung within a subgroup of identical effects): its
/// weight would be infinite and Q undefined.
pub fn test_for_differences(estimates: &[(f64, f64)]) -> Option<SubgroupTest> {
    if estimates.len() < 2 || estimates.iter().any(|&(_, se)| !(se > 0.0 && se.is_finite())) {
        return None;
    }
    let (sw, swy) = estimates.iter().fold((0.0, 0.0), |(a, b), &(y, se)| (a + 1.0 / (se * se), b + y / (se * se)));
    let mean = swy / sw;
    let q: f64 = estimates.iter().map(|&(y, se)| (y - mean).powi(2) / (se * se)).sum();
    let df = (estimates.len() - 1) as f64;
    Some(SubgroupTest { q, df, p: dist::pchisq_upper(q, df), i2: i2_from_q(q, df).0 })
}
