//! River tracing, risk zones and plumes over HTTP against a real server
//! seeded from the sample (real Natural Earth rivers of the region).

mod csv;
mod limits;
mod plume;
mod risk;
mod support;
mod trace;
