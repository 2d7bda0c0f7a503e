//! Which stations the monitor knows, following the live atlas: MN → station,
//! station → source and county, source → stations.
//!
//! Stations are edited through the OGC API, imported, or changed by another instance
//! while the server runs, so the index is not built once at start-up: [`LiveStations`]
//! compares the `monitoring_stations` layer's version with the one its index was
//! built from on every lookup and rebuilds when they differ (a lookup is one atlas
//! read and one version compare). The monitor's own status writes change nothing the
//! index holds, so it carries the index over to the version they produce
//! ([`LiveStations::carry_over`]) rather than rebuilding it after each of them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::status::Status;
use crate::atlas::{Atlas, Layer};

/// The layer of monitoring stations.
pub const STATIONS: &str = "monitoring_stations";
/// The layer of pollution sources.
pub const SOURCES: &str = "pollution_sources";

/// A station as the monitor knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StationInfo {
    pub id: String,
    pub source_id: Option<String>,
    pub county: String,
}

/// The stations of one version of the stations layer.
#[derive(Debug, Default)]
pub struct StationIndex {
    stations: HashMap<String, StationInfo>,
    by_mn: HashMap<String, String>,
    stations_of_source: HashMap<String, Vec<String>>,
}

impl StationIndex {
    /// Indexes the features of a stations layer (none when there is no such layer).
    pub fn build(layer: Option<&Layer>) -> Self {
        let mut index = Self::default();
        let Some(layer) = layer else {
            return index;
        };
        let schema = &layer.schema;
        for f in layer.features() {
            let id = f.id.to_string();
            let mn = f.text(schema, "mn");
            if !mn.is_empty() {
                index.by_mn.insert(mn.to_string(), id.clone());
            }
            let source_id = Some(f.text(schema, "source_id"))
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            if let Some(s) = &source_id {
                index
                    .stations_of_source
                    .entry(s.clone())
                    .or_default()
                    .push(id.clone());
            }
            let county = f.text(schema, "county").to_string();
            index.stations.insert(
                id.clone(),
                StationInfo {
                    id,
                    source_id,
                    county,
                },
            );
        }
        index
    }

    /// The station an MN belongs to.
    pub fn station_of_mn(&self, mn: &str) -> Option<&str> {
        self.by_mn.get(mn).map(String::as_str)
    }

    pub fn station(&self, id: &str) -> Option<&StationInfo> {
        self.stations.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.stations.contains_key(id)
    }

    pub fn source_of(&self, station: &str) -> Option<&str> {
        self.stations.get(station)?.source_id.as_deref()
    }

    /// The stations of a source.
    pub fn stations_of(&self, source: &str) -> &[String] {
        self.stations_of_source
            .get(source)
            .map_or(&[], Vec::as_slice)
    }

    pub fn station_ids(&self) -> impl Iterator<Item = &String> {
        self.stations.keys()
    }

    /// Every source some station belongs to.
    pub fn source_ids(&self) -> impl Iterator<Item = &String> {
        self.stations_of_source.keys()
    }
}

/// The [`StationIndex`] of the stations layer as it is now.
#[derive(Debug)]
pub struct LiveStations {
    atlas: Arc<Atlas>,
    /// The index and the layer version it stands for (`None`: no layer).
    current: RwLock<(Option<u64>, Arc<StationIndex>)>,
}

impl LiveStations {
    pub fn new(atlas: Arc<Atlas>) -> Self {
        let layer = atlas.layer(STATIONS);
        let index = Arc::new(StationIndex::build(layer.as_deref()));
        Self {
            current: RwLock::new((layer.map(|l| l.version), index)),
            atlas,
        }
    }

    /// The index of the current layer version; rebuilt when the layer changed.
    pub fn index(&self) -> Arc<StationIndex> {
        let layer = self.atlas.layer(STATIONS);
        let version = layer.as_ref().map(|l| l.version);
        {
            // A poisoned lock holds a complete (if old) index: keep using it.
            let current = self.current.read().unwrap_or_else(|e| e.into_inner());
            if current.0 == version {
                return Arc::clone(&current.1);
            }
        }
        let index = Arc::new(StationIndex::build(layer.as_deref()));
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        // Versions only grow; a slower rebuild must not replace a newer one.
        if version >= current.0 {
            *current = (version, Arc::clone(&index));
        }
        index
    }

    /// Moves the index from layer version `before` to `after` without rebuilding
    /// it, when `after` is the next version and came from a write that changed only
    /// `status` (which the index does not hold). Otherwise the next lookup rebuilds.
    pub fn carry_over(&self, before: u64, after: u64) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if current.0 == Some(before) && after == before + 1 {
            current.0 = Some(after);
        }
    }

    /// The atlas the index follows.
    pub fn atlas(&self) -> &Arc<Atlas> {
        &self.atlas
    }
}

/// The statuses the layers hold right now: what a status write compares with, so
/// a feature created, replaced or reloaded meanwhile gets its status written too.
#[derive(Debug)]
pub(crate) struct StoredStatuses {
    stations: Option<StatusColumn>,
    sources: Option<StatusColumn>,
}

/// A layer and the position of its `status` property.
#[derive(Debug)]
struct StatusColumn {
    layer: Arc<Layer>,
    position: Option<usize>,
}

impl StatusColumn {
    fn of(layer: Option<Arc<Layer>>) -> Option<Self> {
        let layer = layer?;
        let position = layer.schema.position("status");
        Some(Self { layer, position })
    }
}

impl StoredStatuses {
    pub(crate) fn of(atlas: &Atlas) -> Self {
        Self {
            stations: StatusColumn::of(atlas.layer(STATIONS)),
            sources: StatusColumn::of(atlas.layer(SOURCES)),
        }
    }

    fn get(column: Option<&StatusColumn>, id: &str) -> Option<Status> {
        let column = column?;
        let f = column.layer.get(id)?;
        let text = column
            .position
            .and_then(|p| f.properties.get(p))
            .and_then(crate::model::Value::as_str)
            .unwrap_or("");
        Some(Status::parse(text).unwrap_or(Status::NoData))
    }

    /// A station's stored status; `None` when the layer has no such feature.
    pub(crate) fn station(&self, id: &str) -> Option<Status> {
        Self::get(self.stations.as_ref(), id)
    }

    /// A source's stored status; `None` when the layer has no such feature.
    pub(crate) fn source(&self, id: &str) -> Option<Status> {
        Self::get(self.sources.as_ref(), id)
    }
}
