//! [`TableConfig`]: functions over a bounded integer domain (sigmoid, tanh)
//! as one tuple lookup `(tag, x, f(x))` into a table the model fills.
//!
//! Each table node of a model gets a tag `1, 2, …`; row 0 of the table is
//! `(0, 0, 0)`, the value every disabled row looks up. The lookup also
//! proves that `x` lies in the function's domain.

use crate::assign::{int, Assigner, Cell_};
use crate::field::fe;
use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector, TableColumn};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;
use zkinfer_quant::TableActivation;

/// The activation lookup.
#[derive(Clone, Copy, Debug)]
pub struct TableConfig {
    /// The function's input.
    pub x: Column<Advice>,
    y: Column<Advice>,
    tag: Column<Fixed>,
    q: Selector,
    table: [TableColumn; 3],
}

impl TableConfig {
    /// Creates the tuple lookup, and the table's columns.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        lookup_names: &mut Vec<String>,
        xy: [Column<Advice>; 2],
        tag: Column<Fixed>,
    ) -> Self {
        let table = [(); 3].map(|_| meta.lookup_table_column());
        Self::lookup(meta, lookup_names, xy, tag, table)
    }

    /// The same lookup for another element lane, into this one's table
    /// (which only this one loads).
    pub fn another_lane(
        &self,
        meta: &mut ConstraintSystem<Fp>,
        lookup_names: &mut Vec<String>,
        xy: [Column<Advice>; 2],
        tag: Column<Fixed>,
    ) -> Self {
        Self::lookup(meta, lookup_names, xy, tag, self.table)
    }

    fn lookup(
        meta: &mut ConstraintSystem<Fp>,
        lookup_names: &mut Vec<String>,
        [x, y]: [Column<Advice>; 2],
        tag: Column<Fixed>,
        table: [TableColumn; 3],
    ) -> Self {
        let q = meta.complex_selector();
        // | x | y | tag | q_table |     (q·tag, q·x, q·y) ∈ (T_tag, T_x, T_y)
        lookup_names.push("activation table".into());
        meta.lookup(|m| {
            let q = m.query_selector(q);
            let x = m.query_advice(x, Rotation::cur());
            let y = m.query_advice(y, Rotation::cur());
            let tag = m.query_fixed(tag);
            vec![
                (q.clone() * tag, table[0]),
                (q.clone() * x, table[1]),
                (q * y, table[2]),
            ]
        });
        TableConfig {
            x,
            y,
            tag,
            q,
            table,
        }
    }

    /// Fills the table with each function, tagged 1, 2, … in order.
    pub fn load(
        &self,
        layouter: &mut impl Layouter<Fp>,
        tables: &[&TableActivation],
    ) -> Result<(), Error> {
        layouter.assign_table(
            || "activation table",
            |mut t| {
                let mut row = 0;
                let mut put = |row: usize, tag: i64, x: i64, y: i64| -> Result<(), Error> {
                    for (col, v) in self.table.iter().zip([tag, x, y]) {
                        t.assign_cell(|| "entry", *col, row, || Value::known(fe(v)))?;
                    }
                    Ok(())
                };
                put(row, 0, 0, 0)?;
                row += 1;
                for (i, table) in tables.iter().enumerate() {
                    for (j, &y) in table.values.iter().enumerate() {
                        put(row, i as i64 + 1, table.domain_min() + j as i64, y)?;
                        row += 1;
                    }
                }
                Ok(())
            },
        )
    }

    /// `f(x)` for the cell `x` placed at `(x, offset)`, from the table
    /// tagged `tag`.
    pub fn apply(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        table: &TableActivation,
        tag: usize,
        x: &Cell_,
    ) -> Result<Cell_, Error> {
        self.q.enable(region, offset)?;
        region.assign_fixed(|| "tag", self.tag, offset, || Value::known(fe(tag as i64)))?;
        // The hint is f(x); outside the domain there is none, and 0 makes
        // the lookup fail.
        let y = int(x).map(|x| table.lookup(x).unwrap_or(0));
        assigner.advice(region, "f(x)", self.y, offset, y.map(fe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::testing::{failures, run_edited};
    use zkinfer_quant::{Scale, TableFunction};

    /// x², labelled with any function: the chip reads only the values.
    fn square_table() -> TableActivation {
        TableActivation {
            function: TableFunction::Tanh,
            input_bits: 4,
            output_scale: Scale(0),
            values: (-8..8).map(|x: i64| x * x).collect(),
        }
    }

    fn apply(x: i64, tag: usize, edits: &[(&str, Edit)]) -> Vec<String> {
        failures(run_edited(
            vec![square_table(), square_table()],
            edits,
            move |c, region, a| {
                let x = a.advice(region, "x", c.lane().table.x, 0, Value::known(fe(x)))?;
                c.lane()
                    .table
                    .apply(region, a, 0, &square_table(), tag, &x)
                    .map(|_| ())
            },
        ))
    }

    #[test]
    fn accepts_the_domain() {
        for x in -8..8 {
            assert!(apply(x, 1, &[]).is_empty(), "f({x})");
            assert!(apply(x, 2, &[]).is_empty(), "f({x}) in the second table");
        }
    }

    #[test]
    fn rejects_wrong_values_and_inputs_outside_the_domain() {
        assert_eq!(
            apply(3, 1, &[("f(x)", Edit::Add(fe(1)))]),
            vec!["lookup activation table"]
        );
        assert_eq!(apply(8, 1, &[]), vec!["lookup activation table"]);
        assert_eq!(apply(-9, 1, &[]), vec!["lookup activation table"]);
        assert_eq!(
            apply(3, 3, &[]),
            vec!["lookup activation table"],
            "no table 3"
        );
    }

    /// A consistent-looking forgery: f(x) replaced by another entry of the
    /// same table (f(4) for x = 3), or a value that is no entry.
    #[test]
    fn rejects_another_entry() {
        let forged = [("f(x)", Edit::Set(fe(16)))];
        assert_eq!(apply(3, 1, &forged), vec!["lookup activation table"]);
        assert_eq!(
            apply(-3, 2, &[("f(x)", Edit::Set(fe(10)))]),
            vec!["lookup activation table"]
        );
    }
}
