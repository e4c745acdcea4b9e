//! A deterministic cost for every verification: a linear model of the
//! instructions `verify` executes, in units of 1,000 instructions.
//!
//! IPA verification is linear in the number of rows (the final opening
//! folds `2^k` generators), plus a cost per public input (the instance
//! column's evaluation) and per committed polynomial (each opening). The
//! constants come from `make bench`, which counts the instructions of real
//! verifications at several `k` under callgrind and prints the fit next to
//! this schedule.

use zkinfer_circuits::CircuitPlan;

/// Gas constants, in thousands of instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasSchedule {
    /// Fixed cost of one verification.
    pub base: u64,
    /// Per row of the circuit (`2^k`).
    pub per_row: u64,
    /// Per public input.
    pub per_instance: u64,
    /// Per rebuilt verifying key row (registration: `keygen_vk`).
    pub keygen_per_row: u64,
}

/// The schedule zkinfer charges.
pub const SCHEDULE: GasSchedule = GasSchedule {
    base: 8_000,
    per_row: 45,
    per_instance: 2,
    keygen_per_row: 2_400,
};

impl GasSchedule {
    /// Gas to verify one proof of a circuit with this plan.
    pub fn verification(&self, plan: &CircuitPlan) -> u64 {
        self.base + self.per_row * (1u64 << plan.k) + self.per_instance * plan.instances as u64
    }

    /// Gas to rebuild a verifying key (registration).
    pub fn registration(&self, plan: &CircuitPlan) -> u64 {
        self.base + self.keygen_per_row * (1u64 << plan.k)
    }
}

/// [`SCHEDULE`]'s gas for verifying one proof of `plan`'s circuit.
pub fn verification_gas(plan: &CircuitPlan) -> u64 {
    SCHEDULE.verification(plan)
}
