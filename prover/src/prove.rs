//! [`Prover`]: keys for one model, and proofs of its inferences.

use crate::error::{ProverError, Result};
use crate::pk_cache::{self, PkCache};
use crate::vk_cache::{KeySource, VkCache};
use halo2_proofs::plonk::{create_proof_with_openings, ProvingKey};
use halo2_proofs::transcript::{Blake2bWrite, Challenge255};
use pasta_curves::vesta;
use rand_core::UnwrapErr;
use std::sync::Arc;
use zkinfer_circuits::{public_values, Fp, ModelCircuit, Profile, Visibility};
use zkinfer_models::Engine;
use zkinfer_quant::{QuantizedModel, Tensor, Trace};
use zkinfer_verifier::{IpaParams, ProofBundle, PublicTensor, VerifierKey, PROOF_FORMAT};

/// The zkinfer version written into bundles.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Proves inferences of one model.
pub struct Prover {
    name: String,
    model: Arc<QuantizedModel>,
    key: VerifierKey,
    pk: ProvingKey<vesta::Affine>,
    /// With polycommit weights: the owner's secret, which blinds the
    /// registered commitment the proofs open to.
    weights_secret: Option<zkinfer_circuits::polycommit::WeightsSecret>,
}

/// A proof and the inference it proves.
#[derive(Clone, Debug)]
pub struct Proved {
    /// The bundle to hand to a verifier.
    pub bundle: ProofBundle,
    /// Every tensor of the inference (the candle engine's trace).
    pub trace: Trace,
    /// A committed input's blinding element: the prover's secret, which
    /// opens the commitment the bundle carries.
    pub blinding: Option<Fp>,
    /// A committed output's blinding element (a segment's: the next
    /// segment's input blinding).
    pub output_blinding: Option<Fp>,
}

impl Prover {
    /// Generates the keys of the model's compact circuit. `params` must be
    /// for the circuit's `k` ([`VerifierKey::k_for`]).
    pub fn new(
        name: &str,
        model: QuantizedModel,
        visibility: Visibility,
        params: IpaParams,
    ) -> Result<Self> {
        let circuit = VerifierKey::plan_circuit(model, visibility, Profile::Compact)?;
        Self::for_circuit(name, circuit, params)
    }

    /// Generates the keys of a circuit ([`VerifierKey::plan_circuit`]);
    /// `params` must be for its plan's `k`.
    pub fn for_circuit(name: &str, circuit: ModelCircuit, params: IpaParams) -> Result<Self> {
        let key = VerifierKey::for_circuit(circuit, params)?;
        Self::with_key(name, key)
    }

    /// [`Self::for_circuit`] with keys that outlive the process: the
    /// verifying key from `vks` when it holds it (checked), the proving key
    /// from `pks` when its file reads back whole; each else generated and
    /// cached.
    pub fn for_circuit_cached(
        name: &str,
        circuit: ModelCircuit,
        params: IpaParams,
        vks: &VkCache,
        pks: &PkCache,
    ) -> Result<(Self, KeySource, KeySource)> {
        let (key, vk_source) = vks.key(circuit, params)?;
        let (pk, pk_source) = pks.key(&key)?;
        Ok((Self::from_keys(name, key, pk), vk_source, pk_source))
    }

    /// Generates the proving key of a verifying key's circuit.
    fn with_key(name: &str, key: VerifierKey) -> Result<Self> {
        let pk = pk_cache::generate(&key)?;
        Ok(Self::from_keys(name, key, pk))
    }

    fn from_keys(name: &str, key: VerifierKey, pk: ProvingKey<vesta::Affine>) -> Self {
        // With committed weights the key's circuit lays out the
        // architecture; inferences run the model with its weights.
        let model = key.circuit().witness_model().clone();
        Prover {
            name: name.to_string(),
            model,
            key,
            pk,
            weights_secret: None,
        }
    }

    /// With polycommit weights: blinds the registered commitment its
    /// proofs open to with the owner's `secret` (the hiding commitment
    /// `zkinfer commit --polycommit` prints with the same secret). No
    /// effect on other circuits.
    pub fn with_weights_secret(
        mut self,
        secret: Option<zkinfer_circuits::polycommit::WeightsSecret>,
    ) -> Self {
        self.weights_secret = secret;
        self
    }

    /// The verifier key (the prover's own, for checking its proofs).
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.key
    }

    /// Runs the candle engine on a quantized input and proves its trace; a
    /// committed input is blinded by a fresh random element.
    pub fn prove(&self, input: &Tensor) -> Result<Proved> {
        self.prove_with_blinding(input, None)
    }

    /// [`Self::prove`], a committed input blinded by `blinding` when given
    /// (ignored for other inputs).
    pub fn prove_with_blinding(&self, input: &Tensor, blinding: Option<Fp>) -> Result<Proved> {
        let trace = Engine::default().run(&self.model, input)?;
        self.prove_trace_with_blinding(trace, blinding)
    }

    /// Proves a trace of this model.
    pub fn prove_trace(&self, trace: Trace) -> Result<Proved> {
        self.prove_trace_with_blinding(trace, None)
    }

    fn prove_trace_with_blinding(&self, trace: Trace, blinding: Option<Fp>) -> Result<Proved> {
        self.prove_blinded(trace, [blinding, None])
    }

    /// Proves a trace of this model, a committed input and a committed
    /// output blinded by `[input, output]` when given (a fresh random
    /// element when not; ignored for public tensors). A model proven in
    /// parts blinds a segment's input with the previous segment's output
    /// blinding, so that the two commitments are one.
    pub fn prove_blinded(&self, trace: Trace, blindings: [Option<Fp>; 2]) -> Result<Proved> {
        let base = self.key.circuit();
        let committed = [
            base.plan().input_visibility == Visibility::Committed,
            base.output_committed(),
        ];
        let [blinding, output_blinding] =
            [0, 1].map(|i| committed[i].then(|| blindings[i].unwrap_or_else(random_blinding)));
        let mut circuit = base.clone();
        if let Some(r) = blinding {
            circuit = circuit.with_blinding(r);
        }
        if let Some(r) = output_blinding {
            circuit = circuit.with_output_blinding(r);
        }
        let circuit = circuit.with_trace(trace.clone())?;
        let commitment = circuit.input_commitment(&trace);
        let output_commitment = circuit.output_commitment(&trace);
        let model_commitment = circuit.model_commitment();
        let visibility = circuit.plan().input_visibility;
        let instances = circuit.instances(&trace);
        let circuit_plan = circuit.plan().clone();
        let (proof, opening) = self.prove_with_opening(circuit, &instances)?;
        let model_commitment = match &opening {
            Some(opening) => Some(zkinfer_circuits::polycommit::to_hex(&opening.registered)),
            None => model_commitment.map(zkinfer_circuits::field::to_hex),
        };
        debug_assert_eq!(
            public_values(&circuit_plan, &trace).len()
                + usize::from(commitment.is_some())
                + usize::from(output_commitment.is_some())
                + usize::from(model_commitment.is_some()),
            instances.len(),
            "instances are the commitments (if any) and the public values"
        );
        let tensor = |spec: &zkinfer_quant::TensorSpec, values: &Tensor| PublicTensor {
            shape: spec.shape.0.clone(),
            scale: spec.scale.0,
            values: values.data.clone(),
        };
        let bundle = ProofBundle {
            format: PROOF_FORMAT.to_string(),
            zkinfer_version: VERSION.to_string(),
            model: self.name.clone(),
            model_digest: self.key.model_digest().to_string(),
            vk_digest: self.key.vk_digest().to_string(),
            k: self.key.circuit().plan().k,
            profile: self.key.circuit().profile(),
            model_commitment,
            input_visibility: visibility,
            input: (visibility == Visibility::Public)
                .then(|| tensor(self.model.input(), trace.input())),
            input_commitment: commitment.map(zkinfer_circuits::field::to_hex),
            weights_opening: opening.map(|o| zkinfer_verifier::base64::encode(&o.proof)),
            output: match output_commitment {
                // A committed output's values stay with the prover.
                Some(_) => PublicTensor {
                    values: vec![],
                    ..tensor(self.model.output(), trace.output())
                },
                None => tensor(self.model.output(), trace.output()),
            },
            output_commitment: output_commitment.map(zkinfer_circuits::field::to_hex),
            proof: zkinfer_verifier::base64::encode(&proof),
        };
        Ok(Proved {
            bundle,
            trace,
            blinding,
            output_blinding,
        })
    }

    /// Proves whatever witness `circuit` (this model's circuit) assigns,
    /// claiming `instances`: what anyone holding the proving key can do,
    /// honest or not. [`Self::prove_trace`] uses it on honest traces;
    /// soundness tests use it on forged witnesses, whose proofs a verifier
    /// must reject.
    pub fn prove_witness(&self, circuit: ModelCircuit, instances: &[Fp]) -> Result<Vec<u8>> {
        Ok(self.prove_with_opening(circuit, instances)?.0)
    }

    /// [`Self::prove_witness`], and with polycommit weights the proof that
    /// its weight columns open to the weights' registered commitment.
    pub fn prove_with_opening(
        &self,
        circuit: ModelCircuit,
        instances: &[Fp],
    ) -> Result<(Vec<u8>, Option<WeightsOpening>)> {
        use zkinfer_circuits::polycommit;
        let plan = circuit.plan().clone();
        let columns = polycommit::store_columns(&plan);
        let weights = circuit.witness_model().clone();
        let mut rng = UnwrapErr(rand::rngs::SysRng);
        let mut transcript = Blake2bWrite::<_, vesta::Affine, Challenge255<_>>::init(vec![]);
        let openings = create_proof_with_openings(
            self.key.params(),
            &self.pk,
            &[circuit],
            &[&[instances]],
            &mut rng,
            &mut transcript,
            &columns,
        )
        .map_err(|e| ProverError::Halo2 {
            stage: "proof",
            message: e.to_string(),
        })?;
        let proof = transcript.finalize();
        if columns.is_empty() {
            return Ok((proof, None));
        }
        let params = self.key.params();
        let secret = self.weights_secret.as_ref();
        let registered = polycommit::commitments(params, &weights, plan.weight_store, secret)?;
        let blinds = match secret {
            Some(secret) => secret.column_blinds(&weights, registered.len()),
            None => vec![Fp::zero(); registered.len()],
        };
        let in_proof = polycommit::proof_columns(&proof, &columns).ok_or(ProverError::Halo2 {
            stage: "proof",
            message: "the proof does not start with its weight columns' commitments".into(),
        })?;
        let openings = openings.first().map_or(&[][..], Vec::as_slice);
        let to_open = polycommit::Registered {
            points: &registered,
            blinds: &blinds,
        };
        let opening =
            polycommit::prove_opening(params, to_open, &in_proof, openings, &proof, &mut rng)?;
        Ok((
            proof,
            Some(WeightsOpening {
                registered,
                proof: opening,
            }),
        ))
    }
}

/// Polycommit weights' registered commitment, and the proof that a proof's
/// weight columns open to it.
#[derive(Clone, Debug)]
pub struct WeightsOpening {
    /// The registered commitment, one point per weight column.
    pub registered: Vec<zkinfer_circuits::polycommit::Point>,
    /// The opening proof.
    pub proof: Vec<u8>,
}

/// A fresh polycommit weights secret from the operating system, which the
/// model's owner keeps.
pub fn random_weights_secret() -> zkinfer_circuits::polycommit::WeightsSecret {
    zkinfer_circuits::polycommit::WeightsSecret::random(&mut UnwrapErr(rand::rngs::SysRng))
}

/// A fresh random field element from the operating system: a commitment's
/// blinding element, which the prover keeps.
pub fn random_blinding() -> Fp {
    <Fp as ff::Field>::random(&mut UnwrapErr(rand::rngs::SysRng))
}
