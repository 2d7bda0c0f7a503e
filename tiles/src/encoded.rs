//! Property values encoded once per layer version, so that a tile only looks
//! values up by number.
//!
//! Encoding a dense point tile is mostly property work: every kept point
//! carries a unique name (one hash of its text, a probe of the layer's value
//! dictionary, a copy) and reads its feature's scattered heap data.
//! [`EncodedProperties`] does that once for the whole layer: each distinct
//! value (by the dictionary's own equality: strings by content, `Int(5)` =
//! `UInt(5)`, floats by bits) gets a number and its `Layer.values` bytes, and
//! each feature a row of value numbers for a fixed list of keys. A tile then
//! maps value numbers to its own dictionary ids through an epoch-stamped
//! array and copies the bytes of values it meets first
//! ([`crate::TileBuilder::add_encoded_points`]) — the same ids in the same
//! order as the per-feature path, so the same bytes.

use crate::dict::{hash_str, scalar_of, write_scalar_value, write_string_value};
use crate::dict::{Interned, Interner, Scalar};
use crate::feature::TileValue;
use crate::hash::FxHashMap;

/// A missing value (MVT has no null: the key is left out).
pub const ABSENT: u32 = u32::MAX;

/// The property values of a layer's features for a fixed list of keys.
#[derive(Debug, Default)]
pub struct EncodedProperties {
    keys: Vec<String>,
    /// `keys.len()` value numbers per feature ([`ABSENT`] for none).
    rows: Vec<u32>,
    /// The `Layer.values` entries, back to back, in value-number order.
    values: Vec<u8>,
    /// Start of each value's bytes in `values`, plus the end.
    offsets: Vec<u32>,
    /// Value number of each scalar (for values a tile adds by content).
    scalars: FxHashMap<Scalar, u32>,
}

impl EncodedProperties {
    /// The keys, in the order rows list their values.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Rows (features).
    pub fn len(&self) -> usize {
        self.rows.len().checked_div(self.keys.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Distinct values.
    pub fn value_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The value numbers of row `i` (one per key), if there is such a row.
    #[inline]
    pub fn row(&self, i: usize) -> Option<&[u32]> {
        let w = self.keys.len();
        self.rows.get(i * w..(i + 1) * w)
    }

    /// The encoded `Layer.values` entry of value `g`.
    #[inline]
    pub(crate) fn value_bytes(&self, g: u32) -> &[u8] {
        let g = g as usize;
        match (self.offsets.get(g), self.offsets.get(g + 1)) {
            (Some(&a), Some(&b)) => self.values.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The number of a scalar value, if some row holds it.
    #[inline]
    pub(crate) fn scalar(&self, value: TileValue<'_>) -> Option<u32> {
        if self.scalars.is_empty() {
            return None;
        }
        scalar_of(value)
            .ok()
            .and_then(|s| self.scalars.get(&s).copied())
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * 4
            + self.values.capacity()
            + self.offsets.capacity() * 4
            + self.scalars.capacity() * (std::mem::size_of::<Scalar>() + 8)
            + self.keys.iter().map(|k| k.capacity() + 24).sum::<usize>()
    }
}

/// Builds [`EncodedProperties`] row by row.
#[derive(Debug, Default)]
pub struct EncodedPropertiesBuilder {
    table: EncodedProperties,
    strings: Interner,
    /// Set when the table outgrew 32-bit offsets or value numbers.
    overflow: bool,
}

impl EncodedPropertiesBuilder {
    /// A table whose rows hold values for `keys`, in this order.
    pub fn new(keys: Vec<String>) -> Self {
        Self {
            table: EncodedProperties {
                keys,
                offsets: vec![0],
                ..EncodedProperties::default()
            },
            ..Self::default()
        }
    }

    /// Adds the next row: one value per key, in key order (`None`: absent).
    /// Missing trailing values are absent; extra ones are ignored.
    pub fn push_row<'a>(&mut self, values: impl IntoIterator<Item = Option<TileValue<'a>>>) {
        let w = self.table.keys.len();
        let start = self.table.rows.len();
        for v in values.into_iter().take(w) {
            let g = v.map_or(ABSENT, |v| self.number(v));
            self.table.rows.push(g);
        }
        self.table.rows.resize(start + w, ABSENT);
    }

    fn number(&mut self, value: TileValue<'_>) -> u32 {
        let t = &mut self.table;
        let next = t.offsets.len() as u32 - 1;
        match scalar_of(value) {
            Ok(scalar) => {
                if let Some(&g) = t.scalars.get(&scalar) {
                    return g;
                }
                t.scalars.insert(scalar, next);
                write_scalar_value(&mut t.values, scalar);
            }
            Err(s) => {
                let hash = hash_str(s);
                if let Some(g) = self.strings.get(&t.values, s, hash) {
                    return g;
                }
                let start = write_string_value(&mut t.values, s);
                self.strings.insert(
                    hash,
                    Interned {
                        start,
                        len: s.len() as u32,
                        id: next,
                    },
                );
            }
        }
        match u32::try_from(t.values.len()) {
            Ok(end) if next < ABSENT - 1 => t.offsets.push(end),
            _ => {
                self.overflow = true;
                t.offsets.push(0);
            }
        }
        next
    }

    /// The table; `None` when it grew beyond 4 GiB of values or 2^32 - 2
    /// distinct values (the caller then encodes per feature).
    pub fn finish(mut self) -> Option<EncodedProperties> {
        if self.overflow {
            return None;
        }
        let t = &mut self.table;
        t.rows.shrink_to_fit();
        t.values.shrink_to_fit();
        t.offsets.shrink_to_fit();
        t.scalars.shrink_to_fit();
        Some(self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_numbered_once_by_dictionary_equality() {
        let mut b = EncodedPropertiesBuilder::new(vec!["a".into(), "b".into(), "c".into()]);
        b.push_row([Some(TileValue::Str("x")), Some(TileValue::Int(5)), None]);
        b.push_row([
            Some(TileValue::UInt(5)),
            Some(TileValue::Str("x")),
            Some(TileValue::Double(5.0)),
        ]);
        b.push_row([Some(TileValue::Int(-5))]);
        let t = b.finish().expect("table");
        assert_eq!(t.len(), 3);
        assert_eq!(t.value_count(), 4);
        assert_eq!(t.row(0), Some(&[0, 1, ABSENT][..]));
        assert_eq!(t.row(1), Some(&[1, 0, 2][..]));
        assert_eq!(t.row(2), Some(&[3, ABSENT, ABSENT][..]));
        assert_eq!(t.row(3), None);
        // "x": field 4, length 3, field 1 (string), length 1, 'x'.
        assert_eq!(t.value_bytes(0), &[0x22, 3, 0x0a, 1, b'x']);
        assert_eq!(t.scalar(TileValue::UInt(5)), Some(1));
        assert_eq!(t.scalar(TileValue::Int(5)), Some(1));
        assert_eq!(t.scalar(TileValue::UInt(6)), None);
        assert_eq!(t.scalar(TileValue::Str("x")), None);
    }
}
