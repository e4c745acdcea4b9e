//! Choosing a model's layout profile by the cost model.
//!
//! [`ProfileChoice::Auto`] plans the model in every profile
//! ([`zkinfer_circuits::Profile::ALL`]), prices each plan with
//! [`Estimates`] and takes the fastest to prove — but another profile
//! replaces the compact one only when it proves at least
//! [`WIDE_PAYS_OFF`] times faster: the compact profile has the smallest
//! proofs and the cheapest verification (a contract's gas), and on small
//! models the other profiles save a fraction of a second at best.
//! [`profile_costs`] is the comparison itself, for packages and `make
//! bench`.

use crate::export::Estimates;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use zkinfer_circuits::{CircuitError, CircuitPlan, Profile, Visibility, WeightVisibility};
use zkinfer_quant::QuantizedModel;

/// How many times faster than the compact profile another profile must be
/// estimated to prove for [`ProfileChoice::Auto`] to take it.
pub const WIDE_PAYS_OFF: f64 = 1.5;

/// Which layout profile to plan a model in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProfileChoice {
    /// The profile the cost model says proves fastest.
    #[default]
    Auto,
    /// This one.
    Use(Profile),
}

impl FromStr for ProfileChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(ProfileChoice::Auto),
            name => name
                .parse()
                .map(ProfileChoice::Use)
                .map_err(|e| format!("{e}, or auto")),
        }
    }
}

impl fmt::Display for ProfileChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileChoice::Auto => f.write_str("auto"),
            ProfileChoice::Use(p) => p.fmt(f),
        }
    }
}

/// What a model's circuit would cost in one profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileCost {
    /// The profile.
    pub profile: Profile,
    /// The circuit's k, when the model fits the profile.
    pub k: Option<u32>,
    /// Its estimated costs, when it fits.
    pub estimates: Option<Estimates>,
    /// Why it does not fit.
    pub note: Option<String>,
}

/// The model planned in every profile, in [`Profile::ALL`] order.
pub fn profile_costs(model: &QuantizedModel, visibility: Visibility) -> Vec<ProfileCost> {
    Profile::ALL
        .into_iter()
        .map(
            |profile| match CircuitPlan::for_profile(model, visibility, profile) {
                Ok(plan) => ProfileCost {
                    profile,
                    k: Some(plan.k),
                    estimates: Some(Estimates::of(&plan)),
                    note: None,
                },
                Err(e) => ProfileCost {
                    profile,
                    k: None,
                    estimates: None,
                    note: Some(e.to_string()),
                },
            },
        )
        .collect()
}

/// Plans a model in the chosen profile. With [`ProfileChoice::Auto`], the
/// compact profile unless another proves [`WIDE_PAYS_OFF`] times faster
/// (or the model fits only another); if it fits none, the compact
/// profile's reason.
pub fn plan(
    model: &QuantizedModel,
    visibility: Visibility,
    choice: ProfileChoice,
) -> Result<CircuitPlan, CircuitError> {
    let profile = match choice {
        ProfileChoice::Use(profile) => profile,
        ProfileChoice::Auto => {
            let costs: Vec<(Profile, f64)> = profile_costs(model, visibility)
                .into_iter()
                .filter_map(|c| c.estimates.map(|e| (c.profile, e.prove_seconds)))
                .collect();
            let compact = costs.iter().find(|c| c.0 == Profile::Compact);
            let fastest = costs.iter().min_by(|a, b| a.1.total_cmp(&b.1));
            match (compact, fastest) {
                (Some(&(_, compact)), Some(&(other, seconds)))
                    if seconds * WIDE_PAYS_OFF <= compact =>
                {
                    other
                }
                (Some(_), _) | (None, None) => Profile::Compact,
                (None, Some(&(other, _))) => other,
            }
        }
    };
    CircuitPlan::for_profile(model, visibility, profile)
}

/// [`plan`] with the weights fixed or committed. The cost model does not
/// price committed weights yet (their hashing or weight columns): with
/// them, auto
/// takes the profile with the smallest `k`, compact on a tie.
pub fn plan_with(
    model: &QuantizedModel,
    visibility: Visibility,
    weights: WeightVisibility,
    choice: ProfileChoice,
) -> Result<CircuitPlan, CircuitError> {
    let plan_in = |profile| {
        CircuitPlan::with_options(model, visibility, weights, profile).map(|(plan, _)| plan)
    };
    match (weights, choice) {
        (WeightVisibility::Fixed, _) => plan(model, visibility, choice),
        (_, ProfileChoice::Use(profile)) => plan_in(profile),
        (WeightVisibility::Committed | WeightVisibility::Polycommit, ProfileChoice::Auto) => {
            // Profile::ALL starts with compact: its plan, or its reason
            // when no profile plans.
            let mut plans = Profile::ALL.into_iter().map(plan_in);
            let compact = plans.next().expect("the compact profile");
            plans.flatten().fold(compact, |best, other| match best {
                Ok(best) if best.k <= other.k => Ok(best),
                _ => Ok(other),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_name_the_profiles() {
        assert_eq!("auto".parse(), Ok(ProfileChoice::Auto));
        assert_eq!("wide".parse(), Ok(ProfileChoice::Use(Profile::Wide)));
        let err = "fast".parse::<ProfileChoice>().unwrap_err();
        assert!(err.contains("compact, wide, or auto"), "{err}");
        assert_eq!(ProfileChoice::Use(Profile::Compact).to_string(), "compact");
    }

    /// With committed weights, auto takes the smallest k: compact for a
    /// small model, whose hashing sets k in either profile.
    #[test]
    fn committed_weights_take_the_smallest_k() {
        let model = zkinfer_models::bundled::BundledModel::find("digits-mlp")
            .unwrap()
            .quantized()
            .unwrap();
        let committed = WeightVisibility::Committed;
        let auto = plan_with(&model, Visibility::Public, committed, ProfileChoice::Auto).unwrap();
        let wide = ProfileChoice::Use(Profile::Wide);
        let wide = plan_with(&model, Visibility::Public, committed, wide).unwrap();
        assert_eq!(auto.weight_visibility, committed);
        assert!(auto.k <= wide.k);
        assert_eq!(auto.profile, Profile::Compact, "a tie goes to compact");
    }
}
