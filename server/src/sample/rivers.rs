//! River centrelines measured along their length: points at a distance along the river, sub-lines
//! between two distances (for protection zones) and the nearest position of a point.
//!
//! Distances along the river are geodesic (WGS84) per vertex pair; the lines run in flow
//! direction, so "upstream" is a smaller distance.

use geo::{Coord, Distance, Geodesic, LineString, Point};

use super::geom::LocalFrame;

/// Drafting width of a river's water surface (domain.md §7), used because the data has no banks.
pub(crate) fn river_width_m(name_en: &str) -> f64 {
    match name_en {
        "Chang Jiang" => 800.0,
        "Jinsha" => 500.0,
        "Min" => 400.0,
        "Tuo" => 200.0,
        _ => 150.0,
    }
}

/// One part of a river, with cumulative along-river distances of its vertices.
#[derive(Debug, Clone)]
pub(crate) struct RiverLine {
    pub name_en: String,
    pub width_m: f64,
    coords: Vec<Coord>,
    cum_m: Vec<f64>,
}

impl RiverLine {
    pub(crate) fn new(name_en: &str, line: &LineString) -> Self {
        let coords: Vec<Coord> = line.coords().copied().collect();
        let mut cum_m = Vec::with_capacity(coords.len());
        let mut total = 0.0;
        for (i, c) in coords.iter().enumerate() {
            if i > 0 {
                total += Geodesic.distance(Point::from(coords[i - 1]), Point::from(*c));
            }
            cum_m.push(total);
        }
        RiverLine {
            name_en: name_en.to_owned(),
            width_m: river_width_m(name_en),
            coords,
            cum_m,
        }
    }

    pub(crate) fn length_m(&self) -> f64 {
        self.cum_m.last().copied().unwrap_or(0.0)
    }

    pub(crate) fn coords(&self) -> &[Coord] {
        &self.coords
    }

    pub(crate) fn cum_m(&self) -> &[f64] {
        &self.cum_m
    }

    /// Index of the segment holding distance `d` (clamped to the line).
    fn segment(&self, d: f64) -> usize {
        let i = self.cum_m.partition_point(|&c| c <= d);
        i.clamp(1, self.coords.len().saturating_sub(1).max(1)) - 1
    }

    /// The point at distance `d` along the line (clamped to its ends). Interpolating linearly in
    /// lon/lat is exact enough on Natural Earth segments of a few kilometres.
    pub(crate) fn point_at(&self, d: f64) -> Coord {
        if self.coords.len() < 2 {
            return self
                .coords
                .first()
                .copied()
                .unwrap_or(Coord { x: 0.0, y: 0.0 });
        }
        let d = d.clamp(0.0, self.length_m());
        let i = self.segment(d);
        let (a, b) = (self.coords[i], self.coords[i + 1]);
        let seg = self.cum_m[i + 1] - self.cum_m[i];
        let t = if seg > 0.0 {
            (d - self.cum_m[i]) / seg
        } else {
            0.0
        };
        Coord {
            x: a.x + (b.x - a.x) * t,
            y: a.y + (b.y - a.y) * t,
        }
    }

    /// Unit flow direction (east, north) in metres at distance `d`.
    pub(crate) fn direction_at(&self, d: f64) -> (f64, f64) {
        if self.coords.len() < 2 {
            return (1.0, 0.0);
        }
        let i = self.segment(d.clamp(0.0, self.length_m()));
        let frame = LocalFrame::new(self.coords[i]);
        let v = frame.project(self.coords[i + 1]);
        let n = v.x.hypot(v.y);
        if n > 0.0 {
            (v.x / n, v.y / n)
        } else {
            (1.0, 0.0)
        }
    }

    /// The centreline between distances `d0` < `d1` (clamped to the line).
    pub(crate) fn sub_line(&self, d0: f64, d1: f64) -> LineString {
        let (d0, d1) = (
            d0.clamp(0.0, self.length_m()),
            d1.clamp(0.0, self.length_m()),
        );
        let mut out = vec![self.point_at(d0)];
        for (c, &m) in self.coords.iter().zip(&self.cum_m) {
            if m > d0 && m < d1 {
                out.push(*c);
            }
        }
        out.push(self.point_at(d1));
        out.dedup();
        LineString::new(out)
    }

    /// Distance along the line of the point nearest to `c`, and the distance to it in metres.
    pub(crate) fn locate(&self, c: Coord) -> (f64, f64) {
        let frame = LocalFrame::new(c);
        let mut best = (0.0, f64::INFINITY);
        for i in 0..self.coords.len().saturating_sub(1) {
            let a = frame.project(self.coords[i]);
            let b = frame.project(self.coords[i + 1]);
            let (dx, dy) = (b.x - a.x, b.y - a.y);
            let len2 = dx * dx + dy * dy;
            let t = if len2 > 0.0 {
                (-(a.x * dx + a.y * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (px, py) = (a.x + dx * t, a.y + dy * t);
            let dist = px.hypot(py);
            if dist < best.1 {
                let along = self.cum_m[i] + t * (self.cum_m[i + 1] - self.cum_m[i]);
                best = (along, dist);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> RiverLine {
        let ls: LineString = vec![(104.0, 28.0), (104.1, 28.0), (104.1, 28.1)].into();
        RiverLine::new("Min", &ls)
    }

    #[test]
    fn measures_and_interpolates() {
        let r = line();
        let first = r.cum_m()[1];
        assert!((first - 9_838.0).abs() < 50.0, "{first}");
        let p = r.point_at(first / 2.0);
        assert!((p.x - 104.05).abs() < 1e-9 && (p.y - 28.0).abs() < 1e-9);
        let (d, dist) = r.locate(Coord {
            x: 104.05,
            y: 28.001,
        });
        assert!(
            (d - first / 2.0).abs() < 1.0 && (dist - 110.8).abs() < 1.0,
            "{d} {dist}"
        );
        let sub = r.sub_line(first - 100.0, first + 100.0);
        assert_eq!(sub.0.len(), 3);
        assert_eq!(sub.0[1], Coord { x: 104.1, y: 28.0 });
        let (ex, ny) = r.direction_at(first + 10.0);
        assert!(ex.abs() < 1e-9 && (ny - 1.0).abs() < 1e-9);
    }
}
