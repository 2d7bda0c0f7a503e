//! A small, strict MVT 2.1 decoder, written independently of the encoder to
//! check tiles in tests (this crate's and the server's): it rejects what the spec
//! forbids — malformed protobuf, wrong command counts, zero-length `LineTo`,
//! unclosed or degenerate rings, a polygon starting with a hole, key/value indices
//! out of range, duplicate layer names — instead of guessing.

use std::collections::HashSet;

/// Why a tile does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid MVT: {0}")]
pub struct DecodeError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(msg.into()))
}

/// A decoded property value, as typed on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodedValue {
    Str(String),
    Float(f32),
    Double(f64),
    Int(i64),
    UInt(u64),
    SInt(i64),
    Bool(bool),
}

/// A decoded geometry in tile coordinates. Polygons are grouped from their rings:
/// a ring with positive area starts a polygon, negative ones are its holes.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodedGeometry {
    Points(Vec<[i64; 2]>),
    Lines(Vec<Vec<[i64; 2]>>),
    Polygons(Vec<Vec<Vec<[i64; 2]>>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFeature {
    pub id: Option<u64>,
    pub properties: Vec<(String, DecodedValue)>,
    pub geometry: DecodedGeometry,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecodedLayer {
    pub name: String,
    pub version: u32,
    pub extent: u32,
    pub keys: Vec<String>,
    pub values: Vec<DecodedValue>,
    pub features: Vec<DecodedFeature>,
}

/// Decodes and checks a whole tile.
pub fn decode_tile(bytes: &[u8]) -> Result<Vec<DecodedLayer>, DecodeError> {
    let mut r = Reader(bytes);
    let mut layers = Vec::new();
    let mut names = HashSet::new();
    while !r.0.is_empty() {
        match r.key()? {
            (3, 2) => {
                let layer = decode_layer(r.bytes()?)?;
                if !names.insert(layer.name.clone()) {
                    return err(format!("duplicate layer name {:?}", layer.name));
                }
                layers.push(layer);
            }
            (_, wire) => r.skip(wire)?,
        }
    }
    Ok(layers)
}

struct RawFeature {
    id: Option<u64>,
    tags: Vec<u32>,
    geom_type: u64,
    geometry: Vec<u32>,
}

fn decode_layer(bytes: &[u8]) -> Result<DecodedLayer, DecodeError> {
    let mut r = Reader(bytes);
    let (mut name, mut version, mut extent) = (None, None, 4096u32);
    let (mut keys, mut values, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    while !r.0.is_empty() {
        match r.key()? {
            (15, 0) => version = Some(u32::try_from(r.varint()?).map_err(|_| bad("version"))?),
            (1, 2) => name = Some(utf8(r.bytes()?)?),
            (2, 2) => raw.push(decode_feature(r.bytes()?)?),
            (3, 2) => keys.push(utf8(r.bytes()?)?),
            (4, 2) => values.push(decode_value(r.bytes()?)?),
            (5, 0) => extent = u32::try_from(r.varint()?).map_err(|_| bad("extent"))?,
            (_, wire) => r.skip(wire)?,
        }
    }
    let name = name.ok_or_else(|| bad("layer without a name"))?;
    let version = version.ok_or_else(|| bad("layer without a version"))?;
    if version != 2 {
        return err(format!("layer {name}: version {version}, expected 2"));
    }
    let mut ids = HashSet::new();
    let mut features = Vec::with_capacity(raw.len());
    for f in raw {
        if let Some(id) = f.id {
            if !ids.insert(id) {
                return err(format!("layer {name}: duplicate feature id {id}"));
            }
        }
        if f.tags.len() % 2 != 0 {
            return err(format!("layer {name}: odd number of tags"));
        }
        let mut properties = Vec::with_capacity(f.tags.len() / 2);
        for kv in f.tags.chunks_exact(2) {
            let k = keys
                .get(kv[0] as usize)
                .ok_or_else(|| bad("key index out of range"))?;
            let v = values
                .get(kv[1] as usize)
                .ok_or_else(|| bad("value index out of range"))?;
            properties.push((k.clone(), v.clone()));
        }
        let geometry = decode_typed(f.geom_type, &f.geometry)
            .map_err(|e| DecodeError(format!("layer {name}, feature {:?}: {}", f.id, e.0)))?;
        features.push(DecodedFeature {
            id: f.id,
            properties,
            geometry,
        });
    }
    Ok(DecodedLayer {
        name,
        version,
        extent,
        keys,
        values,
        features,
    })
}

fn decode_feature(bytes: &[u8]) -> Result<RawFeature, DecodeError> {
    let mut r = Reader(bytes);
    let mut f = RawFeature {
        id: None,
        tags: Vec::new(),
        geom_type: 0,
        geometry: Vec::new(),
    };
    while !r.0.is_empty() {
        match r.key()? {
            (1, 0) => f.id = Some(r.varint()?),
            (2, 2) => f.tags = r.packed()?,
            (3, 0) => f.geom_type = r.varint()?,
            (4, 2) => f.geometry = r.packed()?,
            (_, wire) => r.skip(wire)?,
        }
    }
    Ok(f)
}

fn decode_value(bytes: &[u8]) -> Result<DecodedValue, DecodeError> {
    let mut r = Reader(bytes);
    let mut value = None;
    while !r.0.is_empty() {
        let v = match r.key()? {
            (1, 2) => DecodedValue::Str(utf8(r.bytes()?)?),
            (2, 5) => DecodedValue::Float(f32::from_le_bytes(r.fixed()?)),
            (3, 1) => DecodedValue::Double(f64::from_le_bytes(r.fixed()?)),
            (4, 0) => DecodedValue::Int(r.varint()? as i64),
            (5, 0) => DecodedValue::UInt(r.varint()?),
            (6, 0) => {
                let z = r.varint()?;
                DecodedValue::SInt((z >> 1) as i64 ^ -((z & 1) as i64))
            }
            (7, 0) => DecodedValue::Bool(r.varint()? != 0),
            (field, wire) => return err(format!("unknown value field {field} (wire {wire})")),
        };
        if value.replace(v).is_some() {
            return err("value with more than one field");
        }
    }
    value.ok_or_else(|| bad("empty value"))
}

/// Decodes raw commands into parts (one per `MoveTo`; a multi-point `MoveTo`
/// gives one part with all its points), checking counts and zero `LineTo`s.
/// Rings come back without their closing vertex.
pub fn decode_geometry(cmds: &[u32]) -> Result<Vec<Vec<[i64; 2]>>, DecodeError> {
    let (mut parts, mut cur): (Vec<Vec<[i64; 2]>>, [i64; 2]) = (Vec::new(), [0, 0]);
    let mut i = 0;
    while i < cmds.len() {
        let (id, count) = (cmds[i] & 7, (cmds[i] >> 3) as usize);
        i += 1;
        match id {
            1 | 2 => {
                if count == 0 {
                    return err("command with count 0");
                }
                if id == 2 && parts.is_empty() {
                    return err("LineTo before MoveTo");
                }
                if cmds.len() < i + 2 * count {
                    return err("command parameters run past the end");
                }
                if id == 1 {
                    parts.push(Vec::with_capacity(count));
                }
                for pair in cmds[i..i + 2 * count].chunks_exact(2) {
                    let d = [unzigzag(pair[0]), unzigzag(pair[1])];
                    if id == 2 && d == [0, 0] {
                        return err("LineTo with a zero delta");
                    }
                    cur = [cur[0] + d[0], cur[1] + d[1]];
                    if let Some(part) = parts.last_mut() {
                        part.push(cur);
                    }
                }
                i += 2 * count;
            }
            7 => {
                if count != 1 {
                    return err("ClosePath count is not 1");
                }
                // ClosePath adds no vertex; the typed check verifies that it
                // ends every ring and appears nowhere else.
            }
            _ => return err(format!("unknown command {id}")),
        }
    }
    Ok(parts)
}

fn decode_typed(geom_type: u64, cmds: &[u32]) -> Result<DecodedGeometry, DecodeError> {
    let parts = decode_geometry(cmds)?;
    let ids = command_ids(cmds);
    match geom_type {
        1 => {
            if ids.as_slice() != [1] {
                return err("a point geometry is one MoveTo");
            }
            Ok(DecodedGeometry::Points(parts.concat()))
        }
        2 => {
            if ids.is_empty() || ids.chunks(2).any(|c| c != [1, 2]) {
                return err("a line geometry is MoveTo/LineTo pairs");
            }
            if parts.iter().any(|p| p.len() < 2) {
                return err("a MoveTo of a line has more than one point");
            }
            Ok(DecodedGeometry::Lines(parts))
        }
        3 => {
            if ids.is_empty() || ids.chunks(3).any(|c| c != [1, 2, 7]) {
                return err("a polygon geometry is MoveTo/LineTo/ClosePath triples");
            }
            let mut polygons: Vec<Vec<Vec<[i64; 2]>>> = Vec::new();
            for ring in parts {
                if ring.len() < 3 {
                    return err("a ring has fewer than 3 vertices");
                }
                let a = ring_area2(&ring);
                if a > 0 {
                    polygons.push(vec![ring]);
                } else if a < 0 {
                    let Some(poly) = polygons.last_mut() else {
                        return err("the first ring is not an exterior ring (negative area)");
                    };
                    poly.push(ring);
                } else {
                    return err("a ring has zero area");
                }
            }
            Ok(DecodedGeometry::Polygons(polygons))
        }
        other => err(format!("geometry type {other}")),
    }
}

/// The command ids in order (parameters skipped; counts were checked by
/// [`decode_geometry`]).
fn command_ids(cmds: &[u32]) -> Vec<u32> {
    let (mut ids, mut i) = (Vec::new(), 0);
    while i < cmds.len() {
        let (id, count) = (cmds[i] & 7, (cmds[i] >> 3) as usize);
        ids.push(id);
        i += 1 + if id == 7 { 0 } else { 2 * count };
    }
    ids
}

/// Twice the signed area by the surveyor's formula, in tile coordinates.
pub fn ring_area2(ring: &[[i64; 2]]) -> i64 {
    (0..ring.len())
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum()
}

fn unzigzag(v: u32) -> i64 {
    i64::from(v >> 1) ^ -i64::from(v & 1)
}

fn bad(msg: &str) -> DecodeError {
    DecodeError(msg.to_string())
}

fn utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| bad("string is not UTF-8"))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self
                .0
                .split_first()
                .ok_or_else(|| bad("truncated varint"))?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        err("varint longer than 10 bytes")
    }

    fn key(&mut self) -> Result<(u64, u32), DecodeError> {
        let k = self.varint()?;
        Ok((k >> 3, (k & 7) as u32))
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = usize::try_from(self.varint()?).map_err(|_| bad("length"))?;
        if len > self.0.len() {
            return err("length-delimited field runs past the end");
        }
        let (b, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(b)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        if self.0.len() < N {
            return err("truncated fixed-width field");
        }
        let (b, rest) = self.0.split_at(N);
        self.0 = rest;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    fn packed(&mut self) -> Result<Vec<u32>, DecodeError> {
        let mut inner = Reader(self.bytes()?);
        let mut out = Vec::new();
        while !inner.0.is_empty() {
            out.push(u32::try_from(inner.varint()?).map_err(|_| bad("packed value over u32"))?);
        }
        Ok(out)
    }

    fn skip(&mut self, wire: u32) -> Result<(), DecodeError> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.fixed::<8>().map(drop),
            2 => self.bytes().map(drop),
            5 => self.fixed::<4>().map(drop),
            w => err(format!("unsupported wire type {w}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_commands() {
        assert!(
            decode_typed(2, &[9, 4, 4, 10, 0, 0]).is_err(),
            "zero LineTo"
        );
        assert!(decode_typed(3, &[9, 0, 0, 18, 2, 0, 0, 2, 15]).is_ok());
        assert!(
            decode_typed(3, &[9, 0, 0, 18, 0, 2, 2, 0, 15]).is_err(),
            "hole first"
        );
        assert!(
            decode_typed(3, &[9, 0, 0, 18, 2, 0, 0, 2]).is_err(),
            "not closed"
        );
        assert!(decode_typed(1, &[17, 2, 2]).is_err(), "count past the end");
        assert!(decode_typed(1, &[17, 2, 2, 4, 4]).is_ok());
        assert!(decode_typed(2, &[9, 4, 4]).is_err(), "line of one point");
    }

    #[test]
    fn rejects_truncated_protobuf() {
        assert!(decode_tile(&[0x1a, 0x05, 0x78]).is_err());
        assert!(decode_tile(&[0x1a]).is_err());
        assert_eq!(decode_tile(&[]), Ok(vec![]));
    }
}
