//! [`ModelCircuit`]: a quantized model's inference as a halo2 circuit.
//!
//! Public inputs (one instance column): the weights' commitment when they
//! are committed, the input's commitment when it is committed or the input
//! when it is public, then the output (or its commitment, when it is
//! committed: a segment of a model proven in parts), each integer as a
//! signed integer in the field ([`crate::field::fe`]). Fixed weights are fixed columns, so
//! the verifying key is the model's identity; committed weights make it
//! the architecture's ([`crate::weights`]).

use crate::assign::{Assigner, Cell_, Edit, LoggedCell};
use crate::config::{Additions, ModelConfig};
use crate::error::{CircuitError, Result};
use crate::field::fe;
use crate::layers::LayoutCtx;
use crate::plan::{CircuitPlan, Visibility, WeightVisibility};
use crate::profile::Profile;
use crate::step::{Step, StepKind};
use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use pasta_curves::Fp;
use std::sync::Arc;
use zkinfer_quant::{QuantizedModel, TableActivation, Trace};

/// A model's circuit, with or without a witness.
#[derive(Clone, Debug)]
pub struct ModelCircuit {
    /// The model laid out: with committed weights, its architecture.
    model: Arc<QuantizedModel>,
    /// The model whose weights the witness holds, when they are committed.
    weights: Option<Arc<QuantizedModel>>,
    plan: Arc<CircuitPlan>,
    steps: Arc<Vec<Step>>,
    trace: Option<Arc<Trace>>,
    /// A committed input's blinding element (the prover's secret).
    blinding: Option<Fp>,
    /// A committed output's blinding element: the next segment's input
    /// blinding, so that its input commitment is this output's.
    output_blinding: Option<Fp>,
    assigner: Assigner,
}

impl ModelCircuit {
    /// The circuit of a model in the compact profile, without a witness
    /// (for key generation).
    pub fn new(model: Arc<QuantizedModel>, visibility: Visibility) -> Result<Self> {
        Self::with_profile(model, visibility, Profile::Compact)
    }

    /// The circuit of a model in a layout profile, without a witness.
    pub fn with_profile(
        model: Arc<QuantizedModel>,
        visibility: Visibility,
        profile: Profile,
    ) -> Result<Self> {
        Self::with_options(model, visibility, WeightVisibility::Fixed, profile)
    }

    /// The circuit of a model with its weights fixed or committed, without
    /// a witness. With committed weights the circuit lays out the model's
    /// architecture, and its keys serve every model of it.
    pub fn with_options(
        model: Arc<QuantizedModel>,
        visibility: Visibility,
        weights: WeightVisibility,
        profile: Profile,
    ) -> Result<Self> {
        let planned = CircuitPlan::with_options(&model, visibility, weights, profile)?;
        Self::from_plan(model, planned, weights)
    }

    /// [`Self::with_options`] with the output's visibility too:
    /// `[input, output]` ([`CircuitPlan::with_output`]).
    #[cfg(feature = "commitments")]
    pub fn with_output(
        model: Arc<QuantizedModel>,
        visibility: [Visibility; 2],
        weights: WeightVisibility,
        profile: Profile,
    ) -> Result<Self> {
        let planned = CircuitPlan::with_output(&model, visibility, weights, profile)?;
        Self::from_plan(model, planned, weights)
    }

    fn from_plan(
        model: Arc<QuantizedModel>,
        (plan, steps): (CircuitPlan, Vec<Step>),
        weights: WeightVisibility,
    ) -> Result<Self> {
        let (model, weights) = match weights {
            WeightVisibility::Fixed => (model, None),
            #[cfg(feature = "committed-weights")]
            WeightVisibility::Committed | WeightVisibility::Polycommit => {
                (Arc::new(crate::weights::architecture(&model)?), Some(model))
            }
            // Never reached: the plan refuses committed weights in a build
            // without commitments (the contract's).
            #[cfg(not(feature = "committed-weights"))]
            WeightVisibility::Committed | WeightVisibility::Polycommit => (model, None),
        };
        Ok(ModelCircuit {
            steps: Arc::new(steps),
            model,
            weights,
            plan: Arc::new(plan),
            trace: None,
            blinding: None,
            output_blinding: None,
            assigner: Assigner::default(),
        })
    }

    /// The same circuit with a committed input's blinding element: set it
    /// before the trace ([`Self::with_trace`] refuses a committed input
    /// without one).
    pub fn with_blinding(&self, blinding: Fp) -> Self {
        ModelCircuit {
            blinding: Some(blinding),
            ..self.clone()
        }
    }

    /// The blinding element, if one was given.
    pub fn blinding(&self) -> Option<Fp> {
        self.blinding
    }

    /// The same circuit with a committed output's blinding element (set
    /// it before the trace, as [`Self::with_blinding`]).
    pub fn with_output_blinding(&self, blinding: Fp) -> Self {
        ModelCircuit {
            output_blinding: Some(blinding),
            ..self.clone()
        }
    }

    /// Whether the output is committed (and public only as its
    /// commitment).
    pub fn output_committed(&self) -> bool {
        #[cfg(feature = "commitments")]
        return self.plan.output_visibility == Visibility::Committed;
        #[cfg(not(feature = "commitments"))]
        false
    }

    /// The same circuit proving inferences of `model`, a model of its
    /// architecture, when its weights are committed: keys made for one
    /// model's circuit serve another's.
    #[cfg(feature = "committed-weights")]
    pub fn with_weights(&self, model: Arc<QuantizedModel>) -> Result<Self> {
        if self.weights.is_none() {
            return Err(CircuitError::Witness(
                "only a circuit with committed weights takes other weights".into(),
            ));
        }
        if crate::weights::architecture(&model)?.digest() != self.model.digest() {
            return Err(CircuitError::Witness(
                "the model is not of this circuit's architecture (another graph, scale or \
                 weight width)"
                    .into(),
            ));
        }
        Ok(ModelCircuit {
            weights: Some(model),
            ..self.clone()
        })
    }

    /// The model whose inference the circuit proves: the one it was made
    /// from (for committed weights, not the architecture it lays out).
    pub fn witness_model(&self) -> &Arc<QuantizedModel> {
        self.weights.as_ref().unwrap_or(&self.model)
    }

    /// The same circuit with a witness: the trace of one inference.
    pub fn with_trace(&self, trace: Trace) -> Result<Self> {
        let specs = self.model.specs();
        if trace.tensors.len() != specs.len()
            || trace
                .tensors
                .iter()
                .zip(specs)
                .any(|(t, s)| t.shape != s.shape || t.data.len() != s.shape.numel())
        {
            return Err(CircuitError::Witness(
                "the trace's tensors do not have the model's shapes".into(),
            ));
        }
        if self.plan.input_visibility == Visibility::Committed && self.blinding.is_none() {
            return Err(CircuitError::Witness(
                "a committed input needs its blinding element".into(),
            ));
        }
        if self.output_committed() && self.output_blinding.is_none() {
            return Err(CircuitError::Witness(
                "a committed output needs its blinding element".into(),
            ));
        }
        Ok(ModelCircuit {
            trace: Some(Arc::new(trace)),
            ..self.clone()
        })
    }

    /// The same circuit, assigning `delta` more to its `index`-th advice
    /// cell: a wrong witness, for soundness tests.
    pub fn tampered(&self, index: usize, delta: Fp) -> Self {
        self.forged([(index, Edit::Add(delta))])
    }

    /// The same circuit with `edits` to its advice cells (by assignment
    /// index): a forger's witness, for soundness tests. Witnesses derived
    /// after an edited cell follow it (see [`crate::assign`]).
    pub fn forged(&self, edits: impl IntoIterator<Item = (usize, Edit)>) -> Self {
        ModelCircuit {
            assigner: self.assigner.with_edits(edits),
            ..self.clone()
        }
    }

    /// The same circuit, recording every cell it assigns and the values it
    /// makes public ([`Self::assigned`], [`Self::public_cells`]).
    pub fn recording(&self) -> Self {
        ModelCircuit {
            assigner: self.assigner.recording(),
            ..self.clone()
        }
    }

    /// The cells the last synthesis assigned, if [`Self::recording`].
    pub fn assigned(&self) -> Vec<LoggedCell> {
        self.assigner.log()
    }

    /// The values the last synthesis bound to the public inputs, if
    /// [`Self::recording`]: what a forged witness claims.
    pub fn public_cells(&self) -> Vec<Fp> {
        self.assigner.public()
    }

    /// The layout profile.
    pub fn profile(&self) -> Profile {
        self.plan.profile
    }

    /// The plan: k, rows, costs.
    pub fn plan(&self) -> &CircuitPlan {
        &self.plan
    }

    /// The steps it lays out, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The model laid out: the model itself, or with committed weights its
    /// architecture (what its verifying key stands for).
    pub fn model(&self) -> &QuantizedModel {
        &self.model
    }

    /// How many advice cells the last synthesis assigned.
    pub fn assigned_cells(&self) -> usize {
        self.assigner.count()
    }

    /// The public inputs of an inference: the weights' commitment (when
    /// committed), the input (when public) or its commitment (when
    /// committed), then the output (or its commitment).
    pub fn instances(&self, trace: &Trace) -> Vec<Fp> {
        let mut instances = vec![];
        if let Some(commitment) = self.model_commitment() {
            instances.push(commitment);
        }
        if let Some(commitment) = self.input_commitment(trace) {
            instances.push(commitment);
        }
        instances.extend(public_values(&self.plan, trace).into_iter().map(fe));
        instances.extend(self.output_commitment(trace));
        instances
    }

    /// The weights' Poseidon commitment, when they are committed (hashed):
    /// a public input.
    pub fn model_commitment(&self) -> Option<Fp> {
        #[cfg(feature = "commitments")]
        return self
            .weights
            .as_ref()
            .filter(|_| self.plan.weight_visibility == WeightVisibility::Committed)
            .and_then(|model| crate::weights::model_commitment(model).ok());
        #[cfg(not(feature = "commitments"))]
        None
    }

    /// The input's commitment, when it is committed (with the blinding
    /// element given, or 0 before one is).
    pub fn input_commitment(&self, trace: &Trace) -> Option<Fp> {
        if self.plan.input_visibility != Visibility::Committed {
            return None;
        }
        #[cfg(feature = "commitments")]
        {
            let bits = self.model.input().bits;
            let blinding = self.blinding.unwrap_or(Fp::zero());
            crate::commitment::commit(&trace.input().data, bits, Some(blinding)).ok()
        }
        #[cfg(not(feature = "commitments"))]
        {
            // The plan refuses committed inputs in such a build.
            let _ = trace;
            None
        }
    }

    /// The output's commitment, when it is committed (with the output
    /// blinding element given, or 0 before one is).
    pub fn output_commitment(&self, trace: &Trace) -> Option<Fp> {
        if !self.output_committed() {
            return None;
        }
        #[cfg(feature = "commitments")]
        {
            let bits = self.model.output().bits;
            let blinding = self.output_blinding.unwrap_or(Fp::zero());
            crate::commitment::commit(&trace.output().data, bits, Some(blinding)).ok()
        }
        #[cfg(not(feature = "commitments"))]
        {
            let _ = trace;
            None
        }
    }
}

/// The integers a proof of `plan`'s circuit makes public, in instance
/// order: the input when public, the output when public (commitments,
/// which are not integers, come before and after them).
pub fn public_values(plan: &CircuitPlan, trace: &Trace) -> Vec<i64> {
    let mut values = match plan.input_visibility {
        Visibility::Public => trace.input().data.clone(),
        Visibility::Private | Visibility::Committed => vec![],
    };
    #[cfg(feature = "commitments")]
    if plan.output_visibility == Visibility::Committed {
        return values;
    }
    values.extend(&trace.output().data);
    values
}

impl Circuit<Fp> for ModelCircuit {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        ModelCircuit {
            trace: None,
            ..self.clone()
        }
    }

    /// The compact profile's columns (halo2 asks the type; the patched
    /// halo2 zkinfer uses asks the instance, [`Circuit::configure_for`]).
    fn configure(meta: &mut ConstraintSystem<Fp>) -> ModelConfig {
        ModelConfig::configure(meta, Profile::Compact)
    }

    fn configure_for(&self, meta: &mut ConstraintSystem<Fp>) -> ModelConfig {
        ModelConfig::configure_with(meta, self.plan.profile, Additions::of(&self.plan))
    }

    fn synthesize(
        &self,
        config: ModelConfig,
        mut layouter: impl Layouter<Fp>,
    ) -> Result<(), Error> {
        // A configuration of another profile (a caller that configured the
        // type, not this instance) would lay the model out wrongly.
        if config.profile != self.plan.profile {
            return Err(Error::Synthesis);
        }
        self.assigner.reset();
        config.range_table.load(&mut layouter)?;
        let tables: Vec<&TableActivation> = self
            .steps
            .iter()
            .filter_map(|s| match &s.kind {
                StepKind::Table { table, .. } => Some(table),
                _ => None,
            })
            .collect();
        config.lane().table.load(&mut layouter, &tables)?;
        let zero: Cell_ = layouter.assign_region(
            || "zero",
            |mut region| region.assign_advice_from_constant(|| "zero", config.acc, 0, Fp::zero()),
        )?;
        #[cfg_attr(not(feature = "committed-weights"), allow(unused_mut))]
        let mut ctx = LayoutCtx {
            config: &config,
            assigner: &self.assigner,
            model: &self.model,
            trace: self.trace.as_deref(),
            zero,
            weights: None,
        };
        let mut public: Vec<Cell_> = vec![];
        #[cfg(feature = "committed-weights")]
        if let Some(model) = &self.weights {
            // Values only with a witness: keys never see the weights.
            let model = self.trace.as_ref().map(|_| model.as_ref());
            if self.plan.weight_visibility == WeightVisibility::Polycommit {
                ctx.weights = Some(ctx.store_weights(&mut layouter, model)?);
            } else {
                // Hashed weights (a build without Poseidon plans none).
                #[cfg(feature = "commitments")]
                {
                    let (weights, commitment) = ctx.commit_weights(&mut layouter, model)?;
                    ctx.weights = Some(weights);
                    public.push(commitment);
                }
                #[cfg(not(feature = "commitments"))]
                return Err(Error::Synthesis);
            }
        }
        let mut tensors: Vec<Vec<Cell_>> = vec![ctx.input(&mut layouter)?];
        for (i, step) in self.steps.iter().enumerate() {
            self.assigner.step(i);
            let outputs = ctx.step(&mut layouter, step, &tensors)?;
            tensors.extend(outputs);
        }
        // The input's Poseidon calls start on the first chip, as they
        // always have; the output's follow them.
        let mut next_chip = 0;
        match self.plan.input_visibility {
            Visibility::Public => public.extend(tensors[0].iter().cloned()),
            Visibility::Private => {}
            Visibility::Committed => public.push(self.commit_tensor(
                (&config, &mut layouter, &ctx.zero),
                &tensors[0],
                (self.model.input().bits, self.blinding),
                &mut next_chip,
            )?),
        }
        let output = tensors.last().expect("a model has nodes");
        match self.output_committed() {
            true => public.push(self.commit_tensor(
                (&config, &mut layouter, &ctx.zero),
                output,
                (self.model.output().bits, self.output_blinding),
                &mut next_chip,
            )?),
            false => public.extend(output.iter().cloned()),
        }
        for (row, cell) in public.iter().enumerate() {
            layouter.constrain_instance(cell.cell(), config.instance, row)?;
        }
        self.assigner.log_public(&public);
        Ok(())
    }
}

/// What a tensor's commitment is laid out with: the configuration, the
/// layouter and the zero cell.
type CommitCtx<'a, L> = (&'a ModelConfig, &'a mut L, &'a Cell_);

impl ModelCircuit {
    /// A tensor's commitment (the input's, or a segment's output): its
    /// cells (proven `bits`-bit integers: the input by its bound checks,
    /// an output by the bound invariant) packed and hashed with its
    /// blinding element, an advice cell the prover chooses.
    #[cfg(feature = "commitments")]
    fn commit_tensor<L: Layouter<Fp>>(
        &self,
        (config, layouter, zero): CommitCtx<'_, L>,
        cells: &[Cell_],
        (bits, blinding): (u32, Option<Fp>),
        next_chip: &mut usize,
    ) -> Result<Cell_, Error> {
        use crate::chips::commit::CommitInstructions;
        use halo2_proofs::circuit::Value;
        let commit = config.commit.as_ref().ok_or(Error::Synthesis)?;
        let blinding = layouter.assign_region(
            || "blinding",
            |mut region| {
                self.assigner.region("blinding");
                let r = Value::known(blinding.unwrap_or(Fp::zero()));
                let r = self.trace.as_ref().map_or(Value::unknown(), |_| r);
                self.assigner
                    .advice(&mut region, "blinding", commit.blinding_column(), 0, r)
            },
        )?;
        commit.commit(
            layouter,
            &self.assigner,
            zero,
            cells,
            bits,
            Some(&blinding),
            next_chip,
        )
    }

    #[cfg(not(feature = "commitments"))]
    fn commit_tensor<L: Layouter<Fp>>(
        &self,
        _: CommitCtx<'_, L>,
        _: &[Cell_],
        _: (u32, Option<Fp>),
        _: &mut usize,
    ) -> Result<Cell_, Error> {
        // The plan refuses commitments in such a build.
        Err(Error::Synthesis)
    }
}
