//! The model digest: SHA-256 over a canonical binary encoding of the
//! model's semantics.
//!
//! The encoding is independent of JSON formatting, field order and
//! whitespace. It starts with the domain tag `zkinfer/model@1\0`, then the
//! input spec and every node; integers are little-endian (`u64` for counts,
//! sizes and ids, `i64` for values, `i32` for scales, `u32` for bit widths),
//! each list is preceded by its length, and each op by a one-byte tag. The
//! model's name and calibration notes are labels, not semantics: they are
//! left out, so renaming a model keeps its digest.

use crate::layer::{Op, Pool2d, TableActivation};
use crate::model::{QuantizedModel, TensorSpec};
use crate::tensor::{Scale, Shape, Tensor};
use sha2::{Digest, Sha256};

/// A SHA-256 model digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelDigest(pub [u8; 32]);

impl ModelDigest {
    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Display for ModelDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl QuantizedModel {
    /// The digest that names this model's semantics.
    pub fn digest(&self) -> ModelDigest {
        let mut e = Encoder(Sha256::new());
        e.model(self);
        ModelDigest(e.0.finalize().into())
    }
}

/// Where an encoding goes: a hash, or bytes ([`crate::bytes`]).
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// The canonical encoding, written to a [`Sink`].
pub(crate) struct Encoder<S>(pub(crate) S);

impl<S: Sink> Encoder<S> {
    /// The whole canonical encoding of a model.
    pub(crate) fn model(&mut self, model: &QuantizedModel) {
        self.bytes(crate::format::MODEL_FORMAT.as_bytes());
        self.bytes(&[0]);
        self.spec(model.input());
        self.len(model.nodes().len());
        for node in model.nodes() {
            self.len(node.inputs.len());
            for &id in &node.inputs {
                self.len(id);
            }
            self.op(&node.op);
        }
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.0.put(b);
    }
    pub(crate) fn len(&mut self, n: usize) {
        self.bytes(&(n as u64).to_le_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    fn scale(&mut self, s: Scale) {
        self.bytes(&s.0.to_le_bytes());
    }
    fn ints(&mut self, values: &[i64]) {
        self.len(values.len());
        for v in values {
            self.bytes(&v.to_le_bytes());
        }
    }
    fn shape(&mut self, s: &Shape) {
        self.len(s.rank());
        for &d in s.dims() {
            self.len(d);
        }
    }
    fn tensor(&mut self, t: &Tensor) {
        self.shape(&t.shape);
        self.ints(&t.data);
    }
    fn pair(&mut self, p: [usize; 2]) {
        self.len(p[0]);
        self.len(p[1]);
    }
    fn spec(&mut self, s: &TensorSpec) {
        self.shape(&s.shape);
        self.scale(s.scale);
        self.u32(s.bits);
    }
    /// A pool: `tag` and its window, or — padded — `padded_tag`, the
    /// window and the padding (and for an average, whether padding counts).
    fn pool(&mut self, tag: u8, padded_tag: u8, p: &Pool2d) {
        self.bytes(&[if p.is_padded() { padded_tag } else { tag }]);
        self.pair(p.kernel);
        self.pair(p.stride);
        if p.is_padded() {
            self.pair(p.padding);
            if padded_tag == 14 {
                self.bytes(&[p.count_include_pad as u8]);
            }
        }
    }
    fn table(&mut self, t: &TableActivation) {
        self.u32(t.input_bits);
        self.scale(t.output_scale);
        self.ints(&t.values);
    }
    fn op(&mut self, op: &Op) {
        // Tags are part of the format: never renumber them.
        match op {
            Op::Linear(l) => {
                self.bytes(&[1]);
                self.tensor(&l.weight);
                self.scale(l.weight_scale);
                self.ints(&l.bias);
            }
            // An ungrouped convolution keeps the encoding convolutions had
            // before groups existed; a grouped one adds its group count.
            Op::Conv2d(c) => {
                self.bytes(&[if c.groups == 1 { 2 } else { 16 }]);
                self.tensor(&c.weight);
                self.scale(c.weight_scale);
                self.ints(&c.bias);
                self.pair(c.stride);
                self.pair(c.padding);
                if c.groups != 1 {
                    self.len(c.groups);
                }
            }
            Op::Relu => self.bytes(&[3]),
            // A pool without padding keeps the encoding pools had before
            // padding existed.
            Op::SumPool2d(p) => self.pool(4, 13, p),
            Op::AvgPool2d(p) => self.pool(5, 14, p),
            Op::MaxPool2d(p) => self.pool(6, 15, p),
            Op::Flatten => self.bytes(&[7]),
            Op::Reshape { shape } => {
                self.bytes(&[8]);
                self.shape(shape);
            }
            Op::Add => self.bytes(&[9]),
            Op::Mul => self.bytes(&[18]),
            #[cfg(feature = "transformers")]
            Op::MatMul => self.bytes(&[19]),
            #[cfg(feature = "transformers")]
            Op::Divide(d) => {
                self.bytes(&[20]);
                self.u32(d.shift);
                self.u32(d.bits);
            }
            Op::Rescale(r) => {
                self.bytes(&[10]);
                self.u32(r.shift);
                self.u32(r.bits);
            }
            Op::Select(s) => {
                self.bytes(&[17]);
                self.shape(&s.shape);
                self.len(s.indices.len());
                for i in &s.indices {
                    // u64::MAX stands for a zero (the same on 32-bit wasm).
                    self.bytes(&i.map_or(u64::MAX, |i| i as u64).to_le_bytes());
                }
            }
            Op::Table(t) => {
                self.bytes(&[t.function.digest_tag()]);
                self.table(t);
            }
        }
    }
}
