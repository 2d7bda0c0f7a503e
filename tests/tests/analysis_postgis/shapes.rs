//! Random query geometries near the data (seeded).

use super::*;

/// A point near data: a random feature's anchor moved up to 5 km, or
/// anywhere within the data's neighbourhood.
pub(crate) fn near_data(rng: &mut ChaCha8Rng, layers: &[LayerInfo]) -> Point<f64> {
    let layer = layers.choose(rng).expect("layers");
    let anchor = *layer.anchors.choose(rng).expect("anchors");
    Geodesic.destination(
        anchor,
        rng.gen_range(0.0..360.0),
        rng.gen_range(0.0..5_000.0),
    )
}

pub(crate) fn random_line(rng: &mut ChaCha8Rng, start: Point<f64>) -> Geometry<f64> {
    let mut p = start;
    let mut coords = vec![p.0];
    let mut heading: f64 = rng.gen_range(0.0..360.0);
    for _ in 0..rng.gen_range(1..6) {
        heading += rng.gen_range(-60.0..60.0);
        p = Geodesic.destination(p, heading, rng.gen_range(300.0..8_000.0));
        coords.push(p.0);
    }
    Geometry::LineString(LineString(coords))
}

/// A star-shaped (hence simple) polygon around `centre`.
pub(crate) fn random_polygon(rng: &mut ChaCha8Rng, centre: Point<f64>) -> Geometry<f64> {
    let n = rng.gen_range(4..14);
    let mut angles: Vec<f64> = (0..n).map(|_| rng.gen_range(0.0..360.0)).collect();
    angles.sort_by(f64::total_cmp);
    let mut ring: Vec<Coord<f64>> = angles
        .iter()
        .map(|&a| {
            Geodesic
                .destination(centre, a, rng.gen_range(300.0..6_000.0))
                .0
        })
        .collect();
    ring.push(ring[0]);
    Geometry::Polygon(Polygon::new(LineString(ring), vec![]))
}
