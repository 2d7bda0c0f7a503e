//! Generator-wide tests: determinism, counts, contract property types, geometry validity,
//! everything inside Yibin, disjoint protection-zone bands, readings, and `--scale`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use geo::{Contains, Coord, Geometry, LineString, MultiPolygon, Point, Polygon, Validation};
use serde_json::Value;

use super::rivers::RiverLine;
use super::zones::tests::assert_disjoint_bands;
use super::*;

/// One scale-1 run shared by the read-only tests (a week of readings keeps it quick).
fn shared() -> &'static (tempfile::TempDir, SampleSummary) {
    static RUN: OnceLock<(tempfile::TempDir, SampleSummary)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = SampleOptions {
            days: 7,
            ..SampleOptions::default()
        };
        let summary = generate(&opts, &dir.path().join("data")).expect("generate");
        (dir, summary)
    })
}

fn data_dir() -> PathBuf {
    shared().0.path().join("data")
}

fn features(dir: &Path, layer: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("layers").join(format!("{layer}.geojson")))
        .expect("read layer");
    let v: Value = serde_json::from_str(&text).expect("layer is JSON");
    assert_eq!(v["type"], "FeatureCollection");
    v["features"].as_array().expect("features").clone()
}

fn coord(v: &Value) -> Coord {
    Coord {
        x: v[0].as_f64().expect("x"),
        y: v[1].as_f64().expect("y"),
    }
}

fn line(v: &Value) -> LineString {
    v.as_array().expect("line").iter().map(coord).collect()
}

fn polygon(v: &Value) -> Polygon {
    let rings: Vec<LineString> = v.as_array().expect("rings").iter().map(line).collect();
    Polygon::new(rings[0].clone(), rings[1..].to_vec())
}

fn geometry(f: &Value) -> Geometry {
    let g = &f["geometry"];
    let c = &g["coordinates"];
    match g["type"].as_str().expect("type") {
        "Point" => Point::from(coord(c)).into(),
        "LineString" => line(c).into(),
        "Polygon" => MultiPolygon::new(vec![polygon(c)]).into(),
        "MultiPolygon" => {
            MultiPolygon::new(c.as_array().expect("parts").iter().map(polygon).collect()).into()
        }
        other => panic!("unexpected geometry {other}"),
    }
}

fn area(f: &Value) -> MultiPolygon {
    match geometry(f) {
        Geometry::MultiPolygon(m) => m,
        other => panic!("not polygonal: {other:?}"),
    }
}

fn city() -> MultiPolygon {
    let admin = features(&data_dir(), "admin_boundaries");
    let f = admin.iter().find(|f| f["id"] == "511500").expect("city");
    area(f)
}

#[test]
fn same_options_give_identical_bytes() {
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let opts = SampleOptions {
        days: 2,
        ..SampleOptions::default()
    };
    generate(&opts, &a.path().join("data")).expect("first");
    generate(&opts, &b.path().join("data")).expect("second");
    let mut files: Vec<String> = LAYERS
        .iter()
        .map(|l| format!("layers/{l}.geojson"))
        .collect();
    files.extend(["readings.csv.gz".into(), "README.md".into()]);
    for f in files {
        let x = std::fs::read(a.path().join("data").join(&f)).expect("read a");
        let y = std::fs::read(b.path().join("data").join(&f)).expect("read b");
        assert!(x == y, "{f} differs between runs");
    }
}

#[test]
fn counts_match_the_contracts() {
    let summary = &shared().1;
    let counts: BTreeMap<&str, usize> = summary
        .counts
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(counts["admin_boundaries"], 11);
    assert!(counts["rivers"] >= 7);
    assert_eq!(counts["pollution_sources"], 600);
    assert_eq!(counts["drinking_water_sources"], 30);
    assert_eq!(counts["protection_zones"], 90);
    assert_eq!(counts["ecology_areas"], 40);
    assert_eq!(counts["rural_sites"], 300);
    assert!(
        (120..=140).contains(&counts["monitoring_stations"]),
        "{counts:?}"
    );
    let sources = features(&data_dir(), "pollution_sources");
    let national = sources
        .iter()
        .filter(|f| f["properties"]["control_level"] == "national")
        .count();
    assert_eq!(national, 47);
    let online = sources
        .iter()
        .filter(|f| f["properties"]["online_monitored"] == true)
        .count();
    let monitors = features(&data_dir(), "monitoring_stations")
        .iter()
        .filter(|f| f["properties"]["kind"] == "source_online")
        .count();
    assert_eq!(online, monitors);
    let water = features(&data_dir(), "drinking_water_sources");
    let intakes = water
        .iter()
        .filter(|f| f["properties"]["source_type"] == "river")
        .count();
    assert!(intakes >= 8, "{intakes} river intakes");
}

/// Property name → type letter (s string, i integer, b boolean, n number); `?` = optional.
fn contract(layer: &str) -> Vec<(&'static str, &'static str)> {
    let mut v = match layer {
        "admin_boundaries" => vec![
            ("adcode", "s"),
            ("name_zh", "s"),
            ("name_en", "s"),
            ("level", "s"),
        ],
        "rivers" => vec![("name_zh", "s"), ("name_en", "s")],
        "pollution_sources" => vec![
            ("name_zh", "s"),
            ("name_en", "s"),
            ("industry_code", "s"),
            ("industry_zh", "s"),
            ("industry_en", "s"),
            ("control_level", "s"),
            ("county", "s"),
            ("discharge", "s"),
            ("permit_no", "s"),
            ("online_monitored", "b"),
            ("credit_rating", "s"),
            ("violations", "i"),
            ("contact", "s"),
            ("status", "s"),
        ],
        "drinking_water_sources" => vec![
            ("name_zh", "s"),
            ("name_en", "s"),
            ("source_type", "s"),
            ("supply_level", "s"),
            ("population_served", "i"),
            ("capacity_m3_per_day", "i"),
            ("county", "s"),
            ("river", "s?"),
        ],
        "protection_zones" => vec![
            ("water_source_id", "s"),
            ("zone_level", "s"),
            ("name_zh", "s"),
            ("area_m2", "n"),
        ],
        "ecology_areas" => vec![
            ("name_zh", "s"),
            ("name_en", "s"),
            ("category", "s"),
            ("county", "s"),
            ("area_m2", "n"),
        ],
        "rural_sites" => vec![
            ("name_zh", "s"),
            ("name_en", "s"),
            ("category", "s"),
            ("county", "s"),
            ("sewage_status", "s?"),
            ("head_count", "i?"),
            ("population", "i?"),
        ],
        "monitoring_stations" => vec![
            ("name_zh", "s"),
            ("name_en", "s"),
            ("kind", "s"),
            ("mn", "s"),
            ("source_id", "s?"),
            ("pollutants", "s"),
            ("county", "s"),
            ("river", "s?"),
            ("status", "s"),
        ],
        other => panic!("unknown layer {other}"),
    };
    v.extend([("id", "s"), ("synthetic", "b")]);
    v
}

fn check_properties(dir: &Path, layer: &str) {
    let spec = contract(layer);
    let mut ids = BTreeSet::new();
    for f in features(dir, layer) {
        let p = f["properties"].as_object().expect("properties");
        assert_eq!(f["id"], p["id"], "{layer}");
        assert!(
            ids.insert(p["id"].as_str().expect("id").to_owned()),
            "duplicate id in {layer}"
        );
        assert_eq!(
            p["synthetic"],
            !matches!(layer, "admin_boundaries" | "rivers")
        );
        for key in p.keys() {
            assert!(
                spec.iter().any(|(k, _)| k == key),
                "{layer}: unexpected {key}"
            );
        }
        for (key, ty) in &spec {
            let Some(v) = p.get(*key) else {
                assert!(ty.ends_with('?'), "{layer}: missing {key}");
                continue;
            };
            let ok = match &ty[..1] {
                "s" => v.is_string(),
                "i" => v.is_i64(),
                "b" => v.is_boolean(),
                _ => v.is_number(),
            };
            assert!(ok, "{layer}: {key} = {v} is not {ty}");
        }
        if let Some(s) = p.get("status") {
            assert_eq!(s, "no_data");
        }
        if let Some(c) = p.get("county").and_then(Value::as_str) {
            assert!(c.len() == 6 && c.starts_with("5115"), "{layer}: county {c}");
        }
    }
}

#[test]
fn properties_match_the_contract_types() {
    for layer in LAYERS {
        check_properties(&data_dir(), layer);
    }
    let stations = features(&data_dir(), "monitoring_stations");
    let mns: BTreeSet<&str> = stations
        .iter()
        .map(|f| f["properties"]["mn"].as_str().expect("mn"))
        .collect();
    assert_eq!(mns.len(), stations.len());
    assert!(mns.iter().all(|m| m.len() == 24
        && m.chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))));
}

#[test]
fn geometries_are_valid_and_synthetic_ones_inside_yibin() {
    let city = city();
    for layer in LAYERS {
        for f in features(&data_dir(), layer) {
            let g = geometry(&f);
            assert!(g.is_valid(), "{layer} {} invalid", f["id"]);
            if let Geometry::MultiPolygon(m) = &g {
                for p in m.iter() {
                    assert!(
                        geo::Winding::is_ccw(p.exterior()),
                        "{layer} {} not CCW",
                        f["id"]
                    );
                    let holes_cw = p.interiors().iter().all(geo::Winding::is_cw);
                    assert!(holes_cw, "{layer} {} has a CCW hole", f["id"]);
                }
            }
            if f["properties"]["synthetic"] == true {
                assert!(city.contains(&g), "{layer} {} outside Yibin", f["id"]);
            }
        }
    }
}

#[test]
fn protection_zones_are_disjoint_bands_around_their_intakes() {
    let dir = data_dir();
    let sources: BTreeMap<String, Value> = features(&dir, "drinking_water_sources")
        .into_iter()
        .map(|f| (f["id"].as_str().expect("id").to_owned(), f))
        .collect();
    let mut bands: BTreeMap<String, BTreeMap<String, MultiPolygon>> = BTreeMap::new();
    for z in features(&dir, "protection_zones") {
        let p = &z["properties"];
        let ws = p["water_source_id"].as_str().expect("ws").to_owned();
        assert_eq!(
            z["id"],
            format!(
                "pz-{}-{}",
                &ws[3..],
                p["zone_level"].as_str().expect("level")
            )
        );
        bands.entry(ws).or_default().insert(
            p["zone_level"].as_str().expect("level").to_owned(),
            area(&z),
        );
    }
    assert_eq!(bands.len(), sources.len());
    let reference = reference::Reference::load().expect("reference");
    for (ws, b) in &bands {
        let src = &sources[ws];
        let intake = match geometry(src) {
            Geometry::Point(p) => p.0,
            _ => panic!("water source is not a point"),
        };
        assert_disjoint_bands(intake, &b["level1"], &b["level2"], &b["quasi"]);
        if let Some(river) = src["properties"]["river"].as_str() {
            let r = reference
                .rivers
                .iter()
                .find(|r| r.name_en == river)
                .expect("river");
            let dist = r
                .parts
                .iter()
                .map(|part| RiverLine::new(river, part).locate(intake).1)
                .fold(f64::INFINITY, f64::min);
            assert!(dist < 1.0, "{ws} is {dist} m off the {river}");
        }
    }
}

fn readings(dir: &Path) -> Vec<Vec<String>> {
    let file = std::fs::File::open(dir.join("readings.csv.gz")).expect("open");
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("gunzip");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(readings::HEADER));
    lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn readings_are_well_formed_with_exceedance_episodes() {
    let dir = data_dir();
    let stations: BTreeMap<String, Value> = features(&dir, "monitoring_stations")
        .into_iter()
        .map(|f| {
            (
                f["id"].as_str().expect("id").to_owned(),
                f["properties"].clone(),
            )
        })
        .collect();
    let national: BTreeSet<String> = features(&dir, "pollution_sources")
        .iter()
        .filter(|f| f["properties"]["control_level"] == "national")
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .collect();
    let rows = readings(&dir);
    assert_eq!(rows.len(), shared().1.readings);
    let first = SAMPLE_END - time::Duration::hours(7 * 24 - 1);
    let (mut flags, mut exceeding, mut last) = (BTreeMap::new(), BTreeSet::new(), false);
    let mut per_series: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &rows {
        assert_eq!(r.len(), 6, "{r:?}");
        let st = &stations[&r[0]];
        let pollutants: Vec<&str> = st["pollutants"]
            .as_str()
            .expect("pollutants")
            .split(',')
            .collect();
        assert!(pollutants.contains(&r[1].as_str()), "{r:?}");
        assert_eq!(r[2], "avg");
        assert!(r[3].ends_with('Z'));
        let t = time::OffsetDateTime::parse(&r[3], &time::format_description::well_known::Rfc3339)
            .expect("time");
        assert!(t >= first && t <= SAMPLE_END, "{t}");
        last |= t == SAMPLE_END;
        let v: f64 = r[4].parse().expect("value");
        assert!(v.is_finite() && v >= 0.0);
        assert!(["N", "M", "D", "C"].contains(&r[5].as_str()), "{r:?}");
        *flags.entry(r[5].clone()).or_insert(0usize) += 1;
        *per_series.entry((r[0].clone(), r[1].clone())).or_default() += 1;
        let lax = match r[1].as_str() {
            "w01018" => 100.0,
            "w21003" => 15.0,
            "a21026" | "a21002" => 100.0,
            "a34013" => 30.0,
            _ => f64::INFINITY,
        };
        if r[5] == "N" && v > lax && st["kind"] == "source_online" {
            assert!(
                national.contains(st["source_id"].as_str().expect("source")),
                "{r:?}"
            );
            exceeding.insert(r[0].clone());
        }
    }
    assert!(last, "the last hour is included");
    assert!(exceeding.len() >= 3, "exceeding stations: {exceeding:?}");
    let total = rows.len() as f64;
    let non_n = (total - flags["N"] as f64) / total;
    assert!(non_n > 0.002 && non_n < 0.05, "{flags:?}");
    // A few % of hours missing, every series present.
    let expected: usize = stations
        .values()
        .map(|s| s["pollutants"].as_str().expect("p").split(',').count())
        .sum();
    assert_eq!(per_series.len(), expected);
    let missing = 1.0 - total / (expected * 7 * 24) as f64;
    assert!(missing > 0.01 && missing < 0.08, "{missing}");
}

#[test]
fn scale_three_triples_the_synthetic_layers_with_unique_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = SampleOptions {
        scale: 3,
        days: 1,
        ..SampleOptions::default()
    };
    let summary = generate(&opts, &dir.path().join("data")).expect("generate");
    let one = &shared().1;
    for ((layer, n3), (_, n1)) in summary.counts.iter().zip(&one.counts) {
        let expected = if matches!(layer.as_str(), "admin_boundaries" | "rivers") {
            *n1
        } else {
            3 * n1
        };
        assert_eq!(*n3, expected, "{layer}");
        check_properties_scaled(&dir.path().join("data"), layer);
    }
    // The Yibin copy does not depend on the scale.
    let a = features(&data_dir(), "pollution_sources");
    let b = features(&dir.path().join("data"), "pollution_sources");
    assert_eq!(a[..], b[..a.len()]);
    assert!(b.iter().any(|f| f["id"] == "ps-c0002-000600"));
}

/// Ids unique and valid geometry in a scaled run (counties there are adcodes all over China).
fn check_properties_scaled(dir: &Path, layer: &str) {
    let mut ids = BTreeSet::new();
    for f in features(dir, layer) {
        assert!(
            ids.insert(f["id"].as_str().expect("id").to_owned()),
            "duplicate {} in {layer}",
            f["id"]
        );
        assert!(geometry(&f).is_valid(), "{layer} {}", f["id"]);
    }
}

#[test]
fn bad_options_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    for opts in [
        SampleOptions {
            scale: 0,
            ..SampleOptions::default()
        },
        SampleOptions {
            days: 0,
            ..SampleOptions::default()
        },
        SampleOptions {
            days: 367,
            ..SampleOptions::default()
        },
    ] {
        assert!(matches!(
            generate(&opts, dir.path()),
            Err(SampleError::InvalidOptions(_))
        ));
    }
}
