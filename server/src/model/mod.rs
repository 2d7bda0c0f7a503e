//! The data model shared by the store, the in-memory atlas and the APIs.
//!
//! - [`value`]: typed property values ([`Value`]) and their types ([`PropType`]).
//! - [`schema`]: what a layer is: [`LayerSchema`], [`PropertyDef`], [`GeometryKind`], [`Style`].
//! - [`feature`]: one stored [`Feature`] (ids, geometry, properties in schema order).
//! - [`catalog`]: the built-in schemas of the eight atlas layers.
//! - [`geojson`]: conversion between features and RFC 7946 GeoJSON.
//! - [`reading`]: one monitoring [`Reading`].
//! - [`validate`]: checks an edited feature (API body) against its layer's schema.

pub mod catalog;
pub mod feature;
pub mod geojson;
pub mod reading;
pub mod schema;
pub mod validate;
pub mod value;

pub use feature::{Feature, NewFeature};
pub use reading::Reading;
pub use schema::{GeometryKind, LayerSchema, PropertyDef, Style};
pub use value::{PropType, Value};
