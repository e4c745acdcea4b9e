//! `zkinfer-fuzz`: the seeded fuzzing every parser's fuzz target shares.
//!
//! No cargo-fuzz, no nightly: each target starts from valid inputs (the
//! bundled models, the ONNX fixtures, a real proof bundle), mutates them
//! with a deterministic generator — structure-aware JSON mutations that put
//! [extreme numbers](EXTREMES) in every field, and byte mutations (bit
//! flips, truncations, splices, random varints) — and feeds each case to
//! the parser and what runs after it. [`run`] catches every panic, prints
//! the case that caused it, and fails the test with the count.
//!
//! `make test` runs each target with its default count (10⁴ cases, fewer
//! for an expensive one); `make fuzz` sets [`CASES_VAR`] to run more.

#![deny(missing_docs, unsafe_code)]

pub mod protobuf;

use serde_json::Value;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// The environment variable that sets the number of cases: the count for a
/// target whose default is 10⁴; targets with smaller defaults scale it.
pub const CASES_VAR: &str = "ZKINFER_FUZZ_CASES";

/// The standard number of cases of a target in `make test`.
pub const STANDARD_CASES: usize = 10_000;

/// The number of cases to run: `default`, or [`CASES_VAR`] scaled by
/// `default / 10⁴` when it is set (so an expensive target with a default of
/// 10³ runs a tenth of the requested count).
pub fn cases(default: usize) -> usize {
    match std::env::var(CASES_VAR)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(n) => {
            let scaled = u128::from(n) * default as u128 / STANDARD_CASES as u128;
            usize::try_from(scaled).unwrap_or(usize::MAX).max(1)
        }
        None => default,
    }
}

/// A small deterministic generator (xorshift64*): the same seed gives the
/// same cases on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced by a fixed non-zero seed).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x2545_f491_4f6c_dd1d
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `1 / n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A random element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Extreme numbers, as JSON text: zero and one, bit-width and scale edges,
/// the 2^31, 2^32, 2^53 and 2^63 boundaries, `u64::MAX`, `i64::MIN`, and
/// floats no integer field takes. The issue's wraps came from exactly these.
pub const EXTREMES: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "3",
    "16",
    "17",
    "53",
    "54",
    "62",
    "63",
    "64",
    "65",
    "127",
    "128",
    "256",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9007199254740992",
    "9007199254740993",
    "-9007199254740993",
    "4611686018427387904",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "-9223372036854775808",
    "1e300",
    "-1e300",
    "0.5",
    "-0.0",
    "1e-300",
];

/// A random extreme number, or now and then a random 64-bit one.
pub fn extreme(rng: &mut Rng) -> Value {
    if rng.one_in(8) {
        let v = rng.next_u64();
        return if rng.one_in(2) {
            Value::from(v)
        } else {
            Value::from(v as i64)
        };
    }
    let text = EXTREMES[rng.below(EXTREMES.len())];
    serde_json::from_str(text).expect("extremes are JSON numbers")
}

/// JSON pointers to every value of a document, grouped by *field*: the
/// pointer with array indices replaced by `*` (`/nodes/*/op/stride/*`).
/// Numbers only when `numbers_only`.
pub fn fields(doc: &Value, numbers_only: bool) -> BTreeMap<String, Vec<String>> {
    fn walk(
        v: &Value,
        pointer: &mut String,
        field: &mut String,
        numbers_only: bool,
        out: &mut BTreeMap<String, Vec<String>>,
    ) {
        let (p, f) = (pointer.len(), field.len());
        match v {
            Value::Object(map) => {
                for (key, child) in map {
                    let key = key.replace('~', "~0").replace('/', "~1");
                    pointer.push('/');
                    pointer.push_str(&key);
                    field.push('/');
                    field.push_str(&key);
                    walk(child, pointer, field, numbers_only, out);
                    pointer.truncate(p);
                    field.truncate(f);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    pointer.push_str(&format!("/{i}"));
                    field.push_str("/*");
                    walk(child, pointer, field, numbers_only, out);
                    pointer.truncate(p);
                    field.truncate(f);
                }
            }
            _ => {}
        }
        if !numbers_only || v.is_number() {
            out.entry(field.clone()).or_default().push(pointer.clone());
        }
    }
    let mut out = BTreeMap::new();
    walk(
        doc,
        &mut String::new(),
        &mut String::new(),
        numbers_only,
        &mut out,
    );
    out
}

/// Every numeric field of `doc` set, one at a time, to every value of
/// [`EXTREMES`] (for each field: its first occurrence and one chosen by
/// `rng`). What a "feed extreme values to every field" property test runs.
pub fn extreme_field_cases(doc: &Value, rng: &mut Rng) -> Vec<(String, Value)> {
    let mut cases = vec![];
    for pointers in fields(doc, true).values() {
        let mut chosen = vec![pointers[0].clone()];
        let other = rng.pick(pointers).clone();
        if other != chosen[0] {
            chosen.push(other);
        }
        for pointer in &chosen {
            for text in EXTREMES {
                let mut mutated = doc.clone();
                let value: Value = serde_json::from_str(text).expect("a JSON number");
                *mutated.pointer_mut(pointer).expect("the pointer exists") = value;
                cases.push((format!("{pointer} = {text}"), mutated));
            }
        }
    }
    cases
}

/// One to four structure-aware mutations of a JSON document: a number
/// becomes an extreme one or changes by one, a value changes type, an
/// array loses, duplicates or gains an element, an object loses a key or
/// gains an unknown one, a string is emptied or changed.
pub fn mutate_json(rng: &mut Rng, doc: &Value) -> Value {
    let mut doc = doc.clone();
    for _ in 0..1 + rng.below(4) {
        mutate_json_once(rng, &mut doc);
    }
    doc
}

fn mutate_json_once(rng: &mut Rng, doc: &mut Value) {
    // Mostly numbers: that is where sizes, shapes and scales live.
    let numbers_only = !rng.one_in(3);
    let Some(pointer) = random_pointer(rng, doc, numbers_only) else {
        return;
    };
    let Some(target) = doc.pointer_mut(&pointer) else {
        return;
    };
    match (target, rng.below(10)) {
        (Value::Number(n), 0..=5) => {
            *n = match extreme(rng) {
                Value::Number(x) => x,
                _ => unreachable!("extreme returns numbers"),
            }
        }
        (Value::Number(n), 6) => {
            let v = n.as_i64().unwrap_or(0);
            let delta = if rng.one_in(2) { 1 } else { -1 };
            *n = v.saturating_add(delta).into();
        }
        (Value::Array(items), 0..=2) if !items.is_empty() => {
            let i = rng.below(items.len());
            items.remove(i);
        }
        (Value::Array(items), 3..=4) if !items.is_empty() => {
            let i = rng.below(items.len());
            let copy = items[i].clone();
            items.insert(i, copy);
        }
        (Value::Array(items), 5) => items.push(extreme(rng)),
        (Value::Object(map), 0..=2) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            map.remove(rng.pick(&keys));
        }
        (Value::Object(map), 3) => {
            map.insert("unexpected".into(), extreme(rng));
        }
        (Value::String(s), 0..=3) => {
            *s = match rng.below(4) {
                0 => String::new(),
                1 => s.chars().rev().collect(),
                2 => format!("{s}{s}"),
                _ => "\u{0}\u{7f}é".into(),
            }
        }
        (target, _) => {
            *target = match rng.below(6) {
                0 => Value::Null,
                1 => Value::Bool(true),
                2 => Value::String("x".into()),
                3 => Value::Array(vec![]),
                4 => Value::Object(Default::default()),
                _ => extreme(rng),
            }
        }
    }
}

/// A random walk from the root to a value: each object key is equally
/// likely at every step (so every field gets its share, not only the
/// thousands of weights), each array element too. `None` after a few walks
/// that found no number when `numbers_only`.
fn random_pointer(rng: &mut Rng, doc: &Value, numbers_only: bool) -> Option<String> {
    'walk: for _ in 0..8 {
        let (mut v, mut pointer) = (doc, String::new());
        loop {
            let stop_here = !numbers_only && rng.one_in(4);
            match v {
                Value::Object(map) if !map.is_empty() && !stop_here => {
                    let i = rng.below(map.len());
                    let (key, child) = map.iter().nth(i).expect("i < len");
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    v = child;
                }
                Value::Array(items) if !items.is_empty() && !stop_here => {
                    let i = rng.below(items.len());
                    pointer.push_str(&format!("/{i}"));
                    v = &items[i];
                }
                Value::Number(_) => return Some(pointer),
                _ if numbers_only => continue 'walk,
                _ => return Some(pointer),
            }
        }
    }
    None
}

/// One to four byte mutations: bit flips, random bytes, truncation,
/// deletion, duplication, a splice from `donors`, an inserted protobuf
/// varint of an extreme value, or an overwritten one.
pub fn mutate_bytes(rng: &mut Rng, bytes: &[u8], donors: &[&[u8]]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next_u64() as u8;
            }
            2 => out.truncate(rng.below(len + 1)),
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                out.drain(start..end);
            }
            4 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                let chunk = out[start..end].to_vec();
                let at = rng.below(len + 1);
                out.splice(at..at, chunk);
            }
            5 if !donors.is_empty() => {
                let donor = *rng.pick(donors);
                if !donor.is_empty() {
                    let start = rng.below(donor.len());
                    let end = (start + 1 + rng.below(256)).min(donor.len());
                    let at = rng.below(len + 1);
                    out.splice(at..at, donor[start..end].iter().copied());
                }
            }
            6 | 7 => {
                let v = extreme_u64(rng);
                let at = rng.below(len + 1);
                let varint = varint(v);
                if rng.one_in(2) && at + varint.len() <= len {
                    out[at..at + varint.len()].copy_from_slice(&varint);
                } else {
                    out.splice(at..at, varint);
                }
            }
            _ => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let noise: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                out.splice(at..at, noise);
            }
        }
    }
    out
}

/// An extreme 64-bit value for binary formats.
pub fn extreme_u64(rng: &mut Rng) -> u64 {
    const EDGES: &[u64] = &[
        0,
        1,
        0x7f,
        0x80,
        0xff,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        1 << 32,
        1 << 53,
        (1 << 63) - 1,
        1 << 63,
        u64::MAX,
        u64::MAX - 1,
    ];
    if rng.one_in(4) {
        rng.next_u64() >> rng.below(64)
    } else {
        *rng.pick(EDGES)
    }
}

/// The protobuf varint encoding of `v`.
pub fn varint(mut v: u64) -> Vec<u8> {
    let mut out = vec![];
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A JSON text mutation: the document mutated structurally (most cases),
/// or its text mutated byte-wise (syntax errors, huge literals, cut-offs).
pub fn mutate_json_text(rng: &mut Rng, doc: &Value) -> Vec<u8> {
    if rng.one_in(4) {
        let text = serde_json::to_vec(doc).expect("a Value serializes");
        if rng.one_in(3) {
            // Literals no 64-bit field holds.
            let s = String::from_utf8_lossy(&text).replacen(
                "1,",
                "123456789012345678901234567890,",
                1 + rng.below(3),
            );
            return s.into_bytes();
        }
        return mutate_bytes(rng, &text, &[]);
    }
    serde_json::to_vec(&mutate_json(rng, doc)).expect("a Value serializes")
}

/// What a fuzz run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Cases run.
    pub cases: usize,
    /// Cases the target accepted (its closure returned `true`).
    pub accepted: usize,
    /// Seconds taken.
    pub seconds: f64,
}

/// Runs `cases` cases of a target: `case(rng, index)` builds and checks one
/// case and returns whether the input was accepted. A panic is caught, the
/// case is printed by `describe` (shortened), and the test fails at the
/// end with the number of panics; zero panics is the assertion. The
/// report is printed (`cargo test -- --nocapture` shows it).
pub fn run<I>(
    name: &str,
    seed: u64,
    cases: usize,
    mut make: impl FnMut(&mut Rng, usize) -> I,
    check: impl Fn(&I) -> bool,
    describe: impl Fn(&I) -> String,
) -> Report {
    let mut rng = Rng::new(seed);
    let start = Instant::now();
    let (mut accepted, mut panics) = (0, vec![]);
    for index in 0..cases {
        let input = make(&mut rng, index);
        match catch_unwind(AssertUnwindSafe(|| check(&input))) {
            Ok(true) => accepted += 1,
            Ok(false) => {}
            Err(payload) => {
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                if panics.len() < 5 {
                    let mut text = describe(&input);
                    if text.len() > 2000 {
                        let mut cut = 2000;
                        while !text.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        text.truncate(cut);
                        text.push('…');
                    }
                    eprintln!("{name}: case {index} panicked: {message}\n  input: {text}");
                }
                panics.push(index);
            }
        }
    }
    let report = Report {
        cases,
        accepted,
        seconds: start.elapsed().as_secs_f64(),
    };
    eprintln!(
        "fuzz {name}: {} cases, {} accepted, {} panics, {:.1} s",
        report.cases,
        report.accepted,
        panics.len(),
        report.seconds
    );
    assert!(
        panics.is_empty(),
        "{name}: {} of {cases} cases panicked (first cases: {:?})",
        panics.len(),
        &panics[..panics.len().min(10)]
    );
    report
}

/// Text for a panic report: UTF-8 shown as is, bytes as hex.
pub fn show_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert!((0..100).all(|_| a.below(3) < 3));
    }

    #[test]
    fn varints_encode() {
        assert_eq!(varint(1), [1]);
        assert_eq!(varint(300), [0xac, 0x02]);
        assert_eq!(varint(u64::MAX).len(), 10);
    }

    #[test]
    fn fields_group_array_elements() {
        let doc: Value = serde_json::from_str(r#"{"a": [1, 2], "b": {"c": 3}, "d": "x"}"#).unwrap();
        let f = fields(&doc, true);
        assert_eq!(f["/a/*"], vec!["/a/0", "/a/1"]);
        assert_eq!(f["/b/c"], vec!["/b/c"]);
        assert!(!f.contains_key("/d"));
        let cases = extreme_field_cases(&doc, &mut Rng::new(1));
        assert_eq!(cases.len(), EXTREMES.len() * 3);
    }

    #[test]
    fn a_panic_fails_the_run() {
        let result = catch_unwind(|| {
            run(
                "panics",
                1,
                3,
                |_, i| i,
                |&i| if i == 1 { panic!("boom") } else { true },
                |i| i.to_string(),
            )
        });
        assert!(result.is_err());
    }
}
