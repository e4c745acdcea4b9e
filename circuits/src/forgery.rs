//! Forgeries an adversarial prover would try, for soundness tests and
//! audits.
//!
//! A forgery edits a circuit's *hints* — the values a prover chooses: a
//! quotient, a sign bit, range limbs, a table output — and lets every cell
//! derived from them follow ([`crate::assign`]), so that the forged step's
//! main gate and everything after it hold. What is left to refuse it is
//! the bound invariant ([`crate::bounds`]). Record a circuit's honest
//! witness with [`ModelCircuit::recording`], build a [`Forgery`] from the
//! log, and run the circuit [`ModelCircuit::forged`] with it; the forged
//! public values come from [`ModelCircuit::public_cells`].

use crate::assign::{Edit, LoggedCell};
use crate::chips::rescale::Divisor;
use crate::circuit::ModelCircuit;
use crate::field::{fe, to_i64};
use crate::step::{Step, StepKind};
use ff::Field;

/// A forged witness: edits to a circuit's cells, by assignment index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forgery {
    /// The edits.
    pub edits: Vec<(usize, Edit)>,
    /// What was forged, for messages.
    pub what: String,
}

/// The divisor of a step's division row `row`, if it divides.
pub fn divisor(step: &Step, row: usize) -> Option<i64> {
    step.divisor(row).map(Divisor::value)
}

/// Whether step `step` divides by a value computed at run time (its
/// divisor a cell, [`crate::chips::divide`]).
fn divides_at_run_time(circuit: &ModelCircuit, step: usize) -> bool {
    #[cfg(feature = "transformers")]
    if let crate::StepKind::Divide { .. } = circuit.steps()[step].kind {
        return true;
    }
    let _ = (circuit, step);
    false
}

fn cell<'a>(
    log: &'a [LoggedCell],
    step: usize,
    name: &str,
    offset: usize,
) -> Option<&'a LoggedCell> {
    log.iter()
        .find(|c| c.step == Some(step) && c.name == name && c.offset == offset)
}

/// The wave-1 forgery: the quotients of division step `step` at the given
/// row offsets become `y + d·div⁻¹` — non-integers whose remainders `r - d`
/// the division gate and its range check accept. `None` if the step does
/// not divide or a row is missing from the log.
pub fn shift_quotients(
    circuit: &ModelCircuit,
    log: &[LoggedCell],
    step: usize,
    shifts: &[(usize, i64)],
) -> Option<Forgery> {
    let the_step = circuit.steps().get(step)?;
    let edits = shifts
        .iter()
        .map(|&(offset, d)| {
            let inverse = fe(divisor(the_step, offset)?).invert().into_option()?;
            Some((
                cell(log, step, "y", offset)?.index,
                Edit::Add(fe(d) * inverse),
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    let div = divisor(the_step, shifts.first()?.0)?;
    Some(Forgery {
        edits,
        what: format!("step {step}: quotients shifted by d/{div} at {shifts:?}"),
    })
}

/// Wave 1's forgery, found at random: two quotients of division step
/// `step` shifted by `d_i/div` and `d_j/div`, with remainders that stay in
/// range, chosen so that every dot product of the next layer cancels the
/// non-integer parts (`w_i·d_i + w_j·d_j ≡ 0 mod div`): its accumulators stay
/// integers and everything after it is an honest computation on a wrong
/// value. `None` if the step's output does not feed a dot product directly
/// (through reshapes at most), its divisor is above 64, or no pair of the
/// tries cancels.
pub fn cancelling(
    circuit: &ModelCircuit,
    log: &[LoggedCell],
    step: usize,
    mut rng: impl FnMut() -> u64,
) -> Option<Forgery> {
    let steps = circuit.steps();
    let div = divisor(steps.get(step)?, 0).filter(|&d| d <= 64)?;
    if steps[step].nodes.len() != 1 {
        return None; // a fused ReLU: its output is not linear in y
    }
    // Follow the output through reshapes to the dot product that reads it.
    let mut tensor = steps[step].output();
    let mut products = None;
    for next in &steps[step + 1..] {
        if next.inputs[0] != tensor {
            continue;
        }
        match &next.kind {
            StepKind::Reshape => tensor = next.output(),
            StepKind::Dot { products: p } => {
                products = Some(p);
                break;
            }
            _ => return None,
        }
    }
    let products = products?;
    let weight = |product: &[(i64, usize)], i: usize| -> i64 {
        product
            .iter()
            .filter(|(_, x)| *x == i)
            .map(|(w, _)| w)
            .sum()
    };
    let remainder = |i: usize| to_i64(&cell(log, step, "r", i)?.value);
    let cells = log
        .iter()
        .filter(|c| c.step == Some(step) && c.name == "y")
        .count();
    if cells < 2 {
        return None;
    }
    for _ in 0..64 {
        let i = (rng() % cells as u64) as usize;
        let j = (rng() % cells as u64) as usize;
        // Both rows divide by `div` (a padded average pool's edge windows
        // have divisors of their own).
        let same = |row| divisor(&steps[step], row) == Some(div);
        if i == j || !same(i) || !same(j) {
            continue;
        }
        let (ri, rj) = (remainder(i)?, remainder(j)?);
        for di in ri - div + 1..=ri {
            for dj in rj - div + 1..=rj {
                if (di, dj) == (0, 0) {
                    continue;
                }
                let cancels = products.iter().all(|(terms, _)| {
                    (weight(terms, i) * di + weight(terms, j) * dj).rem_euclid(div) == 0
                });
                if cancels {
                    let mut forgery = shift_quotients(circuit, log, step, &[(i, di), (j, dj)])?;
                    forgery.what = format!("{} (cancelling in the next layer)", forgery.what);
                    return Some(forgery);
                }
            }
        }
    }
    None
}

/// A random forgery of one hint of `log` (a recorded honest witness),
/// chosen with `rng`: a quotient shifted by a non-integer that keeps
/// its remainder in range, or by one; a sign bit flipped; range limbs
/// re-encoded as `(l0 + 256, l1 - 1)` or `(l0 - 256, l1 + 1)`; a table
/// output replaced. `None` if the log has no hint.
pub fn random(
    circuit: &ModelCircuit,
    log: &[LoggedCell],
    mut rng: impl FnMut() -> u64,
) -> Option<Forgery> {
    let hints: Vec<&LoggedCell> = log
        .iter()
        .filter(|c| c.step.is_some() && matches!(c.name, "y" | "s" | "l0" | "f(x)"))
        .collect();
    if hints.is_empty() {
        return None;
    }
    let hint = hints[(rng() % hints.len() as u64) as usize];
    let step = hint.step.expect("hints belong to steps");
    let what = |edit: String| {
        format!(
            "step {step}, {} offset {}: {edit}",
            hint.region, hint.offset
        )
    };
    let forgery = |edits: Vec<(usize, Edit)>, edit: String| Forgery {
        edits,
        what: what(edit),
    };
    let value = to_i64(&hint.value);
    match hint.name {
        "y" => {
            if rng().is_multiple_of(2) {
                if let Some(forgery) = cancelling(circuit, log, step, &mut rng) {
                    return Some(forgery);
                }
            }
            let (div, r) = match divides_at_run_time(circuit, step) {
                // A division by a cell: 2s, s the divisor copied just
                // before the quotient; the remainder assigned just after.
                true => {
                    let near = |name: &str, before: bool| {
                        let mut same = log
                            .iter()
                            .filter(|c| c.step == Some(step) && c.name == name);
                        match before {
                            true => same.rev().find(|c| c.index < hint.index),
                            false => same.find(|c| c.index > hint.index),
                        }
                    };
                    let s = to_i64(&near("divisor", true)?.value)?;
                    (2 * s, to_i64(&near("r", false)?.value)?)
                }
                false => (
                    divisor(&circuit.steps()[step], hint.offset)?,
                    to_i64(&cell(log, step, "r", hint.offset)?.value)?,
                ),
            };
            // d with 0 ≤ r - d < div, d ≠ 0: a non-integer quotient whose
            // remainder fits; or an integer one off.
            let choices: Vec<i64> = (r - div + 1..=r).filter(|&d| d != 0).collect();
            if choices.is_empty() || rng().is_multiple_of(4) {
                let delta = if rng().is_multiple_of(2) { 1 } else { -1 };
                return Some(forgery(
                    vec![(hint.index, Edit::Add(fe(delta)))],
                    format!("quotient {delta:+}"),
                ));
            }
            let d = choices[(rng() % choices.len() as u64) as usize];
            let shift = fe(d) * fe(div).invert().into_option()?;
            Some(forgery(
                vec![(hint.index, Edit::Add(shift))],
                format!("quotient + {d}/{div}"),
            ))
        }
        "s" => {
            let s = value?;
            Some(forgery(
                vec![(hint.index, Edit::Set(fe(1 - s)))],
                format!("sign {s} → {}", 1 - s),
            ))
        }
        "l0" => {
            // l1 is assigned right after l0, in the same unit.
            let l1 = log
                .iter()
                .find(|c| c.index == hint.index + 1 && c.name == "l1")?;
            let (l0, l1v) = (value?, to_i64(&l1.value)?);
            let (a, b) = if l1v > 0 {
                (l0 + 256, l1v - 1)
            } else {
                (l0 - 256, l1v + 1)
            };
            Some(forgery(
                vec![(hint.index, Edit::Set(fe(a))), (l1.index, Edit::Set(fe(b)))],
                format!("limbs ({l0}, {l1v}) → ({a}, {b})"),
            ))
        }
        "f(x)" => {
            let delta = 1 + (rng() % 8) as i64;
            let delta = if rng().is_multiple_of(2) {
                delta
            } else {
                -delta
            };
            Some(forgery(
                vec![(hint.index, Edit::Add(fe(delta)))],
                format!("table output {delta:+}"),
            ))
        }
        _ => None,
    }
}
