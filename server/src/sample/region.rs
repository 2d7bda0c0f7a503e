//! Where synthetic features go: [`Yibin`] (the real city: counties, seats, main rivers, with
//! point-in-polygon county lookup and clustered sampling) and [`China`] (the `--scale` copies:
//! a district picked in proportion to its area, then jittered).

use geo::{BoundingRect, Buffer, Centroid, Contains, Coord, Intersects, MultiPolygon, Point, Rect};
use rand::Rng;

use super::geom::{normal, round_coord, LocalFrame};
use super::reference::{District, Reference};
use super::rivers::RiverLine;
use super::SampleError;

/// Adcodes of Yibin's districts/counties (domain.md §6).
pub(crate) const CUIPING: &str = "511502";
pub(crate) const NANXI: &str = "511503";
pub(crate) const XUZHOU: &str = "511504";
pub(crate) const JIANGAN: &str = "511523";
pub(crate) const CHANGNING: &str = "511524";
pub(crate) const GAOXIAN: &str = "511525";
pub(crate) const GONGXIAN: &str = "511526";
pub(crate) const JUNLIAN: &str = "511527";
pub(crate) const XINGWEN: &str = "511528";
pub(crate) const PINGSHAN: &str = "511529";

/// The rivers of Yibin the generator places intakes, sections and riverside plants on.
pub(crate) const MAIN_RIVERS: [&str; 3] = ["Min", "Jinsha", "Chang Jiang"];

/// Synthetic features keep this far inside the city boundary, so 6-decimal rounding can never
/// push one outside.
const INNER_MARGIN_M: f64 = 10.0;
/// Plants, villages and stations (other than intakes and sections) stay off the water.
const BANK_MARGIN_M: f64 = 60.0;
const MAX_ATTEMPTS: u32 = 10_000;

/// How to place a point inside Yibin.
pub(crate) enum Spot<'a> {
    /// Normal scatter (sigma in metres) around county seats picked by weight.
    Seats(&'a [(&'a str, f64)], f64),
    /// Along the named rivers, a normal offset (sigma in metres) from the bank.
    River(&'a [&'a str], f64),
    /// Uniform inside one of the named counties.
    Counties(&'a [&'a str]),
    /// Countryside: anywhere at least 3 km from a county seat.
    Rural,
}

/// A district/county of Yibin.
pub(crate) struct County {
    pub adcode: String,
    shape: MultiPolygon,
    bbox: Rect,
    pub seat: Coord,
}

/// The real city, prepared for sampling.
pub(crate) struct Yibin {
    /// The city shrunk by [`INNER_MARGIN_M`]: synthetic geometry is sampled and clipped in it.
    pub city_inner: MultiPolygon,
    bbox: Rect,
    pub counties: Vec<County>,
    /// The parts of the main rivers that cross the city, with the along-river range inside it.
    pub rivers: Vec<(RiverLine, (f64, f64))>,
}

impl Yibin {
    pub(crate) fn new(r: &Reference) -> Result<Yibin, SampleError> {
        let bad = |reason: &str| SampleError::Reference {
            name: "admin_boundaries.geojson",
            reason: reason.to_owned(),
        };
        let city = r
            .admin
            .iter()
            .find(|a| a.level == "city")
            .ok_or_else(|| bad("no city polygon"))?
            .shape
            .clone();
        let bbox = city
            .bounding_rect()
            .ok_or_else(|| bad("empty city polygon"))?;
        let centre = city.centroid().ok_or_else(|| bad("empty city polygon"))?;
        let frame = LocalFrame::new(centre.0);
        let local = MultiPolygon::new(
            city.iter()
                .map(|p| {
                    let ring = |ls: &geo::LineString| frame.line_project(ls);
                    geo::Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
                })
                .collect(),
        );
        let city_inner = frame.multi_unproject(&local.buffer(-INNER_MARGIN_M));
        let mut counties = Vec::new();
        for a in r.admin.iter().filter(|a| a.level == "county") {
            let seat = r
                .seats
                .iter()
                .find(|(code, _)| *code == a.adcode)
                .map(|(_, c)| *c)
                .ok_or_else(|| bad(&format!("no county seat for {}", a.adcode)))?;
            counties.push(County {
                adcode: a.adcode.clone(),
                bbox: a.shape.bounding_rect().ok_or_else(|| bad("empty county"))?,
                shape: a.shape.clone(),
                seat,
            });
        }
        // Sorted by adcode so nothing depends on input order.
        counties.sort_by(|a, b| a.adcode.cmp(&b.adcode));
        let mut rivers = Vec::new();
        for name in MAIN_RIVERS {
            let river = r.rivers.iter().find(|x| x.name_en == name);
            for part in river.map(|x| x.parts.as_slice()).unwrap_or_default() {
                let line = RiverLine::new(name, part);
                let inside: Vec<f64> = line
                    .coords()
                    .iter()
                    .zip(line.cum_m())
                    .filter(|(c, _)| city.contains(&Point::from(**c)))
                    .map(|(_, m)| *m)
                    .collect();
                if let (Some(a), Some(b)) = (inside.first(), inside.last()) {
                    if b > a {
                        rivers.push((line, (*a, *b)));
                    }
                }
            }
        }
        if rivers.len() < MAIN_RIVERS.len() {
            return Err(SampleError::Reference {
                name: "rivers_natural_earth_10m.geojson",
                reason: "Min, Jinsha and Chang Jiang must cross Yibin".into(),
            });
        }
        Ok(Yibin {
            city_inner,
            bbox,
            counties,
            rivers,
        })
    }

    pub(crate) fn county(&self, adcode: &str) -> Option<&County> {
        self.counties.iter().find(|c| c.adcode == adcode)
    }

    /// The county whose polygon holds `c` (boundaries count: counties share edges exactly).
    pub(crate) fn county_at(&self, c: Coord) -> Option<&County> {
        let p = Point::from(c);
        self.counties
            .iter()
            .find(|k| k.bbox.intersects(&p) && k.shape.intersects(&p))
    }

    /// Strictly inside the city, with the safety margin.
    pub(crate) fn inside(&self, c: Coord) -> bool {
        self.city_inner.contains(&Point::from(c))
    }

    pub(crate) fn river(&self, name_en: &str) -> Option<&(RiverLine, (f64, f64))> {
        self.rivers.iter().find(|(r, _)| r.name_en == name_en)
    }

    /// On a main river's water surface (plus `BANK_MARGIN_M`).
    pub(crate) fn on_water(&self, c: Coord) -> bool {
        self.rivers
            .iter()
            .any(|(r, _)| r.locate(c).1 < r.width_m / 2.0 + BANK_MARGIN_M)
    }

    fn candidate<R: Rng>(&self, rng: &mut R, spot: &Spot<'_>) -> Option<Coord> {
        match spot {
            Spot::Seats(weights, sigma) => {
                let total: f64 = weights.iter().map(|(_, w)| w).sum();
                let mut u = rng.gen_range(0.0..total.max(f64::MIN_POSITIVE));
                let mut code = weights.first()?.0;
                for (c, w) in weights.iter() {
                    code = c;
                    if u < *w {
                        break;
                    }
                    u -= w;
                }
                let seat = self.county(code)?.seat;
                Some(LocalFrame::new(seat).offset(normal(rng) * sigma, normal(rng) * sigma))
            }
            Spot::River(names, sigma) => {
                let name = names.get(rng.gen_range(0..names.len().max(1)))?;
                let (line, (a, b)) = self.river(name)?;
                let d = rng.gen_range(*a..*b);
                let at = line.point_at(d);
                let (ex, ny) = line.direction_at(d);
                let off = (line.width_m / 2.0 + BANK_MARGIN_M + (normal(rng) * sigma).abs())
                    * if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
                Some(LocalFrame::new(at).offset(-ny * off, ex * off))
            }
            Spot::Counties(codes) => {
                let code = codes.get(rng.gen_range(0..codes.len().max(1)))?;
                let k = self.county(code)?;
                let c = uniform_in(rng, &k.bbox);
                k.shape.contains(&Point::from(c)).then_some(c)
            }
            Spot::Rural => {
                let c = uniform_in(rng, &self.bbox);
                let frame = LocalFrame::new(c);
                self.counties
                    .iter()
                    .all(|k| {
                        let v = frame.project(k.seat);
                        v.x.hypot(v.y) > 3_000.0
                    })
                    .then_some(c)
            }
        }
    }

    /// A rounded point for `spot` inside the city, off the water, with its county.
    pub(crate) fn sample<R: Rng>(
        &self,
        rng: &mut R,
        spot: &Spot<'_>,
    ) -> Result<(Coord, &County), SampleError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(c) = self.candidate(rng, spot).map(round_coord) else {
                continue;
            };
            if !self.inside(c) || self.on_water(c) {
                continue;
            }
            if let Some(k) = self.county_at(c) {
                return Ok((c, k));
            }
        }
        Err(SampleError::Placement {
            what: "a point in Yibin".into(),
            attempts: MAX_ATTEMPTS,
        })
    }
}

fn uniform_in<R: Rng>(rng: &mut R, r: &Rect) -> Coord {
    Coord {
        x: rng.gen_range(r.min().x..r.max().x),
        y: rng.gen_range(r.min().y..r.max().y),
    }
}

/// China's districts with a cumulative area table for weighted picks in O(log n).
pub(crate) struct China {
    districts: Vec<District>,
    cum_km2: Vec<f64>,
}

impl China {
    pub(crate) fn new(districts: Vec<District>) -> China {
        let mut total = 0.0;
        let cum_km2 = districts
            .iter()
            .map(|d| {
                total += d.area_km2;
                total
            })
            .collect();
        China { districts, cum_km2 }
    }

    /// A district picked in proportion to its area.
    pub(crate) fn district<R: Rng>(&self, rng: &mut R) -> &District {
        let total = self.cum_km2.last().copied().unwrap_or(0.0);
        let u = rng.gen_range(0.0..total.max(f64::MIN_POSITIVE));
        let i = self.cum_km2.partition_point(|&c| c <= u);
        &self.districts[i.min(self.districts.len() - 1)]
    }

    /// A rounded point within ~sqrt(area)/2 of a district picked by area, and its adcode.
    pub(crate) fn sample<R: Rng>(&self, rng: &mut R) -> (Coord, &str) {
        let d = self.district(rng);
        let c = jitter(rng, d);
        (c, &d.adcode)
    }
}

/// A rounded point uniform in a disc of radius sqrt(area)/2 around the district's point.
pub(crate) fn jitter<R: Rng>(rng: &mut R, d: &District) -> Coord {
    let radius = d.area_km2.sqrt() * 500.0;
    let r = radius * rng.gen::<f64>().sqrt();
    let a = rng.gen_range(0.0..std::f64::consts::TAU);
    let frame = LocalFrame::new(Coord { x: d.lon, y: d.lat });
    let mut c = round_coord(frame.offset(r * a.cos(), r * a.sin()));
    c.y = c.y.clamp(-89.0, 89.0);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn yibin_samples_inside_with_counties() {
        let r = Reference::load().expect("reference");
        let y = Yibin::new(&r).expect("yibin");
        assert_eq!(y.counties.len(), 10);
        for k in &y.counties {
            assert_eq!(
                y.county_at(k.seat).map(|c| c.adcode.as_str()),
                Some(k.adcode.as_str())
            );
        }
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let spots = [
            Spot::Seats(&[(CUIPING, 2.0), (NANXI, 1.0)], 5000.0),
            Spot::River(&MAIN_RIVERS, 2000.0),
            Spot::Counties(&[GONGXIAN, JUNLIAN]),
            Spot::Rural,
        ];
        for spot in &spots {
            for _ in 0..50 {
                let (c, k) = y.sample(&mut rng, spot).expect("sample");
                assert!(y.city_inner.contains(&Point::from(c)));
                assert!(k.shape.intersects(&Point::from(c)));
            }
        }
    }

    #[test]
    fn china_pick_is_weighted_by_area() {
        let r = Reference::load().expect("reference");
        let china = China::new(r.districts);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let n = 20_000;
        let big = (0..n)
            .filter(|_| china.district(&mut rng).area_km2 > 50_000.0)
            .count();
        // Districts over 50,000 km² hold a large share of China's area but are few.
        assert!(big > n / 10, "{big}");
    }
}
