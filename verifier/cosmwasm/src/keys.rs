//! Storage keys, laid out as cw-storage-plus lays out its `Item`s and
//! `Map`s (so the state reads the same to tools that know that layout):
//!
//! ```text
//!   item                 namespace
//!   map, one key         len(namespace) as u16 BE | namespace | key
//!   map, two keys        len(namespace) as u16 BE | namespace | len(first) as u16 BE | first | second
//! ```
//!
//! Integers are big-endian, so a range over a prefix lists them in order.
//! Written here rather than taken from cw-storage-plus: the contract needs
//! a handful of keys and prefix scans, and its generic maps cost the wasm
//! module 13 KB.

/// One part of a key: a string's bytes or a big-endian integer.
pub trait KeyPart {
    /// The part's bytes.
    fn bytes(&self) -> Vec<u8>;
}

impl KeyPart for &str {
    fn bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}

impl KeyPart for u64 {
    fn bytes(&self) -> Vec<u8> {
        self.to_be_bytes().to_vec()
    }
}

impl KeyPart for u32 {
    fn bytes(&self) -> Vec<u8> {
        self.to_be_bytes().to_vec()
    }
}

/// Parts zkinfer stores are short (model ids are 64 hex digits), but a
/// query or message may name a longer one: its length saturates at
/// `u16::MAX` instead of failing, giving a key no stored record has (every
/// stored part is shorter, so its prefix differs) — the lookup finds
/// nothing, and the caller says so.
fn length_prefixed(out: &mut Vec<u8>, part: &[u8]) {
    let len = u16::try_from(part.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(part);
}

/// The prefix every key of a map starts with.
pub fn map_prefix(namespace: &str) -> Vec<u8> {
    let mut out = vec![];
    length_prefixed(&mut out, namespace.as_bytes());
    out
}

/// The key of `key` in a map.
pub fn map_key(namespace: &str, key: impl KeyPart) -> Vec<u8> {
    let mut out = map_prefix(namespace);
    out.extend_from_slice(&key.bytes());
    out
}

/// The prefix of every key `(first, _)` in a map keyed by pairs.
pub fn pair_prefix(namespace: &str, first: impl KeyPart) -> Vec<u8> {
    let mut out = map_prefix(namespace);
    length_prefixed(&mut out, &first.bytes());
    out
}

/// The key of `(first, second)` in a map keyed by pairs.
pub fn pair_key(namespace: &str, first: impl KeyPart, second: impl KeyPart) -> Vec<u8> {
    let mut out = pair_prefix(namespace, first);
    out.extend_from_slice(&second.bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cw_storage_plus::Map;

    /// The keys cw-storage-plus itself derives for the same maps.
    #[test]
    fn keys_are_the_ones_cw_storage_plus_derives() {
        let models: Map<&str, ()> = Map::new("models");
        assert_eq!(map_key("models", "ab"), &*models.key("ab"));
        assert_eq!(map_key("models", "ab"), b"\x00\x06modelsab");
        let attestations: Map<u64, ()> = Map::new("attestations");
        assert_eq!(map_key("attestations", 258u64), &*attestations.key(258));
        let params: Map<u32, ()> = Map::new("params");
        assert_eq!(map_key("params", 9u32), &*params.key(9));
        let by_input: Map<(&str, &str), u64> = Map::new("by_input");
        assert_eq!(pair_key("by_input", "m", "d"), &*by_input.key(("m", "d")));
        let by_model: Map<(&str, u64), ()> = Map::new("by_model");
        assert_eq!(pair_key("by_model", "m", 7u64), &*by_model.key(("m", 7)));
        assert!(pair_key("by_model", "m", 7u64).starts_with(&pair_prefix("by_model", "m")));
        let chunks: Map<(u32, u32), ()> = Map::new("params_chunks");
        assert_eq!(pair_key("params_chunks", 9u32, 1u32), &*chunks.key((9, 1)));
    }

    /// A hostile query naming a model id of 70,000 bytes gets a key, not a
    /// trap, and one whose prefix no stored (short) id has.
    #[test]
    fn an_overlong_key_part_saturates_its_length() {
        let long = "a".repeat(70_000);
        let key = pair_key("by_input", long.as_str(), "d");
        assert_eq!(&key[10..12], &[0xff, 0xff]);
        assert_eq!(key.len(), 2 + 8 + 2 + 70_000 + 1);
        assert!(!key.starts_with(&pair_prefix("by_input", "a".repeat(64).as_str())));
    }
}
