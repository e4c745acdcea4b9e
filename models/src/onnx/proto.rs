//! The part of ONNX's protobuf schema zkinfer reads, decoded by hand from
//! the wire format (varints, fixed-width and length-delimited fields): no
//! code generation, no `protoc`, and an error — never a panic — on a
//! truncated or malformed file.

/// A decoding error, with the message being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

type Result<T> = std::result::Result<T, DecodeError>;

fn err<T>(what: &str, message: &str) -> Result<T> {
    Err(DecodeError(format!("{what}: {message}")))
}

/// A protobuf field value on the wire.
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader { bytes, what }
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self
                .bytes
                .split_first()
                .ok_or_else(|| DecodeError(format!("{}: truncated varint", self.what)))?;
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        err(self.what, "varint longer than 10 bytes")
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return err(
                self.what,
                &format!("truncated: {n} bytes announced, {} left", self.bytes.len()),
            );
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// The next field, or `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Wire<'a>)>> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (number, wire) = (key >> 3, key & 7);
        let value = match wire {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(u64::from_le_bytes(
                self.take(8)?.try_into().expect("8 bytes"),
            )),
            2 => {
                let n = usize::try_from(self.varint()?)
                    .map_err(|_| DecodeError(format!("{}: huge length", self.what)))?;
                Wire::Bytes(self.take(n)?)
            }
            5 => Wire::Fixed32(u32::from_le_bytes(
                self.take(4)?.try_into().expect("4 bytes"),
            )),
            other => return err(self.what, &format!("unsupported wire type {other}")),
        };
        Ok(Some((number, value)))
    }
}

fn string(bytes: &[u8], what: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| DecodeError(format!("{what}: a string is not UTF-8")))
}

/// Repeated integers, packed or not.
fn push_ints(out: &mut Vec<i64>, value: Wire<'_>, what: &'static str) -> Result<()> {
    match value {
        Wire::Varint(v) => out.push(v as i64),
        Wire::Bytes(b) => {
            let mut r = Reader::new(b, what);
            while !r.bytes.is_empty() {
                out.push(r.varint()? as i64);
            }
        }
        _ => return err(what, "integers of the wrong wire type"),
    }
    Ok(())
}

/// Repeated floats, packed or not.
fn push_floats(out: &mut Vec<f32>, value: Wire<'_>, what: &'static str) -> Result<()> {
    match value {
        Wire::Fixed32(v) => out.push(f32::from_bits(v)),
        Wire::Bytes(b) if b.len() % 4 == 0 => out.extend(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))),
        ),
        _ => return err(what, "floats of the wrong wire type or length"),
    }
    Ok(())
}

/// `TensorProto`: a constant tensor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TensorProto {
    /// Its name.
    pub name: String,
    /// Dimensions.
    pub dims: Vec<i64>,
    /// ONNX element type (1 float, 6 int32, 7 int64, 11 double).
    pub data_type: i32,
    /// `float_data`.
    pub float_data: Vec<f32>,
    /// `int32_data` (also other small integer types).
    pub int32_data: Vec<i64>,
    /// `int64_data`.
    pub int64_data: Vec<i64>,
    /// `double_data`.
    pub double_data: Vec<f64>,
    /// `raw_data`, little-endian.
    pub raw_data: Vec<u8>,
}

impl TensorProto {
    fn decode(bytes: &[u8]) -> Result<Self> {
        let what = "TensorProto";
        let mut t = TensorProto::default();
        let mut r = Reader::new(bytes, what);
        while let Some((number, value)) = r.field()? {
            match (number, value) {
                (1, v) => push_ints(&mut t.dims, v, what)?,
                (2, Wire::Varint(v)) => t.data_type = v as i32,
                (4, v) => push_floats(&mut t.float_data, v, what)?,
                (5, v) => push_ints(&mut t.int32_data, v, what)?,
                (7, v) => push_ints(&mut t.int64_data, v, what)?,
                (8, Wire::Bytes(b)) => t.name = string(b, what)?,
                (9, Wire::Bytes(b)) => t.raw_data = b.to_vec(),
                (10, Wire::Fixed64(v)) => t.double_data.push(f64::from_bits(v)),
                (10, Wire::Bytes(b)) if b.len() % 8 == 0 => t.double_data.extend(
                    b.chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))),
                ),
                _ => {}
            }
        }
        Ok(t)
    }

    /// The number of elements its dims declare.
    pub fn numel(&self) -> Option<usize> {
        self.dims.iter().try_fold(1usize, |n, &d| {
            usize::try_from(d).ok().and_then(|d| n.checked_mul(d))
        })
    }

    /// The values as f32 (float, double and integer tensors).
    pub fn floats(&self) -> std::result::Result<Vec<f32>, String> {
        let n = self.numel().ok_or("negative or huge dimensions")?;
        let values: Vec<f32> = match self.data_type {
            1 if !self.raw_data.is_empty() => self
                .raw_data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4")))
                .collect(),
            1 => self.float_data.clone(),
            11 if !self.raw_data.is_empty() => self
                .raw_data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8")) as f32)
                .collect(),
            11 => self.double_data.iter().map(|&v| v as f32).collect(),
            6 | 7 => self.ints()?.iter().map(|&v| v as f32).collect(),
            t => {
                return Err(format!(
                    "element type {t} (zkinfer reads float, double, int32, int64)"
                ))
            }
        };
        if values.len() != n {
            return Err(format!("{} values for dims {:?}", values.len(), self.dims));
        }
        Ok(values)
    }

    /// The values as i64 (the integer types and bool; uint64 values above
    /// `i64::MAX` are refused).
    pub fn ints(&self) -> std::result::Result<Vec<i64>, String> {
        let raw = &self.raw_data;
        let values: Vec<i64> = match self.data_type {
            7 | 13 if !raw.is_empty() => raw
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().expect("8")))
                .collect(),
            7 => self.int64_data.clone(),
            // uint64 values live in the uint64_data field zkinfer does not
            // read; from raw data only.
            13 => return Err("uint64 values outside raw_data".into()),
            6 if !raw.is_empty() => raw
                .chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes(c.try_into().expect("4"))))
                .collect(),
            12 if !raw.is_empty() => raw
                .chunks_exact(4)
                .map(|c| i64::from(u32::from_le_bytes(c.try_into().expect("4"))))
                .collect(),
            5 if !raw.is_empty() => raw
                .chunks_exact(2)
                .map(|c| i64::from(i16::from_le_bytes(c.try_into().expect("2"))))
                .collect(),
            4 if !raw.is_empty() => raw
                .chunks_exact(2)
                .map(|c| i64::from(u16::from_le_bytes(c.try_into().expect("2"))))
                .collect(),
            3 if !raw.is_empty() => raw.iter().map(|&b| i64::from(b as i8)).collect(),
            2 | 9 if !raw.is_empty() => raw.iter().map(|&b| i64::from(b)).collect(),
            2..=6 | 9 | 12 => self.int32_data.clone(),
            t => return Err(format!("element type {t} is not an integer type")),
        };
        if values.iter().any(|&v| v < 0) && self.data_type == 13 {
            return Err("a uint64 value above 2^63".into());
        }
        Ok(values)
    }
}

/// `AttributeProto`: a node attribute.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttributeProto {
    /// Its name.
    pub name: String,
    /// `f`.
    pub f: Option<f32>,
    /// `i`.
    pub i: Option<i64>,
    /// `s`.
    pub s: Vec<u8>,
    /// `t`.
    pub t: Option<TensorProto>,
    /// `floats`.
    pub floats: Vec<f32>,
    /// `ints`.
    pub ints: Vec<i64>,
}

impl AttributeProto {
    fn decode(bytes: &[u8]) -> Result<Self> {
        let what = "AttributeProto";
        let mut a = AttributeProto::default();
        let mut r = Reader::new(bytes, what);
        while let Some((number, value)) = r.field()? {
            match (number, value) {
                (1, Wire::Bytes(b)) => a.name = string(b, what)?,
                (2, Wire::Fixed32(v)) => a.f = Some(f32::from_bits(v)),
                (3, Wire::Varint(v)) => a.i = Some(v as i64),
                (4, Wire::Bytes(b)) => a.s = b.to_vec(),
                (5, Wire::Bytes(b)) => a.t = Some(TensorProto::decode(b)?),
                (7, v) => push_floats(&mut a.floats, v, what)?,
                (8, v) => push_ints(&mut a.ints, v, what)?,
                _ => {}
            }
        }
        Ok(a)
    }
}

/// `NodeProto`: one operation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeProto {
    /// Input value names ("" for an omitted optional input).
    pub input: Vec<String>,
    /// Output value names.
    pub output: Vec<String>,
    /// Its name.
    pub name: String,
    /// Its op type.
    pub op_type: String,
    /// Its domain ("" or "ai.onnx" for the standard ops).
    pub domain: String,
    /// Its attributes.
    pub attribute: Vec<AttributeProto>,
}

impl NodeProto {
    fn decode(bytes: &[u8]) -> Result<Self> {
        let what = "NodeProto";
        let mut n = NodeProto::default();
        let mut r = Reader::new(bytes, what);
        while let Some((number, value)) = r.field()? {
            match (number, value) {
                (1, Wire::Bytes(b)) => n.input.push(string(b, what)?),
                (2, Wire::Bytes(b)) => n.output.push(string(b, what)?),
                (3, Wire::Bytes(b)) => n.name = string(b, what)?,
                (4, Wire::Bytes(b)) => n.op_type = string(b, what)?,
                (5, Wire::Bytes(b)) => n.attribute.push(AttributeProto::decode(b)?),
                (7, Wire::Bytes(b)) => n.domain = string(b, what)?,
                _ => {}
            }
        }
        Ok(n)
    }

    /// An attribute by name.
    pub fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.attribute.iter().find(|a| a.name == name)
    }
}

/// `ValueInfoProto`, reduced to a name and a tensor shape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValueInfo {
    /// The value's name.
    pub name: String,
    /// Dimensions; `None` for a symbolic one (`batch_size`).
    pub shape: Vec<Option<i64>>,
    /// The tensor's element type (`TensorProto.DataType`; 0 if unset).
    pub elem_type: i32,
}

impl ValueInfo {
    /// Whether the value holds integers (token ids, say).
    pub fn is_integer(&self) -> bool {
        // INT8, UINT8, UINT16, INT16, INT32, INT64, UINT32, UINT64.
        matches!(self.elem_type, 2..=7 | 12 | 13)
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        let what = "ValueInfoProto";
        let mut v = ValueInfo::default();
        let mut r = Reader::new(bytes, what);
        while let Some((number, value)) = r.field()? {
            match (number, value) {
                (1, Wire::Bytes(b)) => v.name = string(b, what)?,
                // type → tensor_type → shape → dim → dim_value | dim_param
                (2, Wire::Bytes(ty)) => {
                    let mut r = Reader::new(ty, "TypeProto");
                    while let Some((n, value)) = r.field()? {
                        if let (1, Wire::Bytes(tensor)) = (n, value) {
                            let mut r = Reader::new(tensor, "TypeProto.Tensor");
                            while let Some((n, value)) = r.field()? {
                                if let (1, Wire::Varint(t)) = (n, &value) {
                                    v.elem_type = *t as i32;
                                } else if let (2, Wire::Bytes(shape)) = (n, value) {
                                    let mut r = Reader::new(shape, "TensorShapeProto");
                                    while let Some((n, value)) = r.field()? {
                                        if let (1, Wire::Bytes(dim)) = (n, value) {
                                            let mut r = Reader::new(dim, "Dimension");
                                            let mut d = None;
                                            while let Some((n, value)) = r.field()? {
                                                if let (1, Wire::Varint(x)) = (n, value) {
                                                    d = Some(x as i64);
                                                }
                                            }
                                            v.shape.push(d);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(v)
    }
}

/// `GraphProto`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphProto {
    /// Nodes, in topological order.
    pub node: Vec<NodeProto>,
    /// Constant tensors.
    pub initializer: Vec<TensorProto>,
    /// Graph inputs (initializers may be listed too).
    pub input: Vec<ValueInfo>,
    /// Graph outputs.
    pub output: Vec<ValueInfo>,
}

impl GraphProto {
    fn decode(bytes: &[u8]) -> Result<Self> {
        let mut g = GraphProto::default();
        let mut r = Reader::new(bytes, "GraphProto");
        while let Some((number, value)) = r.field()? {
            match (number, value) {
                (1, Wire::Bytes(b)) => g.node.push(NodeProto::decode(b)?),
                (5, Wire::Bytes(b)) => g.initializer.push(TensorProto::decode(b)?),
                (11, Wire::Bytes(b)) => g.input.push(ValueInfo::decode(b)?),
                (12, Wire::Bytes(b)) => g.output.push(ValueInfo::decode(b)?),
                _ => {}
            }
        }
        Ok(g)
    }
}

/// `ModelProto`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelProto {
    /// The IR version.
    pub ir_version: i64,
    /// The default-domain opset version.
    pub opset: Option<i64>,
    /// Who exported it.
    pub producer_name: String,
    /// The graph.
    pub graph: GraphProto,
}

impl ModelProto {
    /// Decodes a `.onnx` file's bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut m = ModelProto::default();
        let mut graph = None;
        let mut r = Reader::new(bytes, "ModelProto");
        while let Some((number, value)) = r.field()? {
            match (number, value) {
                (1, Wire::Varint(v)) => m.ir_version = v as i64,
                (2, Wire::Bytes(b)) => m.producer_name = string(b, "ModelProto")?,
                (7, Wire::Bytes(b)) => graph = Some(GraphProto::decode(b)?),
                (8, Wire::Bytes(b)) => {
                    let (mut domain, mut version) = (String::new(), None);
                    let mut r = Reader::new(b, "OperatorSetIdProto");
                    while let Some((n, value)) = r.field()? {
                        match (n, value) {
                            (1, Wire::Bytes(d)) => domain = string(d, "OperatorSetIdProto")?,
                            (2, Wire::Varint(v)) => version = Some(v as i64),
                            _ => {}
                        }
                    }
                    if domain.is_empty() || domain == "ai.onnx" {
                        m.opset = version;
                    }
                }
                _ => {}
            }
        }
        m.graph = graph.ok_or_else(|| {
            DecodeError("ModelProto: no graph (not an ONNX model, or truncated)".into())
        })?;
        Ok(m)
    }
}
