//! HJ 212-2017, the protocol Chinese online monitoring stations speak: a pure codec
//! (no I/O, no tokio) that the TCP listener, the HTTP ingest and the simulator share.
//!
//! Table of contents, in the order bytes flow:
//! - [`frame`]: the incremental frame decoder for a TCP stream (`##`, length, CRC,
//!   CR LF), resynchronising on `##` after garbage; bounded memory.
//! - [`crc`]: the standard's CRC-16 (not the Modbus one).
//! - [`packet`]: the data segment → [`Packet`] (header fields, `Flag` bits).
//! - [`error`]: typed parse errors naming the field, and the warnings of lenient mode.
//! - [`cp`]: `CP=&&...&&` → `DataTime`, per-pollutant values by suffix, other keys.
//! - [`codes`]: HJ/T 212-2005 codes → 2017 codes; names and units for the catalog.
//! - [`time`]: `DataTime`/`QN` stamps, read in a configurable offset (Beijing by default).
//! - [`command`]: data commands (2011, 2051, 2061, 2031) → records in UTC; facility
//!   status (2021); the data reply (9014); the simulator's upload packet.
//! - [`reassemble`]: split transmissions (`PNUM`/`PNO`) put back together, bounded.
//! - [`encode`]: [`Packet`] → segment → frame, the inverse of parsing; splitting.
//!
//! A connection typically runs: `FrameDecoder::push`, then for each
//! [`FrameEvent::Frame`], [`Packet::parse`]; if [`Packet::wants_reply`], send
//! [`data_reply`]; pass the packet through a [`Reassembler`]; [`data_upload`] the whole.

pub mod codes;
pub mod command;
pub mod cp;
pub mod crc;
pub mod encode;
pub mod error;
pub mod frame;
pub mod packet;
pub mod reassemble;
pub mod time;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;

pub use command::{
    data_reply, data_upload, facility_states, DataCommand, DataRecord, DataUpload, Interval,
    RecordError,
};
pub use cp::{Cp, PollutantValues, ReadingKind, DATA_FLAGS};
pub use crc::crc16;
pub use encode::{encode_packet, frame_segment, split_packet, EncodeError};
pub use error::{PacketError, ParseWarning};
pub use frame::{
    Frame, FrameDecoder, FrameEvent, FrameStats, LengthMismatch, SkipReason, MAX_FRAME, MAX_SEGMENT,
};
pub use packet::{parse_packet, Flag, Packet, Parsed};
pub use reassemble::{Reassembler, ReassemblerConfig, Reassembly, ReassemblyStats};
pub use time::BEIJING;

/// How forgiving the codec is. Lenient (the default) accepts what deployed devices send
/// and reports each relaxation so it can be counted; strict accepts HJ 212-2017 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Lenient,
    Strict,
}
