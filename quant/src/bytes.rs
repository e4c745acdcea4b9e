//! A model's bytes: the compact, exact binary form a contract stores.
//!
//! [`QuantizedModel::to_bytes`] is the canonical encoding the digest hashes
//! (`digest.rs`: the domain tag, the input spec, every node), followed by
//! the labels the digest leaves out: the name, then each table's function
//! parameters. So the model digest is SHA-256 of the bytes up to the
//! labels, and [`QuantizedModel::from_bytes`] gives back a model with the
//! same digest, name and table functions. Calibration notes are not
//! carried, nor fields that have no effect (`count_include_pad` of a pool
//! without padding or of a sum or max pool): they read as their defaults.
//!
//! JSON stays the file format; the bytes are what a chain stores and a
//! contract reads (no JSON parser for the model in its module, a third of
//! the model file's size).

use crate::digest::Encoder;
use crate::error::{QuantError, Result};
use crate::format::MODEL_FORMAT;
use crate::function::TableFunction;
use crate::layer::{Conv2d, Linear, Op, Pool2d, Rescale, Select, TableActivation};
use crate::model::{Node, QuantizedModel, TensorSpec};
use crate::tensor::{Scale, Shape, Tensor};

impl QuantizedModel {
    /// The model's bytes: its canonical encoding, then its labels.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder(Vec::new());
        e.model(self);
        e.len(self.name().len());
        e.bytes(self.name().as_bytes());
        for node in self.nodes() {
            if let Op::Table(t) = &node.op {
                let params = t.function.params();
                e.len(params.len());
                for p in params {
                    e.u32(p.to_bits());
                }
            }
        }
        e.0
    }

    /// Reads [`Self::to_bytes`] and validates the model, as
    /// [`Self::from_json`] does. Every length is checked against the bytes
    /// left before anything is allocated.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder { bytes, at: 0 };
        d.tag()?;
        let input = d.spec()?;
        let count = d.len(9)?;
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            let n = d.len(8)?;
            let inputs = (0..n).map(|_| d.index()).collect::<Result<_>>()?;
            nodes.push(Node {
                inputs,
                op: d.op()?,
            });
        }
        let name_len = d.len(1)?;
        let name = d.take(name_len)?.to_vec();
        let name = String::from_utf8(name).map_err(|_| d.error("the name is not UTF-8"))?;
        for node in &mut nodes {
            if let Op::Table(t) = &mut node.op {
                let n = d.len(4)?;
                let params: Vec<f32> = (0..n)
                    .map(|_| d.u32().map(f32::from_bits))
                    .collect::<Result<_>>()?;
                let tag = t.function.digest_tag();
                t.function = TableFunction::from_tag(tag, &params).ok_or_else(|| {
                    d.error(&format!(
                        "the {} table takes {} parameters, not {n}",
                        t.function,
                        t.function.params().len()
                    ))
                })?;
            }
        }
        if d.at != bytes.len() {
            return Err(d.error("bytes after the model"));
        }
        QuantizedModel::new(name, input, nodes, None)
    }
}

struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Decoder<'_> {
    fn error(&self, reason: &str) -> QuantError {
        QuantError::Bytes {
            at: self.at,
            reason: reason.to_string(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.error("the bytes end early"))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A size, id or dimension.
    fn index(&mut self) -> Result<usize> {
        let v = self.u64()?;
        usize::try_from(v).map_err(|_| self.error(&format!("{v} does not fit a usize")))
    }

    /// The length of a list whose elements take at least `element` bytes
    /// each: no more than the bytes left can hold.
    fn len(&mut self, element: usize) -> Result<usize> {
        let n = self.index()?;
        let left = self.bytes.len() - self.at;
        if n > left / element.max(1) {
            return Err(self.error(&format!("a list of {n} does not fit the bytes left")));
        }
        Ok(n)
    }

    fn tag(&mut self) -> Result<()> {
        let tag = self.take(MODEL_FORMAT.len() + 1)?;
        if tag[..MODEL_FORMAT.len()] != *MODEL_FORMAT.as_bytes() || tag[MODEL_FORMAT.len()] != 0 {
            self.at = 0;
            return Err(self.error(&format!("not the bytes of a {MODEL_FORMAT} model")));
        }
        Ok(())
    }

    fn scale(&mut self) -> Result<Scale> {
        Ok(Scale(self.i32()?))
    }

    fn ints(&mut self) -> Result<Vec<i64>> {
        let n = self.len(8)?;
        (0..n)
            .map(|_| Ok(i64::from_le_bytes(self.array()?)))
            .collect()
    }

    fn shape(&mut self) -> Result<Shape> {
        let rank = self.len(8)?;
        Ok(Shape(
            (0..rank).map(|_| self.index()).collect::<Result<_>>()?,
        ))
    }

    fn tensor(&mut self) -> Result<Tensor> {
        let shape = self.shape()?;
        let data = self.ints()?;
        let what = format!(
            "a tensor of shape {:?} with {} values",
            shape.dims(),
            data.len()
        );
        Tensor::new(shape, data).ok_or_else(|| self.error(&what))
    }

    fn pair(&mut self) -> Result<[usize; 2]> {
        Ok([self.index()?, self.index()?])
    }

    fn spec(&mut self) -> Result<TensorSpec> {
        Ok(TensorSpec {
            shape: self.shape()?,
            scale: self.scale()?,
            bits: self.u32()?,
        })
    }

    /// A pool; `padded` when its tag says it has padding, `with_count`
    /// when an average pool's tag also carries `count_include_pad`.
    fn pool(&mut self, padded: bool, with_count: bool) -> Result<Pool2d> {
        let mut pool = Pool2d::new(self.pair()?, self.pair()?);
        if padded {
            pool.padding = self.pair()?;
            if !pool.is_padded() {
                return Err(self.error("a padded pool's padding is zero"));
            }
            if with_count {
                pool.count_include_pad = match self.u8()? {
                    0 => false,
                    1 => true,
                    b => return Err(self.error(&format!("count_include_pad is {b}"))),
                };
            }
        }
        Ok(pool)
    }

    fn conv(&mut self, grouped: bool) -> Result<Conv2d> {
        let conv = Conv2d {
            weight: self.tensor()?,
            weight_scale: self.scale()?,
            bias: self.ints()?,
            stride: self.pair()?,
            padding: self.pair()?,
            groups: if grouped { self.index()? } else { 1 },
        };
        if grouped && conv.groups == 1 {
            return Err(self.error("a grouped convolution of one group"));
        }
        Ok(conv)
    }

    fn op(&mut self) -> Result<Op> {
        let at = self.at;
        // The tags of digest.rs's `Encoder::op`.
        Ok(match self.u8()? {
            1 => Op::Linear(Linear {
                weight: self.tensor()?,
                weight_scale: self.scale()?,
                bias: self.ints()?,
            }),
            2 => Op::Conv2d(self.conv(false)?),
            16 => Op::Conv2d(self.conv(true)?),
            3 => Op::Relu,
            4 => Op::SumPool2d(self.pool(false, false)?),
            13 => Op::SumPool2d(self.pool(true, false)?),
            5 => Op::AvgPool2d(self.pool(false, false)?),
            14 => Op::AvgPool2d(self.pool(true, true)?),
            6 => Op::MaxPool2d(self.pool(false, false)?),
            15 => Op::MaxPool2d(self.pool(true, false)?),
            7 => Op::Flatten,
            8 => Op::Reshape {
                shape: self.shape()?,
            },
            9 => Op::Add,
            18 => Op::Mul,
            #[cfg(feature = "transformers")]
            19 => Op::MatMul,
            #[cfg(feature = "transformers")]
            20 => Op::Divide(crate::layer::Divide {
                shift: self.u32()?,
                bits: self.u32()?,
            }),
            10 => Op::Rescale(Rescale {
                shift: self.u32()?,
                bits: self.u32()?,
            }),
            17 => {
                let shape = self.shape()?;
                let n = self.len(8)?;
                let indices = (0..n)
                    .map(|_| match self.u64()? {
                        u64::MAX => Ok(None),
                        i => usize::try_from(i)
                            .map(Some)
                            .map_err(|_| self.error(&format!("index {i} does not fit a usize"))),
                    })
                    .collect::<Result<_>>()?;
                Op::Select(Select { shape, indices })
            }
            tag => {
                // A table: its function's parameters come with the labels.
                let params = TableFunction::ALL
                    .iter()
                    .find(|f| f.digest_tag() == tag)
                    .map(|f| f.params())
                    .ok_or_else(|| {
                        self.at = at;
                        self.error(&format!("unknown op tag {tag}"))
                    })?;
                let function = TableFunction::from_tag(tag, &params).expect("its own parameters");
                Op::Table(TableActivation {
                    function,
                    input_bits: self.u32()?,
                    output_scale: self.scale()?,
                    values: self.ints()?,
                })
            }
        })
    }
}
