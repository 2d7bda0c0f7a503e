//! The key and value dictionaries of one MVT layer: every distinct key and value
//! is stored once, and features refer to them by index (their tags).
//!
//! This is the hottest part of encoding point layers (one lookup per property of
//! every feature), so:
//! - strings are interned by content in an open-addressing table that points into
//!   the already encoded `keys`/`values` bytes — no allocation per string;
//! - keys are first looked up by position: features of a layer usually write
//!   their properties in the same order, so the key seen at the same position in
//!   the previous feature is checked with one comparison before hashing.

use std::hash::Hasher;

use crate::encode::{varint_len, write_key, write_varint, zigzag64, FIXED32, FIXED64, LEN, VARINT};
use crate::encoded::EncodedProperties;
use crate::feature::TileValue;
use crate::hash::{FxHashMap, FxHasher};

/// Non-string values as dictionary keys (floats by their bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Scalar {
    UInt(u64),
    SInt(i64),
    Double(u64),
    Float(u32),
    Bool(bool),
}

/// A string interned in a byte buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Interned {
    pub start: u32,
    pub len: u32,
    pub id: u32,
}

/// An open-addressing hash set of strings stored elsewhere (in `buf`).
///
/// A slot holds the string's 32-bit hash next to its entry number, so a probe
/// that meets other strings compares hashes in the slot array alone; the entry
/// and the bytes are read only on a hash match. Unique strings (names, ids) thus
/// cost one cache miss, not three.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    /// 0 = empty, else `hash << 32 | (entry + 1)`. Length: a power of two.
    slots: Vec<u64>,
    entries: Vec<Interned>,
}

pub(crate) fn hash_str(s: &str) -> u32 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    // Fx's high bits are the well-mixed ones.
    (h.finish() >> 32) as u32
}

impl Interner {
    fn clear(&mut self) {
        // A pooled table can be large; an empty one needs no sweep.
        if !self.entries.is_empty() {
            self.entries.clear();
            self.slots.iter_mut().for_each(|s| *s = 0);
        }
    }

    fn capacity_bytes(&self) -> usize {
        self.slots.capacity() * 8 + self.entries.capacity() * std::mem::size_of::<Interned>()
    }

    pub(crate) fn get(&self, buf: &[u8], s: &str, hash: u32) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                return None;
            }
            if (slot >> 32) as u32 == hash {
                let e = self.entries[(slot as u32 - 1) as usize];
                if buf.get(e.start as usize..(e.start + e.len) as usize) == Some(s.as_bytes()) {
                    return Some(e.id);
                }
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn insert(&mut self, hash: u32, e: Interned) {
        if (self.entries.len() + 1) * 2 > self.slots.len() {
            let cap = (self.slots.len() * 2).max(64);
            let old = std::mem::replace(&mut self.slots, vec![0; cap]);
            for slot in old.into_iter().filter(|&s| s != 0) {
                Self::place(&mut self.slots, slot);
            }
        }
        self.entries.push(e);
        let slot = (u64::from(hash) << 32) | self.entries.len() as u64;
        Self::place(&mut self.slots, slot);
    }

    fn place(slots: &mut [u64], slot: u64) {
        let mask = slots.len() - 1;
        let mut i = (slot >> 32) as usize & mask;
        while slots[i] != 0 {
            i = (i + 1) & mask;
        }
        slots[i] = slot;
    }

    /// The bytes of the `n`-th interned string (for keys, `n` is the key id).
    fn bytes<'b>(&self, buf: &'b [u8], n: u32) -> Option<&'b [u8]> {
        let e = self.entries.get(n as usize)?;
        buf.get(e.start as usize..(e.start + e.len) as usize)
    }
}

/// A layer's keys and values, each stored once and referred to by index.
#[derive(Debug, Default)]
pub(crate) struct Dictionary {
    keys: Interner,
    keys_buf: Vec<u8>,
    /// Key id seen at each property position of the previous feature.
    key_hint: Vec<u32>,
    strings: Interner,
    scalars: FxHashMap<Scalar, u32>,
    values_buf: Vec<u8>,
    value_count: u32,
    /// Values of an [`EncodedProperties`] table already in this layer: per
    /// table value, `(epoch, value id)`; an entry counts only when its epoch
    /// is the current one, so clearing is a counter increment, not a sweep.
    stamps: Vec<(u32, u32)>,
    epoch: u32,
}

impl Dictionary {
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.keys_buf.clear();
        self.key_hint.clear();
        self.strings.clear();
        self.scalars.clear();
        self.values_buf.clear();
        self.value_count = 0;
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamps.iter_mut().for_each(|s| *s = (0, 0));
            self.epoch = 1;
        }
    }

    /// The id of value `g` of a pre-encoded table in this layer, adding its
    /// bytes on first use. A layer takes its values either from one table or
    /// by content ([`Dictionary::value`]), except for scalars the table does
    /// not hold (see [`EncodedProperties::scalar`]), so ids never collide.
    #[inline]
    pub(crate) fn encoded_value(&mut self, g: u32, table: &EncodedProperties) -> u32 {
        if self.epoch == 0 {
            // A fresh dictionary: no stamp can be current yet.
            self.epoch = 1;
        }
        let gi = g as usize;
        if gi >= self.stamps.len() {
            self.stamps.resize(table.value_count().max(gi + 1), (0, 0));
        }
        let epoch = self.epoch;
        let (seen, id) = self.stamps[gi];
        if seen == epoch {
            return id;
        }
        let id = self.next_value();
        self.stamps[gi] = (epoch, id);
        self.values_buf.extend_from_slice(table.value_bytes(g));
        id
    }

    /// Heap memory held (for the buffer pool's bound).
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.keys.capacity_bytes()
            + self.strings.capacity_bytes()
            + self.keys_buf.capacity()
            + self.values_buf.capacity()
            + self.key_hint.capacity() * 4
            + self.scalars.capacity() * (std::mem::size_of::<Scalar>() + 8)
            + self.stamps.capacity() * 8
    }

    /// The encoded `keys` and `values` fields of the layer.
    pub(crate) fn encoded(&self) -> (&[u8], &[u8]) {
        (&self.keys_buf, &self.values_buf)
    }

    pub(crate) fn key(&mut self, key: &str, position: usize) -> u32 {
        if let Some(&k) = self.key_hint.get(position) {
            if self.keys.bytes(&self.keys_buf, k) == Some(key.as_bytes()) {
                return k;
            }
        }
        let hash = hash_str(key);
        let k = match self.keys.get(&self.keys_buf, key, hash) {
            Some(k) => k,
            None => {
                let id = self.keys.entries.len() as u32;
                write_key(&mut self.keys_buf, 3, LEN);
                write_varint(&mut self.keys_buf, key.len() as u64);
                let start = self.keys_buf.len() as u32;
                self.keys_buf.extend_from_slice(key.as_bytes());
                self.keys.insert(
                    hash,
                    Interned {
                        start,
                        len: key.len() as u32,
                        id,
                    },
                );
                id
            }
        };
        if position >= self.key_hint.len() {
            self.key_hint.resize(position + 1, u32::MAX);
        }
        self.key_hint[position] = k;
        k
    }

    pub(crate) fn value(&mut self, value: TileValue<'_>) -> u32 {
        let scalar = match scalar_of(value) {
            Ok(scalar) => scalar,
            Err(s) => return self.string(s),
        };
        if let Some(&i) = self.scalars.get(&scalar) {
            return i;
        }
        let i = self.next_value();
        self.scalars.insert(scalar, i);
        write_scalar_value(&mut self.values_buf, scalar);
        i
    }

    fn string(&mut self, s: &str) -> u32 {
        let hash = hash_str(s);
        if let Some(i) = self.strings.get(&self.values_buf, s, hash) {
            return i;
        }
        let id = self.next_value();
        let start = write_string_value(&mut self.values_buf, s);
        self.strings.insert(
            hash,
            Interned {
                start,
                len: s.len() as u32,
                id,
            },
        );
        id
    }

    fn next_value(&mut self) -> u32 {
        let i = self.value_count;
        self.value_count += 1;
        i
    }
}

/// A value as a dictionary key: a [`Scalar`], or the string itself.
/// `Int(5)` and `UInt(5)` are the same value (both written as `uint_value`).
#[inline]
pub(crate) fn scalar_of(value: TileValue<'_>) -> Result<Scalar, &str> {
    Ok(match value {
        TileValue::Str(s) => return Err(s),
        TileValue::Int(v) if v >= 0 => Scalar::UInt(v as u64),
        TileValue::Int(v) => Scalar::SInt(v),
        TileValue::UInt(v) => Scalar::UInt(v),
        TileValue::Double(v) => Scalar::Double(v.to_bits()),
        TileValue::Float(v) => Scalar::Float(v.to_bits()),
        TileValue::Bool(v) => Scalar::Bool(v),
    })
}

/// Appends one `Layer.values` entry (field 4) holding a scalar.
pub(crate) fn write_scalar_value(buf: &mut Vec<u8>, scalar: Scalar) {
    write_key(buf, 4, LEN);
    match scalar {
        Scalar::Float(bits) => {
            write_varint(buf, 5);
            write_key(buf, 2, FIXED32);
            buf.extend_from_slice(&bits.to_le_bytes());
        }
        Scalar::Double(bits) => {
            write_varint(buf, 9);
            write_key(buf, 3, FIXED64);
            buf.extend_from_slice(&bits.to_le_bytes());
        }
        Scalar::UInt(v) => {
            write_varint(buf, 1 + varint_len(v) as u64);
            write_key(buf, 5, VARINT);
            write_varint(buf, v);
        }
        Scalar::SInt(v) => {
            let z = zigzag64(v);
            write_varint(buf, 1 + varint_len(z) as u64);
            write_key(buf, 6, VARINT);
            write_varint(buf, z);
        }
        Scalar::Bool(v) => {
            write_varint(buf, 2);
            write_key(buf, 7, VARINT);
            write_varint(buf, u64::from(v));
        }
    }
}

/// Appends one `Layer.values` entry holding a string; returns where the
/// string's own bytes start in `buf` (for interning them in place).
pub(crate) fn write_string_value(buf: &mut Vec<u8>, s: &str) -> u32 {
    write_key(buf, 4, LEN);
    write_varint(buf, (1 + varint_len(s.len() as u64) + s.len()) as u64);
    write_key(buf, 1, LEN);
    write_varint(buf, s.len() as u64);
    let start = buf.len() as u32;
    buf.extend_from_slice(s.as_bytes());
    start
}

/// Receives a feature's properties and turns them into tags, keeping only the
/// properties the layer's rules keep at this zoom.
pub struct PropertySink<'a> {
    dict: &'a mut Dictionary,
    tags: &'a mut Vec<u32>,
    /// `Some(names)` at low zoom: only these properties are kept.
    only: Option<&'a [String]>,
    /// How many properties this feature has written (the key hint's index).
    position: usize,
}

impl<'a> PropertySink<'a> {
    pub(crate) fn new(
        dict: &'a mut Dictionary,
        tags: &'a mut Vec<u32>,
        only: Option<&'a [String]>,
    ) -> Self {
        Self {
            dict,
            tags,
            only,
            position: 0,
        }
    }

    /// Whether a property of this name is kept; lets a caller skip computing a
    /// value that would be dropped.
    #[inline]
    pub fn wants(&self, key: &str) -> bool {
        self.only.is_none_or(|names| names.iter().any(|n| n == key))
    }

    /// Adds a property (dropped when the rules leave it out at this zoom).
    #[inline]
    pub fn add(&mut self, key: &str, value: TileValue<'_>) {
        if self.wants(key) {
            self.add_always(key, value);
        }
    }

    /// Adds a property the caller has already checked with
    /// [`PropertySink::wants`] (or keeps a precomputed mask of): no name
    /// comparison per feature.
    #[inline]
    pub fn add_kept(&mut self, key: &str, value: TileValue<'_>) {
        self.add_always(key, value);
    }

    /// Adds a property whatever the rules say (the builder's own, `point_count`).
    pub(crate) fn add_always(&mut self, key: &str, value: TileValue<'_>) {
        let k = self.dict.key(key, self.position);
        let v = self.dict.value(value);
        self.position += 1;
        self.tags.push(k);
        self.tags.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_are_deduplicated() {
        let mut d = Dictionary::default();
        let mut tags = Vec::new();
        {
            let mut s = PropertySink::new(&mut d, &mut tags, None);
            s.add("name", TileValue::Str("宜宾"));
            s.add("n", TileValue::Int(5));
            s.add("m", TileValue::UInt(5));
            s.add("name", TileValue::Str("宜宾"));
            s.add("x", TileValue::Double(5.0));
            s.add("neg", TileValue::Int(-5));
            s.add("b", TileValue::Bool(true));
            s.add("s5", TileValue::Str("5"));
        }
        assert_eq!(tags, vec![0, 0, 1, 1, 2, 1, 0, 0, 3, 2, 4, 3, 5, 4, 6, 5]);
        assert_eq!(d.keys.entries.len(), 7);
        assert_eq!(d.value_count, 6);
    }

    #[test]
    fn key_hints_follow_the_previous_feature_and_survive_changes() {
        let mut d = Dictionary::default();
        let mut tags = Vec::new();
        for order in [
            ["a", "b", "c"],
            ["a", "b", "c"],
            ["c", "a", "b"],
            ["b", "x", "a"],
        ] {
            tags.clear();
            let mut s = PropertySink::new(&mut d, &mut tags, None);
            for k in order {
                s.add(k, TileValue::Bool(true));
            }
            let names: Vec<&[u8]> = tags
                .chunks(2)
                .map(|kv| d.keys.bytes(&d.keys_buf, kv[0]).expect("key"))
                .collect();
            let expected: Vec<&[u8]> = order.iter().map(|k| k.as_bytes()).collect();
            assert_eq!(names, expected);
        }
        assert_eq!(d.keys.entries.len(), 4);
    }

    #[test]
    fn many_strings_survive_growth_and_clear() {
        let mut d = Dictionary::default();
        let mut tags = Vec::new();
        for round in 0..2 {
            d.clear();
            for i in 0..5000 {
                let mut s = PropertySink::new(&mut d, &mut tags, None);
                s.add("name", TileValue::Str(&format!("n{}", i % 3000)));
            }
            assert_eq!(d.value_count, 3000, "round {round}");
            assert_eq!(d.keys.entries.len(), 1);
        }
    }

    #[test]
    fn low_zoom_filter() {
        let mut d = Dictionary::default();
        let mut tags = Vec::new();
        let only = vec!["name".to_string()];
        let mut s = PropertySink::new(&mut d, &mut tags, Some(&only));
        assert!(s.wants("name") && !s.wants("contact"));
        s.add("contact", TileValue::Str("123"));
        s.add("name", TileValue::Str("a"));
        s.add_always("point_count", TileValue::UInt(3));
        assert_eq!(tags, vec![0, 0, 1, 1]);
    }
}
