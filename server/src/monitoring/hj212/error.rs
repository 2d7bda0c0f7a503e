//! What parsing a data segment can report: [`PacketError`] when the segment is not a
//! packet (each names the field at fault) and the [`ParseWarning`]s of lenient mode,
//! which the listener counts.

use thiserror::Error;

/// A relaxation of lenient mode; strict mode turns each into an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseWarning {
    MissingQn,
    MissingFlag,
    /// An HJ/T 212-2005 pollutant code, replaced by its 2017 code.
    LegacyCode {
        old: String,
        new: &'static str,
    },
    UnknownField(String),
    /// A repeated CP field; the first value was kept.
    DuplicateField(String),
    /// A CP field whose value was unusable and was left out.
    SkippedField {
        field: String,
        reason: String,
    },
    /// `CP=&&` not preceded by `;` (the standard's own example C.19 has `Flag=5CP=&&`).
    CpSeparator,
    /// `Flag` bit D disagrees with the presence of `PNUM`/`PNO`; the fields decide.
    SplitFlagMismatch,
}

/// Why a data segment is not a packet; every variant names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    #[error("missing field {0}")]
    Missing(&'static str),
    #[error("field {field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("field {0} appears twice")]
    Duplicate(String),
    #[error("unknown field {0}")]
    Unknown(String),
    #[error("HJ/T 212-2005 pollutant code {0} (strict mode takes HJ 212-2017 codes only)")]
    LegacyCode(String),
}

/// A field name for a message, cut to a readable length (it may be garbage).
pub(crate) fn name(field: &str) -> String {
    field.chars().take(40).collect()
}

/// An [`PacketError::Invalid`].
pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> PacketError {
    PacketError::Invalid {
        field: name(field),
        reason: reason.into(),
    }
}
