//! Geometry helpers shared by `tests/tests/mvt_clients.rs` and
//! `tests/tests/tiles_postgis.rs` (included with `#[path]`): Web Mercator
//! written out here (independent of `envatlas-tiles`), a canonical form of
//! decoded tile geometries, and the distances used to compare two encoders.
#![allow(dead_code)] // each test binary uses part of it

use std::f64::consts::PI;

use envatlas_tiles::decode::DecodedGeometry;
use envatlas_tiles::TileCoord;
use serde_json::Value as Json;

const EXTENT: f64 = 4096.0;
const EARTH_RADIUS_M: f64 = 6_378_137.0;

pub type Pt = [i64; 2];

/// Tile pixels (extent 4096, y down) of a lon/lat position.
pub fn lonlat_to_px(t: TileCoord, lon: f64, lat: f64) -> (f64, f64) {
    let n = f64::from(1u32 << t.z());
    let wx = (lon + 180.0) / 360.0 * n;
    let phi = lat.to_radians();
    let wy = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / PI) / 2.0 * n;
    (
        (wx - f64::from(t.x())) * EXTENT,
        (wy - f64::from(t.y())) * EXTENT,
    )
}

/// The lon/lat of a tile pixel.
pub fn px_to_lonlat(t: TileCoord, px: f64, py: f64) -> (f64, f64) {
    let n = f64::from(1u32 << t.z());
    let wx = f64::from(t.x()) + px / EXTENT;
    let wy = f64::from(t.y()) + py / EXTENT;
    (
        wx / n * 360.0 - 180.0,
        (PI * (1.0 - 2.0 * wy / n)).sinh().atan().to_degrees(),
    )
}

/// Tile pixels of an EPSG:3857 position (what GDAL's MVT driver outputs).
pub fn mercator_to_px(t: TileCoord, mx: f64, my: f64) -> (f64, f64) {
    let size = 2.0 * PI * EARTH_RADIUS_M / f64::from(1u32 << t.z());
    let min_x = -PI * EARTH_RADIUS_M + f64::from(t.x()) * size;
    let max_y = PI * EARTH_RADIUS_M - f64::from(t.y()) * size;
    ((mx - min_x) / size * EXTENT, (max_y - my) / size * EXTENT)
}

/// A tile geometry in a canonical form, so that two decoders' readings compare
/// with `==`: multi and single types alike, rings without their closing vertex,
/// rings and lines up to start vertex and direction, parts sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Points(Vec<Pt>),
    Lines(Vec<Vec<Pt>>),
    /// Polygons, each its exterior ring then its holes.
    Polygons(Vec<Vec<Vec<Pt>>>),
}

fn canonical_line(line: &[Pt]) -> Vec<Pt> {
    let reversed: Vec<Pt> = line.iter().rev().copied().collect();
    line.to_vec().min(reversed)
}

fn canonical_ring(ring: &[Pt]) -> Vec<Pt> {
    let mut ring = ring.to_vec();
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    let rotate = |r: &mut Vec<Pt>| {
        if let Some(i) = r
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| **p)
            .map(|(i, _)| i)
        {
            r.rotate_left(i);
        }
    };
    rotate(&mut ring);
    let mut reversed: Vec<Pt> = ring.iter().rev().copied().collect();
    rotate(&mut reversed);
    ring.min(reversed)
}

fn canonical_polygon(rings: &[Vec<Pt>]) -> Vec<Vec<Pt>> {
    let mut out: Vec<Vec<Pt>> = rings.iter().map(|r| canonical_ring(r)).collect();
    if out.len() > 2 {
        out[1..].sort();
    }
    out
}

impl Shape {
    pub fn from_decoded(g: &DecodedGeometry) -> Shape {
        match g {
            DecodedGeometry::Points(p) => Shape::points(p.clone()),
            DecodedGeometry::Lines(l) => Shape::lines(l.clone()),
            DecodedGeometry::Polygons(p) => Shape::polygons(p.clone()),
        }
    }

    fn points(mut p: Vec<Pt>) -> Shape {
        p.sort();
        Shape::Points(p)
    }

    fn lines(lines: Vec<Vec<Pt>>) -> Shape {
        let mut l: Vec<Vec<Pt>> = lines.iter().map(|l| canonical_line(l)).collect();
        l.sort();
        Shape::Lines(l)
    }

    fn polygons(polygons: Vec<Vec<Vec<Pt>>>) -> Shape {
        let mut p: Vec<Vec<Vec<Pt>>> = polygons.iter().map(|p| canonical_polygon(p)).collect();
        p.sort();
        Shape::Polygons(p)
    }

    /// From a GeoJSON geometry in EPSG:3857 metres; every vertex must fall on
    /// the tile's integer grid.
    pub fn from_geojson_mercator(geometry: &Json, t: TileCoord) -> Shape {
        let kind = geometry["type"].as_str().expect("geometry type");
        Shape::from_geojson(kind, &geometry["coordinates"], &|x, y| {
            let (px, py) = mercator_to_px(t, x, y);
            let p = [px.round() as i64, py.round() as i64];
            assert!(
                (px - p[0] as f64).abs() < 0.01 && (py - p[1] as f64).abs() < 0.01,
                "({x}, {y}) is off the tile grid: ({px}, {py})"
            );
            p
        })
    }

    /// From GeoJSON-like coordinates that are already tile pixels.
    pub fn from_geojson_pixels(kind: &str, coordinates: &Json) -> Shape {
        Shape::from_geojson(kind, coordinates, &|x, y| {
            assert!(
                x.fract() == 0.0 && y.fract() == 0.0,
                "pixel coordinates are integers: ({x}, {y})"
            );
            [x as i64, y as i64]
        })
    }

    fn from_geojson(kind: &str, c: &Json, to_px: &dyn Fn(f64, f64) -> Pt) -> Shape {
        let point = |v: &Json| {
            let a = v.as_array().expect("position");
            to_px(a[0].as_f64().expect("x"), a[1].as_f64().expect("y"))
        };
        let line = |v: &Json| {
            v.as_array()
                .expect("line")
                .iter()
                .map(point)
                .collect::<Vec<Pt>>()
        };
        let polygon = |v: &Json| {
            v.as_array()
                .expect("polygon")
                .iter()
                .map(line)
                .collect::<Vec<Vec<Pt>>>()
        };
        let many = |v: &Json| v.as_array().expect("parts").clone();
        match kind {
            "Point" => Shape::points(vec![point(c)]),
            "MultiPoint" => Shape::points(many(c).iter().map(point).collect()),
            "LineString" => Shape::lines(vec![line(c)]),
            "MultiLineString" => Shape::lines(many(c).iter().map(line).collect()),
            "Polygon" => Shape::polygons(vec![polygon(c)]),
            "MultiPolygon" => Shape::polygons(many(c).iter().map(polygon).collect()),
            other => panic!("unexpected geometry type {other}"),
        }
    }
}

// --- comparing two encoders' geometries -------------------------------------------

fn seg_dist(p: [f64; 2], a: Pt, b: Pt) -> f64 {
    let (ax, ay, bx, by) = (a[0] as f64, a[1] as f64, b[0] as f64, b[1] as f64);
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - ax) * dx + (p[1] - ay) * dy) / len2).clamp(0.0, 1.0)
    };
    (p[0] - ax - t * dx).hypot(p[1] - ay - t * dy)
}

fn segments(parts: &[Vec<Pt>], closed: bool) -> Vec<(Pt, Pt)> {
    let mut out = Vec::new();
    for part in parts {
        out.extend(part.windows(2).map(|w| (w[0], w[1])));
        if closed && part.len() > 2 {
            out.push((part[part.len() - 1], part[0]));
        }
        if part.len() == 1 {
            out.push((part[0], part[0]));
        }
    }
    out
}

/// The largest distance from a point of `a` (its segments sampled every half
/// pixel) for which `counts` holds to the nearest segment of `b`.
fn directed_hausdorff(a: &[(Pt, Pt)], b: &[(Pt, Pt)], counts: &dyn Fn([f64; 2]) -> bool) -> f64 {
    let mut worst: f64 = 0.0;
    for &(p, q) in a {
        let len = ((q[0] - p[0]) as f64).hypot((q[1] - p[1]) as f64);
        let steps = (len / 0.5).ceil().max(1.0) as usize;
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            let s = [
                p[0] as f64 + t * (q[0] - p[0]) as f64,
                p[1] as f64 + t * (q[1] - p[1]) as f64,
            ];
            if !counts(s) {
                continue;
            }
            let d = b
                .iter()
                .map(|&(u, v)| seg_dist(s, u, v))
                .fold(f64::INFINITY, f64::min);
            worst = worst.max(d);
        }
    }
    worst
}

/// Symmetric Hausdorff distance, in pixels, between two sets of polylines
/// (`closed`: rings, whose last vertex joins the first).
pub fn hausdorff(a: &[Vec<Pt>], b: &[Vec<Pt>], closed: bool) -> f64 {
    let (sa, sb) = (segments(a, closed), segments(b, closed));
    directed_hausdorff(&sa, &sb, &|_| true).max(directed_hausdorff(&sb, &sa, &|_| true))
}

/// [`hausdorff`] of lines without the points within `margin` pixels of the
/// border of the square `lo..=hi` (where a line is clipped, the cut point slides
/// along a line that crosses the border at a shallow angle by up to 0.5 px / sin(angle)).
pub fn hausdorff_off_border(a: &[Vec<Pt>], b: &[Vec<Pt>], lo: f64, hi: f64, margin: f64) -> f64 {
    let (sa, sb) = (segments(a, false), segments(b, false));
    let counts = |p: [f64; 2]| p.iter().all(|c| *c > lo + margin && *c < hi - margin);
    directed_hausdorff(&sa, &sb, &counts).max(directed_hausdorff(&sb, &sa, &counts))
}

/// Every ring of a set of polygons.
pub fn rings(polygons: &[Vec<Vec<Pt>>]) -> Vec<Vec<Pt>> {
    polygons.iter().flatten().cloned().collect()
}

/// The total length of the rings, in pixels.
pub fn perimeter(rings: &[Vec<Pt>]) -> f64 {
    segments(rings, true)
        .iter()
        .map(|(p, q)| ((q[0] - p[0]) as f64).hypot((q[1] - p[1]) as f64))
        .sum()
}

/// Area (pixels²) covered by exactly one of two sets of rings, each filled by
/// the even-odd rule (holes lie inside their exteriors, so that is the polygon
/// area). Scanlines at every half-integer row, exact along each row; zero-width
/// parts (e.g. edges doubled back along a clipping border) cover nothing.
pub fn symmetric_difference_area(a: &[Vec<Pt>], b: &[Vec<Pt>]) -> f64 {
    let (ea, eb) = (segments(a, true), segments(b, true));
    let ys = ea.iter().chain(&eb).flat_map(|(p, q)| [p[1], q[1]]);
    let (Some(y0), Some(y1)) = (ys.clone().min(), ys.max()) else {
        return 0.0;
    };
    let mut area = 0.0;
    let mut events: Vec<(f64, u8)> = Vec::new();
    for row in y0..y1 {
        let y = row as f64 + 0.5;
        events.clear();
        for (edges, which) in [(&ea, 0u8), (&eb, 1u8)] {
            for &(p, q) in edges.iter() {
                let (py, qy) = (p[1] as f64, q[1] as f64);
                if (py < y) != (qy < y) {
                    let x = p[0] as f64 + (y - py) / (qy - py) * (q[0] - p[0]) as f64;
                    events.push((x, which));
                }
            }
        }
        events.sort_by(|u, v| u.0.total_cmp(&v.0));
        let (mut inside, mut last) = ([false, false], 0.0);
        for &(x, which) in &events {
            if inside[0] != inside[1] {
                area += x - last;
            }
            inside[which as usize] = !inside[which as usize];
            last = x;
        }
    }
    area
}

/// Area (pixels²) of a set of rings filled by the even-odd rule.
pub fn area(rings: &[Vec<Pt>]) -> f64 {
    symmetric_difference_area(rings, &[])
}
