//! The MVT 2.1 wire format, written directly: protobuf varints and
//! length-delimited fields, and geometry commands. The per-layer key/value
//! dictionaries are in `dict`.
//!
//! Writing the protobuf by hand (instead of through the `mvt` crate) lets the
//! builder reuse every buffer across features and layers, and compute each
//! message's length up front so nothing is encoded twice.
//!
//! Geometry commands: `MoveTo` (1), `LineTo` (2), `ClosePath` (7), each as
//! `(id & 7) | (count << 3)`, followed by `count` pairs of zigzag-encoded deltas
//! from a cursor that starts at (0, 0) for every feature.

use crate::simplify::GridPoint;

/// The MVT geometry type of a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeomType {
    Point = 1,
    LineString = 2,
    Polygon = 3,
}

pub(crate) const MOVE_TO: u32 = 1;
pub(crate) const LINE_TO: u32 = 2;
pub(crate) const CLOSE_PATH: u32 = 7;

/// A command integer.
#[inline]
pub fn command(id: u32, count: u32) -> u32 {
    (id & 0x7) | (count << 3)
}

/// Zigzag encoding of a parameter: 0, -1, 1, -2 … → 0, 1, 2, 3 …
#[inline]
pub fn zigzag(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

#[inline]
pub(crate) fn zigzag64(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

#[inline]
fn push_delta(out: &mut Vec<u32>, cursor: &mut GridPoint, p: GridPoint) {
    out.push(zigzag(p[0] - cursor[0]));
    out.push(zigzag(p[1] - cursor[1]));
    *cursor = p;
}

/// Appends the commands of points (one `MoveTo` with a count).
pub(crate) fn write_points(out: &mut Vec<u32>, cursor: &mut GridPoint, points: &[GridPoint]) {
    if points.is_empty() {
        return;
    }
    out.push(command(MOVE_TO, points.len() as u32));
    for &p in points {
        push_delta(out, cursor, p);
    }
}

/// Appends a line part: `MoveTo(1)`, `LineTo(n-1)`. The caller guarantees at least
/// 2 vertices without consecutive repeats (a zero `LineTo` is not allowed).
pub(crate) fn write_line(out: &mut Vec<u32>, cursor: &mut GridPoint, line: &[GridPoint]) {
    let Some((&first, rest)) = line.split_first() else {
        return;
    };
    out.push(command(MOVE_TO, 1));
    push_delta(out, cursor, first);
    out.push(command(LINE_TO, rest.len() as u32));
    for &p in rest {
        push_delta(out, cursor, p);
    }
}

/// Appends a ring: `MoveTo(1)`, `LineTo(n-1)`, `ClosePath`, with no repeated
/// closing vertex. The caller has oriented it already.
pub(crate) fn write_ring(out: &mut Vec<u32>, cursor: &mut GridPoint, ring: &[GridPoint]) {
    write_line(out, cursor, ring);
    out.push(command(CLOSE_PATH, 1));
}

// ---- protobuf primitives ----

pub(crate) const VARINT: u32 = 0;
pub(crate) const FIXED64: u32 = 1;
pub(crate) const LEN: u32 = 2;
pub(crate) const FIXED32: u32 = 5;

#[inline]
pub(crate) fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[inline]
pub(crate) fn varint_len(v: u64) -> usize {
    // 1 byte per started group of 7 bits, at least one.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

#[inline]
pub(crate) fn write_key(out: &mut Vec<u8>, field: u32, wire: u32) {
    write_varint(out, u64::from((field << 3) | wire));
}

fn packed_len(values: &[u32]) -> usize {
    values.iter().map(|&v| varint_len(u64::from(v))).sum()
}

fn write_packed(out: &mut Vec<u8>, field: u32, values: &[u32], len: usize) {
    write_key(out, field, LEN);
    write_varint(out, len as u64);
    for &v in values {
        write_varint(out, u64::from(v));
    }
}

/// Appends one `Layer.features` entry (field 2 of a layer).
pub(crate) fn write_feature(
    out: &mut Vec<u8>,
    id: u64,
    tags: &[u32],
    geom_type: GeomType,
    geometry: &[u32],
) {
    let tags_len = packed_len(tags);
    let geom_len = packed_len(geometry);
    let mut body = 1 + varint_len(id) + 2 + 1 + varint_len(geom_len as u64) + geom_len;
    if !tags.is_empty() {
        body += 1 + varint_len(tags_len as u64) + tags_len;
    }
    write_key(out, 2, LEN);
    write_varint(out, body as u64);
    write_key(out, 1, VARINT);
    write_varint(out, id);
    if !tags.is_empty() {
        write_packed(out, 2, tags, tags_len);
    }
    write_key(out, 3, VARINT);
    write_varint(out, geom_type as u64);
    write_packed(out, 4, geometry, geom_len);
}

/// Appends one `Tile.layers` entry (field 3 of a tile): version 2, the name, the
/// already encoded features, keys and values, and the extent.
pub(crate) fn write_layer(
    out: &mut Vec<u8>,
    name: &str,
    extent: u32,
    features: &[u8],
    (keys, values): (&[u8], &[u8]),
) {
    let body = 2
        + 1
        + varint_len(name.len() as u64)
        + name.len()
        + features.len()
        + keys.len()
        + values.len()
        + 1
        + varint_len(u64::from(extent));
    out.reserve(body + 8);
    write_key(out, 3, LEN);
    write_varint(out, body as u64);
    write_key(out, 15, VARINT);
    write_varint(out, 2);
    write_key(out, 1, LEN);
    write_varint(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(features);
    out.extend_from_slice(keys);
    out.extend_from_slice(values);
    write_key(out, 5, VARINT);
    write_varint(out, u64::from(extent));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_values() {
        let cases = [
            (0, 0),
            (-1, 1),
            (1, 2),
            (-2, 3),
            (2, 4),
            (4160, 8320),
            (-4160, 8319),
        ];
        for (n, z) in cases {
            assert_eq!(zigzag(n), z, "zigzag({n})");
        }
        assert_eq!(zigzag(i32::MAX), u32::MAX - 1);
        assert_eq!(zigzag(i32::MIN), u32::MAX);
        assert_eq!(zigzag64(-3), 5);
    }

    #[test]
    fn command_integers() {
        // From the MVT 2.1 spec examples.
        assert_eq!(command(MOVE_TO, 1), 9);
        assert_eq!(command(LINE_TO, 3), 26);
        assert_eq!(command(CLOSE_PATH, 1), 15);
        assert_eq!(command(MOVE_TO, 120), 961);
    }

    #[test]
    fn spec_example_geometries() {
        // Spec 4.3.5: a point at (25, 17).
        let (mut out, mut cur) = (Vec::new(), [0, 0]);
        write_points(&mut out, &mut cur, &[[25, 17]]);
        assert_eq!(out, vec![9, 50, 34]);
        // A line (2,2) (2,10) (10,10).
        let (mut out, mut cur) = (Vec::new(), [0, 0]);
        write_line(&mut out, &mut cur, &[[2, 2], [2, 10], [10, 10]]);
        assert_eq!(out, vec![9, 4, 4, 18, 0, 16, 16, 0]);
        // A polygon (3,6) (8,12) (20,34).
        let (mut out, mut cur) = (Vec::new(), [0, 0]);
        write_ring(&mut out, &mut cur, &[[3, 6], [8, 12], [20, 34]]);
        assert_eq!(out, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
    }

    #[test]
    fn varints() {
        for (v, len) in [(0u64, 1usize), (127, 1), (128, 2), (16_383, 2), (16_384, 3)] {
            let mut out = Vec::new();
            write_varint(&mut out, v);
            assert_eq!((out.len(), varint_len(v)), (len, len), "{v}");
        }
        assert_eq!(varint_len(u64::MAX), 10);
        let mut out = Vec::new();
        write_varint(&mut out, 300);
        assert_eq!(out, vec![0xac, 0x02]);
    }
}
