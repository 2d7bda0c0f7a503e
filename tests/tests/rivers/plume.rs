//! The air-release threat zone over HTTP.

use geo::{Contains, Distance, Geodesic};
use geo_types::{Coord, LineString, Point, Polygon};
use serde_json::{json, Value};

use super::support::*;

fn release() -> Value {
    json!({
        "lon": 104.62, "lat": 28.77, "release_g_s": 2000, "height_m": 10,
        "wind_from_deg": 270, "wind_speed_mps": 2, "stability": "D",
        "level_of_concern_mg_m3": 5, "max_distance_m": 30000
    })
}

#[test]
fn the_zone_lies_downwind_and_holds_what_is_inside() {
    let fc = post_ok("/api/analysis/plume", &release());
    assert_eq!(fc["zone"]["type"], "Polygon", "{}", fc["zone"]);
    assert_eq!(fc["valid_range_m"], json!([100.0, 10000.0]));
    assert!(fc["note"]["zh"].as_str().expect("zh").contains("筛查"));
    assert!(fc["note"]["en"].as_str().expect("en").contains("Screening"));
    let ring: Vec<Coord<f64>> = fc["zone"]["coordinates"][0]
        .as_array()
        .expect("ring")
        .iter()
        .map(|c| Coord {
            x: c[0].as_f64().expect("x"),
            y: c[1].as_f64().expect("y"),
        })
        .collect();
    // Wind from the west: the zone lies east of the release.
    assert!(ring.iter().all(|c| c.x >= 104.62 - 1e-9));
    let zone = Polygon::new(LineString(ring), vec![]);
    let length = fc["zone_length_m"].as_f64().expect("length");
    assert!(length > 1000.0 && length < 30_000.0, "{length}");
    let origin = Point::new(104.62, 28.77);
    for f in features(&fc) {
        let p = &f["properties"];
        let layer = p["layer"].as_str().expect("layer");
        assert!([
            "drinking_water_sources",
            "rural_sites",
            "ecology_areas",
            "pollution_sources"
        ]
        .contains(&layer));
        if f["geometry"]["type"] == "Point" {
            let c = &f["geometry"]["coordinates"];
            let pt = Point::new(c[0].as_f64().expect("x"), c[1].as_f64().expect("y"));
            assert!(zone.contains(&pt), "{f}");
            let d = Geodesic.distance(origin, pt);
            assert!((d - prop_f64(f, "distance_m")).abs() < 1.0);
            // Inside the zone the estimate is at the level of concern or above
            // (within the polygon's sampling).
            assert!(prop_f64(f, "concentration_mg_m3") > 5.0 * 0.95, "{p}");
        }
    }
    assert!(
        !features(&fc).is_empty(),
        "the sample has features east of Yibin"
    );
}

#[test]
fn an_unreachable_level_gives_no_zone() {
    let mut body = release();
    body["level_of_concern_mg_m3"] = json!(1e9);
    let fc = post_ok("/api/analysis/plume", &body);
    assert!(fc["zone"].is_null());
    assert!(features(&fc).is_empty());
}
