//! `metabook pool --format json`: a public interface. The keys below are stable; new keys may
//! be added, none renamed or removed. Ratio measures are on the log scale, as metafor reports
//! them, with `*_exp` keys added on the natural scale. Quantities that do not exist for a model
//! (τ² of a common-effect model, I² with one study) are `null`, never omitted.

use crate::engine::AnalysisResult;
use crate::stats::sensitivity::{Influence, Refit};
use crate::stats::small_study::SmallStudy;
use crate::stats::subgroup::SubgroupTest;
use crate::stats::{Analysis, Pooled};
use serde::Serialize;

#[derive(Serialize)]
struct PoolJson<'a> {
    measure: &'a str,
    method: &'a str,
    /// `fixed` or `random`.
    model: &'a str,
    test: &'a str,
    convention: &'a str,
    level: f64,
    /// Each study's confidence level.
    study_level: f64,
    /// The analysis as RevMan titles it: "Risk Ratio (M-H, Random, 95% CI)".
    revman: String,
    /// Generic effects given on the log scale of a ratio.
    log_scale: bool,
    k: usize,
    #[serde(flatten)]
    pooled: PooledJson,
    notes: &'a [String],
    studies: Vec<StudyJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subgroups: Option<Vec<SubgroupJson<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subgroup_test: Option<SubgroupTestJson>,
    small_study: SmallStudyJson<'a>,
    sensitivity: SensitivityJson<'a>,
}

#[derive(Serialize)]
struct SmallStudyJson<'a> {
    egger: Option<EggerJson>,
    begg: Option<BeggJson>,
    trimfill: Option<TrimFillJson>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct EggerJson {
    stat_name: &'static str,
    stat: f64,
    stat_df: Option<f64>,
    p: f64,
    slope: f64,
    slope_se: f64,
    /// The limit estimate (the regression's intercept) and its CI.
    estimate: f64,
    ci_lower: f64,
    ci_upper: f64,
    tau2: Option<f64>,
}

#[derive(Serialize)]
struct BeggJson {
    tau: f64,
    p: f64,
    exact: bool,
}

#[derive(Serialize)]
struct TrimFillJson {
    side: &'static str,
    k0: usize,
    k0_se: f64,
    k: usize,
    #[serde(flatten)]
    pooled: PooledJson,
    filled: Vec<FilledJson>,
}

#[derive(Serialize)]
struct FilledJson {
    yi: f64,
    vi: f64,
}

#[derive(Serialize)]
struct SensitivityJson<'a> {
    leave_one_out: Option<Vec<RefitJson<'a>>>,
    cumulative: Option<Vec<RefitJson<'a>>>,
    /// The column the cumulative analysis is ordered by, `null` for the data's order.
    cumulative_by: Option<&'a str>,
    influence: Option<Vec<InfluenceJson<'a>>>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct RefitJson<'a> {
    study: &'a str,
    k: usize,
    estimate: Option<f64>,
    se: Option<f64>,
    ci_lower: Option<f64>,
    ci_upper: Option<f64>,
    stat_name: Option<&'static str>,
    stat: Option<f64>,
    stat_df: Option<f64>,
    p: Option<f64>,
    tau2: Option<f64>,
    i2: Option<f64>,
    h2: Option<f64>,
    q: Option<f64>,
    q_p: Option<f64>,
}

#[derive(Serialize)]
struct InfluenceJson<'a> {
    study: &'a str,
    rstudent: f64,
    dffits: f64,
    cook_d: f64,
    cov_r: f64,
    tau2_del: Option<f64>,
    q_del: f64,
    hat: f64,
    /// Percent.
    weight: f64,
    dfbetas: f64,
    /// metafor's `inf` flag.
    influential: bool,
}

#[derive(Serialize)]
struct PooledJson {
    /// `null` (as every number of the pooled result) when no study is estimable; then
    /// `not_estimable` says why.
    estimate: Option<f64>,
    se: Option<f64>,
    ci_lower: Option<f64>,
    ci_upper: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimate_exp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ci_lower_exp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ci_upper_exp: Option<f64>,
    /// "z" or "t".
    stat_name: Option<&'static str>,
    stat: Option<f64>,
    /// Degrees of freedom of a t statistic.
    stat_df: Option<f64>,
    p: Option<f64>,
    tau2: Option<f64>,
    tau2_ci: Option<[f64; 2]>,
    i2: Option<f64>,
    i2_ci: Option<[f64; 2]>,
    h2: Option<f64>,
    h2_ci: Option<[f64; 2]>,
    q: Option<f64>,
    q_df: Option<f64>,
    q_p: Option<f64>,
    pi_lower: Option<f64>,
    pi_upper: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pi_lower_exp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pi_upper_exp: Option<f64>,
    iterations: usize,
    /// Why there is no pooled result (RevMan's "Not estimable"); `null` when there is one.
    not_estimable: Option<String>,
}

#[derive(Serialize)]
struct StudyJson<'a> {
    study: &'a str,
    /// `null` when the study is not estimable.
    yi: Option<f64>,
    vi: Option<f64>,
    /// Percent; `null` when the study is not pooled.
    weight: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subgroup: Option<&'a str>,
}

#[derive(Serialize)]
struct SubgroupJson<'a> {
    subgroup: &'a str,
    k: usize,
    #[serde(flatten)]
    pooled: PooledJson,
    studies: Vec<&'a str>,
}

#[derive(Serialize)]
struct SubgroupTestJson {
    q: f64,
    df: f64,
    p: f64,
    i2: f64,
}

fn pair(p: Option<(f64, f64)>) -> Option<[f64; 2]> {
    p.map(|(a, b)| [a, b])
}

fn pooled_json(analysis: &Analysis) -> PooledJson {
    match &analysis.pooled {
        Some(p) => pooled_json_of(p, analysis.spec.log_scale()),
        None => PooledJson {
            estimate: None,
            se: None,
            ci_lower: None,
            ci_upper: None,
            estimate_exp: None,
            ci_lower_exp: None,
            ci_upper_exp: None,
            stat_name: None,
            stat: None,
            stat_df: None,
            p: None,
            tau2: None,
            tau2_ci: None,
            i2: None,
            i2_ci: None,
            h2: None,
            h2_ci: None,
            q: None,
            q_df: None,
            q_p: None,
            pi_lower: None,
            pi_upper: None,
            pi_lower_exp: None,
            pi_upper_exp: None,
            iterations: 0,
            not_estimable: Some(analysis.not_estimable.clone().unwrap_or_else(|| "no study has an effect that can be pooled".to_string())),
        },
    }
}

fn pooled_json_of(p: &Pooled, ratio: bool) -> PooledJson {
    let exp = |x: f64| ratio.then(|| x.exp());
    let h = p.heterogeneity.as_ref();
    PooledJson {
        estimate: Some(p.estimate),
        se: Some(p.se),
        ci_lower: Some(p.ci_lower),
        ci_upper: Some(p.ci_upper),
        estimate_exp: exp(p.estimate),
        ci_lower_exp: exp(p.ci_lower),
        ci_upper_exp: exp(p.ci_upper),
        stat_name: Some(if p.stat_df.is_some() { "t" } else { "z" }),
        stat: Some(p.stat),
        stat_df: p.stat_df,
        p: Some(p.p),
        tau2: p.tau2,
        tau2_ci: pair(p.tau2_ci),
        i2: h.map(|h| h.i2),
        i2_ci: pair(h.and_then(|h| h.i2_ci)),
        h2: h.map(|h| h.h2),
        h2_ci: pair(h.and_then(|h| h.h2_ci)),
        q: h.map(|h| h.q),
        q_df: h.map(|h| h.df),
        q_p: h.map(|h| h.p),
        pi_lower: p.prediction.map(|x| x.0),
        pi_upper: p.prediction.map(|x| x.1),
        pi_lower_exp: p.prediction.and_then(|x| exp(x.0)),
        pi_upper_exp: p.prediction.and_then(|x| exp(x.1)),
        iterations: p.iterations,
        not_estimable: None,
    }
}

/// The JSON document for one analysis (pretty-printed, deterministic).
pub fn render(result: &AnalysisResult) -> String {
    let mut out = serde_json::to_string_pretty(&document(result)).expect("the JSON view holds only plain data");
    out.push('\n');
    out
}

/// `book/results.json`: every analysis of a book under its name, each exactly the object
/// [`render`] prints for it (`metabook pool --format json`), names in sorted order
/// (pretty-printed, deterministic).
pub fn render_book<'a>(results: impl IntoIterator<Item = (&'a str, &'a AnalysisResult)>) -> String {
    let documents: std::collections::BTreeMap<&str, PoolJson<'_>> = results.into_iter().map(|(name, r)| (name, document(r))).collect();
    let mut out = serde_json::to_string_pretty(&documents).expect("the JSON view holds only plain data");
    out.push('\n');
    out
}

/// The same document as a value, for templates: the names a book's prose and templates use
/// are exactly the JSON keys.
pub fn value(result: &AnalysisResult) -> serde_json::Value {
    serde_json::to_value(document(result)).expect("the JSON view holds only plain data")
}

fn document(result: &AnalysisResult) -> PoolJson<'_> {
    let a = &result.analysis;
    let studies = result
        .table
        .studies
        .iter()
        .zip(a.studies())
        .map(|(s, r)| StudyJson {
            study: &s.label,
            yi: r.effect.map(|e| e.yi),
            vi: r.effect.map(|e| e.vi),
            weight: r.weight,
            subgroup: s.subgroup.as_deref(),
        })
        .collect();
    let subgroups = result.subgroups.as_ref().map(|sa| {
        sa.subgroups
            .iter()
            .map(|g| SubgroupJson {
                subgroup: &g.name,
                k: g.analysis.k,
                pooled: pooled_json(&g.analysis),
                studies: g.members.iter().map(|&i| result.table.studies[i].label.as_str()).collect(),
            })
            .collect()
    });
    let subgroup_test = result
        .subgroups
        .as_ref()
        .and_then(|sa| sa.test.as_ref())
        .map(|t: &SubgroupTest| SubgroupTestJson { q: t.q, df: t.df, p: t.p, i2: t.i2 });
    let label = |i: usize| result.table.studies[i].label.as_str();
    let refits = |rows: &[Refit]| -> Vec<RefitJson<'_>> {
        rows.iter()
            .map(|r| {
                let f = r.fit.as_ref().ok();
                RefitJson {
                    study: label(r.study),
                    k: r.k,
                    estimate: f.map(|f| f.estimate),
                    se: f.map(|f| f.se),
                    ci_lower: f.map(|f| f.ci_lower),
                    ci_upper: f.map(|f| f.ci_upper),
                    stat_name: f.map(|f| if f.stat_df.is_some() { "t" } else { "z" }),
                    stat: f.map(|f| f.stat),
                    stat_df: f.and_then(|f| f.stat_df),
                    p: f.map(|f| f.p),
                    tau2: f.and_then(|f| f.tau2),
                    i2: f.and_then(|f| f.i2),
                    h2: f.and_then(|f| f.h2),
                    q: f.and_then(|f| f.q),
                    q_p: f.and_then(|f| f.q_p),
                }
            })
            .collect()
    };
    let influence = |rows: &[Influence]| -> Vec<InfluenceJson<'_>> {
        rows.iter()
            .map(|r| InfluenceJson {
                study: label(r.study),
                rstudent: r.rstudent,
                dffits: r.dffits,
                cook_d: r.cook_d,
                cov_r: r.cov_r,
                tau2_del: r.tau2_del,
                q_del: r.q_del,
                hat: r.hat,
                weight: r.weight,
                dfbetas: r.dfbetas,
                influential: r.influential,
            })
            .collect()
    };
    let sens = result.sensitivity.as_ref();
    let sensitivity = SensitivityJson {
        leave_one_out: sens.and_then(|s| s.leave_one_out.as_deref()).map(refits),
        cumulative: sens.map(|s| refits(&s.cumulative)),
        cumulative_by: result.cumulative_by.as_deref(),
        influence: sens.and_then(|s| s.influence.as_deref()).map(influence),
        notes: sens.map_or(&[], |s| s.notes.as_slice()),
    };
    PoolJson {
        measure: a.spec.measure.name(),
        method: a.spec.method.name(),
        model: a.spec.model().name(),
        test: a.spec.test.name(),
        convention: a.spec.convention.name(),
        level: a.spec.level,
        study_level: a.spec.study_level,
        revman: a.spec.revman_title(result.effect_name.as_deref()),
        log_scale: a.spec.log_scale(),
        k: a.k,
        pooled: pooled_json(a),
        notes: &result.notes,
        studies,
        subgroups,
        subgroup_test,
        small_study: small_study_json(&result.small_study, a.spec.log_scale()),
        sensitivity,
    }
}

fn small_study_json(s: &SmallStudy, ratio: bool) -> SmallStudyJson<'_> {
    SmallStudyJson {
        egger: s.egger.map(|e| EggerJson {
            stat_name: if e.stat_df.is_some() { "t" } else { "z" },
            stat: e.stat,
            stat_df: e.stat_df,
            p: e.p,
            slope: e.slope,
            slope_se: e.slope_se,
            estimate: e.estimate,
            ci_lower: e.ci_lower,
            ci_upper: e.ci_upper,
            tau2: e.tau2,
        }),
        begg: s.begg.map(|b| BeggJson { tau: b.tau, p: b.p, exact: b.exact }),
        trimfill: s.trimfill.as_ref().map(|t| TrimFillJson {
            side: t.side.name(),
            k0: t.k0,
            k0_se: t.k0_se,
            k: t.pooled.weights.len(),
            pooled: pooled_json_of(&t.pooled, ratio),
            filled: t.filled.iter().map(|e| FilledJson { yi: e.yi, vi: e.vi }).collect(),
        }),
        notes: &s.notes,
    }
}
