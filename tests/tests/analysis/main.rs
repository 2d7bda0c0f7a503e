//! Spatial analysis over HTTP against a real server seeded from the sample:
//! nearest, buffer, summaries, filters, CSV, county statistics and limits.
//! Results are checked against brute force computed here with geo's
//! `Geodesic` (WGS84) over every feature of the sample files.

mod buffer;
mod counties;
mod filters;
mod limits;
mod nearest;
mod support;
