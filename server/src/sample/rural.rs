//! `rural_sites`: villages (with `population` and `sewage_status`) and livestock farms (with
//! `head_count`), in the countryside away from county seats. Properties of the other category
//! are omitted, not written as null.

use rand::Rng;

use super::region::Spot;
use super::sources::weighted;
use super::writer::{Geom, LayerWriter, Props};
use super::{Ctx, Region, SampleError};

/// Villages and farms per copy.
pub(crate) const VILLAGES: usize = 220;
pub(crate) const FARMS: usize = 80;

const ALL_COUNTIES: [&str; 10] = [
    "511502", "511503", "511504", "511523", "511524", "511525", "511526", "511527", "511528",
    "511529",
];

/// Writes one copy's rural sites.
pub(crate) fn generate(ctx: &Ctx<'_>, w: &mut LayerWriter) -> Result<(), SampleError> {
    let mut rng = ctx.rng(super::STREAM_RURAL);
    for n in 1..=VILLAGES + FARMS {
        let village = n <= VILLAGES;
        let spot = match ctx.region {
            Region::Yibin(_) if village && rng.gen_bool(0.25) => Spot::Counties(&ALL_COUNTIES),
            _ => Spot::Rural,
        };
        let (coord, county) = ctx.place(&mut rng, &spot)?;
        let props = if village {
            let status = ["treated", "partial", "untreated"][weighted(&mut rng, &[35, 35, 30])];
            Props::new()
                .str("name_zh", format!("示例村 {n:03}"))
                .str("name_en", format!("Demo Village {n:03}"))
                .str("category", "village")
                .str("county", county)
                .str("sewage_status", status)
                .int("population", rng.gen_range(300..3_500))
        } else {
            let k = n - VILLAGES;
            // Most farms are small; a few large ones.
            let head = if rng.gen_bool(0.8) {
                rng.gen_range(200..2_000)
            } else {
                rng.gen_range(2_000..12_000)
            };
            Props::new()
                .str("name_zh", format!("示例养殖场 {k:02}"))
                .str("name_en", format!("Demo Livestock Farm {k:02}"))
                .str("category", "livestock_farm")
                .str("county", county)
                .int("head_count", head)
        };
        w.feature(&ctx.id("rs", n, 4), Geom::Point(coord), props)?;
    }
    Ok(())
}
