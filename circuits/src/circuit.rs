//! [`ModelCircuit`]: a quantized model's inference as a halo2 circuit.
//!
//! Public inputs (one instance column): the model input when it is public,
//! then the output, each element as a signed integer in the field
//! ([`crate::field::fe`]). Weights are fixed columns, so the verifying key
//! is the model's identity.

use crate::assign::{Assigner, Cell_, Edit, LoggedCell};
use crate::config::ModelConfig;
use crate::error::{CircuitError, Result};
use crate::field::fe;
use crate::layers::LayoutCtx;
use crate::plan::{CircuitPlan, Visibility};
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
    model: Arc<QuantizedModel>,
    plan: Arc<CircuitPlan>,
    steps: Arc<Vec<Step>>,
    trace: Option<Arc<Trace>>,
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
        let (plan, steps) = CircuitPlan::with_steps(&model, visibility, profile)?;
        Ok(ModelCircuit {
            steps: Arc::new(steps),
            model,
            plan: Arc::new(plan),
            trace: None,
            assigner: Assigner::default(),
        })
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

    /// The model.
    pub fn model(&self) -> &QuantizedModel {
        &self.model
    }

    /// How many advice cells the last synthesis assigned.
    pub fn assigned_cells(&self) -> usize {
        self.assigner.count()
    }

    /// The public inputs of an inference: the input (when public), then the
    /// output.
    pub fn instances(&self, trace: &Trace) -> Vec<Fp> {
        public_values(self.plan.input_visibility, trace)
            .into_iter()
            .map(fe)
            .collect()
    }
}

/// The integers a proof makes public, in instance order.
pub fn public_values(visibility: Visibility, trace: &Trace) -> Vec<i64> {
    let mut values = match visibility {
        Visibility::Public => trace.input().data.clone(),
        Visibility::Private => vec![],
    };
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
        ModelConfig::configure(meta, self.plan.profile)
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
        let ctx = LayoutCtx {
            config: &config,
            assigner: &self.assigner,
            model: &self.model,
            trace: self.trace.as_deref(),
            zero,
        };
        let mut tensors: Vec<Vec<Cell_>> = vec![ctx.input(&mut layouter)?];
        for (i, step) in self.steps.iter().enumerate() {
            self.assigner.step(i);
            let outputs = ctx.step(&mut layouter, step, &tensors)?;
            tensors.extend(outputs);
        }
        let mut public = vec![];
        if self.plan.input_visibility == Visibility::Public {
            public.extend(&tensors[0]);
        }
        public.extend(tensors.last().expect("a model has nodes"));
        for (row, cell) in public.iter().enumerate() {
            layouter.constrain_instance(cell.cell(), config.instance, row)?;
        }
        let public: Vec<Cell_> = public.into_iter().cloned().collect();
        self.assigner.log_public(&public);
        Ok(())
    }
}
