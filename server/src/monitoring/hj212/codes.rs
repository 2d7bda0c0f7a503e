//! Pollutant codes: the HJ/T 212-2005 codes old devices still send, mapped to the
//! HJ 212-2017 codes (Appendix B of the standard, tables B.1 water and B.2 gas, column
//! "原编码"), and names and units of the codes the catalog shows.
//!
//! The 2005 water codes have three digits (`011`), the gas codes two (`02`) or an `S`
//! prefix (`S01`), and the flows `B01`/`B02`, so one table serves both media without
//! looking at the system code.

/// HJ/T 212-2005 code → HJ 212-2017 code, every row of tables B.1 and B.2 that has one.
pub const LEGACY_CODES: &[(&str, &str)] = &[
    // Water (B.1).
    ("001", "w01001"), // pH
    ("002", "w01002"), // colour
    ("003", "w01012"), // suspended solids
    ("010", "w01017"), // BOD5
    ("011", "w01018"), // COD
    ("015", "w01020"), // total organic carbon
    ("020", "w20111"), // total mercury
    ("021", "w20113"), // alkyl mercury
    ("022", "w20115"), // total cadmium
    ("023", "w20116"), // total chromium
    ("024", "w20117"), // hexavalent chromium
    ("026", "w20119"), // total arsenic
    ("027", "w20120"), // total lead
    ("028", "w20121"), // total nickel
    ("029", "w20122"), // total copper
    ("030", "w20123"), // total zinc
    ("031", "w20124"), // total manganese
    ("032", "w20125"), // total iron
    ("033", "w20126"), // total silver
    ("034", "w20127"), // total beryllium
    ("035", "w20128"), // total selenium
    ("036", "w20092"), // tin
    ("037", "w20023"), // boron
    ("038", "w20061"), // molybdenum
    ("039", "w20012"), // barium
    ("040", "w20038"), // cobalt
    ("041", "w20089"), // thallium
    ("060", "w21003"), // ammonia nitrogen
    ("061", "w99001"), // organic nitrogen
    ("062", "w21004"), // Kjeldahl nitrogen
    ("063", "w21006"), // nitrite
    ("064", "w21007"), // nitrate
    ("065", "w21001"), // total nitrogen
    ("070", "w21016"), // cyanide
    ("071", "w21019"), // sulphide
    ("072", "w21017"), // fluoride
    ("080", "w22001"), // petroleum
    ("090", "w21022"), // chloride
    ("101", "w21011"), // total phosphorus
    ("110", "w23002"), // volatile phenols
    ("350", "w33001"), // HCH
    ("351", "w33007"), // DDT
    ("520", "w19002"), // anionic surfactants
    ("540", "w25043"), // benzo[a]pyrene
    ("550", "w02003"), // faecal coliforms
    ("B01", "w00000"), // wastewater flow
    // Gas (B.2).
    ("01", "a34013"),  // smoke / particulate
    ("02", "a21026"),  // SO2
    ("03", "a21002"),  // NOx
    ("04", "a21005"),  // CO
    ("05", "a21028"),  // H2S
    ("06", "a21018"),  // fluoride
    ("07", "a21017"),  // cyanide
    ("08", "a21024"),  // hydrogen chloride
    ("09", "a34038"),  // asphalt fume
    ("10", "a21001"),  // ammonia
    ("11", "a21022"),  // chlorine
    ("12", "a99051"),  // carbon disulphide
    ("13", "a30022"),  // mercaptans
    ("14", "a34039"),  // sulphuric acid mist
    ("15", "a34040"),  // chromic acid mist
    ("17", "a25003"),  // toluene
    ("18", "a25005"),  // xylene
    ("19", "a31001"),  // formaldehyde
    ("20", "a25044"),  // benzo[a]pyrene
    ("21", "a26001"),  // anilines
    ("22", "a25023"),  // nitrobenzene
    ("23", "a25010"),  // chlorobenzene
    ("24", "a99049"),  // phosgene
    ("25", "a24087"),  // hydrocarbons
    ("26", "a31002"),  // acetaldehyde
    ("27", "a23001"),  // phenols
    ("28", "a30001"),  // methanol
    ("29", "a24046"),  // vinyl chloride
    ("30", "a05001"),  // CO2
    ("31", "a20057"),  // mercury and compounds
    ("32", "a20043"),  // lead and compounds
    ("33", "a20025"),  // cadmium and compounds
    ("34", "a20091"),  // tin and compounds
    ("35", "a20063"),  // nickel and compounds
    ("36", "a20016"),  // beryllium and compounds
    ("37", "a01010"),  // Ringelmann blackness
    ("B02", "a00000"), // flue-gas flow
    ("S01", "a19001"), // O2
    ("S02", "a01011"), // flue-gas velocity
    ("S03", "a01012"), // flue-gas temperature
    ("S04", "a01017"), // flue-gas dynamic pressure
    ("S05", "a01014"), // flue-gas humidity
    ("S06", "a01015"), // cooling temperature
    ("S07", "a01016"), // flue cross-section
    ("S08", "a01013"), // flue-gas pressure
];

/// The HJ 212-2017 code of an HJ/T 212-2005 code, if `old` is one.
pub fn from_legacy(old: &str) -> Option<&'static str> {
    LEGACY_CODES
        .iter()
        .find(|(o, _)| *o == old)
        .map(|&(_, new)| new)
}

/// Names and units of a pollutant code, for the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollutantInfo {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    /// Unit of concentration values (`-Rtd`, `-Avg`, ...); empty when dimensionless.
    pub unit: &'static str,
    /// Unit of `-Cou` (amount over the interval), where the standard gives one.
    pub cou_unit: Option<&'static str>,
    /// Unit ambient air-quality stations (system code 22) report, where it differs from
    /// [`PollutantInfo::unit`] (GB 3095-2012 reports gases other than CO in μg/m³).
    pub ambient_unit: Option<&'static str>,
}

const fn p(
    code: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    unit: &'static str,
    cou_unit: Option<&'static str>,
    ambient_unit: Option<&'static str>,
) -> PollutantInfo {
    PollutantInfo {
        code,
        name_zh,
        name_en,
        unit,
        cou_unit,
        ambient_unit,
    }
}

const KG: Option<&str> = Some("kg");
const M3: Option<&str> = Some("m³");
const UG: Option<&str> = Some("μg/m³");

/// The codes the sample stations and common devices report. Units are the defaults of
/// Appendix B unless noted.
pub const POLLUTANTS: &[PollutantInfo] = &[
    // Water: pollution sources and surface-water sections.
    p("w00000", "废水流量", "Wastewater flow", "L/s", M3, None),
    p("w01001", "pH值", "pH", "", None, None),
    p("w01009", "溶解氧", "Dissolved oxygen", "mg/L", None, None),
    p("w01010", "水温", "Water temperature", "°C", None, None),
    p("w01012", "悬浮物", "Suspended solids", "mg/L", KG, None),
    p("w01014", "电导率", "Conductivity", "μS/cm", None, None),
    p(
        "w01018",
        "化学需氧量",
        "Chemical oxygen demand (COD)",
        "mg/L",
        KG,
        None,
    ),
    p(
        "w01019",
        "高锰酸盐指数",
        "Permanganate index",
        "mg/L",
        KG,
        None,
    ),
    p("w21001", "总氮", "Total nitrogen", "mg/L", KG, None),
    p(
        "w21003",
        "氨氮",
        "Ammonia nitrogen (NH3-N)",
        "mg/L",
        KG,
        None,
    ),
    p("w21011", "总磷", "Total phosphorus", "mg/L", KG, None),
    // Flue gas.
    p("a00000", "烟气流量", "Flue-gas flow", "m³/s", M3, None),
    p("a01011", "烟气流速", "Flue-gas velocity", "m/s", None, None),
    p(
        "a01012",
        "烟气温度",
        "Flue-gas temperature",
        "°C",
        None,
        None,
    ),
    p("a01013", "烟气压力", "Flue-gas pressure", "kPa", None, None),
    p("a01014", "烟气湿度", "Flue-gas humidity", "%", None, None),
    p("a19001", "氧含量", "Oxygen content", "%", None, None),
    p(
        "a21002",
        "氮氧化物",
        "Nitrogen oxides (NOx)",
        "mg/m³",
        KG,
        UG,
    ),
    p(
        "a21004",
        "二氧化氮",
        "Nitrogen dioxide (NO2)",
        "mg/m³",
        KG,
        UG,
    ),
    p(
        "a21005",
        "一氧化碳",
        "Carbon monoxide (CO)",
        "mg/m³",
        KG,
        None,
    ),
    p(
        "a21026",
        "二氧化硫",
        "Sulphur dioxide (SO2)",
        "mg/m³",
        KG,
        UG,
    ),
    p(
        "a34013",
        "烟尘/颗粒物",
        "Particulate matter (smoke dust)",
        "mg/m³",
        KG,
        None,
    ),
    // Ambient air quality. Appendix B lists ng/m³ as the default unit of PM10 and PM2.5,
    // but stations report μg/m³ as GB 3095-2012 and HJ 633-2012 do; ozone (a05024) is
    // from HJ 524-2009, not listed in Appendix B.
    p("a34002", "可吸入颗粒物", "PM10", "μg/m³", None, None),
    p("a34004", "细颗粒物", "PM2.5", "μg/m³", None, None),
    p("a05024", "臭氧", "Ozone (O3)", "μg/m³", None, None),
    p("a01001", "气温", "Air temperature", "°C", None, None),
    p("a01002", "湿度", "Relative humidity", "%", None, None),
    p("a01007", "风速", "Wind speed", "m/s", None, None),
    p("a01008", "风向", "Wind direction", "°", None, None),
];

/// Names and units of a 2017 code, when the catalog knows it.
pub fn pollutant(code: &str) -> Option<&'static PollutantInfo> {
    POLLUTANTS.iter().find(|p| p.code == code)
}

/// The unit of concentration values of `code` reported by a station of system code `st`.
pub fn unit_for(code: &str, st: &str) -> Option<&'static str> {
    let info = pollutant(code)?;
    Some(match (st, info.ambient_unit) {
        ("22", Some(ambient)) => ambient,
        _ => info.unit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn common_legacy_codes() {
        for (old, new) in [
            ("011", "w01018"),
            ("060", "w21003"),
            ("101", "w21011"),
            ("065", "w21001"),
            ("001", "w01001"),
            ("B01", "w00000"),
            ("01", "a34013"),
            ("02", "a21026"),
            ("03", "a21002"),
            ("B02", "a00000"),
            ("S01", "a19001"),
            ("S03", "a01012"),
        ] {
            assert_eq!(from_legacy(old), Some(new), "{old}");
        }
        assert_eq!(from_legacy("w01018"), None);
        assert_eq!(from_legacy("1"), None);
    }

    #[test]
    fn legacy_table_is_a_function() {
        let olds: HashSet<_> = LEGACY_CODES.iter().map(|(o, _)| o).collect();
        assert_eq!(olds.len(), LEGACY_CODES.len());
        assert_eq!(LEGACY_CODES.len(), 91);
        for (old, new) in LEGACY_CODES {
            assert!(
                new.len() == 6 && (new.starts_with('w') || new.starts_with('a')),
                "{new}"
            );
            // Water codes map to water codes, gas codes to gas codes.
            let water = old.len() == 3 && old.bytes().all(|b| b.is_ascii_digit()) || *old == "B01";
            assert_eq!(new.starts_with('w'), water, "{old} -> {new}");
        }
    }

    #[test]
    fn catalog_has_the_common_codes() {
        let codes: HashSet<_> = POLLUTANTS.iter().map(|p| p.code).collect();
        assert_eq!(codes.len(), POLLUTANTS.len());
        for code in [
            "w01018", "w21003", "w21011", "w21001", "w01001", "w00000", "a21026", "a21002",
            "a34013", "a19001", "a00000", "a01012", "a34002", "a34004", "a21005", "a05024",
        ] {
            let info = pollutant(code).unwrap_or_else(|| panic!("{code}"));
            assert!(!info.name_zh.is_empty() && !info.name_en.is_empty());
        }
        assert_eq!(pollutant("w01018").map(|p| p.unit), Some("mg/L"));
        assert_eq!(unit_for("a21026", "31"), Some("mg/m³"));
        assert_eq!(unit_for("a21026", "22"), Some("μg/m³"));
        assert_eq!(unit_for("a21005", "22"), Some("mg/m³"));
        assert_eq!(unit_for("x99999", "22"), None);
    }
}
