//! Naming what a MockProver run found wrong: `gate relu: z = s·y`,
//! `lookup unit B top limb`, `copy` — for tests and for `zkinfer mock`.

use crate::config::ModelConfig;
use halo2_proofs::dev::{FailureLocation, VerifyFailure};

/// The name of what failed: `gate <gate>: <constraint>`, `lookup <name>`,
/// `copy`, or the failure itself for anything else.
pub fn failure_name(config: &ModelConfig, failure: &VerifyFailure) -> String {
    match failure {
        VerifyFailure::ConstraintNotSatisfied { constraint, .. } => {
            // halo2 prints "Constraint i ('name') in gate j ('gate')".
            let text = constraint.to_string();
            let quoted: Vec<&str> = text
                .split("('")
                .skip(1)
                .map(|s| s.split("')").next().unwrap_or(""))
                .collect();
            match quoted.as_slice() {
                [name, gate] => format!("gate {gate}: {name}"),
                [gate] => format!("gate {gate}"),
                _ => text,
            }
        }
        VerifyFailure::Lookup { lookup_index, .. } => format!(
            "lookup {}",
            config
                .lookup_names
                .get(*lookup_index)
                .map_or("?", String::as_str)
        ),
        VerifyFailure::Permutation { .. } => "copy".to_string(),
        other => other.to_string(),
    }
}

/// Where it failed: the region and offset, or the row.
pub fn failure_location(failure: &VerifyFailure) -> String {
    let location = match failure {
        VerifyFailure::ConstraintNotSatisfied { location, .. }
        | VerifyFailure::Lookup { location, .. }
        | VerifyFailure::Permutation { location, .. } => location,
        _ => return String::new(),
    };
    match location {
        FailureLocation::InRegion { region, offset } => format!("{region}, offset {offset}"),
        FailureLocation::OutsideRegion { row } => format!("row {row}"),
    }
}

/// The distinct names of `failures`, sorted.
pub fn failure_names(config: &ModelConfig, failures: Vec<VerifyFailure>) -> Vec<String> {
    let mut names: Vec<String> = failures.iter().map(|f| failure_name(config, f)).collect();
    names.sort();
    names.dedup();
    names
}
