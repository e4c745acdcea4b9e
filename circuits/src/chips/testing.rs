//! A MockProver harness for chip tests: the full [`ModelConfig`], tables
//! loaded, and one region the test fills — honestly, or with cells edited
//! by name (a wrong value, or a forger's consistent choice of hints).

use crate::assign::{Assigner, Edit};
use crate::config::ModelConfig;
use halo2_proofs::circuit::{Layouter, Region, SimpleFloorPlanner};
use halo2_proofs::dev::{MockProver, VerifyFailure};
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use pasta_curves::Fp;
use zkinfer_quant::TableActivation;

type Fill<'a> = dyn Fn(&ModelConfig, &mut Region<'_, Fp>, &Assigner) -> Result<(), Error> + 'a;

struct ChipCircuit<'a> {
    fill: &'a Fill<'a>,
    tables: Vec<TableActivation>,
    assigner: Assigner,
}

impl Circuit<Fp> for ChipCircuit<'_> {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        ChipCircuit {
            fill: self.fill,
            tables: self.tables.clone(),
            assigner: self.assigner.clone(),
        }
    }

    fn configure(meta: &mut ConstraintSystem<Fp>) -> ModelConfig {
        harness_config(meta)
    }

    fn synthesize(
        &self,
        config: ModelConfig,
        mut layouter: impl Layouter<Fp>,
    ) -> Result<(), Error> {
        config.range_table.load(&mut layouter)?;
        let tables: Vec<&TableActivation> = self.tables.iter().collect();
        config.lane().table.load(&mut layouter, &tables)?;
        layouter.assign_region(
            || "chip",
            |mut region| {
                self.assigner.reset();
                (self.fill)(&config, &mut region, &self.assigner)
            },
        )
    }
}

/// The compact profile, with every gate a plan may add that has no column
/// of its own (so that every chip has its gate here).
fn harness_config(meta: &mut ConstraintSystem<Fp>) -> ModelConfig {
    let additions = crate::config::Additions {
        pair_dot: cfg!(feature = "transformers"),
        divide: cfg!(feature = "transformers"),
        ..Default::default()
    };
    ModelConfig::configure_with(meta, crate::Profile::Compact, additions)
}

/// Runs MockProver (k = 9) on one region filled by `fill`.
pub fn run(
    fill: impl Fn(&ModelConfig, &mut Region<'_, Fp>, &Assigner) -> Result<(), Error>,
) -> (ModelConfig, Result<(), Vec<VerifyFailure>>) {
    run_edited(vec![], &[], fill)
}

/// [`run`] with activation tables loaded and `edits` applied to the cells
/// they name: `"y"` is the first cell named `y`, `"l0#1"` the second cell
/// named `l0`. A name that matches no cell fails the test.
pub fn run_edited(
    tables: Vec<TableActivation>,
    edits: &[(&str, Edit)],
    fill: impl Fn(&ModelConfig, &mut Region<'_, Fp>, &Assigner) -> Result<(), Error>,
) -> (ModelConfig, Result<(), Vec<VerifyFailure>>) {
    let mock = |assigner: Assigner| {
        let circuit = ChipCircuit {
            fill: &fill,
            tables: tables.clone(),
            assigner: assigner.clone(),
        };
        let config = harness_config(&mut ConstraintSystem::default());
        let prover = MockProver::run(9, &circuit, vec![vec![]]).expect("the chip region fits");
        (config, prover.verify(), assigner.log())
    };
    if edits.is_empty() {
        let (config, result, _) = mock(Assigner::default());
        return (config, result);
    }
    let (_, _, log) = mock(Assigner::default().recording());
    let edits = edits.iter().map(|(name, edit)| {
        let (name, nth) = match name.split_once('#') {
            Some((name, nth)) => (name, nth.parse().expect("a cell's occurrence")),
            None => (*name, 0),
        };
        let cell = log
            .iter()
            .filter(|c| c.name == name)
            .nth(nth)
            .unwrap_or_else(|| panic!("no cell {name}#{nth} in {log:?}"));
        (cell.index, *edit)
    });
    let (config, result, _) = mock(Assigner::default().with_edits(edits));
    (config, result)
}

/// What failed, by name: `gate <gate>: <constraint>`, `lookup <name>`, or
/// `copy`, sorted and without repeats.
pub fn failures((config, result): (ModelConfig, Result<(), Vec<VerifyFailure>>)) -> Vec<String> {
    crate::diagnose::failure_names(&config, result.err().unwrap_or_default())
}

/// `failures` without the top-limb lookups. A wrapped negative or a huge
/// field element always fails its unit's `limbs` gate; whether its low
/// bytes also fail the top-limb lookup is incidental, so forgery tests
/// assert the gate.
pub fn without_top_limbs(failures: Vec<String>) -> Vec<String> {
    failures
        .into_iter()
        .filter(|f| !f.ends_with("top limb"))
        .collect()
}
