//! Downstream and upstream traces on the real rivers, and the diagnostics.

use envatlas_tests::TestServer;
use geo::{Distance, Geodesic};
use geo_types::Point;
use serde_json::json;

use super::support::*;

#[test]
fn the_network_joins_every_reach_and_reports_its_mouth() {
    let d = get_ok("/api/analysis/rivers/diagnostics");
    assert_eq!(d["snap_tolerance_m"], 1000.0);
    assert_eq!(d["reaches"], 11, "{d}");
    assert_eq!(d["cycles"].as_array().map(Vec::len), Some(0));
    // Only the Chang Jiang's last reach ends nowhere (the network's mouth).
    let ends: Vec<&str> = d["unconnected_ends"]
        .as_array()
        .expect("ends")
        .iter()
        .map(|e| e["reach"].as_str().expect("reach"))
        .collect();
    assert_eq!(ends, ["river-chang-jiang-1"], "{d}");
    let links = d["links"].as_array().expect("links");
    assert_eq!(links.len(), 10);
    let tuo = links
        .iter()
        .find(|l| l["from"] == "river-tuo-1")
        .expect("the Tuo is joined");
    assert_eq!(tuo["to"], "river-chang-jiang-2");
    let gap = tuo["gap_m"].as_f64().expect("gap");
    assert!((25.0..45.0).contains(&gap), "Tuo gap {gap}");
    let jinsha = links
        .iter()
        .find(|l| l["from"] == "river-jinsha-3")
        .expect("the Jinsha is joined");
    assert_eq!(
        jinsha["to"], "river-chang-jiang-2",
        "not to the Min's mouth"
    );
    assert!(jinsha["gap_m"].as_f64().expect("gap") < 1.0);
}

#[test]
fn a_smaller_tolerance_leaves_the_known_gaps() {
    let server = TestServer::start_with(|c| c.rivers.snap_tolerance_m = 100.0).expect("server");
    let (status, d) =
        envatlas_tests::get_json(&server.url("/api/analysis/rivers/diagnostics")).expect("get");
    assert_eq!(status, 200);
    let mut ends: Vec<String> = d["unconnected_ends"]
        .as_array()
        .expect("ends")
        .iter()
        .map(|e| e["reach"].as_str().expect("reach").to_string())
        .collect();
    ends.sort();
    // Chang Jiang parts (167–211 m), Jinsha parts (761 m), Wu–Chang Jiang (128 m).
    assert_eq!(
        ends,
        [
            "river-chang-jiang-1",
            "river-chang-jiang-2",
            "river-jinsha-1",
            "river-wu-2"
        ],
        "{d}"
    );
    let near = d["unconnected_ends"]
        .as_array()
        .expect("ends")
        .iter()
        .find(|e| e["reach"] == "river-jinsha-1")
        .and_then(|e| e["nearest_m"].as_f64())
        .expect("nearest reach reported");
    assert!((700.0..800.0).contains(&near), "{near}");
}

#[test]
fn a_spill_on_the_min_reaches_chang_jiang_intakes_below_yibin() {
    // A water-quality section on the Min, ~15 km above its mouth in Yibin.
    let fc = post_ok(
        "/api/analysis/downstream",
        &json!({"lon": 104.456763, "lat": 28.796053, "max_distance_m": 100_000}),
    );
    let snap = fc["snapped"]["snap_distance_m"].as_f64().expect("snap");
    assert!(snap < 2000.0, "{snap}");
    assert_eq!(fc["snapped"]["properties"]["reach"], "river-min-1");
    assert_eq!(fc["path"]["type"], "LineString");
    let reaches: Vec<&str> = fc["reaches"]
        .as_array()
        .expect("reaches")
        .iter()
        .map(|r| r["reach"].as_str().expect("reach"))
        .collect();
    assert_eq!(reaches, ["river-min-1", "river-chang-jiang-2"]);
    assert!((fc["length_m"].as_f64().expect("length") - 100_000.0).abs() < 1.0);
    let found = features(&fc);
    let intakes: Vec<&serde_json::Value> = found
        .iter()
        .filter(|f| f["properties"]["layer"] == "drinking_water_sources")
        .collect();
    let cj = intakes
        .iter()
        .find(|f| f["properties"]["river"] == "Chang Jiang")
        .expect("a Chang Jiang intake below Yibin is reached");
    let along = prop_f64(cj, "along_river_m");
    let expected = prop_f64(cj, "arrival_expected_s");
    let earliest = prop_f64(cj, "arrival_earliest_s");
    // Along the river, never straight: longer than the straight line.
    let c = &cj["geometry"]["coordinates"];
    let straight = Geodesic.distance(
        Point::new(104.456763, 28.796053),
        Point::new(c[0].as_f64().expect("x"), c[1].as_f64().expect("y")),
    );
    assert!(along > straight, "{along} vs {straight}");
    // Min at 1.2 m/s, then the Chang Jiang at 1.5 m/s: between the two.
    assert!(
        expected > along / 1.5 && expected < along / 1.2,
        "{expected} s for {along} m"
    );
    assert!((earliest - 0.89 * expected).abs() <= 1.0);
    assert!(prop_f64(cj, "distance_m") <= 500.0);
    // Sorted by along-river distance; sections and zones are there too.
    let alongs: Vec<f64> = found.iter().map(|f| prop_f64(f, "along_river_m")).collect();
    assert!(alongs.windows(2).all(|w| w[0] <= w[1]));
    assert!(found
        .iter()
        .any(|f| f["properties"]["kind"] == "water_section"));
    assert!(found
        .iter()
        .any(|f| f["properties"]["layer"] == "protection_zones"));
    assert!(found
        .iter()
        .filter(|f| f["properties"]["layer"] == "monitoring_stations")
        .all(|f| f["properties"]["kind"] == "water_section"));
    // Nothing on the Jinsha (upstream of the confluence) is reached.
    assert!(intakes.iter().all(|f| f["properties"]["river"] != "Jinsha"));
    // A given velocity replaces the rivers' own.
    let slow = post_ok(
        "/api/analysis/downstream",
        &json!({"lon": 104.456763, "lat": 28.796053, "max_distance_m": 100_000, "velocity_mps": 0.5}),
    );
    assert!((slow["travel_time_s"].as_f64().expect("t") - 200_000.0).abs() < 2.0);
}

#[test]
fn the_tuo_joins_the_chang_jiang_across_its_gap() {
    let tuo = river_coords("river-tuo-1");
    let (lon, lat) = tuo[tuo.len() - 3];
    let fc = post_ok(
        "/api/analysis/downstream",
        &json!({"lon": lon, "lat": lat, "max_distance_m": 50_000}),
    );
    let reaches: Vec<&str> = fc["reaches"]
        .as_array()
        .expect("reaches")
        .iter()
        .map(|r| r["reach"].as_str().expect("reach"))
        .collect();
    assert_eq!(reaches, ["river-tuo-1", "river-chang-jiang-2"], "{fc}");
    let path = fc["path"]["coordinates"].as_array().expect("path");
    let last_lon = path.last().expect("end")[0].as_f64().expect("lon");
    assert!(
        last_lon > 105.5,
        "the path goes on down the Chang Jiang: {last_lon}"
    );
    assert_eq!(fc["reached_outlet"], false);
}

#[test]
fn nothing_is_upstream_of_a_rivers_source() {
    for id in ["river-dadu-1", "river-tuo-1", "river-jialing-1"] {
        let (lon, lat) = river_coords(id)[0];
        let fc = post_ok(
            "/api/analysis/upstream",
            &json!({"lon": lon, "lat": lat, "max_distance_m": 500_000, "corridor_m": 5000}),
        );
        assert_eq!(fc["length_m"], 0.0, "{id}: {fc}");
        assert!(features(&fc).is_empty(), "{id}: {fc}");
        assert_eq!(fc["path"]["type"], "MultiLineString");
        assert_eq!(fc["path"]["coordinates"].as_array().map(Vec::len), Some(0));
    }
}

#[test]
fn upstream_of_a_section_ranks_sources_along_every_reach() {
    let fc = post_ok(
        "/api/analysis/upstream",
        &json!({"station_id": "ms-0125", "max_distance_m": 150_000, "corridor_m": 2000}),
    );
    assert_eq!(fc["station_id"], "ms-0125");
    assert_eq!(fc["path"]["type"], "MultiLineString");
    // The Chang Jiang above the section, the Min and the Jinsha.
    let parts = fc["path"]["coordinates"].as_array().expect("parts").len();
    assert!(parts >= 3, "{parts} reaches");
    assert!(fc["length_m"].as_f64().expect("length") > 150_000.0);
    let found = features(&fc);
    assert!(!found.is_empty());
    let alongs: Vec<f64> = found.iter().map(|f| prop_f64(f, "along_river_m")).collect();
    assert!(alongs.windows(2).all(|w| w[0] <= w[1]));
    for (i, f) in found.iter().enumerate() {
        let p = &f["properties"];
        assert_eq!(p["layer"], "pollution_sources");
        assert_eq!(p["rank"], i + 1);
        assert!(prop_f64(f, "distance_m") <= 2000.0);
        assert!(prop_f64(f, "along_river_m") <= 150_000.0);
        let water = p["discharge"] == "water" || p["discharge"] == "both";
        assert_eq!(p["water_discharger"], water);
        assert_eq!(p["recent_exceedances"], 0);
        assert_eq!(p["flagged"], water);
        // Nothing east of the section (downstream on the Chang Jiang).
        let lon = f["geometry"]["coordinates"][0].as_f64().expect("lon");
        assert!(lon < 105.12, "{lon}");
    }
    // The same point given by lon/lat.
    let by_point = post_ok(
        "/api/analysis/upstream",
        &json!({"lon": 105.106508, "lat": 28.716222, "max_distance_m": 150_000, "corridor_m": 2000}),
    );
    assert_eq!(features(&by_point).len(), found.len());
}
