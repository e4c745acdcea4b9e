//! [`ModelConfig`]: the columns, gates and lookups of a model circuit in
//! one layout profile ([`Profile`]).
//!
//! Every model of a profile gets the same columns, gates and lookups; a
//! model chooses rows, fixed values (its weights), table contents and `k`.
//! Two groups of columns (`I × O` is the profile's dot matrix, 12 × 1 for
//! the compact profile):
//!
//! ```text
//! dot rows      | x_0 … x_I-1 | acc_0 … acc_O-1 |
//!                                 fixed: w (O × I), bias_0 … bias_O-1, chain
//! element rows  | e0 e1 e2 e3 e4 | unit A limbs | unit B: v + limbs |
//!                                       fixed: half, div (arith's m), k, tag,
//!                                              unit coefficients
//! ```
//!
//! The groups share no column, so the floor planner lays dot regions and
//! element regions side by side: a model takes `max(dot rows, element rows)`
//! rows, not their sum.

use crate::chips::arith::ArithConfig;
use crate::chips::bound::BoundConfig;
use crate::chips::dot::DotConfig;
use crate::chips::max::MaxConfig;
use crate::chips::range::{RangeTable, RangeUnitConfig};
use crate::chips::relu::ReluConfig;
use crate::chips::rescale::RescaleConfig;
use crate::chips::table::TableConfig;
use crate::profile::Profile;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Instance};
use pasta_curves::Fp;

/// Every column, gate and lookup of a model circuit.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// Public inputs (when the input is public), then the outputs.
    pub instance: Column<Instance>,
    /// The profile these columns lay out.
    pub profile: Profile,
    /// Where the zero cell and input cells live.
    pub(crate) acc: Column<Advice>,
    /// Multiply-accumulate rows.
    pub dot: DotConfig,
    /// Rounding division.
    pub rescale: RescaleConfig,
    /// Declared bounds.
    pub bound: BoundConfig,
    /// ReLU.
    pub relu: ReluConfig,
    /// Max of two.
    pub max: MaxConfig,
    /// Residual add, and products of two activations.
    pub arith: ArithConfig,
    /// Sigmoid, tanh.
    pub table: TableConfig,
    /// Range unit A (remainders), used by `rescale`.
    pub unit_a: RangeUnitConfig,
    /// Range unit B (bounds and signs).
    pub unit_b: RangeUnitConfig,
    /// The 8-bit range table.
    pub range_table: RangeTable,
    /// Lookup names, by lookup index, for failure reports.
    pub lookup_names: Vec<String>,
    /// Advice columns allocated.
    pub advice_columns: usize,
    /// Fixed columns allocated (selectors not included).
    pub fixed_columns: usize,
    /// Selectors (halo2 packs them into fixed columns).
    pub selectors: usize,
}

impl ModelConfig {
    /// A profile's configuration on its own: for naming failures and
    /// counting columns.
    pub fn of(profile: Profile) -> Self {
        Self::configure(&mut ConstraintSystem::default(), profile)
    }

    /// Allocates a profile's columns and creates every gate and lookup.
    ///
    /// The compact profile allocates exactly the columns, gates and lookups
    /// zkinfer has always used, in the same order: its verifying keys do
    /// not depend on the other profiles existing.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, profile: Profile) -> Self {
        let layout = profile.layout();
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        let mut advice_columns = 0;
        let mut advice = |meta: &mut ConstraintSystem<Fp>, equality: bool| {
            advice_columns += 1;
            let c = meta.advice_column();
            if equality {
                meta.enable_equality(c);
            }
            c
        };
        let x: Vec<_> = (0..layout.dot_inputs).map(|_| advice(meta, true)).collect();
        let accs: Vec<_> = (0..layout.dot_outputs)
            .map(|_| advice(meta, true))
            .collect();
        let e = [true, true, true, false, false].map(|eq| advice(meta, eq));
        let limbs_a = [(); 3].map(|_| advice(meta, false));
        let v_b = advice(meta, false);
        let limbs_b = [(); 3].map(|_| advice(meta, false));
        let mut fixed_columns = 0;
        let mut fixed = |meta: &mut ConstraintSystem<Fp>| {
            fixed_columns += 1;
            meta.fixed_column()
        };
        let w: Vec<Vec<_>> = (0..layout.dot_outputs)
            .map(|_| (0..layout.dot_inputs).map(|_| fixed(meta)).collect())
            .collect();
        let biases: Vec<_> = (0..layout.dot_outputs).map(|_| fixed(meta)).collect();
        let [chain, half, div, k, tag] = [(); 5].map(|_| fixed(meta));
        let coefficients_a = [(); 3].map(|_| fixed(meta));
        let coefficients_b = [(); 3].map(|_| fixed(meta));
        let constants = fixed(meta);
        meta.enable_constant(constants);

        let mut lookup_names = vec![];
        let range_table = RangeTable::configure(meta);
        let unit_a = RangeUnitConfig::configure(
            meta,
            "A",
            &mut lookup_names,
            e[3],
            limbs_a,
            coefficients_a,
            range_table,
        );
        let unit_b = RangeUnitConfig::configure(
            meta,
            "B",
            &mut lookup_names,
            v_b,
            limbs_b,
            coefficients_b,
            range_table,
        );
        let [e0, e1, e2, e3, e4] = e;
        let bound = BoundConfig::configure(meta, e1, k, unit_b);
        let relu = ReluConfig::configure(meta, [e1, e2, e4], unit_b);
        ModelConfig {
            instance,
            profile,
            acc: accs[0],
            dot: DotConfig::configure(meta, x, accs, w, biases, chain),
            rescale: RescaleConfig::configure(meta, [e0, e1, e3], [half, div], unit_a, bound, relu),
            bound,
            relu,
            max: MaxConfig::configure(meta, [e0, e2, e1, e4], unit_b),
            arith: ArithConfig::configure(meta, [e0, e2, e1], div),
            table: TableConfig::configure(meta, &mut lookup_names, [e0, e1], tag),
            unit_a,
            unit_b,
            range_table,
            lookup_names,
            advice_columns,
            fixed_columns,
            // dot, rescale, bound, relu, max, arith; and the complex ones of
            // the two range units and the table.
            selectors: 9,
        }
    }
}
