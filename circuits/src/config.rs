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
use crate::chips::dot::{DotConfig, DotWeights};
use crate::chips::max::MaxConfig;
use crate::chips::range::{RangeTable, RangeUnitConfig};
use crate::chips::relu::ReluConfig;
use crate::chips::rescale::RescaleConfig;
use crate::chips::table::TableConfig;
use crate::profile::Profile;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Fixed, Instance};
use pasta_curves::Fp;

/// What a circuit adds to its profile's columns and gates: commitments
/// (each adds columns) and the gates of rarer ops. Most circuits have
/// none, and a circuit without one has exactly the profile's columns and
/// gates (its verifying key does not depend on the others existing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Additions {
    /// The input (its commitment is a public input).
    pub input: bool,
    /// The output (its commitment is a public input, in place of its
    /// values: a segment of a model proven in parts).
    pub output: bool,
    /// The weights, hashed: the dot gate reads advice weights, and their
    /// Poseidon commitment is a public input.
    pub weights: bool,
    /// The weights, polycommit: the dot gate reads advice weights, copies
    /// of cells in a store of advice columns of their own
    /// ([`crate::polycommit`]).
    pub store: crate::plan::StoreShape,
    /// The pair-dot gate, for products of two activations
    /// ([`crate::chips::pair_dot`]): one selector, no column.
    pub pair_dot: bool,
    /// The division gate in every lane, for divisors computed at run time
    /// ([`crate::chips::divide`]): one selector per lane, no column.
    pub divide: bool,
}

impl Additions {
    /// What a plan adds.
    pub fn of(plan: &crate::CircuitPlan) -> Self {
        #[cfg_attr(
            not(any(feature = "transformers", feature = "commitments")),
            allow(unused_mut)
        )]
        let mut additions = Additions {
            input: plan.input_visibility == crate::Visibility::Committed,
            weights: plan.weight_visibility == crate::WeightVisibility::Committed,
            store: plan.weight_store,
            ..Additions::default()
        };
        #[cfg(feature = "commitments")]
        {
            additions.output = plan.output_visibility == crate::Visibility::Committed;
        }
        #[cfg(feature = "transformers")]
        {
            (additions.pair_dot, additions.divide) = (plan.pair_dot, plan.divide);
        }
        additions
    }

    /// Whether Poseidon hashes something.
    #[cfg(feature = "commitments")]
    fn any(self) -> bool {
        self.input || self.output || self.weights
    }

    /// Whether the dot gate reads advice weights.
    #[cfg(feature = "committed-weights")]
    fn advice_weights(self) -> bool {
        self.weights || !self.store.is_empty()
    }

    /// The packing lanes and Poseidon chips the commitments get.
    #[cfg(feature = "commitments")]
    pub fn shape(self) -> crate::chips::commit::CommitShape {
        use crate::chips::commit::CommitShape;
        match self.weights {
            true => CommitShape::WEIGHTS,
            false => CommitShape::SINGLE,
        }
    }
}

/// The element chips of one lane: a row of element columns that does one
/// element operation (a rescale, a ReLU, a comparison, a lookup, …) with
/// its own two range units. A profile with several lanes spreads each
/// element step's rows across them.
#[derive(Clone, Debug)]
pub struct ElementLane {
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
}

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
    /// The element lanes (one in the compact profile).
    pub lanes: Vec<ElementLane>,
    /// The packing gate and Poseidon chip, in circuits that commit to
    /// their input or weights.
    #[cfg(feature = "commitments")]
    pub commit: Option<crate::chips::commit::CommitConfig>,
    /// The columns of polycommit weights.
    #[cfg(feature = "committed-weights")]
    pub weight_store: Option<crate::chips::weight_store::WeightStoreConfig>,
    /// Products of two activations, in circuits that have them.
    #[cfg(feature = "transformers")]
    pub pair_dot: Option<crate::chips::pair_dot::PairDotConfig>,
    /// Divisions by divisors computed at run time, one gate per lane, in
    /// circuits that have them.
    #[cfg(feature = "transformers")]
    pub divide: Vec<crate::chips::divide::DivideConfig>,
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

/// The advice columns of one element lane: `e0 … e4`, unit A's limbs,
/// unit B's value and limbs.
type LaneAdvice = (
    [Column<Advice>; 5],
    [Column<Advice>; 3],
    Column<Advice>,
    [Column<Advice>; 3],
);
/// The fixed columns of one element lane: `half, div, k, tag`, then each
/// unit's coefficients.
type LaneFixed = ([Column<Fixed>; 4], [Column<Fixed>; 3], [Column<Fixed>; 3]);

/// A lane's range units, bound and ReLU gates (created before the dot gate
/// in lane 0, as zkinfer always has).
fn lane_units(
    meta: &mut ConstraintSystem<Fp>,
    names: &mut Vec<String>,
    (e, limbs_a, v_b, limbs_b): LaneAdvice,
    ([_, _, k, _], coefficients_a, coefficients_b): LaneFixed,
    range_table: RangeTable,
) -> (RangeUnitConfig, RangeUnitConfig, BoundConfig, ReluConfig) {
    let unit_a =
        RangeUnitConfig::configure(meta, "A", names, e[3], limbs_a, coefficients_a, range_table);
    let unit_b =
        RangeUnitConfig::configure(meta, "B", names, v_b, limbs_b, coefficients_b, range_table);
    let [_, e1, e2, _, e4] = e;
    let bound = BoundConfig::configure(meta, e1, k, unit_b);
    let relu = ReluConfig::configure(meta, [e1, e2, e4], unit_b);
    (unit_a, unit_b, bound, relu)
}

/// The rest of a lane: rescale, max, arith and the activation lookup
/// (`table` shares lane 0's table columns).
fn lane_chips(
    meta: &mut ConstraintSystem<Fp>,
    names: &mut Vec<String>,
    (e, ..): LaneAdvice,
    ([half, div, _, tag], ..): LaneFixed,
    (unit_a, unit_b, bound, relu): (RangeUnitConfig, RangeUnitConfig, BoundConfig, ReluConfig),
    table: Option<&TableConfig>,
) -> ElementLane {
    let [e0, e1, e2, e3, e4] = e;
    ElementLane {
        rescale: RescaleConfig::configure(meta, [e0, e1, e3], [half, div], unit_a, bound, relu),
        bound,
        relu,
        max: MaxConfig::configure(meta, [e0, e2, e1, e4], unit_b),
        arith: ArithConfig::configure(meta, [e0, e2, e1], div),
        table: match table {
            None => TableConfig::configure(meta, names, [e0, e1], tag),
            Some(first) => first.another_lane(meta, names, [e0, e1], tag),
        },
        unit_a,
        unit_b,
    }
}

impl ModelConfig {
    /// A profile's configuration on its own: for naming failures and
    /// counting columns.
    pub fn of(profile: Profile) -> Self {
        Self::configure(&mut ConstraintSystem::default(), profile)
    }

    /// A plan's configuration on its own (its profile, with the plan's
    /// additions).
    pub fn of_plan(plan: &crate::CircuitPlan) -> Self {
        Self::configure_with(
            &mut ConstraintSystem::default(),
            plan.profile,
            Additions::of(plan),
        )
    }

    /// Element lane 0: the one every profile has.
    pub fn lane(&self) -> &ElementLane {
        &self.lanes[0]
    }

    /// Allocates a profile's columns and creates every gate and lookup.
    ///
    /// The compact profile allocates exactly the columns, gates and lookups
    /// zkinfer has always used, in the same order: its verifying keys do
    /// not depend on the other profiles existing. Further lanes' columns,
    /// gates and lookups come after lane 0's.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, profile: Profile) -> Self {
        Self::configure_with(meta, profile, Additions::default())
    }

    /// [`Self::configure`], and the `additions`: for commitments the
    /// columns, gate and Poseidon chip after every other column; committed
    /// weights also replace the dot gate's fixed weight columns by advice
    /// ones; the pair-dot gate comes after every other gate. A build
    /// without an addition's feature has none to add: the plan refuses it
    /// there.
    pub fn configure_with(
        meta: &mut ConstraintSystem<Fp>,
        profile: Profile,
        additions: Additions,
    ) -> Self {
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
        let mut lane_advice = |meta: &mut ConstraintSystem<Fp>| -> LaneAdvice {
            (
                [true, true, true, false, false].map(|eq| advice(meta, eq)),
                [(); 3].map(|_| advice(meta, false)),
                advice(meta, false),
                [(); 3].map(|_| advice(meta, false)),
            )
        };
        let lane0_advice = lane_advice(meta);
        let more_advice: Vec<LaneAdvice> = (1..layout.element_lanes)
            .map(|_| lane_advice(meta))
            .collect();
        #[cfg(feature = "committed-weights")]
        let advice_weights = additions.advice_weights().then(|| {
            let mut row = |n: usize| (0..n).map(|_| advice(meta, true)).collect::<Vec<_>>();
            let w: Vec<Vec<_>> = (0..layout.dot_outputs)
                .map(|_| row(layout.dot_inputs))
                .collect();
            (w, row(layout.dot_outputs))
        });
        let mut fixed_columns = 0;
        let mut fixed = |meta: &mut ConstraintSystem<Fp>| {
            fixed_columns += 1;
            meta.fixed_column()
        };
        let mut fixed_weights = |meta: &mut ConstraintSystem<Fp>| {
            let w: Vec<Vec<_>> = (0..layout.dot_outputs)
                .map(|_| (0..layout.dot_inputs).map(|_| fixed(meta)).collect())
                .collect();
            let bias: Vec<_> = (0..layout.dot_outputs).map(|_| fixed(meta)).collect();
            DotWeights::Fixed { w, bias }
        };
        #[cfg(feature = "committed-weights")]
        let weights = match advice_weights {
            Some((w, bias)) => DotWeights::Advice { w, bias },
            None => fixed_weights(meta),
        };
        #[cfg(not(feature = "committed-weights"))]
        let weights = fixed_weights(meta);
        let chain = fixed(meta);
        let mut lane_fixed = |meta: &mut ConstraintSystem<Fp>| -> LaneFixed {
            (
                [(); 4].map(|_| fixed(meta)),
                [(); 3].map(|_| fixed(meta)),
                [(); 3].map(|_| fixed(meta)),
            )
        };
        let lane0_fixed = lane_fixed(meta);
        let more_fixed: Vec<LaneFixed> = (1..layout.element_lanes)
            .map(|_| lane_fixed(meta))
            .collect();
        // Each lane's element columns and divisor column, for the division
        // gates.
        #[cfg(feature = "transformers")]
        let lane_columns: Vec<([Column<Advice>; 5], Column<Fixed>)> =
            std::iter::once((lane0_advice, lane0_fixed))
                .chain(more_advice.iter().copied().zip(more_fixed.iter().copied()))
                .map(|((e, ..), ([_, div, _, _], ..))| (e, div))
                .collect();
        let constants = fixed(meta);
        meta.enable_constant(constants);

        let mut names = vec![];
        let range_table = RangeTable::configure(meta);
        let units = lane_units(meta, &mut names, lane0_advice, lane0_fixed, range_table);
        #[cfg(feature = "transformers")]
        let pair_lanes = x.clone();
        let dot = DotConfig::configure(meta, x, accs.clone(), weights, chain);
        let mut lanes = vec![lane_chips(
            meta,
            &mut names,
            lane0_advice,
            lane0_fixed,
            units,
            None,
        )];
        for (advice, fixed) in more_advice.into_iter().zip(more_fixed) {
            let units = lane_units(meta, &mut names, advice, fixed, range_table);
            let first = lanes[0].table;
            lanes.push(lane_chips(
                meta,
                &mut names,
                advice,
                fixed,
                units,
                Some(&first),
            ));
        }
        // dot; per lane rescale, bound, relu, max, arith and the complex
        // ones of the two range units and the table; and a commitment's.
        #[cfg_attr(not(feature = "committed-weights"), allow(unused_mut))]
        let mut selectors = 1 + 8 * layout.element_lanes;
        #[cfg(feature = "commitments")]
        let commit = additions.any().then(|| {
            use crate::chips::commit::CommitConfig;
            // Committed weights are range-checked while packed.
            let shape = additions.shape();
            let (advice, fixed, selector) = shape.columns(additions.weights);
            advice_columns += advice;
            fixed_columns += fixed;
            selectors += selector;
            let lookup = additions.weights.then_some((range_table, &mut names));
            CommitConfig::allocate(meta, lookup, shape)
        });
        // Polycommit weights' columns come last: the columns before them
        // are those of the same circuit with its weights hashed or fixed.
        #[cfg(feature = "committed-weights")]
        let weight_store = (!additions.store.is_empty()).then(|| {
            use crate::chips::weight_store::WeightStoreConfig;
            let (advice, selector) = WeightStoreConfig::counts(additions.store);
            advice_columns += advice;
            selectors += selector;
            WeightStoreConfig::configure(meta, additions.store, range_table, &mut names)
        });
        // The pair-dot gate comes after every other gate, and uses the dot
        // block's columns: a circuit without it is unchanged.
        #[cfg(feature = "transformers")]
        let pair_dot = additions.pair_dot.then(|| {
            use crate::chips::pair_dot::PairDotConfig;
            selectors += 1;
            PairDotConfig::configure(meta, &pair_lanes, accs[0], chain)
        });
        // The division gates come last, one per lane, on each lane's own
        // columns.
        #[cfg(feature = "transformers")]
        let divide = match additions.divide {
            false => vec![],
            true => lanes
                .iter()
                .zip(&lane_columns)
                .map(|(lane, &(e, div))| {
                    use crate::chips::divide::DivideConfig;
                    selectors += 1;
                    let [e0, e1, e2, ..] = e;
                    DivideConfig::configure(meta, [e0, e1, e2], div, lane.unit_a, lane.bound)
                })
                .collect(),
        };
        #[cfg(not(feature = "committed-weights"))]
        let _ = additions;
        ModelConfig {
            instance,
            profile,
            acc: accs[0],
            dot,
            lanes,
            #[cfg(feature = "commitments")]
            commit,
            #[cfg(feature = "committed-weights")]
            weight_store,
            #[cfg(feature = "transformers")]
            pair_dot,
            #[cfg(feature = "transformers")]
            divide,
            range_table,
            lookup_names: names,
            advice_columns,
            fixed_columns,
            selectors,
        }
    }
}
