//! [`CommitConfig`]: a tensor's commitment inside the circuit, exactly as
//! [`crate::commitment`] computes it natively — the tensor's cells packed
//! into field elements, then hashed by a chain of Poseidon calls
//! (halo2_gadgets' `Pow5Chip`, `P128Pow5T3`).
//!
//! Packing is one value a row, by Horner's rule from an element's last
//! value to its first:
//!
//! ```text
//! | v    | m      | shift  | offset     | q_pack |
//! |      | m_prev |        |            |        |
//! | v_i  | m      | 2^bits | 2^(bits-1) |   1    |    m = shift·m_prev + v + offset
//! ```
//!
//! `shift` is 0 on an element's first row (its last value), `2^bits` on the
//! rows that continue it. The packing is injective only because every
//! value is in `[-2^(bits-1), 2^(bits-1))`. Either the caller proves that
//! (the tensors committed are range-checked where they are written) and
//! [`CommitInstructions::commit`] takes the width those checks prove, or,
//! for 8-bit values assigned here ([`CommitInstructions::commit_values`],
//! in a configuration with the lookup: circuits that commit weights), the
//! packing row proves it itself with one lookup:
//!
//! ```text
//! | v   | offset | q_range |
//! | v_i | 128    |    1    |    v + offset ∈ [0, 256)   (the range table)
//! ```

use crate::assign::{Assigner, Cell_};
use crate::chips::range::{RangeTable, LIMB_BITS};
use crate::commitment::{initial, values_per_element};
use crate::field::fe;
use halo2_gadgets::poseidon::primitives::{ConstantLength, P128Pow5T3};
use halo2_gadgets::poseidon::{Hash, Pow5Chip, Pow5Config};
use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// The packing lanes and the Poseidon chips.
#[derive(Clone, Debug)]
pub struct CommitConfig {
    /// Packing lanes: packed element `e` goes to lane `e mod lanes`.
    lanes: Vec<PackLane>,
    /// Poseidon chips: a chain's call `i` goes to chip `i mod chips`.
    poseidon: Vec<Pow5Config<Fp, 3, 2>>,
}

/// One packing lane: the Horner gate on columns of its own.
#[derive(Clone, Debug)]
struct PackLane {
    v: Column<Advice>,
    m: Column<Advice>,
    shift: Column<Fixed>,
    offset: Column<Fixed>,
    q: Selector,
    /// The range lookup of values assigned in the packing rows (only in
    /// circuits that commit weights).
    q_range: Option<Selector>,
}

/// How many packing lanes and Poseidon chips a commitment layout has.
/// Lanes and chips use columns of their own, so the floor planner lays
/// them side by side: rows shrink in proportion, columns grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitShape {
    /// Packing lanes.
    pub lanes: usize,
    /// Poseidon chips.
    pub chips: usize,
}

impl CommitShape {
    /// One lane and one chip: committed inputs.
    pub const SINGLE: CommitShape = CommitShape { lanes: 1, chips: 1 };
    /// Two of each: committed weights, whose thousands of values would
    /// otherwise set `k` (the digits models: k = 11 instead of 12).
    pub const WEIGHTS: CommitShape = CommitShape { lanes: 3, chips: 4 };

    /// Advice columns, fixed columns and selectors [`CommitConfig::allocate`]
    /// adds: per lane 2, 2 and the packing gate's selector (and the range
    /// lookup's, with `lookup`); per chip 4, 6 and the full-round,
    /// partial-round and pad-and-add selectors.
    pub fn columns(self, lookup: bool) -> (usize, usize, usize) {
        let (lanes, chips) = (self.lanes, self.chips);
        let selectors = lanes * (1 + usize::from(lookup)) + 3 * chips;
        (2 * lanes + 4 * chips, 2 * lanes + 6 * chips, selectors)
    }
}

/// Commitment instructions.
pub trait CommitInstructions {
    /// The commitment of `cells`, values proven (elsewhere) to fit `bits`
    /// signed bits; blinded by `blinding` (an advice cell the caller
    /// assigned) when given. Every method hashes its calls on the chips
    /// from `next_chip` on, round robin, and advances it.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        zero: &Cell_,
        cells: &[Cell_],
        bits: u32,
        blinding: Option<&Cell_>,
        next_chip: &mut usize,
    ) -> Result<Cell_, Error>;

    /// Assigns 8-bit `values` in the packing rows, each proven in range
    /// there by a lookup; returns their cells and their unblinded
    /// commitment.
    fn commit_values(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        zero: &Cell_,
        values: &[Value<Fp>],
        next_chip: &mut usize,
    ) -> Result<(Vec<Cell_>, Cell_), Error>;

    /// The chain `h_{i+1} = Poseidon(h_i, e_i)` from the constant `start`
    /// over `elements`.
    fn chain(
        &self,
        layouter: &mut impl Layouter<Fp>,
        start: Fp,
        elements: &[Cell_],
        next_chip: &mut usize,
    ) -> Result<Cell_, Error>;
}

/// What a packing region packs.
enum Packed<'a> {
    /// Cells range-checked elsewhere, copied in.
    Cells(&'a [Cell_]),
    /// 8-bit values assigned in the packing rows and looked up there.
    Values(&'a [Value<Fp>]),
}

impl Packed<'_> {
    fn len(&self) -> usize {
        match self {
            Packed::Cells(c) => c.len(),
            Packed::Values(v) => v.len(),
        }
    }
}

impl PackLane {
    /// The gate `pack` on `v` and `m` (and the range lookup, with `lookup`).
    fn configure(
        meta: &mut ConstraintSystem<Fp>,
        [v, m]: [Column<Advice>; 2],
        [shift, offset]: [Column<Fixed>; 2],
        lookup: Option<(RangeTable, &mut Vec<String>)>,
    ) -> Self {
        for column in [v, m] {
            meta.enable_equality(column);
        }
        let q_range = lookup.map(|(range_table, lookup_names)| {
            let q_range = meta.complex_selector();
            lookup_names.push("committed weight range".into());
            meta.lookup(|m| {
                let q = m.query_selector(q_range);
                let v = m.query_advice(v, Rotation::cur());
                let offset = m.query_fixed(offset);
                vec![(q * (v + offset), range_table.column)]
            });
            q_range
        });
        let q = meta.selector();
        meta.create_gate("pack", |meta| {
            let q = meta.query_selector(q);
            let [v, m_cur] = [v, m].map(|c| meta.query_advice(c, Rotation::cur()));
            let m_prev = meta.query_advice(m, Rotation::prev());
            let [shift, offset] = [shift, offset].map(|c| meta.query_fixed(c));
            vec![("horner", q * (m_cur - (shift * m_prev + v + offset)))]
        });
        PackLane {
            v,
            m,
            shift,
            offset,
            q,
            q_range,
        }
    }
}

impl CommitConfig {
    /// The lanes and chips of `shape` on columns of their own
    /// ([`CommitShape::columns`] counts them), with `lookup` the range
    /// lookup of values packed directly (named in its list of lookup
    /// names). The circuit must have a column for constants (the chain's
    /// first element and the sponge's capacity are constants).
    pub fn allocate(
        meta: &mut ConstraintSystem<Fp>,
        lookup: Option<(RangeTable, &mut Vec<String>)>,
        shape: CommitShape,
    ) -> Self {
        let (table, mut names) = match lookup {
            Some((table, names)) => (Some(table), Some(names)),
            None => (None, None),
        };
        let mut lane = |meta: &mut ConstraintSystem<Fp>,
                        advice: [Column<Advice>; 2],
                        fixed: [Column<Fixed>; 2]| {
            let lookup = table.zip(names.as_deref_mut());
            PackLane::configure(meta, advice, fixed, lookup)
        };
        let chip = |meta: &mut ConstraintSystem<Fp>,
                    state: [Column<Advice>; 3],
                    partial_sbox: Column<Advice>,
                    rc_a: [Column<Fixed>; 3],
                    rc_b: [Column<Fixed>; 3]| {
            Pow5Chip::configure::<P128Pow5T3>(meta, state, partial_sbox, rc_a, rc_b)
        };
        // The first lane and chip in the column and gate order committed
        // inputs have always had; the others after.
        let advice = [(); 6].map(|_| meta.advice_column());
        let fixed = [(); 8].map(|_| meta.fixed_column());
        let mut lanes = vec![lane(meta, [advice[0], advice[1]], [fixed[0], fixed[1]])];
        let mut poseidon = vec![chip(
            meta,
            [advice[2], advice[3], advice[4]],
            advice[5],
            [fixed[2], fixed[3], fixed[4]],
            [fixed[5], fixed[6], fixed[7]],
        )];
        for _ in 1..shape.lanes {
            let advice = [(); 2].map(|_| meta.advice_column());
            let fixed = [(); 2].map(|_| meta.fixed_column());
            lanes.push(lane(meta, advice, fixed));
        }
        for _ in 1..shape.chips {
            let advice = [(); 4].map(|_| meta.advice_column());
            let fixed = [(); 6].map(|_| meta.fixed_column());
            poseidon.push(chip(
                meta,
                [advice[0], advice[1], advice[2]],
                advice[3],
                [fixed[0], fixed[1], fixed[2]],
                [fixed[3], fixed[4], fixed[5]],
            ));
        }
        CommitConfig { lanes, poseidon }
    }

    /// A column a blinding element can be assigned in (the packed values'
    /// column: equality-enabled).
    pub fn blinding_column(&self) -> Column<Advice> {
        self.lanes[0].v
    }

    /// Packs values at `bits` bits; returns their cells and the packed
    /// elements.
    fn pack(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        zero: &Cell_,
        values: Packed<'_>,
        bits: u32,
    ) -> Result<(Vec<Cell_>, Vec<Cell_>), Error> {
        if matches!(values, Packed::Values(_)) && bits != LIMB_BITS {
            return Err(Error::Synthesis);
        }
        let (shift, half) = (fe(1 << bits), fe(1 << (bits - 1)));
        let per_element = values_per_element(bits);
        layouter.assign_region(
            || "pack",
            |mut region| {
                assigner.region("pack");
                // Row 0 of each lane gives its first element's first row
                // an `m_prev`.
                let mut m = self
                    .lanes
                    .iter()
                    .map(|lane| assigner.copy(&mut region, "m start", zero, lane.m, 0))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut offsets = vec![1; self.lanes.len()];
                let (mut cells, mut packed) = (vec![None; values.len()], vec![]);
                for (element, start) in (0..values.len()).step_by(per_element).enumerate() {
                    let l = element % self.lanes.len();
                    let (lane, m, offset) = (&self.lanes[l], &mut m[l], &mut offsets[l]);
                    let end = (start + per_element).min(values.len());
                    for (n, i) in (start..end).rev().enumerate() {
                        lane.q.enable(&mut region, *offset)?;
                        let s = if n == 0 { Fp::zero() } else { shift };
                        region.assign_fixed(|| "shift", lane.shift, *offset, || Value::known(s))?;
                        region.assign_fixed(
                            || "offset",
                            lane.offset,
                            *offset,
                            || Value::known(half),
                        )?;
                        let v = match &values {
                            Packed::Cells(c) => assigner.copy(
                                &mut region,
                                "packed value",
                                &c[i],
                                lane.v,
                                *offset,
                            )?,
                            Packed::Values(v) => {
                                let q_range = lane.q_range.ok_or(Error::Synthesis)?;
                                q_range.enable(&mut region, *offset)?;
                                assigner.advice(&mut region, "weight", lane.v, *offset, v[i])?
                            }
                        };
                        let value = m.value().zip(v.value()).map(|(m, v)| *m * s + v + half);
                        *m = assigner.advice(&mut region, "m", lane.m, *offset, value)?;
                        cells[i] = Some(v);
                        *offset += 1;
                    }
                    packed.push(m.clone());
                }
                let cells = cells.into_iter().collect::<Option<Vec<_>>>();
                Ok((cells.ok_or(Error::Synthesis)?, packed))
            },
        )
    }

    /// `Poseidon(h, e)` for each `e` in turn, on the chips from
    /// `next_chip` on.
    fn hash_chain<'a>(
        &self,
        layouter: &mut impl Layouter<Fp>,
        mut h: Cell_,
        elements: impl IntoIterator<Item = &'a Cell_>,
        next_chip: &mut usize,
    ) -> Result<Cell_, Error> {
        for (i, e) in elements.into_iter().enumerate() {
            let config = self.poseidon[*next_chip % self.poseidon.len()].clone();
            *next_chip += 1;
            let chip = Pow5Chip::construct(config);
            let hasher = Hash::<_, _, P128Pow5T3, ConstantLength<2>, 3, 2>::init(
                chip,
                layouter.namespace(|| format!("link {i}")),
            )?;
            h = hasher.hash(layouter.namespace(|| format!("hash {i}")), [h, e.clone()])?;
        }
        Ok(h)
    }

    /// The chain's first element, a constant.
    fn start(&self, layouter: &mut impl Layouter<Fp>, h0: Fp) -> Result<Cell_, Error> {
        layouter.assign_region(
            || "commitment start",
            |mut region| region.assign_advice_from_constant(|| "h0", self.lanes[0].m, 0, h0),
        )
    }
}

impl CommitInstructions for CommitConfig {
    fn commit(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        zero: &Cell_,
        cells: &[Cell_],
        bits: u32,
        blinding: Option<&Cell_>,
        next_chip: &mut usize,
    ) -> Result<Cell_, Error> {
        let (_, packed) = self.pack(layouter, assigner, zero, Packed::Cells(cells), bits)?;
        let h = self.start(layouter, initial(bits, cells.len()))?;
        self.hash_chain(layouter, h, packed.iter().chain(blinding), next_chip)
    }

    fn commit_values(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        zero: &Cell_,
        values: &[Value<Fp>],
        next_chip: &mut usize,
    ) -> Result<(Vec<Cell_>, Cell_), Error> {
        let bits = LIMB_BITS;
        let (cells, packed) = self.pack(layouter, assigner, zero, Packed::Values(values), bits)?;
        let h = self.start(layouter, initial(bits, values.len()))?;
        Ok((cells, self.hash_chain(layouter, h, &packed, next_chip)?))
    }

    fn chain(
        &self,
        layouter: &mut impl Layouter<Fp>,
        start: Fp,
        elements: &[Cell_],
        next_chip: &mut usize,
    ) -> Result<Cell_, Error> {
        let h = self.start(layouter, start)?;
        self.hash_chain(layouter, h, elements, next_chip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::commitment::commit;
    use halo2_proofs::circuit::SimpleFloorPlanner;
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::plonk::{Circuit, Instance};

    /// A tensor's cells, committed, the commitment bound to the instance.
    #[derive(Clone)]
    struct CommitCircuit {
        values: Vec<i64>,
        bits: u32,
        blinding: Option<Fp>,
        /// Whether the values are assigned (and range-checked) in the
        /// packing rows: 8-bit weights.
        direct: bool,
        /// The packing lanes and Poseidon chips.
        shape: CommitShape,
        assigner: Assigner,
    }

    #[derive(Clone, Debug)]
    struct Config {
        commit: CommitConfig,
        range_table: RangeTable,
        cells: Column<Advice>,
        instance: Column<Instance>,
    }

    impl Circuit<Fp> for CommitCircuit {
        type Config = Config;
        type FloorPlanner = SimpleFloorPlanner;

        fn without_witnesses(&self) -> Self {
            self.clone()
        }

        fn configure(meta: &mut ConstraintSystem<Fp>) -> Config {
            Self::configure_shape(meta, CommitShape::SINGLE)
        }

        fn configure_for(&self, meta: &mut ConstraintSystem<Fp>) -> Config {
            Self::configure_shape(meta, self.shape)
        }

        fn synthesize(&self, c: Config, mut layouter: impl Layouter<Fp>) -> Result<(), Error> {
            self.synthesize_commitment(c, &mut layouter)
        }
    }

    impl CommitCircuit {
        fn configure_shape(meta: &mut ConstraintSystem<Fp>, shape: CommitShape) -> Config {
            let cells = meta.advice_column();
            let constants = meta.fixed_column();
            meta.enable_constant(constants);
            let instance = meta.instance_column();
            meta.enable_equality(instance);
            meta.enable_equality(cells);
            let range_table = RangeTable::configure(meta);
            Config {
                commit: CommitConfig::allocate(meta, Some((range_table, &mut vec![])), shape),
                range_table,
                cells,
                instance,
            }
        }

        fn synthesize_commitment(
            &self,
            c: Config,
            layouter: &mut impl Layouter<Fp>,
        ) -> Result<(), Error> {
            self.assigner.reset();
            c.range_table.load(layouter)?;
            if self.direct {
                // The values assigned in the packing rows themselves.
                let zero = layouter.assign_region(
                    || "zero",
                    |mut region| {
                        region.assign_advice_from_constant(|| "zero", c.cells, 0, Fp::zero())
                    },
                )?;
                let values: Vec<_> = self.values.iter().map(|&v| Value::known(fe(v))).collect();
                let (_, h) =
                    c.commit
                        .commit_values(layouter, &self.assigner, &zero, &values, &mut 0)?;
                return layouter.constrain_instance(h.cell(), c.instance, 0);
            }
            let (zero, cells, blinding) = layouter.assign_region(
                || "tensor",
                |mut region| {
                    let zero =
                        region.assign_advice_from_constant(|| "zero", c.cells, 0, Fp::zero())?;
                    let cells = self
                        .values
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| {
                            self.assigner.advice(
                                &mut region,
                                "value",
                                c.cells,
                                i + 1,
                                Value::known(fe(v)),
                            )
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let row = self.values.len() + 1;
                    let blinding = self
                        .blinding
                        .map(|r| {
                            self.assigner
                                .advice(&mut region, "r", c.cells, row, Value::known(r))
                        })
                        .transpose()?;
                    Ok((zero, cells, blinding))
                },
            )?;
            let h = c.commit.commit(
                layouter,
                &self.assigner,
                &zero,
                &cells,
                self.bits,
                blinding.as_ref(),
                &mut 0,
            )?;
            layouter.constrain_instance(h.cell(), c.instance, 0)
        }
    }

    fn run(circuit: &CommitCircuit, claimed: Fp) -> Result<(), Vec<String>> {
        let k = 12;
        MockProver::run(k, circuit, vec![vec![claimed]])
            .unwrap()
            .verify()
            .map_err(|failures| failures.iter().map(|f| f.to_string()).collect())
    }

    fn circuit(values: Vec<i64>, bits: u32, blinding: Option<Fp>) -> CommitCircuit {
        CommitCircuit {
            values,
            bits,
            blinding,
            direct: false,
            shape: CommitShape::SINGLE,
            assigner: Assigner::default(),
        }
    }

    /// 8-bit values assigned in the packing rows, committed unblinded.
    fn direct(values: Vec<i64>) -> CommitCircuit {
        CommitCircuit {
            direct: true,
            ..circuit(values, 8, None)
        }
    }

    /// Values assigned in the packing rows hash as natively, and each is
    /// range-checked there: a value one past the width fails the lookup
    /// even when the claimed commitment is the one its packing gives.
    #[test]
    fn values_packed_directly_are_range_checked_by_lookup() {
        for n in [1, 31, 32, 70] {
            let values: Vec<i64> = (0..n).map(|i| (i * 53 % 256) - 128).collect();
            let native = commit(&values, 8, None).unwrap();
            let lanes = CommitCircuit {
                shape: CommitShape::WEIGHTS,
                ..direct(values.clone())
            };
            assert_eq!(run(&lanes, native), Ok(()), "{n} values over lanes");
            assert_eq!(run(&direct(values), native), Ok(()), "{n} values");
        }
        // 128 packs like -128 of the next value's bit: 128 + 128 = 256 is
        // the element 2^8, the same as the pair (-128, -127).
        let wide = vec![128, -128];
        let alias = vec![-128, -127];
        let claimed = commit(&alias, 8, None).unwrap();
        assert_eq!(run(&direct(alias), claimed), Ok(()));
        let failures = run(&direct(wide), claimed).unwrap_err();
        assert!(
            failures.iter().all(|f| f.contains("Lookup")),
            "{failures:?}"
        );
        // Every value and running element is constrained.
        let values: Vec<i64> = (0..40).map(|i| (i * 37 % 255) - 127).collect();
        let native = commit(&values, 8, None).unwrap();
        // "m start", then per value its cell and its m.
        for index in 0..1 + 2 * 40 {
            let forged = CommitCircuit {
                assigner: Assigner::tampering(index, Fp::one()),
                ..direct(values.clone())
            };
            assert!(run(&forged, native).is_err(), "cell {index}");
        }
    }

    /// The circuit's hash is the native one, on 100 random tensors of
    /// random lengths (across element boundaries), widths and blindings,
    /// a third of them over committed weights' lanes and chips.
    #[test]
    fn the_circuit_commits_exactly_as_the_native_code() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..100 {
            let bits = [4, 8, 9, 12, 16][case % 5];
            let n = (next() % 70) as usize;
            let half = 1i64 << (bits - 1);
            let values: Vec<i64> = (0..n)
                .map(|_| (next() % (2 * half as u64)) as i64 - half)
                .collect();
            let blinding = (case % 2 == 0).then(|| Fp::from(next()));
            let native = commit(&values, bits, blinding).unwrap();
            let shape = match case % 3 {
                0 => CommitShape::WEIGHTS,
                _ => CommitShape::SINGLE,
            };
            let c = CommitCircuit {
                shape,
                ..circuit(values.clone(), bits, blinding)
            };
            assert_eq!(
                run(&c, native),
                Ok(()),
                "case {case}: {bits} bits, {n} values"
            );
            if case < 5 {
                assert!(
                    run(&c, native + Fp::one()).is_err(),
                    "case {case}: a wrong claim"
                );
            }
        }
    }

    /// Every packing cell a prover assigns matters: a changed value copy,
    /// running element or blinding fails; so does the consistent forgery
    /// of a value and its running element together (the copy catches it).
    #[test]
    fn packing_cells_are_all_constrained() {
        let values: Vec<i64> = (0..40).map(|i| (i * 37 % 255) - 127).collect();
        let r = Fp::from(99);
        let native = commit(&values, 8, Some(r)).unwrap();
        let honest = circuit(values.clone(), 8, Some(r));
        assert_eq!(run(&honest, native), Ok(()));
        // 40 values and r, then "m start", then per value a copy and an m.
        let assigned = 40 + 1 + 1 + 2 * 40;
        for index in 0..assigned {
            let forged = CommitCircuit {
                assigner: Assigner::tampering(index, Fp::one()),
                ..honest.clone()
            };
            assert!(
                run(&forged, native).is_err(),
                "cell {index} changed by one went unnoticed"
            );
        }
        // The first value's copy (cell 42) and its m (43) raised together,
        // every later m following: the gates hold, the copy does not.
        let both = [(42, Edit::Add(Fp::one())), (43, Edit::Add(Fp::one()))];
        let forged = CommitCircuit {
            assigner: Assigner::default().with_edits(both),
            ..honest
        };
        let failures = run(&forged, native).unwrap_err();
        assert!(
            failures
                .iter()
                .any(|f| f.contains("copy") || f.contains("Equality")),
            "{failures:?}"
        );
    }
}
