//! The generator's real inputs, embedded from `server/reference/` (see its README for their
//! sources and licences) and parsed into geo types: Yibin's boundaries, county seats, river
//! centrelines, and China's district points with their areas.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;

use super::SampleError;

const ADMIN: &str = include_str!("../../reference/admin_boundaries.geojson");
const SEATS: &str = include_str!("../../reference/county_seats.geojson");
const RIVERS: &str = include_str!("../../reference/rivers_natural_earth_10m.geojson");
const DISTRICTS: &str = include_str!("../../reference/district_points.csv");

/// One administrative unit of Yibin (the city or one of its districts/counties).
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    pub adcode: String,
    pub name_zh: String,
    pub name_en: String,
    /// `city` or `county`.
    pub level: String,
    /// As read: the input's rings run clockwise; the writer re-orients them.
    pub shape: MultiPolygon,
}

/// One river of the Natural Earth extract, its parts in flow direction.
#[derive(Debug, Clone)]
pub(crate) struct River {
    pub name_en: String,
    pub name_zh: String,
    pub parts: Vec<LineString>,
}

/// One district/county of China (a point on its surface and its area).
#[derive(Debug, Clone)]
pub(crate) struct District {
    pub adcode: String,
    pub lon: f64,
    pub lat: f64,
    pub area_km2: f64,
}

/// All embedded inputs, parsed.
pub(crate) struct Reference {
    pub admin: Vec<Admin>,
    /// County seats by adcode, in input order.
    pub seats: Vec<(String, Coord)>,
    pub rivers: Vec<River>,
    pub districts: Vec<District>,
}

fn bad(name: &'static str, reason: impl Into<String>) -> SampleError {
    SampleError::Reference {
        name,
        reason: reason.into(),
    }
}

fn features(name: &'static str, text: &str) -> Result<Vec<Value>, SampleError> {
    let v: Value = serde_json::from_str(text).map_err(|e| bad(name, e.to_string()))?;
    match v.get("features").and_then(Value::as_array) {
        Some(f) => Ok(f.clone()),
        None => Err(bad(name, "no features array")),
    }
}

fn prop(name: &'static str, f: &Value, key: &str) -> Result<String, SampleError> {
    f.get("properties")
        .and_then(|p| p.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| bad(name, format!("feature without string property {key}")))
}

fn coord(name: &'static str, v: &Value) -> Result<Coord, SampleError> {
    match v.as_array().map(Vec::as_slice) {
        Some([x, y, ..]) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => Ok(Coord { x, y }),
            _ => Err(bad(name, "non-numeric coordinate")),
        },
        _ => Err(bad(name, "malformed coordinate")),
    }
}

fn line(name: &'static str, v: &Value) -> Result<LineString, SampleError> {
    let arr = v.as_array().ok_or_else(|| bad(name, "malformed line"))?;
    Ok(LineString::new(
        arr.iter()
            .map(|c| coord(name, c))
            .collect::<Result<_, _>>()?,
    ))
}

fn polygon(name: &'static str, v: &Value) -> Result<Polygon, SampleError> {
    let rings = v.as_array().ok_or_else(|| bad(name, "malformed polygon"))?;
    let mut rings = rings.iter().map(|r| line(name, r));
    let ext = rings
        .next()
        .ok_or_else(|| bad(name, "polygon without rings"))??;
    Ok(Polygon::new(ext, rings.collect::<Result<_, _>>()?))
}

fn geometry_parts<'a>(
    name: &'static str,
    f: &'a Value,
    single: &str,
    multi: &str,
) -> Result<Vec<&'a Value>, SampleError> {
    let g = f
        .get("geometry")
        .ok_or_else(|| bad(name, "feature without geometry"))?;
    let coords = g
        .get("coordinates")
        .ok_or_else(|| bad(name, "geometry without coordinates"))?;
    match g.get("type").and_then(Value::as_str) {
        Some(t) if t == single => Ok(vec![coords]),
        Some(t) if t == multi => Ok(coords
            .as_array()
            .ok_or_else(|| bad(name, "malformed multi geometry"))?
            .iter()
            .collect()),
        other => Err(bad(name, format!("unexpected geometry type {other:?}"))),
    }
}

impl Reference {
    pub(crate) fn load() -> Result<Reference, SampleError> {
        const A: &str = "admin_boundaries.geojson";
        const S: &str = "county_seats.geojson";
        const R: &str = "rivers_natural_earth_10m.geojson";
        let admin = features(A, ADMIN)?
            .iter()
            .map(|f| {
                let parts = geometry_parts(A, f, "Polygon", "MultiPolygon")?;
                Ok(Admin {
                    adcode: prop(A, f, "adcode")?,
                    name_zh: prop(A, f, "name_zh")?,
                    name_en: prop(A, f, "name_en")?,
                    level: prop(A, f, "level")?,
                    shape: MultiPolygon::new(
                        parts
                            .into_iter()
                            .map(|p| polygon(A, p))
                            .collect::<Result<_, _>>()?,
                    ),
                })
            })
            .collect::<Result<Vec<_>, SampleError>>()?;
        let seats = features(S, SEATS)?
            .iter()
            .map(|f| {
                let pt = geometry_parts(S, f, "Point", "MultiPoint")?;
                let c = coord(S, pt.first().ok_or_else(|| bad(S, "empty point"))?)?;
                Ok((prop(S, f, "adcode")?, c))
            })
            .collect::<Result<Vec<_>, SampleError>>()?;
        let rivers = features(R, RIVERS)?
            .iter()
            .map(|f| {
                let parts = geometry_parts(R, f, "LineString", "MultiLineString")?;
                Ok(River {
                    name_en: prop(R, f, "name_en")?,
                    name_zh: prop(R, f, "name_zh")?,
                    parts: parts
                        .into_iter()
                        .map(|l| line(R, l))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<Vec<_>, SampleError>>()?;
        Ok(Reference {
            admin,
            seats,
            rivers,
            districts: districts()?,
        })
    }
}

fn districts() -> Result<Vec<District>, SampleError> {
    const D: &str = "district_points.csv";
    let mut rdr = csv::Reader::from_reader(DISTRICTS.as_bytes());
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(D, e.to_string()))?;
        let num = |i: usize| -> Result<f64, SampleError> {
            rec.get(i)
                .and_then(|s| s.trim().parse::<f64>().ok())
                .ok_or_else(|| {
                    bad(
                        D,
                        format!("row {:?}: column {i} is not a number", rec.position()),
                    )
                })
        };
        let d = District {
            adcode: rec.get(0).unwrap_or_default().trim().to_owned(),
            lon: num(2)?,
            lat: num(3)?,
            area_km2: num(4)?,
        };
        if d.adcode.len() != 6 || !d.area_km2.is_finite() || d.area_km2 <= 0.0 {
            return Err(bad(D, format!("bad row for adcode {:?}", d.adcode)));
        }
        out.push(d);
    }
    if out.is_empty() {
        return Err(bad(D, "no rows"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_inputs_parse() {
        let r = Reference::load().expect("load");
        assert_eq!(r.admin.len(), 11);
        assert_eq!(r.admin.iter().filter(|a| a.level == "city").count(), 1);
        assert_eq!(r.seats.len(), 10);
        assert!(r.rivers.iter().any(|x| x.name_en == "Chang Jiang"));
        assert_eq!(r.districts.len(), 2891);
    }
}
