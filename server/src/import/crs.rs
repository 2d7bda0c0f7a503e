//! Which coordinate reference systems an import accepts, and how files name them.
//!
//! Only geographic lon/lat in WGS84, CGCS2000 (EPSG:4490, within centimetres of
//! WGS84 at map scale, so taken as is) and GCJ-02 (converted, see
//! [`super::gcj02`]) are accepted. Anything else a file declares is reported
//! with its name, never guessed or silently reprojected.

use std::fmt;

/// An accepted coordinate system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    Wgs84,
    Cgcs2000,
    Gcj02,
}

impl Crs {
    /// Parses the `--crs` flag: `EPSG:4326`, `EPSG:4490`, `gcj02` (and common spellings).
    pub fn from_flag(text: &str) -> Option<Crs> {
        let t = text.trim().to_ascii_lowercase();
        match t.as_str() {
            "epsg:4326" | "4326" | "wgs84" | "crs84" | "ogc:crs84" => Some(Crs::Wgs84),
            "epsg:4490" | "4490" | "cgcs2000" => Some(Crs::Cgcs2000),
            "gcj02" | "gcj-02" => Some(Crs::Gcj02),
            _ => None,
        }
    }

    /// Converts one position to WGS84 lon/lat.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => super::gcj02::to_wgs84(lon, lat),
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Crs::Wgs84 => "EPSG:4326 (WGS84)",
            Crs::Cgcs2000 => "EPSG:4490 (CGCS2000)",
            Crs::Gcj02 => "GCJ-02",
        })
    }
}

/// What a file says about its coordinates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    /// Nothing (CSV, a Shapefile without `.prj`, GeoJSON without `crs`).
    Nothing,
    Known(Crs),
    /// A CRS we do not accept, by the name the file gives it.
    Other(String),
}

/// A GeoJSON `crs` member (GeoJSON 2008; RFC 7946 dropped it) by its name:
/// `urn:ogc:def:crs:OGC:1.3:CRS84`, `EPSG:4326`, `urn:ogc:def:crs:EPSG::4490`, …
pub fn from_name(name: &str) -> Declared {
    let n = name.trim().to_ascii_lowercase();
    if n.ends_with("crs84") {
        return Declared::Known(Crs::Wgs84);
    }
    match epsg_code(&n) {
        Some(4326) => Declared::Known(Crs::Wgs84),
        Some(4490) => Declared::Known(Crs::Cgcs2000),
        _ => Declared::Other(name.trim().to_string()),
    }
}

/// The trailing EPSG code of `epsg:4326`, `urn:ogc:def:crs:epsg::4326`,
/// `http://www.opengis.net/def/crs/epsg/0/4326`.
fn epsg_code(lower: &str) -> Option<u32> {
    if !lower.contains("epsg") {
        return None;
    }
    let digits: String = lower
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

/// An EPSG code as a GeoPackage's `gpkg_spatial_ref_sys` gives it.
pub fn from_epsg(organization: &str, code: i64, name: &str) -> Declared {
    if organization.eq_ignore_ascii_case("epsg") {
        match code {
            4326 => return Declared::Known(Crs::Wgs84),
            4490 => return Declared::Known(Crs::Cgcs2000),
            _ => {}
        }
    }
    // GeoPackage reserves 0 and -1 for "undefined geographic / cartesian".
    if organization.eq_ignore_ascii_case("none") || code == 0 || code == -1 {
        return Declared::Nothing;
    }
    Declared::Other(format!("{organization}:{code} ({name})"))
}

/// A `.prj` file (ESRI WKT1, OGC WKT1 or WKT2): geographic WGS84 or CGCS2000
/// are recognised by their datum; a projected system is reported.
pub fn from_wkt(wkt: &str) -> Declared {
    let text = wkt.trim();
    if text.is_empty() {
        return Declared::Nothing;
    }
    let name = text
        .split('"')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_else(|| text.chars().take(60).collect());
    let upper = text.to_ascii_uppercase();
    if upper.starts_with("PROJCS")
        || upper.starts_with("PROJCRS")
        || upper.starts_with("PROJECTEDCRS")
    {
        return Declared::Other(format!("projected CRS \"{name}\""));
    }
    let compact: String = upper.chars().filter(char::is_ascii_alphanumeric).collect();
    if compact.contains("CHINA2000")
        || compact.contains("CGCS2000")
        || compact.contains("CHINAGEODETICCOORDINATESYSTEM2000")
    {
        return Declared::Known(Crs::Cgcs2000);
    }
    if compact.contains("WGS84")
        || compact.contains("WGS1984")
        || compact.contains("WORLDGEODETICSYSTEM1984")
    {
        return Declared::Known(Crs::Wgs84);
    }
    Declared::Other(format!("\"{name}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        assert_eq!(Crs::from_flag("EPSG:4326"), Some(Crs::Wgs84));
        assert_eq!(Crs::from_flag("EPSG:4490"), Some(Crs::Cgcs2000));
        assert_eq!(Crs::from_flag("gcj02"), Some(Crs::Gcj02));
        assert_eq!(Crs::from_flag("EPSG:3857"), None);
    }

    #[test]
    fn geojson_crs_names() {
        assert_eq!(
            from_name("urn:ogc:def:crs:OGC:1.3:CRS84"),
            Declared::Known(Crs::Wgs84)
        );
        assert_eq!(
            from_name("urn:ogc:def:crs:EPSG::4490"),
            Declared::Known(Crs::Cgcs2000)
        );
        assert_eq!(from_name("EPSG:4326"), Declared::Known(Crs::Wgs84));
        assert_eq!(
            from_name("urn:ogc:def:crs:EPSG::3857"),
            Declared::Other("urn:ogc:def:crs:EPSG::3857".into())
        );
    }

    #[test]
    fn prj_files() {
        let esri = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        assert_eq!(from_wkt(esri), Declared::Known(Crs::Wgs84));
        let cgcs = r#"GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101]]]"#;
        assert_eq!(from_wkt(cgcs), Declared::Known(Crs::Cgcs2000));
        let utm = r#"PROJCS["WGS_1984_UTM_Zone_48N",GEOGCS["GCS_WGS_1984"]]"#;
        assert!(matches!(from_wkt(utm), Declared::Other(n) if n.contains("UTM")));
        let beijing = r#"GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954"]]"#;
        assert!(matches!(from_wkt(beijing), Declared::Other(_)));
    }
}
