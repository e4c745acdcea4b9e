//! [`CircuitPlan`]: how a model is laid out, what it costs, and the
//! smallest `k` that fits — computed before any key or proof exists.
//!
//! The plan takes the model's [`Step`]s ([`crate::step`]: a rescale followed
//! by a ReLU of its output becomes one fused step, and parameters the chips
//! cannot prove are refused there), counts each step's rows in the two
//! column groups (dot rows and element rows, laid side by side), checks the
//! bound invariant, and finds the smallest `k`.

use crate::bounds::{self, BoundProof};
use crate::chips::range::MAX_RANGE_BITS;
use crate::config::Additions;
use crate::error::{CircuitError, Result};
use crate::profile::Profile;
use crate::step::{check_bits, dot_cost};
pub use crate::step::{steps, Step, StepKind};
use serde::{Deserialize, Serialize};
use zkinfer_quant::QuantizedModel;

/// Who sees the model input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// The input is a public input of the proof: the verifier sees it.
    #[default]
    Public,
    /// The input is a private witness: the proof shows that *some* input
    /// in the model's bound gives the public output.
    Private,
    /// The input is a private witness, and its Poseidon commitment
    /// (blinded by an element the prover keeps; [`crate::commitment`]) is
    /// the first public input: the proof ties the output to that input.
    Committed,
}

impl Visibility {
    /// `public`, `private` or `committed`, as files and messages write it.
    pub fn name(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
            Visibility::Committed => "committed",
        }
    }

    /// Whether the tensor is public (what files leave unsaid of outputs).
    pub fn is_public(&self) -> bool {
        *self == Visibility::Public
    }
}

/// How the weights enter the circuit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightVisibility {
    /// Fixed columns: the verifying key commits to the weights, so it is
    /// the model's identity.
    #[default]
    Fixed,
    /// Private, range-checked cells whose Poseidon commitment is the first
    /// public input ([`crate::weights`]): the circuit depends only on the
    /// architecture, and the commitment names the weights.
    Committed,
    /// Private, range-checked cells in advice columns of their own, whose
    /// commitments in the proof are shown to open to the model's
    /// registered Pedersen commitment ([`crate::polycommit`]): no hashing
    /// in the circuit, one verifying key per architecture as for
    /// `Committed`.
    Polycommit,
}

impl WeightVisibility {
    /// `fixed` or `committed`, as files and messages write it.
    pub fn name(self) -> &'static str {
        match self {
            WeightVisibility::Fixed => "fixed",
            WeightVisibility::Committed => "committed",
            WeightVisibility::Polycommit => "polycommit",
        }
    }

    /// Whether the weights are a witness, committed to one way or the
    /// other: the circuit lays out the architecture.
    pub fn is_committed(self) -> bool {
        self != WeightVisibility::Fixed
    }

    /// Whether the weights are fixed (what files leave unsaid).
    pub fn is_fixed(&self) -> bool {
        *self == WeightVisibility::Fixed
    }
}

/// How the store checks one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreCheck {
    /// 8 signed bits, by one lookup (a narrow column).
    Byte,
    /// 16 signed bits, by two byte lookups (a short group).
    Short,
    /// Not here: the caller copies it to a division row (a narrow column).
    Elsewhere,
}

/// How many columns of each kind a store has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StoreShape {
    /// Narrow columns.
    pub narrow: usize,
    /// Short groups.
    pub short: usize,
}

impl StoreShape {
    /// The committed columns.
    pub fn columns(self) -> usize {
        self.narrow + self.short
    }

    /// Whether the store has no column (weights not polycommit).
    pub fn is_empty(&self) -> bool {
        self.columns() == 0
    }

    /// Where each of `checks`'s values is stored: `(committed column,
    /// row)`, narrow columns first.
    pub fn positions(self, checks: impl IntoIterator<Item = StoreCheck>) -> Vec<(usize, usize)> {
        let (mut narrow, mut short) = (0, 0);
        checks
            .into_iter()
            .map(|check| match check {
                StoreCheck::Short => {
                    short += 1;
                    let (c, row) = Self::position(self.short, short - 1);
                    (self.narrow + c, row)
                }
                StoreCheck::Byte | StoreCheck::Elsewhere => {
                    narrow += 1;
                    Self::position(self.narrow, narrow - 1)
                }
            })
            .collect()
    }

    /// Where value `e` of a kind's stream over `columns` columns sits.
    pub fn position(columns: usize, e: usize) -> (usize, usize) {
        (e % columns, e / columns)
    }

    /// The shape that stores `narrow` and `short` values in at most
    /// `rows` rows.
    pub fn fitting(narrow: usize, short: usize, rows: usize) -> Self {
        StoreShape {
            narrow: narrow.div_ceil(rows.max(1)),
            short: short.div_ceil(rows.max(1)),
        }
    }

    /// Rows the store takes for `narrow` and `short` values.
    pub fn rows(self, narrow: usize, short: usize) -> usize {
        let rows = |n: usize, c: usize| if c == 0 { 0 } else { n.div_ceil(c) };
        rows(narrow, self.narrow).max(rows(short, self.short))
    }
}

/// The most advice columns polycommit weights get: beyond, `k` grows.
pub const MAX_WEIGHT_COLUMNS: usize = 64;

/// Rows of one Poseidon call in halo2_gadgets' `Pow5Chip` (`P128Pow5T3`):
/// the initial state (1), the input added (2), the permutation (1 + 4 full
/// rounds + 28 rows of two partial rounds + 4 full rounds, and the output
/// state's row): measured, 41.
pub const POSEIDON_ROWS: usize = 41;

/// The cost of one step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerCost {
    /// The nodes laid out (two for a fused rescale + ReLU).
    pub nodes: Vec<usize>,
    /// `linear`, `rescale+relu`, …
    pub op: String,
    /// Output shape.
    pub shape: Vec<usize>,
    /// Multiply-accumulates.
    pub macs: usize,
    /// Rows in the dot-product columns.
    pub dot_rows: usize,
    /// Rows in the element columns.
    pub element_rows: usize,
    /// How each output is proven to be a bounded integer
    /// ([`crate::bounds`]), one per node.
    #[serde(default)]
    pub bounds: Vec<BoundProof>,
}

/// How a model is laid out and what it costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitPlan {
    /// log2 of the number of rows.
    pub k: u32,
    /// Rows used: the larger column group, the tables, and one row for the
    /// zero cell.
    pub rows: usize,
    /// Rows available at this `k` (the rest blind the witness).
    pub usable_rows: usize,
    /// Rows of the dot-product columns.
    pub dot_rows: usize,
    /// Rows of the element columns (the input's bound checks included).
    pub element_rows: usize,
    /// Rows of the largest lookup table.
    pub table_rows: usize,
    /// Rows of the commitments, when the input or the weights are
    /// committed: the larger of their packing rows and their hashing rows
    /// (separate columns, laid side by side).
    #[serde(default)]
    pub commitment_rows: usize,
    /// Advice columns.
    pub advice_columns: usize,
    /// Fixed columns (selectors included).
    pub fixed_columns: usize,
    /// Lookup arguments.
    pub lookups: usize,
    /// Public inputs: the weights' commitment (when committed), the
    /// input's commitment (when committed) or the input (when public),
    /// then the output (or its commitment).
    pub instances: usize,
    /// Who sees the input.
    pub input_visibility: Visibility,
    /// Who sees the output: public (its values are public inputs), or
    /// committed (its blinded Poseidon commitment is, in their place: a
    /// segment of a model proven in parts, whose output the next
    /// segment's input commitment names).
    #[cfg(feature = "commitments")]
    #[serde(default, skip_serializing_if = "Visibility::is_public")]
    pub output_visibility: Visibility,
    /// How the weights enter the circuit.
    #[serde(default, skip_serializing_if = "WeightVisibility::is_fixed")]
    pub weight_visibility: WeightVisibility,
    /// The columns holding polycommit weights ([`crate::polycommit`]).
    #[serde(default, skip_serializing_if = "StoreShape::is_empty")]
    pub weight_store: StoreShape,
    /// Whether the circuit has the pair-dot gate (the model multiplies two
    /// activations: [`crate::chips::pair_dot`]).
    #[cfg(feature = "transformers")]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pair_dot: bool,
    /// Whether the circuit has the division gates (the model divides by a
    /// value computed at run time: [`crate::chips::divide`]).
    #[cfg(feature = "transformers")]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub divide: bool,
    /// The column layout.
    #[serde(default)]
    pub profile: Profile,
    /// Per step, in order; the input's bound checks come first.
    pub layers: Vec<LayerCost>,
}

/// The largest `k` zkinfer plans for.
pub const MAX_K: u32 = 20;

/// Blinding rows and column counts of the universal layout.
pub(crate) struct Shape {
    pub blinding: usize,
    pub advice: usize,
    pub fixed: usize,
    pub lookups: usize,
}

pub(crate) fn layout_shape(profile: Profile, commitments: Additions) -> Shape {
    let mut meta = halo2_proofs::plonk::ConstraintSystem::<pasta_curves::Fp>::default();
    let config = crate::config::ModelConfig::configure_with(&mut meta, profile, commitments);
    Shape {
        // l_last and the blinding rows are not usable (halo2's minimum_rows
        // counts one more for l_0 breathing room and one real row).
        blinding: meta.blinding_factors() + 1,
        advice: config.advice_columns,
        fixed: config.fixed_columns + config.selectors,
        lookups: config.lookup_names.len(),
    }
}

impl Step {
    /// What the step costs in a profile, in the plan's units.
    pub fn cost(&self, model: &QuantizedModel, profile: Profile) -> LayerCost {
        let out = &model.specs()[self.output()];
        let numel = out.shape.numel();
        let layout = profile.layout();
        let (macs, dot_rows) = match &self.kind {
            #[cfg(feature = "transformers")]
            StepKind::MatMul { dims } => crate::step::pair_cost(dims, layout),
            _ => dot_cost(self.dot_products(), layout),
        };
        let operations: usize = match &self.kind {
            StepKind::Dot { .. } | StepKind::Reshape | StepKind::Select { .. } => 0,
            #[cfg(feature = "transformers")]
            StepKind::MatMul { .. } => 0,
            // Two rows per division, each lane's divisions one after the
            // other.
            #[cfg(feature = "transformers")]
            StepKind::Divide { .. } => {
                crate::chips::divide::DIVIDE_ROWS
                    * numel.div_ceil(layout.element_lanes)
                    * layout.element_lanes
            }
            StepKind::MaxPool { windows, .. } => {
                windows.iter().map(|w| w.len().saturating_sub(1)).sum()
            }
            StepKind::AvgPool { .. }
            | StepKind::Rescale { .. }
            | StepKind::Relu { .. }
            | StepKind::Add
            | StepKind::Mul
            | StepKind::Table { .. } => numel,
        };
        let element_rows = operations.div_ceil(layout.element_lanes);
        LayerCost {
            nodes: self.nodes.clone(),
            op: self.name.to_string(),
            shape: out.shape.0.clone(),
            macs,
            dot_rows,
            element_rows,
            bounds: vec![],
        }
    }
}

impl CircuitPlan {
    /// Plans a model's circuit in the compact profile.
    pub fn new(model: &QuantizedModel, input_visibility: Visibility) -> Result<Self> {
        Self::for_profile(model, input_visibility, Profile::Compact)
    }

    /// Plans a model's circuit in a profile.
    pub fn for_profile(
        model: &QuantizedModel,
        input_visibility: Visibility,
        profile: Profile,
    ) -> Result<Self> {
        Ok(Self::with_steps(model, input_visibility, profile)?.0)
    }

    /// Plans a model's circuit and returns the steps it laid out: what
    /// [`crate::ModelCircuit`] synthesizes, so that a circuit plans once.
    pub fn with_steps(
        model: &QuantizedModel,
        input_visibility: Visibility,
        profile: Profile,
    ) -> Result<(Self, Vec<Step>)> {
        Self::with_options(model, input_visibility, WeightVisibility::Fixed, profile)
    }

    /// [`Self::with_steps`] with the weights' visibility. Committed
    /// weights lay out the model's architecture ([`crate::weights`]), never
    /// its values.
    ///
    /// Polycommit weights of 9–16 bits are range-checked in the weight
    /// store's 16-bit groups when that takes a smaller `k` than bound rows
    /// beside the model (LeNet-5's 61,706 weights of 12 bits), and by bound
    /// rows otherwise (the digits models' biases: no columns added).
    pub fn with_options(
        model: &QuantizedModel,
        input_visibility: Visibility,
        weight_visibility: WeightVisibility,
        profile: Profile,
    ) -> Result<(Self, Vec<Step>)> {
        let visibility = [input_visibility, Visibility::Public];
        Self::planned(model, visibility, weight_visibility, profile)
    }

    /// [`Self::with_options`] with the output's visibility too:
    /// `[input, output]`. A committed output (a segment of a model proven
    /// in parts) is public as its blinded commitment; a private output is
    /// refused (a proof of nothing anyone can see).
    #[cfg(feature = "commitments")]
    pub fn with_output(
        model: &QuantizedModel,
        visibility: [Visibility; 2],
        weight_visibility: WeightVisibility,
        profile: Profile,
    ) -> Result<(Self, Vec<Step>)> {
        if visibility[1] == Visibility::Private {
            return Err(CircuitError::Unsupported {
                node: model.nodes().len().saturating_sub(1),
                op: "output",
                reason: "an output is public or committed, never private (the proof would \
                         show nothing)"
                    .into(),
            });
        }
        Self::planned(model, visibility, weight_visibility, profile)
    }

    /// The plan, polycommit weights stored the cheaper way.
    fn planned(
        model: &QuantizedModel,
        visibility: [Visibility; 2],
        weight_visibility: WeightVisibility,
        profile: Profile,
    ) -> Result<(Self, Vec<Step>)> {
        // (The contract's build plans no polycommit weights.)
        #[cfg(feature = "committed-weights")]
        if weight_visibility == WeightVisibility::Polycommit {
            let plan =
                |shorts| Self::with_store(model, visibility, weight_visibility, profile, shorts);
            return match (plan(false), plan(true)) {
                (Ok(rows), Ok(store)) if store.0.k < rows.0.k => Ok(store),
                (Err(_), Ok(store)) => Ok(store),
                (rows, _) => rows,
            };
        }
        Self::with_store(model, visibility, weight_visibility, profile, false)
    }

    /// [`Self::with_options`], with polycommit weights of 9–16 bits in the
    /// store's 16-bit groups (`shorts_in_store`) or in bound rows.
    fn with_store(
        model: &QuantizedModel,
        [input_visibility, output_visibility]: [Visibility; 2],
        weight_visibility: WeightVisibility,
        profile: Profile,
        shorts_in_store: bool,
    ) -> Result<(Self, Vec<Step>)> {
        #[cfg_attr(
            not(any(feature = "committed-weights", feature = "transformers")),
            allow(unused_mut)
        )]
        let mut commitments = Additions {
            input: input_visibility == Visibility::Committed,
            output: output_visibility == Visibility::Committed,
            weights: weight_visibility == WeightVisibility::Committed,
            store: StoreShape::default(),
            pair_dot: false,
            divide: false,
        };
        let architecture;
        // Weights checked in element rows, and polycommit weights stored
        // in narrow columns and in short groups.
        let (model, bounded_weights, (narrow, short)) = match weight_visibility {
            WeightVisibility::Fixed => (model, 0, (0, 0)),
            WeightVisibility::Committed | WeightVisibility::Polycommit => {
                let (arch, [byte, short, elsewhere]) = committed_weights(model)?;
                architecture = arch;
                match (weight_visibility, shorts_in_store) {
                    (WeightVisibility::Polycommit, true) => {
                        (&architecture, elsewhere, (byte + elsewhere, short))
                    }
                    (WeightVisibility::Polycommit, false) => (
                        &architecture,
                        short + elsewhere,
                        (byte + short + elsewhere, 0),
                    ),
                    _ => (&architecture, short + elsewhere, (0, 0)),
                }
            }
        };
        let input = model.input();
        check_bits(model, 0, "the input bound", input.bits).map_err(|_| CircuitError::Unsupported {
            node: 0,
            op: "input",
            reason: format!(
                "the input's {}-bit bound needs a range check wider than the circuit's {MAX_RANGE_BITS} bits",
                input.bits
            ),
        })?;
        let mut layers = vec![LayerCost {
            nodes: vec![],
            op: "input bound".to_string(),
            shape: input.shape.0.clone(),
            macs: 0,
            dot_rows: 0,
            element_rows: input.shape.numel().div_ceil(profile.layout().element_lanes),
            bounds: vec![BoundProof::RangeCheck],
        }];
        if bounded_weights > 0 {
            layers.push(LayerCost {
                nodes: vec![],
                op: "weights bound".to_string(),
                shape: vec![bounded_weights],
                macs: 0,
                dot_rows: 0,
                element_rows: bounded_weights.div_ceil(profile.layout().element_lanes),
                bounds: vec![BoundProof::RangeCheck],
            });
        }
        let steps = crate::step::steps_with(model, weight_visibility)?;
        #[cfg(feature = "transformers")]
        {
            commitments.pair_dot = steps
                .iter()
                .any(|s| matches!(s.kind, StepKind::MatMul { .. }));
            commitments.divide = steps
                .iter()
                .any(|s| matches!(s.kind, StepKind::Divide { .. }));
        }
        let proofs = bounds::check(model, &steps, Step::bounds)?;
        for step in &steps {
            let mut cost = step.cost(model, profile);
            cost.bounds = step.nodes.iter().map(|n| proofs[n + 1]).collect();
            layers.push(cost);
        }
        let activation_rows: usize = 1 + steps
            .iter()
            .filter_map(|s| match &s.kind {
                StepKind::Table { table, .. } => Some(table.values.len()),
                _ => None,
            })
            .sum::<usize>();
        let table_rows = activation_rows.max(1 << crate::chips::range::LIMB_BITS);
        let dot_rows: usize = layers.iter().map(|l| l.dot_rows).sum();
        let element_rows: usize = layers.iter().map(|l| l.element_rows).sum();
        let commitment_rows = commitment_rows(model, commitments)?;
        // The zero cell takes row 0 of the accumulator column, before the dot rows.
        let rows = (1 + dot_rows)
            .max(element_rows)
            .max(table_rows)
            .max(commitment_rows);
        // Polycommit weights fill columns of their own, as many as the
        // smallest k that fits the rest needs (a larger k costs every
        // column twice; another column costs one), within a cap. (A build
        // without commitments, the contract's, plans none.)
        #[cfg(feature = "committed-weights")]
        let fits = |usable: usize| {
            StoreShape::fitting(narrow, short, usable).columns() <= MAX_WEIGHT_COLUMNS
        };
        #[cfg(not(feature = "committed-weights"))]
        let (fits, _) = (|_: usize| true, (narrow, short));
        #[cfg(feature = "committed-weights")]
        {
            commitments.store = StoreShape::fitting(narrow, short, 1 << MAX_K);
        }
        let shape = layout_shape(profile, commitments);
        let (k, usable_rows) = (1..=MAX_K)
            .map(|k| (k, (1usize << k).saturating_sub(shape.blinding)))
            .find(|&(_, usable)| usable >= rows && fits(usable))
            .ok_or(CircuitError::TooLarge {
                rows,
                max_k: MAX_K,
                usable: (1 << MAX_K) - shape.blinding,
            })?;
        #[cfg(feature = "committed-weights")]
        let (shape, commitment_rows) = match narrow + short {
            0 => (shape, commitment_rows),
            _ => {
                commitments.store = StoreShape::fitting(narrow, short, usable_rows);
                let rows = commitments.store.rows(narrow, short);
                (
                    layout_shape(profile, commitments),
                    commitment_rows.max(rows),
                )
            }
        };
        let rows = rows.max(commitment_rows);
        let public_input = match input_visibility {
            Visibility::Public => input.shape.numel(),
            Visibility::Private => 0,
            Visibility::Committed => 1,
        };
        let plan = CircuitPlan {
            k,
            rows,
            usable_rows,
            dot_rows,
            element_rows,
            table_rows,
            commitment_rows,
            advice_columns: shape.advice,
            fixed_columns: shape.fixed,
            lookups: shape.lookups,
            instances: usize::from(commitments.weights)
                + public_input
                + match commitments.output {
                    true => 1,
                    false => model.output().shape.numel(),
                },
            input_visibility,
            #[cfg(feature = "commitments")]
            output_visibility,
            weight_visibility,
            weight_store: commitments.store,
            #[cfg(feature = "transformers")]
            pair_dot: commitments.pair_dot,
            #[cfg(feature = "transformers")]
            divide: commitments.divide,
            profile,
            layers,
        };
        Ok((plan, steps))
    }

    /// Multiply-accumulates in the whole model.
    pub fn macs(&self) -> usize {
        self.layers.iter().map(|l| l.macs).sum()
    }
}

/// Rows of commitments, whose columns the floor planner lays beside the
/// model's: each packing lane's rows (a region per tensor, as tall as its
/// fullest lane, then the chain's first element in lane 0) and each
/// Poseidon chip's calls ([`crate::chips::commit::CommitShape`]).
#[cfg(feature = "commitments")]
#[derive(Clone, Debug, Default)]
struct CommitmentRows {
    packing: usize,
    /// Calls per chip.
    calls: Vec<usize>,
    /// The chip the next call goes to.
    next_chip: usize,
}

#[cfg(feature = "commitments")]
impl CommitmentRows {
    fn new(chips: usize) -> Self {
        CommitmentRows {
            packing: 0,
            calls: vec![0; chips],
            next_chip: 0,
        }
    }

    /// One tensor of `n` values of `bits` bits over `lanes` packing lanes,
    /// then its chain: one call per packed element, one more for a
    /// blinding element.
    fn tensor(&mut self, n: usize, bits: u32, blinded: bool, lanes: usize) {
        let per = crate::commitment::values_per_element(bits);
        let elements = n.div_ceil(per);
        let fullest = (0..lanes)
            .map(|lane| {
                (lane..elements)
                    .step_by(lanes)
                    .map(|e| per.min(n - e * per))
                    .sum::<usize>()
            })
            .max()
            .unwrap_or(0);
        self.packing += 2 + fullest;
        self.chain(elements + usize::from(blinded));
    }

    /// A chain's calls, round robin over the chips from the next one.
    fn chain(&mut self, calls: usize) {
        let chips = self.calls.len();
        for _ in 0..calls {
            self.calls[self.next_chip % chips] += 1;
            self.next_chip += 1;
        }
    }

    fn rows(&self) -> usize {
        let calls = self.calls.iter().copied().max().unwrap_or(0);
        self.packing.max(calls * POSEIDON_ROWS)
    }
}

/// Rows the commitments take: the weights' (their tensors, then the chain
/// over the tensors' commitments; `model` is then the architecture), the
/// input's and the output's, in the layout `commitments` gets.
#[cfg(feature = "commitments")]
fn commitment_rows(model: &QuantizedModel, commitments: Additions) -> Result<usize> {
    let shape = commitments.shape();
    let mut rows = CommitmentRows::new(shape.chips);
    if commitments.weights {
        let tensors = crate::weights::committed_tensors(model)?;
        for t in &tensors {
            rows.tensor(t.values.len(), t.bits, false, shape.lanes);
        }
        rows.packing += 1;
        rows.chain(tensors.len());
    }
    // The input's calls start on the first chip, the output's follow them.
    rows.next_chip = 0;
    if commitments.input {
        let input = model.input();
        rows.tensor(input.shape.numel(), input.bits, true, shape.lanes);
    }
    if commitments.output {
        let output = model.output();
        if output.bits > crate::commitment::MAX_BITS {
            return Err(CircuitError::Unsupported {
                node: model.nodes().len() - 1,
                op: "output",
                reason: format!(
                    "a committed output packs values of at most {} bits; this one's bound \
                     is {} bits",
                    crate::commitment::MAX_BITS,
                    output.bits
                ),
            });
        }
        rows.tensor(output.shape.numel(), output.bits, true, shape.lanes);
    }
    Ok(rows.rows())
}

/// A model's architecture, and how many of its committed weights are
/// checked as bytes, as 16-bit values, and by division rows.
#[cfg(feature = "committed-weights")]
fn committed_weights(model: &QuantizedModel) -> Result<(QuantizedModel, [usize; 3])> {
    let architecture = crate::weights::architecture(model)?;
    let mut counts = [0; 3];
    for t in crate::weights::committed_tensors(&architecture)? {
        let kind = match t.check() {
            crate::weights::RangeCheck::Lookup => 0,
            crate::weights::RangeCheck::Bound => 1,
            crate::weights::RangeCheck::Split => 2,
        };
        counts[kind] += t.values.len();
    }
    Ok((architecture, counts))
}

/// Why a build without the `commitments` feature (the contract's) plans no
/// commitment.
#[cfg(not(feature = "commitments"))]
fn no_commitments() -> CircuitError {
    CircuitError::Unsupported {
        node: 0,
        op: "model",
        reason: "this commitment (an input's, or the weights') is not in this build of zkinfer \
                 (the contract's)"
            .into(),
    }
}

#[cfg(not(feature = "committed-weights"))]
fn committed_weights(_: &QuantizedModel) -> Result<(QuantizedModel, [usize; 3])> {
    Err(no_commitments())
}

/// Without commitments (the contract's build), none is planned.
#[cfg(not(feature = "commitments"))]
fn commitment_rows(_: &QuantizedModel, commitments: Additions) -> Result<usize> {
    match commitments.input || commitments.output || commitments.weights {
        true => Err(no_commitments()),
        false => Ok(0),
    }
}
