//! [`Profile`]: the named column layouts a model circuit can take.
//!
//! A layout fixes how much work one row holds. Its dot-product block is a
//! small matrix: `dot_inputs` input cells shared by `dot_outputs`
//! accumulators, each with its own fixed weights, so a row does
//! `dot_inputs × dot_outputs` multiply-accumulates; a linear layer's
//! outputs, or a convolution's output channels at one position, read the
//! same inputs and share rows. More columns mean fewer rows — a smaller
//! `k` — but every column costs the prover a commitment and an FFT and
//! every fixed column costs the verifier an opening, so the best profile
//! depends on the model: [`crate::CircuitPlan::estimate`] prices each one.
//!
//! The profile is part of the circuit: a verifying key, a package and a
//! proof bundle name it, and a verifier lays out exactly that profile.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How many columns each kind of work gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    /// Input cells of a dot-product row (the matrix's width).
    pub dot_inputs: usize,
    /// Accumulators of a dot-product row, each a dot product over the
    /// row's inputs with its own weights (the matrix's height).
    pub dot_outputs: usize,
    /// Element lanes: element operations per row, each lane with its own
    /// columns and range units.
    pub element_lanes: usize,
}

impl Layout {
    /// Multiply-accumulates one dot row can hold.
    pub fn macs_per_row(self) -> usize {
        self.dot_inputs * self.dot_outputs
    }
}

/// A named [`Layout`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// 12 inputs × 1 accumulator per dot row: the fewest columns, the
    /// smallest proof and the cheapest verification. The digits models'
    /// layout, and the one the on-chain verifier takes.
    #[default]
    Compact,
    /// 12 inputs × 8 accumulators per dot row (96 multiply-accumulates)
    /// and two element lanes: for models whose layers have many outputs
    /// over shared inputs (LeNet-class convolutions and wide linear
    /// layers) and many activations.
    Wide,
}

impl Profile {
    /// Every profile, cheapest to verify first.
    pub const ALL: [Profile; 2] = [Profile::Compact, Profile::Wide];

    /// Its layout.
    pub fn layout(self) -> Layout {
        match self {
            Profile::Compact => Layout {
                dot_inputs: 12,
                dot_outputs: 1,
                element_lanes: 1,
            },
            Profile::Wide => Layout {
                dot_inputs: 12,
                dot_outputs: 8,
                element_lanes: 2,
            },
        }
    }

    /// Whether it is the compact profile (which files written before
    /// profiles existed leave out).
    pub fn is_compact(&self) -> bool {
        *self == Profile::Compact
    }

    /// `compact`, `wide`: as files, flags and messages write it.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Compact => "compact",
            Profile::Wide => "wide",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
                format!(
                    "unknown layout profile {s:?}; the profiles are {}",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_named() {
        for p in Profile::ALL {
            assert_eq!(p.name().parse::<Profile>(), Ok(p));
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.name())
            );
        }
        let err = "huge".parse::<Profile>().unwrap_err();
        assert!(
            err.contains("\"huge\"") && err.contains("compact, wide"),
            "{err}"
        );
    }
}
