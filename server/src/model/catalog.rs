//! The built-in schemas of the atlas layers, as fixed by the contracts in
//! `docs/architecture.md`. A store that is created or seeded registers these.

use super::schema::{GeometryKind, LayerSchema, PropertyDef, Style};
use super::value::PropType;

/// Layer ids in the order the catalog lists them (basemap layers last, so that a
/// client drawing in reverse order puts points on top).
pub const LAYER_IDS: [&str; 8] = [
    "pollution_sources",
    "drinking_water_sources",
    "protection_zones",
    "ecology_areas",
    "rural_sites",
    "monitoring_stations",
    "rivers",
    "admin_boundaries",
];

/// The built-in schema of every atlas layer.
pub fn builtin_schemas() -> Vec<LayerSchema> {
    LAYER_IDS
        .iter()
        .filter_map(|id| builtin_schema(id))
        .collect()
}

/// The built-in schema of one layer, if it is one of the atlas layers.
pub fn builtin_schema(id: &str) -> Option<LayerSchema> {
    use PropType::{Boolean as B, Integer as I, Number as N, String as S};
    let s = match id {
        "admin_boundaries" => schema(
            id,
            ("行政区划", "Administrative boundaries"),
            ("宜宾市及所辖十个区县的边界（真实数据）。", "Yibin city and its ten districts and counties (real data)."),
            GeometryKind::Polygon,
            &[
                ("adcode", S, "行政区划代码", "Administrative code"),
                ("name_zh", S, "名称", "Name (Chinese)"),
                ("name_en", S, "英文名称", "Name (English)"),
                ("level", S, "级别", "Level"),
            ],
            ("#6b7280", None, 0),
        ),
        "rivers" => schema(
            id,
            ("河流", "Rivers"),
            ("金沙江、岷江、长江等河流中心线（Natural Earth，真实数据）。", "River centrelines: Jinsha, Min, Chang Jiang and others (Natural Earth, real data)."),
            GeometryKind::Line,
            &[
                ("name_zh", S, "名称", "Name (Chinese)"),
                ("name_en", S, "英文名称", "Name (English)"),
            ],
            ("#3b82f6", None, 0),
        ),
        "pollution_sources" => schema(
            id,
            ("污染源", "Pollution sources"),
            ("重点排污单位（示例数据）：国控、省控、市控。", "Key pollution sources (synthetic): national, provincial and municipal control."),
            GeometryKind::Point,
            &[
                ("name_zh", S, "名称", "Name (Chinese)"),
                ("name_en", S, "英文名称", "Name (English)"),
                ("industry_code", S, "行业代码", "Industry code (GB/T 4754)"),
                ("industry_zh", S, "行业", "Industry (Chinese)"),
                ("industry_en", S, "行业（英文）", "Industry"),
                ("control_level", S, "管控级别", "Control level"),
                ("county", S, "所属区县", "County (adcode)"),
                ("discharge", S, "排放类型", "Discharge"),
                ("permit_no", S, "排污许可证号", "Discharge permit number"),
                ("online_monitored", B, "在线监测", "Online monitored"),
                ("credit_rating", S, "环保信用等级", "Environmental credit rating"),
                ("violations", I, "违法次数", "Violations"),
                ("contact", S, "联系电话", "Contact"),
                ("status", S, "状态", "Status"),
                ("synthetic", B, "示例数据", "Synthetic"),
            ],
            ("#dc2626", Some("factory"), 6),
        ),
        "drinking_water_sources" => schema(
            id,
            ("饮用水水源地", "Drinking-water sources"),
            ("集中式饮用水水源地取水口（示例数据）。", "Drinking-water intakes, reservoirs and wells (synthetic)."),
            GeometryKind::Point,
            &[
                ("name_zh", S, "名称", "Name (Chinese)"),
                ("name_en", S, "英文名称", "Name (English)"),
                ("source_type", S, "水源类型", "Source type"),
                ("supply_level", S, "供水级别", "Supply level"),
                ("population_served", I, "服务人口", "Population served"),
                ("capacity_m3_per_day", I, "供水规模（立方米/日）", "Capacity (m³/day)"),
                ("county", S, "所属区县", "County (adcode)"),
                ("river", S, "所在河流", "River"),
                ("synthetic", B, "示例数据", "Synthetic"),
            ],
            ("#0ea5e9", Some("water"), 6),
        ),
        "protection_zones" => schema(
            id,
            ("水源保护区", "Water-source protection zones"),
            ("一级、二级和准保护区（按 HJ 338-2018 缺省值生成的示例数据）。", "Level 1, level 2 and quasi protection zones (synthetic, drafted with HJ 338-2018 defaults)."),
            GeometryKind::Polygon,
            &[
                ("water_source_id", S, "水源地编号", "Water source id"),
                ("zone_level", S, "保护区级别", "Zone level"),
                ("name_zh", S, "名称", "Name (Chinese)"),
                ("area_m2", N, "面积（平方米）", "Area (m²)"),
                ("synthetic", B, "示例数据", "Synthetic"),
            ],
            ("#22d3ee", None, 8),
        ),
        "ecology_areas" => schema(
            id,
            ("生态保护区域", "Ecology areas"),
            ("自然保护区、生态保护红线和竹林风景区（示例数据）。", "Nature reserves, ecological red lines and scenic bamboo forest (synthetic)."),
            GeometryKind::Polygon,
            &[
                ("name_zh", S, "名称", "Name (Chinese)"),
                ("name_en", S, "英文名称", "Name (English)"),
                ("category", S, "类别", "Category"),
                ("county", S, "所属区县", "County (adcode)"),
                ("area_m2", N, "面积（平方米）", "Area (m²)"),
                ("synthetic", B, "示例数据", "Synthetic"),
            ],
            ("#16a34a", None, 6),
        ),
        "rural_sites" => schema(
            id,
            ("农村点位", "Rural sites"),
            ("村庄生活污水治理情况与畜禽养殖场（示例数据）。", "Villages with their sewage treatment status, and livestock farms (synthetic)."),
            GeometryKind::Point,
            &[
                ("name_zh", S, "名称", "Name (Chinese)"),
                ("name_en", S, "英文名称", "Name (English)"),
                ("category", S, "类别", "Category"),
                ("county", S, "所属区县", "County (adcode)"),
                ("sewage_status", S, "污水治理状况", "Sewage status"),
                ("head_count", I, "存栏量（头）", "Head count"),
                ("population", I, "人口", "Population"),
                ("synthetic", B, "示例数据", "Synthetic"),
            ],
            ("#a16207", Some("village"), 9),
        ),
        "monitoring_stations" => schema(
            id,
            ("监测站点", "Monitoring stations"),
            ("污染源在线监测、环境空气质量站和水质断面（示例数据）。", "Online source monitors, air-quality stations and water-quality sections (synthetic)."),
            GeometryKind::Point,
            &[
                ("name_zh", S, "名称", "Name (Chinese)"),
                ("name_en", S, "英文名称", "Name (English)"),
                ("kind", S, "站点类型", "Station kind"),
                ("mn", S, "设备编号（MN）", "Device id (MN)"),
                ("source_id", S, "污染源编号", "Source id"),
                ("pollutants", S, "监测因子", "Pollutants"),
                ("county", S, "所属区县", "County (adcode)"),
                ("river", S, "所在河流", "River"),
                ("status", S, "状态", "Status"),
                ("synthetic", B, "示例数据", "Synthetic"),
            ],
            ("#7c3aed", Some("station"), 7),
        ),
        _ => return None,
    };
    Some(s)
}

type Titles<'a> = (&'a str, &'a str);
type Prop<'a> = (&'a str, PropType, &'a str, &'a str);

fn schema(
    id: &str,
    title: Titles<'_>,
    description: Titles<'_>,
    geometry: GeometryKind,
    props: &[Prop<'_>],
    (color, icon, min_zoom): (&str, Option<&str>, u8),
) -> LayerSchema {
    let mut properties: Vec<PropertyDef> = props
        .iter()
        .map(|(name, kind, zh, en)| PropertyDef {
            name: (*name).to_string(),
            kind: *kind,
            title_zh: (*zh).to_string(),
            title_en: (*en).to_string(),
        })
        .collect();
    // The real layers carry `synthetic: false`; every layer declares it.
    if !properties.iter().any(|p| p.name == "synthetic") {
        properties.push(PropertyDef {
            name: "synthetic".into(),
            kind: PropType::Boolean,
            title_zh: "示例数据".into(),
            title_en: "Synthetic".into(),
        });
    }
    LayerSchema {
        id: id.to_string(),
        title_zh: title.0.to_string(),
        title_en: title.1.to_string(),
        description_zh: description.0.to_string(),
        description_en: description.1.to_string(),
        geometry,
        properties,
        style: Style {
            color: color.to_string(),
            icon: icon.map(str::to_string),
            min_zoom,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_has_a_schema_with_unique_property_names() {
        let schemas = builtin_schemas();
        assert_eq!(schemas.len(), LAYER_IDS.len());
        for s in &schemas {
            let mut names: Vec<_> = s.properties.iter().map(|p| p.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), s.properties.len(), "{}", s.id);
            assert!(s.position("synthetic").is_some(), "{}", s.id);
            assert!(s.position("id").is_none() && s.position("fid").is_none());
        }
    }
}
