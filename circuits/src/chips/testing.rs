//! A MockProver harness for chip tests: the full [`ModelConfig`], tables
//! loaded, and one region the test fills.

use crate::assign::Assigner;
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
        ModelConfig::configure(meta)
    }

    fn synthesize(
        &self,
        config: ModelConfig,
        mut layouter: impl Layouter<Fp>,
    ) -> Result<(), Error> {
        config.range_table.load(&mut layouter)?;
        let tables: Vec<&TableActivation> = self.tables.iter().collect();
        config.table.load(&mut layouter, &tables)?;
        layouter.assign_region(
            || "chip",
            |mut region| {
                self.assigner.reset();
                (self.fill)(&config, &mut region, &self.assigner)
            },
        )
    }
}

/// Runs MockProver (k = 9) on one region filled by `fill`.
pub fn run(
    fill: impl Fn(&ModelConfig, &mut Region<'_, Fp>, &Assigner) -> Result<(), Error>,
) -> (ModelConfig, Result<(), Vec<VerifyFailure>>) {
    run_with_tables(vec![], fill)
}

/// [`run`] with activation tables loaded and, if `tamper` is given, the
/// advice cell with that index changed by that much.
pub fn run_with_tables(
    tables: Vec<TableActivation>,
    fill: impl Fn(&ModelConfig, &mut Region<'_, Fp>, &Assigner) -> Result<(), Error>,
) -> (ModelConfig, Result<(), Vec<VerifyFailure>>) {
    run_tampered(tables, None, fill)
}

/// [`run_with_tables`] with the advice cell `tamper.0` changed by `tamper.1`.
pub fn run_tampered(
    tables: Vec<TableActivation>,
    tamper: Option<(usize, i64)>,
    fill: impl Fn(&ModelConfig, &mut Region<'_, Fp>, &Assigner) -> Result<(), Error>,
) -> (ModelConfig, Result<(), Vec<VerifyFailure>>) {
    let assigner = match tamper {
        Some((index, delta)) => Assigner::tampering(index, crate::field::fe(delta)),
        None => Assigner::default(),
    };
    let circuit = ChipCircuit {
        fill: &fill,
        tables,
        assigner,
    };
    let mut meta = ConstraintSystem::default();
    let config = ModelConfig::configure(&mut meta);
    let prover = MockProver::run(9, &circuit, vec![vec![]]).expect("the chip region fits");
    (config, prover.verify())
}

/// What failed, by name: `gate <gate>: <constraint>`, `lookup <name>`, or
/// `copy`, sorted and without repeats.
pub fn failures((config, result): (ModelConfig, Result<(), Vec<VerifyFailure>>)) -> Vec<String> {
    crate::diagnose::failure_names(&config, result.err().unwrap_or_default())
}
