//! The two real layers, copied from the embedded reference inputs: `admin_boundaries` (id =
//! adcode) and `rivers` (one LineString per river part, id `river-<name_en slug>-<n>`), with the
//! contract properties only, `synthetic: false`, rings re-oriented (RFC 7946) and coordinates
//! rounded to 6 decimals.

use super::geom::{round_line, round_multi};
use super::reference::Reference;
use super::writer::{Geom, LayerWriter, Props};
use super::SampleError;

pub(crate) fn write_admin(r: &Reference, w: &mut LayerWriter) -> Result<(), SampleError> {
    let mut admin: Vec<_> = r.admin.iter().collect();
    admin.sort_by(|a, b| a.adcode.cmp(&b.adcode));
    for a in admin {
        let shape = round_multi(&a.shape);
        let props = Props::new()
            .str("adcode", a.adcode.as_str())
            .str("name_zh", a.name_zh.as_str())
            .str("name_en", a.name_en.as_str())
            .str("level", a.level.as_str());
        w.feature(&a.adcode, Geom::Area(&shape), props)?;
    }
    Ok(())
}

pub(crate) fn write_rivers(r: &Reference, w: &mut LayerWriter) -> Result<(), SampleError> {
    for river in &r.rivers {
        for (i, part) in river.parts.iter().enumerate() {
            let line = round_line(part);
            if line.0.len() < 2 {
                continue;
            }
            let props = Props::new()
                .str("name_zh", river.name_zh.as_str())
                .str("name_en", river.name_en.as_str());
            let id = format!("river-{}-{}", slug(&river.name_en), i + 1);
            w.feature(&id, Geom::Line(&line), props)?;
        }
    }
    Ok(())
}

/// `Chang Jiang` → `chang-jiang`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slug("Chang Jiang"), "chang-jiang");
        assert_eq!(super::slug("Jiang'an"), "jiang-an");
    }
}
