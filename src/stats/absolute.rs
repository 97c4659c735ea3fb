//! Anticipated absolute effects, for a GRADE summary of findings: what a pooled relative effect
//! means for people at a given risk (Cochrane Handbook, chapter 14.1.5; GRADEpro's "risk with
//! the comparator" and "risk with the intervention").
//!
//! People decide on risks, not on ratios: a risk ratio of 0.81 is 38 fewer events per 1,000
//! people where 200 in 1,000 would have one, and 2 fewer where 10 would. So a summary of
//! findings states the assumed comparator risk (ACR) — by default the comparator groups' risk
//! in the included studies, pooled or their median — and the corresponding risk with the
//! intervention, with the confidence interval of the relative effect carried over:
//!
//! - risk ratio: ACR × RR;
//! - odds ratio: ACR × OR / (1 − ACR + ACR × OR);
//! - risk difference: ACR + RD.
//!
//! Risks are proportions (0 to 1) and stay within them. Rounding and words are the render
//! phase's ([`crate::format`]); here are the numbers.

/// The relative effect a corresponding risk is computed from, on its natural scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relative {
    RiskRatio,
    OddsRatio,
    RiskDifference,
}

/// The intervention group's risk where the comparator group's is `acr`, for a relative effect
/// `effect` (a ratio, or for a risk difference a difference of proportions), within 0 and 1;
/// `None` for a comparator risk outside 0 to 1 or an effect that is not a number.
pub fn corresponding_risk(acr: f64, relative: Relative, effect: f64) -> Option<f64> {
    let a_number = match relative {
        Relative::RiskDifference => effect.is_finite(),
        Relative::RiskRatio | Relative::OddsRatio => !effect.is_nan(),
    };
    if !(0.0..=1.0).contains(&acr) || !a_number {
        return None;
    }
    let risk = match relative {
        Relative::RiskRatio if effect >= 0.0 => acr * effect,
        Relative::OddsRatio if effect >= 0.0 => {
            if effect.is_infinite() {
                if acr > 0.0 { 1.0 } else { 0.0 }
            } else {
                acr * effect / (1.0 - acr + acr * effect)
            }
        }
        Relative::RiskDifference => acr + effect,
        _ => return None,
    };
    Some(risk.clamp(0.0, 1.0))
}

/// How the comparator risk is taken from the included studies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparatorRisk {
    /// All comparator groups' events over all their participants.
    Pooled,
    /// The median of the comparator groups' risks.
    Median,
}

/// The comparator risk of studies given as (events, participants) of their comparator groups;
/// groups without participants are left out; `None` where none is left.
pub fn comparator_risk(groups: &[(f64, f64)], how: ComparatorRisk) -> Option<f64> {
    let groups: Vec<(f64, f64)> = counted(groups).collect();
    if groups.is_empty() {
        return None;
    }
    match how {
        ComparatorRisk::Pooled => {
            let (events, people) = comparator_totals(&groups);
            Some(events / people)
        }
        ComparatorRisk::Median => {
            let mut risks: Vec<f64> = groups.iter().map(|(e, n)| e / n).collect();
            risks.sort_by(f64::total_cmp);
            let m = risks.len() / 2;
            Some(if risks.len() % 2 == 1 { risks[m] } else { (risks[m - 1] + risks[m]) / 2.0 })
        }
    }
}

/// The groups a comparator risk counts: with people, and no more events than people.
fn counted(groups: &[(f64, f64)]) -> impl Iterator<Item = (f64, f64)> + '_ {
    groups.iter().copied().filter(|&(e, n)| n > 0.0 && e >= 0.0 && e <= n && e.is_finite() && n.is_finite())
}

/// The events and people of the groups a comparator risk counts (the pooled risk's terms).
pub fn comparator_totals(groups: &[(f64, f64)]) -> (f64, f64) {
    counted(groups).fold((0.0, 0.0), |(e, n), g| (e + g.0, n + g.1))
}

/// Per how many people risks are stated: 1,000, or 100,000 where the comparator risk is below
/// 1 in 100 (a rare event: per 1,000 it would have fewer than ten, and its CI little to say).
pub fn per(acr: f64) -> f64 {
    if acr < 0.01 {
        100_000.0
    } else {
        1_000.0
    }
}

/// An absolute effect: risks per [`per`] people, unrounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Absolute {
    /// How many people the risks are stated for.
    pub per: f64,
    /// With the comparator.
    pub comparator: f64,
    /// With the intervention, and its confidence interval.
    pub intervention: f64,
    pub lower: f64,
    pub upper: f64,
}

impl Absolute {
    /// The difference with the intervention, and its interval (negative: fewer).
    pub fn difference(&self) -> (f64, f64, f64) {
        (self.intervention - self.comparator, self.lower - self.comparator, self.upper - self.comparator)
    }
}

/// The absolute effect at comparator risk `acr` of a relative effect `estimate` with its
/// confidence interval `lower` to `upper` (natural scale).
pub fn absolute(acr: f64, relative: Relative, estimate: f64, lower: f64, upper: f64) -> Option<Absolute> {
    let per = per(acr);
    let risk = |x| corresponding_risk(acr, relative, x).map(|r| r * per);
    let (a, b) = (risk(lower)?, risk(upper)?);
    Some(Absolute { per, comparator: acr * per, intervention: risk(estimate)?, lower: a.min(b), upper: a.max(b) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn corresponding_risks_by_hand() {
        // RR: 0.2 × 0.81.
        assert!(close(corresponding_risk(0.2, Relative::RiskRatio, 0.81).unwrap(), 0.162));
        // OR: 0.2 × 0.5 / (1 − 0.2 + 0.2 × 0.5) = 0.1 / 0.9.
        assert!(close(corresponding_risk(0.2, Relative::OddsRatio, 0.5).unwrap(), 0.1 / 0.9));
        // OR 1 and RR 1 leave the risk as it is; RD adds.
        assert!(close(corresponding_risk(0.37, Relative::OddsRatio, 1.0).unwrap(), 0.37));
        assert!(close(corresponding_risk(0.2, Relative::RiskDifference, -0.05).unwrap(), 0.15));
        // Within 0 and 1: a risk ratio of 6 at 20%, a difference below nothing.
        assert_eq!(corresponding_risk(0.2, Relative::RiskRatio, 6.0), Some(1.0));
        assert_eq!(corresponding_risk(0.02, Relative::RiskDifference, -0.05), Some(0.0));
        assert_eq!(corresponding_risk(0.2, Relative::OddsRatio, f64::INFINITY), Some(1.0));
        // Not a risk, not an effect.
        assert_eq!(corresponding_risk(1.2, Relative::RiskRatio, 1.0), None);
        assert_eq!(corresponding_risk(0.2, Relative::RiskRatio, -1.0), None);
        assert_eq!(corresponding_risk(0.2, Relative::RiskRatio, f64::NAN), None);
    }

    #[test]
    fn absolute_effects_per_1000_and_per_100000() {
        // RR 0.81 (0.57 to 1.16) at 200 per 1,000: 162 (114 to 232) per 1,000.
        let a = absolute(0.2, Relative::RiskRatio, 0.81, 0.57, 1.16).unwrap();
        assert_eq!(a.per, 1000.0);
        assert!(close(a.comparator, 200.0) && close(a.intervention, 162.0) && close(a.lower, 114.0) && close(a.upper, 232.0), "{a:?}");
        let (d, lo, hi) = a.difference();
        assert!(close(d, -38.0) && close(lo, -86.0) && close(hi, 32.0));
        // A rare event, 4 in 1,000: per 100,000, 400 and 324 (228 to 464).
        let a = absolute(0.004, Relative::RiskRatio, 0.81, 0.57, 1.16).unwrap();
        assert_eq!(a.per, 100_000.0);
        assert!(close(a.comparator, 400.0) && close(a.intervention, 324.0) && close(a.lower, 228.0) && close(a.upper, 464.0), "{a:?}");
        // A risk difference's interval stays in order.
        let a = absolute(0.3, Relative::RiskDifference, -0.1, -0.2, 0.0).unwrap();
        assert!(close(a.intervention, 200.0) && close(a.lower, 100.0) && close(a.upper, 300.0), "{a:?}");
    }

    #[test]
    fn comparator_risk_pooled_and_median() {
        let groups = [(10.0, 100.0), (30.0, 100.0), (20.0, 50.0), (0.0, 0.0)];
        // Pooled: 60 / 250; the group without people is left out.
        assert!(close(comparator_risk(&groups, ComparatorRisk::Pooled).unwrap(), 60.0 / 250.0));
        // Median of 0.1, 0.3, 0.4.
        assert!(close(comparator_risk(&groups, ComparatorRisk::Median).unwrap(), 0.3));
        // Even: the mean of the middle two (0.1, 0.3).
        assert!(close(comparator_risk(&groups[..2], ComparatorRisk::Median).unwrap(), 0.2));
        assert_eq!(comparator_risk(&[(0.0, 0.0), (5.0, 3.0)], ComparatorRisk::Pooled), None);
    }
}
