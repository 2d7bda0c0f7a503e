//! Default limits, seeded once per station and pollutant from domain.md §3 when a
//! store has none; afterwards they are data (`GET/PUT /api/monitoring/limits`).
//!
//! Which row applies (an assumption; edit the limits for the real permits):
//! - online monitors of sewage treatment plants (industry 4620): GB 18918-2002 class 1A
//!   (COD 50, NH3-N 5, TN 15, TP 0.5 mg/L), hourly averages;
//! - other wastewater outlets: GB 8978-1996 grade 1 (COD 100 mg/L; NH3-N 15 mg/L),
//!   hourly averages;
//! - flue gas: GB 13223-2011 coal boilers (SO2 100, NOx 100, particulate 30 mg/m³ at
//!   6 % O2), hourly averages;
//! - surface-water sections: GB 3838-2002 class III (COD 20, NH3-N 1.0 mg/L), hourly;
//! - ambient air stations: none (they are graded by AQI, not limits).

use crate::atlas::Layer;
use crate::store::monitoring::{Basis, Limit};

const GB18918: &str = "GB 18918-2002 class 1A";
const GB8978: &str = "GB 8978-1996 grade 1";
const GB13223: &str = "GB 13223-2011 coal-fired boilers";
const GB3838: &str = "GB 3838-2002 class III";

/// (pollutant, value, unit, standard, reference O2).
type Row = (&'static str, f64, &'static str, &'static str, Option<f64>);

const SEWAGE: [Row; 4] = [
    ("w01018", 50.0, "mg/L", GB18918, None),
    ("w21003", 5.0, "mg/L", GB18918, None),
    ("w21001", 15.0, "mg/L", GB18918, None),
    ("w21011", 0.5, "mg/L", GB18918, None),
];
const WASTEWATER: [Row; 2] = [
    ("w01018", 100.0, "mg/L", GB8978, None),
    ("w21003", 15.0, "mg/L", GB8978, None),
];
const FLUE_GAS: [Row; 3] = [
    ("a21026", 100.0, "mg/m3", GB13223, Some(6.0)),
    ("a21002", 100.0, "mg/m3", GB13223, Some(6.0)),
    ("a34013", 30.0, "mg/m3", GB13223, Some(6.0)),
];
const SURFACE_WATER: [Row; 2] = [
    ("w01018", 20.0, "mg/L", GB3838, None),
    ("w21003", 1.0, "mg/L", GB3838, None),
];

/// The default limits of every station of the layer that reports a limited pollutant.
/// `sources` gives the industry of an online monitor's source.
pub fn default_limits(stations: &Layer, sources: Option<&Layer>) -> Vec<Limit> {
    let schema = &stations.schema;
    let mut out = Vec::new();
    for f in stations.features() {
        let kind = f.text(schema, "kind");
        let sewage = sources.is_some_and(|s| {
            s.get(f.text(schema, "source_id"))
                .is_some_and(|src| src.text(&s.schema, "industry_code") == "4620")
        });
        let tables: Vec<&[Row]> = match kind {
            "source_online" if sewage => vec![&SEWAGE, &FLUE_GAS],
            "source_online" => vec![&WASTEWATER, &FLUE_GAS],
            "water_section" => vec![&SURFACE_WATER],
            _ => continue,
        };
        let pollutants: Vec<&str> = f.text(schema, "pollutants").split(',').collect();
        for row in tables.into_iter().flatten() {
            if !pollutants.contains(&row.0) {
                continue;
            }
            out.push(Limit {
                station_id: f.id.to_string(),
                pollutant: row.0.into(),
                value: row.1,
                unit: row.2.into(),
                standard: row.3.into(),
                basis: Basis::Hourly,
                ref_o2: row.4,
            });
        }
    }
    out
}
