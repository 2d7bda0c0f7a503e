//! Small, fast, deterministic hashing used inside the crate.
//!
//! The key/value dictionaries of a layer are looked up once per property of every
//! feature, so SipHash (std's default, built to resist hash flooding) would be a
//! measurable share of the encoding time. The inputs are our own layer data, not
//! attacker-chosen keys, so an Fx-style multiplicative hash is enough.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with the [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The hash used by rustc (Fx): a rotate, xor and multiply per word.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// SplitMix64: a well-mixed bijection of `u64`. Used to rank features by their id
/// so that thinning keeps a spatially unbiased, input-order-independent sample.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_is_deterministic_and_spreads() {
        assert_eq!(mix64(1), mix64(1));
        assert_ne!(mix64(1), mix64(2));
        // Consecutive ids land far apart.
        assert!((mix64(1) ^ mix64(2)).count_ones() > 16);
    }

    #[test]
    fn fx_map_works_with_borrowed_lookups() {
        let mut m: FxHashMap<Box<str>, u32> = FxHashMap::default();
        m.insert("name_zh".into(), 0);
        m.insert("a much longer key than eight bytes".into(), 1);
        assert_eq!(m.get("name_zh"), Some(&0));
        assert_eq!(m.get("a much longer key than eight bytes"), Some(&1));
        assert_eq!(m.get("name_en"), None);
    }
}
