//! Working buffers of tile builders, pooled across builders.
//!
//! Building a dense tile touches a few megabytes of working memory (geometry
//! commands, dictionaries, encoded features). Fresh memory costs a page fault per
//! 4 KiB on first touch, which measured at about a third of the time of a z10 tile
//! of 5k points. So a builder takes its buffers from a small process-wide pool and
//! gives them back when dropped: the server gets warm buffers without managing
//! them. The pool holds at most [`POOL_MAX`] sets, and a set that grew beyond
//! [`KEEP_BYTES_MAX`] (after a huge low-zoom tile) is freed rather than kept.

use std::sync::{Mutex, PoisonError};

use crate::dict::Dictionary;
use crate::encode::GeomType;
use crate::mercator::TileTransform;
use crate::prepare::Preparer;
use crate::thin::{Candidate, Selection};

/// Buffer sets kept for reuse (about the number of threads building tiles).
pub const POOL_MAX: usize = 16;

/// A buffer set larger than this is freed, not pooled.
pub const KEEP_BYTES_MAX: usize = 16 << 20;

static POOL: Mutex<Vec<Scratch>> = Mutex::new(Vec::new());

/// A prepared feature waiting for selection (same index as its candidate).
#[derive(Debug)]
pub(crate) struct Pending {
    pub kind: GeomType,
    pub geometry: std::ops::Range<usize>,
}

/// Everything a builder reuses from layer to layer and tile to tile.
#[derive(Debug)]
pub(crate) struct Scratch {
    pub preparer: Preparer,
    pub dict: Dictionary,
    pub geometry: Vec<u32>,
    pub pending: Vec<Pending>,
    pub candidates: Vec<Candidate>,
    pub selection: Selection,
    pub tags: Vec<u32>,
    pub features: Vec<u8>,
}

impl Scratch {
    /// A buffer set from the pool (or a new one), set up for a tile.
    pub(crate) fn acquire(transform: TileTransform, buffer: u32, tolerance: f64) -> Self {
        let pooled = POOL.lock().unwrap_or_else(PoisonError::into_inner).pop();
        match pooled {
            Some(mut s) => {
                s.preparer.retarget(transform, buffer, tolerance);
                s
            }
            None => Self {
                preparer: Preparer::new(transform, buffer, tolerance),
                dict: Dictionary::default(),
                geometry: Vec::new(),
                pending: Vec::new(),
                candidates: Vec::new(),
                selection: Selection::default(),
                tags: Vec::new(),
                features: Vec::new(),
            },
        }
    }

    /// Gives the buffers back to the pool, unless it is full or they are huge.
    pub(crate) fn release(self) {
        if self.retained_bytes() > KEEP_BYTES_MAX {
            return;
        }
        let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < POOL_MAX {
            pool.push(self);
        }
    }

    /// Roughly the heap memory held.
    fn retained_bytes(&self) -> usize {
        fn bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        self.preparer.capacity_bytes()
            + self.dict.capacity_bytes()
            + bytes(&self.geometry)
            + bytes(&self.pending)
            + bytes(&self.candidates)
            + bytes(&self.selection.kept)
            + bytes(&self.tags)
            + bytes(&self.features)
    }
}
