//! Structure-aware mutation of protobuf bytes (ONNX files): the wire format
//! parsed into a tree — a length-delimited field that parses as a message
//! is taken as one — a leaf changed, and the tree re-encoded with correct
//! lengths, so a mutated attribute (`pads = 2^63`) or dimension (`-1`)
//! reaches the importer instead of failing at the first length.

use crate::{extreme_u64, varint, Rng};

/// A field value on the wire.
#[derive(Clone, Debug)]
enum Value {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(Vec<u8>),
    Message(Vec<(u64, Value)>),
}

fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn parse(mut bytes: &[u8], depth: usize) -> Option<Vec<(u64, Value)>> {
    let mut fields = vec![];
    while !bytes.is_empty() {
        let key = read_varint(&mut bytes)?;
        let (number, wire) = (key >> 3, key & 7);
        if number == 0 {
            return None;
        }
        let value = match wire {
            0 => Value::Varint(read_varint(&mut bytes)?),
            1 => {
                let (head, rest) = bytes.split_at_checked(8)?;
                bytes = rest;
                Value::Fixed64(u64::from_le_bytes(head.try_into().ok()?))
            }
            2 => {
                let n = usize::try_from(read_varint(&mut bytes)?).ok()?;
                let (head, rest) = bytes.split_at_checked(n)?;
                bytes = rest;
                match (depth < 8 && !head.is_empty())
                    .then(|| parse(head, depth + 1))
                    .flatten()
                {
                    Some(message) => Value::Message(message),
                    None => Value::Bytes(head.to_vec()),
                }
            }
            5 => {
                let (head, rest) = bytes.split_at_checked(4)?;
                bytes = rest;
                Value::Fixed32(u32::from_le_bytes(head.try_into().ok()?))
            }
            _ => return None,
        };
        fields.push((number, value));
    }
    Some(fields)
}

fn encode(fields: &[(u64, Value)], out: &mut Vec<u8>) {
    for (number, value) in fields {
        let wire = match value {
            Value::Varint(_) => 0,
            Value::Fixed64(_) => 1,
            Value::Bytes(_) | Value::Message(_) => 2,
            Value::Fixed32(_) => 5,
        };
        out.extend(varint(number << 3 | wire));
        match value {
            Value::Varint(v) => out.extend(varint(*v)),
            Value::Fixed64(v) => out.extend(v.to_le_bytes()),
            Value::Fixed32(v) => out.extend(v.to_le_bytes()),
            Value::Bytes(b) => {
                out.extend(varint(b.len() as u64));
                out.extend(b);
            }
            Value::Message(m) => {
                let mut inner = vec![];
                encode(m, &mut inner);
                out.extend(varint(inner.len() as u64));
                out.extend(inner);
            }
        }
    }
}

/// Every message of the tree, as paths of field indices from the root.
fn messages(fields: &[(u64, Value)], path: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(path.clone());
    for (i, (_, value)) in fields.iter().enumerate() {
        if let Value::Message(m) = value {
            path.push(i);
            messages(m, path, out);
            path.pop();
        }
    }
}

fn message_at<'a>(
    mut fields: &'a mut Vec<(u64, Value)>,
    path: &[usize],
) -> &'a mut Vec<(u64, Value)> {
    for &i in path {
        match &mut fields[i].1 {
            Value::Message(m) => fields = m,
            _ => unreachable!("paths lead to messages"),
        }
    }
    fields
}

/// One to three structure-aware mutations of a protobuf message: a field
/// of a random (sub)message set to an extreme varint, a packed list of
/// extremes, a float edge case, or removed, duplicated or moved. `None`
/// when `bytes` does not parse as protobuf.
pub fn mutate(rng: &mut Rng, bytes: &[u8]) -> Option<Vec<u8>> {
    let mut root = parse(bytes, 0)?;
    let mut paths = vec![];
    messages(&root, &mut vec![], &mut paths);
    for _ in 0..1 + rng.below(3) {
        let path = rng.pick(&paths).clone();
        let message = message_at(&mut root, &path);
        if message.is_empty() {
            continue;
        }
        let i = rng.below(message.len());
        match rng.below(8) {
            0 => {
                message.remove(i);
                // Paths below this message may be stale now: stop here.
                break;
            }
            1 => {
                let copy = message[i].clone();
                message.insert(rng.below(message.len() + 1), copy);
                break;
            }
            _ => {
                let field = &mut message[i].1;
                *field = match field {
                    Value::Varint(_) | Value::Bytes(_) if rng.one_in(3) => {
                        // A packed list of extremes (dims, pads, strides).
                        let mut packed = vec![];
                        for _ in 0..rng.below(5) {
                            packed.extend(varint(extreme_u64(rng)));
                        }
                        Value::Bytes(packed)
                    }
                    Value::Varint(_) => Value::Varint(extreme_u64(rng)),
                    Value::Fixed32(_) => Value::Fixed32(*rng.pick(&[
                        0,
                        0x7fc0_0000,
                        0x7f80_0000,
                        0xff80_0000,
                        0x8000_0000,
                        1,
                    ])),
                    Value::Fixed64(_) => Value::Fixed64(extreme_u64(rng)),
                    Value::Bytes(b) => {
                        let mut b = b.clone();
                        b.truncate(rng.below(b.len() + 1));
                        Value::Bytes(b)
                    }
                    Value::Message(_) => Value::Varint(extreme_u64(rng)),
                };
                // A message replaced by a scalar invalidates deeper paths.
                if matches!(message[i].1, Value::Varint(_)) {
                    break;
                }
            }
        }
    }
    let mut out = vec![];
    encode(&root, &mut out);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_and_encoding_round_trips() {
        // field 1 varint 150; field 2 message { field 1 = "hi" }.
        let bytes = [0x08, 0x96, 0x01, 0x12, 0x04, 0x0a, 0x02, b'h', b'i'];
        let tree = parse(&bytes, 0).unwrap();
        let mut out = vec![];
        encode(&tree, &mut out);
        assert_eq!(out, bytes);
        let mut rng = Rng::new(3);
        assert!((0..50).all(|_| mutate(&mut rng, &bytes).is_some()));
    }
}
