//! The bundled data set: the UCI handwritten digits (8×8), vendored under
//! `models/data/` with its attribution.
//!
//! Inputs are the 64 pixels divided by 16 (floats in [0, 1]), row-major.
//! The split is deterministic: rows whose 0-based index is divisible by 5
//! are held out for testing (360 rows), the other 1,437 train and calibrate.

use crate::error::{ModelError, Result};
use flate2::read::GzDecoder;
use std::io::Read;

const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");

/// Pixels per digit image.
pub const DIGIT_PIXELS: usize = 64;
/// Number of digit classes.
pub const DIGIT_CLASSES: usize = 10;

/// Which part of the data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Rows whose index is not divisible by 5: training and calibration.
    Train,
    /// Rows whose index is divisible by 5: held-out evaluation.
    Test,
}

impl Split {
    fn contains(self, row: usize) -> bool {
        row.is_multiple_of(5) == (self == Split::Test)
    }
}

/// Labelled samples: flat float inputs and class labels.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// One flat input per sample.
    pub inputs: Vec<Vec<f32>>,
    /// One class per sample.
    pub labels: Vec<usize>,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// The digits of one split, pixels scaled to [0, 1].
pub fn digits(split: Split) -> Result<Dataset> {
    let mut text = String::new();
    GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .map_err(|e| ModelError::Data(format!("bundled digits.csv.gz: {e}")))?;
    let mut data = Dataset::default();
    for (row, line) in text
        .lines()
        .enumerate()
        .filter(|(row, _)| split.contains(*row))
    {
        let fields: Vec<f32> = line
            .split(',')
            .map(|f| f.trim().parse::<f32>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| ModelError::Data(format!("digits.csv row {row}: {e}")))?;
        if fields.len() != DIGIT_PIXELS + 1 {
            return Err(ModelError::Data(format!(
                "digits.csv row {row}: {} fields, expected {}",
                fields.len(),
                DIGIT_PIXELS + 1
            )));
        }
        data.inputs
            .push(fields[..DIGIT_PIXELS].iter().map(|p| p / 16.0).collect());
        data.labels.push(fields[DIGIT_PIXELS] as usize);
    }
    Ok(data)
}

/// Index of the largest score; the first one on ties.
pub fn argmax<T: PartialOrd + Copy>(scores: &[T]) -> usize {
    let mut best = 0;
    for (i, &s) in scores.iter().enumerate() {
        if s > scores[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_deterministic_and_complete() {
        let train = digits(Split::Train).unwrap();
        let test = digits(Split::Test).unwrap();
        assert_eq!(train.len(), 1437);
        assert_eq!(test.len(), 360);
        // Row 0 is a held-out zero; every pixel lies in [0, 1].
        assert_eq!(test.labels[0], 0);
        assert!(train
            .inputs
            .iter()
            .chain(&test.inputs)
            .flatten()
            .all(|p| (0.0..=1.0).contains(p)));
        let mut counts = [0; DIGIT_CLASSES];
        test.labels.iter().for_each(|&l| counts[l] += 1);
        assert!(counts.iter().all(|&c| c > 20), "{counts:?}");
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[1, 3, 3, 2]), 1);
        assert_eq!(argmax(&[-5i64]), 0);
    }
}
